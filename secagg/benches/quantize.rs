//! The client's float encoding (`Quantizer::quantize_weighted`, and the whole
//! `FloatSession::encode` that the bindings' `provide_input` calls) at d = 10^5, against a
//! copy of the element-at-a-time loop it replaced (`baseline`, measured in the same run),
//! and what the ChaCha20 draws alone cost (`rng_only`): the floor of stochastic rounding.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use secagg::crypto::rng::{seeded_rng, CryptoRng, Rng};
use secagg::quantize::{QuantConfig, Quantizer, Rounding};
use secagg::session::FloatSession;
use std::hint::black_box;

const D: usize = 100_000;

/// The loop `quantize_weighted` ran before it was restructured (unweighted, no errors
/// kept apart): one element at a time, `push`, the rounding draw inside.
fn baseline(qz: &Quantizer, x: &[f64], rng: &mut impl CryptoRng) -> (Vec<u64>, usize) {
    let cfg = qz.config();
    let c = cfg.clip;
    let top = qz.levels() as f64;
    let scale = top / (2.0 * c);
    let mut words = Vec::with_capacity(x.len());
    let mut clipped = 0;
    for &xi in x {
        assert!(xi.is_finite());
        let xc = if xi < -c {
            clipped += 1;
            -c
        } else if xi > c {
            clipped += 1;
            c
        } else {
            xi
        };
        let v = if xc >= c {
            top
        } else {
            ((xc + c) * scale).min(top)
        };
        let k = match cfg.rounding {
            Rounding::Deterministic => v.round_ties_even() as u64,
            Rounding::Stochastic => {
                let floor = v.floor();
                let u = (rng.next_u64() >> 11) as f64 * (0.5f64).powi(53);
                floor as u64 + u64::from(u < v - floor)
            }
        };
        words.push(k);
    }
    (words, clipped)
}

/// A fixed input in about `[-1.2, 1.2]`: some elements clipped at `c = 1`.
fn input() -> Vec<f64> {
    (0..D).map(|i| 1.2 * (i as f64 * 0.731).sin()).collect()
}

fn quantize(c: &mut Criterion) {
    let x64 = input();
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    let x32_64: Vec<f64> = x32.iter().map(|&v| f64::from(v)).collect();
    let mut g = c.benchmark_group("quantize_1e5");
    g.throughput(Throughput::Elements(D as u64));
    g.bench_function("rng_only", |b| {
        let mut rng = seeded_rng([3; 32]);
        b.iter(|| {
            let mut acc = 0u64;
            for _ in 0..D {
                acc ^= rng.next_u64();
            }
            black_box(acc)
        })
    });
    // The same draws through `fill_bytes` (for ChaCha20 the same u64 sequence).
    g.bench_function("rng_only_fill_bytes", |b| {
        let mut rng = seeded_rng([3; 32]);
        let mut buf = vec![0u8; 8 * D];
        b.iter(|| {
            rng.fill_bytes(&mut buf);
            black_box(&buf);
        })
    });
    for rounding in [Rounding::Stochastic, Rounding::Deterministic] {
        let name = match rounding {
            Rounding::Stochastic => "stochastic",
            Rounding::Deterministic => "deterministic",
        };
        let qz =
            Quantizer::new(QuantConfig::new(1.0, 16, 23, 100).with_rounding(rounding)).unwrap();
        let mut rng = seeded_rng([3; 32]);
        g.bench_function(BenchmarkId::new("baseline_f32", name), |b| {
            b.iter(|| baseline(&qz, black_box(&x32_64), &mut rng))
        });
        g.bench_function(BenchmarkId::new("f32", name), |b| {
            b.iter(|| qz.quantize(black_box(&x32), &mut rng).unwrap())
        });
        g.bench_function(BenchmarkId::new("baseline_f64", name), |b| {
            b.iter(|| baseline(&qz, black_box(&x64), &mut rng))
        });
        g.bench_function(BenchmarkId::new("f64", name), |b| {
            b.iter(|| qz.quantize(black_box(&x64), &mut rng).unwrap())
        });
    }
    // Weighted: one multiplication more per element and the weight word.
    let wq = Quantizer::new(QuantConfig::new(1.0, 16, 40, 100).weighted(1000)).unwrap();
    let mut rng = seeded_rng([3; 32]);
    g.bench_function(BenchmarkId::new("f32", "stochastic_weighted"), |b| {
        b.iter(|| {
            wq.quantize_weighted(black_box(&x32), 777, &mut rng)
                .unwrap()
        })
    });
    g.finish();
}

/// What `Client.provide_input` runs once it holds the floats: the Flower comparison's
/// session (n = 100, k = 15, t = 8, q = 16), f32 input, into the 23-bit ring's words.
fn session_encode(c: &mut Criterion) {
    let x32: Vec<f32> = input().iter().map(|&v| v as f32).collect();
    let s = FloatSession::builder(100)
        .dim(D)
        .harary(15)
        .threshold(8)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("session_encode_1e5");
    g.throughput(Throughput::Elements(D as u64));
    let mut rng = seeded_rng([3; 32]);
    g.bench_function("f32_stochastic", |b| {
        b.iter(|| s.encode(black_box(&x32), 1, &mut rng).unwrap())
    });
    g.finish();
}

criterion_group!(benches, quantize, session_encode);
criterion_main!(benches);
