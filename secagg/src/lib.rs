#![doc = include_str!("../../README.md")]
#![forbid(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]
// Without `hazmat` the primitives are private; their intra-doc links then render as
// plain text (docs.rs builds with every feature: see Cargo.toml).
#![cfg_attr(not(feature = "hazmat"), allow(rustdoc::private_intra_doc_links))]

// The public surface, and why each piece is public:
//
// - `protocol`: what a product drives: `Config`, the `Client` typestates, the `Server`
//   phases, the messages (each with its encoding), the graph, the parameter finder, the
//   signed transcripts and the frame limits.
// - `session`: the float session every front end builds (parameters, ring, context,
//   encode / decode), so that the same parameters give the same session id everywhere.
// - `quantize`, `ring`: the float encoding and the ring vectors that the session and
//   the protocol take and return, for callers who encode themselves.
// - `error`: one `Error` of nested categories, each variant with a stable `name()`.
// - `dp`: distributed differential privacy: the mechanisms, exact integer samplers,
//   the accountant (and the client pipeline that adds the noise).
// - `sim`: every party in one process, for experiments and for the `secagg` command.
// - `crypto`: the key types the messages carry and the randomness source; the
//   primitives themselves only with the `hazmat` feature.
// - The identity types (`ClientId`, `SessionId`, `Round`, the protocol version) at the
//   root.
//
// Everything else is private to the crate: the wire codec (`wire`), the identity leaf
// (`ids`) and the rayon shim (`par`). Fuzz targets reach the codec through the hidden
// `internal` module, which is not part of the API and may change in any release.

pub mod crypto;
pub mod dp;
pub mod error;
mod ids;
mod par;
pub mod protocol;
pub mod quantize;
pub mod ring;
pub mod session;
pub mod sim;
mod wire;

pub use error::{
    CryptoError, DpError, EncodingError, Error, ErrorKind, Misuse, PeerMisbehaved, Result,
    ThresholdError,
};
pub use ids::{ClientId, Round, SessionId, PROTOCOL_VERSION, SESSION_ID_LEN};

/// The wire codec's building blocks, for the fuzz targets only: not part of the API,
/// not covered by semantic versioning.
#[doc(hidden)]
pub mod internal {
    pub use crate::wire::{fields, pack, Reader, Writer};
}
