//! Bytes on the wire per client and per round, measured by encoding messages of the
//! exact shape a session without drop-outs exchanges (contents do not change sizes).
//!
//! `cargo run --release --example wire_sizes` prints the tables of
//! `docs/benchmarks.md` ("Communication"): n = 1000, d = 10^6, b = 16 and 32, the
//! complete graph and the sparse graph that `find_params` picks (δ = γ = 5%), both
//! threat models; then Bonawitz et al.'s setting (2^10 clients, 2^20 16-bit inputs in
//! a 26-bit ring).

use ed25519_dalek::Signature;
use secagg::crypto::keys::PublicKey;
use secagg::crypto::shamir::{eval_point, Share};
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::SEALED_SHARES_LEN;
use secagg::protocol::messages::{
    AdvertiseKeys, ClientMessage, ConsistencyRequest, ConsistencySignature, KeyEntry, KeyList,
    MaskedInput, RevealedShare, RoutedCiphertext, RoutedShares, SealedShares, ServerMessage,
    ShareKeys, ShareKind, SurvivorSignature, UnmaskRequest, UnmaskShares,
};
use secagg::protocol::params::{find_params, ParamQuery, ThreatModel};
use secagg::protocol::Config;
use secagg::ring::{Ring, RingVec};
use secagg::sim;
use secagg::{ClientId, Round};

struct Row {
    round: Round,
    sent: usize,
    received: usize,
}

/// Per round: what client 0 sends and receives (the server message that opens the
/// round counts in that round).
fn rows(cfg: &Config) -> Vec<Row> {
    let n = cfg.n();
    let me: ClientId = 0;
    let nb: Vec<ClientId> = cfg.graph().neighbors(me).to_vec();
    let sig = cfg.is_malicious().then(|| Signature::from_bytes(&[0; 64]));
    let keys = |id: ClientId| AdvertiseKeys {
        enc_pk: PublicKey::from_bytes([(id % 100) as u8; 32]),
        mask_pk: PublicKey::from_bytes([(id % 100) as u8 + 1; 32]),
        signature: sig,
    };
    let mut with_me = nb.clone();
    with_me.push(me);
    with_me.sort_unstable();
    let all: Vec<ClientId> = (0..n as ClientId).collect();
    let share = |_owner: ClientId| Share::from_bytes(eval_point(me), &[1; 32]).unwrap();
    let c = |m: ClientMessage| m.encode(cfg).unwrap().len();
    let s = |m: ServerMessage| m.encode(cfg).unwrap().len();
    let mut out = vec![Row {
        round: Round::AdvertiseKeys,
        sent: c(ClientMessage::AdvertiseKeys(keys(me))),
        received: 0,
    }];
    out.push(Row {
        round: Round::ShareKeys,
        received: s(ServerMessage::KeyList(KeyList {
            entries: with_me
                .iter()
                .map(|&id| KeyEntry { id, keys: keys(id) })
                .collect(),
        })),
        sent: c(ClientMessage::ShareKeys(ShareKeys {
            shares: nb
                .iter()
                .map(|&to| SealedShares {
                    to,
                    ciphertext: vec![0; SEALED_SHARES_LEN],
                })
                .collect(),
        })),
    });
    out.push(Row {
        round: Round::MaskedInputCollection,
        received: s(ServerMessage::RoutedShares(RoutedShares {
            shares: nb
                .iter()
                .map(|&from| RoutedCiphertext {
                    from,
                    ciphertext: vec![0; SEALED_SHARES_LEN],
                })
                .collect(),
        })),
        sent: c(ClientMessage::MaskedInput(MaskedInput {
            accused: vec![],
            vectors: cfg
                .vectors()
                .iter()
                .map(|v| RingVec::zeros(&v.ring, v.dim))
                .collect(),
        })),
    });
    if cfg.is_malicious() {
        out.push(Row {
            round: Round::ConsistencyCheck,
            received: s(ServerMessage::ConsistencyRequest(ConsistencyRequest {
                survivors: all.clone(),
            })),
            sent: c(ClientMessage::ConsistencySignature(ConsistencySignature {
                signature: Signature::from_bytes(&[0; 64]),
            })),
        });
    }
    out.push(Row {
        round: Round::Unmasking,
        received: s(ServerMessage::UnmaskRequest(UnmaskRequest {
            survivors: all,
            signatures: if cfg.is_malicious() {
                nb.iter()
                    .map(|&id| SurvivorSignature {
                        id,
                        signature: Signature::from_bytes(&[0; 64]),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            pairwise: Vec::new(),
        })),
        sent: c(ClientMessage::UnmaskShares(UnmaskShares {
            shares: nb
                .iter()
                .map(|&owner| RevealedShare {
                    owner,
                    kind: ShareKind::SelfMask,
                    share: share(owner),
                })
                .collect(),
            pairwise: Vec::new(),
        })),
    });
    out
}

fn config(n: usize, t: usize, graph: GraphSpec, malicious: bool, d: usize, ring: Ring) -> Config {
    let mut b = Config::builder(n, t).graph(graph).vector("", d, ring);
    if malicious {
        b = b.malicious(
            sim::signing_keys(n, [1; 32])
                .iter()
                .map(|k| k.verifying_key())
                .collect(),
        );
    }
    b.build().unwrap()
}

fn report(title: &str, cfg: &Config, clear_bits: usize) -> (usize, usize) {
    let n = cfg.n();
    let k = cfg.graph().max_degree();
    let rows = rows(cfg);
    let model = if cfg.is_malicious() {
        "malicious"
    } else {
        "semi-honest"
    };
    println!(
        "\n#### {title}: n = {n}, k = {k}, t = {}, {model}\n",
        cfg.threshold()
    );
    println!("| round | client sends | client receives | server receives | server sends |");
    println!("|---|--:|--:|--:|--:|");
    let (mut sent, mut recv) = (0, 0);
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.round,
            r.sent,
            r.received,
            r.sent * n,
            r.received * n
        );
        sent += r.sent;
        recv += r.received;
    }
    println!(
        "| **total** | **{sent}** | **{recv}** | **{}** | **{}** |",
        sent * n,
        recv * n
    );
    let clear = clear_bits as f64 / 8.0;
    println!(
        "\nexpansion over {clear_bits} bits in the clear: sent {:.4}x, sent + received {:.4}x",
        sent as f64 / clear,
        (sent + recv) as f64 / clear
    );
    (sent, recv)
}

fn main() {
    let n = 1000;
    let d = 1_000_000;
    for bits in [16u32, 32] {
        let ring = Ring::pow2(bits).unwrap();
        for malicious in [false, true] {
            let threat = if malicious {
                ThreatModel::Malicious
            } else {
                ThreatModel::SemiHonest
            };
            // Without the malicious model's default grinding margin (k = 52, not 74),
            // as docs/benchmarks.md's tables; sizes grow in proportion to k.
            let q = ParamQuery::new(n, 0.05, 0.05, threat).with_grinding(0.0);
            let p = find_params(&q).unwrap();
            let sparse = config(n, p.threshold, p.graph_spec([7; 32]), malicious, d, ring);
            // Sizes do not depend on t; t = 500 is valid for both models.
            let complete = config(n, 500, GraphSpec::Complete, malicious, d, ring);
            report(
                &format!("b = {bits}, complete"),
                &complete,
                d * bits as usize,
            );
            report(
                &format!("b = {bits}, sparse (find_params, δ = γ = 5%, no grinding margin)"),
                &sparse,
                d * bits as usize,
            );
        }
    }
    // Bonawitz et al. 2017: 2^10 clients, 2^20 16-bit inputs; the ring must hold the sum
    // of 2^10 values below 2^16: ceil(log2(2^10 (2^16 - 1) + 1)) = 26 bits.
    let n = 1 << 10;
    let d = 1 << 20;
    let cfg = config(
        n,
        512,
        GraphSpec::Complete,
        false,
        d,
        Ring::pow2(26).unwrap(),
    );
    report(
        "Bonawitz et al.'s setting, 26-bit ring, 16-bit inputs",
        &cfg,
        d * 16,
    );
}
