//! The wire codec: a leaf that knows bytes, lengths and the field types of the
//! primitives, and nothing of the protocol (`docs/wire-format.md`).
//!
//! [`codec`] has the byte [`Writer`], the bounds-checked [`Reader`] and the
//! [`ParameterizedEncode`] / [`ParameterizedDecode`] pair (encode and decode under a
//! parameter, for protocol messages the session configuration); [`pack`] packs ring
//! vectors at exactly [`Ring::element_bits`](crate::ring::Ring::element_bits) bits per
//! element; [`fields`] encodes ids, id sets, keys, signatures, share values and sealed
//! blobs. Each protocol message's encoding is written with these beside the message's
//! type, in the protocol layer (`protocol/messages/encoding.rs`).
//!
//! Every decoder takes the limits that the session configuration implies (a vector's
//! ring and length, the number of clients, a largest count), checks each length
//! against them before it allocates, rejects non-canonical encodings and trailing
//! bytes, and fails with a typed [`Error`](crate::Error) of kind
//! [`ErrorKind::Encoding`](crate::ErrorKind::Encoding). No input makes it panic.

pub mod codec;
pub mod fields;
pub mod pack;

pub use codec::{ParameterizedDecode, ParameterizedEncode, Reader, Writer};
