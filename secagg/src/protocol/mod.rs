//! The protocol layer (sans-IO: nothing here does I/O, spawns threads or reads a clock).
//!
//! [`graph`]: who shares keys and pairwise masks with whom. [`params`]: how many
//! neighbours and which threshold meet a security and a correctness target.
//! [`config`]: the agreed parameters and the session id.
//! [`messages`]: every message of a session as plain data, its byte encoding beside it
//! (`messages/encoding.rs`; the type bytes are [`messages::msg_type`]) and the largest encoding a configuration allows
//! ([`MessageLimits`]).
//! [`client`] and [`server`]: the two state machines.
//! [`transcript`]: the byte strings signed in the malicious model.

pub mod client;
pub mod config;
pub mod graph;
pub mod messages;
pub mod params;
pub mod server;
pub mod transcript;

pub use client::Client;
pub use config::{Config, ConfigBuilder, VectorSpec};
pub use messages::{ClientMessage, MessageLimits, ServerMessage};
pub use server::{Output, Server};
