//! Mask expansion against known-answer vectors (tests/vectors/prg.json, generated with
//! Python `cryptography` by tests/vectors/gen_prg.py) and a block-at-a-time reference
//! written here from docs/protocol.md; every backend; parallel == serial; cancellation.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use secagg::crypto::kdf::MaskSeed;
use secagg::crypto::prg::{expand, expand_add, expand_add_with, Backend, Sign};
use secagg::ring::{Ring, RingVec};
use serde_json::Value;

fn ring_of(v: &Value) -> secagg::Result<Ring> {
    if let Some(b) = v.get("pow2") {
        Ring::pow2(b.as_u64().unwrap() as u32)
    } else {
        Ring::modulus(v["modulus"].as_u64().unwrap())
    }
}

fn seed_of(hex_seed: &str) -> MaskSeed {
    MaskSeed::from_bytes(hex::decode(hex_seed).unwrap().try_into().unwrap())
}

fn backends() -> Vec<Backend> {
    Backend::ALL
        .iter()
        .copied()
        .filter(|b| b.is_supported())
        .collect()
}

fn load() -> Value {
    serde_json::from_str(include_str!("../vectors/prg.json")).unwrap()
}

#[test]
fn known_answer_vectors_every_backend() {
    let doc = load();
    assert_eq!(
        doc["modulus_chunk"].as_u64().unwrap() as usize,
        secagg::crypto::prg::MODULUS_CHUNK
    );
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 20);
    for v in vectors {
        let ring = ring_of(&v["ring"]).unwrap();
        let seed = seed_of(v["seed"].as_str().unwrap());
        let len = v["len"].as_u64().unwrap() as usize;
        let got = expand(&ring, &seed, len);
        assert!(got.fits(&ring));
        for b in backends() {
            let mut acc = RingVec::zeros(&ring, len);
            expand_add_with(b, &ring, &[(&seed, Sign::Plus)], &mut acc).unwrap();
            assert_eq!(acc, got, "backend {b:?} ring {ring:?}");
        }
        for w in v["words"].as_array().unwrap() {
            let i = w[0].as_u64().unwrap() as usize;
            let want: u64 = w[1].as_str().unwrap().parse().unwrap();
            assert_eq!(got.get(i), Some(want), "ring {ring:?} len {len} index {i}");
        }
    }
}

#[test]
fn invalid_rings_are_rejected() {
    for r in load()["invalid_rings"].as_array().unwrap() {
        assert!(ring_of(r).is_err(), "{r}");
    }
}

/// The word stream straight from docs/protocol.md, one AES block at a time.
fn reference(ring: &Ring, seed: &MaskSeed, len: usize) -> Vec<u64> {
    let aes = aes::Aes128::new(&(*seed.as_bytes()).into());
    let block = |hi: u64, lo: u64| -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&lo.to_le_bytes());
        b[8..].copy_from_slice(&hi.to_le_bytes());
        let mut blk = b.into();
        aes.encrypt_block(&mut blk);
        blk.into()
    };
    let wb = if ring.uses_u32() { 4 } else { 8 };
    let k = ring.element_bits();
    let kmask = if k == 64 { u64::MAX } else { (1 << k) - 1 };
    let words = |b: [u8; 16]| -> Vec<u64> {
        b.chunks(wb)
            .map(|w| {
                let mut x = [0u8; 8];
                x[..wb].copy_from_slice(w);
                u64::from_le_bytes(x) & kmask
            })
            .collect()
    };
    let mut out = Vec::with_capacity(len);
    match *ring {
        Ring::Pow2 { .. } => {
            let mut i = 0;
            while out.len() < len {
                out.extend(words(block(0, i)));
                i += 1;
            }
            out.truncate(len);
        }
        Ring::Modulus { m } => {
            let chunk = secagg::crypto::prg::MODULUS_CHUNK;
            for c in 0..len.div_ceil(chunk) {
                let want = (len - c * chunk).min(chunk);
                let mut got = Vec::new();
                let mut i = 0;
                while got.len() < want {
                    got.extend(words(block(c as u64 + 1, i)).into_iter().filter(|&x| x < m));
                    i += 1;
                }
                got.truncate(want);
                out.extend(got);
            }
        }
    }
    out
}

fn rings() -> Vec<Ring> {
    vec![
        Ring::pow2(8).unwrap(),
        Ring::pow2(32).unwrap(),
        Ring::pow2(47).unwrap(),
        Ring::pow2(64).unwrap(),
        Ring::modulus(65_521).unwrap(),
        Ring::modulus((1 << 32) - 5).unwrap(),
        Ring::modulus(u64::MAX).unwrap(),
    ]
}

fn random_seed(i: u64) -> MaskSeed {
    let mut s = [0u8; 16];
    s[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    s[8..].copy_from_slice(&(i ^ 0x5555).to_le_bytes());
    MaskSeed::from_bytes(s)
}

#[test]
fn parallel_equals_serial_equals_reference() {
    let len = 200_003; // several parallel chunks, a partial last one
    let seeds: Vec<MaskSeed> = (0..3).map(random_seed).collect();
    let masks = [
        (&seeds[0], Sign::Plus),
        (&seeds[1], Sign::Minus),
        (&seeds[2], Sign::Plus),
    ];
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let (one, four) = (pool(1), pool(4));
    for ring in rings() {
        let r: Vec<Vec<u64>> = seeds.iter().map(|s| reference(&ring, s, len)).collect();
        let want: Vec<u64> = (0..len)
            .map(|j| ring.add(ring.sub(r[0][j], r[1][j]), r[2][j]))
            .collect();
        for b in backends() {
            let run = |p: &rayon::ThreadPool| {
                let mut acc = RingVec::zeros(&ring, len);
                p.install(|| expand_add_with(b, &ring, &masks, &mut acc))
                    .unwrap();
                acc
            };
            let serial = run(&one);
            assert_eq!(serial.to_u64s(), want, "{b:?} {ring:?}");
            assert_eq!(run(&four), serial, "{b:?} {ring:?}");
        }
    }
}

#[test]
fn opposite_signs_cancel_onto_any_accumulator() {
    for ring in rings() {
        let len = 70_001;
        let start: Vec<u64> = (0..len as u64)
            .map(|i| i.wrapping_mul(0x1234_5678_9abc_def1))
            .collect();
        let start = RingVec::from_u64s(&ring, &start);
        let seed = random_seed(77);
        for b in backends() {
            let mut acc = start.clone();
            expand_add_with(
                b,
                &ring,
                &[(&seed, Sign::Plus), (&seed, Sign::Minus)],
                &mut acc,
            )
            .unwrap();
            assert_eq!(acc, start, "{b:?} {ring:?}");
            // and as two separate calls
            expand_add(&ring, &[(&seed, Sign::Minus)], &mut acc).unwrap();
            assert_ne!(acc, start);
            expand_add(&ring, &[(&seed, Sign::Plus)], &mut acc).unwrap();
            assert_eq!(acc, start);
        }
    }
}
