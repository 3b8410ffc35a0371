//! X25519: x25519-dalek single-shot against every supported batched backend, per
//! shared secret, on one thread (a one-thread rayon pool) and on all threads; and key
//! generation: dalek's fixed-base Edwards table against the batched ladder on u = 9.
//! Throughput is shared secrets (elements).
//!
//! `cargo bench -p secagg --bench x25519`; filter with e.g.
//! `cargo bench -p secagg --bench x25519 -- 'x25519/shared/t1'`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand_core::Rng;
use secagg::crypto::keys::SecretKey;
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::x25519::{x25519_pairs_with, Backend};

mod common;
use common::pool;

const BATCH: usize = 64;

fn pairs(n: usize) -> Vec<([u8; 32], [u8; 32])> {
    let mut rng = seeded_rng([5; 32]);
    (0..n)
        .map(|_| {
            let (mut k, mut u) = ([0u8; 32], [0u8; 32]);
            rng.fill_bytes(&mut k);
            rng.fill_bytes(&mut u);
            (k, u)
        })
        .collect()
}

fn shared(c: &mut Criterion) {
    let input = pairs(BATCH);
    let refs: Vec<(&[u8; 32], &[u8; 32])> = input.iter().map(|(k, u)| (k, u)).collect();
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1];
    if all > 1 {
        threads.push(all);
    }
    for t in threads {
        let mut g = c.benchmark_group(format!("x25519/shared/t{t}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .throughput(Throughput::Elements(BATCH as u64));
        let p = pool(t);
        if t == 1 {
            g.bench_function("dalek-single-shot", |b| {
                b.iter(|| {
                    for (k, u) in &input {
                        black_box(x25519_dalek::x25519(*k, *u));
                    }
                })
            });
        }
        for &be in Backend::ALL.iter().filter(|b| b.is_supported()) {
            let mut out = vec![[0u8; 32]; BATCH];
            g.bench_function(BenchmarkId::new("batch", be.name()), |b| {
                b.iter(|| p.install(|| x25519_pairs_with(be, &refs, &mut out).unwrap()))
            });
        }
        g.finish();
    }
}

fn keygen(c: &mut Criterion) {
    let input = pairs(BATCH);
    let keys: Vec<SecretKey> = input
        .iter()
        .map(|(k, _)| SecretKey::from_bytes(*k))
        .collect();
    let nine = {
        let mut u = [0u8; 32];
        u[0] = 9;
        u
    };
    let refs: Vec<(&[u8; 32], &[u8; 32])> = input.iter().map(|(k, _)| (k, &nine)).collect();
    let mut g = c.benchmark_group("x25519/keygen/t1");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("dalek-fixed-base-table", |b| {
        b.iter(|| {
            for k in &keys {
                black_box(k.public_key());
            }
        })
    });
    let p = pool(1);
    for &be in Backend::ALL.iter().filter(|b| b.is_supported()) {
        let mut out = vec![[0u8; 32]; BATCH];
        g.bench_function(BenchmarkId::new("ladder-on-9", be.name()), |b| {
            b.iter(|| p.install(|| x25519_pairs_with(be, &refs, &mut out).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, shared, keygen);
criterion_main!(benches);
