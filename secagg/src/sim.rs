//! An in-process simulator: `n` clients and the server in one process, with a
//! drop-out schedule, used by tests, benches and the command line.
//!
//! Memory does not grow with `n x d`. Within a round the clients go in batches of
//! [`CLIENTS_PER_THREAD`] per pool thread, in id order: a batch's clients run (in
//! parallel, or one after the other: [`ClientExecution`]), the server ingests their
//! messages in id order and they are dropped, then the next batch; the server closes
//! the round after the last batch. Clients start without their inputs
//! ([`Client::new_deferred`]) and get them when they mask them in round 2, from the
//! caller's generator ([`run_streaming`]) or as copies of stored ones ([`run_with`]);
//! the masked input is made in place of the input and dropped once the server has
//! added it (the server sums masked inputs as they arrive). What stays for the whole
//! session is the server's state and each client's state without its input.
//!
//! Everything is deterministic given the simulation seed: client `i` draws from its own
//! ChaCha20 stream derived from the seed and `i`, so neither the batching nor the
//! execution changes a byte. Timings are wall-clock per client handler and per server
//! round (receive + close).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::par::{current_num_threads, *};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use crate::crypto::rng::{seeded_rng, Rng};
use crate::error::{Error, Misuse, PeerMisbehaved, Result};
use crate::ids::{ClientId, Round};
use crate::protocol::client::Client;
use crate::protocol::config::Config;
use crate::protocol::messages::{ClientMessage, ServerMessage};
use crate::protocol::server::{Output, Server, UnmaskTimings};
use crate::ring::RingVec;

/// When each client goes silent: `Some(r)` means the client sends nothing from round
/// `r` on (`Some(Round::AdvertiseKeys)`: it never shows up); `None`: it never drops.
/// In the semi-honest model, which has no round 3, dropping before
/// [`Round::ConsistencyCheck`] is dropping before [`Round::Unmasking`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropSchedule {
    drop_before: Vec<Option<Round>>,
}

impl DropSchedule {
    /// Nobody drops.
    pub fn none(n: usize) -> Self {
        Self {
            drop_before: vec![None; n],
        }
    }

    /// One entry per client.
    pub fn new(drop_before: Vec<Option<Round>>) -> Self {
        Self { drop_before }
    }

    /// Each client independently drops with probability `rate`, before a round chosen
    /// uniformly from `rounds`.
    pub fn random<R: Rng + ?Sized>(n: usize, rate: f64, rounds: &[Round], rng: &mut R) -> Self {
        let drop_before = (0..n)
            .map(|_| {
                let coin = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if coin < rate && !rounds.is_empty() {
                    let k = (rng.next_u64() % rounds.len() as u64) as usize;
                    rounds.get(k).copied()
                } else {
                    None
                }
            })
            .collect();
        Self { drop_before }
    }

    /// Makes client `id` drop before `round` (or never, with `None`).
    pub fn set(&mut self, id: ClientId, round: Option<Round>) {
        if let Some(slot) = self.drop_before.get_mut(id as usize) {
            *slot = round;
        }
    }

    /// The round before which `id` drops, if any.
    pub fn get(&self, id: ClientId) -> Option<Round> {
        self.drop_before.get(id as usize).copied().flatten()
    }

    /// Whether `id` is silent in `round`.
    pub fn is_silent(&self, id: ClientId, round: Round) -> bool {
        self.get(id).is_some_and(|r| r <= round)
    }
}

/// Figures for one round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundStats {
    /// The round.
    pub round: Round,
    /// Clients that computed their message for this round.
    pub active_clients: usize,
    /// Mean wall time of one client's handler.
    pub client_mean: Duration,
    /// Slowest client handler.
    pub client_max: Duration,
    /// Server wall time: ingesting this round's messages and closing the round.
    pub server: Duration,
    /// Messages clients sent in this round.
    pub client_messages: usize,
    /// Messages the server sent when closing this round.
    pub server_messages: usize,
    /// Bytes of the clients' messages of this round, in the wire encoding
    /// (`ClientMessage::encoded_len`), summed over clients.
    pub client_bytes: u64,
    /// Bytes of the messages the server sent when closing this round (they open the
    /// next round), in the wire encoding, summed over recipients.
    pub server_bytes: u64,
}

/// What a simulation produced.
#[derive(Clone, Debug)]
pub struct SimReport {
    /// The server's output.
    pub output: Output,
    /// The plaintext sum of the included clients' inputs, computed directly.
    pub expected: Vec<RingVec>,
    /// Per-round figures, in round order.
    pub rounds: Vec<RoundStats>,
    /// Clients that aborted on a server message (none when the server is honest).
    pub client_aborts: Vec<(ClientId, Error)>,
    /// Wall time the simulator spent inside the session getting clients' inputs
    /// (copying stored ones, or regenerating them: [`run_streaming`]), outside the
    /// clients' handler times; part of the session's wall time.
    pub input_time: Duration,
    /// Where the server's unmasking time went ([`Server::unmask_timings`]).
    pub unmask: Option<UnmaskTimings>,
}

impl SimReport {
    /// Whether the server's sums equal the plaintext sums.
    pub fn is_correct(&self) -> bool {
        self.output.sums == self.expected
    }

    /// Mean client time over the whole session: the sum over rounds of each round's
    /// mean client handler time.
    pub fn client_total_mean(&self) -> Duration {
        self.rounds.iter().map(|r| r.client_mean).sum()
    }
}

/// A simulation error: the server aborted (or rejected an honest message) in a round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimAbort {
    /// The round in which it happened.
    pub round: Round,
    /// The error.
    pub error: Error,
}

impl core::fmt::Display for SimAbort {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "session aborted in round {}: {}", self.round, self.error)
    }
}

impl std::error::Error for SimAbort {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// One stream per client, derived from the simulation seed.
fn client_seed(seed: &[u8; 32], id: ClientId) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"secagg/sim/client");
    h.update(seed);
    h.update(id.to_be_bytes());
    h.finalize().into()
}

/// Deterministic Ed25519 signing keys for `n` clients (simulations and tests only).
pub fn signing_keys(n: usize, seed: [u8; 32]) -> Vec<SigningKey> {
    let mut rng = seeded_rng(seed);
    (0..n).map(|_| SigningKey::generate(&mut rng)).collect()
}

/// Uniformly random inputs for every client, one ring vector per configured vector.
pub fn random_inputs<R: Rng + ?Sized>(config: &Config, rng: &mut R) -> Vec<Vec<RingVec>> {
    (0..config.n())
        .map(|_| {
            config
                .vectors()
                .iter()
                .map(|spec| {
                    let words: Vec<u64> = (0..spec.dim).map(|_| rng.next_u64()).collect();
                    RingVec::from_u64s(&spec.ring, &words)
                })
                .collect()
        })
        .collect()
}

/// The plaintext sum of `inputs[i]` over `included`.
pub fn plaintext_sum(
    config: &Config,
    inputs: &[Vec<RingVec>],
    included: &[ClientId],
) -> Result<Vec<RingVec>> {
    let mut sums: Vec<RingVec> = config
        .vectors()
        .iter()
        .map(|v| RingVec::zeros(&v.ring, v.dim))
        .collect();
    for &u in included {
        let x =
            inputs
                .get(u as usize)
                .ok_or(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                    client: u,
                }))?;
        for ((acc, xj), spec) in sums.iter_mut().zip(x).zip(config.vectors()) {
            acc.add_assign(&spec.ring, xj)?;
        }
    }
    Ok(sums)
}

/// How the simulator runs the clients of one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientExecution {
    /// All clients of a round at once, spread over the rayon pool (fastest session).
    Parallel,
    /// One client after the other, each free to use the whole pool for its own mask
    /// expansion (the per-client times a real client device would see).
    Sequential,
}

/// Where the simulator gets client `id`'s input: one ring vector per configured vector.
/// It is called when the client needs its input (before it masks it in round 2), from
/// any thread of the pool, and again at the end for the few clients whose inputs the
/// plaintext check must add or remove; it must return the same value every time (a
/// deterministic function of `id`, e.g. drawn from a seed derived from `id`).
pub type InputSource<'a> = dyn Fn(ClientId) -> Result<Vec<RingVec>> + Sync + 'a;

/// How many clients of a round each pool thread has in flight: the simulator runs
/// the clients of a round in batches of `threads x CLIENTS_PER_THREAD` (in id order);
/// each batch's messages go to the server and are dropped before the next batch
/// starts, so at most that many clients' inputs and messages exist at once.
pub const CLIENTS_PER_THREAD: usize = 4;

/// Runs one session with the clients of each round in parallel; see [`run_with`].
///
/// # Errors
/// As [`run_with`].
pub fn run(
    config: Arc<Config>,
    inputs: Vec<Vec<RingVec>>,
    signing_keys: Option<Vec<SigningKey>>,
    schedule: &DropSchedule,
    seed: [u8; 32],
) -> core::result::Result<SimReport, SimAbort> {
    run_with(
        config,
        inputs,
        signing_keys,
        schedule,
        seed,
        ClientExecution::Parallel,
    )
}

/// Runs one session. `inputs[i]` is client `i`'s input; `signing_keys` is required in
/// the malicious model (one per client, matching the configuration). The session runs
/// as in [`run_streaming`] (same bytes, same figures), the input of client `i` being
/// a copy of `inputs[i]` made when it is needed; the inputs are checked when the
/// clients start, as [`Client::new`] checks them.
///
/// # Errors
/// A [`SimAbort`] with the round and the server's error when the server aborts (or, which
/// would be a bug, rejects an honest client's message); client start-up errors
/// (bad inputs or keys) are reported in round 0.
pub fn run_with(
    config: Arc<Config>,
    inputs: Vec<Vec<RingVec>>,
    signing_keys: Option<Vec<SigningKey>>,
    schedule: &DropSchedule,
    seed: [u8; 32],
    execution: ClientExecution,
) -> core::result::Result<SimReport, SimAbort> {
    let n = config.n();
    if inputs.len() != n {
        return Err(SimAbort {
            round: Round::AdvertiseKeys,
            error: Error::Misuse(Misuse::InputCount {
                expected: n,
                found: inputs.len(),
            }),
        });
    }
    let source = |id: ClientId| -> Result<Vec<RingVec>> {
        inputs
            .get(id as usize)
            .cloned()
            .ok_or(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                client: id,
            }))
    };
    run_core(
        config,
        &source,
        Some(&inputs),
        signing_keys,
        schedule,
        seed,
        execution,
    )
}

/// Runs one session whose memory does not grow with n x d: client `i`'s input comes
/// from `inputs(i)` when the client needs it (round 2), is masked in place and handed
/// to the server with the rest of its batch, then dropped ([`CLIENTS_PER_THREAD`]).
/// What stays for the whole session is the server's state (its running sums, the
/// keys, ciphertexts and id sets it keeps, all O(n k + d)) and each client's state
/// without its input (keys, seeds, shares: O(k)). Clients start with
/// [`Client::new_deferred`] and get their input with [`Client::provide_inputs`]; every
/// draw from every client's generator is the same as with stored inputs, so
/// [`run_with`] on the same inputs gives the same sums, included set, aborts and
/// bytes.
///
/// The plaintext sum ([`SimReport::expected`]) is accumulated from the inputs as they
/// are handed out (under a lock) and corrected at the end for the clients the server
/// did not include (regenerated once more).
///
/// # Errors
/// As [`run_with`]; an error of `inputs` (or inputs that do not fit the
/// configuration) aborts the simulation in [`Round::MaskedInputCollection`].
pub fn run_streaming(
    config: Arc<Config>,
    inputs: &InputSource<'_>,
    signing_keys: Option<Vec<SigningKey>>,
    schedule: &DropSchedule,
    seed: [u8; 32],
    execution: ClientExecution,
) -> core::result::Result<SimReport, SimAbort> {
    run_core(
        config,
        inputs,
        None,
        signing_keys,
        schedule,
        seed,
        execution,
    )
}

/// What one round's clients did, summed over its batches.
#[derive(Default)]
struct Tally {
    times: Vec<Duration>,
    messages: usize,
    bytes: u64,
    server: Duration,
}

/// The session loop behind [`run_with`] and [`run_streaming`]. `stored`: the caller's
/// inputs, checked when the clients start (as `Client::new` does).
fn run_core(
    config: Arc<Config>,
    inputs: &InputSource<'_>,
    stored: Option<&[Vec<RingVec>]>,
    signing_keys: Option<Vec<SigningKey>>,
    schedule: &DropSchedule,
    seed: [u8; 32],
    execution: ClientExecution,
) -> core::result::Result<SimReport, SimAbort> {
    let n = config.n();
    let abort = |round: Round| move |error: Error| SimAbort { round, error };
    // Each client gets a clone of its key; the caller's vector is dropped whole at the
    // end, which wipes every key in place (moving the keys out of it, or `take`ing
    // them out of a vector of options, would leave their bytes in freed memory).
    //
    // Clients are run in slots: slot `s` holds client `ids[s]`, in the order of
    // `processing_order` (neighbors close together), so that a masked input the server
    // holds until its sender's neighbors have answered (an accusation may still come)
    // is held only while a few batches go by, not until the end of the round.
    let ids = processing_order(config.graph());
    let keys: Vec<Option<&SigningKey>> = ids
        .iter()
        .map(|&u| signing_keys.as_ref().and_then(|k| k.get(u as usize)))
        .collect();
    let mut slot_of = vec![0usize; n];
    for (s, &u) in ids.iter().enumerate() {
        slot_of[u as usize] = s;
    }
    let mut rngs: Vec<_> = ids
        .iter()
        .map(|&u| seeded_rng(client_seed(&seed, u)))
        .collect();
    let mut server = Server::new(Arc::clone(&config));
    let mut stats = Vec::new();
    let mut client_aborts = Vec::new();
    let mut clients: Vec<Option<Client>> = (0..n).map(|_| None).collect();
    // The plaintext sum of the inputs handed out, and to whom.
    let expected = std::sync::Mutex::new(
        config
            .vectors()
            .iter()
            .map(|v| RingVec::zeros(&v.ring, v.dim))
            .collect::<Vec<RingVec>>(),
    );
    let mut given = vec![false; n];
    let mut input_time = Duration::ZERO;
    let batch = (current_num_threads() * CLIENTS_PER_THREAD).max(1);

    // Round 0 has no server message; later rounds have one per client that goes on.
    let mut inbox: Vec<Option<ServerMessage>> = (0..n).map(|_| None).collect();
    let mut round = Round::AdvertiseKeys;
    loop {
        let mut tally = Tally::default();
        for start in (0..n).step_by(batch) {
            let end = (start + batch).min(n);
            // Inputs first (round 2), regenerated in parallel for the batch, outside
            // the clients' timed handlers.
            if round == Round::MaskedInputCollection {
                let t0 = Instant::now();
                let wanted: Vec<ClientId> = (start..end)
                    .filter(|&i| {
                        clients[i].is_some()
                            && inbox[i].is_some()
                            && !schedule.is_silent(ids[i], round)
                    })
                    .map(|i| ids[i])
                    .collect();
                let xs: Vec<Result<Vec<RingVec>>> = wanted
                    .par_iter()
                    .map(|&u| {
                        let x = inputs(u)?;
                        Client::check_inputs(&config, &x)?;
                        let mut acc = expected
                            .lock()
                            .map_err(|_| Error::Misuse(Misuse::AlreadyAborted))?;
                        for ((a, xj), spec) in acc.iter_mut().zip(&x).zip(config.vectors()) {
                            a.add_assign(&spec.ring, xj)?;
                        }
                        Ok(x)
                    })
                    .collect();
                for (&u, x) in wanted.iter().zip(xs) {
                    let x = x.map_err(abort(round))?;
                    given[u as usize] = true;
                    if let Some(c) = clients[slot_of[u as usize]].as_mut() {
                        c.provide_inputs(x).map_err(abort(round))?;
                    }
                }
                input_time += t0.elapsed();
            }

            let outgoing: Vec<Option<ClientMessage>> = if round == Round::AdvertiseKeys {
                let items: Vec<_> = clients[start..end]
                    .iter_mut()
                    .zip(rngs[start..end].iter_mut())
                    .zip(&keys[start..end])
                    .collect();
                let started = each_client(execution, items, |k, ((client, rng), key)| {
                    let id = ids[start + k];
                    if schedule.is_silent(id, Round::AdvertiseKeys) {
                        return Ok((None, None));
                    }
                    let t0 = Instant::now();
                    let (c, m) = Client::new_deferred(Arc::clone(&config), id, key.cloned(), rng)?;
                    if let Some(x) = stored.and_then(|s| s.get(id as usize)) {
                        Client::check_inputs(&config, x)?;
                    }
                    *client = Some(c);
                    Ok((Some(m), Some(t0.elapsed())))
                });
                let mut out = Vec::with_capacity(end - start);
                for r in started {
                    let (m, t) = r.map_err(abort(round))?;
                    tally.times.extend(t);
                    out.push(m);
                }
                out
            } else {
                let items: Vec<_> = clients[start..end]
                    .iter_mut()
                    .zip(rngs[start..end].iter_mut())
                    .zip(inbox[start..end].iter_mut().map(Option::take))
                    .collect();
                let results = each_client(execution, items, |k, ((client, rng), msg)| {
                    let (Some(c), Some(msg)) = (client.as_mut(), msg) else {
                        return (None, None, None);
                    };
                    if schedule.is_silent(ids[start + k], msg.round()) {
                        *client = None;
                        return (None, None, None);
                    }
                    let t0 = Instant::now();
                    let r = c.handle(msg, rng);
                    let dt = t0.elapsed();
                    match r {
                        Ok(m) => (Some(m), None, Some(dt)),
                        Err(e) => (None, Some(e), Some(dt)),
                    }
                });
                let mut out = Vec::with_capacity(end - start);
                for (k, (m, e, t)) in results.into_iter().enumerate() {
                    tally.times.extend(t);
                    if let Some(e) = e {
                        client_aborts.push((ids[start + k], e));
                    }
                    out.push(m);
                }
                out
            };

            // The server ingests the batch's messages, in id order; they are dropped.
            tally.messages += outgoing.iter().filter(|m| m.is_some()).count();
            tally.bytes += wire_bytes(outgoing.iter().flatten().map(|m| m.encoded_len(&config)))
                .map_err(abort(round))?;
            let t0 = Instant::now();
            for (k, m) in outgoing.into_iter().enumerate() {
                if let Some(m) = m {
                    server.receive(ids[start + k], m).map_err(abort(round))?;
                }
            }
            tally.server += t0.elapsed();
        }

        let t0 = Instant::now();
        let replies = server.close_round().map_err(abort(round))?;
        let server_time = tally.server + t0.elapsed();
        let server_bytes = wire_bytes(replies.iter().map(|(_, m)| m.encoded_len(&config)))
            .map_err(abort(round))?;
        stats.push(RoundStats {
            round,
            active_clients: tally.times.len(),
            client_mean: mean(&tally.times),
            client_max: tally.times.iter().copied().max().unwrap_or_default(),
            server: server_time,
            client_messages: tally.messages,
            server_messages: replies.len(),
            client_bytes: tally.bytes,
            server_bytes,
        });
        if replies.is_empty() {
            break;
        }
        for (id, msg) in replies {
            if let Some(slot) = slot_of.get(id as usize).and_then(|&s| inbox.get_mut(s)) {
                round = msg.round();
                *slot = Some(msg);
            }
        }
    }

    let output = server
        .output()
        .cloned()
        .ok_or(Error::Misuse(Misuse::AlreadyAborted))
        .map_err(abort(round))?;
    let mut expected = expected
        .into_inner()
        .map_err(|_| abort(round)(Error::Misuse(Misuse::AlreadyAborted)))?;
    // The sum of exactly the included clients: remove the inputs handed out to
    // clients the server left out, add any included client's that was not.
    let mut included = vec![false; n];
    for &u in &output.included {
        match included.get_mut(u as usize) {
            Some(slot) => *slot = true,
            None => {
                return Err(abort(round)(Error::PeerMisbehaved(
                    PeerMisbehaved::UnknownClient { client: u },
                )))
            }
        }
    }
    for (u, (&g, &inc)) in given.iter().zip(&included).enumerate() {
        if g == inc {
            continue;
        }
        let x = inputs(u as ClientId).map_err(abort(round))?;
        for ((acc, xj), spec) in expected.iter_mut().zip(&x).zip(config.vectors()) {
            if inc {
                acc.add_assign(&spec.ring, xj)
            } else {
                acc.sub_assign(&spec.ring, xj)
            }
            .map_err(abort(round))?;
        }
    }
    // In id order, as if the clients had run in id order.
    client_aborts.sort_by_key(|(u, _)| *u);
    Ok(SimReport {
        output,
        expected,
        rounds: stats,
        client_aborts,
        input_time,
        unmask: server.unmask_timings().copied(),
    })
}

/// The order the simulator runs the clients in: breadth first over the neighbor graph
/// from client 0 (then from the lowest unvisited id), so that a client's neighbors are
/// run within a few batches of it (in a Harary graph, about `k` clients apart). The
/// server's output does not depend on the order (sums are modular, sets are sets).
fn processing_order(graph: &crate::protocol::graph::Graph) -> Vec<ClientId> {
    let n = graph.n();
    if graph.is_complete() {
        return (0..n as ClientId).collect();
    }
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    for root in 0..n {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut head = order.len();
        order.push(root as ClientId);
        while head < order.len() {
            let u = order[head];
            head += 1;
            for &v in graph.neighbors(u) {
                if !seen[v as usize] {
                    seen[v as usize] = true;
                    order.push(v);
                }
            }
        }
    }
    order
}

/// Applies `f` to every client's items, in parallel or one after the other. Each call
/// runs [`scrubbed`](crate::crypto::scrubbed): what a client's step leaves in the
/// frames of `f` (a signing key cloned for it, a state moved in and out) is wiped
/// before the thread runs another client, whose message would otherwise carry those
/// bytes in its padding into the heap.
fn each_client<I: Send, O: Send>(
    execution: ClientExecution,
    items: Vec<I>,
    f: impl Fn(usize, I) -> O + Sync + Send,
) -> Vec<O> {
    let job = |(i, x): (usize, I)| crate::crypto::scrubbed(|| f(i, x));
    match execution {
        ClientExecution::Parallel => items.into_par_iter().enumerate().map(job).collect(),
        ClientExecution::Sequential => items.into_iter().enumerate().map(job).collect(),
    }
}

/// The sum of encoded message lengths.
fn wire_bytes(lens: impl Iterator<Item = Result<usize>>) -> Result<u64> {
    lens.map(|l| l.map(|l| l as u64)).sum()
}

fn mean(times: &[Duration]) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    times.iter().sum::<Duration>() / times.len() as u32
}
