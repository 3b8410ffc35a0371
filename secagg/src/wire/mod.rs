//! The wire format: a versioned, documented byte encoding (`docs/wire-format.md`).
//!
//! [`codec`] has the byte [`Writer`] and the bounds-checked
//! [`Reader`]; [`pack`] packs ring vectors at exactly
//! [`Ring::element_bits`](crate::ring::Ring::element_bits) bits per element; [`fields`]
//! encodes ids, id sets, keys, signatures, share values and sealed blobs; [`messages`]
//! encodes every protocol message ([`ClientMessage::encode`](crate::protocol::ClientMessage::encode),
//! [`ServerMessage::decode`](crate::protocol::ServerMessage::decode), …).
//!
//! Every decoder takes the limits that the session configuration implies (a vector's
//! ring and length, the number of clients, a largest count), checks each length
//! against them before it allocates, rejects non-canonical encodings and trailing
//! bytes, and fails with a typed [`Error`](crate::Error) of kind
//! [`ErrorKind::Encoding`](crate::ErrorKind::Encoding). No input makes it panic.

pub mod codec;
pub mod fields;
pub mod messages;
pub mod pack;

pub use codec::{Reader, Writer};
