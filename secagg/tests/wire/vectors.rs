//! tests/vectors/wire/messages.json: encodings built by an independent Python encoder
//! from docs/wire-format.md. Valid cases decode to exactly the recorded meaning and
//! re-encode byte for byte; invalid cases fail with the recorded error variant.

use std::sync::Arc;

use crate::common::session::{Model, Spec};
use ed25519_dalek::{SigningKey, VerifyingKey};
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage, ShareKind};
use secagg::protocol::params::ThreatModel;
use secagg::protocol::transcript;
use secagg::protocol::Config;
use secagg::ring::{Ring, RingVec};
use secagg::ErrorKind;
use serde_json::{json, Value};

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn build_config(c: &Value) -> Arc<Config> {
    let n = c["n"].as_u64().unwrap() as usize;
    let t = c["t"].as_u64().unwrap() as usize;
    let graph = if c["graph"] == "complete" {
        GraphSpec::Complete
    } else {
        GraphSpec::Harary {
            degree: c["graph"]["harary"].as_u64().unwrap() as usize,
            seed: hex32(&c["graph"]["seed"]),
        }
    };
    let vectors: Vec<(&str, usize, Ring)> = c["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let ring = if let Some(bits) = v["ring"]["pow2"].as_u64() {
                Ring::pow2(bits as u32).unwrap()
            } else {
                Ring::modulus(v["ring"]["modulus"].as_u64().unwrap()).unwrap()
            };
            (
                v["name"].as_str().unwrap(),
                v["dim"].as_u64().unwrap() as usize,
                ring,
            )
        })
        .collect();
    let malicious = c["malicious"].as_bool().unwrap();
    let cfg = if malicious {
        // Explicit keys (RFC 8032 public keys of the listed seeds), checked against the
        // seeds, and the session id the Python generator computed.
        let mut b = Config::builder(n, t)
            .graph(graph)
            .context(hex::decode(c["context"].as_str().unwrap()).unwrap());
        for (name, dim, ring) in &vectors {
            b = b.vector(*name, *dim, *ring);
        }
        let seeds = c["signing_key_seeds"].as_array().unwrap();
        let keys: Vec<VerifyingKey> = c["verifying_keys"]
            .as_array()
            .unwrap()
            .iter()
            .zip(seeds)
            .map(|(k, seed)| {
                let key = VerifyingKey::from_bytes(&hex32(k)).unwrap();
                assert_eq!(SigningKey::from_bytes(&hex32(seed)).verifying_key(), key);
                key
            })
            .collect();
        let cfg = Arc::new(b.malicious(keys).build().unwrap());
        assert_eq!(
            hex::encode(cfg.session_id_preimage()),
            c["session_id_preimage"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(cfg.session_id()),
            c["session_id"].as_str().unwrap()
        );
        cfg
    } else {
        Spec::new(n, t, graph, Model::of(malicious))
            .with_vectors(&vectors)
            .with_context(b"")
            .build()
            .0
    };
    assert_eq!(
        cfg.graph().max_degree() as u64,
        c["max_degree"].as_u64().unwrap()
    );
    cfg
}

/// Every signature a decoded message carries verifies for its signer over the
/// transcript docs/protocol.md gives (config B's are real signatures); returns how many.
fn check_signatures(cfg: &Config, client: Option<u32>, bytes: &[u8]) -> usize {
    let sid = cfg.session_id();
    let verify = |id: u32, t: &[u8], sig: &ed25519_dalek::Signature| {
        cfg.verifying_key(id)
            .unwrap()
            .verify_strict(t, sig)
            .unwrap_or_else(|e| panic!("signature of {id}: {e}"));
        1
    };
    let listed = |t: &[u8], which: &str, id: Option<u32>| {
        let file = crate::common::parse(include_str!("../vectors/wire/messages.json"));
        let st = &file["configs"]["B"]["signed_transcripts"][which];
        let want = match id {
            Some(id) => &st[id.to_string()],
            None => st,
        };
        assert_eq!(hex::encode(t), want.as_str().unwrap(), "{which} {id:?}");
    };
    let verify = |id: u32, t: &[u8], sig: &ed25519_dalek::Signature| {
        listed(
            t,
            if t.starts_with(transcript::ADVERTISE_LABEL) {
                "advertise"
            } else {
                "consistency"
            },
            t.starts_with(transcript::ADVERTISE_LABEL).then_some(id),
        );
        verify(id, t, sig)
    };
    match client {
        Some(from) => match ClientMessage::decode(cfg, from, bytes).unwrap() {
            ClientMessage::AdvertiseKeys(m) => m.signature.as_ref().map_or(0, |s| {
                verify(
                    from,
                    &transcript::advertise(sid, from, &m.enc_pk, &m.mask_pk),
                    s,
                )
            }),
            ClientMessage::ConsistencySignature(m) => verify(
                from,
                &transcript::consistency(sid, &B_SURVIVORS),
                &m.signature,
            ),
            _ => 0,
        },
        None => match ServerMessage::decode(cfg, bytes).unwrap() {
            ServerMessage::KeyList(m) => m
                .entries
                .iter()
                .filter_map(|e| {
                    let keys = &e.keys;
                    keys.signature.as_ref().map(|s| {
                        verify(
                            e.id,
                            &transcript::advertise(sid, e.id, &keys.enc_pk, &keys.mask_pk),
                            s,
                        )
                    })
                })
                .sum(),
            ServerMessage::UnmaskRequest(m) => {
                let t = transcript::consistency(sid, &m.survivors);
                m.signatures
                    .iter()
                    .map(|s| verify(s.id, &t, &s.signature))
                    .sum()
            }
            _ => 0,
        },
    }
}

/// The survivor set config B's consistency signatures sign.
const B_SURVIVORS: [u32; 7] = [0, 1, 2, 5, 7, 9, 11];

fn words(v: &RingVec) -> Value {
    json!(v.to_u64s())
}

fn sig_json(s: &ed25519_dalek::Signature) -> Value {
    json!(hex::encode(s.to_bytes()))
}

fn adv_json(m: &secagg::protocol::messages::AdvertiseKeys) -> [(String, Value); 3] {
    [
        ("enc_pk".into(), json!(hex::encode(m.enc_pk.as_bytes()))),
        ("mask_pk".into(), json!(hex::encode(m.mask_pk.as_bytes()))),
        (
            "signature".into(),
            m.signature.as_ref().map_or(Value::Null, sig_json),
        ),
    ]
}

fn client_json(m: &ClientMessage, from: u32) -> Value {
    match m {
        ClientMessage::AdvertiseKeys(a) => {
            let mut o = serde_json::Map::from_iter(adv_json(a));
            o.insert("type".into(), json!("AdvertiseKeys"));
            Value::Object(o)
        }
        ClientMessage::ShareKeys(s) => json!({
            "type": "ShareKeys",
            "shares": s.shares.iter().map(|e| json!({
                "to": e.to, "ciphertext": hex::encode(&e.ciphertext)
            })).collect::<Vec<_>>()
        }),
        ClientMessage::MaskedInput(mi) => json!({
            "type": "MaskedInput",
            "accused": mi.accused,
            "vectors": mi.vectors.iter().map(words).collect::<Vec<_>>()
        }),
        ClientMessage::ConsistencySignature(c) => json!({
            "type": "ConsistencySignature", "signature": sig_json(&c.signature)
        }),
        ClientMessage::UnmaskShares(u) => json!({
            "type": "UnmaskShares",
            "shares": u.shares.iter().map(|s| {
                assert_eq!(s.share.x(), u64::from(from) + 1, "point is sender + 1");
                json!({
                    "owner": s.owner,
                    "kind": match s.kind {
                        ShareKind::SelfMask => "SelfMask",
                        ShareKind::MaskKey => "MaskKey",
                        ShareKind::PairwiseSecret => panic!("a pairwise agreement decoded as a share"),
                    },
                    "value": hex::encode(*s.share.y_bytes()),
                })
            }).collect::<Vec<_>>(),
            "pairwise": u.pairwise.iter().map(|p| json!({
                "peer": p.peer, "secret": hex::encode(p.secret.as_bytes()),
            })).collect::<Vec<_>>()
        }),
    }
}

fn server_json(m: &ServerMessage) -> Value {
    match m {
        ServerMessage::KeyList(k) => json!({
            "type": "KeyList",
            "entries": k.entries.iter().map(|e| {
                let mut o = serde_json::Map::from_iter(adv_json(&e.keys));
                o.insert("id".into(), json!(e.id));
                Value::Object(o)
            }).collect::<Vec<_>>()
        }),
        ServerMessage::RoutedShares(r) => json!({
            "type": "RoutedShares",
            "shares": r.shares.iter().map(|e| json!({
                "from": e.from, "ciphertext": hex::encode(&e.ciphertext)
            })).collect::<Vec<_>>()
        }),
        ServerMessage::ConsistencyRequest(c) => json!({
            "type": "ConsistencyRequest", "survivors": c.survivors
        }),
        ServerMessage::UnmaskRequest(u) => json!({
            "type": "UnmaskRequest",
            "survivors": u.survivors,
            "signatures": u.signatures.iter().map(|s| json!({
                "id": s.id, "signature": sig_json(&s.signature)
            })).collect::<Vec<_>>(),
            "pairwise": u.pairwise,
        }),
    }
}

#[test]
fn wire_vectors() {
    let file = crate::common::parse(include_str!("../vectors/wire/messages.json"));
    assert_eq!(file["protocol_version"], 3);
    let configs: std::collections::BTreeMap<String, Arc<Config>> = file["configs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), build_config(v)))
        .collect();
    let (mut valid, mut invalid, mut signatures) = (0, 0, 0);
    for t in crate::common::tests(&file) {
        let tc = crate::common::tc(t);
        let cfg = &configs[crate::common::str_field(t, "config")];
        let from = crate::common::u32_field(t, "from");
        let bytes = crate::common::bytes(t, "hex");
        let client = crate::common::str_field(t, "direction") == "client";
        let decoded = if client {
            ClientMessage::decode(cfg, from, &bytes).map(|m| {
                let again = m.encode(cfg).unwrap();
                (client_json(&m, from), again)
            })
        } else {
            ServerMessage::decode(cfg, &bytes).map(|m| (server_json(&m), m.encode(cfg).unwrap()))
        };
        match crate::common::str_field(t, "result") {
            "valid" => {
                let (meaning, again) = decoded.unwrap_or_else(|e| panic!("tc {tc}: {e:?}"));
                assert_eq!(meaning, t["message"], "tc {tc}: decoded meaning");
                assert_eq!(again, bytes, "tc {tc}: re-encoding");
                if cfg.threat_model() == ThreatModel::Malicious {
                    signatures += check_signatures(cfg, client.then_some(from), &bytes);
                }
                valid += 1;
            }
            _ => {
                let e = decoded.err().unwrap_or_else(|| panic!("tc {tc}: decoded"));
                let want = crate::common::str_field(t, "error");
                assert_eq!(e.name(), want, "tc {tc}: expected {want}, got {e:?}");
                assert_eq!(e.kind(), ErrorKind::Encoding, "tc {tc}");
                invalid += 1;
            }
        }
    }
    assert_eq!((valid, invalid), (17, 41));
    // AdvertiseKeys, ConsistencySignature, five KeyList entries, two in the UnmaskRequest.
    assert_eq!(signatures, 9);
}
