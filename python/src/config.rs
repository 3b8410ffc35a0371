//! `secagg.Config`: the parameters of one session, shared by its client, server and
//! simulation bindings; and the helpers they share.

use std::sync::Arc;

use ed25519_dalek::{SigningKey, VerifyingKey};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rand_chacha::ChaCha20Rng;
use secagg::crypto::rng::{os_rng, seeded_rng, Rng};
use secagg::protocol as proto;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::params::{self as sparams, ParamQuery, ThreatModel};
use secagg::quantize;
use secagg::ring::{Ring, RingVec};
use secagg::{ClientId, Round};

use crate::arrays::Floats;
use crate::errors::IntoPy;
use crate::params::threat as parse_threat;
use crate::quant::{self, Aggregate};

/// 32 fresh bytes from the operating system.
pub fn os_seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    os_rng().fill_bytes(&mut s);
    s
}

fn threat_name(t: ThreatModel) -> &'static str {
    match t {
        ThreatModel::SemiHonest => "semi-honest",
        ThreatModel::Malicious => "malicious",
    }
}

pub(crate) fn key32(what: &str, b: &[u8]) -> PyResult<[u8; 32]> {
    b.try_into()
        .map_err(|_| PyValueError::new_err(format!("{what} must be 32 bytes, got {}", b.len())))
}

fn verifying_key(i: usize, b: &[u8]) -> PyResult<VerifyingKey> {
    VerifyingKey::from_bytes(&key32("a verifying key", b)?).map_err(|_| {
        PyValueError::new_err(format!("verifying key {i} is not an Ed25519 public key"))
    })
}

/// Label that starts the context the bindings hand to the Rust configuration.
pub const FLOAT_CONTEXT_LABEL: &[u8] = b"secagg-python/float/1";

/// The context bytes bound into the session id: the float encoding, which the Rust
/// configuration does not know (it sees only ring words), then the caller's context.
/// Parties that disagree on how floats are encoded then never share a session.
///
/// `label || clip (f64 bits, big-endian) || bits (u8) || max_weight (u64 big-endian, 0
/// when unweighted) || rounding (u8: 0 stochastic, 1 deterministic) || context`.
fn bound_context(q: &quantize::Quantizer, context: &[u8]) -> Vec<u8> {
    let c = q.config();
    let mut out = Vec::with_capacity(FLOAT_CONTEXT_LABEL.len() + 18 + context.len());
    out.extend_from_slice(FLOAT_CONTEXT_LABEL);
    out.extend_from_slice(&c.clip.to_bits().to_be_bytes());
    // bits <= 53 was checked by `Quantizer::new`.
    out.push(c.bits as u8);
    out.extend_from_slice(&c.max_weight.unwrap_or(0).to_be_bytes());
    out.push(match c.rounding {
        quantize::Rounding::Stochastic => 0,
        quantize::Rounding::Deterministic => 1,
    });
    out.extend_from_slice(context);
    out
}

/// The session parameters every party must agree on.
///
/// ``n`` clients (ids ``0 .. n-1``) each contribute a float vector of ``dim`` elements,
/// clipped to ``[-clip, clip]`` and quantized to ``bits`` bits (weighted by an integer in
/// ``1..max_weight`` when ``max_weight`` is set). The graph and threshold are chosen by
/// :func:`find_params` from ``dropout`` and ``corrupt`` unless given: ``threshold``
/// alone selects the complete graph (SecAgg), ``degree`` and ``threshold`` a SecAgg+
/// Harary graph drawn from the public ``graph_seed`` (random when not given).
///
/// Every party must build an identical ``Config``: the server can send
/// :meth:`to_dict` to the clients, which rebuild it with ``Config(**d)``. Every
/// parameter, the float encoding (``clip``, ``bits``, ``max_weight``, ``rounding``)
/// and ``context`` (e.g. a model hash and round number) are bound into the session id.
#[pyclass(module = "secagg", frozen)]
pub struct Config {
    pub(crate) inner: Arc<proto::Config>,
    pub(crate) quantizer: quantize::Quantizer,
    dim: usize,
    degree: Option<usize>,
    graph_seed: [u8; 32],
    dropout: f64,
    corrupt: f64,
    context: Vec<u8>,
    threat: ThreatModel,
    verifying_keys: Vec<[u8; 32]>,
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (
        n, dim, *, threshold=None, degree=None, dropout=0.1, corrupt=0.1, graph_seed=None,
        clip=1.0, bits=16, ring_bits=None, max_weight=None, rounding="stochastic",
        context=b"".as_slice(), threat="semi-honest", verifying_keys=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        n: usize,
        dim: usize,
        threshold: Option<usize>,
        degree: Option<usize>,
        dropout: f64,
        corrupt: f64,
        graph_seed: Option<&[u8]>,
        clip: f64,
        bits: u32,
        ring_bits: Option<u32>,
        max_weight: Option<u64>,
        rounding: &str,
        context: &[u8],
        threat: &str,
        verifying_keys: Option<Vec<Vec<u8>>>,
    ) -> PyResult<Self> {
        let threat = parse_threat(threat)?;
        let (degree, threshold) = match (degree, threshold) {
            (Some(k), Some(t)) => (Some(k), t),
            (None, Some(t)) => (None, t),
            (Some(_), None) => {
                return Err(PyValueError::new_err(
                    "degree needs a threshold (or give neither and let find_params choose)",
                ))
            }
            (None, None) => {
                let q = ParamQuery::new(n, dropout, corrupt, threat);
                let p = py.detach(|| sparams::find_params(&q)).py_err()?;
                ((!p.complete).then_some(p.degree), p.threshold)
            }
        };
        let graph_seed = match graph_seed {
            Some(s) => key32("graph_seed", s)?,
            None => os_seed(),
        };
        let quantizer = quant::config(clip, bits, n, ring_bits, max_weight, rounding)?;
        let ring = Ring::pow2(quantizer.config().ring_bits).py_err()?;
        let spec = match degree {
            Some(degree) => GraphSpec::Harary {
                degree,
                seed: graph_seed,
            },
            None => GraphSpec::Complete,
        };
        let mut builder = proto::Config::builder(n, threshold)
            .graph(spec)
            .vector("", quantizer.encoded_len(dim), ring)
            .context(bound_context(&quantizer, context));
        let mut vks = Vec::new();
        match threat {
            ThreatModel::SemiHonest => {
                if verifying_keys.is_some() {
                    return Err(PyValueError::new_err(
                        "verifying_keys are only used with threat='malicious'",
                    ));
                }
                builder = builder.semi_honest();
            }
            ThreatModel::Malicious => {
                let keys = verifying_keys.ok_or_else(|| {
                    PyValueError::new_err(
                        "threat='malicious' needs verifying_keys (one per client)",
                    )
                })?;
                let mut parsed = Vec::with_capacity(keys.len());
                for (i, k) in keys.iter().enumerate() {
                    parsed.push(verifying_key(i, k)?);
                    vks.push(key32("a verifying key", k)?);
                }
                builder = builder.malicious(parsed);
            }
        }
        let inner = py.detach(|| builder.build()).py_err()?;
        Ok(Self {
            inner: Arc::new(inner),
            quantizer,
            dim,
            degree,
            graph_seed,
            dropout,
            corrupt,
            context: context.to_vec(),
            threat,
            verifying_keys: vks,
        })
    }

    /// Number of clients.
    #[getter]
    fn n(&self) -> usize {
        self.inner.n()
    }

    /// Float elements per client vector.
    #[getter]
    fn dim(&self) -> usize {
        self.dim
    }

    /// Shamir threshold.
    #[getter]
    fn threshold(&self) -> usize {
        self.inner.threshold()
    }

    /// Harary graph degree, or ``None`` for the complete graph.
    #[getter]
    fn degree(&self) -> Option<usize> {
        self.degree
    }

    /// The public seed of the Harary graph.
    #[getter]
    fn graph_seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.graph_seed)
    }

    /// The 32-byte session id (SHA-256 over every parameter, the float encoding and the
    /// context).
    #[getter]
    fn session_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.session_id())
    }

    /// ``'semi-honest'`` or ``'malicious'``.
    #[getter]
    fn threat(&self) -> &'static str {
        threat_name(self.threat)
    }

    /// The float encoding used by clients and the server.
    #[getter]
    fn quantizer(&self) -> quant::Quantizer {
        quant::Quantizer {
            inner: self.quantizer.clone(),
        }
    }

    /// The neighbours of client ``id`` (sorted ids).
    fn neighbors(&self, id: ClientId) -> Vec<ClientId> {
        self.inner.graph().neighbors(id).to_vec()
    }

    /// Keyword arguments that rebuild this exact configuration: ``Config(**d)``. Values
    /// are ints, floats, strings, bytes, ``None`` and a list of bytes.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let q = self.quantizer.config();
        d.set_item("n", self.inner.n())?;
        d.set_item("dim", self.dim)?;
        d.set_item("threshold", self.inner.threshold())?;
        d.set_item("degree", self.degree)?;
        d.set_item("dropout", self.dropout)?;
        d.set_item("corrupt", self.corrupt)?;
        d.set_item("graph_seed", PyBytes::new(py, &self.graph_seed))?;
        d.set_item("clip", q.clip)?;
        d.set_item("bits", q.bits)?;
        d.set_item("ring_bits", q.ring_bits)?;
        d.set_item("max_weight", q.max_weight)?;
        d.set_item("rounding", quant::rounding_name(q.rounding))?;
        d.set_item("context", PyBytes::new(py, &self.context))?;
        d.set_item("threat", threat_name(self.threat))?;
        if self.threat == ThreatModel::Malicious {
            let keys: Vec<Bound<'py, PyBytes>> = self
                .verifying_keys
                .iter()
                .map(|k| PyBytes::new(py, k))
                .collect();
            d.set_item("verifying_keys", keys)?;
        } else {
            d.set_item("verifying_keys", py.None())?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(n={}, dim={}, threshold={}, degree={}, threat='{}', ring_bits={})",
            self.inner.n(),
            self.dim,
            self.inner.threshold(),
            self.degree.map_or("None".to_owned(), |k| k.to_string()),
            threat_name(self.threat),
            self.quantizer.config().ring_bits
        )
    }
}

impl Config {
    /// Quantizes one client's floats into the session's single ring vector.
    pub(crate) fn encode_input(
        &self,
        x: &Floats,
        weight: u64,
        rng: &mut ChaCha20Rng,
    ) -> secagg::Result<(RingVec, usize)> {
        if x.len() != self.dim {
            return Err(secagg::Error::Misuse(
                secagg::Misuse::VectorLengthMismatch {
                    expected: self.dim,
                    found: x.len(),
                },
            ));
        }
        let out = match x {
            Floats::F32(v) => self.quantizer.quantize_weighted(v, weight, rng)?,
            Floats::F64(v) => self.quantizer.quantize_weighted(v, weight, rng)?,
        };
        let ring = Ring::pow2(self.quantizer.config().ring_bits)?;
        Ok((RingVec::from_u64s(&ring, out.words()), out.clipped()))
    }
}

/// Parses a signing key (32-byte Ed25519 secret).
pub(crate) fn parse_signing_key(b: Option<&[u8]>) -> PyResult<Option<SigningKey>> {
    b.map(|b| key32("signing_key", b).map(|k| SigningKey::from_bytes(&k)))
        .transpose()
}

/// Returns a fresh Ed25519 key pair ``(signing_key, verifying_key)`` (32 bytes each), for
/// the malicious model: each client keeps its signing key, and every party's
/// :class:`Config` lists all verifying keys. ``seed`` makes it deterministic (tests).
#[pyfunction]
#[pyo3(signature = (seed=None))]
pub fn signing_keypair<'py>(
    py: Python<'py>,
    seed: Option<&[u8]>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let seed = match seed {
        Some(s) => quant::seed32(s)?,
        None => os_seed(),
    };
    let sk = SigningKey::generate(&mut seeded_rng(seed));
    Ok((
        PyBytes::new(py, sk.as_bytes()),
        PyBytes::new(py, sk.verifying_key().as_bytes()),
    ))
}

/// Dequantizes the server's output into an [`Aggregate`] with `included` set.
pub(crate) fn decode_output(
    py: Python<'_>,
    quantizer: &quantize::Quantizer,
    output: &proto::Output,
) -> PyResult<Aggregate> {
    let words = output
        .sums
        .first()
        .map(RingVec::to_u64s)
        .unwrap_or_default();
    let clients = output.included.len();
    let agg = py
        .detach(|| quantizer.dequantize(&words, clients))
        .py_err()?;
    Ok(Aggregate::with_included(py, agg, output.included.clone()))
}

/// The Rust name of a round.
pub fn round_name(r: Round) -> &'static str {
    match r {
        Round::AdvertiseKeys => "AdvertiseKeys",
        Round::ShareKeys => "ShareKeys",
        Round::MaskedInputCollection => "MaskedInputCollection",
        Round::ConsistencyCheck => "ConsistencyCheck",
        Round::Unmasking => "Unmasking",
    }
}

/// A round from its name or number.
pub fn parse_round(obj: &Bound<'_, PyAny>) -> PyResult<Round> {
    if let Ok(n) = obj.extract::<u8>() {
        return Round::from_number(n)
            .ok_or_else(|| PyValueError::new_err(format!("no round number {n}")));
    }
    let name: String = obj.extract()?;
    Round::ALL
        .into_iter()
        .find(|r| round_name(*r) == name)
        .ok_or_else(|| PyValueError::new_err(format!("no round named {name:?}")))
}
