//! The byte strings clients sign in the malicious model (layouts in
//! `docs/protocol.md`). Each starts with its own label, a zero byte and the protocol
//! version, then the session id and the round number, so a signature for one purpose,
//! session or round never verifies for another.

use crate::crypto::keys::PublicKey;
use crate::ids::{ClientId, Round, SessionId, PROTOCOL_VERSION};

/// Label of the key-advertisement signature.
pub const ADVERTISE_LABEL: &[u8] = b"secagg/advertise-keys";
/// Label of the consistency-check signature.
pub const CONSISTENCY_LABEL: &[u8] = b"secagg/consistency";

fn header(label: &[u8], sid: &SessionId, round: Round, extra: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() + 3 + sid.len() + extra);
    out.extend_from_slice(label);
    out.push(0);
    out.push(PROTOCOL_VERSION);
    out.extend_from_slice(sid);
    out.push(round.number());
    out
}

/// What client `id` signs in round 0:
/// `label || 0x00 || version || sid || 0x00 (round) || id u32be || enc_pk || mask_pk`.
pub fn advertise(
    sid: &SessionId,
    id: ClientId,
    enc_pk: &PublicKey,
    mask_pk: &PublicKey,
) -> Vec<u8> {
    let mut out = header(ADVERTISE_LABEL, sid, Round::AdvertiseKeys, 4 + 64);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(enc_pk.as_bytes());
    out.extend_from_slice(mask_pk.as_bytes());
    out
}

/// What every client in `U3` signs in round 3, for the sorted survivor set:
/// `label || 0x00 || version || sid || 0x03 (round) || count u32be || ids u32be…`.
pub fn consistency(sid: &SessionId, sorted_survivors: &[ClientId]) -> Vec<u8> {
    let mut out = header(
        CONSISTENCY_LABEL,
        sid,
        Round::ConsistencyCheck,
        4 + 4 * sorted_survivors.len(),
    );
    out.extend_from_slice(&(sorted_survivors.len() as u32).to_be_bytes());
    for id in sorted_survivors {
        out.extend_from_slice(&id.to_be_bytes());
    }
    out
}
