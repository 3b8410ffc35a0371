//! The server in round 4 (Unmasking): validation of revealed shares, reconstruction,
//! the output, and what happens after completion.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::crypto::shamir::Share;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ShareKind, UnmaskShares};
use secagg::Round;
use secagg::{Error, Misuse, PeerMisbehaved, ThresholdError};

/// A session in round 4 with the unmask responses in the outbox; `dropped_r1` drop
/// before round 1, `dropped_r2` before round 2.
fn in_round_4(spec: &Spec, dropped_r1: &[u32], dropped_r2: &[u32]) -> Session {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, dropped_r1);
    let silent: Vec<u32> = dropped_r1.iter().chain(dropped_r2).copied().collect();
    let mut msgs = s.step(&routed, &silent);
    if msgs[0].1.round() == Round::ConsistencyCheck {
        msgs = s.step(&msgs, &silent);
    }
    let live: Vec<_> = msgs
        .into_iter()
        .filter(|(i, _)| !silent.contains(i))
        .collect();
    s.client_round(&live);
    s
}

fn shares_of(s: &Session, id: u32) -> UnmaskShares {
    match &s.outbox[id as usize] {
        Some(ClientMessage::UnmaskShares(u)) => u.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_responses_are_rejected_without_harm() {
    for model in MODELS {
        let t = if model == Model::Malicious { 4 } else { 2 };
        let spec = Spec::new(7, t, GraphSpec::Complete, model);
        // 6 dropped before round 1 (no shares exist), 5 before round 2 (mask key).
        let mut s = in_round_4(&spec, &[6], &[5]);
        let honest = shares_of(&s, 0);
        let kinds: Vec<(u32, ShareKind)> =
            honest.shares.iter().map(|x| (x.owner, x.kind)).collect();
        assert_eq!(kinds.last(), Some(&(5, ShareKind::MaskKey)));
        let mut cases: Vec<(UnmaskShares, Error)> = Vec::new();
        let mut m = honest.clone();
        m.shares[0].kind = ShareKind::MaskKey;
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::WrongShareKind {
                client: 0,
                owner: 1,
            }),
        ));
        let mut m = honest.clone();
        m.shares[4].kind = ShareKind::SelfMask;
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::WrongShareKind {
                client: 0,
                owner: 5,
            }),
        ));
        let mut m = honest.clone();
        m.shares.remove(2);
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::MissingEntry { client: 3 }),
        ));
        let mut m = honest.clone();
        let dup = m.shares[2].clone();
        m.shares.push(dup);
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry { client: 3 }),
        ));
        let mut m = honest.clone();
        m.shares[2].owner = 6;
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead { client: 6 }),
        ));
        let mut m = honest.clone();
        m.shares[2].owner = 0;
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                client: 0,
                other: 0,
            }),
        ));
        let mut m = honest.clone();
        m.shares[2].owner = 70;
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::UnknownClient { client: 70 }),
        ));
        let mut m = honest.clone();
        m.shares[1].share = Share::from_bytes(2, &m.shares[1].share.y_bytes()).unwrap();
        cases.push((
            m,
            Error::PeerMisbehaved(PeerMisbehaved::MisaddressedShares { from: 0 }),
        ));
        for (m, expected) in cases {
            assert_eq!(
                s.server.receive(0, ClientMessage::UnmaskShares(m)),
                Err(expected),
                "{model:?}"
            );
        }
        assert_eq!(
            s.server
                .receive(6, ClientMessage::UnmaskShares(honest.clone())),
            Err(Error::PeerMisbehaved(PeerMisbehaved::DroppedClient {
                client: 6
            }))
        );
        let out = s.complete();
        assert_eq!(out.included, vec![0, 1, 2, 3, 4]);
        assert_eq!(out.sums, s.expected(&[0, 1, 2, 3, 4]));
    }
}

#[test]
fn a_bad_mask_key_share_is_detected() {
    let spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_4(&spec, &[], &[4]);
    // Client 0 is among the first t holders of 4's masking key.
    let mut m = shares_of(&s, 0);
    let last = m.shares.last_mut().unwrap();
    assert_eq!((last.owner, last.kind), (4, ShareKind::MaskKey));
    last.share = Share::from_bytes(1, &[5; 32]).unwrap();
    s.outbox[0] = Some(ClientMessage::UnmaskShares(m));
    for (i, msg) in s.outbox.iter_mut().enumerate() {
        if let Some(msg) = msg.take() {
            s.server.receive(i as u32, msg).unwrap();
        }
    }
    assert_eq!(
        s.server.close_round(),
        Err(Error::PeerMisbehaved(
            PeerMisbehaved::ReconstructionMismatch { client: 4 }
        ))
    );
    assert!(s.server.output().is_none());
}

#[test]
fn a_bad_self_mask_share_corrupts_the_sum_undetected() {
    // Documented limitation: self-mask secrets carry no commitment, so a client that
    // reveals a wrong share of b_v spoils the sum (as a client can by lying about its
    // input); the server cannot tell.
    let spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_4(&spec, &[], &[]);
    let mut m = shares_of(&s, 0);
    m.shares[0].share = Share::from_bytes(1, &[5; 32]).unwrap();
    s.outbox[0] = Some(ClientMessage::UnmaskShares(m));
    let out = s.complete();
    assert_eq!(out.included, vec![0, 1, 2, 3, 4]);
    assert_ne!(out.sums, s.expected(&[0, 1, 2, 3, 4]));
}

#[test]
fn silent_responders_and_completion() {
    let spec = Spec::new(6, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_4(&spec, &[], &[5]);
    // 1 and 2 do not answer the unmask request: still included.
    let pending: Vec<_> = (0..6).map(|i| s.outbox[i].take()).collect();
    for (i, m) in pending.iter().enumerate() {
        if let (Some(m), false) = (m, [1, 2].contains(&i)) {
            s.server.receive(i as u32, m.clone()).unwrap();
        }
    }
    assert!(s.server.close_round().unwrap().is_empty());
    let out = s.server.output().unwrap().clone();
    assert_eq!(out.included, vec![0, 1, 2, 3, 4]);
    assert_eq!(out.sums, s.expected(&[0, 1, 2, 3, 4]));
    // After completion.
    assert_eq!(
        s.server.close_round(),
        Err(Error::Misuse(Misuse::AlreadyCompleted))
    );
    assert_eq!(
        s.server.receive(1, pending[1].clone().unwrap()),
        Err(Error::Misuse(Misuse::AlreadyCompleted))
    );
    assert_eq!(s.server.output(), Some(&out));
}

#[test]
fn too_few_responders_abort() {
    let spec = Spec::new(5, 3, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_4(&spec, &[], &[]);
    for i in 0..3u32 {
        let m = s.outbox[i as usize].take().unwrap();
        s.server.receive(i, m).unwrap();
    }
    // Client 0's neighbors that answered: 1 and 2.
    assert_eq!(
        s.server.close_round(),
        Err(Error::Threshold(ThresholdError::CannotReconstruct {
            round: Round::Unmasking,
            client: 0,
            needed: 3,
            got: 2
        }))
    );
    assert!(s.server.output().is_none());
    assert!(s.server.error().is_some());
}
