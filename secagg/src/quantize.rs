//! Fixed-point encoding of float vectors into ring words, and the inverse for sums.
//!
//! A client clips each element of its vector to `[-c, c]`, maps it onto the integer grid
//! `0..=M` with `M = 2^q - 1`, rounds (stochastically, unbiased, or to nearest), and —
//! when the session is weighted — multiplies by its integer weight `w` and appends `w`
//! as one extra word. The server adds the words of the included clients in the ring
//! `Z_{2^b}`; because [`Quantizer::new`] refuses any configuration in which `max_clients`
//! clients of weight `max_weight` could exceed `2^b - 1`, the ring sum *is* the integer
//! sum, and [`Quantizer::dequantize`] turns it back into `Σ w_i x_i` in `f64`.
//!
//! This module works on plain `u64` words, each already reduced modulo `2^b` (every word
//! is at most `max_weight * M < 2^b`). A vector of them is what goes into the ring layer:
//! `ring::RingVec::from_u64s(&Ring::pow2(b)?, out.words())`, and the server hands the
//! unmasked sum back as `RingVec::to_u64s()`.
//!
//! The exact formulas, the error bound and its derivation are in
//! `docs/float-encoding.md`; in short, per element of the decoded sum,
//!
//! ```text
//! |decoded − Σ w_i·clip(x_i)| ≤ W_tot·(ρ·Δ + c·2^-49),   Δ = 2c/(2^q − 1),
//! ρ = 1/2 (deterministic rounding), ρ = 1 (stochastic; the rounding term is strict),
//! ```
//!
//! with `W_tot = Σ w_i` (the number of included clients when unweighted); see
//! [`Quantizer::error_bound`].
//!
//! ```
//! use secagg::crypto::rng::seeded_rng;
//! use secagg::quantize::{min_ring_bits, QuantConfig, Quantizer};
//!
//! // Up to 100 clients, weights (example counts) up to 500, 16 bits per element.
//! let b = min_ring_bits(16, 100, 500)?; // bit length of 100 * 500 * (2^16 - 1)
//! let qz = Quantizer::new(QuantConfig::new(1.0, 16, b, 100).weighted(500))?;
//! let mut rng = seeded_rng([7; 32]);
//! let a = qz.quantize_weighted(&[0.5f32, -0.25], 300, &mut rng)?;
//! let c = qz.quantize_weighted(&[-0.1f32, 2.0], 100, &mut rng)?; // 2.0 is clipped to 1.0
//! assert_eq!(c.clipped(), 1);
//! // What the ring computes: the word-wise sum modulo 2^b (masks cancel out).
//! let sum: Vec<u64> = a.words().iter().zip(c.words())
//!     .map(|(x, y)| (x + y) & ((1u64 << b) - 1))
//!     .collect();
//! let agg = qz.dequantize(&sum, 2)?;
//! assert_eq!(agg.total_weight, 400);
//! let want = [300.0 * 0.5 + 100.0 * -0.1, 300.0 * -0.25 + 100.0 * 1.0];
//! for (got, want) in agg.sum.iter().zip(want) {
//!     assert!((got - want).abs() <= agg.error_bound);
//! }
//! # Ok::<(), secagg::Error>(())
//! ```
//!
//! Unlike Flower's SecAgg+ (defaults: quantization range 2^22 in a 2^32 modulus,
//! `max_weight` 1000), whose sum — and weight channel — silently wraps once about 1,024
//! clients take part, a configuration here that could wrap for *any* accepted number of
//! clients is a typed error ([`Misuse::RingTooNarrow`]) at construction.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::rng::CryptoRng;
use crate::{Error, Misuse, PeerMisbehaved, Result};

/// Largest number of quantization bits `q`: an `f64` carries 53 significant bits, so a
/// finer grid would carry no more information, and `2^q - 1` stays exact in `f64`.
pub const MAX_QUANT_BITS: u32 = 53;

/// Largest ring width `b` (words are `u64`).
pub const MAX_RING_BITS: u32 = 64;

/// Smallest clipping bound `c` accepted: `2^-512`. Together with [`MAX_CLIP`] it keeps
/// every intermediate of encoding and decoding a normal `f64` (no overflow to infinity,
/// no loss of relative precision to subnormals), which the error bound relies on.
pub const MIN_CLIP: f64 = f64::from_bits((1023 - 512) << 52);

/// Largest clipping bound `c` accepted: `2^512` (see [`MIN_CLIP`]).
pub const MAX_CLIP: f64 = f64::from_bits((1023 + 512) << 52);

/// `2^-49`: per unit of weight, the bound on the `f64` rounding error of encoding and
/// decoding, relative to `c` (derived in `docs/float-encoding.md`: at most `9.0000003·2^-53`).
const FLOAT_SLACK: f64 = f64::from_bits((1023 - 49) << 52);

/// Elements encoded per block: the finiteness check and the rounding draws of a block come
/// before its arithmetic, so that the arithmetic runs without early exits or calls.
const BLOCK: usize = 256;

/// `2^52`: from here on, every `f64` is an integer.
const TWO_POW_52: f64 = f64::from_bits((1023 + 52) << 52);

/// `2^-53`, to turn 53 random bits into a uniform `f64` in `[0, 1)`.
const TWO_POW_M53: f64 = f64::from_bits((1023 - 53) << 52);

// The derived float error, 9.0000003 * 2^-53, fits under the slack.
const _: () = assert!(9.000_000_3 * TWO_POW_M53 < FLOAT_SLACK);

/// The instruction set the encoding loop runs on; every choice gives the same words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Simd {
    /// Whatever the build targets (SSE2 on baseline x86-64).
    Portable,
    /// AVX2, detected at run time.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Simd {
    /// The widest this CPU runs (std caches the CPUID query).
    fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return Simd::Avx2;
        }
        Simd::Portable
    }
}

/// How a point between two grid levels is rounded to an integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// `floor(v) + Bernoulli(v - floor(v))`, drawing from the caller's CSPRNG: unbiased,
    /// so errors average out across clients; each client's error is below one step.
    #[default]
    Stochastic,
    /// Round half to even: no randomness, error at most half a step per client, but
    /// biased for inputs that sit at the same place between two levels.
    Deterministic,
}

/// Parameters of the float encoding; validated by [`Quantizer::new`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantConfig {
    /// Clipping bound `c`: inputs are clipped to `[-c, c]`. Finite, in
    /// `[MIN_CLIP, MAX_CLIP]`.
    pub clip: f64,
    /// Quantization bits `q` (`1..=53`): the grid has `2^q` levels `0..=2^q - 1`.
    pub bits: u32,
    /// Ring width `b` (`1..=64`): the sum is computed modulo `2^b`.
    pub ring_bits: u32,
    /// Maximum number `n >= 1` of clients whose inputs are summed.
    pub max_clients: usize,
    /// `Some(W)`: weighted aggregation, each client has an integer weight in `1..=W` and
    /// the encoded vector carries one extra word with the weight. `None`: unweighted
    /// (every client weight 1, no extra word).
    pub max_weight: Option<u64>,
    /// How values are rounded onto the grid.
    pub rounding: Rounding,
}

impl QuantConfig {
    /// An unweighted configuration with stochastic rounding.
    pub fn new(clip: f64, bits: u32, ring_bits: u32, max_clients: usize) -> Self {
        Self {
            clip,
            bits,
            ring_bits,
            max_clients,
            max_weight: None,
            rounding: Rounding::Stochastic,
        }
    }

    /// The same configuration, weighted with weights in `1..=max_weight`.
    pub fn weighted(self, max_weight: u64) -> Self {
        Self {
            max_weight: Some(max_weight),
            ..self
        }
    }

    /// The same configuration with the given rounding.
    pub fn with_rounding(self, rounding: Rounding) -> Self {
        Self { rounding, ..self }
    }
}

/// Bit length of `a * b` (0 when the product is 0), exact over the whole range.
fn bit_len_product(a: u128, b: u64) -> u32 {
    let b = u128::from(b);
    let lo = (a & u128::from(u64::MAX)) * b;
    let hi = (a >> 64) * b;
    // a*b = hi*2^64 + lo = top*2^64 + (lo mod 2^64). No overflow: hi <= (2^64-1)^2 and
    // lo >> 64 <= 2^64 - 2, whose sum is below 2^128.
    let top = hi + (lo >> 64);
    if top > 0 {
        64 + (128 - top.leading_zeros())
    } else {
        64 - (lo as u64).leading_zeros()
    }
}

fn check_bits(bits: u32) -> Result<()> {
    if (1..=MAX_QUANT_BITS).contains(&bits) {
        Ok(())
    } else {
        Err(Error::Misuse(Misuse::InvalidQuantParam {
            param: "bits",
            allowed: "1..=53",
        }))
    }
}

fn check_ring_bits(ring_bits: u32) -> Result<()> {
    if (1..=MAX_RING_BITS).contains(&ring_bits) {
        Ok(())
    } else {
        Err(Error::Misuse(Misuse::InvalidQuantParam {
            param: "ring_bits",
            allowed: "1..=64",
        }))
    }
}

fn check_clients_weight(max_clients: usize, max_weight: u64) -> Result<()> {
    if max_clients == 0 {
        return Err(Error::Misuse(Misuse::InvalidQuantParam {
            param: "max_clients",
            allowed: "at least 1",
        }));
    }
    if max_weight == 0 {
        return Err(Error::Misuse(Misuse::InvalidQuantParam {
            param: "max_weight",
            allowed: "at least 1",
        }));
    }
    Ok(())
}

/// Bits needed so that `n` clients of weight `W`, each at the top level `2^q - 1`, sum
/// without wrapping: the bit length of `n * W * (2^q - 1)`.
fn needed_bits(bits: u32, max_clients: usize, max_weight: u64) -> u32 {
    let nw = (max_clients as u128) * u128::from(max_weight);
    bit_len_product(nw, (1u64 << bits) - 1)
}

/// The smallest ring width `b` for which `max_clients` clients with weights up to
/// `max_weight` (pass 1 when unweighted) and `quant_bits` quantization bits can never
/// wrap: the bit length of `n * W * (2^q - 1)`.
///
/// This is at most `q + ceil(log2 n) + ceil(log2 W)` and equals it when `n` and `W` are
/// powers of two; for other `n`, `W` it can be smaller, because the exact product is
/// checked rather than that rounded-up sufficient condition.
///
/// # Errors
/// [`Misuse::InvalidQuantParam`] for `q` outside `1..=53`, `n == 0` or `W == 0`;
/// [`Misuse::RingTooNarrow`] when even a 64-bit ring is too narrow.
pub fn min_ring_bits(quant_bits: u32, max_clients: usize, max_weight: u64) -> Result<u32> {
    check_bits(quant_bits)?;
    check_clients_weight(max_clients, max_weight)?;
    let needed = needed_bits(quant_bits, max_clients, max_weight);
    if needed > MAX_RING_BITS {
        return Err(Error::Misuse(Misuse::RingTooNarrow {
            ring_bits: MAX_RING_BITS,
            needed_bits: needed,
            quant_bits,
            max_clients,
            max_weight,
        }));
    }
    Ok(needed)
}

/// The largest number of quantization bits `q` (at most 53) for which `max_clients`
/// clients with weights up to `max_weight` (1 when unweighted) sum without wrapping in a
/// `ring_bits`-bit ring: the largest `q` with `n * W * (2^q - 1) <= 2^b - 1`.
///
/// # Errors
/// [`Misuse::InvalidQuantParam`] for `b` outside `1..=64`, `n == 0` or `W == 0`;
/// [`Misuse::RingTooNarrow`] when not even `q = 1` fits (`n * W > 2^b - 1`).
pub fn max_quant_bits(ring_bits: u32, max_clients: usize, max_weight: u64) -> Result<u32> {
    check_ring_bits(ring_bits)?;
    check_clients_weight(max_clients, max_weight)?;
    let cap = u128::from(u64::MAX >> (MAX_RING_BITS - ring_bits));
    let nw = (max_clients as u128) * u128::from(max_weight);
    if nw > cap {
        return Err(Error::Misuse(Misuse::RingTooNarrow {
            ring_bits,
            needed_bits: bit_len_product(nw, 1),
            quant_bits: 1,
            max_clients,
            max_weight,
        }));
    }
    // 2^q - 1 <= floor(cap / nw)  <=>  q <= floor(log2(floor(cap / nw) + 1)).
    let levels_plus_one = cap / nw + 1;
    let q = 127 - levels_plus_one.leading_zeros();
    Ok(q.min(MAX_QUANT_BITS))
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A float type that can be quantized: `f32` or `f64` (converted to `f64` exactly).
pub trait Sample: Copy + sealed::Sealed {
    /// The value as an `f64` (exact for both types).
    fn to_f64(self) -> f64;
}

impl Sample for f64 {
    fn to_f64(self) -> f64 {
        self
    }
}

impl Sample for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// One client's encoded vector: the ring words and how many inputs were clipped.
///
/// The words encode the client's private input, so they are wiped on drop and
/// `Debug` does not print them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct QuantizeOutput {
    words: Vec<u64>,
    #[zeroize(skip)]
    clipped: usize,
}

impl QuantizeOutput {
    /// The encoded words, each `< 2^b`: one per input element, then (weighted
    /// configurations only) the weight. Feed them to `RingVec::from_u64s`.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// How many input elements lay outside `[-c, c]` and were clipped.
    pub fn clipped(&self) -> usize {
        self.clipped
    }
}

impl core::fmt::Debug for QuantizeOutput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("QuantizeOutput")
            .field("len", &self.words.len())
            .field("clipped", &self.clipped)
            .finish_non_exhaustive()
    }
}

/// The decoded sum of the included clients' vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// `Σ w_i x_i` per element (`Σ x_i` when unweighted), clipped inputs included as
    /// clipped.
    pub sum: Vec<f64>,
    /// The number of included clients.
    pub clients: usize,
    /// `Σ w_i`, exact (equal to `clients` when unweighted).
    pub total_weight: u64,
    /// Per-element bound on `|sum[j] − Σ w_i·clip(x_i[j])|`
    /// ([`Quantizer::error_bound`] of `total_weight`); infinite for a sum with
    /// differential-privacy noise (unbounded: see [`Aggregate::dp`]).
    pub error_bound: f64,
    /// For a session with distributed DP (`secagg::dp::pipeline`): the noise this sum
    /// carries and the guarantee of its round; `None` otherwise.
    pub dp: Option<crate::dp::pipeline::DpNoise>,
}

impl Aggregate {
    /// The weighted mean `Σ w_i x_i / Σ w_i` per element (the plain mean when
    /// unweighted); `None` when no client was included. Its error is at most
    /// [`Aggregate::mean_error_bound`].
    pub fn mean(&self) -> Option<Vec<f64>> {
        if self.total_weight == 0 {
            return None;
        }
        let w = self.total_weight as f64;
        Some(self.sum.iter().map(|s| s / w).collect())
    }

    /// Per-element bound on the error of [`Aggregate::mean`]: `ρ·Δ + c·2^-49`
    /// (`error_bound / total_weight`); `None` when no client was included.
    pub fn mean_error_bound(&self) -> Option<f64> {
        (self.total_weight != 0).then(|| self.error_bound / self.total_weight as f64)
    }

    /// [`Aggregate::sum`] rounded to `f32` (adds a relative error of at most `2^-24`).
    pub fn sum_f32(&self) -> Vec<f32> {
        self.sum.iter().map(|&s| s as f32).collect()
    }

    /// [`Aggregate::mean`] rounded to `f32` (adds a relative error of at most `2^-24`).
    pub fn mean_f32(&self) -> Option<Vec<f32>> {
        self.mean()
            .map(|m| m.into_iter().map(|x| x as f32).collect())
    }
}

/// A validated float encoding: quantizes client vectors and dequantizes sums.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantizer {
    cfg: QuantConfig,
    /// `M = 2^q - 1`, the top grid level.
    levels: u64,
    /// `M / (2c)`.
    scale: f64,
}

impl Quantizer {
    /// Validates `cfg`.
    ///
    /// # Errors
    /// [`Misuse::InvalidQuantParam`] for a clip bound that is not finite or outside
    /// `[MIN_CLIP, MAX_CLIP]`, `bits` outside `1..=53`, `ring_bits` outside `1..=64`,
    /// `max_clients == 0` or `max_weight == Some(0)`; [`Misuse::RingTooNarrow`] when
    /// `max_clients * W * (2^bits - 1) > 2^ring_bits - 1` (`W = 1` when unweighted), i.e.
    /// when the sum could wrap.
    pub fn new(cfg: QuantConfig) -> Result<Self> {
        // Written so that NaN fails too.
        if !(cfg.clip >= MIN_CLIP && cfg.clip <= MAX_CLIP) {
            return Err(Error::Misuse(Misuse::InvalidQuantParam {
                param: "clip",
                allowed: "finite, in [2^-512, 2^512]",
            }));
        }
        check_bits(cfg.bits)?;
        check_ring_bits(cfg.ring_bits)?;
        let max_weight = cfg.max_weight.unwrap_or(1);
        check_clients_weight(cfg.max_clients, max_weight)?;
        let needed = needed_bits(cfg.bits, cfg.max_clients, max_weight);
        if needed > cfg.ring_bits {
            return Err(Error::Misuse(Misuse::RingTooNarrow {
                ring_bits: cfg.ring_bits,
                needed_bits: needed,
                quant_bits: cfg.bits,
                max_clients: cfg.max_clients,
                max_weight,
            }));
        }
        let levels = (1u64 << cfg.bits) - 1;
        Ok(Self {
            cfg,
            levels,
            scale: levels as f64 / (2.0 * cfg.clip),
        })
    }

    /// The grid of a session whose client-side transform has its own ring check (the
    /// distributed-DP pipeline, `secagg::dp::pipeline`): `cfg` validated as in
    /// [`Quantizer::new`] except for the overflow condition, which does not apply (the
    /// transform does not encode with this quantizer).
    ///
    /// # Errors
    /// [`Misuse::InvalidQuantParam`] as in [`Quantizer::new`].
    pub(crate) fn for_transform(cfg: QuantConfig) -> Result<Self> {
        let unguarded = QuantConfig {
            ring_bits: MAX_RING_BITS,
            max_clients: 1,
            max_weight: None,
            ..cfg
        };
        let q = Self::new(unguarded)?;
        check_ring_bits(cfg.ring_bits)?;
        check_clients_weight(cfg.max_clients, cfg.max_weight.unwrap_or(1))?;
        Ok(Self { cfg, ..q })
    }

    /// The configuration.
    pub fn config(&self) -> &QuantConfig {
        &self.cfg
    }

    /// The top grid level `M = 2^q - 1`: `-c` encodes as 0, `c` as `M`.
    pub fn levels(&self) -> u64 {
        self.levels
    }

    /// The grid step `Δ = 2c / (2^q - 1)`.
    pub fn step(&self) -> f64 {
        2.0 * self.cfg.clip / self.levels as f64
    }

    /// Whether the encoding is weighted (carries a weight word).
    pub fn is_weighted(&self) -> bool {
        self.cfg.max_weight.is_some()
    }

    /// The largest client weight (1 when unweighted).
    pub fn max_weight(&self) -> u64 {
        self.cfg.max_weight.unwrap_or(1)
    }

    /// Number of ring words an input of `len` elements encodes to: `len`, plus one weight
    /// word when weighted. This is the vector length `d` the protocol must be configured
    /// with.
    pub fn encoded_len(&self, len: usize) -> usize {
        len + usize::from(self.is_weighted())
    }

    /// Encodes `x` with weight 1 (see [`Quantizer::quantize_weighted`]).
    ///
    /// # Errors
    /// [`Misuse::NonFiniteInput`] for a NaN or infinite element.
    pub fn quantize<T: Sample, R: CryptoRng + ?Sized>(
        &self,
        x: &[T],
        rng: &mut R,
    ) -> Result<QuantizeOutput> {
        self.quantize_weighted(x, 1, rng)
    }

    /// Encodes `x` with integer weight `weight`: each element is clipped to `[-c, c]`,
    /// mapped to `v = (clip(x) + c) · M / (2c)` in `[0, M]` (`-c` to exactly 0, `c` to
    /// exactly `M`), rounded to an integer `k` (stochastic: `floor(v) + [U < v - floor(v)]`
    /// with `U = (rng.next_u64() >> 11) · 2^-53`, one draw per element in order;
    /// deterministic: half to even, `rng` unused), and the word is `w·k`. Weighted
    /// configurations append the word `w`.
    ///
    /// `rng` must be the client's own randomness (`os_rng()` in production, or a
    /// `seeded_rng` per client in simulations), never derived from mask seeds.
    ///
    /// # Errors
    /// [`Misuse::WeightOutOfRange`] unless `1 <= weight <= max_weight` (1 when
    /// unweighted); [`Misuse::NonFiniteInput`] for a NaN or infinite element.
    pub fn quantize_weighted<T: Sample, R: CryptoRng + ?Sized>(
        &self,
        x: &[T],
        weight: u64,
        rng: &mut R,
    ) -> Result<QuantizeOutput> {
        self.quantize_with(x, weight, rng, Simd::detect())
    }

    /// [`Quantizer::quantize_weighted`] on the given instruction set (every choice gives
    /// the same words).
    fn quantize_with<T: Sample, R: CryptoRng + ?Sized>(
        &self,
        x: &[T],
        weight: u64,
        rng: &mut R,
        simd: Simd,
    ) -> Result<QuantizeOutput> {
        let mut out = QuantizeOutput {
            // Written in place (no `push`): the buffer never reallocates, so no stray
            // copy of the words is left behind; it is wiped on drop.
            words: vec![0; self.encoded_len(x.len())],
            clipped: 0,
        };
        out.clipped = self.quantize_into_with(x, weight, rng, &mut out.words, |w| w, simd)?;
        Ok(out)
    }

    /// [`Quantizer::quantize_weighted`] written straight into `out` (exactly
    /// [`Quantizer::encoded_len`]`(x.len())` words), each word `w` stored as `word(w)`:
    /// the session layer writes the ring's own words this way, without a `u64` vector
    /// of the whole input in between. The same words and the same draws from `rng` as
    /// `quantize_weighted`; returns how many elements were clipped. On an error `out`
    /// may hold the words of the blocks before it (the caller wipes it).
    ///
    /// # Errors
    /// As [`Quantizer::quantize_weighted`]; [`Misuse::InputLength`] for an `out` of
    /// another length.
    pub(crate) fn quantize_weighted_into<T: Sample, R: CryptoRng + ?Sized, W>(
        &self,
        x: &[T],
        weight: u64,
        rng: &mut R,
        out: &mut [W],
        word: impl Fn(u64) -> W,
    ) -> Result<usize> {
        self.quantize_into_with(x, weight, rng, out, word, Simd::detect())
    }

    /// [`Quantizer::quantize_weighted_into`] on the given instruction set.
    fn quantize_into_with<T: Sample, R: CryptoRng + ?Sized, W>(
        &self,
        x: &[T],
        weight: u64,
        rng: &mut R,
        out: &mut [W],
        word: impl Fn(u64) -> W,
        simd: Simd,
    ) -> Result<usize> {
        let max = self.max_weight();
        if weight == 0 || weight > max {
            return Err(Error::Misuse(Misuse::WeightOutOfRange { weight, max }));
        }
        if out.len() != self.encoded_len(x.len()) {
            return Err(Error::Misuse(Misuse::InputLength {
                vector: 0,
                expected: self.encoded_len(x.len()),
                found: out.len(),
            }));
        }
        let mut clipped = 0;
        let stochastic = self.cfg.rounding == Rounding::Stochastic;
        // The rounding draws and the words of one block, wiped before returning.
        let mut draws = zeroize::Zeroizing::new([0u64; BLOCK]);
        let mut block_words = zeroize::Zeroizing::new([0u64; BLOCK]);
        let (values, weight_word) = out.split_at_mut(x.len());
        for (block, (xs, os)) in x.chunks(BLOCK).zip(values.chunks_mut(BLOCK)).enumerate() {
            // Finiteness first, for the whole block (a fold without early exit, so it
            // vectorises); the element loop below then has no early return.
            if !xs.iter().fold(true, |ok, v| ok & v.to_f64().is_finite()) {
                if let Some(i) = xs.iter().position(|v| !v.to_f64().is_finite()) {
                    // Leave `rng` exactly where the element-at-a-time loop left it: one
                    // draw per element before the first non-finite one.
                    if stochastic {
                        draws[..i].iter_mut().for_each(|d| *d = rng.next_u64());
                    }
                    return Err(Error::Misuse(Misuse::NonFiniteInput {
                        index: block * BLOCK + i,
                    }));
                }
            }
            let draws = &mut draws[..xs.len()];
            let ws = &mut block_words[..xs.len()];
            if stochastic {
                // One `next_u64` per element, in element order, whatever the rng.
                draws.iter_mut().for_each(|d| *d = rng.next_u64());
            }
            clipped += match (stochastic, simd) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `simd` is `Simd::Avx2` only when the CPU supports AVX2
                // (`Simd::detect`), the one requirement of a function compiled with
                // `target_feature(enable = "avx2")`.
                (true, Simd::Avx2) => unsafe { self.encode_block_avx2::<T, true>(xs, draws, ws) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                (false, Simd::Avx2) => unsafe { self.encode_block_avx2::<T, false>(xs, draws, ws) },
                (true, _) => self.encode_block::<T, true>(xs, draws, ws),
                (false, _) => self.encode_block::<T, false>(xs, draws, ws),
            };
            if weight != 1 {
                // k <= M and weight <= W, and W * M < 2^b <= 2^64 was checked in `new`.
                ws.iter_mut().for_each(|w| *w *= weight);
            }
            for (o, &w) in os.iter_mut().zip(ws.iter()) {
                *o = word(w);
            }
        }
        // Weighted: the one word after the values (empty when unweighted).
        weight_word.iter_mut().for_each(|o| *o = word(weight));
        Ok(clipped)
    }

    /// [`Quantizer::encode_block`] compiled for AVX2 (four `f64` lanes instead of two).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn encode_block_avx2<T: Sample, const STOCHASTIC: bool>(
        &self,
        xs: &[T],
        draws: &[u64],
        words: &mut [u64],
    ) -> usize {
        self.encode_block::<T, STOCHASTIC>(xs, draws, words)
    }

    /// Encodes one block of finite inputs into `words` (`words.len() == xs.len()`) with
    /// weight 1, with the stochastic rounding draws `draws` (ignored for deterministic
    /// rounding), and returns how many elements were clipped.
    ///
    /// Every step is the exact value of the documented formula, written without
    /// branches, calls or float-to-integer conversions so that the compiler vectorises
    /// it: baseline x86-64 has no `floor`/`round` instruction (`f64::floor` is a libm
    /// call there) and no packed `f64`↔`u64` conversion. The identities used, for
    /// `0 <= v <= M < 2^53` and `E = 2^52`:
    ///
    /// - `v < E`: `(v + E) − E` is `v` rounded to the nearest integer, ties to even
    ///   (the sum lies in `[E, 2E]`, where the spacing of `f64` is 1; the subtraction is
    ///   exact). `v >= E`: `v` is already an integer.
    /// - `floor(v)` is that, minus 1 when it exceeds `v`; `v − floor(v)` is exact.
    /// - An integer-valued `f64` `k < 2^53` is the integer `bits(k + E) − bits(E)` when
    ///   `k < E` and `bits(k) − bits(E) + E` otherwise (in both cases the `f64` lies in
    ///   `[E, 2E)`, whose mantissa field is the integer minus `E`).
    /// - A draw `a = r >> 11 < 2^53` is the `f64` `(float(bits(E) | (a mod E)) − E) +
    ///   E·[a >= E]`, exactly `a as f64`.
    #[inline(always)]
    fn encode_block<T: Sample, const STOCHASTIC: bool>(
        &self,
        xs: &[T],
        draws: &[u64],
        words: &mut [u64],
    ) -> usize {
        const E: f64 = TWO_POW_52;
        const E_BITS: u64 = TWO_POW_52.to_bits();
        const MANTISSA: u64 = (1 << 52) - 1;
        // `k` integer-valued in [0, 2^53): the integer.
        let to_int = |k: f64| -> u64 {
            let big = k >= E;
            let y = if big { k } else { k + E };
            y.to_bits().wrapping_sub(E_BITS) + if big { 1 << 52 } else { 0 }
        };
        let c = self.cfg.clip;
        let top = self.levels as f64;
        let scale = self.scale;
        let mut clipped = 0;
        for ((w, &xi), &r) in words.iter_mut().zip(xs).zip(draws) {
            let xi = xi.to_f64();
            let below = xi < -c;
            let above = xi > c;
            clipped += usize::from(below | above);
            let xc = if below {
                -c
            } else if above {
                c
            } else {
                xi
            };
            // v >= 0 always (xc + c >= 0 and scale > 0); the top end is pinned to M
            // exactly, and f64 rounding can never carry v above it.
            let scaled = (xc + c) * scale;
            let v = if (xc >= c) | (scaled >= top) {
                top
            } else {
                scaled
            };
            let big = v >= E;
            let nearest = (v + E) - E;
            let k = if STOCHASTIC {
                let floor = if big {
                    v
                } else if nearest > v {
                    nearest - 1.0
                } else {
                    nearest
                };
                let a = r >> 11;
                let a_low = f64::from_bits(E_BITS | (a & MANTISSA)) - E;
                let u = (a_low + if a > MANTISSA { E } else { 0.0 }) * TWO_POW_M53;
                to_int(floor) + u64::from(u < v - floor)
            } else {
                to_int(if big { v } else { nearest })
            };
            *w = k;
        }
        clipped
    }

    /// Per-element bound on `|decoded − Σ w_i·clip(x_i)|` for a sum with total weight
    /// `total_weight` (the number of clients when unweighted):
    /// `W_tot · (ρ·Δ + c·2^-49)` with `ρ = 1` for stochastic rounding (the rounding part
    /// strictly less) and `ρ = 1/2` for deterministic rounding. The `c·2^-49` term covers
    /// all `f64` rounding in encoding and decoding. Clipping error is not included: it is
    /// `Σ w_i·(|x_i| − c)` over the clipped elements.
    pub fn error_bound(&self, total_weight: u64) -> f64 {
        let rho = match self.cfg.rounding {
            Rounding::Stochastic => 1.0,
            Rounding::Deterministic => 0.5,
        };
        total_weight as f64 * (rho * self.step() + self.cfg.clip * FLOAT_SLACK)
    }

    /// Decodes the ring sum of the included clients' encoded vectors.
    ///
    /// `sum` is the unmasked sum (each word reduced modulo `2^b`) of exactly `clients`
    /// clients' [`QuantizeOutput::words`]; for a weighted configuration its last word is
    /// `W_tot = Σ w_i`. Each value word `S` decodes to `c · (2S − W_tot·M) / M`
    /// (`= S·Δ − W_tot·c`), computed with the integer `2S − W_tot·M` exact.
    ///
    /// # Errors
    /// [`Misuse::TooManyIncluded`] when `clients > max_clients`;
    /// [`PeerMisbehaved::MissingWeightWord`] for an empty weighted `sum`;
    /// [`PeerMisbehaved::AggregateOutOfRange`] when the weight word is outside
    /// `clients..=clients·W`, or a value word exceeds `W_tot·M` — a sum that the included
    /// clients cannot have produced with in-range inputs.
    pub fn dequantize(&self, sum: &[u64], clients: usize) -> Result<Aggregate> {
        if clients > self.cfg.max_clients {
            return Err(Error::Misuse(Misuse::TooManyIncluded {
                included: clients,
                max: self.cfg.max_clients,
            }));
        }
        // clients <= n, and n * W * M < 2^64 with M >= 1, so none of these overflow.
        let clients_u64 = clients as u64;
        let (values, total_weight) = if self.is_weighted() {
            let (&w, values) = sum
                .split_last()
                .ok_or(Error::PeerMisbehaved(PeerMisbehaved::MissingWeightWord))?;
            let (min, max) = (clients_u64, clients_u64 * self.max_weight());
            if w < min || w > max {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::AggregateOutOfRange {
                    index: values.len(),
                    word: w,
                    min,
                    max,
                }));
            }
            (values, w)
        } else {
            (sum, clients_u64)
        };
        let top = total_weight * self.levels;
        let c = self.cfg.clip;
        let m = self.levels as f64;
        let mut out = Vec::with_capacity(values.len());
        for (index, &s) in values.iter().enumerate() {
            if s > top {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::AggregateOutOfRange {
                    index,
                    word: s,
                    min: 0,
                    max: top,
                }));
            }
            // |2S − W_tot·M| <= W_tot·M < 2^64: exact in i128.
            let d = 2 * i128::from(s) - i128::from(top);
            out.push(d as f64 * c / m);
        }
        Ok(Aggregate {
            sum: out,
            clients,
            total_weight,
            error_bound: self.error_bound(total_weight),
            dp: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rng::{seeded_rng, Rng};

    fn q(cfg: QuantConfig) -> Quantizer {
        Quantizer::new(cfg).unwrap()
    }

    /// The element-at-a-time loop `quantize_weighted` ran before the blocked one, kept
    /// verbatim as the reference the fast loop must match word for word (and leave the
    /// rng in the same state, on success and on error).
    fn reference<T: Sample, R: CryptoRng + ?Sized>(
        qz: &Quantizer,
        x: &[T],
        weight: u64,
        rng: &mut R,
    ) -> Result<(Vec<u64>, usize)> {
        let max = qz.max_weight();
        if weight == 0 || weight > max {
            return Err(Error::Misuse(Misuse::WeightOutOfRange { weight, max }));
        }
        let c = qz.cfg.clip;
        let top = qz.levels as f64;
        let mut words = Vec::with_capacity(qz.encoded_len(x.len()));
        let mut clipped = 0;
        for (index, &xi) in x.iter().enumerate() {
            let xi = xi.to_f64();
            if !xi.is_finite() {
                return Err(Error::Misuse(Misuse::NonFiniteInput { index }));
            }
            let xc = if xi < -c {
                clipped += 1;
                -c
            } else if xi > c {
                clipped += 1;
                c
            } else {
                xi
            };
            let v = if xc >= c {
                top
            } else {
                ((xc + c) * qz.scale).min(top)
            };
            let k = match qz.cfg.rounding {
                Rounding::Deterministic => v.round_ties_even() as u64,
                Rounding::Stochastic => {
                    let floor = v.floor();
                    let u = (rng.next_u64() >> 11) as f64 * TWO_POW_M53;
                    floor as u64 + u64::from(u < v - floor)
                }
            };
            words.push(weight * k);
        }
        if qz.is_weighted() {
            words.push(weight);
        }
        Ok((words, clipped))
    }

    /// Inputs that probe every branch of the encoding: uniform in `[-1.5c, 1.5c]`, exactly
    /// `±c` and one ulp either side, `±0`, grid points and half-steps (exact when the
    /// scale is 1), the `f64` extremes and subnormals.
    fn probe_inputs(qz: &Quantizer, len: usize, rng: &mut impl Rng) -> Vec<f64> {
        let c = qz.cfg.clip;
        let m = qz.levels as f64;
        (0..len)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 * TWO_POW_M53;
                let j = (rng.next_u64() % (qz.levels + 1)) as f64;
                match rng.next_u32() % 16 {
                    0 => c,
                    1 => -c,
                    2 => c.next_up(),
                    3 => c.next_down(),
                    4 => (-c).next_up(),
                    5 => (-c).next_down(),
                    6 => 0.0,
                    7 => -0.0,
                    8 => j / qz.scale - c,
                    9 => (j + 0.5) / qz.scale - c,
                    10 => [f64::MAX, f64::MIN, f64::MIN_POSITIVE, -5e-324][(j as usize) % 4],
                    11 => (u - 0.5) * m,
                    _ => (3.0 * u - 1.5) * c,
                }
            })
            .collect()
    }

    /// Every instruction set this CPU runs, the portable loop first.
    fn simds() -> Vec<Simd> {
        let mut all = vec![Simd::Portable];
        if Simd::detect() != Simd::Portable {
            all.push(Simd::detect());
        }
        all
    }

    fn same_as_reference<T: Sample>(qz: &Quantizer, x: &[T], weight: u64, seed: [u8; 32]) {
        for simd in simds() {
            same_as_reference_on(qz, x, weight, seed, simd);
        }
    }

    fn same_as_reference_on<T: Sample>(
        qz: &Quantizer,
        x: &[T],
        weight: u64,
        seed: [u8; 32],
        simd: Simd,
    ) {
        let (mut a, mut b, mut c) = (seeded_rng(seed), seeded_rng(seed), seeded_rng(seed));
        let fast = qz.quantize_with(x, weight, &mut a, simd);
        // The in-place path, into 32-bit words through a map (as the session layer
        // writes a 32-bit ring's words): the map of each reference word.
        let map = |w: u64| (w as u32) ^ 0x5a5a_5a5a;
        let mut into_words = vec![0u32; qz.encoded_len(x.len())];
        let into = qz.quantize_into_with(x, weight, &mut c, &mut into_words, map, simd);
        let slow = reference(qz, x, weight, &mut b);
        match (fast, into, slow) {
            (Ok(f), Ok(into_clipped), Ok((words, clipped))) => {
                assert_eq!(f.words(), words.as_slice(), "{simd:?} {:?}", qz.cfg);
                assert_eq!(f.clipped(), clipped, "{simd:?} {:?}", qz.cfg);
                let mapped: Vec<u32> = words.iter().map(|&w| map(w)).collect();
                assert_eq!(into_words, mapped, "{simd:?} {:?}", qz.cfg);
                assert_eq!(into_clipped, clipped, "{simd:?} {:?}", qz.cfg);
            }
            (f, i, s) => {
                let s = s.map(|_| ());
                assert_eq!(f.map(|_| ()), s, "{simd:?} {:?}", qz.cfg);
                assert_eq!(i.map(|_| ()), s, "{simd:?} {:?}", qz.cfg);
            }
        }
        // The rng is left where the reference left it, by both paths.
        let next = b.next_u64();
        assert_eq!(a.next_u64(), next);
        assert_eq!(c.next_u64(), next);
    }

    #[test]
    fn blocked_loop_matches_the_reference_word_for_word() {
        let mut rng = seeded_rng([42; 32]);
        let mut cases = 0;
        for bits in [1, 2, 7, 8, 16, 24, 31, 52, 53] {
            let m = ((1u64 << bits) - 1) as f64;
            // c = M/2 makes the scale exactly 1: grid points and half-steps are hit exactly.
            for clip in [1.0, 0.1, 3.7, 1e5, m / 2.0, MIN_CLIP, MAX_CLIP] {
                for rounding in [Rounding::Stochastic, Rounding::Deterministic] {
                    for max_weight in [None, Some(1), Some(1000)] {
                        let Ok(b) = min_ring_bits(bits, 3, max_weight.unwrap_or(1)) else {
                            continue;
                        };
                        let cfg = QuantConfig {
                            clip,
                            bits,
                            ring_bits: b,
                            max_clients: 3,
                            max_weight,
                            rounding,
                        };
                        let Ok(qz) = Quantizer::new(cfg) else {
                            continue;
                        };
                        // Lengths around the block size, and short and empty inputs.
                        let len = [0, 1, 5, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 37]
                            [(rng.next_u32() % 7) as usize];
                        let x = probe_inputs(&qz, len, &mut rng);
                        let w = 1 + rng.next_u64() % qz.max_weight();
                        let mut seed = [0; 32];
                        rng.fill_bytes(&mut seed);
                        same_as_reference(&qz, &x, w, seed);
                        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                        same_as_reference(&qz, &x32, w, seed);
                        // Out-of-range weights: the same typed error, no draw.
                        same_as_reference(&qz, &x, 0, seed);
                        same_as_reference(&qz, &x, qz.max_weight() + 1, seed);
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 300, "{cases}");
    }

    #[test]
    fn in_place_encoding_refuses_an_output_of_another_length() {
        let qz = q(QuantConfig::new(1.0, 8, 16, 3));
        let mut out = [0u32; 2];
        let r =
            qz.quantize_weighted_into(&[0.5f64; 3], 1, &mut seeded_rng([1; 32]), &mut out, |w| {
                w as u32
            });
        assert_eq!(
            r,
            Err(Error::Misuse(Misuse::InputLength {
                vector: 0,
                expected: 3,
                found: 2
            }))
        );
    }

    #[test]
    fn non_finite_inputs_match_the_reference_at_every_position() {
        let mut rng = seeded_rng([43; 32]);
        for rounding in [Rounding::Stochastic, Rounding::Deterministic] {
            let qz = q(QuantConfig::new(1.0, 16, 40, 3)
                .weighted(100)
                .with_rounding(rounding));
            let len = 3 * BLOCK + 11;
            for at in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 5, len - 1] {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut x = probe_inputs(&qz, len, &mut rng);
                    x[at] = bad;
                    // A second non-finite value later: the first index is reported.
                    if at + 3 < len {
                        x[at + 3] = f64::NAN;
                    }
                    let seed = [at as u8; 32];
                    same_as_reference(&qz, &x, 7, seed);
                    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                    same_as_reference(&qz, &x32, 7, seed);
                    assert_eq!(
                        qz.quantize_weighted(&x, 7, &mut seeded_rng(seed))
                            .unwrap_err(),
                        Error::Misuse(Misuse::NonFiniteInput { index: at })
                    );
                }
            }
        }
    }

    #[test]
    fn clip_bounds_are_the_documented_powers_of_two() {
        assert_eq!(MIN_CLIP, 0.5f64.powi(512));
        assert_eq!(MAX_CLIP, 2f64.powi(512));
        assert_eq!(FLOAT_SLACK, 0.5f64.powi(49));
        assert_eq!(TWO_POW_M53, 0.5f64.powi(53));
        assert_eq!(TWO_POW_52, 2f64.powi(52));
    }

    #[test]
    fn bit_len_product_matches_u128_and_handles_overflow() {
        for (a, b) in [
            (0u128, 5u64),
            (1, 1),
            (3, 255),
            (1 << 70, 3),
            (u128::from(u64::MAX), u64::MAX),
        ] {
            let p = a * u128::from(b);
            assert_eq!(bit_len_product(a, b), 128 - p.leading_zeros(), "{a} {b}");
        }
        // (2^64-1)^2 * (2^53-1) overflows u128: 64 + 64 + 53 bits.
        let a = u128::from(u64::MAX) * u128::from(u64::MAX);
        assert_eq!(bit_len_product(a, (1 << 53) - 1), 181);
        assert_eq!(bit_len_product(u128::MAX, u64::MAX), 192);
        assert_eq!(bit_len_product(1 << 127, 2), 129);
    }

    #[test]
    fn invalid_parameters_are_typed_errors() {
        let ok = QuantConfig::new(1.0, 16, 32, 100);
        for (cfg, param) in [
            (QuantConfig { clip: 0.0, ..ok }, "clip"),
            (QuantConfig { clip: -1.0, ..ok }, "clip"),
            (
                QuantConfig {
                    clip: f64::NAN,
                    ..ok
                },
                "clip",
            ),
            (
                QuantConfig {
                    clip: f64::INFINITY,
                    ..ok
                },
                "clip",
            ),
            (QuantConfig { clip: 1e300, ..ok }, "clip"),
            (QuantConfig { clip: 1e-300, ..ok }, "clip"),
            (QuantConfig { bits: 0, ..ok }, "bits"),
            (QuantConfig { bits: 54, ..ok }, "bits"),
            (QuantConfig { ring_bits: 0, ..ok }, "ring_bits"),
            (
                QuantConfig {
                    ring_bits: 65,
                    ..ok
                },
                "ring_bits",
            ),
            (
                QuantConfig {
                    max_clients: 0,
                    ..ok
                },
                "max_clients",
            ),
            (ok.weighted(0), "max_weight"),
        ] {
            match Quantizer::new(cfg) {
                Err(Error::Misuse(Misuse::InvalidQuantParam { param: p, .. })) => {
                    assert_eq!(p, param)
                }
                other => panic!("{cfg:?}: {other:?}"),
            }
        }
        assert!(Quantizer::new(QuantConfig {
            clip: MIN_CLIP,
            ..ok
        })
        .is_ok());
        assert!(Quantizer::new(QuantConfig {
            clip: MAX_CLIP,
            ..ok
        })
        .is_ok());
    }

    #[test]
    fn ring_too_narrow_reports_the_numbers() {
        // 1000 clients x weight 1000 x (2^16 - 1) = 65_535_000_000 needs 36 bits.
        let err = Quantizer::new(QuantConfig::new(1.0, 16, 35, 1000).weighted(1000));
        assert_eq!(
            err,
            Err(Error::Misuse(Misuse::RingTooNarrow {
                ring_bits: 35,
                needed_bits: 36,
                quant_bits: 16,
                max_clients: 1000,
                max_weight: 1000,
            }))
        );
        assert!(Quantizer::new(QuantConfig::new(1.0, 16, 36, 1000).weighted(1000)).is_ok());
    }

    #[test]
    fn min_ring_bits_and_max_quant_bits_are_inverse_and_exact() {
        let mut rng = seeded_rng([7; 32]);
        use crate::crypto::rng::Rng;
        for _ in 0..2000 {
            let bits = 1 + (rng.next_u32() % 53);
            let n = 1 + (rng.next_u64() % (1 << (rng.next_u32() % 21))) as usize;
            let w = 1 + rng.next_u64() % (1 << (rng.next_u32() % 21));
            // n, W < 2^21 and M < 2^53: the product fits in u128.
            let prod = (n as u128) * (w as u128) * ((1u128 << bits) - 1);
            let prod_bits = 128 - prod.leading_zeros();
            let Ok(b) = min_ring_bits(bits, n, w) else {
                assert!(prod_bits > 64);
                continue;
            };
            assert_eq!(b, prod_bits);
            // Never above the rounded-up sufficient condition q + ceil(log2 n) + ceil(log2 W).
            let ceil_log2 = |x: u128| 128 - (x - 1).leading_zeros();
            assert!(b <= bits + ceil_log2(n as u128) + ceil_log2(w as u128));
            if n.is_power_of_two() && w.is_power_of_two() {
                assert_eq!(b, bits + ceil_log2(n as u128) + ceil_log2(w as u128));
            }
            let cfg = QuantConfig::new(1.0, bits, b, n).weighted(w);
            assert!(Quantizer::new(cfg).is_ok());
            if b > 1 {
                let narrow = QuantConfig {
                    ring_bits: b - 1,
                    ..cfg
                };
                assert!(matches!(
                    Quantizer::new(narrow),
                    Err(Error::Misuse(Misuse::RingTooNarrow { needed_bits, .. }))
                        if needed_bits == b
                ));
            }
            let qmax = max_quant_bits(b, n, w).unwrap();
            assert!(qmax >= bits);
            assert!(Quantizer::new(QuantConfig { bits: qmax, ..cfg }).is_ok());
            if qmax < MAX_QUANT_BITS {
                assert!(Quantizer::new(QuantConfig {
                    bits: qmax + 1,
                    ..cfg
                })
                .is_err());
            }
        }
    }

    #[test]
    fn max_quant_bits_edges() {
        assert_eq!(max_quant_bits(64, 1, 1), Ok(53));
        assert_eq!(max_quant_bits(32, 1, 1), Ok(32));
        assert_eq!(max_quant_bits(32, 1024, 1), Ok(22));
        // 1025 clients: 1025 * (2^22 - 1) > 2^32 - 1, so 21 bits.
        assert_eq!(max_quant_bits(32, 1025, 1), Ok(21));
        assert_eq!(max_quant_bits(3, 7, 1), Ok(1));
        assert!(matches!(
            max_quant_bits(3, 8, 1),
            Err(Error::Misuse(Misuse::RingTooNarrow {
                needed_bits: 4,
                quant_bits: 1,
                ..
            }))
        ));
        assert!(max_quant_bits(0, 1, 1).is_err());
        assert!(max_quant_bits(65, 1, 1).is_err());
        assert!(max_quant_bits(8, 0, 1).is_err());
        assert!(max_quant_bits(8, 1, 0).is_err());
        assert!(matches!(
            min_ring_bits(53, 1 << 12, 1),
            Err(Error::Misuse(Misuse::RingTooNarrow {
                needed_bits: 65,
                ..
            }))
        ));
    }

    #[test]
    fn encodes_the_grid_ends_and_midpoint_exactly() {
        let mut rng = seeded_rng([1; 32]);
        for rounding in [Rounding::Deterministic, Rounding::Stochastic] {
            let qz = q(QuantConfig::new(2.5, 8, 8, 1).with_rounding(rounding));
            let out = qz.quantize(&[-2.5f64, 2.5, -1e9, 1e9], &mut rng).unwrap();
            assert_eq!(out.words(), &[0, 255, 0, 255]);
            assert_eq!(out.clipped(), 2);
        }
        // The ends are exact for any c and q, with either rounding and any draw.
        for c in [1.5, 0.1, 3.7, 24.5, 1e-5, 1e5, MIN_CLIP, MAX_CLIP] {
            for bits in [1, 7, 24, 53] {
                for rounding in [Rounding::Deterministic, Rounding::Stochastic] {
                    let qz = q(QuantConfig::new(c, bits, 64, 1).with_rounding(rounding));
                    let out = qz.quantize(&[-c, c, -c, c], &mut rng).unwrap();
                    let m = (1u64 << bits) - 1;
                    assert_eq!(out.words(), &[0, m, 0, m], "{c} {bits}");
                    assert_eq!(out.clipped(), 0);
                }
            }
        }
        // 0 maps to v = 127.5: half to even gives 128.
        let det = q(QuantConfig::new(1.0, 8, 8, 1).with_rounding(Rounding::Deterministic));
        assert_eq!(det.quantize(&[0.0f32], &mut rng).unwrap().words(), &[128]);
        // v = 0.25 * 255 = 63.75 -> 64; v = 1.75 * 255 / 2 = 223.125 -> 223.
        assert_eq!(
            det.quantize(&[-0.5f64, 0.75], &mut rng).unwrap().words(),
            &[64, 223]
        );
    }

    #[test]
    fn deterministic_rounding_ignores_the_rng() {
        let qz = q(QuantConfig::new(1.0, 12, 12, 1).with_rounding(Rounding::Deterministic));
        let x: Vec<f64> = (0..100).map(|i| (i as f64 * 0.37).sin()).collect();
        let a = qz.quantize(&x, &mut seeded_rng([1; 32])).unwrap();
        let b = qz.quantize(&x, &mut seeded_rng([2; 32])).unwrap();
        assert_eq!(a.words(), b.words());
    }

    #[test]
    fn stochastic_rounding_is_reproducible_from_the_seed_and_within_one_step() {
        let qz = q(QuantConfig::new(1.0, 10, 10, 1));
        let x: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
        let a = qz.quantize(&x, &mut seeded_rng([1; 32])).unwrap();
        let b = qz.quantize(&x, &mut seeded_rng([1; 32])).unwrap();
        let c = qz.quantize(&x, &mut seeded_rng([2; 32])).unwrap();
        assert_eq!(a.words(), b.words());
        assert_ne!(a.words(), c.words());
        for (xi, &k) in x.iter().zip(a.words()) {
            let v = (xi + 1.0) / 2.0 * 1023.0;
            assert!(k == v.floor() as u64 || k == v.ceil() as u64, "{xi} {k}");
        }
    }

    #[test]
    fn non_finite_inputs_name_the_index() {
        let qz = q(QuantConfig::new(1.0, 8, 8, 1));
        let mut rng = seeded_rng([0; 32]);
        for (x, index) in [
            (vec![0.0, f64::NAN], 1),
            (vec![f64::INFINITY], 0),
            (vec![0.1, 0.2, f64::NEG_INFINITY, f64::NAN], 2),
        ] {
            assert_eq!(
                qz.quantize(&x, &mut rng).unwrap_err(),
                Error::Misuse(Misuse::NonFiniteInput { index })
            );
        }
        assert_eq!(
            qz.quantize(&[1.0f32, f32::NAN], &mut rng).unwrap_err(),
            Error::Misuse(Misuse::NonFiniteInput { index: 1 })
        );
        // Large but finite values are clipped, not rejected.
        let out = qz.quantize(&[f64::MAX, f64::MIN, 0.5], &mut rng).unwrap();
        assert_eq!(out.clipped(), 2);
    }

    #[test]
    fn weights_are_checked_and_appended() {
        let mut rng = seeded_rng([0; 32]);
        let unweighted = q(QuantConfig::new(1.0, 8, 8, 1));
        assert_eq!(unweighted.encoded_len(3), 3);
        assert_eq!(
            unweighted
                .quantize_weighted(&[0.0f64], 2, &mut rng)
                .unwrap_err(),
            Error::Misuse(Misuse::WeightOutOfRange { weight: 2, max: 1 })
        );
        let weighted = q(QuantConfig::new(1.0, 8, 16, 1)
            .weighted(100)
            .with_rounding(Rounding::Deterministic));
        assert_eq!(weighted.encoded_len(3), 4);
        for w in [0, 101] {
            assert_eq!(
                weighted
                    .quantize_weighted(&[0.0f64], w, &mut rng)
                    .unwrap_err(),
                Error::Misuse(Misuse::WeightOutOfRange {
                    weight: w,
                    max: 100
                })
            );
        }
        let out = weighted
            .quantize_weighted(&[-1.0f64, 1.0, 0.0], 100, &mut rng)
            .unwrap();
        assert_eq!(out.words(), &[0, 25_500, 12_800, 100]);
        // quantize = weight 1.
        let out = weighted.quantize(&[1.0f64], &mut rng).unwrap();
        assert_eq!(out.words(), &[255, 1]);
    }

    #[test]
    fn debug_does_not_print_words() {
        let qz = q(QuantConfig::new(1.0, 8, 8, 1));
        let out = qz
            .quantize(&[0.123456f64], &mut seeded_rng([0; 32]))
            .unwrap();
        let s = format!("{out:?}");
        let word = out.words()[0].to_string();
        assert!(!s.contains(&word), "{s}");
        assert!(s.contains("len"));
    }

    #[test]
    fn dequantize_checks_ranges() {
        let qz = q(QuantConfig::new(1.0, 8, 12, 10));
        // 10 clients x 255 = 2550 is the largest possible sum.
        assert_eq!(
            qz.dequantize(&[0], 11),
            Err(Error::Misuse(Misuse::TooManyIncluded {
                included: 11,
                max: 10
            }))
        );
        assert_eq!(
            qz.dequantize(&[0, 2551], 10),
            Err(Error::PeerMisbehaved(PeerMisbehaved::AggregateOutOfRange {
                index: 1,
                word: 2551,
                min: 0,
                max: 2550
            }))
        );
        let agg = qz.dequantize(&[0, 2550, 1275], 10).unwrap();
        assert_eq!(agg.sum, vec![-10.0, 10.0, 0.0]);
        assert_eq!(agg.total_weight, 10);
        assert_eq!(agg.mean().unwrap(), vec![-1.0, 1.0, 0.0]);
        // No clients: an all-zero sum decodes to zeros, no mean.
        let empty = qz.dequantize(&[0, 0], 0).unwrap();
        assert_eq!(empty.sum, vec![0.0, 0.0]);
        assert_eq!(empty.mean(), None);
        assert_eq!(empty.mean_error_bound(), None);
        assert!(qz.dequantize(&[1], 0).is_err());

        let wq = q(QuantConfig::new(1.0, 8, 20, 10).weighted(7));
        assert_eq!(
            wq.dequantize(&[], 3),
            Err(Error::PeerMisbehaved(PeerMisbehaved::MissingWeightWord))
        );
        for w in [2, 22] {
            assert_eq!(
                wq.dequantize(&[0, w], 3),
                Err(Error::PeerMisbehaved(PeerMisbehaved::AggregateOutOfRange {
                    index: 1,
                    word: w,
                    min: 3,
                    max: 21
                }))
            );
        }
        // Total weight 5: value words up to 5 * 255.
        assert!(wq.dequantize(&[1276, 5], 3).is_err());
        let agg = wq.dequantize(&[1275, 0, 5], 3).unwrap();
        assert_eq!(agg.sum, vec![5.0, -5.0]);
        assert_eq!(agg.mean_f32().unwrap(), vec![1.0f32, -1.0]);
        assert_eq!(agg.sum_f32(), vec![5.0f32, -5.0]);
    }

    #[test]
    fn error_bound_formula() {
        let det = q(QuantConfig::new(2.0, 4, 16, 10).with_rounding(Rounding::Deterministic));
        let sto = q(QuantConfig::new(2.0, 4, 16, 10));
        // Δ = 4 / 15.
        let slack = 2.0 * FLOAT_SLACK;
        assert_eq!(det.step(), 4.0 / 15.0);
        assert_eq!(det.error_bound(3), 3.0 * (0.5 * (4.0 / 15.0) + slack));
        assert_eq!(sto.error_bound(3), 3.0 * (4.0 / 15.0 + slack));
        let agg = sto.dequantize(&[0], 3).unwrap();
        assert_eq!(agg.error_bound, sto.error_bound(3));
        assert_eq!(agg.mean_error_bound(), Some(sto.error_bound(3) / 3.0));
    }
}
