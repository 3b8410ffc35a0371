//! The portable backend: x25519-dalek's serial Montgomery ladder, one lane at a time.

/// `X25519(k, u)` with x25519-dalek (clamps `k`, masks bit 255 of `u`, reduces mod p).
pub(super) fn x25519(scalar: &[u8; 32], point: &[u8; 32]) -> [u8; 32] {
    // dalek copies the scalar into its own zeroizing type and wipes it.
    x25519_dalek::x25519(*scalar, *point)
}
