//! Mask expansion: expand a 128-bit [`MaskSeed`] into ring words with AES-128 in counter
//! mode and add (or subtract) them into an accumulator.
//!
//! # The word stream (normative; also in docs/protocol.md, "Mask expansion")
//!
//! `B(hi, lo) = AES-128_seed(LE128(hi * 2^64 + lo))`: the 16-byte block is `lo` as 8
//! little-endian bytes followed by `hi` as 8 little-endian bytes.
//!
//! * **Z_{2^b}** (the hot path): the keystream is `B(0, 0) || B(0, 1) || B(0, 2) || ...`,
//!   read as little-endian `u32` words when b <= 32 and `u64` words when b > 32. Element
//!   `j` is word `j` masked to its low b bits. Element `j` lives in block
//!   `j / (16 / word_bytes)`, so any range can be produced independently.
//! * **Z_m**, m not a power of two: with `k = ceil(log2 m)` and `u32` words if
//!   m < 2^32, else `u64` words, the elements are split into chunks of
//!   [`MODULUS_CHUNK`] elements. Chunk `c` (elements `c * MODULUS_CHUNK ..`) reads its
//!   own substream `B(c + 1, 0) || B(c + 1, 1) || ...` as little-endian words `w_0,
//!   w_1, ...`; each candidate `w_i & (2^k - 1)` is accepted if it is below m and
//!   skipped otherwise; the chunk's elements are the accepted candidates in order.
//!   Chunks are independent, so they are generated in parallel bit-identically.
//!
//! A [`Sign::Plus`] mask adds these elements into the accumulator, a [`Sign::Minus`]
//! mask subtracts them, both in the ring.

mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::sync::OnceLock;

use rayon::prelude::*;

use crate::crypto::kdf::MaskSeed;
use crate::error::{Error, Result};
use crate::ring::{add_mod, sub_mod, Ring, RingVec};

/// Elements per independent substream chunk of a general-modulus ring (2^16).
pub const MODULUS_CHUNK: usize = 1 << 16;

/// Bounds on the words per parallel work item in the power-of-two path: at least 64 KiB
/// of u32 words to amortise the per-chunk setup, at most 1 MiB. The result does not
/// depend on the chunking (the stream is seekable); see [`pow2_chunk`].
const POW2_CHUNK_MIN: usize = 4 * TILE;
const POW2_CHUNK_MAX: usize = 64 * TILE;

/// Words per tile: every seed is applied to one tile while it is in L1 cache.
pub(crate) const TILE: usize = 4096;

/// Whether a mask is added to or subtracted from the accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// `acc += PRG(seed)`.
    Plus,
    /// `acc -= PRG(seed)`.
    Minus,
}

/// An AES implementation that produces the word stream. All give identical words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// The `aes` crate's block cipher (which dispatches to AES-NI, VAES or software
    /// itself) on a buffer of counter blocks, then a separate add loop.
    Portable,
    /// Fused kernel: AES-NI on 128-bit vectors, 8 blocks in flight, keystream added into
    /// the accumulator in the same loop (CPUs without VAES). x86-64 only.
    AesNi,
    /// Fused kernel: VAES on 256-bit vectors (AVX2), 16 blocks in flight, keystream
    /// added into the accumulator in the same loop. x86-64 only.
    Vaes256,
    /// Fused kernel: VAES on 512-bit vectors (AVX-512F), 16 blocks in flight. x86-64
    /// only.
    Vaes512,
}

impl Backend {
    /// Every backend.
    pub const ALL: &'static [Backend] = &[
        Backend::Portable,
        Backend::AesNi,
        Backend::Vaes256,
        Backend::Vaes512,
    ];

    /// The backend's name, as printed by benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "aes-crate",
            Backend::AesNi => "aes-ni",
            Backend::Vaes256 => "vaes256",
            Backend::Vaes512 => "vaes512",
        }
    }

    /// Whether this CPU can run the backend (detected at run time).
    pub fn is_supported(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::AesNi => x86::Width::V128.is_supported(),
            #[cfg(target_arch = "x86_64")]
            Backend::Vaes256 => x86::Width::V256.is_supported(),
            #[cfg(target_arch = "x86_64")]
            Backend::Vaes512 => x86::Width::V512.is_supported(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest backend this CPU supports (detected once, then cached).
    ///
    /// VAES on 512-bit vectors where AVX-512F is present, else VAES on 256-bit vectors,
    /// else AES-NI, else the `aes` crate (software).
    pub fn detect() -> Backend {
        static DETECTED: OnceLock<Backend> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            [Backend::Vaes512, Backend::Vaes256, Backend::AesNi]
                .into_iter()
                .find(|b| b.is_supported())
                .unwrap_or(Backend::Portable)
        })
    }

    #[cfg(target_arch = "x86_64")]
    fn width(self) -> Option<x86::Width> {
        match self {
            Backend::Portable => None,
            Backend::AesNi => Some(x86::Width::V128),
            Backend::Vaes256 => Some(x86::Width::V256),
            Backend::Vaes512 => Some(x86::Width::V512),
        }
    }
}

/// The backend [`expand_add`] uses on this CPU.
pub fn backend() -> Backend {
    Backend::detect()
}

/// The name of the backend [`expand_add`] uses on this CPU.
pub fn backend_name() -> &'static str {
    backend().name()
}

/// A machine word of a [`RingVec`]: `u32` or `u64`.
pub(crate) trait Word: Copy + Default + Send + Sync + 'static {
    /// Bytes per word.
    const BYTES: usize;
    /// Words per AES block.
    const PER_BLOCK: usize = 16 / Self::BYTES;
    /// The word from `BYTES` little-endian bytes (shorter input is zero-extended).
    fn from_le(bytes: &[u8]) -> Self;
    /// Truncating conversion.
    fn from_u64(x: u64) -> Self;
    /// Zero-extending conversion.
    fn to_u64(self) -> u64;
    /// Wrapping addition.
    fn wadd(self, other: Self) -> Self;
    /// Wrapping subtraction.
    fn wsub(self, other: Self) -> Self;
    /// Bitwise and.
    fn and(self, other: Self) -> Self;
}

macro_rules! impl_word {
    ($t:ty) => {
        impl Word for $t {
            const BYTES: usize = core::mem::size_of::<$t>();
            #[inline(always)]
            fn from_le(bytes: &[u8]) -> Self {
                match bytes.try_into() {
                    Ok(b) => <$t>::from_le_bytes(b),
                    Err(_) => {
                        let mut b = [0u8; core::mem::size_of::<$t>()];
                        for (d, s) in b.iter_mut().zip(bytes) {
                            *d = *s;
                        }
                        <$t>::from_le_bytes(b)
                    }
                }
            }
            #[inline(always)]
            fn from_u64(x: u64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn wadd(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline(always)]
            fn wsub(self, other: Self) -> Self {
                self.wrapping_sub(other)
            }
            #[inline(always)]
            fn and(self, other: Self) -> Self {
                self & other
            }
        }
    };
}
impl_word!(u32);
impl_word!(u64);

/// `(a ± k) & mask`.
#[inline(always)]
pub(crate) fn combine<W: Word, const SUB: bool>(a: W, k: W, mask: W) -> W {
    if SUB {
        a.wsub(k).and(mask)
    } else {
        a.wadd(k).and(mask)
    }
}

/// One seed's key schedule for one backend, and its sign. Wiped on drop.
pub(crate) struct SeedKey {
    sched: Schedule,
    sub: bool,
}

enum Schedule {
    Portable(portable::Cipher),
    #[cfg(target_arch = "x86_64")]
    Wide(x86::Kernel, x86::RoundKeys),
}

impl SeedKey {
    /// The key schedule of `seed` for `backend`, which must be supported (checked by the
    /// public entry points; an unsupported one falls back to the portable backend).
    fn new(backend: Backend, seed: &MaskSeed, sign: Sign) -> Self {
        let sub = sign == Sign::Minus;
        #[cfg(target_arch = "x86_64")]
        if let Some(w) = backend.width().and_then(x86::Kernel::new) {
            // SAFETY: a `Kernel` exists only where the CPU has AES-NI (every width's
            // support check includes it).
            let rk = unsafe { x86::RoundKeys::new(seed.as_bytes()) };
            return SeedKey {
                sched: Schedule::Wide(w, rk),
                sub,
            };
        }
        let _ = backend;
        SeedKey {
            sched: Schedule::Portable(portable::Cipher::new(seed.as_bytes())),
            sub,
        }
    }

    /// Keystream blocks `B(hi, lo + i)` into `out`.
    fn fill(&self, hi: u64, lo: u64, out: &mut [[u8; 16]]) {
        match &self.sched {
            Schedule::Portable(c) => c.fill(hi, lo, out),
            #[cfg(target_arch = "x86_64")]
            Schedule::Wide(w, rk) => w.fill(rk, hi, lo, out),
        }
    }

    /// Power-of-two stream words starting at whole block `block0`, into `acc`.
    fn add_blocks<W: Word>(&self, block0: u64, acc: &mut [W], mask: W) {
        match (&self.sched, self.sub) {
            (Schedule::Portable(c), false) => c.add_blocks::<W, false>(block0, acc, mask),
            (Schedule::Portable(c), true) => c.add_blocks::<W, true>(block0, acc, mask),
            #[cfg(target_arch = "x86_64")]
            (Schedule::Wide(w, rk), false) => w.add_blocks::<W, false>(rk, block0, acc, mask),
            #[cfg(target_arch = "x86_64")]
            (Schedule::Wide(w, rk), true) => w.add_blocks::<W, true>(rk, block0, acc, mask),
        }
    }

    /// Power-of-two stream words `start .. start + acc.len()` into `acc`.
    fn add_words<W: Word>(&self, start: u64, acc: &mut [W], mask: W) {
        let per = W::PER_BLOCK as u64;
        let skip = (start % per) as usize;
        let mut block = start / per;
        let mut acc = acc;
        if skip != 0 {
            let mut ks = [[0u8; 16]];
            self.fill(0, block, &mut ks);
            let words = ks[0].chunks_exact(W::BYTES).skip(skip).map(W::from_le);
            let n = (W::PER_BLOCK - skip).min(acc.len());
            let (head, rest) = acc.split_at_mut(n);
            for (a, k) in head.iter_mut().zip(words) {
                *a = if self.sub {
                    combine::<W, true>(*a, k, mask)
                } else {
                    combine::<W, false>(*a, k, mask)
                };
            }
            acc = rest;
            block += 1;
        }
        self.add_blocks(block, acc, mask);
    }

    /// Chunk `chunk` of the general-modulus stream (rejection sampling) into `acc`.
    fn add_mod_chunk<W: Word>(&self, chunk: u64, acc: &mut [W], m: u64) {
        let kmask = Ring::Modulus { m }.bit_mask();
        let mut buf = [[0u8; 16]; 64];
        let mut lo = 0u64;
        let mut rest = acc;
        while !rest.is_empty() {
            self.fill(chunk.wrapping_add(1), lo, &mut buf);
            lo = lo.wrapping_add(buf.len() as u64);
            let candidates = buf
                .iter()
                .flat_map(|b| b.chunks_exact(W::BYTES))
                .map(|w| W::from_le(w).to_u64() & kmask)
                .filter(|&x| x < m);
            for x in candidates {
                let Some((a, tail)) = core::mem::take(&mut rest).split_first_mut() else {
                    break;
                };
                let v = if self.sub {
                    sub_mod(a.to_u64(), x, m)
                } else {
                    add_mod(a.to_u64(), x, m)
                };
                *a = W::from_u64(v);
                rest = tail;
            }
        }
    }
}

/// `acc += Σ ± PRG(seed)` over the whole vector, with the fastest backend on this CPU;
/// parallel over chunks (rayon), bit-identical to a serial computation.
///
/// Fails with [`Error::RingMismatch`] when `acc` has the wrong word type for `ring` or
/// (general modulus only) holds an unreduced word, and with the error of
/// [`Ring::validate`] for an invalid ring; `acc` is unchanged on error.
pub fn expand_add(ring: &Ring, masks: &[(&MaskSeed, Sign)], acc: &mut RingVec) -> Result<()> {
    expand_add_with(backend(), ring, masks, acc)
}

/// [`expand_add`] with a chosen backend (for tests and benchmarks); fails with
/// [`Error::UnsupportedBackend`] if this CPU cannot run it.
pub fn expand_add_with(
    backend: Backend,
    ring: &Ring,
    masks: &[(&MaskSeed, Sign)],
    acc: &mut RingVec,
) -> Result<()> {
    ring.validate()?;
    if !backend.is_supported() {
        return Err(Error::UnsupportedBackend {
            name: backend.name(),
        });
    }
    if ring.uses_u32() != matches!(acc, RingVec::U32(_)) {
        return Err(Error::RingMismatch);
    }
    if matches!(ring, Ring::Modulus { .. }) && !acc.fits(ring) {
        return Err(Error::RingMismatch);
    }
    if masks.is_empty() {
        return Ok(());
    }
    let keys: Vec<SeedKey> = masks
        .iter()
        .map(|(seed, sign)| SeedKey::new(backend, seed, *sign))
        .collect();
    match acc {
        RingVec::U32(v) => run(ring, &keys, v),
        RingVec::U64(v) => run(ring, &keys, v),
    }
    Ok(())
}

fn run<W: Word>(ring: &Ring, keys: &[SeedKey], acc: &mut [W]) {
    match *ring {
        Ring::Pow2 { .. } => {
            let mask = W::from_u64(ring.bit_mask());
            let size = pow2_chunk(acc.len(), rayon::current_num_threads());
            acc.par_chunks_mut(size).enumerate().for_each(|(c, chunk)| {
                let base = (c * size) as u64;
                for (t, tile) in chunk.chunks_mut(TILE).enumerate() {
                    let start = base + (t * TILE) as u64;
                    for key in keys {
                        key.add_words(start, tile, mask);
                    }
                }
            });
        }
        Ring::Modulus { m } => {
            acc.par_chunks_mut(MODULUS_CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| {
                    for key in keys {
                        key.add_mod_chunk(c as u64, chunk, m);
                    }
                });
        }
    }
}

/// Raw keystream of one seed with a chosen backend: the blocks `B(hi, lo + i)` of the
/// word stream definition, for benchmarks and interoperability tests. The key schedule
/// is computed once and wiped on drop.
pub struct Keystream(SeedKey);

impl Keystream {
    /// The keystream of `seed` with `backend`; fails with [`Error::UnsupportedBackend`]
    /// if this CPU cannot run it.
    pub fn new(backend: Backend, seed: &MaskSeed) -> Result<Keystream> {
        if !backend.is_supported() {
            return Err(Error::UnsupportedBackend {
                name: backend.name(),
            });
        }
        Ok(Keystream(SeedKey::new(backend, seed, Sign::Plus)))
    }

    /// `out[i] = B(hi, lo + i)` (the low counter half wraps modulo 2^64).
    pub fn fill(&self, hi: u64, lo: u64, out: &mut [[u8; 16]]) {
        self.0.fill(hi, lo, out);
    }
}

impl core::fmt::Debug for Keystream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keystream").finish_non_exhaustive()
    }
}

/// Words per parallel chunk of the power-of-two path for `len` words on `threads`
/// threads: about four chunks per thread, a multiple of [`TILE`] (so of the block),
/// within [`POW2_CHUNK_MIN`]..=[`POW2_CHUNK_MAX`].
pub(crate) fn pow2_chunk(len: usize, threads: usize) -> usize {
    len.div_ceil(4 * threads.max(1))
        .div_ceil(TILE)
        .saturating_mul(TILE)
        .clamp(POW2_CHUNK_MIN, POW2_CHUNK_MAX)
}

/// `PRG(seed)` as `len` ring elements (= [`expand_add`] onto zeros).
pub fn expand(ring: &Ring, seed: &MaskSeed, len: usize) -> RingVec {
    let mut acc = RingVec::zeros(ring, len);
    // Fails only for an invalid hand-built ring; the zeros are returned then.
    let _ = expand_add(ring, &[(seed, Sign::Plus)], &mut acc);
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(i: u8) -> MaskSeed {
        MaskSeed::from_bytes([i; 16])
    }

    /// The word stream straight from the definition, one block at a time.
    fn reference(ring: &Ring, seed: &MaskSeed, len: usize) -> Vec<u64> {
        use aes::cipher::{BlockCipherEncrypt, KeyInit};
        let aes = aes::Aes128::new(&(*seed.as_bytes()).into());
        let block = |hi: u64, lo: u64| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&lo.to_le_bytes());
            b[8..].copy_from_slice(&hi.to_le_bytes());
            let mut blk = b.into();
            aes.encrypt_block(&mut blk);
            let out: [u8; 16] = blk.into();
            out
        };
        let wb = if ring.uses_u32() { 4 } else { 8 };
        let word = |b: &[u8]| {
            let mut x = [0u8; 8];
            x[..wb].copy_from_slice(b);
            u64::from_le_bytes(x)
        };
        let kmask = ring.bit_mask();
        match *ring {
            Ring::Pow2 { .. } => (0..)
                .flat_map(|i| {
                    block(0, i)
                        .chunks(wb)
                        .map(|w| word(w) & kmask)
                        .collect::<Vec<_>>()
                })
                .take(len)
                .collect(),
            Ring::Modulus { m } => {
                let mut out = Vec::new();
                let mut c = 0u64;
                while out.len() < len {
                    let want = (len - out.len()).min(MODULUS_CHUNK);
                    let mut got = 0;
                    let mut i = 0;
                    while got < want {
                        for w in block(c + 1, i).chunks(wb) {
                            let x = word(w) & kmask;
                            if x < m && got < want {
                                out.push(x);
                                got += 1;
                            }
                        }
                        i += 1;
                    }
                    c += 1;
                }
                out
            }
        }
    }

    #[test]
    fn expand_matches_reference() {
        let rings = [
            Ring::pow2(1).unwrap(),
            Ring::pow2(13).unwrap(),
            Ring::pow2(32).unwrap(),
            Ring::pow2(40).unwrap(),
            Ring::pow2(64).unwrap(),
            Ring::modulus(3).unwrap(),
            Ring::modulus(1_000_003).unwrap(),
            Ring::modulus((1 << 40) + 15).unwrap(),
        ];
        for ring in rings {
            for len in [0, 1, 3, 5, 4097, 70_001, 140_000] {
                let s = seed(len as u8);
                assert_eq!(
                    expand(&ring, &s, len).to_u64s(),
                    reference(&ring, &s, len),
                    "{ring:?} len {len}"
                );
            }
        }
    }

    #[test]
    fn opposite_signs_cancel_and_sum_matches() {
        for ring in [Ring::pow2(32).unwrap(), Ring::modulus(1_000_003).unwrap()] {
            let (a, b) = (seed(1), seed(2));
            let len = 100_003;
            let mut acc = RingVec::zeros(&ring, len);
            expand_add(
                &ring,
                &[(&a, Sign::Plus), (&b, Sign::Minus), (&a, Sign::Minus)],
                &mut acc,
            )
            .unwrap();
            let want: Vec<u64> = reference(&ring, &b, len)
                .into_iter()
                .map(|x| ring.neg(x))
                .collect();
            assert_eq!(acc.to_u64s(), want);
        }
    }

    #[test]
    fn start_offsets_match_reference() {
        let s = seed(9);
        for ring in [Ring::pow2(32).unwrap(), Ring::pow2(64).unwrap()] {
            let full = reference(&ring, &s, 300);
            let key = SeedKey::new(Backend::Portable, &s, Sign::Plus);
            for start in 0..9 {
                for len in [0, 1, 2, 5, 130, 291 - start] {
                    let mask = ring.bit_mask();
                    let got: Vec<u64> = if ring.uses_u32() {
                        let mut v = vec![0u32; len];
                        key.add_words(start as u64, &mut v, mask as u32);
                        v.into_iter().map(u64::from).collect()
                    } else {
                        let mut v = vec![0u64; len];
                        key.add_words(start as u64, &mut v, mask);
                        v
                    };
                    assert_eq!(got, full[start..start + len]);
                }
            }
        }
    }

    fn supported() -> Vec<Backend> {
        Backend::ALL
            .iter()
            .copied()
            .filter(|b| b.is_supported())
            .collect()
    }

    /// Every backend against the portable one, for one word type.
    fn agree<W: Word + PartialEq + core::fmt::Debug>(mask: u64) {
        let starts = [
            0u64,
            1,
            2,
            3,
            5,
            7,
            8,
            1000,
            (1 << 32) * W::PER_BLOCK as u64 - 9, // low 32 bits of the counter carry
            (1 << 34) + 3,
        ];
        let lens = [
            0usize, 1, 2, 3, 4, 5, 7, 9, 17, 63, 64, 65, 127, 129, 257, 1001, 4099,
        ];
        let mask = W::from_u64(mask);
        for s in 0..12u8 {
            let seed = MaskSeed::from_bytes([s.wrapping_mul(37); 16]);
            for sign in [Sign::Plus, Sign::Minus] {
                let reference = SeedKey::new(Backend::Portable, &seed, sign);
                for b in supported() {
                    let key = SeedKey::new(b, &seed, sign);
                    #[cfg(target_arch = "x86_64")]
                    assert_eq!(
                        matches!(key.sched, Schedule::Wide(..)),
                        b != Backend::Portable,
                        "{b:?} must run its own kernel"
                    );
                    for &start in &starts {
                        for &len in &lens {
                            let init: Vec<W> = (0..len as u64)
                                .map(|i| W::from_u64(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
                                .collect();
                            let (mut want, mut got) = (init.clone(), init);
                            reference.add_words(start, &mut want, mask);
                            key.add_words(start, &mut got, mask);
                            assert_eq!(got, want, "{b:?} seed {s} start {start} len {len}");
                        }
                    }
                    for hi in [0u64, 1, 77, u64::MAX] {
                        for &len in &lens {
                            let mut want = vec![[0u8; 16]; len];
                            let mut got = vec![[1u8; 16]; len];
                            reference.fill(hi, hi ^ 12345, &mut want);
                            key.fill(hi, hi ^ 12345, &mut got);
                            assert_eq!(got, want, "{b:?} fill hi {hi} len {len}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_backend_gives_identical_words() {
        agree::<u32>(u64::from(u32::MAX));
        agree::<u32>(0x1fff);
        agree::<u64>(u64::MAX);
        agree::<u64>((1 << 47) - 1);
    }

    #[test]
    fn unsupported_backend_is_an_error() {
        for b in Backend::ALL {
            let r = Ring::pow2(32).unwrap();
            let mut acc = RingVec::zeros(&r, 5);
            let out = expand_add_with(*b, &r, &[(&seed(1), Sign::Plus)], &mut acc);
            if b.is_supported() {
                assert_eq!(out, Ok(()));
            } else {
                assert_eq!(out, Err(Error::UnsupportedBackend { name: b.name() }));
            }
        }
        assert!(backend().is_supported());
        assert_eq!(backend_name(), backend().name());
    }

    #[test]
    fn pow2_chunks_are_whole_tiles_in_range() {
        for len in [0, 1, 4095, 100_000, 1_000_000, 10_000_000, usize::MAX] {
            for threads in [0, 1, 2, 16, 1000] {
                let c = pow2_chunk(len, threads);
                assert_eq!(c % TILE, 0);
                assert!((POW2_CHUNK_MIN..=POW2_CHUNK_MAX).contains(&c));
            }
        }
    }

    #[test]
    fn wrong_accumulator_is_refused() {
        let s = seed(3);
        let r = Ring::pow2(16).unwrap();
        let mut acc = RingVec::U64(vec![0; 4]);
        assert_eq!(
            expand_add(&r, &[(&s, Sign::Plus)], &mut acc),
            Err(Error::RingMismatch)
        );
        let m = Ring::modulus(7).unwrap();
        let mut acc = RingVec::U32(vec![0, 7]);
        assert_eq!(
            expand_add(&m, &[(&s, Sign::Plus)], &mut acc),
            Err(Error::RingMismatch)
        );
        assert_eq!(acc, RingVec::U32(vec![0, 7]));
        let bad = Ring::Pow2 { bits: 0 };
        assert!(expand_add(&bad, &[(&s, Sign::Plus)], &mut acc).is_err());
        assert_eq!(expand(&bad, &s, 2).len(), 2);
    }
}
