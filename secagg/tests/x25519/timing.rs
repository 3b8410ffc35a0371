//! A dudect-style timing test of the vector kernel (ignored: it measures the machine as
//! much as the code; run it on a quiet core with
//! `cargo test --release -p secagg --test x25519 -- --ignored timing --nocapture`).
//!
//! Two classes of inputs, interleaved in a random order: class 0 uses the all-zero
//! scalar (after clamping only bit 254 is set, so the swap pattern is the same at every
//! step) and u = 9 in every lane; class 1 uses fresh random scalars and points.
//! Each sample is the time of one 8-lane batch. Welch's t statistic between the
//! classes, on the samples below several percentiles (dudect's cropping), must stay
//! below 10 in absolute value, dudect's threshold for "leakage detected".

use std::time::Instant;

use rand_core::Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::x25519::{x25519_pairs_with, Backend, LANES};

fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let var =
        |x: &[f64], m: f64| x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (va, vb) = (var(a, ma), var(b, mb));
    (ma - mb) / (va / a.len() as f64 + vb / b.len() as f64).sqrt()
}

#[test]
#[ignore = "timing measurement: run on a quiet machine with --ignored --nocapture"]
fn timing_fixed_vs_random_inputs() {
    let b = Backend::Ifma;
    if !b.is_supported() {
        eprintln!("no AVX-512 IFMA on this CPU: nothing to time");
        return;
    }
    const SAMPLES: usize = 20_000;
    let mut rng = seeded_rng([77; 32]);
    let fixed_k = [0u8; 32];
    let mut nine = [0u8; 32];
    nine[0] = 9;
    let mut out = [[0u8; 32]; LANES];
    let mut times: [Vec<f64>; 2] = [Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES)];
    for _ in 0..2 * SAMPLES {
        let class = (rng.next_u32() & 1) as usize;
        let mut ks = [[0u8; 32]; LANES];
        let mut us = [[0u8; 32]; LANES];
        for l in 0..LANES {
            if class == 0 {
                ks[l] = fixed_k;
                us[l] = nine;
            } else {
                rng.fill_bytes(&mut ks[l]);
                rng.fill_bytes(&mut us[l]);
            }
        }
        let pairs: Vec<(&[u8; 32], &[u8; 32])> = ks.iter().zip(&us).collect();
        let t = Instant::now();
        x25519_pairs_with(b, &pairs, &mut out).unwrap();
        times[class].push(t.elapsed().as_nanos() as f64);
    }
    let mut worst: f64 = 0.0;
    for pct in [0.5, 0.75, 0.9, 1.0] {
        let crop = |v: &[f64]| {
            let mut s = v.to_vec();
            s.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let cut = s[((s.len() - 1) as f64 * pct) as usize];
            v.iter()
                .copied()
                .filter(|&x| x <= cut)
                .collect::<Vec<f64>>()
        };
        let t = welch_t(&crop(&times[0]), &crop(&times[1]));
        eprintln!(
            "samples below the {:.0}th percentile: t = {t:.2}",
            pct * 100.0
        );
        worst = worst.max(t.abs());
    }
    assert!(
        worst < 10.0,
        "|t| = {worst:.2} >= 10: timing differs between the classes"
    );
}
