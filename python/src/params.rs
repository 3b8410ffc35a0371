//! `secagg.find_params` / `secagg.check_params`: the SecAgg+ graph degree and threshold.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use secagg::protocol::params::{self, ParamQuery, Params, ThreatModel};

use crate::errors::IntoPy;

/// Parses `"semi-honest"` / `"malicious"`.
pub fn threat(name: &str) -> PyResult<ThreatModel> {
    match name {
        "semi-honest" => Ok(ThreatModel::SemiHonest),
        "malicious" => Ok(ThreatModel::Malicious),
        other => Err(PyValueError::new_err(format!(
            "threat must be 'semi-honest' or 'malicious', not {other:?}"
        ))),
    }
}

fn query(
    n: usize,
    dropout: f64,
    corrupt: f64,
    threat_name: &str,
    sigma: f64,
    eta: f64,
) -> PyResult<ParamQuery> {
    Ok(ParamQuery {
        sigma,
        eta,
        ..ParamQuery::new(n, dropout, corrupt, threat(threat_name)?)
    })
}

fn to_dict<'py>(py: Python<'py>, p: &Params) -> PyResult<Bound<'py, PyDict>> {
    Ok(py_dict!(py;
        "n" => p.n, "degree" => p.degree, "threshold" => p.threshold,
        "complete" => p.complete, "max_corrupt" => p.max_corrupt,
        "max_dropped" => p.max_dropped, "log2_disconnect" => p.log2_disconnect,
        "log2_corrupt" => p.log2_corrupt, "log2_security" => p.log2_security,
        "log2_failure" => p.log2_failure,
    ))
}

/// The smallest even SecAgg+ graph degree ``k`` and a threshold ``t`` for ``n`` clients,
/// a dropout rate and a corrupt-client rate (both in ``[0, 1)``, default 0.1 each, as
/// :class:`Config` and the command line), such that privacy fails
/// with probability at most ``2**-sigma`` and the protocol aborts with probability at
/// most ``2**-eta``; the complete graph (plain SecAgg, ``k = n - 1``) when no sparse
/// graph works. With a positive dropout rate it plans for at least one drop-out from
/// ``n = 4`` on (``max_dropped >= 1``), even where ``floor(dropout * n)`` is 0.
///
/// Returns a dict: ``n, degree, threshold, complete, max_corrupt, max_dropped,
/// log2_disconnect, log2_corrupt, log2_security, log2_failure``. Raises
/// ``MisuseError`` when no parameters meet the targets or an argument is out of range.
#[pyfunction]
#[pyo3(signature = (n, dropout=0.1, corrupt=0.1, threat="semi-honest", sigma=40.0, eta=20.0))]
pub fn find_params<'py>(
    py: Python<'py>,
    n: usize,
    dropout: f64,
    corrupt: f64,
    threat: &str,
    sigma: f64,
    eta: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let q = query(n, dropout, corrupt, threat, sigma, eta)?;
    let p = py.detach(|| params::find_params(&q)).py_err()?;
    to_dict(py, &p)
}

/// Checks a caller-chosen ``(degree, threshold)`` against the same targets as
/// :func:`find_params`; returns the same dict, or raises ``MisuseError`` saying which
/// bound fails.
#[pyfunction]
#[pyo3(signature = (n, dropout, corrupt, degree, threshold, threat="semi-honest", sigma=40.0, eta=20.0))]
#[allow(clippy::too_many_arguments)]
pub fn check_params<'py>(
    py: Python<'py>,
    n: usize,
    dropout: f64,
    corrupt: f64,
    degree: usize,
    threshold: usize,
    threat: &str,
    sigma: f64,
    eta: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let q = query(n, dropout, corrupt, threat, sigma, eta)?;
    let p = py
        .detach(|| params::check_params(&q, degree, threshold))
        .py_err()?;
    to_dict(py, &p)
}
