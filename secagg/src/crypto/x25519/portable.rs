//! The portable backend: x25519-dalek's serial Montgomery ladder, one lane at a time.

/// `X25519(k, u)` with x25519-dalek (clamps `k`, masks bit 255 of `u`, reduces mod p).
/// The scalar goes through dalek's `StaticSecret` and the result through its
/// `SharedSecret`, both wiped on drop.
pub(super) fn x25519(scalar: &[u8; 32], point: &[u8; 32]) -> [u8; 32] {
    let secret = x25519_dalek::StaticSecret::from(*scalar);
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(*point));
    shared.to_bytes()
}
