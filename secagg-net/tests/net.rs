//! The networked server and client of secagg-net over loopback, in process (`serve` and
//! `run_client` on 127.0.0.1): full sessions with drop-outs at every round, TLS and plain
//! TCP, sparse graphs and the malicious model, a roster of real keys, peers that
//! misbehave at the transport level, hijacked ids, squatters, replayed hellos and a
//! connection flood. Every wait is bounded; each session's sum is checked against the plaintext sum
//! of exactly the included clients, computed here from the demo inputs. The same
//! sessions with real `secagg serve` / `secagg client` processes are in secagg-cli's
//! `cli` tests (`net` module).

use std::time::Duration;

use ed25519_dalek::SigningKey;
use secagg::protocol::Output;
use secagg::ClientId;
use secagg_net::client::{run_client, ClientOptions, ClientReport};
use secagg_net::frame::{encode_frame, kind, read_frame};
use secagg_net::hello::{Challenge, Done, Hello};
use secagg_net::roster::Roster;
use secagg_net::server::{serve, ServeReport, ServerOptions};
use secagg_net::session::{Session, SessionParams};
use secagg_net::tls::{acceptor, parse_certs, ClientTransport, Identity, NO_BINDING};
use secagg_net::{Error, Result, TransportError};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

fn session(n: usize, d: usize, degree: Option<usize>) -> Session {
    Session::new(SessionParams {
        degree,
        ..SessionParams::new(n, d)
    })
    .unwrap()
}

/// Client `id`'s key in the tests' real rosters (an arbitrary fixed secret per id).
fn real_key(id: ClientId) -> SigningKey {
    let mut secret = [0xa5u8; 32];
    secret[..4].copy_from_slice(&id.to_be_bytes());
    SigningKey::from_bytes(&secret)
}

/// The roster of [`real_key`]s for `n` clients.
fn real_roster(n: usize) -> Roster {
    Roster::new(
        (0..n as ClientId)
            .map(|i| real_key(i).verifying_key())
            .collect(),
    )
    .unwrap()
}

/// Client `id`'s key in `s`: its demo key, or its [`real_key`] with a real roster.
fn key_of(s: &Session, id: ClientId) -> SigningKey {
    s.demo_signing_key(id).unwrap_or_else(|| real_key(id))
}

fn options(session: &Session) -> ServerOptions {
    ServerOptions {
        round_deadline: Duration::from_secs(5),
        join_deadline: Duration::from_secs(10),
        handshake_timeout: Duration::from_secs(2),
        ..ServerOptions::new(session.clone())
    }
}

/// The sum of the included clients' demo words, computed without the protocol.
fn expected_sum(session: &Session, included: &[ClientId]) -> Vec<u64> {
    let b = session.quantizer().config().ring_bits;
    let mask = if b == 64 { u64::MAX } else { (1u64 << b) - 1 };
    let mut sum = vec![0u64; session.params.dim];
    for &id in included {
        let w = session.demo_words(id).unwrap().vectors()[0].to_u64s();
        for (s, x) in sum.iter_mut().zip(&w) {
            *s = s.wrapping_add(*x) & mask;
        }
    }
    sum
}

fn check_sum(session: &Session, out: &Output) {
    assert_eq!(out.sums.len(), 1);
    assert_eq!(out.sums[0].to_u64s(), expected_sum(session, &out.included));
}

async fn demo_client(
    addr: String,
    session: Session,
    id: ClientId,
    transport: ClientTransport,
    quit_after: Option<usize>,
) -> Result<ClientReport> {
    demo_client_from(addr, session, id, transport, quit_after, None).await
}

async fn demo_client_from(
    addr: String,
    session: Session,
    id: ClientId,
    transport: ClientTransport,
    quit_after: Option<usize>,
    local_addr: Option<std::net::IpAddr>,
) -> Result<ClientReport> {
    let opts = ClientOptions {
        transport,
        quit_after,
        local_addr,
        read_timeout: Duration::from_secs(20),
        ..ClientOptions::new(session.clone(), id)
    };
    let words = session.demo_words(id)?;
    let input = session.ring_input(&words)?;
    run_client(&addr, &opts, input, &key_of(&session, id)).await
}

/// Runs a session with in-process clients; `quit[i]` is client i's `quit_after`.
async fn run_session(
    opts: ServerOptions,
    quit: &[Option<usize>],
    transport: ClientTransport,
) -> (ServeReport, Vec<Result<ClientReport>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let session = opts.session.clone();
    let server = tokio::spawn(serve(listener, opts));
    let clients: Vec<_> = quit
        .iter()
        .enumerate()
        .map(|(id, &q)| {
            tokio::spawn(demo_client(
                addr.clone(),
                session.clone(),
                id as ClientId,
                transport.clone(),
                q,
            ))
        })
        .collect();
    let report = tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("server finished in time")
        .unwrap();
    let mut results = Vec::new();
    for c in clients {
        results.push(
            tokio::time::timeout(Duration::from_secs(30), c)
                .await
                .expect("client finished in time")
                .unwrap(),
        );
    }
    (report, results)
}

/// Which clients must be included when client i quits after `quit[i]` messages:
/// those that sent their masked input (message 3) or never quit.
fn must_include(quit: &[Option<usize>]) -> Vec<ClientId> {
    (0..quit.len())
        .filter(|&i| quit[i].is_none_or(|q| q >= 3))
        .map(|i| i as ClientId)
        .collect()
}

fn check_clients(quit: &[Option<usize>], results: &[Result<ClientReport>], out: &Output) {
    for (i, r) in results.iter().enumerate() {
        let r = r.as_ref().unwrap_or_else(|e| panic!("client {i}: {e}"));
        match quit[i] {
            Some(q) => assert_eq!((r.done, r.sent), (None, q), "client {i}"),
            None => {
                assert_eq!(r.done, Some(Done::Completed { included: true }));
                assert!(out.included.contains(&(i as ClientId)));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_clients_with_drop_outs_at_every_round_over_tls() {
    let n = 60;
    let s = session(n, 1000, None);
    // 16 of 60 (27%) quit: after advertising keys (1), after sharing keys (2), after
    // the masked input (3, so they are in the sum but do not help unmask).
    let quit: Vec<Option<usize>> = (0..n)
        .map(|i| match i % 15 {
            1 => Some(1),
            4 => Some(2),
            7 | 11 => Some(3),
            _ => None,
        })
        .collect();
    let (identity, pem) = Identity::self_signed(&["localhost".to_string()]).unwrap();
    let roots = parse_certs(pem.as_bytes()).unwrap();
    let opts = ServerOptions {
        tls: Some(acceptor(identity).unwrap()),
        ..options(&s)
    };
    let transport = ClientTransport::tls(&roots, "localhost").unwrap();
    let (report, results) = run_session(opts, &quit, transport).await;
    let out = report.result.clone().unwrap();
    assert_eq!(out.included, must_include(&quit));
    check_sum(&s, &out);
    check_clients(&quit, &results, &out);
    assert_eq!(report.connected, n);
    assert_eq!(report.rounds.len(), 4);
    // Every round closed early: the quitters' connections closed, nobody was awaited.
    assert!(report.rounds.iter().all(|r| r.early), "{:?}", report.rounds);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_graph_plain_tcp_with_drop_outs() {
    let n = 80;
    let s = Session::new(SessionParams {
        degree: Some(20),
        threshold: Some(8),
        ..SessionParams::new(n, 1000)
    })
    .unwrap();
    // 12 of 80 (15%) quit.
    let quit: Vec<Option<usize>> = (0..n)
        .map(|i| match i % 20 {
            3 => Some(1),
            9 => Some(2),
            15 => Some(3),
            _ => None,
        })
        .collect();
    let (report, results) = run_session(options(&s), &quit, ClientTransport::Plain).await;
    let out = report.result.clone().unwrap();
    assert_eq!(out.included, must_include(&quit));
    check_sum(&s, &out);
    check_clients(&quit, &results, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_model_with_a_roster_and_drop_outs() {
    // Real keys: the roster's keys authenticate the hellos and sign the protocol.
    let n = 20;
    let s = Session::new(SessionParams {
        malicious: true,
        roster: Some(real_roster(n)),
        ..SessionParams::new(n, 500)
    })
    .unwrap();
    let quit: Vec<Option<usize>> = (0..n)
        .map(|i| match i {
            2 => Some(1),
            5 => Some(3),
            8 => Some(4),
            _ => None,
        })
        .collect();
    let (report, results) = run_session(options(&s), &quit, ClientTransport::Plain).await;
    let out = report.result.clone().unwrap();
    assert_eq!(out.included, must_include(&quit));
    check_sum(&s, &out);
    check_clients(&quit, &results, &out);
    assert_eq!(report.rounds.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_drop_outs_abort_and_clients_are_told() {
    let n = 10;
    let s = session(n, 100, None); // t = 7
    let quit: Vec<Option<usize>> = (0..n).map(|i| (i < 5).then_some(1)).collect();
    let (report, results) = run_session(options(&s), &quit, ClientTransport::Plain).await;
    let err = report.result.clone().unwrap_err();
    assert_eq!(err.kind(), secagg::ErrorKind::Threshold, "{err}");
    for r in &results[5..] {
        assert_eq!(
            r.as_ref().unwrap().done,
            Some(Done::Aborted(secagg::ErrorKind::Threshold))
        );
    }
}

/// Connects and reads the server's challenge.
async fn challenged(addr: &str) -> (TcpStream, Challenge) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let frame = read_frame(&mut tcp, 128).await.unwrap();
    assert_eq!(frame.kind, kind::CHALLENGE);
    let challenge = Challenge::decode(&frame.body).unwrap();
    (tcp, challenge)
}

/// Sends `hello` and returns the server's answer (kind, body).
async fn send_hello(tcp: &mut TcpStream, hello: &Hello) -> (u8, Vec<u8>) {
    tcp.write_all(&encode_frame(kind::HELLO, &hello.encode()).unwrap())
        .await
        .unwrap();
    let answer = read_frame(tcp, 128).await.unwrap();
    (answer.kind, answer.body)
}

/// Connects and says hello for `id` signed with `key`; returns the stream and the answer.
async fn hello_with(
    addr: &str,
    s: &Session,
    id: ClientId,
    key: &SigningKey,
) -> (TcpStream, (u8, Vec<u8>)) {
    let (mut tcp, challenge) = challenged(addr).await;
    let h = Hello::sign(key, &challenge, &NO_BINDING, s.config.session_id(), id);
    let answer = send_hello(&mut tcp, &h).await;
    (tcp, answer)
}

/// Connects and sends a valid hello for `id`; returns the open stream.
async fn hello(addr: &str, s: &Session, id: ClientId) -> TcpStream {
    let (tcp, answer) = hello_with(addr, s, id, &key_of(s, id)).await;
    assert_eq!(answer.0, kind::WELCOME);
    tcp
}

/// Session `s` with `n_honest` honest clients plus misbehaving peers driven by `attack`,
/// which gets the address and returns after setting them up (keeping them open via the
/// returned value).
async fn with_attackers_on<F, Fut, T>(
    s: Session,
    n_honest: usize,
    opts: impl FnOnce(&Session) -> ServerOptions,
    attack: F,
) -> (ServeReport, Session, T)
where
    F: FnOnce(String, Session) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(serve(listener, opts(&s)));
    let kept = attack(addr.clone(), s.clone()).await;
    let clients: Vec<_> = (0..n_honest)
        .map(|id| {
            tokio::spawn(demo_client(
                addr.clone(),
                s.clone(),
                id as ClientId,
                ClientTransport::Plain,
                None,
            ))
        })
        .collect();
    let report = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("server finished in time")
        .unwrap();
    for c in clients {
        let r = c.await.unwrap().unwrap();
        assert_eq!(r.done, Some(Done::Completed { included: true }));
    }
    (report, s, kept)
}

fn short(s: &Session) -> ServerOptions {
    ServerOptions {
        join_deadline: Duration::from_secs(3),
        round_deadline: Duration::from_secs(3),
        handshake_timeout: Duration::from_millis(500),
        ..ServerOptions::new(s.clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_oversized_and_silent_peers_are_dropped() {
    // Clients 0..10 are honest; ids 10..14 belong to misbehaving peers.
    let (report, s, _kept) =
        with_attackers_on(session(14, 200, None), 10, short, |addr, s| async move {
            let mut kept = Vec::new();
            // 10: garbage in a protocol-message frame.
            let mut t = hello(&addr, &s, 10).await;
            t.write_all(&encode_frame(kind::MESSAGE, b"\x01\x00garbage").unwrap())
                .await
                .unwrap();
            kept.push(t);
            // 11: a frame announcing 2 GiB.
            let mut t = hello(&addr, &s, 11).await;
            t.write_all(&(2u32 << 30).to_be_bytes()).await.unwrap();
            kept.push(t);
            // 12: says hello, then never speaks.
            kept.push(hello(&addr, &s, 12).await);
            // 13: slow loris: announces a legal-size frame, sends 3 bytes, stalls.
            let mut t = hello(&addr, &s, 13).await;
            t.write_all(&100u32.to_be_bytes()).await.unwrap();
            t.write_all(&[kind::MESSAGE, 1, 0]).await.unwrap();
            kept.push(t);
            // Peers without an id: random bytes, an oversized first frame, silence.
            let mut t = TcpStream::connect(&addr).await.unwrap();
            t.write_all(&[0x55; 300]).await.unwrap();
            kept.push(t);
            let mut t = TcpStream::connect(&addr).await.unwrap();
            t.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
            kept.push(t);
            kept.push(TcpStream::connect(&addr).await.unwrap());
            kept
        })
        .await;
    let out = report.result.clone().unwrap();
    assert_eq!(out.included, (0..10).collect::<Vec<_>>());
    check_sum(&s, &out);
    let errors: std::collections::BTreeMap<ClientId, Error> =
        report.disconnected.iter().cloned().collect();
    assert!(
        matches!(errors.get(&10), Some(e)
            if !matches!(e, Error::Transport(TransportError::Timeout { .. }))),
        "{errors:?}"
    );
    assert!(matches!(
        errors.get(&11),
        Some(Error::Transport(TransportError::FrameTooLarge { len, .. })) if *len == 2 << 30
    ));
    assert!(matches!(
        errors.get(&12),
        Some(Error::Transport(TransportError::Timeout { .. }))
    ));
    assert!(matches!(
        errors.get(&13),
        Some(Error::Transport(TransportError::Timeout { .. }))
    ));
    assert_eq!(report.refused, 3);
    // Round 0 waited for the silent peers until its deadline; the others closed early.
    assert!(!report.rounds[0].early);
    assert!(report.rounds[1..].iter().all(|r| r.early));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hellos_that_do_not_fit_are_refused() {
    let (report, _s, kept) =
        with_attackers_on(session(6, 200, None), 6, short, |addr, s| async move {
            let mut answers = Vec::new();
            // Another session, an id out of range, and (below) a duplicate.
            let other = session(6, 201, None);
            for (sid, id) in [(*other.config.session_id(), 0), (*s.config.session_id(), 6)] {
                let (mut t, challenge) = challenged(&addr).await;
                let h = Hello::sign(&key_of(&s, id), &challenge, &NO_BINDING, &sid, id);
                answers.push(send_hello(&mut t, &h).await);
            }
            // A hello of transport version 1 (37 bytes, unsigned).
            let (mut t, _) = challenged(&addr).await;
            let mut v1 = vec![1u8, 0, 0, 0, 0];
            v1.extend_from_slice(s.config.session_id());
            t.write_all(&encode_frame(kind::HELLO, &v1).unwrap())
                .await
                .unwrap();
            let answer = read_frame(&mut t, 128).await.unwrap();
            answers.push((answer.kind, answer.body));
            answers
        })
        .await;
    assert!(report.result.is_ok());
    assert_eq!(kept[0], (kind::REJECT, vec![1]));
    assert_eq!(kept[1], (kind::REJECT, vec![2]));
    assert_eq!(kept[2], (kind::REJECT, vec![5]));
    assert_eq!(report.refused, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_id_is_refused_and_reported_to_the_client() {
    let s = session(3, 50, None);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(serve(listener, short(&s)));
    let _first = hello(&addr, &s, 1).await;
    let second = demo_client(addr.clone(), s.clone(), 1, ClientTransport::Plain, None).await;
    assert!(
        matches!(second, Err(Error::Transport(TransportError::Rejected { reason }))
            if reason.contains("already")),
        "{second:?}"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_is_shed() {
    // 200 connections that never speak, at most 8 in their handshake at a time, each
    // closed after 100 ms: the honest clients queue behind them and still make it.
    let opts = |s: &Session| ServerOptions {
        max_handshakes: 8,
        handshake_timeout: Duration::from_millis(100),
        join_deadline: Duration::from_secs(8),
        ..short(s)
    };
    let (report, s, _kept) =
        with_attackers_on(session(8, 200, None), 8, opts, |addr, _s| async move {
            let mut kept = Vec::new();
            for _ in 0..200 {
                kept.push(TcpStream::connect(&addr).await.unwrap());
            }
            kept
        })
        .await;
    check_sum(&s, report.result.as_ref().unwrap());
    // All but the last few (still in their handshake when round 0 closed early) were
    // refused by the handshake timeout.
    assert!((192..=200).contains(&report.refused), "{}", report.refused);
    assert_eq!(report.connected, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_server_vanishes_fails_fast() {
    let s = session(4, 50, None);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // A fake server: welcomes, reads the first message, then closes.
    let fake = tokio::spawn(async move {
        let (mut t, _) = listener.accept().await.unwrap();
        t.write_all(&encode_frame(kind::CHALLENGE, &Challenge([7; 32]).encode()).unwrap())
            .await
            .unwrap();
        let _hello = read_frame(&mut t, 128).await.unwrap();
        t.write_all(&encode_frame(kind::WELCOME, &[2]).unwrap())
            .await
            .unwrap();
        let _msg = read_frame(&mut t, 1 << 20).await.unwrap();
    });
    let started = std::time::Instant::now();
    let r = demo_client(addr, s, 0, ClientTransport::Plain, None).await;
    fake.await.unwrap();
    assert!(
        matches!(
            r,
            Err(Error::Transport(TransportError::ConnectionClosed { .. }))
        ),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nobody listening at all: a clear connect error after the retry window.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let opts = ClientOptions {
        connect_timeout: Duration::from_millis(300),
        ..ClientOptions::new(session(4, 50, None), 0)
    };
    let r = run_client(&addr, &opts, Vec::new(), &key_of(&opts.session, 0)).await;
    assert!(
        matches!(
            r,
            Err(Error::Transport(TransportError::Io { op: "connect", .. }))
        ),
        "{r:?}"
    );
}

/// docs/networking.md, "Handshake and rounds", step 2: a dropped client's id is claimed
/// (REJECT 3); once round 0 has closed, the listening socket is closed (a new connection
/// is refused by the operating system) and a connection accepted during round 0 that
/// never finished its hello is closed without a REJECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_round_0_the_listener_is_closed_and_claimed_ids_stay_claimed() {
    use std::sync::Arc;

    use secagg::crypto::rng::seeded_rng;
    use secagg::protocol::Client;

    let s = Session::new(SessionParams {
        threshold: Some(2),
        ..SessionParams::new(5, 20)
    })
    .unwrap();
    let opts = ServerOptions {
        join_deadline: Duration::from_secs(10),
        round_deadline: Duration::from_secs(3),
        handshake_timeout: Duration::from_secs(20),
        ..ServerOptions::new(s.clone())
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(serve(listener, opts));

    // Accepted in round 0, never says hello.
    let (mut silent, _) = challenged(&addr).await;
    // Client 1 is welcomed and goes away: its id stays claimed.
    drop(hello(&addr, &s, 1).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_again, answer) = hello_with(&addr, &s, 1, &key_of(&s, 1)).await;
    assert_eq!(answer, (kind::REJECT, vec![3]));

    // Client 3 advertises its keys by hand and then stalls, holding round 1 open.
    let mut stalling = hello(&addr, &s, 3).await;
    let input = s.ring_input(&s.demo_words(3).unwrap()).unwrap();
    let (_client, adv) = Client::new(
        Arc::clone(&s.config),
        3,
        input,
        s.protocol_key(3),
        &mut seeded_rng([3; 32]),
    )
    .unwrap();
    let body = adv.encode(&s.config).unwrap();
    stalling
        .write_all(&encode_frame(kind::MESSAGE, &body).unwrap())
        .await
        .unwrap();
    let honest: Vec<_> = [0, 2, 4]
        .into_iter()
        .map(|id| {
            tokio::spawn(demo_client(
                addr.clone(),
                s.clone(),
                id,
                ClientTransport::Plain,
                None,
            ))
        })
        .collect();
    // Round 0 has closed once client 3 receives its key list.
    let key_list = read_frame(&mut stalling, 1 << 20).await.unwrap();
    assert_eq!(key_list.kind, kind::MESSAGE);
    // The half-open connection is closed, with no REJECT.
    let closed = tokio::time::timeout(Duration::from_secs(2), read_frame(&mut silent, 128))
        .await
        .expect("closed at once");
    assert!(closed.is_err(), "{closed:?}");
    // Nobody listens any more, while round 1 is still open (client 3 stalls).
    assert!(TcpStream::connect(&addr).await.is_err());
    assert!(!server.is_finished());

    let report = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("server finished in time")
        .unwrap();
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, [0, 2, 4]);
    check_sum(&s, out);
    for c in honest {
        let r = c.await.unwrap().unwrap();
        assert_eq!(r.done, Some(Done::Completed { included: true }));
    }
}

fn roster_session(n: usize, malicious: bool) -> Session {
    Session::new(SessionParams {
        malicious,
        roster: Some(real_roster(n)),
        ..SessionParams::new(n, 200)
    })
    .unwrap()
}

/// An id can be claimed only with the roster's key for it: another roster member's key,
/// an unregistered key and the id's demo key (which anyone can derive from the seed) all
/// get REJECT 6 and claim nothing; the real client 0 then joins, and every client is in
/// the verified sum (malicious model: the same keys sign the protocol).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hijacked_id_is_refused_and_its_owner_joins() {
    let s = roster_session(6, true);
    let (report, s, kept) = with_attackers_on(s, 6, short, |addr, s| async move {
        let demo = secagg_net::roster::demo_signing_key(&s.params.seed, 0);
        let mut kept = Vec::new();
        for key in [real_key(5), SigningKey::from_bytes(&[0x42; 32]), demo] {
            let (t, answer) = hello_with(&addr, &s, 0, &key).await;
            assert_eq!(answer, (kind::REJECT, vec![6]));
            kept.push(t);
        }
        // The library refuses, before connecting, to run with a key not in the roster.
        let input = s.ring_input(&s.demo_words(0).unwrap()).unwrap();
        let r = run_client(
            &addr,
            &ClientOptions::new(s.clone(), 0),
            input,
            &real_key(5),
        )
        .await;
        assert_eq!(
            r.unwrap_err(),
            Error::Transport(TransportError::NotInRoster { client: 0 })
        );
        kept
    })
    .await;
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, (0..6).collect::<Vec<_>>());
    check_sum(&s, out);
    assert_eq!((report.connected, report.refused), (6, 3));
    drop(kept);
}

/// A squatter that says hello for every id first (signing with its own key, and with a
/// signature of the right length but random bytes) claims none of them; all 8 real
/// clients join and are in the verified sum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_on_every_id_claims_none() {
    let n = 8;
    let s = roster_session(n, false);
    let (report, s, kept) = with_attackers_on(s, n, short, |addr, s| async move {
        let squatter = SigningKey::from_bytes(&[0x17; 32]);
        let mut kept = Vec::new();
        for id in 0..n as ClientId {
            let (t, answer) = hello_with(&addr, &s, id, &squatter).await;
            assert_eq!(answer, (kind::REJECT, vec![6]), "id {id}");
            kept.push(t);
            let (mut t, challenge) = challenged(&addr).await;
            let mut h = Hello::sign(
                &squatter,
                &challenge,
                &NO_BINDING,
                s.config.session_id(),
                id,
            );
            h.signature = [id as u8; 64];
            assert_eq!(send_hello(&mut t, &h).await, (kind::REJECT, vec![6]));
            kept.push(t);
        }
        kept
    })
    .await;
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, (0..n as ClientId).collect::<Vec<_>>());
    check_sum(&s, out);
    assert_eq!((report.connected, report.refused), (n, 2 * n));
    drop(kept);
}

/// A hello recorded from client 3 (by an eavesdropper: here a fake server that sends a
/// challenge and keeps the hello) is replayed to the real server of the same session
/// before client 3 connects: the server's challenge differs, so it gets REJECT 6 and
/// claims nothing; client 3 then joins and everyone is in the verified sum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_hello_is_refused() {
    let n = 5;
    let s = roster_session(n, false);
    // The recording.
    let fake = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_addr = fake.local_addr().unwrap().to_string();
    let recorder = tokio::spawn(async move {
        let (mut t, _) = fake.accept().await.unwrap();
        let recorded = Challenge([0x33; 32]);
        t.write_all(&encode_frame(kind::CHALLENGE, &recorded.encode()).unwrap())
            .await
            .unwrap();
        let frame = read_frame(&mut t, 128).await.unwrap();
        assert_eq!(frame.kind, kind::HELLO);
        (recorded, Hello::decode(&frame.body).unwrap())
    });
    let fooled = demo_client(fake_addr, s.clone(), 3, ClientTransport::Plain, None).await;
    assert!(fooled.is_err());
    let (recorded, replay) = recorder.await.unwrap();
    // It is client 3's genuine hello, for the recorded challenge.
    assert_eq!(replay.client, 3);
    assert!(replay.verify(&real_key(3).verifying_key(), &recorded, &NO_BINDING));

    let (report, s, kept) = with_attackers_on(s, n, short, |addr, _s| async move {
        let (mut t, _) = challenged(&addr).await;
        assert_eq!(send_hello(&mut t, &replay).await, (kind::REJECT, vec![6]));
        t
    })
    .await;
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, (0..n as ClientId).collect::<Vec<_>>());
    check_sum(&s, out);
    assert_eq!((report.connected, report.refused), (n, 1));
    drop(kept);
}

/// Peak resident memory of this process in KiB (`VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Issue 14's flood: one address (127.0.0.1) opens 1,500 connections and sends nothing,
/// while 10 honest clients, each from its own loopback address (127.0.0.2..=11: all of
/// 127/8 is loopback on Linux), join. With the server's defaults (8 handshakes per
/// address, 3 s to finish one, 256 in all) the flood holds 8 handshake slots and every
/// other flood connection is closed at accept, before any TLS work: all 10 clients are
/// in within the 15 s join window (round 0 closes early, once they all advertised), the
/// session completes and the sum is verified; at most 8 + 10 connections were ever in
/// their handshake at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_1500_silent_connections_does_not_keep_10_clients_out() {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const FLOOD: usize = 1500;
    let n = 10;
    let s = Session::new(SessionParams {
        roster: Some(real_roster(n)),
        ..SessionParams::new(n, 1000)
    })
    .unwrap();
    let (identity, pem) = Identity::self_signed(&["localhost".to_string()]).unwrap();
    let roots = parse_certs(pem.as_bytes()).unwrap();
    let opts = ServerOptions {
        join_deadline: Duration::from_secs(15),
        round_deadline: Duration::from_secs(5),
        tls: Some(acceptor(identity).unwrap()),
        ..ServerOptions::new(s.clone())
    };
    let transport = ClientTransport::tls(&roots, "localhost").unwrap();
    let rss_before = peak_rss_kib();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let started = std::time::Instant::now();
    let server = tokio::spawn(serve(listener, opts));
    // 1,500 silent connections, all open before the first honest client connects.
    let mut kept = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let t = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&addr))
            .await
            .expect("flood connection in time")
            .unwrap();
        kept.push(t);
    }
    let flooded = started.elapsed();
    // And while the honest clients join, the same address keeps opening more (at most
    // another 1,500, until the listener closes with round 0).
    let more = Arc::new(AtomicUsize::new(0));
    let reflood = {
        let (addr, more) = (addr.clone(), more.clone());
        tokio::spawn(async move {
            let mut kept = Vec::new();
            for _ in 0..FLOOD {
                match tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(&addr)).await
                {
                    Ok(Ok(t)) => {
                        kept.push(t);
                        more.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    _ => break,
                }
            }
            kept
        })
    };
    let clients: Vec<_> = (0..n as ClientId)
        .map(|id| {
            let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + id as u8));
            tokio::spawn(demo_client_from(
                addr.clone(),
                s.clone(),
                id,
                transport.clone(),
                None,
                Some(local),
            ))
        })
        .collect();
    let report = tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("server finished in time")
        .unwrap();
    let rekept = reflood.await.unwrap();
    for (id, c) in clients.into_iter().enumerate() {
        let r = c
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("client {id}: {e}"));
        assert_eq!(r.done, Some(Done::Completed { included: true }));
        assert!(
            r.elapsed < Duration::from_secs(15),
            "client {id}: {:?}",
            r.elapsed
        );
    }
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, (0..n as ClientId).collect::<Vec<_>>());
    check_sum(&s, out);
    let join = report.rounds[0].collect;
    assert!(
        report.rounds[0].early && join < Duration::from_secs(15),
        "{join:?}"
    );
    // The first 1,500 were all accepted before the honest clients came (the server
    // accepts as fast as they arrive): at most 8 held a handshake slot, the rest were
    // shed at accept; the later ones likewise, until round 0 closed.
    let flood_total = FLOOD + rekept.len();
    assert!(report.shed >= FLOOD - 8, "{report:?}");
    assert!(report.shed + report.refused <= flood_total, "{report:?}");
    assert!(
        report.peak_handshakes <= 8 + n,
        "{}",
        report.peak_handshakes
    );
    eprintln!(
        "flood: {FLOOD} connections opened in {flooded:?}, {} more while the clients \
         joined; {} shed at accept, {} refused in the handshake, peak {} in their \
         handshake; all {n} joined, round 0 closed after {join:?} (session {:?}); this \
         process's peak RSS {rss_before:?} KiB before, {:?} KiB after",
        rekept.len(),
        report.shed,
        report.refused,
        report.peak_handshakes,
        report.total,
        peak_rss_kib()
    );
    drop((kept, rekept));
}

/// Clients that share an address with a flood (behind one NAT, say) are shed like it
/// while its connections hold the address's slots, and get in by retrying: one slot
/// per address, a silent connection holding it for the 1 s handshake timeout; three
/// clients from the same address are closed at accept until it frees, retry (a
/// connection closed before the challenge is retried within `connect_timeout`) and
/// are all in the verified sum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_shed_with_a_flood_from_their_address_retry_and_join() {
    let s = roster_session(3, false);
    let opts = |s: &Session| ServerOptions {
        max_handshakes_per_address: 1,
        handshake_timeout: Duration::from_secs(1),
        join_deadline: Duration::from_secs(8),
        ..ServerOptions::new(s.clone())
    };
    let (report, s, silent) = with_attackers_on(s, 3, opts, |addr, _s| async move {
        let (silent, _) = challenged(&addr).await;
        silent
    })
    .await;
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, [0, 1, 2]);
    check_sum(&s, out);
    assert!(report.shed >= 3, "{report:?}");
    assert_eq!(report.peak_handshakes, 1);
    // The silent connection was closed at its handshake timeout.
    assert_eq!(report.refused, 1);
    drop(silent);
}

/// Over TLS the hello signs the connection's channel binding (the TLS exporter): a
/// hello signed for another binding — as a relay that terminates TLS would produce,
/// forwarding a challenge over its own connection — gets REJECT 6 and claims nothing;
/// the same client's hello with its connection's binding is welcomed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_hellos_are_bound_to_their_connection() {
    let s = roster_session(2, false);
    let (identity, pem) = Identity::self_signed(&["localhost".to_string()]).unwrap();
    let roots = parse_certs(pem.as_bytes()).unwrap();
    let opts = ServerOptions {
        tls: Some(acceptor(identity).unwrap()),
        ..short(&s)
    };
    let transport = ClientTransport::tls(&roots, "localhost").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(serve(listener, opts));
    let open = || async {
        let tcp = TcpStream::connect(&addr).await.unwrap();
        let (mut stream, binding) = transport.wrap_bound(tcp).await.unwrap();
        assert_ne!(binding, NO_BINDING);
        let frame = read_frame(&mut stream, 128).await.unwrap();
        assert_eq!(frame.kind, kind::CHALLENGE);
        (stream, binding, Challenge::decode(&frame.body).unwrap())
    };
    let answer = |mut stream: secagg_net::tls::BoxStream, h: Hello| async move {
        stream
            .write_all(&encode_frame(kind::HELLO, &h.encode()).unwrap())
            .await
            .unwrap();
        let a = read_frame(&mut stream, 128).await.unwrap();
        ((a.kind, a.body), stream)
    };
    let sid = *s.config.session_id();
    // Another TLS connection's binding (what a relay sees), and no binding at all.
    let (_other, binding_other, _) = open().await;
    for wrong in [NO_BINDING, binding_other] {
        let (conn, _, c) = open().await;
        let h = Hello::sign(&real_key(0), &c, &wrong, &sid, 0);
        assert_eq!(answer(conn, h).await.0, (kind::REJECT, vec![6]));
    }
    // A fresh connection signed with its own binding is welcomed; client 1 joins too.
    let (c, binding_c, challenge_c) = open().await;
    let h = Hello::sign(&real_key(0), &challenge_c, &binding_c, &sid, 0);
    let (welcome, mut stream) = answer(c, h).await;
    assert_eq!(welcome, (kind::WELCOME, vec![2]));
    // Client 0 goes on by hand over that connection; client 1 runs normally; the
    // session completes with both in the sum.
    let input = s.ring_input(&s.demo_words(0).unwrap()).unwrap();
    let cfg = std::sync::Arc::clone(&s.config);
    let (mut client0, adv) = secagg::protocol::Client::new(
        cfg.clone(),
        0,
        input,
        None,
        &mut secagg::crypto::rng::seeded_rng([1; 32]),
    )
    .unwrap();
    stream
        .write_all(&encode_frame(kind::MESSAGE, &adv.encode(&cfg).unwrap()).unwrap())
        .await
        .unwrap();
    let one = tokio::spawn(demo_client(
        addr.clone(),
        s.clone(),
        1,
        transport.clone(),
        None,
    ));
    let mut rng = secagg::crypto::rng::seeded_rng([2; 32]);
    loop {
        let f = read_frame(&mut stream, s.max_server_frame()).await.unwrap();
        if f.kind == kind::DONE {
            assert_eq!(
                Done::decode(&f.body),
                Ok(Done::Completed { included: true })
            );
            break;
        }
        let msg = secagg::protocol::messages::ServerMessage::decode(&cfg, &f.body).unwrap();
        let reply = client0.handle(msg, &mut rng).unwrap();
        stream
            .write_all(&encode_frame(kind::MESSAGE, &reply.encode(&cfg).unwrap()).unwrap())
            .await
            .unwrap();
    }
    let report = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap();
    let out = report.result.as_ref().unwrap();
    assert_eq!(out.included, [0, 1]);
    check_sum(&s, out);
    assert_eq!(
        one.await.unwrap().unwrap().done,
        Some(Done::Completed { included: true })
    );
}
