//! tests/vectors/wire/messages.json: encodings built by an independent Python encoder
//! from docs/wire-format.md. Valid cases decode to exactly the recorded meaning and
//! re-encode byte for byte; invalid cases fail with the recorded error variant.

use std::sync::Arc;

use crate::common::session::{Model, Spec};
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage, ShareKind};
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
    let mut spec = Spec::new(n, t, graph, Model::of(malicious))
        .with_vectors(&vectors)
        .with_context(b"");
    if malicious {
        spec = spec.with_key_seed(hex32(&c["signing_key_seed"]));
    }
    let (cfg, _) = spec.build();
    assert_eq!(
        cfg.graph().max_degree() as u64,
        c["max_degree"].as_u64().unwrap()
    );
    cfg
}

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
                    "kind": match s.kind { ShareKind::SelfMask => "SelfMask", ShareKind::MaskKey => "MaskKey" },
                    "value": hex::encode(*s.share.y_bytes()),
                })
            }).collect::<Vec<_>>()
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
            })).collect::<Vec<_>>()
        }),
    }
}

#[test]
fn wire_vectors() {
    let file = crate::common::parse(include_str!("../vectors/wire/messages.json"));
    assert_eq!(file["protocol_version"], 1);
    let configs: std::collections::BTreeMap<String, Arc<Config>> = file["configs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), build_config(v)))
        .collect();
    let (mut valid, mut invalid) = (0, 0);
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
    assert_eq!((valid, invalid), (14, 26));
}
