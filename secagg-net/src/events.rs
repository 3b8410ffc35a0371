//! What the drivers report as it happens. The library never prints: a caller that wants
//! to see refused connections, dropped clients or messages sent passes a callback in
//! [`ServerOptions::on_event`](crate::server::ServerOptions::on_event) or
//! [`ClientOptions::on_event`](crate::client::ClientOptions::on_event), and logs, counts
//! or forwards the events as it likes (the `secagg` binary prints them with
//! `--verbose`). The callback runs on the driver's task: keep it short.

use core::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use secagg::{ClientId, Round};

use crate::error::Error;

/// An event of the server driver.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A connection was refused before it joined (a bad hello, a wrong session id, an id
    /// already connected, a handshake that timed out, ...).
    Refused {
        /// The peer's address.
        addr: SocketAddr,
        /// Why.
        error: Error,
    },
    /// A connection was closed as soon as it was accepted: its address already had the
    /// most connections allowed in their handshake (no TLS work was done for it).
    Shed {
        /// The peer's address.
        addr: SocketAddr,
    },
    /// Accepting a connection failed (out of file descriptors and the like); the server
    /// backs off briefly and goes on.
    AcceptFailed {
        /// The failure.
        error: Error,
    },
    /// A joined client was dropped from the session: its connection failed or it sent
    /// something the protocol refuses.
    Dropped {
        /// The client.
        client: ClientId,
        /// The round the server was in.
        round: Round,
        /// Why.
        error: Error,
    },
}

impl fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerEvent::Refused { addr, error } => write!(f, "refused {addr}: {error}"),
            ServerEvent::Shed { addr } => {
                write!(f, "shed {addr}: too many handshakes from this address")
            }
            ServerEvent::AcceptFailed { error } => write!(f, "accept failed: {error}"),
            ServerEvent::Dropped {
                client,
                round,
                error,
            } => write!(f, "client {client} dropped in round {round}: {error}"),
        }
    }
}

/// An event of the client driver.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The client sent its `message`-th protocol message (1 = its advertised keys).
    Sent {
        /// The client.
        client: ClientId,
        /// How many protocol messages it has sent, this one included.
        message: usize,
    },
}

impl fmt::Display for ClientEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientEvent::Sent { client, message } => write!(
                f,
                "client {client}: sent message {message} (round {})",
                message - 1
            ),
        }
    }
}

/// The callback itself, shared by every task of a driver.
type Callback<E> = Arc<dyn Fn(&E) + Send + Sync>;

/// A caller's event callback (or none). Cloning shares the callback.
pub struct OnEvent<E>(Option<Callback<E>>);

impl<E> OnEvent<E> {
    /// No callback: events are dropped.
    pub fn none() -> Self {
        Self(None)
    }

    /// Calls `f` with every event.
    pub fn new(f: impl Fn(&E) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    /// Hands `event` to the callback, if any. `event` is built only when one is set.
    pub(crate) fn emit(&self, event: impl FnOnce() -> E) {
        if let Some(f) = &self.0 {
            f(&event());
        }
    }
}

impl<E> Clone for OnEvent<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<E> Default for OnEvent<E> {
    fn default() -> Self {
        Self::none()
    }
}

impl<E> fmt::Debug for OnEvent<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "OnEvent(callback)"
        } else {
            "OnEvent(none)"
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::error::TransportError;

    #[test]
    fn events_reach_the_callback_and_display_as_the_binary_logs_them() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let seen = seen.clone();
            OnEvent::new(move |e: &ServerEvent| seen.lock().unwrap().push(e.to_string()))
        };
        sink.emit(|| ServerEvent::Dropped {
            client: 3,
            round: Round::ShareKeys,
            error: TransportError::Timeout { what: "a message" }.into(),
        });
        let want = format!(
            "client 3 dropped in round {}: {}",
            Round::ShareKeys,
            Error::from(TransportError::Timeout { what: "a message" })
        );
        assert_eq!(*seen.lock().unwrap(), [want]);
        assert_eq!(
            ClientEvent::Sent {
                client: 7,
                message: 2
            }
            .to_string(),
            "client 7: sent message 2 (round 1)"
        );
    }

    #[test]
    fn no_callback_builds_no_event() {
        OnEvent::<ClientEvent>::none().emit(|| unreachable!("built without a callback"));
        assert_eq!(
            format!("{:?}", OnEvent::<ClientEvent>::none()),
            "OnEvent(none)"
        );
    }
}
