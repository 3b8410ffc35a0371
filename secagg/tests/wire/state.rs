//! Stored state: sessions in which every client and the server are stored and restored
//! (`to_bytes` / `from_bytes`) at every step, and still produce the plaintext sum;
//! refusals (aborted, another session, a foreign signing key); and mutated stored
//! states, which must decode to a typed error or to a state that keeps working without
//! panicking.

use std::sync::Arc;

use crate::common::wire::spec;
use rand_core::Rng;
use secagg::crypto::rng::seeded_rng;
use secagg::protocol::client::Client;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::server::Server;
use secagg::protocol::Config;
use secagg::ring::Ring;
use secagg::{sim, EncodingError, Error, ErrorKind, Misuse};
use secagg::{ClientId, Round};

fn restore_client(cfg: &Arc<Config>, c: &Client) -> Client {
    let b = c.to_bytes().unwrap();
    // Written into a buffer of its exact size: no reallocation left a copy behind.
    assert_eq!(b.capacity(), b.len());
    let back = Client::from_bytes(Arc::clone(cfg), &b).unwrap();
    assert_eq!(back.to_bytes().unwrap(), b, "client state re-encodes");
    assert_eq!(back.state_name(), c.state_name());
    back
}

fn restore_server(cfg: &Arc<Config>, s: &Server) -> Server {
    let b = s.to_bytes().unwrap();
    let back = Server::from_bytes(Arc::clone(cfg), &b).unwrap();
    assert_eq!(back.to_bytes().unwrap(), b, "server state re-encodes");
    assert_eq!(back.round(), s.round());
    assert_eq!(back.awaited(), s.awaited());
    assert_eq!(back.received(), s.received());
    back
}

/// Everything a stored session produced, for the mutation test.
struct Stored {
    cfg: Arc<Config>,
    clients: Vec<Vec<u8>>,
    servers: Vec<Vec<u8>>,
    /// One honest server message of each round, with its recipient.
    server_msgs: Vec<(ClientId, ServerMessage)>,
}

/// Runs a session, storing and restoring every party after every step.
fn stored_session(
    n: usize,
    t: usize,
    graph: GraphSpec,
    malicious: bool,
    drops: &[(usize, Round)],
) -> Stored {
    let vectors = [
        ("a", 9, Ring::pow2(20).unwrap()),
        ("b", 4, Ring::modulus(1_000_003).unwrap()),
    ];
    let (cfg, keys) = spec(n, t, graph, malicious, &vectors).build();
    let mut drop_before = vec![None; n];
    for &(i, r) in drops {
        drop_before[i] = Some(r);
    }
    let silent = |i: usize, r: Round| drop_before[i].is_some_and(|d: Round| r >= d);
    let mut rng = seeded_rng([8; 32]);
    let inputs = sim::random_inputs(&cfg, &mut rng);
    let mut stored = Stored {
        cfg: Arc::clone(&cfg),
        clients: Vec::new(),
        servers: Vec::new(),
        server_msgs: Vec::new(),
    };
    let mut clients = Vec::new();
    let mut outbox: Vec<Option<ClientMessage>> = Vec::new();
    for i in 0..n {
        let key = keys.as_ref().map(|k| k[i].clone());
        let (c, msg) = Client::new(
            Arc::clone(&cfg),
            i as ClientId,
            inputs[i].clone(),
            key,
            &mut rng,
        )
        .unwrap();
        stored.clients.push(c.to_bytes().unwrap().to_vec());
        clients.push(Some(restore_client(&cfg, &c)));
        outbox.push(Some(msg));
    }
    let mut server = restore_server(&cfg, &Server::new(Arc::clone(&cfg)));
    let output = loop {
        for (i, msg) in outbox.iter_mut().enumerate() {
            if let Some(msg) = msg.take() {
                if silent(i, msg.round()) {
                    clients[i] = None;
                    continue;
                }
                server.receive(i as ClientId, msg).unwrap();
                stored.servers.push(server.to_bytes().unwrap());
                server = restore_server(&cfg, &server);
            }
        }
        let replies = server.close_round().unwrap();
        stored.servers.push(server.to_bytes().unwrap());
        server = restore_server(&cfg, &server);
        if replies.is_empty() {
            break server.output().cloned().unwrap();
        }
        if let Some(first) = replies.first() {
            stored.server_msgs.push(first.clone());
        }
        for (id, msg) in replies {
            let i = id as usize;
            if let Some(c) = clients[i].as_mut() {
                outbox[i] = Some(c.handle(msg, &mut rng).unwrap());
                stored.clients.push(c.to_bytes().unwrap().to_vec());
                *c = restore_client(&cfg, c);
            }
        }
    };
    let want = sim::plaintext_sum(&cfg, &inputs, &output.included).unwrap();
    assert_eq!(output.sums, want);
    // The completed clients store too (without a session: they refuse everything).
    for c in clients.iter().flatten() {
        assert!(c.is_completed());
        let back = restore_client(&cfg, c);
        assert!(back.is_completed());
    }
    stored
}

fn sessions() -> Vec<Stored> {
    use Round::*;
    vec![
        stored_session(
            7,
            2,
            GraphSpec::Complete,
            false,
            &[
                (0, AdvertiseKeys),
                (2, ShareKeys),
                (6, MaskedInputCollection),
                (3, Unmasking),
            ],
        ),
        stored_session(
            11,
            6,
            GraphSpec::Complete,
            true,
            &[
                (0, AdvertiseKeys),
                (2, ShareKeys),
                (10, MaskedInputCollection),
                (3, ConsistencyCheck),
            ],
        ),
        stored_session(
            12,
            3,
            GraphSpec::Harary {
                degree: 6,
                seed: [2; 32],
            },
            false,
            &[(0, AdvertiseKeys), (5, MaskedInputCollection)],
        ),
    ]
}

#[test]
fn sessions_survive_storing_every_party_at_every_step() {
    let all = sessions();
    for s in &all {
        assert!(s.clients.len() > 2 * s.cfg.n());
        assert!(s.servers.len() > s.cfg.n());
    }
}

#[test]
fn refusals() {
    let vectors = [("", 4, Ring::pow2(16).unwrap())];
    let (cfg, keys) = spec(5, 3, GraphSpec::Complete, true, &vectors).build();
    let (other, _) = spec(6, 3, GraphSpec::Complete, true, &vectors).build();
    let mut rng = seeded_rng([1; 32]);
    let inputs = sim::random_inputs(&cfg, &mut rng);
    let keys = keys.unwrap();
    let (c, _) = Client::new(
        Arc::clone(&cfg),
        1,
        inputs[1].clone(),
        Some(keys[1].clone()),
        &mut rng,
    )
    .unwrap();
    let b = c.to_bytes().unwrap();
    assert_eq!(
        Client::from_bytes(Arc::clone(&other), &b).unwrap_err(),
        Error::Misuse(Misuse::StateSessionMismatch)
    );
    // Header, tag, session id (32), then the client id: claim to be client 2.
    let mut x = b.to_vec();
    x[3 + 32..3 + 36].copy_from_slice(&2u32.to_be_bytes());
    assert_eq!(
        Client::from_bytes(Arc::clone(&cfg), &x).unwrap_err(),
        Error::Misuse(Misuse::SigningKeyMismatch { client: 2 })
    );
    let s = Server::new(Arc::clone(&cfg)).to_bytes().unwrap();
    assert_eq!(
        Server::from_bytes(Arc::clone(&other), &s).unwrap_err(),
        Error::Misuse(Misuse::StateSessionMismatch)
    );
    // A client state is not a server state and vice versa.
    assert_eq!(
        Server::from_bytes(Arc::clone(&cfg), &b).unwrap_err(),
        Error::Encoding(EncodingError::UnknownMessageType { found: 0xf0 })
    );
    assert_eq!(
        Client::from_bytes(Arc::clone(&cfg), &s).unwrap_err(),
        Error::Encoding(EncodingError::UnknownMessageType { found: 0xf1 })
    );
    // An aborted server (too few survivors after round 0) is not stored.
    let mut srv = Server::new(Arc::clone(&cfg));
    assert!(srv.close_round().is_err());
    assert_eq!(
        srv.to_bytes().unwrap_err(),
        Error::Misuse(Misuse::AlreadyAborted)
    );
    // Every strict prefix is refused.
    for cut in 0..b.len() {
        let e = Client::from_bytes(Arc::clone(&cfg), &b[..cut]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Encoding, "{e:?}");
    }
    for cut in 0..s.len() {
        let e = Server::from_bytes(Arc::clone(&cfg), &s[..cut]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Encoding, "{e:?}");
    }
}

fn mutate<R: Rng>(rng: &mut R, b: &[u8]) -> Vec<u8> {
    let mut x = b.to_vec();
    let len = x.len();
    match rng.next_u32() % 5 {
        0 => {
            let i = rng.next_u32() as usize % len;
            x[i] ^= 1 << (rng.next_u32() % 8);
        }
        1 => x.truncate(rng.next_u32() as usize % len),
        2 => {
            let at = rng.next_u32() as usize % len;
            x.insert(at, rng.next_u32() as u8);
        }
        3 => {
            let i = rng.next_u32() as usize % len;
            x[i] = [0, 1, 2, 3, 4, 5, 0x7f, 0xff][rng.next_u32() as usize % 8];
        }
        _ => {
            // A u32 field (count, id) set to an extreme.
            if len >= 4 {
                let at = rng.next_u32() as usize % (len - 3);
                let v = [0u32, 1, 4, 5, 12, u32::MAX][rng.next_u32() as usize % 6];
                x[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
    }
    x
}

#[test]
fn mutated_states_never_panic() {
    let mut rng = seeded_rng([6; 32]);
    let mut decoded = 0;
    for s in sessions() {
        let cfg = &s.cfg;
        for b in &s.servers {
            for _ in 0..60 {
                let x = mutate(&mut rng, b);
                match Server::from_bytes(Arc::clone(cfg), &x) {
                    Ok(mut srv) => {
                        decoded += 1;
                        let _ = (srv.awaited(), srv.received(), srv.output().is_some());
                        let _ = srv.to_bytes();
                        let _ = srv.close_round();
                        let _ = srv.close_round();
                    }
                    Err(e) => assert!(
                        e.kind() == ErrorKind::Encoding
                            || e == Error::Misuse(Misuse::StateSessionMismatch),
                        "{e:?}"
                    ),
                }
            }
        }
        for b in &s.clients {
            for _ in 0..60 {
                let x = mutate(&mut rng, b);
                match Client::from_bytes(Arc::clone(cfg), &x) {
                    Ok(mut c) => {
                        decoded += 1;
                        let _ = c.to_bytes();
                        for (_, msg) in &s.server_msgs {
                            let _ = c.handle(msg.clone(), &mut rng);
                        }
                    }
                    Err(e) => assert!(
                        matches!(e.kind(), ErrorKind::Encoding)
                            || matches!(
                                e,
                                Error::Misuse(Misuse::StateSessionMismatch)
                                    | Error::Misuse(Misuse::SigningKeyMismatch { .. })
                            ),
                        "{e:?}"
                    ),
                }
            }
        }
    }
    assert!(decoded > 100, "{decoded}");
}
