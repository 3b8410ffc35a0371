//! Key derivation: HKDF-SHA256 (RFC 5869) with one domain-separation label per purpose.
//!
//! Every derivation is `HKDF-SHA256(salt = none, ikm, info, L)` with
//!
//! ```text
//! info = label                 ASCII, e.g. "secagg/share-encryption"
//!     || 0x00                  label terminator
//!     || version       u8      PROTOCOL_VERSION
//!     || session_id    [u8;32]
//!     || id_a          u32 big-endian
//!     || id_b          u32 big-endian
//!     || name_len      u16 big-endian
//!     || name          name_len bytes (the vector name; empty where unused)
//! ```
//!
//! See docs/primitives.md for which ids go where for each purpose. A raw X25519 output
//! is only ever used as `ikm` here, never as a key.

use core::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::keys::SharedSecret;
use super::shamir::SecretScalar;
use crate::error::{Error, Misuse, Result};
use crate::ids::{ClientId, SessionId, PROTOCOL_VERSION};

/// The purpose of a derived key; each has its own label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The AES-256-GCM key for shares sent from `id_a` (sender) to `id_b` (receiver).
    ShareEncryption,
    /// The PRG seed of the pairwise mask between `id_a < id_b`.
    PairwiseMask,
    /// The PRG seed of client `id_a`'s self mask (`id_b = id_a`).
    SelfMask,
}

impl Purpose {
    /// The ASCII label of this purpose.
    pub const fn label(self) -> &'static [u8] {
        match self {
            Purpose::ShareEncryption => b"secagg/share-encryption",
            Purpose::PairwiseMask => b"secagg/pairwise-mask",
            Purpose::SelfMask => b"secagg/self-mask",
        }
    }
}

/// Maximum length of a vector name bound into a mask derivation.
pub const MAX_NAME_LEN: usize = u16::MAX as usize;

/// Maximum HKDF-SHA256 output length: 255 blocks of 32 bytes (RFC 5869 §2.3).
pub const MAX_HKDF_OUTPUT: usize = 255 * 32;

/// Builds the `info` string described in the module documentation. Fails with
/// [`Misuse::TooLong`] for a name longer than [`MAX_NAME_LEN`].
pub fn info(
    purpose: Purpose,
    session_id: &SessionId,
    id_a: ClientId,
    id_b: ClientId,
    name: &[u8],
) -> Result<Vec<u8>> {
    let name_len = u16::try_from(name.len()).map_err(|_| name_too_long(name))?;
    let label = purpose.label();
    let mut out = Vec::with_capacity(label.len() + 1 + 1 + 32 + 8 + 2 + name.len());
    out.extend_from_slice(label);
    out.push(0);
    out.push(PROTOCOL_VERSION);
    out.extend_from_slice(session_id);
    out.extend_from_slice(&id_a.to_be_bytes());
    out.extend_from_slice(&id_b.to_be_bytes());
    out.extend_from_slice(&name_len.to_be_bytes());
    out.extend_from_slice(name);
    Ok(out)
}

/// Plain HKDF-SHA256 (RFC 5869: extract then expand), filling `out`. `salt = None`
/// is the RFC's "not provided", i.e. 32 zero bytes (the same as an empty salt).
/// Fails with [`Misuse::TooLong`] when `out` is longer than [`MAX_HKDF_OUTPUT`].
pub fn hkdf_sha256(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    if out.len() > MAX_HKDF_OUTPUT {
        return Err(Error::Misuse(Misuse::TooLong {
            what: "hkdf-sha256 output",
            max: MAX_HKDF_OUTPUT,
            found: out.len(),
        }));
    }
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, out)
        .map_err(|_| {
            Error::Misuse(Misuse::TooLong {
                what: "hkdf-sha256 output",
                max: MAX_HKDF_OUTPUT,
                found: out.len(),
            })
        })
}

/// A 128-bit PRG seed (an AES-128 key for mask expansion). Wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MaskSeed([u8; 16]);

impl MaskSeed {
    /// Wraps 16 bytes as a seed (for test vectors and benchmarks).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The seed bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for MaskSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskSeed").finish_non_exhaustive()
    }
}

/// A 256-bit AES-GCM key for share encryption. Wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ShareKey([u8; 32]);

impl ShareKey {
    /// Wraps 32 bytes as a key (for test vectors).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareKey").finish_non_exhaustive()
    }
}

/// The key for shares sent by `sender` to `receiver`, from the X25519 agreement of
/// their share-encryption keys. Directional: the key from v to u differs from u to v.
pub fn share_key(
    shared: &SharedSecret,
    session_id: &SessionId,
    sender: ClientId,
    receiver: ClientId,
) -> ShareKey {
    let mut out = ShareKey([0; 32]);
    derive(
        shared.as_bytes(),
        Purpose::ShareEncryption,
        session_id,
        sender,
        receiver,
        b"",
        &mut out.0,
    );
    out
}

/// The seed of the pairwise mask between `u` and `v` for the named vector, from the
/// X25519 agreement of their masking keys. Symmetric: the ids enter as (min, max).
/// Fails with [`Misuse::TooLong`] for a name longer than [`MAX_NAME_LEN`].
pub fn pairwise_mask_seed(
    shared: &SharedSecret,
    session_id: &SessionId,
    u: ClientId,
    v: ClientId,
    name: &[u8],
) -> Result<MaskSeed> {
    check_name(name)?;
    let mut out = MaskSeed([0; 16]);
    derive(
        shared.as_bytes(),
        Purpose::PairwiseMask,
        session_id,
        u.min(v),
        u.max(v),
        name,
        &mut out.0,
    );
    Ok(out)
}

/// The seed of client `u`'s self mask for the named vector, from its self-mask secret
/// `b_u` (the 32-byte canonical scalar encoding is the `ikm`). Fails with
/// [`Misuse::TooLong`] for a name longer than [`MAX_NAME_LEN`].
pub fn self_mask_seed(
    b_u: &SecretScalar,
    session_id: &SessionId,
    u: ClientId,
    name: &[u8],
) -> Result<MaskSeed> {
    check_name(name)?;
    let mut out = MaskSeed([0; 16]);
    derive(
        &b_u.to_bytes()[..],
        Purpose::SelfMask,
        session_id,
        u,
        u,
        name,
        &mut out.0,
    );
    Ok(out)
}

fn name_too_long(name: &[u8]) -> Error {
    Error::Misuse(Misuse::TooLong {
        what: "vector name",
        max: MAX_NAME_LEN,
        found: name.len(),
    })
}

fn check_name(name: &[u8]) -> Result<()> {
    if name.len() > MAX_NAME_LEN {
        return Err(name_too_long(name));
    }
    Ok(())
}

/// Infallible once the name length is checked: outputs are 16 or 32 bytes.
fn derive(
    ikm: &[u8],
    purpose: Purpose,
    session_id: &SessionId,
    id_a: ClientId,
    id_b: ClientId,
    name: &[u8],
    out: &mut [u8],
) {
    let info = Zeroizing::new(match info(purpose, session_id, id_a, id_b, name) {
        Ok(i) => i,
        Err(_) => unreachable!("name length checked by the caller"),
    });
    if hkdf_sha256(None, ikm, &info, out).is_err() {
        unreachable!("16- and 32-byte outputs are within HKDF's limit");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::KeyPair;
    use crate::crypto::rng::seeded_rng;

    #[test]
    fn rfc5869_case_1() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let mut okm = [0u8; 42];
        hkdf_sha256(Some(&salt), &ikm, &info, &mut okm).unwrap();
        assert_eq!(
            hex(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn info_layout() {
        let sid = [7u8; 32];
        let i = info(Purpose::PairwiseMask, &sid, 1, 0x0102_0304, b"w").unwrap();
        let label = b"secagg/pairwise-mask";
        assert_eq!(&i[..label.len()], label);
        let rest = &i[label.len()..];
        assert_eq!(rest[0], 0);
        assert_eq!(rest[1], PROTOCOL_VERSION);
        assert_eq!(&rest[2..34], &sid);
        assert_eq!(&rest[34..38], &[0, 0, 0, 1]);
        assert_eq!(&rest[38..42], &[1, 2, 3, 4]);
        assert_eq!(&rest[42..44], &[0, 1]);
        assert_eq!(&rest[44..], b"w");
    }

    #[test]
    fn derivations_are_separated() {
        let mut rng = seeded_rng([4; 32]);
        let a = KeyPair::random(&mut rng);
        let b = KeyPair::random(&mut rng);
        let s = a.secret().agree(b.public()).unwrap();
        let sid = [1u8; 32];
        let k_ab = share_key(&s, &sid, 1, 2);
        let k_ba = share_key(&s, &sid, 2, 1);
        assert_ne!(k_ab.as_bytes(), k_ba.as_bytes());
        let m12 = pairwise_mask_seed(&s, &sid, 1, 2, b"").unwrap();
        let m21 = pairwise_mask_seed(&s, &sid, 2, 1, b"").unwrap();
        assert_eq!(m12.as_bytes(), m21.as_bytes());
        let m12w = pairwise_mask_seed(&s, &sid, 1, 2, b"w").unwrap();
        assert_ne!(m12.as_bytes(), m12w.as_bytes());
        let other = pairwise_mask_seed(&s, &[2u8; 32], 1, 2, b"").unwrap();
        assert_ne!(m12.as_bytes(), other.as_bytes());
        assert_ne!(&m12.as_bytes()[..], &k_ab.as_bytes()[..16]);
    }
}
