//! Length-delimited frames: `u32` big-endian length `L`, then `L` bytes — a one-byte
//! frame type and the body.
//!
//! The reader checks `L` against a caller-given maximum *before* it reads or allocates
//! the body, and grows its buffer only as bytes actually arrive (never more than twice
//! what was received, never more than `L`), so a peer that announces a large frame and
//! then stalls costs what it sent, not what it announced. Deadlines are the caller's:
//! wrap a read in `tokio::time::timeout_at`.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use secagg::error::EncodingError;

use crate::error::{Error, Result, TransportError};

/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;

/// Largest frame length the format can express (`u32::MAX`).
pub const MAX_FRAME_LEN: usize = u32::MAX as usize;

/// The buffer of a frame being received first grows by this much.
const CHUNK: usize = 64 * 1024;

/// Frame types.
pub mod kind {
    /// Client → server: the signed hello (see [`crate::hello`]).
    pub const HELLO: u8 = 0x01;
    /// Server → client: the hello was accepted.
    pub const WELCOME: u8 = 0x02;
    /// Server → client: the hello was refused (one reason byte), then the server closes.
    pub const REJECT: u8 = 0x03;
    /// Server → client, first on every connection: the challenge the hello signs.
    pub const CHALLENGE: u8 = 0x04;
    /// Either way: one protocol message in the wire format (`docs/wire-format.md`).
    pub const MESSAGE: u8 = 0x10;
    /// Server → client: the session ended (see [`crate::hello::Done`]).
    pub const DONE: u8 = 0x20;
}

/// One received frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The frame type (see [`kind`]).
    pub kind: u8,
    /// The body.
    pub body: Vec<u8>,
}

pub(crate) fn io_error(op: &'static str, e: &io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => {
            Error::Transport(TransportError::ConnectionClosed { during: op })
        }
        kind => Error::Transport(TransportError::Io { op, kind }),
    }
}

/// How much to grow a buffer holding `received` of `len` bytes: at most doubling it, at
/// least [`CHUNK`], never past `len`.
fn grow_by(received: usize, len: usize) -> usize {
    (len - received).min(received.max(CHUNK))
}

/// Reads one frame whose length (type byte included) is at most `max`.
///
/// # Errors [`TransportError::ConnectionClosed`] when the peer closes (before or inside a
/// frame), [`TransportError::FrameTooLarge`] when the announced length exceeds `max`
/// (nothing more is read), [`EncodingError::InvalidLength`] for a zero length (no type
/// byte), [`TransportError::Io`].
pub async fn read_frame<R: AsyncRead + Unpin + ?Sized>(r: &mut R, max: usize) -> Result<Frame> {
    let mut header = [0u8; HEADER_LEN];
    r.read_exact(&mut header)
        .await
        .map_err(|e| io_error("frame header", &e))?;
    let len = u32::from_be_bytes(header);
    if u64::from(len) > max as u64 {
        return Err(Error::Transport(TransportError::FrameTooLarge {
            len: u64::from(len),
            max,
        }));
    }
    let len = len as usize;
    if len == 0 {
        return Err(EncodingError::InvalidLength {
            what: "frame",
            expected: 1,
            found: 0,
        }
        .into());
    }
    let mut buf: Vec<u8> = Vec::with_capacity(len.min(CHUNK));
    while buf.len() < len {
        let remaining = len - buf.len();
        if buf.capacity() == buf.len() {
            buf.reserve_exact(grow_by(buf.len(), len));
        }
        let want = remaining.min(buf.capacity() - buf.len());
        let n = (&mut *r)
            .take(want as u64)
            .read_buf(&mut buf)
            .await
            .map_err(|e| io_error("frame body", &e))?;
        if n == 0 {
            return Err(Error::Transport(TransportError::ConnectionClosed {
                during: "frame body",
            }));
        }
    }
    let kind = buf.remove(0);
    Ok(Frame { kind, body: buf })
}

/// The bytes of one frame: the length prefix, `kind`, `body`.
///
/// # Errors
/// [`TransportError::FrameTooLarge`] when `1 + body.len()` does not fit the `u32` prefix.
pub fn encode_frame(kind: u8, body: &[u8]) -> Result<Vec<u8>> {
    let len = body.len() + 1;
    let prefix = u32::try_from(len).map_err(|_| {
        Error::Transport(TransportError::FrameTooLarge {
            len: len as u64,
            max: MAX_FRAME_LEN,
        })
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + len);
    out.extend_from_slice(&prefix.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(body);
    Ok(out)
}

/// Writes already-encoded frame bytes (from [`encode_frame`]) and flushes.
///
/// # Errors
/// [`TransportError::ConnectionClosed`], [`TransportError::Io`].
pub async fn write_raw<W: AsyncWrite + Unpin + ?Sized>(w: &mut W, frame: &[u8]) -> Result<()> {
    w.write_all(frame)
        .await
        .map_err(|e| io_error("frame write", &e))?;
    w.flush().await.map_err(|e| io_error("frame write", &e))
}

/// Encodes and writes one frame, then flushes.
///
/// # Errors
/// As [`encode_frame`] and [`write_raw`].
pub async fn write_frame<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    kind: u8,
    body: &[u8],
) -> Result<()> {
    write_raw(w, &encode_frame(kind, body)?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_and_layout() {
        rt().block_on(async {
            let mut bytes = Vec::new();
            write_frame(&mut bytes, kind::MESSAGE, b"abc")
                .await
                .unwrap();
            assert_eq!(bytes, [0, 0, 0, 4, 0x10, b'a', b'b', b'c']);
            let body = vec![7u8; 300_000];
            write_frame(&mut bytes, kind::DONE, &body).await.unwrap();
            let mut r = &bytes[..];
            let f = read_frame(&mut r, 10).await.unwrap();
            assert_eq!(f.kind, kind::MESSAGE);
            assert_eq!(f.body, b"abc");
            let f = read_frame(&mut r, 300_001).await.unwrap();
            assert_eq!((f.kind, f.body.len()), (kind::DONE, 300_000));
            assert!(f.body.iter().all(|&b| b == 7));
            assert_eq!(
                read_frame(&mut r, 10).await,
                Err(Error::Transport(TransportError::ConnectionClosed {
                    during: "frame header"
                }))
            );
        });
    }

    #[test]
    fn oversized_frame_is_refused_before_its_body() {
        rt().block_on(async {
            // Announces 4 GiB - 1 and sends nothing more: refused at once.
            let bytes = [0xff, 0xff, 0xff, 0xff];
            let mut r = &bytes[..];
            assert_eq!(
                read_frame(&mut r, 1 << 20).await,
                Err(Error::Transport(TransportError::FrameTooLarge {
                    len: u64::from(u32::MAX),
                    max: 1 << 20
                }))
            );
            // Exactly at the limit is fine, one above is not.
            let ok = encode_frame(1, &[0; 9]).unwrap();
            assert!(read_frame(&mut &ok[..], 10).await.is_ok());
            assert!(matches!(
                read_frame(&mut &ok[..], 9).await,
                Err(Error::Transport(TransportError::FrameTooLarge {
                    len: 10,
                    max: 9
                }))
            ));
        });
    }

    #[test]
    fn truncated_and_empty_frames() {
        rt().block_on(async {
            let mut bytes = encode_frame(1, &[1, 2, 3, 4]).unwrap();
            bytes.truncate(6);
            assert_eq!(
                read_frame(&mut &bytes[..], 100).await,
                Err(Error::Transport(TransportError::ConnectionClosed {
                    during: "frame body"
                }))
            );
            assert!(matches!(
                read_frame(&mut &[0u8, 0, 0][..], 100).await,
                Err(Error::Transport(TransportError::ConnectionClosed { .. }))
            ));
            assert!(matches!(
                read_frame(&mut &[0u8, 0, 0, 0][..], 100).await,
                Err(Error::Core(secagg::Error::Encoding(
                    EncodingError::InvalidLength { found: 0, .. }
                )))
            ));
        });
    }

    #[test]
    fn buffer_growth_is_bounded_by_what_arrived() {
        // Announcing 64 MiB with 10 bytes received reserves one chunk, not 64 MiB.
        assert_eq!(grow_by(0, 64 << 20), CHUNK);
        assert_eq!(grow_by(CHUNK, 64 << 20), CHUNK);
        assert_eq!(grow_by(4 * CHUNK, 64 << 20), 4 * CHUNK);
        assert_eq!(grow_by(4 * CHUNK, 5 * CHUNK + 1), CHUNK + 1);
        assert_eq!(grow_by(0, 3), 3);
    }
}
