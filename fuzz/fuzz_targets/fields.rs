#![no_main]
//! The field readers, in a sequence the input chooses: ids, id sets, public keys,
//! signatures, verifying keys, share values, sealed blobs. Each value that decodes
//! re-encodes to the bytes it was read from.

use libfuzzer_sys::fuzz_target;
use secagg::internal::{fields, Reader, Writer};
use secagg::ErrorKind;

fuzz_target!(|data: &[u8]| {
    let Some((&ops, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(ops >> 3) * 7; // 0..=217 clients
    let mut r = Reader::new(rest);
    for step in 0..8 {
        let start = r.position();
        let mut w = Writer::new();
        let res = match (ops.rotate_left(step) ^ (step as u8)) % 7 {
            0 => fields::read_id(&mut r, "id", n).map(|id| fields::write_id(&mut w, id)),
            1 => fields::read_id_set(&mut r, "set", n)
                .map(|ids| fields::write_id_set(&mut w, "set", n, &ids).expect("set re-encodes")),
            2 => fields::read_public_key(&mut r).map(|k| fields::write_public_key(&mut w, &k)),
            3 => fields::read_signature(&mut r).map(|s| fields::write_signature(&mut w, &s)),
            4 => {
                fields::read_verifying_key(&mut r).map(|k| fields::write_verifying_key(&mut w, &k))
            }
            5 => fields::read_share_value(&mut r, 3).map(|s| fields::write_share_value(&mut w, &s)),
            _ => fields::read_sealed(&mut r, "blob", 100)
                .map(|b| fields::write_sealed(&mut w, "blob", 100, &b).expect("blob re-encodes")),
        };
        match res {
            Ok(()) => assert_eq!(w.into_bytes(), &rest[start..r.position()]),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Encoding);
                return;
            }
        }
    }
    let _ = r.finish();
});
