//! `secagg._secagg._drive_in_rust`: the byte-level session loop of the Python tests and
//! benchmarks, written in Rust, so that one run can time the same work with and without
//! the Python layer (the bindings' overhead).

use std::sync::Arc;
use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::{self as proto, ClientMessage, ServerMessage};
use secagg::ClientId;

use crate::arrays::Floats;
use crate::config::{encode_input, Config};
use crate::errors::IntoPy;
use crate::quant::seed32;

/// Drives one session exactly as a Python loop over ``Client``/``Server`` would, with
/// every message encoded and decoded, clients one after another (each one's mask
/// expansion still uses every core), nobody dropping out; times each client's calls and
/// the server's. Returns ``{"client_s": [per client total], "server_s": total,
/// "server_round_s": [per round], "included": n}``. For benchmarks only.
#[pyfunction]
#[pyo3(signature = (config, inputs, seed))]
pub fn _drive_in_rust<'py>(
    py: Python<'py>,
    config: &Config,
    inputs: Vec<Bound<'py, PyAny>>,
    seed: &[u8],
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = Arc::clone(config.inner());
    let n = cfg.n();
    if inputs.len() != n {
        return Err(PyValueError::new_err(format!("expected {n} inputs")));
    }
    let floats: Vec<Vec<Floats>> = inputs
        .iter()
        .map(|x| config.read_input(x))
        .collect::<PyResult<_>>()?;
    let session = &config.session;
    let seed = seed32(seed)?;
    let (client_t, server_rounds, included) = py
        .detach(
            || -> secagg::Result<(Vec<Duration>, Vec<Duration>, usize)> {
                let mut client_t = vec![Duration::ZERO; n];
                let mut rngs: Vec<_> = (0..n)
                    .map(|i| {
                        let mut s = seed;
                        s[..8].copy_from_slice(&(i as u64).to_le_bytes());
                        seeded_rng(s)
                    })
                    .collect();
                let mut clients = Vec::with_capacity(n);
                let mut inbox: Vec<(ClientId, Vec<u8>)> = Vec::with_capacity(n);
                for (i, x) in floats.iter().enumerate() {
                    let t0 = Instant::now();
                    let input = encode_input(session, x, 1, &mut rngs[i])?;
                    let (c, m) = proto::Client::new(
                        Arc::clone(&cfg),
                        i as ClientId,
                        input.into_vectors(),
                        None,
                        &mut rngs[i],
                    )?;
                    let bytes = m.encode(&cfg)?;
                    client_t[i] += t0.elapsed();
                    clients.push(c);
                    inbox.push((i as ClientId, bytes));
                }
                let mut server = proto::Server::new(Arc::clone(&cfg));
                let mut server_rounds = Vec::new();
                loop {
                    let t0 = Instant::now();
                    for (id, bytes) in &inbox {
                        server.receive(*id, ClientMessage::decode(&cfg, *id, bytes)?)?;
                    }
                    let out: Vec<(ClientId, Vec<u8>)> = server
                        .close_round()?
                        .into_iter()
                        .map(|(id, m)| Ok((id, m.encode(&cfg)?)))
                        .collect::<secagg::Result<_>>()?;
                    server_rounds.push(t0.elapsed());
                    if out.is_empty() {
                        break;
                    }
                    inbox.clear();
                    for (id, bytes) in out {
                        let i = id as usize;
                        let t0 = Instant::now();
                        let msg = ServerMessage::decode(&cfg, &bytes)?;
                        let reply = clients[i].handle(msg, &mut rngs[i])?.encode(&cfg)?;
                        client_t[i] += t0.elapsed();
                        inbox.push((id, reply));
                    }
                }
                let included = server.output().map_or(0, |o| o.included.len());
                Ok((client_t, server_rounds, included))
            },
        )
        .py_err()?;
    let d = PyDict::new(py);
    d.set_item(
        "client_s",
        client_t
            .iter()
            .map(Duration::as_secs_f64)
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "server_s",
        server_rounds.iter().map(Duration::as_secs_f64).sum::<f64>(),
    )?;
    d.set_item(
        "server_round_s",
        server_rounds
            .iter()
            .map(Duration::as_secs_f64)
            .collect::<Vec<_>>(),
    )?;
    d.set_item("included", included)?;
    Ok(d)
}
