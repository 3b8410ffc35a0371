//! Protocol tests, one module per state (fcp secagg's shape): each round of the client and
//! of the server, fed honest, lying and silent peers; a server that lies (duplicate keys,
//! clients listed dead twice, alive and dead); drop-outs before every round checked
//! against an independent model of the abort rules; the session configuration and its id;
//! the parameter finder against fcp's table; several named vectors in one session; the
//! in-process simulator under random drop-out patterns; and the hygiene of secret types.
//!
//! Sessions come from `common::session::Spec` and are driven round by round by
//! `common::protocol::Session`, which lets a test intercept and tamper with any message.

#[path = "../common/mod.rs"]
mod common;

mod client_advertise;
mod client_masked_input;
mod client_share_keys;
mod client_unmask;
mod config;
mod deferred;
mod exclusion;
mod graph_grinding;
mod named_vectors;
mod params;
mod secrets;
mod server_advertise;
mod server_consistency;
mod server_masked_input;
mod server_share_keys;
mod server_unmask;
mod sim_dropouts;
mod sim_random;
mod sim_recorded;
