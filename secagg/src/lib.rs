#![doc = include_str!("../../README.md")]
#![forbid(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

pub mod crypto;
pub mod error;
pub mod ids;
mod par;
pub mod protocol;
pub mod quantize;
pub mod ring;
pub mod session;
pub mod sim;
pub mod wire;

pub use error::{
    CryptoError, EncodingError, Error, ErrorKind, Misuse, PeerMisbehaved, Result, ThresholdError,
};
pub use ids::{ClientId, Round, SessionId, PROTOCOL_VERSION, SESSION_ID_LEN};
