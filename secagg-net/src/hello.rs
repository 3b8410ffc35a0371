//! The transport's own frames: the server's challenge, the client's signed hello, the
//! server's answer to it, and the server's closing frame. Their layouts are in
//! `docs/networking.md`, "Client authentication" and "Framing".

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::error::{Error, Result, TransportError};
use secagg::error::{EncodingError, ErrorKind};
use secagg::{ClientId, SessionId};

/// Version of the transport framing and handshake (independent of the wire format's
/// own version byte). Version 2 added the challenge and the hello's signature.
pub const TRANSPORT_VERSION: u8 = 2;

/// Length of the server's fresh challenge.
pub const CHALLENGE_LEN: usize = 32;

/// Length of a challenge body: version, challenge.
pub const CHALLENGE_BODY_LEN: usize = 1 + CHALLENGE_LEN;

/// Length of a hello body: version, client id, session id, signature.
pub const HELLO_LEN: usize = 1 + 4 + 32 + 64;

/// Domain-separation label at the start of the signed hello transcript.
pub const HELLO_LABEL: &[u8] = b"secagg-net/2 hello";

/// Length of the signed hello transcript.
pub const TRANSCRIPT_LEN: usize = HELLO_LABEL.len() + 1 + CHALLENGE_LEN + 32 + 32 + 4;

/// Largest frame accepted before a connection's hello is accepted (a hello frame is
/// `1 + HELLO_LEN` bytes): an unauthenticated peer cannot make the server allocate more.
pub const MAX_HANDSHAKE_FRAME: usize = 128;

const _: () = assert!(HELLO_LEN < MAX_HANDSHAKE_FRAME && CHALLENGE_BODY_LEN < MAX_HANDSHAKE_FRAME);

/// The server's first frame on every connection: a fresh random challenge the client's
/// hello signs, so a recorded hello is worthless on any other connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge(pub [u8; CHALLENGE_LEN]);

impl Challenge {
    /// `version (1) || challenge (32)`.
    pub fn encode(&self) -> [u8; CHALLENGE_BODY_LEN] {
        let mut out = [0u8; CHALLENGE_BODY_LEN];
        out[0] = TRANSPORT_VERSION;
        out[1..].copy_from_slice(&self.0);
        out
    }

    /// Decodes a challenge body.
    ///
    /// # Errors
    /// [`EncodingError::InvalidLength`], [`TransportError::TransportVersion`].
    pub fn decode(body: &[u8]) -> Result<Challenge> {
        let (version, rest) = split_version(body, CHALLENGE_BODY_LEN, "challenge")?;
        let _ = version;
        let mut c = [0u8; CHALLENGE_LEN];
        c.copy_from_slice(rest);
        Ok(Challenge(c))
    }
}

fn split_version<'a>(body: &'a [u8], len: usize, what: &'static str) -> Result<(u8, &'a [u8])> {
    let wrong = || EncodingError::InvalidLength {
        what,
        expected: len,
        found: body.len(),
    };
    // A version byte is checked first, so that another version is reported as such
    // even when its body has another length.
    let (&version, rest) = body.split_first().ok_or_else(wrong)?;
    if version != TRANSPORT_VERSION {
        return Err(Error::Transport(TransportError::TransportVersion {
            found: version,
            supported: TRANSPORT_VERSION,
        }));
    }
    if body.len() != len {
        return Err(wrong().into());
    }
    Ok((version, rest))
}

/// The client's hello: its id, its session id, and its Ed25519 signature over the
/// [`transcript`](Hello::transcript) of the connection's challenge and channel binding
/// ([`crate::tls::CHANNEL_BINDING_LABEL`]; [`crate::tls::NO_BINDING`] over plain TCP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The client's id, `0..n`.
    pub client: ClientId,
    /// The session id of the client's configuration.
    pub session_id: SessionId,
    /// Ed25519 signature (`R || S`) over [`Hello::transcript`].
    pub signature: [u8; 64],
}

impl Hello {
    /// The signed bytes: `"secagg-net/2 hello" || 0x00 || challenge (32) || channel
    /// binding (32) || session id (32) || u32be(client id)`.
    pub fn transcript(
        challenge: &Challenge,
        binding: &[u8; 32],
        session_id: &SessionId,
        client: ClientId,
    ) -> [u8; TRANSCRIPT_LEN] {
        let mut t = [0u8; TRANSCRIPT_LEN];
        let (label, rest) = t.split_at_mut(HELLO_LABEL.len());
        label.copy_from_slice(HELLO_LABEL);
        let (c, rest) = rest[1..].split_at_mut(CHALLENGE_LEN);
        c.copy_from_slice(&challenge.0);
        let (b, rest) = rest.split_at_mut(32);
        b.copy_from_slice(binding);
        let (sid, id) = rest.split_at_mut(32);
        sid.copy_from_slice(session_id);
        id.copy_from_slice(&client.to_be_bytes());
        t
    }

    /// Client `client`'s hello for `challenge` on a connection with channel binding
    /// `binding`, signed with `key`.
    pub fn sign(
        key: &SigningKey,
        challenge: &Challenge,
        binding: &[u8; 32],
        session_id: &SessionId,
        client: ClientId,
    ) -> Hello {
        let signature = key
            .sign(&Hello::transcript(challenge, binding, session_id, client))
            .to_bytes();
        Hello {
            client,
            session_id: *session_id,
            signature,
        }
    }

    /// Whether the signature verifies under `key` for `challenge` and `binding`
    /// (ed25519-dalek's `verify_strict`: the acceptance rules of `docs/protocol.md`,
    /// "Signature verification").
    pub fn verify(&self, key: &VerifyingKey, challenge: &Challenge, binding: &[u8; 32]) -> bool {
        let t = Hello::transcript(challenge, binding, &self.session_id, self.client);
        key.verify_strict(&t, &Signature::from_bytes(&self.signature))
            .is_ok()
    }

    /// `version (1) || client id (4, BE) || session id (32) || signature (64)`.
    pub fn encode(&self) -> [u8; HELLO_LEN] {
        let mut out = [0u8; HELLO_LEN];
        out[0] = TRANSPORT_VERSION;
        out[1..5].copy_from_slice(&self.client.to_be_bytes());
        out[5..37].copy_from_slice(&self.session_id);
        out[37..].copy_from_slice(&self.signature);
        out
    }

    /// Decodes a hello body.
    ///
    /// # Errors
    /// [`TransportError::TransportVersion`], [`EncodingError::InvalidLength`].
    pub fn decode(body: &[u8]) -> Result<Hello> {
        let (_, rest) = split_version(body, HELLO_LEN, "hello")?;
        let (id, rest) = rest.split_at(4);
        let (sid, sig) = rest.split_at(32);
        let mut client = [0u8; 4];
        client.copy_from_slice(id);
        let mut session_id = [0u8; 32];
        session_id.copy_from_slice(sid);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(sig);
        Ok(Hello {
            client: ClientId::from_be_bytes(client),
            session_id,
            signature,
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
    /// The hello's transport version is not this server's, or the hello does not decode.
    Version = 5,
    /// The signature does not verify under the roster's key for the claimed id.
    BadSignature = 6,
}

impl Reject {
    /// The reason in words.
    pub fn reason(self) -> &'static str {
        match self {
            Reject::SessionMismatch => "session ids differ (another configuration)",
            Reject::UnknownClient => "client id out of range",
            Reject::DuplicateClient => "client id already connected",
            Reject::Closed => "the server no longer admits clients",
            Reject::Version => "unsupported transport version or malformed hello",
            Reject::BadSignature => {
                "the hello's signature does not verify under the roster key of this id"
            }
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
            Some(6) => Reject::BadSignature.reason(),
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
    fn hello_layout_round_trip_and_signature() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let challenge = Challenge([0x5a; 32]);
        let binding = [0x77; 32];
        let h = Hello::sign(&key, &challenge, &binding, &[0xab; 32], 0x0102_0304);
        let bytes = h.encode();
        assert_eq!(bytes[..5], [2, 1, 2, 3, 4]);
        assert_eq!(bytes[5..37], [0xab; 32]);
        assert_eq!(Hello::decode(&bytes), Ok(h));
        let vk = key.verifying_key();
        assert!(h.verify(&vk, &challenge, &binding));
        // Another challenge (a replay), another connection (a relay), another key,
        // another id or session: refused.
        assert!(!h.verify(&vk, &Challenge([0x5b; 32]), &binding));
        assert!(!h.verify(&vk, &challenge, &[0x78; 32]));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(!h.verify(&other, &challenge, &binding));
        for (i, _) in bytes.iter().enumerate().skip(1) {
            let mut b = bytes;
            b[i] ^= 1;
            let tampered = Hello::decode(&b).unwrap();
            assert!(!tampered.verify(&vk, &challenge, &binding));
        }
        let t = Hello::transcript(&challenge, &binding, &[0xab; 32], 0x0102_0304);
        assert_eq!(t.len(), 119);
        assert_eq!(&t[..19], b"secagg-net/2 hello\0");
        assert_eq!(t[19..51], [0x5a; 32]);
        assert_eq!(t[51..83], [0x77; 32]);
        assert_eq!(t[83..115], [0xab; 32]);
        assert_eq!(t[115..], [1, 2, 3, 4]);
        assert!(matches!(
            Hello::decode(&bytes[..100]),
            Err(Error::Core(secagg::Error::Encoding(
                EncodingError::InvalidLength { found: 100, .. }
            )))
        ));
        for old in [1u8, 3] {
            let mut b = bytes;
            b[0] = old;
            assert_eq!(
                Hello::decode(&b[..37]),
                Err(Error::Transport(TransportError::TransportVersion {
                    found: old,
                    supported: 2
                }))
            );
        }
        let c = challenge.encode();
        assert_eq!(c[0], 2);
        assert_eq!(Challenge::decode(&c), Ok(challenge));
        assert!(Challenge::decode(&c[..32]).is_err());
        assert!(Challenge::decode(&[]).is_err());
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
            Reject::BadSignature,
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
