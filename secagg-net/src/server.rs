//! The networked server: accepts up to `n` clients, then drives the sans-IO
//! [`Server`] round by round with a deadline per round.
//!
//! One task accepts connections; each connection gets a short-lived handshake task (TLS,
//! the challenge and the signed hello, under [`ServerOptions::handshake_timeout`]), then a reader task (frames →
//! decoded [`ClientMessage`](secagg::protocol::ClientMessage)s) and a writer task (a
//! channel of at most [`WRITE_QUEUE`] encoded frames). The driver owns the protocol state:
//! it feeds every decoded message to [`Server::receive`] and closes the round at its
//! deadline, or as soon as every awaited client either answered or lost its connection.
//! Whoever has not answered by then is a drop-out and is disconnected.
//!
//! Bounds: at most `n` admitted connections plus [`ServerOptions::max_handshakes`]
//! connections in their handshake (further connections wait in the kernel's listen backlog
//! until a handshake slot frees, at the latest after the handshake timeout), of which one
//! address holds at most [`ServerOptions::max_handshakes_per_address`] (its further
//! connections are closed at accept, before TLS); before its
//! hello is accepted a connection may send at most
//! [`MAX_HANDSHAKE_FRAME`](super::hello::MAX_HANDSHAKE_FRAME) bytes per frame, afterwards
//! [`Session::max_client_frame`]; a frame being received holds only the bytes that arrived;
//! each reader holds at most one decoded message while the driver's queue ([`EVENT_QUEUE`]
//! entries) is full. A peer that stalls, sends garbage, an oversized frame, a second
//! message in a round or a message the protocol rejects loses its connection; the driver
//! never waits on any one peer past the deadline.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::{sleep_until, timeout};

use super::conn::{accept_loop, spawn_connection, Admission, Conn, Event};
use super::frame::{encode_frame, kind};
use super::hello::Done;
use super::session::Session;
use crate::error::{Error, Result, TransportError};
use crate::events::{OnEvent, ServerEvent};
use secagg::error::Misuse;
use secagg::protocol::{Output, Server};
use secagg::{ClientId, Round};

/// Capacity of the queue from connection readers to the driver.
pub const EVENT_QUEUE: usize = 256;

/// Frames that may wait to be written to one client.
pub const WRITE_QUEUE: usize = 2;

/// How the server runs.
#[derive(Clone)]
pub struct ServerOptions {
    /// The session.
    pub session: Session,
    /// Time allowed for each round after the first, counted from the moment the round's
    /// messages were handed to the connections.
    pub round_deadline: Duration,
    /// Time allowed for round 0 (clients connect and advertise keys), counted from the
    /// start of [`serve`].
    pub join_deadline: Duration,
    /// Time a new connection has for its TLS handshake and hello.
    pub handshake_timeout: Duration,
    /// Connections allowed in their handshake at once; while that many are, the server
    /// stops accepting (the rest wait in the kernel's listen backlog).
    pub max_handshakes: usize,
    /// Connections one address (IPv4 address, IPv6 /64) may have in their handshake at
    /// once; further ones from that address are closed as soon as they are accepted,
    /// before any TLS work (counted in [`ServeReport::shed`]).
    pub max_handshakes_per_address: usize,
    /// TLS acceptor; `None` for plain TCP.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Close a round as soon as every awaited client answered or disconnected (instead
    /// of always waiting for the deadline).
    pub early_close: bool,
    /// Called with each [`ServerEvent`] (refused connections, dropped clients); none by
    /// default.
    pub on_event: OnEvent<ServerEvent>,
}

impl ServerOptions {
    /// Plain TCP, 10 s per round and for joining, 3 s per handshake, 256 concurrent
    /// handshakes and 8 per address, early close on, quiet.
    pub fn new(session: Session) -> Self {
        Self {
            session,
            round_deadline: Duration::from_secs(10),
            join_deadline: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(3),
            max_handshakes: 256,
            max_handshakes_per_address: 8,
            tls: None,
            early_close: true,
            on_event: OnEvent::none(),
        }
    }
}

/// What happened in one round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundReport {
    /// The round.
    pub round: Round,
    /// From the round's opening to its close (the deadline or the early close).
    pub collect: Duration,
    /// Time in [`Server::close_round`] and encoding the next messages.
    pub compute: Duration,
    /// Messages the protocol accepted.
    pub received: usize,
    /// Clients that go on to the next round (message recipients).
    pub survivors: usize,
    /// Whether the round closed before its deadline.
    pub early: bool,
}

/// The outcome of [`serve`].
#[derive(Clone, Debug)]
pub struct ServeReport {
    /// The sum and the included clients, or the error that aborted the session.
    pub result: Result<Output>,
    /// Per round, in order (the aborting round included).
    pub rounds: Vec<RoundReport>,
    /// Clients whose hello was accepted.
    pub connected: usize,
    /// Connections refused or closed during the handshake (TLS, challenge, hello).
    pub refused: usize,
    /// Connections closed at accept because their address had
    /// [`ServerOptions::max_handshakes_per_address`] handshakes in progress.
    pub shed: usize,
    /// The most connections that were in their handshake at once (at most
    /// [`ServerOptions::max_handshakes`]).
    pub peak_handshakes: usize,
    /// Admitted clients that lost their connection, with the error (one per client).
    pub disconnected: Vec<(ClientId, Error)>,
    /// From the start of [`serve`] to the end.
    pub total: Duration,
}

/// Runs one session on `listener` and reports its outcome. Never returns before the
/// session completed or aborted; the time it takes is bounded by the join deadline plus
/// one round deadline per round plus the server's computation.
pub async fn serve(listener: TcpListener, opts: ServerOptions) -> ServeReport {
    let start = Instant::now();
    let n = opts.session.config.n();
    let admission = Arc::new(Admission {
        session: opts.session.clone(),
        admitting: AtomicBool::new(true),
        claimed: Mutex::new(vec![false; n]),
        refused: AtomicUsize::new(0),
        shed: AtomicUsize::new(0),
        in_handshake: AtomicUsize::new(0),
        peak_handshakes: AtomicUsize::new(0),
        on_event: opts.on_event.clone(),
    });
    let (events_tx, mut events) = mpsc::channel::<Event>(EVENT_QUEUE);
    let acceptor = tokio::spawn(accept_loop(
        listener,
        admission.clone(),
        opts.clone(),
        events_tx.clone(),
    ));

    let mut driver = Driver {
        server: Some(Server::new(opts.session.config.clone())),
        opts: opts.clone(),
        events: events_tx.clone(),
        conns: (0..n).map(|_| None).collect(),
        waiting: vec![true; n],
        pending: n,
        received: 0,
        connected: 0,
        disconnected: Vec::new(),
    };
    let mut rounds = Vec::new();
    let mut deadline = tokio::time::Instant::now() + opts.join_deadline;
    let result = loop {
        let round = driver.round();
        let opened = Instant::now();
        let mut early = false;
        loop {
            if opts.early_close && driver.pending == 0 {
                early = true;
                break;
            }
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(ev) => driver.handle(ev),
                    None => break,
                },
                () = sleep_until(deadline) => {
                    // Messages read before the deadline but still queued count: take
                    // what is queued now (at most one event per queue slot and client).
                    for _ in 0..EVENT_QUEUE + n {
                        match events.try_recv() {
                            Ok(ev) => driver.handle(ev),
                            Err(_) => break,
                        }
                    }
                    break;
                }
            }
        }
        if round == Round::AdvertiseKeys {
            admission.admitting.store(false, Ordering::Release);
            acceptor.abort();
        }
        let collect = opened.elapsed();
        let computed = Instant::now();
        let (server, outcome) = close_and_encode(driver.server.take(), &opts.session).await;
        driver.server = server;
        let mut report = RoundReport {
            round,
            collect,
            compute: computed.elapsed(),
            received: driver.received,
            survivors: 0,
            early,
        };
        match outcome {
            Err(e) => {
                rounds.push(report);
                break Err(e);
            }
            Ok(frames) => {
                report.survivors = frames.len();
                rounds.push(report);
                driver.start_round(frames);
                if let Some(out) = driver.server.as_ref().and_then(Server::output) {
                    break Ok(out.clone());
                }
            }
        }
        deadline = tokio::time::Instant::now() + opts.round_deadline;
    };
    acceptor.abort();
    let done = |id: ClientId| match &result {
        Ok(out) => Done::Completed {
            included: out.included.binary_search(&id).is_ok(),
        },
        Err(e) => Done::Aborted(e.kind()),
    };
    driver.finish(done).await;
    ServeReport {
        result,
        rounds,
        connected: driver.connected,
        refused: admission.refused.load(Ordering::Relaxed),
        shed: admission.shed.load(Ordering::Relaxed),
        peak_handshakes: admission.peak_handshakes.load(Ordering::Relaxed),
        disconnected: driver.disconnected,
        total: start.elapsed(),
    }
}

/// Closes the round on a blocking thread (unmasking is heavy) and encodes the frames.
async fn close_and_encode(
    server: Option<Server>,
    session: &Session,
) -> (Option<Server>, Result<Vec<(ClientId, Vec<u8>)>>) {
    let Some(mut server) = server else {
        return (None, Err(Misuse::AlreadyAborted.into()));
    };
    let config = session.config.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let result = server.close_round().map_err(Error::from).and_then(|msgs| {
            use rayon::prelude::*;
            msgs.into_par_iter()
                .map(|(id, m)| Ok((id, encode_frame(kind::MESSAGE, &m.encode(&config)?)?)))
                .collect::<Result<Vec<_>>>()
        });
        (Some(server), result)
    })
    .await;
    match joined {
        Ok(pair) => pair,
        // The closure does not panic on peer input; a panic here is a bug, reported as
        // an aborted session rather than propagated.
        Err(_) => (
            None,
            Err(Error::Transport(TransportError::Io {
                op: "close round",
                kind: std::io::ErrorKind::Other,
            })),
        ),
    }
}

struct Driver {
    /// `None` only while a round is being closed on a blocking thread.
    server: Option<Server>,
    opts: ServerOptions,
    events: mpsc::Sender<Event>,
    conns: Vec<Option<Conn>>,
    /// Awaited in this round and not yet answered or disconnected.
    waiting: Vec<bool>,
    pending: usize,
    received: usize,
    connected: usize,
    disconnected: Vec<(ClientId, Error)>,
}

impl Driver {
    fn round(&self) -> Round {
        self.server.as_ref().map_or(Round::Unmasking, Server::round)
    }

    fn settle(&mut self, id: ClientId) {
        if let Some(w) = self.waiting.get_mut(id as usize) {
            if *w {
                *w = false;
                self.pending -= 1;
            }
        }
    }

    fn drop_client(&mut self, id: ClientId, error: Error) {
        if let Some(conn) = self.conns.get_mut(id as usize).and_then(Option::take) {
            conn.reader.abort();
            conn.writer.abort();
            let round = self.round();
            self.opts.on_event.emit(|| ServerEvent::Dropped {
                client: id,
                round,
                error: error.clone(),
            });
            self.disconnected.push((id, error));
        }
        self.settle(id);
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Joined { id, stream } => {
                if self.round() != Round::AdvertiseKeys {
                    return; // too late: dropping the stream closes it
                }
                if let Some(slot) = self.conns.get_mut(id as usize) {
                    self.connected += 1;
                    *slot = Some(spawn_connection(
                        id,
                        stream,
                        &self.opts,
                        self.events.clone(),
                    ));
                }
            }
            Event::Message { id, msg } => {
                if self.conns.get(id as usize).is_none_or(Option::is_none) {
                    return;
                }
                let Some(server) = self.server.as_mut() else {
                    return;
                };
                match server.receive(id, msg) {
                    Ok(()) => {
                        self.received += 1;
                        self.settle(id);
                    }
                    Err(e) => self.drop_client(id, e.into()),
                }
            }
            Event::Gone { id, error } => self.drop_client(id, error),
        }
    }

    /// Sends this round's frames, drops everyone else, and resets the bookkeeping.
    fn start_round(&mut self, frames: Vec<(ClientId, Vec<u8>)>) {
        let n = self.conns.len();
        let mut goes_on = vec![false; n];
        for (id, frame) in frames {
            let Some(conn) = self.conns.get(id as usize).and_then(Option::as_ref) else {
                continue;
            };
            match conn.tx.try_send(frame) {
                Ok(()) => {
                    if let Some(g) = goes_on.get_mut(id as usize) {
                        *g = true;
                    }
                }
                Err(_) => self.drop_client(
                    id,
                    Error::Transport(TransportError::Timeout {
                        what: "the client to read its messages",
                    }),
                ),
            }
        }
        // After the last round nobody is awaited; otherwise whoever gets no message
        // has dropped out and loses its connection.
        let finished = self.server.as_ref().and_then(Server::output).is_some();
        if !finished {
            let stale: Vec<ClientId> = (0..n)
                .filter(|&id| !goes_on[id] && self.conns[id].is_some())
                .map(|id| id as ClientId)
                .collect();
            for id in stale {
                self.drop_client(
                    id,
                    Error::Transport(TransportError::Timeout {
                        what: "the client's message before the deadline",
                    }),
                );
            }
        }
        self.waiting = goes_on;
        self.pending = self.waiting.iter().filter(|&&w| w).count();
        self.received = 0;
    }

    /// Tells every connected client how the session ended and closes the connections,
    /// waiting at most two seconds for the last frames to be written.
    async fn finish(&mut self, done: impl Fn(ClientId) -> Done) {
        let mut writers: Vec<JoinHandle<()>> = Vec::new();
        for (id, slot) in self.conns.iter_mut().enumerate() {
            if let Some(conn) = slot.take() {
                conn.reader.abort();
                if let Ok(frame) = encode_frame(kind::DONE, &done(id as ClientId).encode()) {
                    let _ = conn.tx.try_send(frame);
                }
                drop(conn.tx);
                writers.push(conn.writer);
            }
        }
        let aborts: Vec<AbortHandle> = writers.iter().map(JoinHandle::abort_handle).collect();
        let wait = async {
            for w in writers {
                let _ = w.await;
            }
        };
        let _ = timeout(Duration::from_secs(2), wait).await;
        for a in aborts {
            a.abort();
        }
    }
}
