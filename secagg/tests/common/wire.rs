//! Wire-test helpers: sessions (built by `common::session`) whose every message crosses
//! the wire (encode, decode, compare, re-encode), recording the bytes for the robustness
//! and vector tests.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::server::{Output, Server};
use secagg::protocol::Config;
use secagg::ring::{Ring, RingVec};
use secagg::sim;
use secagg::{ClientId, Round};

use super::session::{Model, Spec};

/// The wire tests' sessions: a [`Spec`] with `vectors` as (name, dim, ring), context
/// `wire-test` and signing keys from seed `[3; 32]`; `.build()` it.
pub fn spec(
    n: usize,
    t: usize,
    graph: GraphSpec,
    malicious: bool,
    vectors: &[(&str, usize, Ring)],
) -> Spec {
    Spec::new(n, t, graph, Model::of(malicious))
        .with_vectors(vectors)
        .with_context(b"wire-test")
        .with_key_seed([3; 32])
}

/// Which side sent a recorded message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client `id` to the server.
    FromClient,
    /// The server to client `id`.
    ToClient,
}

/// One message as it crossed the wire.
#[derive(Clone, Debug)]
pub struct Record {
    pub dir: Dir,
    pub id: ClientId,
    pub bytes: Vec<u8>,
}

/// Encodes, checks the length prediction, decodes, checks equality and re-encoding.
pub fn through_client(
    config: &Config,
    from: ClientId,
    msg: &ClientMessage,
) -> (ClientMessage, Vec<u8>) {
    let bytes = msg.encode(config).unwrap();
    assert_eq!(bytes.len(), msg.encoded_len(config).unwrap());
    let back = ClientMessage::decode(config, from, &bytes).unwrap();
    assert_eq!(&back, msg);
    assert_eq!(back.encode(config).unwrap(), bytes);
    (back, bytes)
}

/// As [`through_client`] for a server message.
pub fn through_server(config: &Config, msg: &ServerMessage) -> (ServerMessage, Vec<u8>) {
    let bytes = msg.encode(config).unwrap();
    assert_eq!(bytes.len(), msg.encoded_len(config).unwrap());
    let back = ServerMessage::decode(config, &bytes).unwrap();
    assert_eq!(&back, msg);
    assert_eq!(back.encode(config).unwrap(), bytes);
    (back, bytes)
}

/// The result of a wired session.
pub struct Wired {
    pub output: Result<Output, secagg::Error>,
    pub inputs: Vec<Vec<RingVec>>,
    pub records: Vec<Record>,
}

/// Runs a session in which every message crosses the wire; client `i` goes silent
/// from round `drop_before[i]` on.
pub fn run(
    config: &Arc<Config>,
    keys: Option<Vec<SigningKey>>,
    drop_before: &[Option<Round>],
    seed: u8,
) -> Wired {
    let n = config.n();
    let mut rng = seeded_rng([seed; 32]);
    let inputs = sim::random_inputs(config, &mut rng);
    let silent = |id: ClientId, r: Round| {
        drop_before
            .get(id as usize)
            .copied()
            .flatten()
            .is_some_and(|d| r >= d)
    };
    let mut records = Vec::new();
    let mut clients: Vec<Option<Client>> = Vec::new();
    let mut outbox: Vec<Option<ClientMessage>> = Vec::new();
    for i in 0..n {
        let key = keys.as_ref().map(|k| k[i].clone());
        let (c, m) = Client::new(
            Arc::clone(config),
            i as ClientId,
            inputs[i].clone(),
            key,
            &mut rng,
        )
        .unwrap();
        clients.push(Some(c));
        outbox.push(Some(m));
    }
    let mut server = Server::new(Arc::clone(config));
    let output = loop {
        for (i, m) in outbox.iter_mut().enumerate() {
            let id = i as ClientId;
            if let Some(m) = m.take() {
                if silent(id, m.round()) {
                    clients[i] = None;
                    continue;
                }
                let (back, bytes) = through_client(config, id, &m);
                records.push(Record {
                    dir: Dir::FromClient,
                    id,
                    bytes,
                });
                server.receive(id, back).unwrap();
            }
        }
        let replies = match server.close_round() {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        if replies.is_empty() {
            break server
                .output()
                .cloned()
                .ok_or(secagg::Error::Misuse(secagg::Misuse::AlreadyAborted));
        }
        for (id, msg) in replies {
            let (back, bytes) = through_server(config, &msg);
            records.push(Record {
                dir: Dir::ToClient,
                id,
                bytes,
            });
            if let Some(c) = clients[id as usize].as_mut() {
                if let Ok(m) = c.handle(back, &mut rng) {
                    outbox[id as usize] = Some(m);
                }
            }
        }
    };
    Wired {
        output,
        inputs,
        records,
    }
}
