//! A networked reference driver: the sans-IO [`protocol`](secagg::protocol) state machines
//! over TCP or TLS, with round deadlines, using tokio. This crate is the only place of
//! the project with sockets and clocks (the core, `secagg`, does no I/O); it parses no
//! arguments and prints nothing: events go to a callback of the caller's ([`events`]).
//!
//! * [`error`]: the transport's errors and the core's, wrapped ([`Error`]).
//! * [`frame`]: length-delimited frames, bounded before allocation.
//! * [`hello`]: the transport's handshake (challenge, signed hello) and closing frames.
//! * [`roster`]: the clients' Ed25519 verifying keys (the roster file) and key files.
//! * [`tls`]: rustls configuration and self-signed certificates.
//! * [`session`]: the float session (`secagg::session`) built from the parameters every
//!   party agrees on ([`SessionParams`](session::SessionParams)), frame limits, demo inputs.
//! * [`server`] and [`client`]: the two drivers.
//! * [`events`]: what the drivers report as it happens, to a callback of the caller's
//!   (the library never prints).
//!
//! The `serve`, `client` and `loadtest` subcommands, and reading float inputs from text
//! or `.npy` files, are in the `secagg-cli` crate.
//!
//! The framing, handshake, deadlines and limits are described in `docs/networking.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use secagg_net::client::{run_client, ClientOptions};
//! use secagg_net::server::{serve, ServerOptions};
//! use secagg_net::session::{Session, SessionParams};
//!
//! # async fn demo() -> secagg_net::Result<()> {
//! let session = Session::new(SessionParams::new(3, 10))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap().to_string();
//! let server = tokio::spawn(serve(listener, ServerOptions::new(session.clone())));
//! for id in 0..3 {
//!     let (session, addr) = (session.clone(), addr.clone());
//!     tokio::spawn(async move {
//!         let input = session.ring_input(&session.demo_words(id)?)?;
//!         // Demo keys, derived from the seed: a deployment loads each client's own key
//!         // and gives the server the roster of their verifying keys.
//!         let key = session.demo_signing_key(id).expect("demo session");
//!         run_client(&addr, &ClientOptions::new(session, id), input, &key).await
//!     });
//! }
//! let report = server.await.unwrap();
//! println!("included: {:?}", report.result?.included);
//! # Ok(())
//! # }
//! ```

pub mod client;
mod conn;
pub mod error;
pub mod events;
pub mod frame;
pub mod hello;
pub mod roster;
pub mod server;
pub mod session;
pub mod tls;

pub use error::{Error, Result, TransportError};
