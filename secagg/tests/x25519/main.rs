//! Batched X25519 (`secagg::crypto::x25519`, `SecretKey::agree_many`, `agree_batch`):
//! every backend this CPU supports against x25519-dalek's serial ladder and against
//! published vectors (RFC 7748 §5.2 and §6.1; all 518 Wycheproof x25519 vectors, each
//! through every lane position of a batch), 10^5 random pairs, every batch size
//! 1..=17, low-order and non-canonical points, forced backends and the fallback.

mod api;
mod differential;
mod timing;
mod vectors;

use secagg::crypto::x25519::{x25519_pairs_with, Backend, LANES};

/// The backends this CPU runs (always at least the portable one).
pub fn supported() -> Vec<Backend> {
    Backend::ALL
        .iter()
        .copied()
        .filter(|b| b.is_supported())
        .collect()
}

/// `X25519` of each pair with `backend`.
pub fn run(backend: Backend, pairs: &[([u8; 32], [u8; 32])]) -> Vec<[u8; 32]> {
    let refs: Vec<(&[u8; 32], &[u8; 32])> = pairs.iter().map(|(k, u)| (k, u)).collect();
    let mut out = vec![[0u8; 32]; pairs.len()];
    x25519_pairs_with(backend, &refs, &mut out).unwrap();
    out
}

/// The reference: x25519-dalek's ladder, one pair at a time.
pub fn reference(k: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(*k, *u)
}

/// `LANES` consecutive lane positions: each test input is run once at every offset.
pub const POSITIONS: usize = LANES;

pub fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}
