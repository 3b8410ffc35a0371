//! Eight X25519 Montgomery ladders at once in the lanes of AVX-512 IFMA.
//!
//! A field element of GF(2^255 − 19) is five limbs in radix 2^51; limb `i` of the eight
//! ladders sits in one 512-bit vector (`Fe([__m512i; 5])`, lane `l` = ladder `l`). The
//! multiplier is `vpmadd52luq`/`vpmadd52huq` (`_mm512_madd52lo_epu64`,
//! `_mm512_madd52hi_epu64`), which multiply the low 52 bits of each lane: every input
//! limb must be below 2^52, and radix 2^51 leaves the one bit of headroom that lets a
//! reduced element's limbs (< 2^51 + 2^18 after a carry pass) feed the multiplier.
//! Products land in ten columns of weight 2^(51 m); the high halves of the 104-bit
//! partial products have weight 2^(51 (i + j) + 52), i.e. twice column i + j + 1, and
//! columns 5..9 fold back times 19 (2^255 ≡ 19).
//!
//! Bounds (every lane, every input): reduced limbs < 2^52; a column sums at most five
//! low halves and ten (doubled) high halves, each < 2^52, so < 15 · 2^52 < 2^56; a
//! column plus 19 times its partner is < 20 · 2^56 < 2^61; a carry pass on limbs
//! < 2^63 leaves limbs < 2^51 + 2^12 (limb 0: < 2^51 + 19 · 2^12 < 2^52).
//!
//! Constant time: the ladder's only data-dependent operation is the conditional swap,
//! done with an all-ones/all-zeros mask per lane (`and`/`xor`); the loop runs 255
//! times whatever the scalars, reads scalar word `t / 64` for public `t`, and has no
//! branch on secret data. The inversion is a fixed addition chain. The final
//! canonical reduction (scalar code per lane) uses arithmetic masks only.

use core::arch::x86_64::*;

use zeroize::Zeroize;

use super::LANES;

const MASK51: u64 = (1 << 51) - 1;

/// Eight field elements, limb-major: `self.0[i]` holds limb `i` of every lane.
#[derive(Clone, Copy)]
struct Fe([__m512i; 5]);

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn splat(x: u64) -> __m512i {
    _mm512_set1_epi64(x as i64)
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn lo(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
    _mm512_madd52lo_epu64(acc, a, b)
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn hi(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
    _mm512_madd52hi_epu64(acc, a, b)
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn add64(a: __m512i, b: __m512i) -> __m512i {
    _mm512_add_epi64(a, b)
}

/// `19 · c` for lanes below 2^59 (shifts and adds: `16c + 2c + c`).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn times19(c: __m512i) -> __m512i {
    add64(
        add64(_mm512_slli_epi64::<4>(c), _mm512_slli_epi64::<1>(c)),
        c,
    )
}

impl Fe {
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn zero() -> Fe {
        Fe([_mm512_setzero_si512(); 5])
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn splat(limbs: [u64; 5]) -> Fe {
        Fe(limbs.map(|x| splat(x)))
    }

    /// Loads limb-major lane arrays.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn load(limbs: &[[u64; LANES]; 5]) -> Fe {
        // SAFETY: each `limbs[i]` is 64 readable bytes; loadu has no alignment need.
        Fe(core::array::from_fn(|i| unsafe {
            _mm512_loadu_si512(limbs[i].as_ptr().cast())
        }))
    }

    /// Stores limb-major lane arrays.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn store(&self, limbs: &mut [[u64; LANES]; 5]) {
        for (dst, v) in limbs.iter_mut().zip(self.0) {
            // SAFETY: `dst` is 64 writable bytes; storeu has no alignment need.
            unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), v) };
        }
    }

    /// One parallel carry pass on limbs < 2^63: limbs < 2^51 + 2^12, limb 0
    /// < 2^51 + 19 · 2^12.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn carry(x: [__m512i; 5]) -> Fe {
        let m = splat(MASK51);
        let c = x.map(|v| _mm512_srli_epi64::<51>(v));
        let r19 = splat(19);
        Fe([
            // c[4] < 2^13: the low half of 19 · c[4] is all of it.
            lo(_mm512_and_si512(x[0], m), c[4], r19),
            add64(_mm512_and_si512(x[1], m), c[0]),
            add64(_mm512_and_si512(x[2], m), c[1]),
            add64(_mm512_and_si512(x[3], m), c[2]),
            add64(_mm512_and_si512(x[4], m), c[3]),
        ])
    }

    /// `a + b`, carried.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn add(&self, b: &Fe) -> Fe {
        Fe::carry(core::array::from_fn(|i| add64(self.0[i], b.0[i])))
    }

    /// `a − b + 4p`, carried (4p's limbs exceed every reduced limb, so no lane goes
    /// negative).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn sub(&self, b: &Fe) -> Fe {
        const P4_0: u64 = 4 * ((1 << 51) - 19);
        const P4_I: u64 = 4 * ((1 << 51) - 1);
        let k = [P4_0, P4_I, P4_I, P4_I, P4_I];
        Fe::carry(core::array::from_fn(|i| {
            _mm512_sub_epi64(add64(self.0[i], splat(k[i])), b.0[i])
        }))
    }

    /// Folds the ten product columns (each < 2^56) to five limbs and carries.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn fold(c: [__m512i; 10]) -> Fe {
        Fe::carry(core::array::from_fn(|i| add64(c[i], times19(c[i + 5]))))
    }

    /// `a · b`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul(&self, b: &Fe) -> Fe {
        let (a, b) = (&self.0, &b.0);
        let z = _mm512_setzero_si512();
        // l[k]: low halves of a_i b_j, i + j = k; h[k]: high halves (weight 2 · col k+1).
        let mut l = [z; 9];
        let mut h = [z; 9];
        for i in 0..5 {
            for j in 0..5 {
                l[i + j] = lo(l[i + j], a[i], b[j]);
                h[i + j] = hi(h[i + j], a[i], b[j]);
            }
        }
        let mut c = [z; 10];
        c[0] = l[0];
        for m in 1..9 {
            c[m] = add64(l[m], add64(h[m - 1], h[m - 1]));
        }
        c[9] = add64(h[8], h[8]);
        Fe::fold(c)
    }

    /// `a²` (the cross products once, doubled).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn square(&self) -> Fe {
        let a = &self.0;
        let z = _mm512_setzero_si512();
        // Off-diagonal (i < j) low / high halves, diagonal low / high halves.
        let mut lo_o = [z; 9];
        let mut hi_o = [z; 9];
        let mut lo_d = [z; 9];
        let mut hi_d = [z; 9];
        for i in 0..5 {
            lo_d[2 * i] = lo(z, a[i], a[i]);
            hi_d[2 * i] = hi(z, a[i], a[i]);
            for j in i + 1..5 {
                lo_o[i + j] = lo(lo_o[i + j], a[i], a[j]);
                hi_o[i + j] = hi(hi_o[i + j], a[i], a[j]);
            }
        }
        // Column m: lo_d[m] + 2 lo_o[m] + 2 hi_d[m-1] + 4 hi_o[m-1].
        let mut c = [z; 10];
        for m in 0..10 {
            let mut t = if m < 9 { lo_o[m] } else { z };
            if m > 0 {
                t = add64(t, add64(hi_d[m - 1], _mm512_slli_epi64::<1>(hi_o[m - 1])));
            }
            let d = if m < 9 { lo_d[m] } else { z };
            c[m] = add64(d, _mm512_slli_epi64::<1>(t));
        }
        Fe::fold(c)
    }

    /// `a · k` for a constant `k` < 2^17.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul_small(&self, k: u64) -> Fe {
        let kv = splat(k);
        let z = _mm512_setzero_si512();
        let l = self.0.map(|x| lo(z, x, kv));
        let h = self.0.map(|x| hi(z, x, kv));
        // h[i] < 2^17 has weight 2 · column i + 1; column 5 folds back times 19.
        let h2 = h.map(|x| add64(x, x));
        Fe::carry([
            add64(l[0], times19(h2[4])),
            add64(l[1], h2[0]),
            add64(l[2], h2[1]),
            add64(l[3], h2[2]),
            add64(l[4], h2[3]),
        ])
    }

    /// `a^(2^n)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn square_n(&self, n: usize) -> Fe {
        let mut x = *self;
        for _ in 0..n {
            x = x.square();
        }
        x
    }

    /// `a^(p − 2)` = `1 / a` (0 for 0), by the usual chain: 254 squarings, 11
    /// multiplications, the same for every input.
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn invert(&self) -> Fe {
        let z1 = *self;
        let z2 = z1.square();
        let z9 = z2.square_n(2).mul(&z1);
        let z11 = z9.mul(&z2);
        let z_5_0 = z11.square().mul(&z9);
        let z_10_0 = z_5_0.square_n(5).mul(&z_5_0);
        let z_20_0 = z_10_0.square_n(10).mul(&z_10_0);
        let z_40_0 = z_20_0.square_n(20).mul(&z_20_0);
        let z_50_0 = z_40_0.square_n(10).mul(&z_10_0);
        let z_100_0 = z_50_0.square_n(50).mul(&z_50_0);
        let z_200_0 = z_100_0.square_n(100).mul(&z_100_0);
        let z_250_0 = z_200_0.square_n(50).mul(&z_50_0);
        z_250_0.square_n(5).mul(&z11)
    }
}

/// Swaps `a` and `b` in the lanes where `mask` is all ones (all zeros: keeps them).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn cswap(mask: __m512i, a: &mut Fe, b: &mut Fe) {
    for i in 0..5 {
        let d = _mm512_and_si512(_mm512_xor_si512(a.0[i], b.0[i]), mask);
        a.0[i] = _mm512_xor_si512(a.0[i], d);
        b.0[i] = _mm512_xor_si512(b.0[i], d);
    }
}

/// Clears a vector register's worth of state (best effort: the caller scrubs the stack).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn wipe(fe: &mut Fe) {
    for v in fe.0.iter_mut() {
        // SAFETY: `v` is a valid, aligned `__m512i`; a volatile write is not elided.
        unsafe { core::ptr::write_volatile(v, _mm512_setzero_si512()) };
    }
}

/// The RFC 7748 ladder on eight lanes: `x2 / z2` of `[k_l] u_l` in every lane `l`.
///
/// `k` are the clamped scalars as four little-endian 64-bit words, word-major (`k[w][l]`);
/// `u` the decoded u-coordinates, limb-major. Returns the affine u-coordinates,
/// limb-major, limbs < 2^52 (not yet canonical).
#[target_feature(enable = "avx512f,avx512ifma")]
fn ladder(k: &[[u64; LANES]; 4], u: &[[u64; LANES]; 5], out: &mut [[u64; LANES]; 5]) {
    // SAFETY: each `k[w]` is 64 readable bytes; loadu has no alignment need.
    let mut words: [__m512i; 4] =
        core::array::from_fn(|w| unsafe { _mm512_loadu_si512(k[w].as_ptr().cast()) });
    let x1 = Fe::load(u);
    let mut x2 = Fe::splat([1, 0, 0, 0, 0]);
    let mut z2 = Fe::zero();
    let mut x3 = x1;
    let mut z3 = Fe::splat([1, 0, 0, 0, 0]);
    let one = splat(1);
    let mut swap = _mm512_setzero_si512();
    for t in (0..255usize).rev() {
        // Bit t of every lane's scalar (t, hence the word read, is public).
        let shift = _mm_cvtsi64_si128((t % 64) as i64);
        let bit = _mm512_and_si512(_mm512_srl_epi64(words[t / 64], shift), one);
        swap = _mm512_xor_si512(swap, bit);
        let mask = _mm512_sub_epi64(_mm512_setzero_si512(), swap);
        cswap(mask, &mut x2, &mut x3);
        cswap(mask, &mut z2, &mut z3);
        swap = bit;

        let a = x2.add(&z2);
        let b = x2.sub(&z2);
        let c = x3.add(&z3);
        let d = x3.sub(&z3);
        let aa = a.square();
        let bb = b.square();
        let da = d.mul(&a);
        let cb = c.mul(&b);
        let e = aa.sub(&bb);
        x3 = da.add(&cb).square();
        z3 = x1.mul(&da.sub(&cb).square());
        x2 = aa.mul(&bb);
        z2 = e.mul(&aa.add(&e.mul_small(121_665)));
    }
    let mask = _mm512_sub_epi64(_mm512_setzero_si512(), swap);
    cswap(mask, &mut x2, &mut x3);
    cswap(mask, &mut z2, &mut z3);
    let mut r = x2.mul(&z2.invert());
    r.store(out);
    for w in words.iter_mut() {
        // SAFETY: `w` is a valid, aligned `__m512i`; a volatile write is not elided.
        unsafe { core::ptr::write_volatile(w, _mm512_setzero_si512()) };
    }
    for fe in [&mut x2, &mut z2, &mut x3, &mut z3, &mut r] {
        wipe(fe);
    }
}

/// Whether this CPU runs the kernel (AVX-512F and IFMA; detected at run time).
pub(super) fn is_supported() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}

/// `X25519(k_l, u_l)` for the eight lanes: scalars clamped and u-coordinates decoded
/// per RFC 7748 here, canonical 32-byte outputs.
///
/// A `#[target_feature]` function: callers outside such a context call it in an
/// `unsafe` block after [`is_supported`].
#[target_feature(enable = "avx512f,avx512ifma")]
pub(super) fn x25519x8(
    scalars: &[[u8; 32]; LANES],
    points: &[[u8; 32]; LANES],
    out: &mut [[u8; 32]; LANES],
) {
    let mut k = [[0u64; LANES]; 4];
    let mut u = [[0u64; LANES]; 5];
    let mut r = [[0u64; LANES]; 5];
    for l in 0..LANES {
        let mut s = super::clamp(&scalars[l]);
        for (w, kw) in k.iter_mut().enumerate() {
            kw[l] = word(&s, w);
        }
        s.zeroize();
        let limbs = super::decode_u(&points[l]);
        for (ui, x) in u.iter_mut().zip(limbs) {
            ui[l] = x;
        }
    }
    ladder(&k, &u, &mut r);
    for l in 0..LANES {
        let mut limbs = [r[0][l], r[1][l], r[2][l], r[3][l], r[4][l]];
        out[l] = super::encode(&limbs);
        limbs.zeroize();
    }
    k.zeroize();
    r.zeroize();
}

/// Little-endian 64-bit word `w` of 32 bytes.
fn word(s: &[u8; 32], w: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[8 * w..8 * w + 8]);
    let v = u64::from_le_bytes(b);
    b.zeroize();
    v
}
