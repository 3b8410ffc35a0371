//! The networked client: connects, signs the server's challenge in its hello, then runs the sans-IO [`Client`] until
//! the server's closing frame. Every read has a timeout, so a server that goes away or
//! falls silent ends the run with an error instead of a hang.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use tokio::net::{lookup_host, TcpSocket, TcpStream};
use tokio::time::timeout;

use super::frame::{encode_frame, kind, read_frame, write_raw, Frame};
use super::hello::{Challenge, Done, Hello, Reject, MAX_HANDSHAKE_FRAME, TRANSPORT_VERSION};
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
    /// starting), or one the server closed before its challenge (it sheds connections
    /// over its per-address limit).
    pub connect_timeout: Duration,
    /// The local address to connect from (`None`: the operating system's choice). On
    /// Linux every address of 127.0.0.0/8 is loopback: tests give clients distinct ones.
    pub local_addr: Option<IpAddr>,
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
            local_addr: None,
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

async fn connect_once(addr: &str, local: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = local else {
        return TcpStream::connect(addr).await;
    };
    let mut last = std::io::Error::from(std::io::ErrorKind::InvalidInput);
    for remote in lookup_host(addr).await? {
        if remote.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if remote.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.bind(SocketAddr::new(local, 0))?;
        match socket.connect(remote).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Opens a connection, retrying refused attempts until `limit` has passed.
async fn connect(addr: &str, local: Option<IpAddr>, limit: Duration) -> Result<TcpStream> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        match connect_once(addr, local).await {
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

/// Whether a failure before the server's challenge arrived is the server closing the
/// connection (shedding it): the client tries again.
fn closed_early(e: &Error) -> bool {
    match e {
        Error::Transport(TransportError::ConnectionClosed { .. }) => true,
        Error::Transport(TransportError::Io { kind, .. }) => matches!(
            kind,
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// TCP, TLS and the server's challenge, retried (with a growing pause) while the
/// connection is refused or closed before the challenge, until `opts.connect_timeout`.
async fn open(addr: &str, opts: &ClientOptions) -> Result<(BoxStream, [u8; 32], Challenge)> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let left = opts.connect_timeout.saturating_sub(start.elapsed());
        let attempt = async {
            let tcp = connect(addr, opts.local_addr, left).await?;
            let (mut stream, binding) = opts.transport.wrap_bound(tcp).await?;
            let frame = read_frame(&mut stream, MAX_HANDSHAKE_FRAME).await?;
            match frame.kind {
                kind::CHALLENGE => Ok((stream, binding, Challenge::decode(&frame.body)?)),
                kind::REJECT => Err(Reject::decode_error(&frame.body)),
                other => Err(Error::Transport(TransportError::UnexpectedFrame {
                    expected: "the challenge",
                    found: other,
                })),
            }
        };
        match timeout(left, attempt).await {
            Ok(Ok(pair)) => return Ok(pair),
            Ok(Err(e)) if closed_early(&e) && start.elapsed() + pause < opts.connect_timeout => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(Error::Transport(TransportError::Timeout {
                    what: "the connection and the server's challenge",
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

/// Runs client `opts.id` with protocol input `inputs` against the server at `addr`,
/// authenticating with `key`, the long-term Ed25519 key the session's roster lists for
/// `opts.id`; in the malicious model the same key signs the protocol's messages.
///
/// # Errors [`TransportError::NotInRoster`] (`key` is not the roster's key for the id),
/// [`TransportError::Io`] (cannot connect), [`TransportError::Tls`],
/// [`TransportError::Rejected`] (the hello was refused),
/// [`TransportError::ConnectionClosed`] (the server went away),
/// [`TransportError::Timeout`], [`TransportError::UnexpectedFrame`],
/// [`TransportError::FrameTooLarge`], a decoding error, or the protocol client's error (it
/// aborts on anything a server must not send).
pub async fn run_client(
    addr: &str,
    opts: &ClientOptions,
    inputs: Vec<RingVec>,
    key: &SigningKey,
) -> Result<ClientReport> {
    let start = Instant::now();
    let config = opts.session.config.clone();
    if !opts.session.holds_key(opts.id, key) {
        return Err(Error::Transport(TransportError::NotInRoster {
            client: opts.id,
        }));
    }
    let signing_key = config.is_malicious().then(|| key.clone());
    let (mut stream, binding, challenge) = open(addr, opts).await?;
    let hello = Hello::sign(key, &challenge, &binding, config.session_id(), opts.id);
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
