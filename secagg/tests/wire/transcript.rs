//! Session-level known answers: tests/vectors/transcript.json holds three complete,
//! deterministic sessions (n = 5, client 4 drops after ShareKeys; SecAgg semi-honest,
//! SecAgg malicious, SecAgg+ semi-honest), every message's bytes in order, the session
//! id, each client's secrets and the output sum (layout and derivations in
//! docs/wire-format.md, "Session transcripts").
//!
//! `generated_transcripts_match` reruns the sessions with the documented seeds and
//! compares the result with the committed file byte for byte; `SECAGG_WRITE_VECTORS=1
//! cargo test --release -p secagg --test wire transcript` rewrites it instead.
//! `transcripts_check_from_the_json_alone` uses nothing but the file: it rebuilds the
//! configuration from its fields (session id and preimage), decodes and re-encodes every
//! message, checks each public key against the listed secret, verifies every signature
//! over its transcript, recomputes every masked input from the listed input and secrets
//! and the keys in the key lists, opens every sealed share and reconstructs each
//! client's secrets from the shares it dealt, checks every revealed share against the
//! opened one, replays the client messages into a fresh server (which draws no
//! randomness) and compares its messages, stored states and output, checks every stored
//! client state, and recomputes the sum from the listed inputs.

use std::sync::Arc;

use ed25519_dalek::{SigningKey, VerifyingKey};
use secagg::crypto::aead::{open, AssociatedData};
use secagg::crypto::kdf::{pairwise_mask_seed, self_mask_seed, share_key};
use secagg::crypto::keys::{PublicKey, SecretKey};
use secagg::crypto::prg::{expand_add, Sign};
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::shamir::{reconstruct, SecretScalar, Share};
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage, ShareKind};
use secagg::protocol::params::ThreatModel;
use secagg::protocol::{transcript, Client, Config, Server};
use secagg::ring::{Ring, RingVec};
use secagg::{ClientId, Round};
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/transcript.json");
const N: usize = 5;
const DIM: usize = 3;
const BITS: u32 = 16;
const CONTEXT: &[u8] = b"secagg transcript vectors";
/// Client 4 sends AdvertiseKeys and ShareKeys, then nothing.
const DROPPED: ClientId = 4;

struct Case {
    name: &'static str,
    graph: GraphSpec,
    threshold: usize,
    malicious: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "secagg-semi-honest",
            graph: GraphSpec::Complete,
            threshold: 3,
            malicious: false,
        },
        Case {
            name: "secagg-malicious",
            graph: GraphSpec::Complete,
            threshold: 3,
            malicious: true,
        },
        Case {
            name: "secagg+-semi-honest",
            graph: GraphSpec::Harary {
                degree: 3,
                seed: [7; 32],
            },
            threshold: 2,
            malicious: false,
        },
    ]
}

/// Client `i`'s randomness: `seeded_rng([0x10 + i; 32])`.
fn rng_seed(i: usize) -> [u8; 32] {
    [0x10 + i as u8; 32]
}

/// Client `i`'s Ed25519 secret seed (malicious model): `[0x40 + i; 32]`.
fn signing_seed(i: usize) -> [u8; 32] {
    [0x40 + i as u8; 32]
}

/// Client `i`'s input: word `j` is `1000·(i + 1) + 7·j`.
fn input_words(i: usize) -> Vec<u64> {
    (0..DIM).map(|j| (1000 * (i + 1) + 7 * j) as u64).collect()
}

fn ring() -> Ring {
    Ring::pow2(BITS).unwrap()
}

fn config(graph: &GraphSpec, t: usize, keys: Option<Vec<VerifyingKey>>) -> Arc<Config> {
    let b = Config::builder(N, t)
        .graph(graph.clone())
        .vector("", DIM, ring())
        .context(CONTEXT.to_vec());
    let b = match keys {
        Some(k) => b.malicious(k),
        None => b,
    };
    Arc::new(b.build().unwrap())
}

fn hex(b: &[u8]) -> Value {
    json!(::hex::encode(b))
}

fn graph_json(g: &GraphSpec) -> Value {
    match g {
        GraphSpec::Complete => json!("complete"),
        GraphSpec::Harary { degree, seed } => {
            json!({"harary": degree, "seed": ::hex::encode(seed)})
        }
    }
}

/// Runs one case with the documented seeds and returns its JSON.
fn generate(case: &Case) -> Value {
    let keys: Option<Vec<SigningKey>> = case.malicious.then(|| {
        (0..N)
            .map(|i| SigningKey::from_bytes(&signing_seed(i)))
            .collect()
    });
    let cfg = config(
        &case.graph,
        case.threshold,
        keys.as_ref()
            .map(|k| k.iter().map(SigningKey::verifying_key).collect()),
    );
    let mut rngs: Vec<_> = (0..N).map(|i| seeded_rng(rng_seed(i))).collect();
    let mut clients = Vec::new();
    let mut outbox = Vec::new();
    let mut secrets = Vec::new();
    for i in 0..N {
        let input = vec![RingVec::from_u64s(&ring(), &input_words(i))];
        let key = keys.as_ref().map(|k| k[i].clone());
        let (c, m) =
            Client::new(Arc::clone(&cfg), i as ClientId, input, key, &mut rngs[i]).unwrap();
        // KeysAdvertised state: header 2, state 1, sid 32, id 4, signing key 32
        // (malicious), inputs P = 6, then enc_sk, mask_sk, self-mask secret.
        let state = c.to_bytes().unwrap();
        let at = 2 + 1 + 32 + 4 + if case.malicious { 32 } else { 0 } + 6;
        secrets.push(json!({
            "enc_sk": hex(&state[at..at + 32]),
            "mask_sk": hex(&state[at + 32..at + 64]),
            "self_mask_secret": hex(&state[at + 64..at + 96]),
        }));
        clients.push(Some(c));
        outbox.push(Some(m));
    }
    let mut server = Server::new(Arc::clone(&cfg));
    let mut messages = Vec::new();
    let mut client_states = Vec::new();
    let mut server_states = Vec::new();
    loop {
        for (i, m) in outbox.iter_mut().enumerate() {
            let id = i as ClientId;
            if let Some(m) = m.take() {
                if id == DROPPED && m.round() >= Round::MaskedInputCollection {
                    clients[i] = None;
                    continue;
                }
                messages.push(json!({
                    "round": m.round().number(), "direction": "client", "id": id,
                    "hex": hex(&m.encode(&cfg).unwrap()),
                }));
                let state = clients[i].as_ref().unwrap().to_bytes().unwrap();
                client_states.push(json!({
                    "id": id, "after_round": m.round().number(), "hex": hex(&state),
                }));
                server.receive(id, m).unwrap();
            }
        }
        let replies = server.close_round().unwrap();
        server_states.push(hex(&server.to_bytes().unwrap()));
        if replies.is_empty() {
            break;
        }
        for (id, msg) in replies {
            messages.push(json!({
                "round": msg.round().number(), "direction": "server", "id": id,
                "hex": hex(&msg.encode(&cfg).unwrap()),
            }));
            if let Some(c) = clients[id as usize].as_mut() {
                outbox[id as usize] = Some(c.handle(msg, &mut rngs[id as usize]).unwrap());
            }
        }
    }
    let out = server.output().unwrap().clone();
    json!({
        "name": case.name,
        "n": N,
        "t": case.threshold,
        "graph": graph_json(&case.graph),
        "threat": if case.malicious { "malicious" } else { "semi-honest" },
        "vectors": [{"name": "", "dim": DIM, "ring": {"pow2": BITS}}],
        "context": hex(CONTEXT),
        "signing_key_seeds": (0..N).filter(|_| case.malicious).map(|i| hex(&signing_seed(i))).collect::<Vec<_>>(),
        "verifying_keys": keys.iter().flatten().map(|k| hex(k.verifying_key().as_bytes())).collect::<Vec<_>>(),
        "session_id_preimage": hex(&cfg.session_id_preimage()),
        "session_id": hex(cfg.session_id()),
        "client_rng_seeds": (0..N).map(|i| hex(&rng_seed(i))).collect::<Vec<_>>(),
        "inputs": (0..N).map(|i| json!([input_words(i)])).collect::<Vec<_>>(),
        "dropped": {"id": DROPPED, "before_round": Round::MaskedInputCollection.number()},
        "client_secrets": secrets,
        "messages": messages,
        "client_states": client_states,
        "server_states": server_states,
        "included": out.included,
        "sums": out.sums.iter().map(RingVec::to_u64s).collect::<Vec<_>>(),
    })
}

fn generate_all() -> String {
    let doc = json!({
        "about": "Deterministic complete sessions, every message in order (docs/wire-format.md, \
                  \"Session transcripts\"); generated by secagg/tests/wire/transcript.rs \
                  (SECAGG_WRITE_VECTORS=1 cargo test --release -p secagg --test wire transcript)",
        "protocol_version": 1,
        "tests": cases().iter().enumerate().map(|(i, c)| {
            let mut v = generate(c);
            v["tcId"] = json!(i + 1);
            v
        }).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

#[test]
fn generated_transcripts_match() {
    let generated = generate_all();
    if std::env::var_os("SECAGG_WRITE_VECTORS").is_some() {
        std::fs::write(PATH, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(PATH).unwrap();
    assert!(
        committed == generated,
        "tests/vectors/transcript.json differs from the generated transcripts \
         (SECAGG_WRITE_VECTORS=1 rewrites it)"
    );
}

/// A client's shares of one neighbor's secrets: (mask-key share, self-mask share).
type SharePair = ([u8; 32], [u8; 32]);

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn arr32(v: &Value) -> [u8; 32] {
    ::hex::decode(s(v)).unwrap().try_into().unwrap()
}

fn u(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

#[test]
fn transcripts_check_from_the_json_alone() {
    let file = crate::common::parse(&std::fs::read_to_string(PATH).unwrap());
    let tests = crate::common::tests(&file);
    assert_eq!(tests.len(), 3);
    for t in tests {
        let name = s(&t["name"]);
        let n = u(&t["n"]);
        let graph = if t["graph"] == "complete" {
            GraphSpec::Complete
        } else {
            GraphSpec::Harary {
                degree: u(&t["graph"]["harary"]),
                seed: arr32(&t["graph"]["seed"]),
            }
        };
        let malicious = s(&t["threat"]) == "malicious";
        let vk: Vec<VerifyingKey> = t["verifying_keys"]
            .as_array()
            .unwrap()
            .iter()
            .zip(t["signing_key_seeds"].as_array().unwrap())
            .map(|(k, seed)| {
                let k = VerifyingKey::from_bytes(&arr32(k)).unwrap();
                assert_eq!(SigningKey::from_bytes(&arr32(seed)).verifying_key(), k);
                k
            })
            .collect();
        assert_eq!(vk.len(), if malicious { n } else { 0 }, "{name}");
        let ring = Ring::pow2(u(&t["vectors"][0]["ring"]["pow2"]) as u32).unwrap();
        let dim = u(&t["vectors"][0]["dim"]);
        let mut b = Config::builder(n, u(&t["t"]))
            .graph(graph)
            .vector(s(&t["vectors"][0]["name"]), dim, ring)
            .context(::hex::decode(s(&t["context"])).unwrap());
        if malicious {
            b = b.malicious(vk);
        }
        let cfg = b.build().unwrap();
        assert_eq!(cfg.threat_model() == ThreatModel::Malicious, malicious);
        assert_eq!(
            ::hex::encode(cfg.session_id_preimage()),
            s(&t["session_id_preimage"])
        );
        assert_eq!(
            ::hex::encode(cfg.session_id()),
            s(&t["session_id"]),
            "{name}"
        );
        let sid = *cfg.session_id();
        let inputs: Vec<Vec<u64>> = t["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v[0].as_array()
                    .unwrap()
                    .iter()
                    .map(|w| w.as_u64().unwrap())
                    .collect()
            })
            .collect();
        let secret = |id: usize, key: &str| arr32(&t["client_secrets"][id][key]);

        let mut server = Server::new(Arc::new(cfg.clone()));
        let mut server_states = t["server_states"].as_array().unwrap().iter();
        check_client_states(&cfg, &t["client_states"], name);
        let mut pending_replies: Vec<(ClientId, Vec<u8>)> = Vec::new();
        let mut key_lists: Vec<Vec<(ClientId, PublicKey)>> = vec![Vec::new(); n];
        let mut routed_from: Vec<Vec<ClientId>> = vec![Vec::new(); n];
        let mut prev_client = true;
        // held[holder][owner] = (mask-key share, self-mask share), from the opened
        // ShareKeys ciphertexts.
        let mut held: Vec<Vec<Option<SharePair>>> = vec![vec![None; n]; n];
        let mut revealed = 0;
        let mut signatures = 0;
        let mut masked = 0;
        let verify = |id: ClientId, m: &[u8], sig: &ed25519_dalek::Signature| {
            cfg.verifying_key(id)
                .unwrap()
                .verify_strict(m, sig)
                .unwrap();
        };
        for m in t["messages"].as_array().unwrap() {
            let id = u(&m["id"]) as ClientId;
            let bytes = ::hex::decode(s(&m["hex"])).unwrap();
            let round = u(&m["round"]);
            if s(&m["direction"]) == "client" {
                assert!(
                    pending_replies.is_empty(),
                    "{name}: missing server messages"
                );
                prev_client = true;
                let msg = ClientMessage::decode(&cfg, id, &bytes).unwrap();
                assert_eq!(msg.encode(&cfg).unwrap(), bytes, "{name}");
                assert_eq!(usize::from(msg.round().number()), round);
                match &msg {
                    ClientMessage::AdvertiseKeys(a) => {
                        let enc = SecretKey::from_bytes(secret(id as usize, "enc_sk"));
                        let mask = SecretKey::from_bytes(secret(id as usize, "mask_sk"));
                        assert_eq!(enc.public_key(), a.enc_pk, "{name} {id}");
                        assert_eq!(mask.public_key(), a.mask_pk, "{name} {id}");
                        if let Some(sg) = &a.signature {
                            verify(
                                id,
                                &transcript::advertise(&sid, id, &a.enc_pk, &a.mask_pk),
                                sg,
                            );
                            signatures += 1;
                        }
                    }
                    ClientMessage::MaskedInput(mi) => {
                        // y_u = x_u + PRG(self seed) + Σ_{v ∈ U2(u)} ±PRG(pairwise seed),
                        // + for v > u, − for v < u (docs/protocol.md, round 2); U2(u) =
                        // the senders of u's RoutedShares, their keys from u's KeyList.
                        let mut y = RingVec::from_u64s(&ring, &inputs[id as usize]);
                        let b_u = SecretScalar::from_canonical_bytes(&secret(
                            id as usize,
                            "self_mask_secret",
                        ))
                        .unwrap();
                        let self_seed = self_mask_seed(&b_u, &sid, id, b"").unwrap();
                        let mask = SecretKey::from_bytes(secret(id as usize, "mask_sk"));
                        let mut seeds = Vec::new();
                        for v in &routed_from[id as usize] {
                            let (_, pk) =
                                key_lists[id as usize].iter().find(|(w, _)| w == v).unwrap();
                            let shared = mask.agree(pk).unwrap();
                            let seed = pairwise_mask_seed(&shared, &sid, id, *v, b"").unwrap();
                            seeds.push((seed, if *v > id { Sign::Plus } else { Sign::Minus }));
                        }
                        let mut masks = vec![(&self_seed, Sign::Plus)];
                        masks.extend(seeds.iter().map(|(s, sign)| (s, *sign)));
                        expand_add(&ring, &masks, &mut y).unwrap();
                        assert_eq!(mi.vectors[0], y, "{name}: masked input of {id}");
                        masked += 1;
                    }
                    ClientMessage::ShareKeys(sk) => {
                        // Each ciphertext opens for its recipient (docs/protocol.md, round
                        // 1) to (u, v, mask-key share, self-mask share).
                        let enc_pk =
                            SecretKey::from_bytes(secret(id as usize, "enc_sk")).public_key();
                        for e in &sk.shares {
                            let v = e.to;
                            let mine = SecretKey::from_bytes(secret(v as usize, "enc_sk"));
                            let key = share_key(&mine.agree(&enc_pk).unwrap(), &sid, id, v);
                            let ad = AssociatedData {
                                session_id: sid,
                                round: 1,
                                sender: id,
                                receiver: v,
                            };
                            let pt = open(&key, &ad, &e.ciphertext).unwrap();
                            assert_eq!(pt.len(), 72);
                            assert_eq!(&pt[..4], id.to_be_bytes());
                            assert_eq!(&pt[4..8], v.to_be_bytes());
                            held[v as usize][id as usize] = Some((
                                pt[8..40].try_into().unwrap(),
                                pt[40..72].try_into().unwrap(),
                            ));
                        }
                    }
                    ClientMessage::UnmaskShares(us) => {
                        // Each revealed share is the one the sender opened, of b_v for an
                        // included owner and of mask_sk_v otherwise.
                        for r in &us.shares {
                            let (mask, b) = held[id as usize][r.owner as usize].unwrap();
                            let want = match r.kind {
                                ShareKind::SelfMask => b,
                                ShareKind::MaskKey => mask,
                                ShareKind::PairwiseSecret => panic!("{name}: a share of kind 2"),
                            };
                            assert_eq!(r.share.x(), u64::from(id) + 1);
                            assert_eq!(
                                *r.share.y_bytes(),
                                want,
                                "{name}: {id} reveals {}",
                                r.owner
                            );
                            revealed += 1;
                        }
                    }
                    ClientMessage::ConsistencySignature(c) => {
                        let u3 = server_u3(&t["messages"]);
                        verify(id, &transcript::consistency(&sid, &u3), &c.signature);
                        signatures += 1;
                    }
                }
                server.receive(id, msg).unwrap();
            } else {
                // The server's messages of a round come out of close_round, in order.
                if prev_client {
                    prev_client = false;
                    pending_replies = server
                        .close_round()
                        .unwrap()
                        .into_iter()
                        .map(|(id, m)| (id, m.encode(&cfg).unwrap()))
                        .collect();
                    pending_replies.reverse();
                    server = stored_and_restored(&cfg, &server, server_states.next(), name);
                }
                let (want_id, want) = pending_replies.pop().expect("a server message too many");
                assert_eq!((want_id, &want), (id, &bytes), "{name}: server message");
                let msg = ServerMessage::decode(&cfg, &bytes).unwrap();
                assert_eq!(msg.encode(&cfg).unwrap(), bytes, "{name}");
                match &msg {
                    ServerMessage::RoutedShares(r) => {
                        routed_from[id as usize] = r.shares.iter().map(|e| e.from).collect();
                    }
                    ServerMessage::KeyList(k) => {
                        key_lists[id as usize] =
                            k.entries.iter().map(|e| (e.id, e.keys.mask_pk)).collect();
                        for e in &k.entries {
                            if let Some(sg) = &e.keys.signature {
                                let tr = transcript::advertise(
                                    &sid,
                                    e.id,
                                    &e.keys.enc_pk,
                                    &e.keys.mask_pk,
                                );
                                verify(e.id, &tr, sg);
                                signatures += 1;
                            }
                        }
                    }
                    ServerMessage::UnmaskRequest(r) => {
                        let tr = transcript::consistency(&sid, &r.survivors);
                        for sg in &r.signatures {
                            verify(sg.id, &tr, &sg.signature);
                            signatures += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(pending_replies.is_empty(), "{name}");
        // The last client round: the server's output.
        assert!(server.close_round().unwrap().is_empty());
        server = stored_and_restored(&cfg, &server, server_states.next(), name);
        assert!(
            server_states.next().is_none(),
            "{name}: a server state too many"
        );
        let out = server.output().unwrap();
        let included: Vec<ClientId> = t["included"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as ClientId)
            .collect();
        assert_eq!(out.included, included, "{name}");
        assert!(!included.contains(&DROPPED));
        let sums: Vec<u64> = t["sums"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(out.sums[0].to_u64s(), sums, "{name}");
        // The sum from the listed inputs, mod 2^b.
        let plain: Vec<u64> = (0..dim)
            .map(|j| included.iter().map(|&i| inputs[i as usize][j]).sum::<u64>() % (1 << 16))
            .collect();
        assert_eq!(plain, sums, "{name}");
        assert_eq!(masked, n - 1, "{name}");
        assert!(revealed > 0, "{name}");
        // The shares each client dealt reconstruct its listed secrets.
        let t_ = u(&t["t"]);
        for owner in 0..n {
            let (mut mask, mut b) = (Vec::new(), Vec::new());
            for (holder, row) in held.iter().enumerate() {
                if let Some((m, s)) = row[owner] {
                    mask.push(Share::from_bytes(holder as u64 + 1, &m).unwrap());
                    b.push(Share::from_bytes(holder as u64 + 1, &s).unwrap());
                }
            }
            let mask_sk = reconstruct(&mask, t_).unwrap();
            assert_eq!(
                *mask_sk.to_bytes(),
                secret(owner, "mask_sk"),
                "{name}: {owner}"
            );
            let b_u = reconstruct(&b, t_).unwrap();
            assert_eq!(
                *b_u.to_bytes(),
                secret(owner, "self_mask_secret"),
                "{name}: {owner}"
            );
        }
        if malicious {
            assert!(signatures > 0, "{name}");
        }
    }
}

/// U3 of a transcript: the survivor set of its first UnmaskRequest or ConsistencyRequest.
fn server_u3(messages: &Value) -> Vec<ClientId> {
    let cfg_free = messages
        .as_array()
        .unwrap()
        .iter()
        .find(|m| s(&m["direction"]) == "server" && u(&m["round"]) == 3)
        .unwrap();
    let bytes = ::hex::decode(s(&cfg_free["hex"])).unwrap();
    // 01 83 || id set (n = 5: one byte, MSB = client 0).
    (0..5u32).filter(|&i| bytes[2] & (0x80 >> i) != 0).collect()
}

/// The server's stored state equals the recorded one, and the server restored from it
/// carries on.
fn stored_and_restored(cfg: &Config, server: &Server, want: Option<&Value>, name: &str) -> Server {
    let want = ::hex::decode(s(want.expect("a server state too few"))).unwrap();
    assert_eq!(server.to_bytes().unwrap(), want, "{name}: server state");
    // Header 01 f1, session id, round, status, then the four id sets (N = 1 byte each).
    assert_eq!(&want[..2], &[0x03, 0xf1]);
    assert_eq!(&want[2..34], cfg.session_id());
    if want[35] == 1 {
        // Completed: round 4, `received` empty, `included` = the output's set.
        assert_eq!(want[34], 4, "{name}");
        assert_eq!(
            want[37], 0,
            "{name}: completed server with received clients"
        );
        let included: u8 = server
            .output()
            .unwrap()
            .included
            .iter()
            .map(|&i| 0x80 >> i)
            .sum();
        assert_eq!(want[39], included, "{name}");
    }
    Server::from_bytes(Arc::new(cfg.clone()), &want).unwrap()
}

/// Every recorded client state decodes and re-encodes, with the documented header.
fn check_client_states(cfg: &Config, states: &Value, name: &str) {
    let cfg = Arc::new(cfg.clone());
    let states = states.as_array().unwrap();
    assert!(!states.is_empty());
    for st in states {
        let bytes = ::hex::decode(s(&st["hex"])).unwrap();
        let id = u(&st["id"]) as u32;
        let round = u(&st["after_round"]);
        assert_eq!(&bytes[..2], &[0x03, 0xf0]);
        // State byte: 0 KeysAdvertised .. 4 Completed, after sending the round's message.
        assert_eq!(usize::from(bytes[2]), round, "{name} {id}");
        if round < 4 {
            assert_eq!(&bytes[3..35], cfg.session_id());
            assert_eq!(&bytes[35..39], id.to_be_bytes());
        }
        let c = Client::from_bytes(Arc::clone(&cfg), &bytes).unwrap();
        assert_eq!(
            &c.to_bytes().unwrap()[..],
            &bytes[..],
            "{name} {id} {round}"
        );
    }
}
