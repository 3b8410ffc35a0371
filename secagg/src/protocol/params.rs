//! Choosing the graph degree `k` and the Shamir threshold `t` (Bell et al., CCS 2020,
//! "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead"), following the
//! analysis of Google's fcp `HararyGraphParameterFinder`.
//!
//! Given `n` clients, a dropout rate `δ`, a corrupt-client rate `γ`, a threat model and
//! the targets `σ` (security) and `η` (correctness), [`find_params`] returns the
//! smallest even `k` with a threshold `t` such that, over the random labels of the
//! Harary graph:
//!
//! * **connectivity:** the graph minus the `A + D` corrupt and dropped clients stays
//!   connected, except with probability `<= 2^-(σ+1)`;
//! * **privacy:** no honest client has `t` corrupt neighbors (in the malicious model,
//!   `2t - k`: see below), except with probability `<= 2^-(σ+1)` over all clients;
//! * **correctness:** every client has at least `t` surviving neighbors, except with
//!   probability `<= 2^-η` over all clients.
//!
//! where `A = floor(γ n)` and `D = floor(δ n)` are taken as hard bounds on the number
//! of corrupt and dropped clients, except that `D >= 1` whenever `δ > 0` and `n >= 4`
//! (a small session that rounds its drop-outs down to none aborts on the first one). The two security events share the budget, so the
//! total is `<= 2^-σ`. In the malicious model `σ` is raised by a grinding margin
//! ([`ParamQuery::grinding_bits`], 64 bits by default), because its server chooses the
//! graph seed and can try many before committing to one; [`ParamQuery::with_grinding`]
//! changes it (`with_grinding(0.0)` opts out). When no even `k <= n - 2` works, the complete graph
//! (`k = n - 1`, plain SecAgg) is tried, where the bounds are deterministic. The exact
//! formulas, and where they differ from fcp, are in `docs/protocol.md`, "Parameters".
//!
//! [`check_params`] validates a caller-chosen `(k, t)` against the same targets.

mod hypergeom;

use hypergeom::{ln_add_exp, ln_factorial, Hypergeometric};

use super::graph::{GraphSpec, MAX_CLIENTS};
use crate::{Error, Misuse, Result};

const LN2: f64 = core::f64::consts::LN_2;

/// Slack added to a rate before `floor(rate * n)`, so that a rate like 0.05, which is
/// not exact in binary, still allows `floor(0.05 * 1000) = 50` clients.
const RATE_SLACK: f64 = 1e-12;

/// The sparse search runs only when `γ + δ` (semi-honest) or `γ + 2δ` (malicious) is at
/// most this, as in fcp; beyond it the complete graph is tried directly. Near the
/// limits of 1 the smallest degree grows without bound (and so does the search).
pub const SPARSE_MAX_LOAD: f64 = 0.9;

/// Whom the protocol must withstand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreatModel {
    /// An honest-but-curious server colluding with up to `γ n` honest-but-curious
    /// clients.
    SemiHonest,
    /// An actively malicious server (it may lie about who dropped, giving different
    /// clients different views) colluding with up to `γ n` clients.
    Malicious,
}

/// What [`find_params`] is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamQuery {
    /// Number of clients.
    pub n: usize,
    /// Expected fraction of clients that drop out, `δ` in `[0, 1)`.
    pub dropout: f64,
    /// Tolerated fraction of corrupt clients, `γ` in `[0, 1)`.
    pub corrupt: f64,
    /// The threat model.
    pub threat: ThreatModel,
    /// Statistical security parameter `σ`: privacy fails with probability `<= 2^-σ`.
    pub sigma: f64,
    /// Correctness parameter `η`: the protocol aborts with probability `<= 2^-η`.
    pub eta: f64,
    /// Grinding margin, in bits: `log2` of how many graph seeds (or rosters) an
    /// adversary who chooses them may evaluate before committing to one. The finder
    /// aims for `σ + grinding_bits` on each graph, so that the graph the adversary keeps
    /// still fails with probability `<= 2^-σ`. [`ParamQuery::new`] sets
    /// [`ParamQuery::MALICIOUS_GRINDING_BITS`] in the malicious model (its server
    /// chooses the seed) and 0 in the semi-honest one (its server draws the seed at
    /// random); [`ParamQuery::with_grinding`] sets it.
    pub grinding_bits: f64,
}

impl ParamQuery {
    /// The default security parameter `σ`.
    pub const DEFAULT_SIGMA: f64 = 40.0;
    /// The default correctness parameter `η`.
    pub const DEFAULT_ETA: f64 = 20.0;

    /// A query with `σ = 40`, `η = 20` and the threat model's grinding margin
    /// ([`ParamQuery::default_grinding`]: 64 bits in the malicious model, none in the
    /// semi-honest one).
    pub fn new(n: usize, dropout: f64, corrupt: f64, threat: ThreatModel) -> ParamQuery {
        ParamQuery {
            n,
            dropout,
            corrupt,
            threat,
            sigma: Self::DEFAULT_SIGMA,
            eta: Self::DEFAULT_ETA,
            grinding_bits: Self::default_grinding(threat),
        }
    }

    /// Sets the grinding margin ([`ParamQuery::grinding_bits`], replacing the threat
    /// model's default): `log2_tries` is the base-2 logarithm of how many graph seeds
    /// (or rosters) an adversary who chooses them can evaluate before committing to
    /// one. Each try is an independent draw of the graph, so by a union bound the
    /// probability that some try is bad is at most `tries × 2^-σ'` for a per-graph
    /// bound `2^-σ'`; asking for `σ' = σ + log2_tries` keeps the chosen graph within
    /// `2^-σ` (`docs/threat-model.md`, "The graph nobody can steer").
    ///
    /// `with_grinding(0.0)` opts out: right when the seed comes from a source the
    /// adversary does not control (drawn at random by an honest server, or a public
    /// beacon fixed after the roster). Negative values count as 0. The margin matters
    /// only for sparse (Harary) graphs: the complete graph's bounds are deterministic.
    pub fn with_grinding(mut self, log2_tries: f64) -> ParamQuery {
        self.grinding_bits = log2_tries.max(0.0);
        self
    }

    /// The grinding budget of a server that chooses the graph seed, the malicious
    /// model's default: 2^64 graph evaluations (each hashes the clients' keys and
    /// places them; `docs/threat-model.md` argues the figure).
    pub const MALICIOUS_GRINDING_BITS: f64 = 64.0;

    /// The default grinding margin of `threat`: [`ParamQuery::MALICIOUS_GRINDING_BITS`]
    /// in the malicious model, 0 in the semi-honest model.
    pub fn default_grinding(threat: ThreatModel) -> f64 {
        match threat {
            ThreatModel::SemiHonest => 0.0,
            ThreatModel::Malicious => Self::MALICIOUS_GRINDING_BITS,
        }
    }

    /// The per-graph security target the finder aims for: `σ + grinding_bits`.
    pub fn effective_sigma(&self) -> f64 {
        self.sigma + self.grinding_bits.max(0.0)
    }

    fn validate(&self) -> Result<Model> {
        let n = self.n;
        if n == 0 || n > MAX_CLIENTS {
            return Err(Error::Misuse(Misuse::InvalidClientCount { n }));
        }
        let rate = |x: f64, what| {
            if (0.0..1.0).contains(&x) {
                Ok(x)
            } else {
                Err(Error::Misuse(Misuse::OutOfRange {
                    what,
                    allowed: "in [0, 1)",
                }))
            }
        };
        let dropout = rate(self.dropout, "dropout rate")?;
        let corrupt = rate(self.corrupt, "corrupt rate")?;
        let target = |x: f64, what| {
            if x > 0.0 && x <= 1024.0 {
                Ok(x)
            } else {
                Err(Error::Misuse(Misuse::OutOfRange {
                    what,
                    allowed: "in (0, 1024]",
                }))
            }
        };
        let sigma = target(self.sigma, "security parameter sigma")?;
        let eta = target(self.eta, "correctness parameter eta")?;
        // Negative margins count as none (as `with_grinding` clamps them).
        let grinding = self.grinding_bits;
        if grinding.is_nan() || grinding > 1024.0 {
            return Err(Error::Misuse(Misuse::OutOfRange {
                what: "grinding margin",
                allowed: "in [0, 1024]",
            }));
        }
        let grinding = grinding.max(0.0);
        let sigma = target(
            sigma + grinding,
            "security parameter sigma plus grinding margin",
        )?;
        let count = |r: f64| (((r + RATE_SLACK) * n as f64).floor() as usize).min(n);
        let n64 = n as f64;
        let load = match self.threat {
            ThreatModel::SemiHonest => corrupt + dropout,
            ThreatModel::Malicious => corrupt + 2.0 * dropout,
        };
        Ok(Model {
            n,
            fcp_population: false,
            sparse_allowed: load <= SPARSE_MAX_LOAD + RATE_SLACK,
            corrupt: count(corrupt),
            dropped: min_one_dropout(n, dropout, count(dropout)),
            threat: self.threat,
            grinding,
            // Per-event security target 2^-(σ+1), per-client for the union over n
            // (σ here includes the grinding margin).
            ln_disconnect_max: -(sigma + 1.0) * LN2,
            ln_corrupt_max: -(sigma + 1.0) * LN2 - n64.ln(),
            ln_failure_max: -eta * LN2 - n64.ln(),
        })
    }
}

/// `D`: `floor(δ n)`, but at least one drop-out whenever `δ > 0` and `n >= 4`.
///
/// With `floor` alone, a small session (e.g. `n = 8`, `δ = 0.1`) plans for no drop-out
/// at all, and the first client that disconnects aborts it. A rate of zero still means
/// none. Three clients cannot survive a drop-out with a threshold `>= 2`: shares go to
/// the open neighborhood, so each survivor has one surviving neighbor (and `t = 1`
/// would hand each neighbor a client's secrets outright).
fn min_one_dropout(n: usize, dropout: f64, floor: usize) -> usize {
    if dropout > 0.0 && n >= 4 {
        floor.max(1)
    } else {
        floor
    }
}

/// A degree and threshold, with the bounds they achieve.
///
/// Probabilities are `log2` values (`-inf` for an event that cannot happen). `degree`
/// and `threshold` count neighbors only: shares go to the open neighborhood.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Number of clients.
    pub n: usize,
    /// Neighbors per client (`n - 1` for the complete graph).
    pub degree: usize,
    /// Shamir threshold: shares (among a client's neighbors) needed to reconstruct.
    pub threshold: usize,
    /// Whether the graph is complete (SecAgg) rather than a Harary graph (SecAgg+).
    pub complete: bool,
    /// `A = floor(γ n)`, the number of corrupt clients assumed.
    pub max_corrupt: usize,
    /// `D = floor(δ n)` (at least 1 when `δ > 0` and `n >= 4`), the number of dropped
    /// clients assumed.
    pub max_dropped: usize,
    /// Union bound on the graph minus corrupt and dropped clients being disconnected.
    pub log2_disconnect: f64,
    /// Union bound, over clients, on an honest client having too many corrupt
    /// neighbors (`>= t`, or `>= 2t - k` in the malicious model).
    pub log2_corrupt: f64,
    /// `log2(2^log2_disconnect + 2^log2_corrupt)`: privacy fails at most this often
    /// on one graph (one seed).
    pub log2_security: f64,
    /// Union bound, over clients, on a client having fewer than `t` surviving
    /// neighbors: the protocol aborts at most this often.
    pub log2_failure: f64,
    /// The grinding margin the parameters were chosen or checked with
    /// ([`ParamQuery::grinding_bits`]): against an adversary that evaluates
    /// `2^grinding_bits` seeds and keeps the worst, privacy fails at most
    /// [`Params::log2_security_after_grinding`] often.
    pub grinding_bits: f64,
}

impl Params {
    /// `log2_security + grinding_bits` (capped at 0): the union bound on privacy failing
    /// for the graph an adversary keeps after evaluating `2^grinding_bits` seeds.
    pub fn log2_security_after_grinding(&self) -> f64 {
        (self.log2_security + self.grinding_bits).min(0.0)
    }

    /// The graph these parameters are for, with the session's public seed. Draw the
    /// seed at random (`crypto::rng::os_rng`) once the ids (semi-honest) or the roster
    /// of verifying keys (malicious) are fixed; in the malicious model the positions
    /// come from the keys and the seed, and a server that chooses the seed can still
    /// grind it, which the finder's default margin in that model covers
    /// ([`ParamQuery::grinding_bits`]; `docs/threat-model.md`, "The graph nobody can
    /// steer").
    pub fn graph_spec(&self, seed: [u8; 32]) -> GraphSpec {
        if self.complete {
            GraphSpec::Complete
        } else {
            GraphSpec::Harary {
                degree: self.degree,
                seed,
            }
        }
    }
}

/// A validated query: counts and natural-log targets.
#[derive(Clone, Copy, Debug)]
struct Model {
    n: usize,
    /// Test-only switch to fcp's population model: neighbors drawn from all `n`
    /// clients, `A` corrupt and `n - D` surviving (docs/protocol.md, "Parameters").
    fcp_population: bool,
    /// Whether the rates are within [`SPARSE_MAX_LOAD`].
    sparse_allowed: bool,
    corrupt: usize,
    dropped: usize,
    threat: ThreatModel,
    /// The grinding margin in bits (already in the `ln_*_max` targets).
    grinding: f64,
    ln_disconnect_max: f64,
    ln_corrupt_max: f64,
    ln_failure_max: f64,
}

impl Model {
    /// Corrupt neighbors of an honest client with `k` neighbors: the `k` neighbors
    /// are a uniform subset of the other `n - 1` clients, of which at most `A` are
    /// corrupt.
    fn corrupt_neighbors(&self, k: usize) -> Hypergeometric {
        let others = self.n as u64 - u64::from(!self.fcp_population);
        Hypergeometric::new(others, (self.corrupt as u64).min(others), k as u64)
    }

    /// Surviving neighbors of a client with `k` neighbors: of the other `n - 1`
    /// clients at least `n - D - 1` survive (the client itself may be a survivor).
    fn surviving_neighbors(&self, k: usize) -> Hypergeometric {
        let others = self.n as u64 - u64::from(!self.fcp_population);
        let survivors =
            ((self.n - self.dropped) as u64).saturating_sub(u64::from(!self.fcp_population));
        Hypergeometric::new(others, survivors.min(others), k as u64)
    }

    /// `ln` of the union bound on `H(k, n)` (randomly labelled, `k` even,
    /// `2 <= k <= n - 2`) being disconnected by removing `A + D` random clients.
    ///
    /// A removed set disconnects the ring only if it contains two disjoint runs of `k/2`
    /// consecutive positions; there are `n (n - k - 1) / 2` such pairs of runs, and a
    /// given `k` positions are all removed with probability
    /// `B! (n - k)! / (n! (B - k)!)` for `B = A + D` removed clients.
    fn ln_disconnect(&self, k: usize) -> f64 {
        let n = self.n as u64;
        let k = k as u64;
        let bad = ((self.corrupt + self.dropped) as u64).min(n);
        if k > bad {
            return f64::NEG_INFINITY;
        }
        (n as f64).ln() + ((n - k - 1) as f64).ln() - LN2 + ln_factorial(bad) + ln_factorial(n - k)
            - ln_factorial(n)
            - ln_factorial(bad - k)
    }

    /// Smallest `a` with `P[corrupt neighbors >= a] <= target`, searching upwards
    /// from `hint` (which must not exceed the answer).
    fn corrupt_quantile(&self, h: &Hypergeometric, hint: u64) -> u64 {
        let ok = |a: u64| h.ln_ge(a) <= self.ln_corrupt_max;
        search_first(hint, h.hi() + 1, ok)
    }

    /// Largest `t <= k` with `P[surviving neighbors < t] <= target`, searching
    /// upwards from `hint` (which must not exceed the answer).
    fn survivor_quantile(&self, h: &Hypergeometric, k: u64, hint: u64) -> u64 {
        let bad = |t: u64| h.ln_lt(t) > self.ln_failure_max;
        // First t that fails, minus one; k + 1 "fails" by convention.
        search_first(hint, k + 1, bad) - 1
    }

    /// The smallest secure threshold for `k` neighbors (`k_max` for the largest
    /// neighborhood), given `a` = the smallest count of corrupt neighbors that is
    /// rarer than the target.
    fn min_threshold(&self, k_max: u64, a: u64) -> u64 {
        match self.threat {
            ThreatModel::SemiHonest => a,
            // Need 2t - k > (corrupt neighbors), i.e. 2t - k >= a.
            ThreatModel::Malicious => (k_max + a).div_ceil(2),
        }
    }

    /// `ln` union bound on privacy failing through corrupt neighbors at threshold `t`.
    fn ln_corrupt_bound(&self, h: &Hypergeometric, k_max: u64, t: u64) -> f64 {
        let need = match self.threat {
            ThreatModel::SemiHonest => t,
            ThreatModel::Malicious => (2 * t).saturating_sub(k_max),
        };
        (self.n as f64).ln() + h.ln_ge(need)
    }

    fn params(&self, degree: usize, threshold: usize, ln_disc: f64) -> Params {
        let complete = degree >= self.n - 1;
        let (ln_corrupt, ln_fail) = if complete {
            let k = (self.n - 1) as u64;
            let t = threshold as u64;
            // Deterministic: at most A corrupt and at least n - D - 1 surviving others.
            let corrupt_ok = match self.threat {
                ThreatModel::SemiHonest => (self.corrupt as u64) < t,
                ThreatModel::Malicious => (self.corrupt as u64) + k < 2 * t,
            };
            let fail_ok = t < (self.n - self.dropped) as u64;
            let f = |ok: bool| if ok { f64::NEG_INFINITY } else { 0.0 };
            (f(corrupt_ok), f(fail_ok))
        } else {
            let (kmin, kmax) = degree_range(self.n, degree);
            let adv = self.corrupt_neighbors(kmax as usize);
            let surv = self.surviving_neighbors(kmin as usize);
            (
                self.ln_corrupt_bound(&adv, kmax, threshold as u64),
                (self.n as f64).ln() + surv.ln_lt(threshold as u64),
            )
        };
        let ln_corrupt = ln_corrupt.min(0.0);
        Params {
            n: self.n,
            degree,
            threshold,
            complete,
            max_corrupt: self.corrupt,
            max_dropped: self.dropped,
            log2_disconnect: ln_disc / LN2,
            log2_corrupt: ln_corrupt / LN2,
            log2_security: ln_add_exp(ln_disc, ln_corrupt).min(0.0) / LN2,
            log2_failure: ln_fail.min(0.0) / LN2,
            grinding_bits: self.grinding,
        }
    }

    /// Threshold range `[t_min, t_max]` for the complete graph.
    fn complete_range(&self) -> (u64, u64) {
        let k = (self.n - 1) as u64;
        let a = self.corrupt as u64 + 1;
        let t_min = self.min_threshold(k, a);
        let t_max = ((self.n - self.dropped) as u64).saturating_sub(1).min(k);
        (t_min, t_max)
    }
}

/// `(min, max)` neighborhood size of the Harary graph of degree `k < n - 1`.
fn degree_range(n: usize, k: usize) -> (u64, u64) {
    let k = k as u64;
    if k % 2 == 1 && n % 2 == 1 {
        (k, k + 1)
    } else {
        (k, k)
    }
}

/// The first `x` in `[from, end)` with `pred(x)`, or `end`, for a predicate that is
/// false then true; galloping from `from`, then bisecting.
fn search_first(from: u64, end: u64, pred: impl Fn(u64) -> bool) -> u64 {
    if from >= end || pred(from) {
        return from.min(end);
    }
    // Invariant: pred(lo) is false; pred(hi) is true or hi == end.
    let (mut lo, mut step) = (from, 1u64);
    let mut hi = loop {
        let probe = lo.saturating_add(step).min(end);
        if probe == end || pred(probe) {
            break probe;
        }
        lo = probe;
        step = step.saturating_mul(2);
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The smallest even degree `k` and a threshold `t` that meet the query's targets
/// (module docs); the complete graph when no even `k <= n - 2` does.
///
/// The threshold is the smallest secure one, but at least 2 (so no single
/// neighbor's share is the secret itself), which keeps reconstruction cheap.
///
/// Errors: [`Misuse::InvalidClientCount`], [`Misuse::OutOfRange`] for a bad rate or
/// target, [`Misuse::NoFeasibleParams`] when neither a Harary graph nor the complete
/// graph meets the targets.
pub fn find_params(q: &ParamQuery) -> Result<Params> {
    find_with(&q.validate()?)
}

fn find_with(m: &Model) -> Result<Params> {
    let n = m.n;
    // Thresholds only grow with k (more draws: stochastically more corrupt and more
    // surviving neighbors), so each search resumes from the previous answer.
    let (mut a_hint, mut t_hint) = (0u64, 0u64);
    let mut k = 2usize;
    while m.sparse_allowed && k + 2 <= n {
        let ln_disc = m.ln_disconnect(k);
        if ln_disc <= m.ln_disconnect_max {
            let k64 = k as u64;
            let adv = m.corrupt_neighbors(k);
            let a = m.corrupt_quantile(&adv, a_hint);
            a_hint = a;
            let t_min = m.min_threshold(k64, a).max(2);
            let surv = m.surviving_neighbors(k);
            let t_max = m.survivor_quantile(&surv, k64, t_hint);
            t_hint = t_max;
            if t_min <= t_max {
                return Ok(m.params(k, t_min as usize, ln_disc));
            }
        }
        k += 2;
    }
    // The complete graph: deterministic bounds.
    let (t_min, t_max) = m.complete_range();
    let t = t_min.max(2.min((n as u64).saturating_sub(1)));
    if n >= 2 && t <= t_max {
        return Ok(m.params(n - 1, t as usize, f64::NEG_INFINITY));
    }
    Err(Error::Misuse(Misuse::NoFeasibleParams { n }))
}

/// Checks a caller-chosen degree and threshold (for example from command-line flags)
/// against the query's targets, and returns the bounds they achieve.
///
/// `degree >= n - 1` means the complete graph. Odd degrees are allowed: the
/// connectivity bound of `H(k, n)` is then that of `H(k - 1, n)`, which it contains.
///
/// Errors, in the order checked: those of [`find_params`]'s query validation;
/// [`Misuse::InvalidDegree`] (degree 0, or 1 with more than 2 clients);
/// [`Misuse::InvalidThreshold`] (`t = 0` or `t` above the smallest neighborhood);
/// [`Misuse::ThresholdSplitView`] (malicious model, `2t <= k`);
/// [`Misuse::DegreeTooLow`] (the graph may disconnect);
/// [`Misuse::ThresholdTooLow`]; [`Misuse::ThresholdTooHigh`].
pub fn check_params(q: &ParamQuery, degree: usize, threshold: usize) -> Result<Params> {
    let m = q.validate()?;
    let n = m.n;
    if degree == 0 || (degree == 1 && n > 2) {
        return Err(Error::Misuse(Misuse::InvalidDegree { degree, n }));
    }
    let complete = degree >= n - 1;
    let degree = if complete { n - 1 } else { degree };
    let (kmin, kmax) = if complete {
        (degree as u64, degree as u64)
    } else {
        degree_range(n, degree)
    };
    let t = threshold as u64;
    if t == 0 || t > kmin {
        return Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold,
            parties: kmin as usize,
        }));
    }
    if m.threat == ThreatModel::Malicious && 2 * t <= kmax {
        return Err(Error::Misuse(Misuse::ThresholdSplitView {
            threshold,
            degree: kmax as usize,
        }));
    }
    let (ln_disc, t_min, t_max) = if complete {
        let (t_min, t_max) = m.complete_range();
        (f64::NEG_INFINITY, t_min, t_max)
    } else {
        let ln_disc = m.ln_disconnect(degree - degree % 2);
        if ln_disc > m.ln_disconnect_max {
            return Err(Error::Misuse(Misuse::DegreeTooLow { degree, n }));
        }
        let adv = m.corrupt_neighbors(kmax as usize);
        let a = m.corrupt_quantile(&adv, 0);
        let surv = m.surviving_neighbors(kmin as usize);
        let t_max = m.survivor_quantile(&surv, kmin, 0);
        (ln_disc, m.min_threshold(kmax, a), t_max)
    };
    if t < t_min {
        return Err(Error::Misuse(Misuse::ThresholdTooLow {
            threshold,
            min: t_min as usize,
        }));
    }
    if t > t_max {
        return Err(Error::Misuse(Misuse::ThresholdTooHigh {
            threshold,
            max: t_max as usize,
        }));
    }
    Ok(m.params(degree, threshold, ln_disc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ThreatModel::{Malicious, SemiHonest};

    /// fcp's finder draws neighbors from all `n` clients. With that population model
    /// this finder reproduces fcp's published degrees and thresholds exactly in the
    /// cases where our default (the other `n - 1` clients) needs a larger degree.
    #[test]
    fn fcp_population_model_reproduces_fcp_values() {
        // (n, corrupt, dropout, threat, ours (k, t), fcp (k, t)), from fcp's
        // graph_parameter_finder_test.cc.
        let cases = [
            (1000, 0.45, 0.45, SemiHonest, (824, 418), (822, 417)),
            (10_000, 0.45, 0.45, SemiHonest, (3498, 1773), (3494, 1771)),
            (100_000, 0.45, 0.45, SemiHonest, (5510, 2789), (5508, 2788)),
            (10_000, 0.3, 0.3, Malicious, (4828, 3234), (4822, 3230)),
            (1000, 0.0, 0.33, Malicious, (230, 116), (228, 115)),
        ];
        for (n, c, d, threat, ours, fcp) in cases {
            // fcp's finder has no grinding margin.
            let q = ParamQuery::new(n, d, c, threat).with_grinding(0.0);
            let p = find_params(&q).unwrap();
            assert_eq!((p.degree, p.threshold), ours, "{q:?}");
            let mut m = q.validate().unwrap();
            m.fcp_population = true;
            let p = find_with(&m).unwrap();
            assert_eq!((p.degree, p.threshold), fcp, "{q:?}");
        }
    }

    /// The malicious model's default margin is exactly `σ + 64` without a margin; the
    /// semi-honest model has none; `with_grinding` replaces the default.
    #[test]
    fn grinding_margin_defaults_by_threat_model() {
        assert_eq!(
            ParamQuery::new(100, 0.1, 0.1, SemiHonest).grinding_bits,
            0.0
        );
        assert_eq!(
            ParamQuery::new(100, 0.1, 0.1, Malicious).grinding_bits,
            64.0
        );
        for threat in [SemiHonest, Malicious] {
            for n in [100, 1000, 10_000] {
                let q = ParamQuery::new(n, 0.05, 0.05, threat);
                let p = find_params(&q).unwrap();
                let g = ParamQuery::default_grinding(threat);
                assert_eq!(p.grinding_bits, g);
                // The same (k, t) as asking for sigma + g with no margin.
                let plain = ParamQuery {
                    sigma: q.sigma + g,
                    ..q.with_grinding(0.0)
                };
                let same = find_params(&plain).unwrap();
                assert_eq!((p.degree, p.threshold), (same.degree, same.threshold));
                assert!(p.complete || p.log2_security <= -(q.sigma + g), "{p:?}");
                assert!(p.log2_security_after_grinding() <= -q.sigma);
                // check_params applies the same margin.
                assert_eq!(check_params(&q, p.degree, p.threshold), Ok(p));
                // Opting out gives the smaller graph and no margin.
                let off = find_params(&q.with_grinding(0.0)).unwrap();
                assert_eq!(off.grinding_bits, 0.0);
                if threat == Malicious {
                    // At n = 100 the privacy events are impossible either way (k > A).
                    assert_eq!(off.degree < p.degree, n > 100, "{off:?} {p:?}");
                    if off.degree < p.degree {
                        let e = check_params(&q, off.degree, off.threshold).unwrap_err();
                        assert!(matches!(e, Error::Misuse(_)), "{e:?}");
                    }
                } else {
                    assert_eq!(off, p);
                }
            }
        }
        // n = 1000, 5%: the figures of docs/threat-model.md.
        let q = ParamQuery::new(1000, 0.05, 0.05, Malicious);
        let p = find_params(&q).unwrap();
        assert_eq!((p.degree, p.threshold), (74, 56));
        let p = find_params(&q.with_grinding(0.0)).unwrap();
        assert_eq!((p.degree, p.threshold), (52, 37));
        // Negative margins are none; NaN and huge ones are refused.
        assert_eq!(q.with_grinding(-3.0).grinding_bits, 0.0);
        for bad in [f64::NAN, 2000.0] {
            let q = ParamQuery {
                grinding_bits: bad,
                ..q
            };
            assert!(matches!(
                find_params(&q),
                Err(Error::Misuse(Misuse::OutOfRange { .. }))
            ));
        }
    }

    #[test]
    fn search_first_finds_the_boundary() {
        for end in 0..40u64 {
            for b in 0..=end {
                for from in 0..=b {
                    assert_eq!(search_first(from, end, |x| x >= b), b);
                }
            }
        }
        assert_eq!(search_first(5, 3, |_| false), 3);
    }

    #[test]
    fn disconnect_bound_formula() {
        // n (n - k - 1) / 2 * C(n - k, B - k) / C(n, B), exactly, for n = 40, B = 12.
        let q = ParamQuery::new(40, 0.15, 0.15, SemiHonest);
        let m = q.validate().unwrap();
        assert_eq!((m.corrupt, m.dropped), (6, 6));
        let binom = |a: u128, b: u128| -> u128 { (0..b).fold(1u128, |r, i| r * (a - i) / (i + 1)) };
        for k in [2u128, 4, 6, 8, 10, 12] {
            let want = (40 * (40 - k - 1)) as f64 / 2.0 * binom(40 - k, 12 - k) as f64
                / binom(40, 12) as f64;
            let got = m.ln_disconnect(k as usize).exp();
            assert!((got - want).abs() <= 1e-12 * want, "k={k}: {got} vs {want}");
        }
        assert_eq!(m.ln_disconnect(14), f64::NEG_INFINITY);
    }

    /// The union bound really bounds how often removing `B` random clients
    /// disconnects a randomly labelled Harary graph (Monte Carlo on real graphs).
    #[test]
    fn disconnect_bound_holds_on_real_graphs() {
        use crate::crypto::rng::{seeded_rng, Rng};
        use crate::protocol::graph::Graph;
        let (n, bad, trials) = (40usize, 12usize, 4000usize);
        let q = ParamQuery::new(n, 0.15, 0.15, SemiHonest);
        let m = q.validate().unwrap();
        assert_eq!(m.corrupt + m.dropped, bad);
        let mut rng = seeded_rng([9; 32]);
        let mut rates = Vec::new();
        for k in [4usize, 6] {
            let mut cut = 0usize;
            for trial in 0..trials {
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&(trial as u64).to_le_bytes());
                let g = Graph::new(n, &GraphSpec::Harary { degree: k, seed }).unwrap();
                // Remove a uniformly random set of `bad` clients (partial shuffle).
                let mut ids: Vec<u32> = (0..n as u32).collect();
                for i in 0..bad {
                    let j = i + (rng.next_u64() % (n - i) as u64) as usize;
                    ids.swap(i, j);
                }
                let mut removed = vec![false; n];
                for &u in &ids[..bad] {
                    removed[u as usize] = true;
                }
                // Flood fill from the first remaining client.
                let start = ids[bad];
                let mut seen = removed.clone();
                seen[start as usize] = true;
                let (mut stack, mut reached) = (vec![start], 1usize);
                while let Some(u) = stack.pop() {
                    for &v in g.neighbors(u) {
                        if !seen[v as usize] {
                            seen[v as usize] = true;
                            reached += 1;
                            stack.push(v);
                        }
                    }
                }
                if reached < n - bad {
                    cut += 1;
                }
            }
            let rate = cut as f64 / trials as f64;
            let bound = m.ln_disconnect(k).exp();
            // Allow four standard deviations of sampling noise above the bound.
            let noise = 4.0 * (bound.min(1.0) / trials as f64).sqrt();
            assert!(rate <= bound + noise, "k={k}: rate {rate} bound {bound}");
            rates.push(rate);
        }
        // The harness does see disconnections when k is small.
        assert!(rates[0] > 0.0, "{rates:?}");
    }
}
