//! The server in round 0 (AdvertiseKeys): what it accepts, what it rejects without
//! changing its state, the key lists it sends, and when it aborts.

use crate::common::protocol::*;
use crate::common::session::*;
use ed25519_dalek::Signature;
use secagg::crypto::keys::PublicKey;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{
    AdvertiseKeys, ClientMessage, ConsistencySignature, MaskedInput, ServerMessage,
};
use secagg::Round;
use secagg::{CryptoError, Error, Misuse, PeerMisbehaved, ThresholdError};

fn semi(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::SemiHonest)
}

fn mal(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::Malicious)
}

fn advertise(s: &Session, id: u32) -> AdvertiseKeys {
    match s.sent_in(id, Round::AdvertiseKeys) {
        ClientMessage::AdvertiseKeys(a) => a,
        other => panic!("{other:?}"),
    }
}

/// Feeds the bad messages first, each must be rejected with its error; then the
/// honest session must still complete with the right sum.
fn rejected_then_completes(
    spec: &Spec,
    bad: impl Fn(&Session) -> Vec<(u32, ClientMessage, Error)>,
) {
    let mut s = Session::new(spec, 1);
    for (from, msg, expected) in bad(&s) {
        assert_eq!(
            s.server.receive(from, msg.clone()),
            Err(expected),
            "{msg:?}"
        );
    }
    assert!(s.server.received().is_empty(), "nothing was accepted");
    let out = s.complete();
    let all: Vec<u32> = (0..spec.n as u32).collect();
    assert_eq!(out.included, all);
    assert_eq!(out.sums, s.expected(&all));
}

#[test]
fn bad_messages_are_rejected_without_harm() {
    let spec = semi(5, 2);
    rejected_then_completes(&spec, |s| {
        let a1 = advertise(s, 1);
        let mut same_keys = a1;
        same_keys.mask_pk = same_keys.enc_pk;
        let input = MaskedInput {
            accused: vec![],
            vectors: s.inputs[0].clone(),
        };
        vec![
            (
                7,
                ClientMessage::AdvertiseKeys(a1),
                Error::PeerMisbehaved(PeerMisbehaved::UnknownClient { client: 7 }),
            ),
            (
                1,
                ClientMessage::MaskedInput(input),
                Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                    expected: Round::AdvertiseKeys,
                    found: Round::MaskedInputCollection,
                }),
            ),
            (
                1,
                ClientMessage::ConsistencySignature(ConsistencySignature {
                    signature: Signature::from_bytes(&[0; 64]),
                }),
                Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                    expected: Round::AdvertiseKeys,
                    found: Round::ConsistencyCheck,
                }),
            ),
            (
                1,
                ClientMessage::AdvertiseKeys(same_keys),
                Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
                    first: 1,
                    second: 1,
                }),
            ),
            (
                1,
                ClientMessage::AdvertiseKeys(AdvertiseKeys {
                    signature: Some(Signature::from_bytes(&[0; 64])),
                    ..a1
                }),
                Error::PeerMisbehaved(PeerMisbehaved::UnexpectedSignature { client: 1 }),
            ),
        ]
    });
}

#[test]
fn duplicates_and_repeated_keys() {
    let spec = semi(4, 2);
    let mut s = Session::new(&spec, 1);
    let a1 = advertise(&s, 1);
    s.server
        .receive(1, ClientMessage::AdvertiseKeys(a1))
        .unwrap();
    assert_eq!(
        s.server.receive(1, ClientMessage::AdvertiseKeys(a1)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateMessage {
            client: 1,
            round: Round::AdvertiseKeys
        }))
    );
    // Client 2 replays client 1's keys (copying keys is all a client could do).
    assert_eq!(
        s.server.receive(2, ClientMessage::AdvertiseKeys(a1)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
            first: 1,
            second: 2
        }))
    );
    let mut a2 = advertise(&s, 2);
    a2.mask_pk = a1.enc_pk;
    assert_eq!(
        s.server.receive(2, ClientMessage::AdvertiseKeys(a2)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
            first: 1,
            second: 2
        }))
    );
    s.outbox[1] = None;
    let out = s.complete();
    assert_eq!(out.included, vec![0, 1, 2, 3]);
    assert_eq!(out.sums, s.expected(&[0, 1, 2, 3]));
}

#[test]
fn signatures_in_the_malicious_model() {
    let spec = mal(5, 3);
    rejected_then_completes(&spec, |s| {
        let a1 = advertise(s, 1);
        let a2 = advertise(s, 2);
        let mut flipped = a1.signature.unwrap().to_bytes();
        flipped[9] ^= 4;
        vec![
            (
                1,
                ClientMessage::AdvertiseKeys(AdvertiseKeys {
                    signature: None,
                    ..a1
                }),
                Error::PeerMisbehaved(PeerMisbehaved::MissingSignature { client: 1 }),
            ),
            (
                1,
                ClientMessage::AdvertiseKeys(AdvertiseKeys {
                    signature: Some(Signature::from_bytes(&flipped)),
                    ..a1
                }),
                Error::Crypto(CryptoError::BadSignature { client: 1 }),
            ),
            // 2's signed keys sent as 1's.
            (
                1,
                ClientMessage::AdvertiseKeys(a2),
                Error::Crypto(CryptoError::BadSignature { client: 1 }),
            ),
            (
                1,
                ClientMessage::AdvertiseKeys(AdvertiseKeys {
                    enc_pk: PublicKey::from_bytes([3; 32]),
                    ..a1
                }),
                Error::Crypto(CryptoError::BadSignature { client: 1 }),
            ),
        ]
    });
}

#[test]
fn key_lists_hold_the_surviving_neighbors_and_the_client() {
    let spec = Spec::new(10, 2, harary(4), Model::SemiHonest);
    let mut s = Session::new(&spec, 1);
    let msgs = s.server_round(&[3]);
    let graph = s.config.graph().clone();
    assert_eq!(msgs.len(), 9);
    for (u, m) in &msgs {
        let ServerMessage::KeyList(kl) = m else {
            panic!()
        };
        let ids: Vec<u32> = kl.entries.iter().map(|e| e.id).collect();
        let mut expected: Vec<u32> = graph
            .neighbors(*u)
            .iter()
            .copied()
            .filter(|&v| v != 3)
            .collect();
        expected.push(*u);
        expected.sort();
        assert_eq!(ids, expected);
        for e in &kl.entries {
            assert_eq!(e.keys, advertise(&s, e.id));
        }
    }
    assert!(msgs.iter().all(|(u, _)| *u != 3));
}

#[test]
fn clients_left_with_too_few_neighbors_are_dropped_too() {
    // Sparse graph, t = 2: kill both neighbors of... every client has 4 neighbors;
    // drop three of client 0's neighbors: 0 keeps 1 < t and gets no key list.
    let spec = Spec::new(10, 2, harary(4), Model::SemiHonest);
    let (config, _) = spec.build();
    let n0: Vec<u32> = config.graph().neighbors(0)[..3].to_vec();
    let mut s = Session::new(&spec, 1);
    let msgs = s.server_round(&n0);
    assert!(msgs.iter().all(|(u, _)| *u != 0), "0 is pruned");
    for (_, m) in &msgs {
        let ServerMessage::KeyList(kl) = m else {
            panic!()
        };
        assert!(kl.entries.iter().all(|e| e.id != 0));
    }
    let out = s.finish(&msgs);
    // The t-core of the others, computed here by repeated pruning (0 goes first; in
    // some graphs a neighbor of the dead follows it).
    let mut alive: Vec<u32> = (0..10).filter(|v| !n0.contains(v)).collect();
    loop {
        let keep: Vec<u32> = alive
            .iter()
            .copied()
            .filter(|&u| {
                config
                    .graph()
                    .neighbors(u)
                    .iter()
                    .filter(|v| alive.contains(v))
                    .count()
                    >= 2
            })
            .collect();
        if keep.len() == alive.len() {
            break;
        }
        alive = keep;
    }
    let expected = alive;
    assert!(!expected.contains(&0) && !expected.is_empty());
    assert_eq!(out.included, expected);
    assert_eq!(out.sums, s.expected(&expected));
}

#[test]
fn too_few_survivors_abort() {
    let spec = semi(5, 3);
    let mut s = Session::new(&spec, 1);
    // Three answer: each has 2 < 3 surviving neighbors.
    for (i, m) in s.outbox.iter_mut().enumerate().take(3) {
        s.server.receive(i as u32, m.take().unwrap()).unwrap();
    }
    assert_eq!(
        s.server.close_round(),
        Err(Error::Threshold(ThresholdError::TooFewSurvivors {
            round: Round::AdvertiseKeys,
            threshold: 3,
            survivors: 3
        }))
    );
    assert!(s.server.error().is_some());
    assert_eq!(
        s.server.close_round(),
        Err(Error::Misuse(Misuse::AlreadyAborted))
    );
    let a = advertise(&s, 4);
    assert_eq!(
        s.server.receive(4, ClientMessage::AdvertiseKeys(a)),
        Err(Error::Misuse(Misuse::AlreadyAborted))
    );
    // t + 1 answering is enough in the complete graph.
    let mut s = Session::new(&spec, 1);
    let msgs = s.server_round(&[4]);
    assert_eq!(msgs.len(), 4);
}
