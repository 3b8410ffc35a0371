//! Robustness of every decoder: many random byte strings and mutations of valid
//! encodings (bit flips, truncations, insertions, deletions, length- and count-field
//! edits, spliced headers) fed to both message decoders. No input may panic; every
//! refusal is a typed encoding error; whatever decodes re-encodes to the same bytes
//! (one encoding per message).

use crate::common::wire::{run, spec, Dir, Record};
use rand_core::Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::Config;
use secagg::ring::Ring;
use secagg::ErrorKind;
use secagg::{ClientId, Round};

/// Decodes `bytes` both ways; checks the error kind, or that a success re-encodes to
/// the same bytes. Returns how many of the two decodes succeeded.
fn check(cfg: &Config, from: ClientId, bytes: &[u8]) -> usize {
    let mut ok = 0;
    match ClientMessage::decode(cfg, from, bytes) {
        Ok(m) => {
            assert_eq!(
                m.encode(cfg).unwrap(),
                bytes,
                "client message not canonical"
            );
            ok += 1;
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Encoding, "{e:?}"),
    }
    match ServerMessage::decode(cfg, bytes) {
        Ok(m) => {
            assert_eq!(
                m.encode(cfg).unwrap(),
                bytes,
                "server message not canonical"
            );
            ok += 1;
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Encoding, "{e:?}"),
    }
    ok
}

const INTERESTING_U32: [u32; 9] = [0, 1, 2, 5, 6, 7, 0xffff, 0x7fff_ffff, u32::MAX];

fn mutate<R: Rng>(rng: &mut R, valid: &[u8]) -> Vec<u8> {
    let mut b = valid.to_vec();
    let len = b.len();
    match rng.next_u32() % 8 {
        // Flip one to three bits.
        0 => {
            for _ in 0..=(rng.next_u32() % 3) {
                if len > 0 {
                    let i = rng.next_u32() as usize % len;
                    b[i] ^= 1 << (rng.next_u32() % 8);
                }
            }
        }
        // Truncate.
        1 => b.truncate(rng.next_u32() as usize % (len + 1)),
        // Insert random bytes.
        2 => {
            let at = rng.next_u32() as usize % (len + 1);
            let k = 1 + rng.next_u32() as usize % 8;
            let extra: Vec<u8> = (0..k).map(|_| rng.next_u32() as u8).collect();
            b.splice(at..at, extra);
        }
        // Delete a run.
        3 => {
            if len > 0 {
                let at = rng.next_u32() as usize % len;
                let k = 1 + rng.next_u32() as usize % 8;
                b.drain(at..(at + k).min(len));
            }
        }
        // Overwrite a u32 (a count or an id) with an interesting value.
        4 => {
            if len >= 4 {
                let at = rng.next_u32() as usize % (len - 3);
                let v = INTERESTING_U32[rng.next_u32() as usize % INTERESTING_U32.len()];
                b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
        // Overwrite a u16 (a blob length).
        5 => {
            if len >= 2 {
                let at = rng.next_u32() as usize % (len - 1);
                let v = [0u16, 27, 28, 99, 100, 101, 0xffff][rng.next_u32() as usize % 7];
                b[at..at + 2].copy_from_slice(&v.to_be_bytes());
            }
        }
        // Change the type byte to any value.
        6 => {
            if len >= 2 {
                b[1] = rng.next_u32() as u8;
            }
        }
        // Replace a byte with 0x00 / 0xff.
        _ => {
            if len > 0 {
                let i = rng.next_u32() as usize % len;
                b[i] = if rng.next_u32().is_multiple_of(2) {
                    0
                } else {
                    0xff
                };
            }
        }
    }
    b
}

fn sessions() -> Vec<(std::sync::Arc<Config>, Vec<Record>)> {
    let vectors = [
        ("a", 13, Ring::pow2(20).unwrap()),
        ("b", 5, Ring::modulus(1_000_003).unwrap()),
    ];
    let mut out = Vec::new();
    for (malicious, t) in [(false, 3), (true, 4)] {
        let (cfg, keys) = spec(7, t, GraphSpec::Complete, malicious, &vectors).build();
        let mut drops = vec![None; 7];
        drops[6] = Some(Round::MaskedInputCollection);
        let w = run(&cfg, keys, &drops, 1);
        assert!(w.output.is_ok());
        out.push((cfg, w.records));
    }
    out
}

#[test]
fn mutated_valid_encodings() {
    let mut rng = seeded_rng([0x5a; 32]);
    let mut decoded = 0usize;
    let mut tried = 0usize;
    for (cfg, records) in sessions() {
        for r in &records {
            // The valid encoding decodes exactly one way.
            assert_eq!(check(&cfg, r.id, &r.bytes), 1);
            for _ in 0..1500 {
                let mut b = mutate(&mut rng, &r.bytes);
                if rng.next_u32().is_multiple_of(4) {
                    b = mutate(&mut rng, &b);
                }
                decoded += check(&cfg, r.id, &b);
                tried += 1;
            }
        }
    }
    assert!(tried > 100_000, "{tried}");
    // Some mutations (a flipped key bit, a changed share) are still valid messages.
    assert!(decoded > 0 && decoded < tried / 2, "{decoded} of {tried}");
}

#[test]
fn random_byte_strings() {
    let mut rng = seeded_rng([0xa5; 32]);
    let sessions = sessions();
    let types = [0x00u8, 0x01, 0x02, 0x03, 0x04, 0x81, 0x82, 0x83, 0x84];
    for (cfg, records) in &sessions {
        // Pure noise, and noise behind a valid header of every type, at lengths near
        // every valid message's.
        let mut lens: Vec<usize> = records.iter().map(|r| r.bytes.len()).collect();
        lens.extend(0..80);
        lens.sort_unstable();
        lens.dedup();
        for &len in &lens {
            for _ in 0..40 {
                let mut b: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
                if len >= 2 && !rng.next_u32().is_multiple_of(4) {
                    b[0] = 1;
                    b[1] = types[rng.next_u32() as usize % types.len()];
                }
                let from = rng.next_u32() % 8; // 7 is outside the session
                if from as usize >= cfg.n() {
                    assert!(ClientMessage::decode(cfg, from, &b).is_err());
                } else {
                    check(cfg, from, &b);
                }
            }
        }
        // Short messages of every header: all 2^8 values of a third byte.
        for ty in types {
            for x in 0..=255u8 {
                check(cfg, 1, &[1, ty, x]);
            }
        }
    }
    // The records of a session decode only with their own configuration's shapes.
    let (cfg_a, rec_a) = &sessions[0];
    let (cfg_b, _) = &sessions[1];
    for r in rec_a
        .iter()
        .filter(|r| r.dir == Dir::FromClient && r.bytes[1] == 0)
    {
        assert!(ClientMessage::decode(cfg_b, r.id, &r.bytes).is_err());
        assert!(ClientMessage::decode(cfg_a, r.id, &r.bytes).is_ok());
    }
}
