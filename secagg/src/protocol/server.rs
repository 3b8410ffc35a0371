//! The server: a sans-IO state machine, one phase per round.
//!
//! The driver feeds it client messages with [`Server::receive`] and, when a round's
//! deadline passes, calls [`Server::close_round`], which returns the messages for the
//! clients that go on. Whoever has not answered a round by then has dropped out. A
//! message that is late, duplicated, for the wrong round, from an unknown or dropped
//! client, or malformed is rejected with a typed error and changes nothing: the server
//! carries on. A round that leaves too few survivors aborts the session; after that, or
//! after the output is computed, every call fails.
//!
//! Inside, [`Server`] is the configuration and one phase, like the client's states:
//! each phase is a value that holds only what its round needs, collects that round's
//! answers (`receive` checks a message against the phase and records it), and is
//! consumed by closing the round, which builds the next phase — the survivor sets, the
//! data carried on — and the messages to send. Nothing is cleared by hand: what a phase
//! no longer needs is dropped with it.
//!
//! ```text
//! new ─▶ CollectingKeys ──close: S1 = t-core, KeyList──▶ CollectingShares
//!     ──close: S2 = t-core, RoutedShares──▶ CollectingInputs
//!     ──close: U3 = senders, needed secrets checked
//!         ├─ malicious: ConsistencyRequest──▶ CollectingSignatures
//!         │      ──close: U4 = signers, checked, UnmaskRequest──▶ CollectingReveals
//!         └─ semi-honest: UnmaskRequest──▶ CollectingReveals
//!     ──close: responders checked, reconstruct, unmask──▶ Completed (the Output)
//! a close that fails ─▶ Aborted (the error)
//! ```
//!
//! What moves from phase to phase: the advertised keys of `S1` (rounds 1–4), the
//! running sums (rounds 2–4), and from round 2 on the survivors: `S2`, `U3`, and the
//! secrets the server needs, decided by one function (`needed_secret`, the only
//! statement of that rule) when `U3` is fixed.
//!
//! Where the threshold `t` bites (the full rules are in `docs/protocol.md`):
//! * after rounds 0 and 1 the server keeps the largest set of survivors in which every
//!   member has at least `t` surviving neighbors (the `t`-core; the others are dropped
//!   too) and aborts with [`ThresholdError::TooFewSurvivors`] if that set is empty;
//! * from round 2 on the included set `U3` is fixed (masked inputs are summed as they
//!   arrive), and every secret the server will need — `b_u` for `u ∈ U3`, the masking
//!   key of each dropped `v` with a neighbor in `U3` — must keep `t` share holders
//!   among the clients still answering, else [`ThresholdError::CannotReconstruct`];
//!   an accused `v` whose shares fewer than `t` neighbors in `U3` could use is undone
//!   pairwise instead (each of those neighbors reveals its agreement with `v`), which
//!   needs every one of them still answering.
//!
//! The state is plain data (keys, ciphertexts, sums, id sets) and can be stored
//! between rounds ([`Server::to_bytes`], `docs/wire-format.md`, "Stored state").

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::par::*;
use ed25519_dalek::Signature;

use super::config::Config;
use super::graph::Graph;
use super::messages::{
    AdvertiseKeys, ClientMessage, ConsistencyRequest, KeyEntry, KeyList, MaskedInput,
    RevealedPairwise, RevealedShare, RoutedCiphertext, RoutedShares, SealedShares, ServerMessage,
    ShareKind, SurvivorSignature, UnmaskRequest, UnmaskShares, SEALED_SHARES_LEN,
};
use super::transcript;
use crate::crypto::kdf::{self, MaskSeed};
use crate::crypto::keys::SecretKey;
use crate::crypto::prg::{self, Sign};
use crate::crypto::shamir::{eval_point, LagrangeAtZero, SecretScalar, Share};
use crate::error::{
    CryptoError, EncodingError, Error, Misuse, PeerMisbehaved, Result, ThresholdError,
};
use crate::ids::{ClientId, Round};
use crate::ring::RingVec;

use sets::{Answers, IdSet};

/// What the server learns: the sum of the included clients' inputs, and exactly who
/// they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// One sum per configured vector, in order.
    pub sums: Vec<RingVec>,
    /// The clients whose inputs the sums contain (`U3`), sorted.
    pub included: Vec<ClientId>,
    /// The clients excluded for misbehaving, and why, sorted by client
    /// ([`Server::excluded`]). Clients that merely dropped out are in neither list.
    pub excluded: Vec<Excluded>,
}

/// A client the server excluded for misbehaving (`docs/threat-model.md`,
/// "Exclusion"): one entry of the server's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excluded {
    /// Who.
    pub client: ClientId,
    /// Why.
    pub reason: ExclusionReason,
}

/// Why a client was excluded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExclusionReason {
    /// Round 0: a public key is a low-order point (X25519 with it would be
    /// non-contributory). The client is left out of `S1`.
    LowOrderKey,
    /// Round 0: a public key is not a canonical u-coordinate (bit 255 set, or not
    /// below 2^255 − 19). The client is left out of `S1`.
    NonCanonicalKey,
    /// Round 2: these neighbors (sorted) could not use the shares it sealed to them.
    /// Its masked input is not counted; it is treated as dropped after round 1.
    Accused {
        /// The accusers.
        by: Vec<ClientId>,
    },
}

impl ExclusionReason {
    /// A stable name for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            ExclusionReason::LowOrderKey => "LowOrderKey",
            ExclusionReason::NonCanonicalKey => "NonCanonicalKey",
            ExclusionReason::Accused { .. } => "Accused",
        }
    }
}

/// The server of one session.
#[derive(Clone, Debug)]
pub struct Server {
    config: Arc<Config>,
    phase: Phase,
    /// The report: who was excluded so far, sorted by client.
    excluded: Vec<Excluded>,
}

/// One value per round being collected, then the end.
#[derive(Clone, Debug)]
enum Phase {
    CollectingKeys(CollectingKeys),
    CollectingShares(CollectingShares),
    CollectingInputs(CollectingInputs),
    CollectingSignatures(CollectingSignatures),
    CollectingReveals(CollectingReveals),
    Completed(Completed),
    Aborted(Aborted),
}

/// Round 0: every client is asked for its keys.
#[derive(Clone, Debug)]
struct CollectingKeys {
    /// The keys accepted so far; who answered.
    keys: Answers<AdvertiseKeys>,
    /// Every public key accepted so far, to refuse a key advertised twice.
    key_owner: HashMap<[u8; 32], ClientId>,
}

/// Round 1: `S1` (the clients whose keys were listed) is asked for sealed shares.
#[derive(Clone, Debug)]
struct CollectingShares {
    /// The advertised keys of `S1`, exactly: its members are the clients asked.
    keys: Answers<AdvertiseKeys>,
    /// Sealed shares per sender, sorted by recipient.
    sealed: Answers<Vec<SealedShares>>,
}

/// Round 2: `S2` (the clients whose shares were routed) is asked for masked inputs.
///
/// A masked input joins the running sums once no accusation against its sender can
/// still come (every neighbor of the sender in `S2` answered) or the round closes;
/// until then it is pending. The input of an accused client is never added.
#[derive(Clone, Debug)]
struct CollectingInputs {
    /// The advertised keys of `S1`.
    keys: Answers<AdvertiseKeys>,
    /// `S2`: the clients asked.
    shared: IdSet,
    /// The running sums of the masked inputs settled.
    sums: Vec<RingVec>,
    /// Who answered, with the neighbors it accused.
    received: Answers<Vec<ClientId>>,
    /// Masked inputs accepted but not yet settled, by sender.
    pending: BTreeMap<ClientId, Vec<RingVec>>,
    /// Per client: its neighbors in `S2` that have not answered yet.
    unheard: Vec<u32>,
    /// Per client: whether some answer accused it.
    accused: Vec<bool>,
}

/// The survivor sets fixed when round 2 closes, and the secrets they make the server
/// need.
#[derive(Clone, Debug)]
struct Survivors {
    /// `S2`: the clients whose shares were routed (their neighbors hold shares of them).
    shared: IdSet,
    /// `U3`: the included clients, whose masked inputs are in the sums.
    included: IdSet,
    /// Every accusation, as `(accused, accuser)`, sorted: the accuser holds no share
    /// of the accused and added no mask with it.
    accusations: Vec<(ClientId, ClientId)>,
    /// Every secret the server needs, ascending by owner: [`needed_secret`] of each
    /// client, computed once.
    needed: Vec<(ClientId, ShareKind)>,
}

/// What rounds 3 and 4 carry: the keys, the survivors and the sums.
#[derive(Clone, Debug)]
struct Included {
    /// The advertised keys of `S1`.
    keys: Answers<AdvertiseKeys>,
    survivors: Survivors,
    sums: Vec<RingVec>,
}

/// Round 3 (malicious model): `U3` is asked to sign `U3`.
#[derive(Clone, Debug)]
struct CollectingSignatures {
    included: Included,
    /// The transcript every survivor signs.
    transcript: Vec<u8>,
    /// The consistency signatures accepted.
    signatures: Answers<Signature>,
}

/// Round 4: the clients asked (`U3`, or the signers `U4` in the malicious model)
/// reveal their shares.
#[derive(Clone, Debug)]
struct CollectingReveals {
    included: Included,
    /// `U3` or `U4`: the clients asked.
    asked: IdSet,
    /// Revealed shares per responder, sorted by owner.
    revealed: Answers<Vec<RevealedShare>>,
    /// Revealed pairwise agreements per responder (only those that revealed some),
    /// sorted by peer.
    pairwise: Answers<Vec<RevealedPairwise>>,
}

/// The session is over; the output is known.
#[derive(Clone, Debug)]
struct Completed {
    /// The clients that were asked for their shares in round 4 (kept for the stored
    /// state, which records them).
    asked: IdSet,
    /// `S2` (likewise).
    shared: IdSet,
    output: Output,
    /// Where the unmasking time went (not stored: zero after a restore).
    timings: UnmaskTimings,
}

/// Where the server's unmasking (closing round 4) spent its time, with the work it
/// did, so that a benchmark can set it against the rates of the primitives
/// (`secagg bench scale`). Measurement only: the clock is read, nothing depends on it.
/// Times "summed over threads" add the time each pool thread spent in that part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnmaskTimings {
    /// Secrets reconstructed: one per surviving client (`b_u`) and one per dropped
    /// client with a surviving neighbor (its masking key).
    pub reconstructions: usize,
    /// X25519 agreements: one per (dropped client, included neighbor) pair.
    pub agreements: usize,
    /// Mask seeds expanded into the sums (over all vectors).
    pub seeds: usize,
    /// Keystream bytes those expansions consumed (seeds x d x 4 or 8 bytes a word).
    pub keystream_bytes: u64,
    /// Secret reconstruction, summed over threads: the Lagrange coefficients, the
    /// combination of `t` shares, the check of a reconstructed masking key against its
    /// advertised public key and the self-mask seed derivations.
    pub reconstruction: core::time::Duration,
    /// Key agreement, summed over threads: the X25519 agreements and the pairwise seed
    /// derivations from them.
    pub key_agreement: core::time::Duration,
    /// Wall time of reconstruction and key agreement (in parallel over secrets).
    pub secrets_wall: core::time::Duration,
    /// Wall time of the mask expansion into the sums.
    pub expansion: core::time::Duration,
    /// Wall time of the whole close of round 4.
    pub total: core::time::Duration,
}

/// Stopped by an error; everything else was released.
#[derive(Clone, Debug)]
struct Aborted {
    /// The round whose close failed.
    round: Round,
    error: Error,
}

/// **Which secret of whom the server needs** to remove the masks from the sum: the one
/// statement of the rule (`docs/protocol.md`, "Round 4: Unmasking"). It decides which
/// share a responder must reveal of each neighbor ([`CollectingReveals`]'s check),
/// which secrets must keep `t` holders when rounds 2, 3 and 4 close
/// ([`Survivors::check_reconstructible`]), and what the server reconstructs.
///
/// * `owner ∈ U3` (its masked input is in the sum): its self-mask secret `b_u`,
///   [`ShareKind::SelfMask`];
/// * `owner ∈ S2 \ U3` with a neighbor in `U3` that did not accuse it (it dropped or
///   was excluded after its shares were routed, and that neighbor added a pairwise
///   mask towards it): its masking key, [`ShareKind::MaskKey`] — except for an
///   *accused* owner with fewer than `t` such neighbors (it sealed usable shares to
///   fewer than `t` of them), whose key cannot be rebuilt: then each of those
///   neighbors' pairwise agreement with it, [`ShareKind::PairwiseSecret`];
/// * anyone else: nothing (no mask of it, or towards it, is in the sum).
///
/// The holders of `owner`'s shares are its neighbors in `S2` that did not accuse it
/// ([`Survivors::holds`]).
fn needed_secret(
    graph: &Graph,
    threshold: usize,
    shared: &IdSet,
    included: &IdSet,
    accusations: &[(ClientId, ClientId)],
    owner: ClientId,
) -> Option<ShareKind> {
    if included.contains(owner) {
        return Some(ShareKind::SelfMask);
    }
    if !shared.contains(owner) {
        return None;
    }
    let maskers = graph
        .neighbors(owner)
        .iter()
        .filter(|&&w| included.contains(w) && accusations.binary_search(&(owner, w)).is_err())
        .count();
    let accused = accusations
        .get(accusations.partition_point(|&(v, _)| v < owner))
        .is_some_and(|&(v, _)| v == owner);
    match maskers {
        0 => None,
        m if accused && m < threshold => Some(ShareKind::PairwiseSecret),
        _ => Some(ShareKind::MaskKey),
    }
}

impl Survivors {
    fn new(
        config: &Config,
        shared: IdSet,
        included: IdSet,
        mut accusations: Vec<(ClientId, ClientId)>,
    ) -> Self {
        accusations.sort_unstable();
        accusations.dedup();
        let graph = config.graph();
        let t = config.threshold();
        let needed = (0..config.n())
            .filter_map(|i| ClientId::try_from(i).ok())
            .filter_map(|u| {
                needed_secret(graph, t, &shared, &included, &accusations, u).map(|kind| (u, kind))
            })
            .collect();
        Self {
            shared,
            included,
            accusations,
            needed,
        }
    }

    /// Whether `holder` holds `owner`'s shares: both in `S2` (so they were routed) and
    /// `holder` did not accuse `owner`. (Neighborhood is the caller's.)
    fn holds(&self, holder: ClientId, owner: ClientId) -> bool {
        self.shared.contains(holder)
            && self.shared.contains(owner)
            && self.accusations.binary_search(&(owner, holder)).is_err()
    }

    /// The secret of `owner` the server needs ([`needed_secret`]).
    fn needed(&self, owner: ClientId) -> Option<ShareKind> {
        self.needed
            .binary_search_by_key(&owner, |&(u, _)| u)
            .ok()
            .and_then(|k| self.needed.get(k))
            .map(|&(_, kind)| kind)
    }

    /// The excluded neighbors of `holder` whose pairwise agreement with it the server
    /// asks for ([`ShareKind::PairwiseSecret`] owners whose shares `holder` holds),
    /// ascending.
    fn pairwise_for(&self, graph: &Graph, holder: ClientId) -> Vec<ClientId> {
        graph
            .neighbors(holder)
            .iter()
            .copied()
            .filter(|&v| self.needed(v) == Some(ShareKind::PairwiseSecret) && self.holds(holder, v))
            .collect()
    }

    /// Every secret the server needs can still be had from `holders` (the clients
    /// still answering after `round`, a subset of `U3`): a share secret keeps `t` share
    /// holders among them; an owner whose masks are cancelled pairwise keeps *every*
    /// holder in `U3` (each added a mask with it that only its own agreement undoes).
    fn check_reconstructible(&self, config: &Config, holders: &IdSet, round: Round) -> Result<()> {
        let graph = config.graph();
        let t = config.threshold();
        for &(u, kind) in &self.needed {
            let count = |set: &IdSet| {
                graph
                    .neighbors(u)
                    .iter()
                    .filter(|&&w| set.contains(w) && self.holds(w, u))
                    .count()
            };
            let got = count(holders);
            let needed = match kind {
                ShareKind::PairwiseSecret => count(&self.included),
                ShareKind::SelfMask | ShareKind::MaskKey => t,
            };
            if got < needed {
                return Err(Error::Threshold(ThresholdError::CannotReconstruct {
                    round,
                    client: u,
                    needed,
                    got,
                }));
            }
        }
        Ok(())
    }
}

/// The messages a close returns.
type Outbox = Vec<(ClientId, ServerMessage)>;

impl Server {
    /// A server for one session, waiting for round-0 messages from every client.
    pub fn new(config: Arc<Config>) -> Self {
        let phase = Phase::CollectingKeys(CollectingKeys {
            keys: Answers::new(config.n()),
            key_owner: HashMap::new(),
        });
        Self {
            config,
            phase,
            excluded: Vec::new(),
        }
    }

    /// The report so far: the clients excluded for misbehaving, and why, sorted by
    /// client. A client with a low-order or non-canonical key enters it when its
    /// round-0 message arrives; accused clients when round 2 closes. (Once completed,
    /// [`Output::excluded`] holds the same list.)
    pub fn excluded(&self) -> &[Excluded] {
        &self.excluded
    }

    fn is_excluded(&self, u: ClientId) -> bool {
        self.excluded.binary_search_by_key(&u, |e| e.client).is_ok()
    }

    fn record(&mut self, entry: Excluded) {
        if let Err(k) = self
            .excluded
            .binary_search_by_key(&entry.client, |e| e.client)
        {
            self.excluded.insert(k, entry);
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The round being collected (after the session ended: the round whose close
    /// completed or aborted it).
    pub fn round(&self) -> Round {
        self.phase.round()
    }

    /// The clients whose message for the current round is still awaited (none once
    /// the session ended).
    pub fn awaited(&self) -> Vec<ClientId> {
        (0..self.config.n())
            .filter_map(|i| ClientId::try_from(i).ok())
            .filter(|&u| self.phase.asked(u) && !self.phase.answered(u) && !self.is_excluded(u))
            .collect()
    }

    /// The clients whose message for the current round arrived (none once the session
    /// ended).
    pub fn received(&self) -> Vec<ClientId> {
        (0..self.config.n())
            .filter_map(|i| ClientId::try_from(i).ok())
            .filter(|&u| self.phase.answered(u))
            .collect()
    }

    /// The output, once the session completed.
    pub fn output(&self) -> Option<&Output> {
        match &self.phase {
            Phase::Completed(c) => Some(&c.output),
            _ => None,
        }
    }

    /// Where the unmasking time went, once the session completed here (a server
    /// restored from its stored state after completion reports zeros).
    pub fn unmask_timings(&self) -> Option<&UnmaskTimings> {
        match &self.phase {
            Phase::Completed(c) => Some(&c.timings),
            _ => None,
        }
    }

    /// The error that aborted the session, if it aborted.
    pub fn error(&self) -> Option<&Error> {
        match &self.phase {
            Phase::Aborted(a) => Some(&a.error),
            _ => None,
        }
    }

    fn check_running(&self) -> Result<()> {
        match &self.phase {
            Phase::Completed(_) => Err(Error::Misuse(Misuse::AlreadyCompleted)),
            Phase::Aborted(_) => Err(Error::Misuse(Misuse::AlreadyAborted)),
            _ => Ok(()),
        }
    }

    /// Accepts one client message for the current round. A rejected message leaves the
    /// server exactly as it was.
    ///
    /// # Errors [`Misuse::AlreadyCompleted`], [`Misuse::AlreadyAborted`],
    /// [`PeerMisbehaved::UnknownClient`], [`PeerMisbehaved::RoundClosed`] (late),
    /// [`PeerMisbehaved::UnexpectedMessage`] (a later round, or one this threat model does
    /// not have), [`PeerMisbehaved::DroppedClient`], [`PeerMisbehaved::DuplicateMessage`],
    /// and the content checks of each round (signatures, repeated keys, recipients of
    /// sealed shares, vector shapes, accusations, revealed shares).
    ///
    /// A round-0 message with a low-order public key ([`CryptoError::NonContributory`])
    /// or a non-canonical one ([`EncodingError::NonCanonicalPublicKey`]) is refused
    /// *and* excludes its sender ([`Server::excluded`]): the client is left out of
    /// `S1`, and its later messages are [`PeerMisbehaved::DroppedClient`].
    pub fn receive(&mut self, from: ClientId, msg: ClientMessage) -> Result<()> {
        self.check_running()?;
        let config = &*self.config;
        if !config.contains(from) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                client: from,
            }));
        }
        let round = self.phase.round();
        let r = msg.round();
        if r > round || !config.rounds().contains(&r) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected: round,
                found: r,
            }));
        }
        if r < round {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::RoundClosed {
                round: r,
            }));
        }
        if !self.phase.asked(from) || self.is_excluded(from) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DroppedClient {
                client: from,
            }));
        }
        if self.phase.answered(from) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateMessage {
                client: from,
                round: r,
            }));
        }
        match (&mut self.phase, msg) {
            (Phase::CollectingKeys(p), ClientMessage::AdvertiseKeys(m)) => {
                // The signature first (malicious model): nobody but the key's holder
                // can get a client excluded.
                CollectingKeys::check_signature(config, from, &m)?;
                if let Some((reason, error)) = bad_key(&m) {
                    self.record(Excluded {
                        client: from,
                        reason,
                    });
                    return Err(error);
                }
                p.receive(from, m)
            }
            (Phase::CollectingShares(p), ClientMessage::ShareKeys(m)) => {
                p.receive(config, from, m.shares)
            }
            (Phase::CollectingInputs(p), ClientMessage::MaskedInput(m)) => {
                p.receive(config, from, m)
            }
            (Phase::CollectingSignatures(p), ClientMessage::ConsistencySignature(m)) => {
                p.receive(config, from, m.signature)
            }
            (Phase::CollectingReveals(p), ClientMessage::UnmaskShares(m)) => {
                p.receive(config, from, m)
            }
            // The round matched above, so the message is the phase's; kept total.
            (_, msg) => Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected: round,
                found: msg.round(),
            })),
        }
    }

    /// Closes the current round: whoever has not answered dropped out. Returns the
    /// messages for the clients that go on (empty after the last round, when
    /// [`Server::output`] becomes available).
    ///
    /// # Errors
    /// [`ThresholdError::TooFewSurvivors`] or [`ThresholdError::CannotReconstruct`] (the session aborts),
    /// [`PeerMisbehaved::ReconstructionMismatch`] (a neighbor revealed a bad share; aborts),
    /// [`Misuse::AlreadyCompleted`], [`Misuse::AlreadyAborted`].
    pub fn close_round(&mut self) -> Result<Outbox> {
        self.check_running()?;
        let round = self.phase.round();
        let placeholder = Phase::Aborted(Aborted {
            round,
            error: Error::Misuse(Misuse::AlreadyAborted),
        });
        let config = &*self.config;
        let mut report = Vec::new();
        let closed = match core::mem::replace(&mut self.phase, placeholder) {
            Phase::CollectingKeys(p) => p.close(config),
            Phase::CollectingShares(p) => p.close(config),
            Phase::CollectingInputs(p) => {
                report = p.exclusions();
                p.close(config)
            }
            Phase::CollectingSignatures(p) => p.close(config),
            Phase::CollectingReveals(p) => p.close(config),
            // `check_running` refused these above; put back as they were.
            finished @ (Phase::Completed(_) | Phase::Aborted(_)) => {
                self.phase = finished;
                return self.check_running().map(|()| Vec::new());
            }
        };
        match closed {
            Ok((next, out)) => {
                for entry in report {
                    self.record(entry);
                }
                self.phase = next;
                if let Phase::Completed(c) = &mut self.phase {
                    c.output.excluded = self.excluded.clone();
                }
                Ok(out)
            }
            Err(error) => {
                self.phase = Phase::Aborted(Aborted {
                    round,
                    error: error.clone(),
                });
                Err(error)
            }
        }
    }
}

impl Phase {
    fn round(&self) -> Round {
        match self {
            Phase::CollectingKeys(_) => Round::AdvertiseKeys,
            Phase::CollectingShares(_) => Round::ShareKeys,
            Phase::CollectingInputs(_) => Round::MaskedInputCollection,
            Phase::CollectingSignatures(_) => Round::ConsistencyCheck,
            Phase::CollectingReveals(_) | Phase::Completed(_) => Round::Unmasking,
            Phase::Aborted(a) => a.round,
        }
    }

    /// Whether `u`'s message for this round is asked for (`u < n`).
    fn asked(&self, u: ClientId) -> bool {
        match self {
            Phase::CollectingKeys(_) => true,
            Phase::CollectingShares(p) => p.keys.contains(u),
            Phase::CollectingInputs(p) => p.shared.contains(u),
            Phase::CollectingSignatures(p) => p.included.survivors.included.contains(u),
            Phase::CollectingReveals(p) => p.asked.contains(u),
            Phase::Completed(_) | Phase::Aborted(_) => false,
        }
    }

    /// Whether `u`'s message for this round was accepted.
    fn answered(&self, u: ClientId) -> bool {
        match self {
            Phase::CollectingKeys(p) => p.keys.contains(u),
            Phase::CollectingShares(p) => p.sealed.contains(u),
            Phase::CollectingInputs(p) => p.received.contains(u),
            Phase::CollectingSignatures(p) => p.signatures.contains(u),
            Phase::CollectingReveals(p) => p.revealed.contains(u),
            Phase::Completed(_) | Phase::Aborted(_) => false,
        }
    }
}

/// Whether an advertised key is unusable: not a canonical u-coordinate, or a point of
/// small order (X25519 with it is non-contributory: `[8]P` is the identity, which also
/// catches the twist's points of order 4). Public keys: no need for constant time.
fn bad_key(m: &AdvertiseKeys) -> Option<(ExclusionReason, Error)> {
    for pk in [&m.enc_pk, &m.mask_pk] {
        if !crate::wire::fields::is_canonical_u(pk.as_bytes()) {
            return Some((
                ExclusionReason::NonCanonicalKey,
                Error::Encoding(EncodingError::NonCanonicalPublicKey),
            ));
        }
        let p = curve25519_dalek::montgomery::MontgomeryPoint(pk.to_bytes());
        let eight = curve25519_dalek::scalar::Scalar::from(8u8);
        if (p * eight).to_bytes() == [0u8; 32] {
            return Some((
                ExclusionReason::LowOrderKey,
                Error::Crypto(CryptoError::NonContributory),
            ));
        }
    }
    None
}

/// The largest subset of `alive` in which every member has at least `t` members among
/// its neighbors (the `t`-core); an empty one aborts the session after `round`.
fn t_core(config: &Config, alive: &IdSet, round: Round) -> Result<IdSet> {
    let graph = config.graph();
    let t = config.threshold();
    let n = config.n();
    let mut core: Vec<bool> = (0..n)
        .map(|u| ClientId::try_from(u).is_ok_and(|u| alive.contains(u)))
        .collect();
    let is_in = |core: &[bool], v: ClientId| core.get(v as usize).copied().unwrap_or(false);
    let mut count: Vec<usize> = (0..n)
        .map(|u| {
            graph
                .neighbors(u as ClientId)
                .iter()
                .filter(|&&v| is_in(&core, v))
                .count()
        })
        .collect();
    let mut stack: Vec<usize> = (0..n).filter(|&u| core[u] && count[u] < t).collect();
    while let Some(u) = stack.pop() {
        if !core[u] {
            continue;
        }
        core[u] = false;
        for &v in graph.neighbors(u as ClientId) {
            let v = v as usize;
            if core[v] {
                count[v] -= 1;
                if count[v] + 1 == t {
                    stack.push(v);
                }
            }
        }
    }
    let core = IdSet::new(
        n,
        core.iter()
            .enumerate()
            .filter(|(_, &c)| c)
            .filter_map(|(u, _)| ClientId::try_from(u).ok()),
    );
    if core.is_empty() {
        return Err(Error::Threshold(ThresholdError::TooFewSurvivors {
            round,
            threshold: t,
            survivors: alive.len(),
        }));
    }
    Ok(core)
}

/// A client `v` named in `from`'s message (a recipient, an accused or a revealed peer)
/// must be a client of the session, a neighbor of `from` and in the round's set
/// (`in_set`), checked in that order.
fn check_listed_neighbor(
    config: &Config,
    from: ClientId,
    v: ClientId,
    in_set: impl Fn(ClientId) -> bool,
) -> Result<()> {
    if !config.contains(v) {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
            client: v,
        }));
    }
    if !config.graph().are_neighbors(from, v) {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
            client: from,
            other: v,
        }));
    }
    if !in_set(v) {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
            client: v,
        }));
    }
    Ok(())
}

fn zero_sums(config: &Config) -> Vec<RingVec> {
    config
        .vectors()
        .iter()
        .map(|v| RingVec::zeros(&v.ring, v.dim))
        .collect()
}

impl CollectingKeys {
    /// Records `from`'s keys; [`Server::receive`] checked the signature and the keys'
    /// usability first.
    fn receive(&mut self, from: ClientId, m: AdvertiseKeys) -> Result<()> {
        self.check(from, &m)?;
        self.key_owner.insert(m.enc_pk.to_bytes(), from);
        self.key_owner.insert(m.mask_pk.to_bytes(), from);
        self.keys.insert(from, m);
        Ok(())
    }

    /// The round-0 signature: present exactly in the malicious model, and valid.
    fn check_signature(config: &Config, from: ClientId, m: &AdvertiseKeys) -> Result<()> {
        match (config.verifying_key(from), m.signature) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedSignature {
                    client: from,
                }))
            }
            (Some(_), None) => {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingSignature {
                    client: from,
                }))
            }
            (Some(vk), Some(sig)) => {
                let t = transcript::advertise(config.session_id(), from, &m.enc_pk, &m.mask_pk);
                vk.verify_strict(&t, &sig)
                    .map_err(|_| Error::Crypto(CryptoError::BadSignature { client: from }))?;
            }
        }
        Ok(())
    }

    fn check(&self, from: ClientId, m: &AdvertiseKeys) -> Result<()> {
        if m.enc_pk == m.mask_pk {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
                first: from,
                second: from,
            }));
        }
        for k in [&m.enc_pk, &m.mask_pk] {
            if let Some(&other) = self.key_owner.get(k.as_bytes()) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
                    first: other,
                    second: from,
                }));
            }
        }
        Ok(())
    }

    /// `S1` = the `t`-core of the clients whose keys were accepted; each member gets
    /// the keys of itself and its neighbors in `S1`.
    fn close(self, config: &Config) -> Result<(Phase, Outbox)> {
        let s1 = t_core(config, &self.keys.ids(), Round::AdvertiseKeys)?;
        let keys = self.keys.restricted_to(&s1);
        let graph = config.graph();
        let out = s1
            .iter()
            .map(|u| {
                let mut list: Vec<ClientId> = graph
                    .neighbors(u)
                    .iter()
                    .copied()
                    .filter(|&v| s1.contains(v))
                    .collect();
                list.push(u);
                list.sort_unstable();
                let entries = list
                    .into_iter()
                    .filter_map(|id| keys.get(id).map(|&keys| KeyEntry { id, keys }))
                    .collect();
                (u, ServerMessage::KeyList(KeyList { entries }))
            })
            .collect();
        let sealed = Answers::new(config.n());
        Ok((
            Phase::CollectingShares(CollectingShares { keys, sealed }),
            out,
        ))
    }
}

impl CollectingShares {
    fn receive(
        &mut self,
        config: &Config,
        from: ClientId,
        shares: Vec<SealedShares>,
    ) -> Result<()> {
        self.check(config, from, &shares)?;
        let mut shares = shares;
        shares.sort_unstable_by_key(|s| s.to);
        self.sealed.insert(from, shares);
        Ok(())
    }

    /// The sealed shares must go to exactly the sender's key list: its neighbors in
    /// `S1`.
    fn check(&self, config: &Config, from: ClientId, shares: &[SealedShares]) -> Result<()> {
        let graph = config.graph();
        let s1 = &self.keys;
        let mut seen: Vec<ClientId> = Vec::with_capacity(shares.len());
        for s in shares {
            check_listed_neighbor(config, from, s.to, |v| s1.contains(v))?;
            if s.ciphertext.len() != SEALED_SHARES_LEN {
                return Err(Error::Encoding(EncodingError::InvalidLength {
                    what: "sealed shares",
                    expected: SEALED_SHARES_LEN,
                    found: s.ciphertext.len(),
                }));
            }
            seen.push(s.to);
        }
        seen.sort_unstable();
        if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                client: w[0],
            }));
        }
        for &v in graph.neighbors(from) {
            if s1.contains(v) && seen.binary_search(&v).is_err() {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                    client: v,
                }));
            }
        }
        Ok(())
    }

    /// `S2` = the `t`-core of the senders; each member gets the ciphertexts its
    /// neighbors in `S2` sealed to it.
    fn close(self, config: &Config) -> Result<(Phase, Outbox)> {
        let s2 = t_core(config, &self.sealed.ids(), Round::ShareKeys)?;
        let mut sealed = self.sealed;
        let graph = config.graph();
        let mut out = Vec::with_capacity(s2.len());
        for u in s2.iter() {
            let mut shares = Vec::new();
            for &v in graph.neighbors(u) {
                if !s2.contains(v) {
                    continue;
                }
                let Some(from_v) = sealed.get_mut(v) else {
                    continue;
                };
                if let Ok(k) = from_v.binary_search_by_key(&u, |s| s.to) {
                    if let Some(s) = from_v.get_mut(k) {
                        shares.push(RoutedCiphertext {
                            from: v,
                            ciphertext: core::mem::take(&mut s.ciphertext),
                        });
                    }
                }
            }
            out.push((u, ServerMessage::RoutedShares(RoutedShares { shares })));
        }
        let next = CollectingInputs::new(config, self.keys, s2);
        Ok((Phase::CollectingInputs(next), out))
    }
}

impl CollectingInputs {
    fn new(config: &Config, keys: Answers<AdvertiseKeys>, shared: IdSet) -> Self {
        let graph = config.graph();
        let unheard = (0..config.n())
            .map(|u| {
                let c = graph
                    .neighbors(u as ClientId)
                    .iter()
                    .filter(|&&v| shared.contains(v))
                    .count();
                u32::try_from(c).unwrap_or(u32::MAX)
            })
            .collect();
        Self {
            keys,
            shared,
            sums: zero_sums(config),
            received: Answers::new(config.n()),
            pending: BTreeMap::new(),
            unheard,
            accused: vec![false; config.n()],
        }
    }

    fn is_accused(&self, u: ClientId) -> bool {
        self.accused.get(u as usize).copied().unwrap_or(false)
    }

    fn receive(&mut self, config: &Config, from: ClientId, m: MaskedInput) -> Result<()> {
        let specs = config.vectors();
        if m.vectors.len() != specs.len() {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::MaskedInputMismatch {
                client: from,
                vector: m.vectors.len().min(specs.len()),
            }));
        }
        for (j, (y, spec)) in m.vectors.iter().zip(specs).enumerate() {
            if y.len() != spec.dim || !y.fits(&spec.ring) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MaskedInputMismatch {
                    client: from,
                    vector: j,
                }));
            }
        }
        self.check_accusations(config, from, &m.accused)?;
        // Checked: from here on nothing fails half-way (shapes match the sums).
        let graph = config.graph();
        for &v in &m.accused {
            if let Some(a) = self.accused.get_mut(v as usize) {
                *a = true;
            }
            // An accused client's input never counts.
            self.pending.remove(&v);
        }
        for &v in graph.neighbors(from) {
            if self.shared.contains(v) {
                if let Some(c) = self.unheard.get_mut(v as usize) {
                    *c = c.saturating_sub(1);
                }
            }
        }
        self.received.insert(from, m.accused);
        if !self.is_accused(from) {
            self.pending.insert(from, m.vectors);
        }
        self.settle(config, from)?;
        for &v in graph.neighbors(from) {
            self.settle(config, v)?;
        }
        Ok(())
    }

    /// An accusation names a neighbor in `S2` (whose shares were routed to the
    /// accuser), at most once, and leaves the accuser `t` usable neighbors (an honest
    /// client with fewer aborts instead of answering).
    fn check_accusations(
        &self,
        config: &Config,
        from: ClientId,
        accused: &[ClientId],
    ) -> Result<()> {
        let graph = config.graph();
        for (k, &v) in accused.iter().enumerate() {
            check_listed_neighbor(config, from, v, |w| self.shared.contains(w))?;
            if k > 0 && accused.get(k - 1).is_some_and(|&p| p >= v) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                    client: v,
                }));
            }
        }
        let routed = graph
            .neighbors(from)
            .iter()
            .filter(|&&v| self.shared.contains(v))
            .count();
        let usable = routed.saturating_sub(accused.len());
        let t = config.threshold();
        if usable < t {
            return Err(Error::Threshold(ThresholdError::TooFewNeighbors {
                round: Round::MaskedInputCollection,
                needed: t,
                got: usable,
            }));
        }
        Ok(())
    }

    /// Adds `u`'s pending input to the sums once every neighbor of `u` in `S2` has
    /// answered (no accusation against it can still come).
    fn settle(&mut self, config: &Config, u: ClientId) -> Result<()> {
        if self.unheard.get(u as usize).copied().unwrap_or(0) != 0 || self.is_accused(u) {
            return Ok(());
        }
        if let Some(y) = self.pending.remove(&u) {
            for ((acc, y), spec) in self.sums.iter_mut().zip(&y).zip(config.vectors()) {
                acc.add_assign(&spec.ring, y)?;
            }
        }
        Ok(())
    }

    /// Every accusation, as `(accused, accuser)`, sorted.
    fn accusations(&self) -> Vec<(ClientId, ClientId)> {
        let mut out: Vec<(ClientId, ClientId)> = self
            .received
            .iter()
            .flat_map(|(by, list)| list.iter().map(move |&v| (v, by)))
            .collect();
        out.sort_unstable();
        out
    }

    /// The report entries this round adds: every accused client, with its accusers.
    fn exclusions(&self) -> Vec<Excluded> {
        let mut out: Vec<Excluded> = Vec::new();
        for (v, by) in self.accusations() {
            match out.last_mut() {
                Some(Excluded {
                    client,
                    reason: ExclusionReason::Accused { by: list },
                }) if *client == v => list.push(by),
                _ => out.push(Excluded {
                    client: v,
                    reason: ExclusionReason::Accused { by: vec![by] },
                }),
            }
        }
        out
    }

    /// `U3` = the senders, fixed from here on; every secret the server needs must keep
    /// `t` holders in `U3`. Malicious: `U3` is asked to sign `U3`; semi-honest: to
    /// reveal its shares.
    fn close(mut self, config: &Config) -> Result<(Phase, Outbox)> {
        let round = Round::MaskedInputCollection;
        // The round is over: no accusation can still come.
        let pending = core::mem::take(&mut self.pending);
        for (u, y) in pending {
            if !self.is_accused(u) {
                for ((acc, y), spec) in self.sums.iter_mut().zip(&y).zip(config.vectors()) {
                    acc.add_assign(&spec.ring, y)?;
                }
            }
        }
        let u3 = IdSet::new(
            config.n(),
            self.received
                .iter()
                .map(|(u, _)| u)
                .filter(|&u| !self.is_accused(u)),
        );
        if u3.is_empty() {
            return Err(Error::Threshold(ThresholdError::TooFewSurvivors {
                round,
                threshold: config.threshold(),
                survivors: 0,
            }));
        }
        let accusations = self.accusations();
        let survivors = Survivors::new(config, self.shared, u3, accusations);
        survivors.check_reconstructible(config, &survivors.included, round)?;
        let list = survivors.included.to_vec();
        let out = list
            .iter()
            .map(|&u| {
                let msg = if config.is_malicious() {
                    ServerMessage::ConsistencyRequest(ConsistencyRequest {
                        survivors: list.clone(),
                    })
                } else {
                    ServerMessage::UnmaskRequest(UnmaskRequest {
                        survivors: list.clone(),
                        signatures: Vec::new(),
                        pairwise: survivors.pairwise_for(config.graph(), u),
                    })
                };
                (u, msg)
            })
            .collect();
        let asked = survivors.included.clone();
        let included = Included {
            keys: self.keys,
            survivors,
            sums: self.sums,
        };
        let next = if config.is_malicious() {
            Phase::CollectingSignatures(CollectingSignatures {
                included,
                transcript: transcript::consistency(config.session_id(), &list),
                signatures: Answers::new(config.n()),
            })
        } else {
            Phase::CollectingReveals(CollectingReveals {
                included,
                asked,
                revealed: Answers::new(config.n()),
                pairwise: Answers::new(config.n()),
            })
        };
        Ok((next, out))
    }
}

impl CollectingSignatures {
    fn receive(&mut self, config: &Config, from: ClientId, signature: Signature) -> Result<()> {
        let vk = config.verifying_key(from).ok_or(Error::PeerMisbehaved(
            PeerMisbehaved::UnknownClient { client: from },
        ))?;
        vk.verify_strict(&self.transcript, &signature)
            .map_err(|_| Error::Crypto(CryptoError::BadSignature { client: from }))?;
        self.signatures.insert(from, signature);
        Ok(())
    }

    /// `U4` = the signers; every needed secret must keep `t` holders in `U4` before
    /// anyone reveals a share. Each signer gets `U3` and its neighbors' signatures.
    fn close(self, config: &Config) -> Result<(Phase, Outbox)> {
        let u4 = self.signatures.ids();
        let survivors = &self.included.survivors;
        survivors.check_reconstructible(config, &u4, Round::ConsistencyCheck)?;
        let list = survivors.included.to_vec();
        let graph = config.graph();
        let out = u4
            .iter()
            .map(|u| {
                let signatures = graph
                    .neighbors(u)
                    .iter()
                    .filter_map(|&v| {
                        self.signatures
                            .get(v)
                            .map(|&signature| SurvivorSignature { id: v, signature })
                    })
                    .collect();
                let msg = ServerMessage::UnmaskRequest(UnmaskRequest {
                    survivors: list.clone(),
                    signatures,
                    pairwise: survivors.pairwise_for(graph, u),
                });
                (u, msg)
            })
            .collect();
        let next = CollectingReveals {
            included: self.included,
            asked: u4,
            revealed: Answers::new(config.n()),
            pairwise: Answers::new(config.n()),
        };
        Ok((Phase::CollectingReveals(next), out))
    }
}

impl CollectingReveals {
    fn receive(&mut self, config: &Config, from: ClientId, m: UnmaskShares) -> Result<()> {
        let (shares, pairwise) = self.check(config, from, m)?;
        self.revealed.insert(from, shares);
        if !pairwise.is_empty() {
            self.pairwise.insert(from, pairwise);
        }
        Ok(())
    }

    /// A responder must reveal exactly one item per neighbor whose shares it holds
    /// (its neighbors in `S2` it did not accuse), of the kind [`needed_secret`] says:
    /// a share of `b_v` if `v ∈ U3`, of the masking key if not, or, for an excluded
    /// `v` whose masks are cancelled pairwise, the pairwise agreement with `v`.
    /// Nothing about a revealed agreement can be checked (it is the responder's and
    /// `v`'s secret): a wrong one spoils the sum, as a wrong input would.
    fn check(
        &self,
        config: &Config,
        from: ClientId,
        m: UnmaskShares,
    ) -> Result<(Vec<RevealedShare>, Vec<RevealedPairwise>)> {
        let graph = config.graph();
        let survivors = &self.included.survivors;
        let mut pairwise = m.pairwise;
        for p in &pairwise {
            let v = p.peer;
            check_listed_neighbor(config, from, v, |w| survivors.shared.contains(w))?;
            if !survivors.holds(from, v) || survivors.needed(v) != Some(ShareKind::PairwiseSecret) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::WrongShareKind {
                    client: from,
                    owner: v,
                }));
            }
        }
        pairwise.sort_unstable_by_key(|p| p.peer);
        if let Some(w) = pairwise.windows(2).find(|w| w[0].peer == w[1].peer) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                client: w[0].peer,
            }));
        }
        let mut shares = m.shares;
        for s in &shares {
            if !config.contains(s.owner) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                    client: s.owner,
                }));
            }
            if !graph.are_neighbors(from, s.owner) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                    client: from,
                    other: s.owner,
                }));
            }
            if !survivors.shared.contains(s.owner) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
                    client: s.owner,
                }));
            }
            if !survivors.holds(from, s.owner)
                || s.kind == ShareKind::PairwiseSecret
                || survivors.needed(s.owner) != Some(s.kind)
            {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::WrongShareKind {
                    client: from,
                    owner: s.owner,
                }));
            }
            if s.share.x() != eval_point(from) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MisaddressedShares {
                    from,
                }));
            }
        }
        shares.sort_unstable_by_key(|s| s.owner);
        if let Some(w) = shares.windows(2).find(|w| w[0].owner == w[1].owner) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                client: w[0].owner,
            }));
        }
        for &v in graph.neighbors(from) {
            // The kinds were checked above, so a neighbor is in at most one list.
            if survivors.holds(from, v)
                && shares.binary_search_by_key(&v, |s| s.owner).is_err()
                && pairwise.binary_search_by_key(&v, |p| p.peer).is_err()
            {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                    client: v,
                }));
            }
        }
        Ok((shares, pairwise))
    }

    /// `U5` = the responders; every needed secret must keep `t` holders in `U5`. Then
    /// reconstructs the secrets, regenerates the masks and removes them from the sum.
    fn close(self, config: &Config) -> Result<(Phase, Outbox)> {
        let u5 = self.revealed.ids();
        let Included {
            keys,
            survivors,
            mut sums,
        } = self.included;
        survivors.check_reconstructible(config, &u5, Round::Unmasking)?;
        let graph = config.graph();
        let t = config.threshold();
        let sid = *config.session_id();
        // Timing only (`UnmaskTimings`): nanoseconds summed over threads.
        let started = std::time::Instant::now();
        let recon_ns = std::sync::atomic::AtomicU64::new(0);
        let agree_ns = std::sync::atomic::AtomicU64::new(0);
        let agreements = std::sync::atomic::AtomicUsize::new(0);
        let add_ns = |a: &std::sync::atomic::AtomicU64, since: std::time::Instant| {
            a.fetch_add(
                since.elapsed().as_nanos() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        };

        // Which secret of whom, from which holders (the first t responding neighbors).
        struct Job {
            owner: ClientId,
            kind: ShareKind,
            holders: Vec<ClientId>,
        }
        // (The owners whose masks are cancelled pairwise have no secret to rebuild:
        // see `pairwise_seeds` below.)
        let jobs: Vec<Job> = survivors
            .needed
            .iter()
            .filter(|&&(_, kind)| kind != ShareKind::PairwiseSecret)
            .map(|&(owner, kind)| Job {
                owner,
                kind,
                holders: graph
                    .neighbors(owner)
                    .iter()
                    .copied()
                    .filter(|&w| u5.contains(w) && survivors.holds(w, owner))
                    .take(t)
                    .collect(),
            })
            .collect();
        let lagrange_started = std::time::Instant::now();
        // The Lagrange coefficients of each distinct holder set (in SecAgg+ nearly every
        // job has its own), in one batch: parallel over chunks of sets, one batched
        // inversion per chunk (`LagrangeAtZero::batch`).
        let mut set_of: HashMap<&[ClientId], usize> = HashMap::with_capacity(jobs.len());
        let mut sets: Vec<Vec<u64>> = Vec::new();
        for job in &jobs {
            set_of.entry(job.holders.as_slice()).or_insert_with(|| {
                sets.push(job.holders.iter().map(|&w| eval_point(w)).collect());
                sets.len() - 1
            });
        }
        // The revealed shares by owner (a counting sort, one sequential pass): each
        // owner's `(holder, share)` pairs lie together, by ascending holder (see
        // `SharesByOwner`). Built on one thread while the others start on the
        // coefficients.
        let (lagrange, by_owner) = crate::par::join(
            || LagrangeAtZero::batch(&sets),
            || SharesByOwner::new(config.n(), &self.revealed),
        );
        let lagrange = lagrange?;
        // A parallel step that occupies the pool: its thread time is about its wall
        // time times the threads.
        recon_ns.fetch_add(
            lagrange_started.elapsed().as_nanos() as u64 * crate::par::current_num_threads() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );

        // Reconstruct and derive every seed, in parallel over owners.
        let names: Vec<&[u8]> = config.vectors().iter().map(|v| v.name.as_bytes()).collect();
        let by_owner = &by_owner;
        let keys = &keys;
        let included = &survivors.included;
        let accusations = &survivors.accusations;
        let reconstruct =
            |job: &Job| -> Result<Vec<(Vec<MaskSeed>, Sign)>> {
                let job_started = std::time::Instant::now();
                // Both lists ascend by holder: one merge walk finds every holder's share.
                let mut of_owner = by_owner.of(job.owner).iter();
                let shares: Vec<&Share> = job
                    .holders
                    .iter()
                    .map(|&w| {
                        of_owner
                            .find(|&&(holder, _)| holder >= w)
                            .filter(|&&(holder, _)| holder == w)
                            .map(|(_, share)| share)
                            .ok_or(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                                client: job.owner,
                            }))
                    })
                    .collect::<Result<_>>()?;
                let coeffs = set_of
                    .get(job.holders.as_slice())
                    .and_then(|&k| lagrange.get(k))
                    .ok_or(Error::Threshold(ThresholdError::NotEnoughShares {
                        needed: t,
                        got: 0,
                    }))?;
                let secret: SecretScalar = coeffs.combine(&shares)?;
                match job.kind {
                    ShareKind::SelfMask => {
                        // Allocated at its final size: a `collect` of `Result`s grows
                        // by reallocation, leaving seed bytes in the freed buffers.
                        let mut seeds = Vec::with_capacity(names.len());
                        for name in &names {
                            seeds.push(kdf::self_mask_seed(&secret, &sid, job.owner, name)?);
                        }
                        add_ns(&recon_ns, job_started);
                        Ok(vec![(seeds, Sign::Minus)])
                    }
                    ShareKind::MaskKey => {
                        let v = job.owner;
                        let sk = SecretKey::from_scalar(&secret);
                        let advertised = keys.get(v).ok_or(Error::PeerMisbehaved(
                            PeerMisbehaved::MissingEntry { client: v },
                        ))?;
                        if sk.public_key() != advertised.mask_pk {
                            return Err(Error::PeerMisbehaved(
                                PeerMisbehaved::ReconstructionMismatch { client: v },
                            ));
                        }
                        add_ns(&recon_ns, job_started);
                        let agree_started = std::time::Instant::now();
                        let mut peers = Vec::new();
                        let mut pks = Vec::new();
                        for &u in graph.neighbors(v) {
                            // Only the included neighbors that did not accuse v added
                            // a mask with it.
                            if !included.contains(u) || accusations.binary_search(&(v, u)).is_ok() {
                                continue;
                            }
                            let pk = keys
                                .get(u)
                                .ok_or(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                                    client: u,
                                }))?
                                .mask_pk;
                            peers.push(u);
                            pks.push(pk);
                        }
                        // One secret, every surviving neighbor: batched in the vector
                        // unit's lanes (the secrets wipe themselves when dropped).
                        let shared_all = sk.agree_many(&pks);
                        let mut out = Vec::with_capacity(peers.len());
                        for (&u, shared) in peers.iter().zip(&shared_all) {
                            let shared = shared.as_ref().map_err(Clone::clone)?;
                            let mut seeds = Vec::with_capacity(names.len());
                            for name in &names {
                                seeds.push(kdf::pairwise_mask_seed(shared, &sid, u, v, name)?);
                            }
                            // y_u added PRG(s_uv) if v > u: remove it.
                            out.push((seeds, if v > u { Sign::Minus } else { Sign::Plus }));
                        }
                        add_ns(&agree_ns, agree_started);
                        agreements.fetch_add(out.len(), std::sync::atomic::Ordering::Relaxed);
                        Ok(out)
                    }
                    // Filtered out of the jobs above.
                    ShareKind::PairwiseSecret => Ok(Vec::new()),
                }
            };
        let per_owner: Vec<Vec<(Vec<MaskSeed>, Sign)>> = jobs
            .par_iter()
            .map(|job| {
                // The reconstruction's and derivations' frames (on a pool thread or
                // this one) held the client's secret and seeds: wipe them.
                crate::crypto::scrubbed(|| reconstruct(job))
            })
            .collect::<Result<_>>()?;
        let pairwise_seeds = pairwise_seeds(config, &survivors, &self.pairwise)?;
        let secrets_wall = started.elapsed();

        let expansion_started = std::time::Instant::now();
        let (mut seeds, mut keystream_bytes) = (0usize, 0u64);
        for (j, (acc, spec)) in sums.iter_mut().zip(config.vectors()).enumerate() {
            let masks: Vec<(&MaskSeed, Sign)> = per_owner
                .iter()
                .flatten()
                .chain(&pairwise_seeds)
                .filter_map(|(seeds, sign)| seeds.get(j).map(|s| (s, *sign)))
                .collect();
            prg::expand_add(&spec.ring, &masks, acc)?;
            let word_bytes = if spec.ring.uses_u32() { 4 } else { 8 };
            seeds += masks.len();
            keystream_bytes += (masks.len() * spec.dim * word_bytes) as u64;
        }
        let ns = |a: std::sync::atomic::AtomicU64| core::time::Duration::from_nanos(a.into_inner());
        let timings = UnmaskTimings {
            reconstructions: jobs.len(),
            agreements: agreements.into_inner(),
            seeds,
            keystream_bytes,
            reconstruction: ns(recon_ns),
            key_agreement: ns(agree_ns),
            secrets_wall,
            expansion: expansion_started.elapsed(),
            total: started.elapsed(),
        };
        let output = Output {
            sums,
            included: survivors.included.to_vec(),
            // Filled in by `Server::close_round` from the report.
            excluded: Vec::new(),
        };
        let done = Completed {
            asked: self.asked,
            shared: survivors.shared,
            output,
            timings,
        };
        Ok((Phase::Completed(done), Vec::new()))
    }
}

/// The revealed shares grouped by owner: `entries[starts[v]..starts[v + 1]]` are the
/// `(holder, share)` pairs of owner `v`, by ascending holder.
///
/// The shares are copied here, next to each other: a reconstruction then reads its `t`
/// shares from a few cache lines instead of one line (often two: a revealed share is
/// 48 bytes) in each of `t` holders' messages. Those scattered loads were two thirds of
/// `LagrangeAtZero::combine`'s time in the unmasking of n = 10^4 (`perf annotate`).
/// The copies are [`Share`]s, which wipe themselves when dropped, in a vector allocated
/// once at its final size (never moved by a reallocation).
struct SharesByOwner {
    starts: Vec<usize>,
    entries: Vec<(ClientId, Share)>,
}

impl SharesByOwner {
    /// Owners at or above `n` (none pass the decoder's checks) are left out.
    fn new(n: usize, revealed: &Answers<Vec<RevealedShare>>) -> Self {
        let mut starts = vec![0usize; n + 1];
        for (_, from_w) in revealed.iter() {
            for s in from_w {
                if let Some(c) = starts
                    .get_mut(s.owner as usize)
                    .filter(|_| (s.owner as usize) < n)
                {
                    *c += 1;
                }
            }
        }
        // Counts to starts (exclusive prefix sums; the last is the total).
        let mut total = 0;
        for c in &mut starts {
            let count = *c;
            *c = total;
            total += count;
        }
        let mut next = starts.clone();
        let mut entries: Vec<(ClientId, Share)> = Vec::with_capacity(total);
        entries.resize_with(total, || (0, Share::placeholder()));
        // Holders by ascending id: each owner's pairs come out sorted by holder.
        for (w, from_w) in revealed.iter() {
            for s in from_w {
                if let Some(at) = next
                    .get_mut(s.owner as usize)
                    .filter(|_| (s.owner as usize) < n)
                {
                    if let Some(slot) = entries.get_mut(*at) {
                        slot.0 = w;
                        slot.1.assign(&s.share);
                    }
                    *at += 1;
                }
            }
        }
        Self { starts, entries }
    }

    fn of(&self, owner: ClientId) -> &[(ClientId, Share)] {
        let v = owner as usize;
        match (self.starts.get(v), self.starts.get(v + 1)) {
            (Some(&a), Some(&b)) => self.entries.get(a..b).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// The masks to remove for the excluded owners whose masks are cancelled pairwise
/// ([`ShareKind::PairwiseSecret`]): for each such `v` and each holder `u ∈ U3` of it
/// (every one responded: [`Survivors::check_reconstructible`]), the seeds
/// `pairwise_mask_seed(s_uv, sid, u, v, name_j)` from the agreement `u` revealed, with
/// the sign that undoes what `u` added (`Minus` if `v > u`).
fn pairwise_seeds(
    config: &Config,
    survivors: &Survivors,
    revealed: &Answers<Vec<RevealedPairwise>>,
) -> Result<Vec<(Vec<MaskSeed>, Sign)>> {
    let graph = config.graph();
    let sid = *config.session_id();
    let mut out = Vec::new();
    for &(v, kind) in &survivors.needed {
        if kind != ShareKind::PairwiseSecret {
            continue;
        }
        for &u in graph.neighbors(v) {
            if !survivors.included.contains(u) || !survivors.holds(u, v) {
                continue;
            }
            let from_u = revealed.get(u).map(Vec::as_slice).unwrap_or_default();
            let secret = from_u
                .binary_search_by_key(&v, |p| p.peer)
                .ok()
                .and_then(|k| from_u.get(k))
                .map(|p| &p.secret)
                .ok_or(Error::Threshold(ThresholdError::CannotReconstruct {
                    round: Round::Unmasking,
                    client: v,
                    needed: 1,
                    got: 0,
                }))?;
            // Allocated at its final size (no reallocation leaves seed bytes behind).
            let mut seeds = Vec::with_capacity(config.vectors().len());
            for spec in config.vectors() {
                seeds.push(kdf::pairwise_mask_seed(
                    secret,
                    &sid,
                    u,
                    v,
                    spec.name.as_bytes(),
                )?);
            }
            out.push((seeds, if v > u { Sign::Minus } else { Sign::Plus }));
        }
    }
    Ok(out)
}

mod sets;
// Storing the state between rounds (the encoding is the wire format's).
mod state;
