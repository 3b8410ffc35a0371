//! The transport's own frames: the client's hello, the server's answer to it, and the
//! server's closing frame. Their layouts are in `docs/networking.md`.

use crate::error::{Error, Result, TransportError};
use secagg::error::{EncodingError, ErrorKind};
use secagg::{ClientId, SessionId};

/// Version of the transport framing and handshake (independent of the wire format's
/// own version byte).
pub const TRANSPORT_VERSION: u8 = 1;

/// Length of a hello body: version, client id, session id.
pub const HELLO_LEN: usize = 1 + 4 + 32;

/// Largest frame accepted before a connection's hello is accepted (a hello frame is
/// `1 + HELLO_LEN` bytes): an unauthenticated peer cannot make the server allocate more.
pub const MAX_HANDSHAKE_FRAME: usize = 64;

const _: () = assert!(HELLO_LEN < MAX_HANDSHAKE_FRAME);

/// The first frame a client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The client's id, `0..n`.
    pub client: ClientId,
    /// The session id of the client's configuration.
    pub session_id: SessionId,
}

impl Hello {
    /// `version (1) || client id (4, BE) || session id (32)`.
    pub fn encode(&self) -> [u8; HELLO_LEN] {
        let mut out = [0u8; HELLO_LEN];
        out[0] = TRANSPORT_VERSION;
        out[1..5].copy_from_slice(&self.client.to_be_bytes());
        out[5..].copy_from_slice(&self.session_id);
        out
    }

    /// Decodes a hello body.
    ///
    /// # Errors
    /// [`EncodingError::InvalidLength`], [`TransportError::TransportVersion`].
    pub fn decode(body: &[u8]) -> Result<Hello> {
        let bytes: &[u8; HELLO_LEN] =
            body.try_into().map_err(|_| EncodingError::InvalidLength {
                what: "hello",
                expected: HELLO_LEN,
                found: body.len(),
            })?;
        let (version, rest) = bytes.split_first().ok_or(EncodingError::InvalidLength {
            what: "hello",
            expected: HELLO_LEN,
            found: 0,
        })?;
        if *version != TRANSPORT_VERSION {
            return Err(Error::Transport(TransportError::TransportVersion {
                found: *version,
                supported: TRANSPORT_VERSION,
            }));
        }
        let (id, sid) = rest.split_at(4);
        let mut client = [0u8; 4];
        client.copy_from_slice(id);
        let mut session_id = [0u8; 32];
        session_id.copy_from_slice(sid);
        Ok(Hello {
            client: ClientId::from_be_bytes(client),
            session_id,
        })
    }
}

/// Why the server refused a hello (one byte in a `REJECT` frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reject {
    /// The session ids differ: the client holds another configuration.
    SessionMismatch = 1,
    /// The client id is not below `n`.
    UnknownClient = 2,
    /// Another connection already holds this client id.
    DuplicateClient = 3,
    /// The server no longer admits clients (round 0 closed, or every id is taken).
    Closed = 4,
    /// The hello's transport version is not this server's.
    Version = 5,
}

impl Reject {
    /// The reason in words.
    pub fn reason(self) -> &'static str {
        match self {
            Reject::SessionMismatch => "session ids differ (another configuration)",
            Reject::UnknownClient => "client id out of range",
            Reject::DuplicateClient => "client id already connected",
            Reject::Closed => "the server no longer admits clients",
            Reject::Version => "unsupported transport version",
        }
    }

    /// The reason carried by a `REJECT` body; an unknown byte reads as a generic refusal.
    pub fn decode_error(body: &[u8]) -> Error {
        let reason = match body.first() {
            Some(1) => Reject::SessionMismatch.reason(),
            Some(2) => Reject::UnknownClient.reason(),
            Some(3) => Reject::DuplicateClient.reason(),
            Some(4) => Reject::Closed.reason(),
            Some(5) => Reject::Version.reason(),
            _ => "unspecified",
        };
        Error::Transport(TransportError::Rejected { reason })
    }
}

/// How the session ended, as the server tells each connected client (`DONE` frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// The server computed the sum; `included` says whether this client's input is in
    /// it.
    Completed {
        /// Whether the receiving client is in the included set.
        included: bool,
    },
    /// The session aborted with an error of this kind.
    Aborted(ErrorKind),
}

const KINDS: [ErrorKind; 6] = [
    ErrorKind::Encoding,
    ErrorKind::Crypto,
    ErrorKind::PeerMisbehaved,
    ErrorKind::Threshold,
    ErrorKind::Misuse,
    ErrorKind::Transport,
];

impl Done {
    /// `0x00 included(1)` or `0x01 kind(1)` (kind: index into encoding, crypto,
    /// peer-misbehaved, threshold, misuse, transport).
    pub fn encode(&self) -> [u8; 2] {
        match self {
            Done::Completed { included } => [0, u8::from(*included)],
            Done::Aborted(kind) => [
                1,
                KINDS.iter().position(|k| k == kind).unwrap_or(KINDS.len()) as u8,
            ],
        }
    }

    /// Decodes a `DONE` body.
    ///
    /// # Errors [`EncodingError::InvalidLength`] for a body that is not 2 bytes,
    /// [`TransportError::UnexpectedFrame`] for an unknown status byte.
    pub fn decode(body: &[u8]) -> Result<Done> {
        match *body {
            [0, included] => Ok(Done::Completed {
                included: included != 0,
            }),
            [1, kind] => Ok(Done::Aborted(
                KINDS
                    .get(usize::from(kind))
                    .copied()
                    .unwrap_or(ErrorKind::Transport),
            )),
            [status, _] => Err(Error::Transport(TransportError::UnexpectedFrame {
                expected: "a known session status",
                found: status,
            })),
            _ => Err(EncodingError::InvalidLength {
                what: "done frame",
                expected: 2,
                found: body.len(),
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_layout_and_round_trip() {
        let h = Hello {
            client: 0x0102_0304,
            session_id: [0xab; 32],
        };
        let bytes = h.encode();
        assert_eq!(bytes[..5], [1, 1, 2, 3, 4]);
        assert_eq!(bytes[5..], [0xab; 32]);
        assert_eq!(Hello::decode(&bytes), Ok(h));
        assert!(matches!(
            Hello::decode(&bytes[..36]),
            Err(Error::Core(secagg::Error::Encoding(
                EncodingError::InvalidLength { found: 36, .. }
            )))
        ));
        let mut v2 = bytes;
        v2[0] = 2;
        assert_eq!(
            Hello::decode(&v2),
            Err(Error::Transport(TransportError::TransportVersion {
                found: 2,
                supported: 1
            }))
        );
    }

    #[test]
    fn done_round_trip() {
        for d in [
            Done::Completed { included: true },
            Done::Completed { included: false },
        ]
        .into_iter()
        .chain(KINDS.iter().map(|&k| Done::Aborted(k)))
        {
            assert_eq!(Done::decode(&d.encode()), Ok(d));
        }
        assert!(Done::decode(&[2, 0]).is_err());
        assert!(Done::decode(&[0]).is_err());
    }

    #[test]
    fn reject_reasons() {
        for r in [
            Reject::SessionMismatch,
            Reject::UnknownClient,
            Reject::DuplicateClient,
            Reject::Closed,
            Reject::Version,
        ] {
            assert_eq!(
                Reject::decode_error(&[r as u8]),
                Error::Transport(TransportError::Rejected { reason: r.reason() })
            );
        }
        assert_eq!(
            Reject::decode_error(&[]),
            Error::Transport(TransportError::Rejected {
                reason: "unspecified"
            })
        );
    }
}
