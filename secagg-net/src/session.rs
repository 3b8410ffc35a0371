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
    /// The malicious model, with Ed25519 keys derived from the seed (demo only: anyone
    /// who knows the seed can sign for every client).
    pub malicious: bool,
    /// The session seed: names the session, seeds the graph and the demo inputs.
    pub seed: String,
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

fn labelled(label: &[u8], seed: &str, extra: &[u8]) -> [u8; 32] {
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
    /// context [`caller_context`].
    ///
    /// # Errors
    /// The float session's errors ([`secagg::session::FloatSessionBuilder::build`]:
    /// client count, degree, threshold, ring width, dimension).
    pub fn new(params: SessionParams) -> Result<Session> {
        let n = params.clients;
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
            .graph_seed(graph_seed(&params.seed))
            .context(caller_context(&params.seed));
        if let Some(b) = params.ring_bits {
            builder = builder.ring_bits(b);
        }
        if params.malicious {
            let keys = signing_keys(&params.seed, n);
            builder = builder.malicious(keys.iter().map(SigningKey::verifying_key).collect());
        }
        let float = builder.build()?;
        Ok(Session {
            params,
            config: Arc::clone(float.config()),
            float,
        })
    }

    /// The float encoding.
    pub fn quantizer(&self) -> &Quantizer {
        self.float.quantizer()
    }

    /// Client `id`'s Ed25519 signing key in the malicious model (derived from the seed;
    /// demo only), `None` in the semi-honest model.
    pub fn signing_key(&self, id: ClientId) -> Option<SigningKey> {
        if !self.params.malicious {
            return None;
        }
        let seed = labelled(b"signing-key", &self.params.seed, &id.to_be_bytes());
        Some(SigningKey::from_bytes(&seed))
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

fn signing_keys(seed: &str, n: usize) -> Vec<SigningKey> {
    (0..n)
        .map(|id| {
            let id = id as ClientId;
            SigningKey::from_bytes(&labelled(b"signing-key", seed, &id.to_be_bytes()))
        })
        .collect()
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
                let keys = signing_keys(&p.seed, p.clients);
                b = b.malicious(keys.iter().map(SigningKey::verifying_key).collect());
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
        let want = "bff23ae8f037299ef601f8a6d541ba3cef3e59888c5c2e87b537b2d0bc0e5c10";
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
            let key = s.signing_key(id).unwrap();
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
                    Client::new(cfg.clone(), id, input, s.signing_key(id), &mut rng).unwrap();
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
}
