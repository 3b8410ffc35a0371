//! The size formulas of docs/wire-format.md against the bytes real sessions send: for
//! every client of sessions without drop-outs, bytes sent and received equal
//! `80 + 143k + P` and `82 + 174k + ceil(n/8)` (semi-honest) or `210 + 143k + P` and
//! `152 + 306k + 2 ceil(n/8)` (malicious), with `k` neighbours and `P` the packed
//! vector bytes.

mod wire_common;

use secagg::protocol::graph::GraphSpec;
use secagg::ring::Ring;
use wire_common::{config, run, Dir};

fn packed(vectors: &[(&str, usize, Ring)]) -> usize {
    vectors
        .iter()
        .map(|(_, d, r)| (d * r.element_bits() as usize).div_ceil(8))
        .sum()
}

#[test]
fn per_client_totals_match_the_formulas() {
    let vectors = [
        ("a", 37, Ring::pow2(20).unwrap()),
        ("b", 5, Ring::modulus(1_000_003).unwrap()),
        ("c", 3, Ring::pow2(64).unwrap()),
    ];
    let p = packed(&vectors);
    assert_eq!(p, 93 + 13 + 24);
    let harary = |degree| GraphSpec::Harary {
        degree,
        seed: [1; 32],
    };
    for (n, t, graph, malicious, k) in [
        (6, 3, GraphSpec::Complete, false, 5),
        (6, 3, GraphSpec::Complete, true, 5),
        (9, 5, GraphSpec::Complete, true, 8),
        (17, 3, harary(4), false, 4),
        (17, 4, harary(6), true, 6),
    ] {
        let (cfg, keys) = config(n, t, graph, malicious, &vectors);
        let w = run(&cfg, keys, &vec![None; n], 3);
        assert_eq!(w.output.unwrap().included.len(), n);
        let nb = n.div_ceil(8);
        let (sent, received) = if malicious {
            (210 + 143 * k + p, 152 + 306 * k + 2 * nb)
        } else {
            (80 + 143 * k + p, 82 + 174 * k + nb)
        };
        for id in 0..n as u32 {
            let total = |dir| -> usize {
                w.records
                    .iter()
                    .filter(|r| r.dir == dir && r.id == id)
                    .map(|r| r.bytes.len())
                    .sum()
            };
            assert_eq!(
                total(Dir::FromClient),
                sent,
                "n={n} malicious={malicious} id={id}"
            );
            assert_eq!(
                total(Dir::ToClient),
                received,
                "n={n} malicious={malicious} id={id}"
            );
        }
    }
}
