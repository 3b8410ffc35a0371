#![no_main]
//! Ring-vector unpacking: any bytes, any ring, any length; whatever decodes must
//! re-encode to the same bytes.

use libfuzzer_sys::fuzz_target;
use secagg::internal::{pack, Reader, Writer};
use secagg::ring::Ring;

fuzz_target!(|data: &[u8]| {
    if data.len() < 11 {
        return;
    }
    let (head, body) = data.split_at(11);
    let ring = if head[0] & 0x80 == 0 {
        Ring::Pow2 {
            bits: u32::from(head[0] & 0x7f),
        }
    } else {
        let mut m = [0u8; 8];
        m.copy_from_slice(&head[1..9]);
        Ring::Modulus {
            m: u64::from_be_bytes(m),
        }
    };
    let dim = usize::from(u16::from_be_bytes([head[9], head[10]]));
    let mut r = Reader::new(body);
    if let Ok(v) = pack::unpack(&mut r, &ring, dim) {
        let used = r.position();
        let mut w = Writer::new();
        pack::pack(&mut w, &ring, dim, &v).expect("a decoded vector re-encodes");
        assert_eq!(w.into_bytes(), &body[..used]);
    }
});
