//! Fused AES-128-CTR kernels for x86-64: VAES on 256-bit (AVX2) or 512-bit (AVX-512)
//! vectors, many blocks in flight, keystream added straight into the accumulator.
//!
//! Every kernel works on `nblocks` whole 16-byte blocks at a raw pointer; the safe
//! wrappers below derive pointer and count from slices, so all bounds are decided in
//! safe code. The counter is the 128-bit little-endian `hi * 2^64 + lo + i` of the word
//! stream definition (docs/protocol.md, "Mask expansion"): two 64-bit lanes, the low one
//! advanced with a 64-bit vector add.

use core::arch::x86_64::*;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::word::{combine, Word};

/// What a kernel does with the keystream.
pub(crate) const STORE: u8 = 0;
/// `acc += keystream` lane-wise.
pub(crate) const ADD: u8 = 1;
/// `acc -= keystream` lane-wise.
pub(crate) const SUB: u8 = 2;

/// The 11 AES-128 round keys. Wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct RoundKeys([[u8; 16]; 11]);

impl RoundKeys {
    /// Expands `key` with AES-NI.
    ///
    /// # Safety
    /// The CPU must support AES-NI (`is_x86_feature_detected!("aes")`).
    #[target_feature(enable = "aes")]
    pub(crate) unsafe fn new(key: &[u8; 16]) -> Self {
        #[inline]
        #[target_feature(enable = "aes")]
        fn step<const RCON: i32>(prev: __m128i) -> __m128i {
            let t = _mm_shuffle_epi32::<0xff>(_mm_aeskeygenassist_si128::<RCON>(prev));
            let mut k = prev;
            k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
            k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
            k = _mm_xor_si128(k, _mm_slli_si128::<4>(k));
            _mm_xor_si128(k, t)
        }
        // SAFETY: `key` is 16 readable bytes; loadu has no alignment requirement.
        let k0 = unsafe { _mm_loadu_si128(key.as_ptr().cast()) };
        let mut k = [k0; 11];
        k[1] = step::<0x01>(k[0]);
        k[2] = step::<0x02>(k[1]);
        k[3] = step::<0x04>(k[2]);
        k[4] = step::<0x08>(k[3]);
        k[5] = step::<0x10>(k[4]);
        k[6] = step::<0x20>(k[5]);
        k[7] = step::<0x40>(k[6]);
        k[8] = step::<0x80>(k[7]);
        k[9] = step::<0x1b>(k[8]);
        k[10] = step::<0x36>(k[9]);
        let mut out = RoundKeys([[0u8; 16]; 11]);
        for (o, r) in out.0.iter_mut().zip(k.iter_mut()) {
            // SAFETY: `o` is 16 writable bytes; storeu has no alignment requirement.
            unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), *r) };
            *r = _mm_setzero_si128();
        }
        out
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn xmm(&self) -> [__m128i; 11] {
        // SAFETY: each round key is 16 readable bytes; loadu has no alignment requirement.
        self.0
            .map(|r| unsafe { _mm_loadu_si128(r.as_ptr().cast()) })
    }
}

/// A round key re-read from memory where it is used.
///
/// With only 16 vector registers (SSE/AVX2), keeping all 11 round keys live leaves too
/// few for the blocks in flight, and LLVM then interleaves only two blocks at a time
/// (seen in the generated code; the AES units idle on latency). A volatile read cannot
/// be hoisted out of the loop, so one register holds the current round key and the rest
/// hold blocks; the extra load per round and group is cheap.
#[inline(always)]
fn reload<T: Copy>(key: &T) -> T {
    // SAFETY: `key` is a reference, so valid, aligned and initialised for one read.
    unsafe { core::ptr::read_volatile(key) }
}

/// One block at a time with AES-NI on 128-bit registers (the tail of the wide kernels).
///
/// # Safety
/// `p` must be valid for reads and writes of `nblocks * 16` bytes, and the CPU must
/// support AES-NI.
#[inline]
#[target_feature(enable = "aes,sse2")]
unsafe fn blocks128<const OP: u8, const W64: bool>(
    k: &[__m128i; 11],
    hi: u64,
    lo: u64,
    p: *mut u8,
    nblocks: usize,
    mask: u64,
) {
    let maskv = if W64 {
        _mm_set1_epi64x(mask as i64)
    } else {
        _mm_set1_epi32(mask as u32 as i32)
    };
    for i in 0..nblocks {
        let ctr = _mm_set_epi64x(hi as i64, lo.wrapping_add(i as u64) as i64);
        let mut x = _mm_xor_si128(ctr, k[0]);
        for key in &k[1..10] {
            x = _mm_aesenc_si128(x, *key);
        }
        x = _mm_aesenclast_si128(x, k[10]);
        // SAFETY: block i < nblocks lies within the caller's `nblocks * 16` valid bytes.
        unsafe { apply128::<OP, W64>(p.add(16 * i).cast(), x, maskv) };
    }
}

/// `N` 128-bit registers (N blocks) in flight with AES-NI (CPUs without VAES).
///
/// # Safety
/// `p` must be valid for reads and writes of `nblocks * 16` bytes, and the CPU must
/// support AES-NI.
#[target_feature(enable = "aes,sse2")]
unsafe fn blocks_ni<const N: usize, const OP: u8, const W64: bool>(
    rk: &RoundKeys,
    hi: u64,
    lo: u64,
    p: *mut u8,
    nblocks: usize,
    mask: u64,
) {
    let k = rk.xmm();
    let maskv = if W64 {
        _mm_set1_epi64x(mask as i64)
    } else {
        _mm_set1_epi32(mask as u32 as i32)
    };
    let mut ctr = _mm_set_epi64x(hi as i64, lo as i64);
    let one = _mm_set_epi64x(0, 1);
    let groups = nblocks / N;
    let mut q = p.cast::<__m128i>();
    for _ in 0..groups {
        let mut x = [_mm_setzero_si128(); N];
        for xi in x.iter_mut() {
            *xi = _mm_xor_si128(ctr, reload(&k[0]));
            ctr = _mm_add_epi64(ctr, one);
        }
        for key in &k[1..10] {
            let key = reload(key);
            for xi in x.iter_mut() {
                *xi = _mm_aesenc_si128(*xi, key);
            }
        }
        let last = reload(&k[10]);
        for (i, xi) in x.iter().enumerate() {
            let ks = _mm_aesenclast_si128(*xi, last);
            // SAFETY: this group's N blocks lie within the caller's valid range (we
            // process `groups * N <= nblocks` blocks here); loadu/storeu are unaligned.
            unsafe { apply128::<OP, W64>(q.add(i), ks, maskv) };
        }
        // SAFETY: stays within (or one past the end of) the caller's valid range.
        q = unsafe { q.add(N) };
    }
    let done = groups * N;
    // SAFETY: the last `nblocks - done` (< N) blocks start at byte 16 * done, within range;
    // the CPU supports AES-NI (our caller's contract).
    unsafe {
        blocks128::<OP, W64>(
            &k,
            hi,
            lo.wrapping_add(done as u64),
            p.add(16 * done),
            nblocks - done,
            mask,
        )
    };
}

/// Stores, adds or subtracts one 128-bit keystream block at `q`.
///
/// # Safety
/// `q` must be valid for reads and writes of 16 bytes.
#[inline]
#[target_feature(enable = "sse2")]
unsafe fn apply128<const OP: u8, const W64: bool>(q: *mut __m128i, ks: __m128i, maskv: __m128i) {
    let out = match OP {
        STORE => ks,
        _ => {
            // SAFETY: the caller guarantees 16 valid bytes at q; loadu is unaligned.
            let a = unsafe { _mm_loadu_si128(q) };
            let s = match (OP == SUB, W64) {
                (false, false) => _mm_add_epi32(a, ks),
                (false, true) => _mm_add_epi64(a, ks),
                (true, false) => _mm_sub_epi32(a, ks),
                (true, true) => _mm_sub_epi64(a, ks),
            };
            _mm_and_si128(s, maskv)
        }
    };
    // SAFETY: the caller guarantees 16 valid bytes at q; storeu is unaligned.
    unsafe { _mm_storeu_si128(q, out) };
}

/// `N` 512-bit registers (4N blocks) in flight with VAES + AVX-512F.
///
/// # Safety
/// `p` must be valid for reads and writes of `nblocks * 16` bytes, and the CPU must
/// support AES-NI, VAES and AVX-512F.
#[target_feature(enable = "aes,avx512f,vaes")]
unsafe fn blocks512<const N: usize, const OP: u8, const W64: bool>(
    rk: &RoundKeys,
    hi: u64,
    lo: u64,
    p: *mut u8,
    nblocks: usize,
    mask: u64,
) {
    let k1 = rk.xmm();
    let mut k = [_mm512_setzero_si512(); 11];
    for (d, s) in k.iter_mut().zip(k1) {
        *d = _mm512_broadcast_i32x4(s);
    }
    let maskv = if W64 {
        _mm512_set1_epi64(mask as i64)
    } else {
        _mm512_set1_epi32(mask as u32 as i32)
    };
    let (h, l) = (hi as i64, lo as i64);
    let mut ctr = _mm512_set_epi64(
        h,
        l.wrapping_add(3),
        h,
        l.wrapping_add(2),
        h,
        l.wrapping_add(1),
        h,
        l,
    );
    let four = _mm512_set_epi64(0, 4, 0, 4, 0, 4, 0, 4);
    let groups = nblocks / (4 * N);
    let singles = (nblocks % (4 * N)) / 4;
    let mut q = p.cast::<__m512i>();
    for _ in 0..groups {
        let mut x = [_mm512_setzero_si512(); N];
        for xi in x.iter_mut() {
            *xi = _mm512_xor_si512(ctr, k[0]);
            ctr = _mm512_add_epi64(ctr, four);
        }
        for key in &k[1..10] {
            for xi in x.iter_mut() {
                *xi = _mm512_aesenc_epi128(*xi, *key);
            }
        }
        for (i, xi) in x.iter().enumerate() {
            let ks = _mm512_aesenclast_epi128(*xi, k[10]);
            // SAFETY: this group's 4N blocks lie within the caller's valid range (we
            // process `groups * 4N <= nblocks` blocks here); loadu/storeu are unaligned.
            unsafe { apply512::<OP, W64>(q.add(i), ks, maskv) };
        }
        // SAFETY: stays within (or one past the end of) the caller's valid range.
        q = unsafe { q.add(N) };
    }
    for _ in 0..singles {
        let mut x = _mm512_xor_si512(ctr, k[0]);
        ctr = _mm512_add_epi64(ctr, four);
        for key in &k[1..10] {
            x = _mm512_aesenc_epi128(x, *key);
        }
        let ks = _mm512_aesenclast_epi128(x, k[10]);
        // SAFETY: 4 more blocks, still within `nblocks` (singles * 4 <= remainder).
        unsafe {
            apply512::<OP, W64>(q, ks, maskv);
            q = q.add(1);
        }
    }
    let done = groups * 4 * N + singles * 4;
    // SAFETY: the last `nblocks - done` (< 4) blocks start at byte 16 * done, within range;
    // the CPU supports AES-NI (checked by our caller).
    unsafe {
        blocks128::<OP, W64>(
            &k1,
            hi,
            lo.wrapping_add(done as u64),
            p.add(16 * done),
            nblocks - done,
            mask,
        )
    };
}

/// Stores, adds or subtracts one 512-bit keystream vector at `q`.
///
/// # Safety
/// `q` must be valid for reads and writes of 64 bytes; the CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn apply512<const OP: u8, const W64: bool>(q: *mut __m512i, ks: __m512i, maskv: __m512i) {
    let out = match OP {
        STORE => ks,
        _ => {
            // SAFETY: the caller guarantees 64 valid bytes at q; loadu is unaligned.
            let a = unsafe { _mm512_loadu_si512(q) };
            let s = match (OP == SUB, W64) {
                (false, false) => _mm512_add_epi32(a, ks),
                (false, true) => _mm512_add_epi64(a, ks),
                (true, false) => _mm512_sub_epi32(a, ks),
                (true, true) => _mm512_sub_epi64(a, ks),
            };
            _mm512_and_si512(s, maskv)
        }
    };
    // SAFETY: the caller guarantees 64 valid bytes at q; storeu is unaligned.
    unsafe { _mm512_storeu_si512(q, out) };
}

/// `N` 256-bit registers (2N blocks) in flight with VAES + AVX2.
///
/// # Safety
/// `p` must be valid for reads and writes of `nblocks * 16` bytes, and the CPU must
/// support AES-NI, VAES and AVX2.
#[target_feature(enable = "aes,avx2,vaes")]
unsafe fn blocks256<const N: usize, const OP: u8, const W64: bool>(
    rk: &RoundKeys,
    hi: u64,
    lo: u64,
    p: *mut u8,
    nblocks: usize,
    mask: u64,
) {
    let k1 = rk.xmm();
    let mut k = [_mm256_setzero_si256(); 11];
    for (d, s) in k.iter_mut().zip(k1) {
        *d = _mm256_broadcastsi128_si256(s);
    }
    let maskv = if W64 {
        _mm256_set1_epi64x(mask as i64)
    } else {
        _mm256_set1_epi32(mask as u32 as i32)
    };
    let (h, l) = (hi as i64, lo as i64);
    let mut ctr = _mm256_set_epi64x(h, l.wrapping_add(1), h, l);
    let two = _mm256_set_epi64x(0, 2, 0, 2);
    let groups = nblocks / (2 * N);
    let singles = (nblocks % (2 * N)) / 2;
    let mut q = p.cast::<__m256i>();
    for _ in 0..groups {
        let mut x = [_mm256_setzero_si256(); N];
        for xi in x.iter_mut() {
            *xi = _mm256_xor_si256(ctr, reload(&k[0]));
            ctr = _mm256_add_epi64(ctr, two);
        }
        for key in &k[1..10] {
            let key = reload(key);
            for xi in x.iter_mut() {
                *xi = _mm256_aesenc_epi128(*xi, key);
            }
        }
        let last = reload(&k[10]);
        for (i, xi) in x.iter().enumerate() {
            let ks = _mm256_aesenclast_epi128(*xi, last);
            // SAFETY: this group's 2N blocks lie within the caller's valid range (we
            // process `groups * 2N <= nblocks` blocks here); loadu/storeu are unaligned.
            unsafe { apply256::<OP, W64>(q.add(i), ks, maskv) };
        }
        // SAFETY: stays within (or one past the end of) the caller's valid range.
        q = unsafe { q.add(N) };
    }
    for _ in 0..singles {
        let mut x = _mm256_xor_si256(ctr, k[0]);
        ctr = _mm256_add_epi64(ctr, two);
        for key in &k[1..10] {
            x = _mm256_aesenc_epi128(x, *key);
        }
        let ks = _mm256_aesenclast_epi128(x, k[10]);
        // SAFETY: 2 more blocks, still within `nblocks` (singles * 2 <= remainder).
        unsafe {
            apply256::<OP, W64>(q, ks, maskv);
            q = q.add(1);
        }
    }
    let done = groups * 2 * N + singles * 2;
    // SAFETY: the last `nblocks - done` (< 2) blocks start at byte 16 * done, within range;
    // the CPU supports AES-NI (checked by our caller).
    unsafe {
        blocks128::<OP, W64>(
            &k1,
            hi,
            lo.wrapping_add(done as u64),
            p.add(16 * done),
            nblocks - done,
            mask,
        )
    };
}

/// Stores, adds or subtracts one 256-bit keystream vector at `q`.
///
/// # Safety
/// `q` must be valid for reads and writes of 32 bytes; the CPU must support AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn apply256<const OP: u8, const W64: bool>(q: *mut __m256i, ks: __m256i, maskv: __m256i) {
    let out = match OP {
        STORE => ks,
        _ => {
            // SAFETY: the caller guarantees 32 valid bytes at q; loadu is unaligned.
            let a = unsafe { _mm256_loadu_si256(q) };
            let s = match (OP == SUB, W64) {
                (false, false) => _mm256_add_epi32(a, ks),
                (false, true) => _mm256_add_epi64(a, ks),
                (true, false) => _mm256_sub_epi32(a, ks),
                (true, true) => _mm256_sub_epi64(a, ks),
            };
            _mm256_and_si256(s, maskv)
        }
    };
    // SAFETY: the caller guarantees 32 valid bytes at q; storeu is unaligned.
    unsafe { _mm256_storeu_si256(q, out) };
}

/// Registers in flight: 8 x 128-bit = 8 blocks (AES-NI);
/// 4 x 512-bit = 16 blocks; 8 x 256-bit = 16 blocks (on this
/// Sapphire Rapids-class Xeon 3..8 registers measured the same within noise; 16 blocks
/// cover the VAES latency x throughput of Zen 3 and Golden Cove).
const N512: usize = 4;
const N256: usize = 8;
const NNI: usize = 8;

/// Which kernel to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    /// AES-NI on 128-bit registers.
    V128,
    /// VAES + AVX2.
    V256,
    /// VAES + AVX-512F.
    V512,
}

impl Width {
    /// Whether this CPU runs the kernel.
    pub(crate) fn is_supported(self) -> bool {
        let base = std::is_x86_feature_detected!("aes")
            && std::is_x86_feature_detected!("vaes")
            && std::is_x86_feature_detected!("avx2");
        match self {
            Width::V128 => std::is_x86_feature_detected!("aes"),
            Width::V256 => base,
            Width::V512 => base && std::is_x86_feature_detected!("avx512f"),
        }
    }
}

/// A wide kernel this CPU supports: only [`Kernel::new`] makes one, after checking the
/// CPU features, which is what makes the safe methods below sound.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kernel(Width);

impl Kernel {
    /// The kernel of this width, if the CPU supports it.
    pub(crate) fn new(width: Width) -> Option<Kernel> {
        width.is_supported().then_some(Kernel(width))
    }

    /// # Safety
    /// `p` valid for reads and writes of `nblocks * 16` bytes.
    unsafe fn run<const OP: u8, const W64: bool>(
        self,
        rk: &RoundKeys,
        hi: u64,
        lo: u64,
        p: *mut u8,
        nblocks: usize,
        mask: u64,
    ) {
        // SAFETY: `p` as our caller guarantees; the CPU features were checked when this
        // `Kernel` was made.
        unsafe {
            match self.0 {
                Width::V128 => blocks_ni::<NNI, OP, W64>(rk, hi, lo, p, nblocks, mask),
                Width::V256 => blocks256::<N256, OP, W64>(rk, hi, lo, p, nblocks, mask),
                Width::V512 => blocks512::<N512, OP, W64>(rk, hi, lo, p, nblocks, mask),
            }
        }
    }

    /// `out[i] = B(hi, lo + i)`.
    pub(crate) fn fill(self, rk: &RoundKeys, hi: u64, lo: u64, out: &mut [[u8; 16]]) {
        // SAFETY: `out` is `out.len() * 16` writable (and initialised, so readable)
        // bytes.
        unsafe { self.run::<STORE, false>(rk, hi, lo, out.as_mut_ptr().cast(), out.len(), 0) };
    }

    /// `acc[j] = (acc[j] ± word(block0 * PER_BLOCK + j)) & mask` over the power-of-two
    /// stream.
    pub(crate) fn add_blocks<W: Word, const NEG: bool>(
        self,
        rk: &RoundKeys,
        block0: u64,
        acc: &mut [W],
        mask: W,
    ) {
        let whole = acc.len() / W::PER_BLOCK;
        let (body, tail) = acc.split_at_mut(whole * W::PER_BLOCK);
        let m = mask.to_u64();
        let p = body.as_mut_ptr().cast::<u8>();
        // SAFETY: `body` is exactly `whole * 16` initialised bytes (W is u32 or u64, no
        // padding, any bit pattern valid).
        unsafe {
            match (NEG, W::BYTES == 8) {
                (false, false) => self.run::<ADD, false>(rk, 0, block0, p, whole, m),
                (false, true) => self.run::<ADD, true>(rk, 0, block0, p, whole, m),
                (true, false) => self.run::<SUB, false>(rk, 0, block0, p, whole, m),
                (true, true) => self.run::<SUB, true>(rk, 0, block0, p, whole, m),
            }
        }
        if !tail.is_empty() {
            let mut ks = [[0u8; 16]];
            self.fill(rk, 0, block0.wrapping_add(whole as u64), &mut ks);
            let words = ks[0].chunks_exact(W::BYTES).map(W::from_le);
            for (a, k) in tail.iter_mut().zip(words) {
                *a = combine::<W, NEG>(*a, k, mask);
            }
        }
    }
}
