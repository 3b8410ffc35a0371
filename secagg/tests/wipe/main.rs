//! Wipe-on-drop, end to end: a scanning global allocator (`alloc`) looks in every heap
//! block freed during a full session for the secrets of every client, and the test
//! fails if any freed block still holds one.
//!
//! Its own binary, because it installs a `#[global_allocator]`, and a single test
//! function, because the allocator sees every thread's frees.
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
//! those strings (16 or 32 bytes each) and zeroed. The simulator (`sim::run`) is
//! checked the same way for everything but the held shares (it exposes no messages).
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
use ed25519_dalek::SigningKey;
use rand_chacha::ChaCha20Rng;
use secagg::crypto::aead::{self, AssociatedData};
use secagg::crypto::kdf;
use secagg::crypto::keys::SecretKey;
use secagg::crypto::rng::seeded_rng;
use secagg::crypto::shamir::SecretScalar;
use secagg::protocol::client::Client;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::sim::{self, DropSchedule};
use secagg::{ClientId, Round};
use sha2::{Digest, Sha256};

#[global_allocator]
static ALLOC: alloc::Scanning = alloc::Scanning;

/// Runs the session of `spec` made with `seed` to the end, `dropped` silent from the
/// masked-input round on (so the server reconstructs its masking key and the
/// survivors' self-mask secrets), and checks the sum against the plaintext sum. With
/// `restore`, every client is stored (`Client::to_bytes`) and restored
/// (`Client::from_bytes`) before each message it handles.
fn run(spec: &Spec, seed: u8, dropped: &[ClientId], restore: bool) -> Session {
    let mut s = Session::new(spec, seed);
    let mut msgs: Vec<(ClientId, ServerMessage)> = s.server_round(&[]);
    let mut silent: &[ClientId] = &[];
    while !msgs.is_empty() {
        if msgs[0].1.round() == Round::MaskedInputCollection {
            silent = dropped;
        }
        if restore {
            for (id, _) in &msgs {
                let c = &mut s.clients[*id as usize];
                let stored = c.to_bytes().expect("a live client stores");
                *c = Client::from_bytes(Arc::clone(&s.config), &stored).expect("restores");
            }
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

/// Secrets, with a label each.
type Secrets = Vec<(String, Vec<u8>)>;

/// Every secret of a session but the shares, derived from what each client draws from
/// its generator (`rngs[u]`, in the order `KeysAdvertised::new` draws: encryption key,
/// masking key, self-mask secret) and from the signing keys.
fn derived(config: &Config, rngs: Vec<ChaCha20Rng>, signing: Option<&[SigningKey]>) -> Secrets {
    let sid = *config.session_id();
    let mut out: Secrets = Vec::new();
    let mut enc: Vec<SecretKey> = Vec::new();
    let mut mask: Vec<SecretKey> = Vec::new();
    for (u, mut rng) in rngs.into_iter().enumerate() {
        let u = u as ClientId;
        let (e, m) = (SecretKey::random(&mut rng), SecretKey::random(&mut rng));
        let b = SecretScalar::random(&mut rng);
        out.push((
            format!("enc_sk[{u}]"),
            e.to_scalar().unwrap().to_bytes().to_vec(),
        ));
        out.push((
            format!("mask_sk[{u}]"),
            m.to_scalar().unwrap().to_bytes().to_vec(),
        ));
        out.push((format!("b[{u}]"), b.to_bytes().to_vec()));
        for spec in config.vectors() {
            let seed = kdf::self_mask_seed(&b, &sid, u, spec.name.as_bytes()).unwrap();
            out.push((
                format!("self_seed[{u}][{}]", spec.name),
                seed.as_bytes().to_vec(),
            ));
        }
        enc.push(e);
        mask.push(m);
    }
    for (u, k) in signing.unwrap_or_default().iter().enumerate() {
        out.push((format!("signing_key[{u}]"), k.to_bytes().to_vec()));
    }
    for u in 0..config.n() as ClientId {
        for &v in config.graph().neighbors(u) {
            let (ui, vi) = (u as usize, v as usize);
            let enc_shared = enc[ui].agree(&enc[vi].public_key()).unwrap();
            let key_out = kdf::share_key(&enc_shared, &sid, u, v);
            out.push((format!("share_key[{u}->{v}]"), key_out.as_bytes().to_vec()));
            if u < v {
                let mask_shared = mask[ui].agree(&mask[vi].public_key()).unwrap();
                out.push((
                    format!("enc_shared[{u},{v}]"),
                    enc_shared.as_bytes().to_vec(),
                ));
                out.push((
                    format!("mask_shared[{u},{v}]"),
                    mask_shared.as_bytes().to_vec(),
                ));
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
        }
    }
    out
}

/// The secrets of a driven session (a finished run): [`derived`], checked against the
/// public keys each client advertised, and the shares each client holds, opened from
/// the ciphertexts it was sent with the independently derived key.
fn secrets(s: &Session, seed: u8) -> Secrets {
    let config: &Config = &s.config;
    let sid = *config.session_id();
    let n = config.n() as ClientId;
    let enc_sk = |u: ClientId| SecretKey::random(&mut client_rng(seed, u));
    for u in 0..n {
        let mut rng = client_rng(seed, u);
        let (e, m) = (SecretKey::random(&mut rng), SecretKey::random(&mut rng));
        let ClientMessage::AdvertiseKeys(adv) = &s.sent[u as usize][0] else {
            panic!("client {u}'s first message is not AdvertiseKeys");
        };
        assert_eq!(
            (e.public_key(), m.public_key()),
            (adv.enc_pk, adv.mask_pk),
            "the secrets derived for client {u} are not the ones it used"
        );
    }
    let rngs: Vec<ChaCha20Rng> = (0..n).map(|u| client_rng(seed, u)).collect();
    let mut out = derived(config, rngs, s.keys.as_deref());
    for u in 0..n {
        let e = enc_sk(u);
        let ClientMessage::ShareKeys(sk) = s.sent_in(u, Round::ShareKeys) else {
            panic!("client {u} sent no ShareKeys");
        };
        for sealed in &sk.shares {
            let v = sealed.to;
            let shared = e.agree(&enc_sk(v).public_key()).unwrap();
            let key = kdf::share_key(&shared, &sid, u, v);
            let ad = AssociatedData {
                session_id: sid,
                round: Round::ShareKeys.number(),
                sender: u,
                receiver: v,
            };
            let pt = aead::open(&key, &ad, &sealed.ciphertext).expect("opens");
            assert_eq!(pt.len(), 72);
            out.push((format!("held[{v}<-{u}].mask_key"), pt[8..40].to_vec()));
            out.push((format!("held[{v}<-{u}].self_mask"), pt[40..72].to_vec()));
        }
    }
    out
}

/// Registers `secrets`, runs `session` with every freed block scanned, and returns the
/// labels of the secrets found in freed blocks (with block size and offset).
fn scan(secrets: Secrets, session: impl FnOnce()) -> Vec<String> {
    let mut labels = Vec::with_capacity(secrets.len());
    for (label, bytes) in &secrets {
        assert_eq!(alloc::register(bytes), labels.len());
        labels.push(label.clone());
    }
    drop(secrets);
    alloc::set_mode(alloc::Mode::Scan);
    session();
    alloc::set_mode(alloc::Mode::Off);
    let (hits, total) = alloc::hits();
    alloc::clear();
    let mut found: Vec<String> = hits
        .iter()
        .map(|h| {
            let (label, size, offset) = (&labels[h.pattern], h.size, h.offset);
            format!("{label} (freed block of {size} bytes, offset {offset})")
        })
        .collect();
    if total > hits.len() {
        found.push(format!("... {} more", total - hits.len()));
    }
    found
}

/// A driven session, run twice (see the module documentation).
fn driven(spec: &Spec, seed: u8, dropped: &[ClientId], restore: bool) -> Vec<String> {
    alloc::set_mode(alloc::Mode::Wipe);
    let secrets = {
        let s = run(spec, seed, dropped, restore);
        secrets(&s, seed)
    };
    scan(secrets, || drop(run(spec, seed, dropped, restore)))
}

/// The generator `sim::run` gives client `id`: SHA-256 of a label, the session seed
/// and the id (the simulator's derivation, recomputed here).
fn sim_rng(seed: &[u8; 32], id: ClientId) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"secagg/sim/client");
    h.update(seed);
    h.update(id.to_be_bytes());
    seeded_rng(h.finalize().into())
}

/// The simulator (what `secagg simulate` and Python's `simulate` run), `dropped`
/// silent from the masked-input round on.
fn simulated(spec: &Spec, seed: [u8; 32], dropped: &[ClientId]) -> Vec<String> {
    let (config, keys) = spec.build();
    let mut schedule = DropSchedule::none(spec.n);
    for &d in dropped {
        schedule.set(d, Some(Round::MaskedInputCollection));
    }
    let session = || {
        let inputs = sim::random_inputs(&config, &mut seeded_rng([0x55; 32]));
        let report = sim::run(Arc::clone(&config), inputs, keys.clone(), &schedule, seed)
            .expect("the session completes");
        assert!(report.is_correct());
        assert_eq!(report.output.included.len(), spec.n - dropped.len());
    };
    alloc::set_mode(alloc::Mode::Wipe);
    let rngs = (0..spec.n as ClientId).map(|u| sim_rng(&seed, u)).collect();
    let secrets = derived(&config, rngs, keys.as_deref());
    scan(secrets, session)
}

#[test]
fn no_freed_block_holds_a_client_secret() {
    let five = [
        ("w", 8, ring(16)),
        ("b", 3, ring(32)),
        ("c", 5, ring(64)),
        ("d", 2, ring(8)),
        ("e", 4, ring(20)),
    ];
    let complete = Spec::new(5, 3, GraphSpec::Complete, Model::SemiHonest).with_vectors(&five);
    let sparse = Spec::new(10, 3, harary(4), Model::SemiHonest);
    let malicious = Spec::new(10, 3, harary(4), Model::Malicious);
    type Case<'a> = (&'a str, Box<dyn Fn() -> Vec<String> + 'a>);
    let cases: Vec<Case<'_>> = vec![
        (
            "SecAgg, complete graph, semi-honest, five vectors",
            Box::new(|| driven(&complete, 1, &[2], false)),
        ),
        (
            "SecAgg+, Harary graph, semi-honest",
            Box::new(|| driven(&sparse, 2, &[7], false)),
        ),
        (
            "SecAgg+, Harary graph, malicious",
            Box::new(|| driven(&malicious, 3, &[4], false)),
        ),
        (
            "SecAgg+, Harary graph, malicious, clients stored and restored every round",
            Box::new(|| driven(&malicious, 4, &[1], true)),
        ),
        (
            "simulator, complete graph, five vectors",
            Box::new(|| simulated(&complete, [5; 32], &[0])),
        ),
        (
            "simulator, Harary graph, malicious",
            Box::new(|| simulated(&malicious, [6; 32], &[9])),
        ),
    ];
    let mut report = String::new();
    for (name, case) in &cases {
        let found = case();
        if !found.is_empty() {
            report.push_str(&format!("{name}: {} leaked copies\n", found.len()));
            for f in &found {
                report.push_str(&format!("  {f}\n"));
            }
        }
    }
    assert!(
        report.is_empty(),
        "secrets left in freed heap blocks:\n{report}"
    );
}
