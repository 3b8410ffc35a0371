//! The distributed-DP client and server pipeline (Kairouz, Liu, Steinke, ICML 2021,
//! Algorithms 1 and 2; Agarwal, Kairouz, Liu, NeurIPS 2021, Algorithm 1): what a float
//! session with [`DistributedDp`] does instead of the fixed-point encoding.
//!
//! ```text
//! client  x (all the client's vectors, concatenated for the norm)
//!   1. clip       x ← x · min(1, c / ‖x‖₂)
//!   2. scale      x ← x / γ                       γ = c · 2^(1−q): c/γ = 2^(q−1) steps
//!   3. rotate     each vector: pad to L = 2^⌈log2 d⌉, x ← H·D·x / √L (rotation.rs)
//!   4. round      randomized rounding of every coordinate, repeated until
//!                 ‖z‖₂² ≤ B (B = ⌊Δ₂²⌋ below), at most ROUNDING_TRIES times
//!   5. noise      z ← z + this client's share: DiscreteGaussian(σ²) or Skellam(σ²/2)
//!                 per coordinate, from the client's own CSPRNG
//!   6. ring       z mod 2^b (a wrap is part of the analysis, not an error)
//! server  S = Σ z mod 2^b (the protocol), then
//!   7. centre     S_j ↦ S_j − 2^b when S_j ≥ 2^(b−1)
//!   8. unrotate   D·H·S exactly in i128, then × γ/√L; the first d coordinates
//! ```
//!
//! **Conditional rounding.** Step 4's bound is the paper's (KLS21, Theorem 4.1 with
//! `β`): for a vector of norm `≤ c/γ` in `L_tot` coordinates (all vectors together),
//!
//! ```text
//! Δ₂² = min( (c/γ)² + L_tot/4 + √(2 ln(1/β)) · (c/γ + √L_tot / 2),  (c/γ + √L_tot)² )
//! ```
//!
//! and one unconditional rounding exceeds it with probability at most `β`; the client
//! re-rounds, so its integer vector always has `‖z‖₂ ≤ Δ₂`: that is the sensitivity the
//! accountant uses. The bound is checked exactly (integers, `B = ⌊Δ₂²⌋`).
//!
//! **Noise and drop-outs.** The noise multiplier `z` means: the sum's noise has standard
//! deviation `z · c` (float units) when the fewest clients whose noise counts are
//! included. Those are `m − a`: `m` the smallest number of survivors the session plans
//! for (`n` minus the parameter finder's tolerated drop-outs `D`; the threshold `t` when
//! the session's parameters are outside the finder's targets), `a` the clients
//! assumed to collude with the server (the finder's `A = ⌊γ n⌋` by default), whose noise
//! the server can subtract. Each client adds variance `σ² = z² (c/γ)² / (m − a)` (grid
//! units). With more survivors the sum carries more noise than planned; the decoded
//! [`DpNoise`] reports the noise actually in the sum and the guarantee of the round.
//!
//! **Ring.** Per coordinate of the rotated sum, the signal of `n` clients has standard
//! deviation at most `n Δ₂ / √L` (all clients aligned), the noise `√(n σ²)`; the ring
//! must hold `k` standard deviations of their sum either side of zero (and never more
//! than the hard bound `n Δ₂ + k √(n σ²)`):
//! `2^(b−1) ≥ min(k √(n² Δ₂²/L + n σ²), n Δ₂ + k √(n σ²)) + 1`. A narrower ring is refused
//! ([`DpError::RingTooNarrowForNoise`] naming the bits needed); the default ring is the
//! narrowest that holds it.

use zeroize::Zeroizing;

use super::rotation::{padded_len, Rotation};
use super::Mechanism;
use crate::crypto::rng::CryptoRng;
use crate::error::{DpError, Error, Misuse, Result};
use crate::ring::RingVec;

/// How many times a client re-rounds before it gives up ([`DpError::RoundingFailed`]).
/// One rounding exceeds the norm bound with probability at most `β`, so `ROUNDING_TRIES`
/// failures in a row happen with probability at most `β^ROUNDING_TRIES` (`e^-50` for the
/// default `β = e^-0.5`).
pub const ROUNDING_TRIES: u32 = 100;

/// The default `β` of conditional rounding, `e^-0.5` (the papers' choice).
pub const DEFAULT_BETA: f64 = 0.606_530_659_712_633_4;

/// The default number of standard deviations the ring holds either side of zero.
pub const DEFAULT_K_STDDEVS: f64 = 4.0;

/// The default `δ` of the reported guarantee.
pub const DEFAULT_DELTA: f64 = 1e-5;

/// Length of [`DpParams::context_bytes`].
pub const DP_CONTEXT_LEN: usize = 1 + 8 * 8;

/// `2^-53`, to turn 53 random bits into a uniform `f64` in `[0, 1)`.
const TWO_POW_M53: f64 = f64::from_bits((1023 - 53) << 52);

/// How much noise a round adds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// The noise multiplier `z`: the sum of the planned fewest honest survivors carries
    /// noise of standard deviation `z · c`.
    Multiplier(f64),
    /// The least noise with which one round is `(ε, δ)`-DP (the accountant's inverse),
    /// at the planned fewest honest survivors.
    Epsilon(f64),
}

/// The distributed-DP configuration of a float session
/// ([`FloatSessionBuilder::dp`](crate::session::FloatSessionBuilder::dp)).
///
/// The session's `clip` is the L2 norm bound `c` of a client's whole update and its
/// `bits` `q` set the grid (`c/γ = 2^(q−1)`); the ring is the narrowest that holds the
/// sum and the noise (or the session's `ring_bits`, checked).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistributedDp {
    /// The noise distribution.
    pub mechanism: Mechanism,
    /// How much noise.
    pub noise: Noise,
    /// `δ` of the guarantee (default [`DEFAULT_DELTA`]).
    pub delta: f64,
    /// `β` of conditional rounding, in `(0, 1)` (default [`DEFAULT_BETA`]).
    pub beta: f64,
    /// Standard deviations of the sum the ring holds (default [`DEFAULT_K_STDDEVS`]).
    pub k_stddevs: f64,
    /// The fewest survivors the noise is calibrated for; `None`: `n` minus the parameter
    /// finder's tolerated drop-outs. More than that is refused.
    pub min_survivors: Option<usize>,
    /// Clients assumed to collude with the server (their noise does not count);
    /// `None`: the parameter finder's `A`.
    pub colluding: Option<usize>,
}

impl DistributedDp {
    /// The discrete Gaussian with noise multiplier `z`.
    pub fn noise_multiplier(z: f64) -> Self {
        Self {
            mechanism: Mechanism::DiscreteGaussian,
            noise: Noise::Multiplier(z),
            delta: DEFAULT_DELTA,
            beta: DEFAULT_BETA,
            k_stddevs: DEFAULT_K_STDDEVS,
            min_survivors: None,
            colluding: None,
        }
    }

    /// The discrete Gaussian with the least noise for `(ε, δ)` per round.
    pub fn epsilon(epsilon: f64, delta: f64) -> Self {
        Self {
            noise: Noise::Epsilon(epsilon),
            delta,
            ..Self::noise_multiplier(1.0)
        }
    }

    /// The mechanism.
    pub fn mechanism(self, mechanism: Mechanism) -> Self {
        Self { mechanism, ..self }
    }

    /// `δ` of the guarantee.
    pub fn delta(self, delta: f64) -> Self {
        Self { delta, ..self }
    }

    /// `β` of conditional rounding.
    pub fn beta(self, beta: f64) -> Self {
        Self { beta, ..self }
    }

    /// Standard deviations the ring holds.
    pub fn k_stddevs(self, k: f64) -> Self {
        Self {
            k_stddevs: k,
            ..self
        }
    }

    /// Calibrate for `m` survivors instead of the finder's.
    pub fn min_survivors(self, m: usize) -> Self {
        Self {
            min_survivors: Some(m),
            ..self
        }
    }

    /// Assume `a` clients collude with the server instead of the finder's `A`.
    pub fn colluding(self, a: usize) -> Self {
        Self {
            colluding: Some(a),
            ..self
        }
    }
}

/// What the session layer knows when it resolves a [`DistributedDp`].
#[derive(Clone, Debug)]
pub struct DpSetup<'a> {
    /// Clients `n`.
    pub n: usize,
    /// The float lengths of the session's vectors.
    pub dims: &'a [usize],
    /// L2 clip bound `c`.
    pub clip: f64,
    /// Grid bits `q`.
    pub bits: u32,
    /// The ring width asked for, if any.
    pub ring_bits: Option<u32>,
    /// The parameter finder's tolerated drop-outs `D` and corrupt clients `A`, when the
    /// session's parameters meet its targets.
    pub finder: Option<(usize, usize)>,
    /// The protocol's threshold `t`: no session completes with fewer survivors, so
    /// without the finder's bounds the noise is calibrated for `t`.
    pub threshold: usize,
}

/// A resolved DP configuration: every number both sides use, bound into the session id
/// ([`DpParams::context_bytes`]).
#[derive(Clone, Debug, PartialEq)]
pub struct DpParams {
    /// The noise distribution.
    pub mechanism: Mechanism,
    /// L2 clip bound `c`.
    pub clip: f64,
    /// Grid bits `q`: `c/γ = 2^(q−1)`.
    pub bits: u32,
    /// Grid step `γ = c · 2^(1−q)`.
    pub gamma: f64,
    /// Ring width `b`.
    pub ring_bits: u32,
    /// Float lengths of the vectors.
    pub dims: Vec<usize>,
    /// Padded (ring) lengths of the vectors: powers of two.
    pub padded: Vec<usize>,
    /// Per-client noise variance `σ²` in grid units (the nearest `f64` to
    /// `variance_num / variance_den`).
    pub variance: f64,
    /// The exact per-client variance, `variance_num / variance_den` in lowest terms: the
    /// discrete Gaussian's `σ²`, or twice Skellam's `μ`.
    pub variance_num: u64,
    /// See [`variance_num`](Self::variance_num).
    pub variance_den: u64,
    /// `β` of conditional rounding.
    pub beta: f64,
    /// `B = ⌊Δ₂²⌋`: the bound on a client's `‖z‖₂²`.
    pub norm_bound_sq: u64,
    /// `k` of the ring check.
    pub k_stddevs: f64,
    /// Clients `n`.
    pub n: usize,
    /// The fewest survivors the noise is calibrated for, `m`.
    pub min_survivors: usize,
    /// Clients assumed to collude with the server, `a`.
    pub colluding: usize,
    /// `δ` of the guarantee.
    pub delta: f64,
    /// `ε` of one round at `m` survivors (`m − a` noise contributions).
    pub epsilon: f64,
    /// The resulting noise multiplier: `√((m − a) σ²) γ / c`.
    pub noise_multiplier: f64,
}

/// The noise in one decoded DP sum and the guarantee of the round
/// ([`Aggregate::dp`](crate::quantize::Aggregate::dp)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DpNoise {
    /// The noise distribution.
    pub mechanism: Mechanism,
    /// Included clients (each added its share of the noise).
    pub included: usize,
    /// Included clients whose noise counts for the guarantee (`included − a`).
    pub noise_clients: usize,
    /// The survivors the noise was calibrated for.
    pub calibrated_for: usize,
    /// Per coordinate of the decoded sum, the variance of its DP noise (float units):
    /// `included · σ² · γ²`.
    pub noise_variance: f64,
    /// `√noise_variance`.
    pub noise_stddev: f64,
    /// Per coordinate, the most the randomized rounding adds to the variance:
    /// `included · γ² / 4`.
    pub rounding_variance_bound: f64,
    /// `ε` of this round at `δ` (infinite when no noise counts).
    pub epsilon: f64,
    /// `δ`.
    pub delta: f64,
    /// Whether fewer clients than planned were included, so the sum carries less noise
    /// than the target.
    pub below_target: bool,
}

/// Checks that `xs` has one slice per vector and that slice `j` has `dims[j]`
/// elements (a client's update, before it is encoded).
///
/// # Errors
/// [`Misuse::InputCount`] unless there are `dims.len()` slices; [`Misuse::InputLength`]
/// for the first slice of the wrong length.
pub(crate) fn check_shapes<T>(xs: &[&[T]], dims: &[usize]) -> Result<()> {
    if xs.len() != dims.len() {
        return Err(Error::Misuse(Misuse::InputCount {
            expected: dims.len(),
            found: xs.len(),
        }));
    }
    for (vector, (x, &d)) in xs.iter().zip(dims).enumerate() {
        if x.len() != d {
            return Err(Error::Misuse(Misuse::InputLength {
                vector,
                expected: d,
                found: x.len(),
            }));
        }
    }
    Ok(())
}

fn dp_param(what: &'static str, allowed: &'static str) -> Error {
    Error::Dp(DpError::InvalidParameter { what, allowed })
}

/// `Δ₂²` for `s = c/γ` and `L_tot` coordinates.
fn delta2_sq(s: f64, l_tot: f64, beta: f64) -> f64 {
    let a = s * s + l_tot / 4.0 + (2.0 * (1.0 / beta).ln()).sqrt() * (s + l_tot.sqrt() / 2.0);
    let b = (s + l_tot.sqrt()).powi(2);
    a.min(b)
}

/// Bits a ring needs so that `2^(b−1) ≥ half + 1`.
fn bits_for(half: f64) -> u32 {
    // half + 1 <= 2^(b-1)  <=>  b >= log2(half + 1) + 1
    let v = half + 1.0;
    if !(v.is_finite()) || v >= 2f64.powi(63) {
        return 65;
    }
    let mut b = 1u32;
    while 2f64.powi(b as i32 - 1) < v {
        b += 1;
    }
    b
}

impl DpParams {
    /// Resolves `dp` for a session.
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] for a noise multiplier that is not positive and
    /// finite, `β` outside `(0, 1)`, `k` not positive, `q` outside `1..=53`; [`DpError::NoiseBelowTarget`] when no noise would count (`m ≤ a`), or when
    /// `min_survivors` asks for more survivors than the session tolerates losing
    /// (`m > n − D`, the tolerated drop-out would leave less noise than the target);
    /// [`DpError::RingTooNarrowForNoise`] for a ring narrower than the noise needs;
    /// the accountant's errors for `ε`, `δ`.
    pub fn resolve(dp: &DistributedDp, s: &DpSetup<'_>) -> Result<Self> {
        if !(1..=53).contains(&s.bits) {
            return Err(dp_param("bits", "1..=53"));
        }
        if !(dp.beta > 0.0 && dp.beta < 1.0) {
            return Err(dp_param("dp beta", "in (0, 1)"));
        }
        if !(dp.k_stddevs > 0.0 && dp.k_stddevs.is_finite()) {
            return Err(dp_param("dp k_stddevs", "positive and finite"));
        }
        if s.dims.is_empty() || s.n == 0 {
            return Err(dp_param("dp vectors", "at least one vector and one client"));
        }
        let padded = s
            .dims
            .iter()
            .map(|&d| padded_len(d))
            .collect::<Result<Vec<_>>>()?;
        let l_tot: usize = padded.iter().sum();
        let l_min = padded.iter().copied().min().unwrap_or(1);
        let n = s.n;
        let (tolerated, finder_colluding) = match s.finder {
            Some((d, a)) => (n.saturating_sub(d), a),
            // Parameters outside the finder's targets: the fewest survivors any session
            // can complete with (a sum of fewer than t inputs is never unmasked).
            None => (s.threshold.clamp(1, n), 0),
        };
        let min_survivors = dp.min_survivors.unwrap_or(tolerated);
        let colluding = dp.colluding.unwrap_or(finder_colluding);
        if min_survivors > tolerated || min_survivors > n || min_survivors <= colluding {
            return Err(Error::Dp(DpError::NoiseBelowTarget {
                calibrated: min_survivors,
                tolerated,
                colluding,
            }));
        }
        let noise_clients = min_survivors - colluding;
        // c/γ = 2^(q-1) exactly, so γ = c · 2^(1-q) is exact too.
        let steps = f64::from_bits(((1023 + s.bits as u64 - 1) & 0x7ff) << 52);
        let gamma = s.clip / steps;
        let d2sq = delta2_sq(steps, l_tot as f64, dp.beta);
        if !d2sq.is_finite() || d2sq >= 2f64.powi(64) {
            return Err(dp_param(
                "bits",
                "small enough that the norm bound fits in 64 bits",
            ));
        }
        let norm_bound_sq = d2sq.floor() as u64;
        let delta2 = (norm_bound_sq as f64).sqrt();
        let acct = bridge::Sum {
            mechanism: dp.mechanism,
            clients: noise_clients,
            l2: delta2,
            dim: l_tot,
        };
        let variance = match dp.noise {
            Noise::Multiplier(z) => {
                if !(z > 0.0 && z.is_finite()) {
                    return Err(dp_param("dp noise multiplier", "positive and finite"));
                }
                z * z * steps * steps / noise_clients as f64
            }
            Noise::Epsilon(eps) => acct.variance_for(eps, dp.delta)?,
        };
        let (variance_num, variance_den) = bridge::exact_variance(dp.mechanism, variance)?;
        let variance = variance_num as f64 / variance_den as f64;
        let epsilon = acct.epsilon(variance, dp.delta)?;
        let noise_multiplier = (noise_clients as f64 * variance).sqrt() / steps;
        let nf = n as f64;
        let k = dp.k_stddevs;
        let noise_sd = (nf * variance).sqrt();
        let half = (k * (nf * nf * delta2 * delta2 / l_min as f64 + nf * variance).sqrt())
            .min(nf * delta2 + k * noise_sd);
        let needed = bits_for(half);
        if needed > 64 {
            return Err(Error::Dp(DpError::RingTooNarrowForNoise {
                bits: 64,
                bits_needed: needed,
            }));
        }
        let ring_bits = match s.ring_bits {
            None => needed,
            Some(b) if b < needed => {
                return Err(Error::Dp(DpError::RingTooNarrowForNoise {
                    bits: b,
                    bits_needed: needed,
                }))
            }
            Some(b) if b > 64 => return Err(dp_param("ring_bits", "1..=64")),
            Some(b) => b,
        };
        Ok(Self {
            mechanism: dp.mechanism,
            clip: s.clip,
            bits: s.bits,
            gamma,
            ring_bits,
            dims: s.dims.to_vec(),
            padded,
            variance,
            variance_num,
            variance_den,
            beta: dp.beta,
            norm_bound_sq,
            k_stddevs: k,
            n,
            min_survivors,
            colluding,
            delta: dp.delta,
            epsilon,
            noise_multiplier,
        })
    }

    /// `c/γ = 2^(q−1)`.
    pub fn steps(&self) -> f64 {
        self.clip / self.gamma
    }

    /// `L_tot`: the padded coordinates of all vectors.
    pub fn total_padded(&self) -> usize {
        self.padded.iter().sum()
    }

    /// The sensitivity the accountant uses: `√B`.
    pub fn l2_sensitivity(&self) -> f64 {
        (self.norm_bound_sq as f64).sqrt()
    }

    /// The transform byte of the float context: `0x01` the distributed discrete
    /// Gaussian, `0x02` distributed Skellam.
    pub fn transform_byte(&self) -> u8 {
        match self.mechanism {
            Mechanism::DiscreteGaussian => 1,
            Mechanism::Skellam => 2,
        }
    }

    /// The bytes after the transform byte in the float context (big-endian; `f64` as
    /// their IEEE 754 bits):
    ///
    /// ```text
    /// rotation       u8   0x01: Walsh–Hadamard, signs from the session id
    /// variance_num   u64  the per-client variance σ² (grid units) is num/den,
    /// variance_den   u64    exactly (lowest terms)
    /// beta           u64  β (f64 bits)
    /// norm_bound_sq  u64  B
    /// k_stddevs      u64  k (f64 bits)
    /// min_survivors  u64  m
    /// colluding      u64  a
    /// delta          u64  δ (f64 bits)
    /// ```
    ///
    /// (`c` and `q`, hence `γ`, are in the header before the transform byte; `b` and the
    /// padded lengths in the session-id preimage.)
    pub fn context_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(DP_CONTEXT_LEN);
        out.push(1);
        out.extend_from_slice(&self.variance_num.to_be_bytes());
        out.extend_from_slice(&self.variance_den.to_be_bytes());
        out.extend_from_slice(&self.beta.to_bits().to_be_bytes());
        out.extend_from_slice(&self.norm_bound_sq.to_be_bytes());
        out.extend_from_slice(&self.k_stddevs.to_bits().to_be_bytes());
        out.extend_from_slice(&(self.min_survivors as u64).to_be_bytes());
        out.extend_from_slice(&(self.colluding as u64).to_be_bytes());
        out.extend_from_slice(&self.delta.to_bits().to_be_bytes());
        out
    }

    /// The rotations of the session's vectors (`names` in order).
    ///
    /// # Errors
    /// As [`Rotation::for_vector`].
    pub fn rotations(&self, session_id: &[u8; 32], names: &[&[u8]]) -> Result<Vec<Rotation>> {
        self.padded
            .iter()
            .zip(names)
            .enumerate()
            .map(|(i, (&l, name))| {
                let i = u32::try_from(i).map_err(|_| dp_param("dp vectors", "fewer than 2^32"))?;
                Rotation::for_vector(session_id, i, name, l)
            })
            .collect()
    }

    fn ring_mask(&self) -> u64 {
        u64::MAX >> (64 - self.ring_bits)
    }

    /// Steps 1–6 for one client: its vectors (one slice per vector, float lengths) to
    /// ring words (padded lengths). Returns the words and whether the update was
    /// clipped (its norm exceeded `c`).
    ///
    /// # Errors
    /// [`Misuse::InputCount`], [`Misuse::InputLength`] for the wrong vectors;
    /// [`Misuse::NonFiniteInput`]; [`DpError::RoundingFailed`] after
    /// [`ROUNDING_TRIES`] roundings over the bound.
    pub fn encode<R: CryptoRng + ?Sized>(
        &self,
        rotations: &[Rotation],
        xs: &[&[f64]],
        rng: &mut R,
    ) -> Result<(Vec<Vec<u64>>, bool)> {
        if rotations.len() != self.dims.len() {
            return Err(Error::Misuse(Misuse::InputCount {
                expected: self.dims.len(),
                found: xs.len(),
            }));
        }
        check_shapes(xs, &self.dims)?;
        // 1. The norm of the whole update, scaled by its largest element so that no
        // square overflows.
        let mut index = 0;
        let mut top = 0.0f64;
        for x in xs {
            for &v in x.iter() {
                if !v.is_finite() {
                    return Err(Error::Misuse(Misuse::NonFiniteInput { index }));
                }
                top = top.max(v.abs());
                index += 1;
            }
        }
        let norm = if top == 0.0 {
            0.0
        } else {
            let ss: f64 = xs
                .iter()
                .flat_map(|x| x.iter())
                .map(|&v| (v / top) * (v / top))
                .sum();
            top * ss.sqrt()
        };
        let clipped = norm > self.clip;
        // 2. and 3.: scale into grid units, pad, rotate.
        let factor = if clipped {
            self.steps() / norm
        } else {
            1.0 / self.gamma
        };
        let mut rotated: Vec<Zeroizing<Vec<f64>>> = Vec::with_capacity(xs.len());
        for ((x, rot), &l) in xs.iter().zip(rotations).zip(&self.padded) {
            let mut y = Zeroizing::new(vec![0.0f64; l]);
            for (a, &v) in y.iter_mut().zip(x.iter()) {
                *a = v * factor;
            }
            rot.forward(&mut y)?;
            rotated.push(y);
        }
        // 4. Conditional randomized rounding.
        let mut ints: Vec<Zeroizing<Vec<i64>>> = self
            .padded
            .iter()
            .map(|&l| Zeroizing::new(vec![0i64; l]))
            .collect();
        let mut accepted = false;
        for _ in 0..ROUNDING_TRIES {
            let mut ss: u128 = 0;
            for (y, z) in rotated.iter().zip(ints.iter_mut()) {
                for (&v, out) in y.iter().zip(z.iter_mut()) {
                    let f = v.floor();
                    let u = (rng.next_u64() >> 11) as f64 * TWO_POW_M53;
                    // |v| <= c/γ·(1 + 2^-50) <= 2^53: exact as an integer.
                    let k = f as i64 + i64::from(u < v - f);
                    *out = k;
                    let a = u128::from(k.unsigned_abs());
                    ss = ss.saturating_add(a * a);
                }
            }
            if ss <= u128::from(self.norm_bound_sq) {
                accepted = true;
                break;
            }
        }
        if !accepted {
            return Err(Error::Dp(DpError::RoundingFailed {
                tries: ROUNDING_TRIES,
            }));
        }
        drop(rotated);
        // 5. and 6.: noise, then the ring.
        let sampler = bridge::Sampler::new(self.mechanism, self.variance_num, self.variance_den)?;
        let mask = self.ring_mask();
        // Sized once for the longest vector: a reallocation would free unwiped noise.
        let longest = self.padded.iter().copied().max().unwrap_or(0);
        let mut noise = Zeroizing::new(Vec::<i64>::with_capacity(longest));
        let mut out = Vec::with_capacity(ints.len());
        for z in &ints {
            noise.clear();
            noise.resize(z.len(), 0);
            sampler.fill(rng, &mut noise);
            // Wrapping mod 2^64, then mod 2^b: exactly the residue mod 2^b.
            let words: Vec<u64> = z
                .iter()
                .zip(noise.iter())
                .map(|(&a, &e)| (a.wrapping_add(e) as u64) & mask)
                .collect();
            out.push(words);
        }
        Ok((out, clipped))
    }

    /// Steps 7–8: the unmasked ring sums (padded lengths) of `included` clients to float
    /// sums (float lengths), and the [`DpNoise`] they carry.
    ///
    /// # Errors
    /// [`Misuse::InputCount`], [`Misuse::InputLength`] for the wrong sums;
    /// [`Misuse::TooManyIncluded`] for more than `n` clients.
    pub fn decode(
        &self,
        rotations: &[Rotation],
        sums: &[RingVec],
        included: usize,
    ) -> Result<(Vec<Vec<f64>>, DpNoise)> {
        if sums.len() != self.padded.len() || rotations.len() != self.padded.len() {
            return Err(Error::Misuse(Misuse::InputCount {
                expected: self.padded.len(),
                found: sums.len(),
            }));
        }
        if included > self.n {
            return Err(Error::Misuse(Misuse::TooManyIncluded {
                included,
                max: self.n,
            }));
        }
        let noise = self.noise_report(included)?;
        let b = self.ring_bits;
        let sums = sums
            .iter()
            .zip(rotations)
            .zip(&self.dims)
            .enumerate()
            .map(|(vector, ((sum, rot), &d))| {
                if sum.len() != rot.len() {
                    return Err(Error::Misuse(Misuse::InputLength {
                        vector,
                        expected: rot.len(),
                        found: sum.len(),
                    }));
                }
                let centred: Vec<i64> = sum.to_u64s().into_iter().map(|w| centre(w, b)).collect();
                let ints = rot.inverse_integer(&centred)?;
                let s = self.gamma / (rot.len() as f64).sqrt();
                Ok(ints.iter().take(d).map(|&v| v as f64 * s).collect())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((sums, noise))
    }

    /// The noise of a sum of `included` clients and the guarantee of its round.
    ///
    /// # Errors
    /// The accountant's (none for valid parameters).
    pub fn noise_report(&self, included: usize) -> Result<DpNoise> {
        let g2 = self.gamma * self.gamma;
        let noise_clients = included.saturating_sub(self.colluding);
        let epsilon = if noise_clients == 0 {
            f64::INFINITY
        } else {
            bridge::Sum {
                mechanism: self.mechanism,
                clients: noise_clients,
                l2: self.l2_sensitivity(),
                dim: self.total_padded(),
            }
            .epsilon(self.variance, self.delta)?
        };
        let noise_variance = included as f64 * self.variance * g2;
        Ok(DpNoise {
            mechanism: self.mechanism,
            included,
            noise_clients,
            calibrated_for: self.min_survivors,
            noise_variance,
            noise_stddev: noise_variance.sqrt(),
            rounding_variance_bound: included as f64 * g2 / 4.0,
            epsilon,
            delta: self.delta,
            below_target: included < self.min_survivors,
        })
    }

    /// Under the model of the ring check (the rotated sum's coordinate Gaussian with the
    /// noise variance `included · σ²` and no signal), the probability that one
    /// coordinate wraps: `P(|N(0, included σ²)| ≥ 2^(b−1))`.
    pub fn noise_wrap_probability(&self, included: usize) -> f64 {
        let sd = (included as f64 * self.variance).sqrt();
        let x = 2f64.powi(self.ring_bits as i32 - 1) / sd;
        erfc(x / core::f64::consts::SQRT_2)
    }
}

/// The signed value of a word of `Z_{2^b}` in `[−2^(b−1), 2^(b−1))`.
pub fn centre(w: u64, b: u32) -> i64 {
    if b == 64 {
        w as i64
    } else if w >= 1u64 << (b - 1) {
        w as i64 - (1i64 << b)
    } else {
        w as i64
    }
}

/// The complementary error function (W. J. Cody's rational approximations via
/// Numerical Recipes' `erfcc`, relative error below `1.2e-7`), for reporting only.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The samplers and the accountant, as the pipeline uses them.
mod bridge {
    use super::super::accountant::{self, Accountant, Privacy, RoundMechanism};
    use super::super::sample::{DiscreteGaussian, Rational, Skellam};
    use super::super::Mechanism;
    use crate::crypto::rng::CryptoRng;
    use crate::error::{DpError, Error, Result};

    /// Largest denominator of a per-client variance: small denominators keep the exact
    /// samplers fast and every product inside their integer arithmetic.
    const MAX_VARIANCE_DEN: u64 = 1 << 20;

    /// The exact per-client variance closest to `v` with a denominator at most
    /// 2^20 (even numerator over the denominator for Skellam, whose μ is half of it),
    /// as `(num, den)` in lowest terms. Checks that the sampler accepts it.
    pub fn exact_variance(mechanism: Mechanism, v: f64) -> Result<(u64, u64)> {
        let r = Rational::approx_f64(v, MAX_VARIANCE_DEN).map_err(Error::Dp)?;
        if r.is_zero() {
            return Err(Error::Dp(DpError::InvalidParameter {
                what: "dp noise variance",
                allowed: "at least 2^-20 per client (grid units)",
            }));
        }
        let (mut num, den) = (r.num(), r.den());
        // Never below `v` (a target's least variance): one step of 1/den up covers the
        // approximation error, which is below 1/den².
        if (num as f64) / (den as f64) < v {
            num = num.checked_add(1).ok_or(Error::Dp(DpError::Overflow {
                what: "dp noise variance",
            }))?;
        }
        let r = Rational::new(num, den)?;
        let (num, den) = (r.num(), r.den());
        Sampler::new(mechanism, num, den)?;
        Ok((num, den))
    }

    /// One client's noise sampler.
    pub enum Sampler {
        Gaussian(DiscreteGaussian),
        Skellam(Skellam),
    }

    impl Sampler {
        /// The sampler of per-client variance `num/den`.
        pub fn new(mechanism: Mechanism, num: u64, den: u64) -> Result<Self> {
            Ok(match mechanism {
                Mechanism::DiscreteGaussian => Sampler::Gaussian(
                    DiscreteGaussian::new(Rational::new(num, den)?).map_err(Error::Dp)?,
                ),
                Mechanism::Skellam => {
                    let den2 = den.checked_mul(2).ok_or(Error::Dp(DpError::Overflow {
                        what: "dp noise variance",
                    }))?;
                    Sampler::Skellam(Skellam::new(Rational::new(num, den2)?).map_err(Error::Dp)?)
                }
            })
        }

        pub fn fill<R: CryptoRng + ?Sized>(&self, rng: &mut R, out: &mut [i64]) {
            match self {
                Sampler::Gaussian(g) => g.fill(rng, out),
                Sampler::Skellam(s) => s.fill(rng, out),
            }
        }
    }

    /// One round of the sum, as the accountant sees it: `clients` noise contributions
    /// to a vector of `dim` coordinates with L2 sensitivity `l2` (grid units).
    pub struct Sum {
        pub mechanism: Mechanism,
        pub clients: usize,
        pub l2: f64,
        pub dim: usize,
    }

    impl Sum {
        fn round(&self, variance: f64) -> Result<RoundMechanism> {
            RoundMechanism::new(self.mechanism, self.clients, variance, self.l2, self.dim)
                .map_err(Error::Dp)
        }

        /// ε at δ of one round (no sampling) with per-client variance `variance`.
        pub fn epsilon(&self, variance: f64, delta: f64) -> Result<f64> {
            let acct = Accountant::new(self.round(variance)?, 1.0).map_err(Error::Dp)?;
            Ok(acct.privacy_after(1, delta).map_err(Error::Dp)?.epsilon)
        }

        /// The least per-client variance for which one round is (ε, δ)-DP.
        pub fn variance_for(&self, epsilon: f64, delta: f64) -> Result<f64> {
            let target = Privacy::new(epsilon, delta).map_err(Error::Dp)?;
            accountant::variance_for(target, self.round(1.0)?, 1.0, 1).map_err(Error::Dp)
        }
    }
}
