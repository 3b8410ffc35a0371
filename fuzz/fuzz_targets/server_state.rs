#![no_main]
//! `Server::from_bytes`: raw bytes or patched honest stored states. No panic; a state
//! that decodes re-encodes to the same bytes, answers its accessors, and then takes
//! every honest client message of the session and closes rounds without panicking.

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use secagg::protocol::messages::ClientMessage;
use secagg::protocol::server::Server;
use secagg_fuzz::{input_with, stored_states};

fuzz_target!(|data: &[u8]| {
    let Some(inp) = input_with(data, |s| {
        stored_states(s)
            .iter()
            .filter(|(client, _)| !*client)
            .map(|(_, b)| b.as_slice())
            .collect()
    }) else {
        return;
    };
    let s = inp.session;
    let Ok(mut srv) = Server::from_bytes(Arc::clone(&s.config), &inp.bytes) else {
        return;
    };
    assert_eq!(srv.to_bytes().expect("a restored server stores"), inp.bytes);
    let _ = (
        srv.awaited(),
        srv.received(),
        srv.output().is_some(),
        srv.round(),
    );
    for r in s.records.iter().filter(|r| r.from_client) {
        if let Ok(m) = ClientMessage::decode(&s.config, r.id, &r.bytes) {
            let _ = srv.receive(r.id, m);
        }
    }
    let _ = srv.close_round();
    let _ = srv.close_round();
});
