//! `secagg.dp.Accountant` and `secagg.dp.Budget`: the core's privacy accountant
//! (`secagg::dp::accountant`) for a planned training run or for the sessions a run
//! actually had, composed round by round.
//!
//! An accountant is built either from the arguments of `secagg dp` (the same grid, norm
//! bound, ring and noise resolution, so the numbers are the command's) or from a DP
//! session's own parameters (`Accountant.for_session`). Its running state is the RDP
//! composed over the rounds stepped, each with its own survivors, sampling rate and
//! session; (ε, δ) comes from the core's conversion at every step.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use secagg::dp::accountant::{
    self as core_acct, rdp_to_dp, rdp_to_dp_classic, variance_for, Privacy, RoundMechanism, ORDERS,
};
use secagg::dp::pipeline::{DistributedDp, DpParams, DpSetup, DEFAULT_BETA, DEFAULT_DELTA};
use secagg::dp::{DpError, Mechanism, Number};

use crate::config::Config;
use crate::errors::{misuse, IntoPy};

/// Core DP errors as `DPError` (`BudgetExhaustedError`).
trait DpInto<T> {
    fn dp(self) -> PyResult<T>;
}

impl<T> DpInto<T> for Result<T, DpError> {
    fn dp(self) -> PyResult<T> {
        self.map_err(|e| crate::errors::to_py(secagg::Error::Dp(e)))
    }
}

fn invalid(what: &'static str, allowed: &'static str) -> DpError {
    DpError::InvalidParameter { what, allowed }
}

/// A privacy budget ``(epsilon, delta)``: ``epsilon`` finite and above 0, ``delta`` in
/// ``(0, 1)``, else :class:`DPError` (``InvalidEpsilon``, ``InvalidDelta``).
#[pyclass(module = "secagg", frozen)]
#[derive(Clone, Copy)]
pub struct Budget {
    pub(crate) inner: Privacy,
}

#[pymethods]
impl Budget {
    #[new]
    fn new(epsilon: f64, delta: f64) -> PyResult<Self> {
        Ok(Self {
            inner: Privacy::new(epsilon, delta).dp()?,
        })
    }

    /// ε of the budget.
    #[getter]
    fn epsilon(&self) -> f64 {
        self.inner.epsilon
    }

    /// δ of the budget.
    #[getter]
    fn delta(&self) -> f64 {
        self.inner.delta
    }

    /// ``(epsilon, delta)``.
    fn as_tuple(&self) -> (f64, f64) {
        (self.inner.epsilon, self.inner.delta)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .extract::<PyRef<'_, Budget>>()
            .is_ok_and(|o| o.inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Budget(epsilon={}, delta={})",
            self.inner.epsilon, self.inner.delta
        )
    }
}

/// A budget argument: a :class:`Budget` or a pair ``(epsilon, delta)``.
fn budget_of(obj: &Bound<'_, PyAny>) -> PyResult<Privacy> {
    if let Ok(b) = obj.extract::<PyRef<'_, Budget>>() {
        return Ok(b.inner);
    }
    let (e, d): (f64, f64) = obj.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("a budget is a secagg.dp.Budget or (epsilon, delta)")
    })?;
    Privacy::new(e, d).dp()
}

/// The round of `noisy` noise contributions of a session's parameters.
fn round_of(p: &DpParams, noisy: usize) -> Result<RoundMechanism, DpError> {
    RoundMechanism::new(
        p.mechanism,
        noisy,
        p.variance,
        p.l2_sensitivity(),
        p.total_padded(),
    )
}

/// What `secagg dp` is given: a run of `rounds` rounds of sessions of `clients`.
struct Plan {
    mechanism: Mechanism,
    clients: usize,
    dim: usize,
    clip: f64,
    bits: u32,
    delta: f64,
    beta: f64,
    /// Planned fewest survivors `n - floor(dropout n)` and colluding `floor(corrupt n)`.
    survivors: usize,
    colluding: usize,
}

impl Plan {
    /// The session parameters at noise multiplier `z`, calibrated as `secagg dp` does.
    fn at(&self, z: f64, ring_bits: Option<u32>) -> secagg::Result<DpParams> {
        let dp = DistributedDp::noise_multiplier(z)
            .mechanism(self.mechanism)
            .delta(self.delta)
            .beta(self.beta)
            .min_survivors(self.survivors)
            .colluding(self.colluding);
        let setup = DpSetup {
            n: self.clients,
            dims: &[self.dim],
            clip: self.clip,
            bits: self.bits,
            ring_bits,
            finder: None,
            threshold: self.clients,
        };
        DpParams::resolve(&dp, &setup)
    }

    /// The least noise multiplier whose run meets `target` (the core's inverse on the
    /// variance, then the resolved session checked and nudged up past the exact
    /// rational's rounding).
    fn for_target(
        &self,
        target: Privacy,
        noisy: usize,
        q: f64,
        rounds: u64,
        ring_bits: Option<u32>,
    ) -> secagg::Result<DpParams> {
        let grid = self.at(1.0, None)?;
        let unit = round_of(&grid, noisy)?.with_variance(1.0);
        let variance = variance_for(target, unit, q, rounds)?;
        let mut z = (noisy as f64 * variance).sqrt() / grid.steps();
        let mut nudge = 0u32;
        loop {
            let p = self.at(z, ring_bits)?;
            let eps = core_acct::Accountant::new(round_of(&p, noisy)?, q)?
                .privacy_after(rounds, target.delta)?
                .epsilon;
            if eps <= target.epsilon || nudge >= 20 {
                return Ok(p);
            }
            z *= 1.0 + 1e-9 * f64::from(1u32 << nudge);
            nudge += 1;
        }
    }
}

fn fraction(x: f64, what: &'static str) -> Result<f64, DpError> {
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(invalid(what, "in [0, 1)"))
    }
}

/// The privacy accountant of a training run with distributed DP: the Rényi-DP of each
/// round (the distributed discrete Gaussian or Skellam bound, amplified by Poisson
/// sampling at rate ``sampling_rate``), composed over rounds and converted to
/// ``(epsilon, delta)`` (docs/differential-privacy.md, "The accountant").
///
/// Built from the arguments of ``secagg dp`` (the same numbers as ``secagg dp ...
/// --json``, see :meth:`to_dict`): ``clients`` per round, of whom ``floor(dropout *
/// clients)`` may drop and ``floor(corrupt * clients)`` collude with the server, ``dim``
/// floats each, L2 clip ``clip``, grid ``bits``, and exactly one of
/// ``noise_multiplier`` and ``epsilon`` (the target over ``rounds`` rounds: the least
/// noise that meets it). Or from a DP session: :meth:`for_session`.
///
/// The running state: :meth:`step` composes rounds (each with its own survivors,
/// sampling rate and session if they differ from the plan), :meth:`epsilon` and
/// :meth:`spent` give the guarantee so far. Bad arguments raise :class:`DPError`.
#[pyclass(module = "secagg")]
pub struct Accountant {
    params: DpParams,
    noisy: usize,
    sampling_rate: f64,
    rounds_planned: u64,
    delta: f64,
    plan: core_acct::Accountant,
    /// RDP composed over the rounds stepped, at each of [`ORDERS`].
    spent: Vec<f64>,
    rounds: u64,
}

impl Accountant {
    fn build(
        params: DpParams,
        noisy: usize,
        sampling_rate: f64,
        rounds_planned: u64,
        delta: f64,
    ) -> PyResult<Self> {
        Privacy::new(1.0, delta).dp()?;
        let plan =
            core_acct::Accountant::new(round_of(&params, noisy).dp()?, sampling_rate).dp()?;
        Ok(Self {
            params,
            noisy,
            sampling_rate,
            rounds_planned,
            delta,
            plan,
            spent: vec![0.0; ORDERS.len()],
            rounds: 0,
        })
    }

    /// The per-round RDP of one round with `survivors` included clients (default: the
    /// planned fewest), at rate `q` (default: the accountant's), of `session` (default:
    /// the accountant's parameters).
    fn round_rdp(
        &self,
        survivors: Option<usize>,
        q: Option<f64>,
        session: Option<&DpParams>,
    ) -> PyResult<Vec<f64>> {
        if survivors.is_none() && q.is_none() && session.is_none() {
            return Ok(self.plan.per_round_rdp().to_vec());
        }
        let p = session.unwrap_or(&self.params);
        let q = q.unwrap_or(self.sampling_rate);
        if !(q > 0.0 && q <= 1.0) {
            return Err(invalid("sampling rate", "in (0, 1]")).dp();
        }
        let included = survivors.unwrap_or(p.min_survivors);
        if included > p.n {
            return Err(misuse(
                "TooManyIncluded",
                format!("{included} survivors, the session has {} clients", p.n),
            ));
        }
        match included.checked_sub(p.colluding) {
            // No noise that the server cannot subtract: no guarantee.
            None | Some(0) => Ok(vec![f64::INFINITY; ORDERS.len()]),
            Some(noisy) => Ok(core_acct::Accountant::new(round_of(p, noisy).dp()?, q)
                .dp()?
                .per_round_rdp()
                .to_vec()),
        }
    }

    fn epsilon_of(rdp: &[f64], rounds: u64, delta: f64) -> PyResult<f64> {
        if rounds == 0 {
            Privacy::new(1.0, delta).dp()?;
            return Ok(0.0);
        }
        Ok(rdp_to_dp(rdp, delta).dp()?.0)
    }

    /// The composed RDP and ε after `rounds` more rounds, and the δ used.
    #[allow(clippy::type_complexity)]
    fn after(
        &self,
        rounds: u64,
        survivors: Option<usize>,
        sampling_rate: Option<f64>,
        session: Option<PyRef<'_, Config>>,
        delta: f64,
    ) -> PyResult<(Vec<f64>, f64)> {
        let session = match &session {
            Some(c) => Some(c.session.dp().ok_or_else(no_dp)?),
            None => None,
        };
        let round = self.round_rdp(survivors, sampling_rate, session)?;
        if rounds == 0 {
            return Ok((
                self.spent.clone(),
                Self::epsilon_of(&self.spent, self.rounds, delta)?,
            ));
        }
        let total: Vec<f64> = self
            .spent
            .iter()
            .zip(&round)
            .map(|(s, r)| s + r * rounds as f64)
            .collect();
        let eps = Self::epsilon_of(&total, self.rounds + rounds, delta)?;
        Ok((total, eps))
    }
}

fn no_dp() -> PyErr {
    misuse(
        "InvalidParameter",
        "the session has no DP (Config(..., dp=...))".into(),
    )
}

#[pymethods]
impl Accountant {
    #[new]
    #[pyo3(signature = (
        mechanism="ddg", *, clients, dim, clip=1.0, bits=16, ring_bits=None,
        noise_multiplier=None, epsilon=None, delta=DEFAULT_DELTA, rounds=1,
        sampling_rate=1.0, dropout=0.0, corrupt=0.0, beta=DEFAULT_BETA
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        mechanism: &str,
        clients: usize,
        dim: usize,
        clip: f64,
        bits: u32,
        ring_bits: Option<u32>,
        noise_multiplier: Option<f64>,
        epsilon: Option<f64>,
        delta: f64,
        rounds: u64,
        sampling_rate: f64,
        dropout: f64,
        corrupt: f64,
        beta: f64,
    ) -> PyResult<Self> {
        let mechanism = crate::dp::mechanism(mechanism)?;
        Privacy::new(epsilon.unwrap_or(1.0), delta).dp()?;
        if rounds == 0 {
            return Err(invalid("rounds", ">= 1")).dp();
        }
        if !(sampling_rate > 0.0 && sampling_rate <= 1.0) {
            return Err(invalid("sampling rate", "in (0, 1]")).dp();
        }
        let dropped = (fraction(dropout, "dropout").dp()? * clients as f64).floor() as usize;
        let colluding = (fraction(corrupt, "corrupt").dp()? * clients as f64).floor() as usize;
        let survivors = clients.saturating_sub(dropped);
        let noisy = core_acct::noisy_clients(survivors, colluding).dp()?;
        let plan = Plan {
            mechanism,
            clients,
            dim,
            clip,
            bits,
            delta,
            beta,
            survivors,
            colluding,
        };
        let params = match (noise_multiplier, epsilon) {
            (Some(z), None) => py.detach(|| plan.at(z, ring_bits)).py_err()?,
            (None, Some(e)) => {
                let target = Privacy::new(e, delta).dp()?;
                py.detach(|| plan.for_target(target, noisy, sampling_rate, rounds, ring_bits))
                    .py_err()?
            }
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "give exactly one of noise_multiplier and epsilon",
                ))
            }
        };
        Self::build(params, noisy, sampling_rate, rounds, delta)
    }

    /// The accountant of the rounds of one DP session ``config`` (``Config(...,
    /// dp=...)``): its grid, norm bound, per-client variance, calibration (the fewest
    /// planned survivors less the colluding clients) at ``sampling_rate``; ``delta``
    /// defaults to the session's. :class:`MisuseError` for a session without DP.
    #[staticmethod]
    #[pyo3(signature = (config, *, sampling_rate=1.0, delta=None))]
    fn for_session(
        config: PyRef<'_, Config>,
        sampling_rate: f64,
        delta: Option<f64>,
    ) -> PyResult<Self> {
        let p = config.session.dp().ok_or_else(no_dp)?.clone();
        let noisy = core_acct::noisy_clients(p.min_survivors, p.colluding).dp()?;
        let delta = delta.unwrap_or(p.delta);
        Self::build(p, noisy, sampling_rate, 1, delta)
    }

    /// Composes ``rounds`` more rounds and returns the running ε (at ``delta``, or the
    /// budget's δ). Each round had ``survivors`` included clients (default: the planned
    /// fewest; only ``survivors - colluding`` count, none count gives ε = inf), was
    /// sampled at ``sampling_rate`` (default: the accountant's) and ran ``session`` (a
    /// DP :class:`Config`; default: the accountant's parameters). With ``budget`` (a
    /// :class:`Budget` or ``(epsilon, delta)``), a step that would take ε above it
    /// raises :class:`BudgetExhaustedError` and spends nothing.
    #[pyo3(signature = (rounds=1, *, survivors=None, sampling_rate=None, session=None, budget=None))]
    fn step(
        &mut self,
        rounds: u64,
        survivors: Option<usize>,
        sampling_rate: Option<f64>,
        session: Option<PyRef<'_, Config>>,
        budget: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<f64> {
        let budget = budget.map(budget_of).transpose()?;
        let delta = budget.map_or(self.delta, |b| b.delta);
        let (total, eps) = self.after(rounds, survivors, sampling_rate, session, delta)?;
        if let Some(b) = budget {
            if eps > b.epsilon {
                let err = crate::errors::to_py(secagg::Error::Dp(DpError::BudgetExhausted {
                    epsilon: Number(eps),
                    budget: Number(b.epsilon),
                }));
                Python::attach(|py| {
                    let v = err.value(py);
                    let _ = v.setattr("delta", b.delta);
                    let _ = v.setattr("rounds", self.rounds);
                });
                return Err(err);
            }
        }
        self.spent = total;
        self.rounds += rounds;
        Ok(eps)
    }

    /// The running ε that :meth:`step` with the same arguments would return, without
    /// spending anything.
    #[pyo3(signature = (rounds=1, *, survivors=None, sampling_rate=None, session=None, delta=None))]
    fn epsilon_if(
        &self,
        rounds: u64,
        survivors: Option<usize>,
        sampling_rate: Option<f64>,
        session: Option<PyRef<'_, Config>>,
        delta: Option<f64>,
    ) -> PyResult<f64> {
        let delta = delta.unwrap_or(self.delta);
        Ok(self
            .after(rounds, survivors, sampling_rate, session, delta)?
            .1)
    }

    /// The running ε after the rounds stepped (0 before any), at ``delta`` (default:
    /// the accountant's).
    #[pyo3(signature = (delta=None))]
    fn epsilon(&self, delta: Option<f64>) -> PyResult<f64> {
        Self::epsilon_of(&self.spent, self.rounds, delta.unwrap_or(self.delta))
    }

    /// ``(epsilon, delta)`` spent so far, at the accountant's δ.
    fn spent(&self) -> PyResult<(f64, f64)> {
        Ok((self.epsilon(None)?, self.delta))
    }

    /// Rounds stepped so far.
    #[getter]
    fn rounds(&self) -> u64 {
        self.rounds
    }

    /// The composed RDP of the rounds stepped, at each of :data:`RDP_ORDERS`.
    #[getter]
    fn rdp(&self) -> Vec<f64> {
        self.spent.clone()
    }

    /// The RDP of one planned round (at the sampling rate), at each of
    /// :data:`RDP_ORDERS`.
    fn round_rdp_planned(&self) -> Vec<f64> {
        self.plan.per_round_rdp().to_vec()
    }

    /// ε after ``rounds`` planned rounds (fewest planned survivors, the accountant's
    /// sampling rate), at ``delta``; nothing is spent.
    #[pyo3(signature = (rounds, delta=None))]
    fn epsilon_after(&self, rounds: u64, delta: Option<f64>) -> PyResult<f64> {
        Ok(self
            .plan
            .privacy_after(rounds, delta.unwrap_or(self.delta))
            .dp()?
            .epsilon)
    }

    /// The most planned rounds within ``budget`` (a :class:`Budget` or ``(epsilon,
    /// delta)``); 0 when one round exceeds it.
    fn max_rounds(&self, budget: &Bound<'_, PyAny>) -> PyResult<u64> {
        self.plan.max_rounds(budget_of(budget)?).dp()
    }

    /// ``'ddg'`` or ``'skellam'``.
    #[getter]
    fn mechanism(&self) -> &'static str {
        self.params.mechanism.name()
    }

    /// Clients per session ``n``.
    #[getter]
    fn clients(&self) -> usize {
        self.params.n
    }

    /// The fewest survivors the noise is calibrated for.
    #[getter]
    fn min_survivors(&self) -> usize {
        self.params.min_survivors
    }

    /// Clients assumed to collude with the server (their noise does not count).
    #[getter]
    fn colluding(&self) -> usize {
        self.params.colluding
    }

    /// ``min_survivors - colluding``: the noise contributions a planned round counts.
    #[getter]
    fn noisy_clients(&self) -> usize {
        self.noisy
    }

    /// The noise multiplier: the planned round's noise stddev over ``clip``.
    #[getter]
    fn noise_multiplier(&self) -> f64 {
        self.params.noise_multiplier
    }

    /// Standard deviation of the planned round's summed noise (float units).
    #[getter]
    fn noise_stddev(&self) -> f64 {
        (self.noisy as f64 * self.params.variance).sqrt() * self.params.gamma
    }

    /// Per-client noise variance in grid units.
    #[getter]
    fn client_variance(&self) -> f64 {
        self.params.variance
    }

    /// The sampling rate ``q`` of the planned rounds.
    #[getter]
    fn sampling_rate(&self) -> f64 {
        self.sampling_rate
    }

    /// δ of the reported guarantees.
    #[getter]
    fn delta(&self) -> f64 {
        self.delta
    }

    /// The resolved run, with the keys and values of ``secagg dp ... --json`` (ε after
    /// the ``rounds`` given at construction).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = &self.params;
        let run = self.plan.rdp_after(self.rounds_planned);
        let (epsilon, order) = rdp_to_dp(&run, self.delta).dp()?;
        let one = core_acct::Accountant::new(*self.plan.round(), 1.0)
            .dp()?
            .privacy_after(1, self.delta)
            .dp()?
            .epsilon;
        let g2 = p.gamma * p.gamma;
        let per_client = p.variance * g2 + g2 / 4.0;
        let dim: usize = p.dims.iter().sum();
        Ok(py_dict!(py;
            "mechanism" => p.mechanism.name(), "clients" => p.n,
            "min_survivors" => p.min_survivors, "colluding" => p.colluding,
            "noisy_clients" => self.noisy, "clip" => p.clip, "bits" => p.bits,
            "gamma" => p.gamma, "ring_bits" => p.ring_bits, "dim" => dim,
            "padded_dim" => p.total_padded(), "beta" => p.beta,
            "l2_sensitivity" => p.l2_sensitivity(), "noise_multiplier" => p.noise_multiplier,
            "local_variance" => p.variance, "noise_stddev" => self.noise_stddev(),
            "tau" => self.plan.round().tau(), "rounds" => self.rounds_planned,
            "sampling_rate" => self.sampling_rate, "epsilon" => epsilon,
            "delta" => self.delta, "rdp_order" => order, "epsilon_round_unsampled" => one,
            "mse_mean_per_coordinate" => per_client / p.min_survivors as f64,
            "mse_mean" => per_client / p.min_survivors as f64 * dim as f64,
            "mse_mean_full_participation" => per_client / p.n as f64 * dim as f64,
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "Accountant(mechanism='{}', clients={}, noise_multiplier={:.6}, sampling_rate={}, \
             rounds={}, epsilon={:.6}, delta={})",
            self.params.mechanism.name(),
            self.params.n,
            self.params.noise_multiplier,
            self.sampling_rate,
            self.rounds,
            self.epsilon(None).unwrap_or(f64::NAN),
            self.delta
        )
    }
}

/// The RDP at integer ``order >= 2`` of the Poisson-subsampled **continuous** Gaussian
/// mechanism of noise multiplier ``noise_multiplier`` at ``sampling_rate`` (Mironov,
/// Talwar, Zhang 2019; what TensorFlow Privacy's ``compute_rdp`` gives for one step):
/// the reference the discrete mechanisms approach.
#[pyfunction]
pub fn gaussian_rdp(noise_multiplier: f64, sampling_rate: f64, order: u32) -> PyResult<f64> {
    if !(noise_multiplier > 0.0 && noise_multiplier.is_finite()) {
        return Err(invalid("noise multiplier", "positive and finite")).dp();
    }
    if !(sampling_rate > 0.0 && sampling_rate <= 1.0) {
        return Err(invalid("sampling rate", "in (0, 1]")).dp();
    }
    if order < 2 {
        return Err(invalid("order", ">= 2")).dp();
    }
    Ok(core_acct::gaussian_subsampled_rdp(
        noise_multiplier,
        sampling_rate,
        order,
    ))
}

/// ``(epsilon, order)`` from RDP values at :data:`RDP_ORDERS` (one per order) at
/// ``delta``: the conversion of Canonne, Kamath, Steinke / Balle et al., or with
/// ``classic=True`` Mironov's ``rho + log(1/delta)/(alpha - 1)``.
#[pyfunction]
#[pyo3(signature = (rdp, delta, *, classic=false))]
pub fn rdp_to_epsilon(rdp: Vec<f64>, delta: f64, classic: bool) -> PyResult<(f64, u32)> {
    if rdp.len() != ORDERS.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "one RDP value per order: {} values, {} orders",
            rdp.len(),
            ORDERS.len()
        )));
    }
    if classic {
        rdp_to_dp_classic(&rdp, delta).dp()
    } else {
        rdp_to_dp(&rdp, delta).dp()
    }
}

/// Adds the accountant's classes, functions and ``RDP_ORDERS``.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Budget>()?;
    m.add_class::<Accountant>()?;
    m.add_function(wrap_pyfunction!(gaussian_rdp, m)?)?;
    m.add_function(wrap_pyfunction!(rdp_to_epsilon, m)?)?;
    m.add("RDP_ORDERS", PyTuple::new(m.py(), ORDERS)?)?;
    Ok(())
}
