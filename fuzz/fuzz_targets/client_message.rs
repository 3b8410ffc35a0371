#![no_main]
//! `ClientMessage::decode`: raw or patched-honest bytes from any sender id. No panic,
//! only encoding errors, and whatever decodes re-encodes to the same bytes.

use libfuzzer_sys::fuzz_target;
use secagg::protocol::messages::ClientMessage;
use secagg::ErrorKind;
use secagg_fuzz::input;

fuzz_target!(|data: &[u8]| {
    let Some(inp) = input(data, Some(true)) else {
        return;
    };
    let cfg = &inp.session.config;
    let from = u32::from(inp.pick % 9); // up to 8: sometimes outside the session
    match ClientMessage::decode(cfg, from, &inp.bytes) {
        Ok(m) => assert_eq!(
            m.encode(cfg).expect("decoded message re-encodes"),
            inp.bytes
        ),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Encoding),
    }
});
