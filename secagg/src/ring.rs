//! The aggregation ring: Z_{2^b} for 1 <= b <= 64, or Z_m for a general modulus m.
//!
//! Elements of a ring whose values fit in 32 bits are stored as `u32` words, all others as
//! `u64` words ([`Ring::uses_u32`]); a [`RingVec`] holds one word per element, reduced.
//! Arithmetic is wrapping modulo 2^b (a mask after each operation) or modulo m.
//!
//! ```
//! use secagg::ring::{Ring, RingVec};
//!
//! let ring = Ring::pow2(16)?;
//! let mut a = RingVec::from_u64s(&ring, &[1, 65_535, 7]);
//! let b = RingVec::from_u64s(&ring, &[2, 1, 65_530]);
//! a.add_assign(&ring, &b)?;
//! assert_eq!(a.to_u64s(), vec![3, 0, 1]);
//! # Ok::<(), secagg::Error>(())
//! ```

use crate::error::{Error, Misuse, Result};

/// An aggregation ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ring {
    /// Z_{2^bits}, 1 <= bits <= 64.
    Pow2 {
        /// The ring width b.
        bits: u32,
    },
    /// Z_m for a modulus m >= 3 that is not a power of two.
    Modulus {
        /// The modulus.
        m: u64,
    },
}

impl Ring {
    /// Z_{2^bits}; `bits` must be in 1..=64.
    pub fn pow2(bits: u32) -> Result<Ring> {
        if (1..=64).contains(&bits) {
            Ok(Ring::Pow2 { bits })
        } else {
            Err(Error::Misuse(Misuse::InvalidRingBits { bits }))
        }
    }

    /// Z_m; `m` must be at least 3 and not a power of two (use [`Ring::pow2`] for those).
    pub fn modulus(m: u64) -> Result<Ring> {
        if m >= 3 && !m.is_power_of_two() {
            Ok(Ring::Modulus { m })
        } else {
            Err(Error::Misuse(Misuse::InvalidModulus { m }))
        }
    }

    /// Whether elements are stored as `u32` words (b <= 32, or m < 2^32); otherwise `u64`.
    pub fn uses_u32(&self) -> bool {
        match *self {
            Ring::Pow2 { bits } => bits <= 32,
            Ring::Modulus { m } => m <= 1 << 32,
        }
    }

    /// Number of bits needed to send one element: b, or ceil(log2 m).
    pub fn element_bits(&self) -> u32 {
        match *self {
            Ring::Pow2 { bits } => bits,
            Ring::Modulus { m } => 64 - m.wrapping_sub(1).leading_zeros(),
        }
    }

    /// Checks the rules of [`Ring::pow2`] / [`Ring::modulus`], for a `Ring` built by hand
    /// (the variants are public). Operations on an invalid ring never panic but their
    /// results are meaningless; the vector operations refuse one with this error.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Ring::Pow2 { bits } => Ring::pow2(bits).map(|_| ()),
            Ring::Modulus { m } => Ring::modulus(m).map(|_| ()),
        }
    }

    /// The mask 2^k - 1 for k = [`Ring::element_bits`].
    pub(crate) fn bit_mask(&self) -> u64 {
        let k = self.element_bits();
        if k >= 64 {
            u64::MAX
        } else {
            (1u64 << k) - 1
        }
    }

    /// Whether `x` is a reduced element (below the modulus).
    pub(crate) fn contains(&self, x: u64) -> bool {
        match *self {
            Ring::Pow2 { .. } => x <= self.bit_mask(),
            Ring::Modulus { m } => x < m,
        }
    }

    /// `x` reduced into the ring.
    pub fn reduce(&self, x: u64) -> u64 {
        match *self {
            Ring::Pow2 { .. } => x & self.bit_mask(),
            Ring::Modulus { m } => x.checked_rem(m).unwrap_or(x),
        }
    }

    /// `a + b` in the ring (inputs are reduced first).
    pub fn add(&self, a: u64, b: u64) -> u64 {
        match *self {
            Ring::Pow2 { .. } => a.wrapping_add(b) & self.bit_mask(),
            Ring::Modulus { m } => add_mod(self.reduce(a), self.reduce(b), m),
        }
    }

    /// `a - b` in the ring (inputs are reduced first).
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        match *self {
            Ring::Pow2 { .. } => a.wrapping_sub(b) & self.bit_mask(),
            Ring::Modulus { m } => sub_mod(self.reduce(a), self.reduce(b), m),
        }
    }

    /// `-a` in the ring (the input is reduced first).
    pub fn neg(&self, a: u64) -> u64 {
        self.sub(0, a)
    }
}

/// `(a + b) mod m` for `a, b < m`; never overflows, even for m close to 2^64.
#[inline(always)]
pub(crate) fn add_mod(a: u64, b: u64, m: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    if carry || s >= m {
        s.wrapping_sub(m)
    } else {
        s
    }
}

/// `(a - b) mod m` for `a, b < m`.
#[inline(always)]
pub(crate) fn sub_mod(a: u64, b: u64, m: u64) -> u64 {
    if a >= b {
        a - b
    } else {
        a.wrapping_sub(b).wrapping_add(m)
    }
}

/// A vector of ring elements, one reduced word per element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RingVec {
    /// Words of a ring with [`Ring::uses_u32`].
    U32(Vec<u32>),
    /// Words of any other ring.
    U64(Vec<u64>),
}

impl RingVec {
    /// `len` zeros with the ring's word type.
    pub fn zeros(ring: &Ring, len: usize) -> RingVec {
        if ring.uses_u32() {
            RingVec::U32(vec![0; len])
        } else {
            RingVec::U64(vec![0; len])
        }
    }

    /// The words reduced into the ring, with the ring's word type.
    pub fn from_u64s(ring: &Ring, words: &[u64]) -> RingVec {
        if ring.uses_u32() {
            // reduce() of a u32 ring is below 2^32, so the cast is exact.
            RingVec::U32(words.iter().map(|&w| ring.reduce(w) as u32).collect())
        } else {
            RingVec::U64(words.iter().map(|&w| ring.reduce(w)).collect())
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            RingVec::U32(v) => v.len(),
            RingVec::U64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<u64> {
        match self {
            RingVec::U32(v) => v.get(i).map(|&w| u64::from(w)),
            RingVec::U64(v) => v.get(i).copied(),
        }
    }

    /// The elements as `u64`s.
    pub fn to_u64s(&self) -> Vec<u64> {
        match self {
            RingVec::U32(v) => v.iter().map(|&w| u64::from(w)).collect(),
            RingVec::U64(v) => v.clone(),
        }
    }

    /// Whether the vector has the ring's word type and every word is reduced.
    pub fn fits(&self, ring: &Ring) -> bool {
        // Branch-free folds (no short-circuit) so the compiler vectorises them: this
        // check runs on every masked input the server receives.
        match (self, *ring) {
            (RingVec::U32(v), Ring::Pow2 { .. }) => {
                ring.uses_u32() && ring.contains(u64::from(v.iter().fold(0u32, |a, &w| a | w)))
            }
            (RingVec::U64(v), Ring::Pow2 { .. }) => {
                !ring.uses_u32() && ring.contains(v.iter().fold(0u64, |a, &w| a | w))
            }
            (RingVec::U32(v), Ring::Modulus { m }) => {
                ring.uses_u32() && !v.iter().fold(false, |a, &w| a | (u64::from(w) >= m))
            }
            (RingVec::U64(v), Ring::Modulus { m }) => {
                !ring.uses_u32() && !v.iter().fold(false, |a, &w| a | (w >= m))
            }
        }
    }

    /// `self += other` element-wise in the ring.
    ///
    /// Fails with [`Misuse::VectorLengthMismatch`] when the lengths differ and with
    /// [`Misuse::RingMismatch`] when either vector has the wrong word type or (for a
    /// general modulus) an unreduced word, and with the error of [`Ring::validate`] for
    /// an invalid ring; `self` is unchanged on error.
    pub fn add_assign(&mut self, ring: &Ring, other: &RingVec) -> Result<()> {
        self.combine(ring, other, false)
    }

    /// `self -= other` element-wise in the ring; errors as [`RingVec::add_assign`].
    pub fn sub_assign(&mut self, ring: &Ring, other: &RingVec) -> Result<()> {
        self.combine(ring, other, true)
    }

    fn combine(&mut self, ring: &Ring, other: &RingVec, sub: bool) -> Result<()> {
        ring.validate()?;
        if self.len() != other.len() {
            return Err(Error::Misuse(Misuse::VectorLengthMismatch {
                expected: self.len(),
                found: other.len(),
            }));
        }
        if let Ring::Modulus { .. } = ring {
            // Modular add/sub needs reduced inputs; checking first leaves self untouched.
            if !self.fits(ring) || !other.fits(ring) {
                return Err(Error::Misuse(Misuse::RingMismatch));
            }
        }
        let mask = ring.bit_mask();
        match (self, other) {
            (RingVec::U32(a), RingVec::U32(b)) if ring.uses_u32() => {
                match *ring {
                    Ring::Pow2 { .. } => {
                        // mask < 2^32 here.
                        let mask = mask as u32;
                        if sub {
                            a.iter_mut()
                                .zip(b)
                                .for_each(|(x, &y)| *x = x.wrapping_sub(y) & mask);
                        } else {
                            a.iter_mut()
                                .zip(b)
                                .for_each(|(x, &y)| *x = x.wrapping_add(y) & mask);
                        }
                    }
                    Ring::Modulus { m } => {
                        for (x, &y) in a.iter_mut().zip(b) {
                            let r = combine_mod(u64::from(*x), u64::from(y), m, sub);
                            // r < m < 2^32.
                            *x = r as u32;
                        }
                    }
                }
                Ok(())
            }
            (RingVec::U64(a), RingVec::U64(b)) if !ring.uses_u32() => {
                match *ring {
                    Ring::Pow2 { .. } => {
                        if sub {
                            a.iter_mut()
                                .zip(b)
                                .for_each(|(x, &y)| *x = x.wrapping_sub(y) & mask);
                        } else {
                            a.iter_mut()
                                .zip(b)
                                .for_each(|(x, &y)| *x = x.wrapping_add(y) & mask);
                        }
                    }
                    Ring::Modulus { m } => {
                        for (x, &y) in a.iter_mut().zip(b) {
                            *x = combine_mod(*x, y, m, sub);
                        }
                    }
                }
                Ok(())
            }
            _ => Err(Error::Misuse(Misuse::RingMismatch)),
        }
    }
}

#[inline(always)]
fn combine_mod(a: u64, b: u64, m: u64, sub: bool) -> u64 {
    if sub {
        sub_mod(a, b, m)
    } else {
        add_mod(a, b, m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn constructors_validate() {
        assert!(Ring::pow2(0).is_err());
        assert!(Ring::pow2(65).is_err());
        assert_eq!(Ring::pow2(64).unwrap(), Ring::Pow2 { bits: 64 });
        assert!(Ring::modulus(0).is_err());
        assert!(Ring::modulus(1).is_err());
        assert!(Ring::modulus(2).is_err());
        assert!(Ring::modulus(1 << 20).is_err());
        assert!(Ring::modulus(3).is_ok());
        assert!(Ring::modulus(u64::MAX).is_ok());
        // Hand-built invalid rings never panic and are refused by vector operations.
        for r in [
            Ring::Pow2 { bits: 0 },
            Ring::Pow2 { bits: 99 },
            Ring::Modulus { m: 0 },
            Ring::Modulus { m: 8 },
        ] {
            assert!(r.validate().is_err());
            let _ = (
                r.reduce(5),
                r.add(5, 7),
                r.sub(5, 7),
                r.neg(5),
                r.element_bits(),
            );
            let mut v = RingVec::U64(vec![1]);
            assert!(v.add_assign(&r, &RingVec::U64(vec![2])).is_err());
        }
    }

    #[test]
    fn word_types_and_element_bits() {
        assert!(Ring::pow2(32).unwrap().uses_u32());
        assert!(!Ring::pow2(33).unwrap().uses_u32());
        assert!(Ring::modulus((1 << 32) - 1).unwrap().uses_u32());
        assert!(!Ring::modulus((1 << 32) + 1).unwrap().uses_u32());
        assert_eq!(Ring::modulus(3).unwrap().element_bits(), 2);
        assert_eq!(Ring::modulus(5).unwrap().element_bits(), 3);
        assert_eq!(Ring::modulus(1_000_003).unwrap().element_bits(), 20);
        assert_eq!(Ring::modulus(u64::MAX).unwrap().element_bits(), 64);
        assert_eq!(Ring::pow2(7).unwrap().element_bits(), 7);
    }

    fn rings() -> Vec<Ring> {
        vec![
            Ring::pow2(1).unwrap(),
            Ring::pow2(8).unwrap(),
            Ring::pow2(32).unwrap(),
            Ring::pow2(33).unwrap(),
            Ring::pow2(64).unwrap(),
            Ring::modulus(3).unwrap(),
            Ring::modulus(1_000_003).unwrap(),
            Ring::modulus((1 << 32) - 5).unwrap(),
            Ring::modulus(u64::MAX).unwrap(),
            Ring::modulus(u64::MAX - 58).unwrap(),
        ]
    }

    /// The modulus as a u128, for an independent reference computation.
    fn modulus(r: &Ring) -> u128 {
        match *r {
            Ring::Pow2 { bits } => 1u128 << bits,
            Ring::Modulus { m } => u128::from(m),
        }
    }

    proptest! {
        #[test]
        fn arithmetic_matches_u128(a: u64, b: u64) {
            for r in rings() {
                let q = modulus(&r);
                let (a128, b128) = (u128::from(a), u128::from(b));
                prop_assert_eq!(u128::from(r.reduce(a)), a128 % q);
                prop_assert_eq!(u128::from(r.add(a, b)), (a128 + b128) % q);
                prop_assert_eq!(u128::from(r.sub(a, b)), (a128 % q + q - b128 % q) % q);
                prop_assert_eq!(u128::from(r.neg(a)), (q - a128 % q) % q);
            }
        }

        #[test]
        fn vectors_match_scalar_ops(words in proptest::collection::vec(any::<(u64, u64)>(), 0..40)) {
            for r in rings() {
                let xs: Vec<u64> = words.iter().map(|w| w.0).collect();
                let ys: Vec<u64> = words.iter().map(|w| w.1).collect();
                let mut a = RingVec::from_u64s(&r, &xs);
                let b = RingVec::from_u64s(&r, &ys);
                prop_assert!(a.fits(&r) && b.fits(&r));
                a.add_assign(&r, &b).unwrap();
                let want: Vec<u64> = xs.iter().zip(&ys).map(|(&x, &y)| r.add(x, y)).collect();
                prop_assert_eq!(a.to_u64s(), want);
                a.sub_assign(&r, &b).unwrap();
                let back: Vec<u64> = xs.iter().map(|&x| r.reduce(x)).collect();
                prop_assert_eq!(a.to_u64s(), back);
            }
        }
    }

    #[test]
    fn mismatches_are_errors_and_leave_self_unchanged() {
        let r32 = Ring::pow2(16).unwrap();
        let r64 = Ring::pow2(40).unwrap();
        let mut a = RingVec::zeros(&r32, 3);
        assert_eq!(
            a.add_assign(&r32, &RingVec::zeros(&r32, 4)),
            Err(Error::Misuse(Misuse::VectorLengthMismatch {
                expected: 3,
                found: 4
            }))
        );
        assert_eq!(
            a.add_assign(&r32, &RingVec::zeros(&r64, 3)),
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        assert_eq!(
            a.add_assign(&r64, &RingVec::zeros(&r64, 3)),
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        let m = Ring::modulus(11).unwrap();
        let mut c = RingVec::from_u64s(&m, &[1, 2, 3]);
        let bad = RingVec::U32(vec![1, 11, 0]);
        assert!(!bad.fits(&m));
        assert_eq!(
            c.sub_assign(&m, &bad),
            Err(Error::Misuse(Misuse::RingMismatch))
        );
        assert_eq!(c.to_u64s(), vec![1, 2, 3]);
        assert!(RingVec::zeros(&m, 0).is_empty());
        assert_eq!(c.get(2), Some(3));
        assert_eq!(c.get(3), None);
    }

    #[test]
    fn fits_checks_every_word_at_the_boundary() {
        for bits in [1u32, 8, 20, 31, 32, 33, 40, 63, 64] {
            let r = Ring::pow2(bits).unwrap();
            let top = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let mut words = vec![0u64; 1000];
            words[999] = top;
            let ok = RingVec::from_u64s(&r, &words);
            assert!(ok.fits(&r), "b = {bits}");
            if bits < 64 {
                for pos in [0usize, 500, 999] {
                    let over = match &ok {
                        RingVec::U32(v) if bits < 32 => {
                            let mut v = v.clone();
                            v[pos] = 1u32 << bits;
                            RingVec::U32(v)
                        }
                        RingVec::U64(v) => {
                            let mut v = v.clone();
                            v[pos] = 1u64 << bits;
                            RingVec::U64(v)
                        }
                        _ => continue,
                    };
                    assert!(!over.fits(&r), "b = {bits}, pos = {pos}");
                }
            }
        }
        let m = Ring::modulus((1u64 << 40) + 1).unwrap();
        let mut v = vec![0u64; 100];
        v[37] = 1u64 << 40;
        assert!(RingVec::U64(v.clone()).fits(&m));
        v[37] += 1;
        assert!(!RingVec::U64(v).fits(&m));
    }
}
