//! The server's connections: the accept loop, each connection's handshake (TLS, hello,
//! admission), and its reader and writer tasks. The round driver in
//! [`server`](super::server) owns the protocol state; it talks to these tasks through
//! [`Event`]s and each connection's bounded write queue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::{timeout, timeout_at};

use super::frame::{encode_frame, kind, read_frame, write_raw, Frame};
use super::hello::{Hello, Reject, MAX_HANDSHAKE_FRAME, TRANSPORT_VERSION};
use super::server::{ServerOptions, WRITE_QUEUE};
use super::session::Session;
use super::tls::BoxStream;
use crate::error::{Error, Result, TransportError};
use crate::events::{OnEvent, ServerEvent};
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

    /// Claims `hello.client` if the hello is acceptable.
    fn admit(&self, hello: &Hello) -> core::result::Result<(), Reject> {
        if !self.admitting.load(Ordering::Acquire) {
            return Err(Reject::Closed);
        }
        if hello.session_id != *self.session.config.session_id() {
            return Err(Reject::SessionMismatch);
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

pub(super) async fn accept_loop(
    listener: TcpListener,
    admission: Arc<Admission>,
    opts: ServerOptions,
    events: mpsc::Sender<Event>,
) {
    let handshakes = Arc::new(Semaphore::new(opts.max_handshakes));
    let mut tasks = JoinSet::new();
    loop {
        // Backpressure: while `max_handshakes` connections are in their handshake, stop
        // accepting; further connections wait in the kernel's listen backlog, costing
        // this process nothing, and each slot frees within the handshake timeout.
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
        // Reap finished handshakes so the set stays small.
        while tasks.try_join_next().is_some() {}
        let admission = admission.clone();
        let opts = opts.clone();
        let events = events.clone();
        tasks.spawn(async move {
            let limit = opts.handshake_timeout;
            match timeout(limit, handshake(tcp, &admission, &opts)).await {
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

/// TLS and the hello; on success the client id is claimed and welcomed.
async fn handshake(
    tcp: TcpStream,
    admission: &Admission,
    opts: &ServerOptions,
) -> Result<(ClientId, BoxStream)> {
    let _ = tcp.set_nodelay(true);
    let mut stream: BoxStream = match &opts.tls {
        None => Box::new(tcp),
        Some(acceptor) => Box::new(acceptor.accept(tcp).await.map_err(|_| {
            Error::Transport(TransportError::Tls {
                what: "handshake with the client failed",
            })
        })?),
    };
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
    if let Err(r) = admission.admit(&hello) {
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
