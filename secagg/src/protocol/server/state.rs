//! The server's state as bytes, so that a driver can store it between rounds
//! (`docs/wire-format.md`, "Stored state"). It lives here, as a child of the server
//! module, because it reads the server's private fields; the field encodings are the
//! wire format's.

use std::collections::HashMap;
use std::sync::Arc;

use super::{ids, Config, Output, Server, Status};
use crate::crypto::aead::OVERHEAD;
use crate::crypto::ClientId;
use crate::error::{EncodingError, Error, Misuse, Result};
use crate::protocol::messages::{RevealedShare, Round, SealedShares};
use crate::protocol::server::SEALED_SHARES_LEN;
use crate::protocol::transcript;
use crate::ring::RingVec;
use crate::wire::fields::{self, ID_LEN};
use crate::wire::messages::{self as m, msg_type};
use crate::wire::{pack, Reader, Writer};

impl Server {
    /// The server's state as bytes: `01 f1`, the session id, the round and status, the
    /// per-client flags, and whatever the current round still needs (advertised keys,
    /// sealed shares awaiting routing, the running sums, consistency signatures,
    /// revealed shares), or the output once completed. Restore it with
    /// [`Server::from_bytes`] and the same configuration.
    ///
    /// # Errors
    /// [`Misuse::AlreadyAborted`]: an aborted server has nothing worth storing.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let cfg = &*self.config;
        let n = cfg.n();
        let mut w = Writer::new();
        m::header(&mut w, msg_type::SERVER_STATE);
        w.bytes(cfg.session_id());
        w.u8(self.round.number());
        let output = match &self.status {
            Status::Running => None,
            Status::Completed(o) => Some(o),
            Status::Aborted(_) => return Err(Error::Misuse(Misuse::AlreadyAborted)),
        };
        w.u8(u8::from(output.is_some()));
        for (what, flags) in [
            ("expected", &self.expected),
            ("received", &self.received),
            ("shared", &self.shared),
            ("included", &self.included),
        ] {
            fields::write_id_set(&mut w, what, n, &ids(flags))?;
        }
        if let Some(o) = output {
            fields::write_id_set(&mut w, "output included", n, &o.included)?;
            write_sums(&mut w, cfg, &o.sums)?;
            return Ok(w.into_bytes());
        }
        // Advertised keys of the clients still holding some.
        let with_keys: Vec<ClientId> = (0..n as ClientId)
            .filter(|&i| self.keys.get(i as usize).is_some_and(Option::is_some))
            .collect();
        fields::write_id_set(&mut w, "keys", n, &with_keys)?;
        for &i in &with_keys {
            if let Some(Some(k)) = self.keys.get(i as usize) {
                m::write_advertise(&mut w, cfg, k)?;
            }
        }
        if self.round == Round::ShareKeys {
            write_lists(&mut w, n, &self.sealed, |w, s: &SealedShares| {
                fields::write_id(w, s.to);
                fields::write_sealed(w, "sealed shares", SEALED_SHARES_LEN, &s.ciphertext)
            })?;
        }
        if self.round >= Round::MaskedInputCollection {
            write_sums(&mut w, cfg, &self.sums)?;
        }
        if self.round == Round::ConsistencyCheck {
            let signed: Vec<ClientId> = (0..n as ClientId)
                .filter(|&i| self.signatures.get(i as usize).is_some_and(Option::is_some))
                .collect();
            fields::write_id_set(&mut w, "signatures", n, &signed)?;
            for &i in &signed {
                if let Some(Some(sig)) = self.signatures.get(i as usize) {
                    fields::write_signature(&mut w, sig);
                }
            }
        }
        if self.round == Round::Unmasking {
            write_lists(&mut w, n, &self.revealed, |w, s: &RevealedShare| {
                fields::write_id(w, s.owner);
                m::write_share_kind(w, s.kind);
                fields::write_share_value(w, &s.share);
                Ok(())
            })?;
        }
        Ok(w.into_bytes())
    }

    /// Restores a server stored with [`Server::to_bytes`] under `config`.
    ///
    /// # Errors
    /// [`Misuse::StateSessionMismatch`] for a state of another session; the decoding
    /// errors of the wire format (kind [`ErrorKind::Encoding`](crate::ErrorKind)) for
    /// bytes that are not a stored server state: truncated, trailing, unknown version,
    /// type, round or status, out-of-range or unsorted ids, non-canonical values,
    /// lists longer than the largest neighbourhood.
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
        let mut flags = || -> Result<Vec<bool>> {
            let set = fields::read_id_set(&mut r, "client flags", n)?;
            let mut f = vec![false; n];
            for id in set {
                if let Some(x) = f.get_mut(id as usize) {
                    *x = true;
                }
            }
            Ok(f)
        };
        let expected = flags()?;
        let received = flags()?;
        let shared = flags()?;
        let included = flags()?;
        let mut server = Server {
            round,
            status: Status::Running,
            expected,
            received,
            keys: vec![None; n],
            key_owner: HashMap::new(),
            sealed: vec![Vec::new(); n],
            shared,
            sums: zero_sums(cfg),
            included,
            survivor_transcript: Vec::new(),
            signatures: vec![None; n],
            revealed: vec![Vec::new(); n],
            config: Arc::clone(&config),
        };
        if completed {
            let included = fields::read_id_set(&mut r, "output included", n)?;
            let sums = read_sums(&mut r, cfg)?;
            r.finish()?;
            server.status = Status::Completed(Output { sums, included });
            server.release();
            return Ok(server);
        }
        for id in fields::read_id_set(&mut r, "keys", n)? {
            let keys = m::read_advertise(&mut r, cfg)?;
            if round == Round::AdvertiseKeys {
                server.key_owner.insert(keys.enc_pk.to_bytes(), id);
                server.key_owner.insert(keys.mask_pk.to_bytes(), id);
            }
            if let Some(slot) = server.keys.get_mut(id as usize) {
                *slot = Some(keys);
            }
        }
        if round == Round::ShareKeys {
            let min = ID_LEN + 2 + OVERHEAD;
            read_lists(
                &mut r,
                n,
                k,
                min,
                &mut server.sealed,
                |r, _, index, prev| {
                    let to = fields::read_id(r, "sealed shares entries", n)?;
                    m::ascending("sealed shares entries", prev, to, index)?;
                    let ciphertext = fields::read_sealed(r, "sealed shares", SEALED_SHARES_LEN)?;
                    Ok(SealedShares { to, ciphertext })
                },
            )?;
        }
        if round >= Round::MaskedInputCollection {
            server.sums = read_sums(&mut r, cfg)?;
        }
        if round == Round::ConsistencyCheck {
            for id in fields::read_id_set(&mut r, "signatures", n)? {
                let sig = fields::read_signature(&mut r)?;
                if let Some(slot) = server.signatures.get_mut(id as usize) {
                    *slot = Some(sig);
                }
            }
            if cfg.is_malicious() {
                server.survivor_transcript =
                    transcript::consistency(cfg.session_id(), &ids(&server.included));
            }
        }
        if round == Round::Unmasking {
            let min = ID_LEN + 1 + 32;
            read_lists(
                &mut r,
                n,
                k,
                min,
                &mut server.revealed,
                |r, from, index, prev| {
                    let owner = fields::read_id(r, "revealed shares", n)?;
                    m::ascending("revealed shares", prev, owner, index)?;
                    let kind = m::read_share_kind(r)?;
                    let share = fields::read_share_value(r, from)?;
                    Ok(RevealedShare { owner, kind, share })
                },
            )?;
        }
        r.finish()?;
        Ok(server)
    }
}

fn zero_sums(cfg: &Config) -> Vec<RingVec> {
    cfg.vectors()
        .iter()
        .map(|v| RingVec::zeros(&v.ring, v.dim))
        .collect()
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
    lists: &[Vec<T>],
    mut entry: impl FnMut(&mut Writer, &T) -> Result<()>,
) -> Result<()> {
    let owners: Vec<ClientId> = (0..n as ClientId)
        .filter(|&i| lists.get(i as usize).is_some_and(|l| !l.is_empty()))
        .collect();
    fields::write_id_set(w, "list owners", n, &owners)?;
    for &i in &owners {
        let list = lists.get(i as usize).map(Vec::as_slice).unwrap_or_default();
        w.length_u32("list entries", list.len())?;
        for e in list {
            entry(w, e)?;
        }
    }
    Ok(())
}

/// Reads what [`write_lists`] wrote into `lists` (one slot per client); `entry` gets
/// the list's owner, the entry's index and the previous id of the list.
fn read_lists<T>(
    r: &mut Reader<'_>,
    n: usize,
    max: usize,
    min_entry: usize,
    lists: &mut [Vec<T>],
    mut entry: impl FnMut(&mut Reader<'_>, ClientId, usize, &mut Option<ClientId>) -> Result<T>,
) -> Result<()> {
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
        if let Some(slot) = lists.get_mut(owner as usize) {
            *slot = out;
        }
    }
    Ok(())
}
