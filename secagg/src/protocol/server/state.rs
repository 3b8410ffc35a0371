//! The server's state as bytes, so that a driver can store it between rounds
//! (`docs/wire-format.md`, "Stored state"). It lives here, as a child of the server
//! module, because it reads the phases' private fields; the field encodings are the
//! wire format's.
//!
//! The layout predates the phases: every state starts with the round, the status and
//! four id sets (`expected`, `received`, `shared`, `included`), then what the round
//! holds. Each phase writes the sets it implies (the clients it asks, those that
//! answered, `S2` and `U3` once they exist, empty before), and decoding refuses sets
//! that no server in that round could hold, so that every state that decodes is one
//! phase and re-encodes to the same bytes.

use std::collections::HashMap;
use std::sync::Arc;

use super::sets::{Answers, IdSet};
use super::{
    CollectingInputs, CollectingKeys, CollectingReveals, CollectingShares, CollectingSignatures,
    Completed, Config, Excluded, ExclusionReason, Included, Output, Phase, Server, Survivors,
    UnmaskTimings,
};
use crate::crypto::aead::OVERHEAD;
use crate::crypto::keys::SharedSecret;
use crate::error::{EncodingError, Error, Misuse, Result};
use crate::ids::{ClientId, Round};
use crate::protocol::messages::encoding::{self as m, msg_type};
use zeroize::Zeroizing;

use crate::protocol::messages::{
    AdvertiseKeys, RevealedPairwise, RevealedShare, SealedShares, SEALED_SHARES_LEN,
};
use crate::protocol::transcript;
use crate::ring::RingVec;
use crate::wire::fields::{self, ID_LEN};
use crate::wire::{pack, Reader, Writer};

/// The four id sets of the layout, in order: `expected`, `received`, `shared`,
/// `included`.
type Sets = [Vec<ClientId>; 4];

impl Phase {
    /// The id sets this phase writes (see the module docs); `None` when aborted.
    fn id_sets(&self, n: usize) -> Option<Sets> {
        let all = || IdSet::all(n).to_vec();
        Some(match self {
            Phase::CollectingKeys(p) => [all(), p.keys.ids().to_vec(), vec![], vec![]],
            Phase::CollectingShares(p) => [
                p.keys.ids().to_vec(),
                p.sealed.ids().to_vec(),
                vec![],
                vec![],
            ],
            Phase::CollectingInputs(p) => [
                p.shared.to_vec(),
                p.received.ids().to_vec(),
                p.shared.to_vec(),
                vec![],
            ],
            Phase::CollectingSignatures(p) => {
                let s = &p.included.survivors;
                [
                    s.included.to_vec(),
                    p.signatures.ids().to_vec(),
                    s.shared.to_vec(),
                    s.included.to_vec(),
                ]
            }
            Phase::CollectingReveals(p) => {
                let s = &p.included.survivors;
                [
                    p.asked.to_vec(),
                    p.revealed.ids().to_vec(),
                    s.shared.to_vec(),
                    s.included.to_vec(),
                ]
            }
            // A completed server records who was asked in round 4, nobody received
            // (the round closed), S2 and U3.
            Phase::Completed(c) => [
                c.asked.to_vec(),
                vec![],
                c.shared.to_vec(),
                c.output.included.clone(),
            ],
            Phase::Aborted(_) => return None,
        })
    }

    /// The advertised keys the phase keeps.
    fn keys(&self) -> Option<&Answers<AdvertiseKeys>> {
        match self {
            Phase::CollectingKeys(p) => Some(&p.keys),
            Phase::CollectingShares(p) => Some(&p.keys),
            Phase::CollectingInputs(p) => Some(&p.keys),
            Phase::CollectingSignatures(p) => Some(&p.included.keys),
            Phase::CollectingReveals(p) => Some(&p.included.keys),
            Phase::Completed(_) | Phase::Aborted(_) => None,
        }
    }

    /// Every accusation as `(accused, accuser)`, sorted (rounds 2–4).
    fn accusations(&self) -> Option<Vec<(ClientId, ClientId)>> {
        match self {
            Phase::CollectingInputs(p) => Some(p.accusations()),
            Phase::CollectingSignatures(p) => Some(p.included.survivors.accusations.clone()),
            Phase::CollectingReveals(p) => Some(p.included.survivors.accusations.clone()),
            _ => None,
        }
    }

    /// The running sums (rounds 2–4).
    fn sums(&self) -> Option<&[RingVec]> {
        match self {
            Phase::CollectingInputs(p) => Some(&p.sums),
            Phase::CollectingSignatures(p) => Some(&p.included.sums),
            Phase::CollectingReveals(p) => Some(&p.included.sums),
            _ => None,
        }
    }
}

impl Server {
    /// The server's state as bytes: `01 f1`, the session id, the round and status, the
    /// four id sets (the clients asked this round, those that answered, `S2`, `U3`),
    /// and whatever the current round still needs (advertised keys, sealed shares
    /// awaiting routing, the running sums, consistency signatures, revealed shares), or
    /// the output once completed. Restore it with [`Server::from_bytes`] and the same
    /// configuration.
    ///
    /// # Errors
    /// [`Misuse::AlreadyAborted`]: an aborted server has nothing worth storing.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let cfg = &*self.config;
        let n = cfg.n();
        let sets = self
            .phase
            .id_sets(n)
            .ok_or(Error::Misuse(Misuse::AlreadyAborted))?;
        let mut w = Writer::new();
        m::header(&mut w, msg_type::SERVER_STATE);
        w.bytes(cfg.session_id());
        w.u8(self.phase.round().number());
        w.u8(u8::from(matches!(self.phase, Phase::Completed(_))));
        for (what, set) in ["expected", "received", "shared", "included"]
            .into_iter()
            .zip(&sets)
        {
            fields::write_id_set(&mut w, what, n, set)?;
        }
        if let Phase::Completed(c) = &self.phase {
            fields::write_id_set(&mut w, "output included", n, &c.output.included)?;
            write_sums(&mut w, cfg, &c.output.sums)?;
            write_report(&mut w, n, &self.excluded)?;
            return Ok(w.into_bytes());
        }
        // Advertised keys of the clients still holding some.
        if let Some(keys) = self.phase.keys() {
            fields::write_id_set(&mut w, "keys", n, &keys.ids().to_vec())?;
            for (_, k) in keys.iter() {
                m::write_advertise(&mut w, cfg, k)?;
            }
        }
        if let Phase::CollectingShares(p) = &self.phase {
            write_lists(&mut w, n, &p.sealed, |w, s: &SealedShares| {
                fields::write_id(w, s.to);
                fields::write_sealed(w, "sealed shares", SEALED_SHARES_LEN, &s.ciphertext)
            })?;
        }
        if let Some(sums) = self.phase.sums() {
            write_sums(&mut w, cfg, sums)?;
        }
        if let Some(accusations) = self.phase.accusations() {
            write_accusations(&mut w, n, &accusations)?;
        }
        if let Phase::CollectingInputs(p) = &self.phase {
            let ids: Vec<ClientId> = p.pending.keys().copied().collect();
            fields::write_id_set(&mut w, "pending inputs", n, &ids)?;
            for y in p.pending.values() {
                write_sums(&mut w, cfg, y)?;
            }
        }
        if let Phase::CollectingSignatures(p) = &self.phase {
            fields::write_id_set(&mut w, "signatures", n, &p.signatures.ids().to_vec())?;
            for (_, sig) in p.signatures.iter() {
                fields::write_signature(&mut w, sig);
            }
        }
        if let Phase::CollectingReveals(p) = &self.phase {
            write_lists(&mut w, n, &p.revealed, |w, s: &RevealedShare| {
                fields::write_id(w, s.owner);
                m::write_share_kind(w, s.kind);
                fields::write_share_value(w, &s.share);
                Ok(())
            })?;
            write_lists(&mut w, n, &p.pairwise, |w, s: &RevealedPairwise| {
                fields::write_id(w, s.peer);
                w.bytes(s.secret.as_bytes());
                Ok(())
            })?;
        }
        write_report(&mut w, n, &self.excluded)?;
        Ok(w.into_bytes())
    }

    /// Restores a server stored with [`Server::to_bytes`] under `config`.
    ///
    /// # Errors
    /// [`Misuse::StateSessionMismatch`] for a state of another session; the decoding
    /// errors of the wire format (kind [`ErrorKind::Encoding`](crate::ErrorKind)) for
    /// bytes that are not a stored server state: truncated, trailing, unknown version,
    /// type, round or status, out-of-range or unsorted ids, non-canonical values,
    /// lists longer than the largest neighborhood, and id sets that no server in the
    /// stored round holds ([`EncodingError::InvalidTag`] for the round).
    pub fn from_bytes(config: Arc<Config>, bytes: &[u8]) -> Result<Server> {
        let cfg = &*config;
        let n = cfg.n();
        let k = cfg.graph().max_degree();
        let mut r = Reader::new(bytes);
        match m::read_header(&mut r)? {
            msg_type::SERVER_STATE => {}
            found => return Err(Error::Encoding(EncodingError::UnknownMessageType { found })),
        }
        let sid: [u8; 32] = r.array("session id")?;
        if &sid != cfg.session_id() {
            return Err(Error::Misuse(Misuse::StateSessionMismatch));
        }
        let round_byte = r.u8("round")?;
        let round = Round::from_number(round_byte)
            .filter(|r| cfg.rounds().contains(r))
            .ok_or(Error::Encoding(EncodingError::InvalidTag {
                what: "round",
                found: round_byte,
            }))?;
        let completed = match r.u8("status")? {
            0 => false,
            1 => true,
            found => {
                return Err(Error::Encoding(EncodingError::InvalidTag {
                    what: "status",
                    found,
                }))
            }
        };
        let mut set = || -> Result<IdSet> {
            Ok(IdSet::new(
                n,
                fields::read_id_set(&mut r, "client flags", n)?,
            ))
        };
        let expected = set()?;
        let received = set()?;
        let shared = set()?;
        let included = set()?;
        // The sets must be those of a server in `round`.
        let fits = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(Error::Encoding(EncodingError::InvalidTag {
                    what: "server state round (for its id sets)",
                    found: round_byte,
                }))
            }
        };
        let nested = expected.is_subset(&included) && included.is_subset(&shared);
        if completed {
            fits(round == Round::Unmasking && received.is_empty() && nested)?;
            let output_included = fields::read_id_set(&mut r, "output included", n)?;
            fits(output_included == included.to_vec())?;
            let sums = read_sums(&mut r, cfg)?;
            let excluded = read_report(&mut r, n, k)?;
            r.finish()?;
            let phase = Phase::Completed(Completed {
                asked: expected,
                shared,
                output: Output {
                    sums,
                    included: output_included,
                    excluded: excluded.clone(),
                },
                timings: UnmaskTimings::default(),
            });
            return Ok(Server {
                config,
                phase,
                excluded,
            });
        }
        let none = shared.is_empty() && included.is_empty();
        fits(match round {
            Round::AdvertiseKeys => expected == IdSet::all(n) && none,
            Round::ShareKeys => none,
            Round::MaskedInputCollection => expected == shared && included.is_empty(),
            Round::ConsistencyCheck => expected == included && nested,
            Round::Unmasking => nested,
        })?;
        let mut keys = Answers::new(n);
        for id in fields::read_id_set(&mut r, "keys", n)? {
            keys.insert(id, m::read_advertise(&mut r, cfg)?);
        }
        let phase = match round {
            Round::AdvertiseKeys => {
                fits(keys.ids() == received)?;
                let mut key_owner = HashMap::new();
                for (id, k) in keys.iter() {
                    key_owner.insert(k.enc_pk.to_bytes(), id);
                    key_owner.insert(k.mask_pk.to_bytes(), id);
                }
                Phase::CollectingKeys(CollectingKeys { keys, key_owner })
            }
            Round::ShareKeys => {
                fits(keys.ids() == expected)?;
                let min = ID_LEN + 2 + OVERHEAD;
                let sealed = read_lists(&mut r, n, k, min, |r, _, index, prev| {
                    let to = fields::read_id(r, "sealed shares entries", n)?;
                    m::ascending("sealed shares entries", prev, to, index)?;
                    let ciphertext = fields::read_sealed(r, "sealed shares", SEALED_SHARES_LEN)?;
                    Ok(SealedShares { to, ciphertext })
                })?;
                fits(sealed.ids() == received)?;
                Phase::CollectingShares(CollectingShares { keys, sealed })
            }
            Round::MaskedInputCollection => {
                let sums = read_sums(&mut r, cfg)?;
                let accusations = read_accusations(&mut r, n, k)?;
                let mut p = CollectingInputs::new(cfg, keys, shared);
                p.sums = sums;
                let graph = cfg.graph();
                for id in received.iter() {
                    p.received.insert(id, Vec::new());
                    for &v in graph.neighbors(id) {
                        if p.shared.contains(v) {
                            if let Some(c) = p.unheard.get_mut(v as usize) {
                                *c = c.saturating_sub(1);
                            }
                        }
                    }
                }
                for &(v, by) in &accusations {
                    // An accusation is by a sender, of a neighbor in S2.
                    fits(
                        received.contains(by) && p.shared.contains(v) && graph.are_neighbors(v, by),
                    )?;
                    if let Some(list) = p.received.get_mut(by) {
                        list.push(v);
                    }
                    if let Some(a) = p.accused.get_mut(v as usize) {
                        *a = true;
                    }
                }
                for id in fields::read_id_set(&mut r, "pending inputs", n)? {
                    // Pending: a sender not accused whose neighbors have not all answered.
                    fits(
                        received.contains(id)
                            && !p.is_accused(id)
                            && p.unheard.get(id as usize).is_some_and(|&c| c > 0),
                    )?;
                    p.pending.insert(id, read_sums(&mut r, cfg)?);
                }
                Phase::CollectingInputs(p)
            }
            Round::ConsistencyCheck => {
                let sums = read_sums(&mut r, cfg)?;
                let accusations = read_accusations(&mut r, n, k)?;
                let mut signatures = Answers::new(n);
                for id in fields::read_id_set(&mut r, "signatures", n)? {
                    signatures.insert(id, fields::read_signature(&mut r)?);
                }
                fits(signatures.ids() == received)?;
                let transcript = transcript::consistency(cfg.session_id(), &included.to_vec());
                Phase::CollectingSignatures(CollectingSignatures {
                    included: Included {
                        keys,
                        survivors: Survivors::new(cfg, shared, included, accusations),
                        sums,
                    },
                    transcript,
                    signatures,
                })
            }
            Round::Unmasking => {
                let sums = read_sums(&mut r, cfg)?;
                let accusations = read_accusations(&mut r, n, k)?;
                let min = ID_LEN + 1 + 32;
                let revealed = read_lists(&mut r, n, k, min, |r, from, index, prev| {
                    let owner = fields::read_id(r, "revealed shares", n)?;
                    m::ascending("revealed shares", prev, owner, index)?;
                    let kind = m::read_revealed_kind(r)?;
                    let share = fields::read_share_value(r, from)?;
                    Ok(RevealedShare { owner, kind, share })
                })?;
                fits(revealed.ids() == received)?;
                let min = ID_LEN + 32;
                let pairwise = read_lists(&mut r, n, k, min, |r, _, index, prev| {
                    let peer = fields::read_id(r, "revealed pairwise secrets", n)?;
                    m::ascending("revealed pairwise secrets", prev, peer, index)?;
                    let secret = SharedSecret::from_bytes(*Zeroizing::new(
                        r.array::<32>("pairwise secret")?,
                    ));
                    Ok(RevealedPairwise { peer, secret })
                })?;
                fits(pairwise.ids().is_subset(&received))?;
                Phase::CollectingReveals(CollectingReveals {
                    included: Included {
                        keys,
                        survivors: Survivors::new(cfg, shared, included, accusations),
                        sums,
                    },
                    asked: expected,
                    revealed,
                    pairwise,
                })
            }
        };
        let excluded = read_report(&mut r, n, k)?;
        r.finish()?;
        Ok(Server {
            config,
            phase,
            excluded,
        })
    }
}

/// The accusations: per accuser (ascending), the ids it accused (ascending), as
/// [`write_lists`] writes lists.
fn write_accusations(w: &mut Writer, n: usize, pairs: &[(ClientId, ClientId)]) -> Result<()> {
    let mut lists: Answers<Vec<ClientId>> = Answers::new(n);
    let mut by_accuser: Vec<(ClientId, ClientId)> = pairs.iter().map(|&(v, by)| (by, v)).collect();
    by_accuser.sort_unstable();
    for (by, v) in by_accuser {
        match lists.get_mut(by) {
            Some(l) => l.push(v),
            None => lists.insert(by, vec![v]),
        }
    }
    write_lists(w, n, &lists, |w, &v| {
        fields::write_id(w, v);
        Ok(())
    })
}

/// Reads what [`write_accusations`] wrote, as `(accused, accuser)` pairs, sorted.
fn read_accusations(r: &mut Reader<'_>, n: usize, k: usize) -> Result<Vec<(ClientId, ClientId)>> {
    let lists = read_lists(r, n, k, ID_LEN, |r, _, index, prev| {
        let v = fields::read_id(r, "accused", n)?;
        m::ascending("accused", prev, v, index)?;
        Ok(v)
    })?;
    let mut out: Vec<(ClientId, ClientId)> = lists
        .iter()
        .flat_map(|(by, l)| l.iter().map(move |&v| (v, by)))
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// The report: a count, then per entry (ascending client) the id, a reason byte
/// (`0` low-order key, `1` non-canonical key, `2` accused) and, for `2`, the
/// accusers as a count and ascending ids.
fn write_report(w: &mut Writer, n: usize, report: &[Excluded]) -> Result<()> {
    fields::check_ascending("excluded", report.iter().map(|e| e.client))?;
    w.length_u32("excluded", report.len())?;
    for e in report {
        fields::check_id("excluded", e.client, n)?;
        fields::write_id(w, e.client);
        match &e.reason {
            ExclusionReason::LowOrderKey => w.u8(0),
            ExclusionReason::NonCanonicalKey => w.u8(1),
            ExclusionReason::Accused { by } => {
                w.u8(2);
                fields::check_ascending("accusers", by.iter().copied())?;
                w.length_u32("accusers", by.len())?;
                for &a in by {
                    fields::check_id("accusers", a, n)?;
                    fields::write_id(w, a);
                }
            }
        }
    }
    Ok(())
}

fn read_report(r: &mut Reader<'_>, n: usize, k: usize) -> Result<Vec<Excluded>> {
    let count = r.count("excluded", n, ID_LEN + 1)?;
    let mut out = Vec::with_capacity(count);
    let mut prev = None;
    for index in 0..count {
        let client = fields::read_id(r, "excluded", n)?;
        m::ascending("excluded", &mut prev, client, index)?;
        let reason = match r.u8("exclusion reason")? {
            0 => ExclusionReason::LowOrderKey,
            1 => ExclusionReason::NonCanonicalKey,
            2 => {
                let c = r.count("accusers", k, ID_LEN)?;
                let mut by = Vec::with_capacity(c);
                let mut prev_by = None;
                for j in 0..c {
                    let a = fields::read_id(r, "accusers", n)?;
                    m::ascending("accusers", &mut prev_by, a, j)?;
                    by.push(a);
                }
                ExclusionReason::Accused { by }
            }
            found => {
                return Err(Error::Encoding(EncodingError::InvalidTag {
                    what: "exclusion reason",
                    found,
                }))
            }
        };
        out.push(Excluded { client, reason });
    }
    Ok(out)
}

fn write_sums(w: &mut Writer, cfg: &Config, sums: &[RingVec]) -> Result<()> {
    if sums.len() != cfg.vectors().len() {
        return Err(Error::Misuse(Misuse::InputCount {
            expected: cfg.vectors().len(),
            found: sums.len(),
        }));
    }
    for (v, spec) in sums.iter().zip(cfg.vectors()) {
        pack::pack(w, &spec.ring, spec.dim, v)?;
    }
    Ok(())
}

fn read_sums(r: &mut Reader<'_>, cfg: &Config) -> Result<Vec<RingVec>> {
    let need = m::masked_input_body_len(cfg)?;
    if r.remaining() < need {
        return Err(Error::Encoding(EncodingError::Truncated {
            what: "sums",
            needed: need,
            remaining: r.remaining(),
        }));
    }
    cfg.vectors()
        .iter()
        .map(|spec| pack::unpack(r, &spec.ring, spec.dim))
        .collect()
}

/// Per-client lists: the id set of clients with a non-empty list, then for each a count
/// and the entries.
fn write_lists<T>(
    w: &mut Writer,
    n: usize,
    lists: &Answers<Vec<T>>,
    mut entry: impl FnMut(&mut Writer, &T) -> Result<()>,
) -> Result<()> {
    let owners: Vec<ClientId> = lists
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, _)| i)
        .collect();
    fields::write_id_set(w, "list owners", n, &owners)?;
    for (_, list) in lists.iter().filter(|(_, l)| !l.is_empty()) {
        w.length_u32("list entries", list.len())?;
        for e in list {
            entry(w, e)?;
        }
    }
    Ok(())
}

/// Reads what [`write_lists`] wrote; `entry` gets the list's owner, the entry's index
/// and the previous id of the list.
fn read_lists<T>(
    r: &mut Reader<'_>,
    n: usize,
    max: usize,
    min_entry: usize,
    mut entry: impl FnMut(&mut Reader<'_>, ClientId, usize, &mut Option<ClientId>) -> Result<T>,
) -> Result<Answers<Vec<T>>> {
    let mut lists = Answers::new(n);
    for owner in fields::read_id_set(r, "list owners", n)? {
        let count = r.count("list entries", max, min_entry)?;
        if count == 0 {
            return Err(Error::Encoding(EncodingError::LengthTooSmall {
                what: "list entries",
                min: 1,
                found: 0,
            }));
        }
        let mut out = Vec::with_capacity(count);
        let mut prev = None;
        for index in 0..count {
            out.push(entry(r, owner, index, &mut prev)?);
        }
        lists.insert(owner, out);
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::config::Config;
    use crate::ring::Ring;

    fn config() -> Arc<Config> {
        Arc::new(
            Config::builder(4, 2)
                .vector("", 3, Ring::pow2(8).unwrap())
                .build()
                .unwrap(),
        )
    }

    /// The fresh server's bytes with the id set at `index` (0..4) replaced.
    fn with_set(cfg: &Arc<Config>, index: usize, ids: &[ClientId]) -> Vec<u8> {
        let b = Server::new(Arc::clone(cfg)).to_bytes().unwrap();
        let len = fields::id_set_len(cfg.n());
        let at = 2 + 32 + 2 + index * len;
        let mut w = Writer::new();
        fields::write_id_set(&mut w, "set", cfg.n(), ids).unwrap();
        let mut x = b;
        x[at..at + len].copy_from_slice(&w.into_bytes());
        x
    }

    /// Runs a whole semi-honest session without drop-outs; returns the server, the
    /// stored state after each close, and who was included.
    fn completed() -> (Arc<Config>, Server, Vec<Vec<u8>>) {
        use crate::crypto::rng::seeded_rng;
        use crate::protocol::client::Client;
        let cfg = config();
        let mut rng = seeded_rng([3; 32]);
        let mut clients = Vec::new();
        let mut srv = Server::new(Arc::clone(&cfg));
        for id in 0..4 {
            let x = vec![RingVec::zeros(&cfg.vectors()[0].ring, 3)];
            let (c, m) = Client::new(Arc::clone(&cfg), id, x, None, &mut rng).unwrap();
            srv.receive(id, m).unwrap();
            clients.push(c);
        }
        let mut stored = Vec::new();
        loop {
            let msgs = srv.close_round().unwrap();
            stored.push(srv.to_bytes().unwrap());
            if msgs.is_empty() {
                return (cfg, srv, stored);
            }
            for (id, msg) in msgs {
                let answer = clients[id as usize].handle(msg, &mut rng).unwrap();
                srv.receive(id, answer).unwrap();
            }
        }
    }

    #[test]
    fn a_completed_state_keeps_its_sets_and_awaits_nobody() {
        let (cfg, srv, stored) = completed();
        assert_eq!(srv.output().unwrap().included, vec![0, 1, 2, 3]);
        assert!(srv.awaited().is_empty() && srv.received().is_empty());
        let done = stored.last().unwrap();
        // Round 4, completed; asked U3, received nobody, S2, U3 (4 clients: one byte
        // per set, most significant bit first).
        assert_eq!(&done[34..40], &[4, 1, 0xf0, 0x00, 0xf0, 0xf0]);
        let back = Server::from_bytes(Arc::clone(&cfg), done).unwrap();
        assert_eq!(back.output(), srv.output());
        assert_eq!(&back.to_bytes().unwrap(), done);
        // Someone received after the close, U3 not inside S2, or another round: no
        // completed server holds these.
        for (at, byte) in [(37, 0x80), (38, 0x70), (34, 2)] {
            let mut x = done.clone();
            x[at] = byte;
            let e = Server::from_bytes(Arc::clone(&cfg), &x).unwrap_err();
            assert!(
                matches!(e, Error::Encoding(EncodingError::InvalidTag { .. })),
                "{e:?}"
            );
        }
    }

    #[test]
    fn sets_that_no_round_0_server_holds_are_refused() {
        let cfg = config();
        let fresh = Server::new(Arc::clone(&cfg)).to_bytes().unwrap();
        assert_eq!(with_set(&cfg, 0, &[0, 1, 2, 3]), fresh);
        for (index, ids) in [(0, &[0, 1, 2][..]), (1, &[1]), (2, &[0]), (3, &[2])] {
            let e = Server::from_bytes(Arc::clone(&cfg), &with_set(&cfg, index, ids)).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Encoding(EncodingError::InvalidTag { found: 0, .. })
                ),
                "{e:?}"
            );
        }
    }
}
