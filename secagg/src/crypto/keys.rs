//! X25519 key agreement (RFC 7748) over x25519-dalek.
//!
//! Secret keys are canonical scalars modulo ℓ (sampled with [`SecretScalar::random`]) so
//! that the masking key can be Shamir-shared directly; X25519 clamps them as usual.
//! The shared-secret step rejects a non-contributory (all-zero) output, which is what a
//! low-order public key produces.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::rng::CryptoRng;
use super::shamir::SecretScalar;
use super::x25519;
use crate::error::{CryptoError, EncodingError, Error, Result};

/// Length of a public key, a secret key and a shared secret in bytes.
pub const KEY_LEN: usize = 32;

/// An X25519 public key (a Montgomery u-coordinate). Public: `Copy` and `Debug` are fine.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Parses a public key, checking its length. Every 32-byte string is a valid
    /// u-coordinate; low-order points are caught at agreement time.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::Encoding(EncodingError::InvalidLength {
                what: "x25519 public key",
                expected: KEY_LEN,
                found: bytes.len(),
            })
        })?;
        Ok(Self(arr))
    }

    /// Wraps 32 bytes as a public key.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The 32-byte encoding.
    pub const fn to_bytes(&self) -> [u8; KEY_LEN] {
        self.0
    }

    /// The 32-byte encoding, borrowed.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// An X25519 secret key. Not `Copy`; wiped on drop; `Debug` prints nothing secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// Samples a fresh secret key as a uniformly random canonical scalar.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_scalar(&SecretScalar::random(rng))
    }

    /// Uses a (reconstructed) secret scalar as an X25519 secret key.
    pub fn from_scalar(s: &SecretScalar) -> Self {
        Self(*s.to_bytes())
    }

    /// The secret as a scalar, for Shamir sharing. Fails with
    /// [`EncodingError::NonCanonicalScalar`] for keys made with [`SecretKey::from_bytes`] from a
    /// string that is not a canonical scalar; keys from [`SecretKey::random`] always share.
    pub fn to_scalar(&self) -> Result<SecretScalar> {
        SecretScalar::from_canonical_bytes(&self.0)
    }

    /// Wraps arbitrary 32 bytes as a secret key (X25519 clamps them), e.g. for the
    /// RFC 7748 test vectors.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The public key `X25519(self, 9)` (computed with the fixed-base Edwards table,
    /// which gives the same bytes as the Montgomery ladder on the base point 9).
    pub fn public_key(&self) -> PublicKey {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }

    /// X25519 key agreement. Fails with [`CryptoError::NonContributory`] when the result is
    /// all zeros, i.e. `their` is a low-order point; the check is constant time.
    pub fn agree(&self, their: &PublicKey) -> Result<SharedSecret> {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(their.0));
        if !shared.was_contributory() {
            return Err(Error::Crypto(CryptoError::NonContributory));
        }
        Ok(SharedSecret(shared.to_bytes()))
    }

    /// X25519 of this secret with each of `theirs` (a client's neighbours; a server
    /// recovering one dropped client's pairwise seeds with each survivor), batched in
    /// the lanes of the vector unit where the CPU has one (`crypto::x25519`) and in
    /// parallel over batches. Element `i` is what [`SecretKey::agree`] gives for
    /// `theirs[i]`: [`CryptoError::NonContributory`] for a low-order key, per element.
    pub fn agree_many(&self, theirs: &[PublicKey]) -> Vec<Result<SharedSecret>> {
        let points: Vec<[u8; KEY_LEN]> = theirs.iter().map(|p| p.0).collect();
        let mut raw = Zeroizing::new(vec![[0u8; KEY_LEN]; theirs.len()]);
        // Cannot fail: `points` and `raw` have the same length, and the detected
        // backend is supported by definition.
        let done = x25519::x25519_many(&self.0, &points, &mut raw);
        finish(done, &raw)
    }
}

/// X25519 of each independent (secret, public) pair, batched like
/// [`SecretKey::agree_many`]. Element `i` is `pairs[i].0.agree(pairs[i].1)`.
pub fn agree_batch(pairs: &[(&SecretKey, &PublicKey)]) -> Vec<Result<SharedSecret>> {
    let refs: Vec<(&[u8; KEY_LEN], &[u8; KEY_LEN])> =
        pairs.iter().map(|(k, p)| (&k.0, &p.0)).collect();
    let mut raw = Zeroizing::new(vec![[0u8; KEY_LEN]; pairs.len()]);
    let done = x25519::x25519_pairs(&refs, &mut raw);
    finish(done, &raw)
}

/// The public keys of many secrets, `out[i] == secrets[i].public_key()`. With a vector
/// backend, full batches of [`x25519::LANES`] run the batched ladder on u = 9 (about
/// twice as fast per key as the fixed-base Edwards table: `secagg bench dh`), and the
/// remainder uses the table; otherwise every key uses the table.
pub fn public_keys(secrets: &[&SecretKey]) -> Vec<PublicKey> {
    let backend = x25519::backend();
    let lanes = backend.lanes();
    let full = if lanes > 1 {
        secrets.len() / lanes * lanes
    } else {
        0
    };
    let mut nine = [0u8; KEY_LEN];
    nine[0] = 9;
    let pairs: Vec<(&[u8; KEY_LEN], &[u8; KEY_LEN])> =
        secrets[..full].iter().map(|k| (&k.0, &nine)).collect();
    let mut raw = vec![[0u8; KEY_LEN]; full];
    let mut out = Vec::with_capacity(secrets.len());
    // The detected backend is supported and the lengths agree, so this cannot fail;
    // were it to, the table below computes the same keys.
    if x25519::x25519_pairs_with(backend, &pairs, &mut raw).is_ok() {
        out.extend(raw.iter().map(|r| PublicKey(*r)));
    } else {
        out.extend(secrets[..full].iter().map(|k| k.public_key()));
    }
    out.extend(secrets[full..].iter().map(|k| k.public_key()));
    out
}

/// Wraps raw outputs as shared secrets, refusing all-zero ones in constant time.
fn finish(done: Result<()>, raw: &[[u8; KEY_LEN]]) -> Vec<Result<SharedSecret>> {
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        out.push(match &done {
            Err(e) => Err(e.clone()),
            Ok(()) => {
                if bool::from(r.ct_eq(&[0u8; KEY_LEN])) {
                    Err(Error::Crypto(CryptoError::NonContributory))
                } else {
                    Ok(SharedSecret(*r))
                }
            }
        });
    }
    out
}

impl SecretKey {
    /// The raw secret bytes, for the batched backends' benchmarks and tests.
    #[cfg(feature = "hazmat")]
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").finish_non_exhaustive()
    }
}

/// A raw X25519 output. Never used as a key directly: it only feeds
/// [`crate::crypto::kdf`].
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret([u8; KEY_LEN]);

impl SharedSecret {
    /// The raw bytes (for the KDF and for known-answer tests).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// An agreement output from its bytes: one revealed in the unmasking round
    /// (`protocol::messages::RevealedPairwise`), or a copy kept by a client.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSecret").finish_non_exhaustive()
    }
}

/// A key pair; the public half is cached. The secret half is wiped on drop (by
/// [`SecretKey`]'s own drop) and by [`Zeroize::zeroize`].
#[derive(Clone, Zeroize)]
pub struct KeyPair {
    secret: SecretKey,
    #[zeroize(skip)]
    public: PublicKey,
}

/// Dropping a [`KeyPair`] drops its [`SecretKey`], which wipes itself.
impl ZeroizeOnDrop for KeyPair {}

impl KeyPair {
    /// Generates a key pair.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(SecretKey::random(rng))
    }

    /// Derives the public half of `secret`.
    pub fn from_secret(secret: SecretKey) -> Self {
        let public = secret.public_key();
        Self { secret, public }
    }

    /// The public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rng::seeded_rng;

    #[test]
    fn agreement_is_symmetric() {
        let mut rng = seeded_rng([1; 32]);
        let a = KeyPair::random(&mut rng);
        let b = KeyPair::random(&mut rng);
        let ab = a.secret().agree(b.public()).unwrap();
        let ba = b.secret().agree(a.public()).unwrap();
        assert_eq!(ab.as_bytes(), ba.as_bytes());
    }

    #[test]
    fn zero_point_is_non_contributory() {
        let mut rng = seeded_rng([2; 32]);
        let a = KeyPair::random(&mut rng);
        let zero = PublicKey::from_bytes([0; 32]);
        assert_eq!(
            a.secret().agree(&zero).err(),
            Some(Error::Crypto(CryptoError::NonContributory))
        );
    }

    #[test]
    fn length_is_checked() {
        assert!(matches!(
            PublicKey::from_slice(&[0; 31]),
            Err(Error::Encoding(EncodingError::InvalidLength {
                expected: 32,
                found: 31,
                ..
            }))
        ));
        assert!(PublicKey::from_slice(&[9; 32]).is_ok());
    }

    #[test]
    fn scalar_round_trip_keeps_the_key() {
        let mut rng = seeded_rng([3; 32]);
        let k = SecretKey::random(&mut rng);
        let k2 = SecretKey::from_scalar(&k.to_scalar().unwrap());
        assert_eq!(k.public_key(), k2.public_key());
    }

    #[test]
    fn fixed_base_equals_ladder_on_nine() {
        let mut rng = seeded_rng([5; 32]);
        for _ in 0..16 {
            let k = SecretKey::random(&mut rng);
            let ladder = x25519_dalek::x25519(k.0, x25519_dalek::X25519_BASEPOINT_BYTES);
            assert_eq!(k.public_key().to_bytes(), ladder);
        }
    }

    #[test]
    fn debug_is_redacted() {
        let k = SecretKey::from_bytes([0xab; 32]);
        assert!(!format!("{k:?}").contains("ab"));
        assert!(!format!("{:?}", KeyPair::from_secret(k)).contains("abab"));
    }
}
