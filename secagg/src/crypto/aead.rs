//! AES-256-GCM for share ciphertexts.
//!
//! A sealed message is `nonce (12 bytes) || ciphertext || tag (16 bytes)`, with a fresh
//! random 96-bit nonce per message. The associated data binds the protocol version,
//! session id, round, sender and receiver ([`AssociatedData`]), so a ciphertext cannot
//! be replayed into another session or round, or re-addressed to another party.
//! Every failure to open is the same bare [`CryptoError::Decryption`].

use core::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::kdf::ShareKey;
use super::rng::CryptoRng;
use crate::error::{CryptoError, Error, Result};
use crate::ids::{ClientId, SessionId, PROTOCOL_VERSION};

/// Nonce length in bytes.
pub const NONCE_LEN: usize = 12;
/// Tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// Length of the encoded associated data.
pub const AD_LEN: usize = 1 + 32 + 1 + 4 + 4;

/// What a share ciphertext is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssociatedData {
    /// The session the ciphertext belongs to.
    pub session_id: SessionId,
    /// The protocol round that carries it.
    pub round: u8,
    /// Who encrypted it.
    pub sender: ClientId,
    /// Who may decrypt it.
    pub receiver: ClientId,
}

impl AssociatedData {
    /// `version u8 || session_id [32] || round u8 || sender u32be || receiver u32be`.
    pub fn to_bytes(self) -> [u8; AD_LEN] {
        let mut out = [0u8; AD_LEN];
        out[0] = PROTOCOL_VERSION;
        out[1..33].copy_from_slice(&self.session_id);
        out[33] = self.round;
        out[34..38].copy_from_slice(&self.sender.to_be_bytes());
        out[38..42].copy_from_slice(&self.receiver.to_be_bytes());
        out
    }
}

/// An AES-256-GCM key with the raw (nonce-explicit) operations, used by [`seal`] and
/// [`open`] and by the known-answer tests. The expanded key is wiped on drop (aes-gcm's
/// `zeroize` feature); `Debug` prints nothing secret.
pub struct Cipher(Aes256Gcm);

/// aes-gcm (with its `zeroize` feature) wipes the AES key schedule and the GHASH key
/// when the inner cipher is dropped.
impl ZeroizeOnDrop for Cipher {}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher").finish_non_exhaustive()
    }
}

impl Cipher {
    /// A cipher for `key`.
    pub fn new(key: &ShareKey) -> Self {
        Self(Aes256Gcm::new(key.as_bytes().into()))
    }

    /// Encrypts `plaintext` under `nonce` and `aad`; returns `ciphertext || tag`.
    ///
    /// # Panics
    /// Only for a plaintext longer than GCM's limit (2^36 − 32 bytes), which the caller
    /// chooses; shares are tiny.
    pub fn encrypt(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buf.extend_from_slice(plaintext);
        let tag = match self.0.encrypt_inout_detached(
            &Nonce::from(*nonce),
            aad,
            buf.as_mut_slice().into(),
        ) {
            Ok(t) => t,
            // Only fails for plaintexts beyond GCM's 64 GiB limit.
            Err(_) => unreachable!("share plaintexts are far below the GCM length limit"),
        };
        buf.extend_from_slice(&tag);
        buf
    }

    /// Decrypts `ciphertext || tag`. Any failure is [`CryptoError::Decryption`].
    pub fn decrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let split = ciphertext_and_tag
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Crypto(CryptoError::Decryption))?;
        let (ct, tag) = ciphertext_and_tag.split_at(split);
        let tag = Tag::try_from(tag).map_err(|_| Error::Crypto(CryptoError::Decryption))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        self.0
            .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into(), &tag)
            .map_err(|_| Error::Crypto(CryptoError::Decryption))?;
        Ok(buf)
    }
}

/// Seals `plaintext` for `ad.receiver` with a fresh random nonce:
/// returns `nonce || ciphertext || tag`.
pub fn seal<R: CryptoRng + ?Sized>(
    key: &ShareKey,
    ad: &AssociatedData,
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let body = Cipher::new(key).encrypt(&nonce, &ad.to_bytes(), plaintext);
    let mut out = Vec::with_capacity(NONCE_LEN + body.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out
}

/// Opens `nonce || ciphertext || tag` sealed by [`seal`] with the same key and
/// associated data. Any failure, including a too-short input, is [`CryptoError::Decryption`].
pub fn open(key: &ShareKey, ad: &AssociatedData, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < OVERHEAD {
        return Err(Error::Crypto(CryptoError::Decryption));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: &[u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| Error::Crypto(CryptoError::Decryption))?;
    Cipher::new(key).decrypt(nonce, &ad.to_bytes(), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rng::seeded_rng;

    fn ad() -> AssociatedData {
        AssociatedData {
            session_id: [5; 32],
            round: 1,
            sender: 3,
            receiver: 4,
        }
    }

    #[test]
    fn round_trip() {
        let mut rng = seeded_rng([0; 32]);
        let key = ShareKey::from_bytes([9; 32]);
        let sealed = seal(&key, &ad(), b"hello shares", &mut rng);
        assert_eq!(sealed.len(), 12 + OVERHEAD);
        assert_eq!(&open(&key, &ad(), &sealed).unwrap()[..], b"hello shares");
    }

    #[test]
    fn any_flipped_bit_fails() {
        let mut rng = seeded_rng([0; 32]);
        let key = ShareKey::from_bytes([9; 32]);
        let sealed = seal(&key, &ad(), b"abc", &mut rng);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(
                open(&key, &ad(), &bad).err(),
                Some(Error::Crypto(CryptoError::Decryption))
            );
        }
        assert_eq!(
            open(&key, &ad(), &sealed[..27]).err(),
            Some(Error::Crypto(CryptoError::Decryption))
        );
    }
}
