//! The size formulas of docs/wire-format.md against the bytes real sessions send: for
//! every client of sessions without drop-outs, bytes sent and received equal
//! `80 + 143k + P` and `82 + 174k + ceil(n/8)` (semi-honest) or `210 + 143k + P` and
//! `152 + 306k + 2 ceil(n/8)` (malicious), with `k` neighbors and `P` the packed
//! vector bytes. And the protocol's [`MessageLimits`] against the same bytes: every
//! message of such a session is exactly as long as its limit (its lists are as full as
//! they can be), and one byte more, or one list entry more, is refused.

use crate::common::wire::{run, spec, Dir};
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::msg_type;
use secagg::protocol::{ClientMessage, Config, MessageLimits, ServerMessage};
use secagg::ring::Ring;
use secagg::{EncodingError, Error, Round};

fn packed(vectors: &[(&str, usize, Ring)]) -> usize {
    vectors
        .iter()
        .map(|(_, d, r)| (d * r.element_bits() as usize).div_ceil(8))
        .sum()
}

#[test]
fn per_client_totals_match_the_formulas() {
    let vectors = [
        ("a", 37, Ring::pow2(20).unwrap()),
        ("b", 5, Ring::modulus(1_000_003).unwrap()),
        ("c", 3, Ring::pow2(64).unwrap()),
    ];
    let p = packed(&vectors);
    assert_eq!(p, 93 + 13 + 24);
    let harary = |degree| GraphSpec::Harary {
        degree,
        seed: [1; 32],
    };
    for (n, t, graph, malicious, k) in [
        (6, 3, GraphSpec::Complete, false, 5),
        (6, 3, GraphSpec::Complete, true, 5),
        (9, 5, GraphSpec::Complete, true, 8),
        (17, 3, harary(4), false, 4),
        (17, 4, harary(6), true, 6),
    ] {
        let (cfg, keys) = spec(n, t, graph, malicious, &vectors).build();
        let w = run(&cfg, keys, &vec![None; n], 3);
        assert_eq!(w.output.unwrap().included.len(), n);
        let nb = n.div_ceil(8);
        let (sent, received) = if malicious {
            (218 + 143 * k + p, 156 + 306 * k + 2 * nb)
        } else {
            (88 + 143 * k + p, 86 + 174 * k + nb)
        };
        for id in 0..n as u32 {
            let total = |dir| -> usize {
                w.records
                    .iter()
                    .filter(|r| r.dir == dir && r.id == id)
                    .map(|r| r.bytes.len())
                    .sum()
            };
            assert_eq!(
                total(Dir::FromClient),
                sent,
                "n={n} malicious={malicious} id={id}"
            );
            assert_eq!(
                total(Dir::ToClient),
                received,
                "n={n} malicious={malicious} id={id}"
            );
        }
    }
}

/// The limit of the message whose encoding is `bytes` (by its type byte), and where its
/// list's count and entries lie: `(limit, Some((count offset, entry length)))`.
fn limit_of(cfg: &Config, limits: &MessageLimits, bytes: &[u8]) -> (usize, Option<(usize, usize)>) {
    let advertised = if cfg.is_malicious() { 128 } else { 64 };
    let sealed_entry = 4 + 2 + secagg::protocol::messages::SEALED_SHARES_LEN;
    match bytes[1] {
        msg_type::ADVERTISE_KEYS => (limits.advertise_keys, None),
        msg_type::SHARE_KEYS => (limits.share_keys, Some((2, sealed_entry))),
        msg_type::MASKED_INPUT => (limits.masked_input, None),
        msg_type::CONSISTENCY_SIGNATURE => (limits.consistency_signature, None),
        msg_type::UNMASK_SHARES => (limits.unmask_shares, Some((2, 4 + 1 + 32))),
        msg_type::KEY_LIST => (limits.key_list, Some((2, 4 + advertised))),
        msg_type::ROUTED_SHARES => (limits.routed_shares, Some((2, sealed_entry))),
        msg_type::CONSISTENCY_REQUEST => (limits.consistency_request, None),
        msg_type::UNMASK_REQUEST => {
            let list = cfg
                .is_malicious()
                .then_some((2 + cfg.n().div_ceil(8), 4 + 64));
            (limits.unmask_request, list)
        }
        other => panic!("unexpected message type {other:#04x}"),
    }
}

fn decode(cfg: &Config, dir: Dir, id: u32, bytes: &[u8]) -> Result<(), Error> {
    match dir {
        Dir::FromClient => ClientMessage::decode(cfg, id, bytes).map(drop),
        Dir::ToClient => ServerMessage::decode(cfg, bytes).map(drop),
    }
}

#[test]
fn limits_are_the_largest_real_messages_and_one_more_is_refused() {
    let vectors = [
        ("a", 37, Ring::pow2(20).unwrap()),
        ("b", 5, Ring::modulus(1_000_003).unwrap()),
    ];
    let harary = |degree| GraphSpec::Harary {
        degree,
        seed: [2; 32],
    };
    // Without drop-outs every client of these graphs has the largest degree, so every
    // list is full: each message must be exactly as long as its limit.
    for (n, t, graph, malicious) in [
        (6, 3, GraphSpec::Complete, false),
        (6, 3, GraphSpec::Complete, true),
        (12, 3, harary(4), false),
        (12, 4, harary(6), true),
    ] {
        let (cfg, keys) = spec(n, t, graph, malicious, &vectors).build();
        let limits = MessageLimits::new(&cfg).unwrap();
        let w = run(&cfg, keys, &vec![None; n], 4);
        assert_eq!(w.output.unwrap().included.len(), n);
        let mut seen = std::collections::BTreeSet::new();
        for r in &w.records {
            let ctx = format!("n={n} malicious={malicious} type={:#04x}", r.bytes[1]);
            seen.insert(r.bytes[1]);
            let (limit, list) = limit_of(&cfg, &limits, &r.bytes);
            // A masked input's limit allows an accusation of every neighbor (4 bytes
            // each); honest clients here accuse nobody.
            // Likewise an unmasking request's limit allows a pairwise request for every
            // neighbor; nobody is excluded here.
            let slack = if matches!(
                r.bytes[1],
                msg_type::MASKED_INPUT | msg_type::UNMASK_REQUEST
            ) {
                4 * cfg.graph().max_degree()
            } else {
                0
            };
            assert_eq!(r.bytes.len() + slack, limit, "{ctx}");
            // The per-round view agrees with the per-message one.
            let round = Round::from_number(r.bytes[1] & 0x7f).unwrap();
            match r.dir {
                Dir::FromClient => assert_eq!(limits.client(round), limit, "{ctx}"),
                Dir::ToClient => assert_eq!(limits.server(round), Some(limit), "{ctx}"),
            }
            assert!(
                limit <= limits.max_client().max(limits.max_server()),
                "{ctx}"
            );
            decode(&cfg, r.dir, r.id, &r.bytes).unwrap();
            // One byte over: refused.
            let mut over = r.bytes.clone();
            over.push(0);
            assert_eq!(
                decode(&cfg, r.dir, r.id, &over),
                Err(Error::Encoding(EncodingError::TrailingBytes { count: 1 })),
                "{ctx}"
            );
            // One list entry over (the last entry again, the count one higher): refused
            // on the count, before anything is allocated.
            if let Some((at, entry)) = list {
                let count = u32::from_be_bytes(r.bytes[at..at + 4].try_into().unwrap());
                let mut over = r.bytes.clone();
                over[at..at + 4].copy_from_slice(&(count + 1).to_be_bytes());
                over.extend_from_slice(&r.bytes[r.bytes.len() - entry..]);
                assert_eq!(over.len() + slack, limit + entry, "{ctx}");
                assert!(
                    matches!(
                        decode(&cfg, r.dir, r.id, &over),
                        Err(Error::Encoding(EncodingError::LengthTooLarge { max, found, .. }))
                            if found == max + 1 && max == u64::from(count)
                    ),
                    "{ctx}"
                );
            }
        }
        // Every message type of the threat model was checked.
        let expected = if malicious { 9 } else { 7 };
        assert_eq!(seen.len(), expected, "n={n} malicious={malicious}");
        assert_eq!(
            limits.max_client(),
            Round::ALL.iter().map(|&r| limits.client(r)).max().unwrap()
        );
        assert_eq!(limits.server(Round::AdvertiseKeys), None);
    }
}

/// The limits follow the documented sizes (docs/wire-format.md) for any degree,
/// whether or not a session reaches them.
#[test]
fn limits_follow_the_documented_sizes() {
    let ring = Ring::pow2(16).unwrap();
    for (n, t, graph, malicious) in [
        (1000, 667, GraphSpec::Complete, false),
        (1000, 667, GraphSpec::Complete, true),
        (
            1000,
            27,
            GraphSpec::Harary {
                degree: 40,
                seed: [3; 32],
            },
            true,
        ),
    ] {
        let (cfg, _) = spec(n, t, graph, malicious, &[("", 1001, ring)]).build();
        let l = MessageLimits::new(&cfg).unwrap();
        let k = cfg.graph().max_degree();
        let sig = if malicious { 64 } else { 0 };
        let nb = n.div_ceil(8);
        assert_eq!(l.advertise_keys, 2 + 64 + sig);
        assert_eq!(l.share_keys, 2 + 4 + 106 * k);
        assert_eq!(l.masked_input, 2 + 4 + 4 * k + (1001 * 16usize).div_ceil(8));
        assert_eq!(l.consistency_signature, 2 + 64);
        assert_eq!(l.unmask_shares, 2 + 4 + 37 * k + 4);
        assert_eq!(l.key_list, 2 + 4 + (k + 1).min(n) * (4 + 64 + sig));
        assert_eq!(l.routed_shares, l.share_keys);
        assert_eq!(l.consistency_request, 2 + nb);
        let sigs = if malicious { 4 + 68 * k } else { 0 };
        assert_eq!(l.unmask_request, 2 + nb + sigs + 4 + 4 * k);
        assert_eq!(
            l.max_client(),
            [
                l.advertise_keys,
                l.share_keys,
                l.masked_input,
                l.unmask_shares
            ]
            .into_iter()
            .max()
            .unwrap()
        );
        assert_eq!(
            l.max_server(),
            [
                l.key_list,
                l.routed_shares,
                l.consistency_request,
                l.unmask_request
            ]
            .into_iter()
            .max()
            .unwrap()
        );
    }
}

/// docs/wire-format.md, "Conventions": `k` is the graph's largest degree, `K + 1` for a
/// Harary graph of odd degree `K` over odd `n` (n = 11, K = 5: a ShareKeys of 6 entries
/// and a KeyList of 7 decode, one entry more does not).
#[test]
fn odd_degree_odd_n_bounds_use_k_plus_one() {
    use secagg::crypto::keys::SecretKey;
    use secagg::protocol::messages::{AdvertiseKeys, KeyEntry, KeyList, SealedShares, ShareKeys};
    let (cfg, _) = spec(
        11,
        4,
        GraphSpec::Harary {
            degree: 5,
            seed: [9; 32],
        },
        false,
        &[("", 2, Ring::pow2(16).unwrap())],
    )
    .build();
    assert_eq!(cfg.graph().max_degree(), 6);
    let share_keys = |s: u32| {
        let shares = (0..s)
            .map(|v| SealedShares {
                to: v + 1,
                ciphertext: vec![0; 100],
            })
            .collect();
        ClientMessage::ShareKeys(ShareKeys { shares })
    };
    let key_list = |s: u32| {
        let entries = (0..s)
            .map(|id| KeyEntry {
                id,
                keys: AdvertiseKeys {
                    enc_pk: SecretKey::from_bytes([2 * id as u8 + 1; 32]).public_key(),
                    mask_pk: SecretKey::from_bytes([2 * id as u8 + 2; 32]).public_key(),
                    signature: None,
                },
            })
            .collect();
        ServerMessage::KeyList(KeyList { entries })
    };
    let too_large = |r: Result<(), Error>| {
        assert!(
            matches!(
                r,
                Err(Error::Encoding(EncodingError::LengthTooLarge { .. }))
            ),
            "{r:?}"
        );
    };
    let six = share_keys(6).encode(&cfg).unwrap();
    assert_eq!(ClientMessage::decode(&cfg, 0, &six).unwrap(), share_keys(6));
    too_large(share_keys(7).encode(&cfg).map(|_| ()));
    // The same bytes with a seventh entry: refused on the count.
    let mut seven_entries = six.clone();
    seven_entries[2..6].copy_from_slice(&7u32.to_be_bytes());
    seven_entries.extend_from_slice(&7u32.to_be_bytes());
    seven_entries.extend_from_slice(&100u16.to_be_bytes());
    seven_entries.extend_from_slice(&[0; 100]);
    too_large(ClientMessage::decode(&cfg, 0, &seven_entries).map(|_| ()));
    let seven = key_list(7).encode(&cfg).unwrap();
    assert_eq!(ServerMessage::decode(&cfg, &seven).unwrap(), key_list(7));
    too_large(key_list(8).encode(&cfg).map(|_| ()));
    let mut eight = seven.clone();
    eight[2..6].copy_from_slice(&8u32.to_be_bytes());
    eight.extend_from_slice(&7u32.to_be_bytes());
    eight.extend_from_slice(SecretKey::from_bytes([15; 32]).public_key().as_bytes());
    eight.extend_from_slice(SecretKey::from_bytes([16; 32]).public_key().as_bytes());
    too_large(ServerMessage::decode(&cfg, &eight).map(|_| ()));
    assert!(MessageLimits::new(&cfg).unwrap().max_client() >= six.len());
}
