//! The server in round 1 (ShareKeys): validation of the sealed shares, routing, late
//! and dropped senders, and the abort.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::SEALED_SHARES_LEN;
use secagg::protocol::messages::{ClientMessage, ServerMessage, ShareKeys};
use secagg::Round;
use secagg::{EncodingError, Error, Misuse, PeerMisbehaved, ThresholdError};

fn share_keys(m: &Option<ClientMessage>) -> ShareKeys {
    match m {
        Some(ClientMessage::ShareKeys(s)) => s.clone(),
        other => panic!("{other:?}"),
    }
}

/// A session in round 1 with the clients' ShareKeys in the outbox; `dropped` never
/// advertised keys.
fn in_round_1(spec: &Spec, dropped: &[u32]) -> Session {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(dropped);
    s.client_round(&kl);
    s
}

#[test]
fn bad_sealed_shares_are_rejected_without_harm() {
    let spec = Spec::new(10, 2, harary(4), Model::SemiHonest);
    let mut s = in_round_1(&spec, &[]);
    let graph = s.config.graph().clone();
    let stranger = (1..10).find(|&v| !graph.are_neighbors(0, v)).unwrap();
    let honest = share_keys(&s.outbox[0]);
    let mut cases: Vec<(ShareKeys, Error)> = Vec::new();
    let mut m = honest.clone();
    m.shares[1].to = stranger;
    cases.push((
        m,
        Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
            client: 0,
            other: stranger,
        }),
    ));
    let mut m = honest.clone();
    m.shares[1].to = 77;
    cases.push((
        m,
        Error::PeerMisbehaved(PeerMisbehaved::UnknownClient { client: 77 }),
    ));
    let mut m = honest.clone();
    let missing = m.shares.remove(2).to;
    cases.push((
        m,
        Error::PeerMisbehaved(PeerMisbehaved::MissingEntry { client: missing }),
    ));
    let mut m = honest.clone();
    let dup = m.shares[1].clone();
    m.shares.push(dup.clone());
    cases.push((
        m,
        Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry { client: dup.to }),
    ));
    let mut m = honest.clone();
    m.shares[0].ciphertext.push(0);
    cases.push((
        m,
        Error::Encoding(EncodingError::InvalidLength {
            what: "sealed shares",
            expected: SEALED_SHARES_LEN,
            found: SEALED_SHARES_LEN + 1,
        }),
    ));
    for (m, expected) in cases {
        assert_eq!(
            s.server.receive(0, ClientMessage::ShareKeys(m)),
            Err(expected)
        );
    }
    // A late round-0 message, and the session still completes.
    let late = s.sent_in(0, Round::AdvertiseKeys);
    assert_eq!(
        s.server.receive(0, late),
        Err(Error::PeerMisbehaved(PeerMisbehaved::RoundClosed {
            round: Round::AdvertiseKeys
        }))
    );
    assert!(s.server.received().is_empty());
    let out = s.complete();
    let all: Vec<u32> = (0..10).collect();
    assert_eq!(out.included, all);
    assert_eq!(out.sums, s.expected(&all));
}

#[test]
fn shares_for_a_client_that_never_advertised() {
    let spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_1(&spec, &[4]);
    // Client 4 is dropped: its late messages are refused.
    let a4 = s.sent_in(4, Round::AdvertiseKeys);
    assert_eq!(
        s.server.receive(4, a4),
        Err(Error::PeerMisbehaved(PeerMisbehaved::RoundClosed {
            round: Round::AdvertiseKeys
        }))
    );
    let mut m = share_keys(&s.outbox[0]);
    assert_eq!(
        s.server.receive(4, ClientMessage::ShareKeys(m.clone())),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DroppedClient {
            client: 4
        }))
    );
    // Client 0 seals a share for 4, which was not in its key list.
    let mut extra = m.shares[0].clone();
    extra.to = 4;
    m.shares.push(extra);
    assert_eq!(
        s.server.receive(0, ClientMessage::ShareKeys(m)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
            client: 4
        }))
    );
    let out = s.complete();
    assert_eq!(out.included, vec![0, 1, 2, 3]);
    assert_eq!(out.sums, s.expected(&[0, 1, 2, 3]));
}

#[test]
fn routing_delivers_each_ciphertext_to_its_recipient() {
    let spec = Spec::new(12, 2, harary(6), Model::SemiHonest);
    let mut s = in_round_1(&spec, &[]);
    let sent: Vec<ShareKeys> = s.outbox.iter().map(share_keys).collect();
    // 5 drops before round 1.
    let routed = s.server_round(&[5]);
    let graph = s.config.graph().clone();
    assert_eq!(routed.len(), 11);
    for (u, m) in &routed {
        let ServerMessage::RoutedShares(r) = m else {
            panic!()
        };
        let from: Vec<u32> = r.shares.iter().map(|c| c.from).collect();
        let expected: Vec<u32> = graph
            .neighbors(*u)
            .iter()
            .copied()
            .filter(|&v| v != 5)
            .collect();
        assert_eq!(from, expected);
        for c in &r.shares {
            let original = sent[c.from as usize]
                .shares
                .iter()
                .find(|x| x.to == *u)
                .unwrap();
            assert_eq!(c.ciphertext, original.ciphertext);
        }
    }
}

#[test]
fn duplicate_message_and_abort() {
    let spec = Spec::new(5, 3, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_1(&spec, &[]);
    let m0 = s.outbox[0].clone().unwrap();
    s.server.receive(0, m0.clone()).unwrap();
    assert_eq!(
        s.server.receive(0, m0),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateMessage {
            client: 0,
            round: Round::ShareKeys
        }))
    );
    for i in 1..3 {
        s.server
            .receive(i, s.outbox[i as usize].clone().unwrap())
            .unwrap();
    }
    assert_eq!(
        s.server.close_round(),
        Err(Error::Threshold(ThresholdError::TooFewSurvivors {
            round: Round::ShareKeys,
            threshold: 3,
            survivors: 3
        }))
    );
    assert_eq!(
        s.server.close_round(),
        Err(Error::Misuse(Misuse::AlreadyAborted))
    );
}
