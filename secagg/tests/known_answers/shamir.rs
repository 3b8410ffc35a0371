//! Shamir secret sharing over the `Scalar` field: property tests, every invalid input,
//! `LagrangeAtZero` against `reconstruct`, a check that t − 1 shares are consistent
//! with every candidate secret, and our own vectors (tests/vectors/shamir.json,
//! computed with Python integers).

use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::shamir::{
    eval_point, reconstruct, split, LagrangeAtZero, SecretScalar, Share, MAX_POINT,
};
use secagg::{EncodingError, Error, Misuse, PeerMisbehaved, ThresholdError};
use subtle::ConstantTimeEq;

/// ℓ, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

fn same(a: &SecretScalar, b: &SecretScalar) -> bool {
    bool::from(a.ct_eq(b))
}

fn y_of(s: &Share) -> Scalar {
    Scalar::from_canonical_bytes(*s.y_bytes()).unwrap()
}

fn scalar_of(s: &SecretScalar) -> Scalar {
    Scalar::from_canonical_bytes(*s.to_bytes()).unwrap()
}

/// Points for a test: the dense `id + 1` for ids 0..n, or n sparse ids.
fn points(n: usize, sparse: &[u32]) -> Vec<u64> {
    if sparse.is_empty() {
        (0..n as u32).map(eval_point).collect()
    } else {
        sparse.iter().take(n).map(|&id| eval_point(id)).collect()
    }
}

// ---- properties ----------------------------------------------------------------------

proptest! {
    /// Any t-subset (in any order) and any larger subset reconstructs; t − 1 shares
    /// give NotEnoughShares; LagrangeAtZero over the subset's points agrees.
    #[test]
    fn any_t_subset_reconstructs(
        n in 1usize..=20,
        t_frac in 0.0f64..1.0,
        seed in any::<[u8; 32]>(),
        sparse_ids in prop_oneof![
            Just(Vec::new()),
            prop::collection::btree_set(any::<u32>(), 20).prop_map(|s| s.into_iter().collect()),
        ],
        order in prop::collection::vec(any::<prop::sample::Index>(), 20),
        extra in 0usize..=20,
    ) {
        let t = 1 + ((n as f64) * t_frac) as usize; // 1..=n
        let t = t.min(n);
        let mut rng = seeded_rng(seed);
        let secret = SecretScalar::random(&mut rng);
        let xs = points(n, &sparse_ids);
        let shares = split(&secret, t, &xs, &mut rng).unwrap();
        prop_assert_eq!(shares.len(), n);
        for (s, &x) in shares.iter().zip(&xs) {
            prop_assert_eq!(s.x(), x);
        }

        // A random permutation of the shares (Fisher–Yates driven by `order`).
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            perm.swap(i, order[i].index(i + 1));
        }
        let pick = |k: usize| -> Vec<Share> { perm[..k].iter().map(|&i| shares[i].clone()).collect() };

        let subset = pick(t);
        prop_assert!(same(&reconstruct(&subset, t).unwrap(), &secret));
        let more = pick(t + extra.min(n - t));
        prop_assert!(same(&reconstruct(&more, t).unwrap(), &secret));

        let xs_sub: Vec<u64> = subset.iter().map(Share::x).collect();
        let lag = LagrangeAtZero::new(&xs_sub).unwrap();
        prop_assert_eq!(lag.points(), &xs_sub[..]);
        let refs: Vec<&Share> = subset.iter().collect();
        prop_assert!(same(&lag.combine(&refs).unwrap(), &secret));

        let fewer = pick(t - 1);
        prop_assert_eq!(
            reconstruct(&fewer, t).err(),
            Some(Error::Threshold(ThresholdError::NotEnoughShares { needed: t, got: t - 1 }))
        );
    }

    /// One LagrangeAtZero, reused across many secrets shared at the same points,
    /// gives what reconstruct gives for each.
    #[test]
    fn lagrange_at_zero_equals_reconstruct(
        n in 2usize..=20,
        t_frac in 0.0f64..1.0,
        seed in any::<[u8; 32]>(),
        secrets in 1usize..8,
    ) {
        let t = (1 + ((n as f64) * t_frac) as usize).min(n);
        let mut rng = seeded_rng(seed);
        let xs: Vec<u64> = (0..n as u32).map(eval_point).collect();
        let survivors: Vec<u64> = xs.iter().rev().take(t).copied().collect();
        let lag = LagrangeAtZero::new(&survivors).unwrap();
        for _ in 0..secrets {
            let secret = SecretScalar::random(&mut rng);
            let shares = split(&secret, t, &xs, &mut rng).unwrap();
            let used: Vec<Share> = shares.iter().rev().take(t).cloned().collect();
            let refs: Vec<&Share> = used.iter().collect();
            let via_lag = lag.combine(&refs).unwrap();
            let via_rec = reconstruct(&used, t).unwrap();
            prop_assert!(same(&via_lag, &via_rec));
            prop_assert!(same(&via_lag, &secret));
        }
    }

    /// Shares survive their byte encoding.
    #[test]
    fn share_bytes_round_trip(seed in any::<[u8; 32]>(), id in any::<u32>()) {
        let mut rng = seeded_rng(seed);
        let secret = SecretScalar::random(&mut rng);
        let x = eval_point(id);
        let s = &split(&secret, 1, &[x], &mut rng).unwrap()[0];
        let back = Share::from_bytes(s.x(), &s.y_bytes()).unwrap();
        prop_assert_eq!(back.x(), x);
        prop_assert_eq!(*back.y_bytes(), *s.y_bytes());
        // t = 1: the share is the secret.
        prop_assert_eq!(*s.y_bytes(), *secret.to_bytes());
    }
}

// ---- invalid inputs ------------------------------------------------------------------

#[test]
fn zero_point_is_rejected_everywhere() {
    let mut rng = seeded_rng([1; 32]);
    let s = SecretScalar::random(&mut rng);
    assert_eq!(
        Share::from_bytes(0, &[1; 32]).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex))
    );
    assert_eq!(
        split(&s, 2, &[1, 0, 2], &mut rng).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex))
    );
    assert_eq!(
        LagrangeAtZero::new(&[3, 0]).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex))
    );
}

#[test]
fn out_of_range_point_is_rejected_everywhere() {
    let mut rng = seeded_rng([2; 32]);
    let s = SecretScalar::random(&mut rng);
    assert_eq!(MAX_POINT, 1 << 32);
    assert_eq!(MAX_POINT, eval_point(u32::MAX));
    for x in [MAX_POINT + 1, u64::MAX] {
        let e = Some(Error::PeerMisbehaved(
            PeerMisbehaved::ShareIndexOutOfRange { x },
        ));
        assert_eq!(Share::from_bytes(x, &[1; 32]).err(), e);
        assert_eq!(split(&s, 1, &[1, x], &mut rng).err(), e);
        assert_eq!(LagrangeAtZero::new(&[x, 1]).err(), e);
    }
    assert!(Share::from_bytes(MAX_POINT, &[1; 32]).is_ok());
    let shares = split(&s, 2, &[MAX_POINT, MAX_POINT - 1], &mut rng).unwrap();
    assert!(same(&reconstruct(&shares, 2).unwrap(), &s));
}

#[test]
fn duplicate_points_are_rejected_everywhere() {
    let mut rng = seeded_rng([3; 32]);
    let s = SecretScalar::random(&mut rng);
    assert_eq!(
        split(&s, 2, &[4, 5, 4], &mut rng).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
            x: 4
        }))
    );
    assert_eq!(
        LagrangeAtZero::new(&[7, 1, 7]).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
            x: 7
        }))
    );
    let shares = split(&s, 2, &[1, 2, 3], &mut rng).unwrap();
    // Same share twice.
    let dup = vec![shares[0].clone(), shares[0].clone()];
    assert_eq!(
        reconstruct(&dup, 2).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
            x: 1
        }))
    );
    // Same point, different value.
    let forged = Share::from_bytes(2, &shares[0].y_bytes()).unwrap();
    let mixed = vec![shares[1].clone(), forged];
    assert_eq!(
        reconstruct(&mixed, 2).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
            x: 2
        }))
    );
    // A duplicate beyond the first t shares is still caught.
    let late = vec![
        shares[0].clone(),
        shares[1].clone(),
        shares[2].clone(),
        shares[0].clone(),
    ];
    assert_eq!(
        reconstruct(&late, 2).err(),
        Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
            x: 1
        }))
    );
}

#[test]
fn non_canonical_values_are_rejected() {
    let mut ell_plus_one = ELL;
    ell_plus_one[0] += 1;
    let mut ell_minus_one = ELL;
    ell_minus_one[0] -= 1;
    let mut two_255 = [0u8; 32];
    two_255[31] = 0x80;
    for y in [ELL, ell_plus_one, two_255, [0xff; 32]] {
        assert_eq!(
            Share::from_bytes(1, &y).err(),
            Some(Error::Encoding(EncodingError::NonCanonicalScalar))
        );
        assert_eq!(
            SecretScalar::from_canonical_bytes(&y).err(),
            Some(Error::Encoding(EncodingError::NonCanonicalScalar))
        );
    }
    assert!(Share::from_bytes(1, &ell_minus_one).is_ok());
    assert!(Share::from_bytes(1, &[0; 32]).is_ok());
    assert!(SecretScalar::from_canonical_bytes(&ell_minus_one).is_ok());
}

#[test]
fn bad_thresholds() {
    let mut rng = seeded_rng([4; 32]);
    let s = SecretScalar::random(&mut rng);
    assert_eq!(
        split(&s, 0, &[1, 2], &mut rng).err(),
        Some(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 0,
            parties: 2
        }))
    );
    assert_eq!(
        split(&s, 3, &[1, 2], &mut rng).err(),
        Some(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 3,
            parties: 2
        }))
    );
    assert_eq!(
        split(&s, 1, &[], &mut rng).err(),
        Some(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 1,
            parties: 0
        }))
    );
    let shares = split(&s, 2, &[1, 2, 3], &mut rng).unwrap();
    assert_eq!(
        reconstruct(&shares, 0).err(),
        Some(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 0,
            parties: 3
        }))
    );
    assert_eq!(
        reconstruct(&[], 1).err(),
        Some(Error::Threshold(ThresholdError::NotEnoughShares {
            needed: 1,
            got: 0
        }))
    );
    assert_eq!(
        LagrangeAtZero::new(&[]).err(),
        Some(Error::Threshold(ThresholdError::NotEnoughShares {
            needed: 1,
            got: 0
        }))
    );
}

#[test]
fn combine_checks_count_and_points() {
    let mut rng = seeded_rng([5; 32]);
    let s = SecretScalar::random(&mut rng);
    let shares = split(&s, 3, &[1, 2, 3, 4], &mut rng).unwrap();
    let lag = LagrangeAtZero::new(&[1, 2, 3]).unwrap();
    let r: Vec<&Share> = shares.iter().collect();
    assert_eq!(
        lag.combine(&r[..2]).err(),
        Some(Error::Misuse(Misuse::ShareCountMismatch {
            expected: 3,
            found: 2
        }))
    );
    assert_eq!(
        lag.combine(&r).err(),
        Some(Error::Misuse(Misuse::ShareCountMismatch {
            expected: 3,
            found: 4
        }))
    );
    // Right count, wrong point at position 2.
    assert_eq!(
        lag.combine(&[r[0], r[1], r[3]]).err(),
        Some(Error::Misuse(Misuse::SharePointMismatch {
            expected: 3,
            found: 4
        }))
    );
    // Right points, wrong order.
    assert_eq!(
        lag.combine(&[r[1], r[0], r[2]]).err(),
        Some(Error::Misuse(Misuse::SharePointMismatch {
            expected: 1,
            found: 2
        }))
    );
    assert!(same(&lag.combine(&r[..3]).unwrap(), &s));
}

// ---- t − 1 shares do not pin the secret ----------------------------------------------

/// Coefficients (constant first) of the unique polynomial of degree < k through the k
/// points, by expanding the Lagrange basis. Independent of the library's code.
fn interpolate(pts: &[(Scalar, Scalar)]) -> Vec<Scalar> {
    let k = pts.len();
    let mut coeffs = vec![Scalar::ZERO; k];
    for (j, &(xj, yj)) in pts.iter().enumerate() {
        // basis = Π_{m≠j} (X − x_m), built up one factor at a time.
        let mut basis = vec![Scalar::ONE];
        let mut denom = Scalar::ONE;
        for (m, &(xm, _)) in pts.iter().enumerate() {
            if m == j {
                continue;
            }
            let mut next = vec![Scalar::ZERO; basis.len() + 1];
            for (i, &c) in basis.iter().enumerate() {
                next[i + 1] += c;
                next[i] -= c * xm;
            }
            basis = next;
            denom *= xj - xm;
        }
        let scale = yj * denom.invert();
        for (c, b) in coeffs.iter_mut().zip(&basis) {
            *c += scale * b;
        }
    }
    coeffs
}

fn horner(coeffs: &[Scalar], x: Scalar) -> Scalar {
    coeffs.iter().rev().fold(Scalar::ZERO, |acc, c| acc * x + c)
}

/// For t − 1 shares and each of many candidate secrets s' (0..=255, ℓ − 1, the true
/// secret and 64 random ones): the polynomial through (0, s') and the t − 1 shares has
/// degree ≤ t − 1, evaluates to every one of those shares, and a dealer holding s'
/// would hand out exactly these t − 1 shares; adding that dealer's share at a fresh
/// point makes the library reconstruct s'. So t − 1 shares are consistent with every
/// candidate secret.
#[test]
fn t_minus_1_shares_are_consistent_with_every_candidate_secret() {
    let mut rng = seeded_rng([6; 32]);
    let mut checked = 0usize;
    for (n, t) in [(2usize, 2usize), (3, 2), (5, 3), (8, 5), (10, 10)] {
        let secret = SecretScalar::random(&mut rng);
        let xs: Vec<u64> = (0..n as u32).map(eval_point).collect();
        let shares = split(&secret, t, &xs, &mut rng).unwrap();
        let seen = &shares[..t - 1];
        let fresh_x = *xs.last().unwrap() + 1;

        let mut candidates: Vec<Scalar> = (0u64..=255).map(Scalar::from).collect();
        candidates.push(-Scalar::ONE); // ℓ − 1
        candidates.push(scalar_of(&secret));
        for _ in 0..64 {
            candidates.push(scalar_of(&SecretScalar::random(&mut rng)));
        }
        for cand in candidates {
            let mut pts = vec![(Scalar::ZERO, cand)];
            pts.extend(seen.iter().map(|s| (Scalar::from(s.x()), y_of(s))));
            let f = interpolate(&pts);
            assert_eq!(f.len(), t, "degree at most t - 1");
            assert_eq!(horner(&f, Scalar::ZERO), cand);
            for s in seen {
                assert_eq!(horner(&f, Scalar::from(s.x())), y_of(s));
            }
            let mut with_fresh: Vec<Share> = seen.to_vec();
            let y_fresh = horner(&f, Scalar::from(fresh_x));
            with_fresh.push(Share::from_bytes(fresh_x, &y_fresh.to_bytes()).unwrap());
            let r = reconstruct(&with_fresh, t).unwrap();
            assert_eq!(scalar_of(&r), cand);
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * (256 + 2 + 64));
}

/// `split` evaluates one polynomial of degree exactly t − 1 with the secret as constant
/// term and fresh random coefficients: all n shares lie on the polynomial through the
/// first t of them, its constant term is the secret, none of its other coefficients is
/// zero (probability t/ℓ of a false failure), and splitting the same secret again gives
/// different shares.
#[test]
fn split_uses_a_fresh_polynomial_of_degree_t_minus_1() {
    let mut rng = seeded_rng([7; 32]);
    for (n, t) in [(4usize, 1usize), (3, 2), (6, 4), (10, 10), (20, 7)] {
        let secret = SecretScalar::random(&mut rng);
        let xs: Vec<u64> = (0..n as u32).map(eval_point).collect();
        let shares = split(&secret, t, &xs, &mut rng).unwrap();
        let pts: Vec<(Scalar, Scalar)> = shares[..t]
            .iter()
            .map(|s| (Scalar::from(s.x()), y_of(s)))
            .collect();
        let f = interpolate(&pts);
        assert_eq!(f[0], scalar_of(&secret));
        assert!(f[1..].iter().all(|c| *c != Scalar::ZERO));
        for s in &shares {
            assert_eq!(horner(&f, Scalar::from(s.x())), y_of(s));
        }
        let again = split(&secret, t, &xs, &mut rng).unwrap();
        for (a, b) in shares.iter().zip(&again) {
            assert_eq!(a.x(), b.x());
            if t == 1 {
                assert_eq!(*a.y_bytes(), *secret.to_bytes());
                assert_eq!(*a.y_bytes(), *b.y_bytes());
            } else {
                assert_ne!(*a.y_bytes(), *b.y_bytes());
            }
        }
    }
}

// ---- our vectors: tests/vectors/shamir.json ------------------------------------------

fn shares_of(t: &serde_json::Value) -> Result<Vec<Share>, Error> {
    t["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let x = s[0].as_u64().unwrap();
            let y: [u8; 32] = hex::decode(s[1].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            Share::from_bytes(x, &y)
        })
        .collect()
}

/// Every subset of `shares` by bit mask.
fn subsets(shares: &[Share]) -> impl Iterator<Item = Vec<Share>> + '_ {
    (0u32..1 << shares.len()).map(move |mask| {
        shares
            .iter()
            .enumerate()
            .filter(|(i, _)| mask >> i & 1 == 1)
            .map(|(_, s)| s.clone())
            .collect()
    })
}

#[test]
fn our_shamir_vectors() {
    let file = crate::common::parse(include_str!("../vectors/shamir.json"));
    let (mut valid, mut errors, mut subsets_checked) = (0usize, 0usize, 0usize);
    for t in crate::common::tests(&file) {
        let tc = crate::common::tc(t);
        let threshold = usize::try_from(crate::common::uint(t, "threshold")).unwrap();
        match crate::common::str_field(t, "result") {
            "valid" => {
                let secret = crate::common::array::<32>(t, "secret");
                let shares = shares_of(t).unwrap();
                for sub in subsets(&shares) {
                    if sub.len() >= threshold {
                        let r = reconstruct(&sub, threshold).unwrap();
                        assert_eq!(*r.to_bytes(), secret, "tc {tc}");
                        let xs: Vec<u64> = sub.iter().map(Share::x).collect();
                        let refs: Vec<&Share> = sub.iter().collect();
                        let lag = LagrangeAtZero::new(&xs).unwrap();
                        assert_eq!(*lag.combine(&refs).unwrap().to_bytes(), secret, "tc {tc}");
                    } else {
                        assert_eq!(
                            reconstruct(&sub, threshold).err(),
                            Some(Error::Threshold(ThresholdError::NotEnoughShares {
                                needed: threshold,
                                got: sub.len()
                            })),
                            "tc {tc}"
                        );
                    }
                    subsets_checked += 1;
                }
                valid += 1;
            }
            "error" => {
                let got = shares_of(t).and_then(|s| reconstruct(&s, threshold));
                let e = got.err().unwrap_or_else(|| panic!("tc {tc} must fail"));
                assert_eq!(
                    crate::common::variant_name(&e),
                    crate::common::str_field(t, "error"),
                    "tc {tc}"
                );
                errors += 1;
            }
            other => panic!("tc {tc}: unknown result {other}"),
        }
    }
    assert_eq!((valid, errors), (7, 8));
    // 2^5 + 2^3 + 2^4 + 2^3 + 2^4 + 2^3 + 2^10 subsets.
    assert_eq!(subsets_checked, 32 + 8 + 16 + 8 + 16 + 8 + 1024);
}
