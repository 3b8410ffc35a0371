//! The privacy accountant: the Rényi-DP (RDP) bound of one round of each mechanism,
//! composition over rounds, amplification by Poisson sampling of clients, conversion to
//! (ε, δ), and the inverse (the noise a target ε needs).
//!
//! Everything is in **grid units**: the sensitivities are those of one client's
//! rounded integer vector (after clipping, scaling by 1/γ, rotation and conditional
//! rounding, [`rounded_l2_bound`]), the variance that of one client's integer noise.
//!
//! # The bounds
//! For n noisy clients, d coordinates, per-client noise parameter σ² (discrete Gaussian
//! N_ℤ(0, σ²)) or μ = σ²/2 (Skellam, variance σ²), L2 sensitivity Δ₂ and L1
//! sensitivity Δ₁ of the integer vector, one round is (α, ε(α))-RDP with
//!
//! - **Distributed discrete Gaussian** (Kairouz, Liu, Steinke, ICML 2021, Theorem 1 and
//!   its RDP form, Proposition 14 / Eq. 17 of the arXiv version): with
//!   τ = 10 Σ_{k=1}^{n−1} exp(−2π² σ² k/(k+1)) (the sum of n discrete Gaussians is
//!   within τ of a discrete Gaussian of variance nσ²),
//!   ε(α) = min{ α Δ₂²/(2nσ²) + τd,
//!   α/2 · (Δ₂²/(nσ²) + 2 Δ₁ τ/(√n σ) + τ² d),
//!   α/2 · (Δ₂/(√n σ) + τ √d)² }.
//! - **Distributed Skellam** (Agarwal, Kairouz, Liu, NeurIPS 2021, Theorem 3.5; the sum
//!   of n Sk(μ) is exactly Sk(nμ)): with M = nμ,
//!   ε(α) = α Δ₂²/(4M) + min{ ((2α − 1) Δ₂² + 6 Δ₁)/(16 M²), 3 Δ₁/(4M) }.
//!
//! **Sampling.** Each round includes each client independently with probability q
//! (Poisson sampling). For q < 1 the per-round RDP is the minimum of ε(α) and the
//! general Poisson-subsampled bound of Zhu and Wang (ICML 2019, "Poisson Subsampled
//! Rényi Differential Privacy", Theorem 1, the general upper bound) at integer α,
//! which holds for any base mechanism (the papers' own accounting does the same):
//! ε_q(α) ≤ 1/(α−1) · log{ (1−q)^{α−1}(αq − q + 1) + C(α,2) q² (1−q)^{α−2} e^{ε(2)} +
//! 3 Σ_{l=3}^{α} C(α,l) q^l (1−q)^{α−l} e^{(l−1) ε(l)} }.
//! Assumption: the sampling is secret from the adversary and the noise is calibrated
//! for the clients whose noise counts in a round (below).
//!
//! **Composition** adds RDP over rounds at each order. **Conversion**: (α, ρ)-RDP implies
//! (ε, δ)-DP with ε = ρ + log((α−1)/α) − (log δ + log α)/(α − 1) (Canonne, Kamath,
//! Steinke 2020, Proposition 12; Balle et al. 2020, Theorem 21), minimised over the
//! orders [`ORDERS`]; [`rdp_to_dp_classic`] is Mironov's ε = ρ + log(1/δ)/(α−1), kept
//! for comparison with older accountants.
//!
//! **Corrupt and dropped clients.** Clients that collude with the server know their own
//! noise and it can be subtracted; clients that drop add none. The bound counts only
//! the noise of the fewest honest survivors the session plans for:
//! n = survivors − colluding ([`noisy_clients`]).

use crate::dp::Mechanism;
use crate::error::{DpError, Number};

/// The RDP orders the accountant minimises over: 2..=256 and a few larger ones.
pub const ORDERS: [u32; 263] = {
    let mut o = [0u32; 263];
    let mut i = 0;
    while i < 255 {
        o[i] = i as u32 + 2;
        i += 1;
    }
    let extra = [320, 384, 512, 640, 768, 1024, 1536, 2048];
    let mut j = 0;
    while j < 8 {
        o[255 + j] = extra[j];
        j += 1;
    }
    o
};

/// An (ε, δ) guarantee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Privacy {
    /// ε.
    pub epsilon: f64,
    /// δ.
    pub delta: f64,
}

impl Privacy {
    /// A checked (ε, δ).
    ///
    /// # Errors
    /// [`DpError::InvalidEpsilon`] unless ε is finite and > 0; [`DpError::InvalidDelta`]
    /// unless 0 < δ < 1.
    pub fn new(epsilon: f64, delta: f64) -> Result<Privacy, DpError> {
        check_epsilon(epsilon)?;
        check_delta(delta)?;
        Ok(Privacy { epsilon, delta })
    }
}

fn check_epsilon(epsilon: f64) -> Result<(), DpError> {
    if epsilon.is_finite() && epsilon > 0.0 {
        Ok(())
    } else {
        Err(DpError::InvalidEpsilon {
            epsilon: Number(epsilon),
        })
    }
}

fn check_delta(delta: f64) -> Result<(), DpError> {
    if delta > 0.0 && delta < 1.0 {
        Ok(())
    } else {
        Err(DpError::InvalidDelta {
            delta: Number(delta),
        })
    }
}

fn invalid(what: &'static str, allowed: &'static str) -> DpError {
    DpError::InvalidParameter { what, allowed }
}

fn check_rate(q: f64) -> Result<(), DpError> {
    if q > 0.0 && q <= 1.0 {
        Ok(())
    } else {
        Err(invalid("sampling rate", "in (0, 1]"))
    }
}

/// The L2 norm bound of a vector after conditional randomized rounding to the integer
/// grid (Kairouz, Liu, Steinke 2021, Theorem 1 / Proposition 22): a vector of L2 norm
/// at most `norm` (grid units) in `dim` coordinates, rounded with the re-rounding
/// parameter β ∈ [0, 1), has norm at most
/// min{ norm + √dim, √(norm² + dim/4 + √(2 ln(1/β)) · (norm + √dim/2)) }
/// (the second term only for β > 0).
///
/// # Errors
/// [`DpError::InvalidParameter`] for a negative or non-finite norm, `dim == 0` or β
/// outside [0, 1).
pub fn rounded_l2_bound(norm: f64, dim: usize, beta: f64) -> Result<f64, DpError> {
    if !(norm.is_finite() && norm >= 0.0) {
        return Err(invalid("scaled clip norm", "finite and >= 0"));
    }
    if dim == 0 {
        return Err(invalid("dimension", ">= 1"));
    }
    if !(0.0..1.0).contains(&beta) {
        return Err(invalid("beta", "in [0, 1)"));
    }
    let d = dim as f64;
    let plain = norm + d.sqrt();
    if beta == 0.0 {
        return Ok(plain);
    }
    let sq = norm * norm + d / 4.0 + (2.0 * (1.0 / beta).ln()).sqrt() * (norm + d.sqrt() / 2.0);
    Ok(plain.min(sq.sqrt()))
}

/// The L1 bound of an integer vector of L2 norm at most `l2` in `dim` coordinates:
/// ‖z‖₁ ≤ √dim ‖z‖₂ always, and ‖z‖₁ ≤ ‖z‖₂² for integer z.
pub fn l1_from_l2(l2: f64, dim: usize) -> f64 {
    l2 * (dim as f64).sqrt().min(l2)
}

/// The clients whose noise counts: the fewest planned survivors less the colluding
/// clients (who know their own noise).
///
/// # Errors
/// [`DpError::InvalidParameter`] when no client's noise would count.
pub fn noisy_clients(min_survivors: usize, colluding: usize) -> Result<usize, DpError> {
    match min_survivors.checked_sub(colluding) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(invalid(
            "honest survivors",
            "at least one (fewer colluding clients than survivors)",
        )),
    }
}

/// One round of a distributed mechanism, in grid units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundMechanism {
    /// The noise distribution.
    pub mechanism: Mechanism,
    /// Clients whose noise counts (honest survivors, [`noisy_clients`]).
    pub clients: usize,
    /// One client's noise variance per coordinate: σ² of N_ℤ(0, σ²), or 2μ of Sk(μ).
    pub local_variance: f64,
    /// L2 sensitivity: the largest L2 norm of one client's integer vector.
    pub l2: f64,
    /// L1 sensitivity ([`l1_from_l2`] when unknown).
    pub l1: f64,
    /// Coordinates noised (after padding).
    pub dim: usize,
}

impl RoundMechanism {
    /// A round with Δ₁ derived from Δ₂ ([`l1_from_l2`]).
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] for zero clients or dimension, or a variance or
    /// sensitivity that is not finite and > 0.
    pub fn new(
        mechanism: Mechanism,
        clients: usize,
        local_variance: f64,
        l2: f64,
        dim: usize,
    ) -> Result<RoundMechanism, DpError> {
        let r = RoundMechanism {
            mechanism,
            clients,
            local_variance,
            l2,
            l1: l1_from_l2(l2, dim),
            dim,
        };
        r.check()?;
        Ok(r)
    }

    fn check(&self) -> Result<(), DpError> {
        if self.clients == 0 {
            return Err(invalid("noisy clients", ">= 1"));
        }
        if self.dim == 0 {
            return Err(invalid("dimension", ">= 1"));
        }
        if !(self.local_variance.is_finite() && self.local_variance > 0.0) {
            return Err(invalid("noise variance", "finite and > 0"));
        }
        if !(self.l2.is_finite() && self.l2 > 0.0 && self.l1.is_finite() && self.l1 > 0.0) {
            return Err(invalid("sensitivity", "finite and > 0"));
        }
        Ok(())
    }

    /// The same round with another per-client variance.
    pub fn with_variance(self, local_variance: f64) -> RoundMechanism {
        RoundMechanism {
            local_variance,
            ..self
        }
    }

    /// The variance of the summed noise, n · local variance.
    pub fn central_variance(&self) -> f64 {
        self.clients as f64 * self.local_variance
    }

    /// The discrete Gaussian's gap term τ = 10 Σ_{k=1}^{n−1} exp(−2π²σ² k/(k+1))
    /// (0 for Skellam, whose sums are exact).
    pub fn tau(&self) -> f64 {
        if self.mechanism == Mechanism::Skellam {
            return 0.0;
        }
        let c = 2.0 * core::f64::consts::PI * core::f64::consts::PI * self.local_variance;
        // The terms decrease in k (from exp(-c/2) towards exp(-c)): stop at the first
        // that underflows; the rest are below it.
        let mut sum = 0.0;
        for k in 1..self.clients {
            let k = k as f64;
            let term = (-c * k / (k + 1.0)).exp();
            if term == 0.0 {
                break;
            }
            sum += term;
        }
        10.0 * sum
    }

    /// The RDP of one round at order α > 1 without sampling (the module's bounds).
    pub fn rdp(&self, alpha: u32) -> f64 {
        self.rdp_with_tau(alpha, self.tau())
    }

    /// The RDP without sampling at orders 0..=max (entries 0 and 1 are unused: ∞),
    /// computing τ once.
    pub fn rdp_table(&self, max: u32) -> Vec<f64> {
        let tau = self.tau();
        (0..=max)
            .map(|a| {
                if a < 2 {
                    f64::INFINITY
                } else {
                    self.rdp_with_tau(a, tau)
                }
            })
            .collect()
    }

    fn rdp_with_tau(&self, alpha: u32, tau: f64) -> f64 {
        let a = f64::from(alpha);
        let n = self.clients as f64;
        let d = self.dim as f64;
        match self.mechanism {
            Mechanism::DiscreteGaussian => {
                let var = self.central_variance();
                let l2s = self.l2 * self.l2 / var;
                let l1s = self.l1 / (n.sqrt() * self.local_variance.sqrt());
                let t1 = a / 2.0 * l2s + tau * d;
                let t2 = a / 2.0 * (l2s + 2.0 * l1s * tau + tau * tau * d);
                let t3 = a / 2.0 * (l2s.sqrt() + d.sqrt() * tau).powi(2);
                t1.min(t2).min(t3)
            }
            Mechanism::Skellam => {
                let m = self.central_variance() / 2.0; // the summed Skellam parameter
                let l2sq = self.l2 * self.l2;
                a * l2sq / (4.0 * m)
                    + (((2.0 * a - 1.0) * l2sq + 6.0 * self.l1) / (16.0 * m * m))
                        .min(3.0 * self.l1 / (4.0 * m))
            }
        }
    }
}

/// ln C(n, k) by a sum of logarithms (exact enough for the orders used).
fn ln_binomial(n: u32, k: u32) -> f64 {
    let k = k.min(n - k);
    (0..k)
        .map(|i| f64::from(n - i).ln() - f64::from(i + 1).ln())
        .sum()
}

fn log_sum_exp(terms: &[f64]) -> f64 {
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max.is_infinite() {
        return max;
    }
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

/// The Poisson-subsampled RDP at integer order α ≥ 2 of a mechanism whose RDP is
/// `rdp` (Zhu and Wang 2019, Theorem 1, the general upper bound: valid for any
/// mechanism), at rate q ∈ (0, 1]; the minimum with the unsampled `rdp(α)`.
pub fn subsampled_rdp(rdp: impl Fn(u32) -> f64, q: f64, alpha: u32) -> f64 {
    let plain = rdp(alpha);
    if q >= 1.0 {
        return plain;
    }
    let a = f64::from(alpha);
    let (lq, l1q) = (q.ln(), (-q).ln_1p());
    let mut terms = Vec::with_capacity(alpha as usize);
    terms.push((a - 1.0) * l1q + (a * q - q + 1.0).ln());
    // ln C(α, l), updated term by term.
    let mut ln_c = ln_binomial(alpha, 2);
    terms.push(ln_c + 2.0 * lq + (a - 2.0) * l1q + rdp(2));
    for l in 3..=alpha {
        let lf = f64::from(l);
        ln_c += f64::from(alpha - l + 1).ln() - lf.ln();
        terms.push(3f64.ln() + ln_c + lf * lq + (a - lf) * l1q + (lf - 1.0) * rdp(l));
    }
    (log_sum_exp(&terms) / (a - 1.0)).min(plain)
}

/// The RDP at integer order α ≥ 2 of the Poisson-subsampled **continuous** Gaussian
/// mechanism with noise multiplier σ (noise stddev / L2 sensitivity) at rate q
/// (Mironov, Talwar, Zhang 2019, the integer-order formula
/// log Σ_k C(α,k) (1−q)^{α−k} q^k exp((k²−k)/(2σ²)) / (α−1)): the reference the
/// discrete mechanisms approach for fine grids and large noise.
pub fn gaussian_subsampled_rdp(sigma: f64, q: f64, alpha: u32) -> f64 {
    let a = f64::from(alpha);
    if q >= 1.0 {
        return a / (2.0 * sigma * sigma);
    }
    let (lq, l1q) = (q.ln(), (-q).ln_1p());
    let mut ln_c = 0.0;
    let terms: Vec<f64> = (0..=alpha)
        .map(|k| {
            let kf = f64::from(k);
            if k > 0 {
                ln_c += f64::from(alpha - k + 1).ln() - kf.ln();
            }
            ln_c + kf * lq + (a - kf) * l1q + (kf * kf - kf) / (2.0 * sigma * sigma)
        })
        .collect();
    log_sum_exp(&terms) / (a - 1.0)
}

/// (ε, δ) from RDP values at [`ORDERS`] (the tighter conversion of Canonne, Kamath,
/// Steinke 2020 / Balle et al. 2020); also returns the best order.
///
/// # Errors
/// [`DpError::InvalidDelta`] unless 0 < δ < 1.
pub fn rdp_to_dp(rdp: &[f64], delta: f64) -> Result<(f64, u32), DpError> {
    check_delta(delta)?;
    let ld = delta.ln();
    Ok(best(rdp, |a, r| {
        r + ((a - 1.0) / a).ln() - (ld + a.ln()) / (a - 1.0)
    }))
}

/// (ε, δ) from RDP values at [`ORDERS`] by Mironov's original conversion
/// ε = ρ + log(1/δ)/(α−1) (looser; what older accountants report).
///
/// # Errors
/// [`DpError::InvalidDelta`] unless 0 < δ < 1.
pub fn rdp_to_dp_classic(rdp: &[f64], delta: f64) -> Result<(f64, u32), DpError> {
    check_delta(delta)?;
    let ld = delta.ln();
    Ok(best(rdp, |a, r| r - ld / (a - 1.0)))
}

fn best(rdp: &[f64], eps: impl Fn(f64, f64) -> f64) -> (f64, u32) {
    let mut out = (f64::INFINITY, ORDERS[0]);
    for (&alpha, &r) in ORDERS.iter().zip(rdp) {
        let e = eps(f64::from(alpha), r).max(0.0);
        if e < out.0 {
            out = (e, alpha);
        }
    }
    out
}

/// The accountant of a training run: one [`RoundMechanism`] per round, each client
/// sampled with probability q, composed over rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Accountant {
    round: RoundMechanism,
    sampling_rate: f64,
    /// Per-round RDP at each of [`ORDERS`].
    per_round: Vec<f64>,
}

impl Accountant {
    /// The accountant of `round` at sampling rate `q` ∈ (0, 1].
    ///
    /// # Errors
    /// [`DpError::InvalidParameter`] for q outside (0, 1] or an invalid round.
    pub fn new(round: RoundMechanism, sampling_rate: f64) -> Result<Accountant, DpError> {
        round.check()?;
        check_rate(sampling_rate)?;
        let max = ORDERS[ORDERS.len() - 1];
        let table = round.rdp_table(max);
        let per_round = ORDERS
            .iter()
            .map(|&a| subsampled_rdp(|l| table[l as usize], sampling_rate, a))
            .collect();
        Ok(Accountant {
            round,
            sampling_rate,
            per_round,
        })
    }

    /// The round being composed.
    pub fn round(&self) -> &RoundMechanism {
        &self.round
    }

    /// The sampling rate q.
    pub fn sampling_rate(&self) -> f64 {
        self.sampling_rate
    }

    /// The per-round RDP at each of [`ORDERS`].
    pub fn per_round_rdp(&self) -> &[f64] {
        &self.per_round
    }

    /// The RDP after `rounds` rounds at each of [`ORDERS`].
    pub fn rdp_after(&self, rounds: u64) -> Vec<f64> {
        self.per_round.iter().map(|r| r * rounds as f64).collect()
    }

    /// The (ε, δ) guarantee after `rounds` rounds (0 rounds: ε = 0).
    ///
    /// # Errors
    /// [`DpError::InvalidDelta`] unless 0 < δ < 1.
    pub fn privacy_after(&self, rounds: u64, delta: f64) -> Result<Privacy, DpError> {
        check_delta(delta)?;
        if rounds == 0 {
            return Ok(Privacy {
                epsilon: 0.0,
                delta,
            });
        }
        let (epsilon, _) = rdp_to_dp(&self.rdp_after(rounds), delta)?;
        Ok(Privacy { epsilon, delta })
    }

    /// The most rounds that stay within `budget` (0 when even one round exceeds it).
    ///
    /// # Errors
    /// [`DpError::InvalidEpsilon`], [`DpError::InvalidDelta`] for an invalid budget.
    pub fn max_rounds(&self, budget: Privacy) -> Result<u64, DpError> {
        Privacy::new(budget.epsilon, budget.delta)?;
        let within = |r: u64| -> Result<bool, DpError> {
            Ok(self.privacy_after(r, budget.delta)?.epsilon <= budget.epsilon)
        };
        if !within(1)? {
            return Ok(0);
        }
        let mut hi = 2u64;
        while within(hi)? {
            if hi >= 1 << 40 {
                return Ok(hi);
            }
            hi *= 2;
        }
        let mut lo = hi / 2; // within(lo), !within(hi)
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if within(mid)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

/// A running accountant against a budget: [`Budget::spend`] once per round, refused
/// once the next round would exceed the budget.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    accountant: Accountant,
    budget: Privacy,
    rounds: u64,
}

impl Budget {
    /// A run of `accountant`'s rounds within `budget`.
    ///
    /// # Errors
    /// [`DpError::InvalidEpsilon`], [`DpError::InvalidDelta`] for an invalid budget.
    pub fn new(accountant: Accountant, budget: Privacy) -> Result<Budget, DpError> {
        let budget = Privacy::new(budget.epsilon, budget.delta)?;
        Ok(Budget {
            accountant,
            budget,
            rounds: 0,
        })
    }

    /// Rounds spent so far.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// The guarantee of the rounds spent so far.
    pub fn spent(&self) -> Privacy {
        self.accountant
            .privacy_after(self.rounds, self.budget.delta)
            .unwrap_or(Privacy {
                epsilon: f64::INFINITY,
                delta: self.budget.delta,
            })
    }

    /// Accounts for one more round and returns the guarantee with it.
    ///
    /// # Errors
    /// [`DpError::BudgetExhausted`] (and nothing is spent) when that round would take
    /// ε above the budget.
    pub fn spend(&mut self) -> Result<Privacy, DpError> {
        let next = self
            .accountant
            .privacy_after(self.rounds + 1, self.budget.delta)?;
        if next.epsilon > self.budget.epsilon {
            return Err(DpError::BudgetExhausted {
                epsilon: Number(next.epsilon),
                budget: Number(self.budget.epsilon),
            });
        }
        self.rounds += 1;
        Ok(next)
    }
}

/// The smallest per-client variance (grid units) with which `rounds` rounds of
/// `round` (its variance ignored) at sampling rate q are (ε, δ)-DP for `target`; by
/// bisection on the logarithm of the variance to a relative precision of 10^−9. ε is
/// decreasing in the variance, so the answer is the least variance within the target.
///
/// # Errors
/// [`DpError::InvalidEpsilon`], [`DpError::InvalidDelta`], [`DpError::InvalidParameter`]
/// for invalid inputs; [`DpError::Unreachable`] when even a variance of 10^30 does not
/// meet the target.
pub fn variance_for(
    target: Privacy,
    round: RoundMechanism,
    sampling_rate: f64,
    rounds: u64,
) -> Result<f64, DpError> {
    let target = Privacy::new(target.epsilon, target.delta)?;
    check_rate(sampling_rate)?;
    if rounds == 0 {
        return Err(invalid("rounds", ">= 1"));
    }
    let eps = |v: f64| -> Result<f64, DpError> {
        Ok(Accountant::new(round.with_variance(v), sampling_rate)?
            .privacy_after(rounds, target.delta)?
            .epsilon)
    };
    let (mut lo, mut hi) = (-60.0f64, 69.0f64); // ln variance: 1e-26 .. 1e30
    if eps(hi.exp())? > target.epsilon {
        return Err(DpError::Unreachable {
            epsilon: Number(target.epsilon),
        });
    }
    if eps(lo.exp())? <= target.epsilon {
        return Ok(lo.exp());
    }
    while hi - lo > 1e-9 {
        let mid = 0.5 * (lo + hi);
        if eps(mid.exp())? <= target.epsilon {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi.exp())
}
