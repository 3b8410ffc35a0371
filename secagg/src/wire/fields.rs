//! Encodings of the fields messages are built from: client ids and id sets, scalars
//! and shares, X25519 public keys, Ed25519 signatures and verifying keys, and sealed
//! (AES-GCM) blobs. Each reader checks canonical form, so every value has exactly one
//! encoding.

use ed25519_dalek::{Signature, VerifyingKey};
use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use crate::crypto::aead::OVERHEAD;
use crate::crypto::keys::{PublicKey, KEY_LEN};
use crate::crypto::shamir::{eval_point, Share, SCALAR_LEN};
use crate::error::{EncodingError, Error, Result};
use crate::ids::ClientId;

/// Length of an encoded Ed25519 signature (`R || s`).
pub const SIGNATURE_LEN: usize = 64;

/// Length of an encoded Ed25519 verifying key.
pub const VERIFYING_KEY_LEN: usize = 32;

/// Length of an encoded client id.
pub const ID_LEN: usize = 4;

/// Writes a client id as a big-endian `u32`.
pub fn write_id(w: &mut Writer, id: ClientId) {
    w.u32(id);
}

/// Reads a client id and checks it is below `n` ([`EncodingError::ClientIdOutOfRange`]).
pub fn read_id(r: &mut Reader<'_>, what: &'static str, n: usize) -> Result<ClientId> {
    let id = r.u32(what)?;
    check_id(what, id, n)?;
    Ok(id)
}

/// Fails with [`EncodingError::ClientIdOutOfRange`] unless `id < n`.
pub fn check_id(what: &'static str, id: ClientId, n: usize) -> Result<()> {
    if u64::from(id) < n as u64 {
        Ok(())
    } else {
        Err(Error::Encoding(EncodingError::ClientIdOutOfRange {
            what,
            id,
            n,
        }))
    }
}

/// Fails with [`EncodingError::UnsortedIds`] unless `ids` is strictly ascending.
pub fn check_ascending(what: &'static str, ids: impl IntoIterator<Item = ClientId>) -> Result<()> {
    let mut prev: Option<ClientId> = None;
    for (index, id) in ids.into_iter().enumerate() {
        if prev.is_some_and(|p| id <= p) {
            return Err(Error::Encoding(EncodingError::UnsortedIds { what, index }));
        }
        prev = Some(id);
    }
    Ok(())
}

/// Bytes of an id set over `n` clients: `ceil(n / 8)`.
pub fn id_set_len(n: usize) -> usize {
    n.div_ceil(8)
}

/// Writes a set of client ids as a bitmap of [`id_set_len`]`(n)` bytes: bit `i`, counted
/// from the most significant bit of the first byte, is set when client `i` is in the
/// set; the padding bits of the last byte are zero.
///
/// # Errors [`EncodingError::ClientIdOutOfRange`] for an id `>= n`;
/// [`EncodingError::UnsortedIds`] unless `ids` is strictly ascending (so that decoding
/// gives back the same list).
pub fn write_id_set(w: &mut Writer, what: &'static str, n: usize, ids: &[ClientId]) -> Result<()> {
    check_ascending(what, ids.iter().copied())?;
    for &id in ids {
        check_id(what, id, n)?;
    }
    let out = w.extend_zeroed(id_set_len(n));
    for &id in ids {
        let i = id as usize;
        if let Some(b) = out.get_mut(i / 8) {
            *b |= 0x80 >> (i % 8);
        }
    }
    Ok(())
}

/// Reads an id set over `n` clients (see [`write_id_set`]), ascending.
///
/// # Errors [`EncodingError::Truncated`]; [`EncodingError::NonZeroPadding`] when a bit at
/// or past `n` is set.
pub fn read_id_set(r: &mut Reader<'_>, what: &'static str, n: usize) -> Result<Vec<ClientId>> {
    let bytes = r.read_exact(what, id_set_len(n))?;
    let set: usize = bytes.iter().map(|b| b.count_ones() as usize).sum();
    let mut ids = Vec::with_capacity(set.min(n));
    for (j, &b) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if b & (0x80 >> bit) != 0 {
                let i = j * 8 + bit;
                if i >= n {
                    return Err(Error::Encoding(EncodingError::NonZeroPadding { what }));
                }
                let id = ClientId::try_from(i)
                    .map_err(|_| Error::Encoding(EncodingError::NonZeroPadding { what }))?;
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Writes an X25519 public key (32 bytes, the little-endian u-coordinate).
pub fn write_public_key(w: &mut Writer, pk: &PublicKey) {
    w.bytes(pk.as_bytes());
}

/// Reads an X25519 public key, which must be canonical: bit 255 clear and the value
/// below 2^255 - 19 ([`EncodingError::NonCanonicalPublicKey`]). RFC 7748 asks X25519 to accept
/// non-canonical inputs, but our encoders never produce them, and refusing them here
/// means one key has one encoding, so duplicate-key checks on bytes cannot be dodged.
pub fn read_public_key(r: &mut Reader<'_>) -> Result<PublicKey> {
    let b: [u8; KEY_LEN] = r.array("x25519 public key")?;
    if !is_canonical_u(&b) {
        return Err(Error::Encoding(EncodingError::NonCanonicalPublicKey));
    }
    Ok(PublicKey::from_bytes(b))
}

/// Whether 32 little-endian bytes are below p = 2^255 - 19 (so bit 255 is clear).
pub fn is_canonical_u(b: &[u8; KEY_LEN]) -> bool {
    // p = 0x7fff…ffed: a value >= p with bit 255 clear is 0x7fff…ff(ed..=ff).
    let top = b[KEY_LEN - 1];
    if top & 0x80 != 0 {
        return false;
    }
    !(top == 0x7f && b[1..KEY_LEN - 1].iter().all(|&x| x == 0xff) && b[0] >= 0xed)
}

/// Writes an Ed25519 signature (64 bytes, `R || s`).
pub fn write_signature(w: &mut Writer, sig: &Signature) {
    w.bytes(&sig.to_bytes());
}

/// Reads an Ed25519 signature whose `s` half is a canonical scalar below the group
/// order ([`EncodingError::NonCanonicalScalar`]; verification would refuse it anyway). `R` is
/// checked when the signature is verified.
pub fn read_signature(r: &mut Reader<'_>) -> Result<Signature> {
    let b: [u8; SIGNATURE_LEN] = r.array("ed25519 signature")?;
    let mut s = [0u8; 32];
    s.copy_from_slice(&b[32..]);
    if bool::from(curve25519_dalek::Scalar::from_canonical_bytes(s).is_none()) {
        return Err(Error::Encoding(EncodingError::NonCanonicalScalar));
    }
    Ok(Signature::from_bytes(&b))
}

/// Writes an Ed25519 verifying key (32 bytes, compressed Edwards point).
pub fn write_verifying_key(w: &mut Writer, vk: &VerifyingKey) {
    w.bytes(vk.as_bytes());
}

/// Reads an Ed25519 verifying key that decompresses to a curve point
/// ([`EncodingError::InvalidVerifyingKey`]). Weak (small-order) keys decode; configurations
/// refuse them.
pub fn read_verifying_key(r: &mut Reader<'_>) -> Result<VerifyingKey> {
    let b: [u8; VERIFYING_KEY_LEN] = r.array("ed25519 verifying key")?;
    VerifyingKey::from_bytes(&b).map_err(|_| Error::Encoding(EncodingError::InvalidVerifyingKey))
}

/// Writes a share's value (32 bytes, canonical little-endian scalar). The point is not
/// written: it is always the sender's `id + 1`, known from the transport.
pub fn write_share_value(w: &mut Writer, share: &Share) {
    w.bytes(&share.y_bytes()[..]);
}

/// Reads a share value sent by client `from` (so its point is `from + 1`), which must
/// be a canonical scalar ([`EncodingError::NonCanonicalScalar`]).
pub fn read_share_value(r: &mut Reader<'_>, from: ClientId) -> Result<Share> {
    let y: Zeroizing<[u8; SCALAR_LEN]> = Zeroizing::new(r.array("share value")?);
    Share::from_bytes(eval_point(from), &y)
}

/// Writes a sealed blob (`nonce || ciphertext || tag`) behind a big-endian `u16`
/// length.
///
/// # Errors
/// [`EncodingError::LengthTooLarge`] above `max`; [`EncodingError::LengthTooSmall`] below the AEAD
/// overhead (28 bytes).
pub fn write_sealed(w: &mut Writer, what: &'static str, max: usize, blob: &[u8]) -> Result<()> {
    check_sealed_len(what, max, blob.len())?;
    w.length_u16(what, blob.len())?;
    w.bytes(blob);
    Ok(())
}

/// Reads a sealed blob of `OVERHEAD..=max` bytes behind a `u16` length.
pub fn read_sealed(r: &mut Reader<'_>, what: &'static str, max: usize) -> Result<Vec<u8>> {
    let len = r.length_u16(what, OVERHEAD, max)?;
    Ok(r.read_exact(what, len)?.to_vec())
}

fn check_sealed_len(what: &'static str, max: usize, len: usize) -> Result<()> {
    if len > max {
        return Err(Error::Encoding(EncodingError::LengthTooLarge {
            what,
            max: max as u64,
            found: len as u64,
        }));
    }
    if len < OVERHEAD {
        return Err(Error::Encoding(EncodingError::LengthTooSmall {
            what,
            min: OVERHEAD as u64,
            found: len as u64,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rng::seeded_rng;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    fn reader_of(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        f(&mut w);
        w.into_bytes()
    }

    #[test]
    fn ids() {
        let b = reader_of(|w| write_id(w, 0x0102_0304));
        assert_eq!(b, [1, 2, 3, 4]);
        assert_eq!(
            read_id(&mut Reader::new(&b), "id", 0x0102_0305).unwrap(),
            0x0102_0304
        );
        assert_eq!(
            read_id(&mut Reader::new(&b), "id", 0x0102_0304),
            Err(Error::Encoding(EncodingError::ClientIdOutOfRange {
                what: "id",
                id: 0x0102_0304,
                n: 0x0102_0304
            }))
        );
        check_ascending("l", [1, 2, 5]).unwrap();
        check_ascending("l", []).unwrap();
        assert_eq!(
            check_ascending("l", [1, 2, 2]),
            Err(Error::Encoding(EncodingError::UnsortedIds {
                what: "l",
                index: 2
            }))
        );
        assert_eq!(
            check_ascending("l", [3, 1]),
            Err(Error::Encoding(EncodingError::UnsortedIds {
                what: "l",
                index: 1
            }))
        );
    }

    #[test]
    fn id_sets() {
        // n = 10: two bytes; clients 0, 7, 9 -> 1000_0001 01_000000.
        let b = reader_of(|w| write_id_set(w, "s", 10, &[0, 7, 9]).unwrap());
        assert_eq!(b, [0x81, 0x40]);
        assert_eq!(
            read_id_set(&mut Reader::new(&b), "s", 10).unwrap(),
            vec![0, 7, 9]
        );
        // Bit 10 is padding.
        assert_eq!(
            read_id_set(&mut Reader::new(&[0x81, 0x60]), "s", 10),
            Err(Error::Encoding(EncodingError::NonZeroPadding { what: "s" }))
        );
        assert!(matches!(
            read_id_set(&mut Reader::new(&[0x81]), "s", 10),
            Err(Error::Encoding(EncodingError::Truncated { .. }))
        ));
        let mut w = Writer::new();
        assert_eq!(
            write_id_set(&mut w, "s", 10, &[0, 10]),
            Err(Error::Encoding(EncodingError::ClientIdOutOfRange {
                what: "s",
                id: 10,
                n: 10
            }))
        );
        assert_eq!(
            write_id_set(&mut w, "s", 10, &[3, 3]),
            Err(Error::Encoding(EncodingError::UnsortedIds {
                what: "s",
                index: 1
            }))
        );
        assert!(w.is_empty());
        assert_eq!(id_set_len(0), 0);
        assert_eq!(id_set_len(8), 1);
        assert_eq!(id_set_len(1000), 125);
    }

    proptest! {
        #[test]
        fn id_sets_round_trip(n in 0usize..100, picks in proptest::collection::btree_set(0u32..100, 0..50)) {
            let ids: Vec<ClientId> = picks.into_iter().filter(|&i| (i as usize) < n).collect();
            let b = reader_of(|w| write_id_set(w, "s", n, &ids).unwrap());
            prop_assert_eq!(b.len(), id_set_len(n));
            let mut r = Reader::new(&b);
            prop_assert_eq!(read_id_set(&mut r, "s", n).unwrap(), ids);
            r.finish().unwrap();
        }
    }

    #[test]
    fn public_keys_must_be_canonical() {
        let mut p = [0xffu8; 32];
        p[31] = 0x7f;
        p[0] = 0xec; // p - 1: the largest canonical value
        assert!(read_public_key(&mut Reader::new(&p)).is_ok());
        p[0] = 0xed; // p itself
        assert_eq!(
            read_public_key(&mut Reader::new(&p)),
            Err(Error::Encoding(EncodingError::NonCanonicalPublicKey))
        );
        let mut hi = [0u8; 32];
        hi[31] = 0x80;
        assert_eq!(
            read_public_key(&mut Reader::new(&hi)),
            Err(Error::Encoding(EncodingError::NonCanonicalPublicKey))
        );
        // Every key our keygen makes is canonical and round-trips.
        let mut rng = seeded_rng([5; 32]);
        for _ in 0..50 {
            let pk = crate::crypto::keys::SecretKey::random(&mut rng).public_key();
            let b = reader_of(|w| write_public_key(w, &pk));
            assert_eq!(read_public_key(&mut Reader::new(&b)).unwrap(), pk);
        }
        assert!(matches!(
            read_public_key(&mut Reader::new(&[0; 31])),
            Err(Error::Encoding(EncodingError::Truncated { .. }))
        ));
    }

    #[test]
    fn signatures_and_verifying_keys() {
        let sk = SigningKey::from_bytes(&[7; 32]);
        let sig = sk.sign(b"msg");
        let b = reader_of(|w| write_signature(w, &sig));
        assert_eq!(b.len(), SIGNATURE_LEN);
        assert_eq!(read_signature(&mut Reader::new(&b)).unwrap(), sig);
        // s + ℓ is the same scalar mod ℓ, but not canonical.
        let mut bad = b.clone();
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l: [u8; 32] =
            hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                .unwrap()
                .try_into()
                .unwrap();
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(bad[32 + i]) + u16::from(l[i]) + carry;
            bad[32 + i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(
            read_signature(&mut Reader::new(&bad)),
            Err(Error::Encoding(EncodingError::NonCanonicalScalar))
        );
        let vk = sk.verifying_key();
        let b = reader_of(|w| write_verifying_key(w, &vk));
        assert_eq!(read_verifying_key(&mut Reader::new(&b)).unwrap(), vk);
        // y = 2 is not the y-coordinate of any point on edwards25519.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(
            read_verifying_key(&mut Reader::new(&not_a_point)),
            Err(Error::Encoding(EncodingError::InvalidVerifyingKey))
        );
    }

    #[test]
    fn share_values() {
        let mut rng = seeded_rng([9; 32]);
        let secret = crate::crypto::shamir::SecretScalar::random(&mut rng);
        let shares =
            crate::crypto::shamir::split(&secret, 2, &[eval_point(4), eval_point(5)], &mut rng)
                .unwrap();
        let b = reader_of(|w| write_share_value(w, &shares[0]));
        let back = read_share_value(&mut Reader::new(&b), 4).unwrap();
        assert_eq!(back.x(), 5);
        assert_eq!(*back.y_bytes(), *shares[0].y_bytes());
        assert_eq!(
            read_share_value(&mut Reader::new(&[0xff; 32]), 4).unwrap_err(),
            Error::Encoding(EncodingError::NonCanonicalScalar)
        );
    }

    #[test]
    fn sealed_blobs() {
        let blob = vec![0xaa; 100];
        let b = reader_of(|w| write_sealed(w, "blob", 100, &blob).unwrap());
        assert_eq!(&b[..2], &[0, 100]);
        let mut r = Reader::new(&b);
        assert_eq!(read_sealed(&mut r, "blob", 100).unwrap(), blob);
        r.finish().unwrap();
        assert_eq!(
            read_sealed(&mut Reader::new(&b), "blob", 99),
            Err(Error::Encoding(EncodingError::LengthTooLarge {
                what: "blob",
                max: 99,
                found: 100
            }))
        );
        let mut w = Writer::new();
        assert!(matches!(
            write_sealed(&mut w, "blob", 99, &blob),
            Err(Error::Encoding(EncodingError::LengthTooLarge { .. }))
        ));
        assert!(matches!(
            write_sealed(&mut w, "blob", 99, &[0; 27]),
            Err(Error::Encoding(EncodingError::LengthTooSmall {
                min: 28,
                ..
            }))
        ));
        assert!(matches!(
            read_sealed(&mut Reader::new(&[0, 27]), "blob", 99),
            Err(Error::Encoding(EncodingError::LengthTooSmall { .. }))
        ));
        assert!(matches!(
            read_sealed(&mut Reader::new(&[0, 30, 1]), "blob", 99),
            Err(Error::Encoding(EncodingError::Truncated { .. }))
        ));
    }
}
