//! Parameter finder and graph construction: how long `find_params` takes (it runs in
//! the CLI before every session) and how long building the SecAgg+ graph takes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use secagg::protocol::graph::{Graph, GraphSpec};
use secagg::protocol::params::{find_params, ParamQuery, ThreatModel};
use std::hint::black_box;

fn finder(c: &mut Criterion) {
    let mut g = c.benchmark_group("find_params");
    for (name, n, corrupt, dropout, threat) in [
        (
            "n1e3_5pc_semihonest",
            1000,
            0.05,
            0.05,
            ThreatModel::SemiHonest,
        ),
        (
            "n1e6_5pc_semihonest",
            1_000_000,
            0.05,
            0.05,
            ThreatModel::SemiHonest,
        ),
        (
            "n1e6_5pc_malicious",
            1_000_000,
            0.05,
            0.05,
            ThreatModel::Malicious,
        ),
        (
            "n1e6_45pc_semihonest",
            1_000_000,
            0.45,
            0.45,
            ThreatModel::SemiHonest,
        ),
        (
            "n1e6_30pc_malicious",
            1_000_000,
            0.3,
            0.3,
            ThreatModel::Malicious,
        ),
    ] {
        let q = ParamQuery::new(n, dropout, corrupt, threat);
        g.bench_function(name, |b| b.iter(|| find_params(black_box(&q)).unwrap()));
    }
    g.finish();
}

fn graph(c: &mut Criterion) {
    let mut g = c.benchmark_group("graph_new");
    g.sample_size(10);
    for (n, k) in [(1000usize, 30usize), (100_000, 36), (1_000_000, 38)] {
        let spec = GraphSpec::Harary {
            degree: k,
            seed: [7; 32],
        };
        g.bench_with_input(
            BenchmarkId::new("harary", format!("n{n}_k{k}")),
            &n,
            |b, &n| b.iter(|| Graph::new(n, black_box(&spec)).unwrap()),
        );
    }
    g.finish();
}

criterion_group!(benches, finder, graph);
criterion_main!(benches);
