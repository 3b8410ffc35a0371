//! Thin wrappers over audited primitives, each protocol-free and tested against
//! published vectors: X25519 key agreement ([`keys`]), HKDF-SHA256 ([`kdf`]),
//! AES-256-GCM ([`aead`]), Shamir secret sharing over the ristretto/ed25519 scalar
//! field ([`shamir`]) and the randomness source ([`rng`]).

pub mod aead;
pub mod kdf;
pub mod keys;
pub mod prg;
pub mod rng;
pub mod shamir;

/// Version of every derivation and associated-data layout in this module. Bumped
/// whenever a byte of a derivation changes, so two versions never interoperate silently.
pub const PROTOCOL_VERSION: u8 = 1;

/// Length of a session id in bytes.
pub const SESSION_ID_LEN: usize = 32;

/// A 32-byte session identifier (public), bound into every derivation and every
/// associated-data string.
pub type SessionId = [u8; SESSION_ID_LEN];

/// A client identifier. Shamir evaluation points are `id + 1`.
pub type ClientId = u32;
