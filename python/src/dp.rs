//! `secagg.DistributedDP`: the distributed differential-privacy configuration a
//! `secagg.Config(..., dp=...)` takes (`secagg::dp::pipeline::DistributedDp`), and the
//! reports of a DP session: its resolved parameters and the noise of a sum.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use secagg::dp::pipeline::{
    DistributedDp, DpNoise, DpParams, Noise, DEFAULT_BETA, DEFAULT_DELTA, DEFAULT_K_STDDEVS,
};
use secagg::dp::Mechanism;

use crate::config::Config;
use crate::errors::IntoPy;

/// Distributed differential privacy for a session: every client adds its share of
/// integer noise (the distributed discrete Gaussian, ``'ddg'``, or distributed Skellam,
/// ``'skellam'``) to its rotated, rounded update before masking, so the sum the server
/// unmasks is noised.
///
/// Give exactly one of ``noise_multiplier`` (the sum of the fewest planned honest
/// survivors carries noise of standard deviation ``noise_multiplier * clip``) and
/// ``epsilon`` (the least noise for which one round is ``(epsilon, delta)``-DP). With
/// ``dp=`` the session's ``clip`` is the L2 bound of a client's update and ``bits`` the
/// grid (``clip / step = 2**(bits - 1)``); every parameter is bound into the session id
/// (docs/differential-privacy.md).
#[pyclass(module = "secagg", frozen)]
#[derive(Clone)]
pub struct DistributedDP {
    pub(crate) inner: DistributedDp,
}

pub(crate) fn mechanism(name: &str) -> PyResult<Mechanism> {
    Mechanism::from_name(name)
        .ok_or_else(|| PyValueError::new_err(format!("mechanism {name:?}: 'ddg' or 'skellam'")))
}

#[pymethods]
impl DistributedDP {
    #[new]
    #[pyo3(signature = (
        *, noise_multiplier=None, epsilon=None, delta=DEFAULT_DELTA, mechanism="ddg",
        beta=DEFAULT_BETA, k_stddevs=DEFAULT_K_STDDEVS, min_survivors=None, colluding=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        noise_multiplier: Option<f64>,
        epsilon: Option<f64>,
        delta: f64,
        mechanism: &str,
        beta: f64,
        k_stddevs: f64,
        min_survivors: Option<usize>,
        colluding: Option<usize>,
    ) -> PyResult<Self> {
        let noise = match (noise_multiplier, epsilon) {
            (Some(z), None) => Noise::Multiplier(z),
            (None, Some(e)) => Noise::Epsilon(e),
            _ => {
                return Err(PyValueError::new_err(
                    "give exactly one of noise_multiplier and epsilon",
                ))
            }
        };
        Ok(Self {
            inner: DistributedDp {
                mechanism: self::mechanism(mechanism)?,
                noise,
                delta,
                beta,
                k_stddevs,
                min_survivors,
                colluding,
            },
        })
    }

    /// ``'ddg'`` or ``'skellam'``.
    #[getter]
    fn mechanism(&self) -> &'static str {
        self.inner.mechanism.name()
    }

    /// The noise multiplier asked for, or ``None`` when ``epsilon`` was.
    #[getter]
    fn noise_multiplier(&self) -> Option<f64> {
        match self.inner.noise {
            Noise::Multiplier(z) => Some(z),
            Noise::Epsilon(_) => None,
        }
    }

    /// The target ε per round, or ``None`` when a noise multiplier was given.
    #[getter]
    fn epsilon(&self) -> Option<f64> {
        match self.inner.noise {
            Noise::Epsilon(e) => Some(e),
            Noise::Multiplier(_) => None,
        }
    }

    /// δ of the guarantee.
    #[getter]
    fn delta(&self) -> f64 {
        self.inner.delta
    }

    /// Keyword arguments that rebuild this configuration: ``DistributedDP(**d)``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dp = &self.inner;
        Ok(py_dict!(py;
            "noise_multiplier" => self.noise_multiplier(), "epsilon" => self.epsilon(),
            "delta" => dp.delta, "mechanism" => dp.mechanism.name(), "beta" => dp.beta,
            "k_stddevs" => dp.k_stddevs, "min_survivors" => dp.min_survivors,
            "colluding" => dp.colluding,
        ))
    }

    fn __repr__(&self) -> String {
        let noise = match self.inner.noise {
            Noise::Multiplier(z) => format!("noise_multiplier={z}"),
            Noise::Epsilon(e) => format!("epsilon={e}"),
        };
        format!(
            "DistributedDP({noise}, delta={}, mechanism='{}')",
            self.inner.delta,
            self.inner.mechanism.name()
        )
    }
}

/// A `dp=` argument: a :class:`DistributedDP` or the dictionary of its ``to_dict()``
/// (what ``Config.to_dict()`` carries).
pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<DistributedDp> {
    if let Ok(dp) = obj.extract::<PyRef<'_, DistributedDP>>() {
        return Ok(dp.inner);
    }
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| PyValueError::new_err("dp must be a secagg.DistributedDP or its to_dict()"))?;
    let get = |k: &str| d.get_item(k).ok().flatten();
    let f =
        |k: &str, default: f64| -> PyResult<f64> { get(k).map_or(Ok(default), |v| v.extract()) };
    let opt_f = |k: &str| -> PyResult<Option<f64>> { get(k).map_or(Ok(None), |v| v.extract()) };
    let opt_u = |k: &str| -> PyResult<Option<usize>> { get(k).map_or(Ok(None), |v| v.extract()) };
    let mech: String = get("mechanism").map_or(Ok("ddg".to_string()), |v| v.extract())?;
    Ok(DistributedDP::new(
        opt_f("noise_multiplier")?,
        opt_f("epsilon")?,
        f("delta", DEFAULT_DELTA)?,
        &mech,
        f("beta", DEFAULT_BETA)?,
        f("k_stddevs", DEFAULT_K_STDDEVS)?,
        opt_u("min_survivors")?,
        opt_u("colluding")?,
    )?
    .inner)
}

/// The `dp` entry of `Config.to_dict()`.
pub(crate) fn to_py<'py>(py: Python<'py>, dp: &DistributedDp) -> PyResult<Bound<'py, PyDict>> {
    DistributedDP { inner: *dp }.to_dict(py)
}

/// The resolved parameters of a DP session, as a dictionary.
pub(crate) fn params_dict<'py>(py: Python<'py>, p: &DpParams) -> PyResult<Bound<'py, PyDict>> {
    Ok(py_dict!(py;
        "mechanism" => p.mechanism.name(), "clip" => p.clip, "bits" => p.bits,
        "grid_step" => p.gamma, "ring_bits" => p.ring_bits, "padded_dims" => p.padded.clone(),
        "client_variance" => p.variance,
        "client_variance_exact" => (p.variance_num, p.variance_den),
        "beta" => p.beta, "norm_bound_sq" => p.norm_bound_sq, "k_stddevs" => p.k_stddevs,
        "min_survivors" => p.min_survivors, "colluding" => p.colluding,
        "epsilon" => p.epsilon, "delta" => p.delta, "noise_multiplier" => p.noise_multiplier,
    ))
}

fn noise_dict<'py>(py: Python<'py>, n: &DpNoise) -> PyResult<Bound<'py, PyDict>> {
    Ok(py_dict!(py;
        "mechanism" => n.mechanism.name(), "included" => n.included,
        "noise_clients" => n.noise_clients, "calibrated_for" => n.calibrated_for,
        "noise_variance" => n.noise_variance, "noise_stddev" => n.noise_stddev,
        "rounding_variance_bound" => n.rounding_variance_bound, "epsilon" => n.epsilon,
        "delta" => n.delta, "below_target" => n.below_target,
    ))
}

/// The noise a DP session's decoded sum of ``included`` clients carries and the
/// guarantee of its round: ``noise_variance`` and ``noise_stddev`` per coordinate (float
/// units), ``rounding_variance_bound``, ``epsilon`` at ``delta`` for the clients whose
/// noise counts, ``below_target`` when fewer clients than planned were included.
///
/// Raises ``MisuseError`` for a session without DP or more than ``n`` clients.
#[pyfunction]
pub fn dp_noise<'py>(
    py: Python<'py>,
    config: PyRef<'py, Config>,
    included: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let p = config.session.dp().ok_or_else(|| {
        crate::errors::misuse(
            "InvalidParameter",
            "the session has no DP (Config(..., dp=...))".into(),
        )
    })?;
    if included > p.n {
        return Err(crate::errors::misuse(
            "TooManyIncluded",
            format!("{included} included clients, the session has {}", p.n),
        ));
    }
    let n = p.noise_report(included).py_err()?;
    noise_dict(py, &n)
}
