//! The randomness source. Everything that needs randomness takes a caller-supplied
//! [`CryptoRng`], so simulations and tests can be deterministic; [`os_rng`] is the
//! production default.

pub use rand_core::{CryptoRng, Rng};

/// The operating system's CSPRNG (getrandom).
///
/// # Panics
/// Only if the operating system cannot supply randomness at all, which no other party
/// can cause; a process that cannot get randomness must not go on with key generation.
pub fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// A deterministic CSPRNG (ChaCha20) from a 32-byte seed, for reproducible simulations
/// and tests. Never use a guessable seed for real sessions.
pub fn seeded_rng(seed: [u8; 32]) -> rand_chacha::ChaCha20Rng {
    use rand_core::SeedableRng;
    rand_chacha::ChaCha20Rng::from_seed(seed)
}
