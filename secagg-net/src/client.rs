//! The networked client: connects, says hello, then runs the sans-IO [`Client`] until
//! the server's closing frame. Every read has a timeout, so a server that goes away or
//! falls silent ends the run with an error instead of a hang.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::frame::{encode_frame, kind, read_frame, write_raw, Frame};
use super::hello::{Done, Hello, Reject, MAX_HANDSHAKE_FRAME, TRANSPORT_VERSION};
use super::session::Session;
use super::tls::{BoxStream, ClientTransport};
use crate::error::{Error, Result, TransportError};
use crate::events::{ClientEvent, OnEvent};
use secagg::crypto::rng::os_rng;
use secagg::protocol::messages::ServerMessage;
use secagg::protocol::Client;
use secagg::ring::RingVec;
use secagg::ClientId;

/// How a client runs.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The session (must match the server's).
    pub session: Session,
    /// This client's id.
    pub id: ClientId,
    /// Plain TCP or TLS.
    pub transport: ClientTransport,
    /// Longest wait for any one frame from the server (covers a whole round on the
    /// server's side, so it must exceed the server's join and round deadlines plus its
    /// computation).
    pub read_timeout: Duration,
    /// How long to keep retrying a refused connection (the server may still be
    /// starting).
    pub connect_timeout: Duration,
    /// For drop-out experiments: close the connection right after sending this many
    /// protocol messages (1 = after advertising keys), as a crashed client would.
    pub quit_after: Option<usize>,
    /// Called with each [`ClientEvent`] (a message sent); none by default.
    pub on_event: OnEvent<ClientEvent>,
}

impl ClientOptions {
    /// Plain TCP, 60 s read timeout, 10 s to connect.
    pub fn new(session: Session, id: ClientId) -> Self {
        Self {
            session,
            id,
            transport: ClientTransport::Plain,
            read_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            quit_after: None,
            on_event: OnEvent::none(),
        }
    }
}

/// The outcome of a client run that reached the server's closing frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientReport {
    /// What the server said; `None` when the client quit on purpose
    /// ([`ClientOptions::quit_after`]).
    pub done: Option<Done>,
    /// Protocol messages this client sent.
    pub sent: usize,
    /// Time from the first connection attempt to the closing frame.
    pub elapsed: Duration,
}

/// Opens a connection, retrying refused attempts until `limit` has passed.
async fn connect(addr: &str, limit: Duration) -> Result<TcpStream> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if start.elapsed() + pause < limit => {
                if e.kind() == std::io::ErrorKind::InvalidInput {
                    return Err(Error::Transport(TransportError::Io {
                        op: "connect",
                        kind: e.kind(),
                    }));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(e) => {
                return Err(Error::Transport(TransportError::Io {
                    op: "connect",
                    kind: e.kind(),
                }))
            }
        }
    }
}

async fn read(
    stream: &mut BoxStream,
    max: usize,
    limit: Duration,
    what: &'static str,
) -> Result<Frame> {
    timeout(limit, read_frame(stream, max))
        .await
        .map_err(|_| Error::Transport(TransportError::Timeout { what }))?
}

/// Runs client `opts.id` with protocol input `inputs` against the server at `addr`.
///
/// # Errors [`TransportError::Io`] (cannot connect), [`TransportError::Tls`],
/// [`TransportError::Rejected`] (the hello was refused),
/// [`TransportError::ConnectionClosed`] (the server went away),
/// [`TransportError::Timeout`], [`TransportError::UnexpectedFrame`],
/// [`TransportError::FrameTooLarge`], a decoding error, or the protocol client's error (it
/// aborts on anything a server must not send).
pub async fn run_client(
    addr: &str,
    opts: &ClientOptions,
    inputs: Vec<RingVec>,
    signing_key: Option<SigningKey>,
) -> Result<ClientReport> {
    let start = Instant::now();
    let config = opts.session.config.clone();
    let tcp = timeout(opts.connect_timeout, connect(addr, opts.connect_timeout))
        .await
        .map_err(|_| {
            Error::Transport(TransportError::Timeout {
                what: "the connection",
            })
        })??;
    let mut stream = timeout(opts.connect_timeout, opts.transport.wrap(tcp))
        .await
        .map_err(|_| {
            Error::Transport(TransportError::Timeout {
                what: "the TLS handshake",
            })
        })??;
    let hello = Hello {
        client: opts.id,
        session_id: *config.session_id(),
    };
    write_raw(&mut stream, &encode_frame(kind::HELLO, &hello.encode())?).await?;
    let answer = read(
        &mut stream,
        MAX_HANDSHAKE_FRAME,
        opts.read_timeout,
        "the server's answer to the hello",
    )
    .await?;
    match answer.kind {
        kind::WELCOME => {
            let version = answer.body.first().copied().unwrap_or(0);
            if version != TRANSPORT_VERSION {
                return Err(Error::Transport(TransportError::TransportVersion {
                    found: version,
                    supported: TRANSPORT_VERSION,
                }));
            }
        }
        kind::REJECT => return Err(Reject::decode_error(&answer.body)),
        other => {
            return Err(Error::Transport(TransportError::UnexpectedFrame {
                expected: "welcome",
                found: other,
            }))
        }
    }

    let id = opts.id;
    let cfg = config.clone();
    let (mut client, first) = blocking(move || {
        let (client, msg) = Client::new(cfg.clone(), id, inputs, signing_key, &mut os_rng())?;
        let bytes = msg.encode(&cfg)?;
        Ok((client, bytes))
    })
    .await?;
    write_raw(&mut stream, &encode_frame(kind::MESSAGE, &first)?).await?;
    let mut sent = 1;
    let log = |sent: usize| {
        opts.on_event.emit(|| ClientEvent::Sent {
            client: id,
            message: sent,
        });
    };
    log(sent);
    let quit = |sent: usize| ClientReport {
        done: None,
        sent,
        elapsed: start.elapsed(),
    };
    if opts.quit_after == Some(sent) {
        return Ok(quit(sent));
    }
    let max_frame = opts.session.max_server_frame();
    loop {
        let frame = read(
            &mut stream,
            max_frame,
            opts.read_timeout,
            "the server's next message",
        )
        .await?;
        match frame.kind {
            kind::MESSAGE => {
                let cfg = config.clone();
                let (c, reply) = blocking(move || {
                    let msg = ServerMessage::decode(&cfg, &frame.body)?;
                    let reply = client.handle(msg, &mut os_rng())?;
                    Ok((client, reply.encode(&cfg)?))
                })
                .await?;
                client = c;
                write_raw(&mut stream, &encode_frame(kind::MESSAGE, &reply)?).await?;
                sent += 1;
                log(sent);
                if opts.quit_after == Some(sent) {
                    return Ok(quit(sent));
                }
            }
            kind::DONE => {
                let done = Done::decode(&frame.body)?;
                return Ok(ClientReport {
                    done: Some(done),
                    sent,
                    elapsed: start.elapsed(),
                });
            }
            other => {
                return Err(Error::Transport(TransportError::UnexpectedFrame {
                    expected: "a protocol message or the closing frame",
                    found: other,
                }))
            }
        }
    }
}

/// Runs CPU-heavy protocol work (mask expansion) off the I/O threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        Error::Transport(TransportError::Io {
            op: "client computation",
            kind: std::io::ErrorKind::Other,
        })
    })?
}
