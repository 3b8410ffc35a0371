//! The server in round 3 (ConsistencyCheck, malicious model): signature checks, the
//! unmask requests it builds, and the abort when too few clients signed.

use crate::common::protocol::*;
use crate::common::session::*;
use ed25519_dalek::Signer;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{
    ClientMessage, ConsistencySignature, ServerMessage, SurvivorSignature,
};
use secagg::protocol::transcript;
use secagg::Round;
use secagg::{CryptoError, Error, PeerMisbehaved, ThresholdError};

/// A malicious-model session in round 3 with the signatures in the outbox; `dropped`
/// drop before round 2.
fn in_round_3(spec: &Spec, dropped: &[u32]) -> Session {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, &[]);
    let consistency = s.step(&routed, dropped);
    let live: Vec<_> = consistency
        .into_iter()
        .filter(|(i, _)| !dropped.contains(i))
        .collect();
    s.client_round(&live);
    s
}

fn sign(s: &Session, id: u32, survivors: &[u32]) -> ClientMessage {
    let t = transcript::consistency(s.config.session_id(), survivors);
    ClientMessage::ConsistencySignature(ConsistencySignature {
        signature: s.keys.as_ref().unwrap()[id as usize].sign(&t),
    })
}

#[test]
fn bad_signatures_are_rejected_without_harm() {
    let spec = Spec::new(6, 3, GraphSpec::Complete, Model::Malicious);
    let mut s = in_round_3(&spec, &[5]);
    let u3 = [0, 1, 2, 3, 4];
    // Over another set, by another client, from a dropped client.
    assert_eq!(
        s.server.receive(1, sign(&s, 1, &[0, 1, 2, 3])),
        Err(Error::Crypto(CryptoError::BadSignature { client: 1 }))
    );
    assert_eq!(
        s.server.receive(1, sign(&s, 2, &u3)),
        Err(Error::Crypto(CryptoError::BadSignature { client: 1 }))
    );
    assert_eq!(
        s.server.receive(5, sign(&s, 5, &u3)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DroppedClient {
            client: 5
        }))
    );
    let late = s.sent_in(1, Round::MaskedInputCollection);
    assert_eq!(
        s.server.receive(1, late),
        Err(Error::PeerMisbehaved(PeerMisbehaved::RoundClosed {
            round: Round::MaskedInputCollection
        }))
    );
    s.server.receive(1, sign(&s, 1, &u3)).unwrap();
    assert_eq!(
        s.server.receive(1, sign(&s, 1, &u3)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateMessage {
            client: 1,
            round: Round::ConsistencyCheck
        }))
    );
    s.outbox[1] = None;
    let out = s.complete();
    assert_eq!(out.included, u3);
    assert_eq!(out.sums, s.expected(&u3));
}

#[test]
fn semi_honest_has_no_consistency_round() {
    let spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = Session::new(&spec, 1);
    s.until(Round::Unmasking);
    let sig = ClientMessage::ConsistencySignature(ConsistencySignature {
        signature: ed25519_dalek::Signature::from_bytes(&[0; 64]),
    });
    assert_eq!(
        s.server.receive(0, sig),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: Round::Unmasking,
            found: Round::ConsistencyCheck
        }))
    );
}

#[test]
fn unmask_requests_carry_the_neighbors_signatures() {
    let spec = Spec::new(12, 4, harary(6), Model::Malicious);
    let mut s = in_round_3(&spec, &[]);
    let graph = s.config.graph().clone();
    let sigs: Vec<ClientMessage> = s.outbox.iter().map(|m| m.clone().unwrap()).collect();
    // 7 does not sign (drops before round 3) but stays included.
    let msgs = s.server_round(&[7]);
    assert_eq!(msgs.len(), 11);
    for (u, m) in &msgs {
        let ServerMessage::UnmaskRequest(r) = m else {
            panic!()
        };
        assert_eq!(r.survivors, (0..12).collect::<Vec<u32>>());
        let expected: Vec<SurvivorSignature> = graph
            .neighbors(*u)
            .iter()
            .filter(|&&v| v != 7)
            .map(|&v| {
                let ClientMessage::ConsistencySignature(c) = &sigs[v as usize] else {
                    panic!()
                };
                SurvivorSignature {
                    id: v,
                    signature: c.signature,
                }
            })
            .collect();
        assert_eq!(r.signatures, expected);
    }
    let out = s.finish(&msgs);
    let all: Vec<u32> = (0..12).collect();
    assert_eq!(out.included, all);
    assert_eq!(out.sums, s.expected(&all));
}

#[test]
fn aborts_before_unmasking_when_too_few_signed() {
    // t = 3 of 4 neighbors; 0 and 1 do not sign: client 2 (first in id order) keeps
    // only 3 and 4 as holders of its shares (0 keeps 2, 3, 4: enough).
    let spec = Spec::new(5, 3, GraphSpec::Complete, Model::Malicious);
    let mut s = in_round_3(&spec, &[]);
    for (i, m) in s.outbox.iter_mut().enumerate().skip(2) {
        s.server.receive(i as u32, m.take().unwrap()).unwrap();
    }
    assert_eq!(
        s.server.close_round(),
        Err(Error::Threshold(ThresholdError::CannotReconstruct {
            round: Round::ConsistencyCheck,
            client: 2,
            needed: 3,
            got: 2
        }))
    );
}
