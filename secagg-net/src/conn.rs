//! The server's connections: the accept loop (with its per-address limit, applied
//! before any TLS work), each connection's handshake (TLS, challenge, signed hello,
//! admission), and its reader and writer tasks. The round driver in
//! [`server`](super::server) owns the protocol state; it talks to these tasks through
//! [`Event`]s and each connection's bounded write queue.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::{timeout, timeout_at};

use super::frame::{encode_frame, kind, read_frame, write_raw, Frame};
use super::hello::{Challenge, Hello, Reject, MAX_HANDSHAKE_FRAME, TRANSPORT_VERSION};
use super::server::{ServerOptions, WRITE_QUEUE};
use super::session::Session;
use super::tls::{server_binding, BoxStream, NO_BINDING};
use crate::error::{Error, Result, TransportError};
use crate::events::{OnEvent, ServerEvent};
use secagg::crypto::rng::{os_rng, Rng};
use secagg::protocol::messages::ClientMessage;
use secagg::ClientId;

pub(super) struct Conn {
    pub(super) tx: mpsc::Sender<Vec<u8>>,
    pub(super) reader: AbortHandle,
    pub(super) writer: JoinHandle<()>,
}

pub(super) enum Event {
    Joined { id: ClientId, stream: BoxStream },
    Message { id: ClientId, msg: ClientMessage },
    Gone { id: ClientId, error: Error },
}

/// State shared by the accept loop and the handshake tasks.
pub(super) struct Admission {
    pub(super) session: Session,
    pub(super) admitting: AtomicBool,
    pub(super) claimed: Mutex<Vec<bool>>,
    pub(super) refused: AtomicUsize,
    /// Connections closed at accept, over the per-address limit.
    pub(super) shed: AtomicUsize,
    /// Connections in their handshake now, and the most there were at once.
    pub(super) in_handshake: AtomicUsize,
    pub(super) peak_handshakes: AtomicUsize,
    pub(super) on_event: OnEvent<ServerEvent>,
}

impl Admission {
    fn refuse(&self, addr: SocketAddr, error: &Error) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.on_event.emit(|| ServerEvent::Refused {
            addr,
            error: error.clone(),
        });
    }

    /// Claims `hello.client` if the hello is acceptable: the checks in the order of
    /// `docs/networking.md` (admitting, session id, id range, id claimed, signature
    /// under the roster key of the id, for this connection's challenge and channel
    /// binding). The signature
    /// is verified only after the cheap checks passed.
    fn admit(
        &self,
        hello: &Hello,
        challenge: &Challenge,
        binding: &[u8; 32],
    ) -> core::result::Result<(), Reject> {
        if !self.admitting.load(Ordering::Acquire) {
            return Err(Reject::Closed);
        }
        if hello.session_id != *self.session.config.session_id() {
            return Err(Reject::SessionMismatch);
        }
        let key = self
            .session
            .roster
            .key(hello.client)
            .ok_or(Reject::UnknownClient)?;
        let is_claimed = |claimed: &Mutex<Vec<bool>>| {
            claimed
                .lock()
                .map(|c| c.get(hello.client as usize).copied().unwrap_or(true))
                .unwrap_or(true)
        };
        if is_claimed(&self.claimed) {
            return Err(Reject::DuplicateClient);
        }
        if !hello.verify(key, challenge, binding) {
            return Err(Reject::BadSignature);
        }
        let mut claimed = self.claimed.lock().map_err(|_| Reject::Closed)?;
        match claimed.get_mut(hello.client as usize) {
            None => Err(Reject::UnknownClient),
            Some(true) => Err(Reject::DuplicateClient),
            Some(slot) => {
                *slot = true;
                Ok(())
            }
        }
    }
}

/// The address a per-address limit counts: an IPv4 address, or the /64 prefix of an
/// IPv6 one (one host usually holds a whole /64); IPv4-mapped IPv6 addresses count as
/// IPv4.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Connections in their handshake, per address. Holds an entry only for an address
/// with a connection in its handshake, so it never has more than `max_handshakes`
/// entries.
struct PerAddress {
    counts: Mutex<HashMap<IpAddr, usize>>,
    limit: usize,
}

/// One connection's place in its address's count; gives it back when dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    fn enter(table: &Arc<PerAddress>, ip: IpAddr) -> Option<AddressSlot> {
        let key = address_key(ip);
        let mut counts = table.counts.lock().ok()?;
        let count = counts.entry(key).or_insert(0);
        if *count >= table.limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: table.clone(),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.table.counts.lock() {
            if let Some(c) = counts.get_mut(&self.key) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&self.key);
                }
            }
        }
    }
}

pub(super) async fn accept_loop(
    listener: TcpListener,
    admission: Arc<Admission>,
    opts: ServerOptions,
    events: mpsc::Sender<Event>,
) {
    let handshakes = Arc::new(Semaphore::new(opts.max_handshakes));
    let per_address = Arc::new(PerAddress {
        counts: Mutex::new(HashMap::new()),
        limit: opts.max_handshakes_per_address.max(1),
    });
    let mut tasks = JoinSet::new();
    loop {
        // Backpressure: while `max_handshakes` connections are in their handshake, stop
        // accepting; further connections wait in the kernel's listen backlog, costing
        // this process nothing, and each slot frees within the handshake timeout. One
        // address holds at most `max_handshakes_per_address` of the slots: beyond that
        // its connections are closed as soon as they are accepted, before TLS.
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (tcp, addr) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly, keep serving.
                opts.on_event.emit(|| ServerEvent::AcceptFailed {
                    error: TransportError::Io {
                        op: "accept",
                        kind: e.kind(),
                    }
                    .into(),
                });
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Some(slot) = PerAddress::enter(&per_address, addr.ip()) else {
            admission.shed.fetch_add(1, Ordering::Relaxed);
            opts.on_event.emit(|| ServerEvent::Shed { addr });
            drop(tcp);
            continue;
        };
        let now = admission.in_handshake.fetch_add(1, Ordering::Relaxed) + 1;
        admission.peak_handshakes.fetch_max(now, Ordering::Relaxed);
        // Reap finished handshakes so the set stays small.
        while tasks.try_join_next().is_some() {}
        let admission = admission.clone();
        let opts = opts.clone();
        let events = events.clone();
        tasks.spawn(async move {
            let limit = opts.handshake_timeout;
            let outcome = timeout(limit, handshake(tcp, &admission, &opts)).await;
            drop(slot);
            admission.in_handshake.fetch_sub(1, Ordering::Relaxed);
            match outcome {
                Ok(Ok((id, stream))) => {
                    drop(permit);
                    // Fails only when the driver has finished; the stream then closes.
                    let _ = events.send(Event::Joined { id, stream }).await;
                }
                Ok(Err(e)) => admission.refuse(addr, &e),
                Err(_) => admission.refuse(
                    addr,
                    &Error::Transport(TransportError::Timeout { what: "the hello" }),
                ),
            }
        });
    }
}

/// TLS, the challenge and the hello; on success the client id is claimed and welcomed.
async fn handshake(
    tcp: TcpStream,
    admission: &Admission,
    opts: &ServerOptions,
) -> Result<(ClientId, BoxStream)> {
    let _ = tcp.set_nodelay(true);
    let (mut stream, binding): (BoxStream, [u8; 32]) = match &opts.tls {
        None => (Box::new(tcp), NO_BINDING),
        Some(acceptor) => {
            let tls = acceptor.accept(tcp).await.map_err(|_| {
                Error::Transport(TransportError::Tls {
                    what: "handshake with the client failed",
                })
            })?;
            let binding = server_binding(&tls)?;
            (Box::new(tls), binding)
        }
    };
    let mut challenge = Challenge([0u8; 32]);
    os_rng().fill_bytes(&mut challenge.0);
    write_raw(
        &mut stream,
        &encode_frame(kind::CHALLENGE, &challenge.encode())?,
    )
    .await?;
    let Frame { kind: k, body } = read_frame(&mut stream, MAX_HANDSHAKE_FRAME).await?;
    if k != kind::HELLO {
        return Err(Error::Transport(TransportError::UnexpectedFrame {
            expected: "hello",
            found: k,
        }));
    }
    let hello = match Hello::decode(&body) {
        Ok(h) => h,
        Err(e) => {
            let _ = reject(&mut stream, Reject::Version).await;
            return Err(e);
        }
    };
    if let Err(r) = admission.admit(&hello, &challenge, &binding) {
        let _ = reject(&mut stream, r).await;
        return Err(Error::Transport(TransportError::Rejected {
            reason: r.reason(),
        }));
    }
    write_raw(
        &mut stream,
        &encode_frame(kind::WELCOME, &[TRANSPORT_VERSION])?,
    )
    .await?;
    Ok((hello.client, stream))
}

async fn reject(stream: &mut BoxStream, r: Reject) -> Result<()> {
    write_raw(stream, &encode_frame(kind::REJECT, &[r as u8])?).await?;
    let _ = stream.shutdown().await;
    Ok(())
}

pub(super) fn spawn_connection(
    id: ClientId,
    stream: BoxStream,
    opts: &ServerOptions,
    events: mpsc::Sender<Event>,
) -> Conn {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    let config = opts.session.config.clone();
    let max_frame = opts.session.max_client_frame();
    let gone = events.clone();
    let reader = tokio::spawn(async move {
        let error = loop {
            let frame = match read_frame(&mut rd, max_frame).await {
                Ok(f) => f,
                Err(e) => break e,
            };
            if frame.kind != kind::MESSAGE {
                break Error::Transport(TransportError::UnexpectedFrame {
                    expected: "a protocol message",
                    found: frame.kind,
                });
            }
            match ClientMessage::decode(&config, id, &frame.body) {
                Ok(msg) => {
                    if events.send(Event::Message { id, msg }).await.is_err() {
                        return;
                    }
                }
                Err(e) => break e.into(),
            }
        };
        let _ = events.send(Event::Gone { id, error }).await;
    });
    let write_limit = opts.round_deadline.max(Duration::from_secs(1));
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            let deadline = tokio::time::Instant::now() + write_limit;
            let result = match timeout_at(deadline, write_raw(&mut wr, &frame)).await {
                Ok(r) => r,
                Err(_) => Err(Error::Transport(TransportError::Timeout {
                    what: "the client to read its messages",
                })),
            };
            if let Err(error) = result {
                let _ = gone.send(Event::Gone { id, error }).await;
                return;
            }
        }
        let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
    });
    Conn {
        tx,
        reader: reader.abort_handle(),
        writer,
    }
}
