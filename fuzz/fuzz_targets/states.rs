#![no_main]
//! Arbitrary decoded messages fed to the state machines. The input picks a session, a
//! round and a client. The fuzzed bytes, decoded as a server message, go to that client
//! replayed to its state at that round (it then gets the same message again); decoded
//! as a client message from that client, they go to the server collecting that round
//! with every other client's honest message (the picked client's is withheld), which
//! then closes the round. Nothing may panic.

use libfuzzer_sys::fuzz_target;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg_fuzz::{client_at, input, server_at};

fuzz_target!(|data: &[u8]| {
    let Some(inp) = input(data, None) else {
        return;
    };
    let s = inp.session;
    let cfg = &s.config;
    let rounds = usize::from(inp.pick & 7) % 5;
    let who = u32::from(inp.pick >> 3) % cfg.n() as u32;
    if let Ok(m) = ServerMessage::decode(cfg, &inp.bytes) {
        if let Some((mut c, mut rng)) = client_at(s, who, rounds) {
            let _ = c.handle(m.clone(), &mut rng);
            let _ = c.handle(m, &mut rng);
        }
    }
    if let Ok(m) = ClientMessage::decode(cfg, who, &inp.bytes) {
        if let Some(mut srv) = server_at(s, rounds, who) {
            let _ = srv.receive(who, m);
            let _ = srv.close_round();
            let _ = srv.close_round();
        }
    }
});
