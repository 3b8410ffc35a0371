//! Misbehaving clients are excluded, not fatal (issue 14, docs/threat-model.md,
//! "Exclusion"): one client with a low-order key, one that seals garbage, one that seals
//! malformed shares, at n = 8 (complete), 40 and 1000 (SecAgg+, the finder's k and t),
//! in both threat models; the session completes with every other client included and
//! the sum equal to the plaintext sum. And a server that tampers with ciphertexts so
//! that honest clients accuse each other never obtains both reconstructions of an
//! honest client, and a client left with fewer than t usable neighbors aborts.

use std::sync::Arc;

use ed25519_dalek::Signer;
use secagg::crypto::aead::{self, AssociatedData};
use secagg::crypto::kdf;
use secagg::crypto::keys::{PublicKey, SecretKey};
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{
    AdvertiseKeys, ClientMessage, KeyList, MaskedInput, SealedShares, ServerMessage, ShareKeys,
    ShareKind,
};
use secagg::protocol::params::{find_params, ParamQuery, ThreatModel};
use secagg::protocol::server::{ExclusionReason, Output, Server};
use secagg::protocol::transcript;
use secagg::{ClientId, CryptoError, EncodingError, Error, PeerMisbehaved, Round, ThresholdError};

use crate::common::protocol::*;
use crate::common::session::*;

/// How the one bad client misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bad {
    /// Advertises a point of order 8 as its encryption key.
    LowOrderKey,
    /// Advertises a key with bit 255 set (a sans-IO caller can hand it over unencoded).
    NonCanonicalKey,
    /// Seals random bytes of the right length to every neighbor.
    GarbageCiphertext,
    /// Seals well-formed ciphertexts whose self-mask share is not a canonical scalar,
    /// then sends a random masked input (which must never be counted).
    MalformedShare,
}

/// A point of order 8 on Curve25519 (a canonical u-coordinate).
const ORDER_8: [u8; 32] = [
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
];

fn finder_spec(n: usize, model: Model) -> Spec {
    let threat = match model {
        Model::SemiHonest => ThreatModel::SemiHonest,
        Model::Malicious => ThreatModel::Malicious,
    };
    let p = find_params(&ParamQuery::new(n, 0.05, 0.05, threat)).unwrap();
    Spec::new(n, p.threshold, p.graph_spec([5; 32]), model)
}

/// Delivers every pending message but `skip`'s; a message of `bad` may be refused with
/// `refused`.
fn deliver(s: &mut Session, bad: ClientId, refused: Option<Error>) {
    for i in 0..s.outbox.len() {
        if let Some(m) = s.outbox[i].take() {
            let r = s.server.receive(i as ClientId, m);
            match (&refused, i as ClientId == bad) {
                (Some(e), true) => assert_eq!(r.as_ref(), Err(e)),
                _ => r.unwrap(),
            }
        }
    }
}

/// Hands `msgs` to every client but `skip`, the clients in parallel (each with its own
/// rng, so the bytes do not depend on the schedule).
fn clients_answer(s: &mut Session, msgs: &[(ClientId, ServerMessage)], skip: Option<ClientId>) {
    use rayon::prelude::*;
    let mut todo: Vec<Option<&ServerMessage>> = vec![None; s.clients.len()];
    for (id, m) in msgs {
        if Some(*id) != skip {
            todo[*id as usize] = Some(m);
        }
    }
    s.clients
        .par_iter_mut()
        .zip(s.rngs.par_iter_mut())
        .zip(s.outbox.par_iter_mut())
        .zip(todo.into_par_iter())
        .for_each(|(((c, rng), out), m)| {
            if let Some(m) = m {
                *out = Some(c.handle(m.clone(), rng).unwrap());
            }
        });
}

/// Runs one session in which client `bad` misbehaves as `how`; returns the output.
fn run(spec: &Spec, bad: ClientId, how: Bad) -> (Session, Output) {
    let mut s = Session::new(spec, 3);
    let sid = *s.config.session_id();
    let mut rng = seeded_rng([44; 32]);
    // The puppet's keys (MalformedShare): the test plays client `bad`.
    let enc = SecretKey::random(&mut rng);
    let mask = SecretKey::random(&mut rng);
    let sign = |s: &Session, enc_pk: &PublicKey, mask_pk: &PublicKey| {
        s.keys
            .as_ref()
            .map(|k| k[bad as usize].sign(&transcript::advertise(&sid, bad, enc_pk, mask_pk)))
    };
    let mut refused = None;
    match how {
        Bad::LowOrderKey | Bad::NonCanonicalKey => {
            let Some(ClientMessage::AdvertiseKeys(mut a)) = s.outbox[bad as usize].clone() else {
                panic!()
            };
            if how == Bad::LowOrderKey {
                a.enc_pk = PublicKey::from_bytes(ORDER_8);
                refused = Some(Error::Crypto(CryptoError::NonContributory));
            } else {
                let mut b = a.enc_pk.to_bytes();
                b[31] |= 0x80;
                a.enc_pk = PublicKey::from_bytes(b);
                refused = Some(Error::Encoding(EncodingError::NonCanonicalPublicKey));
            }
            a.signature = sign(&s, &a.enc_pk, &a.mask_pk);
            s.outbox[bad as usize] = Some(ClientMessage::AdvertiseKeys(a));
        }
        Bad::MalformedShare => {
            let (enc_pk, mask_pk) = (enc.public_key(), mask.public_key());
            let signature = sign(&s, &enc_pk, &mask_pk);
            s.outbox[bad as usize] = Some(ClientMessage::AdvertiseKeys(AdvertiseKeys {
                enc_pk,
                mask_pk,
                signature,
            }));
        }
        Bad::GarbageCiphertext => {}
    }
    deliver(&mut s, bad, refused);
    let kl = s.server.close_round().unwrap();
    let puppet = (how == Bad::MalformedShare).then_some(bad);
    let bad_listed = kl.iter().any(|(id, _)| *id == bad);
    assert_eq!(
        bad_listed,
        matches!(how, Bad::GarbageCiphertext | Bad::MalformedShare)
    );
    clients_answer(&mut s, &kl, puppet);
    match how {
        Bad::GarbageCiphertext => {
            let Some(ClientMessage::ShareKeys(mut sk)) = s.outbox[bad as usize].take() else {
                panic!()
            };
            for c in &mut sk.shares {
                c.ciphertext = (0..c.ciphertext.len()).map(|i| (i * 7 + 1) as u8).collect();
            }
            s.outbox[bad as usize] = Some(ClientMessage::ShareKeys(sk));
        }
        Bad::MalformedShare => {
            let ServerMessage::KeyList(KeyList { entries }) = msg_for(&kl, bad) else {
                panic!()
            };
            let shares = entries
                .iter()
                .filter(|e| e.id != bad)
                .map(|e| {
                    let shared = enc.agree(&e.keys.enc_pk).unwrap();
                    let key = kdf::share_key(&shared, &sid, bad, e.id);
                    let mut pt = Vec::new();
                    pt.extend_from_slice(&bad.to_be_bytes());
                    pt.extend_from_slice(&e.id.to_be_bytes());
                    pt.extend_from_slice(&[1; 32]);
                    pt.extend_from_slice(&[0xff; 32]);
                    let ad = AssociatedData {
                        session_id: sid,
                        round: Round::ShareKeys.number(),
                        sender: bad,
                        receiver: e.id,
                    };
                    SealedShares {
                        to: e.id,
                        ciphertext: aead::seal(&key, &ad, &pt, &mut rng),
                    }
                })
                .collect();
            s.outbox[bad as usize] = Some(ClientMessage::ShareKeys(ShareKeys { shares }));
        }
        _ => {}
    }
    deliver(&mut s, bad, None);
    let routed = s.server.close_round().unwrap();
    clients_answer(&mut s, &routed, puppet);
    if puppet.is_some() {
        // Someone else's input, masked by nobody: it must never reach the sum.
        let vectors = s.inputs[(bad as usize + 1) % spec.n].clone();
        s.outbox[bad as usize] = Some(ClientMessage::MaskedInput(MaskedInput {
            accused: vec![],
            vectors,
        }));
    }
    // Every neighbor of the bad client accuses it, and nobody else.
    if matches!(how, Bad::GarbageCiphertext | Bad::MalformedShare) {
        for (i, m) in s.outbox.iter().enumerate() {
            if let Some(ClientMessage::MaskedInput(mi)) = m {
                let want = if s.config.graph().are_neighbors(i as ClientId, bad) {
                    vec![bad]
                } else {
                    vec![]
                };
                assert_eq!(mi.accused, want, "client {i}");
            }
        }
    }
    // Store and restore the server in the middle of round 2 (pending inputs and
    // accusations travel with it).
    let half = s.outbox.len() / 2;
    for i in 0..s.outbox.len() {
        if let Some(m) = s.outbox[i].take() {
            s.server.receive(i as ClientId, m).unwrap();
        }
        if i == half {
            let bytes = s.server.to_bytes().unwrap();
            s.server = Server::from_bytes(Arc::clone(&s.config), &bytes).unwrap();
            assert_eq!(s.server.to_bytes().unwrap(), bytes);
        }
    }
    let mut msgs = s.server.close_round().unwrap();
    while !msgs.is_empty() {
        clients_answer(&mut s, &msgs, puppet);
        msgs = s.server_round(&[]);
    }
    let out = s.server.output().unwrap().clone();
    (s, out)
}

fn check(spec: &Spec, bad: ClientId, how: Bad) {
    let (s, out) = run(spec, bad, how);
    let others: Vec<ClientId> = (0..spec.n as ClientId).filter(|&i| i != bad).collect();
    assert_eq!(out.included, others, "{how:?} n={}", spec.n);
    assert_eq!(
        out.sums,
        s.expected(&others),
        "{how:?} n={}: the plaintext sum",
        spec.n
    );
    assert_eq!(out.excluded.len(), 1);
    assert_eq!(out.excluded[0].client, bad);
    let reason = &out.excluded[0].reason;
    match how {
        Bad::LowOrderKey => assert_eq!(*reason, ExclusionReason::LowOrderKey),
        Bad::NonCanonicalKey => assert_eq!(*reason, ExclusionReason::NonCanonicalKey),
        _ => {
            let mut nb = s.config.graph().neighbors(bad).to_vec();
            nb.sort_unstable();
            assert_eq!(*reason, ExclusionReason::Accused { by: nb });
        }
    }
    assert_eq!(s.server.excluded(), &out.excluded[..]);
    // Every other client completed; none revealed anything about the bad one beyond
    // its masking-key share (excluded = treated as dropped).
    for &i in &others {
        let c = &s.clients[i as usize];
        assert!(c.is_completed(), "client {i}: {c:?}");
    }
}

const ALL: [Bad; 4] = [
    Bad::LowOrderKey,
    Bad::NonCanonicalKey,
    Bad::GarbageCiphertext,
    Bad::MalformedShare,
];

#[test]
fn one_bad_client_at_n8_complete() {
    for model in MODELS {
        let t = if model == Model::Malicious { 4 } else { 3 };
        let spec = Spec::new(8, t, GraphSpec::Complete, model);
        for how in ALL {
            check(&spec, 5, how);
        }
    }
}

#[test]
fn one_bad_client_at_n40_secagg_plus() {
    for model in MODELS {
        let spec = finder_spec(40, model);
        for how in ALL {
            check(&spec, 17, how);
        }
    }
}

#[test]
fn one_bad_client_at_n1000_secagg_plus() {
    // The setting: k = 30, t = 17 (semi-honest), where one low-order key used
    // to remove all 969 other survivors through the t-core step.
    let spec = finder_spec(1000, Model::SemiHonest);
    let GraphSpec::Harary { degree, .. } = spec.graph else {
        panic!()
    };
    assert_eq!((degree, spec.t), (30, 17));
    for how in [
        Bad::LowOrderKey,
        Bad::GarbageCiphertext,
        Bad::MalformedShare,
    ] {
        check(&spec, 500, how);
    }
    let spec = finder_spec(1000, Model::Malicious);
    check(&spec, 123, Bad::GarbageCiphertext);
}

/// The kinds honest clients revealed of each owner, over the whole session.
fn revealed_kinds(s: &Session) -> std::collections::BTreeMap<ClientId, Vec<ShareKind>> {
    let mut out: std::collections::BTreeMap<ClientId, Vec<ShareKind>> = Default::default();
    for c in &s.clients {
        if let secagg::protocol::client::Client::Completed(done) = c {
            for &(owner, kind) in done.revealed() {
                let kinds = out.entry(owner).or_default();
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
    }
    out
}

#[test]
fn tampering_server_makes_honest_clients_accuse_each_other_but_learns_nothing() {
    for model in MODELS {
        // Complete graph of 10, t = 5: the server spoils ciphertexts on their way so
        // that 1 accuses 2, 3 accuses 4 and 2 accuses 1, and strips client 0 of all
        // but 4 usable neighbors (fewer than t: it must abort).
        let spec = Spec::new(10, 5, GraphSpec::Complete, model);
        let mut s = Session::new(&spec, 9);
        let msgs = s.until(Round::MaskedInputCollection);
        let spoil: &[(ClientId, ClientId)] = &[
            (1, 2),
            (3, 4),
            (2, 1),
            (0, 1),
            (0, 2),
            (0, 3),
            (0, 4),
            (0, 5),
        ];
        let mut tampered = Vec::new();
        for (to, m) in msgs {
            let ServerMessage::RoutedShares(mut r) = m else {
                panic!()
            };
            for c in &mut r.shares {
                if spoil.contains(&(to, c.from)) {
                    c.ciphertext[30] ^= 0x40;
                }
            }
            tampered.push((to, ServerMessage::RoutedShares(r)));
        }
        for (to, m) in &tampered {
            let i = *to as usize;
            let r = s.clients[i].handle(m.clone(), &mut s.rngs[i]);
            if *to == 0 {
                assert_eq!(
                    r,
                    Err(Error::Threshold(ThresholdError::TooFewNeighbors {
                        round: Round::MaskedInputCollection,
                        needed: 5,
                        got: 4
                    }))
                );
                continue;
            }
            let out = r.unwrap();
            let ClientMessage::MaskedInput(mi) = &out else {
                panic!()
            };
            let want: Vec<ClientId> = spoil
                .iter()
                .filter(|(t, _)| t == to)
                .map(|&(_, f)| f)
                .collect();
            assert_eq!(mi.accused, want, "client {to}");
            s.outbox[i] = Some(out);
        }
        // The server now runs the protocol: 1, 2 and 4 are excluded (accused), 0
        // aborted; the others are included.
        let msgs = s.server_round(&[]);
        let out = s.finish(&msgs);
        let included = vec![3, 5, 6, 7, 8, 9];
        assert_eq!(out.included, included, "{model:?}");
        assert_eq!(out.sums, s.expected(&included));
        // No honest client's secret was revealed in both kinds.
        for (owner, kinds) in revealed_kinds(&s) {
            assert_eq!(
                kinds.len(),
                1,
                "{model:?}: owner {owner} revealed as {kinds:?}"
            );
            let want = if out.included.contains(&owner) {
                ShareKind::SelfMask
            } else {
                ShareKind::MaskKey
            };
            assert_eq!(kinds, vec![want]);
        }
    }
}

#[test]
fn a_server_that_ignores_an_accusation_is_refused_by_the_accuser() {
    for model in MODELS {
        let spec = Spec::new(
            6,
            if model == Model::Malicious { 3 } else { 2 },
            GraphSpec::Complete,
            model,
        );
        let mut s = Session::new(&spec, 4);
        let msgs = s.until(Round::MaskedInputCollection);
        let mut msgs = msgs;
        for (to, m) in &mut msgs {
            if *to == 1 {
                let ServerMessage::RoutedShares(r) = m else {
                    panic!()
                };
                let c = r.shares.iter_mut().find(|c| c.from == 2).unwrap();
                c.ciphertext[20] ^= 1;
            }
        }
        s.client_round(&msgs);
        let msgs = s.server_round(&[]);
        // The server lists 2 as included to client 1, the accuser.
        let (_, m) = msgs.iter().find(|(to, _)| *to == 1).unwrap().clone();
        let lied = match m {
            ServerMessage::ConsistencyRequest(mut c) => {
                c.survivors.push(2);
                ServerMessage::ConsistencyRequest(c)
            }
            ServerMessage::UnmaskRequest(mut u) => {
                u.survivors.push(2);
                ServerMessage::UnmaskRequest(u)
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            s.handle(1, lied),
            Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
                client: 2
            }))
        );
    }
}

#[test]
fn the_server_checks_accusations() {
    let spec = Spec::new(9, 2, harary(4), Model::SemiHonest);
    let mut s = Session::new(&spec, 2);
    let g = s.config.graph().clone();
    let nb = g.neighbors(0).to_vec();
    // Client 0 truly cannot open what its first two neighbors sealed to it.
    let mut msgs = s.until(Round::MaskedInputCollection);
    for (to, m) in &mut msgs {
        if let (0, ServerMessage::RoutedShares(r)) = (*to, m) {
            for c in &mut r.shares {
                if nb[..2].contains(&c.from) {
                    c.ciphertext[25] ^= 2;
                }
            }
        }
    }
    s.client_round(&msgs);
    let Some(ClientMessage::MaskedInput(y)) = s.outbox[0].take() else {
        panic!()
    };
    assert_eq!(y.accused, nb[..2].to_vec());
    let stranger = (1..9).find(|&v| !g.are_neighbors(0, v)).unwrap();
    let with = |accused: Vec<ClientId>| {
        ClientMessage::MaskedInput(MaskedInput {
            accused,
            vectors: y.vectors.clone(),
        })
    };
    let cases = [
        (
            with(vec![stranger]),
            Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                client: 0,
                other: stranger,
            }),
        ),
        (
            with(vec![0]),
            Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                client: 0,
                other: 0,
            }),
        ),
        (
            with(vec![nb[1], nb[0]]),
            Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry { client: nb[0] }),
        ),
        (
            with(vec![99]),
            Error::PeerMisbehaved(PeerMisbehaved::UnknownClient { client: 99 }),
        ),
        // Three of four neighbors accused: fewer than t = 2 usable.
        (
            with(nb[..3].to_vec()),
            Error::Threshold(ThresholdError::TooFewNeighbors {
                round: Round::MaskedInputCollection,
                needed: 2,
                got: 1,
            }),
        ),
    ];
    for (m, e) in cases {
        let before = s.server.to_bytes().unwrap();
        assert_eq!(s.server.receive(0, m), Err(e));
        assert_eq!(
            s.server.to_bytes().unwrap(),
            before,
            "a refused message changes nothing"
        );
    }
    // Two accusations leave 2 usable neighbors: accepted; both accused are excluded.
    s.server.receive(0, ClientMessage::MaskedInput(y)).unwrap();
    let msgs = s.server_round(&[]);
    let out = s.finish(&msgs);
    let included: Vec<ClientId> = (0..9).filter(|v| !nb[..2].contains(v)).collect();
    assert_eq!(out.included, included);
    assert_eq!(out.sums, s.expected(&included));
}
