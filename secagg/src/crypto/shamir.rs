//! Shamir secret sharing over the prime field of curve25519-dalek's [`Scalar`]
//! (ℓ = 2^252 + 27742317777372353535851937790883648493).
//!
//! A secret `s` with threshold `t` becomes the polynomial
//! `f(x) = s + a_1 x + … + a_{t-1} x^{t-1}` with uniformly random coefficients (held in
//! [`Zeroizing`]); the share of client `id` is `(x, f(x))` at `x = id + 1`, never 0.
//! Any `t` shares reconstruct `s = f(0)` by Lagrange interpolation at 0 (denominators
//! batch-inverted); `t - 1` shares reveal nothing. All field arithmetic is
//! curve25519-dalek's constant-time arithmetic.

use core::fmt;

use curve25519_dalek::scalar::Scalar;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::rng::CryptoRng;
use crate::par::*;
use crate::error::{EncodingError, Error, Misuse, PeerMisbehaved, Result, ThresholdError};
use crate::ids::ClientId;

/// Length of an encoded scalar.
pub const SCALAR_LEN: usize = 32;

/// The Shamir evaluation point of client `id`: `id + 1`.
pub const fn eval_point(id: ClientId) -> u64 {
    id as u64 + 1
}

/// The largest evaluation point, [`eval_point`]`(ClientId::MAX)` = 2^32. Points run
/// over `1..=MAX_POINT`; anything else is rejected.
pub const MAX_POINT: u64 = eval_point(ClientId::MAX);

/// Rejects a point outside `1..=MAX_POINT`.
fn check_point(x: u64) -> Result<()> {
    if x == 0 {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex));
    }
    if x > MAX_POINT {
        return Err(Error::PeerMisbehaved(
            PeerMisbehaved::ShareIndexOutOfRange { x },
        ));
    }
    Ok(())
}

/// A secret field element (a masking secret key or a self-mask seed). Not `Copy`;
/// wiped on drop; compared in constant time; `Debug` prints nothing secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretScalar(Scalar);

impl SecretScalar {
    /// A uniformly random field element.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(Scalar::random(rng))
    }

    /// Parses a canonical little-endian encoding (< ℓ).
    pub fn from_canonical_bytes(bytes: &[u8; SCALAR_LEN]) -> Result<Self> {
        Option::<Scalar>::from(Scalar::from_canonical_bytes(*bytes))
            .map(Self)
            .ok_or(Error::Encoding(EncodingError::NonCanonicalScalar))
    }

    /// The canonical little-endian encoding, wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; SCALAR_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }
}

impl ConstantTimeEq for SecretScalar {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretScalar").finish_non_exhaustive()
    }
}

/// One share: the evaluation point `x` (public) and the value `f(x)` (secret).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Share {
    x: u64,
    y: Scalar,
}

impl Share {
    /// Builds a share from its point and the canonical encoding of its value.
    /// Rejects `x = 0` ([`PeerMisbehaved::ZeroShareIndex`]), `x > MAX_POINT`
    /// ([`PeerMisbehaved::ShareIndexOutOfRange`]) and non-canonical values
    /// ([`EncodingError::NonCanonicalScalar`]).
    pub fn from_bytes(x: u64, y: &[u8; SCALAR_LEN]) -> Result<Self> {
        check_point(x)?;
        let y = Option::<Scalar>::from(Scalar::from_canonical_bytes(*y))
            .ok_or(Error::Encoding(EncodingError::NonCanonicalScalar))?;
        Ok(Self { x, y })
    }

    /// A share at the invalid point 0 with value 0: a slot for [`Share::assign`]
    /// (`LagrangeAtZero::combine` refuses it if it was never overwritten).
    pub(crate) fn placeholder() -> Self {
        Self {
            x: 0,
            y: Scalar::ZERO,
        }
    }

    /// Overwrites this share with `other` in place: no temporary copy (as `clone_from`
    /// through a clone would leave one).
    pub(crate) fn assign(&mut self, other: &Share) {
        self.x = other.x;
        self.y = other.y;
    }

    /// The evaluation point.
    pub fn x(&self) -> u64 {
        self.x
    }

    /// The canonical encoding of the value, wiped when dropped.
    pub fn y_bytes(&self) -> Zeroizing<[u8; SCALAR_LEN]> {
        Zeroizing::new(self.y.to_bytes())
    }
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("x", &self.x)
            .finish_non_exhaustive()
    }
}

fn check_threshold(threshold: usize, parties: usize) -> Result<()> {
    if threshold == 0 || threshold > parties {
        return Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold,
            parties,
        }));
    }
    Ok(())
}

/// Rejects points outside `1..=MAX_POINT` and repeated points. O(k log k).
fn check_points(xs: impl Iterator<Item = u64>) -> Result<()> {
    let mut sorted: Vec<u64> = xs.collect();
    for &x in &sorted {
        check_point(x)?;
    }
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
            x: w[0],
        }));
    }
    Ok(())
}

/// Splits `secret` into one share per point in `xs` (use [`eval_point`]), any
/// `threshold` of which reconstruct it.
///
/// Fails with [`Misuse::InvalidThreshold`] unless `1 <= threshold <= xs.len()`, and
/// with [`PeerMisbehaved::ZeroShareIndex`], [`PeerMisbehaved::ShareIndexOutOfRange`] or
/// [`PeerMisbehaved::DuplicateShareIndex`] for a bad point.
pub fn split<R: CryptoRng + ?Sized>(
    secret: &SecretScalar,
    threshold: usize,
    xs: &[u64],
    rng: &mut R,
) -> Result<Vec<Share>> {
    check_threshold(threshold, xs.len())?;
    check_points(xs.iter().copied())?;
    let mut coeffs: Zeroizing<Vec<Scalar>> = Zeroizing::new(Vec::with_capacity(threshold));
    coeffs.push(secret.0);
    for _ in 1..threshold {
        coeffs.push(Scalar::random(rng));
    }
    Ok(xs
        .iter()
        .map(|&x| {
            let xs = Scalar::from(x);
            // Horner: f(x) = (…(a_{t-1} x + a_{t-2}) x + …) x + a_0.
            let mut y = Scalar::ZERO;
            for c in coeffs.iter().rev() {
                y = y * xs + c;
            }
            Share { x, y }
        })
        .collect())
}

/// Lagrange coefficients at 0 for a fixed set of points, reusable for many secrets
/// shared at the same points (the server reconstructs one secret per client, often
/// from the same set of survivors).
#[derive(Clone, Debug)]
pub struct LagrangeAtZero {
    xs: Vec<u64>,
    /// The coefficients as four little-endian 64-bit limbs, each below ℓ (canonical):
    /// what [`LagrangeAtZero::combine`] multiplies by, without a conversion per use.
    coeffs: Vec<vartime::Limbs>,
}

impl LagrangeAtZero {
    /// Coefficients `λ_i = Π_{j≠i} x_j / (x_j − x_i)` for the distinct non-zero `xs`.
    ///
    /// Fails with [`ThresholdError::NotEnoughShares`] for no points, and with
    /// [`PeerMisbehaved::ZeroShareIndex`], [`PeerMisbehaved::ShareIndexOutOfRange`] or
    /// [`PeerMisbehaved::DuplicateShareIndex`] for a bad point.
    pub fn new(xs: &[u64]) -> Result<Self> {
        check_threshold(1.max(xs.len()), xs.len())
            .map_err(|_| Error::Threshold(ThresholdError::NotEnoughShares { needed: 1, got: 0 }))?;
        check_points(xs.iter().copied())?;
        let pts: Vec<Scalar> = xs.iter().map(|&x| Scalar::from(x)).collect();
        let mut nums = Vec::with_capacity(pts.len());
        let mut dens = Vec::with_capacity(pts.len());
        for (i, xi) in pts.iter().enumerate() {
            let mut num = Scalar::ONE;
            let mut den = Scalar::ONE;
            for (j, xj) in pts.iter().enumerate() {
                if i != j {
                    num *= xj;
                    den *= xj - xi;
                }
            }
            nums.push(num);
            dens.push(den);
        }
        // Points are distinct and non-zero, so no denominator is zero.
        Scalar::invert_batch_alloc(&mut dens);
        let coeffs = nums
            .iter()
            .zip(&dens)
            .map(|(n, d)| vartime::from_bytes(&(n * d).to_bytes()))
            .collect();
        Ok(Self {
            xs: xs.to_vec(),
            coeffs,
        })
    }

    /// The coefficients of many point sets at once: element `i` is what
    /// [`LagrangeAtZero::new`]`(sets[i])` gives, and the error is the one `new` gives
    /// for the first set (in order) that it rejects.
    ///
    /// Faster than `new` per set by about an order of magnitude at t ≈ 30: the points
    /// are integers below 2^33, so `λ_i = N / (x_i Π_{j≠i} (x_j − x_i))` with
    /// `N = Π_j x_j` is formed from exact integer products of several factors per
    /// 128-bit word (one field multiplication per full word, the sign of the
    /// differences counted apart), and all sets' denominators of a chunk are inverted
    /// together (Montgomery's trick: one field inversion per chunk). Chunks of sets run
    /// in parallel with the `parallel` feature. Variable time: the coefficients depend
    /// only on the (public) points.
    pub fn batch<S: AsRef<[u64]> + Sync>(sets: &[S]) -> Result<Vec<Self>> {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        // Chunks of at most `BATCH_SETS` sets: each costs one inversion (about 250
        // multiplications, against a chunk's tens of thousands), and its scratch (the
        // denominators and their prefix products, 64 bytes a point) stays in the core's
        // cache instead of coming from fresh pages (at 10^4 sets in 8 chunks the
        // scratch was 1.5 MB a chunk: page faults, then an unmap per chunk). A few
        // chunks per thread at least, for balance on a loaded machine.
        const BATCH_SETS: usize = 64;
        let per = sets
            .len()
            .div_ceil(4 * crate::par::current_num_threads())
            .clamp(1, BATCH_SETS);
        let parts: Vec<Result<Vec<Self>>> = sets.par_chunks(per).map(batch_chunk).collect();
        let mut out = Vec::with_capacity(sets.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// The points these coefficients are for.
    pub fn points(&self) -> &[u64] {
        &self.xs
    }

    /// `Σ λ_i y_i` for shares given in the same order as the points.
    ///
    /// Fails with [`Misuse::ShareCountMismatch`] if the number of shares differs from
    /// the number of points, and with [`Misuse::SharePointMismatch`] if a share's point
    /// differs from the point at its position.
    pub fn combine(&self, shares: &[&Share]) -> Result<SecretScalar> {
        if shares.len() != self.xs.len() {
            return Err(Error::Misuse(Misuse::ShareCountMismatch {
                expected: self.xs.len(),
                found: shares.len(),
            }));
        }
        if let Some((share, &x)) = shares.iter().zip(&self.xs).find(|(s, &x)| s.x != x) {
            return Err(Error::Misuse(Misuse::SharePointMismatch {
                expected: x,
                found: share.x,
            }));
        }
        // Σ c_i·y_i with one reduction per 8 terms: the 512-bit products are summed
        // exactly (each is below 2^506, 8 of them below 2^512), then reduced mod ℓ
        // (`from_bytes_mod_order_wide`), instead of a Montgomery round trip per product.
        // Constant time in the share values; every intermediate is wiped.
        let mut acc = SecretScalar(Scalar::ZERO);
        let mut wide = Zeroizing::new([0u64; 8]);
        let mut y = Zeroizing::new([0u64; 4]);
        let mut bytes = Zeroizing::new([0u8; 64]);
        for (group, coeffs) in shares.chunks(8).zip(self.coeffs.chunks(8)) {
            wide.fill(0);
            for (share, c) in group.iter().zip(coeffs) {
                limbs_into(share.y.as_bytes(), &mut y);
                mul_add_wide(&y, c, &mut wide);
            }
            for (chunk, limb) in bytes.chunks_exact_mut(8).zip(wide.iter()) {
                chunk.copy_from_slice(&limb.to_le_bytes());
            }
            acc.0 += Scalar::from_bytes_mod_order_wide(&bytes);
        }
        Ok(acc)
    }
}

/// The four little-endian 64-bit limbs of a 32-byte little-endian value.
fn limbs_into(bytes: &[u8; 32], out: &mut [u64; 4]) {
    for (limb, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(w);
        w.zeroize();
    }
}

/// `acc += a · b` on 512 bits (schoolbook, fixed sequence of operations; the caller
/// keeps the sum below 2^512).
fn mul_add_wide(a: &[u64; 4], b: &[u64; 4], acc: &mut [u64; 8]) {
    for (i, &ai) in a.iter().enumerate() {
        let mut carry: u128 = 0;
        for (j, &bj) in b.iter().enumerate() {
            let t = u128::from(acc[i + j]) + u128::from(ai) * u128::from(bj) + carry;
            acc[i + j] = t as u64;
            carry = t >> 64;
        }
        for limb in acc.iter_mut().skip(i + 4) {
            let t = u128::from(*limb) + carry;
            *limb = t as u64;
            carry = t >> 64;
        }
    }
}

/// Variable-time arithmetic mod ℓ on four 64-bit limbs (little-endian), for the
/// public Lagrange coefficients only: Montgomery multiplication (CIOS) by a 128-bit
/// word or by a full element, about a third of the cost of a `Scalar` product (which
/// converts in and out of Montgomery form each time). Every value is kept below ℓ.
mod vartime {
    /// ℓ.
    pub(super) const L: [u64; 4] = [0x5812_631a_5cf5_d3ed, 0x14de_f9de_a2f7_9cd6, 0, 1 << 60];
    /// −ℓ⁻¹ mod 2^64.
    const L_NEG_INV: u64 = 0xd2b5_1da3_1254_7e1b;
    /// 2^512 mod ℓ.
    pub(super) const R2: [u64; 4] = [
        0xa406_11e3_449c_0f01,
        0xd00e_1ba7_6885_9347,
        0xceec_73d2_17f5_be65,
        0x0399_411b_7c30_9a3d,
    ];

    pub(super) type Limbs = [u64; 4];

    /// `a · b · 2^(−64 D) mod ℓ` for `a < ℓ` and `b < 2^(64 D)` with `b < ℓ` when
    /// `D = 4`: the result is below `a b / 2^(64 D) + ℓ < 2ℓ`, so one conditional
    /// subtraction brings it below ℓ.
    #[inline(always)]
    pub(super) fn redc_mul<const D: usize>(a: &Limbs, b: &[u64; D]) -> Limbs {
        let mut t = [0u64; 6];
        for &bi in b {
            let mut carry = 0u64;
            for j in 0..4 {
                let s = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + u128::from(carry);
                t[j] = s as u64;
                carry = (s >> 64) as u64;
            }
            let s = u128::from(t[4]) + u128::from(carry);
            t[4] = s as u64;
            t[5] = (s >> 64) as u64;
            let m = t[0].wrapping_mul(L_NEG_INV);
            let s = u128::from(t[0]) + u128::from(m) * u128::from(L[0]);
            let mut carry = (s >> 64) as u64;
            for j in 1..4 {
                let s = u128::from(t[j]) + u128::from(m) * u128::from(L[j]) + u128::from(carry);
                t[j - 1] = s as u64;
                carry = (s >> 64) as u64;
            }
            let s = u128::from(t[4]) + u128::from(carry);
            t[3] = s as u64;
            t[4] = t[5] + (s >> 64) as u64;
        }
        // Below 2ℓ < 2^254: t[4] is 0.
        let r = [t[0], t[1], t[2], t[3]];
        if geq_l(&r) {
            sub_l(&r)
        } else {
            r
        }
    }

    /// `a · b / 2^256 mod ℓ`.
    #[inline(always)]
    pub(super) fn mont_mul(a: &Limbs, b: &Limbs) -> Limbs {
        redc_mul::<4>(a, b)
    }

    /// `a · w / 2^128 mod ℓ`.
    #[inline(always)]
    pub(super) fn mul_word(a: &Limbs, w: u128) -> Limbs {
        redc_mul::<2>(a, &[w as u64, (w >> 64) as u64])
    }

    fn geq_l(r: &Limbs) -> bool {
        for j in (0..4).rev() {
            if r[j] != L[j] {
                return r[j] > L[j];
            }
        }
        true
    }

    /// `r − ℓ` for `r ≥ ℓ`, or `ℓ − r` via [`neg`].
    fn sub_l(r: &Limbs) -> Limbs {
        sub(r, &L)
    }

    fn sub(a: &Limbs, b: &Limbs) -> Limbs {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for j in 0..4 {
            let (d, b1) = a[j].overflowing_sub(b[j]);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            out[j] = d;
            borrow = b1 | b2;
        }
        out
    }

    /// `−a mod ℓ` for `0 < a < ℓ`.
    pub(super) fn neg(a: &Limbs) -> Limbs {
        sub(&L, a)
    }

    pub(super) fn from_word(w: u128) -> Limbs {
        [w as u64, (w >> 64) as u64, 0, 0]
    }

    pub(super) fn to_bytes(a: &Limbs) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(a) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    pub(super) fn from_bytes(b: &[u8; 32]) -> Limbs {
        let mut out = [0u64; 4];
        for (limb, chunk) in out.iter_mut().zip(b.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            *limb = u64::from_le_bytes(w);
        }
        out
    }
}

/// Multiplies `m` factors below `2^bits` into `Π factors · 2^(−128 (w − 1)) mod ℓ`,
/// where `w = ⌈m / ⌊128 / bits⌋⌉` is the number of words: exact integer products of
/// `⌊128 / bits⌋` factors per 128-bit word, one [`vartime::mul_word`] per further word.
/// The scale depends only on `m` and `bits`, so it cancels in a ratio of two products
/// with the same `m` and `bits`.
struct Packer {
    per_word: u32,
    in_word: u32,
    word: u128,
    acc: Option<vartime::Limbs>,
}

impl Packer {
    fn new(bits: u32) -> Self {
        Self {
            per_word: 128 / bits.max(1),
            in_word: 0,
            word: 1,
            acc: None,
        }
    }

    #[inline(always)]
    fn push(&mut self, factor: u64) {
        if self.in_word == self.per_word {
            self.flush();
        }
        // At most ⌊128 / bits⌋ factors below 2^bits: no overflow.
        self.word *= u128::from(factor);
        self.in_word += 1;
    }

    #[inline(always)]
    fn flush(&mut self) {
        self.acc = Some(match &self.acc {
            None => vartime::from_word(self.word),
            Some(a) => vartime::mul_word(a, self.word),
        });
        self.word = 1;
        self.in_word = 0;
    }

    fn finish(mut self) -> vartime::Limbs {
        if self.in_word > 0 {
            self.flush();
        }
        self.acc.unwrap_or([1, 0, 0, 0])
    }
}

/// `LagrangeAtZero::batch` for one chunk of sets, with one batched inversion.
fn batch_chunk<S: AsRef<[u64]>>(sets: &[S]) -> Result<Vec<LagrangeAtZero>> {
    use vartime::{mont_mul, Limbs};
    let total = sets.iter().map(|s| s.as_ref().len()).sum();
    let mut dens: Vec<Limbs> = Vec::with_capacity(total);
    let mut nums: Vec<Limbs> = Vec::with_capacity(sets.len());
    for set in sets {
        let num = push_denominators(set.as_ref(), &mut dens)?;
        // Times 2^256, cancelling the Montgomery factor of the final product.
        nums.push(mont_mul(&num, &vartime::R2));
    }
    // Montgomery's trick: prefix products p_i = Π_{j≤i} z_j / 2^(256 i) (stored as
    // p_{i-1} in `prefix[i]`), one inversion, then back: with a = (Π_{j≤i} z_j)⁻¹
    // 2^(256 (i−1)), z_i⁻¹ = mont(a, p_{i−1}) and the next a = mont(a, z_i). Every
    // denominator is a product of non-zero integers below 2^33 < ℓ times a power of 2
    // (points checked distinct and non-zero), and ℓ is prime, so none is zero.
    let mut prefix: Vec<Limbs> = Vec::with_capacity(dens.len());
    let mut acc: Option<Limbs> = None;
    for z in &dens {
        let next = match &acc {
            None => *z,
            Some(p) => mont_mul(p, z),
        };
        prefix.push(acc.unwrap_or([1, 0, 0, 0]));
        acc = Some(next);
    }
    if let Some(p) = acc {
        let mut a = vartime::from_bytes(
            &Scalar::from_bytes_mod_order(vartime::to_bytes(&p))
                .invert()
                .to_bytes(),
        );
        for i in (0..dens.len()).rev() {
            let z = dens[i];
            dens[i] = if i == 0 { a } else { mont_mul(&a, &prefix[i]) };
            a = mont_mul(&a, &z);
        }
    }
    // λ_i = N / z_i (both with the same packing scale).
    let mut inverses = dens.iter();
    Ok(sets
        .iter()
        .zip(&nums)
        .map(|(set, num)| {
            let xs = set.as_ref();
            let coeffs = inverses
                .by_ref()
                .take(xs.len())
                // Below ℓ (`redc_mul`): canonical limbs, no reduction needed.
                .map(|d| mont_mul(num, d))
                .collect();
            LagrangeAtZero {
                xs: xs.to_vec(),
                coeffs,
            }
        })
        .collect())
}

/// Checks the points of one set as [`LagrangeAtZero::new`] does (same errors), pushes
/// `x_i Π_{j≠i} (x_j − x_i)` for each point and returns `Π_j x_j`, all with the same
/// [`Packer`] scale.
fn push_denominators(xs: &[u64], dens: &mut Vec<vartime::Limbs>) -> Result<vartime::Limbs> {
    let Some(&max) = xs.iter().max() else {
        return Err(Error::Threshold(ThresholdError::NotEnoughShares {
            needed: 1,
            got: 0,
        }));
    };
    if xs.iter().any(|&x| x == 0 || x > MAX_POINT) {
        check_points(xs.iter().copied())?;
    }
    // Every factor (a point, or the distance between two) is at most `max` ≤ 2^32.
    let bits = u64::BITS - max.leading_zeros();
    let mut num = Packer::new(bits);
    for (i, &xi) in xs.iter().enumerate() {
        num.push(xi);
        let mut den = Packer::new(bits);
        den.push(xi);
        // Π_{j≠i} (x_j − x_i) = (−1)^{#{j : x_j < x_i}} Π_{j≠i} |x_j − x_i|.
        let (mut below, mut repeated) = (0u32, false);
        for &xj in xs[..i].iter().chain(&xs[i + 1..]) {
            below += u32::from(xj < xi);
            repeated |= xj == xi;
            den.push(xj.abs_diff(xi));
        }
        if repeated {
            // Gives the same error as `new` (the smallest repeated point).
            check_points(xs.iter().copied())?;
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
                x: xi,
            }));
        }
        let den = den.finish();
        dens.push(if below % 2 == 1 {
            vartime::neg(&den)
        } else {
            den
        });
    }
    Ok(num.finish())
}

/// Reconstructs the secret from at least `threshold` shares. All shares' points are
/// checked; the first `threshold` shares are interpolated and the rest ignored (not
/// checked for consistency).
///
/// Fails with [`Misuse::InvalidThreshold`] for `threshold = 0`, with
/// [`ThresholdError::NotEnoughShares`] for fewer than `threshold` shares, and with
/// [`PeerMisbehaved::ZeroShareIndex`], [`PeerMisbehaved::ShareIndexOutOfRange`] or
/// [`PeerMisbehaved::DuplicateShareIndex`] for a bad point.
pub fn reconstruct(shares: &[Share], threshold: usize) -> Result<SecretScalar> {
    if threshold == 0 {
        return Err(Error::Misuse(Misuse::InvalidThreshold {
            threshold,
            parties: shares.len(),
        }));
    }
    if shares.len() < threshold {
        return Err(Error::Threshold(ThresholdError::NotEnoughShares {
            needed: threshold,
            got: shares.len(),
        }));
    }
    check_points(shares.iter().map(|s| s.x))?;
    let used: Vec<&Share> = shares[..threshold].iter().collect();
    let xs: Vec<u64> = used.iter().map(|s| s.x).collect();
    LagrangeAtZero::new(&xs)?.combine(&used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::rng::{seeded_rng, Rng};

    #[test]
    fn split_and_reconstruct() {
        let mut rng = seeded_rng([7; 32]);
        let s = SecretScalar::random(&mut rng);
        let xs: Vec<u64> = (0..10).map(eval_point).collect();
        let shares = split(&s, 4, &xs, &mut rng).unwrap();
        let r = reconstruct(&shares[3..7], 4).unwrap();
        assert!(bool::from(r.ct_eq(&s)));
        let r = reconstruct(&shares, 4).unwrap();
        assert!(bool::from(r.ct_eq(&s)));
    }

    /// The wide-accumulating `combine` against the plain sum Σ c_i·y_i of `Scalar`
    /// products, at every count 1..=25 (groups of 8 and the remainders), with random
    /// values and with the largest value ℓ − 1 everywhere.
    #[test]
    fn combine_matches_the_plain_sum() {
        let mut rng = seeded_rng([11; 32]);
        let top = -Scalar::ONE;
        for t in 1..=25u32 {
            let xs: Vec<u64> = (0..t).map(|i| eval_point(3 * i + 1)).collect();
            let lag = LagrangeAtZero::new(&xs).unwrap();
            for max in [false, true] {
                let shares: Vec<Share> = xs
                    .iter()
                    .map(|&x| Share {
                        x,
                        y: if max { top } else { SecretScalar::random(&mut rng).0 },
                    })
                    .collect();
                let refs: Vec<&Share> = shares.iter().collect();
                let mut want = Scalar::ZERO;
                for (share, c) in shares.iter().zip(&lag.coeffs) {
                    // Stored canonical: `from_canonical_bytes` checks it.
                    let c = Scalar::from_canonical_bytes(vartime::to_bytes(c)).unwrap();
                    want += c * share.y;
                }
                assert_eq!(lag.combine(&refs).unwrap().0, want, "t = {t}, max = {max}");
            }
        }
    }

    #[test]
    fn bad_inputs() {
        let mut rng = seeded_rng([8; 32]);
        let s = SecretScalar::random(&mut rng);
        assert_eq!(
            split(&s, 0, &[1, 2], &mut rng).err(),
            Some(Error::Misuse(Misuse::InvalidThreshold {
                threshold: 0,
                parties: 2
            }))
        );
        assert_eq!(
            split(&s, 3, &[1, 2], &mut rng).err(),
            Some(Error::Misuse(Misuse::InvalidThreshold {
                threshold: 3,
                parties: 2
            }))
        );
        assert_eq!(
            split(&s, 1, &[1, 0], &mut rng).err(),
            Some(Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex))
        );
        assert_eq!(
            split(&s, 1, &[2, 2], &mut rng).err(),
            Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
                x: 2
            }))
        );
        assert_eq!(
            Share::from_bytes(0, &[0; 32]).err(),
            Some(Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex))
        );
        assert_eq!(
            Share::from_bytes(1, &[0xff; 32]).err(),
            Some(Error::Encoding(EncodingError::NonCanonicalScalar))
        );
        let shares = split(&s, 2, &[1, 2, 3], &mut rng).unwrap();
        assert_eq!(
            reconstruct(&shares[..1], 2).err(),
            Some(Error::Threshold(ThresholdError::NotEnoughShares {
                needed: 2,
                got: 1
            }))
        );
        let dup = vec![shares[0].clone(), shares[0].clone()];
        assert_eq!(
            reconstruct(&dup, 2).err(),
            Some(Error::PeerMisbehaved(PeerMisbehaved::DuplicateShareIndex {
                x: 1
            }))
        );
    }

    /// Distinct points drawn below `bound` (inclusive), `m` of them.
    fn distinct_points(rng: &mut impl Rng, m: usize, bound: u64) -> Vec<u64> {
        let mut xs: Vec<u64> = Vec::with_capacity(m);
        while xs.len() < m {
            let x = 1 + rng.next_u64() % bound;
            if !xs.contains(&x) {
                xs.push(x);
            }
        }
        xs
    }

    #[test]
    fn batch_matches_new() {
        let mut rng = seeded_rng([9; 32]);
        // Small ids (many factors per word), ids up to 2^32 - 2 (points below 2^32:
        // four 32-bit factors fill a word exactly), up to ClientId::MAX (33-bit points),
        // and points clustered at the top, where the differences are small but the
        // points are not.
        let bounds = [16, 10_000, (1 << 32) - 1, MAX_POINT];
        let mut sets: Vec<Vec<u64>> = Vec::new();
        for m in 1..=64 {
            for &bound in &bounds {
                sets.push(distinct_points(&mut rng, m, bound.max(m as u64)));
            }
            let top: Vec<u64> = distinct_points(&mut rng, m, 200)
                .into_iter()
                .map(|x| MAX_POINT + 1 - x)
                .collect();
            sets.push(top);
            let mut sorted = distinct_points(&mut rng, m, 1000);
            sorted.sort_unstable();
            sets.push(sorted);
        }
        // The largest products: the 64 topmost points.
        sets.push((MAX_POINT - 63..=MAX_POINT).collect());
        sets.push((1..=64).map(|x| x << 26).collect());
        let batch = LagrangeAtZero::batch(&sets).unwrap();
        assert_eq!(batch.len(), sets.len());
        for (set, got) in sets.iter().zip(&batch) {
            let want = LagrangeAtZero::new(set).unwrap();
            assert_eq!(got.xs, want.xs);
            assert_eq!(got.coeffs, want.coeffs, "points {set:?}");
        }
        // One set at a time (one chunk each) gives the same.
        for set in sets.iter().step_by(17) {
            let one = LagrangeAtZero::batch(std::slice::from_ref(set)).unwrap();
            assert_eq!(one[0].coeffs, LagrangeAtZero::new(set).unwrap().coeffs);
        }
        assert!(LagrangeAtZero::batch::<Vec<u64>>(&[]).unwrap().is_empty());
    }

    #[test]
    fn batch_reconstructs() {
        let mut rng = seeded_rng([10; 32]);
        let t = 27;
        let mut secrets = Vec::new();
        let mut sets = Vec::new();
        let mut used = Vec::new();
        for _ in 0..50 {
            let s = SecretScalar::random(&mut rng);
            let xs = distinct_points(&mut rng, 40, 10_000);
            let shares = split(&s, t, &xs, &mut rng).unwrap();
            // t shares from a random offset.
            let off = (rng.next_u32() % 14) as usize;
            let mine: Vec<Share> = shares[off..off + t].to_vec();
            sets.push(mine.iter().map(Share::x).collect::<Vec<u64>>());
            used.push(mine);
            secrets.push(s);
        }
        let coeffs = LagrangeAtZero::batch(&sets).unwrap();
        for ((c, shares), s) in coeffs.iter().zip(&used).zip(&secrets) {
            let refs: Vec<&Share> = shares.iter().collect();
            assert!(bool::from(c.combine(&refs).unwrap().ct_eq(s)));
        }
    }

    #[test]
    fn batch_refuses_like_new() {
        let good = vec![3u64, 5, 9];
        let bad: Vec<Vec<u64>> = vec![
            vec![],
            vec![0],
            vec![4, 0, 4],
            vec![7, MAX_POINT + 1, 7],
            vec![MAX_POINT + 1, 0],
            vec![1, 2, 3, 2],
            vec![9, 8, 9, 8],
            vec![MAX_POINT, 1, MAX_POINT],
        ];
        for b in &bad {
            let want = LagrangeAtZero::new(b).err();
            assert!(want.is_some());
            // Alone, and behind good sets (the first failing set's error).
            assert_eq!(LagrangeAtZero::batch(std::slice::from_ref(b)).err(), want);
            let mut sets = vec![good.clone(); 40];
            sets.push(b.clone());
            sets.extend(vec![vec![1u64, 1]; 40]);
            assert_eq!(LagrangeAtZero::batch(&sets).err(), want, "{b:?}");
        }
        assert_eq!(
            LagrangeAtZero::new(&[]).err(),
            Some(Error::Threshold(ThresholdError::NotEnoughShares {
                needed: 1,
                got: 0
            }))
        );
    }

    #[test]
    fn vartime_matches_scalar() {
        let mut rng = seeded_rng([11; 32]);
        let two128 = Scalar::from(u128::MAX) + Scalar::ONE;
        let two256 = two128 * two128;
        let inv128 = two128.invert();
        let inv256 = two256.invert();
        let l_minus_1 = vartime::from_bytes(&(-Scalar::ONE).to_bytes());
        let mut values: Vec<Scalar> = (0..200).map(|_| Scalar::random(&mut rng)).collect();
        values.extend([Scalar::ZERO, Scalar::ONE, -Scalar::ONE, two128, -two128]);
        for a in &values {
            let la = vartime::from_bytes(&a.to_bytes());
            for b in values.iter().step_by(7) {
                let lb = vartime::from_bytes(&b.to_bytes());
                let got = vartime::to_bytes(&vartime::mont_mul(&la, &lb));
                assert_eq!(got, (a * b * inv256).to_bytes());
            }
            let r = rng.next_u64();
            for w in [0u128, 1, u128::MAX, (u128::from(r) << 64) | u128::from(!r)] {
                let got = vartime::to_bytes(&vartime::mul_word(&la, w));
                assert_eq!(got, (a * Scalar::from(w) * inv128).to_bytes());
            }
            if *a != Scalar::ZERO {
                assert_eq!(vartime::to_bytes(&vartime::neg(&la)), (-a).to_bytes());
            }
        }
        assert_eq!(vartime::neg(&[1, 0, 0, 0]), l_minus_1);
        assert_eq!(
            vartime::to_bytes(&vartime::R2),
            (two256 * two256).to_bytes()
        );
    }
}
