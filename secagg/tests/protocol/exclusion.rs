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

// ---- a client whose shares fewer than t neighbors can use (pairwise reveals) -------

/// Runs a session in which client `bad` (otherwise honest) seals usable shares to its
/// `usable` lowest neighbors and garbage to the others, until the server has produced
/// the messages that open round 4 (the unmasking requests, after the consistency round
/// in the malicious model). Returns the session, those messages and the holders.
fn partial_to_unmask(
    spec: &Spec,
    bad: ClientId,
    usable: usize,
) -> (Session, Vec<(ClientId, ServerMessage)>, Vec<ClientId>) {
    let mut s = Session::new(spec, 6);
    deliver(&mut s, bad, None);
    let kl = s.server.close_round().unwrap();
    clients_answer(&mut s, &kl, None);
    let mut nb = s.config.graph().neighbors(bad).to_vec();
    nb.sort_unstable();
    let holders = nb[..usable].to_vec();
    let Some(ClientMessage::ShareKeys(mut sk)) = s.outbox[bad as usize].take() else {
        panic!()
    };
    for c in &mut sk.shares {
        if !holders.contains(&c.to) {
            c.ciphertext = (0..c.ciphertext.len()).map(|i| (i * 7 + 1) as u8).collect();
        }
    }
    s.outbox[bad as usize] = Some(ClientMessage::ShareKeys(sk));
    deliver(&mut s, bad, None);
    let routed = s.server.close_round().unwrap();
    clients_answer(&mut s, &routed, None);
    for (i, m) in s.outbox.iter().enumerate() {
        if let Some(ClientMessage::MaskedInput(mi)) = m {
            let i = i as ClientId;
            let accuses = s.config.graph().are_neighbors(i, bad) && !holders.contains(&i);
            assert_eq!(
                mi.accused,
                if accuses { vec![bad] } else { vec![] },
                "client {i}"
            );
        }
    }
    deliver(&mut s, bad, None);
    let mut msgs = s.server.close_round().unwrap();
    if spec.model == Model::Malicious {
        clients_answer(&mut s, &msgs, None);
        deliver(&mut s, bad, None);
        msgs = s.server.close_round().unwrap();
    }
    assert!(msgs
        .iter()
        .all(|(_, m)| matches!(m, ServerMessage::UnmaskRequest(_))));
    (s, msgs, holders)
}

/// The whole session of [`partial_to_unmask`]; `dropper` (a holder) sends nothing in
/// round 4. The server is stored and restored between two answers of round 4.
fn run_partial(
    spec: &Spec,
    bad: ClientId,
    usable: usize,
    dropper: Option<ClientId>,
) -> (Session, Vec<ClientId>, secagg::Result<Output>) {
    let (mut s, msgs, holders) = partial_to_unmask(spec, bad, usable);
    let t = spec.t;
    // Exactly the holders are asked for their agreement with `bad`, and only when
    // its key cannot be rebuilt.
    for (to, m) in &msgs {
        let ServerMessage::UnmaskRequest(r) = m else {
            panic!()
        };
        let asked = (1..t).contains(&usable) && holders.contains(to);
        assert_eq!(r.pairwise, if asked { vec![bad] } else { vec![] }, "{to}");
    }
    clients_answer(&mut s, &msgs, dropper);
    if let Some(d) = dropper {
        s.outbox[d as usize] = None;
    }
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
    let r = s.server.close_round();
    let out = r.map(|m| {
        assert!(m.is_empty());
        s.server.output().unwrap().clone()
    });
    (s, holders, out)
}

fn check_partial(spec: &Spec, bad: ClientId, usable: usize) {
    let (s, holders, out) = run_partial(spec, bad, usable, None);
    let out = out.unwrap_or_else(|e| panic!("n={} usable={usable}: {e:?}", spec.n));
    let others: Vec<ClientId> = (0..spec.n as ClientId).filter(|&i| i != bad).collect();
    assert_eq!(out.included, others, "n={} usable={usable}", spec.n);
    assert_eq!(
        out.sums,
        s.expected(&others),
        "n={} usable={usable}",
        spec.n
    );
    let mut accusers = s.config.graph().neighbors(bad).to_vec();
    accusers.sort_unstable();
    accusers.retain(|v| !holders.contains(v));
    assert_eq!(out.excluded.len(), 1);
    assert_eq!(out.excluded[0].client, bad);
    assert_eq!(
        out.excluded[0].reason,
        ExclusionReason::Accused { by: accusers }
    );
    // What each holder revealed about `bad`: its agreement when the key cannot be
    // rebuilt, else its masking-key share; never a self-mask share; the accusers
    // nothing.
    let want = if usable < spec.t {
        ShareKind::PairwiseSecret
    } else {
        ShareKind::MaskKey
    };
    for &i in &others {
        let secagg::protocol::client::Client::Completed(done) = &s.clients[i as usize] else {
            panic!("client {i}: {:?}", s.clients[i as usize])
        };
        let about: Vec<ShareKind> = done
            .revealed()
            .iter()
            .filter(|(o, _)| *o == bad)
            .map(|&(_, k)| k)
            .collect();
        let expect = if holders.contains(&i) {
            vec![want]
        } else {
            vec![]
        };
        assert_eq!(about, expect, "client {i}");
    }
}

#[test]
fn usable_shares_to_fewer_than_t_neighbors_at_n8_complete() {
    for model in MODELS {
        let t = if model == Model::Malicious { 4 } else { 3 };
        let spec = Spec::new(8, t, GraphSpec::Complete, model);
        for usable in [t - 1, 1, 0, t] {
            check_partial(&spec, 5, usable);
        }
    }
}

#[test]
fn usable_shares_to_fewer_than_t_neighbors_at_n40_secagg_plus() {
    for model in MODELS {
        let spec = finder_spec(40, model);
        for usable in [spec.t - 1, 1, 0] {
            check_partial(&spec, 17, usable);
        }
    }
}

// n = 1000 with the finder's k, t (the usable = 0 case is `one_bad_client_at_n1000`'s
// garbage ciphertexts, in both models).
#[test]
fn usable_shares_to_t_minus_1_neighbors_at_n1000_semi_honest() {
    let spec = finder_spec(1000, Model::SemiHonest);
    assert_eq!(spec.t, 17);
    check_partial(&spec, 500, spec.t - 1);
}

#[test]
fn usable_shares_to_one_neighbor_at_n1000_semi_honest() {
    check_partial(&finder_spec(1000, Model::SemiHonest), 321, 1);
}

#[test]
fn usable_shares_to_t_minus_1_neighbors_at_n1000_malicious() {
    let spec = finder_spec(1000, Model::Malicious);
    // The finder's malicious default includes the 64-bit grinding margin (k = 74).
    assert_eq!(spec.t, 56);
    check_partial(&spec, 123, spec.t - 1);
}

#[test]
fn usable_shares_to_one_neighbor_at_n1000_malicious() {
    check_partial(&finder_spec(1000, Model::Malicious), 777, 1);
}

/// A holder that sent its masked input (its mask with `bad` is in the sum) and then
/// drops before unmasking: only its own agreement, or `bad`'s masking key, undoes that
/// mask, and the key has fewer than `t` holders. The session aborts, with the typed
/// error naming `bad` (how many holders were needed, how many answered). With `t`
/// holders or more the masking key is rebuilt as before, and one drop-out is absorbed
/// while `t` remain.
fn check_partial_with_drop(spec: &Spec, bad: ClientId, usable: usize) {
    let dropper = (0..spec.n as ClientId)
        .filter(|&v| v != bad && s_graph(spec).are_neighbors(v, bad))
        .min()
        .unwrap();
    let (s, holders, out) = run_partial(spec, bad, usable, Some(dropper));
    assert!(holders.contains(&dropper));
    if usable < spec.t {
        assert_eq!(
            out.unwrap_err(),
            Error::Threshold(ThresholdError::CannotReconstruct {
                round: Round::Unmasking,
                client: bad,
                needed: usable,
                got: usable - 1,
            }),
            "n={} usable={usable}",
            spec.n
        );
    } else {
        // The dropper's masked input is in the sum: it stays included.
        let out = out.unwrap();
        let others: Vec<ClientId> = (0..spec.n as ClientId).filter(|&i| i != bad).collect();
        assert_eq!(out.included, others);
        assert_eq!(out.sums, s.expected(&others));
    }
}

fn s_graph(spec: &Spec) -> secagg::protocol::graph::Graph {
    spec.build().0.graph().clone()
}

#[test]
fn a_holder_that_drops_before_unmasking_aborts_with_cannot_reconstruct() {
    for model in MODELS {
        let t = if model == Model::Malicious { 4 } else { 3 };
        let spec = Spec::new(8, t, GraphSpec::Complete, model);
        for usable in [t - 1, 1, t + 1] {
            check_partial_with_drop(&spec, 5, usable);
        }
        let spec = finder_spec(40, model);
        check_partial_with_drop(&spec, 17, spec.t - 1);
    }
    let spec = finder_spec(1000, Model::SemiHonest);
    check_partial_with_drop(&spec, 500, spec.t - 1);
}

/// The server may ask a client only for its agreement with an excluded neighbor whose
/// shares it holds: a survivor, a neighbor it accused, a stranger, a repeat are
/// refused with a typed error before anything is revealed.
#[test]
fn a_server_that_asks_for_a_survivors_pairwise_secret_is_refused() {
    for model in MODELS {
        let t = if model == Model::Malicious { 4 } else { 3 };
        let spec = Spec::new(8, t, GraphSpec::Complete, model);
        let (s0, msgs, holders) = partial_to_unmask(&spec, 5, t - 1);
        drop(s0);
        let h = holders[0];
        let ServerMessage::UnmaskRequest(req) = msg_for(&msgs, h) else {
            panic!()
        };
        assert_eq!(req.pairwise, vec![5]);
        let accuser = (0..8).find(|v| *v != 5 && !holders.contains(v)).unwrap();
        let survivor = *req.survivors.iter().find(|&&v| v != h).unwrap();
        let with = |pairwise: Vec<ClientId>| {
            let mut r = req.clone();
            r.pairwise = pairwise;
            ServerMessage::UnmaskRequest(r)
        };
        let cases = [
            (
                with(vec![survivor, 5]),
                PeerMisbehaved::PairwiseNotExcluded { client: survivor },
            ),
            (
                with(vec![h]),
                PeerMisbehaved::NotANeighbor {
                    client: h,
                    other: h,
                },
            ),
            (
                with(vec![5, 5]),
                PeerMisbehaved::DuplicateEntry { client: 5 },
            ),
            (with(vec![99]), PeerMisbehaved::UnknownClient { client: 99 }),
        ];
        for (m, e) in cases {
            // A fresh copy of the session for each lie (the client aborts on the first).
            let (mut s, _, _) = partial_to_unmask(&spec, 5, t - 1);
            assert_eq!(s.handle(h, m), Err(Error::PeerMisbehaved(e)), "{model:?}");
            assert!(s.clients[h as usize].error().is_some());
        }
        // `accuser` holds nothing of 5: asked for its agreement with 5, it refuses.
        let ServerMessage::UnmaskRequest(req_a) = msg_for(&msgs, accuser) else {
            panic!()
        };
        assert!(req_a.pairwise.is_empty());
        let mut lie = req_a.clone();
        lie.pairwise = vec![5];
        let (mut s, _, _) = partial_to_unmask(&spec, 5, t - 1);
        assert_eq!(
            s.handle(accuser, ServerMessage::UnmaskRequest(lie)),
            Err(Error::PeerMisbehaved(PeerMisbehaved::PairwiseNotExcluded {
                client: 5
            }))
        );
    }
}

/// Semi-honest (the survivor list is not signed, so the server can shape it): a
/// holder shown exactly `t` neighbors in `U3` plus a requested agreement reveals it; one
/// shown `t - 1` plus the same request aborts with `TooFewNeighbors { got: t - 1 }`: the
/// requested neighbor is not counted as usable.
#[test]
fn a_requested_neighbor_does_not_count_among_the_t_usable_ones() {
    let t = 3;
    let spec = Spec::new(8, t, GraphSpec::Complete, Model::SemiHonest);
    let (_, msgs, holders) = partial_to_unmask(&spec, 5, t - 1);
    let h = holders[0];
    let ServerMessage::UnmaskRequest(req) = msg_for(&msgs, h) else {
        panic!()
    };
    for listed in [t, t - 1] {
        let (mut s, _, _) = partial_to_unmask(&spec, 5, t - 1);
        let mut r = req.clone();
        let others: Vec<ClientId> = r.survivors.iter().copied().filter(|&v| v != h).collect();
        r.survivors = others[..listed].to_vec();
        r.survivors.push(h);
        r.survivors.sort_unstable();
        let got = s.handle(h, ServerMessage::UnmaskRequest(r));
        if listed == t {
            let ClientMessage::UnmaskShares(u) = got.unwrap() else {
                panic!()
            };
            assert_eq!(
                u.pairwise.iter().map(|p| p.peer).collect::<Vec<_>>(),
                vec![5]
            );
        } else {
            assert_eq!(
                got,
                Err(Error::Threshold(ThresholdError::TooFewNeighbors {
                    round: Round::Unmasking,
                    needed: t,
                    got: t - 1,
                }))
            );
        }
    }
}

/// The server's checks of revealed agreements: each for an excluded neighbor whose
/// masks are cancelled pairwise and whose shares the responder holds, once, in place
/// of a share; none missing. A refused message changes nothing. A wrong agreement
/// cannot be detected: it spoils the sum, as a wrong input would.
#[test]
fn the_server_checks_revealed_pairwise_secrets() {
    for model in MODELS {
        let t = if model == Model::Malicious { 4 } else { 3 };
        let spec = Spec::new(8, t, GraphSpec::Complete, model);
        let (mut s, msgs, holders) = partial_to_unmask(&spec, 5, t - 1);
        let h = holders[0];
        clients_answer(&mut s, &msgs, None);
        let Some(ClientMessage::UnmaskShares(good)) = s.outbox[h as usize].take() else {
            panic!()
        };
        assert_eq!(good.pairwise.len(), 1);
        let survivor = good.shares[0].owner;
        let secret = |p: &secagg::protocol::messages::RevealedPairwise, peer| {
            secagg::protocol::messages::RevealedPairwise {
                peer,
                secret: secagg::crypto::keys::SharedSecret::from_bytes(*p.secret.as_bytes()),
            }
        };
        let mut no_pairwise = good.clone();
        no_pairwise.pairwise.clear();
        let mut for_survivor = good.clone();
        for_survivor
            .pairwise
            .push(secret(&good.pairwise[0], survivor));
        for_survivor.pairwise.sort_unstable_by_key(|p| p.peer);
        for_survivor.shares.retain(|x| x.owner != survivor);
        let mut twice = good.clone();
        twice.pairwise.push(good.pairwise[0].clone());
        let mut as_share = good.clone();
        as_share.pairwise.clear();
        let mut fake = good.shares[0].clone();
        fake.owner = 5;
        fake.kind = ShareKind::MaskKey;
        as_share.shares.push(fake);
        as_share.shares.sort_unstable_by_key(|x| x.owner);
        let cases = [
            (no_pairwise, PeerMisbehaved::MissingEntry { client: 5 }),
            (
                for_survivor,
                PeerMisbehaved::WrongShareKind {
                    client: h,
                    owner: survivor,
                },
            ),
            (twice, PeerMisbehaved::DuplicateEntry { client: 5 }),
            (
                as_share,
                PeerMisbehaved::WrongShareKind {
                    client: h,
                    owner: 5,
                },
            ),
        ];
        for (m, e) in cases {
            let before = s.server.to_bytes().unwrap();
            assert_eq!(
                s.server.receive(h, ClientMessage::UnmaskShares(m)),
                Err(Error::PeerMisbehaved(e)),
                "{model:?}"
            );
            assert_eq!(s.server.to_bytes().unwrap(), before);
        }
        // A wrong agreement is accepted and silently spoils the sum.
        let mut wrong = good.clone();
        wrong.pairwise[0].secret = secagg::crypto::keys::SharedSecret::from_bytes([9; 32]);
        s.server
            .receive(h, ClientMessage::UnmaskShares(wrong))
            .unwrap();
        for i in 0..8 {
            if let Some(m) = s.outbox[i].take() {
                s.server.receive(i as ClientId, m).unwrap();
            }
        }
        s.server.close_round().unwrap();
        let out = s.server.output().unwrap();
        let others: Vec<ClientId> = (0..8).filter(|&i| i != 5).collect();
        assert_eq!(out.included, others);
        assert_ne!(out.sums, s.expected(&others), "{model:?}");
    }
}
