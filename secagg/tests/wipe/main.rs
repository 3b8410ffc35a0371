//! Wipe-on-drop, end to end: a scanning global allocator (`alloc`) looks in every heap
//! block freed during a full session for the secrets of every client, and the test
//! fails if any freed block still holds one.
//!
//! Its own binary, because it installs a `#[global_allocator]`, and one `#[test]`,
//! because the allocator sees every thread's frees.
//!
//! How: a session is run twice with the same seeds (the secrets are a function of the
//! seeds). The first run, with freed blocks zeroed and not examined, yields the public
//! messages; from them and from the clients' generators the test derives every secret
//! independently of the protocol code, through the primitives alone (`hazmat`): each
//! client's two X25519 secret keys and its self-mask secret `b_u` (drawn from its
//! generator in the order `KeysAdvertised::new` draws them, checked against the public
//! keys it advertised), for each pair of neighbors the two X25519 agreements, the two
//! directional share-encryption keys and the pairwise mask seed of each vector, each
//! client's self-mask seed of each vector, the shares each client holds (decrypted
//! from the ciphertexts it was sent, with the independently derived key), and the
//! malicious model's signing keys. The second run has every freed block scanned for
//! those strings (16 or 32 bytes each) and zeroed.
//!
//! False failure: the patterns are 16- or 32-byte outputs of a hash, a KDF, a uniform
//! scalar or a Shamir share, so a freed block that is not a copy of one matches a given
//! pattern at a given offset with probability 2^-128; with under 2^12 patterns and
//! under 2^30 scanned offsets per run, a false hit has probability below 2^-86.

#[path = "../common/mod.rs"]
mod common;

mod alloc;

use std::sync::Arc;

use common::protocol::{client_rng, Session};
use common::session::{harary, ring, Model, Spec};
use secagg::crypto::aead::{self, AssociatedData};
use secagg::crypto::kdf;
use secagg::crypto::keys::{PublicKey, SecretKey};
use secagg::crypto::shamir::SecretScalar;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::{ClientId, Round};

#[global_allocator]
static ALLOC: alloc::Scanning = alloc::Scanning;

/// Runs the session of `spec` made with `seed` to the end, `dropped` silent from the
/// masked-input round on (so the server reconstructs its masking key and the
/// survivors' self-mask secrets), and checks the sum against the plaintext sum.
fn run(spec: &Spec, seed: u8, dropped: &[ClientId]) -> Session {
    let mut s = Session::new(spec, seed);
    let mut msgs: Vec<(ClientId, ServerMessage)> = s.server_round(&[]);
    let mut silent: &[ClientId] = &[];
    while !msgs.is_empty() {
        if msgs[0].1.round() == Round::MaskedInputCollection {
            silent = dropped;
        }
        msgs = s.step(&msgs, silent);
    }
    let included: Vec<ClientId> = (0..spec.n as ClientId)
        .filter(|u| !dropped.contains(u))
        .collect();
    let out = s.server.output().expect("the session completes").clone();
    assert_eq!(out.included, included);
    assert_eq!(out.sums, s.expected(&included));
    s
}

/// The secrets of one session, with a label each, derived from `s` (a finished run).
fn secrets(s: &Session, seed: u8) -> Vec<(String, Vec<u8>)> {
    let config: &Arc<Config> = &s.config;
    let sid = *config.session_id();
    let clients = s.clients.len() as ClientId;
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut enc: Vec<SecretKey> = Vec::new();
    let mut mask: Vec<SecretKey> = Vec::new();
    let mut pks: Vec<(PublicKey, PublicKey)> = Vec::new();
    for u in 0..clients {
        let mut rng = client_rng(seed, u);
        let (e, m) = (SecretKey::random(&mut rng), SecretKey::random(&mut rng));
        let b = SecretScalar::random(&mut rng);
        let ClientMessage::AdvertiseKeys(adv) = &s.sent[u as usize][0] else {
            panic!("client {u}'s first message is not AdvertiseKeys");
        };
        assert_eq!(
            (e.public_key(), m.public_key()),
            (adv.enc_pk, adv.mask_pk),
            "the secrets derived for client {u} are not the ones it used"
        );
        out.push((format!("enc_sk[{u}]"), e.to_scalar().unwrap().to_bytes().to_vec()));
        out.push((format!("mask_sk[{u}]"), m.to_scalar().unwrap().to_bytes().to_vec()));
        out.push((format!("b[{u}]"), b.to_bytes().to_vec()));
        for spec in config.vectors() {
            let seed = kdf::self_mask_seed(&b, &sid, u, spec.name.as_bytes()).unwrap();
            out.push((
                format!("self_seed[{u}][{}]", spec.name),
                seed.as_bytes().to_vec(),
            ));
        }
        pks.push((adv.enc_pk, adv.mask_pk));
        enc.push(e);
        mask.push(m);
    }
    if let Some(keys) = &s.keys {
        for (u, k) in keys.iter().enumerate() {
            out.push((format!("signing_key[{u}]"), k.to_bytes().to_vec()));
        }
    }
    for u in 0..clients {
        for &v in config.graph().neighbors(u) {
            let (ui, vi) = (u as usize, v as usize);
            let enc_shared = enc[ui].agree(&pks[vi].0).unwrap();
            let mask_shared = mask[ui].agree(&pks[vi].1).unwrap();
            let key_out = kdf::share_key(&enc_shared, &sid, u, v);
            out.push((format!("share_key[{u}->{v}]"), key_out.as_bytes().to_vec()));
            if u < v {
                out.push((format!("enc_shared[{u},{v}]"), enc_shared.as_bytes().to_vec()));
                out.push((format!("mask_shared[{u},{v}]"), mask_shared.as_bytes().to_vec()));
                for spec in config.vectors() {
                    let seed =
                        kdf::pairwise_mask_seed(&mask_shared, &sid, u, v, spec.name.as_bytes())
                            .unwrap();
                    out.push((
                        format!("pair_seed[{u},{v}][{}]", spec.name),
                        seed.as_bytes().to_vec(),
                    ));
                }
            }
            // The shares u sealed to v: what v holds from u.
            let ClientMessage::ShareKeys(sk) = s.sent_in(u, Round::ShareKeys) else {
                panic!("client {u} sent no ShareKeys");
            };
            let sealed = sk.shares.iter().find(|c| c.to == v).expect("a share for v");
            let ad = AssociatedData {
                session_id: sid,
                round: Round::ShareKeys.number(),
                sender: u,
                receiver: v,
            };
            let pt = aead::open(&key_out, &ad, &sealed.ciphertext).expect("opens");
            assert_eq!(pt.len(), 72);
            out.push((format!("held[{v}<-{u}].mask_key"), pt[8..40].to_vec()));
            out.push((format!("held[{v}<-{u}].self_mask"), pt[40..72].to_vec()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Runs `spec` twice (see the module documentation) and returns the labels of the
/// secrets found in freed blocks, with the block sizes.
fn leaks(spec: &Spec, seed: u8, dropped: &[ClientId]) -> Vec<String> {
    alloc::set_mode(alloc::Mode::Wipe);
    let labels: Vec<String> = {
        let s = run(spec, seed, dropped);
        let secrets = secrets(&s, seed);
        let mut labels = Vec::with_capacity(secrets.len());
        for (label, bytes) in &secrets {
            assert_eq!(alloc::register(bytes), labels.len());
            labels.push(label.clone());
        }
        labels
    };
    alloc::set_mode(alloc::Mode::Scan);
    drop(run(spec, seed, dropped));
    alloc::set_mode(alloc::Mode::Off);
    let (hits, total) = alloc::hits();
    alloc::clear();
    let mut found: Vec<String> = hits
        .iter()
        .map(|h| format!("{} (freed block of {} bytes)", labels[h.pattern], h.size))
        .collect();
    if total > hits.len() {
        found.push(format!("... {} more", total - hits.len()));
    }
    found
}

#[test]
fn no_freed_block_holds_a_client_secret() {
    let cases = [
        (
            "SecAgg, complete graph, semi-honest",
            Spec::new(5, 3, GraphSpec::Complete, Model::SemiHonest).with_vectors(&[
                ("w", 8, ring(16)),
                ("b", 3, ring(32)),
            ]),
            1u8,
            vec![2],
        ),
        (
            "SecAgg+, Harary graph, semi-honest",
            Spec::new(10, 3, harary(4), Model::SemiHonest),
            2,
            vec![7],
        ),
        (
            "SecAgg+, Harary graph, malicious",
            Spec::new(10, 3, harary(4), Model::Malicious),
            3,
            vec![4],
        ),
    ];
    let mut report = String::new();
    for (name, spec, seed, dropped) in &cases {
        let found = leaks(spec, *seed, dropped);
        if !found.is_empty() {
            report.push_str(&format!("{name}: {} leaked copies\n", found.len()));
            for f in &found {
                report.push_str(&format!("  {f}\n"));
            }
        }
    }
    assert!(report.is_empty(), "secrets left in freed heap blocks:\n{report}");
}
