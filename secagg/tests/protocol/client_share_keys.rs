//! The client's second state, `SharesSent`: the routed shares it receives (reflected,
//! replayed, misaddressed, forged, missing) and the masked input it then sends. A
//! ciphertext that does not open, or a malformed plaintext, is the sender's fault (or
//! the server's): the client accuses that sender and carries on; routing errors (ids)
//! are the server's and abort.

use crate::common::protocol::*;
use crate::common::session::*;
use secagg::crypto::aead::{self, AssociatedData};
use secagg::crypto::kdf;
use secagg::crypto::keys::SecretKey;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{
    AdvertiseKeys, ClientMessage, KeyList, RoutedCiphertext, RoutedShares, SealedShares,
    ServerMessage, ShareKeys,
};
use secagg::Round;
use secagg::{Error, Misuse, PeerMisbehaved, ThresholdError};

fn semi(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::SemiHonest)
}

fn routed(msgs: &[(u32, ServerMessage)], id: u32) -> RoutedShares {
    match msg_for(msgs, id) {
        ServerMessage::RoutedShares(r) => r,
        other => panic!("{other:?}"),
    }
}

/// Feeds client 0 its honest routed shares after `tamper`.
fn tampered(
    spec: &Spec,
    tamper: impl FnOnce(&mut Session, &mut RoutedShares),
) -> secagg::Result<ClientMessage> {
    let mut s = Session::new(spec, 1);
    let msgs = s.until(Round::MaskedInputCollection);
    let mut r = routed(&msgs, 0);
    tamper(&mut s, &mut r);
    s.handle(0, ServerMessage::RoutedShares(r))
}

/// The accusations of a masked input (panics on anything else).
fn accused(r: secagg::Result<ClientMessage>) -> Vec<u32> {
    match r {
        Ok(ClientMessage::MaskedInput(m)) => m.accused,
        other => panic!("expected a masked input, got {other:?}"),
    }
}

#[test]
fn honest_shares_give_a_masked_input() {
    let spec = semi(5, 2);
    let mut s = Session::new(&spec, 1);
    let msgs = s.until(Round::MaskedInputCollection);
    let r = routed(&msgs, 0);
    assert_eq!(
        r.shares.iter().map(|c| c.from).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let ClientMessage::MaskedInput(m) = s.handle(0, ServerMessage::RoutedShares(r)).unwrap() else {
        panic!()
    };
    assert!(m.accused.is_empty());
    assert_eq!(m.vectors.len(), 1);
    assert_eq!(m.vectors[0].len(), 8);
    assert!(m.vectors[0].fits(&s.config.vectors()[0].ring));
    assert_ne!(m.vectors[0], s.inputs[0][0], "the input is masked");
}

#[test]
fn reflected_ciphertext_fails_to_decrypt() {
    // Client 0's own ciphertext for 1, routed back to 0 as if 1 had sent it.
    let spec = semi(5, 2);
    let r = tampered(&spec, |s, r| {
        let ClientMessage::ShareKeys(own) = s.sent_in(0, Round::ShareKeys) else {
            panic!()
        };
        let to1 = own.shares.iter().find(|c| c.to == 1).unwrap();
        r.shares[0] = RoutedCiphertext {
            from: 1,
            ciphertext: to1.ciphertext.clone(),
        };
    });
    assert_eq!(accused(r), vec![1]);
    // Labelled as coming from the client itself.
    let r = tampered(&spec, |s, r| {
        let ClientMessage::ShareKeys(own) = s.sent_in(0, Round::ShareKeys) else {
            panic!()
        };
        r.shares[0] = RoutedCiphertext {
            from: 0,
            ciphertext: own.shares[0].ciphertext.clone(),
        };
    });
    assert_eq!(
        r,
        Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
            client: 0,
            other: 0
        }))
    );
}

#[test]
fn ciphertext_from_another_session_or_recipient_fails() {
    let spec = semi(5, 2);
    let mut other = spec.clone();
    other.context = b"other session".to_vec();
    let mut s2 = Session::new(&other, 1);
    let foreign = routed(&s2.until(Round::MaskedInputCollection), 0);
    assert_eq!(
        accused(tampered(&spec, |_, r| r.shares[1] = foreign.shares[1].clone())),
        vec![2]
    );
    // A ciphertext that 2 sealed for 3, delivered to 0 as from 2.
    let r = tampered(&spec, |s, r| {
        let ClientMessage::ShareKeys(sk2) = s.sent_in(2, Round::ShareKeys) else {
            panic!()
        };
        let to3 = sk2.shares.iter().find(|c| c.to == 3).unwrap();
        let slot = r.shares.iter_mut().find(|c| c.from == 2).unwrap();
        slot.ciphertext = to3.ciphertext.clone();
    });
    assert_eq!(accused(r), vec![2]);
    // Truncated and bit-flipped.
    assert_eq!(
        accused(tampered(&spec, |_, r| r.shares[0].ciphertext.truncate(20))),
        vec![1]
    );
    assert_eq!(
        accused(tampered(&spec, |_, r| r.shares[0].ciphertext[40] ^= 1)),
        vec![1]
    );
    // Every ciphertext but t = 2 spoilt: two accusations, still t usable neighbors.
    assert_eq!(
        accused(tampered(&spec, |_, r| {
            r.shares[0].ciphertext[40] ^= 1;
            r.shares[3].ciphertext[40] ^= 1;
        })),
        vec![1, 4]
    );
    // One more and the client has fewer than t usable neighbors: it aborts.
    assert_eq!(
        tampered(&spec, |_, r| {
            for c in &mut r.shares[..3] {
                c.ciphertext[40] ^= 1;
            }
        }),
        Err(Error::Threshold(ThresholdError::TooFewNeighbors {
            round: Round::MaskedInputCollection,
            needed: 2,
            got: 1
        }))
    );
}

#[test]
fn sender_checks() {
    let spec = semi(5, 2);
    assert_eq!(
        tampered(&spec, |_, r| {
            let c = r.shares[1].clone();
            r.shares.push(c);
        }),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
            client: 2
        }))
    );
    assert_eq!(
        tampered(&spec, |_, r| r.shares[1].from = 99),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
            client: 99
        }))
    );
    // Sparse graph: a non-neighbor.
    let spec = Spec::new(9, 2, harary(4), Model::SemiHonest);
    let (config, _) = spec.build();
    let stranger = (1..9)
        .find(|&v| !config.graph().are_neighbors(0, v))
        .unwrap();
    assert_eq!(
        tampered(&spec, |_, r| r.shares[0].from = stranger),
        Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
            client: 0,
            other: stranger
        }))
    );
}

#[test]
fn neighbor_dead_in_round_0_listed_alive() {
    // Client 4 never advertised keys; the server then claims shares from it.
    let spec = semi(5, 2);
    let mut s = Session::new(&spec, 1);
    let kl = s.server_round(&[4]);
    let msgs = s.step(&kl, &[]);
    let mut r = routed(&msgs, 0);
    assert!(r.shares.iter().all(|c| c.from != 4));
    r.shares.push(RoutedCiphertext {
        from: 4,
        ciphertext: r.shares[0].ciphertext.clone(),
    });
    assert_eq!(
        s.handle(0, ServerMessage::RoutedShares(r)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
            client: 4
        }))
    );
}

#[test]
fn fewer_than_t_senders() {
    let spec = semi(6, 3);
    assert_eq!(
        tampered(&spec, |_, r| r.shares.truncate(2)),
        Err(Error::Threshold(ThresholdError::TooFewNeighbors {
            round: Round::MaskedInputCollection,
            needed: 3,
            got: 2
        }))
    );
    assert!(tampered(&spec, |_, r| r.shares.truncate(3)).is_ok());
}

/// Client 1 is a puppet whose keys the test holds, so the test can seal arbitrary
/// plaintexts to client 0 under arbitrary associated data. The puppet sends honest
/// shares through the server; the (colluding) server then swaps in the forgery for 0.
fn forged(round: u8, plaintext: impl Fn(u32, u32) -> Vec<u8>) -> secagg::Result<ClientMessage> {
    let spec = semi(4, 2);
    let mut s = Session::new(&spec, 1);
    let mut rng = seeded_rng([77; 32]);
    let enc = SecretKey::random(&mut rng);
    let mask = SecretKey::random(&mut rng);
    s.outbox[1] = Some(ClientMessage::AdvertiseKeys(AdvertiseKeys {
        enc_pk: enc.public_key(),
        mask_pk: mask.public_key(),
        signature: None,
    }));
    let kl = s.server_round(&[]);
    let honest: Vec<_> = kl.iter().filter(|(i, _)| *i != 1).cloned().collect();
    s.client_round(&honest);
    let ServerMessage::KeyList(KeyList { entries }) = msg_for(&kl, 1) else {
        panic!()
    };
    let sid = *s.config.session_id();
    let mut seal = |to: u32, round: u8, pt: &[u8]| {
        let e = entries.iter().find(|e| e.id == to).unwrap();
        let shared = enc.agree(&e.keys.enc_pk).unwrap();
        let key = kdf::share_key(&shared, &sid, 1, to);
        let ad = AssociatedData {
            session_id: sid,
            round,
            sender: 1,
            receiver: to,
        };
        aead::seal(&key, &ad, pt, &mut rng)
    };
    let shares = [0, 2, 3]
        .into_iter()
        .map(|to| SealedShares {
            to,
            ciphertext: seal(to, Round::ShareKeys.number(), &plaintext_ok(1, to)),
        })
        .collect();
    s.outbox[1] = Some(ClientMessage::ShareKeys(ShareKeys { shares }));
    let msgs = s.server_round(&[]);
    let mut r = routed(&msgs, 0);
    let slot = r.shares.iter_mut().find(|c| c.from == 1).unwrap();
    slot.ciphertext = seal(0, round, &plaintext(1, 0));
    s.handle(0, ServerMessage::RoutedShares(r))
}

fn plaintext_ok(from: u32, to: u32) -> Vec<u8> {
    plaintext(from, to, [1; 32], [2; 32])
}

fn plaintext(from: u32, to: u32, y1: [u8; 32], y2: [u8; 32]) -> Vec<u8> {
    let mut pt = Vec::new();
    pt.extend_from_slice(&from.to_be_bytes());
    pt.extend_from_slice(&to.to_be_bytes());
    pt.extend_from_slice(&y1);
    pt.extend_from_slice(&y2);
    pt
}

#[test]
fn forged_shares() {
    let ok = plaintext_ok;
    // Well-formed forgeries are accepted (their values are the sender's business).
    assert_eq!(
        accused(forged(Round::ShareKeys.number(), ok)),
        Vec::<u32>::new()
    );
    // Sealed for another round: the associated data differs.
    assert_eq!(
        accused(forged(Round::MaskedInputCollection.number(), ok)),
        vec![1]
    );
    // The plaintext names another receiver, or another sender.
    assert_eq!(
        accused(forged(Round::ShareKeys.number(), |f, t| plaintext(
            f,
            t + 1,
            [1; 32],
            [2; 32]
        ))),
        vec![1]
    );
    assert_eq!(
        accused(forged(Round::ShareKeys.number(), |_, t| plaintext(
            2, t, [1; 32], [2; 32]
        ))),
        vec![1]
    );
    // Wrong length, non-canonical share (either of the two).
    assert_eq!(
        accused(forged(Round::ShareKeys.number(), |f, t| ok(f, t)[..71].to_vec())),
        vec![1]
    );
    assert_eq!(
        accused(forged(Round::ShareKeys.number(), |f, t| plaintext(
            f, t, [1; 32], [0xff; 32]
        ))),
        vec![1]
    );
    assert_eq!(
        accused(forged(Round::ShareKeys.number(), |f, t| plaintext(
            f, t, [0xff; 32], [1; 32]
        ))),
        vec![1]
    );
}

#[test]
fn wrong_message_in_this_state() {
    let spec = semi(4, 2);
    let mut s = Session::new(&spec, 1);
    let kl = s.server_round(&[]);
    s.client_round(&kl);
    assert_eq!(
        s.handle(0, msg_for(&kl, 0)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: Round::MaskedInputCollection,
            found: Round::ShareKeys
        }))
    );
    assert_eq!(
        s.handle(0, msg_for(&kl, 0)),
        Err(Error::Misuse(Misuse::AlreadyAborted))
    );
}
