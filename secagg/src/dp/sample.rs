//! Exact integer samplers: every decision is a comparison of integers drawn uniformly
//! by rejection (no modulo bias) from a caller's [`CryptoRng`], so the output follows
//! the stated distribution exactly, with no floating point anywhere.
//!
//! - [`bernoulli_exp`]: Bernoulli(exp(−γ)) for a rational γ ≥ 0 (Canonne, Kamath,
//!   Steinke, "The Discrete Gaussian for Differential Privacy", NeurIPS 2020,
//!   Algorithm 1).
//! - [`DiscreteLaplace`]: P(x) ∝ exp(−|x|/t) for an integer t ≥ 1 (CKS Algorithm 2).
//! - [`DiscreteGaussian`]: P(x) ∝ exp(−x²/(2σ²)) for a rational σ² (CKS Algorithm 3:
//!   rejection from the discrete Laplace with t = ⌊σ⌋ + 1).
//! - [`Poisson`]: P(k) = e^{−μ} μ^k / k! for a rational μ, by rejection from an envelope
//!   whose acceptance probability is a product of rationals (derivation below).
//! - [`Skellam`]: Poisson(μ) − Poisson(μ) (variance 2μ).
//!
//! # Timing
//! The samplers run in time that depends on the value drawn: the number of rejection
//! rounds, of Bernoulli trials and (for Poisson) of per-step factors grows with the
//! distance of the value from the centre. A process that times one client's sampling
//! learns something about that client's noise (roughly its magnitude, for Poisson also
//! its sign); see `docs/differential-privacy.md`, "Samplers and timing".
//!
//! # Range
//! Values are `i64`. The discrete Laplace (and so the discrete Gaussian) and the
//! Poisson sampler restart when an intermediate would leave `i64`/`u64`: the output is
//! the distribution conditioned on |x| < 2^63, which differs from the untruncated one
//! with probability below exp(−2^62/t) (resp. far below that for Poisson).
//!
//! # Poisson: the envelope
//! Let μ = a/b, m = ⌊μ⌋ (a mode) and r(j) = P(m + j)/P(m), a rational:
//! r(j) = ∏_{i=1..j} ρ_i with ρ_i = μ/(m+i) for j > 0 and
//! r(−k) = ∏_{i=1..k} ρ'_i with ρ'_i = (m−i+1)/μ for 0 < k ≤ m. All ρ_i, ρ'_i are ≤ 1
//! and decrease in i (log-concavity). With w = ⌊√m⌋ the proposal picks a side (right:
//! j ≥ 0; left: j < 0, only when m ≥ 1) with probability ½ each, then a centre
//! (uniform over the w + 1 right or min(w, m) left offsets) or a tail (offset w + 1 + g,
//! g geometric with ratio ρ̂ = ρ_{w+1}, resp. ρ̂' = ρ'_{w+1}) with probability ½ each
//! (the left tail only when m > w). On the centre r ≤ 1, on a tail
//! r(j)/ρ̂^g = ∏_{i ≤ w+1} ρ_i · ∏_{i > w+1} ρ_i/ρ̂ ≤ 1, so the ratio target/proposal is
//! at most the largest inverse density E of the regions, and a proposal is accepted with
//! probability (E_region/E_max) · (that product): a Bernoulli trial per rational factor
//! (several factors share one trial while their product fits 128 bits). The acceptance
//! rate is about 0.6 for large μ and at least 0.4 for small μ; the work per draw grows
//! like √μ (the number of factors).

use core::fmt;

use crate::crypto::rng::CryptoRng;
use crate::error::DpError;

// ---------------------------------------------------------------------------------
// Rationals
// ---------------------------------------------------------------------------------

/// A non-negative rational number `num/den` in lowest terms, with `u64` numerator and
/// denominator: the exact parameter of a sampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rational {
    num: u64,
    den: u64,
}

fn gcd64(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn gcd128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Rational {
    /// Zero.
    pub const ZERO: Rational = Rational { num: 0, den: 1 };

    /// `num/den`, reduced to lowest terms.
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] when `den` is 0.
    pub fn new(num: u64, den: u64) -> Result<Rational, DpError> {
        if den == 0 {
            return Err(DpError::InvalidParameter {
                what: "rational denominator",
                allowed: "> 0",
            });
        }
        let g = gcd64(num, den).max(1);
        Ok(Rational {
            num: num / g,
            den: den / g,
        })
    }

    /// The integer `n`.
    pub const fn integer(n: u64) -> Rational {
        Rational { num: n, den: 1 }
    }

    /// The exact value of `x`: every finite `f64` is a dyadic rational m·2^e.
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] for a negative, NaN or infinite `x`;
    /// [`DpError::Overflow`] when the numerator (x ≥ 2^64) or the denominator (x has
    /// bits below 2^−63) does not fit a `u64`: use [`Rational::approx_f64`].
    pub fn from_f64_exact(x: f64) -> Result<Rational, DpError> {
        if !x.is_finite() || x < 0.0 {
            return Err(DpError::InvalidParameter {
                what: "rational from f64",
                allowed: "finite and >= 0",
            });
        }
        if x == 0.0 {
            return Ok(Rational::ZERO);
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (mut mant, mut exp) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), biased - 1075)
        };
        let tz = mant.trailing_zeros();
        mant >>= tz;
        exp += tz as i32;
        let overflow = DpError::Overflow {
            what: "rational from f64",
        };
        if exp >= 0 {
            if exp >= 64 || mant.leading_zeros() < exp as u32 {
                return Err(overflow);
            }
            Ok(Rational {
                num: mant << exp,
                den: 1,
            })
        } else {
            if -exp > 63 {
                return Err(overflow);
            }
            Ok(Rational {
                num: mant,
                den: 1u64 << (-exp),
            })
        }
    }

    /// The closest rational to `x` with a denominator at most `max_den` (the last
    /// continued-fraction convergent or semiconvergent that fits): a compact exact
    /// parameter for a real one. The samplers are fastest with small denominators.
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] for a negative, NaN or infinite `x` or
    /// `max_den == 0`; [`DpError::Overflow`] when `x ≥ 2^64`.
    pub fn approx_f64(x: f64, max_den: u64) -> Result<Rational, DpError> {
        if !x.is_finite() || x < 0.0 || max_den == 0 {
            return Err(DpError::InvalidParameter {
                what: "rational approximation",
                allowed: "x finite and >= 0, max_den >= 1",
            });
        }
        if x >= 18_446_744_073_709_551_616.0 {
            return Err(DpError::Overflow {
                what: "rational approximation",
            });
        }
        // Convergents h/k of the continued fraction of x, in f64 for the partial
        // quotients (the result is an approximation by design; it is exact as stated).
        let (mut h0, mut h1): (u128, u128) = (0, 1);
        let (mut k0, mut k1): (u128, u128) = (1, 0);
        let mut y = x;
        let mut best = Rational::new(x.floor() as u64, 1)?;
        for _ in 0..64 {
            let a = y.floor();
            if a >= 18_446_744_073_709_551_616.0 {
                break;
            }
            let a = a as u128;
            let h2 = a.saturating_mul(h1).saturating_add(h0);
            let k2 = a.saturating_mul(k1).saturating_add(k0);
            if k2 > u128::from(max_den) || h2 > u128::from(u64::MAX) {
                // The best semiconvergent with the largest allowed denominator.
                if let Some(n) = (u128::from(max_den) - k0).checked_div(k1) {
                    let (hs, ks) = (n * h1 + h0, n * k1 + k0);
                    if n > 0 && hs <= u128::from(u64::MAX) {
                        let semi = Rational::new(hs as u64, ks as u64)?;
                        let err = |r: Rational| (r.to_f64() - x).abs();
                        if err(semi) < err(best) {
                            best = semi;
                        }
                    }
                }
                break;
            }
            (h0, h1, k0, k1) = (h1, h2, k1, k2);
            best = Rational::new(h1 as u64, k1 as u64)?;
            let rest = y - y.floor();
            if rest <= 0.0 || best.to_f64() == x {
                break;
            }
            y = 1.0 / rest;
        }
        Ok(best)
    }

    /// The numerator (lowest terms).
    pub fn num(self) -> u64 {
        self.num
    }

    /// The denominator (lowest terms, ≥ 1).
    pub fn den(self) -> u64 {
        self.den
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// The nearest `f64` (for reporting; the samplers never use it).
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

// ---------------------------------------------------------------------------------
// Uniform integers and wide naturals
// ---------------------------------------------------------------------------------

/// A uniform integer in `0..n` by rejection of masked words (no modulo bias).
///
/// # Panics
/// Never; `n == 0` returns 0.
pub fn uniform_below<R: CryptoRng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let mask = u64::MAX >> (n - 1).leading_zeros();
    loop {
        let x = rng.next_u64() & mask;
        if x < n {
            return x;
        }
    }
}

fn uniform_below_u128<R: CryptoRng + ?Sized>(rng: &mut R, n: u128) -> u128 {
    if n <= u128::from(u64::MAX) {
        return u128::from(uniform_below(rng, n as u64));
    }
    let mask = u128::MAX >> (n - 1).leading_zeros();
    loop {
        let x = ((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())) & mask;
        if x < n {
            return x;
        }
    }
}

/// Bernoulli(num/den) for `num <= den`, `den >= 1`.
fn bernoulli_u128<R: CryptoRng + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    uniform_below_u128(rng, den) < num
}

const LIMBS: usize = 6;

/// A 384-bit natural number (little-endian limbs): the slow path of the discrete
/// Gaussian's acceptance test when its numbers leave `u128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Wide([u64; LIMBS]);

impl Wide {
    fn from_u128(x: u128) -> Wide {
        let mut w = [0u64; LIMBS];
        w[0] = x as u64;
        w[1] = (x >> 64) as u64;
        Wide(w)
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    fn mul(&self, other: &Wide) -> Option<Wide> {
        let mut out = [0u64; 2 * LIMBS];
        for (i, &a) in self.0.iter().enumerate() {
            if a == 0 {
                continue;
            }
            let mut carry: u128 = 0;
            for (j, &b) in other.0.iter().enumerate() {
                let cur = u128::from(out[i + j]) + u128::from(a) * u128::from(b) + carry;
                out[i + j] = cur as u64;
                carry = cur >> 64;
            }
            let mut k = i + LIMBS;
            while carry != 0 {
                let cur = u128::from(out[k]) + carry;
                out[k] = cur as u64;
                carry = cur >> 64;
                k += 1;
            }
        }
        if out[LIMBS..].iter().any(|&l| l != 0) {
            return None;
        }
        let mut w = [0u64; LIMBS];
        w.copy_from_slice(&out[..LIMBS]);
        Some(Wide(w))
    }

    fn mul_u64(&self, k: u64) -> Option<Wide> {
        self.mul(&Wide::from_u128(u128::from(k)))
    }

    /// `self - other`, for `self >= other`.
    fn sub(&self, other: &Wide) -> Wide {
        let mut w = [0u64; LIMBS];
        let mut borrow = false;
        for (i, out) in w.iter_mut().enumerate() {
            let (d, b1) = self.0[i].overflowing_sub(other.0[i]);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            *out = d;
            borrow = b1 || b2;
        }
        Wide(w)
    }

    fn uniform_below<R: CryptoRng + ?Sized>(rng: &mut R, n: &Wide) -> Wide {
        // n >= 1; the top limb of n - 1 sets the mask.
        let m = n.sub(&Wide::from_u128(1));
        let top = m.0.iter().rposition(|&l| l != 0).unwrap_or(0);
        let mask = u64::MAX >> m.0[top].leading_zeros();
        loop {
            let mut w = [0u64; LIMBS];
            for l in w.iter_mut().take(top + 1) {
                *l = rng.next_u64();
            }
            w[top] &= mask;
            let x = Wide(w);
            if x < *n {
                return x;
            }
        }
    }
}

impl PartialOrd for Wide {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Wide {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

// ---------------------------------------------------------------------------------
// Bernoulli(exp(-gamma))
// ---------------------------------------------------------------------------------

/// Bernoulli(exp(−1)) (CKS Algorithm 1 with γ = 1: trials Bernoulli(1/k)).
fn bernoulli_exp_minus_one<R: CryptoRng + ?Sized>(rng: &mut R) -> bool {
    let mut k: u64 = 1;
    while uniform_below(rng, k) == 0 {
        k += 1;
    }
    k % 2 == 1
}

/// Bernoulli(exp(−num/den)) for `num <= den` (CKS Algorithm 1): K = 1; while
/// Bernoulli(γ/K) succeeds, K += 1; return whether K is odd. Continues in 384 bits
/// when `den·K` leaves `u128`.
fn bernoulli_exp_frac<R: CryptoRng + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    let mut k: u64 = 1;
    loop {
        match den.checked_mul(u128::from(k)) {
            Some(bound) => {
                if uniform_below_u128(rng, bound) >= num {
                    return k % 2 == 1;
                }
                k += 1;
            }
            None => {
                return bernoulli_exp_frac_wide(
                    rng,
                    &Wide::from_u128(num),
                    &Wide::from_u128(den),
                    k,
                )
            }
        }
    }
}

/// [`bernoulli_exp_frac`] in 384 bits, from trial `k` on (`den < 2^320`, so `den·k`
/// fits for every `k: u64`).
fn bernoulli_exp_frac_wide<R: CryptoRng + ?Sized>(
    rng: &mut R,
    num: &Wide,
    den: &Wide,
    mut k: u64,
) -> bool {
    loop {
        let Some(bound) = den.mul_u64(k) else {
            // Unreachable for den < 2^320; stop at the current parity (probability
            // below 1/(2^64)! of getting here).
            return k % 2 == 1;
        };
        if Wide::uniform_below(rng, &bound) >= *num {
            return k % 2 == 1;
        }
        k = k.saturating_add(1);
    }
}

/// Bernoulli(exp(−num/den)) for any `num`, `den >= 1`: one Bernoulli(exp(−1)) per unit of
/// the integer part (stopping at the first failure), then the fraction.
fn bernoulli_exp_u128<R: CryptoRng + ?Sized>(rng: &mut R, mut num: u128, den: u128) -> bool {
    while num >= den {
        if !bernoulli_exp_minus_one(rng) {
            return false;
        }
        num -= den;
    }
    bernoulli_exp_frac(rng, num, den)
}

fn bernoulli_exp_wide<R: CryptoRng + ?Sized>(rng: &mut R, num: &Wide, den: &Wide) -> bool {
    let mut num = *num;
    while num >= *den {
        if !bernoulli_exp_minus_one(rng) {
            return false;
        }
        num = num.sub(den);
    }
    if num.is_zero() {
        return true;
    }
    bernoulli_exp_frac_wide(rng, &num, den, 1)
}

/// A draw from Bernoulli(exp(−γ)) for a rational γ ≥ 0, exactly (CKS Algorithm 1).
/// Expected work: O(1 + min(γ, 1)) uniform draws (the integer part stops at the first
/// failure, which has probability 1 − 1/e per unit).
pub fn bernoulli_exp<R: CryptoRng + ?Sized>(gamma: Rational, rng: &mut R) -> bool {
    bernoulli_exp_u128(rng, u128::from(gamma.num), u128::from(gamma.den))
}

// ---------------------------------------------------------------------------------
// Discrete Laplace and discrete Gaussian
// ---------------------------------------------------------------------------------

/// The discrete Laplace distribution P(x) ∝ exp(−|x|/t) on ℤ, for an integer scale
/// t ≥ 1 (CKS Algorithm 2 with s = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscreteLaplace {
    t: u64,
}

impl DiscreteLaplace {
    /// The discrete Laplace of scale `t`.
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] when `t == 0`.
    pub fn new(t: u64) -> Result<DiscreteLaplace, DpError> {
        if t == 0 {
            return Err(DpError::InvalidParameter {
                what: "discrete Laplace scale",
                allowed: ">= 1",
            });
        }
        Ok(DiscreteLaplace { t })
    }

    /// The scale t.
    pub fn scale(&self) -> u64 {
        self.t
    }

    /// One draw. U uniform in 0..t kept with probability exp(−U/t), V geometric
    /// (the number of Bernoulli(exp(−1)) successes), X = U + t·V, a fair sign, and
    /// "−0" rejected.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> i64 {
        let t = self.t;
        loop {
            let u = uniform_below(rng, t);
            if !bernoulli_exp_frac(rng, u128::from(u), u128::from(t)) {
                continue;
            }
            let mut v: u64 = 0;
            while bernoulli_exp_minus_one(rng) {
                v += 1;
            }
            let Some(x) = v
                .checked_mul(t)
                .and_then(|tv| tv.checked_add(u))
                .filter(|&x| x <= i64::MAX as u64)
            else {
                continue; // |x| >= 2^63: conditioned away (see the module's "Range")
            };
            let negative = rng.next_u32() & 1 == 1;
            if negative && x == 0 {
                continue;
            }
            let x = x as i64;
            return if negative { -x } else { x };
        }
    }

    /// Fills `out` with independent draws.
    pub fn fill<R: CryptoRng + ?Sized>(&self, rng: &mut R, out: &mut [i64]) {
        for o in out {
            *o = self.sample(rng);
        }
    }
}

/// floor(sqrt(x)) exactly.
fn isqrt64(x: u64) -> u64 {
    let mut r = (x as f64).sqrt() as u64;
    while r.checked_mul(r).is_none_or(|rr| rr > x) {
        r -= 1;
    }
    while (r + 1).checked_mul(r + 1).is_some_and(|rr| rr <= x) {
        r += 1;
    }
    r
}

/// The discrete Gaussian N_ℤ(0, σ²): P(x) ∝ exp(−x²/(2σ²)) on ℤ, for a rational σ²
/// (CKS Algorithm 3). Note that its variance is slightly below σ² for σ < 1 (and equal
/// to it within 10^−30 relative for σ ≥ 3; CKS Corollary 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscreteGaussian {
    sigma_sq: Rational,
    laplace: Option<DiscreteLaplace>,
    /// d·t, for the centre of the acceptance test.
    dt: u128,
    /// 2·n·d·t², the denominator of the acceptance exponent, when it fits.
    den_fast: Option<u128>,
}

impl DiscreteGaussian {
    /// The discrete Gaussian with parameter σ² = `sigma_sq` (0 gives the constant 0).
    ///
    /// # Errors
    /// [`DpError::Overflow`] when σ ≥ 2^32 (σ² ≥ 2^64 cannot be given anyway).
    pub fn new(sigma_sq: Rational) -> Result<DiscreteGaussian, DpError> {
        if sigma_sq.is_zero() {
            return Ok(DiscreteGaussian {
                sigma_sq,
                laplace: None,
                dt: 0,
                den_fast: None,
            });
        }
        let (n, d) = (sigma_sq.num, sigma_sq.den);
        // t = floor(sigma) + 1: floor(sqrt(n/d)) = floor(sqrt(floor(n/d))).
        let t = isqrt64(n / d) + 1;
        let dt = u128::from(d) * u128::from(t);
        let den_fast = (2 * u128::from(n))
            .checked_mul(u128::from(d))
            .and_then(|x| x.checked_mul(u128::from(t)))
            .and_then(|x| x.checked_mul(u128::from(t)));
        Ok(DiscreteGaussian {
            sigma_sq,
            laplace: Some(DiscreteLaplace::new(t)?),
            dt,
            den_fast,
        })
    }

    /// σ².
    pub fn sigma_sq(&self) -> Rational {
        self.sigma_sq
    }

    /// The discrete Laplace scale t = ⌊σ⌋ + 1 of the proposal (0 when σ = 0).
    pub fn proposal_scale(&self) -> u64 {
        self.laplace.map_or(0, |l| l.scale())
    }

    /// Accepts a proposal y with probability exp(−(|y| − σ²/t)²/(2σ²)) =
    /// exp(−(|y|·d·t − n)² / (2·n·d·t²)) for σ² = n/d.
    fn accept<R: CryptoRng + ?Sized>(&self, rng: &mut R, y: i64) -> bool {
        let n = u128::from(self.sigma_sq.num);
        let y = u128::from(y.unsigned_abs());
        if let Some(den) = self.den_fast {
            if let Some(ydt) = y.checked_mul(self.dt) {
                let a = ydt.abs_diff(n);
                if let Some(num) = a.checked_mul(a) {
                    return bernoulli_exp_u128(rng, num, den);
                }
            }
        }
        // 384 bits: a < 2^160, a² < 2^320, den < 2^195.
        let d = u128::from(self.sigma_sq.den);
        let t = self.dt / d;
        let ydt = Wide::from_u128(y)
            .mul(&Wide::from_u128(self.dt))
            .unwrap_or(Wide([u64::MAX; LIMBS]));
        let nw = Wide::from_u128(n);
        let a = if ydt >= nw {
            ydt.sub(&nw)
        } else {
            nw.sub(&ydt)
        };
        let num = a.mul(&a);
        let den = Wide::from_u128(2 * n)
            .mul(&Wide::from_u128(d))
            .and_then(|x| x.mul(&Wide::from_u128(t)))
            .and_then(|x| x.mul(&Wide::from_u128(t)));
        match (num, den) {
            (Some(num), Some(den)) => bernoulli_exp_wide(rng, &num, &den),
            // Unreachable for i64 proposals and u64 n, d; reject (probability 0).
            _ => false,
        }
    }

    /// One draw.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> i64 {
        let Some(laplace) = self.laplace else {
            return 0;
        };
        loop {
            let y = laplace.sample(rng);
            if self.accept(rng, y) {
                return y;
            }
        }
    }

    /// Fills `out` with independent draws.
    pub fn fill<R: CryptoRng + ?Sized>(&self, rng: &mut R, out: &mut [i64]) {
        for o in out {
            *o = self.sample(rng);
        }
    }
}

// ---------------------------------------------------------------------------------
// Poisson and Skellam
// ---------------------------------------------------------------------------------

/// One region of the Poisson envelope: a side and centre or tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Region {
    /// Acceptance constant E_region / E_max, lowest terms.
    c_num: u128,
    c_den: u128,
}

/// The Poisson distribution P(k) = e^{−μ} μ^k / k! for a rational μ ≥ 0, sampled
/// exactly (see the module documentation for the envelope).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Poisson {
    mu: Rational,
    m: u64,
    w: u64,
    left: bool,
    left_tail: bool,
    /// Right centre, right tail, left centre, left tail.
    regions: [Region; 4],
}

/// A product of rational factors, each ≤ 1, decided by as few Bernoulli trials as fit.
struct Product {
    num: u128,
    den: u128,
}

impl Product {
    fn new() -> Product {
        Product { num: 1, den: 1 }
    }

    /// Multiplies in `num/den` (`num <= den`, so the numerator never outgrows the
    /// denominator); returns false as soon as a trial fails. Whether the product fits
    /// is decided by bit lengths (cheaper than checked 128-bit multiplications).
    fn times<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, num: u64, den: u64) -> bool {
        debug_assert!(num <= den);
        let bits = (128 - self.den.leading_zeros()) + (64 - den.leading_zeros());
        if bits <= 128 {
            self.num *= u128::from(num);
            self.den *= u128::from(den);
            true
        } else {
            let ok = bernoulli_u128(rng, self.num, self.den);
            self.num = u128::from(num);
            self.den = u128::from(den);
            ok
        }
    }

    fn finish<R: CryptoRng + ?Sized>(self, rng: &mut R) -> bool {
        self.num == self.den || bernoulli_u128(rng, self.num, self.den)
    }
}

impl Poisson {
    /// The Poisson distribution of mean `mu`.
    ///
    /// # Errors
    /// [`DpError::Overflow`] when den(μ)·(⌊μ⌋ + √μ + 2) or num(μ) times a small
    /// constant leaves 62 bits (use [`Rational::approx_f64`] with a smaller
    /// denominator).
    pub fn new(mu: Rational) -> Result<Poisson, DpError> {
        let overflow = DpError::Overflow {
            what: "Poisson mean",
        };
        let (a, b) = (mu.num, mu.den);
        let m = a / b;
        let w = isqrt64(m);
        let limit = 1u64 << 62;
        // Bound every factor's numerator and denominator: b·(m + w + 2) and 4·a.
        let span = m
            .checked_add(w)
            .and_then(|x| x.checked_add(2))
            .ok_or(overflow.clone())?;
        if b.checked_mul(span).is_none_or(|x| x >= limit) || a >= limit / 4 {
            return Err(overflow);
        }
        let left = m >= 1;
        let left_tail = m > w;
        // Inverse densities E of the regions as rationals (num, den):
        // factor f = (1/P(side)) * (1/P(region | side)).
        let side = if left { 2u64 } else { 1 };
        let f_right = side * 2; // the right tail always exists
        let f_left = side * if left_tail { 2 } else { 1 };
        // Right tail: rho = a / (b (m + w + 1)); 1/(1 - rho) = q / (q - a), q = b(m+w+1).
        let q_r = b * (m + w + 1);
        let e: [(u128, u128); 4] = [
            (u128::from(f_right) * u128::from(w + 1), 1),
            (u128::from(f_right) * u128::from(q_r), u128::from(q_r - a)),
            if left {
                (u128::from(f_left) * u128::from(w.min(m)), 1)
            } else {
                (0, 1)
            },
            if left_tail {
                // rho' = b (m - w) / a; 1/(1 - rho') = a / (a - b (m - w)).
                (
                    u128::from(f_left) * u128::from(a),
                    u128::from(a - b * (m - w)),
                )
            } else {
                (0, 1)
            },
        ];
        // E_max by cross-multiplication (all fit: < 2^66 · 2^62).
        let mut max = e[0];
        for &x in &e[1..] {
            if x.0 * max.1 > max.0 * x.1 {
                max = x;
            }
        }
        let mut regions = [Region { c_num: 0, c_den: 1 }; 4];
        for (r, &(en, ed)) in regions.iter_mut().zip(e.iter()) {
            // c = (en/ed) / (max.0/max.1) = en·max.1 / (ed·max.0)
            let num = en.checked_mul(max.1).ok_or(overflow.clone())?;
            let den = ed.checked_mul(max.0).ok_or(overflow.clone())?;
            let g = gcd128(num, den).max(1);
            *r = Region {
                c_num: num / g,
                c_den: den / g,
            };
        }
        Ok(Poisson {
            mu,
            m,
            w,
            left,
            left_tail,
            regions,
        })
    }

    /// μ.
    pub fn mean(&self) -> Rational {
        self.mu
    }

    /// Geometric count of successes of Bernoulli(num/den) before the first failure,
    /// `num < den`. By blocks of k trials (the largest k whose powers fit 128 bits):
    /// G = k·Q + R with Q geometric of ratio (num/den)^k (one trial per block) and R,
    /// independent of Q, the geometric truncated to 0..k (sequential trials, restarted
    /// when they reach k): the memorylessness of the geometric distribution.
    fn geometric<R: CryptoRng + ?Sized>(rng: &mut R, num: u64, den: u64) -> u64 {
        let bits = 64 - den.leading_zeros();
        let k = (128 / bits.max(1)).clamp(1, 64);
        let (num, den) = (u128::from(num), u128::from(den));
        let mut g = 0u64;
        if k > 1 {
            let (pk_num, pk_den) = (num.pow(k), den.pow(k));
            while bernoulli_u128(rng, pk_num, pk_den) {
                g = g.saturating_add(u64::from(k));
            }
        }
        loop {
            let mut r = 0u32;
            while r < k && bernoulli_u128(rng, num, den) {
                r += 1;
            }
            if r < k {
                return g.saturating_add(u64::from(r));
            }
        }
    }

    /// One proposal and its acceptance: Some(value) when accepted.
    fn attempt<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Option<u64> {
        let (a, b, m, w) = (self.mu.num, self.mu.den, self.m, self.w);
        let right = !self.left || rng.next_u32() & 1 == 0;
        let has_tail = if right { true } else { self.left_tail };
        let tail = has_tail && rng.next_u32() & 1 == 1;
        let region = self.regions[usize::from(!right) * 2 + usize::from(tail)];
        if !bernoulli_u128(rng, region.c_num, region.c_den) {
            return None;
        }
        let mut p = Product::new();
        if right {
            // Factors rho_i = a / (b (m + i)).
            let (j, g) = if tail {
                let g = Self::geometric(rng, a, b * (m + w + 1));
                (w.checked_add(1)?.checked_add(g)?, g)
            } else {
                (uniform_below(rng, w + 1), 0)
            };
            let plain = j - g; // factors without the tail's division by rho-hat
            for i in 1..=plain {
                if !p.times(rng, a, b * (m + i)) {
                    return None;
                }
            }
            // rho_i / rho-hat = (m + w + 1) / (m + i), i = w+2 ..= w+1+g.
            for i in (w + 2)..=j {
                if !p.times(rng, m + w + 1, m.checked_add(i)?) {
                    return None;
                }
            }
            if !p.finish(rng) {
                return None;
            }
            m.checked_add(j).filter(|&x| x <= i64::MAX as u64)
        } else {
            // k = |j| >= 1; factors rho'_i = b (m - i + 1) / a, zero beyond m.
            let (k, g) = if tail {
                let g = Self::geometric(rng, b * (m - w), a);
                (w.checked_add(1)?.checked_add(g)?, g)
            } else {
                (1 + uniform_below(rng, w.min(m)), 0)
            };
            if k > m {
                return None;
            }
            let plain = k - g;
            for i in 1..=plain {
                if !p.times(rng, b * (m - i + 1), a) {
                    return None;
                }
            }
            // rho'_i / rho'-hat = (m - i + 1) / (m - w), i = w+2 ..= w+1+g.
            for i in (w + 2)..=k {
                if !p.times(rng, m - i + 1, m - w) {
                    return None;
                }
            }
            if !p.finish(rng) {
                return None;
            }
            Some(m - k)
        }
    }

    /// One draw.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> u64 {
        if self.mu.is_zero() {
            return 0;
        }
        loop {
            if let Some(x) = self.attempt(rng) {
                return x;
            }
        }
    }

    /// Fills `out` with independent draws.
    pub fn fill<R: CryptoRng + ?Sized>(&self, rng: &mut R, out: &mut [u64]) {
        for o in out {
            *o = self.sample(rng);
        }
    }
}

/// The Skellam distribution Sk(μ) = Poisson(μ) − Poisson(μ): mean 0, variance 2μ;
/// the sum of independent Sk(μ₁), Sk(μ₂) is Sk(μ₁ + μ₂).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skellam {
    poisson: Poisson,
}

impl Skellam {
    /// The Skellam distribution with parameter `mu` (each Poisson's mean; the variance
    /// is 2μ).
    ///
    /// # Errors
    /// As [`Poisson::new`].
    pub fn new(mu: Rational) -> Result<Skellam, DpError> {
        Ok(Skellam {
            poisson: Poisson::new(mu)?,
        })
    }

    /// μ.
    pub fn mu(&self) -> Rational {
        self.poisson.mean()
    }

    /// One draw.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> i64 {
        // Both Poisson draws are below 2^63 (see `Poisson::attempt`).
        let x = self.poisson.sample(rng) as i64;
        let y = self.poisson.sample(rng) as i64;
        x - y
    }

    /// Fills `out` with independent draws.
    pub fn fill<R: CryptoRng + ?Sized>(&self, rng: &mut R, out: &mut [i64]) {
        for o in out {
            *o = self.sample(rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_arithmetic_matches_u128() {
        let a = Wide::from_u128(0xdead_beef_1234_5678_9abc_def0_1111_2222);
        let b = Wide::from_u128(0x1_0000_0000_0001);
        let p = a.mul(&b).unwrap_or(Wide([0; LIMBS]));
        assert!(p > a);
        let back = p.sub(&a.mul_u64(0x1_0000_0000_0000).unwrap_or(Wide([0; LIMBS])));
        assert_eq!(back, a);
        assert!(Wide([u64::MAX; LIMBS]).mul_u64(2).is_none());
    }

    #[test]
    fn rationals() {
        assert_eq!(Rational::from_f64_exact(0.75), Rational::new(3, 4));
        assert_eq!(
            Rational::from_f64_exact(1e6),
            Ok(Rational::integer(1_000_000))
        );
        assert!(Rational::from_f64_exact(1e30).is_err());
        assert!(Rational::from_f64_exact(-1.0).is_err());
        assert_eq!(
            Rational::approx_f64(0.333_333_333, 100),
            Rational::new(1, 3)
        );
        assert_eq!(
            Rational::approx_f64(core::f64::consts::PI, 1000),
            Rational::new(355, 113)
        );
        assert_eq!(isqrt64(u64::MAX), 4_294_967_295);
        assert_eq!(isqrt64(99), 9);
    }
}
