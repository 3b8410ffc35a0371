//! The agreed parameters of one session, and the session id that binds them.
//!
//! Every party builds the same [`Config`] (usually shared through an `Arc`). Its
//! [`session_id`](Config::session_id) is SHA-256 over an unambiguous encoding of every
//! parameter and a caller-supplied context (for example a model hash and a training
//! round number), and it enters every key derivation, associated data and signature:
//! clients holding different configurations or contexts never complete a session
//! together. The encoding is given byte for byte in `docs/protocol.md`.

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use super::graph::{Graph, GraphSpec};
use super::params::ThreatModel;
use crate::error::{Error, Misuse, PeerMisbehaved, Result};
use crate::ids::{ClientId, Round, SessionId, PROTOCOL_VERSION};
use crate::ring::Ring;

/// Domain-separation label of the session-id hash.
pub const SESSION_ID_LABEL: &[u8] = b"secagg/session-id";

/// Most vectors a session may carry.
pub const MAX_VECTORS: usize = u16::MAX as usize;

/// Longest vector name, in bytes.
pub const MAX_NAME_LEN: usize = u16::MAX as usize;

/// One vector summed in the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorSpec {
    /// Unique name, bound into this vector's mask derivations ("" for a single unnamed
    /// vector).
    pub name: String,
    /// Number of ring elements, 1..=2^32-1.
    pub dim: usize,
    /// The ring the vector is summed in.
    pub ring: Ring,
}

/// Builder for [`Config`]; see [`Config::builder`].
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    n: usize,
    threshold: usize,
    graph: GraphSpec,
    threat: ThreatModel,
    vectors: Vec<VectorSpec>,
    context: Vec<u8>,
    verifying_keys: Vec<VerifyingKey>,
}

impl ConfigBuilder {
    /// The neighbor graph (default: [`GraphSpec::Complete`], i.e. SecAgg). In the
    /// malicious model a sparse Harary graph takes its positions from the clients'
    /// verifying keys and the seed ([`Graph::with_keys`]); in the semi-honest model
    /// from the seed alone, which must then be drawn at random after the ids are
    /// assigned (`docs/threat-model.md`, "The graph nobody can steer").
    pub fn graph(mut self, spec: GraphSpec) -> Self {
        self.graph = spec;
        self
    }

    /// The semi-honest model (the default): no signatures, no consistency round.
    pub fn semi_honest(mut self) -> Self {
        self.threat = ThreatModel::SemiHonest;
        self.verifying_keys.clear();
        self
    }

    /// The malicious model, with the Ed25519 verifying key of every client (index = id).
    pub fn malicious(mut self, verifying_keys: Vec<VerifyingKey>) -> Self {
        self.threat = ThreatModel::Malicious;
        self.verifying_keys = verifying_keys;
        self
    }

    /// Adds a vector. Vectors keep the order in which they are added.
    pub fn vector(mut self, name: impl Into<String>, dim: usize, ring: Ring) -> Self {
        self.vectors.push(VectorSpec {
            name: name.into(),
            dim,
            ring,
        });
        self
    }

    /// The caller's context bytes, bound into the session id. Include whatever makes
    /// the session unique (a model hash, a round number): two sessions with the same
    /// configuration and context have the same session id.
    pub fn context(mut self, context: impl Into<Vec<u8>>) -> Self {
        self.context = context.into();
        self
    }

    /// Validates the parameters, builds the graph and derives the session id.
    ///
    /// # Errors
    /// The graph's errors ([`Misuse::InvalidClientCount`], [`Misuse::InvalidDegree`]);
    /// [`Misuse::InvalidThreshold`] unless `1 <= t <=` the smallest neighborhood (so
    /// `n >= 2`); [`Misuse::ThresholdSplitView`] in the malicious model unless `2t >` the
    /// largest neighborhood; [`Misuse::InvalidVectorCount`],
    /// [`Misuse::InvalidVectorLength`], [`Misuse::TooLong`] (name over 65,535 bytes),
    /// [`Misuse::DuplicateVectorName`]; [`Misuse::VerifyingKeyCount`] (malicious: exactly
    /// `n` keys), [`Misuse::WeakVerifyingKey`], [`PeerMisbehaved::DuplicateKey`].
    pub fn build(self) -> Result<Config> {
        let n = self.n;
        // Malicious model: positions from the registered keys and the seed
        // (`graph::keyed_labels`); the key count is checked below first.
        let graph = match self.threat {
            ThreatModel::Malicious if self.verifying_keys.len() == n => {
                Graph::with_keys(n, &self.graph, &self.verifying_keys)?
            }
            _ => Graph::new(n, &self.graph)?,
        };
        let min_degree = graph.min_degree();
        let t = self.threshold;
        if t == 0 || t > min_degree {
            return Err(Error::Misuse(Misuse::InvalidThreshold {
                threshold: t,
                parties: min_degree,
            }));
        }
        if self.threat == ThreatModel::Malicious && 2 * t <= graph.max_degree() {
            return Err(Error::Misuse(Misuse::ThresholdSplitView {
                threshold: t,
                degree: graph.max_degree(),
            }));
        }
        if self.vectors.is_empty() || self.vectors.len() > MAX_VECTORS {
            return Err(Error::Misuse(Misuse::InvalidVectorCount {
                count: self.vectors.len(),
            }));
        }
        for (index, v) in self.vectors.iter().enumerate() {
            if v.dim == 0 || u32::try_from(v.dim).is_err() {
                return Err(Error::Misuse(Misuse::InvalidVectorLength {
                    index,
                    dim: v.dim,
                }));
            }
            if v.name.len() > MAX_NAME_LEN {
                return Err(Error::Misuse(Misuse::TooLong {
                    what: "vector name",
                    max: MAX_NAME_LEN,
                    found: v.name.len(),
                }));
            }
            if self.vectors[..index].iter().any(|w| w.name == v.name) {
                return Err(Error::Misuse(Misuse::DuplicateVectorName { index }));
            }
        }
        let expected_keys = match self.threat {
            ThreatModel::SemiHonest => 0,
            ThreatModel::Malicious => n,
        };
        if self.verifying_keys.len() != expected_keys {
            return Err(Error::Misuse(Misuse::VerifyingKeyCount {
                expected: expected_keys,
                found: self.verifying_keys.len(),
            }));
        }
        let mut seen: Vec<([u8; 32], ClientId)> = Vec::with_capacity(n);
        for (id, key) in self.verifying_keys.iter().enumerate() {
            let id = id as ClientId;
            if key.is_weak() {
                return Err(Error::Misuse(Misuse::WeakVerifyingKey { client: id }));
            }
            seen.push((key.to_bytes(), id));
        }
        seen.sort_unstable();
        if let Some(w) = seen.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
                first: w[0].1.min(w[1].1),
                second: w[0].1.max(w[1].1),
            }));
        }
        let mut config = Config {
            n,
            threshold: t,
            graph_spec: self.graph,
            graph,
            threat: self.threat,
            vectors: self.vectors,
            context: self.context,
            verifying_keys: self.verifying_keys,
            session_id: [0; 32],
        };
        config.session_id = Sha256::digest(config.session_id_preimage()).into();
        Ok(config)
    }
}

/// The agreed, immutable parameters of one session.
#[derive(Clone, Debug)]
pub struct Config {
    n: usize,
    threshold: usize,
    graph_spec: GraphSpec,
    graph: Graph,
    threat: ThreatModel,
    vectors: Vec<VectorSpec>,
    context: Vec<u8>,
    verifying_keys: Vec<VerifyingKey>,
    session_id: SessionId,
}

impl Config {
    /// Starts a configuration for `n` clients (ids `0..n`) and threshold `t`, the number
    /// of shares among a client's neighbors that reconstruct its secrets. Defaults: the
    /// complete graph, the semi-honest model, empty context; add at least one vector.
    pub fn builder(n: usize, threshold: usize) -> ConfigBuilder {
        ConfigBuilder {
            n,
            threshold,
            graph: GraphSpec::Complete,
            threat: ThreatModel::SemiHonest,
            vectors: Vec::new(),
            context: Vec::new(),
            verifying_keys: Vec::new(),
        }
    }

    /// Number of clients; ids are `0..n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The threshold `t`.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The graph specification agreed on.
    pub fn graph_spec(&self) -> &GraphSpec {
        &self.graph_spec
    }

    /// The neighbor graph built from it.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The threat model.
    pub fn threat_model(&self) -> ThreatModel {
        self.threat
    }

    /// Whether this is the malicious model (signatures, consistency round).
    pub fn is_malicious(&self) -> bool {
        self.threat == ThreatModel::Malicious
    }

    /// The vectors, in order.
    pub fn vectors(&self) -> &[VectorSpec] {
        &self.vectors
    }

    /// The caller's context bytes.
    pub fn context(&self) -> &[u8] {
        &self.context
    }

    /// Client `id`'s Ed25519 verifying key (malicious model only).
    pub fn verifying_key(&self, id: ClientId) -> Option<&VerifyingKey> {
        self.verifying_keys.get(id as usize)
    }

    /// The 32-byte session id.
    pub fn session_id(&self) -> &SessionId {
        &self.session_id
    }

    /// Whether `id` names a client of this session.
    pub fn contains(&self, id: ClientId) -> bool {
        (id as usize) < self.n
    }

    /// The rounds played in this threat model, in order.
    pub fn rounds(&self) -> &'static [Round] {
        if self.is_malicious() {
            &Round::ALL
        } else {
            &[
                Round::AdvertiseKeys,
                Round::ShareKeys,
                Round::MaskedInputCollection,
                Round::Unmasking,
            ]
        }
    }

    /// The bytes hashed into the session id (see `docs/protocol.md`).
    pub fn session_id_preimage(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.context.len() + 32 * self.n);
        out.extend_from_slice(SESSION_ID_LABEL);
        out.push(0);
        out.push(PROTOCOL_VERSION);
        out.extend_from_slice(&(self.n as u64).to_be_bytes());
        out.extend_from_slice(&(self.threshold as u64).to_be_bytes());
        match &self.graph_spec {
            GraphSpec::Complete => out.push(0),
            GraphSpec::Harary { degree, seed } => {
                out.push(1);
                out.extend_from_slice(&(*degree as u64).to_be_bytes());
                out.extend_from_slice(seed);
            }
        }
        out.push(match self.threat {
            ThreatModel::SemiHonest => 0,
            ThreatModel::Malicious => 1,
        });
        out.extend_from_slice(&(self.vectors.len() as u16).to_be_bytes());
        for v in &self.vectors {
            out.extend_from_slice(&(v.name.len() as u16).to_be_bytes());
            out.extend_from_slice(v.name.as_bytes());
            out.extend_from_slice(&(v.dim as u32).to_be_bytes());
            match v.ring {
                Ring::Pow2 { bits } => {
                    out.push(0);
                    out.extend_from_slice(&bits.to_be_bytes());
                }
                Ring::Modulus { m } => {
                    out.push(1);
                    out.extend_from_slice(&m.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.verifying_keys.len() as u32).to_be_bytes());
        for k in &self.verifying_keys {
            out.extend_from_slice(k.as_bytes());
        }
        out.extend_from_slice(&(self.context.len() as u64).to_be_bytes());
        out.extend_from_slice(&self.context);
        out
    }
}
