//! `secagg.Quantizer`: float vectors to ring words and sums back to floats.

use std::sync::Arc;

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use secagg::crypto::rng::seeded_rng;
use secagg::quantize::{self, QuantConfig, Rounding};

use crate::arrays::{self, Floats};
use crate::errors::IntoPy;
use crate::layout::Layout;

/// Parses `"stochastic"` / `"deterministic"`.
pub fn rounding(name: &str) -> PyResult<Rounding> {
    match name {
        "stochastic" => Ok(Rounding::Stochastic),
        "deterministic" => Ok(Rounding::Deterministic),
        other => Err(PyValueError::new_err(format!(
            "rounding must be 'stochastic' or 'deterministic', not {other:?}"
        ))),
    }
}

/// The Python name of a rounding mode.
pub fn rounding_name(r: Rounding) -> &'static str {
    match r {
        Rounding::Stochastic => "stochastic",
        Rounding::Deterministic => "deterministic",
    }
}

/// A 32-byte seed from Python bytes.
pub fn seed32(seed: &[u8]) -> PyResult<[u8; 32]> {
    seed.try_into()
        .map_err(|_| PyValueError::new_err(format!("seed must be 32 bytes, got {}", seed.len())))
}

/// Builds a validated [`QuantConfig`], choosing the smallest safe ring when `ring_bits`
/// is `None`.
pub fn config(
    clip: f64,
    bits: u32,
    max_clients: usize,
    ring_bits: Option<u32>,
    max_weight: Option<u64>,
    rounding_mode: &str,
) -> PyResult<quantize::Quantizer> {
    let rounding = rounding(rounding_mode)?;
    let ring_bits = match ring_bits {
        Some(b) => b,
        None => quantize::min_ring_bits(bits, max_clients, max_weight.unwrap_or(1)).py_err()?,
    };
    let mut cfg = QuantConfig::new(clip, bits, ring_bits, max_clients).with_rounding(rounding);
    if let Some(w) = max_weight {
        cfg = cfg.weighted(w);
    }
    quantize::Quantizer::new(cfg).py_err()
}

/// Fixed-point encoding of float vectors into ring words, and decoding of sums.
///
/// Each element is clipped to ``[-clip, clip]`` and mapped onto the integer grid
/// ``0 .. 2**bits - 1``, with stochastic (unbiased) or deterministic rounding. The sum
/// of up to ``max_clients`` clients (each weighted by an integer in ``1..max_weight``
/// when ``max_weight`` is set) never wraps in the ``ring_bits``-bit ring: a
/// configuration that could wrap raises ``MisuseError`` (variant ``RingTooNarrow``).
/// ``ring_bits=None`` picks the smallest safe width.
#[pyclass(module = "secagg", frozen)]
pub struct Quantizer {
    pub(crate) inner: quantize::Quantizer,
}

#[pymethods]
impl Quantizer {
    #[new]
    #[pyo3(signature = (clip, bits, max_clients, ring_bits=None, max_weight=None, rounding="stochastic"))]
    fn new(
        clip: f64,
        bits: u32,
        max_clients: usize,
        ring_bits: Option<u32>,
        max_weight: Option<u64>,
        rounding: &str,
    ) -> PyResult<Self> {
        let inner = config(clip, bits, max_clients, ring_bits, max_weight, rounding)?;
        Ok(Self { inner })
    }

    /// Clipping bound ``c``.
    #[getter]
    fn clip(&self) -> f64 {
        self.inner.config().clip
    }

    /// Quantization bits ``q``.
    #[getter]
    fn bits(&self) -> u32 {
        self.inner.config().bits
    }

    /// Ring width ``b``: sums are computed modulo ``2**b``.
    #[getter]
    fn ring_bits(&self) -> u32 {
        self.inner.config().ring_bits
    }

    /// Maximum number of clients summed.
    #[getter]
    fn max_clients(&self) -> usize {
        self.inner.config().max_clients
    }

    /// Largest client weight, or ``None`` when unweighted.
    #[getter]
    fn max_weight(&self) -> Option<u64> {
        self.inner.config().max_weight
    }

    /// ``'stochastic'`` or ``'deterministic'``.
    #[getter]
    fn rounding(&self) -> &'static str {
        rounding_name(self.inner.config().rounding)
    }

    /// Grid step ``2c / (2**q - 1)``.
    #[getter]
    fn step(&self) -> f64 {
        self.inner.step()
    }

    /// Number of ring words an input of ``length`` elements encodes to (one more when
    /// weighted): the vector length the protocol must be configured with.
    fn encoded_len(&self, length: usize) -> usize {
        self.inner.encoded_len(length)
    }

    /// Per-element bound on ``|decoded - sum_i w_i * clip(x_i)|`` for a sum of total
    /// weight ``total_weight`` (the number of clients when unweighted).
    fn error_bound(&self, total_weight: u64) -> f64 {
        self.inner.error_bound(total_weight)
    }

    /// Encodes a float32/float64 array (any shape, flattened in C order).
    ///
    /// Returns ``(words, clipped)``: a ``uint64`` array of ``encoded_len(x.size)`` ring
    /// words and the number of elements that were clipped. ``seed`` (32 bytes) makes
    /// stochastic rounding reproducible; by default it draws from the OS.
    #[pyo3(signature = (x, weight=1, seed=None))]
    fn quantize<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        weight: u64,
        seed: Option<&[u8]>,
    ) -> PyResult<(Bound<'py, PyArray1<u64>>, usize)> {
        let x = crate::layout::floats(x)?;
        // Without a seed: one 32-byte seed from the OS per call, expanded with ChaCha20
        // (asking the OS for every rounding draw made a 4M-float call ~20x slower).
        let seed = match seed {
            Some(s) => seed32(s)?,
            None => crate::config::os_seed(),
        };
        let out = py
            .detach(|| {
                let q = &self.inner;
                let mut rng = seeded_rng(seed);
                match &x {
                    Floats::F32(v) => q.quantize_weighted(v, weight, &mut rng),
                    Floats::F64(v) => q.quantize_weighted(v, weight, &mut rng),
                }
            })
            .py_err()?;
        Ok((PyArray1::from_slice(py, out.words()), out.clipped()))
    }

    /// Decodes the ring sum (``uint64`` array) of exactly ``clients`` encoded vectors.
    ///
    /// Raises ``PeerMisbehavedError`` for a sum the included clients cannot have
    /// produced, ``MisuseError`` when ``clients > max_clients``.
    fn dequantize(
        &self,
        py: Python<'_>,
        sum: &Bound<'_, PyAny>,
        clients: usize,
    ) -> PyResult<Aggregate> {
        let words = arrays::words(sum)?;
        let agg = py
            .detach(|| self.inner.dequantize(&words, clients))
            .py_err()?;
        Ok(Aggregate::new(agg))
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Quantizer(clip={}, bits={}, max_clients={}, ring_bits={}, max_weight={}, rounding='{}')",
            c.clip,
            c.bits,
            c.max_clients,
            c.ring_bits,
            c.max_weight.map_or("None".to_owned(), |w| w.to_string()),
            rounding_name(c.rounding)
        )
    }
}

/// The decoded sum of the included clients' vectors.
///
/// For a ``Config(n, dim)`` session (and :meth:`Quantizer.dequantize`) :attr:`sum` and
/// :meth:`mean` are flat ``float64`` arrays; for a ``Config(n, vectors=...)`` session
/// they are dicts ``name -> array`` with each vector's shape and dtype (float32 results
/// are rounded from the float64 sum).
#[pyclass(module = "secagg", frozen)]
pub struct Aggregate {
    sums: Vec<Vec<f64>>,
    layout: Option<Arc<Layout>>,
    included: Option<Vec<u32>>,
    clients: usize,
    total_weight: u64,
    error_bound: f64,
}

impl Aggregate {
    pub(crate) fn new(agg: quantize::Aggregate) -> Self {
        Self {
            clients: agg.clients,
            total_weight: agg.total_weight,
            error_bound: agg.error_bound,
            sums: vec![agg.sum],
            layout: None,
            included: None,
        }
    }

    /// The aggregate of a protocol run: one decoded sum per vector of `layout`, and the
    /// clients it contains.
    pub(crate) fn from_session(
        aggs: Vec<quantize::Aggregate>,
        layout: Arc<Layout>,
        included: Vec<u32>,
    ) -> PyResult<Self> {
        let first = aggs.first().ok_or_else(|| {
            crate::errors::misuse("InvalidVectorCount", "nothing was decoded".to_owned())
        })?;
        let (clients, total_weight, error_bound) =
            (first.clients, first.total_weight, first.error_bound);
        Ok(Self {
            clients,
            total_weight,
            error_bound,
            sums: aggs.into_iter().map(|a| a.sum).collect(),
            layout: Some(layout),
            included: Some(included),
        })
    }

    fn shaped<'py>(&self, py: Python<'py>, sums: &[Vec<f64>]) -> PyResult<Bound<'py, PyAny>> {
        match &self.layout {
            Some(layout) => layout.output(py, sums),
            None => Ok(sums
                .first()
                .cloned()
                .unwrap_or_default()
                .into_pyarray(py)
                .into_any()),
        }
    }
}

#[pymethods]
impl Aggregate {
    /// ``sum_i w_i * x_i`` per element (plain sum when unweighted): a flat ``float64``
    /// array, or for a ``vectors`` session a dict ``name -> array`` of the original
    /// shapes and dtypes.
    #[getter]
    fn sum<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.shaped(py, &self.sums)
    }

    /// The ids of the included clients (sorted) when the aggregate came from a protocol
    /// run (``Server.result()``, ``simulate``); ``None`` from ``Quantizer.dequantize``.
    #[getter]
    fn included(&self) -> Option<Vec<u32>> {
        self.included.clone()
    }

    /// Number of included clients.
    #[getter]
    fn clients(&self) -> usize {
        self.clients
    }

    /// ``sum_i w_i``, exact (``clients`` when unweighted).
    #[getter]
    fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// Per-element bound on ``|sum - sum_i w_i * clip(x_i)|``.
    #[getter]
    fn error_bound(&self) -> f64 {
        self.error_bound
    }

    /// The weighted mean ``sum / total_weight`` (shaped as :attr:`sum`), or ``None`` when
    /// no client was included.
    fn mean<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if self.total_weight == 0 {
            return Ok(None);
        }
        let w = self.total_weight as f64;
        let means: Vec<Vec<f64>> = self
            .sums
            .iter()
            .map(|s| s.iter().map(|x| x / w).collect())
            .collect();
        self.shaped(py, &means).map(Some)
    }

    /// Per-element bound on the error of ``mean()``, or ``None`` when no client was
    /// included.
    #[getter]
    fn mean_error_bound(&self) -> Option<f64> {
        (self.total_weight != 0).then(|| self.error_bound / self.total_weight as f64)
    }

    fn __repr__(&self) -> String {
        format!(
            "Aggregate(len={}, clients={}, total_weight={}, error_bound={:e})",
            self.sums.iter().map(Vec::len).sum::<usize>(),
            self.clients,
            self.total_weight,
            self.error_bound
        )
    }
}

/// The smallest ring width for which ``max_clients`` clients with weights up to
/// ``max_weight`` and ``quant_bits`` quantization bits can never wrap.
#[pyfunction]
#[pyo3(signature = (quant_bits, max_clients, max_weight=1))]
pub fn min_ring_bits(quant_bits: u32, max_clients: usize, max_weight: u64) -> PyResult<u32> {
    quantize::min_ring_bits(quant_bits, max_clients, max_weight).py_err()
}

/// The largest number of quantization bits (at most 53) for which ``max_clients``
/// clients with weights up to ``max_weight`` sum without wrapping in a
/// ``ring_bits``-bit ring.
#[pyfunction]
#[pyo3(signature = (ring_bits, max_clients, max_weight=1))]
pub fn max_quant_bits(ring_bits: u32, max_clients: usize, max_weight: u64) -> PyResult<u32> {
    quantize::max_quant_bits(ring_bits, max_clients, max_weight).py_err()
}
