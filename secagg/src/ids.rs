//! The names every layer shares: who a party is ([`ClientId`]), which session it is in
//! ([`SessionId`]), which version of the derivations and encodings it speaks
//! ([`PROTOCOL_VERSION`]) and which [`Round`] a message or a ciphertext belongs to.
//!
//! A leaf: nothing here imports the rest of the crate, so the error categories, the wire
//! codec, the primitives and the protocol can all name these types without importing
//! each other.

use core::fmt;

/// Version of every derivation, associated-data layout and message encoding. Bumped
/// whenever a byte of a derivation or encoding changes, so two versions never
/// interoperate silently.
pub const PROTOCOL_VERSION: u8 = 3;

/// Length of a session id in bytes.
pub const SESSION_ID_LEN: usize = 32;

/// A 32-byte session identifier (public), bound into every derivation and every
/// associated-data string.
pub type SessionId = [u8; SESSION_ID_LEN];

/// A client identifier. Shamir evaluation points are `id + 1`.
pub type ClientId = u32;

/// The rounds of a session, numbered as on the wire and in associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Round {
    /// Round 0: clients advertise two X25519 public keys.
    AdvertiseKeys = 0,
    /// Round 1: clients send sealed Shamir shares to their neighbors.
    ShareKeys = 1,
    /// Round 2: clients send their masked inputs.
    MaskedInputCollection = 2,
    /// Round 3 (malicious model only): clients sign the survivor set.
    ConsistencyCheck = 3,
    /// Round 4: clients reveal the shares the server needs to unmask the sum.
    Unmasking = 4,
}

impl Round {
    /// Every round, in order.
    pub const ALL: [Round; 5] = [
        Round::AdvertiseKeys,
        Round::ShareKeys,
        Round::MaskedInputCollection,
        Round::ConsistencyCheck,
        Round::Unmasking,
    ];

    /// The round number (used on the wire, in associated data and in signatures).
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The round with this number, if any.
    pub fn from_number(n: u8) -> Option<Round> {
        Round::ALL.get(usize::from(n)).copied()
    }

    /// The round's stable name, as the command line's JSON and the Python bindings
    /// report it (`"ShareKeys"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Round::AdvertiseKeys => "AdvertiseKeys",
            Round::ShareKeys => "ShareKeys",
            Round::MaskedInputCollection => "MaskedInputCollection",
            Round::ConsistencyCheck => "ConsistencyCheck",
            Round::Unmasking => "Unmasking",
        }
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.number(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_numbers_round_trip() {
        for (i, r) in Round::ALL.iter().enumerate() {
            assert_eq!(usize::from(r.number()), i);
            assert_eq!(Round::from_number(r.number()), Some(*r));
        }
        assert_eq!(Round::from_number(5), None);
        assert_eq!(Round::Unmasking.to_string(), "4 (Unmasking)");
    }
}
