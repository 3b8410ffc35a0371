//! Float encoding: the documented error bound against an independent f64 reference, the
//! unbiasedness of stochastic rounding, the overflow guard at its exact boundary, and a
//! large weighted aggregation.
//!
//! The ring sum is simulated here with plain `u64` arithmetic modulo `2^b`, each client
//! also adding a random mask that the "server" removes at the end, as the protocol does.
//!
//! Flower's SecAgg+ (quantization range 2^22 in a 2^32 modulus, max weight 1000) leaves
//! 10 bits of headroom, so its sum and weight channel silently wrap at about 1,024
//! clients; here that configuration is refused at construction
//! (`overflow_guard_refuses_flower_like_defaults`).

use proptest::prelude::*;
use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::quantize::{
    max_quant_bits, min_ring_bits, QuantConfig, Quantizer, Rounding, MAX_QUANT_BITS,
};
use secagg::{Error, Misuse};

fn mask(b: u32) -> u64 {
    u64::MAX >> (64 - b)
}

/// A uniform f64 in [0, 1).
fn unit<R: Rng>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Sums the clients' word vectors modulo 2^b the way the protocol does: each client adds
/// a random mask, the server adds everything and removes the total mask.
fn masked_ring_sum<R: Rng>(b: u32, clients: &[Vec<u64>], rng: &mut R) -> Vec<u64> {
    let len = clients.first().map_or(0, Vec::len);
    let mut acc = vec![0u64; len];
    let mut total_mask = vec![0u64; len];
    for words in clients {
        assert_eq!(words.len(), len);
        for j in 0..len {
            assert!(words[j] <= mask(b), "word not reduced mod 2^b");
            let r = rng.next_u64() & mask(b);
            let masked = words[j].wrapping_add(r) & mask(b);
            acc[j] = acc[j].wrapping_add(masked) & mask(b);
            total_mask[j] = total_mask[j].wrapping_add(r) & mask(b);
        }
    }
    acc.iter()
        .zip(&total_mask)
        .map(|(a, r)| a.wrapping_sub(*r) & mask(b))
        .collect()
}

/// The weighted f64 reference Σ w_i·clip(x_i) and a bound on its own rounding error
/// (naive summation of n products: at most 2·n·2^-53·Σ|w_i·clip(x_i)|).
fn reference(c: f64, xs: &[Vec<f64>], ws: &[u64]) -> (Vec<f64>, Vec<f64>) {
    let d = xs.first().map_or(0, Vec::len);
    let n = xs.len() as f64;
    let mut sum = vec![0.0; d];
    let mut abs = vec![0.0; d];
    for (x, &w) in xs.iter().zip(ws) {
        for j in 0..d {
            let t = w as f64 * x[j].clamp(-c, c);
            sum[j] += t;
            abs[j] += t.abs();
        }
    }
    let err = abs
        .iter()
        .map(|a| 2.0 * (n + 1.0) * f64::EPSILON / 2.0 * a)
        .collect();
    (sum, err)
}

/// Encodes every client, sums in the ring, decodes, and checks the documented bound.
/// Returns the largest error seen as a fraction of the bound.
fn run_and_check(qz: &Quantizer, xs: &[Vec<f64>], ws: &[u64], seed: [u8; 32]) -> f64 {
    let cfg = *qz.config();
    let c = cfg.clip;
    let mut rng = seeded_rng(seed);
    let mut words = Vec::new();
    for (x, &w) in xs.iter().zip(ws) {
        let out = qz.quantize_weighted(x, w, &mut rng).unwrap();
        let expect_clipped = x.iter().filter(|v| v.abs() > c).count();
        assert_eq!(out.clipped(), expect_clipped);
        assert_eq!(out.words().len(), qz.encoded_len(x.len()));
        words.push(out.words().to_vec());
    }
    let sum = masked_ring_sum(cfg.ring_bits, &words, &mut rng);
    let agg = qz.dequantize(&sum, xs.len()).unwrap();
    let total_weight: u64 = ws.iter().sum();
    assert_eq!(agg.total_weight, total_weight);
    assert_eq!(agg.clients, xs.len());
    let (want, ref_err) = reference(c, xs, ws);
    assert_eq!(agg.sum.len(), want.len());
    let mut worst: f64 = 0.0;
    for j in 0..want.len() {
        let err = (agg.sum[j] - want[j]).abs();
        assert!(
            err <= agg.error_bound + ref_err[j],
            "element {j}: decoded {} reference {} error {err} > bound {} ({cfg:?})",
            agg.sum[j],
            want[j],
            agg.error_bound
        );
        worst = worst.max(err / agg.error_bound);
    }
    if let (Some(mean), Some(mb)) = (agg.mean(), agg.mean_error_bound()) {
        for j in 0..want.len() {
            let err = (mean[j] - want[j] / total_weight as f64).abs();
            assert!(err <= mb + 2.0 * ref_err[j] / total_weight as f64);
        }
    }
    worst
}

fn random_inputs(
    seed: [u8; 32],
    n: usize,
    d: usize,
    c: f64,
    max_w: u64,
) -> (Vec<Vec<f64>>, Vec<u64>) {
    let mut rng = seeded_rng(seed);
    let xs = (0..n)
        .map(|_| {
            (0..d)
                .map(|_| match rng.next_u32() % 8 {
                    0 => c,
                    1 => -c,
                    2 => 0.0,
                    _ => (3.0 * unit(&mut rng) - 1.5) * c,
                })
                .collect()
        })
        .collect();
    let ws = (0..n).map(|_| 1 + rng.next_u64() % max_w).collect();
    (xs, ws)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The dequantized sum of random vectors from a random number of clients stays within
    /// the documented bound of the f64 sum, for every rounding, weighting, grid and ring.
    #[test]
    fn dequantized_sum_is_within_the_documented_bound(
        seed in any::<[u8; 32]>(),
        bits in 1u32..=MAX_QUANT_BITS,
        max_clients in 1usize..=64,
        included_frac in 0.0f64..=1.0,
        weighted in any::<bool>(),
        max_w in 1u64..=5000,
        deterministic in any::<bool>(),
        clip_exp in -20i32..=20,
        clip_mant in 1.0f64..2.0,
        extra_ring_bits in 0u32..=3,
        d in 0usize..=24,
    ) {
        let w = if weighted { max_w } else { 1 };
        // Any q that fits in 64 bits for these n and W.
        let bits = 1 + (bits - 1) % max_quant_bits(64, max_clients, w).unwrap();
        let min_b = min_ring_bits(bits, max_clients, w).unwrap();
        let ring_bits = (min_b + extra_ring_bits).min(64);
        let c = clip_mant * 2f64.powi(clip_exp);
        let mut cfg = QuantConfig::new(c, bits, ring_bits, max_clients).with_rounding(
            if deterministic { Rounding::Deterministic } else { Rounding::Stochastic },
        );
        if weighted {
            cfg = cfg.weighted(max_w);
        }
        let qz = Quantizer::new(cfg).unwrap();
        let n = ((max_clients as f64 * included_frac) as usize).max(1);
        let (xs, ws) = random_inputs(seed, n, d, c, w);
        run_and_check(&qz, &xs, &ws, seed);
    }
}

/// Deterministic rounding reaches its bound: inputs just below a half-step from a grid
/// level round down by almost half a step each, so the error nearly equals the bound.
#[test]
fn deterministic_bound_is_tight() {
    let n = 100;
    let cfg = QuantConfig::new(1.0, 8, min_ring_bits(8, n, 1).unwrap(), n)
        .with_rounding(Rounding::Deterministic);
    let qz = Quantizer::new(cfg).unwrap();
    // v = 10.4999 -> 10 for every client.
    let x = 10.4999 / 127.5 - 1.0;
    let xs = vec![vec![x]; n];
    let worst = run_and_check(&qz, &xs, &vec![1; n], [3; 32]);
    assert!(worst > 0.99, "{worst}");
}

/// Stochastic rounding is unbiased: with v = k + 0.3 (the same value in every element,
/// a fresh draw each), the mean decoding error over T draws is within 4 standard errors
/// of zero. Floor rounding and round-to-nearest would both be off by −0.3 steps, about
/// 130 standard errors.
#[test]
fn stochastic_rounding_is_unbiased_at_a_fixed_point() {
    const T: usize = 40_000;
    let qz = Quantizer::new(QuantConfig::new(1.0, 8, 8, 1)).unwrap();
    let step = qz.step();
    let x = 100.3 / 127.5 - 1.0;
    let xs = vec![x; T];
    let out = qz.quantize(&xs, &mut seeded_rng([11; 32])).unwrap();
    assert!(out.words().iter().all(|&k| k == 100 || k == 101));
    let agg = qz.dequantize(out.words(), 1).unwrap();
    let mean_err = agg.sum.iter().map(|s| s - x).sum::<f64>() / T as f64;
    let se = step * (0.3f64 * 0.7 / T as f64).sqrt();
    assert!(mean_err.abs() < 4.0 * se, "mean error {mean_err}, se {se}");

    // The same check fails for the biased alternatives, so it can fail.
    let floor_err = (100.0 / 127.5 - 1.0) - x;
    assert!(floor_err.abs() > 100.0 * se);
    let det = Quantizer::new(QuantConfig::new(1.0, 8, 8, 1).with_rounding(Rounding::Deterministic))
        .unwrap();
    let out = det.quantize(&xs, &mut seeded_rng([11; 32])).unwrap();
    let agg = det.dequantize(out.words(), 1).unwrap();
    let det_err = agg.sum.iter().map(|s| s - x).sum::<f64>() / T as f64;
    assert!((det_err - floor_err).abs() < 1e-12);
    assert!(det_err.abs() > 100.0 * se);
}

/// Unbiasedness over random inputs and many clients: the decoded sum of 500 clients'
/// random vectors, averaged over 200 elements, has mean error within 4 standard errors
/// of zero (the standard error computed from each draw's Bernoulli variance). Floor
/// rounding would be off by about half a step per client.
#[test]
fn stochastic_rounding_is_unbiased_across_clients() {
    let (n, d) = (500, 200);
    let qz = Quantizer::new(QuantConfig::new(2.0, 6, min_ring_bits(6, n, 1).unwrap(), n)).unwrap();
    let step = qz.step();
    let (xs, _) = random_inputs([5; 32], n, d, 2.0, 1);
    let mut rng = seeded_rng([6; 32]);
    let mut words = Vec::new();
    let mut var = 0.0;
    let mut floor_err = 0.0;
    for x in &xs {
        words.push(qz.quantize(x, &mut rng).unwrap().words().to_vec());
        for &xi in x {
            let v = (xi.clamp(-2.0, 2.0) + 2.0) / step;
            let f = v - v.floor();
            var += f * (1.0 - f) * step * step;
            floor_err -= f * step;
        }
    }
    let sum = masked_ring_sum(qz.config().ring_bits, &words, &mut rng);
    let agg = qz.dequantize(&sum, n).unwrap();
    let (want, _) = reference(2.0, &xs, &vec![1; n]);
    let mean_err = agg.sum.iter().zip(&want).map(|(s, w)| s - w).sum::<f64>() / d as f64;
    let se = var.sqrt() / d as f64;
    assert!(mean_err.abs() < 4.0 * se, "mean error {mean_err}, se {se}");
    assert!((floor_err / d as f64).abs() > 100.0 * se);
}

fn ceil_log2(x: u64) -> u32 {
    64 - (x - 1).leading_zeros()
}

/// Every client at the top of the range (x = c): the ring sum at the boundary width is the
/// exact integer sum n·W·M and decodes to n·W·c; one bit narrower it would wrap, and that
/// width is refused.
fn check_boundary(bits: u32, n: usize, w: Option<u64>, b: u32) {
    let wmax = w.unwrap_or(1);
    let mut cfg = QuantConfig::new(1.5, bits, b, n);
    if let Some(w) = w {
        cfg = cfg.weighted(w);
    }
    let qz = Quantizer::new(cfg).unwrap_or_else(|e| panic!("{cfg:?}: {e}"));
    let mut rng = seeded_rng([9; 32]);
    let top: Vec<Vec<u64>> = (0..n)
        .map(|_| {
            qz.quantize_weighted(&[1.5f64, -1.5], wmax, &mut rng)
                .unwrap()
                .words()
                .to_vec()
        })
        .collect();
    let sum = masked_ring_sum(b, &top, &mut rng);
    let m = (1u128 << bits) - 1;
    let exact = n as u128 * u128::from(wmax) * m;
    assert_eq!(u128::from(sum[0]), exact, "sum wrapped");
    let agg = qz.dequantize(&sum, n).unwrap();
    let want = n as f64 * wmax as f64 * 1.5;
    assert!(
        (agg.sum[0] - want).abs() <= agg.error_bound,
        "{} vs {want}",
        agg.sum[0]
    );
    assert!(
        (agg.sum[1] + want).abs() <= agg.error_bound,
        "{} vs -{want}",
        agg.sum[1]
    );
    assert_eq!(agg.total_weight, n as u64 * wmax);
    // One bit less: the same sum would wrap, and the configuration is refused.
    assert!(exact > u128::from(mask(b - 1)), "b - 1 would not wrap");
    assert_eq!(
        Quantizer::new(QuantConfig {
            ring_bits: b - 1,
            ..cfg
        }),
        Err(Error::Misuse(Misuse::RingTooNarrow {
            ring_bits: b - 1,
            needed_bits: b,
            quant_bits: bits,
            max_clients: n,
            max_weight: wmax,
        }))
    );
}

/// b = q + ceil(log2 n) (+ ceil(log2 W)) accepted, one bit less rejected: n a power of two
/// and not, weighted and not, up to the full 64-bit ring.
#[test]
fn overflow_guard_at_the_exact_boundary() {
    for (bits, n, w) in [
        (8, 16, None),
        (8, 17, None),
        (16, 1000, None),
        (16, 1024, None),
        (22, 1024, None),
        (1, 2, None),
        (53, 2048, None),
        (10, 100, Some(1000)),
        (10, 128, Some(1024)),
        (12, 3, Some(3)),
        (31, 2000, Some(65_536)),
    ] {
        let b = bits + ceil_log2(n as u64) + w.map_or(0, ceil_log2);
        assert_eq!(
            min_ring_bits(bits, n, w.unwrap_or(1)),
            Ok(b),
            "{bits} {n} {w:?}"
        );
        check_boundary(bits, n, w, b);
    }
}

/// Where the rounded-up rule q + ceil(log2 n) + ceil(log2 W) over-provisions, the exact
/// check accepts the narrower ring, and the sum still cannot wrap.
#[test]
fn overflow_guard_is_exact_not_rounded_up() {
    for (bits, n, w) in [(1, 5, None), (8, 5, Some(3)), (3, 600, Some(5))] {
        let rounded_up = bits + ceil_log2(n as u64) + w.map_or(0, ceil_log2);
        let b = min_ring_bits(bits, n, w.unwrap_or(1)).unwrap();
        assert!(b < rounded_up, "{bits} {n} {w:?}: {b} vs {rounded_up}");
        check_boundary(bits, n, w, b);
    }
}

/// Flower-like defaults: 22 quantization bits in a 32-bit ring hold 1,024 clients of
/// weight 1 and no more; with weights up to 1000, not even 1,024.
#[test]
fn overflow_guard_refuses_flower_like_defaults() {
    assert!(Quantizer::new(QuantConfig::new(8.0, 22, 32, 1024)).is_ok());
    assert!(matches!(
        Quantizer::new(QuantConfig::new(8.0, 22, 32, 1025)),
        Err(Error::Misuse(Misuse::RingTooNarrow {
            needed_bits: 33,
            ..
        }))
    ));
    assert!(matches!(
        Quantizer::new(QuantConfig::new(8.0, 22, 32, 1024).weighted(1000)),
        Err(Error::Misuse(Misuse::RingTooNarrow {
            needed_bits: 42,
            ..
        }))
    ));
    // What fits instead: the ring for 1,025 weighted clients, or fewer bits at 32.
    assert_eq!(min_ring_bits(22, 1025, 1000), Ok(42));
    assert_eq!(max_quant_bits(32, 1025, 1000), Ok(12));
}

/// 2,000 weighted clients (weights up to 10,000, e.g. example counts) with both
/// roundings: the weighted sum, the exact total weight and the weighted mean match the
/// f64 reference within the documented bound.
#[test]
fn two_thousand_weighted_clients() {
    let (n, d, max_w) = (2000, 32, 10_000);
    let b = min_ring_bits(16, n, max_w).unwrap();
    assert_eq!(b, 41);
    for rounding in [Rounding::Stochastic, Rounding::Deterministic] {
        let cfg = QuantConfig::new(1.0, 16, b, n)
            .weighted(max_w)
            .with_rounding(rounding);
        let qz = Quantizer::new(cfg).unwrap();
        let (xs, ws) = random_inputs([42; 32], n, d, 1.0, max_w);
        let worst = run_and_check(&qz, &xs, &ws, [43; 32]);
        if rounding == Rounding::Stochastic {
            // The bound is a worst case; unbiased rounding errors largely cancel.
            assert!(worst < 0.1, "{worst}");
        }
    }
}

/// f32 inputs encode as their exact f64 values, and the f32 outputs are the rounded f64.
#[test]
fn f32_and_f64_inputs_agree() {
    let qz = Quantizer::new(QuantConfig::new(1.0, 20, 24, 8)).unwrap();
    let x32: Vec<f32> = (0..100).map(|i| ((i as f32) * 0.731).sin() * 1.2).collect();
    let x64: Vec<f64> = x32.iter().map(|&v| f64::from(v)).collect();
    let a = qz.quantize(&x32, &mut seeded_rng([8; 32])).unwrap();
    let b = qz.quantize(&x64, &mut seeded_rng([8; 32])).unwrap();
    assert_eq!(a.words(), b.words());
    assert_eq!(a.clipped(), b.clipped());
    assert!(a.clipped() > 0);
    let agg = qz.dequantize(a.words(), 1).unwrap();
    let s32 = agg.sum_f32();
    for (j, &s) in agg.sum.iter().enumerate() {
        assert_eq!(s32[j], s as f32);
        assert!((s - x64[j].clamp(-1.0, 1.0)).abs() <= agg.error_bound);
    }
}
