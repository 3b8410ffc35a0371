//! The network crate's errors: the transport's own (sockets, frames, the handshake, TLS)
//! and the core's, wrapped.
//!
//! [`Error`] has two categories: [`Error::Transport`] for what goes wrong on a
//! connection, and [`Error::Core`] for an error of the [`secagg`] core (a frame that
//! does not decode, a peer that broke the protocol, a threshold that cannot be met, a
//! bad configuration). Every core category converts into it with `From`, so `?` works on
//! both. [`Error::kind`] reports the core's [`ErrorKind`] (transport errors are kind
//! [`ErrorKind::Transport`], except a peer that breaks the framing, which misbehaved, and
//! TLS, which is a cryptographic failure); [`Error::name`] gives every variant a stable
//! name, as in the core.

use secagg::error::{
    CryptoError, EncodingError, ErrorKind, Misuse, PeerMisbehaved, ThresholdError,
};

/// Everything that can go wrong in the networked server and client.
///
/// Displays as the specific error (the category adds no text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection failed: a socket error, a closed connection, a timeout, a frame
    /// the transport does not allow, TLS.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// An error of the core (decoding, the protocol, thresholds, configuration).
    #[error(transparent)]
    Core(#[from] secagg::Error),
}

impl Error {
    /// The category of this error, in the core's [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Transport(e) => e.kind(),
            Error::Core(e) => e.kind(),
        }
    }

    /// The stable name of the specific error: its variant's identifier, e.g.
    /// `"FrameTooLarge"` or `"Truncated"`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Transport(e) => e.name(),
            Error::Core(e) => e.name(),
        }
    }
}

macro_rules! from_core_category {
    ($($category:ty),*) => {
        $(impl From<$category> for Error {
            fn from(e: $category) -> Self {
                Error::Core(e.into())
            }
        })*
    };
}

from_core_category!(
    EncodingError,
    CryptoError,
    PeerMisbehaved,
    ThresholdError,
    Misuse
);

/// What went wrong on a connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A length-prefixed frame announced more bytes than the session allows; the
    /// connection is closed without reading (or allocating) the body.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The largest length accepted at this point.
        max: usize,
    },
    /// The peer closed the connection.
    #[error("connection closed by the peer during {during}")]
    ConnectionClosed {
        /// What was being read or written.
        during: &'static str,
    },
    /// A socket or file operation failed.
    #[error("i/o error during {op}: {kind}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The operating system's error category.
        kind: std::io::ErrorKind,
    },
    /// Nothing (or not enough) arrived before the deadline.
    #[error("timed out waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: &'static str,
    },
    /// A frame of a type that is not allowed at this point of the connection.
    #[error("unexpected frame type {found:#04x} while waiting for {expected}")]
    UnexpectedFrame {
        /// What was awaited.
        expected: &'static str,
        /// The frame type received.
        found: u8,
    },
    /// The peer speaks another version of the transport.
    #[error("unsupported transport version {found} (this build speaks {supported})")]
    TransportVersion {
        /// The version received.
        found: u8,
        /// The version this build speaks.
        supported: u8,
    },
    /// The server refused the connection.
    #[error("the server refused the connection: {reason}")]
    Rejected {
        /// Why, as reported by the server.
        reason: &'static str,
    },
    /// TLS could not be set up: an unreadable certificate or key, or a failed handshake.
    #[error("tls: {what}")]
    Tls {
        /// What failed.
        what: &'static str,
    },
    /// The client's signing key is not the session roster's key for its id: the server
    /// would refuse its hello.
    #[error("this signing key is not the roster's key for client {client}")]
    NotInRoster {
        /// The client id.
        client: secagg::ClientId,
    },
}

impl TransportError {
    /// The category of this error: [`ErrorKind::PeerMisbehaved`] for a frame that is
    /// too large, of an unexpected type or of another transport version,
    /// [`ErrorKind::Crypto`] for TLS, [`ErrorKind::Misuse`] for a key that is not in
    /// the roster, [`ErrorKind::Transport`] otherwise.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransportError::FrameTooLarge { .. }
            | TransportError::UnexpectedFrame { .. }
            | TransportError::TransportVersion { .. } => ErrorKind::PeerMisbehaved,
            TransportError::ConnectionClosed { .. }
            | TransportError::Io { .. }
            | TransportError::Timeout { .. }
            | TransportError::Rejected { .. } => ErrorKind::Transport,
            TransportError::Tls { .. } => ErrorKind::Crypto,
            TransportError::NotInRoster { .. } => ErrorKind::Misuse,
        }
    }

    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            TransportError::FrameTooLarge { .. } => "FrameTooLarge",
            TransportError::ConnectionClosed { .. } => "ConnectionClosed",
            TransportError::Io { .. } => "Io",
            TransportError::Timeout { .. } => "Timeout",
            TransportError::UnexpectedFrame { .. } => "UnexpectedFrame",
            TransportError::TransportVersion { .. } => "TransportVersion",
            TransportError::Rejected { .. } => "Rejected",
            TransportError::Tls { .. } => "Tls",
            TransportError::NotInRoster { .. } => "NotInRoster",
        }
    }
}

/// Shorthand for `Result<T, secagg_net::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every [`TransportError`] variant; extend it when one is added.
    fn every_variant() -> Vec<TransportError> {
        vec![
            TransportError::FrameTooLarge {
                len: 1 << 31,
                max: 4096,
            },
            TransportError::ConnectionClosed { during: "hello" },
            TransportError::Io {
                op: "connect",
                kind: std::io::ErrorKind::ConnectionRefused,
            },
            TransportError::Timeout {
                what: "the server's next message",
            },
            TransportError::UnexpectedFrame {
                expected: "hello",
                found: 0x7f,
            },
            TransportError::TransportVersion {
                found: 9,
                supported: 1,
            },
            TransportError::Rejected {
                reason: "duplicate client id",
            },
            TransportError::Tls {
                what: "handshake failed",
            },
            TransportError::NotInRoster { client: 3 },
        ]
    }

    /// The variant names declared in `pub enum TransportError`, read from the source.
    fn declared_variants() -> Vec<String> {
        let src = include_str!("error.rs");
        let body = src
            .split_once("pub enum TransportError {\n")
            .and_then(|(_, rest)| rest.split_once("\n}\n"))
            .map(|(body, _)| body)
            .unwrap_or("");
        body.lines()
            .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
            .map(str::trim)
            .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|l| {
                l.split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn every_variant_is_listed_once_and_displays_distinctly() {
        let all = every_variant();
        let mut listed: Vec<String> = all.iter().map(|e| e.name().to_string()).collect();
        listed.sort();
        let mut declared = declared_variants();
        declared.sort();
        assert!(declared.len() >= 8, "parsed {declared:?}");
        assert_eq!(listed, declared);
        let mut shown = std::collections::BTreeSet::new();
        for e in all {
            assert!(
                shown.insert(e.to_string()),
                "two variants display alike: {}",
                e.name()
            );
            let wrapped = Error::from(e.clone());
            assert_eq!(wrapped.name(), e.name());
            assert_eq!(wrapped.kind(), e.kind());
            assert_eq!(wrapped.to_string(), e.to_string());
        }
    }

    #[test]
    fn kinds_and_names() {
        let closed = TransportError::ConnectionClosed { during: "hello" };
        assert_eq!(closed.kind(), ErrorKind::Transport);
        assert_eq!(closed.name(), "ConnectionClosed");
        let big = TransportError::FrameTooLarge { len: 10, max: 9 };
        assert_eq!(big.kind(), ErrorKind::PeerMisbehaved);
        assert_eq!(big.name(), "FrameTooLarge");
        assert_eq!(TransportError::Tls { what: "x" }.kind(), ErrorKind::Crypto);
        let core = Error::from(EncodingError::TrailingBytes { count: 1 });
        assert_eq!(core.kind(), ErrorKind::Encoding);
        assert_eq!(core.name(), "TrailingBytes");
        assert_eq!(core.to_string(), "1 trailing bytes after the message");
    }
}
