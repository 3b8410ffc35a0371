//! A byte [`Writer`], a bounds-checked [`Reader`], and the pair of traits a value with
//! an encoding implements ([`ParameterizedEncode`], [`ParameterizedDecode`]).
//!
//! Integers are fixed-width big-endian. The reader never reads past its slice, never
//! allocates, and reports every shortfall as [`EncodingError::Truncated`]; callers check a
//! length or count against the session's limits with [`Reader::length_u16`],
//! [`Reader::length_u32`] or [`Reader::count`] *before* they allocate anything sized by it,
//! and end with [`Reader::finish`], which rejects trailing bytes.

use zeroize::Zeroizing;

use crate::error::{EncodingError, Error, Result};

/// An append-only byte buffer with big-endian integer writers.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// Appends `len` as a big-endian `u16`, or fails with [`EncodingError::LengthTooLarge`].
    pub fn length_u16(&mut self, what: &'static str, len: usize) -> Result<()> {
        let v = u16::try_from(len).map_err(|_| too_large(what, u16::MAX.into(), len))?;
        self.u16(v);
        Ok(())
    }

    /// Appends `len` as a big-endian `u32`, or fails with [`EncodingError::LengthTooLarge`].
    pub fn length_u32(&mut self, what: &'static str, len: usize) -> Result<()> {
        let v = u32::try_from(len).map_err(|_| too_large(what, u32::MAX.into(), len))?;
        self.u32(v);
        Ok(())
    }

    /// The mutable tail of the buffer after reserving `n` more zero bytes, for writers
    /// that fill a region in place (bit packing).
    pub(crate) fn extend_zeroed(&mut self, n: usize) -> &mut [u8] {
        let start = self.buf.len();
        self.buf.resize(start + n, 0);
        &mut self.buf[start..]
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written, wiped when dropped (for encodings that hold secrets). For no
    /// copy of the secret to be left behind by a reallocation, create the writer with
    /// [`Writer::with_capacity`] at the exact final length.
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.buf)
    }
}

fn too_large(what: &'static str, max: u64, found: usize) -> Error {
    Error::Encoding(EncodingError::LengthTooLarge {
        what,
        max,
        found: found as u64,
    })
}

/// A cursor over a byte slice; every read is bounds-checked.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes, or [`EncodingError::Truncated`] (nothing is consumed on error).
    pub fn read_exact(&mut self, what: &'static str, n: usize) -> Result<&'a [u8]> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(Error::Encoding(EncodingError::Truncated {
                what,
                needed: n,
                remaining,
            }));
        }
        let out = self.buf.get(self.pos..self.pos + n).ok_or(Error::Encoding(
            EncodingError::Truncated {
                what,
                needed: n,
                remaining,
            },
        ))?;
        self.pos += n;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_exact(what, N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A big-endian `u16` byte length in `min..=max`, checked against the bytes left
    /// ([`EncodingError::LengthTooLarge`], [`EncodingError::LengthTooSmall`],
    /// [`EncodingError::Truncated`]).
    pub fn length_u16(&mut self, what: &'static str, min: usize, max: usize) -> Result<usize> {
        let len = usize::from(self.u16(what)?);
        self.check_length(what, len as u64, min, max, 1)
    }

    /// A big-endian `u32` byte length in `min..=max`, checked like
    /// [`Reader::length_u16`].
    pub fn length_u32(&mut self, what: &'static str, min: usize, max: usize) -> Result<usize> {
        let len = u64::from(self.u32(what)?);
        self.check_length(what, len, min, max, 1)
    }

    /// A big-endian `u32` item count of at most `max`, where each item takes at least
    /// `min_item_len` bytes: fails with [`EncodingError::LengthTooLarge`] above `max`, and with
    /// [`EncodingError::Truncated`] when the bytes left cannot hold that many items, so that a
    /// caller may allocate `count` items right after.
    pub fn count(&mut self, what: &'static str, max: usize, min_item_len: usize) -> Result<usize> {
        let count = u64::from(self.u32(what)?);
        self.check_length(what, count, 0, max, min_item_len)
    }

    fn check_length(
        &self,
        what: &'static str,
        found: u64,
        min: usize,
        max: usize,
        unit: usize,
    ) -> Result<usize> {
        if found > max as u64 {
            return Err(Error::Encoding(EncodingError::LengthTooLarge {
                what,
                max: max as u64,
                found,
            }));
        }
        if found < min as u64 {
            return Err(Error::Encoding(EncodingError::LengthTooSmall {
                what,
                min: min as u64,
                found,
            }));
        }
        // found <= max, a usize.
        let found = found as usize;
        let needed = found.saturating_mul(unit);
        if needed > self.remaining() {
            return Err(Error::Encoding(EncodingError::Truncated {
                what,
                needed,
                remaining: self.remaining(),
            }));
        }
        Ok(found)
    }

    /// Ends decoding: fails with [`EncodingError::TrailingBytes`] unless every byte was read.
    pub fn finish(self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(Error::Encoding(EncodingError::TrailingBytes { count })),
        }
    }
}

/// A value whose encoding depends on a parameter `P`: what fields are present and how
/// long each is (for protocol messages, `P` is the session configuration). libprio's
/// `Encode`, with the parameter that its `ParameterizedDecode` takes on both sides, so
/// that encoding can check a value against the limits decoding will enforce: whatever
/// encodes under `param` also decodes under it.
pub trait ParameterizedEncode<P: ?Sized> {
    /// Appends the encoding of `self` under `param` to `w`.
    ///
    /// # Errors
    /// A value that `param` cannot carry (the implementation names the variants); `w`
    /// may then hold part of the encoding.
    fn encode_into(&self, param: &P, w: &mut Writer) -> Result<()>;

    /// The length of the encoding under `param`, computed without encoding.
    ///
    /// # Errors
    /// A length that does not fit in a `usize` ([`EncodingError::LengthTooLarge`]).
    fn encoded_len(&self, param: &P) -> Result<usize>;

    /// The encoding under `param`, in a buffer allocated once at its exact length.
    ///
    /// # Errors
    /// Those of [`encoded_len`](Self::encoded_len) and
    /// [`encode_into`](Self::encode_into).
    fn encode_with_param(&self, param: &P) -> Result<Vec<u8>> {
        let mut w = Writer::with_capacity(self.encoded_len(param)?);
        self.encode_into(param, &mut w)?;
        Ok(w.into_bytes())
    }
}

/// A value decoded under a parameter `P` (libprio's `ParameterizedDecode`): the limits
/// `param` implies bound every length and count before anything sized by it is
/// allocated.
pub trait ParameterizedDecode<P: ?Sized>: Sized {
    /// Reads one value from `r`, leaving whatever follows it.
    ///
    /// # Errors
    /// Errors of kind [`ErrorKind::Encoding`](crate::ErrorKind::Encoding) for bytes that
    /// are not an encoding under `param` (the implementation names the variants).
    fn decode_from(param: &P, r: &mut Reader<'_>) -> Result<Self>;

    /// Decodes `bytes`, which must hold exactly one value ([`EncodingError::TrailingBytes`]
    /// otherwise).
    ///
    /// # Errors
    /// Those of [`decode_from`](Self::decode_from) and [`EncodingError::TrailingBytes`].
    fn decode_with_param(param: &P, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let value = Self::decode_from(param, &mut r)?;
        r.finish()?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let mut w = Writer::new();
        w.u8(0xab);
        w.u16(0x0102);
        w.u32(0x0304_0506);
        w.u64(0x0708_090a_0b0c_0d0e);
        w.bytes(b"xy");
        let bytes = w.into_bytes();
        assert_eq!(hex(&bytes), "ab0102030405060708090a0b0c0d0e7879");
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 0xab);
        assert_eq!(r.u16("b").unwrap(), 0x0102);
        assert_eq!(r.u32("c").unwrap(), 0x0304_0506);
        assert_eq!(r.u64("d").unwrap(), 0x0708_090a_0b0c_0d0e);
        assert_eq!(r.position(), 15);
        assert_eq!(r.read_exact("e", 2).unwrap(), b"xy");
        r.finish().unwrap();
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn short_reads_are_truncated_and_consume_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(
            r.u32("field"),
            Err(Error::Encoding(EncodingError::Truncated {
                what: "field",
                needed: 4,
                remaining: 3
            }))
        );
        assert_eq!(r.remaining(), 3);
        assert_eq!(
            r.read_exact("x", usize::MAX).unwrap_err().kind(),
            crate::ErrorKind::Encoding
        );
        assert_eq!(r.u16("y").unwrap(), 0x0102);
        assert_eq!(
            r.clone().finish(),
            Err(Error::Encoding(EncodingError::TrailingBytes { count: 1 }))
        );
        assert_eq!(r.u8("z").unwrap(), 3);
        assert!(r.u8("z").is_err());
        r.finish().unwrap();
    }

    #[test]
    fn lengths_and_counts_are_checked_before_use() {
        // u16 length 5 with 5 bytes following.
        let mut r = Reader::new(&[0, 5, 1, 2, 3, 4, 5]);
        assert_eq!(r.length_u16("blob", 1, 5).unwrap(), 5);
        let mut r = Reader::new(&[0, 5, 1, 2, 3, 4, 5]);
        assert_eq!(
            r.length_u16("blob", 1, 4),
            Err(Error::Encoding(EncodingError::LengthTooLarge {
                what: "blob",
                max: 4,
                found: 5
            }))
        );
        let mut r = Reader::new(&[0, 5, 1, 2, 3, 4, 5]);
        assert_eq!(
            r.length_u16("blob", 6, 9),
            Err(Error::Encoding(EncodingError::LengthTooSmall {
                what: "blob",
                min: 6,
                found: 5
            }))
        );
        let mut r = Reader::new(&[0, 5, 1, 2, 3, 4]);
        assert_eq!(
            r.length_u16("blob", 0, 9),
            Err(Error::Encoding(EncodingError::Truncated {
                what: "blob",
                needed: 5,
                remaining: 4
            }))
        );
        // A huge count is refused against the limit before anything else.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            r.count("entries", 1000, 68),
            Err(Error::Encoding(EncodingError::LengthTooLarge {
                what: "entries",
                max: 1000,
                found: u64::from(u32::MAX)
            }))
        );
        // Within the limit, but the bytes left cannot hold it.
        let mut r = Reader::new(&[0, 0, 0, 3, 0, 0, 0, 0, 0]);
        assert_eq!(
            r.count("entries", 1000, 4),
            Err(Error::Encoding(EncodingError::Truncated {
                what: "entries",
                needed: 12,
                remaining: 5
            }))
        );
        let mut r = Reader::new(&[0, 0, 0, 2, 0, 0]);
        assert_eq!(r.count("entries", 2, 1).unwrap(), 2);
        let mut r = Reader::new(&[0, 0, 0, 9]);
        assert_eq!(
            r.length_u32("blob", 0, 8).unwrap_err().kind(),
            crate::ErrorKind::Encoding
        );
    }

    #[test]
    fn writer_lengths_refuse_overflow() {
        let mut w = Writer::with_capacity(8);
        assert!(w.is_empty());
        w.length_u16("blob", 65_535).unwrap();
        assert_eq!(
            w.length_u16("blob", 65_536),
            Err(Error::Encoding(EncodingError::LengthTooLarge {
                what: "blob",
                max: 65_535,
                found: 65_536
            }))
        );
        w.length_u32("blob", 7).unwrap();
        assert_eq!(w.len(), 6);
        assert_eq!(&w.into_zeroizing()[..], &[0xff, 0xff, 0, 0, 0, 7]);
    }
}
