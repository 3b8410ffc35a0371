//! Every protocol message through the wire: whole sessions whose messages are encoded,
//! decoded, compared and re-encoded, checked against the plaintext sum; then each
//! decoder's refusals, one typed error per kind of bad input.

use crate::common::wire::{run, spec, Dir};
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::msg_type;
use secagg::protocol::messages::SEALED_SHARES_LEN;
use secagg::protocol::messages::{
    AdvertiseKeys, ClientMessage, ConsistencyRequest, MaskedInput, RoutedCiphertext, RoutedShares,
    SealedShares, ServerMessage, ShareKeys, UnmaskRequest,
};
use secagg::ring::{Ring, RingVec};
use secagg::sim;
use secagg::{ClientId, Round};
use secagg::{EncodingError, Error, ErrorKind, Misuse};

fn harary(degree: usize) -> GraphSpec {
    GraphSpec::Harary {
        degree,
        seed: [7; 32],
    }
}

fn odd_vectors() -> Vec<(&'static str, usize, Ring)> {
    vec![
        ("w20", 13, Ring::pow2(20).unwrap()),
        ("bit", 9, Ring::pow2(1).unwrap()),
        ("w64", 3, Ring::pow2(64).unwrap()),
        ("zm", 7, Ring::modulus(1_000_003).unwrap()),
        ("big", 2, Ring::modulus(u64::MAX - 58).unwrap()),
    ]
}

#[test]
fn whole_sessions_cross_the_wire() {
    use Round::*;
    type Case = (
        usize,
        usize,
        GraphSpec,
        bool,
        Vec<(&'static str, usize, Ring)>,
    );
    // Each case drops one client before each round (where the threshold allows).
    let cases: Vec<(Case, Vec<(usize, Round)>)> = vec![
        (
            (
                7,
                2,
                GraphSpec::Complete,
                false,
                vec![("", 16, Ring::pow2(16).unwrap())],
            ),
            vec![
                (0, AdvertiseKeys),
                (2, ShareKeys),
                (6, MaskedInputCollection),
                (3, Unmasking),
            ],
        ),
        (
            (11, 6, GraphSpec::Complete, true, odd_vectors()),
            vec![
                (0, AdvertiseKeys),
                (2, ShareKeys),
                (10, MaskedInputCollection),
                (3, ConsistencyCheck),
            ],
        ),
        (
            (12, 3, harary(6), false, odd_vectors()),
            vec![
                (0, AdvertiseKeys),
                (5, MaskedInputCollection),
                (9, Unmasking),
            ],
        ),
        (
            (
                12,
                5,
                harary(8),
                true,
                vec![("", 11, Ring::pow2(32).unwrap())],
            ),
            vec![
                (0, AdvertiseKeys),
                (6, MaskedInputCollection),
                (3, ConsistencyCheck),
            ],
        ),
    ];
    for ((n, t, graph, malicious, vectors), dropping) in cases {
        let (cfg, keys) = spec(n, t, graph, malicious, &vectors).build();
        let mut drops = vec![None; n];
        for (id, r) in dropping {
            drops[id] = Some(r);
        }
        let w = run(&cfg, keys, &drops, 11);
        let out = w.output.unwrap();
        let want = sim::plaintext_sum(&cfg, &w.inputs, &out.included).unwrap();
        assert_eq!(out.sums, want, "n={n} malicious={malicious}");
        assert!(!out.included.contains(&0) && out.included.len() < n - 1);
        // Every message type of the model went through.
        let mut types: Vec<(Dir, u8)> = w.records.iter().map(|r| (r.dir, r.bytes[1])).collect();
        types.sort_by_key(|&(d, t)| (d == Dir::ToClient, t));
        types.dedup();
        let expected = if malicious { 9 } else { 7 };
        assert_eq!(types.len(), expected, "{types:?}");
    }
}

/// A valid message of each type for a small session, to corrupt.
fn samples(
    malicious: bool,
) -> (
    std::sync::Arc<secagg::protocol::Config>,
    Vec<crate::common::wire::Record>,
) {
    let (cfg, keys) = spec(6, 3, GraphSpec::Complete, malicious, &odd_vectors()).build();
    let mut drops = vec![None; 6];
    drops[5] = Some(Round::MaskedInputCollection);
    let w = run(&cfg, keys, &drops, 5);
    assert!(w.output.is_ok());
    (cfg, w.records)
}

fn first(records: &[crate::common::wire::Record], dir: Dir, ty: u8) -> (ClientId, Vec<u8>) {
    let r = records
        .iter()
        .find(|r| r.dir == dir && r.bytes[1] == ty)
        .unwrap_or_else(|| panic!("no message of type {ty:#x}"));
    (r.id, r.bytes.clone())
}

fn decode(
    cfg: &secagg::protocol::Config,
    dir: Dir,
    id: ClientId,
    bytes: &[u8],
) -> Result<(), Error> {
    match dir {
        Dir::FromClient => ClientMessage::decode(cfg, id, bytes).map(|_| ()),
        Dir::ToClient => ServerMessage::decode(cfg, bytes).map(|_| ()),
    }
}

#[test]
fn headers_trailing_bytes_and_truncation() {
    for malicious in [false, true] {
        let (cfg, records) = samples(malicious);
        for r in &records {
            // Every strict prefix is refused with an encoding error.
            for cut in 0..r.bytes.len() {
                let e = decode(&cfg, r.dir, r.id, &r.bytes[..cut]).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Encoding, "cut {cut}: {e:?}");
            }
            assert_eq!(
                decode(&cfg, r.dir, r.id, &[]).unwrap_err(),
                Error::Encoding(EncodingError::Truncated {
                    what: "protocol version",
                    needed: 1,
                    remaining: 0
                })
            );
            let mut long = r.bytes.clone();
            long.push(0);
            assert_eq!(
                decode(&cfg, r.dir, r.id, &long).unwrap_err(),
                Error::Encoding(EncodingError::TrailingBytes { count: 1 })
            );
            for v in [0u8, 1, 2, 4, 0xff] {
                let mut b = r.bytes.clone();
                b[0] = v;
                assert_eq!(
                    decode(&cfg, r.dir, r.id, &b).unwrap_err(),
                    Error::Encoding(EncodingError::UnknownVersion {
                        found: v,
                        expected: 3
                    })
                );
            }
        }
        // Type bytes of the other direction, and unassigned ones, are unknown.
        let (id, b) = first(&records, Dir::FromClient, msg_type::ADVERTISE_KEYS);
        for ty in [0x05u8, 0x80, 0x81, 0x84, 0xff] {
            let mut x = b.clone();
            x[1] = ty;
            assert_eq!(
                ClientMessage::decode(&cfg, id, &x).unwrap_err(),
                Error::Encoding(EncodingError::UnknownMessageType { found: ty })
            );
        }
        let (_, b) = first(&records, Dir::ToClient, msg_type::KEY_LIST);
        for ty in [0x00u8, 0x04, 0x80, 0x85, 0xff] {
            let mut x = b.clone();
            x[1] = ty;
            assert_eq!(
                ServerMessage::decode(&cfg, &x).unwrap_err(),
                Error::Encoding(EncodingError::UnknownMessageType { found: ty })
            );
        }
        // A sender outside the session.
        assert!(matches!(
            ClientMessage::decode(&cfg, 6, &b),
            Err(Error::Encoding(EncodingError::ClientIdOutOfRange {
                id: 6,
                n: 6,
                ..
            }))
        ));
    }
}

#[test]
fn field_level_refusals() {
    let (cfg, records) = samples(true);
    let n = cfg.n() as u32;

    // AdvertiseKeys: enc_pk at 2..34; setting bit 255 makes it non-canonical.
    let (id, mut b) = first(&records, Dir::FromClient, msg_type::ADVERTISE_KEYS);
    assert_eq!(b.len(), 2 + 32 + 32 + 64);
    b[33] |= 0x80;
    assert_eq!(
        ClientMessage::decode(&cfg, id, &b).unwrap_err(),
        Error::Encoding(EncodingError::NonCanonicalPublicKey)
    );
    // Signature s half (bytes 98..130) all ones is not a canonical scalar.
    let (id, mut b) = first(&records, Dir::FromClient, msg_type::ADVERTISE_KEYS);
    b[98..130].fill(0xff);
    assert_eq!(
        ClientMessage::decode(&cfg, id, &b).unwrap_err(),
        Error::Encoding(EncodingError::NonCanonicalScalar)
    );

    // ShareKeys: count u32 at 2..6, then entries of to u32, len u16, blob.
    let (id, b) = first(&records, Dir::FromClient, msg_type::SHARE_KEYS);
    let count = u32::from_be_bytes(b[2..6].try_into().unwrap());
    assert_eq!(count, 5);
    let entry = 4 + 2 + SEALED_SHARES_LEN;
    assert_eq!(b.len(), 6 + count as usize * entry);
    let mut x = b.clone();
    x[2..6].copy_from_slice(&6u32.to_be_bytes()); // more than the 5 neighbors
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::LengthTooLarge {
            what: "share keys entries",
            max: 5,
            found: 6
        })
    );
    let mut x = b.clone();
    x[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        ClientMessage::decode(&cfg, id, &x),
        Err(Error::Encoding(EncodingError::LengthTooLarge { .. }))
    ));
    let mut x = b.clone();
    x[6 + entry..6 + entry + 4].copy_from_slice(&b[6..10]); // second recipient = first
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::UnsortedIds {
            what: "share keys entries",
            index: 1
        })
    );
    let mut x = b.clone();
    x[6..10].copy_from_slice(&n.to_be_bytes());
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::ClientIdOutOfRange {
            what: "share keys entries",
            id: n,
            n: 6
        })
    );
    let mut x = b.clone();
    x[10..12].copy_from_slice(&(SEALED_SHARES_LEN as u16 + 1).to_be_bytes());
    assert!(matches!(
        ClientMessage::decode(&cfg, id, &x),
        Err(Error::Encoding(EncodingError::LengthTooLarge {
            what: "sealed shares",
            ..
        }))
    ));
    let mut x = b.clone();
    x[10..12].copy_from_slice(&27u16.to_be_bytes());
    assert!(matches!(
        ClientMessage::decode(&cfg, id, &x),
        Err(Error::Encoding(EncodingError::LengthTooSmall {
            what: "sealed shares",
            ..
        }))
    ));

    // MaskedInput: an empty accusation list (4 bytes), then the first vector is 13 x 20
    // bits = 260 bits = 33 bytes (4 padding bits); flipping the last bit of byte
    // 6 + 32 sets padding.
    let (id, b) = first(&records, Dir::FromClient, msg_type::MASKED_INPUT);
    assert_eq!(b.len(), 2 + 4 + 33 + 2 + 24 + 18 + 16);
    assert_eq!(b[2..6], [0; 4]);
    let mut x = b.clone();
    x[6 + 32] |= 1;
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::NonZeroPadding {
            what: "packed ring vector"
        })
    );
    // The Z_1000003 vector (7 x 20 bits = 18 bytes) starts at 2 + 4 + 33 + 2 + 24 = 65:
    // all ones is 2^20 - 1 >= 1000003.
    let mut x = b.clone();
    x[65..68].fill(0xff);
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::WordOutOfRange { index: 0 })
    );

    // UnmaskShares: count, then owner u32, kind u8, value [32].
    let (id, b) = first(&records, Dir::FromClient, msg_type::UNMASK_SHARES);
    let mut x = b.clone();
    x[10] = 2;
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::InvalidTag {
            what: "share kind",
            found: 2
        })
    );
    let mut x = b.clone();
    x[11..43].fill(0xff);
    assert_eq!(
        ClientMessage::decode(&cfg, id, &x).unwrap_err(),
        Error::Encoding(EncodingError::NonCanonicalScalar)
    );

    // ConsistencyRequest: 6 clients -> one byte, the low two bits are padding.
    let (_, b) = first(&records, Dir::ToClient, msg_type::CONSISTENCY_REQUEST);
    assert_eq!(b.len(), 3);
    let mut x = b.clone();
    x[2] |= 1;
    assert_eq!(
        ServerMessage::decode(&cfg, &x).unwrap_err(),
        Error::Encoding(EncodingError::NonZeroPadding { what: "survivors" })
    );

    // KeyList: count at most 6 (everyone), entries of id, keys, signature.
    let (_, b) = first(&records, Dir::ToClient, msg_type::KEY_LIST);
    let mut x = b.clone();
    x[2..6].copy_from_slice(&7u32.to_be_bytes());
    assert!(matches!(
        ServerMessage::decode(&cfg, &x),
        Err(Error::Encoding(EncodingError::LengthTooLarge {
            max: 6,
            found: 7,
            ..
        }))
    ));
}

#[test]
fn encoders_refuse_what_the_config_cannot_carry() {
    let (cfg, _) = spec(6, 3, GraphSpec::Complete, false, &odd_vectors()).build();
    let (mal, _) = spec(6, 3, GraphSpec::Complete, true, &odd_vectors()).build();
    let pk = |b: u8| secagg::crypto::keys::PublicKey::from_bytes([b; 32]);
    let adv = AdvertiseKeys {
        enc_pk: pk(1),
        mask_pk: pk(2),
        signature: None,
    };
    assert!(ClientMessage::AdvertiseKeys(adv).encode(&cfg).is_ok());
    assert_eq!(
        ClientMessage::AdvertiseKeys(adv).encode(&mal).unwrap_err(),
        Error::Misuse(Misuse::ModelMismatch {
            what: "advertised keys"
        })
    );
    let blob = vec![0u8; SEALED_SHARES_LEN];
    let shares = |to: &[ClientId]| {
        ClientMessage::ShareKeys(ShareKeys {
            shares: to
                .iter()
                .map(|&to| SealedShares {
                    to,
                    ciphertext: blob.clone(),
                })
                .collect(),
        })
    };
    assert!(shares(&[1, 2]).encode(&cfg).is_ok());
    assert!(matches!(
        shares(&[2, 1]).encode(&cfg),
        Err(Error::Encoding(EncodingError::UnsortedIds { index: 1, .. }))
    ));
    assert!(matches!(
        shares(&[1, 6]).encode(&cfg),
        Err(Error::Encoding(EncodingError::ClientIdOutOfRange {
            id: 6,
            ..
        }))
    ));
    assert!(matches!(
        shares(&[0, 1, 2, 3, 4, 5]).encode(&cfg),
        Err(Error::Encoding(EncodingError::LengthTooLarge {
            max: 5,
            found: 6,
            ..
        }))
    ));
    let routed = ServerMessage::RoutedShares(RoutedShares {
        shares: vec![RoutedCiphertext {
            from: 1,
            ciphertext: vec![0; SEALED_SHARES_LEN + 1],
        }],
    });
    assert!(matches!(
        routed.encode(&cfg),
        Err(Error::Encoding(EncodingError::LengthTooLarge { .. }))
    ));
    let good: Vec<RingVec> = cfg
        .vectors()
        .iter()
        .map(|v| RingVec::zeros(&v.ring, v.dim))
        .collect();
    assert!(ClientMessage::MaskedInput(MaskedInput {
        accused: vec![],
        vectors: good.clone()
    })
    .encode(&cfg)
    .is_ok());
    let mut short = good.clone();
    short.pop();
    assert_eq!(
        ClientMessage::MaskedInput(MaskedInput {
            accused: vec![],
            vectors: short
        })
        .encode(&cfg)
        .unwrap_err(),
        Error::Misuse(Misuse::InputCount {
            expected: 5,
            found: 4
        })
    );
    let mut wrong = good.clone();
    wrong[1] = RingVec::zeros(&Ring::pow2(1).unwrap(), 8);
    assert_eq!(
        ClientMessage::MaskedInput(MaskedInput {
            accused: vec![],
            vectors: wrong
        })
        .encode(&cfg)
        .unwrap_err(),
        Error::Misuse(Misuse::InputLength {
            vector: 1,
            expected: 9,
            found: 8
        })
    );
    let mut unreduced = good;
    unreduced[3] = RingVec::U32(vec![1_000_003; 7]);
    assert_eq!(
        ClientMessage::MaskedInput(MaskedInput {
            accused: vec![],
            vectors: unreduced
        })
        .encode(&cfg)
        .unwrap_err(),
        Error::Misuse(Misuse::InputNotInRing { vector: 3 })
    );
    let req = ServerMessage::ConsistencyRequest(ConsistencyRequest {
        survivors: vec![3, 1],
    });
    assert!(matches!(
        req.encode(&cfg),
        Err(Error::Encoding(EncodingError::UnsortedIds { .. }))
    ));
    let sig = ed25519_dalek::Signature::from_bytes(&[0; 64]);
    let unmask = ServerMessage::UnmaskRequest(UnmaskRequest {
        survivors: vec![1, 3],
        signatures: vec![secagg::protocol::messages::SurvivorSignature {
            id: 1,
            signature: sig,
        }],
        pairwise: Vec::new(),
    });
    assert_eq!(
        unmask.encode(&cfg).unwrap_err(),
        Error::Misuse(Misuse::ModelMismatch {
            what: "consistency signatures"
        })
    );
    assert!(unmask.encode(&mal).is_ok());
}
