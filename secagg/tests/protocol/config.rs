//! Session configuration: validation errors and the session id (layout byte for byte,
//! and sensitivity to every parameter).

use ed25519_dalek::VerifyingKey;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::ring::Ring;
use secagg::sim;
use secagg::{Error, Misuse, PeerMisbehaved};
use sha2::{Digest, Sha256};

fn r16() -> Ring {
    Ring::pow2(16).unwrap()
}

fn keys(n: usize) -> Vec<VerifyingKey> {
    sim::signing_keys(n, [1; 32])
        .iter()
        .map(|k| k.verifying_key())
        .collect()
}

#[test]
fn thresholds() {
    let build = |n, t, g: GraphSpec| {
        Config::builder(n, t)
            .graph(g)
            .vector("", 4, r16())
            .build()
            .map(|_| ())
    };
    assert_eq!(
        build(5, 0, GraphSpec::Complete),
        Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 0,
            parties: 4
        }))
    );
    assert_eq!(
        build(5, 5, GraphSpec::Complete),
        Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 5,
            parties: 4
        }))
    );
    assert!(build(5, 4, GraphSpec::Complete).is_ok());
    let h = GraphSpec::Harary {
        degree: 4,
        seed: [0; 32],
    };
    assert_eq!(
        build(10, 5, h.clone()),
        Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 5,
            parties: 4
        }))
    );
    assert!(build(10, 4, h).is_ok());
    // One client has no neighbor: no threshold works.
    assert_eq!(
        build(1, 1, GraphSpec::Complete),
        Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold: 1,
            parties: 0
        }))
    );
    assert!(matches!(
        build(0, 1, GraphSpec::Complete),
        Err(Error::Misuse(Misuse::InvalidClientCount { n: 0 }))
    ));
}

#[test]
fn malicious_threshold_and_keys() {
    let base = |n, t| Config::builder(n, t).vector("", 4, r16());
    assert_eq!(
        base(5, 2).malicious(keys(5)).build().map(|_| ()),
        Err(Error::Misuse(Misuse::ThresholdSplitView {
            threshold: 2,
            degree: 4
        }))
    );
    assert!(base(5, 3).malicious(keys(5)).build().is_ok());
    assert_eq!(
        base(5, 3).malicious(keys(4)).build().map(|_| ()),
        Err(Error::Misuse(Misuse::VerifyingKeyCount {
            expected: 5,
            found: 4
        }))
    );
    let mut dup = keys(5);
    dup[3] = dup[1];
    assert_eq!(
        base(5, 3).malicious(dup).build().map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
            first: 1,
            second: 3
        }))
    );
    // The identity point has small order.
    let mut weak = keys(5);
    let mut id = [0u8; 32];
    id[0] = 1;
    weak[2] = VerifyingKey::from_bytes(&id).unwrap();
    assert_eq!(
        base(5, 3).malicious(weak).build().map(|_| ()),
        Err(Error::Misuse(Misuse::WeakVerifyingKey { client: 2 }))
    );
    // Back to semi-honest: the keys are dropped.
    let c = base(5, 2).malicious(keys(5)).semi_honest().build().unwrap();
    assert!(!c.is_malicious());
    assert!(c.verifying_key(0).is_none());
}

#[test]
fn vectors() {
    let b = || Config::builder(4, 2);
    assert_eq!(
        b().build().map(|_| ()),
        Err(Error::Misuse(Misuse::InvalidVectorCount { count: 0 }))
    );
    assert_eq!(
        b().vector("a", 0, r16()).build().map(|_| ()),
        Err(Error::Misuse(Misuse::InvalidVectorLength {
            index: 0,
            dim: 0
        }))
    );
    assert_eq!(
        b().vector("a", 3, r16())
            .vector("a", 3, r16())
            .build()
            .map(|_| ()),
        Err(Error::Misuse(Misuse::DuplicateVectorName { index: 1 }))
    );
    assert_eq!(
        b().vector("x".repeat(70_000), 3, r16()).build().map(|_| ()),
        Err(Error::Misuse(Misuse::TooLong {
            what: "vector name",
            max: 65535,
            found: 70_000
        }))
    );
    let c = b()
        .vector("layer1", 3, r16())
        .vector("layer2", 5, Ring::pow2(40).unwrap())
        .build()
        .unwrap();
    assert_eq!(c.vectors().len(), 2);
    assert_eq!(c.vectors()[1].name, "layer2");
}

#[test]
fn session_id_layout() {
    let c = Config::builder(3, 1)
        .vector("w", 5, r16())
        .context(*b"ctx")
        .build()
        .unwrap();
    let mut expected = Vec::new();
    expected.extend_from_slice(b"secagg/session-id\x00\x03");
    expected.extend_from_slice(&3u64.to_be_bytes());
    expected.extend_from_slice(&1u64.to_be_bytes());
    expected.push(0); // complete graph
    expected.push(0); // semi-honest
    expected.extend_from_slice(&[0, 1]); // one vector
    expected.extend_from_slice(&[0, 1, b'w']);
    expected.extend_from_slice(&5u32.to_be_bytes());
    expected.push(0); // Z_2^b
    expected.extend_from_slice(&16u32.to_be_bytes());
    expected.extend_from_slice(&0u32.to_be_bytes()); // no verifying keys
    expected.extend_from_slice(&3u64.to_be_bytes());
    expected.extend_from_slice(b"ctx");
    assert_eq!(c.session_id_preimage(), expected);
    let digest: [u8; 32] = Sha256::digest(&expected).into();
    assert_eq!(c.session_id(), &digest);

    let h = Config::builder(10, 3)
        .graph(GraphSpec::Harary {
            degree: 4,
            seed: [7; 32],
        })
        .vector("", 2, Ring::modulus(1000).unwrap())
        .malicious(keys(10))
        .build()
        .unwrap();
    let p = h.session_id_preimage();
    let graph_at = 19 + 16;
    assert_eq!(p[graph_at], 1);
    assert_eq!(&p[graph_at + 1..graph_at + 9], &4u64.to_be_bytes());
    assert_eq!(&p[graph_at + 9..graph_at + 41], &[7; 32]);
    assert_eq!(p[graph_at + 41], 1, "malicious");
    let ring_at = graph_at + 42 + 2 + 2 + 4;
    assert_eq!(p[ring_at], 1, "general modulus");
    assert_eq!(&p[ring_at + 1..ring_at + 9], &1000u64.to_be_bytes());
    assert_eq!(&p[ring_at + 9..ring_at + 13], &10u32.to_be_bytes());
    assert_eq!(&p[ring_at + 13..ring_at + 45], keys(10)[0].as_bytes());
}

#[test]
fn session_id_depends_on_every_parameter() {
    let base = || {
        Config::builder(6, 3)
            .graph(GraphSpec::Harary {
                degree: 4,
                seed: [1; 32],
            })
            .vector("a", 4, r16())
            .context(*b"model-1")
    };
    let harary = |degree, seed| GraphSpec::Harary { degree, seed };
    let variants = vec![
        base(),
        Config::builder(7, 3)
            .graph(harary(4, [1; 32]))
            .vector("a", 4, r16())
            .context(*b"model-1"),
        base().vector("b", 1, r16()),
        Config::builder(6, 2)
            .graph(harary(4, [1; 32]))
            .vector("a", 4, r16())
            .context(*b"model-1"),
        base().graph(harary(4, [2; 32])),
        base().graph(GraphSpec::Complete),
        base().context(*b"model-2"),
        Config::builder(6, 3)
            .graph(harary(4, [1; 32]))
            .vector("a", 5, r16())
            .context(*b"model-1"),
        Config::builder(6, 3)
            .graph(harary(4, [1; 32]))
            .vector("A", 4, r16())
            .context(*b"model-1"),
        Config::builder(6, 3)
            .graph(harary(4, [1; 32]))
            .vector("a", 4, Ring::pow2(17).unwrap())
            .context(*b"model-1"),
        base().malicious(keys(6)),
    ];
    let mut ids: Vec<[u8; 32]> = variants
        .into_iter()
        .map(|b| *b.build().unwrap().session_id())
        .collect();
    assert_eq!(
        ids[0],
        *base().build().unwrap().session_id(),
        "deterministic"
    );
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "every change changes the session id");
}
