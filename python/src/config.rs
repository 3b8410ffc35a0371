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
use secagg::protocol::params::ThreatModel;
use secagg::session::{Encoded, FloatSession};
use secagg::{ClientId, Round};

use crate::arrays::Floats;
use crate::errors::{misuse, IntoPy};
use crate::layout::Layout;
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

/// The session parameters every party must agree on.
///
/// ``n`` clients (ids ``0 .. n-1``) each contribute either one float vector of ``dim``
/// elements or, with ``vectors``, a whole model: several named arrays, each of its own
/// shape (``vectors`` is a dict ``name -> shape`` where a shape is an int or a tuple of
/// ints, or ``name -> numpy array`` used as a template for its shape and dtype, or a list
/// of such, named ``"0"``, ``"1"``, ...). Exactly one of ``dim`` and ``vectors`` is
/// given. Every element is clipped to ``[-clip, clip]`` and quantized to ``bits`` bits (weighted by an integer in
/// ``1..max_weight`` when ``max_weight`` is set). The graph and threshold are chosen by
/// :func:`find_params` from ``dropout`` and ``corrupt`` unless given: ``threshold``
/// alone selects the complete graph (SecAgg), ``degree`` and ``threshold`` a SecAgg+
/// Harary graph drawn from the public ``graph_seed`` (random when not given).
///
/// Every party must build an identical ``Config``: the server can send
/// :meth:`to_dict` to the clients, which rebuild it with ``Config(**d)``. Every
/// parameter, the float encoding (``clip``, ``bits``, ``max_weight``, ``rounding``)
/// and ``context`` (e.g. a model hash and round number) are bound into the session id,
/// exactly as the Rust float session (`secagg::session`) binds them: the same
/// parameters give the same session id in Rust, in `secagg serve` and here.
#[pyclass(module = "secagg", frozen)]
pub struct Config {
    pub(crate) session: FloatSession,
    pub(crate) layout: Arc<Layout>,
    graph_seed: [u8; 32],
    dropout: f64,
    corrupt: f64,
    context: Vec<u8>,
    threat: ThreatModel,
    verifying_keys: Vec<[u8; 32]>,
    dp: Option<secagg::dp::pipeline::DistributedDp>,
}

#[pymethods]
impl Config {
    #[new]
    #[pyo3(signature = (
        n, dim=None, *, vectors=None, threshold=None, degree=None, dropout=0.1, corrupt=0.1,
        graph_seed=None, clip=1.0, bits=16, ring_bits=None, max_weight=None,
        rounding="stochastic", context=None, threat="semi-honest",
        verifying_keys=None, dp=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        n: usize,
        dim: Option<usize>,
        vectors: Option<&Bound<'_, PyAny>>,
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
        context: Option<&[u8]>,
        threat: &str,
        verifying_keys: Option<Vec<Vec<u8>>>,
        dp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let context = context.unwrap_or_default();
        let layout =
            match (dim, vectors) {
                (Some(d), None) => Layout::flat(d),
                (None, Some(v)) => Layout::parse(v)?,
                (Some(_), Some(_)) => {
                    return Err(PyValueError::new_err(
                        "give either dim (one vector) or vectors (a whole model), not both",
                    ))
                }
                (None, None) => return Err(PyValueError::new_err(
                    "give dim (one vector of dim floats) or vectors (a whole model: name -> shape)",
                )),
            };
        let threat = parse_threat(threat)?;
        let dp = dp.map(crate::dp::from_py).transpose()?;
        let graph_seed = match graph_seed {
            Some(s) => key32("graph_seed", s)?,
            None => os_seed(),
        };
        let mut builder = FloatSession::builder(n);
        for spec in &layout.specs {
            builder = builder.vector(spec.name.clone(), spec.size());
        }
        let mut builder = builder
            .rates(dropout, corrupt)
            .clip(clip)
            .bits(bits)
            .max_weight(max_weight)
            .rounding(quant::rounding(rounding)?)
            .graph_seed(graph_seed)
            .context(context.to_vec())
            .dp_option(dp);
        builder = match (degree, threshold) {
            (Some(k), Some(t)) => builder.harary(k).threshold(t),
            (None, Some(t)) => builder.complete().threshold(t),
            (Some(_), None) => {
                return Err(PyValueError::new_err(
                    "degree needs a threshold (or give neither and let find_params choose)",
                ))
            }
            // find_params chooses.
            (None, None) => builder,
        };
        if let Some(b) = ring_bits {
            builder = builder.ring_bits(b);
        }
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
        let session = py.detach(|| builder.build()).py_err()?;
        Ok(Self {
            session,
            layout: Arc::new(layout),
            graph_seed,
            dropout,
            corrupt,
            context: context.to_vec(),
            threat,
            verifying_keys: vks,
            dp,
        })
    }

    /// Number of clients.
    #[getter]
    fn n(&self) -> usize {
        self.inner().n()
    }

    /// Float elements per client vector, or ``None`` for a ``vectors`` session (see
    /// :attr:`vectors` and :attr:`size`).
    #[getter]
    fn dim(&self) -> Option<usize> {
        (!self.layout.named).then(|| self.layout.specs[0].size())
    }

    /// The session's vectors: ``[(name, shape, dtype)]`` in order (for a ``dim`` session,
    /// ``[("", (dim,), "float64")]``).
    #[getter]
    fn vectors<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, pyo3::types::PyTuple>>> {
        self.layout.describe(py)
    }

    /// Total float elements per client, over all vectors.
    #[getter]
    fn size(&self) -> usize {
        self.layout.specs.iter().map(|s| s.size()).sum()
    }

    /// Shamir threshold.
    #[getter]
    fn threshold(&self) -> usize {
        self.inner().threshold()
    }

    /// Harary graph degree, or ``None`` for the complete graph.
    #[getter]
    fn degree(&self) -> Option<usize> {
        self.harary_degree()
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
        PyBytes::new(py, self.session.session_id())
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
            inner: self.session.quantizer().clone(),
        }
    }

    /// With ``dp=``: the resolved distributed-DP parameters (grid step, ring, padded
    /// length, per-client variance, calibration, ε of one round at the fewest planned
    /// survivors); ``None`` without DP.
    #[getter]
    fn dp<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.session
            .dp()
            .map(|p| crate::dp::params_dict(py, p))
            .transpose()
    }

    /// The neighbors of client ``id`` (sorted ids).
    fn neighbors(&self, id: ClientId) -> Vec<ClientId> {
        self.inner().graph().neighbors(id).to_vec()
    }

    /// Keyword arguments that rebuild this exact configuration: ``Config(**d)``. Values
    /// are ints, floats, strings, bytes, and lists of strings or of bytes, never ``None``
    /// (a parameter that is not set is left out), so the dict fits Flower's
    /// ``ConfigRecord`` as it is. ``vectors`` is a list of ``'dtype:shape:name'``
    /// strings (shape ``3x4``, empty for a scalar), which ``Config`` accepts.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let q = self.session.quantizer().config();
        d.set_item("n", self.inner().n())?;
        if self.layout.named {
            let specs: Vec<String> = self.layout.specs.iter().map(|s| s.encode()).collect();
            d.set_item("vectors", specs)?;
        } else {
            d.set_item("dim", self.layout.specs[0].size())?;
        }
        d.set_item("threshold", self.inner().threshold())?;
        if let Some(k) = self.harary_degree() {
            d.set_item("degree", k)?;
        }
        d.set_item("dropout", self.dropout)?;
        d.set_item("corrupt", self.corrupt)?;
        d.set_item("graph_seed", PyBytes::new(py, &self.graph_seed))?;
        d.set_item("clip", q.clip)?;
        d.set_item("bits", q.bits)?;
        d.set_item("ring_bits", q.ring_bits)?;
        if let Some(w) = q.max_weight {
            d.set_item("max_weight", w)?;
        }
        d.set_item("rounding", quant::rounding_name(q.rounding))?;
        d.set_item("context", PyBytes::new(py, &self.context))?;
        d.set_item("threat", threat_name(self.threat))?;
        // No None values (Flower's ConfigRecord refuses them): no key without DP.
        if let Some(dp) = &self.dp {
            d.set_item("dp", crate::dp::to_py(py, dp)?)?;
        }
        if self.threat == ThreatModel::Malicious {
            let keys: Vec<Bound<'py, PyBytes>> = self
                .verifying_keys
                .iter()
                .map(|k| PyBytes::new(py, k))
                .collect();
            d.set_item("verifying_keys", keys)?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(n={}, {}, threshold={}, degree={}, threat='{}', ring_bits={})",
            self.inner().n(),
            if self.layout.named {
                format!("vectors={}", self.layout.specs.len())
            } else {
                format!("dim={}", self.layout.specs[0].size())
            },
            self.inner().threshold(),
            self.harary_degree()
                .map_or("None".to_owned(), |k| k.to_string()),
            threat_name(self.threat),
            self.session.quantizer().config().ring_bits
        )
    }
}

impl Config {
    /// The protocol configuration.
    pub(crate) fn inner(&self) -> &Arc<proto::Config> {
        self.session.config()
    }

    /// The Harary degree, `None` for the complete graph.
    fn harary_degree(&self) -> Option<usize> {
        (!self.session.is_complete()).then(|| self.session.degree())
    }

    /// Reads one client's input (see [`Layout::read_input`]).
    pub(crate) fn read_input(&self, x: &Bound<'_, PyAny>) -> PyResult<Vec<Floats>> {
        self.layout.read_input(x)
    }
}

/// Encodes one client's float vectors (in the session's order) through the float
/// session. When the vectors mix float32 and float64, all are encoded as float64 (exact).
pub(crate) fn encode_input(
    session: &FloatSession,
    xs: &[Floats],
    weight: u64,
    rng: &mut ChaCha20Rng,
) -> secagg::Result<Encoded> {
    let f32s: Vec<&[f32]> = xs
        .iter()
        .filter_map(|x| match x {
            Floats::F32(v) => Some(v.as_slice()),
            Floats::F64(_) => None,
        })
        .collect();
    if f32s.len() == xs.len() {
        return session.encode_vectors(&f32s, weight, rng);
    }
    // All f64: encode the arrays as read, without another copy.
    let f64s: Vec<&[f64]> = xs
        .iter()
        .filter_map(|x| match x {
            Floats::F64(v) => Some(v.as_slice()),
            Floats::F32(_) => None,
        })
        .collect();
    if f64s.len() == xs.len() {
        return session.encode_vectors(&f64s, weight, rng);
    }
    // Mixed: widen the f32 arrays (exact) so that every vector is f64 (copies of the
    // update: wiped when dropped).
    let widened: Vec<zeroize::Zeroizing<Vec<f64>>> = xs
        .iter()
        .map(|x| {
            zeroize::Zeroizing::new(match x {
                Floats::F32(v) => v.iter().map(|&f| f64::from(f)).collect(),
                Floats::F64(v) => v.clone(),
            })
        })
        .collect();
    let f64s: Vec<&[f64]> = widened.iter().map(|v| v.as_slice()).collect();
    session.encode_vectors(&f64s, weight, rng)
}

/// A client id from Python: an int in ``0 .. n-1``, else ``MisuseError``
/// (``InvalidClientId``) with the range in the message (not a bare ``OverflowError``).
pub(crate) fn client_id(obj: &Bound<'_, PyAny>, n: usize) -> PyResult<ClientId> {
    let raw: i128 = obj.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "a client id must be an int, not {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    match ClientId::try_from(raw) {
        Ok(id) if (id as usize) < n => Ok(id),
        _ => Err(misuse(
            "InvalidClientId",
            format!("client id {raw} is out of range: the session has {n} clients (ids 0..{n})"),
        )),
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

/// Decodes the server's output (through the float session) into an [`Aggregate`] with
/// `included` set, shaped as the session's vectors.
pub(crate) fn decode_output(
    py: Python<'_>,
    session: &FloatSession,
    layout: &Arc<Layout>,
    output: &proto::Output,
) -> PyResult<Aggregate> {
    let aggs = py.detach(|| session.decode_output(output)).py_err()?;
    Aggregate::from_session(aggs, Arc::clone(layout), output.included.clone())
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
        .find(|r| r.name() == name)
        .ok_or_else(|| PyValueError::new_err(format!("no round named {name:?}")))
}
