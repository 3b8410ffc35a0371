//! Every supported backend against x25519-dalek on random and edge-case inputs.

use rand_core::Rng;
use rayon::prelude::*;
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::x25519::{x25519_many_with, x25519_pairs_with, Backend};
use secagg::{Error, Misuse};

use super::{reference, run, supported};

fn random_pairs(seed: u8, n: usize) -> Vec<([u8; 32], [u8; 32])> {
    let mut rng = seeded_rng([seed; 32]);
    (0..n)
        .map(|_| {
            let (mut k, mut u) = ([0u8; 32], [0u8; 32]);
            rng.fill_bytes(&mut k);
            rng.fill_bytes(&mut u);
            (k, u)
        })
        .collect()
}

/// 100,000 random (scalar, u) pairs, u uniform over all 2^256 strings (so bit 255 is
/// set in half of them and twist points are as common as curve points): the vector
/// backends give dalek's bytes for every one. (The portable backend is dalek itself:
/// it is checked on a 2,000-pair subset.)
#[test]
fn random_pairs_match_dalek() {
    let pairs = random_pairs(1, 100_000);
    let want: Vec<[u8; 32]> = pairs.par_iter().map(|(k, u)| reference(k, u)).collect();
    for b in supported() {
        let n = if b == Backend::Portable {
            2_000
        } else {
            pairs.len()
        };
        let got = run(b, &pairs[..n]);
        let bad = got.iter().zip(&want).position(|(g, w)| g != w);
        assert_eq!(bad, None, "{}: first mismatch at pair {bad:?}", b.name());
    }
}

/// Every batch size 1..=17 (one to three vector batches, full and partial), both
/// shapes (one scalar, many points; independent pairs).
#[test]
fn every_batch_size_1_to_17() {
    let pairs = random_pairs(2, 17);
    for b in supported() {
        for n in 1..=17 {
            let got = run(b, &pairs[..n]);
            for (i, (k, u)) in pairs[..n].iter().enumerate() {
                assert_eq!(got[i], reference(k, u), "{} n={n} i={i}", b.name());
            }
            let k = &pairs[0].0;
            let points: Vec<[u8; 32]> = pairs[..n].iter().map(|p| p.1).collect();
            let mut out = vec![[0u8; 32]; n];
            x25519_many_with(b, k, &points, &mut out).unwrap();
            for (i, u) in points.iter().enumerate() {
                assert_eq!(out[i], reference(k, u), "{} many n={n} i={i}", b.name());
            }
        }
        let mut none: Vec<[u8; 32]> = Vec::new();
        x25519_pairs_with(b, &[], &mut none).unwrap();
    }
}

/// The field's edge cases as u-coordinates, bit 255 clear and set: 0, 1, 9, p − 1, p,
/// p + 1, 2^255 − 1 (non-canonical values reduce mod p), the points of order 2, 4 and
/// 8 (all give zero), and values with single limbs saturated; against random and
/// extreme scalars (all zeros, all ones: clamping decides).
#[test]
fn low_order_and_non_canonical_points() {
    let mut points: Vec<[u8; 32]> = Vec::new();
    let le = |hex: &str| super::h32(hex);
    let p_minus = |d: u8| {
        let mut x = [0xffu8; 32];
        x[0] = 0xed - d;
        x[31] = 0x7f;
        x
    };
    let p_plus = |d: u8| {
        let mut x = [0xffu8; 32];
        x[0] = 0xed + d;
        x[31] = 0x7f;
        x
    };
    let small = |v: u8| {
        let mut x = [0u8; 32];
        x[0] = v;
        x
    };
    points.extend([
        small(0),
        small(1),
        small(9),
        p_minus(1),
        p_plus(0),
        p_plus(1),
        p_plus(18),
    ]);
    // Order-8 points (Wycheproof / libsodium's blocklist).
    points.push(le(
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    ));
    points.push(le(
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    ));
    for i in 0..32 {
        let mut x = [0u8; 32];
        x[i] = 0xff;
        points.push(x);
        let mut y = [0xffu8; 32];
        y[i] = 0;
        points.push(y);
    }
    let with_high: Vec<[u8; 32]> = points
        .iter()
        .map(|p| {
            let mut q = *p;
            q[31] |= 0x80;
            q
        })
        .collect();
    points.extend(with_high);
    let mut scalars = vec![[0u8; 32], [0xffu8; 32]];
    scalars.extend(random_pairs(3, 3).into_iter().map(|p| p.0));
    let pairs: Vec<([u8; 32], [u8; 32])> = scalars
        .iter()
        .flat_map(|k| points.iter().map(move |u| (*k, *u)))
        .collect();
    for b in supported() {
        let got = run(b, &pairs);
        for (i, (k, u)) in pairs.iter().enumerate() {
            assert_eq!(got[i], reference(k, u), "{} pair {i}", b.name());
        }
    }
    // The low-order ones really are zero (an independent fact, not just agreement).
    for b in supported() {
        let zero = run(b, &[(scalars[2], small(0)), (scalars[2], small(1))]);
        assert_eq!(zero, vec![[0u8; 32]; 2]);
    }
}

/// Forced backends: each is either supported (and then identical to dalek) or refused
/// with `UnsupportedBackend`, never silently replaced; detection picks a supported
/// one, the vector backend exactly when the CPU has AVX-512 IFMA.
#[test]
fn forced_backends_and_fallback() {
    let pairs = random_pairs(4, 9);
    let refs: Vec<(&[u8; 32], &[u8; 32])> = pairs.iter().map(|(k, u)| (k, u)).collect();
    for &b in Backend::ALL {
        let mut out = vec![[0u8; 32]; pairs.len()];
        let r = x25519_pairs_with(b, &refs, &mut out);
        if b.is_supported() {
            r.unwrap();
            for (i, (k, u)) in pairs.iter().enumerate() {
                assert_eq!(out[i], reference(k, u));
            }
        } else {
            assert_eq!(
                r,
                Err(Error::Misuse(Misuse::UnsupportedBackend { name: b.name() }))
            );
        }
    }
    assert!(Backend::Portable.is_supported());
    let detected = Backend::detect();
    assert!(detected.is_supported());
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        detected == Backend::Ifma,
        std::arch::is_x86_feature_detected!("avx512ifma")
            && std::arch::is_x86_feature_detected!("avx512f")
    );
    // Length mismatch is a typed error.
    let mut short = vec![[0u8; 32]; 3];
    assert!(matches!(
        x25519_pairs_with(Backend::Portable, &refs, &mut short),
        Err(Error::Misuse(Misuse::VectorLengthMismatch { .. }))
    ));
}
