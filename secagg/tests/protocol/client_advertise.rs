//! The client's first state: starting (inputs, signing key), the keys it advertises, and
//! the key list it receives (state `KeysAdvertised`).

use std::sync::Arc;

use crate::common::protocol::*;
use crate::common::session::*;
use ed25519_dalek::Signature;
use secagg::crypto::keys::PublicKey;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::SEALED_SHARES_LEN;
use secagg::protocol::messages::{ClientMessage, KeyList, RoutedShares, ServerMessage};
use secagg::protocol::transcript;
use secagg::ring::RingVec;
use secagg::Round;
use secagg::{CryptoError, Error, Misuse, PeerMisbehaved, ThresholdError};

fn semi(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::SemiHonest)
}

fn mal(n: usize, t: usize) -> Spec {
    Spec::new(n, t, GraphSpec::Complete, Model::Malicious)
}

fn key_list(msgs: &[(u32, ServerMessage)], id: u32) -> KeyList {
    match msg_for(msgs, id) {
        ServerMessage::KeyList(k) => k,
        other => panic!("{other:?}"),
    }
}

/// Feeds client 0 its honest key list after `tamper`, and returns the outcome.
fn tampered(spec: &Spec, tamper: impl FnOnce(&mut KeyList)) -> secagg::Result<ClientMessage> {
    let mut s = Session::new(spec, 1);
    let msgs = s.until(Round::ShareKeys);
    let mut kl = key_list(&msgs, 0);
    tamper(&mut kl);
    let r = s.handle(0, ServerMessage::KeyList(kl));
    if r.is_err() {
        assert!(s.clients[0].error().is_some(), "an error aborts the client");
    }
    r
}

#[test]
fn new_checks_inputs() {
    let spec = semi(4, 2);
    let (config, _) = spec.build();
    let mut rng = seeded_rng([0; 32]);
    let ring = config.vectors()[0].ring;
    let good = RingVec::zeros(&ring, 8);
    let new = |inputs: Vec<RingVec>, rng: &mut _| {
        Client::new(Arc::clone(&config), 0, inputs, None, rng).map(|_| ())
    };
    assert_eq!(
        new(vec![], &mut rng),
        Err(Error::Misuse(Misuse::InputCount {
            expected: 1,
            found: 0
        }))
    );
    assert_eq!(
        new(vec![good.clone(), good.clone()], &mut rng),
        Err(Error::Misuse(Misuse::InputCount {
            expected: 1,
            found: 2
        }))
    );
    assert_eq!(
        new(vec![RingVec::zeros(&ring, 7)], &mut rng),
        Err(Error::Misuse(Misuse::InputLength {
            vector: 0,
            expected: 8,
            found: 7
        }))
    );
    // A word beyond 2^16, and the wrong word type.
    let mut words = vec![0u32; 8];
    words[3] = 1 << 16;
    assert_eq!(
        new(vec![RingVec::U32(words)], &mut rng),
        Err(Error::Misuse(Misuse::InputNotInRing { vector: 0 }))
    );
    assert_eq!(
        new(vec![RingVec::U64(vec![0; 8])], &mut rng),
        Err(Error::Misuse(Misuse::InputNotInRing { vector: 0 }))
    );
    assert!(new(vec![good.clone()], &mut rng).is_ok());
    assert_eq!(
        Client::new(Arc::clone(&config), 4, vec![good], None, &mut rng).map(|_| ()),
        Err(Error::Misuse(Misuse::InvalidClientId { client: 4, n: 4 }))
    );
}

#[test]
fn new_checks_the_signing_key() {
    let (config, keys) = mal(4, 3).build();
    let keys = keys.unwrap();
    let mut rng = seeded_rng([0; 32]);
    let x = || vec![RingVec::zeros(&config.vectors()[0].ring, 8)];
    let new =
        |id, key, rng: &mut _| Client::new(Arc::clone(&config), id, x(), key, rng).map(|_| ());
    assert_eq!(
        new(1, None, &mut rng),
        Err(Error::Misuse(Misuse::SigningKeyMismatch { client: 1 }))
    );
    assert_eq!(
        new(1, Some(keys[2].clone()), &mut rng),
        Err(Error::Misuse(Misuse::SigningKeyMismatch { client: 1 }))
    );
    assert!(new(1, Some(keys[1].clone()), &mut rng).is_ok());
    let (semi_config, _) = semi(4, 2).build();
    assert_eq!(
        Client::new(semi_config, 1, x(), Some(keys[1].clone()), &mut rng).map(|_| ()),
        Err(Error::Misuse(Misuse::SigningKeyMismatch { client: 1 }))
    );
}

#[test]
fn advertised_keys_are_fresh_and_signed_in_the_malicious_model() {
    for spec in [semi(4, 2), mal(4, 3)] {
        let s = Session::new(&spec, 1);
        let mut seen = Vec::new();
        for id in 0..4u32 {
            let ClientMessage::AdvertiseKeys(a) = s.sent_in(id, Round::AdvertiseKeys) else {
                panic!()
            };
            assert_ne!(a.enc_pk, a.mask_pk);
            seen.extend([a.enc_pk, a.mask_pk]);
            match (spec.model, a.signature) {
                (Model::SemiHonest, None) => {}
                (Model::Malicious, Some(sig)) => {
                    let t = transcript::advertise(s.config.session_id(), id, &a.enc_pk, &a.mask_pk);
                    let vk = s.config.verifying_key(id).unwrap();
                    vk.verify_strict(&t, &sig).unwrap();
                    // Bound to the id: the same keys do not verify for another client.
                    let t1 =
                        transcript::advertise(s.config.session_id(), id + 1, &a.enc_pk, &a.mask_pk);
                    assert!(vk.verify_strict(&t1, &sig).is_err());
                }
                other => panic!("{other:?}"),
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 8, "all keys differ");
    }
}

#[test]
fn honest_key_list_gives_one_sealed_pair_per_neighbor() {
    let spec = Spec::new(9, 2, harary(4), Model::SemiHonest);
    let mut s = Session::new(&spec, 1);
    let msgs = s.until(Round::ShareKeys);
    let kl = key_list(&msgs, 0);
    let ClientMessage::ShareKeys(sk) = s.handle(0, ServerMessage::KeyList(kl)).unwrap() else {
        panic!()
    };
    let to: Vec<u32> = sk.shares.iter().map(|s| s.to).collect();
    assert_eq!(to, s.config.graph().neighbors(0));
    assert!(sk
        .shares
        .iter()
        .all(|s| s.ciphertext.len() == SEALED_SHARES_LEN));
}

#[test]
fn missing_or_altered_own_entry() {
    let spec = semi(5, 2);
    assert_eq!(
        tampered(&spec, |kl| kl.entries.retain(|e| e.id != 0)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::MissingOwnKey))
    );
    assert_eq!(
        tampered(&spec, |kl| kl.entries[0].keys.enc_pk =
            PublicKey::from_bytes([9; 32])),
        Err(Error::PeerMisbehaved(PeerMisbehaved::OwnKeyMismatch))
    );
    assert_eq!(
        tampered(&spec, |kl| {
            let own = kl.entries[0];
            kl.entries.push(own);
        }),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
            client: 0
        }))
    );
}

#[test]
fn duplicate_unknown_and_non_neighbor_entries() {
    let spec = semi(5, 2);
    assert_eq!(
        tampered(&spec, |kl| {
            let e = kl.entries[2];
            kl.entries.push(e);
        }),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
            client: 2
        }))
    );
    assert_eq!(
        tampered(&spec, |kl| kl.entries[3].id = 17),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
            client: 17
        }))
    );
    // Sparse graph: list a client that is not a neighbor of 0.
    let spec = Spec::new(9, 2, harary(4), Model::SemiHonest);
    let (config, _) = spec.build();
    let stranger = (1..9)
        .find(|&v| !config.graph().are_neighbors(0, v))
        .unwrap();
    let mut s = Session::new(&spec, 1);
    let msgs = s.until(Round::ShareKeys);
    let mut kl = key_list(&msgs, 0);
    let mut e = key_list(&msgs, stranger)
        .entries
        .into_iter()
        .find(|e| e.id == stranger)
        .unwrap();
    e.id = stranger;
    kl.entries.push(e);
    assert_eq!(
        s.handle(0, ServerMessage::KeyList(kl)),
        Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
            client: 0,
            other: stranger
        }))
    );
}

#[test]
fn two_clients_with_the_same_key() {
    let spec = semi(5, 2);
    assert_eq!(
        tampered(&spec, |kl| kl.entries[3].keys.mask_pk =
            kl.entries[1].keys.enc_pk),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
            first: 1,
            second: 3
        }))
    );
    assert_eq!(
        tampered(&spec, |kl| kl.entries[2].keys.mask_pk =
            kl.entries[2].keys.enc_pk),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
            first: 2,
            second: 2
        }))
    );
    // A neighbor replaying the receiving client's own key.
    assert_eq!(
        tampered(&spec, |kl| kl.entries[4].keys.enc_pk =
            kl.entries[0].keys.mask_pk),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
            first: 0,
            second: 4
        }))
    );
}

#[test]
fn low_order_public_keys() {
    // The identity (u = 0) and a point of order 8 on curve25519.
    let order8 =
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap();
    for (bad, enc) in [([0u8; 32], true), (order8.try_into().unwrap(), false)] {
        let spec = semi(5, 2);
        let r = tampered(&spec, |kl| {
            let pk = PublicKey::from_bytes(bad);
            if enc {
                kl.entries[1].keys.enc_pk = pk;
            } else {
                kl.entries[1].keys.mask_pk = pk;
            }
        });
        assert_eq!(r, Err(Error::Crypto(CryptoError::NonContributory)));
    }
}

#[test]
fn signatures_in_the_malicious_model() {
    let spec = mal(5, 3);
    assert_eq!(
        tampered(&spec, |kl| kl.entries[2].keys.signature = None),
        Err(Error::PeerMisbehaved(PeerMisbehaved::MissingSignature {
            client: 2
        }))
    );
    assert_eq!(
        tampered(&spec, |kl| {
            let mut b = kl.entries[2].keys.signature.unwrap().to_bytes();
            b[5] ^= 1;
            kl.entries[2].keys.signature = Some(Signature::from_bytes(&b));
        }),
        Err(Error::Crypto(CryptoError::BadSignature { client: 2 }))
    );
    // The server substitutes its own keys for client 3's.
    assert_eq!(
        tampered(&spec, |kl| {
            let k = &mut kl.entries[3].keys;
            core::mem::swap(&mut k.enc_pk, &mut k.mask_pk);
        }),
        Err(Error::Crypto(CryptoError::BadSignature { client: 3 }))
    );
    // Client 2's signed keys presented as client 4's.
    assert_eq!(
        tampered(&spec, |kl| {
            let k2 = kl.entries[2].keys;
            kl.entries[4].keys = k2;
            kl.entries.remove(2);
        }),
        Err(Error::Crypto(CryptoError::BadSignature { client: 4 }))
    );
    let spec = semi(5, 2);
    assert_eq!(
        tampered(&spec, |kl| {
            kl.entries[1].keys.signature = Some(Signature::from_bytes(&[0; 64]));
        }),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedSignature {
            client: 1
        }))
    );
}

#[test]
fn keys_from_another_session_are_refused() {
    // Same parameters, another context: its signed key list does not verify here.
    let spec = mal(5, 3);
    let mut other = spec.clone();
    other.context = b"another model".to_vec();
    let mut s2 = Session::new(&other, 2);
    let foreign = key_list(&s2.until(Round::ShareKeys), 0);
    assert_eq!(
        tampered(&spec, |kl| {
            let own = kl.entries[0];
            *kl = foreign;
            kl.entries[0] = own;
        }),
        Err(Error::Crypto(CryptoError::BadSignature { client: 1 }))
    );
}

#[test]
fn fewer_than_t_neighbors() {
    let spec = semi(6, 3);
    assert_eq!(
        tampered(&spec, |kl| kl.entries.truncate(3)),
        Err(Error::Threshold(ThresholdError::TooFewNeighbors {
            round: Round::ShareKeys,
            needed: 3,
            got: 2
        }))
    );
    // Exactly t neighbors is enough.
    assert!(tampered(&spec, |kl| kl.entries.truncate(4)).is_ok());
}

#[test]
fn wrong_message_then_aborted() {
    let spec = semi(4, 2);
    let mut s = Session::new(&spec, 1);
    let msgs = s.until(Round::ShareKeys);
    assert_eq!(
        s.handle(
            0,
            ServerMessage::RoutedShares(RoutedShares { shares: vec![] })
        ),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: Round::ShareKeys,
            found: Round::MaskedInputCollection
        }))
    );
    assert_eq!(s.clients[0].state_name(), "Aborted");
    // The honest key list is refused now: the client stays aborted.
    assert_eq!(
        s.handle(0, msg_for(&msgs, 0)),
        Err(Error::Misuse(Misuse::AlreadyAborted))
    );
    // The other clients finish without it (it is simply dropped).
    let out = s.finish(
        &msgs
            .into_iter()
            .filter(|(i, _)| *i != 0)
            .collect::<Vec<_>>(),
    );
    assert_eq!(out.included, vec![1, 2, 3]);
    assert_eq!(out.sums, s.expected(&[1, 2, 3]));
}

#[test]
fn advertise_message_round_trips_through_the_server() {
    // The key list echoes exactly what each client advertised.
    let spec = mal(4, 3);
    let mut s = Session::new(&spec, 3);
    let msgs = s.until(Round::ShareKeys);
    for id in 0..4u32 {
        let kl = key_list(&msgs, id);
        for e in kl.entries {
            let ClientMessage::AdvertiseKeys(a) = s.sent_in(e.id, Round::AdvertiseKeys) else {
                panic!()
            };
            assert_eq!(e.keys, a);
        }
    }
}
