//! `secagg.simulate`: one call runs a whole session in process (the Rust simulator).

use std::collections::HashMap;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::ring::RingVec;
use secagg::sim::{self, ClientExecution, DropSchedule};
use secagg::ClientId;

use crate::arrays::Floats;
use crate::config::{encode_input, key32, os_seed, parse_round, Config};
use crate::errors::IntoPy;
use crate::quant::{seed32, Aggregate};

/// What :func:`simulate` returns.
#[pyclass(module = "secagg", frozen)]
pub struct Simulation {
    aggregate: Py<Aggregate>,
    rounds: Vec<Py<PyDict>>,
    client_aborts: Vec<(ClientId, String)>,
    clipped: Vec<usize>,
}

#[pymethods]
impl Simulation {
    /// The decoded float sum of the included clients, with ``included`` set.
    #[getter]
    fn aggregate(&self, py: Python<'_>) -> Py<Aggregate> {
        self.aggregate.clone_ref(py)
    }

    /// Per-round figures measured inside Rust: dicts with ``round``,
    /// ``active_clients``, ``client_mean_s``, ``client_max_s`` (one client's handler),
    /// ``server_s`` (ingesting the round's messages and closing it),
    /// ``client_messages`` and ``server_messages``.
    #[getter]
    fn rounds(&self, py: Python<'_>) -> Vec<Py<PyDict>> {
        self.rounds.iter().map(|d| d.clone_ref(py)).collect()
    }

    /// ``(client_id, message)`` for clients that aborted on a server message (none
    /// when the server is honest).
    #[getter]
    fn client_aborts(&self) -> Vec<(ClientId, String)> {
        self.client_aborts.clone()
    }

    /// Per client, how many input elements were clipped.
    #[getter]
    fn clipped(&self) -> Vec<usize> {
        self.clipped.clone()
    }

    /// Mean client time over the whole session (seconds): the sum over rounds of each
    /// round's mean client handler time.
    #[getter]
    fn client_total_s(&self, py: Python<'_>) -> PyResult<f64> {
        let mut t = 0.0;
        for r in &self.rounds {
            if let Some(v) = r.bind(py).get_item("client_mean_s")? {
                t += v.extract::<f64>()?;
            }
        }
        Ok(t)
    }

    /// Server time over the whole session (seconds).
    #[getter]
    fn server_total_s(&self, py: Python<'_>) -> PyResult<f64> {
        let mut t = 0.0;
        for r in &self.rounds {
            if let Some(v) = r.bind(py).get_item("server_s")? {
                t += v.extract::<f64>()?;
            }
        }
        Ok(t)
    }
}

/// Runs a whole session in process: every client and the server, with a drop-out
/// schedule; no bytes are encoded (messages pass as values), so this measures the
/// protocol itself.
///
/// ``inputs``: one input per client, in the forms :class:`Client` takes (``n`` float
/// arrays of ``config.dim`` elements, or an ``n x dim`` array; for a ``vectors``
/// session, ``n`` dicts or lists of arrays).
/// ``weights``: one integer per client when ``config`` is weighted. ``drop``: ``{id:
/// round}``, the client goes silent from that round on (a round name such as
/// ``'MaskedInputCollection'`` or its number). ``signing_keys``: one 32-byte Ed25519
/// secret per client, in the malicious model. ``seed``: makes keys, masks and rounding
/// deterministic. ``sequential``: run each round's clients one after the other (each
/// client's mask expansion then has every core to itself, as on a real device) instead
/// of all at once.
///
/// Raises ``ThresholdError`` (and the like) when the server aborts.
#[pyfunction]
#[pyo3(signature = (config, inputs, *, weights=None, drop=None, signing_keys=None, seed=None, sequential=false))]
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    py: Python<'_>,
    config: &Config,
    inputs: Vec<Bound<'_, PyAny>>,
    weights: Option<Vec<u64>>,
    drop: Option<HashMap<ClientId, Bound<'_, PyAny>>>,
    signing_keys: Option<Vec<Vec<u8>>>,
    seed: Option<&[u8]>,
    sequential: bool,
) -> PyResult<Simulation> {
    let cfg = Arc::clone(config.inner());
    let n = cfg.n();
    if inputs.len() != n {
        return Err(PyValueError::new_err(format!(
            "expected {n} inputs, got {}",
            inputs.len()
        )));
    }
    let weights = weights.unwrap_or_else(|| vec![1; n]);
    if weights.len() != n {
        return Err(PyValueError::new_err(format!(
            "expected {n} weights, got {}",
            weights.len()
        )));
    }
    let floats: Vec<Vec<Floats>> = inputs
        .iter()
        .map(|x| config.read_input(x))
        .collect::<PyResult<_>>()?;
    let session = &config.session;
    let mut schedule = DropSchedule::none(n);
    for (id, round) in drop.unwrap_or_default() {
        if id as usize >= n {
            return Err(PyValueError::new_err(format!("no client {id}")));
        }
        schedule.set(id, Some(parse_round(&round)?));
    }
    let keys = signing_keys
        .map(|ks| {
            ks.iter()
                .map(|k| key32("a signing key", k).map(|k| SigningKey::from_bytes(&k)))
                .collect::<PyResult<Vec<_>>>()
        })
        .transpose()?;
    let seed = match seed {
        Some(s) => seed32(s)?,
        None => os_seed(),
    };

    let (report, clipped) = py
        .detach(|| -> Result<_, secagg::Error> {
            let mut encoded: Vec<Vec<RingVec>> = Vec::with_capacity(n);
            let mut clipped = Vec::with_capacity(n);
            // Rounding draws from its own stream, separate from the simulator's key and
            // mask streams (which it derives from `seed` itself).
            let mut rounding = seeded_rng(seed);
            rounding.fill_bytes(&mut [0u8; 32]); // skip: never reuse `seed` as a key
            for (x, &w) in floats.iter().zip(&weights) {
                let mut client_seed = [0u8; 32];
                rounding.fill_bytes(&mut client_seed);
                let mut rng = seeded_rng(client_seed);
                let e = encode_input(session, x, w, &mut rng)?;
                clipped.push(e.clipped());
                encoded.push(e.into_vectors());
            }
            let execution = if sequential {
                ClientExecution::Sequential
            } else {
                ClientExecution::Parallel
            };
            let report = sim::run_with(Arc::clone(&cfg), encoded, keys, &schedule, seed, execution)
                .map_err(|abort| abort.error)?;
            Ok((report, clipped))
        })
        .py_err()?;

    let aggregate = Py::new(
        py,
        crate::config::decode_output(py, &config.session, &config.layout, &report.output)?,
    )?;
    let rounds = report
        .rounds
        .iter()
        .map(|r| -> PyResult<Py<PyDict>> {
            let d = PyDict::new(py);
            d.set_item("round", r.round.name())?;
            d.set_item("active_clients", r.active_clients)?;
            d.set_item("client_mean_s", r.client_mean.as_secs_f64())?;
            d.set_item("client_max_s", r.client_max.as_secs_f64())?;
            d.set_item("server_s", r.server.as_secs_f64())?;
            d.set_item("client_messages", r.client_messages)?;
            d.set_item("server_messages", r.server_messages)?;
            Ok(d.unbind())
        })
        .collect::<PyResult<_>>()?;
    if !report.is_correct() {
        // The simulator checks the ring sum against the plaintext sum of the included
        // clients; a mismatch is a bug in secagg, never an input error.
        return Err(PyRuntimeError::new_err(
            "internal error: the unmasked sum differs from the plaintext sum",
        ));
    }
    Ok(Simulation {
        aggregate,
        rounds,
        client_aborts: report
            .client_aborts
            .iter()
            .map(|(id, e)| (*id, e.to_string()))
            .collect(),
        clipped,
    })
}
