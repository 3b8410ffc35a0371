//! The distributed-DP pipeline (`secagg::dp::pipeline`, `secagg::dp::rotation`) and its
//! float-session integration: the rotation against an explicit Hadamard matrix, its
//! inverse exact on integers; many rounds of DP sessions at fixed inputs whose error
//! (DP sum − true sum) has the variance the session reports and mean zero, with no
//! drop-out and with the most it tolerates; the rate of modular wrap the analysis
//! predicts; a whole simulated session; bad input refused with typed errors.
//!
//! Statistical checks use fixed seeds and tolerances of 6 standard errors (a false
//! failure, were the seeds changed, has probability below 2·10^-9 per check by the
//! normal approximation; 10 checks in all).

use std::convert::Infallible;

use secagg::crypto::rng::seeded_rng;
use secagg::dp::pipeline::{DistributedDp, ROUNDING_TRIES};
use secagg::dp::rotation::{fwht_f64, fwht_i128, Rotation};
use secagg::dp::Mechanism;
use secagg::ring::RingVec;
use secagg::session::FloatSession;
use secagg::sim::{run, DropSchedule};
use secagg::{DpError, Error, Misuse, Round};

/// `(−1)^popcount(i & j)`: Sylvester's Hadamard matrix, entry by entry.
fn hadamard(i: usize, j: usize) -> f64 {
    if (i & j).count_ones().is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

#[test]
fn rotation_is_the_signed_hadamard_matrix_and_orthogonal() {
    for l in [1usize, 2, 8, 64] {
        let rot = Rotation::from_seed([l as u8; 32], l).unwrap();
        // Column j of R = H·D/√L, computed by the fast transform.
        let cols: Vec<Vec<f64>> = (0..l)
            .map(|j| {
                let mut e = vec![0.0; l];
                e[j] = 1.0;
                rot.forward(&mut e).unwrap();
                e
            })
            .collect();
        let s = 1.0 / (l as f64).sqrt();
        for (j, col) in cols.iter().enumerate() {
            let d = if rot.is_negative(j) { -1.0 } else { 1.0 };
            for (i, &v) in col.iter().enumerate() {
                assert!(
                    (v - hadamard(i, j) * d * s).abs() < 1e-15,
                    "L {l} ({i}, {j})"
                );
            }
            for (k, other) in cols.iter().enumerate() {
                let dot: f64 = col.iter().zip(other).map(|(a, b)| a * b).sum();
                let want = if j == k { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "L {l}: columns {j} {k}: {dot}");
            }
        }
    }
    // Signs are balanced (binomial over 2^16 coordinates: mean 2^15, sd 128).
    let rot = Rotation::from_seed([9; 32], 1 << 16).unwrap();
    let neg = (0..1 << 16).filter(|&j| rot.is_negative(j)).count() as f64;
    assert!((neg - 32768.0).abs() < 6.0 * 128.0, "{neg}");
}

#[test]
fn inverse_is_exact_on_integers_and_undoes_forward_on_floats() {
    let l = 1024;
    let rot = Rotation::from_seed([3; 32], l).unwrap();
    let mut rng = seeded_rng([4; 32]);
    use secagg::crypto::rng::Rng;
    // Integers: D·H·y in i128, then H·D of it is L·y exactly.
    let y: Vec<i64> = (0..l)
        .map(|_| (rng.next_u64() >> 2) as i64 - (1i64 << 61))
        .collect();
    let mut back = rot.inverse_integer(&y).unwrap();
    for (j, v) in back.iter_mut().enumerate() {
        if rot.is_negative(j) {
            *v = -*v;
        }
    }
    fwht_i128(&mut back);
    for (a, &b) in back.iter().zip(&y) {
        assert_eq!(*a, i128::from(b) * l as i128);
    }
    // Floats: inverse(forward(x)) = x to rounding, and the norm is kept.
    let x: Vec<f64> = (0..l)
        .map(|_| (rng.next_u64() >> 11) as f64 / 2f64.powi(53) - 0.5)
        .collect();
    let mut v = x.clone();
    rot.forward(&mut v).unwrap();
    let n0: f64 = x.iter().map(|a| a * a).sum();
    let n1: f64 = v.iter().map(|a| a * a).sum();
    assert!((n0 - n1).abs() < 1e-12 * n0);
    rot.inverse(&mut v).unwrap();
    for (a, b) in v.iter().zip(&x) {
        assert!((a - b).abs() < 1e-14, "{a} {b}");
    }
    // H·H = L·I on floats too.
    let mut w = x.clone();
    fwht_f64(&mut w);
    fwht_f64(&mut w);
    for (a, b) in w.iter().zip(&x) {
        assert!((a / l as f64 - b).abs() < 1e-13);
    }
    // The wrong length is a typed error.
    assert!(matches!(
        rot.forward(&mut [0.0; 3]),
        Err(Error::Misuse(Misuse::InputLength { .. }))
    ));
}

/// The fixed inputs of `n` clients: client 0's update has norm 3c (it is clipped);
/// the others have norms below c.
fn inputs(n: usize, d: usize, clip: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let raw: Vec<f64> = (0..d)
                .map(|j| ((i * 31 + j * 7) as f64 * 0.37).sin())
                .collect();
            let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
            let target = if i == 0 {
                3.0 * clip
            } else {
                clip * (0.2 + 0.7 * (i as f64 / n as f64))
            };
            raw.iter().map(|v| v * target / norm).collect()
        })
        .collect()
}

/// The sum of the inputs after L2 clipping, computed directly.
fn true_sum(xs: &[Vec<f64>], which: &[usize], clip: f64) -> Vec<f64> {
    let d = xs[0].len();
    let mut s = vec![0.0; d];
    for &i in which {
        let norm = xs[i].iter().map(|v| v * v).sum::<f64>().sqrt();
        let f = if norm > clip { clip / norm } else { 1.0 };
        for (a, v) in s.iter_mut().zip(&xs[i]) {
            *a += v * f;
        }
    }
    s
}

/// `rounds` rounds of one DP session at fixed inputs, the ring sum of the clients in
/// `which` taken directly (the protocol's sum is checked elsewhere, and once below):
/// the decoded errors, pooled over rounds and coordinates, against the reported noise.
fn check_error_statistics(session: &FloatSession, which: &[usize], rounds: usize, seed: u8) {
    let n = session.config().n();
    let d = session.dims()[0];
    let clip = session.quantizer().config().clip;
    let xs = inputs(n, d, clip);
    let want = true_sum(&xs, which, clip);
    let ring = session.config().vectors()[0].ring;
    let len = session.config().vectors()[0].dim;
    let mut errors = Vec::with_capacity(rounds * d);
    let mut report = None;
    for r in 0..rounds {
        let mut sum = RingVec::zeros(&ring, len);
        for &i in which {
            let mut rng = seeded_rng([
                seed,
                (r >> 8) as u8,
                r as u8,
                i as u8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ]);
            let e = session.encode(&xs[i], 1, &mut rng).unwrap();
            assert_eq!(e.clipped(), usize::from(i == 0));
            sum.add_assign(&ring, &e.vectors()[0]).unwrap();
        }
        let agg = session.decode(&[sum], which.len()).unwrap().remove(0);
        errors.extend(agg.sum.iter().zip(&want).map(|(a, b)| a - b));
        report = agg.dp;
    }
    let report = report.unwrap();
    let dp = session.dp().unwrap();
    // The report against its definition, computed here.
    let g2 = dp.gamma * dp.gamma;
    let k = which.len() as f64;
    assert_eq!(report.included, which.len());
    assert!((report.noise_variance - k * dp.variance * g2).abs() <= 1e-12 * report.noise_variance);
    assert!(
        (report.rounding_variance_bound - k * g2 / 4.0).abs()
            <= 1e-12 * report.rounding_variance_bound
    );
    let m = errors.len() as f64;
    let mean = errors.iter().sum::<f64>() / m;
    let var = errors.iter().map(|e| e * e).sum::<f64>() / m;
    // Var(error) lies between the DP noise and the noise plus the rounding's most.
    let lo = report.noise_variance;
    let hi = report.noise_variance + report.rounding_variance_bound;
    // The mean square of m uncorrelated errors of variance v has standard error
    // v·√(2/m) (normal tails; the rotated sums of many draws are close to normal).
    let se = hi * (2.0 / m).sqrt();
    assert!(
        var >= lo - 6.0 * se && var <= hi + 6.0 * se,
        "var {var}, want [{lo}, {hi}] ± {}",
        6.0 * se
    );
    assert!(
        mean.abs() <= 6.0 * (hi / m).sqrt(),
        "mean {mean}, sd {}",
        (hi / m).sqrt()
    );
}

fn dp_session(n: usize, d: usize, dp: DistributedDp) -> FloatSession {
    FloatSession::builder(n)
        .dim(d)
        .rates(0.2, 0.0)
        .complete()
        .threshold(n / 2 + 1)
        .clip(2.0)
        .bits(10)
        .dp(dp)
        .build()
        .unwrap()
}

#[test]
fn noise_matches_the_report_without_and_with_drop_outs() {
    for mechanism in Mechanism::ALL {
        let dp = DistributedDp::noise_multiplier(1.5).mechanism(mechanism);
        let s = dp_session(10, 50, dp);
        let p = s.dp().unwrap();
        // The finder's D = floor(0.2 · 10) = 2 drop-outs, no corrupt clients.
        assert_eq!((p.min_survivors, p.colluding), (8, 0));
        assert_eq!(s.config().vectors()[0].dim, 64);
        // Calibration: at 8 survivors the noise's sd is z·c.
        let at_min = p.noise_report(8).unwrap();
        assert!(
            (at_min.noise_stddev - 1.5 * 2.0).abs() < 1e-9,
            "{}",
            at_min.noise_stddev
        );
        assert!(!at_min.below_target);
        assert!(p.noise_report(7).unwrap().below_target);
        // More survivors: more noise and a smaller ε.
        let all = p.noise_report(10).unwrap();
        assert!(all.epsilon < at_min.epsilon && at_min.epsilon == p.epsilon);
        check_error_statistics(&s, &(0..10).collect::<Vec<_>>(), 120, 1);
        check_error_statistics(&s, &[0, 1, 3, 4, 5, 7, 8, 9], 120, 2);
    }
}

#[test]
fn without_the_finders_bounds_the_noise_is_calibrated_for_the_threshold() {
    // Degree 2, threshold 2 miss the finder's targets: no tolerated drop-out is known,
    // and no session completes with fewer than t = 2 survivors.
    let s = FloatSession::builder(10)
        .dim(8)
        .harary(2)
        .threshold(2)
        .dp(DistributedDp::noise_multiplier(1.0))
        .build()
        .unwrap();
    assert!(s.choice().params().is_none());
    let p = s.dp().unwrap();
    assert_eq!((p.min_survivors, p.colluding), (2, 0));
    assert!((p.noise_report(2).unwrap().noise_stddev - 1.0).abs() < 1e-9);
}

#[test]
fn a_target_epsilon_is_met_at_the_fewest_survivors() {
    for mechanism in Mechanism::ALL {
        let s = dp_session(
            10,
            50,
            DistributedDp::epsilon(2.0, 1e-5).mechanism(mechanism),
        );
        let p = s.dp().unwrap();
        assert!(
            p.epsilon <= 2.0 + 1e-9 && p.epsilon > 1.5,
            "{mechanism}: {}",
            p.epsilon
        );
        assert_eq!(p.noise_report(8).unwrap().epsilon, p.epsilon);
    }
}

/// Standard normal upper tail by Simpson's rule (independent of the crate's erfc).
fn normal_tail(x: f64) -> f64 {
    let steps = 20_000;
    let h = 12.0 / steps as f64;
    let f = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(x) + f(x + 12.0);
    for i in 1..steps {
        s += f(x + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn modular_wrap_happens_as_often_as_the_analysis_predicts() {
    // Zero inputs: the rotated sum is the noise alone, Σ of 10 draws of variance σ²,
    // and the ring holds k = 1.5 of the conservative sd: a coordinate wraps when its
    // integer sum leaves [−2^(b−1), 2^(b−1)), with the normal probability below.
    let n = 10;
    let s = FloatSession::builder(n)
        .dim(64)
        .rates(0.0, 0.0)
        .complete()
        .threshold(6)
        .clip(1.0)
        .bits(2)
        .dp(DistributedDp::noise_multiplier(40.0).k_stddevs(1.5))
        .build()
        .unwrap();
    let p = s.dp().unwrap();
    let b = p.ring_bits;
    let sd = (n as f64 * p.variance).sqrt();
    let half = 2f64.powi(b as i32 - 1);
    let predicted = 2.0 * normal_tail(half / sd);
    assert!(predicted > 0.01 && predicted < 0.5, "{predicted}");
    assert!((p.noise_wrap_probability(n) - predicted).abs() < 1e-4 + 1e-3 * predicted);
    let (mut wraps, mut total) = (0u64, 0u64);
    let zeros = vec![0.0f64; 64];
    for r in 0..300u32 {
        let mut ints = vec![0i128; 64];
        let mut ring_sum = vec![0u64; 64];
        for i in 0..n {
            let mut seed = [7u8; 32];
            seed[..4].copy_from_slice(&r.to_le_bytes());
            seed[4] = i as u8;
            let e = s.encode(&zeros, 1, &mut seeded_rng(seed)).unwrap();
            for (j, w) in e.vectors()[0].to_u64s().into_iter().enumerate() {
                // One client's word is its noise, far inside the ring: centre it.
                ints[j] += i128::from(secagg::dp::pipeline::centre(w, b));
                ring_sum[j] = (ring_sum[j] + w) & (u64::MAX >> (64 - b));
            }
        }
        for (j, &v) in ints.iter().enumerate() {
            total += 1;
            let wrapped = v < -(half as i128) || v >= half as i128;
            wraps += u64::from(wrapped);
            // The ring's centred sum is the integer sum, wrapped.
            let c = i128::from(secagg::dp::pipeline::centre(ring_sum[j], b));
            assert_eq!((v - c).rem_euclid(1i128 << b), 0);
            assert_eq!(c == v, !wrapped);
        }
    }
    let want = predicted * total as f64;
    let sd_count = (total as f64 * predicted * (1.0 - predicted)).sqrt();
    assert!(
        (wraps as f64 - want).abs() <= 6.0 * sd_count + 0.01 * want,
        "{wraps} wraps in {total}, predicted {want:.1} ± {sd_count:.1}"
    );
}

#[test]
fn a_simulated_session_with_a_drop_out_decodes_its_included_clients() {
    let n = 6;
    let s = FloatSession::builder(n)
        .dim(20)
        .rates(0.2, 0.0)
        .complete()
        .threshold(4)
        .clip(1.0)
        .bits(12)
        .context(*b"dp sim")
        .dp(DistributedDp::noise_multiplier(1.0).mechanism(Mechanism::Skellam))
        .build()
        .unwrap();
    let xs = inputs(n, 20, 1.0);
    let encoded: Vec<_> = (0..n)
        .map(|i| {
            s.encode(&xs[i], 1, &mut seeded_rng([i as u8 + 1; 32]))
                .unwrap()
        })
        .collect();
    let mut sched = DropSchedule::none(n);
    sched.set(2, Some(Round::MaskedInputCollection));
    let report = run(
        s.config().clone(),
        encoded.iter().map(|e| e.vectors().to_vec()).collect(),
        None,
        &sched,
        [5; 32],
    )
    .unwrap();
    assert_eq!(report.output.included, vec![0, 1, 3, 4, 5]);
    // The protocol's sum is the ring sum of the included clients' words.
    let ring = s.config().vectors()[0].ring;
    let mut want = RingVec::zeros(&ring, 32);
    for &i in &report.output.included {
        want.add_assign(&ring, &encoded[i as usize].vectors()[0])
            .unwrap();
    }
    assert_eq!(report.output.sums[0], want);
    let agg = s.decode_first(&report.output).unwrap();
    let noise = agg.dp.unwrap();
    assert_eq!((noise.included, noise.mechanism), (5, Mechanism::Skellam));
    let truth = true_sum(&xs, &[0, 1, 3, 4, 5], 1.0);
    // Within 6 sd of the reported noise (and rounding) per coordinate.
    let sd = (noise.noise_variance + noise.rounding_variance_bound).sqrt();
    for (a, b) in agg.sum.iter().zip(&truth) {
        assert!((a - b).abs() < 6.0 * sd, "{a} {b} {sd}");
    }
}

#[test]
fn the_dp_parameters_are_bound_into_the_session_id() {
    let base = || {
        FloatSession::builder(10)
            .dim(50)
            .rates(0.2, 0.0)
            .complete()
            .threshold(6)
    };
    let dp = DistributedDp::noise_multiplier(1.0);
    let plain = base().build().unwrap();
    let a = base().dp(dp).build().unwrap();
    let again = base().dp(dp).build().unwrap();
    assert_eq!(a.session_id(), again.session_id());
    assert_ne!(a.session_id(), plain.session_id());
    let ctx = a.config().context();
    assert_eq!(ctx[secagg::session::CONTEXT_HEADER_LEN - 1], 0x01);
    assert_eq!(
        ctx.len(),
        secagg::session::CONTEXT_HEADER_LEN + secagg::dp::pipeline::DP_CONTEXT_LEN
    );
    for other in [
        dp.mechanism(Mechanism::Skellam),
        DistributedDp::noise_multiplier(1.1),
        dp.beta(0.5),
        dp.k_stddevs(5.0),
        dp.delta(1e-6),
        dp.min_survivors(7),
        dp.colluding(1),
    ] {
        let s = base().dp(other).build().unwrap();
        assert_ne!(s.session_id(), a.session_id(), "{other:?}");
    }
    // The session's rotation signs follow the session id: another context, other signs.
    let b = base().context(*b"other").dp(dp).build().unwrap();
    let e = |s: &FloatSession| {
        // (Not one basis vector: H·D·e_0 differs between sign vectors only in D_0.)
        let x: Vec<f64> = (0..50).map(|j| (j as f64 * 0.7).cos() / 8.0).collect();
        s.encode(&x, 1, &mut seeded_rng([1; 32])).unwrap().vectors()[0].to_u64s()
    };
    assert_ne!(e(&a), e(&b));
}

/// A generator that returns only zeros: stochastic rounding then always rounds up.
struct Zeros;

impl rand_core::TryRng for Zeros {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(0);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Zeros {}

#[test]
fn bad_input_is_refused_with_typed_errors() {
    let b = || {
        FloatSession::builder(10)
            .dim(50)
            .rates(0.2, 0.1)
            .complete()
            .threshold(6)
    };
    let err = |dp: DistributedDp| b().dp(dp).build().unwrap_err();
    let name = |e: Error| e.name();
    assert_eq!(
        name(err(DistributedDp::epsilon(0.0, 1e-5))),
        "InvalidEpsilon"
    );
    assert_eq!(
        name(err(DistributedDp::epsilon(-1.0, 1e-5))),
        "InvalidEpsilon"
    );
    assert_eq!(name(err(DistributedDp::epsilon(1.0, 0.0))), "InvalidDelta");
    assert_eq!(name(err(DistributedDp::epsilon(1.0, 1.0))), "InvalidDelta");
    assert_eq!(
        name(err(DistributedDp::noise_multiplier(0.0))),
        "InvalidParameter"
    );
    assert_eq!(
        name(err(DistributedDp::noise_multiplier(f64::NAN))),
        "InvalidParameter"
    );
    assert_eq!(
        name(err(DistributedDp::noise_multiplier(1.0).beta(1.0))),
        "InvalidParameter"
    );
    // 10 clients, D = 2, A = 1: at most 8 survivors to calibrate for, and more than one.
    let dp = DistributedDp::noise_multiplier(1.0);
    assert_eq!(
        err(dp.min_survivors(9)),
        Error::Dp(DpError::NoiseBelowTarget {
            calibrated: 9,
            tolerated: 8,
            colluding: 1
        })
    );
    assert_eq!(name(err(dp.colluding(8))), "NoiseBelowTarget");
    // Weights are refused with DP.
    assert_eq!(
        name(b().weighted(5).dp(dp).build().unwrap_err()),
        "InvalidParameter"
    );
    // A ring narrower than the noise needs names the bits needed.
    let ok = b().dp(dp).build().unwrap();
    let need = ok.ring_bits();
    assert_eq!(
        b().ring_bits(need - 1).dp(dp).build().unwrap_err(),
        Error::Dp(DpError::RingTooNarrowForNoise {
            bits: need - 1,
            bits_needed: need
        })
    );
    assert_eq!(
        b().ring_bits(need).dp(dp).build().unwrap().ring_bits(),
        need
    );
    // Encoding: lengths, non-finite values, weights.
    let mut rng = seeded_rng([0; 32]);
    assert!(matches!(
        ok.encode(&[0.0f64; 49], 1, &mut rng),
        Err(Error::Misuse(Misuse::InputLength { .. }))
    ));
    let mut x = vec![0.0f64; 50];
    x[7] = f64::NAN;
    assert_eq!(
        ok.encode(&x, 1, &mut rng).unwrap_err(),
        Error::Misuse(Misuse::NonFiniteInput { index: 7 })
    );
    assert_eq!(
        name(ok.encode(&[0.0f64; 50], 2, &mut rng).unwrap_err()),
        "WeightOutOfRange"
    );
    // Decoding: the padded length, and no more than n clients.
    let ring = ok.config().vectors()[0].ring;
    assert!(ok.decode(&[RingVec::zeros(&ring, 50)], 5).is_err());
    assert_eq!(
        name(ok.decode(&[RingVec::zeros(&ring, 64)], 11).unwrap_err()),
        "TooManyIncluded"
    );
    // Rounding that always rounds up: a vector whose rotation sits just above integers
    // exceeds the bound at every try.
    let s = FloatSession::builder(4)
        .dim(1024)
        .rates(0.0, 0.0)
        .complete()
        .threshold(3)
        .clip(1.0)
        .bits(12)
        .dp(dp)
        .build()
        .unwrap();
    let p = s.dp().unwrap();
    let names: [&[u8]; 1] = [b""];
    let rot = &p.rotations(s.session_id(), &names).unwrap()[0];
    // c/γ = 2^11 over L = 1024: y_j = 64.001 (j even), 63.001 (j odd) has norm² 512·8065.25
    // below 2^22 (not clipped); rounded up, 512·(65² + 64²) = 4,260,352 exceeds
    // B = ⌊2^22 + 256 + √(2 ln(1/β))·(2048 + 16)⌋.
    let mut y: Vec<f64> = (0..1024)
        .map(|j| if j % 2 == 0 { 64.001 } else { 63.001 })
        .collect();
    rot.inverse(&mut y).unwrap();
    let xs: Vec<f64> = y.iter().map(|v| v * p.gamma).collect();
    assert_eq!(
        s.encode(&xs, 1, &mut Zeros).unwrap_err(),
        Error::Dp(DpError::RoundingFailed {
            tries: ROUNDING_TRIES
        })
    );
}
