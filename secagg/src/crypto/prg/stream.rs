//! One seed's stream: the key schedule for a backend, and the word stream of
//! docs/protocol.md ("Mask expansion") added into a slice of words, from any start
//! word (power of two) or for one substream chunk (general modulus).

use super::word::{combine, Word};
#[cfg(target_arch = "x86_64")]
use super::x86;
use super::{portable, Backend, Sign};
use crate::crypto::kdf::MaskSeed;
use crate::ring::{add_mod, sub_mod, Ring};

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
    pub(crate) fn new(backend: Backend, seed: &MaskSeed, sign: Sign) -> Self {
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
    pub(crate) fn fill(&self, hi: u64, lo: u64, out: &mut [[u8; 16]]) {
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
    pub(crate) fn add_words<W: Word>(&self, start: u64, acc: &mut [W], mask: W) {
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
    pub(crate) fn add_mod_chunk<W: Word>(&self, chunk: u64, acc: &mut [W], m: u64) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::prg::tests::reference;

    #[test]
    fn start_offsets_match_reference() {
        let s = MaskSeed::from_bytes([9; 16]);
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
}
