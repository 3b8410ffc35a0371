//! The session every party of a networked run builds from the same flags: the float
//! session ([`secagg::session::FloatSession`]: the protocol [`Config`] and the float
//! encoding), the frame limits, and the demo inputs.
//!
//! A session is named by a *seed* string. The net hands the seed to the float session as
//! the caller's context, after which the float session binds its encoding, and every
//! protocol parameter is in the session id, so a client started with any different flag
//! is refused at the hello ([`TransportError::Rejected`](crate::error::TransportError::Rejected): "session ids differ"). The same
//! parameters built directly with [`FloatSession::builder`] (with [`caller_context`] and
//! [`graph_seed`]) give the same session id.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::error::{Error, Misuse, Result};
use secagg::protocol::{Config, MessageLimits};
use secagg::quantize::Quantizer;
use secagg::ring::RingVec;
use secagg::session::{Encoded, FloatSession, GraphChoice};
use secagg::ClientId;

use crate::roster::{demo_signing_key, Roster};

/// Domain-separation label of the net's caller context and of the values derived from
/// the seed.
pub const CONTEXT_LABEL: &[u8] = b"secagg-net/1";

/// Bytes added to every computed frame limit (the frame-type byte and headroom).
pub const FRAME_SLACK: usize = 64;

/// What every party must agree on (the command-line "session flags").
#[derive(Clone, Debug, PartialEq)]
pub struct SessionParams {
    /// Number of clients `n` (ids `0..n`).
    pub clients: usize,
    /// Length `d` of each client's float vector.
    pub dim: usize,
    /// Threshold `t`; `None`: `min(floor(2·deg/3) + 1, deg)` with
    /// `deg = min(degree, clients - 1)` (`clients - 1` for the complete graph).
    pub threshold: Option<usize>,
    /// `Some(k)`: a SecAgg+ Harary graph of degree `k`; `None`: the complete graph.
    pub degree: Option<usize>,
    /// Quantization bits `q` per element.
    pub quant_bits: u32,
    /// Clipping bound `c`.
    pub clip: f64,
    /// Ring width `b`; `None`: the smallest that cannot wrap for `n` clients.
    pub ring_bits: Option<u32>,
    /// The malicious model: the roster's keys are the protocol's signing keys.
    pub malicious: bool,
    /// The session seed: names the session, seeds the graph and the demo inputs.
    pub seed: String,
    /// The clients' Ed25519 verifying keys ([`Roster`]): hellos are checked against them,
    /// and in the malicious model they are the protocol's verifying keys. `None`: the
    /// demo keys derived from the seed ([`Roster::demo`]; **insecure**: anyone who knows
    /// the seed can sign for every client).
    pub roster: Option<Roster>,
    /// The grinding margin, in bits, that the parameter check plans for
    /// ([`secagg::protocol::params::ParamQuery::grinding_bits`]); `None`: the threat
    /// model's default (64 bits in the malicious model, whose server chooses `seed` and
    /// so the graph; 0 in the semi-honest one). It changes only whether the
    /// (degree, threshold) pair passes the check, not the session id.
    pub grinding_bits: Option<f64>,
}

impl SessionParams {
    /// `n` clients, `d` floats each, the complete graph, 16-bit quantization of
    /// `[-1, 1]`, the smallest safe ring, the semi-honest model, seed `"secagg-demo"`.
    pub fn new(clients: usize, dim: usize) -> Self {
        Self {
            clients,
            dim,
            threshold: None,
            degree: None,
            quant_bits: 16,
            clip: 1.0,
            ring_bits: None,
            malicious: false,
            seed: "secagg-demo".to_string(),
            roster: None,
            grinding_bits: None,
        }
    }
}

/// A built session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The parameters it was built from.
    pub params: SessionParams,
    /// The protocol configuration (one unnamed vector of `d` ring words): the float
    /// session's, shared.
    pub config: Arc<Config>,
    /// The float session: the configuration, the float encoding, encode and decode.
    pub float: FloatSession,
    /// The clients' verifying keys: [`SessionParams::roster`], or the demo keys.
    pub roster: Arc<Roster>,
}

/// The caller's context the net hands the float session for seed `S`:
/// `"secagg-net/1" || 0x00 || u64be(len(S)) || S`.
pub fn caller_context(seed: &str) -> Vec<u8> {
    let mut context = Vec::with_capacity(CONTEXT_LABEL.len() + 9 + seed.len());
    context.extend_from_slice(CONTEXT_LABEL);
    context.push(0);
    context.extend_from_slice(&(seed.len() as u64).to_be_bytes());
    context.extend_from_slice(seed.as_bytes());
    context
}

/// The public seed of the Harary graph for session seed `seed`: `H("graph", "")`.
pub fn graph_seed(seed: &str) -> [u8; 32] {
    labelled(b"graph", seed, &[])
}

pub(crate) fn labelled(label: &[u8], seed: &str, extra: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CONTEXT_LABEL);
    h.update([0]);
    h.update(label);
    h.update([0]);
    h.update((seed.len() as u64).to_be_bytes());
    h.update(seed.as_bytes());
    h.update(extra);
    h.finalize().into()
}

impl Session {
    /// Validates the parameters and builds the float session: the graph (Harary of
    /// `degree`, or complete), the threshold (given, or `min(floor(2·deg/3) + 1, deg)`
    /// with `deg = min(degree, n - 1)`), the ring
    /// (given, or the narrowest safe one), the graph seed [`graph_seed`] and the caller
    /// context [`caller_context`], followed by the roster's [`Roster::digest`] when a
    /// roster is given (the demo keys add nothing: their session ids are those of
    /// earlier versions).
    ///
    /// # Errors
    /// [`Misuse::VerifyingKeyCount`] for a roster that does not list `n` clients; the
    /// float session's errors ([`secagg::session::FloatSessionBuilder::build`]: client
    /// count, degree, threshold, ring width, dimension, weak or repeated keys).
    pub fn new(params: SessionParams) -> Result<Session> {
        let n = params.clients;
        let roster = match &params.roster {
            Some(r) if r.len() != n => {
                return Err(Error::Misuse(Misuse::VerifyingKeyCount {
                    expected: n,
                    found: r.len(),
                }))
            }
            Some(r) => r.clone(),
            None => Roster::demo(&params.seed, n),
        };
        let mut context = caller_context(&params.seed);
        if params.roster.is_some() {
            context.extend_from_slice(&roster.digest());
        }
        let deg = match params.degree {
            Some(k) => k.min(n.saturating_sub(1)),
            None => n.saturating_sub(1),
        };
        let threshold = params.threshold.unwrap_or((2 * deg / 3 + 1).min(deg));
        let mut builder = FloatSession::builder(n)
            .dim(params.dim)
            .clip(params.clip)
            .bits(params.quant_bits)
            .graph(match params.degree {
                Some(k) => GraphChoice::Harary(k),
                None => GraphChoice::Complete,
            })
            .threshold(threshold)
            .grinding_option(params.grinding_bits)
            .graph_seed(graph_seed(&params.seed))
            .context(context);
        if let Some(b) = params.ring_bits {
            builder = builder.ring_bits(b);
        }
        // The roster's keys reach the configuration here: in the malicious model as the
        // protocol's verifying keys. (Issue 14 item 3 hook: graph positions derived from
        // the registered keys go to the builder here too, in both models, from
        // `roster.keys()`.)
        if params.malicious {
            builder = builder.malicious(roster.keys().to_vec());
        }
        let float = builder.build()?;
        Ok(Session {
            params,
            config: Arc::clone(float.config()),
            float,
            roster: Arc::new(roster),
        })
    }

    /// The float encoding.
    pub fn quantizer(&self) -> &Quantizer {
        self.float.quantizer()
    }

    /// Client `id`'s demo signing key (derived from the seed: **insecure**), when this
    /// session uses the demo keys ([`SessionParams::roster`] is `None`); `None` with a
    /// real roster.
    pub fn demo_signing_key(&self, id: ClientId) -> Option<SigningKey> {
        self.roster
            .is_demo()
            .then(|| demo_signing_key(&self.params.seed, id))
    }

    /// The signing key the protocol client `id` takes with the demo keys: its demo key
    /// in the malicious model, `None` in the semi-honest model or with a real roster.
    pub fn protocol_key(&self, id: ClientId) -> Option<SigningKey> {
        self.params
            .malicious
            .then(|| self.demo_signing_key(id))
            .flatten()
    }

    /// Whether `key` is client `id`'s key in this session's roster.
    pub fn holds_key(&self, id: ClientId, key: &SigningKey) -> bool {
        self.roster.key(id) == Some(&key.verifying_key())
    }

    /// Largest frame (type byte included) a client may send in this session: the
    /// largest client message of the protocol's [`MessageLimits`], plus [`FRAME_SLACK`].
    pub fn max_client_frame(&self) -> usize {
        MessageLimits::new(&self.config)
            .map_or(usize::MAX, |l| l.max_client())
            .saturating_add(FRAME_SLACK)
    }

    /// Largest frame (type byte included) the server may send in this session: the
    /// largest server message of the protocol's [`MessageLimits`], plus [`FRAME_SLACK`].
    pub fn max_server_frame(&self) -> usize {
        MessageLimits::new(&self.config)
            .map_or(usize::MAX, |l| l.max_server())
            .saturating_add(FRAME_SLACK)
    }

    /// Client `id`'s demo vector: `d` `f64`s uniform in `[-c, c)`, the `j`-th
    /// `(2·u_j - 1)·c` with `u_j = (next_u64() >> 11)·2^-53` from
    /// `seeded_rng(H("demo-input", u32be(id)))`, and the seed `H("demo-rounding",
    /// u32be(id))` of the stream that rounds them (so the server can recompute the
    /// exact ring words); `H` is `docs/networking.md`'s labelled hash.
    pub fn demo_input(&self, id: ClientId) -> (Vec<f64>, [u8; 32]) {
        let mut rng = seeded_rng(labelled(
            b"demo-input",
            &self.params.seed,
            &id.to_be_bytes(),
        ));
        let c = self.params.clip;
        let x = (0..self.params.dim)
            .map(|_| {
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                (2.0 * u - 1.0) * c
            })
            .collect();
        let rounding = labelled(b"demo-rounding", &self.params.seed, &id.to_be_bytes());
        (x, rounding)
    }

    /// Client `id`'s demo vector, encoded exactly as `secagg client --demo-input`
    /// encodes it.
    ///
    /// # Errors
    /// None in practice (the demo floats are finite); the float session's errors.
    pub fn demo_words(&self, id: ClientId) -> Result<Encoded> {
        let (x, rounding) = self.demo_input(id);
        self.float.encode(&x, 1, &mut seeded_rng(rounding))
    }

    /// The protocol input for an encoded vector.
    ///
    /// # Errors
    /// [`Misuse::InputCount`] or [`Misuse::InputLength`] when `encoded` does not fit this
    /// session's vectors.
    pub fn ring_input(&self, encoded: &Encoded) -> Result<Vec<RingVec>> {
        let specs = self.config.vectors();
        if encoded.vectors().len() != specs.len() {
            return Err(Error::Misuse(Misuse::InputCount {
                expected: specs.len(),
                found: encoded.vectors().len(),
            }));
        }
        for (vector, (v, spec)) in encoded.vectors().iter().zip(specs).enumerate() {
            if v.len() != spec.dim {
                return Err(Error::Misuse(Misuse::InputLength {
                    vector,
                    expected: spec.dim,
                    found: v.len(),
                }));
            }
        }
        Ok(encoded.vectors().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_changes_the_session_id() {
        let base = SessionParams::new(10, 100);
        let sid = |p: SessionParams| *Session::new(p).unwrap().config.session_id();
        let s0 = sid(base.clone());
        assert_eq!(s0, sid(base.clone()));
        let variants = [
            SessionParams {
                clients: 11,
                ..base.clone()
            },
            SessionParams {
                dim: 101,
                ..base.clone()
            },
            SessionParams {
                threshold: Some(5),
                ..base.clone()
            },
            SessionParams {
                degree: Some(4),
                ..base.clone()
            },
            SessionParams {
                quant_bits: 15,
                ..base.clone()
            },
            SessionParams {
                clip: 2.0,
                ..base.clone()
            },
            SessionParams {
                ring_bits: Some(30),
                ..base.clone()
            },
            SessionParams {
                malicious: true,
                ..base.clone()
            },
            SessionParams {
                seed: "other".into(),
                ..base.clone()
            },
        ];
        for v in variants {
            assert_ne!(sid(v.clone()), s0, "{v:?}");
        }
    }

    /// The net builds its sessions through the float session: the same parameters given
    /// to [`FloatSession::builder`] directly give the same configuration and session id.
    #[test]
    fn same_session_id_as_the_float_session() {
        let base = SessionParams::new(10, 100);
        for p in [
            base.clone(),
            SessionParams {
                degree: Some(4),
                threshold: Some(3),
                ..base.clone()
            },
            SessionParams {
                quant_bits: 12,
                clip: 0.25,
                ring_bits: Some(40),
                threshold: Some(9),
                ..base.clone()
            },
            SessionParams {
                malicious: true,
                degree: Some(6),
                threshold: Some(4),
                seed: "another".into(),
                ..base.clone()
            },
        ] {
            let net = Session::new(p.clone()).unwrap();
            let deg = p.degree.unwrap_or(p.clients - 1);
            let mut b = FloatSession::builder(p.clients)
                .dim(p.dim)
                .clip(p.clip)
                .bits(p.quant_bits)
                .threshold(p.threshold.unwrap_or(2 * deg / 3 + 1))
                .graph_seed(graph_seed(&p.seed))
                .context(caller_context(&p.seed));
            b = match p.degree {
                Some(k) => b.harary(k),
                None => b.complete(),
            };
            if let Some(r) = p.ring_bits {
                b = b.ring_bits(r);
            }
            if p.malicious {
                let keys = (0..p.clients as ClientId)
                    .map(|i| demo_signing_key(&p.seed, i).verifying_key())
                    .collect();
                b = b.malicious(keys);
            }
            let core = b.build().unwrap();
            assert_eq!(net.config.session_id(), core.session_id(), "{p:?}");
            assert_eq!(
                net.config.session_id_preimage(),
                core.config().session_id_preimage()
            );
            assert!(Arc::ptr_eq(&net.config, net.float.config()));
            assert_eq!(net.float.caller_context(), caller_context(&p.seed));
            assert_eq!(net.quantizer(), core.quantizer());
        }
    }

    /// `--clients 10 --dim 7 --degree 4`: tcId 5 ("net-harary") of
    /// secagg/tests/vectors/session.json, computed independently from
    /// docs/networking.md and docs/float-encoding.md.
    #[test]
    fn known_answer_session_id() {
        const VECTORS: &str = include_str!("../../secagg/tests/vectors/session.json");
        let want = "c32845ea24089a4330b3dba485187b24836800980347282d4d6345dcb4059ff8";
        assert!(VECTORS.contains(&format!("\"session_id\": \"{want}\"")));
        assert!(VECTORS.contains("\"net_seed\": \"secagg-demo\""));
        let s = Session::new(SessionParams {
            degree: Some(4),
            ..SessionParams::new(10, 7)
        })
        .unwrap();
        let got: String = s
            .config
            .session_id()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, want);
    }

    /// secagg/tests/vectors/net.json, computed independently by gen_net.py from
    /// docs/networking.md: the labelled hashes, the demo signing keys, the session id of
    /// `--clients 4 --dim 5 --malicious`, and the demo floats and their ring words.
    #[test]
    fn known_answer_derivations_and_demo_inputs() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../secagg/tests/vectors/net.json")).unwrap();
        let seed = v["seed"].as_str().unwrap();
        let h = &v["H"];
        let hexs = |x: &serde_json::Value| x.as_str().unwrap().to_string();
        assert_eq!(hex::encode(graph_seed(seed)), hexs(&h["graph"]));
        let sv = &v["session"];
        let n = sv["n"].as_u64().unwrap() as usize;
        let s = Session::new(SessionParams {
            malicious: true,
            seed: seed.to_string(),
            ..SessionParams::new(n, sv["dim"].as_u64().unwrap() as usize)
        })
        .unwrap();
        for i in 0..n {
            let id = i as ClientId;
            let label = |l: &str| hexs(&h[format!("{l} {i}")]);
            let key = s.demo_signing_key(id).unwrap();
            assert_eq!(hex::encode(key.to_bytes()), label("signing-key"));
            assert_eq!(hexs(&sv["signing_key_seeds"][i]), label("signing-key"));
            assert_eq!(
                hex::encode(key.verifying_key().as_bytes()),
                hexs(&sv["verifying_keys"][i])
            );
            let (x, rounding) = s.demo_input(id);
            assert_eq!(hex::encode(rounding), label("demo-rounding"));
            let want = &v["demo"][i];
            let bits: Vec<String> = x.iter().map(|f| hex::encode(f.to_be_bytes())).collect();
            let want_bits: Vec<String> = want["float_bits"]
                .as_array()
                .unwrap()
                .iter()
                .map(hexs)
                .collect();
            assert_eq!(bits, want_bits, "client {i}");
            let words: Vec<u64> = want["words"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_u64().unwrap())
                .collect();
            assert_eq!(s.demo_words(id).unwrap().vectors()[0].to_u64s(), words);
        }
        assert_eq!(
            s.config.threshold() as u64,
            sv["threshold"].as_u64().unwrap()
        );
        assert_eq!(
            hex::encode(s.config.session_id_preimage()),
            hexs(&sv["preimage"])
        );
        assert_eq!(hex::encode(s.config.session_id()), hexs(&sv["session_id"]));
    }

    /// A real roster is bound into the session id (its digest after the caller context),
    /// in both models; in the malicious model its keys are the protocol's keys; a roster
    /// of another size is refused.
    #[test]
    fn a_roster_is_bound_into_the_session_id() {
        let keys = |salt: u8| {
            let keys = (0..4u8)
                .map(|i| SigningKey::from_bytes(&[i ^ salt; 32]).verifying_key())
                .collect();
            Some(Roster::new(keys).unwrap())
        };
        for malicious in [false, true] {
            let base = SessionParams {
                malicious,
                ..SessionParams::new(4, 5)
            };
            let demo = Session::new(base.clone()).unwrap();
            let a = Session::new(SessionParams {
                roster: keys(0),
                ..base.clone()
            })
            .unwrap();
            let b = Session::new(SessionParams {
                roster: keys(0x80),
                ..base.clone()
            })
            .unwrap();
            assert_ne!(a.config.session_id(), demo.config.session_id());
            assert_ne!(a.config.session_id(), b.config.session_id());
            let mut context = caller_context(&base.seed);
            context.extend_from_slice(&a.roster.digest());
            assert_eq!(a.float.caller_context(), context);
            assert_eq!(a.demo_signing_key(0), None);
            assert_eq!(a.protocol_key(0), None);
            assert_eq!(demo.protocol_key(0).is_some(), malicious);
            assert!(a.holds_key(2, &SigningKey::from_bytes(&[2; 32])));
            assert!(!a.holds_key(2, &SigningKey::from_bytes(&[3; 32])));
            if malicious {
                for (i, k) in a.roster.keys().iter().enumerate() {
                    assert_eq!(a.config.verifying_key(i as ClientId), Some(k));
                }
            }
        }
        assert_eq!(
            Session::new(SessionParams {
                roster: keys(0),
                ..SessionParams::new(5, 5)
            })
            .err(),
            Some(Error::Misuse(Misuse::VerifyingKeyCount {
                expected: 5,
                found: 4
            }))
        );
    }

    /// secagg/tests/vectors/net.json, "roster" (gen_net.py, from docs/networking.md,
    /// "Client authentication", with its own RFC 8032): the roster text parses to the
    /// listed keys and is what `to_text` writes, the key file parses, the digest, context
    /// and session ids of both models, and one hello exchange byte for byte (challenge
    /// frame, transcript, deterministic signature, hello body and frame).
    #[test]
    fn known_answer_roster_and_hello() {
        use crate::frame::{encode_frame, kind};
        use crate::hello::{Challenge, Hello};
        use crate::roster::parse_key_file;

        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../secagg/tests/vectors/net.json")).unwrap();
        let seed = v["seed"].as_str().unwrap();
        let r = &v["roster"];
        let hexs = |x: &serde_json::Value| x.as_str().unwrap().to_string();
        let text = r["roster_text"].as_str().unwrap();
        let roster = Roster::parse(text).unwrap();
        assert_eq!(roster.to_text(), text);
        for (i, k) in roster.keys().iter().enumerate() {
            assert_eq!(hex::encode(k.as_bytes()), hexs(&r["verifying_keys"][i]));
        }
        let key2 = parse_key_file(r["key_file_2"].as_str().unwrap()).unwrap();
        assert_eq!(hex::encode(key2.to_bytes()), hexs(&r["secret_keys"][2]));
        assert_eq!(hex::encode(roster.digest()), hexs(&r["digest"]));
        let n = roster.len();
        let dim = v["session"]["dim"].as_u64().unwrap() as usize;
        let build = |malicious| {
            Session::new(SessionParams {
                malicious,
                seed: seed.to_string(),
                roster: Some(roster.clone()),
                ..SessionParams::new(n, dim)
            })
            .unwrap()
        };
        for (malicious, name) in [(false, "semi_honest"), (true, "malicious")] {
            let s = build(malicious);
            assert_eq!(
                hex::encode(s.float.caller_context()),
                hexs(&r["caller_context"])
            );
            assert_eq!(hex::encode(s.config.context()), hexs(&r["context"]));
            assert_eq!(
                hex::encode(s.config.session_id_preimage()),
                hexs(&r[name]["preimage"])
            );
            assert_eq!(
                hex::encode(s.config.session_id()),
                hexs(&r[name]["session_id"])
            );
        }
        let h = &r["hello"];
        let s = build(false);
        let client = h["client"].as_u64().unwrap() as ClientId;
        assert!(s.holds_key(client, &key2));
        let mut c = [0u8; 32];
        c.copy_from_slice(&hex::decode(hexs(&h["challenge"])).unwrap());
        let challenge = Challenge(c);
        assert_eq!(
            hex::encode(encode_frame(kind::CHALLENGE, &challenge.encode()).unwrap()),
            hexs(&h["challenge_frame"])
        );
        assert_eq!(
            hex::encode(Hello::transcript(
                &challenge,
                &crate::tls::NO_BINDING,
                s.config.session_id(),
                client
            )),
            hexs(&h["transcript"])
        );
        assert_eq!(hexs(&h["channel_binding"]), "00".repeat(32));
        let hello = Hello::sign(
            &key2,
            &challenge,
            &crate::tls::NO_BINDING,
            s.config.session_id(),
            client,
        );
        assert_eq!(hex::encode(hello.signature), hexs(&h["signature"]));
        assert_eq!(hex::encode(hello.encode()), hexs(&h["hello_body"]));
        assert_eq!(
            hex::encode(encode_frame(kind::HELLO, &hello.encode()).unwrap()),
            hexs(&h["hello_frame"])
        );
        assert!(hello.verify(
            roster.key(client).unwrap(),
            &challenge,
            &crate::tls::NO_BINDING
        ));
    }

    #[test]
    fn demo_inputs_are_deterministic_per_id_and_in_range() {
        let s = Session::new(SessionParams::new(5, 1000)).unwrap();
        let (a, ra) = s.demo_input(3);
        let (b, rb) = s.demo_input(3);
        let (c, _) = s.demo_input(4);
        assert_eq!((a.clone(), ra), (b, rb));
        assert_ne!(a, c);
        assert!(a.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.1, "{mean}");
        assert_eq!(
            s.demo_words(3).unwrap().vectors(),
            s.demo_words(3).unwrap().vectors()
        );
    }

    #[test]
    fn defaults() {
        let s = Session::new(SessionParams::new(10, 7)).unwrap();
        assert_eq!(s.config.threshold(), 7); // floor(2*9/3)+1
        assert_eq!(s.quantizer().config().ring_bits, 20); // 16 + ceil(log2 10)
        let s = Session::new(SessionParams {
            degree: Some(4),
            ..SessionParams::new(10, 7)
        })
        .unwrap();
        assert_eq!(s.config.threshold(), 3);
        assert!(s.max_client_frame() > 7 * 20 / 8);
        // A degree >= n - 1 is the complete graph, with its threshold (docs/networking.md).
        let s = Session::new(SessionParams {
            degree: Some(9),
            ..SessionParams::new(6, 7)
        })
        .unwrap();
        assert_eq!(s.config.threshold(), 4); // deg = min(9, 5) = 5
        assert!(s.config.graph().is_complete());
        // Odd degree, odd n: one client has K + 1 neighbors.
        let s = Session::new(SessionParams {
            degree: Some(5),
            ..SessionParams::new(11, 7)
        })
        .unwrap();
        assert_eq!(s.config.threshold(), 4);
        assert_eq!(
            (s.config.graph().min_degree(), s.config.graph().max_degree()),
            (5, 6)
        );
    }

    /// Every message of whole sessions (both models, both graph kinds) fits the frame
    /// limits, and the limits are not loose by more than the slack plus the parts a
    /// session did not use.
    #[test]
    fn frame_limits_hold_for_every_message() {
        use secagg::crypto::rng::seeded_rng;
        use secagg::protocol::{Client, Server};
        for (malicious, degree) in [
            (false, None),
            (true, None),
            (false, Some(4)),
            (true, Some(6)),
        ] {
            let s = Session::new(SessionParams {
                malicious,
                degree,
                ..SessionParams::new(9, 300)
            })
            .unwrap();
            let cfg = s.config.clone();
            let mut rng = seeded_rng([5; 32]);
            let mut server = Server::new(cfg.clone());
            let mut clients = Vec::new();
            let (mut max_c, mut max_s) = (0, 0);
            for id in 0..9 {
                let input = s.ring_input(&s.demo_words(id).unwrap()).unwrap();
                let (c, m) =
                    Client::new(cfg.clone(), id, input, s.protocol_key(id), &mut rng).unwrap();
                max_c = max_c.max(m.encode(&cfg).unwrap().len() + 1);
                server.receive(id, m).unwrap();
                clients.push(c);
            }
            while server.output().is_none() {
                for (id, msg) in server.close_round().unwrap() {
                    max_s = max_s.max(msg.encode(&cfg).unwrap().len() + 1);
                    let reply = clients[id as usize].handle(msg, &mut rng).unwrap();
                    max_c = max_c.max(reply.encode(&cfg).unwrap().len() + 1);
                    server.receive(id, reply).unwrap();
                }
            }
            assert!(max_c <= s.max_client_frame(), "{malicious} {degree:?}");
            assert!(max_s <= s.max_server_frame(), "{malicious} {degree:?}");
            assert!(
                s.max_client_frame() - max_c <= FRAME_SLACK + 64,
                "{malicious} {degree:?}"
            );
        }
    }

    /// The parameter check plans for a grinding server with `--malicious` (64 bits by
    /// default: the server picks the seed and so the graph), and `grinding_bits`
    /// changes only the check's verdict, never the session id.
    #[test]
    fn malicious_check_has_the_grinding_margin() {
        use secagg::session::Choice;
        // n = 1000 at the default rates 0.1: (96, 67) is the malicious finder's pair
        // without a margin, (132, 97) with the default one.
        let base = SessionParams {
            degree: Some(96),
            threshold: Some(67),
            malicious: true,
            ..SessionParams::new(1000, 4)
        };
        let by_default = Session::new(base.clone()).unwrap();
        assert!(matches!(by_default.float.choice(), Choice::Unchecked(_)));
        assert_eq!(by_default.float.query().grinding_bits, 64.0);
        let opted_out = Session::new(SessionParams {
            grinding_bits: Some(0.0),
            ..base.clone()
        })
        .unwrap();
        assert!(matches!(opted_out.float.choice(), Choice::Checked(p) if p.grinding_bits == 0.0));
        assert_eq!(
            opted_out.config.session_id(),
            by_default.config.session_id()
        );
        let margined = Session::new(SessionParams {
            degree: Some(132),
            threshold: Some(97),
            ..base
        })
        .unwrap();
        assert!(matches!(margined.float.choice(), Choice::Checked(p) if p.grinding_bits == 64.0));
    }
}
