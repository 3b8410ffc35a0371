//! The one session builder of the tests: a [`Spec`] (clients, threshold, graph, threat
//! model, vectors, context and the seed of the clients' signing keys) built into a
//! [`Config`] and, in the malicious model, the clients' signing keys.
//!
//! The protocol tests drive what it builds step by step (`common::protocol::Session`,
//! `common::protocol::check_schedule`), the wire tests send every message through the
//! codec (`common::wire::run`) and read the independent vectors' configurations into it,
//! and the encoding tests sign their float sessions with its keys.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::ring::Ring;
use secagg::sim;

/// Threat model shorthand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    SemiHonest,
    Malicious,
}

pub const MODELS: [Model; 2] = [Model::SemiHonest, Model::Malicious];

impl Model {
    /// [`Model::Malicious`] if `malicious`, else [`Model::SemiHonest`].
    pub fn of(malicious: bool) -> Model {
        if malicious {
            Model::Malicious
        } else {
            Model::SemiHonest
        }
    }
}

/// The seed of the signing keys a [`Spec`] builds unless told otherwise.
pub const KEY_SEED: [u8; 32] = [9; 32];

/// `n` clients' signing keys from [`KEY_SEED`] (what a malicious [`Spec::new`] uses).
pub fn signing_keys(n: usize) -> Vec<SigningKey> {
    sim::signing_keys(n, KEY_SEED)
}

pub fn ring(bits: u32) -> Ring {
    Ring::pow2(bits).unwrap()
}

pub fn harary(degree: usize) -> GraphSpec {
    GraphSpec::Harary {
        degree,
        seed: [42; 32],
    }
}

/// A session's parameters.
#[derive(Clone, Debug)]
pub struct Spec {
    pub n: usize,
    pub t: usize,
    pub graph: GraphSpec,
    pub model: Model,
    /// (name, dim, ring) per vector.
    pub vectors: Vec<(String, usize, Ring)>,
    pub context: Vec<u8>,
    /// Seed of the clients' signing keys ([`sim::signing_keys`]) in the malicious model.
    pub key_seed: [u8; 32],
}

impl Spec {
    /// One unnamed vector of 8 16-bit words, context `test`, signing keys from
    /// [`KEY_SEED`].
    pub fn new(n: usize, t: usize, graph: GraphSpec, model: Model) -> Self {
        Spec {
            n,
            t,
            graph,
            model,
            vectors: vec![(String::new(), 8, ring(16))],
            context: b"test".to_vec(),
            key_seed: KEY_SEED,
        }
    }

    /// These vectors, as (name, dim, ring), instead.
    pub fn with_vectors(mut self, vectors: &[(&str, usize, Ring)]) -> Self {
        self.vectors = vectors
            .iter()
            .map(|(name, dim, ring)| (name.to_string(), *dim, *ring))
            .collect();
        self
    }

    /// This context instead.
    pub fn with_context(mut self, context: &[u8]) -> Self {
        self.context = context.to_vec();
        self
    }

    /// Signing keys from this seed instead.
    pub fn with_key_seed(mut self, seed: [u8; 32]) -> Self {
        self.key_seed = seed;
        self
    }

    /// The configuration, and the clients' signing keys in the malicious model.
    pub fn build(&self) -> (Arc<Config>, Option<Vec<SigningKey>>) {
        let mut b = Config::builder(self.n, self.t)
            .graph(self.graph.clone())
            .context(self.context.clone());
        for (name, dim, ring) in &self.vectors {
            b = b.vector(name.clone(), *dim, *ring);
        }
        let keys = match self.model {
            Model::SemiHonest => None,
            Model::Malicious => {
                let keys = sim::signing_keys(self.n, self.key_seed);
                b = b.malicious(keys.iter().map(|k| k.verifying_key()).collect());
                Some(keys)
            }
        };
        (Arc::new(b.build().unwrap()), keys)
    }
}
