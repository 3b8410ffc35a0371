#![no_main]
//! `ServerMessage::decode`: raw or patched-honest bytes. No panic, only encoding
//! errors, and whatever decodes re-encodes to the same bytes.

use libfuzzer_sys::fuzz_target;
use secagg::protocol::messages::ServerMessage;
use secagg::ErrorKind;
use secagg_fuzz::input;

fuzz_target!(|data: &[u8]| {
    let Some(inp) = input(data, Some(false)) else {
        return;
    };
    let cfg = &inp.session.config;
    match ServerMessage::decode(cfg, &inp.bytes) {
        Ok(m) => assert_eq!(
            m.encode(cfg).expect("decoded message re-encodes"),
            inp.bytes
        ),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Encoding),
    }
});
