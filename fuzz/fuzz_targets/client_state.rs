#![no_main]
//! `Client::from_bytes`: raw bytes or patched honest stored states. No panic; a state
//! that decodes re-encodes to the same bytes and then handles every honest server
//! message of the session without panicking.

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::messages::ServerMessage;
use secagg_fuzz::{input_with, stored_states};

fuzz_target!(|data: &[u8]| {
    let Some(inp) = input_with(data, |s| {
        stored_states(s)
            .iter()
            .filter(|(client, _)| *client)
            .map(|(_, b)| b.as_slice())
            .collect()
    }) else {
        return;
    };
    let s = inp.session;
    let Ok(mut c) = Client::from_bytes(Arc::clone(&s.config), &inp.bytes) else {
        return;
    };
    assert_eq!(
        &c.to_bytes().expect("a restored client stores")[..],
        &inp.bytes[..]
    );
    let mut rng = seeded_rng([5; 32]);
    for r in s.records.iter().filter(|r| !r.from_client) {
        if let Ok(m) = ServerMessage::decode(&s.config, &r.bytes) {
            let _ = c.handle(m, &mut rng);
        }
    }
});
