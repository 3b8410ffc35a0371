//! Known-answer tests of the primitives: X25519 (RFC 7748, Wycheproof), AES-256-GCM
//! (Wycheproof), HKDF-SHA256 and the three secagg derivations (Wycheproof, RFC 5869), mask
//! expansion (every backend against a block-at-a-time reference) and Shamir sharing; and
//! our own vectors under tests/vectors/, computed independently in Python by the gen_*.py
//! scripts there, with negative cases that must fail with the recorded error variant.

#[path = "../common/mod.rs"]
mod common;

mod aead;
mod kdf;
mod prg_vectors;
mod shamir;
mod signatures;
mod x25519;
