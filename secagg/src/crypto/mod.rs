//! Thin wrappers over audited primitives, each protocol-free and tested against
//! published vectors: X25519 key agreement ([`keys`]), HKDF-SHA256 ([`kdf`]),
//! AES-256-GCM ([`aead`]), Shamir secret sharing over the ristretto/ed25519 scalar
//! field ([`shamir`]) and the randomness source ([`rng`]).
//!
//! The names they bind (client and session ids, the protocol version) come from the
//! leaf [`crate::ids`]; a round enters a derivation or associated data as its number,
//! so nothing here knows the protocol.

pub mod aead;
pub mod kdf;
pub mod keys;
pub mod prg;
pub mod rng;
pub mod shamir;
