//! The server: a sans-IO state machine.
//!
//! The driver feeds it client messages with [`Server::receive`] and, when a round's
//! deadline passes, calls [`Server::close_round`], which returns the messages for the
//! clients that go on. Whoever has not answered a round by then has dropped out. A
//! message that is late, duplicated, for the wrong round, from an unknown or dropped
//! client, or malformed is rejected with a typed error and changes nothing: the server
//! carries on. A round that leaves too few survivors aborts the session; after that, or
//! after the output is computed, every call fails.
//!
//! Where the threshold `t` bites (the full rules are in `docs/protocol.md`):
//! * after rounds 0 and 1 the server keeps the largest set of survivors in which every
//!   member has at least `t` surviving neighbours (the `t`-core; the others are dropped
//!   too) and aborts with [`ThresholdError::TooFewSurvivors`] if that set is empty;
//! * from round 2 on the included set `U3` is fixed (masked inputs are summed as they
//!   arrive), and every secret the server will need — `b_u` for `u ∈ U3`, the masking
//!   key of each dropped `v` with a neighbour in `U3` — must keep `t` share holders
//!   among the clients still answering, else [`ThresholdError::CannotReconstruct`].
//!
//! The state is plain data (keys, ciphertexts, sums, flags) so that a driver can store
//! it between rounds once the wire-format layer gives it an encoding.

use std::collections::HashMap;
use std::sync::Arc;

use crate::par::*;
use ed25519_dalek::Signature;

use super::client::SHARE_PLAINTEXT_LEN;
use super::config::Config;
use super::messages::{
    AdvertiseKeys, ClientMessage, ConsistencyRequest, KeyEntry, KeyList, MaskedInput,
    RevealedShare, Round, RoutedCiphertext, RoutedShares, SealedShares, ServerMessage, ShareKind,
    SurvivorSignature, UnmaskRequest, UnmaskShares,
};
use super::transcript;
use crate::crypto::aead::OVERHEAD;
use crate::crypto::kdf::{self, MaskSeed};
use crate::crypto::keys::SecretKey;
use crate::crypto::prg::{self, Sign};
use crate::crypto::shamir::{eval_point, LagrangeAtZero, SecretScalar, Share};
use crate::crypto::ClientId;
use crate::error::{
    CryptoError, EncodingError, Error, Misuse, PeerMisbehaved, Result, ThresholdError,
};
use crate::ring::RingVec;

/// Length of one sealed pair of shares on the wire.
pub const SEALED_SHARES_LEN: usize = SHARE_PLAINTEXT_LEN + OVERHEAD;

/// What the server learns: the sum of the included clients' inputs, and exactly who
/// they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// One sum per configured vector, in order.
    pub sums: Vec<RingVec>,
    /// The clients whose inputs the sums contain (`U3`), sorted.
    pub included: Vec<ClientId>,
}

#[derive(Clone, Debug)]
enum Status {
    Running,
    Completed(Output),
    Aborted(Error),
}

/// The server of one session.
#[derive(Clone, Debug)]
pub struct Server {
    config: Arc<Config>,
    round: Round,
    status: Status,
    /// Clients whose message for `round` is awaited (survivors so far).
    expected: Vec<bool>,
    /// Clients whose message for `round` arrived.
    received: Vec<bool>,
    /// Round 0: advertised keys; after round 0 only the survivors' are kept.
    keys: Vec<Option<AdvertiseKeys>>,
    /// Round 0: every public key seen, to refuse a key advertised twice.
    key_owner: HashMap<[u8; 32], ClientId>,
    /// Round 1: sealed shares per sender, sorted by recipient.
    sealed: Vec<Vec<SealedShares>>,
    /// Survivors of round 1 (`S2`): the clients whose shares were routed.
    shared: Vec<bool>,
    /// Round 2: running sums of the masked inputs.
    sums: Vec<RingVec>,
    /// Survivors of round 2 (`U3`): the included clients.
    included: Vec<bool>,
    /// Round 3: the transcript every survivor signs (malicious model).
    survivor_transcript: Vec<u8>,
    /// Round 3: consistency signatures.
    signatures: Vec<Option<Signature>>,
    /// Round 4: revealed shares per responder.
    revealed: Vec<Vec<RevealedShare>>,
}

fn ids(flags: &[bool]) -> Vec<ClientId> {
    flags
        .iter()
        .enumerate()
        .filter(|(_, &f)| f)
        .map(|(i, _)| i as ClientId)
        .collect()
}

fn member(flags: &[bool], id: ClientId) -> bool {
    flags.get(id as usize).copied().unwrap_or(false)
}

impl Server {
    /// A server for one session, waiting for round-0 messages from every client.
    pub fn new(config: Arc<Config>) -> Self {
        let n = config.n();
        let sums = config
            .vectors()
            .iter()
            .map(|v| RingVec::zeros(&v.ring, v.dim))
            .collect();
        Self {
            round: Round::AdvertiseKeys,
            status: Status::Running,
            expected: vec![true; n],
            received: vec![false; n],
            keys: vec![None; n],
            key_owner: HashMap::new(),
            sealed: vec![Vec::new(); n],
            shared: vec![false; n],
            sums,
            included: vec![false; n],
            survivor_transcript: Vec::new(),
            signatures: vec![None; n],
            revealed: vec![Vec::new(); n],
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The round being collected.
    pub fn round(&self) -> Round {
        self.round
    }

    /// The clients whose message for the current round is still awaited.
    pub fn awaited(&self) -> Vec<ClientId> {
        (0..self.config.n())
            .filter(|&i| self.expected[i] && !self.received[i])
            .map(|i| i as ClientId)
            .collect()
    }

    /// The clients whose message for the current round arrived.
    pub fn received(&self) -> Vec<ClientId> {
        ids(&self.received)
    }

    /// The output, once the session completed.
    pub fn output(&self) -> Option<&Output> {
        match &self.status {
            Status::Completed(o) => Some(o),
            _ => None,
        }
    }

    /// The error that aborted the session, if it aborted.
    pub fn error(&self) -> Option<&Error> {
        match &self.status {
            Status::Aborted(e) => Some(e),
            _ => None,
        }
    }

    fn check_running(&self) -> Result<()> {
        match &self.status {
            Status::Running => Ok(()),
            Status::Completed(_) => Err(Error::Misuse(Misuse::AlreadyCompleted)),
            Status::Aborted(_) => Err(Error::Misuse(Misuse::AlreadyAborted)),
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
    /// sealed shares, vector shapes, revealed shares).
    pub fn receive(&mut self, from: ClientId, msg: ClientMessage) -> Result<()> {
        self.check_running()?;
        if !self.config.contains(from) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                client: from,
            }));
        }
        let r = msg.round();
        if r > self.round || !self.config.rounds().contains(&r) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected: self.round,
                found: r,
            }));
        }
        if r < self.round {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::RoundClosed {
                round: r,
            }));
        }
        if !member(&self.expected, from) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DroppedClient {
                client: from,
            }));
        }
        if member(&self.received, from) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateMessage {
                client: from,
                round: r,
            }));
        }
        let i = from as usize;
        match msg {
            ClientMessage::AdvertiseKeys(m) => {
                self.check_advertise(from, &m)?;
                self.key_owner.insert(m.enc_pk.to_bytes(), from);
                self.key_owner.insert(m.mask_pk.to_bytes(), from);
                self.keys[i] = Some(m);
            }
            ClientMessage::ShareKeys(m) => {
                self.check_share_keys(from, &m.shares)?;
                let mut shares = m.shares;
                shares.sort_unstable_by_key(|s| s.to);
                self.sealed[i] = shares;
            }
            ClientMessage::MaskedInput(m) => self.add_masked_input(from, m)?,
            ClientMessage::ConsistencySignature(m) => {
                let vk = self
                    .config
                    .verifying_key(from)
                    .ok_or(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                        client: from,
                    }))?;
                vk.verify_strict(&self.survivor_transcript, &m.signature)
                    .map_err(|_| Error::Crypto(CryptoError::BadSignature { client: from }))?;
                self.signatures[i] = Some(m.signature);
            }
            ClientMessage::UnmaskShares(m) => {
                let shares = self.check_unmask_shares(from, m)?;
                self.revealed[i] = shares;
            }
        }
        self.received[i] = true;
        Ok(())
    }

    fn check_advertise(&self, from: ClientId, m: &AdvertiseKeys) -> Result<()> {
        match (self.config.verifying_key(from), m.signature) {
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
                let t =
                    transcript::advertise(self.config.session_id(), from, &m.enc_pk, &m.mask_pk);
                vk.verify_strict(&t, &sig)
                    .map_err(|_| Error::Crypto(CryptoError::BadSignature { client: from }))?;
            }
        }
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

    /// The sealed shares must go to exactly the sender's key list: its neighbours that
    /// survived round 0.
    fn check_share_keys(&self, from: ClientId, shares: &[SealedShares]) -> Result<()> {
        let graph = self.config.graph();
        let mut seen: Vec<ClientId> = Vec::with_capacity(shares.len());
        for s in shares {
            if !self.config.contains(s.to) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                    client: s.to,
                }));
            }
            if !graph.are_neighbors(from, s.to) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                    client: from,
                    other: s.to,
                }));
            }
            if !member(&self.expected, s.to) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
                    client: s.to,
                }));
            }
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
            if member(&self.expected, v) && seen.binary_search(&v).is_err() {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                    client: v,
                }));
            }
        }
        Ok(())
    }

    fn add_masked_input(&mut self, from: ClientId, m: MaskedInput) -> Result<()> {
        let specs = self.config.vectors();
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
        // Shapes were checked above, so no add can fail half-way.
        for ((acc, y), spec) in self.sums.iter_mut().zip(&m.vectors).zip(specs) {
            acc.add_assign(&spec.ring, y)?;
        }
        Ok(())
    }

    /// A responder must reveal exactly one share per neighbour whose shares it holds
    /// (its neighbours in `S2`): of `b_v` if `v ∈ U3`, of the masking key otherwise.
    fn check_unmask_shares(&self, from: ClientId, m: UnmaskShares) -> Result<Vec<RevealedShare>> {
        let graph = self.config.graph();
        let mut shares = m.shares;
        for s in &shares {
            if !self.config.contains(s.owner) {
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
            if !member(&self.shared, s.owner) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
                    client: s.owner,
                }));
            }
            let kind = if member(&self.included, s.owner) {
                ShareKind::SelfMask
            } else {
                ShareKind::MaskKey
            };
            if s.kind != kind {
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
            if member(&self.shared, v) && shares.binary_search_by_key(&v, |s| s.owner).is_err() {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                    client: v,
                }));
            }
        }
        Ok(shares)
    }

    /// Closes the current round: whoever has not answered dropped out. Returns the
    /// messages for the clients that go on (empty after the last round, when
    /// [`Server::output`] becomes available).
    ///
    /// # Errors [`ThresholdError::TooFewSurvivors`] or
    /// [`ThresholdError::CannotReconstruct`] (the session aborts),
    /// [`PeerMisbehaved::ReconstructionMismatch`] (a neighbour revealed a bad share;
    /// aborts), [`Misuse::AlreadyCompleted`], [`Misuse::AlreadyAborted`].
    pub fn close_round(&mut self) -> Result<Vec<(ClientId, ServerMessage)>> {
        self.check_running()?;
        let result = match self.round {
            Round::AdvertiseKeys => self.close_advertise(),
            Round::ShareKeys => self.close_share_keys(),
            Round::MaskedInputCollection => self.close_masked_input(),
            Round::ConsistencyCheck => self.close_consistency(),
            Round::Unmasking => self.close_unmasking().map(|o| {
                self.status = Status::Completed(o);
                Vec::new()
            }),
        };
        match result {
            Ok(msgs) => {
                self.received = vec![false; self.config.n()];
                Ok(msgs)
            }
            Err(e) => {
                self.status = Status::Aborted(e.clone());
                self.release();
                Err(e)
            }
        }
    }

    /// Frees everything but the status.
    fn release(&mut self) {
        self.keys = Vec::new();
        self.key_owner = HashMap::new();
        self.sealed = Vec::new();
        self.sums = Vec::new();
        self.survivor_transcript = Vec::new();
        self.signatures = Vec::new();
        self.revealed = Vec::new();
    }

    /// The largest subset of `alive` in which every member has at least `t` members
    /// among its neighbours.
    fn t_core(&self, alive: &[bool]) -> Vec<bool> {
        let graph = self.config.graph();
        let t = self.config.threshold();
        let mut core = alive.to_vec();
        let mut count: Vec<usize> = (0..core.len())
            .map(|u| {
                graph
                    .neighbors(u as ClientId)
                    .iter()
                    .filter(|&&v| member(&core, v))
                    .count()
            })
            .collect();
        let mut stack: Vec<usize> = (0..core.len())
            .filter(|&u| core[u] && count[u] < t)
            .collect();
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
        core
    }

    fn survivors_or_abort(&self, core: &[bool]) -> Result<()> {
        if core.iter().any(|&c| c) {
            Ok(())
        } else {
            Err(Error::Threshold(ThresholdError::TooFewSurvivors {
                round: self.round,
                threshold: self.config.threshold(),
                survivors: self.received.iter().filter(|&&r| r).count(),
            }))
        }
    }

    fn close_advertise(&mut self) -> Result<Vec<(ClientId, ServerMessage)>> {
        let core = self.t_core(&self.received);
        self.survivors_or_abort(&core)?;
        for (k, &c) in self.keys.iter_mut().zip(&core) {
            if !c {
                *k = None;
            }
        }
        self.key_owner = HashMap::new();
        let graph = self.config.graph();
        let mut out = Vec::new();
        for u in ids(&core) {
            let mut list: Vec<ClientId> = graph
                .neighbors(u)
                .iter()
                .copied()
                .filter(|&v| member(&core, v))
                .collect();
            list.push(u);
            list.sort_unstable();
            let entries = list
                .into_iter()
                .filter_map(|id| self.keys[id as usize].map(|keys| KeyEntry { id, keys }))
                .collect();
            out.push((u, ServerMessage::KeyList(KeyList { entries })));
        }
        self.expected = core;
        self.round = Round::ShareKeys;
        Ok(out)
    }

    fn close_share_keys(&mut self) -> Result<Vec<(ClientId, ServerMessage)>> {
        let core = self.t_core(&self.received);
        self.survivors_or_abort(&core)?;
        let graph = self.config.graph();
        let mut out = Vec::new();
        for u in ids(&core) {
            let mut shares = Vec::new();
            for &v in graph.neighbors(u) {
                if !member(&core, v) {
                    continue;
                }
                let from_v = &mut self.sealed[v as usize];
                if let Ok(k) = from_v.binary_search_by_key(&u, |s| s.to) {
                    shares.push(RoutedCiphertext {
                        from: v,
                        ciphertext: core::mem::take(&mut from_v[k].ciphertext),
                    });
                }
            }
            out.push((u, ServerMessage::RoutedShares(RoutedShares { shares })));
        }
        self.sealed = Vec::new();
        self.shared = core.clone();
        self.expected = core;
        self.round = Round::MaskedInputCollection;
        Ok(out)
    }

    /// Every secret the server will need keeps `t` share holders among `holders`.
    fn check_reconstructible(&self, holders: &[bool]) -> Result<()> {
        let graph = self.config.graph();
        let t = self.config.threshold();
        let count = |u: ClientId| {
            graph
                .neighbors(u)
                .iter()
                .filter(|&&w| member(holders, w))
                .count()
        };
        for u in 0..self.config.n() as ClientId {
            let needed = if member(&self.included, u) {
                true
            } else {
                member(&self.shared, u)
                    && graph
                        .neighbors(u)
                        .iter()
                        .any(|&w| member(&self.included, w))
            };
            if needed {
                let got = count(u);
                if got < t {
                    return Err(Error::Threshold(ThresholdError::CannotReconstruct {
                        round: self.round,
                        client: u,
                        needed: t,
                        got,
                    }));
                }
            }
        }
        Ok(())
    }

    fn close_masked_input(&mut self) -> Result<Vec<(ClientId, ServerMessage)>> {
        if !self.received.iter().any(|&r| r) {
            return Err(Error::Threshold(ThresholdError::TooFewSurvivors {
                round: self.round,
                threshold: self.config.threshold(),
                survivors: 0,
            }));
        }
        self.included = self.received.clone();
        self.check_reconstructible(&self.included)?;
        let survivors = ids(&self.included);
        let out = survivors
            .iter()
            .map(|&u| {
                let msg = if self.config.is_malicious() {
                    ServerMessage::ConsistencyRequest(ConsistencyRequest {
                        survivors: survivors.clone(),
                    })
                } else {
                    ServerMessage::UnmaskRequest(UnmaskRequest {
                        survivors: survivors.clone(),
                        signatures: Vec::new(),
                    })
                };
                (u, msg)
            })
            .collect();
        if self.config.is_malicious() {
            self.survivor_transcript =
                transcript::consistency(self.config.session_id(), &survivors);
        }
        self.expected = self.included.clone();
        self.round = if self.config.is_malicious() {
            Round::ConsistencyCheck
        } else {
            Round::Unmasking
        };
        Ok(out)
    }

    fn close_consistency(&mut self) -> Result<Vec<(ClientId, ServerMessage)>> {
        self.check_reconstructible(&self.received)?;
        let survivors = ids(&self.included);
        let graph = self.config.graph();
        let mut out = Vec::new();
        for u in ids(&self.received) {
            let signatures = graph
                .neighbors(u)
                .iter()
                .filter_map(|&v| {
                    self.signatures[v as usize]
                        .map(|signature| SurvivorSignature { id: v, signature })
                })
                .collect();
            out.push((
                u,
                ServerMessage::UnmaskRequest(UnmaskRequest {
                    survivors: survivors.clone(),
                    signatures,
                }),
            ));
        }
        self.signatures = Vec::new();
        self.survivor_transcript = Vec::new();
        self.expected = self.received.clone();
        self.round = Round::Unmasking;
        Ok(out)
    }

    /// Reconstructs the secrets, regenerates the masks and removes them from the sum.
    fn close_unmasking(&mut self) -> Result<Output> {
        self.check_reconstructible(&self.received)?;
        let config = Arc::clone(&self.config);
        let graph = config.graph();
        let t = config.threshold();
        let sid = *config.session_id();

        // Which secret of whom, from which holders (the first t responding neighbours).
        struct Job {
            owner: ClientId,
            kind: ShareKind,
            holders: Vec<ClientId>,
        }
        let mut jobs = Vec::new();
        for owner in 0..config.n() as ClientId {
            let kind = if member(&self.included, owner) {
                ShareKind::SelfMask
            } else if member(&self.shared, owner)
                && graph
                    .neighbors(owner)
                    .iter()
                    .any(|&w| member(&self.included, w))
            {
                ShareKind::MaskKey
            } else {
                continue;
            };
            let holders: Vec<ClientId> = graph
                .neighbors(owner)
                .iter()
                .copied()
                .filter(|&w| member(&self.received, w))
                .take(t)
                .collect();
            jobs.push(Job {
                owner,
                kind,
                holders,
            });
        }
        let mut lagrange: HashMap<Vec<ClientId>, LagrangeAtZero> = HashMap::new();
        for job in &jobs {
            if !lagrange.contains_key(&job.holders) {
                let xs: Vec<u64> = job.holders.iter().map(|&w| eval_point(w)).collect();
                lagrange.insert(job.holders.clone(), LagrangeAtZero::new(&xs)?);
            }
        }

        // Reconstruct and derive every seed, in parallel over owners.
        let names: Vec<&[u8]> = config.vectors().iter().map(|v| v.name.as_bytes()).collect();
        let revealed = &self.revealed;
        let keys = &self.keys;
        let included = &self.included;
        let per_owner: Vec<Vec<(Vec<MaskSeed>, Sign)>> = jobs
            .par_iter()
            .map(|job| -> Result<Vec<(Vec<MaskSeed>, Sign)>> {
                let shares: Vec<&Share> = job
                    .holders
                    .iter()
                    .map(|&w| {
                        revealed[w as usize]
                            .binary_search_by_key(&job.owner, |s| s.owner)
                            .ok()
                            .and_then(|k| revealed[w as usize].get(k))
                            .map(|s| &s.share)
                            .ok_or(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                                client: job.owner,
                            }))
                    })
                    .collect::<Result<_>>()?;
                let coeffs = lagrange.get(&job.holders).ok_or(Error::Threshold(
                    ThresholdError::NotEnoughShares { needed: t, got: 0 },
                ))?;
                let secret: SecretScalar = coeffs.combine(&shares)?;
                match job.kind {
                    ShareKind::SelfMask => {
                        let seeds = names
                            .iter()
                            .map(|name| kdf::self_mask_seed(&secret, &sid, job.owner, name))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(vec![(seeds, Sign::Minus)])
                    }
                    ShareKind::MaskKey => {
                        let v = job.owner;
                        let sk = SecretKey::from_scalar(&secret);
                        let advertised = keys.get(v as usize).and_then(|k| k.as_ref()).ok_or(
                            Error::PeerMisbehaved(PeerMisbehaved::MissingEntry { client: v }),
                        )?;
                        if sk.public_key() != advertised.mask_pk {
                            return Err(Error::PeerMisbehaved(
                                PeerMisbehaved::ReconstructionMismatch { client: v },
                            ));
                        }
                        let mut out = Vec::new();
                        for &u in graph.neighbors(v) {
                            if !member(included, u) {
                                continue;
                            }
                            let pk = keys
                                .get(u as usize)
                                .and_then(|k| k.as_ref())
                                .ok_or(Error::PeerMisbehaved(PeerMisbehaved::MissingEntry {
                                    client: u,
                                }))?
                                .mask_pk;
                            let shared = sk.agree(&pk)?;
                            let seeds = names
                                .iter()
                                .map(|name| kdf::pairwise_mask_seed(&shared, &sid, u, v, name))
                                .collect::<Result<Vec<_>>>()?;
                            // y_u added PRG(s_uv) if v > u: remove it.
                            out.push((seeds, if v > u { Sign::Minus } else { Sign::Plus }));
                        }
                        Ok(out)
                    }
                }
            })
            .collect::<Result<_>>()?;

        let mut sums = core::mem::take(&mut self.sums);
        for (j, (acc, spec)) in sums.iter_mut().zip(config.vectors()).enumerate() {
            let masks: Vec<(&MaskSeed, Sign)> = per_owner
                .iter()
                .flatten()
                .filter_map(|(seeds, sign)| seeds.get(j).map(|s| (s, *sign)))
                .collect();
            prg::expand_add(&spec.ring, &masks, acc)?;
        }
        let output = Output {
            sums,
            included: ids(&self.included),
        };
        self.release();
        Ok(output)
    }
}

// Storing the state between rounds (the encoding is the wire format's).
mod state;
