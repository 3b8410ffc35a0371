//! Random drop-out patterns on sparse graphs (n = 20 and n = 100), both threat models,
//! each checked against the independent model of the abort rules and the plaintext sum
//! of exactly the included clients.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::sim::DropSchedule;

/// Runs `count` random patterns; returns (successes, aborts).
fn random_patterns(n: usize, degree: usize, count: usize, seed: u8) -> (usize, usize) {
    let mut rng = seeded_rng([seed; 32]);
    let mut outcome = (0, 0);
    for i in 0..count {
        let model = MODELS[i % 2];
        let t = match model {
            Model::SemiHonest => degree / 2,
            Model::Malicious => degree / 2 + 1,
        };
        let mut spec = Spec::new(n, t, harary(degree), model);
        spec.vectors = vec![(String::new(), 4, ring(24))];
        let (config, keys) = spec.build();
        // Drop rates from 0 to 30%, spread over the rounds.
        let rate = f64::from(rng.next_u32() % 31) / 100.0;
        let schedule = DropSchedule::random(n, rate, config.rounds(), &mut rng);
        if check_schedule(&spec, &config, &keys, &schedule, i as u8) {
            outcome.0 += 1;
        } else {
            outcome.1 += 1;
        }
    }
    println!(
        "n = {n}, k = {degree}: {count} patterns, {} correct sums, {} documented aborts",
        outcome.0, outcome.1
    );
    outcome
}

#[test]
fn n20_random_patterns() {
    let (ok, aborted) = random_patterns(20, 4, 1000, 1);
    assert!(ok > 250 && aborted > 0, "{ok} {aborted}");
}

#[test]
fn n100_random_patterns() {
    let (ok, aborted) = random_patterns(100, 6, 100, 2);
    assert!(ok > 25 && aborted > 0, "{ok} {aborted}");
}

/// The same at n = 100 with 1,000 patterns (about a minute):
/// `cargo test --release --test sim_random -- --ignored`.
#[test]
#[ignore]
fn n100_random_patterns_full() {
    let (ok, aborted) = random_patterns(100, 6, 1000, 3);
    assert!(ok > 250 && aborted > 0, "{ok} {aborted}");
}
