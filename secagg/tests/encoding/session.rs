//! The float session (`secagg::session`): known-answer context bytes, preimages and
//! session ids (tests/vectors/session.json, generated independently by
//! gen_session.py from docs/float-encoding.md and docs/protocol.md), the parameter
//! choice, and encoding / decoding through whole simulated sessions.

use crate::common::session::signing_keys;
use crate::common::{array, bytes, parse, str_field, tc, tests, uint, variant_name};
use ed25519_dalek::SigningKey;
use secagg::crypto::rng::seeded_rng;
use secagg::dp::pipeline::DistributedDp;
use secagg::dp::rotation::sign_seed;
use secagg::dp::Mechanism;
use secagg::protocol::params::{find_params, ParamQuery, ThreatModel};
use secagg::quantize::Rounding;
use secagg::ring::RingVec;
use secagg::session::{
    dp_float_context, float_context, Choice, FloatSession, FloatSessionBuilder, CONTEXT_LABEL,
};
use secagg::sim::{run, DropSchedule};
use secagg::{Error, Misuse, Result};
use serde_json::Value;

const VECTORS: &str = include_str!("../vectors/session.json");

/// The builder a vector's parameters describe.
fn builder(t: &Value) -> FloatSessionBuilder {
    let n = uint(t, "n") as usize;
    let mut b = FloatSession::builder(n)
        .clip(t["clip"].as_f64().unwrap())
        .bits(uint(t, "bits") as u32)
        .max_weight(t["max_weight"].as_u64())
        .rounding(match str_field(t, "rounding") {
            "stochastic" => Rounding::Stochastic,
            "deterministic" => Rounding::Deterministic,
            other => panic!("tc {}: rounding {other}", tc(t)),
        })
        .graph_seed(array(t, "graph_seed"))
        .context(bytes(t, "caller_context"));
    for v in t["vectors"].as_array().unwrap() {
        b = b.vector(str_field(v, "name"), uint(v, "dim") as usize);
    }
    b = match str_field(t, "graph") {
        "complete" => b.complete().threshold(uint(t, "threshold") as usize),
        "harary" => b
            .harary(uint(t, "degree") as usize)
            .threshold(uint(t, "threshold") as usize),
        "finder" => b.rates(
            t["dropout"].as_f64().unwrap(),
            t["corrupt"].as_f64().unwrap(),
        ),
        other => panic!("tc {}: graph {other}", tc(t)),
    };
    if let Some(r) = t["ring_bits_given"].as_u64() {
        b = b.ring_bits(r as u32);
    }
    if t.get("dp").is_some() {
        b = b.dp(dp_of(&t["dp"]));
    }
    if str_field(t, "threat") == "malicious" {
        let keys: Vec<_> = t["signing_key_seeds"]
            .as_array()
            .unwrap()
            .iter()
            .zip(t["verifying_keys"].as_array().unwrap())
            .map(|(s, vk)| {
                let sk = SigningKey::from_bytes(
                    &hex::decode(s.as_str().unwrap()).unwrap()[..]
                        .try_into()
                        .unwrap(),
                );
                assert_eq!(
                    sk.verifying_key().as_bytes().to_vec(),
                    hex::decode(vk.as_str().unwrap()).unwrap(),
                    "tc {}: RFC 8032 public key",
                    tc(t)
                );
                sk.verifying_key()
            })
            .collect();
        b = b.malicious(keys);
    }
    b
}

/// The DP configuration of a vector's `dp` object.
fn dp_of(v: &Value) -> DistributedDp {
    let f = |k: &str| v[k].as_f64().unwrap();
    DistributedDp::noise_multiplier(f("noise_multiplier"))
        .mechanism(Mechanism::from_name(str_field(v, "mechanism")).unwrap())
        .delta(f("delta"))
        .beta(f("beta"))
        .k_stddevs(f("k_stddevs"))
        .min_survivors(uint(v, "min_survivors") as usize)
        .colluding(uint(v, "colluding") as usize)
}

#[test]
fn known_answer_session_ids() {
    let file = parse(VECTORS);
    assert_eq!(str_field(&file, "context_label").as_bytes(), CONTEXT_LABEL);
    let (mut valid, mut invalid, mut dp_cases) = (0, 0, 0);
    for t in tests(&file) {
        let got = builder(t).build();
        match str_field(t, "result") {
            "valid" => {
                let s = got.unwrap_or_else(|e| panic!("tc {}: {e}", tc(t)));
                let cfg = s.config();
                assert_eq!(cfg.context(), bytes(t, "context"), "tc {}", tc(t));
                let context = match s.dp() {
                    None => float_context(s.quantizer().config(), &bytes(t, "caller_context")),
                    Some(p) => {
                        dp_float_context(s.quantizer().config(), p, &bytes(t, "caller_context"))
                    }
                };
                assert_eq!(context, bytes(t, "context"), "tc {}", tc(t));
                if let Some(p) = s.dp() {
                    // The DP numbers gen_session.py computes from the documents.
                    let padded: Vec<u64> = p.padded.iter().map(|&l| l as u64).collect();
                    let want: Vec<u64> = t["dp_padded"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap())
                        .collect();
                    assert_eq!(padded, want, "tc {}", tc(t));
                    assert_eq!(p.norm_bound_sq, uint(t, "dp_norm_bound_sq"), "tc {}", tc(t));
                    let var = t["dp_variance"].as_array().unwrap();
                    assert_eq!(
                        (p.variance_num, p.variance_den),
                        (var[0].as_u64().unwrap(), var[1].as_u64().unwrap()),
                        "tc {}",
                        tc(t)
                    );
                    let names: Vec<&[u8]> = t["vectors"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| str_field(v, "name").as_bytes())
                        .collect();
                    for (i, (name, seed)) in names
                        .iter()
                        .zip(t["dp_rotation_seeds"].as_array().unwrap())
                        .enumerate()
                    {
                        assert_eq!(
                            hex::encode(sign_seed(s.session_id(), i as u32, name).unwrap()),
                            seed.as_str().unwrap(),
                            "tc {}: rotation seed {i}",
                            tc(t)
                        );
                    }
                    dp_cases += 1;
                }
                assert_eq!(
                    s.caller_context(),
                    bytes(t, "caller_context"),
                    "tc {}",
                    tc(t)
                );
                assert_eq!(
                    cfg.session_id_preimage(),
                    bytes(t, "preimage"),
                    "tc {}",
                    tc(t)
                );
                assert_eq!(
                    s.session_id(),
                    &array::<32>(t, "session_id"),
                    "tc {}",
                    tc(t)
                );
                assert_eq!(s.degree() as u64, uint(t, "degree"), "tc {}", tc(t));
                assert_eq!(cfg.threshold() as u64, uint(t, "threshold"), "tc {}", tc(t));
                assert_eq!(
                    u64::from(s.quantizer().config().ring_bits),
                    uint(t, "ring_bits"),
                    "tc {}",
                    tc(t)
                );
                if str_field(t, "graph") == "finder" {
                    assert!(matches!(s.choice(), Choice::Found(_)), "tc {}", tc(t));
                }
                valid += 1;
            }
            "invalid" => {
                let e = got.expect_err(&format!("tc {} must be refused", tc(t)));
                assert_eq!(variant_name(&e), str_field(t, "error"), "tc {}", tc(t));
                invalid += 1;
            }
            other => panic!("tc {}: result {other}", tc(t)),
        }
    }
    assert_eq!((valid, invalid, dp_cases), (7, 9, 2));
}

/// The same parameters reached by different routes give the same session id: the
/// finder's choice given explicitly, and a degree `>= n - 1` for the complete graph.
#[test]
fn same_parameters_same_session_id() {
    let base = || FloatSession::builder(100).dim(1000).graph_seed([7; 32]);
    let found = base().build().unwrap();
    let p = find_params(&ParamQuery::new(100, 0.1, 0.1, ThreatModel::SemiHonest)).unwrap();
    assert_eq!(found.choice(), &Choice::Found(p));
    let given = base()
        .harary(p.degree)
        .threshold(p.threshold)
        .rates(0.3, 0.0)
        .build()
        .unwrap();
    assert_eq!(found.session_id(), given.session_id());
    let complete = FloatSession::builder(6).dim(3).complete().threshold(4);
    let harary = FloatSession::builder(6).dim(3).harary(7).threshold(4);
    assert_eq!(
        complete.build().unwrap().session_id(),
        harary.build().unwrap().session_id()
    );
}

#[test]
fn every_parameter_changes_the_session_id() {
    let with = |n: usize, d: usize| {
        FloatSession::builder(n)
            .dim(d)
            .harary(4)
            .threshold(3)
            .graph_seed([1; 32])
    };
    let base = || with(10, 20);
    let variants: Vec<FloatSessionBuilder> = vec![
        base(),
        with(11, 20),
        with(10, 21),
        base().vector("second", 1),
        base().threshold(2),
        base().harary(6),
        base().complete(),
        base().graph_seed([2; 32]),
        base().clip(2.0),
        base().bits(15),
        base().ring_bits(30),
        base().weighted(5),
        base().rounding(Rounding::Deterministic),
        base().context(*b"x"),
    ];
    let count = variants.len();
    let mut ids: Vec<[u8; 32]> = variants
        .into_iter()
        .map(|b| *b.build().unwrap().session_id())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count);
    // Rates and targets only steer the choice: with the choice given they change nothing.
    let a = base().build().unwrap();
    let b = base().rates(0.2, 0.3).targets(30.0, 10.0).build().unwrap();
    assert_eq!(a.session_id(), b.session_id());
}

#[test]
fn choice_of_degree_threshold_and_ring() {
    // A graph without a threshold: the smallest the finder's targets accept.
    let s = FloatSession::builder(10).dim(4).complete().build().unwrap();
    assert!(s.is_complete());
    let t = s.config().threshold();
    assert!(matches!(s.choice(), Choice::Checked(p) if p.threshold == t && p.complete));
    // Given outside the targets: used, and the reason kept.
    let s = FloatSession::builder(10)
        .dim(4)
        .harary(2)
        .threshold(2)
        .build()
        .unwrap();
    assert_eq!(s.degree(), 2);
    assert!(
        matches!(s.choice(), Choice::Unchecked(_)),
        "{:?}",
        s.choice()
    );
    assert!(s.choice().params().is_none());
    // The narrowest ring, weighted: bit length of 10 * 7 * (2^16 - 1).
    let s = FloatSession::builder(10)
        .dim(4)
        .complete()
        .weighted(7)
        .build()
        .unwrap();
    assert_eq!(s.quantizer().config().ring_bits, 23);
    assert_eq!(s.config().vectors()[0].dim, 5);
    assert_eq!(s.dims(), [4]);
    // The finder's errors come through.
    assert!(matches!(
        FloatSession::builder(10).dim(4).rates(1.0, 0.0).build(),
        Err(Error::Misuse(Misuse::OutOfRange { .. }))
    ));
    assert!(matches!(
        FloatSession::builder(0)
            .dim(4)
            .complete()
            .threshold(1)
            .build(),
        Err(Error::Misuse(Misuse::InvalidClientCount { n: 0 }))
    ));
}

#[test]
fn encode_checks_counts_and_lengths() {
    let s = FloatSession::builder(4)
        .vector("a", 3)
        .vector("b", 2)
        .complete()
        .threshold(3)
        .build()
        .unwrap();
    let mut rng = seeded_rng([3; 32]);
    assert_eq!(
        s.encode(&[0.0f64; 3], 1, &mut rng).unwrap_err(),
        Error::Misuse(Misuse::InputCount {
            expected: 2,
            found: 1
        })
    );
    assert_eq!(
        s.encode_vectors(&[&[0.0f32; 3][..], &[0.0; 3]], 1, &mut rng)
            .unwrap_err(),
        Error::Misuse(Misuse::InputLength {
            vector: 1,
            expected: 2,
            found: 3
        })
    );
    assert_eq!(
        s.encode_vectors(&[&[0.0f32; 3][..], &[0.0; 2]], 2, &mut rng)
            .unwrap_err(),
        Error::Misuse(Misuse::WeightOutOfRange { weight: 2, max: 1 })
    );
    let e = s
        .encode_vectors(&[&[0.5f64, 3.0, -2.0][..], &[1.0, 0.0]], 1, &mut rng)
        .unwrap();
    assert_eq!(e.clipped(), 2);
    assert_eq!(e.vectors().len(), 2);
    assert!(!format!("{e:?}").contains('['), "Debug prints no words");
    assert_eq!(
        s.decode(&e.vectors()[..1], 1).unwrap_err(),
        Error::Misuse(Misuse::InputCount {
            expected: 2,
            found: 1
        })
    );
    let ring = s.config().vectors()[1].ring;
    let short = vec![e.vectors()[0].clone(), RingVec::zeros(&ring, 1)];
    assert_eq!(
        s.decode(&short, 1).unwrap_err(),
        Error::Misuse(Misuse::InputLength {
            vector: 1,
            expected: 2,
            found: 1
        })
    );
}

/// Whole sessions (weighted, two named vectors, the malicious model, with drop-outs):
/// the decoded sums are within the documented bound of the plaintext sums.
#[test]
fn encode_run_decode() -> Result<()> {
    let n = 8;
    let keys = signing_keys(n);
    let s = FloatSession::builder(n)
        .vector("w", 50)
        .vector("b", 3)
        .clip(2.0)
        .bits(12)
        .weighted(100)
        .harary(6)
        .threshold(4)
        .graph_seed([4; 32])
        .malicious(keys.iter().map(SigningKey::verifying_key).collect())
        .context(*b"encode_run_decode")
        .build()?;
    let mut rng = seeded_rng([5; 32]);
    let xs: Vec<(Vec<f64>, Vec<f64>, u64)> = (0..n)
        .map(|i| {
            let w: Vec<f64> = (0..50)
                .map(|j| ((i * 50 + j) as f64 * 0.37).sin() * 2.5)
                .collect();
            let b = vec![i as f64 * 0.1, -1.0, 0.25];
            (w, b, 1 + 13 * i as u64)
        })
        .collect();
    let inputs = xs
        .iter()
        .map(|(w, b, weight)| {
            s.encode_vectors(&[&w[..], &b[..]], *weight, &mut rng)
                .map(|e| e.into_vectors())
        })
        .collect::<Result<Vec<_>>>()?;
    let mut sched = DropSchedule::none(n);
    sched.set(2, Some(secagg::Round::MaskedInputCollection));
    let report =
        run(s.config().clone(), inputs, Some(keys), &sched, [6; 32]).map_err(|a| a.error)?;
    let agg = s.decode_output(&report.output)?;
    let included = &report.output.included;
    assert_eq!(included.len(), n - 1);
    let total: u64 = included.iter().map(|&u| xs[u as usize].2).sum();
    for (v, a) in agg.iter().enumerate() {
        assert_eq!(a.total_weight, total);
        for (j, got) in a.sum.iter().enumerate() {
            let want: f64 = included
                .iter()
                .map(|&u| {
                    let (w, b, weight) = &xs[u as usize];
                    let x = if v == 0 { w[j] } else { b[j] };
                    *weight as f64 * x.clamp(-2.0, 2.0)
                })
                .sum();
            assert!(
                (got - want).abs() <= a.error_bound,
                "{v} {j}: {got} vs {want}"
            );
        }
    }
    Ok(())
}
