//! The crate's one error type.
//!
//! Variants are grouped by [`ErrorKind`]: bytes that do not decode, a peer that broke
//! the protocol, a threshold that cannot be met, and misuse of the API by the caller.
//! No variant ever carries secret material; decryption failure is deliberately bare.

use core::fmt;

/// Which party or layer is at fault, for callers that branch on categories
/// (the Python bindings map these to exception classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bytes from another party did not decode (length, version, canonical form).
    Encoding,
    /// A cryptographic check failed (authentication, non-contributory key agreement).
    Crypto,
    /// Another party sent something well-formed that the protocol forbids.
    PeerMisbehaved,
    /// Too few parties or shares remain for the threshold.
    Threshold,
    /// The caller used the API in a way it does not allow (wrong state, bad config).
    Misuse,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Encoding => "encoding",
            ErrorKind::Crypto => "crypto",
            ErrorKind::PeerMisbehaved => "peer-misbehaved",
            ErrorKind::Threshold => "threshold",
            ErrorKind::Misuse => "misuse",
        })
    }
}

/// Everything that can go wrong in secagg.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- encoding -------------------------------------------------------------------
    /// A byte string had the wrong length for what it encodes.
    #[error("invalid length for {what}: expected {expected} bytes, found {found}")]
    InvalidLength {
        /// What was being decoded.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length received.
        found: usize,
    },
    /// A 32-byte string was not the canonical encoding of a scalar modulo ℓ.
    #[error("non-canonical scalar encoding")]
    NonCanonicalScalar,

    // ---- crypto ---------------------------------------------------------------------
    /// X25519 produced an all-zero (non-contributory) shared secret: the peer's public
    /// key has low order.
    #[error("key agreement is non-contributory (low-order public key)")]
    NonContributory,
    /// Authenticated decryption failed. Deliberately says nothing about why.
    #[error("decryption failed")]
    Decryption,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,

    // ---- secret sharing -------------------------------------------------------------
    /// A share carried evaluation point x = 0, which would be the secret itself.
    #[error("share evaluation point x = 0 is not allowed")]
    ZeroShareIndex,
    /// Two shares carried the same evaluation point.
    #[error("duplicate share evaluation point x = {x}")]
    DuplicateShareIndex {
        /// The repeated evaluation point.
        x: u64,
    },
    /// Fewer shares than the threshold were supplied.
    #[error("not enough shares to reconstruct: need {needed}, have {got}")]
    NotEnoughShares {
        /// The threshold.
        needed: usize,
        /// The number supplied.
        got: usize,
    },
    /// A threshold outside 1..=n (or otherwise unusable) was requested.
    #[error("invalid threshold {threshold} for {parties} parties")]
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// The number of parties.
        parties: usize,
    },

    // ---- ring / mask expansion ------------------------------------------------------
    /// A power-of-two ring width outside 1..=64 was requested.
    #[error("invalid ring width: {bits} bits (must be 1..=64)")]
    InvalidRingBits {
        /// The width asked for.
        bits: u32,
    },
    /// A general modulus below 3 or a power of two was requested.
    #[error("invalid ring modulus {m} (must be >= 3 and not a power of two)")]
    InvalidModulus {
        /// The modulus asked for.
        m: u64,
    },
    /// Two vectors combined element-wise had different lengths.
    #[error("vector length mismatch: expected {expected} elements, found {found}")]
    VectorLengthMismatch {
        /// The length required.
        expected: usize,
        /// The length received.
        found: usize,
    },
    /// A vector's word type, or an unreduced word, does not belong to the ring used.
    #[error("vector does not fit the ring (wrong word type or unreduced word)")]
    RingMismatch,
    /// A mask-expansion backend was requested that this CPU does not support.
    #[error("PRG backend {name} is not supported on this CPU")]
    UnsupportedBackend {
        /// The backend's name.
        name: &'static str,
    },
    /// A thread pool could not be created (benchmarks with an explicit thread count).
    #[error("could not create a thread pool")]
    ThreadPool,
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidLength { .. } | Error::NonCanonicalScalar => ErrorKind::Encoding,
            Error::NonContributory | Error::Decryption | Error::Rng => ErrorKind::Crypto,
            Error::ZeroShareIndex | Error::DuplicateShareIndex { .. } => ErrorKind::PeerMisbehaved,
            Error::NotEnoughShares { .. } => ErrorKind::Threshold,
            Error::InvalidThreshold { .. } => ErrorKind::Misuse,
            Error::InvalidRingBits { .. }
            | Error::InvalidModulus { .. }
            | Error::VectorLengthMismatch { .. }
            | Error::RingMismatch
            | Error::UnsupportedBackend { .. }
            | Error::ThreadPool => ErrorKind::Misuse,
        }
    }
}

/// Shorthand for `Result<T, secagg::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every variant; extend it when a variant is added.
    pub(crate) fn every_variant() -> Vec<Error> {
        vec![
            Error::InvalidLength {
                what: "public key",
                expected: 32,
                found: 31,
            },
            Error::NonCanonicalScalar,
            Error::NonContributory,
            Error::Decryption,
            Error::Rng,
            Error::ZeroShareIndex,
            Error::DuplicateShareIndex { x: 3 },
            Error::NotEnoughShares { needed: 3, got: 2 },
            Error::InvalidThreshold {
                threshold: 0,
                parties: 5,
            },
            Error::InvalidRingBits { bits: 65 },
            Error::InvalidModulus { m: 4 },
            Error::VectorLengthMismatch {
                expected: 3,
                found: 4,
            },
            Error::RingMismatch,
            Error::UnsupportedBackend { name: "vaes512" },
            Error::ThreadPool,
        ]
    }

    #[test]
    fn every_variant_displays_and_has_a_kind() {
        for e in every_variant() {
            let s = e.to_string();
            assert!(!s.is_empty());
            assert!(!format!("{e:?}").is_empty());
            let _ = e.kind().to_string();
        }
    }

    #[test]
    fn decryption_error_is_bare() {
        assert_eq!(Error::Decryption.to_string(), "decryption failed");
    }
}
