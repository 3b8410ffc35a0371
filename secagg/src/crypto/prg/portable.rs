//! The portable backend: the `aes` crate's block cipher (its own runtime dispatch picks
//! AES-NI, VAES or a constant-time software implementation) on a buffer of counter
//! blocks, then a plain add loop.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Block};

use super::word::{combine, Word};

/// Blocks encrypted per call into the cipher (4 KiB, stays in L1).
const BUF_BLOCKS: usize = 256;

/// An AES-128 key schedule for the portable backend.
#[derive(Clone)]
pub(crate) struct Cipher(Aes128);

impl Cipher {
    pub(crate) fn new(key: &[u8; 16]) -> Self {
        Cipher(Aes128::new(&(*key).into()))
    }

    /// `out[i] = AES(counter (hi, lo + i))`, the counter as a 128-bit little-endian
    /// integer `hi * 2^64 + lo + i` (the low half wraps; see `fill_blocks`).
    pub(crate) fn fill(&self, hi: u64, lo: u64, out: &mut [[u8; 16]]) {
        for (i, block) in out.iter_mut().enumerate() {
            block[..8].copy_from_slice(&lo.wrapping_add(i as u64).to_le_bytes());
            block[8..].copy_from_slice(&hi.to_le_bytes());
        }
        self.0.encrypt_blocks(Block::cast_slice_from_core_mut(out));
    }

    /// `acc[j] = (acc[j] ± word(block0 * PER_BLOCK + j)) & mask` for the power-of-two
    /// word stream.
    pub(crate) fn add_blocks<W: Word, const SUB: bool>(&self, block0: u64, acc: &mut [W], mask: W) {
        let mut buf = [[0u8; 16]; BUF_BLOCKS];
        let mut block = block0;
        for tile in acc.chunks_mut(BUF_BLOCKS * W::PER_BLOCK) {
            let nb = tile.len().div_ceil(W::PER_BLOCK);
            let ks = &mut buf[..nb];
            self.fill(0, block, ks);
            block = block.wrapping_add(nb as u64);
            for (dst, block) in tile.chunks_mut(W::PER_BLOCK).zip(ks.iter()) {
                for (a, k) in dst.iter_mut().zip(block.chunks_exact(W::BYTES)) {
                    *a = combine::<W, SUB>(*a, W::from_le(k), mask);
                }
            }
        }
    }
}
