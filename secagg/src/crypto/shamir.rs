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
    coeffs: Vec<Scalar>,
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
        let coeffs = nums.iter().zip(&dens).map(|(n, d)| n * d).collect();
        Ok(Self {
            xs: xs.to_vec(),
            coeffs,
        })
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
        let mut acc = SecretScalar(Scalar::ZERO);
        for (share, c) in shares.iter().zip(&self.coeffs) {
            acc.0 += c * share.y;
        }
        Ok(acc)
    }
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
    use crate::crypto::rng::seeded_rng;

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
}
