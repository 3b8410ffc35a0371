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
mod stream;
mod word;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::sync::OnceLock;

use crate::par::*;

use crate::crypto::kdf::MaskSeed;
use crate::error::{Error, Misuse, Result};
use crate::ring::{Ring, RingVec};
use stream::SeedKey;
use word::Word;

/// Elements per independent substream chunk of a general-modulus ring (2^16).
pub const MODULUS_CHUNK: usize = 1 << 16;

/// Bounds on the words per parallel work item in the power-of-two path: at least 64 KiB
/// of u32 words to amortise the per-chunk setup, at most 1 MiB. The result does not
/// depend on the chunking (the stream is seekable); see [`pow2_chunk`].
const POW2_CHUNK_MIN: usize = 4 * TILE;
const POW2_CHUNK_MAX: usize = 64 * TILE;

/// Words per chunk-size quantum (a multiple of every tile and of the block).
pub(crate) const TILE: usize = 4096;

/// Bytes per tile: every seed is applied to one tile while it is in L1 cache, and the
/// next tile is prefetched meanwhile (two tiles fit a 32 KiB L1d).
pub(crate) const TILE_BYTES: usize = 16 * 1024;

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
    pub(crate) fn width(self) -> Option<x86::Width> {
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

/// `acc += Σ ± PRG(seed)` over the whole vector, with the fastest backend on this CPU;
/// parallel over chunks (rayon), bit-identical to a serial computation.
///
/// Fails with [`Misuse::RingMismatch`] when `acc` has the wrong word type for `ring` or
/// (general modulus only) holds an unreduced word, and with the error of
/// [`Ring::validate`] for an invalid ring; `acc` is unchanged on error.
pub fn expand_add(ring: &Ring, masks: &[(&MaskSeed, Sign)], acc: &mut RingVec) -> Result<()> {
    expand_add_with(backend(), ring, masks, acc)
}

/// [`expand_add`] with a chosen backend (for tests and benchmarks); fails with
/// [`Misuse::UnsupportedBackend`] if this CPU cannot run it.
pub fn expand_add_with(
    backend: Backend,
    ring: &Ring,
    masks: &[(&MaskSeed, Sign)],
    acc: &mut RingVec,
) -> Result<()> {
    ring.validate()?;
    if !backend.is_supported() {
        return Err(Error::Misuse(Misuse::UnsupportedBackend {
            name: backend.name(),
        }));
    }
    if ring.uses_u32() != matches!(acc, RingVec::U32(_)) {
        return Err(Error::Misuse(Misuse::RingMismatch));
    }
    if matches!(ring, Ring::Modulus { .. }) && !acc.fits(ring) {
        return Err(Error::Misuse(Misuse::RingMismatch));
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
            let size = pow2_chunk(acc.len(), crate::par::current_num_threads());
            let tile_words = TILE_BYTES / W::BYTES;
            acc.par_chunks_mut(size).enumerate().for_each(|(c, chunk)| {
                let mut start = (c * size) as u64;
                let mut rest = chunk;
                while !rest.is_empty() {
                    let (tile, next) = rest.split_at_mut(rest.len().min(tile_words));
                    // While the seeds run over this tile (in L1), pull the next tile in
                    // from memory, one slice per seed, so no pass waits on DRAM.
                    let ahead = &next[..next.len().min(tile_words)];
                    let slice = ahead.len().div_ceil(keys.len());
                    for (i, key) in keys.iter().enumerate() {
                        let from = (i * slice).min(ahead.len());
                        let to = (from + slice).min(ahead.len());
                        word::prefetch(&ahead[from..to]);
                        key.add_words(start, tile, mask);
                    }
                    start += tile.len() as u64;
                    rest = next;
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
    /// The keystream of `seed` with `backend`; fails with [`Misuse::UnsupportedBackend`]
    /// if this CPU cannot run it.
    pub fn new(backend: Backend, seed: &MaskSeed) -> Result<Keystream> {
        if !backend.is_supported() {
            return Err(Error::Misuse(Misuse::UnsupportedBackend {
                name: backend.name(),
            }));
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

/// The keystream `expand_add` would consume (`dim` words of `word_bytes` per stream),
/// generated with the same chunks and tiles (in an L1-resident buffer) and discarded.
pub fn straight_keystream(streams: &[Keystream], dim: usize, word_bytes: usize) {
    let per_block = 16 / word_bytes;
    let size = pow2_chunk(dim, crate::par::current_num_threads());
    let tile_blocks = TILE_BYTES / 16;
    (0..dim.div_ceil(size)).into_par_iter().for_each(|c| {
        let mut tile = vec![[0u8; 16]; tile_blocks];
        let first = c * size;
        let blocks = (dim - first).min(size).div_ceil(per_block);
        let mut done = 0;
        while done < blocks {
            let n = (blocks - done).min(tile_blocks);
            let lo = (first / per_block + done) as u64;
            for s in streams {
                s.fill(0, lo, &mut tile[..n]);
                core::hint::black_box(&mut tile);
            }
            done += n;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(i: u8) -> MaskSeed {
        MaskSeed::from_bytes([i; 16])
    }

    /// The word stream straight from the definition, one block at a time.
    pub(super) fn reference(ring: &Ring, seed: &MaskSeed, len: usize) -> Vec<u64> {
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
    fn unsupported_backend_is_an_error() {
        for b in Backend::ALL {
            let r = Ring::pow2(32).unwrap();
            let mut acc = RingVec::zeros(&r, 5);
            let out = expand_add_with(*b, &r, &[(&seed(1), Sign::Plus)], &mut acc);
            if b.is_supported() {
                assert_eq!(out, Ok(()));
            } else {
                assert_eq!(
                    out,
                    Err(Error::Misuse(Misuse::UnsupportedBackend { name: b.name() }))
                );
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
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        let m = Ring::modulus(7).unwrap();
        let mut acc = RingVec::U32(vec![0, 7]);
        assert_eq!(
            expand_add(&m, &[(&s, Sign::Plus)], &mut acc),
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        assert_eq!(acc, RingVec::U32(vec![0, 7]));
        let bad = Ring::Pow2 { bits: 0 };
        assert!(expand_add(&bad, &[(&s, Sign::Plus)], &mut acc).is_err());
        assert_eq!(expand(&bad, &s, 2).len(), 2);
    }
}
