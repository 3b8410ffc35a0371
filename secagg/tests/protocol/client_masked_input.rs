//! The client's third state, `InputSent` (masked input sent): the consistency request
//! of the malicious model, and messages that do not belong in this state.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ConsistencyRequest, ServerMessage, UnmaskRequest};
use secagg::protocol::transcript;
use secagg::Round;
use secagg::{Error, PeerMisbehaved, ThresholdError};

fn mal(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::Malicious)
}

/// Runs a malicious-model session where `dropped_r1` drop before round 1 and
/// `dropped_r2` before round 2; returns it with the consistency requests undelivered.
fn at_consistency(
    spec: &Spec,
    dropped_r1: &[u32],
    dropped_r2: &[u32],
) -> (Session, Vec<(u32, ServerMessage)>) {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, dropped_r1);
    let silent: Vec<u32> = dropped_r1.iter().chain(dropped_r2).copied().collect();
    let msgs = s.step(&routed, &silent);
    assert_eq!(msgs[0].1.round(), Round::ConsistencyCheck);
    (s, msgs)
}

fn request(survivors: Vec<u32>) -> ServerMessage {
    ServerMessage::ConsistencyRequest(ConsistencyRequest { survivors })
}

#[test]
fn honest_request_is_signed_sorted() {
    let spec = mal(5, 3);
    let (mut s, msgs) = at_consistency(&spec, &[], &[3]);
    assert_eq!(msg_for(&msgs, 0), request(vec![0, 1, 2, 4]));
    // Any order is accepted; the signature covers the sorted set.
    let ClientMessage::ConsistencySignature(c) = s.handle(0, request(vec![4, 1, 0, 2])).unwrap()
    else {
        panic!()
    };
    let t = transcript::consistency(s.config.session_id(), &[0, 1, 2, 4]);
    s.config
        .verifying_key(0)
        .unwrap()
        .verify_strict(&t, &c.signature)
        .unwrap();
    let t = transcript::consistency(s.config.session_id(), &[0, 1, 2]);
    assert!(s
        .config
        .verifying_key(0)
        .unwrap()
        .verify_strict(&t, &c.signature)
        .is_err());
}

#[test]
fn bad_survivor_sets() {
    let spec = mal(6, 3);
    let cases: Vec<(Vec<u32>, Error)> = vec![
        (
            vec![1, 2, 3, 4],
            Error::PeerMisbehaved(PeerMisbehaved::SelfListedDead),
        ),
        (
            vec![0, 1, 1, 2, 3],
            Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry { client: 1 }),
        ),
        (
            vec![0, 1, 2, 3, 40],
            Error::PeerMisbehaved(PeerMisbehaved::UnknownClient { client: 40 }),
        ),
        // Client 5 dropped before round 1: it holds no shares, cannot be alive now.
        (
            vec![0, 1, 2, 3, 5],
            Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead { client: 5 }),
        ),
        (
            vec![0, 1, 2],
            Error::Threshold(ThresholdError::TooFewNeighbors {
                round: Round::ConsistencyCheck,
                needed: 3,
                got: 2,
            }),
        ),
    ];
    for (survivors, expected) in cases {
        let (mut s, _) = at_consistency(&spec, &[5], &[]);
        assert_eq!(
            s.handle(0, request(survivors.clone())),
            Err(expected),
            "{survivors:?}"
        );
        assert_eq!(s.clients[0].state_name(), "Aborted");
    }
}

#[test]
fn wrong_messages_in_this_state() {
    // Malicious: the unmask request cannot skip the consistency round.
    let (mut s, msgs) = at_consistency(&mal(5, 3), &[], &[]);
    let ServerMessage::ConsistencyRequest(c) = msg_for(&msgs, 0) else {
        panic!()
    };
    assert_eq!(
        s.handle(
            0,
            ServerMessage::UnmaskRequest(UnmaskRequest {
                survivors: c.survivors,
                signatures: vec![],
                pairwise: vec![],
            })
        ),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: Round::ConsistencyCheck,
            found: Round::Unmasking
        }))
    );
    // Semi-honest: there is no consistency round.
    let spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = Session::new(&spec, 1);
    let msgs = s.until(Round::Unmasking);
    assert_eq!(
        s.handle(0, request(vec![0, 1, 2, 3, 4])),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: Round::Unmasking,
            found: Round::ConsistencyCheck
        }))
    );
    // A stale key list.
    let mut s = Session::new(&spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, &[]);
    s.client_round(&routed);
    assert_eq!(
        s.handle(0, msg_for(&kl, 0)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: Round::Unmasking,
            found: Round::ShareKeys
        }))
    );
    let _ = msgs;
}

#[test]
fn masked_input_hides_the_input() {
    // The masked input differs from the input in (almost) every word, and two sessions
    // use different masks.
    let spec = Spec::new(4, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut ys = Vec::new();
    for seed in [1, 2] {
        let mut s = Session::new(&spec, seed);
        s.until(Round::Unmasking);
        let ClientMessage::MaskedInput(m) = s.sent_in(0, Round::MaskedInputCollection) else {
            panic!()
        };
        let same = m.vectors[0]
            .to_u64s()
            .iter()
            .zip(s.inputs[0][0].to_u64s())
            .filter(|(a, b)| **a == *b)
            .count();
        assert!(same <= 1, "{same}");
        let mut mask = m.vectors[0].clone();
        mask.sub_assign(&s.config.vectors()[0].ring, &s.inputs[0][0])
            .unwrap();
        ys.push(mask);
    }
    assert_ne!(ys[0], ys[1]);
}
