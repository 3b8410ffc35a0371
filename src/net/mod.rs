//! A networked reference driver: the sans-IO [`protocol`](crate::protocol) state machines
//! over TCP or TLS, with round deadlines, using tokio. This module (feature `net`, on
//! by default) is the only place in the crate with sockets, threads and clocks.
//!
//! * [`frame`]: length-delimited frames, bounded before allocation.
//! * [`hello`]: the transport's handshake and closing frames.
//! * [`tls`]: rustls configuration and self-signed certificates.
//!
//! The framing, handshake, deadlines and limits are described in `docs/networking.md`.

pub mod frame;
pub mod hello;
pub mod tls;
