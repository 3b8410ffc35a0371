//! Several named vectors in one session (issue 6): each with its own length and ring,
//! each with mask streams bound to its name, and float vectors (weighted) carried through
//! the protocol and checked against an f64 reference of exactly the included clients.

use std::sync::Arc;

use secagg::crypto::kdf::self_mask_seed;
use secagg::crypto::prg::expand;
use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::crypto::shamir::SecretScalar;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::quantize::{min_ring_bits, QuantConfig, Quantizer, Rounding};
use secagg::ring::{Ring, RingVec};
use secagg::sim::{self, DropSchedule};
use secagg::Round;

#[test]
fn masks_of_two_vectors_from_one_secret_differ() {
    let mut rng = seeded_rng([1; 32]);
    let b_u = SecretScalar::random(&mut rng);
    let sid = [9u8; 32];
    let ring = Ring::pow2(32).unwrap();
    let a = self_mask_seed(&b_u, &sid, 3, b"layer1").unwrap();
    let b = self_mask_seed(&b_u, &sid, 3, b"layer2").unwrap();
    let unnamed = self_mask_seed(&b_u, &sid, 3, b"").unwrap();
    assert_ne!(a.as_bytes(), b.as_bytes());
    assert_ne!(a.as_bytes(), unnamed.as_bytes());
    let (ma, mb) = (expand(&ring, &a, 256), expand(&ring, &b, 256));
    let equal = (0..256).filter(|&i| ma.get(i) == mb.get(i)).count();
    assert!(equal < 3, "{equal} equal words out of 256");
}

/// One session, three vectors (two rings, three lengths), drop-outs before every round:
/// each vector's sum equals its plaintext sum over exactly the included clients.
#[test]
fn each_named_vector_sums_correctly() {
    let n = 12;
    let specs = [
        ("layer1", 37usize, Ring::pow2(20).unwrap()),
        ("layer2", 5, Ring::pow2(48).unwrap()),
        ("bias", 1, Ring::modulus(1_000_003).unwrap()),
    ];
    for graph in [
        GraphSpec::Complete,
        GraphSpec::Harary {
            degree: 6,
            seed: [4; 32],
        },
    ] {
        let mut builder = Config::builder(n, 3).graph(graph.clone());
        for (name, dim, ring) in &specs {
            builder = builder.vector(*name, *dim, *ring);
        }
        let config = Arc::new(builder.build().unwrap());
        let mut rng = seeded_rng([5; 32]);
        let inputs: Vec<Vec<RingVec>> = (0..n)
            .map(|_| {
                specs
                    .iter()
                    .map(|(_, dim, ring)| {
                        let w: Vec<u64> = (0..*dim).map(|_| rng.next_u64()).collect();
                        RingVec::from_u64s(ring, &w)
                    })
                    .collect()
            })
            .collect();
        let mut schedule = DropSchedule::none(n);
        schedule.set(1, Some(Round::ShareKeys));
        schedule.set(6, Some(Round::MaskedInputCollection));
        schedule.set(10, Some(Round::Unmasking));
        let report = sim::run(config.clone(), inputs.clone(), None, &schedule, [6; 32]).unwrap();
        let included = &report.output.included;
        assert_eq!(included, &vec![0, 2, 3, 4, 5, 7, 8, 9, 10, 11], "{graph:?}");
        // Independent reference: add the words as integers modulo each ring.
        for (j, (_, dim, ring)) in specs.iter().enumerate() {
            let m: u128 = match ring {
                Ring::Pow2 { bits } => 1u128 << bits,
                Ring::Modulus { m } => u128::from(*m),
            };
            let expected: Vec<u64> = (0..*dim)
                .map(|i| {
                    let s: u128 = included
                        .iter()
                        .map(|&u| u128::from(inputs[u as usize][j].get(i).unwrap()))
                        .sum();
                    (s % m) as u64
                })
                .collect();
            assert_eq!(report.output.sums[j].to_u64s(), expected, "vector {j}");
        }
    }
}

/// 2,000 weighted clients, float inputs through the quantizer and a sparse-graph
/// session, two named float vectors of different widths: the weighted sums match an
/// f64 reference of exactly the included clients within the documented bound.
#[test]
fn two_thousand_weighted_float_clients() {
    let n = 2000;
    let max_weight = 1000;
    let clip = 2.0;
    let q_big = 16;
    let q_small = 8;
    let b_big = min_ring_bits(q_big, n, max_weight).unwrap();
    let b_small = min_ring_bits(q_small, n, max_weight).unwrap();
    let qz_big = Quantizer::new(
        QuantConfig::new(clip, q_big, b_big, n)
            .weighted(max_weight)
            .with_rounding(Rounding::Stochastic),
    )
    .unwrap();
    let qz_small = Quantizer::new(
        QuantConfig::new(clip, q_small, b_small, n)
            .weighted(max_weight)
            .with_rounding(Rounding::Deterministic),
    )
    .unwrap();
    let (d_big, d_small) = (6, 3);
    let ring_big = Ring::pow2(b_big).unwrap();
    let ring_small = Ring::pow2(b_small).unwrap();
    let config = Arc::new(
        Config::builder(n, 8)
            .graph(GraphSpec::Harary {
                degree: 16,
                seed: [8; 32],
            })
            .vector("dense", qz_big.encoded_len(d_big), ring_big)
            .vector("head", qz_small.encoded_len(d_small), ring_small)
            .build()
            .unwrap(),
    );
    let mut rng = seeded_rng([7; 32]);
    let mut floats = Vec::with_capacity(n);
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        let w = 1 + rng.next_u64() % max_weight;
        let xb: Vec<f64> = (0..d_big)
            .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0)
            .collect();
        let xs: Vec<f32> = (0..d_small)
            .map(|_| ((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32) - 0.5)
            .collect();
        let eb = qz_big.quantize_weighted(&xb, w, &mut rng).unwrap();
        let es = qz_small.quantize_weighted(&xs, w, &mut rng).unwrap();
        inputs.push(vec![
            RingVec::from_u64s(&ring_big, eb.words()),
            RingVec::from_u64s(&ring_small, es.words()),
        ]);
        floats.push((w, xb, xs));
    }
    let mut schedule = DropSchedule::none(n);
    for u in (0..n as u32).step_by(97) {
        schedule.set(u, Some(Round::MaskedInputCollection));
    }
    let report = sim::run(config, inputs, None, &schedule, [9; 32]).unwrap();
    assert!(report.is_correct());
    let included = &report.output.included;
    assert_eq!(included.len(), n - n.div_ceil(97));

    let big = qz_big
        .dequantize(&report.output.sums[0].to_u64s(), included.len())
        .unwrap();
    let small = qz_small
        .dequantize(&report.output.sums[1].to_u64s(), included.len())
        .unwrap();
    let total_weight: u64 = included.iter().map(|&u| floats[u as usize].0).sum();
    assert_eq!(big.total_weight, total_weight);
    assert_eq!(small.total_weight, total_weight);
    for i in 0..d_big {
        let want: f64 = included
            .iter()
            .map(|&u| floats[u as usize].0 as f64 * floats[u as usize].1[i])
            .sum();
        assert!(
            (big.sum[i] - want).abs() <= big.error_bound,
            "dense[{i}]: {} vs {want} (bound {})",
            big.sum[i],
            big.error_bound
        );
    }
    for i in 0..d_small {
        let want: f64 = included
            .iter()
            .map(|&u| floats[u as usize].0 as f64 * f64::from(floats[u as usize].2[i]))
            .sum();
        assert!(
            (small.sum[i] - want).abs() <= small.error_bound,
            "head[{i}]: {} vs {want} (bound {})",
            small.sum[i],
            small.error_bound
        );
    }
}
