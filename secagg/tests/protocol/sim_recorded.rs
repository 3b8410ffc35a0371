//! The simulator against outputs recorded from the simulator that stored every client's
//! input, state and message at once (before the streaming simulator; see `RECORDED`):
//! the same seeds must give the same sums, the same included set, the same client
//! aborts, the same per-round message counts and wire bytes, or the same abort. Each
//! case is reduced to a SHA-256 digest of those observables (`digest`); the recorded
//! digests were printed with this file's `digest` on that commit (`sim::run_with` on
//! each case, `println!("{:?}", digest(&r))`).
//!
//! Both ways of feeding inputs are checked: the stored vector (`sim::run_with`) and
//! the generator that regenerates each client's input when it is needed
//! (`sim::run_streaming`), in both client executions.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::ring::{Ring, RingVec};
use secagg::sim::{self, ClientExecution, DropSchedule, SimAbort, SimReport};
use secagg::{ClientId, Round};
use sha2::{Digest, Sha256};

use crate::common::session::*;

/// One recorded case: a session, a drop-out pattern and the simulation seed.
struct Case {
    name: &'static str,
    spec: Spec,
    /// Seed of the drop schedule (`DropSchedule::random`), with its rate.
    drops: (u8, f64),
    sim_seed: [u8; 32],
}

fn cases() -> Vec<Case> {
    let two_vectors = |s: Spec| {
        s.with_vectors(&[
            ("w", 37, Ring::pow2(24).unwrap()),
            ("b", 5, Ring::pow2(64).unwrap()),
        ])
    };
    vec![
        Case {
            name: "semi-honest, complete, 12 clients",
            spec: Spec::new(12, 7, GraphSpec::Complete, Model::SemiHonest),
            drops: (1, 0.2),
            sim_seed: [1; 32],
        },
        Case {
            name: "malicious, complete, 10 clients",
            spec: Spec::new(10, 6, GraphSpec::Complete, Model::Malicious),
            drops: (2, 0.2),
            sim_seed: [2; 32],
        },
        Case {
            name: "semi-honest, Harary k = 8, 40 clients, two vectors",
            spec: two_vectors(Spec::new(40, 5, harary(8), Model::SemiHonest)),
            drops: (3, 0.15),
            sim_seed: [3; 32],
        },
        Case {
            name: "malicious, Harary k = 10, 60 clients, two vectors",
            spec: two_vectors(Spec::new(60, 6, harary(10), Model::Malicious)),
            drops: (4, 0.1),
            sim_seed: [4; 32],
        },
        Case {
            name: "semi-honest, Harary k = 6, 30 clients, general modulus",
            spec: Spec::new(30, 4, harary(6), Model::SemiHonest).with_vectors(&[(
                "",
                64,
                Ring::modulus(1_000_003).unwrap(),
            )]),
            drops: (5, 0.1),
            sim_seed: [5; 32],
        },
        Case {
            name: "semi-honest, complete, 8 clients, too many drop-outs (abort)",
            spec: Spec::new(8, 6, GraphSpec::Complete, Model::SemiHonest),
            drops: (6, 0.6),
            sim_seed: [6; 32],
        },
    ]
}

/// A case's configuration, keys, inputs and schedule.
type Setup = (
    Arc<Config>,
    Option<Vec<SigningKey>>,
    Vec<Vec<RingVec>>,
    DropSchedule,
);

/// Builds the case.
fn setup(case: &Case) -> Setup {
    let (config, keys) = case.spec.build();
    let inputs = sim::random_inputs(&config, &mut seeded_rng([case.drops.0 ^ 0x5a; 32]));
    let schedule = DropSchedule::random(
        config.n(),
        case.drops.1,
        config.rounds(),
        &mut seeded_rng([case.drops.0; 32]),
    );
    (config, keys, inputs, schedule)
}

/// SHA-256 over everything a simulation shows apart from its timings.
fn digest(result: &Result<SimReport, SimAbort>) -> String {
    let mut h = Sha256::new();
    match result {
        Err(a) => {
            h.update(b"abort");
            h.update([a.round.number()]);
            h.update(a.error.to_string().as_bytes());
        }
        Ok(r) => {
            h.update(b"ok");
            h.update([u8::from(r.is_correct())]);
            for s in &r.output.sums {
                h.update((s.len() as u64).to_le_bytes());
                for w in s.to_u64s() {
                    h.update(w.to_le_bytes());
                }
            }
            for &u in &r.output.included {
                h.update(u.to_le_bytes());
            }
            h.update((r.client_aborts.len() as u64).to_le_bytes());
            for (u, e) in &r.client_aborts {
                h.update(u.to_le_bytes());
                h.update(e.to_string().as_bytes());
            }
            for st in &r.rounds {
                h.update([st.round.number()]);
                for x in [
                    st.active_clients as u64,
                    st.client_messages as u64,
                    st.server_messages as u64,
                    st.client_bytes,
                    st.server_bytes,
                ] {
                    h.update(x.to_le_bytes());
                }
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Recorded with the simulator that held everything at once (`sim::run_with` before
/// the streaming change), in the order of `cases()`: first on commit 8eea39f
/// (protocol version 1), then re-recorded on 78bfb76, the same simulator after the
/// protocol-version-2 change (accusations in MaskedInput, +4 bytes per message, new
/// session ids) and before the streaming simulator was merged. Re-recorded for
/// protocol version 3 with this file's `digest` over `sim::run_with` (the stored
/// inputs): the version byte enters the session id and the graph shuffle (so the
/// SecAgg+ neighborhoods, and with them who survives the drop schedule, changed), and
/// `UnmaskRequest` and `UnmaskShares` each gained a 4-byte empty pairwise list; every
/// case still verifies against its plaintext sum (`is_correct`). The abort case (it
/// ends in round 1, before any changed message) did not change.
const RECORDED: [&str; 6] = [
    "333224b8b0d0406a5e323bb88a35f6e606f040f110b5ce776e1c2b6cd4ec4b26",
    "ace3ad4059d49a414afa6bec04edd1f8b4efcb971706fcd7fd9124db4e611a96",
    "30516950615c76033c11ce76f47d3581bed7d9b3a9c20014a978d9e5399f260b",
    "5b716429205a370255dc7e45b4ec4b2f172985bcd4bd600a584a5db7a778a2f5",
    "c0f80934f877ec0d8f1e1a583ac7c602ae217bb413a2b5823d06d29c65609feb",
    "67325891a71137a125ad4dda157367fd26be55e21b21013ef5a3b164455c235d",
];

const EXECUTIONS: [ClientExecution; 2] = [ClientExecution::Parallel, ClientExecution::Sequential];

#[test]
fn stored_inputs_match_the_recorded_simulator() {
    for (case, want) in cases().iter().zip(RECORDED) {
        for execution in EXECUTIONS {
            let (config, keys, inputs, schedule) = setup(case);
            let r = sim::run_with(config, inputs, keys, &schedule, case.sim_seed, execution);
            assert_eq!(digest(&r), want, "{} ({execution:?})", case.name);
        }
    }
}

#[test]
fn streamed_inputs_match_the_recorded_simulator() {
    for (case, want) in cases().iter().zip(RECORDED) {
        for execution in EXECUTIONS {
            let (config, keys, inputs, schedule) = setup(case);
            // Regenerated on demand from the same seed, never stored for the session:
            // client `i`'s input is the `i`-th of the stream `random_inputs` draws.
            let calls = std::sync::atomic::AtomicUsize::new(0);
            let source = |id: ClientId| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let all = sim::random_inputs(&config, &mut seeded_rng([case.drops.0 ^ 0x5a; 32]));
                Ok(all[id as usize].clone())
            };
            let r = sim::run_streaming(
                config.clone(),
                &source,
                keys,
                &schedule,
                case.sim_seed,
                execution,
            );
            assert_eq!(digest(&r), want, "{} ({execution:?})", case.name);
            // Inputs are asked for only by clients that mask them (and for the
            // check's corrections), never for every client up front.
            let silent = (0..config.n() as ClientId)
                .filter(|&u| schedule.is_silent(u, Round::MaskedInputCollection))
                .count();
            if let Ok(r) = &r {
                assert!(r.is_correct(), "{}", case.name);
                assert!(
                    calls.into_inner()
                        <= config.n() - silent + (config.n() - r.output.included.len())
                );
            }
            drop(inputs);
        }
    }
}

/// A generator that fails, or gives inputs that do not fit, aborts the simulation in
/// round 2 with its error.
#[test]
fn bad_generated_inputs_abort_in_round_two() {
    let case = &cases()[0];
    let (config, keys, _, _) = setup(case);
    let schedule = DropSchedule::none(config.n());
    let fail = |id: ClientId| -> secagg::Result<Vec<RingVec>> {
        if id == 3 {
            Err(secagg::Error::Misuse(secagg::error::Misuse::ThreadPool))
        } else {
            Ok(vec![RingVec::zeros(&Ring::pow2(16).unwrap(), 8)])
        }
    };
    let e = sim::run_streaming(
        config.clone(),
        &fail,
        keys.clone(),
        &schedule,
        [0; 32],
        ClientExecution::Parallel,
    )
    .unwrap_err();
    assert_eq!(e.round, Round::MaskedInputCollection);
    assert_eq!(e.error.name(), "ThreadPool");
    let short = |_: ClientId| Ok(vec![RingVec::zeros(&Ring::pow2(16).unwrap(), 7)]);
    let e = sim::run_streaming(
        config,
        &short,
        keys,
        &schedule,
        [0; 32],
        ClientExecution::Parallel,
    )
    .unwrap_err();
    assert_eq!(e.round, Round::MaskedInputCollection);
    assert_eq!(e.error.name(), "InputLength");
}
