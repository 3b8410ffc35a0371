#![doc = include_str!("../../README.md")]
#![forbid(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]

pub mod crypto;
pub mod error;
mod par;
pub mod protocol;
pub mod quantize;
pub mod ring;
pub mod session;
pub mod sim;
pub mod wire;

pub use error::{Error, ErrorKind, Result};
