//! The client's state as bytes, so that a driver can store it between rounds
//! (`docs/wire-format.md`, "Stored state"). It lives here, as a child of the client
//! module, because it reads the states' private fields; the field encodings are the
//! wire format's.
//!
//! The encoding holds the client's secrets (its X25519 secret keys, its self-mask
//! secret, its signing key, its input, the pairwise seeds and the shares it holds), so
//! it is returned in a [`Zeroizing`] buffer sized exactly up front (no reallocation
//! leaves a copy behind) and must be stored as a secret. A driver must store the
//! [`Client::Completed`] state before it sends the `UnmaskShares` and must never restore
//! an earlier state (`docs/protocol.md`, "Storing state between rounds").

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::{
    Client, Completed, Held, Identity, InputSent, KeysAdvertised, Neighbor, SharesSent,
    SurvivorsSigned,
};
use crate::crypto::kdf::{MaskSeed, ShareKey};
use crate::crypto::keys::{SecretKey, SharedSecret};
use crate::crypto::shamir::{SecretScalar, SCALAR_LEN};
use crate::error::{EncodingError, Error, Misuse, Result};
use crate::ids::ClientId;
use crate::protocol::config::Config;
use crate::protocol::messages::encoding::{self as m, msg_type};
use crate::ring::RingVec;
use crate::wire::fields::{self, ID_LEN};
use crate::wire::{pack, Reader, Writer};

const KEYS_ADVERTISED: u8 = 0;
const SHARES_SENT: u8 = 1;
const INPUT_SENT: u8 = 2;
const SURVIVORS_SIGNED: u8 = 3;
const COMPLETED: u8 = 4;
/// KeysAdvertised of a client started without its input (`Client::new_deferred`) and
/// not given it yet: the same fields less the inputs.
const KEYS_ADVERTISED_NO_INPUT: u8 = 5;
/// SharesSent without the input, likewise.
const SHARES_SENT_NO_INPUT: u8 = 6;

const SEED_LEN: usize = 16;
const KEY_LEN: usize = 32;

impl Client {
    /// The client's state as bytes (a secret: see the module docs): `02 f0` (the protocol version, then the type), the state,
    /// then (unless completed) the session id, the client id and signing key, then what
    /// the state holds. Restore
    /// it with [`Client::from_bytes`] and the same configuration.
    ///
    /// # Errors
    /// [`Misuse::AlreadyAborted`]: an aborted client has nothing worth storing.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let len = self.stored_len()?;
        let mut w = Writer::with_capacity(len);
        m::header(&mut w, msg_type::CLIENT_STATE);
        let (tag, me) = match self {
            Client::KeysAdvertised(s) if s.inputs.is_empty() => {
                (KEYS_ADVERTISED_NO_INPUT, Some(&s.me))
            }
            Client::KeysAdvertised(s) => (KEYS_ADVERTISED, Some(&s.me)),
            Client::SharesSent(s) if s.inputs.is_empty() => (SHARES_SENT_NO_INPUT, Some(&s.me)),
            Client::SharesSent(s) => (SHARES_SENT, Some(&s.me)),
            Client::InputSent(s) => (INPUT_SENT, Some(&s.me)),
            Client::SurvivorsSigned(s) => (SURVIVORS_SIGNED, Some(&s.me)),
            Client::Completed(_) => (COMPLETED, None),
            Client::Aborted(_) => return Err(Error::Misuse(Misuse::AlreadyAborted)),
        };
        w.u8(tag);
        // A completed client has no identity (or session) left: it refuses everything.
        if let Some(me) = me {
            w.bytes(me.config.session_id());
            fields::write_id(&mut w, me.id);
            if let Some(sk) = &me.signing_key {
                w.bytes(&Zeroizing::new(sk.to_bytes())[..]);
            }
        }
        match self {
            Client::KeysAdvertised(s) => {
                write_inputs(&mut w, &s.me.config, &s.inputs)?;
                w.bytes(&s.enc_sk.to_scalar()?.to_bytes()[..]);
                w.bytes(&s.mask_sk.to_scalar()?.to_bytes()[..]);
                w.bytes(&s.self_secret.to_bytes()[..]);
                m::write_advertise(&mut w, &s.me.config, &s.advertised)?;
            }
            Client::SharesSent(s) => {
                write_inputs(&mut w, &s.me.config, &s.inputs)?;
                w.bytes(&s.self_secret.to_bytes()[..]);
                w.length_u32("neighbors", s.neighbors.len())?;
                for nb in &s.neighbors {
                    fields::write_id(&mut w, nb.id);
                    w.bytes(nb.key_in.as_bytes());
                    w.bytes(nb.mask_shared.as_bytes());
                    for seed in &nb.seeds {
                        w.bytes(seed.as_bytes());
                    }
                }
            }
            Client::InputSent(s) => write_held(&mut w, &s.held)?,
            Client::SurvivorsSigned(s) => {
                write_held(&mut w, &s.held)?;
                fields::write_id_set(&mut w, "signed survivors", s.me.config.n(), &s.signed)?;
            }
            Client::Completed(c) => {
                w.length_u32("revealed", c.revealed.len())?;
                for &(owner, kind) in &c.revealed {
                    fields::write_id(&mut w, owner);
                    m::write_share_kind(&mut w, kind);
                }
            }
            Client::Aborted(_) => return Err(Error::Misuse(Misuse::AlreadyAborted)),
        }
        Ok(w.into_zeroizing())
    }

    /// The exact length of [`Client::to_bytes`]'s output.
    fn stored_len(&self) -> Result<usize> {
        let me = |me: &Identity| 32 + ID_LEN + if me.signing_key.is_some() { KEY_LEN } else { 0 };
        let head = 2 + 1;
        // The packed inputs, absent while a deferred client has none.
        let inputs = |me: &Identity, inputs: &[RingVec]| -> Result<usize> {
            if inputs.is_empty() {
                Ok(0)
            } else {
                m::masked_input_body_len(&me.config)
            }
        };
        Ok(head
            + match self {
                Client::KeysAdvertised(s) => {
                    me(&s.me)
                        + inputs(&s.me, &s.inputs)?
                        + 3 * SCALAR_LEN
                        + m::advertise_len(&s.me.config)
                }
                Client::SharesSent(s) => {
                    me(&s.me)
                        + inputs(&s.me, &s.inputs)?
                        + SCALAR_LEN
                        + 4
                        + s.neighbors
                            .iter()
                            .map(|nb| ID_LEN + 2 * KEY_LEN + SEED_LEN * nb.seeds.len())
                            .sum::<usize>()
                }
                Client::InputSent(s) => me(&s.me) + 4 + s.held.len() * HELD_LEN,
                Client::SurvivorsSigned(s) => {
                    me(&s.me) + 4 + s.held.len() * HELD_LEN + fields::id_set_len(s.me.config.n())
                }
                Client::Completed(c) => 4 + c.revealed.len() * (ID_LEN + 1),
                Client::Aborted(_) => 0,
            })
    }

    /// Restores a client stored with [`Client::to_bytes`] under `config`.
    ///
    /// # Errors
    /// [`Misuse::StateSessionMismatch`] for a state of another session;
    /// [`Misuse::SigningKeyMismatch`] when the stored signing key is not the one the
    /// configuration lists for the client; the decoding errors of the wire format (kind
    /// [`ErrorKind::Encoding`](crate::ErrorKind)) for bytes that are not a stored client
    /// state.
    pub fn from_bytes(config: Arc<Config>, bytes: &[u8]) -> Result<Client> {
        let client = Self::read_stored(config, bytes);
        // Parsing left secrets in dead stack bytes (see `scrub_stack`).
        crate::crypto::scrub_stack();
        client
    }

    fn read_stored(config: Arc<Config>, bytes: &[u8]) -> Result<Client> {
        let cfg = &*config;
        let n = cfg.n();
        let k = cfg.graph().max_degree();
        let mut r = Reader::new(bytes);
        match m::read_header(&mut r)? {
            msg_type::CLIENT_STATE => {}
            found => return Err(Error::Encoding(EncodingError::UnknownMessageType { found })),
        }
        let tag = r.u8("client state")?;
        if tag == COMPLETED {
            let count = r.count("revealed", k, ID_LEN + 1)?;
            let mut revealed = Vec::with_capacity(count);
            let mut prev = None;
            for index in 0..count {
                let owner = fields::read_id(&mut r, "revealed", n)?;
                m::ascending("revealed", &mut prev, owner, index)?;
                revealed.push((owner, m::read_share_kind(&mut r)?));
            }
            r.finish()?;
            return Ok(Client::Completed(Completed { revealed }));
        }
        if tag > SHARES_SENT_NO_INPUT || (tag == SURVIVORS_SIGNED && !cfg.is_malicious()) {
            return Err(Error::Encoding(EncodingError::InvalidTag {
                what: "client state",
                found: tag,
            }));
        }
        let sid: [u8; 32] = r.array("session id")?;
        if &sid != cfg.session_id() {
            return Err(Error::Misuse(Misuse::StateSessionMismatch));
        }
        let id = fields::read_id(&mut r, "client id", n)?;
        let signing_key = if cfg.is_malicious() {
            let b = Zeroizing::new(r.array::<KEY_LEN>("signing key")?);
            let sk = SigningKey::from_bytes(&b);
            if cfg.verifying_key(id) != Some(&sk.verifying_key()) {
                return Err(Error::Misuse(Misuse::SigningKeyMismatch { client: id }));
            }
            Some(Box::new(sk))
        } else {
            None
        };
        let me = Identity {
            config: Arc::clone(&config),
            id,
            signing_key,
        };
        let client = match tag {
            KEYS_ADVERTISED | KEYS_ADVERTISED_NO_INPUT => {
                let inputs = if tag == KEYS_ADVERTISED {
                    read_inputs(&mut r, cfg)?
                } else {
                    Vec::new()
                };
                let enc_sk = Box::new(SecretKey::from_scalar(&read_scalar(&mut r)?));
                let mask_sk = Box::new(SecretKey::from_scalar(&read_scalar(&mut r)?));
                let self_secret = Box::new(read_scalar(&mut r)?);
                let advertised = m::read_advertise(&mut r, cfg)?;
                Client::KeysAdvertised(KeysAdvertised {
                    me,
                    inputs,
                    enc_sk,
                    mask_sk,
                    self_secret,
                    advertised,
                })
            }
            SHARES_SENT | SHARES_SENT_NO_INPUT => {
                let inputs = if tag == SHARES_SENT {
                    read_inputs(&mut r, cfg)?
                } else {
                    Vec::new()
                };
                let self_secret = Box::new(read_scalar(&mut r)?);
                let seeds_per = cfg.vectors().len();
                let entry = ID_LEN + 2 * KEY_LEN + SEED_LEN * seeds_per;
                let count = r.count("neighbors", k, entry)?;
                let mut neighbors = Vec::with_capacity(count);
                let mut prev = None;
                for index in 0..count {
                    let nid = fields::read_id(&mut r, "neighbors", n)?;
                    m::ascending("neighbors", &mut prev, nid, index)?;
                    let key_in = ShareKey::from_bytes(*Zeroizing::new(r.array("share key")?));
                    let mask_shared =
                        SharedSecret::from_bytes(*Zeroizing::new(r.array("mask agreement")?));
                    let mut seeds = Vec::with_capacity(seeds_per);
                    for _ in 0..seeds_per {
                        seeds.push(MaskSeed::from_bytes(*Zeroizing::new(r.array("mask seed")?)));
                    }
                    neighbors.push(Neighbor {
                        id: nid,
                        key_in,
                        seeds,
                        mask_shared,
                    });
                }
                Client::SharesSent(SharesSent {
                    me,
                    inputs,
                    self_secret,
                    neighbors,
                })
            }
            INPUT_SENT => Client::InputSent(InputSent {
                held: read_held(&mut r, cfg, id)?,
                me,
            }),
            _ => {
                let held = read_held(&mut r, cfg, id)?;
                let signed = fields::read_id_set(&mut r, "signed survivors", n)?;
                Client::SurvivorsSigned(SurvivorsSigned { me, held, signed })
            }
        };
        r.finish()?;
        Ok(client)
    }
}

/// Bytes of one pair of held shares: the sender's id, two share values and the
/// masking-key agreement with the sender.
const HELD_LEN: usize = ID_LEN + 2 * SCALAR_LEN + KEY_LEN;

fn write_inputs(w: &mut Writer, cfg: &Config, inputs: &[RingVec]) -> Result<()> {
    for (v, spec) in inputs.iter().zip(cfg.vectors()) {
        pack::pack(w, &spec.ring, spec.dim, v)?;
    }
    Ok(())
}

fn read_inputs(r: &mut Reader<'_>, cfg: &Config) -> Result<Vec<RingVec>> {
    let need = m::masked_input_body_len(cfg)?;
    if r.remaining() < need {
        return Err(Error::Encoding(EncodingError::Truncated {
            what: "inputs",
            needed: need,
            remaining: r.remaining(),
        }));
    }
    cfg.vectors()
        .iter()
        .map(|spec| pack::unpack(r, &spec.ring, spec.dim))
        .collect()
}

fn read_scalar(r: &mut Reader<'_>) -> Result<SecretScalar> {
    let b = Zeroizing::new(r.array::<SCALAR_LEN>("secret scalar")?);
    SecretScalar::from_canonical_bytes(&b)
}

fn write_held(w: &mut Writer, held: &[Held]) -> Result<()> {
    w.length_u32("held shares", held.len())?;
    for h in held {
        fields::write_id(w, h.from);
        fields::write_share_value(w, &h.mask_key);
        fields::write_share_value(w, &h.self_mask);
        w.bytes(h.pairwise.as_bytes());
    }
    Ok(())
}

/// Shares held by client `me`: their point is `me + 1`.
fn read_held(r: &mut Reader<'_>, cfg: &Config, me: ClientId) -> Result<Vec<Held>> {
    let n = cfg.n();
    let count = r.count("held shares", cfg.graph().max_degree(), HELD_LEN)?;
    let mut held = Vec::with_capacity(count);
    let mut prev = None;
    for index in 0..count {
        let from = fields::read_id(r, "held shares", n)?;
        m::ascending("held shares", &mut prev, from, index)?;
        let mask_key = fields::read_share_value(r, me)?;
        let self_mask = fields::read_share_value(r, me)?;
        let pairwise = SharedSecret::from_bytes(*Zeroizing::new(r.array("mask agreement")?));
        held.push(Held {
            from,
            mask_key,
            self_mask,
            pairwise,
        });
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aborted_clients_are_not_stored() {
        assert_eq!(
            Client::Aborted(Error::Misuse(Misuse::AlreadyAborted))
                .to_bytes()
                .unwrap_err(),
            Error::Misuse(Misuse::AlreadyAborted)
        );
    }
}
