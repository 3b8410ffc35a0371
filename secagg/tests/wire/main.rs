//! Wire-format tests (docs/wire-format.md): every message of whole sessions through the
//! codec (encode, length prediction, decode, equality, re-encode), sizes against the
//! documented closed forms and limits, stored client and server state, robustness to
//! hostile bytes (mutations, truncations, trailing bytes, counts that do not fit the
//! config), the independent Python encoder's vectors under tests/vectors/wire/, and the
//! session-level transcripts of tests/vectors/transcript.json.
//!
//! Sessions come from `common::session::Spec` (`common::wire::spec`) and run through
//! `common::wire::run`, which sends every message across the codec and records its bytes.

#[path = "../common/mod.rs"]
mod common;

mod messages;
mod robustness;
mod sizes;
mod state;
mod transcript;
mod vectors;
