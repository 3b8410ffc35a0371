//! Shared set-up for the fuzz targets: a few deterministic sessions, the honest
//! encodings of every message they exchange, and an input format that either gives the
//! decoder raw bytes or patches one of those honest encodings, so that the fuzzer
//! reaches deep into the decoders and the state machines without a seed corpus.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use ed25519_dalek::SigningKey;
use rand_chacha::ChaCha20Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::server::Server;
use secagg::protocol::Config;
use secagg::ring::{Ring, RingVec};
use secagg::sim;
use secagg::{ClientId, Round};

/// One message as an honest session sent it.
pub struct Record {
    /// True for client-to-server.
    pub from_client: bool,
    /// The sender (client message) or the recipient (server message).
    pub id: ClientId,
    /// The encoding.
    pub bytes: Vec<u8>,
}

/// A deterministic session and the honest encodings of its messages.
pub struct Session {
    /// The configuration.
    pub config: Arc<Config>,
    /// Signing keys in the malicious model.
    pub keys: Option<Vec<SigningKey>>,
    /// Every client's input.
    pub inputs: Vec<Vec<RingVec>>,
    /// Every message of an honest run without drop-outs, in order.
    pub records: Vec<Record>,
    /// A client that seals garbage to these neighbors (and usable shares to the rest):
    /// fewer than `t` usable makes the server take the pairwise path, so the recorded
    /// unmasking messages carry pairwise requests and agreements.
    pub garble: Option<(ClientId, Vec<ClientId>)>,
}

fn build(
    n: usize,
    t: usize,
    graph: GraphSpec,
    malicious: bool,
    garble: Option<(ClientId, Vec<ClientId>)>,
) -> Session {
    let mut b = Config::builder(n, t)
        .graph(graph)
        .vector("a", 5, Ring::pow2(20).unwrap())
        .vector("b", 3, Ring::modulus(1_000_003).unwrap())
        .vector("c", 2, Ring::pow2(64).unwrap());
    let keys = malicious.then(|| sim::signing_keys(n, [1; 32]));
    if let Some(k) = &keys {
        b = b.malicious(k.iter().map(|k| k.verifying_key()).collect());
    }
    let config = Arc::new(b.build().expect("valid fuzz configuration"));
    let inputs = sim::random_inputs(&config, &mut seeded_rng([2; 32]));
    let mut s = Session {
        config,
        keys,
        garble,
        inputs,
        records: Vec::new(),
    };
    let mut records = Vec::new();
    drive(&s, usize::MAX, None, |_, _, _| {}, &mut records);
    s.records = records;
    s
}

/// The fuzzed sessions: complete semi-honest, complete malicious, sparse semi-honest,
/// and complete semi-honest with a client excluded on the pairwise path.
pub fn sessions() -> &'static [Session] {
    static S: OnceLock<Vec<Session>> = OnceLock::new();
    S.get_or_init(|| {
        vec![
            build(5, 3, GraphSpec::Complete, false, None),
            build(5, 3, GraphSpec::Complete, true, None),
            build(
                8,
                3,
                GraphSpec::Harary {
                    degree: 4,
                    seed: [3; 32],
                },
                false,
                None,
            ),
            // Client 4 seals usable shares to client 0 only: it is excluded and 0
            // reveals its pairwise agreement with it.
            build(5, 3, GraphSpec::Complete, false, Some((4, vec![1, 2, 3]))),
        ]
    })
}

/// Runs `s` honestly for `rounds` server rounds, then hands the clients (in their states
/// at that point) and the server (collecting the next round, with every client's
/// message but `skip`'s) to `at`; records every message's encoding.
pub fn drive(
    s: &Session,
    rounds: usize,
    skip: Option<ClientId>,
    mut at: impl FnMut(&mut [Client], &mut Server, Round),
    records: &mut Vec<Record>,
) {
    let cfg = &s.config;
    let mut rngs: Vec<_> = (0..cfg.n() as ClientId).map(client_rng).collect();
    let mut clients = Vec::new();
    let mut outbox = Vec::new();
    for (i, x) in s.inputs.iter().enumerate() {
        let key = s.keys.as_ref().map(|k| k[i].clone());
        let (c, m) = Client::new(Arc::clone(cfg), i as ClientId, x.clone(), key, &mut rngs[i])
            .expect("honest client starts");
        clients.push(c);
        outbox.push(Some(m));
    }
    let mut server = Server::new(Arc::clone(cfg));
    let mut round = Round::AdvertiseKeys;
    for r in 0.. {
        for (i, m) in outbox.iter_mut().enumerate() {
            if r == rounds && skip == Some(i as ClientId) {
                continue;
            }
            if let Some(mut m) = m.take() {
                if let (Some((bad, to)), ClientMessage::ShareKeys(sk)) = (&s.garble, &mut m) {
                    if *bad == i as ClientId {
                        for c in sk.shares.iter_mut().filter(|c| to.contains(&c.to)) {
                            c.ciphertext.iter_mut().for_each(|b| *b ^= 0x5a);
                        }
                    }
                }
                let bytes = m.encode(cfg).expect("honest message encodes");
                records.push(Record {
                    from_client: true,
                    id: i as ClientId,
                    bytes,
                });
                server
                    .receive(i as ClientId, m)
                    .expect("honest message accepted");
            }
        }
        if r == rounds {
            at(&mut clients, &mut server, round);
            return;
        }
        let Ok(replies) = server.close_round() else {
            return;
        };
        if replies.is_empty() {
            return;
        }
        for (id, msg) in replies {
            round = msg.round();
            let bytes = msg.encode(cfg).expect("honest message encodes");
            records.push(Record {
                from_client: false,
                id,
                bytes,
            });
            if let Some(c) = clients.get_mut(id as usize) {
                outbox[id as usize] = c.handle(msg, &mut rngs[id as usize]).ok();
            }
        }
    }
}

/// Client `id`'s random stream (the same in every replay).
pub fn client_rng(id: ClientId) -> ChaCha20Rng {
    let mut seed = [4u8; 32];
    seed[..4].copy_from_slice(&id.to_be_bytes());
    seeded_rng(seed)
}

/// Client `id` after it handled the first `rounds` server messages of the honest run
/// (replayed from their recorded encodings), with its random stream at that point.
pub fn client_at(s: &Session, id: ClientId, rounds: usize) -> Option<(Client, ChaCha20Rng)> {
    let mut rng = client_rng(id);
    let key = s.keys.as_ref().map(|k| k[id as usize].clone());
    let x = s.inputs.get(id as usize)?.clone();
    let (mut c, _) = Client::new(Arc::clone(&s.config), id, x, key, &mut rng).ok()?;
    let to_me = s.records.iter().filter(|r| !r.from_client && r.id == id);
    for r in to_me.take(rounds) {
        let m = ServerMessage::decode(&s.config, &r.bytes).ok()?;
        c.handle(m, &mut rng).ok()?;
    }
    Some((c, rng))
}

/// The server of the honest run collecting round number `rounds`, with every message of
/// that round but `skip`'s (cached).
pub fn server_at(s: &Session, rounds: usize, skip: ClientId) -> Option<Server> {
    let key = (s as *const Session as usize, rounds, skip);
    let mut cache = SERVERS.lock().ok()?;
    if let Some(srv) = cache.get(&key) {
        return Some(srv.clone());
    }
    let mut out = None;
    drive(
        s,
        rounds,
        Some(skip),
        |_, srv, _| out = Some(srv.clone()),
        &mut Vec::new(),
    );
    let srv = out?;
    cache.insert(key, srv.clone());
    Some(srv)
}

static SERVERS: Mutex<BTreeMap<(usize, usize, ClientId), Server>> = Mutex::new(BTreeMap::new());

/// What a fuzz input asks for.
pub struct Input<'a> {
    /// The session.
    pub session: &'a Session,
    /// A selector byte for the caller (a round, a client).
    pub pick: u8,
    /// The bytes to decode.
    pub bytes: Vec<u8>,
}

/// Parses `data`: byte 0 picks the session, byte 1 the mode and byte 2 is `pick`. Mode
/// even: the rest is decoded as is. Mode odd: byte 3 picks an honest record (of the
/// direction `want_client`, or either when `None`) and the rest is a list of 4-byte
/// edits (kind, offset u16be, value) applied to its encoding: xor, overwrite, insert,
/// truncate.
pub fn input(data: &[u8], want_client: Option<bool>) -> Option<Input<'static>> {
    input_with(data, |s| {
        s.records
            .iter()
            .filter(|r| want_client.is_none_or(|c| r.from_client == c))
            .map(|r| r.bytes.as_slice())
            .collect()
    })
}

/// As [`input`], with the honest bases of a session given by `bases`.
pub fn input_with(
    data: &[u8],
    bases: impl FnOnce(&'static Session) -> Vec<&'static [u8]>,
) -> Option<Input<'static>> {
    let (&sel, rest) = data.split_first()?;
    let (&mode, rest) = rest.split_first()?;
    let (&pick, rest) = rest.split_first()?;
    let all = sessions();
    let session = all.get(usize::from(sel) % all.len())?;
    if mode % 2 == 0 {
        return Some(Input {
            session,
            pick,
            bytes: rest.to_vec(),
        });
    }
    let (&which, edits) = rest.split_first()?;
    let candidates = bases(session);
    let base = candidates.get(usize::from(which) % candidates.len().max(1))?;
    let mut bytes = base.to_vec();
    for e in edits.chunks_exact(4) {
        let len = bytes.len();
        let off = usize::from(u16::from_be_bytes([e[1], e[2]])) % (len + 1);
        match e[0] % 4 {
            0 => {
                if let Some(b) = bytes.get_mut(off) {
                    *b ^= e[3];
                }
            }
            1 => {
                if let Some(b) = bytes.get_mut(off) {
                    *b = e[3];
                }
            }
            2 => bytes.insert(off, e[3]),
            _ => bytes.truncate(off),
        }
    }
    Some(Input {
        session,
        pick,
        bytes,
    })
}

/// Stored states of an honest run of `s`: every client after each step (`true`) and the
/// server after each receive and each close (`false`).
pub fn stored_states(s: &Session) -> &'static [(bool, Vec<u8>)] {
    static CACHE: OnceLock<Vec<Vec<(bool, Vec<u8>)>>> = OnceLock::new();
    let all = CACHE.get_or_init(|| sessions().iter().map(record_states).collect());
    let i = sessions()
        .iter()
        .position(|x| std::ptr::eq(x, s))
        .unwrap_or(0);
    all.get(i).map(Vec::as_slice).unwrap_or_default()
}

fn record_states(s: &Session) -> Vec<(bool, Vec<u8>)> {
    let cfg = &s.config;
    let mut out = Vec::new();
    let mut rngs: Vec<_> = (0..cfg.n() as ClientId).map(client_rng).collect();
    let mut clients = Vec::new();
    let mut outbox = Vec::new();
    for (i, x) in s.inputs.iter().enumerate() {
        let key = s.keys.as_ref().map(|k| k[i].clone());
        let (c, m) = Client::new(Arc::clone(cfg), i as ClientId, x.clone(), key, &mut rngs[i])
            .expect("honest client starts");
        out.push((true, c.to_bytes().expect("stores").to_vec()));
        clients.push(c);
        outbox.push(Some(m));
    }
    let mut server = Server::new(Arc::clone(cfg));
    loop {
        for (i, m) in outbox.iter_mut().enumerate() {
            if let Some(m) = m.take() {
                server
                    .receive(i as ClientId, m)
                    .expect("honest message accepted");
                out.push((false, server.to_bytes().expect("stores")));
            }
        }
        let Ok(replies) = server.close_round() else {
            return out;
        };
        out.push((false, server.to_bytes().expect("stores")));
        if replies.is_empty() {
            return out;
        }
        for (id, msg) in replies {
            if let Some(c) = clients.get_mut(id as usize) {
                outbox[id as usize] = c.handle(msg, &mut rngs[id as usize]).ok();
                out.push((true, c.to_bytes().expect("stores").to_vec()));
            }
        }
    }
}
