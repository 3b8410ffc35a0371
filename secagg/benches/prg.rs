//! Mask expansion: raw AES-128-CTR keystream and expand-and-add (8 seeds) per backend,
//! u32 and u64 words, d = 10^4 .. 10^7, one thread and all threads.
//! Throughput is keystream bytes (d x word bytes x seeds).
//!
//! Kept short (10 samples, 1 s each): `cargo bench --bench prg`; filter with e.g.
//! `cargo bench --bench prg -- 'expand_add/u32/vaes512/t1'`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use secagg::crypto::kdf::MaskSeed;
use secagg::crypto::prg::straight_keystream;
use secagg::crypto::prg::{expand_add_with, Backend, Keystream, Sign};
use secagg::ring::{Ring, RingVec};

mod common;
use common::pool;

const DIMS: [usize; 4] = [10_000, 100_000, 1_000_000, 10_000_000];
const SEEDS: usize = 8;

fn seeds() -> Vec<MaskSeed> {
    (0..SEEDS as u8)
        .map(|i| MaskSeed::from_bytes([i; 16]))
        .collect()
}

fn thread_counts() -> Vec<usize> {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    if all > 1 {
        vec![1, all]
    } else {
        vec![1]
    }
}

fn backends() -> Vec<Backend> {
    Backend::ALL
        .iter()
        .copied()
        .filter(|b| b.is_supported())
        .collect()
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

fn keystream(c: &mut Criterion) {
    let seeds = seeds();
    for (word, bytes) in [("u32", 4usize), ("u64", 8)] {
        let mut g = configure(c, &format!("keystream/{word}"));
        for b in backends() {
            let streams: Vec<Keystream> = seeds
                .iter()
                .map(|s| Keystream::new(b, s).unwrap())
                .collect();
            for t in thread_counts() {
                let p = pool(t);
                for d in DIMS {
                    g.throughput(Throughput::Bytes((d * bytes * SEEDS) as u64));
                    g.bench_with_input(
                        BenchmarkId::new(format!("{}/t{t}", b.name()), d),
                        &d,
                        |bch, &d| {
                            bch.iter(|| {
                                p.install(|| straight_keystream(black_box(&streams), d, bytes))
                            })
                        },
                    );
                }
            }
        }
        g.finish();
    }
}

fn expand_add(c: &mut Criterion) {
    let seeds = seeds();
    let masks: Vec<(&MaskSeed, Sign)> = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| (s, if i % 2 == 0 { Sign::Plus } else { Sign::Minus }))
        .collect();
    for (word, bits, bytes) in [("u32", 32u32, 4usize), ("u64", 64, 8)] {
        let ring = Ring::pow2(bits).unwrap();
        let mut g = configure(c, &format!("expand_add/{word}"));
        for b in backends() {
            for t in thread_counts() {
                let p = pool(t);
                for d in DIMS {
                    let mut acc = RingVec::zeros(&ring, d);
                    g.throughput(Throughput::Bytes((d * bytes * SEEDS) as u64));
                    g.bench_with_input(
                        BenchmarkId::new(format!("{}/t{t}", b.name()), d),
                        &d,
                        |bch, _| {
                            bch.iter(|| {
                                p.install(|| expand_add_with(b, &ring, &masks, &mut acc))
                                    .unwrap()
                            })
                        },
                    );
                    black_box(&acc);
                }
            }
        }
        g.finish();
    }
}

criterion_group!(benches, keystream, expand_add);
criterion_main!(benches);
