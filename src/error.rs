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

    // ---- graph and parameters -------------------------------------------------------
    /// A client count of zero, or more clients than a [`crate::crypto::ClientId`] can
    /// number (ids are `0..n`, so `n <= 2^32`).
    #[error("invalid number of clients {n}: need 1 <= n <= 2^32")]
    InvalidClientCount {
        /// The number of clients asked for.
        n: usize,
    },
    /// A sparse (Harary) graph was asked for with degree 0.
    #[error("invalid graph degree {degree} for {n} clients")]
    InvalidDegree {
        /// The degree asked for.
        degree: usize,
        /// The number of clients.
        n: usize,
    },
    /// A numeric parameter (a rate, a security parameter) was NaN or out of its range.
    #[error("{what} is out of range: must be {allowed}")]
    OutOfRange {
        /// Which parameter.
        what: &'static str,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// No degree and threshold meet the security and correctness targets.
    #[error("no degree and threshold meet the security and correctness targets for {n} clients")]
    NoFeasibleParams {
        /// The number of clients.
        n: usize,
    },
    /// The degree is too low: corrupt and dropped clients may disconnect the graph.
    #[error("degree {degree} is too low for {n} clients: the graph may disconnect")]
    DegreeTooLow {
        /// The degree asked for.
        degree: usize,
        /// The number of clients.
        n: usize,
    },
    /// The threshold is too low: corrupt neighbours (or, in the malicious model, a
    /// server that splits views) could reconstruct an honest client's secrets.
    #[error("threshold {threshold} is insecure: at least {min} is required")]
    ThresholdTooLow {
        /// The threshold asked for.
        threshold: usize,
        /// The smallest secure threshold.
        min: usize,
    },
    /// The threshold is too high: too few neighbours are expected to survive.
    #[error("threshold {threshold} is too high: at most {max} neighbours are expected to survive")]
    ThresholdTooHigh {
        /// The threshold asked for.
        threshold: usize,
        /// The largest threshold that meets the correctness target.
        max: usize,
    },
    /// In the malicious model, `2 t <= degree`: two disjoint sets of honest neighbours
    /// could each reach the threshold, so a server telling them different stories
    /// would learn both secrets of a client.
    #[error("threshold {threshold} lets two disjoint sets of the {degree} neighbours reconstruct")]
    ThresholdSplitView {
        /// The threshold asked for.
        threshold: usize,
        /// The number of neighbours that hold shares.
        degree: usize,
    },
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
            Error::InvalidClientCount { .. }
            | Error::InvalidDegree { .. }
            | Error::OutOfRange { .. }
            | Error::NoFeasibleParams { .. }
            | Error::DegreeTooLow { .. }
            | Error::ThresholdTooLow { .. }
            | Error::ThresholdTooHigh { .. }
            | Error::ThresholdSplitView { .. } => ErrorKind::Misuse,
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
            Error::InvalidClientCount { n: 0 },
            Error::InvalidDegree { degree: 0, n: 10 },
            Error::OutOfRange {
                what: "dropout rate",
                allowed: "in [0, 1)",
            },
            Error::NoFeasibleParams { n: 10 },
            Error::DegreeTooLow { degree: 2, n: 1000 },
            Error::ThresholdTooLow {
                threshold: 2,
                min: 17,
            },
            Error::ThresholdTooHigh {
                threshold: 29,
                max: 22,
            },
            Error::ThresholdSplitView {
                threshold: 5,
                degree: 10,
            },
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
