//! One float secure-sum session, end to end: inputs, quantization, the protocol (through
//! `secagg::sim`), dequantization and the checks against plaintext sums.
//!
//! Shared by `secagg` (no arguments), `secagg simulate` and `secagg bench variants`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::protocol::params::{ParamQuery, Params};
use secagg::quantize::Rounding;
use secagg::ring::RingVec;
use secagg::session::{Choice as FloatChoice, Encoded, FloatSession};
use secagg::sim::{self, ClientExecution, DropSchedule, RoundStats};
use secagg::{ClientId, Round};

use crate::params::Threat;
use crate::CliError;

/// Which graph the session uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphKind {
    /// Every client is every other client's neighbor (SecAgg).
    Complete,
    /// A random k-regular Harary graph (SecAgg+).
    Sparse,
}

impl GraphKind {
    pub fn name(self) -> &'static str {
        match self {
            GraphKind::Complete => "complete",
            GraphKind::Sparse => "sparse",
        }
    }
}

/// Before which round the dropping clients go silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DropAt {
    /// They never show up (silent from AdvertiseKeys on).
    Advertise,
    /// They advertised keys, then went silent (no shares sent).
    Share,
    /// They shared keys but never sent a masked input: the server must remove their
    /// pairwise masks (the costliest case for it).
    Masked,
    /// They sent their masked input, then went silent (before the consistency check in
    /// the malicious model, before unmasking in the semi-honest one).
    Unmask,
    /// Each dropping client picks one of the session's rounds uniformly at random.
    Random,
}

impl DropAt {
    pub fn name(self) -> &'static str {
        match self {
            DropAt::Advertise => "advertise",
            DropAt::Share => "share",
            DropAt::Masked => "masked",
            DropAt::Unmask => "unmask",
            DropAt::Random => "random",
        }
    }

    /// The fixed round, or `None` for [`DropAt::Random`]. `Unmask` maps to
    /// [`Round::ConsistencyCheck`], which in the semi-honest model (no round 3) means
    /// silent in [`Round::Unmasking`].
    fn round(self) -> Option<Round> {
        match self {
            DropAt::Advertise => Some(Round::AdvertiseKeys),
            DropAt::Share => Some(Round::ShareKeys),
            DropAt::Masked => Some(Round::MaskedInputCollection),
            DropAt::Unmask => Some(Round::ConsistencyCheck),
            DropAt::Random => None,
        }
    }
}

/// Everything that defines a session.
#[derive(Clone, Debug)]
pub struct SessionSpec {
    pub clients: usize,
    pub dim: usize,
    /// Fraction of clients that drop: exactly `floor(dropout * clients)` of them.
    pub dropout: f64,
    pub graph: GraphKind,
    pub neighbors: Option<usize>,
    pub threshold: Option<usize>,
    pub threat: Threat,
    pub drop_at: DropAt,
    pub seed: u64,
    /// Quantization bits q.
    pub bits: u32,
    /// Clipping bound c: inputs are clipped to [-c, c].
    pub clip: f64,
    /// Ring width b (default: the smallest that cannot wrap for `clients` clients).
    pub ring_bits: Option<u32>,
    pub rounding: Rounding,
    /// What the parameter finder is asked (corrupt rate, sigma, eta).
    pub corrupt: f64,
    pub sigma: f64,
    pub eta: f64,
    /// The finder's grinding margin in bits; `None`: the threat model's default (64
    /// malicious, 0 semi-honest).
    pub grinding_bits: Option<f64>,
    /// The session context bound into the session id.
    pub context: String,
    /// Run a round's clients one after the other (each with the whole thread pool)
    /// instead of all at once.
    pub sequential: bool,
    /// Distributed differential privacy (`clip` is then the L2 bound of an update).
    pub dp: Option<secagg::dp::pipeline::DistributedDp>,
}

/// How the degree and threshold were chosen, and the bounds they meet.
#[derive(Clone, Debug)]
pub enum Choice {
    /// By the parameter finder, or checked against its targets: the bounds.
    Bounds(Params),
    /// Given on the command line and outside the finder's targets: why.
    Unchecked(String),
}

/// The parameters a session ran with.
#[derive(Clone, Debug)]
pub struct Setup {
    pub graph: GraphKind,
    pub degree: usize,
    pub threshold: usize,
    pub ring_bits: u32,
    pub choice: Choice,
    pub query: ParamQuery,
    /// The session id (`secagg::session`: the same parameters give the same id in
    /// every front end).
    pub session_id: [u8; 32],
}

/// What a session produced.
#[derive(Clone, Debug)]
pub struct SessionReport {
    pub spec: SessionSpec,
    pub setup: Setup,
    /// `Ok` with the server's outcome, or the round and error it aborted with.
    pub outcome: Result<Outcome, (Round, secagg::Error)>,
    /// Clients scheduled to drop, by round.
    pub dropped: Vec<(Round, usize)>,
    /// Mean time to quantize one client's vector.
    pub quantize: Duration,
    /// Wall time of the protocol run (all clients and the server), without `inputs`.
    pub wall: Duration,
    /// Wall time spent inside the protocol run drawing and quantizing the clients'
    /// inputs (each made when its client masks it: `sim::run_streaming`).
    pub inputs: Duration,
}

/// A session that completed.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub included: usize,
    /// Whether every included client is one the schedule let send its masked input.
    pub included_valid: bool,
    /// Clients the schedule kept alive through round 2 that the server left out:
    /// the protocol drops a client left with fewer than `t` surviving neighbors.
    pub excluded_alive: usize,
    /// Server output == plaintext ring sum of the included clients' encoded words.
    pub exact: bool,
    /// max |dequantized sum - f64 sum of included clients' clipped floats|.
    pub max_abs_error: f64,
    /// The documented bound on that error.
    pub error_bound: f64,
    /// Elements clipped, over all clients.
    pub clipped: usize,
    /// Time to dequantize the sum.
    pub dequantize: Duration,
    pub rounds: Vec<RoundStats>,
    /// Clients that aborted on a server message (an honest server causes none).
    pub client_aborts: usize,
    /// Where the server's unmasking time went.
    pub unmask: Option<secagg::protocol::server::UnmaskTimings>,
    /// With DP: the noise the sum carries and the measured error.
    pub dp: Option<DpOutcome>,
}

/// The DP side of a session that completed.
#[derive(Clone, Debug)]
pub struct DpOutcome {
    /// What the decoded sum reports (noise, the round's guarantee).
    pub noise: secagg::dp::pipeline::DpNoise,
    /// The resolved parameters (noise multiplier, grid, calibration).
    pub params: secagg::dp::pipeline::DpParams,
    /// √(mean over coordinates of (DP sum − true sum)²), the true sum of the included
    /// clients' L2-clipped inputs.
    pub measured_error_stddev: f64,
}

impl Outcome {
    /// Whether everything checked out.
    pub fn ok(&self) -> bool {
        self.exact
            && self.included_valid
            && self.client_aborts == 0
            && self.max_abs_error <= self.error_bound
    }
}

impl SessionReport {
    pub fn ok(&self) -> bool {
        self.outcome.as_ref().is_ok_and(Outcome::ok)
    }
}

/// A 32-byte seed for `purpose`, derived from the user's `--seed`.
pub fn derive_seed(seed: u64, purpose: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"secagg/cli/");
    h.update(purpose.as_bytes());
    h.update(seed.to_le_bytes());
    h.finalize().into()
}

/// The float session `s` describes: the flags first, the parameter finder for the rest
/// (`secagg::session`). `keys`: the malicious model's signing keys.
pub fn float_session(s: &SessionSpec, keys: Option<&[SigningKey]>) -> secagg::Result<FloatSession> {
    let mut b = FloatSession::builder(s.clients)
        .dim(s.dim)
        .rates(s.dropout, s.corrupt)
        .targets(s.sigma, s.eta)
        .grinding_option(s.grinding_bits)
        .clip(s.clip)
        .bits(s.bits)
        .rounding(s.rounding)
        .graph_seed(derive_seed(s.seed, "graph"))
        .context(s.context.as_bytes().to_vec())
        .dp_option(s.dp);
    b = match (s.graph, s.neighbors) {
        (GraphKind::Complete, _) => b.complete(),
        (GraphKind::Sparse, Some(k)) => b.harary(k),
        (GraphKind::Sparse, None) => b,
    };
    if let Some(t) = s.threshold {
        b = b.threshold(t);
    }
    if let Some(r) = s.ring_bits {
        b = b.ring_bits(r);
    }
    if let Some(keys) = keys {
        b = b.malicious(keys.iter().map(SigningKey::verifying_key).collect());
    }
    b.build()
}

/// What a built session chose.
fn setup(fs: &FloatSession) -> Setup {
    Setup {
        graph: if fs.is_complete() {
            GraphKind::Complete
        } else {
            GraphKind::Sparse
        },
        degree: fs.degree(),
        threshold: fs.config().threshold(),
        ring_bits: fs.quantizer().config().ring_bits,
        choice: match fs.choice() {
            FloatChoice::Found(p) | FloatChoice::Checked(p) => Choice::Bounds(*p),
            FloatChoice::Unchecked(e) => Choice::Unchecked(e.to_string()),
        },
        query: *fs.query(),
        session_id: *fs.session_id(),
    }
}

/// Exactly `floor(dropout * n)` clients (the parameter finder's `D`), chosen by a
/// seeded shuffle, drop before `drop_at`'s round (or each before a random one of
/// `rounds`).
fn schedule(s: &SessionSpec, rounds: &[Round]) -> (DropSchedule, Vec<(Round, usize)>) {
    let n = s.clients;
    let mut rng = seeded_rng(derive_seed(s.seed, "drop-schedule"));
    // The finder's slack, so that 0.1 * 100 is 10 despite binary rounding.
    let count = (((s.dropout + 1e-12) * n as f64).floor() as usize).min(n);
    let mut ids: Vec<ClientId> = (0..n as ClientId).collect();
    // Partial Fisher–Yates: the first `count` entries are a uniform sample.
    for i in 0..count {
        let j = i + uniform_below(&mut rng, (n - i) as u64) as usize;
        ids.swap(i, j);
    }
    let mut sched = DropSchedule::none(n);
    let mut counts: Vec<(Round, usize)> = rounds.iter().map(|&r| (r, 0)).collect();
    for &id in &ids[..count] {
        let round = match s.drop_at.round() {
            Some(r) => r,
            None => rounds[uniform_below(&mut rng, rounds.len() as u64) as usize],
        };
        sched.set(id, Some(round));
        // In the semi-honest model a client silent from round 3 is silent in round 4.
        let shown = rounds
            .iter()
            .copied()
            .find(|&r| r >= round)
            .unwrap_or(round);
        if let Some(c) = counts.iter_mut().find(|c| c.0 == shown) {
            c.1 += 1;
        }
    }
    counts.retain(|c| c.1 > 0);
    (sched, counts)
}

/// Uniform in `0..bound` (`bound > 0`), by rejection.
fn uniform_below<R: Rng + ?Sized>(rng: &mut R, bound: u64) -> u64 {
    let zone = u64::MAX - u64::MAX % bound;
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

/// Client `i`'s float input: uniform in [-1, 1) from its own seeded stream.
fn float_input(seed: u64, i: usize, dim: usize) -> Vec<f32> {
    let mut s = derive_seed(seed, "inputs");
    s[..8].copy_from_slice(&(i as u64).to_le_bytes());
    let mut rng = seeded_rng(s);
    (0..dim)
        .map(|_| {
            // 24 random bits → [-1, 1) exactly representable in f32.
            let u = (rng.next_u32() >> 8) as f32 / (1u32 << 23) as f32;
            u - 1.0
        })
        .collect()
}

/// Phases reported to a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Session,
    Check,
}

/// Runs a session. `progress` is told when each phase starts.
pub fn run(s: &SessionSpec, progress: &dyn Fn(Phase)) -> Result<SessionReport, CliError> {
    let n = s.clients;
    let keys = match s.threat {
        Threat::SemiHonest => None,
        Threat::Malicious => Some(sim::signing_keys(n, derive_seed(s.seed, "signing-keys"))),
    };
    let fs = float_session(s, keys.as_deref())?;
    let setup = setup(&fs);
    let config = Arc::clone(fs.config());
    let (sched, dropped) = schedule(s, config.rounds());

    // Each client's floats and encoded words, made when the simulator asks for them
    // (as the client masks its input in round 2) and dropped with the client's
    // masked input: nothing of size n x d is ever held (`sim::run_streaming`). The
    // check regenerates them once more.
    progress(Phase::Session);
    let encode = |i: usize| -> secagg::Result<(Vec<f32>, Encoded, Duration)> {
        let x = float_input(s.seed, i, s.dim);
        let mut seed = derive_seed(s.seed, "rounding");
        seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let mut rng = seeded_rng(seed);
        let t0 = Instant::now();
        let q = fs.encode(&x, 1, &mut rng)?;
        Ok((x, q, t0.elapsed()))
    };
    let quantized = (AtomicU64::new(0), AtomicU64::new(0));
    let source = |u: ClientId| -> secagg::Result<Vec<RingVec>> {
        let (_, q, dt) = encode(u as usize)?;
        quantized
            .0
            .fetch_add(dt.as_nanos() as u64, Ordering::Relaxed);
        quantized.1.fetch_add(1, Ordering::Relaxed);
        Ok(q.into_vectors())
    };
    let t0 = Instant::now();
    let execution = if s.sequential {
        ClientExecution::Sequential
    } else {
        ClientExecution::Parallel
    };
    let result = sim::run_streaming(
        Arc::clone(&config),
        &source,
        keys,
        &sched,
        derive_seed(s.seed, "sim"),
        execution,
    );
    let elapsed = t0.elapsed();
    let inputs = result.as_ref().map(|r| r.input_time).unwrap_or_default();
    let wall = elapsed.saturating_sub(inputs);
    let quantize = Duration::from_nanos(quantized.0.into_inner() / quantized.1.into_inner().max(1));

    progress(Phase::Check);
    let outcome = match result {
        Err(a) => Err((a.round, a.error)),
        Ok(r) => {
            let included = &r.output.included;
            // Exact check, independent of the ring code: integer sum of the words
            // (no wrap: every word < 2^q and n * (2^q - 1) < 2^b), reduced mod 2^b.
            let mask = if setup.ring_bits == 64 {
                u64::MAX
            } else {
                (1u64 << setup.ring_bits) - 1
            };
            // The ring vector's length: d, or d padded to a power of two with DP.
            let ring_len = config.vectors().first().map_or(s.dim, |v| v.dim);
            let zero = || (vec![0u64; ring_len], vec![0f64; s.dim], 0usize);
            let (mut want, want_f, clipped) = (0..n)
                .into_par_iter()
                .map(|u| (u, encode(u)))
                .try_fold(zero, |(mut w, mut f, mut c), (u, e)| {
                    let (x, q, _) = e?;
                    // Clipped elements count over every client, included or not.
                    c += q.clipped();
                    if included.binary_search(&(u as ClientId)).is_err() {
                        return Ok::<_, secagg::Error>((w, f, c));
                    }
                    let words = q
                        .vectors()
                        .first()
                        .map(RingVec::to_u64s)
                        .unwrap_or_default();
                    for (a, &v) in w.iter_mut().zip(&words) {
                        *a = a.wrapping_add(v);
                    }
                    // With DP the update is clipped in L2 norm, else element by element.
                    let norm = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
                    let l2 = if norm > s.clip { s.clip / norm } else { 1.0 };
                    for (a, &v) in f.iter_mut().zip(&x) {
                        *a += match s.dp {
                            Some(_) => f64::from(v) * l2,
                            None => f64::from(v).clamp(-s.clip, s.clip),
                        };
                    }
                    Ok::<_, secagg::Error>((w, f, c))
                })
                .try_reduce(zero, |(mut w, mut f, c), (w2, f2, c2)| {
                    w.iter_mut()
                        .zip(w2)
                        .for_each(|(a, b)| *a = a.wrapping_add(b));
                    f.iter_mut().zip(f2).for_each(|(a, b)| *a += b);
                    Ok((w, f, c + c2))
                })?;
            want.iter_mut().for_each(|w| *w &= mask);
            let got = r
                .output
                .sums
                .first()
                .map(RingVec::to_u64s)
                .unwrap_or_default();
            let exact = got == want && r.is_correct();
            let t1 = Instant::now();
            let agg = fs.decode_first(&r.output)?;
            let dequantize = t1.elapsed();
            let max_abs_error = agg
                .sum
                .iter()
                .zip(&want_f)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let dp = match (agg.dp, fs.dp()) {
                (Some(noise), Some(params)) => Some(DpOutcome {
                    noise,
                    params: params.clone(),
                    measured_error_stddev: (agg
                        .sum
                        .iter()
                        .zip(&want_f)
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f64>()
                        / s.dim.max(1) as f64)
                        .sqrt(),
                }),
                _ => None,
            };
            let scheduled: Vec<ClientId> = (0..n as ClientId)
                .filter(|&u| {
                    sched
                        .get(u)
                        .is_none_or(|r| r > Round::MaskedInputCollection)
                })
                .collect();
            Ok(Outcome {
                included: included.len(),
                included_valid: included.iter().all(|u| scheduled.binary_search(u).is_ok()),
                excluded_alive: scheduled.len().saturating_sub(included.len()),
                exact,
                max_abs_error,
                error_bound: agg.error_bound,
                clipped,
                dequantize,
                rounds: r.rounds,
                client_aborts: r.client_aborts.len(),
                unmask: r.unmask,
                dp,
            })
        }
    };
    Ok(SessionReport {
        spec: s.clone(),
        setup,
        outcome,
        dropped,
        quantize,
        wall,
        inputs,
    })
}

/// Snake-case key for a round in JSON and CSV.
pub fn round_key(r: Round) -> &'static str {
    match r {
        Round::AdvertiseKeys => "advertise_keys",
        Round::ShareKeys => "share_keys",
        Round::MaskedInputCollection => "masked_input",
        Round::ConsistencyCheck => "consistency_check",
        Round::Unmasking => "unmasking",
    }
}

/// Bytes of one round on the wire. The server message that opens a round (sent when
/// the previous round closed) counts in that round, as in docs/wire-format.md.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundBytes {
    pub round: Round,
    /// Mean size of one client's message in this round.
    pub client_sent: f64,
    /// Mean size of the server message that opened this round for one client.
    pub client_received: f64,
    /// Everything the server received in this round.
    pub server_received: u64,
    /// Everything the server sent to open this round.
    pub server_sent: u64,
}

/// Per-round byte counts from the simulator's per-round figures.
pub fn round_bytes(rounds: &[RoundStats]) -> Vec<RoundBytes> {
    let per = |total: u64, count: usize| {
        if count == 0 {
            0.0
        } else {
            total as f64 / count as f64
        }
    };
    let mut opened_by = (0u64, 0usize);
    rounds
        .iter()
        .map(|st| {
            let b = RoundBytes {
                round: st.round,
                client_sent: per(st.client_bytes, st.client_messages),
                client_received: per(opened_by.0, opened_by.1),
                server_received: st.client_bytes,
                server_sent: opened_by.0,
            };
            opened_by = (st.server_bytes, st.server_messages);
            b
        })
        .collect()
}
