//! Batched X25519 (RFC 7748): many independent Montgomery ladders at once.
//!
//! On CPUs with AVX-512 IFMA, eight ladders run in the eight 64-bit lanes of 512-bit
//! vectors (`ifma`: radix 2^51, five limbs, `vpmadd52luq`/`vpmadd52huq`); elsewhere
//! each pair goes through x25519-dalek's serial ladder ([`Backend::Portable`]). All
//! backends give identical bytes (tests: `secagg/tests/x25519/`). The backend is
//! detected once and cached, as mask expansion's is.
//!
//! Every function here is the raw `X25519(k, u)` function: the scalar is clamped and
//! the u-coordinate decoded per RFC 7748 (bit 255 masked, values ≥ p reduced), the
//! output is the canonical 32-byte encoding. The contributory check (an all-zero
//! output is refused) is the caller's, [`crate::crypto::keys`]'s `agree_many` and
//! `agree_batch`.
//!
//! Constant time: no branch or memory index depends on a scalar, a point or an output
//! in any backend (docs/primitives.md, "Batched X25519", says how this was checked).
//! Partial batches are padded with public dummy lanes whose results are discarded.

#[cfg(target_arch = "x86_64")]
mod ifma;
mod portable;

use std::sync::OnceLock;

use zeroize::Zeroize;

use crate::error::{Error, Misuse, Result};
use crate::par::*;

/// Ladders per vector batch of the widest backend.
pub const LANES: usize = 8;

/// Batches of [`LANES`] pairs per parallel work item (the rayon pool gets one item
/// per `LANES * CHUNK_BATCHES` pairs).
const CHUNK_BATCHES: usize = 1;

/// An X25519 implementation. All give identical bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// x25519-dalek's serial ladder, one pair at a time (every CPU).
    Portable,
    /// Eight ladders in the lanes of AVX-512 IFMA (x86-64 with AVX-512F and IFMA).
    Ifma,
}

impl Backend {
    /// Every backend.
    pub const ALL: &'static [Backend] = &[Backend::Portable, Backend::Ifma];

    /// The backend's name, as printed by benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "x25519-dalek",
            Backend::Ifma => "ifma-8x",
        }
    }

    /// Whether this CPU can run the backend (detected at run time).
    pub fn is_supported(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Ifma => ifma::is_supported(),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Ifma => false,
        }
    }

    /// The backend the batch functions use on this CPU (detected once, then cached):
    /// [`Backend::Ifma`] where AVX-512 IFMA is present, else [`Backend::Portable`].
    pub fn detect() -> Backend {
        static DETECTED: OnceLock<Backend> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            if Backend::Ifma.is_supported() {
                Backend::Ifma
            } else {
                Backend::Portable
            }
        })
    }

    /// Pairs per batch: [`LANES`] for the vector backend, 1 for the serial one.
    pub fn lanes(self) -> usize {
        match self {
            Backend::Portable => 1,
            Backend::Ifma => LANES,
        }
    }
}

/// The backend [`x25519_many`] and [`x25519_pairs`] use on this CPU.
pub fn backend() -> Backend {
    Backend::detect()
}

/// `out[i] = X25519(scalar, points[i])`: one scalar against many u-coordinates (a
/// client's neighbours; a server recovering a dropped client's pairwise seeds), with
/// the fastest backend, in parallel over batches.
///
/// Fails with [`Misuse::VectorLengthMismatch`] if `out` and `points` differ in length.
pub fn x25519_many(scalar: &[u8; 32], points: &[[u8; 32]], out: &mut [[u8; 32]]) -> Result<()> {
    x25519_many_with(backend(), scalar, points, out)
}

/// [`x25519_many`] with a chosen backend; also fails with [`Misuse::UnsupportedBackend`]
/// if this CPU cannot run it.
pub fn x25519_many_with(
    backend: Backend,
    scalar: &[u8; 32],
    points: &[[u8; 32]],
    out: &mut [[u8; 32]],
) -> Result<()> {
    check(backend, points.len(), out.len())?;
    run(backend, out, |i| (scalar, &points[i]));
    Ok(())
}

/// `out[i] = X25519(pairs[i].0, pairs[i].1)`: independent (scalar, u-coordinate) pairs,
/// with the fastest backend, in parallel over batches.
///
/// Fails with [`Misuse::VectorLengthMismatch`] if `out` and `pairs` differ in length.
pub fn x25519_pairs(pairs: &[(&[u8; 32], &[u8; 32])], out: &mut [[u8; 32]]) -> Result<()> {
    x25519_pairs_with(backend(), pairs, out)
}

/// [`x25519_pairs`] with a chosen backend; also fails with
/// [`Misuse::UnsupportedBackend`] if this CPU cannot run it.
pub fn x25519_pairs_with(
    backend: Backend,
    pairs: &[(&[u8; 32], &[u8; 32])],
    out: &mut [[u8; 32]],
) -> Result<()> {
    check(backend, pairs.len(), out.len())?;
    run(backend, out, |i| pairs[i]);
    Ok(())
}

fn check(backend: Backend, inputs: usize, outputs: usize) -> Result<()> {
    if !backend.is_supported() {
        return Err(Error::Misuse(Misuse::UnsupportedBackend {
            name: backend.name(),
        }));
    }
    if inputs != outputs {
        return Err(Error::Misuse(Misuse::VectorLengthMismatch {
            expected: inputs,
            found: outputs,
        }));
    }
    Ok(())
}

/// Fills `out[i]` with `X25519(pair(i))`, batch by batch, batches in parallel.
fn run<'a, F>(backend: Backend, out: &mut [[u8; 32]], pair: F)
where
    F: Fn(usize) -> (&'a [u8; 32], &'a [u8; 32]) + Sync,
{
    let per = LANES * CHUNK_BATCHES;
    out.par_chunks_mut(per).enumerate().for_each(|(c, chunk)| {
        let base = c * per;
        match backend {
            Backend::Portable => {
                for (j, o) in chunk.iter_mut().enumerate() {
                    let (k, u) = pair(base + j);
                    *o = portable::x25519(k, u);
                }
            }
            Backend::Ifma => {
                for (b, lanes) in chunk.chunks_mut(LANES).enumerate() {
                    batch8(lanes, |j| pair(base + b * LANES + j));
                }
            }
        }
    });
}

/// One vector batch of up to [`LANES`] pairs; unused lanes compute a public dummy
/// (scalar 0, u = 9) that is discarded.
#[cfg(target_arch = "x86_64")]
fn batch8<'a>(out: &mut [[u8; 32]], pair: impl Fn(usize) -> (&'a [u8; 32], &'a [u8; 32])) {
    let mut k = [[0u8; 32]; LANES];
    let mut u = [[0u8; 32]; LANES];
    u.iter_mut().for_each(|p| p[0] = 9);
    for j in 0..out.len() {
        let (kj, uj) = pair(j);
        k[j] = *kj;
        u[j] = *uj;
    }
    let mut r = [[0u8; 32]; LANES];
    // SAFETY: `run` is only reached for `Backend::Ifma` after `check` confirmed
    // `Backend::Ifma.is_supported()`, i.e. this CPU has AVX-512F and AVX-512 IFMA,
    // the features `x25519x8` is compiled for.
    unsafe { ifma::x25519x8(&k, &u, &mut r) };
    out.copy_from_slice(&r[..out.len()]);
    k.zeroize();
    r.zeroize();
    crate::crypto::scrub_stack();
}

#[cfg(not(target_arch = "x86_64"))]
fn batch8<'a>(out: &mut [[u8; 32]], pair: impl Fn(usize) -> (&'a [u8; 32], &'a [u8; 32])) {
    // Unreachable: `Backend::Ifma.is_supported()` is false off x86-64.
    for (j, o) in out.iter_mut().enumerate() {
        let (k, u) = pair(j);
        *o = portable::x25519(k, u);
    }
}

// ---- RFC 7748 encodings shared by the vector backends ------------------------------

const MASK51: u64 = (1 << 51) - 1;

/// The clamped scalar (RFC 7748 §5: clear bits 0, 1, 2 and 255, set bit 254).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn clamp(k: &[u8; 32]) -> [u8; 32] {
    let mut s = *k;
    s[0] &= 248;
    s[31] &= 127;
    s[31] |= 64;
    s
}

/// Little-endian 64-bit words of 32 bytes.
fn words(b: &[u8; 32]) -> [u64; 4] {
    core::array::from_fn(|w| {
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[8 * w..8 * w + 8]);
        u64::from_le_bytes(x)
    })
}

/// A u-coordinate's five radix-2^51 limbs (RFC 7748 §5: bit 255 masked; a value in
/// p..2^255 is kept as is, a valid unreduced representative, and reduced by the
/// arithmetic).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn decode_u(b: &[u8; 32]) -> [u64; 5] {
    let [w0, w1, w2, w3] = words(b);
    let w3 = w3 & (u64::MAX >> 1);
    [
        w0 & MASK51,
        ((w0 >> 51) | (w1 << 13)) & MASK51,
        ((w1 >> 38) | (w2 << 26)) & MASK51,
        ((w2 >> 25) | (w3 << 39)) & MASK51,
        w3 >> 12,
    ]
}

/// The canonical encoding of a field element given as five limbs < 2^52, in constant
/// time (carries and a masked subtraction of p, no branch).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn encode(limbs: &[u64; 5]) -> [u8; 32] {
    let mut h = *limbs;
    // Two carry passes: limbs < 2^51 and a value below 2^255 + 19 < 2p.
    for _ in 0..2 {
        for i in 0..4 {
            h[i + 1] += h[i] >> 51;
            h[i] &= MASK51;
        }
        h[0] += 19 * (h[4] >> 51);
        h[4] &= MASK51;
    }
    // q = 1 exactly when h ≥ p (the carry out of h + 19 past bit 255).
    let mut q = (h[0] + 19) >> 51;
    for x in &h[1..] {
        q = (x + q) >> 51;
    }
    // h − q p = h + 19 q − q 2^255.
    h[0] += 19 * q;
    for i in 0..4 {
        h[i + 1] += h[i] >> 51;
        h[i] &= MASK51;
    }
    h[4] &= MASK51;
    let w = [
        h[0] | (h[1] << 51),
        (h[1] >> 13) | (h[2] << 38),
        (h[2] >> 26) | (h[3] << 25),
        (h[3] >> 39) | (h[4] << 12),
    ];
    let mut out = [0u8; 32];
    for (o, x) in out.chunks_exact_mut(8).zip(w) {
        o.copy_from_slice(&x.to_le_bytes());
    }
    h.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_encode_round_trip_and_reduction() {
        // Canonical values round-trip; bit 255 is dropped; p + 3 encodes as 3.
        let mut x = [0u8; 32];
        for (i, b) in x.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        x[31] &= 0x3f;
        assert_eq!(encode(&decode_u(&x)), x);
        let mut hi = x;
        hi[31] |= 0x80;
        assert_eq!(encode(&decode_u(&hi)), x);
        let mut p3 = [0xffu8; 32];
        p3[0] = 0xed + 3;
        p3[31] = 0x7f;
        let mut three = [0u8; 32];
        three[0] = 3;
        assert_eq!(encode(&decode_u(&p3)), three);
        // 2^255 − 1 = p + 18.
        let mut top = [0xffu8; 32];
        top[31] = 0x7f;
        let mut e18 = [0u8; 32];
        e18[0] = 18;
        assert_eq!(encode(&decode_u(&top)), e18);
    }

    #[test]
    fn encode_reduces_limbs_up_to_2_52() {
        // All limbs 2^52 − 1: value = Σ (2^52 − 1) 2^(51 i); compare with big-integer
        // arithmetic done in u128 pieces by dalek's field (via x25519 identity).
        let limbs = [(1u64 << 52) - 1; 5];
        let got = encode(&limbs);
        // Independent: (2^52 − 1) Σ 2^(51 i) = (2^52 − 1)(2^255 − 1)/(2^51 − 1) mod p,
        // computed here by repeated canonical additions of single limbs.
        let mut acc = [0u8; 32];
        for i in 0..5 {
            let mut one = [0u64; 5];
            one[i] = (1u64 << 52) - 1;
            acc = add_mod_p(&acc, &encode(&one));
        }
        assert_eq!(got, acc);
    }

    /// (a + b) mod p on canonical encodings, byte-serial (an independent model).
    fn add_mod_p(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        let mut s = [0u16; 33];
        let mut carry = 0u16;
        for i in 0..32 {
            let t = u16::from(a[i]) + u16::from(b[i]) + carry;
            s[i] = t & 0xff;
            carry = t >> 8;
        }
        s[32] = carry;
        // p = 2^255 − 19; subtract p if s ≥ p.
        let p: [u16; 33] = core::array::from_fn(|i| match i {
            0 => 0xed,
            31 => 0x7f,
            32 => 0,
            _ => 0xff,
        });
        let ge = (0..33).rev().find(|&i| s[i] != p[i]).is_none_or(|i| s[i] > p[i]);
        if ge {
            let mut borrow = 0i32;
            for i in 0..33 {
                let t = i32::from(s[i]) - i32::from(p[i]) - borrow;
                borrow = i32::from(t < 0);
                s[i] = (t + 256 * borrow) as u16;
            }
        }
        core::array::from_fn(|i| s[i] as u8)
    }
}
