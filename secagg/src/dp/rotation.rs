//! The randomized rotation of the distributed-DP pipeline: a Walsh–Hadamard transform
//! with public random signs, `x ↦ H·D·x / √L` on a vector padded with zeros to the next
//! power of two `L` (Kairouz, Liu, Steinke 2021, section 4; Agarwal, Kairouz, Liu 2021).
//!
//! `D` is a diagonal of ±1 signs, `H` the unnormalized Hadamard matrix of order `L`
//! (entries ±1, `H·H = L·I`), so `R = H·D/√L` is orthogonal and its inverse is
//! `Rᵀ = D·H/√L`. After the rotation no coordinate carries much more than `‖x‖/√L`
//! (with high probability over the signs), which keeps the ring narrow and the rounding
//! error spread evenly.
//!
//! The signs are **public**: every party derives them from the session id, so they are
//! the same for every client and for the server, and differ from one session (round) to
//! the next:
//!
//! ```text
//! seed  = HKDF-SHA256(salt = none, ikm = session id,
//!                     info = "secagg/dp-rotation" || 0x00 || version u8
//!                         || vector index u32 big-endian
//!                         || name_len u16 big-endian || name, L = 32)
//! signs = ChaCha20(seed) (rand_chacha's ChaCha20Rng): word k = next_u64(),
//!         sign of coordinate 64k + j = − when bit j of word k is set, else +
//! ```
//!
//! The client rotates floats ([`Rotation::forward`]); the server undoes the rotation on
//! the centred integer sum exactly ([`Rotation::inverse_integer`]: the Hadamard
//! transform in `i128`, then the signs, then one division by `√L`), so the only
//! floating-point error on the server is the final scaling.

use crate::crypto::kdf::hkdf_sha256;
use crate::crypto::rng::{seeded_rng, Rng};
use crate::error::{Error, Misuse, Result};
use crate::ids::PROTOCOL_VERSION;

/// The HKDF `info` label of the rotation signs.
pub const ROTATION_LABEL: &[u8] = b"secagg/dp-rotation";

/// Largest padded length: `2^32` (ring vectors have `u32` lengths on the wire).
pub const MAX_PADDED_LEN: usize = 1 << 32;

/// The padded length of a vector of `d` elements: the smallest power of two `>= d`
/// (1 for `d <= 1`).
///
/// # Errors
/// [`Misuse::TooLong`] when that length exceeds [`MAX_PADDED_LEN`].
pub fn padded_len(d: usize) -> Result<usize> {
    match d.max(1).checked_next_power_of_two() {
        Some(l) if l <= MAX_PADDED_LEN => Ok(l),
        _ => Err(Error::Misuse(Misuse::TooLong {
            what: "DP vector (padded to a power of two)",
            max: MAX_PADDED_LEN,
            found: d,
        })),
    }
}

/// The unnormalized fast Walsh–Hadamard transform in place: `x ← H·x`, `H` of order
/// `x.len()` (a power of two) in Sylvester's (natural) order. Applying it twice
/// multiplies by `x.len()`. One butterfly order for every element type, so
/// [`fwht_f64`] and [`fwht_i128`] (its two instances) add and subtract in the same
/// sequence.
///
/// # Panics
/// Never for a power-of-two length; other lengths are a caller bug (checked with a debug
/// assertion, and the transform then leaves the tail past the largest power of two
/// untouched).
pub fn fwht<T>(x: &mut [T])
where
    T: Copy + core::ops::Add<Output = T> + core::ops::Sub<Output = T>,
{
    debug_assert!(x.len().is_power_of_two() || x.is_empty());
    let n = if x.is_empty() {
        0
    } else {
        1 << x.len().ilog2()
    };
    let mut h = 1;
    while h < n {
        for block in x[..n].chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (u, v) in a.iter_mut().zip(b.iter_mut()) {
                let (p, q) = (*u, *v);
                *u = p + q;
                *v = p - q;
            }
        }
        h *= 2;
    }
}

/// [`fwht`] over `f64` (the client's rotation).
///
/// # Panics
/// As [`fwht`].
pub fn fwht_f64(x: &mut [f64]) {
    fwht(x);
}

/// [`fwht`] over `i128`, exact as long as `|x| · len` fits (the caller's inputs are
/// below `2^63` and the length at most `2^32`, so every intermediate is below `2^95`).
///
/// # Panics
/// As [`fwht`].
pub fn fwht_i128(x: &mut [i128]) {
    fwht(x);
}

/// The public random rotation of one vector: its signs and padded length.
#[derive(Clone, PartialEq, Eq)]
pub struct Rotation {
    /// One bit per coordinate, set for a `−` sign; `len / 64` rounded up words.
    signs: Vec<u64>,
    len: usize,
}

impl core::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rotation")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// The 32-byte seed of the signs of vector `index` (named `name`) in session
/// `session_id` (the module documentation gives the derivation).
///
/// # Errors
/// [`Misuse::TooLong`] for a name longer than `u16::MAX` bytes.
pub fn sign_seed(session_id: &[u8; 32], index: u32, name: &[u8]) -> Result<[u8; 32]> {
    let name_len = u16::try_from(name.len()).map_err(|_| {
        Error::Misuse(Misuse::TooLong {
            what: "vector name",
            max: u16::MAX as usize,
            found: name.len(),
        })
    })?;
    let mut info = Vec::with_capacity(ROTATION_LABEL.len() + 8 + name.len());
    info.extend_from_slice(ROTATION_LABEL);
    info.push(0);
    info.push(PROTOCOL_VERSION);
    info.extend_from_slice(&index.to_be_bytes());
    info.extend_from_slice(&name_len.to_be_bytes());
    info.extend_from_slice(name);
    let mut seed = [0u8; 32];
    hkdf_sha256(None, session_id, &info, &mut seed)?;
    Ok(seed)
}

impl Rotation {
    /// The rotation of padded length `len` (a power of two) with signs drawn from
    /// ChaCha20 keyed by `seed` ([`sign_seed`]).
    ///
    /// # Errors
    /// [`Misuse::InvalidQuantParam`] unless `len` is a power of two at most
    /// [`MAX_PADDED_LEN`].
    pub fn from_seed(seed: [u8; 32], len: usize) -> Result<Self> {
        if !len.is_power_of_two() || len > MAX_PADDED_LEN {
            return Err(Error::Misuse(Misuse::InvalidQuantParam {
                param: "rotation length",
                allowed: "a power of two, at most 2^32",
            }));
        }
        let mut rng = seeded_rng(seed);
        let signs = (0..len.div_ceil(64)).map(|_| rng.next_u64()).collect();
        Ok(Self { signs, len })
    }

    /// The rotation of vector `index` (named `name`) of a session, padded to `len`.
    ///
    /// # Errors
    /// As [`sign_seed`] and [`Rotation::from_seed`].
    pub fn for_vector(session_id: &[u8; 32], index: u32, name: &[u8], len: usize) -> Result<Self> {
        Self::from_seed(sign_seed(session_id, index, name)?, len)
    }

    /// The padded length `L`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a rotation has at least one coordinate.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether coordinate `j`'s sign is `−`.
    pub fn is_negative(&self, j: usize) -> bool {
        (self.signs[j / 64] >> (j % 64)) & 1 == 1
    }

    fn check_len(&self, found: usize) -> Result<()> {
        if found == self.len {
            Ok(())
        } else {
            Err(Error::Misuse(Misuse::InputLength {
                vector: 0,
                expected: self.len,
                found,
            }))
        }
    }

    /// `x ← H·D·x / √L` in place (`x` already padded to `L`).
    ///
    /// # Errors
    /// [`Misuse::InputLength`] unless `x.len() == L`.
    pub fn forward(&self, x: &mut [f64]) -> Result<()> {
        self.check_len(x.len())?;
        for (j, v) in x.iter_mut().enumerate() {
            if self.is_negative(j) {
                *v = -*v;
            }
        }
        fwht_f64(x);
        let s = 1.0 / (self.len as f64).sqrt();
        x.iter_mut().for_each(|v| *v *= s);
        Ok(())
    }

    /// `x ← D·H·x / √L` in place: the inverse of [`forward`](Self::forward).
    ///
    /// # Errors
    /// [`Misuse::InputLength`] unless `x.len() == L`.
    pub fn inverse(&self, x: &mut [f64]) -> Result<()> {
        self.check_len(x.len())?;
        fwht_f64(x);
        let s = 1.0 / (self.len as f64).sqrt();
        for (j, v) in x.iter_mut().enumerate() {
            *v *= if self.is_negative(j) { -s } else { s };
        }
        Ok(())
    }

    /// The inverse rotation of an integer vector, exact up to the final scaling:
    /// `D·H·y` in `i128` (exact), returned as the integers `(D·H·y)_j`; the caller
    /// multiplies by `scale / √L`.
    ///
    /// # Errors
    /// [`Misuse::InputLength`] unless `y.len() == L`.
    pub fn inverse_integer(&self, y: &[i64]) -> Result<Vec<i128>> {
        self.check_len(y.len())?;
        let mut v: Vec<i128> = y.iter().map(|&a| i128::from(a)).collect();
        fwht_i128(&mut v);
        for (j, a) in v.iter_mut().enumerate() {
            if self.is_negative(j) {
                *a = -*a;
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hadamard_of_order_4() {
        let mut x = [1.0, 2.0, 3.0, 4.0];
        fwht_f64(&mut x);
        assert_eq!(x, [10.0, -2.0, -4.0, 0.0]);
        let mut y = [1i128, 2, 3, 4];
        fwht_i128(&mut y);
        assert_eq!(y, [10, -2, -4, 0]);
    }

    #[test]
    fn padded_lengths() {
        assert_eq!(padded_len(0).unwrap(), 1);
        assert_eq!(padded_len(1).unwrap(), 1);
        assert_eq!(padded_len(5).unwrap(), 8);
        assert_eq!(padded_len(1024).unwrap(), 1024);
        assert!(padded_len(MAX_PADDED_LEN + 1).is_err());
    }
}
