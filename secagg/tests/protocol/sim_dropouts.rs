//! Every drop-out subset before every round, for n = 5, 6, 7, complete and sparse
//! graphs, both threat models: the sum equals the plaintext sum of exactly the included
//! clients, or the session aborts exactly when the documented rules say it must.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::graph::GraphSpec;
use secagg::sim::DropSchedule;

/// (graph, degree) pairs for `n` clients: the complete graph and a sparse one.
fn graphs(n: usize) -> Vec<(GraphSpec, usize)> {
    let sparse = if n <= 5 { 2 } else { 4 };
    vec![(GraphSpec::Complete, n - 1), (harary(sparse), sparse)]
}

fn threshold(model: Model, degree: usize) -> usize {
    match model {
        Model::SemiHonest => degree.div_ceil(2),
        Model::Malicious => degree / 2 + 1,
    }
}

/// Every non-empty subset dropping before every round; returns (successes, aborts).
fn exhaustive(n: usize, model: Model) -> (usize, usize) {
    let (mut ok, mut aborted) = (0, 0);
    for (graph, degree) in graphs(n) {
        let spec = Spec::new(n, threshold(model, degree), graph, model);
        let (config, keys) = spec.build();
        for &round in config.rounds() {
            for subset in 1u32..(1 << n) {
                let mut schedule = DropSchedule::none(n);
                for u in 0..n as u32 {
                    if subset & (1 << u) != 0 {
                        schedule.set(u, Some(round));
                    }
                }
                if check_schedule(&spec, &config, &keys, &schedule, subset as u8) {
                    ok += 1;
                } else {
                    aborted += 1;
                }
            }
        }
    }
    println!("n = {n}, {model:?}: {ok} correct sums, {aborted} documented aborts");
    (ok, aborted)
}

#[test]
fn every_subset_n5() {
    for model in MODELS {
        let (ok, aborted) = exhaustive(5, model);
        assert!(ok > 0 && aborted > 0, "{ok} {aborted}");
    }
}

#[test]
fn every_subset_n6() {
    for model in MODELS {
        let (ok, aborted) = exhaustive(6, model);
        assert!(ok > 0 && aborted > 0, "{ok} {aborted}");
    }
}

#[test]
fn every_subset_n7_semi_honest() {
    let (ok, aborted) = exhaustive(7, Model::SemiHonest);
    assert!(ok > 0 && aborted > 0, "{ok} {aborted}");
}

#[test]
fn every_subset_n7_malicious() {
    let (ok, aborted) = exhaustive(7, Model::Malicious);
    assert!(ok > 0 && aborted > 0, "{ok} {aborted}");
}

/// Drops spread over several rounds at once (each client its own round, or none).
#[test]
fn random_multi_round_schedules_n7() {
    let mut rng = seeded_rng([3; 32]);
    let mut outcomes = (0, 0);
    for model in MODELS {
        for (graph, degree) in graphs(7) {
            let spec = Spec::new(7, threshold(model, degree), graph, model);
            let (config, keys) = spec.build();
            for i in 0..100u8 {
                let schedule = DropSchedule::random(7, 0.4, config.rounds(), &mut rng);
                if check_schedule(&spec, &config, &keys, &schedule, i) {
                    outcomes.0 += 1;
                } else {
                    outcomes.1 += 1;
                }
            }
        }
    }
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}

/// The simulator is deterministic: the same seed gives the same output, whether the
/// clients of a round run in parallel or one after the other; another seed gives other
/// masks but the same sum.
#[test]
fn deterministic_and_independent_of_execution() {
    use secagg::sim::{self, ClientExecution};
    use secagg::Round;
    use std::sync::Arc;
    let spec = Spec::new(9, 2, harary(4), Model::SemiHonest);
    let (config, _) = spec.build();
    let inputs = sim::random_inputs(&config, &mut seeded_rng([1; 32]));
    let mut schedule = DropSchedule::none(9);
    schedule.set(3, Some(Round::MaskedInputCollection));
    schedule.set(5, Some(Round::Unmasking));
    let run = |seed, execution| {
        sim::run_with(
            Arc::clone(&config),
            inputs.clone(),
            None,
            &schedule,
            seed,
            execution,
        )
        .unwrap()
    };
    let a = run([7; 32], ClientExecution::Parallel);
    let b = run([7; 32], ClientExecution::Sequential);
    let c = run([8; 32], ClientExecution::Parallel);
    assert_eq!(a.output, b.output);
    assert_eq!(a.output, c.output, "the sum does not depend on the masks");
    assert!(a.is_correct());
    assert_eq!(a.output.included, vec![0, 1, 2, 4, 5, 6, 7, 8]);
    let counts: Vec<(usize, usize)> = a
        .rounds
        .iter()
        .map(|r| (r.client_messages, r.server_messages))
        .collect();
    assert_eq!(counts, vec![(9, 9), (9, 9), (8, 8), (7, 0)]);
}
