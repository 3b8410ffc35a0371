//! Lagrange coefficients at 0, as the server computes them when it unmasks: `SETS`
//! sets of t = 27 distinct points among the evaluation points of 10^4 clients (the
//! shape of n = 10^4, k = 42 SecAgg+), one `LagrangeAtZero::new` per set against one
//! `LagrangeAtZero::batch` over all sets, on one thread (a one-thread rayon pool) and on
//! all threads; and `combine` of each set's t shares with its coefficients (one thread;
//! the shares lie together, as the server's by-owner index keeps them). Throughput is
//! sets.
//!
//! `cargo bench -p secagg --bench lagrange`; filter with e.g.
//! `cargo bench -p secagg --bench lagrange -- 'lagrange/batch'`.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use rand_core::Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::shamir::{eval_point, split, LagrangeAtZero, SecretScalar, Share};

mod common;
use common::pool;

const SETS: usize = 1000;
const T: usize = 27;
const CLIENTS: u32 = 10_000;

fn sets() -> Vec<Vec<u64>> {
    let mut rng = seeded_rng([3; 32]);
    (0..SETS)
        .map(|_| {
            let mut xs: Vec<u64> = Vec::with_capacity(T);
            while xs.len() < T {
                let x = eval_point(rng.next_u32() % CLIENTS);
                if !xs.contains(&x) {
                    xs.push(x);
                }
            }
            xs.sort_unstable();
            xs
        })
        .collect()
}

/// The group both functions report in: `SETS` elements per iteration, short runs.
fn group(c: &mut Criterion) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group("lagrange");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .throughput(Throughput::Elements(SETS as u64));
    g
}

fn lagrange(c: &mut Criterion) {
    let sets = sets();
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = group(c);
    g.bench_function(BenchmarkId::new("new", "t1"), |b| {
        b.iter(|| {
            for s in &sets {
                black_box(LagrangeAtZero::new(black_box(s)).unwrap());
            }
        })
    });
    let mut threads = vec![1];
    if all > 1 {
        threads.push(all);
    }
    for t in threads {
        let p = pool(t);
        g.bench_function(BenchmarkId::new("batch", format!("t{t}")), |b| {
            p.install(|| b.iter(|| black_box(LagrangeAtZero::batch(black_box(&sets)).unwrap())))
        });
    }
    g.finish();
}

/// `LagrangeAtZero::combine` of t = 27 shares (one reconstruction's field work once its
/// coefficients exist), throughput in reconstructions.
fn combine(c: &mut Criterion) {
    let sets = sets();
    let lagrange = LagrangeAtZero::batch(&sets).unwrap();
    let mut rng = seeded_rng([4; 32]);
    let shares: Vec<Vec<Share>> = sets
        .iter()
        .map(|xs| split(&SecretScalar::random(&mut rng), T, xs, &mut rng).unwrap())
        .collect();
    let refs: Vec<Vec<&Share>> = shares.iter().map(|s| s.iter().collect()).collect();
    let mut g = group(c);
    g.bench_function(BenchmarkId::new("combine", "t1"), |b| {
        b.iter(|| {
            for (l, s) in lagrange.iter().zip(&refs) {
                black_box(l.combine(black_box(s)).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, lagrange, combine);
criterion_main!(benches);
