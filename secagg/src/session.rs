//! The float session: one place that turns "n clients summing float vectors" into a
//! protocol [`Config`], a [`Quantizer`] and the degree and threshold, and that encodes
//! clients' floats and decodes the server's sums.
//!
//! Every front end (the networked driver, the Python bindings, `secagg simulate`) builds
//! its sessions here, so the same parameters give the same session id everywhere.
//!
//! ```text
//! FloatSession::builder(n)          n clients, ids 0..n
//!     .dim(d) | .vector(name, d)..   one unnamed vector, or several named ones
//!     .rates(dropout, corrupt)       what find_params is asked (default 0.1, 0.1)
//!     .grinding(bits)                optional: the finder's grinding margin (default
//!                                    64 bits when malicious, 0 when semi-honest)
//!     .clip(c).bits(q)               the float encoding (default 1.0, 16 bits)
//!     .weighted(W).rounding(..)      optional
//!     .complete() | .harary(k)       optional: otherwise find_params picks the graph
//!     .threshold(t).ring_bits(b)     optional: otherwise chosen (below)
//!     .graph_seed(s).context(bytes)  public Harary seed, the caller's context
//!     .malicious(verifying_keys)     optional: the malicious model
//!     .dp(DistributedDp)             optional: distributed differential privacy
//!     .build()?  ->  FloatSession { Arc<Config>, Quantizer, Choice }
//! ```
//!
//! * **Degree and threshold.** Neither given: [`find_params`]. A graph without a
//!   threshold: the smallest threshold `>= 2` that [`check_params`] accepts for it. Both
//!   given (or a threshold with the finder's graph): used as given, with the bounds
//!   [`check_params`] reports, or why they miss the targets ([`Choice`]); the protocol's
//!   structural checks ([`ConfigBuilder::build`](crate::protocol::ConfigBuilder::build))
//!   always apply. A degree `>= n - 1` is the complete graph. In the malicious model
//!   the finder's targets include the grinding margin ([`ParamQuery::grinding_bits`]:
//!   its server chooses the graph seed), so both the finder and the check plan for a
//!   server that tried `2^64` seeds, unless [`FloatSessionBuilder::grinding`] says
//!   otherwise.
//! * **Ring.** `ring_bits` or, by default, [`min_ring_bits`]`(q, n, W)`: the narrowest ring
//!   in which `n` clients of weight `W` cannot wrap. [`Quantizer::new`] refuses any ring
//!   that could.
//! * **Context.** The protocol configuration sees only ring words, so the float encoding
//!   is bound into its context ([`float_context`], [`CONTEXT_LABEL`]), before the caller's
//!   context. The layout is in `docs/float-encoding.md`, with known-answer vectors in
//!   `secagg/tests/vectors/session.json`.
//!
//! Encoding is `quantize` then the ring; decoding is the ring sum then `dequantize`.
//!
//! * **Distributed DP** ([`FloatSessionBuilder::dp`]): the client-side transform of
//!   `secagg::dp::pipeline` replaces the fixed-point encoding: `clip` is the L2 bound of
//!   a client's whole update, `bits` the grid (`c/γ = 2^(q−1)`), every vector is padded
//!   to a power of two (the ring vectors have the padded lengths: [`FloatSession::dims`]
//!   stays the float lengths), the ring is the narrowest that holds the sum and its noise
//!   (or `ring_bits`, checked), and the context's transform byte and the DP parameters
//!   after it ([`dp_float_context`]) bind the whole configuration into the session id.
//!   The rotation's public signs come from the session id. Weighted sessions are refused
//!   with DP. Decoding gives each [`Aggregate`] its [`DpNoise`](crate::dp::pipeline::DpNoise).
//!
//! ```
//! use secagg::crypto::rng::seeded_rng;
//! use secagg::session::FloatSession;
//! use secagg::sim::{run, DropSchedule};
//!
//! let s = FloatSession::builder(5)
//!     .dim(3)
//!     .complete()
//!     .threshold(3)
//!     .context(*b"round 7")
//!     .build()?;
//! let mut rng = seeded_rng([1; 32]);
//! let xs = [
//!     [0.5, -0.25, 1.5],
//!     [0.125, 0.0, -0.5],
//!     [0.0, 0.75, 0.25],
//!     [1.0, 1.0, 1.0],
//!     [-1.0, 0.5, 0.0],
//! ];
//! let inputs = xs
//!     .iter()
//!     .map(|x| s.encode(x, 1, &mut rng).map(|e| e.into_vectors()))
//!     .collect::<secagg::Result<Vec<_>>>()?;
//! let report = run(s.config().clone(), inputs, None, &DropSchedule::none(5), [2; 32])
//!     .map_err(|a| a.error)?;
//! let agg = s.decode_output(&report.output)?;
//! let want = [0.625, 2.0, 1.75]; // 1.5 is clipped to 1.0
//! for (got, want) in agg[0].sum.iter().zip(want) {
//!     assert!((got - want).abs() <= agg[0].error_bound);
//! }
//! # Ok::<(), secagg::Error>(())
//! ```

use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use zeroize::Zeroize;

use crate::crypto::rng::CryptoRng;
use crate::dp::pipeline::{DistributedDp, DpParams, DpSetup};
use crate::dp::rotation::Rotation;
use crate::error::{DpError, Error, Misuse, Result};
use crate::protocol::graph::GraphSpec;
use crate::protocol::params::{check_params, find_params, ParamQuery, Params, ThreatModel};
use crate::protocol::{Config, Output};
use crate::quantize::{min_ring_bits, Aggregate, QuantConfig, Quantizer, Rounding, Sample};
use crate::ring::{Ring, RingVec};

/// The label that starts every float session's context: ASCII `secagg-float/1`, then a
/// `0x00` byte (see [`float_context`]).
pub const CONTEXT_LABEL: &[u8] = b"secagg-float/1";

/// Length of the fixed part of the context before the caller's bytes: the label, `0x00`,
/// clip (8), bits (1), max weight (8), rounding (1), transform (1).
pub const CONTEXT_HEADER_LEN: usize = CONTEXT_LABEL.len() + 1 + 8 + 1 + 8 + 1 + 1;

/// The context bytes a float session binds into its session id: the float encoding,
/// which the protocol configuration does not see, then the caller's context.
///
/// ```text
/// "secagg-float/1" || 0x00
/// || clip        u64 big-endian: the IEEE 754 bits of c as an f64
/// || bits        u8: q
/// || max_weight  u64 big-endian: W, or 0 when unweighted
/// || rounding    u8: 0x00 stochastic, 0x01 deterministic
/// || transform   u8: 0x00 (no client-side transform of the quantized vector)
/// || caller context (the rest)
/// ```
///
/// (A session with distributed DP has [`dp_float_context`] instead.)
///
/// Every field but the last is fixed-width, so different encodings never share
/// context bytes. The ring width, the vector names and lengths and `n` are in the
/// session id already (`docs/protocol.md`).
pub fn float_context(quant: &QuantConfig, caller: &[u8]) -> Vec<u8> {
    context_with(quant, 0, &[], caller)
}

/// The context of a session with distributed DP: [`float_context`]'s header with the
/// transform byte `0x01` (distributed discrete Gaussian) or `0x02` (distributed
/// Skellam), then [`DpParams::context_bytes`] (65 bytes), then the caller's context.
/// `clip` is the L2 bound and `bits` the grid of the DP pipeline.
pub fn dp_float_context(quant: &QuantConfig, dp: &DpParams, caller: &[u8]) -> Vec<u8> {
    context_with(quant, dp.transform_byte(), &dp.context_bytes(), caller)
}

fn context_with(quant: &QuantConfig, transform: u8, params: &[u8], caller: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CONTEXT_HEADER_LEN + params.len() + caller.len());
    out.extend_from_slice(CONTEXT_LABEL);
    out.push(0);
    out.extend_from_slice(&quant.clip.to_bits().to_be_bytes());
    // A validated configuration has bits <= 53; saturate rather than truncate otherwise.
    out.push(u8::try_from(quant.bits).unwrap_or(u8::MAX));
    out.extend_from_slice(&quant.max_weight.unwrap_or(0).to_be_bytes());
    out.push(match quant.rounding {
        Rounding::Stochastic => 0,
        Rounding::Deterministic => 1,
    });
    out.push(transform);
    out.extend_from_slice(params);
    out.extend_from_slice(caller);
    out
}

/// Which graph the session uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GraphChoice {
    /// The parameter finder picks (a Harary graph, or the complete graph).
    #[default]
    Finder,
    /// Every client is every other client's neighbor (SecAgg).
    Complete,
    /// A Harary graph of this degree (SecAgg+); `>= n - 1` is the complete graph.
    Harary(usize),
}

/// How the degree and threshold were chosen, and the bounds they meet.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    /// Picked by [`find_params`].
    Found(Params),
    /// Given (all or in part) and accepted by [`check_params`]: the bounds they meet.
    Checked(Params),
    /// Given, and outside the finder's targets: why. They are used as given.
    Unchecked(Error),
}

impl Choice {
    /// The bounds, unless the parameters are outside the finder's targets.
    pub fn params(&self) -> Option<&Params> {
        match self {
            Choice::Found(p) | Choice::Checked(p) => Some(p),
            Choice::Unchecked(_) => None,
        }
    }
}

/// Builder for [`FloatSession`]; see [`FloatSession::builder`].
#[derive(Clone, Debug)]
pub struct FloatSessionBuilder {
    n: usize,
    vectors: Vec<(String, usize)>,
    dropout: f64,
    corrupt: f64,
    sigma: f64,
    eta: f64,
    grinding: Option<f64>,
    threat: ThreatModel,
    verifying_keys: Vec<VerifyingKey>,
    clip: f64,
    bits: u32,
    max_weight: Option<u64>,
    rounding: Rounding,
    graph: GraphChoice,
    threshold: Option<usize>,
    ring_bits: Option<u32>,
    graph_seed: [u8; 32],
    context: Vec<u8>,
    dp: Option<DistributedDp>,
}

impl FloatSessionBuilder {
    /// Adds one unnamed vector of `d` floats (the usual single-vector session).
    pub fn dim(self, d: usize) -> Self {
        self.vector("", d)
    }

    /// Adds a named vector of `d` floats. Vectors keep the order in which they are added;
    /// names must be distinct.
    pub fn vector(mut self, name: impl Into<String>, d: usize) -> Self {
        self.vectors.push((name.into(), d));
        self
    }

    /// The drop-out rate `δ` and corrupt-client rate `γ` the parameter finder plans for
    /// (default 0.1 and 0.1).
    pub fn rates(mut self, dropout: f64, corrupt: f64) -> Self {
        self.dropout = dropout;
        self.corrupt = corrupt;
        self
    }

    /// The finder's security and correctness targets `σ` and `η` (default 40 and 20).
    pub fn targets(mut self, sigma: f64, eta: f64) -> Self {
        self.sigma = sigma;
        self.eta = eta;
        self
    }

    /// The finder's grinding margin in bits ([`ParamQuery::with_grinding`]), instead of
    /// the threat model's default ([`ParamQuery::default_grinding`]: 64 bits in the
    /// malicious model, whose server chooses the graph seed; none in the semi-honest
    /// one). `grinding(0.0)` opts out, for a seed the server does not control.
    pub fn grinding(mut self, bits: f64) -> Self {
        self.grinding = Some(bits);
        self
    }

    /// `Some`: as [`grinding`](Self::grinding); `None`: the threat model's default.
    pub fn grinding_option(mut self, bits: Option<f64>) -> Self {
        self.grinding = bits;
        self
    }

    /// The semi-honest model (the default).
    pub fn semi_honest(mut self) -> Self {
        self.threat = ThreatModel::SemiHonest;
        self.verifying_keys.clear();
        self
    }

    /// The malicious model, with every client's Ed25519 verifying key (index = id).
    pub fn malicious(mut self, verifying_keys: Vec<VerifyingKey>) -> Self {
        self.threat = ThreatModel::Malicious;
        self.verifying_keys = verifying_keys;
        self
    }

    /// The clipping bound `c` (default 1.0).
    pub fn clip(mut self, clip: f64) -> Self {
        self.clip = clip;
        self
    }

    /// The quantization bits `q` (default 16).
    pub fn bits(mut self, bits: u32) -> Self {
        self.bits = bits;
        self
    }

    /// Weighted sums, client weights in `1..=max_weight` (default: unweighted).
    pub fn weighted(mut self, max_weight: u64) -> Self {
        self.max_weight = Some(max_weight);
        self
    }

    /// `Some(W)`: weighted as [`weighted`](Self::weighted); `None`: unweighted.
    pub fn max_weight(mut self, max_weight: Option<u64>) -> Self {
        self.max_weight = max_weight;
        self
    }

    /// The rounding mode (default stochastic).
    pub fn rounding(mut self, rounding: Rounding) -> Self {
        self.rounding = rounding;
        self
    }

    /// The graph: the finder's (default), complete or Harary.
    pub fn graph(mut self, graph: GraphChoice) -> Self {
        self.graph = graph;
        self
    }

    /// The complete graph (SecAgg).
    pub fn complete(self) -> Self {
        self.graph(GraphChoice::Complete)
    }

    /// A Harary graph of degree `k` (SecAgg+).
    pub fn harary(self, degree: usize) -> Self {
        self.graph(GraphChoice::Harary(degree))
    }

    /// An explicit threshold instead of the chosen one.
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// An explicit ring width `b` instead of the narrowest safe one.
    pub fn ring_bits(mut self, ring_bits: u32) -> Self {
        self.ring_bits = Some(ring_bits);
        self
    }

    /// The public 32-byte seed of a Harary graph (default: 32 zero bytes). It must not be
    /// chosen by whoever knows which clients are corrupt (`docs/protocol.md`, "Graphs").
    pub fn graph_seed(mut self, seed: [u8; 32]) -> Self {
        self.graph_seed = seed;
        self
    }

    /// The caller's context bytes (a model hash, a round number), bound into the session
    /// id after the float encoding.
    pub fn context(mut self, context: impl Into<Vec<u8>>) -> Self {
        self.context = context.into();
        self
    }

    /// Distributed differential privacy (`secagg::dp::pipeline`): `clip` becomes the L2
    /// bound of a client's whole update, `bits` the grid, and each client adds its share
    /// of the noise before masking.
    pub fn dp(mut self, dp: DistributedDp) -> Self {
        self.dp = Some(dp);
        self
    }

    /// `Some`: as [`dp`](Self::dp); `None`: no DP (the default).
    pub fn dp_option(mut self, dp: Option<DistributedDp>) -> Self {
        self.dp = dp;
        self
    }

    fn query(&self) -> ParamQuery {
        let q = ParamQuery {
            sigma: self.sigma,
            eta: self.eta,
            ..ParamQuery::new(self.n, self.dropout, self.corrupt, self.threat)
        };
        match self.grinding {
            Some(bits) => q.with_grinding(bits),
            None => q,
        }
    }

    /// The degree (`n - 1` for the complete graph), the threshold, and how they were
    /// chosen.
    fn choose(&self) -> Result<(usize, usize, Choice)> {
        let query = self.query();
        let complete_degree = self.n.saturating_sub(1);
        let degree = match self.graph {
            GraphChoice::Finder => None,
            GraphChoice::Complete => Some(complete_degree),
            GraphChoice::Harary(k) => Some(k),
        };
        let checked = |k: usize, t: usize| match check_params(&query, k, t) {
            Ok(p) => Choice::Checked(p),
            Err(e) => Choice::Unchecked(e),
        };
        let (degree, threshold, choice) = match (degree, self.threshold) {
            (Some(k), Some(t)) => (k, t, checked(k, t)),
            (Some(k), None) => {
                let p = smallest_threshold(&query, k)?;
                (k, p.threshold, Choice::Checked(p))
            }
            (None, None) => {
                let p = find_params(&query)?;
                (p.degree, p.threshold, Choice::Found(p))
            }
            (None, Some(t)) => {
                let p = find_params(&query)?;
                (p.degree, t, checked(p.degree, t))
            }
        };
        Ok((degree.min(complete_degree), threshold, choice))
    }

    /// Chooses the parameters, validates them and derives the session id.
    ///
    /// # Errors
    /// [`find_params`]'s errors when the finder chooses (among them
    /// [`Misuse::InvalidClientCount`], [`Misuse::OutOfRange`] for a rate or target,
    /// [`Misuse::NoFeasibleParams`]); [`check_params`]'s when a graph is given without a
    /// threshold; [`min_ring_bits`]'s and [`Quantizer::new`]'s ([`Misuse::InvalidQuantParam`],
    /// [`Misuse::RingTooNarrow`]); and [`ConfigBuilder::build`](crate::protocol::ConfigBuilder::build)'s
    /// (graph, threshold, vectors, verifying keys).
    pub fn build(self) -> Result<FloatSession> {
        let query = self.query();
        let (degree, threshold, choice) = self.choose()?;
        let n = self.n;
        // A zero n is reported by the configuration (InvalidClientCount).
        let max_clients = n.max(1);
        let dims: Vec<usize> = self.vectors.iter().map(|v| v.1).collect();
        let dp = match &self.dp {
            None => None,
            Some(dp) => {
                if self.max_weight.is_some() {
                    return Err(Error::Dp(DpError::InvalidParameter {
                        what: "max_weight",
                        allowed: "unweighted (no weights with distributed DP)",
                    }));
                }
                let setup = DpSetup {
                    n: max_clients,
                    dims: &dims,
                    clip: self.clip,
                    bits: self.bits,
                    ring_bits: self.ring_bits,
                    finder: choice.params().map(|p| (p.max_dropped, p.max_corrupt)),
                    threshold,
                };
                Some(DpParams::resolve(dp, &setup)?)
            }
        };
        let ring_bits = match (&dp, self.ring_bits) {
            (Some(p), _) => p.ring_bits,
            (None, Some(b)) => b,
            (None, None) => min_ring_bits(self.bits, max_clients, self.max_weight.unwrap_or(1))?,
        };
        let mut quant = QuantConfig::new(self.clip, self.bits, ring_bits, max_clients)
            .with_rounding(self.rounding);
        if let Some(w) = self.max_weight {
            quant = quant.weighted(w);
        }
        let quantizer = if dp.is_some() {
            Quantizer::for_transform(quant)?
        } else {
            Quantizer::new(quant)?
        };
        let ring = Ring::pow2(ring_bits)?;
        let graph = if degree >= n.saturating_sub(1) {
            GraphSpec::Complete
        } else {
            GraphSpec::Harary {
                degree,
                seed: self.graph_seed,
            }
        };
        let context = match &dp {
            None => float_context(quantizer.config(), &self.context),
            Some(p) => dp_float_context(quantizer.config(), p, &self.context),
        };
        let mut builder = Config::builder(n, threshold).graph(graph).context(context);
        for (i, (name, d)) in self.vectors.iter().enumerate() {
            let len = match &dp {
                None => quantizer.encoded_len(*d),
                Some(p) => p.padded[i],
            };
            builder = builder.vector(name.clone(), len, ring);
        }
        builder = match self.threat {
            ThreatModel::SemiHonest => builder.semi_honest(),
            ThreatModel::Malicious => builder.malicious(self.verifying_keys),
        };
        let config = Arc::new(builder.build()?);
        let dp = match dp {
            None => None,
            Some(params) => {
                let names: Vec<&[u8]> = self.vectors.iter().map(|v| v.0.as_bytes()).collect();
                let rotations = params.rotations(config.session_id(), &names)?;
                Some(Arc::new(DpState { params, rotations }))
            }
        };
        Ok(FloatSession {
            config,
            quantizer,
            degree,
            dims,
            choice,
            query,
            caller_context_len: self.context.len(),
            dp,
        })
    }
}

/// Smallest threshold in `2..=max` (1 when `max` is 1) that [`check_params`] accepts for
/// `degree`, else the error for the smallest candidate.
fn smallest_threshold(q: &ParamQuery, degree: usize) -> Result<Params> {
    let max = degree.min(q.n.saturating_sub(1)).max(1);
    let mut first_err = None;
    for t in 2.min(max)..=max {
        match check_params(q, degree, t) {
            Ok(p) => return Ok(p),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(Error::Misuse(Misuse::NoFeasibleParams { n: q.n })))
}

/// A client's encoded vectors, ready for [`Client::new`](crate::protocol::Client::new),
/// and how many of its floats were clipped.
///
/// The words encode the client's private input: they are wiped on drop and `Debug`
/// does not print them.
#[derive(Clone)]
pub struct Encoded {
    vectors: Vec<RingVec>,
    clipped: usize,
}

impl Encoded {
    /// The ring vectors, in the session's vector order.
    pub fn vectors(&self) -> &[RingVec] {
        &self.vectors
    }

    /// The ring vectors, for [`Client::new`](crate::protocol::Client::new).
    pub fn into_vectors(mut self) -> Vec<RingVec> {
        core::mem::take(&mut self.vectors)
    }

    /// How many float elements lay outside `[-c, c]` and were clipped, over all vectors
    /// (with DP: 1 when the update's L2 norm exceeded `c` and it was scaled down, else 0).
    pub fn clipped(&self) -> usize {
        self.clipped
    }
}

impl Drop for Encoded {
    fn drop(&mut self) {
        for v in &mut self.vectors {
            match v {
                RingVec::U32(w) => w.zeroize(),
                RingVec::U64(w) => w.zeroize(),
            }
        }
    }
}

impl core::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encoded")
            .field("vectors", &self.vectors.len())
            .field("clipped", &self.clipped)
            .finish_non_exhaustive()
    }
}

/// The resolved DP parameters and the public rotations of a DP session.
#[derive(Debug)]
struct DpState {
    params: DpParams,
    rotations: Vec<Rotation>,
}

/// A built float session: the protocol configuration, the float encoding and how the
/// degree and threshold were chosen. Cheap to clone (the configuration is shared).
#[derive(Clone, Debug)]
pub struct FloatSession {
    config: Arc<Config>,
    quantizer: Quantizer,
    degree: usize,
    dims: Vec<usize>,
    choice: Choice,
    query: ParamQuery,
    caller_context_len: usize,
    dp: Option<Arc<DpState>>,
}

impl FloatSession {
    /// Starts a session for `n` clients (ids `0..n`). Defaults: drop-out and corrupt
    /// rates 0.1, `σ = 40`, `η = 20`, the threat model's grinding margin (64 bits when
    /// malicious), the semi-honest model, clip 1.0, 16 bits,
    /// unweighted, stochastic rounding, the finder's graph and threshold, the narrowest
    /// safe ring, a zero graph seed, an empty context. Add at least one vector.
    pub fn builder(n: usize) -> FloatSessionBuilder {
        FloatSessionBuilder {
            n,
            vectors: Vec::new(),
            dropout: 0.1,
            corrupt: 0.1,
            sigma: ParamQuery::DEFAULT_SIGMA,
            eta: ParamQuery::DEFAULT_ETA,
            grinding: None,
            threat: ThreatModel::SemiHonest,
            verifying_keys: Vec::new(),
            clip: 1.0,
            bits: 16,
            max_weight: None,
            rounding: Rounding::Stochastic,
            graph: GraphChoice::Finder,
            threshold: None,
            ring_bits: None,
            graph_seed: [0; 32],
            context: Vec::new(),
            dp: None,
        }
    }

    /// The protocol configuration every party shares.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The 32-byte session id.
    pub fn session_id(&self) -> &[u8; 32] {
        self.config.session_id()
    }

    /// The float encoding. In a DP session it only describes the grid (`clip`, `bits`,
    /// the ring): the session encodes with the DP pipeline, not with this quantizer.
    pub fn quantizer(&self) -> &Quantizer {
        &self.quantizer
    }

    /// The resolved distributed-DP parameters, when the session has DP.
    pub fn dp(&self) -> Option<&DpParams> {
        self.dp.as_ref().map(|s| &s.params)
    }

    /// The ring width `b` every vector is summed in.
    pub fn ring_bits(&self) -> u32 {
        self.quantizer.config().ring_bits
    }

    /// How the degree and threshold were chosen.
    pub fn choice(&self) -> &Choice {
        &self.choice
    }

    /// What the parameter finder was (or would have been) asked.
    pub fn query(&self) -> &ParamQuery {
        &self.query
    }

    /// The chosen degree: neighbors per client, `n - 1` for the complete graph.
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// Whether the graph is complete (SecAgg) rather than a Harary graph (SecAgg+).
    pub fn is_complete(&self) -> bool {
        matches!(self.config.graph_spec(), GraphSpec::Complete)
    }

    /// The float lengths of the vectors, in order (each ring vector is one word longer
    /// when weighted; with DP, padded to a power of two).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The caller's context, as given to the builder (the configuration's context with
    /// the float-encoding header removed).
    pub fn caller_context(&self) -> &[u8] {
        let ctx = self.config.context();
        &ctx[ctx.len() - self.caller_context_len..]
    }

    /// Encodes one client's floats for a single-vector session (see
    /// [`encode_vectors`](Self::encode_vectors)).
    ///
    /// # Errors
    /// [`Misuse::InputCount`] when the session has more than one vector; as
    /// [`encode_vectors`](Self::encode_vectors).
    pub fn encode<T: Sample, R: CryptoRng + ?Sized>(
        &self,
        x: &[T],
        weight: u64,
        rng: &mut R,
    ) -> Result<Encoded> {
        self.encode_vectors(&[x], weight, rng)
    }

    /// Encodes one client's vectors (in the session's order) with integer weight
    /// `weight` (1 when unweighted): each is quantized ([`Quantizer::quantize_weighted`],
    /// drawing the stochastic rounding from `rng`, vector after vector) into the session's
    /// ring.
    ///
    /// `rng` is the client's own randomness (`os_rng()` in production), never derived
    /// from mask seeds.
    ///
    /// # Errors
    /// [`Misuse::InputCount`] unless one slice per vector is given;
    /// [`Misuse::InputLength`] for a slice of the wrong length;
    /// [`Misuse::WeightOutOfRange`], [`Misuse::NonFiniteInput`] from the quantizer.
    pub fn encode_vectors<T: Sample, R: CryptoRng + ?Sized>(
        &self,
        xs: &[&[T]],
        weight: u64,
        rng: &mut R,
    ) -> Result<Encoded> {
        crate::dp::pipeline::check_shapes(xs, &self.dims)?;
        let mut out = Encoded {
            vectors: Vec::with_capacity(xs.len()),
            clipped: 0,
        };
        if let Some(dp) = &self.dp {
            if weight != 1 {
                return Err(Error::Misuse(Misuse::WeightOutOfRange { weight, max: 1 }));
            }
            // The floats as f64 (exact), wiped after use.
            let floats: Vec<zeroize::Zeroizing<Vec<f64>>> = xs
                .iter()
                .map(|x| zeroize::Zeroizing::new(x.iter().map(|v| v.to_f64()).collect()))
                .collect();
            let slices: Vec<&[f64]> = floats.iter().map(|v| v.as_slice()).collect();
            let (mut words, clipped) = dp.params.encode(&dp.rotations, &slices, rng)?;
            for (w, spec) in words.iter_mut().zip(self.config.vectors()) {
                out.vectors.push(RingVec::from_u64s(&spec.ring, w));
                w.zeroize();
            }
            // With DP, `clipped` counts updates (0 or 1) whose L2 norm exceeded c.
            out.clipped = usize::from(clipped);
            return Ok(out);
        }
        for (x, spec) in xs.iter().zip(self.config.vectors()) {
            // Quantized straight into the ring's words (the words and draws of
            // `quantize_weighted` + `RingVec::from_u64s`, without the `u64` vector in
            // between). Written in place, so no stray copy; the vector is in `out`
            // before the result is checked, so that `out`'s drop wipes a partial one.
            let ring = spec.ring;
            let len = self.quantizer.encoded_len(x.len());
            let clipped = if ring.uses_u32() {
                let mut words = vec![0u32; len];
                // reduce() of a u32 ring is below 2^32, so the cast is exact.
                let r = self
                    .quantizer
                    .quantize_weighted_into(x, weight, rng, &mut words, |w| ring.reduce(w) as u32);
                out.vectors.push(RingVec::U32(words));
                r
            } else {
                let mut words = vec![0u64; len];
                let r = self
                    .quantizer
                    .quantize_weighted_into(x, weight, rng, &mut words, |w| ring.reduce(w));
                out.vectors.push(RingVec::U64(words));
                r
            };
            out.clipped += clipped?;
        }
        Ok(out)
    }

    /// Decodes the unmasked sums (one per vector, in order) of `included` clients into
    /// float sums ([`Quantizer::dequantize`]).
    ///
    /// # Errors
    /// [`Misuse::InputCount`] unless one sum per vector is given; [`Misuse::InputLength`]
    /// for a sum of the wrong length; [`Misuse::TooManyIncluded`],
    /// [`PeerMisbehaved::MissingWeightWord`](crate::PeerMisbehaved::MissingWeightWord),
    /// [`PeerMisbehaved::AggregateOutOfRange`](crate::PeerMisbehaved::AggregateOutOfRange)
    /// from the quantizer.
    pub fn decode(&self, sums: &[RingVec], included: usize) -> Result<Vec<Aggregate>> {
        let specs = self.config.vectors();
        if sums.len() != specs.len() {
            return Err(Error::Misuse(Misuse::InputCount {
                expected: specs.len(),
                found: sums.len(),
            }));
        }
        if let Some(dp) = &self.dp {
            let (floats, noise) = dp.params.decode(&dp.rotations, sums, included)?;
            return Ok(floats
                .into_iter()
                .map(|sum| Aggregate {
                    sum,
                    clients: included,
                    total_weight: included as u64,
                    error_bound: f64::INFINITY,
                    dp: Some(noise),
                })
                .collect());
        }
        sums.iter()
            .zip(specs)
            .enumerate()
            .map(|(vector, (sum, spec))| {
                if sum.len() != spec.dim {
                    return Err(Error::Misuse(Misuse::InputLength {
                        vector,
                        expected: spec.dim,
                        found: sum.len(),
                    }));
                }
                self.quantizer.dequantize(&sum.to_u64s(), included)
            })
            .collect()
    }

    /// Decodes the server's output ([`decode`](Self::decode) of its sums and included
    /// count).
    ///
    /// # Errors
    /// As [`decode`](Self::decode).
    pub fn decode_output(&self, output: &Output) -> Result<Vec<Aggregate>> {
        self.decode(&output.sums, output.included.len())
    }

    /// The decoded sum of the first vector of the server's output: the whole result of a
    /// session of one vector (what the network driver, the command line and the Python
    /// bindings build).
    ///
    /// # Errors
    /// As [`decode`](Self::decode); [`Misuse::InvalidVectorCount`] if nothing decoded.
    pub fn decode_first(&self, output: &Output) -> Result<Aggregate> {
        self.decode_output(output)?
            .into_iter()
            .next()
            .ok_or(Error::Misuse(Misuse::InvalidVectorCount { count: 0 }))
    }
}
