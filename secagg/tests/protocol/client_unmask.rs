//! The unmasking request (states `InputSent` in the semi-honest model and
//! `SurvivorsSigned` in the malicious one), completion, and the core privacy guarantee:
//! a client never reveals both shares of the same neighbor, whatever the server sends.

use std::collections::HashMap;

use crate::common::protocol::*;
use crate::common::session::*;
use ed25519_dalek::{Signature, Signer};
use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::protocol::client::Client;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{
    ClientMessage, ConsistencyRequest, ServerMessage, ShareKind, SurvivorSignature, UnmaskRequest,
    UnmaskShares,
};
use secagg::protocol::transcript;
use secagg::Round;
use secagg::{CryptoError, Error, Misuse, PeerMisbehaved, ThresholdError};

fn semi(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::SemiHonest)
}

fn mal(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::Malicious)
}

fn unmask(survivors: Vec<u32>, signatures: Vec<SurvivorSignature>) -> ServerMessage {
    ServerMessage::UnmaskRequest(UnmaskRequest {
        survivors,
        signatures,
        pairwise: Vec::new(),
    })
}

fn request_of(msgs: &[(u32, ServerMessage)], id: u32) -> UnmaskRequest {
    match msg_for(msgs, id) {
        ServerMessage::UnmaskRequest(r) => r,
        other => panic!("{other:?}"),
    }
}

/// A session with the unmask requests undelivered; `dropped_r1` drop before round 1,
/// `dropped_r2` before round 2 (semi-honest model: before round 4 comes round 2).
fn at_unmask(
    spec: &Spec,
    dropped_r1: &[u32],
    dropped_r2: &[u32],
) -> (Session, Vec<(u32, ServerMessage)>) {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, dropped_r1);
    let silent: Vec<u32> = dropped_r1.iter().chain(dropped_r2).copied().collect();
    let mut msgs = s.step(&routed, &silent);
    if msgs[0].1.round() == Round::ConsistencyCheck {
        msgs = s.step(&msgs, &silent);
    }
    assert_eq!(msgs[0].1.round(), Round::Unmasking);
    (s, msgs)
}

/// A session where everyone sent its masked input; the next server messages
/// (consistency requests, or unmask requests in the semi-honest model) undelivered.
fn after_masked_input(spec: &Spec) -> (Session, Vec<(u32, ServerMessage)>) {
    let mut s = Session::new(spec, 1);
    let kl = s.server_round(&[]);
    let routed = s.step(&kl, &[]);
    let next = s.step(&routed, &[]);
    (s, next)
}

fn revealed(m: &ClientMessage) -> Vec<(u32, ShareKind)> {
    let ClientMessage::UnmaskShares(UnmaskShares { shares, .. }) = m else {
        panic!("{m:?}")
    };
    shares.iter().map(|s| (s.owner, s.kind)).collect()
}

#[test]
fn survivors_get_self_mask_shares_and_the_dropped_mask_key_shares() {
    for spec in [semi(6, 2), mal(6, 3)] {
        // 5 dropped before round 1 (holds nothing), 4 before round 2 (dropped).
        let (mut s, msgs) = at_unmask(&spec, &[5], &[4]);
        let out = s.handle(0, msg_for(&msgs, 0)).unwrap();
        let expected = vec![
            (1, ShareKind::SelfMask),
            (2, ShareKind::SelfMask),
            (3, ShareKind::SelfMask),
            (4, ShareKind::MaskKey),
        ];
        assert_eq!(revealed(&out), expected);
        let ClientMessage::UnmaskShares(u) = &out else {
            panic!()
        };
        assert!(
            u.shares.iter().all(|s| s.share.x() == 1),
            "point of client 0"
        );
        let Client::Completed(done) = &s.clients[0] else {
            panic!()
        };
        assert_eq!(done.revealed(), &expected[..]);
    }
}

#[test]
fn shares_only_for_neighbors_held() {
    // Sparse graph: the survivor list names every client, but the client reveals only
    // for its neighbors (a share of a non-neighbor cannot be asked for: it holds none).
    let spec = Spec::new(12, 2, harary(4), Model::SemiHonest);
    let (mut s, msgs) = at_unmask(&spec, &[], &[]);
    assert_eq!(
        request_of(&msgs, 0).survivors,
        (0..12).collect::<Vec<u32>>()
    );
    let out = s.handle(0, msg_for(&msgs, 0)).unwrap();
    let owners: Vec<u32> = revealed(&out).iter().map(|(v, _)| *v).collect();
    assert_eq!(owners, s.config.graph().neighbors(0));
}

/// The survivor list carries the alive set only, so "listed both alive and dead" cannot
/// be expressed; the lies that can (a client listed twice, alive after it dropped, the
/// receiver itself dead, too few) are refused here, and a set contradicting the signed
/// one in `malicious_survivor_set_must_be_the_one_signed`.
#[test]
fn semi_honest_bad_requests() {
    let spec = semi(6, 3);
    let cases: Vec<(ServerMessage, Error)> = vec![
        (
            unmask(vec![1, 2, 3, 4], vec![]),
            Error::PeerMisbehaved(PeerMisbehaved::SelfListedDead),
        ),
        (
            unmask(vec![0, 1, 2, 2, 3], vec![]),
            Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry { client: 2 }),
        ),
        (
            unmask(vec![0, 1, 2, 3, 9], vec![]),
            Error::PeerMisbehaved(PeerMisbehaved::UnknownClient { client: 9 }),
        ),
        // 5 dropped before round 1: listing it alive now is a lie.
        (
            unmask(vec![0, 1, 2, 3, 5], vec![]),
            Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead { client: 5 }),
        ),
        (
            unmask(vec![0, 1, 2], vec![]),
            Error::Threshold(ThresholdError::TooFewNeighbors {
                round: Round::Unmasking,
                needed: 3,
                got: 2,
            }),
        ),
        (
            unmask(
                vec![0, 1, 2, 3, 4],
                vec![SurvivorSignature {
                    id: 1,
                    signature: Signature::from_bytes(&[0; 64]),
                }],
            ),
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedSignature { client: 1 }),
        ),
    ];
    for (msg, expected) in cases {
        let (mut s, msgs) = at_unmask(&spec, &[5], &[]);
        assert_eq!(s.handle(0, msg.clone()), Err(expected), "{msg:?}");
        // Aborted: even the honest request gets nothing now.
        assert_eq!(
            s.handle(0, msg_for(&msgs, 0)),
            Err(Error::Misuse(Misuse::AlreadyAborted))
        );
    }
}

/// Signatures by the clients in `ids` over `survivors`.
fn sigs(s: &Session, ids: &[u32], survivors: &[u32]) -> Vec<SurvivorSignature> {
    let t = transcript::consistency(s.config.session_id(), survivors);
    let keys = s.keys.as_ref().unwrap();
    ids.iter()
        .map(|&id| SurvivorSignature {
            id,
            signature: keys[id as usize].sign(&t),
        })
        .collect()
}

#[test]
fn malicious_survivor_set_must_be_the_one_signed() {
    let spec = mal(6, 3);
    // U3 = {0,1,2,3,4}; 5 dropped before round 2.
    let (mut s, msgs) = at_unmask(&spec, &[], &[5]);
    let honest = request_of(&msgs, 0);
    assert_eq!(honest.survivors, vec![0, 1, 2, 3, 4]);
    // Dead after alive: 4 was signed as alive, now listed dead.
    let mut r = honest.clone();
    r.survivors.retain(|&v| v != 4);
    assert_eq!(
        s.handle(0, ServerMessage::UnmaskRequest(r)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::InconsistentSurvivors))
    );
    // Alive after dead: 5 was not in the signed set.
    let (mut s, _) = at_unmask(&spec, &[], &[5]);
    let mut r = honest.clone();
    r.survivors.push(5);
    assert_eq!(
        s.handle(0, ServerMessage::UnmaskRequest(r)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::InconsistentSurvivors))
    );
}

#[test]
fn malicious_signature_checks() {
    let spec = mal(6, 3);
    let survivors = vec![0, 1, 2, 3, 4];
    let run = |f: &dyn Fn(&Session) -> Vec<SurvivorSignature>| {
        let (mut s, _) = at_unmask(&spec, &[], &[5]);
        let signatures = f(&s);
        s.handle(0, unmask(survivors.clone(), signatures))
    };
    assert!(run(&|s| sigs(s, &[1, 2, 3], &survivors)).is_ok());
    assert_eq!(
        run(&|s| sigs(s, &[1, 2], &survivors)),
        Err(Error::Threshold(ThresholdError::TooFewSignatures {
            needed: 3,
            got: 2
        }))
    );
    assert_eq!(
        run(&|s| {
            let mut v = sigs(s, &[1, 2, 3], &survivors);
            let mut b = v[1].signature.to_bytes();
            b[0] ^= 1;
            v[1].signature = Signature::from_bytes(&b);
            v
        }),
        Err(Error::Crypto(CryptoError::BadSignature { client: 2 }))
    );
    // 3's signature presented as 4's.
    assert_eq!(
        run(&|s| {
            let mut v = sigs(s, &[1, 2, 3], &survivors);
            v[2].id = 4;
            v
        }),
        Err(Error::Crypto(CryptoError::BadSignature { client: 4 }))
    );
    assert_eq!(
        run(&|s| sigs(s, &[1, 2, 2, 3], &survivors)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
            client: 2
        }))
    );
    // A valid signature over this set by a client outside it.
    assert_eq!(
        run(&|s| sigs(s, &[1, 2, 5], &survivors)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::InconsistentSurvivors))
    );
    assert_eq!(
        run(&|s| {
            let mut v = sigs(s, &[1, 2, 3], &survivors);
            v[0].id = 60;
            v
        }),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
            client: 60
        }))
    );
    // The client's own signature does not count as a neighbor's.
    assert_eq!(
        run(&|s| sigs(s, &[0, 1, 2], &survivors)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
            client: 0,
            other: 0
        }))
    );
}

#[test]
fn malicious_split_views_are_detected() {
    // The server tells 0 that U3 = {0..4} but tells 1 and 2 that U3 = {1..4}, hoping
    // to collect b_0 shares from 0's view and mask-key shares of 0 from 1 and 2.
    let spec = mal(5, 3);
    let (mut s, consistency) = after_masked_input(&spec);
    let full = vec![0, 1, 2, 3, 4];
    let without0 = vec![1, 2, 3, 4];
    let mut signatures = Vec::new();
    for id in 1..5u32 {
        let survivors = if id <= 2 {
            without0.clone()
        } else {
            full.clone()
        };
        let msg = ServerMessage::ConsistencyRequest(ConsistencyRequest { survivors });
        let ClientMessage::ConsistencySignature(c) = s.handle(id, msg).unwrap() else {
            panic!()
        };
        signatures.push(SurvivorSignature {
            id,
            signature: c.signature,
        });
    }
    s.handle(0, msg_for(&consistency, 0)).unwrap();
    // All four signatures: 1's is over another set.
    assert_eq!(
        s.handle(0, unmask(full.clone(), signatures.clone())),
        Err(Error::Crypto(CryptoError::BadSignature { client: 1 }))
    );
    // Only the two consistent ones: too few.
    let (mut s2, c) = after_masked_input(&spec);
    s2.handle(0, msg_for(&c, 0)).unwrap();
    let two = sigs(&s2, &[3, 4], &full);
    assert_eq!(
        s2.handle(0, unmask(full, two)),
        Err(Error::Threshold(ThresholdError::TooFewSignatures {
            needed: 3,
            got: 2
        }))
    );
}

#[test]
fn a_second_request_gets_nothing() {
    for spec in [semi(5, 2), mal(5, 3)] {
        let (mut s, msgs) = at_unmask(&spec, &[], &[4]);
        let first = s.handle(0, msg_for(&msgs, 0)).unwrap();
        assert!(revealed(&first).contains(&(4, ShareKind::MaskKey)));
        // Now the server claims 4 survived after all (and vice versa for 1).
        let mut r = request_of(&msgs, 0);
        r.survivors = vec![0, 2, 3, 4];
        assert_eq!(
            s.handle(0, ServerMessage::UnmaskRequest(r)),
            Err(Error::Misuse(Misuse::AlreadyCompleted))
        );
        assert_eq!(
            s.handle(0, msg_for(&msgs, 0)),
            Err(Error::Misuse(Misuse::AlreadyCompleted))
        );
        assert!(s.clients[0].is_completed());
    }
}

/// Random server behaviour: any sequence of consistency and unmask requests with random
/// survivor sets and signatures. Across everything client 0 emits, at most one unmask
/// response, and never two shares (let alone two kinds) for the same neighbor.
#[test]
fn never_both_shares_of_a_neighbor() {
    let mut rng = seeded_rng([5; 32]);
    let mut completed = 0;
    for trial in 0..120u32 {
        let spec = if trial % 2 == 0 {
            semi(5, 2)
        } else {
            mal(5, 3)
        };
        let (mut s, _) = after_masked_input(&spec);
        let mut shares_of: HashMap<u32, Vec<ShareKind>> = HashMap::new();
        let mut responses = 0;
        for _ in 0..4 {
            let mut survivors: Vec<u32> = (0..5)
                .filter(|_| !rng.next_u32().is_multiple_of(3))
                .collect();
            if !rng.next_u32().is_multiple_of(4) && !survivors.contains(&0) {
                survivors.push(0);
            }
            let msg = match rng.next_u32() % 3 {
                0 => ServerMessage::ConsistencyRequest(ConsistencyRequest {
                    survivors: survivors.clone(),
                }),
                1 if spec.model == Model::Malicious => {
                    let signers: Vec<u32> = (1..5)
                        .filter(|_| !rng.next_u32().is_multiple_of(4))
                        .collect();
                    let view: Vec<u32> = if rng.next_u32().is_multiple_of(2) {
                        survivors.clone()
                    } else {
                        (0..5).collect()
                    };
                    let mut sorted = view;
                    sorted.sort();
                    unmask(survivors, sigs(&s, &signers, &sorted))
                }
                _ => unmask(survivors, vec![]),
            };
            if let Ok(m @ ClientMessage::UnmaskShares(_)) = s.handle(0, msg) {
                responses += 1;
                for (owner, kind) in revealed(&m) {
                    shares_of.entry(owner).or_default().push(kind);
                }
            }
        }
        assert!(
            responses <= 1,
            "trial {trial}: {responses} unmask responses"
        );
        assert!(
            shares_of.values().all(|k| k.len() == 1),
            "trial {trial}: {shares_of:?}"
        );
        completed += responses;
    }
    assert!(
        completed > 5,
        "the random requests sometimes succeed: {completed}"
    );
}
