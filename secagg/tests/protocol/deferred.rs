//! Clients started without their input (`Client::new_deferred`, issue 13): they advertise
//! keys and share them before the input exists, are given it (`provide_inputs`) before
//! the masked-input round, interoperate with clients started with theirs, survive being
//! stored and restored in every state with and without the input, and every misuse is a
//! typed error that leaves the client usable.

use std::sync::Arc;

use crate::common::protocol::{client_rng, independent_sum};
use crate::common::session::*;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::server::Server;
use secagg::ring::{Ring, RingVec};
use secagg::{ClientId, Error, Misuse, Round};

/// Random inputs for every client of `config`, one ring vector per configured vector
/// (the simulator's draw, from a generator seeded with `seed`).
fn inputs(config: &Config, seed: u8) -> Vec<Vec<RingVec>> {
    secagg::sim::random_inputs(config, &mut seeded_rng([seed; 32]))
}

/// When a deferred client is given its input.
#[derive(Clone, Copy, Debug, PartialEq)]
enum When {
    /// Started with it (`Client::new`).
    AtStart,
    /// Right after `new_deferred`, before the key list.
    BeforeKeyList,
    /// After the key list (in SharesSent), before the routed shares.
    BeforeRoutedShares,
    /// Only after its first attempt at the routed shares was refused.
    AfterRefusal,
}

/// Stores and restores `c` (the driver's round trip through bytes).
fn round_trip(config: &Arc<Config>, c: &Client) -> Client {
    let bytes = c.to_bytes().unwrap();
    let back = Client::from_bytes(Arc::clone(config), &bytes).unwrap();
    assert_eq!(back.state_name(), c.state_name());
    assert_eq!(back.needs_input(), c.needs_input());
    assert_eq!(back.accepts_input(), c.accepts_input());
    assert_eq!(&back.to_bytes().unwrap()[..], &bytes[..]);
    back
}

/// One session in which clients get their inputs at the times `when` gives (by id, in
/// a cycle), every client is stored and restored after every step, and `drop` drops
/// out before the routed shares; the sum is the plaintext sum of exactly the included
/// clients.
fn session(spec: &Spec, drop: ClientId, seed: u8) {
    let (config, keys) = spec.build();
    let xs = inputs(&config, seed);
    let n = config.n() as ClientId;
    let whens = [
        When::AtStart,
        When::BeforeKeyList,
        When::BeforeRoutedShares,
        When::AfterRefusal,
    ];
    let when = |u: ClientId| whens[u as usize % whens.len()];
    let key = |u: ClientId| keys.as_ref().map(|k| k[u as usize].clone());
    let mut server = Server::new(Arc::clone(&config));
    let mut clients = Vec::new();
    let mut rngs: Vec<_> = (0..n).map(|u| client_rng(seed, u)).collect();
    for u in 0..n {
        let (mut c, msg) = if when(u) == When::AtStart {
            Client::new(
                Arc::clone(&config),
                u,
                xs[u as usize].clone(),
                key(u),
                &mut rngs[u as usize],
            )
            .unwrap()
        } else {
            Client::new_deferred(Arc::clone(&config), u, key(u), &mut rngs[u as usize]).unwrap()
        };
        assert!(!c.needs_input());
        assert_eq!(c.accepts_input(), when(u) != When::AtStart);
        c = round_trip(&config, &c);
        if when(u) == When::BeforeKeyList {
            c.provide_inputs(xs[u as usize].clone()).unwrap();
            assert!(!c.accepts_input());
        }
        server.receive(u, msg).unwrap();
        clients.push(round_trip(&config, &c));
    }
    let mut outbox = server.close_round().unwrap();
    while !outbox.is_empty() {
        for (u, msg) in outbox {
            let c = &mut clients[u as usize];
            if matches!(msg, ServerMessage::RoutedShares(_)) {
                if u == drop {
                    continue;
                }
                assert_eq!(c.needs_input(), when(u) == When::AfterRefusal, "client {u}");
                if when(u) == When::AfterRefusal {
                    assert_eq!(
                        c.handle(msg.clone(), &mut rngs[u as usize]).map(|_| ()),
                        Err(Error::Misuse(Misuse::InputMissing))
                    );
                    // Refused, not aborted: still waiting for the routed shares.
                    assert_eq!(c.state_name(), "SharesSent");
                    *c = round_trip(&config, c);
                    c.provide_inputs(xs[u as usize].clone()).unwrap();
                }
            }
            let reply = c.handle(msg, &mut rngs[u as usize]).unwrap();
            if let ClientMessage::ShareKeys(_) = reply {
                if when(u) == When::BeforeRoutedShares {
                    *c = round_trip(&config, c);
                    assert!(c.needs_input());
                    c.provide_inputs(xs[u as usize].clone()).unwrap();
                    assert!(!c.needs_input());
                }
            }
            if !c.is_completed() {
                *c = round_trip(&config, c);
            }
            server.receive(u, reply).unwrap();
        }
        outbox = server.close_round().unwrap();
    }
    let out = server.output().unwrap();
    let want: Vec<ClientId> = (0..n).filter(|&u| u != drop).collect();
    assert_eq!(out.included, want);
    assert_eq!(out.sums, independent_sum(&config, &xs, &want));
}

#[test]
fn deferred_clients_interoperate_with_started_ones() {
    for model in MODELS {
        session(&Spec::new(8, 5, GraphSpec::Complete, model), 5, 1);
        session(
            &Spec::new(9, 3, harary(4), model).with_vectors(&[
                ("w", 7, ring(20)),
                ("b", 2, Ring::modulus(1_000_003).unwrap()),
            ]),
            2,
            2,
        );
    }
}

/// A client without its input stores none: its state is exactly the packed inputs
/// shorter than the same state with them, and the state byte says which.
#[test]
fn state_without_input_holds_no_input() {
    let spec = Spec::new(4, 3, GraphSpec::Complete, Model::SemiHonest);
    let (config, _) = spec.build();
    let xs = inputs(&config, 3);
    let mut rng = seeded_rng([4; 32]);
    let (mut c, _) = Client::new_deferred(Arc::clone(&config), 1, None, &mut rng).unwrap();
    let without = c.to_bytes().unwrap().to_vec();
    c.provide_inputs(xs[1].clone()).unwrap();
    let with = c.to_bytes().unwrap().to_vec();
    // 8 words of 16 bits, packed.
    assert_eq!(with.len() - without.len(), 16);
    assert_eq!((without[2], with[2]), (5, 0));
    // The rest is the same keys: the state with its input, less the input.
    assert_eq!(without[..2], with[..2]);
    assert_eq!(without[3..3 + 36], with[3..3 + 36]);
    assert_eq!(without[3 + 36..], with[3 + 36 + 16..]);
    // A state byte beyond the known ones is refused.
    let mut bad = without.clone();
    bad[2] = 7;
    assert!(matches!(
        Client::from_bytes(Arc::clone(&config), &bad),
        Err(Error::Encoding(_))
    ));
    // The no-input tag with an input appended is refused (trailing bytes).
    let mut bad = without.clone();
    bad.splice(3 + 36..3 + 36, with[3 + 36..3 + 36 + 16].iter().copied());
    assert!(Client::from_bytes(Arc::clone(&config), &bad).is_err());
}

#[test]
fn misuse_is_typed_and_leaves_the_client_usable() {
    let spec = Spec::new(4, 3, GraphSpec::Complete, Model::SemiHonest);
    let (config, _) = spec.build();
    let xs = inputs(&config, 5);
    let mut rng = seeded_rng([6; 32]);
    assert_eq!(
        Client::new_deferred(Arc::clone(&config), 4, None, &mut rng).map(|_| ()),
        Err(Error::Misuse(Misuse::InvalidClientId { client: 4, n: 4 }))
    );
    // A signing key in the semi-honest model.
    let keys = signing_keys(4);
    assert_eq!(
        Client::new_deferred(Arc::clone(&config), 0, Some(keys[0].clone()), &mut rng).map(|_| ()),
        Err(Error::Misuse(Misuse::SigningKeyMismatch { client: 0 }))
    );
    let (mut c, _) = Client::new_deferred(Arc::clone(&config), 0, None, &mut rng).unwrap();
    // Wrong count, wrong length, not in the ring: refused, still accepting.
    assert_eq!(
        c.provide_inputs(vec![]),
        Err(Error::Misuse(Misuse::InputCount {
            expected: 1,
            found: 0
        }))
    );
    assert_eq!(
        c.provide_inputs(vec![RingVec::U32(vec![0; 7])]),
        Err(Error::Misuse(Misuse::InputLength {
            vector: 0,
            expected: 8,
            found: 7
        }))
    );
    assert_eq!(
        c.provide_inputs(vec![RingVec::U32(vec![1 << 16; 8])]),
        Err(Error::Misuse(Misuse::InputNotInRing { vector: 0 }))
    );
    assert!(c.accepts_input());
    c.provide_inputs(xs[0].clone()).unwrap();
    // Twice.
    assert_eq!(
        c.provide_inputs(xs[0].clone()),
        Err(Error::Misuse(Misuse::InputNotExpected {
            state: "KeysAdvertised"
        }))
    );
    // A client started with its input.
    let (mut started, _) =
        Client::new(Arc::clone(&config), 1, xs[1].clone(), None, &mut rng).unwrap();
    assert!(!started.accepts_input());
    assert_eq!(
        started.provide_inputs(xs[1].clone()),
        Err(Error::Misuse(Misuse::InputNotExpected {
            state: "KeysAdvertised"
        }))
    );
    assert_eq!(started.state_name(), "KeysAdvertised");
    // A completed or aborted client.
    let mut done = Client::Aborted(Error::Misuse(Misuse::AlreadyAborted));
    assert_eq!(
        done.provide_inputs(xs[2].clone()),
        Err(Error::Misuse(Misuse::InputNotExpected { state: "Aborted" }))
    );
    assert!(!done.needs_input() && !done.accepts_input());
}

/// A deferred client that is never given its input is refused the routed shares as
/// often as they come, and past them nothing changes: the other clients complete
/// without it (it counts as dropped out).
#[test]
fn never_given_an_input_is_a_drop_out() {
    let spec = Spec::new(5, 3, GraphSpec::Complete, Model::SemiHonest);
    let (config, _) = spec.build();
    let xs = inputs(&config, 7);
    let mut server = Server::new(Arc::clone(&config));
    let mut rngs: Vec<_> = (0..5).map(|u| client_rng(8, u)).collect();
    let mut clients: Vec<Client> = (0..5u32)
        .map(|u| {
            let (c, m) = if u == 3 {
                Client::new_deferred(Arc::clone(&config), u, None, &mut rngs[3]).unwrap()
            } else {
                Client::new(
                    Arc::clone(&config),
                    u,
                    xs[u as usize].clone(),
                    None,
                    &mut rngs[u as usize],
                )
                .unwrap()
            };
            server.receive(u, m).unwrap();
            c
        })
        .collect();
    let mut outbox = server.close_round().unwrap();
    while !outbox.is_empty() {
        for (u, msg) in outbox {
            let c = &mut clients[u as usize];
            if u == 3 && server.round() == Round::MaskedInputCollection {
                for _ in 0..2 {
                    assert_eq!(
                        c.handle(msg.clone(), &mut rngs[3]).map(|_| ()),
                        Err(Error::Misuse(Misuse::InputMissing))
                    );
                }
                continue;
            }
            server
                .receive(u, c.handle(msg, &mut rngs[u as usize]).unwrap())
                .unwrap();
        }
        outbox = server.close_round().unwrap();
    }
    let out = server.output().unwrap();
    assert_eq!(out.included, vec![0, 1, 2, 4]);
    assert_eq!(out.sums, independent_sum(&config, &xs, &out.included));
}
