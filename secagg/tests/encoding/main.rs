//! Float encoding (docs/float-encoding.md): quantization and its rounding, the overflow
//! guard and the error bound; and the float-session layer (`secagg::session`): its
//! known-answer contexts and session ids (tests/vectors/session.json), the parameter
//! choice, and floats encoded, aggregated through whole simulated sessions and decoded.

#[path = "../common/mod.rs"]
mod common;

mod quantize;
mod session;
