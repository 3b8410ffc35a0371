//! The protocol layer (sans-IO: nothing here does I/O, reads a clock or keeps a thread of
//! its own; time is an input, [`Server::close_round`]).
//!
//! Threads: with the `parallel` feature (on by default), pure computation is spread over
//! rayon's global pool in three places: the client's key agreements in ShareKeys (two
//! X25519 and the seed derivations per neighbor, in [`Client::handle`] on the key list;
//! sealing the shares stays sequential, it draws from the caller's rng), the server's
//! unmasking (reconstructing each needed secret and deriving its seeds, per owner, when
//! the last round closes), and mask expansion itself ([`crate::crypto::prg`], over
//! chunks of the vector), which both the client's masking and the server's unmasking
//! call. Without the feature the same code runs sequentially and gives identical bytes.
//!
//! [`graph`]: who shares keys and pairwise masks with whom. [`params`]: how many
//! neighbors and which threshold meet a security and a correctness target.
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
