//! The machine words a ring vector is stored in, and the one operation every backend
//! applies to them: `(a ± k) & mask`. A leaf of `prg`: the key schedule and the
//! dispatch (`stream`) and the kernels (`portable`, `x86`) all use it.

/// A machine word of a [`RingVec`](crate::ring::RingVec): `u32` or `u64`.
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

/// Hints the CPU to bring `words` into cache (a no-op off x86-64).
#[inline]
pub(crate) fn prefetch<W: Word>(words: &[W]) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = words.as_ptr().cast::<i8>();
        for off in (0..core::mem::size_of_val(words)).step_by(64) {
            // SAFETY: `off` is inside the slice, so `p + off` is in bounds; a prefetch
            // never faults and has no architectural effect; SSE is baseline on x86-64.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = words;
}
