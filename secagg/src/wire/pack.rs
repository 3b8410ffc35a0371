//! Ring vectors packed at exactly [`Ring::element_bits`] bits per element.
//!
//! A vector of `d` elements of a ring with `k = element_bits()` bits per element takes
//! `ceil(d·k / 8)` bytes ([`packed_len`]). The elements form one bit string, element 0
//! first, each written most significant bit first; the string fills bytes from their
//! most significant bit, and the last byte is padded with zero bits. So for k = 8, 16,
//! 32 or 64 each element is a big-endian integer of k/8 bytes, and for k = 20 the
//! elements `0x12345, 0xabcde` pack to `12 34 5a bc de`.
//!
//! Decoding rejects non-zero padding bits ([`EncodingError::NonZeroPadding`]) and, in Z_m, any
//! element `>= m` ([`EncodingError::WordOutOfRange`]), so every vector has exactly one encoding.

use super::codec::{Reader, Writer};
use crate::error::{EncodingError, Error, Misuse, Result};
use crate::ring::{Ring, RingVec};

const WHAT: &str = "packed ring vector";

/// Bytes taken by `dim` elements of `ring`: `ceil(dim · element_bits / 8)`.
///
/// Fails with [`EncodingError::LengthTooLarge`] when that does not fit a `usize`, and with the
/// ring's own error for an invalid hand-built ring.
pub fn packed_len(ring: &Ring, dim: usize) -> Result<usize> {
    ring.validate()?;
    let bits = u128::from(ring.element_bits()) * dim as u128;
    usize::try_from(bits.div_ceil(8)).map_err(|_| {
        Error::Encoding(EncodingError::LengthTooLarge {
            what: WHAT,
            max: usize::MAX as u64,
            found: u64::try_from(bits.div_ceil(8)).unwrap_or(u64::MAX),
        })
    })
}

/// Appends `v`, which must hold `dim` reduced elements of `ring`, packed.
///
/// # Errors
/// [`Misuse::VectorLengthMismatch`] when `v.len() != dim`; [`Misuse::RingMismatch`] when
/// `v` has the wrong word type or an unreduced word (see [`RingVec::fits`]).
pub fn pack(w: &mut Writer, ring: &Ring, dim: usize, v: &RingVec) -> Result<()> {
    let len = packed_len(ring, dim)?;
    if v.len() != dim {
        return Err(Error::Misuse(Misuse::VectorLengthMismatch {
            expected: dim,
            found: v.len(),
        }));
    }
    if !v.fits(ring) {
        return Err(Error::Misuse(Misuse::RingMismatch));
    }
    let bits = ring.element_bits();
    let out = w.extend_zeroed(len);
    match v {
        RingVec::U32(words) => pack_words(words, bits, out),
        RingVec::U64(words) => pack_words(words, bits, out),
    }
    Ok(())
}

/// Each word as the last `N` bytes (`N <= 8`) of its big-endian encoding.
fn pack_be<const N: usize, T: Copy + Into<u64>>(words: &[T], out: &mut [u8]) {
    for (chunk, &word) in out.chunks_exact_mut(N).zip(words) {
        if let Some(be) = word.into().to_be_bytes().last_chunk::<N>() {
            chunk.copy_from_slice(be);
        }
    }
}

/// Each `N`-byte chunk (`N <= 8`) as a big-endian integer.
fn unpack_be<const N: usize>(bytes: &[u8], push: &mut impl FnMut(u64)) {
    for chunk in bytes.chunks_exact(N) {
        let mut be = [0u8; 8];
        if let Some(tail) = be.last_chunk_mut::<N>() {
            tail.copy_from_slice(chunk);
        }
        push(u64::from_be_bytes(be));
    }
}

fn pack_words<T: Copy + Into<u64>>(words: &[T], bits: u32, out: &mut [u8]) {
    if bits.is_multiple_of(8) {
        // Byte-aligned: each element is a big-endian integer of bits/8 bytes, copied with
        // a width known at compile time (a runtime-length copy was a `memcpy` call per
        // element).
        match bits / 8 {
            1 => pack_be::<1, T>(words, out),
            2 => pack_be::<2, T>(words, out),
            3 => pack_be::<3, T>(words, out),
            4 => pack_be::<4, T>(words, out),
            5 => pack_be::<5, T>(words, out),
            6 => pack_be::<6, T>(words, out),
            7 => pack_be::<7, T>(words, out),
            _ => pack_be::<8, T>(words, out),
        }
        return;
    }
    let mut bytes = out.iter_mut();
    let mut acc: u128 = 0;
    let mut held: u32 = 0; // bits in `acc`, always < 8 between elements
    for &word in words {
        acc = (acc << bits) | u128::from(word.into());
        held += bits;
        while held >= 8 {
            held -= 8;
            if let Some(b) = bytes.next() {
                *b = (acc >> held) as u8;
            }
        }
        acc &= (1u128 << held) - 1;
    }
    if held > 0 {
        if let Some(b) = bytes.next() {
            *b = (acc << (8 - held)) as u8;
        }
    }
}

/// Reads `dim` packed elements of `ring`.
///
/// # Errors
/// [`EncodingError::Truncated`] when fewer than [`packed_len`] bytes remain (checked before
/// anything is allocated); [`EncodingError::NonZeroPadding`]; [`EncodingError::WordOutOfRange`].
pub fn unpack(r: &mut Reader<'_>, ring: &Ring, dim: usize) -> Result<RingVec> {
    let len = packed_len(ring, dim)?;
    let bytes = r.read_exact(WHAT, len)?;
    let bits = ring.element_bits();
    let limit = match *ring {
        Ring::Pow2 { .. } => None,
        Ring::Modulus { m } => Some(m),
    };
    let mut first_bad: Option<usize> = None;
    let out = if ring.uses_u32() {
        let mut v: Vec<u32> = Vec::with_capacity(dim);
        // element_bits <= 32 for a u32 ring, so each word fits.
        unpack_words(bytes, bits, dim, |w| v.push(w as u32))?;
        if let Some(m) = limit {
            first_bad = v.iter().position(|&w| u64::from(w) >= m);
        }
        RingVec::U32(v)
    } else {
        let mut v: Vec<u64> = Vec::with_capacity(dim);
        unpack_words(bytes, bits, dim, |w| v.push(w))?;
        if let Some(m) = limit {
            first_bad = v.iter().position(|&w| w >= m);
        }
        RingVec::U64(v)
    };
    match first_bad {
        Some(index) => Err(Error::Encoding(EncodingError::WordOutOfRange { index })),
        None => Ok(out),
    }
}

/// Feeds the `dim` elements of `bytes` (exactly `ceil(dim·bits/8)` long) to `push`.
fn unpack_words(bytes: &[u8], bits: u32, dim: usize, mut push: impl FnMut(u64)) -> Result<()> {
    if bits.is_multiple_of(8) {
        // A width known at compile time, as in `pack_words`.
        match bits / 8 {
            1 => unpack_be::<1>(bytes, &mut push),
            2 => unpack_be::<2>(bytes, &mut push),
            3 => unpack_be::<3>(bytes, &mut push),
            4 => unpack_be::<4>(bytes, &mut push),
            5 => unpack_be::<5>(bytes, &mut push),
            6 => unpack_be::<6>(bytes, &mut push),
            7 => unpack_be::<7>(bytes, &mut push),
            _ => unpack_be::<8>(bytes, &mut push),
        }
        return Ok(());
    }
    let mask: u128 = (1u128 << bits) - 1;
    let mut it = bytes.iter();
    let mut acc: u128 = 0;
    let mut held: u32 = 0; // bits in `acc`, always < bits between elements
    for _ in 0..dim {
        while held < bits {
            let b = it.next().ok_or(Error::Encoding(EncodingError::Truncated {
                what: WHAT,
                needed: 1,
                remaining: 0,
            }))?;
            acc = (acc << 8) | u128::from(*b);
            held += 8;
        }
        held -= bits;
        push(((acc >> held) & mask) as u64);
        acc &= (1u128 << held) - 1;
    }
    // What is left of the last byte is padding.
    if acc != 0 || it.next().is_some() {
        return Err(Error::Encoding(EncodingError::NonZeroPadding {
            what: WHAT,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn packed(ring: &Ring, words: &[u64]) -> Vec<u8> {
        let v = RingVec::from_u64s(ring, words);
        let mut w = Writer::new();
        pack(&mut w, ring, words.len(), &v).unwrap();
        w.into_bytes()
    }

    fn unpacked(ring: &Ring, dim: usize, bytes: &[u8]) -> Result<Vec<u64>> {
        let mut r = Reader::new(bytes);
        let v = unpack(&mut r, ring, dim)?;
        r.finish()?;
        assert!(v.fits(ring));
        Ok(v.to_u64s())
    }

    /// Independent reference: the bit string built one bit at a time.
    fn reference(bits: u32, words: &[u64]) -> Vec<u8> {
        let mut bitstr: Vec<u8> = Vec::new();
        for &w in words {
            for i in (0..bits).rev() {
                bitstr.push(((w >> i) & 1) as u8);
            }
        }
        while !bitstr.len().is_multiple_of(8) {
            bitstr.push(0);
        }
        bitstr
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | b))
            .collect()
    }

    #[test]
    fn documented_examples() {
        let r20 = Ring::pow2(20).unwrap();
        assert_eq!(
            packed(&r20, &[0x12345, 0xabcde]),
            [0x12, 0x34, 0x5a, 0xbc, 0xde]
        );
        let r16 = Ring::pow2(16).unwrap();
        assert_eq!(packed(&r16, &[0x0102, 0xfffe]), [1, 2, 0xff, 0xfe]);
        // 3 elements of 3 bits: 101 011 111 + 7 zero bits of padding.
        let m5 = Ring::modulus(5).unwrap();
        assert_eq!(packed(&m5, &[4, 3, 7 % 5]), [0b1000_1101, 0]);
        assert_eq!(packed_len(&r20, 3).unwrap(), 8);
        assert_eq!(packed_len(&Ring::pow2(1).unwrap(), 9).unwrap(), 2);
        assert_eq!(packed_len(&r16, 0).unwrap(), 0);
        assert_eq!(
            packed_len(&Ring::pow2(64).unwrap(), 1_000_000).unwrap(),
            8_000_000
        );
    }

    #[test]
    fn rejects_padding_range_and_length() {
        let r20 = Ring::pow2(20).unwrap();
        // 1 element of 20 bits: 3 bytes, the low 4 bits of the last are padding.
        assert_eq!(
            unpacked(&r20, 1, &[0xab, 0xcd, 0xe0]).unwrap(),
            vec![0xabcde]
        );
        assert_eq!(
            unpacked(&r20, 1, &[0xab, 0xcd, 0xe1]),
            Err(Error::Encoding(EncodingError::NonZeroPadding {
                what: WHAT
            }))
        );
        assert!(matches!(
            unpacked(&r20, 1, &[0xab, 0xcd]),
            Err(Error::Encoding(EncodingError::Truncated {
                needed: 3,
                remaining: 2,
                ..
            }))
        ));
        assert_eq!(
            unpacked(&r20, 1, &[0xab, 0xcd, 0xe0, 0]),
            Err(Error::Encoding(EncodingError::TrailingBytes { count: 1 }))
        );
        // Z_5 uses 3 bits: 5, 6, 7 are not elements.
        let m5 = Ring::modulus(5).unwrap();
        assert_eq!(unpacked(&m5, 2, &[0b1000_1100]).unwrap(), vec![4, 3]);
        assert_eq!(
            unpacked(&m5, 2, &[0b1010_0000]),
            Err(Error::Encoding(EncodingError::WordOutOfRange { index: 0 }))
        );
        assert_eq!(
            unpacked(&m5, 2, &[0b1001_1100]),
            Err(Error::Encoding(EncodingError::WordOutOfRange { index: 1 }))
        );
    }

    #[test]
    fn encoder_checks_its_input() {
        let r16 = Ring::pow2(16).unwrap();
        let mut w = Writer::new();
        let v = RingVec::from_u64s(&r16, &[1, 2]);
        assert_eq!(
            pack(&mut w, &r16, 3, &v),
            Err(Error::Misuse(Misuse::VectorLengthMismatch {
                expected: 3,
                found: 2
            }))
        );
        assert_eq!(
            pack(&mut w, &r16, 2, &RingVec::U32(vec![1, 1 << 16])),
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        assert_eq!(
            pack(&mut w, &r16, 2, &RingVec::U64(vec![1, 2])),
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        assert_eq!(
            pack(&mut w, &Ring::Pow2 { bits: 0 }, 2, &v),
            Err(Error::Misuse(Misuse::InvalidRingBits { bits: 0 }))
        );
        assert!(w.is_empty());
    }

    fn rings() -> Vec<Ring> {
        let mut out: Vec<Ring> = (1..=64).map(|b| Ring::pow2(b).unwrap()).collect();
        for m in [
            3,
            5,
            11,
            255,
            257,
            1_000_003,
            (1 << 32) - 5,
            (1 << 32) + 15,
            (1 << 40) - 87,
            u64::MAX - 58,
            u64::MAX,
        ] {
            out.push(Ring::modulus(m).unwrap());
        }
        out
    }

    proptest! {
        #[test]
        fn round_trips_and_matches_reference(
            words in proptest::collection::vec(any::<u64>(), 0..40)
        ) {
            for ring in rings() {
                let reduced: Vec<u64> = words.iter().map(|&w| ring.reduce(w)).collect();
                let bytes = packed(&ring, &words);
                prop_assert_eq!(bytes.len(), packed_len(&ring, words.len()).unwrap());
                prop_assert_eq!(&bytes, &reference(ring.element_bits(), &reduced));
                prop_assert_eq!(unpacked(&ring, words.len(), &bytes).unwrap(), reduced);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            dim in 0usize..70,
        ) {
            for ring in rings() {
                if let Ok(v) = unpacked(&ring, dim, &bytes) {
                    // Whatever decodes re-encodes to the same bytes.
                    prop_assert_eq!(packed(&ring, &v), bytes.clone());
                }
            }
        }
    }
}
