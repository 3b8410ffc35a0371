//! The server in round 2 (MaskedInputCollection): shape checks on masked inputs, what it
//! asks for next, and the aborts when a needed secret would lack share holders.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{
    ClientMessage, ConsistencyRequest, MaskedInput, ServerMessage, UnmaskRequest,
};
use secagg::ring::RingVec;
use secagg::Round;
use secagg::{Error, Misuse, PeerMisbehaved, ThresholdError};

/// A session in round 2 with the masked inputs in the outbox; `dropped` drop before
/// round 1.
fn in_round_2(spec: &Spec, dropped: &[u32]) -> Session {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, dropped);
    let live: Vec<_> = routed
        .into_iter()
        .filter(|(i, _)| !dropped.contains(i))
        .collect();
    s.client_round(&live);
    s
}

#[test]
fn misshapen_inputs_are_rejected_without_harm() {
    let mut spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    spec.vectors = vec![("a".into(), 6, ring(16)), ("b".into(), 3, ring(40))];
    let mut s = in_round_2(&spec, &[]);
    let Some(ClientMessage::MaskedInput(y)) = s.outbox[2].clone() else {
        panic!()
    };
    let with = |f: &dyn Fn(&mut Vec<RingVec>)| {
        let mut v = y.vectors.clone();
        f(&mut v);
        ClientMessage::MaskedInput(MaskedInput {
            accused: vec![],
            vectors: v,
        })
    };
    let cases = vec![
        (
            with(&|v| {
                v.pop();
            }),
            1,
        ),
        (with(&|v| v.push(v[0].clone())), 2),
        (with(&|v| v[0] = RingVec::zeros(&ring(16), 5)), 0),
        (with(&|v| v[1] = RingVec::zeros(&ring(16), 3)), 1),
        (with(&|v| v[0] = RingVec::U32(vec![1 << 16; 6])), 0),
    ];
    for (m, vector) in cases {
        assert_eq!(
            s.server.receive(2, m),
            Err(Error::PeerMisbehaved(PeerMisbehaved::MaskedInputMismatch {
                client: 2,
                vector
            }))
        );
    }
    let out = s.complete();
    let all = vec![0, 1, 2, 3, 4];
    assert_eq!(out.included, all);
    assert_eq!(out.sums, s.expected(&all));
}

#[test]
fn dropped_and_duplicate_senders() {
    let spec = Spec::new(5, 2, GraphSpec::Complete, Model::SemiHonest);
    let mut s = in_round_2(&spec, &[4]);
    let y0 = s.outbox[0].clone().unwrap();
    assert_eq!(
        s.server.receive(4, y0.clone()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DroppedClient {
            client: 4
        }))
    );
    s.server.receive(0, y0.clone()).unwrap();
    assert_eq!(
        s.server.receive(0, y0),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateMessage {
            client: 0,
            round: Round::MaskedInputCollection
        }))
    );
    s.outbox[0] = None;
    let out = s.complete();
    assert_eq!(out.included, vec![0, 1, 2, 3]);
    assert_eq!(out.sums, s.expected(&[0, 1, 2, 3]));
}

#[test]
fn next_request_lists_the_included_clients() {
    for model in MODELS {
        let t = if model == Model::Malicious { 3 } else { 2 };
        let spec = Spec::new(5, t, GraphSpec::Complete, model);
        let mut s = in_round_2(&spec, &[]);
        let msgs = s.server_round(&[3]);
        assert_eq!(msgs.len(), 4);
        for (u, m) in msgs {
            assert_ne!(u, 3);
            let expected = match model {
                Model::SemiHonest => ServerMessage::UnmaskRequest(UnmaskRequest {
                    survivors: vec![0, 1, 2, 4],
                    signatures: vec![],
                    pairwise: vec![],
                }),
                Model::Malicious => ServerMessage::ConsistencyRequest(ConsistencyRequest {
                    survivors: vec![0, 1, 2, 4],
                }),
            };
            assert_eq!(m, expected);
        }
    }
}

#[test]
fn aborts_when_a_needed_secret_lacks_holders() {
    // Sparse graph, t = 2: drop three of client 0's four neighbors in round 2. Client
    // 0's masked input is in the sum but b_0 has one holder left.
    let spec = Spec::new(10, 2, harary(4), Model::SemiHonest);
    let (config, _) = spec.build();
    let n0: Vec<u32> = config.graph().neighbors(0)[..3].to_vec();
    let mut s = in_round_2(&spec, &[]);
    for (i, m) in s.outbox.iter_mut().enumerate() {
        let m = m.take().unwrap();
        if !n0.contains(&(i as u32)) {
            s.server.receive(i as u32, m).unwrap();
        }
    }
    let err = s.server.close_round().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Threshold(ThresholdError::CannotReconstruct {
                round: Round::MaskedInputCollection,
                needed: 2,
                got: 1,
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(
        s.server.close_round(),
        Err(Error::Misuse(Misuse::AlreadyAborted))
    );
    // Nobody sent anything.
    let mut s = in_round_2(&spec, &[]);
    assert_eq!(
        s.server.close_round(),
        Err(Error::Threshold(ThresholdError::TooFewSurvivors {
            round: Round::MaskedInputCollection,
            threshold: 2,
            survivors: 0
        }))
    );
}
