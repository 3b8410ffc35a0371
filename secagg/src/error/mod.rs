//! The core's error type: a small enum of categories, each a specific enum.
//!
//! [`Error`] has one variant per category ([`EncodingError`], [`CryptoError`],
//! [`PeerMisbehaved`], [`ThresholdError`], [`Misuse`], [`DpError`]), in the shape of rustls'
//! `error/mod.rs`; every category converts into it with `From` (so `?` and `.into()` work
//! on a specific error). Each category is one [`ErrorKind`], for callers that branch on
//! categories only. [`Error::name`] (and `name()` on each category) gives every variant a
//! stable name, its identifier (`"RingTooNarrow"`), which tests and the Python bindings
//! use instead of parsing `Debug` text.
//!
//! No variant ever carries secret material; decryption failure is deliberately bare.
//! Errors of the network (sockets, frames, TLS) belong to the network crate, which wraps
//! this type; errors of parsing a command line's input files belong to the CLI.

use core::fmt;

use crate::ids::{ClientId, Round};

#[cfg(test)]
mod tests;

/// Which party or layer is at fault, for callers that branch on categories
/// (the Python bindings map these to exception classes).
///
/// The core's [`Error::kind`] never returns [`ErrorKind::Transport`]: that kind is the
/// network crate's (a socket error, a closed connection, a timeout). It stays in this
/// one enum so that every crate reports kinds in one type, and because the network
/// crate's closing frame carries the kind of an abort on the wire as an index into the
/// list of all six.
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
    /// The network failed: a socket error, a closed connection, a timeout (only the
    /// network crate's errors have this kind).
    Transport,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Encoding => "encoding",
            ErrorKind::Crypto => "crypto",
            ErrorKind::PeerMisbehaved => "peer-misbehaved",
            ErrorKind::Threshold => "threshold",
            ErrorKind::Misuse => "misuse",
            ErrorKind::Transport => "transport",
        })
    }
}

/// Everything that can go wrong in the core, by category.
///
/// Displays as the specific error (the category adds no text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes from another party did not decode.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// A cryptographic check failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Another party sent something well-formed that the protocol forbids.
    #[error(transparent)]
    PeerMisbehaved(#[from] PeerMisbehaved),
    /// Too few parties or shares remain for the threshold.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// The caller used the API in a way it does not allow.
    #[error(transparent)]
    Misuse(#[from] Misuse),
    /// A differential-privacy parameter, budget or exact computation was refused
    /// (kind [`ErrorKind::Misuse`]: the caller chose the parameters).
    #[error(transparent)]
    Dp(#[from] DpError),
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Encoding(_) => ErrorKind::Encoding,
            Error::Crypto(_) => ErrorKind::Crypto,
            Error::PeerMisbehaved(_) => ErrorKind::PeerMisbehaved,
            Error::Threshold(_) => ErrorKind::Threshold,
            Error::Misuse(_) | Error::Dp(_) => ErrorKind::Misuse,
        }
    }

    /// The stable name of the specific error: its variant's identifier, e.g.
    /// `"RingTooNarrow"` (the Python bindings' `variant` and `name`).
    pub fn name(&self) -> &'static str {
        match self {
            Error::Encoding(e) => e.name(),
            Error::Crypto(e) => e.name(),
            Error::PeerMisbehaved(e) => e.name(),
            Error::Threshold(e) => e.name(),
            Error::Misuse(e) => e.name(),
            Error::Dp(e) => e.name(),
        }
    }
}

/// Bytes that do not decode: a wrong length, an unknown version, message type or tag, a
/// non-canonical encoding, a count beyond what the configuration allows (kind
/// [`ErrorKind::Encoding`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
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
    /// The input ended before a field was complete.
    #[error("truncated {what}: needs {needed} bytes, {remaining} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// The bytes the field needs.
        needed: usize,
        /// The bytes that were left.
        remaining: usize,
    },
    /// A message decoded completely but bytes were left after it.
    #[error("{count} trailing bytes after the message")]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },
    /// A message carried a protocol version this implementation does not speak.
    #[error("unknown protocol version {found} (this implementation speaks {expected})")]
    UnknownVersion {
        /// The version byte received.
        found: u8,
        /// The version spoken here.
        expected: u8,
    },
    /// A message-type byte that names no message of this direction.
    #[error("unknown message type 0x{found:02x}")]
    UnknownMessageType {
        /// The type byte received.
        found: u8,
    },
    /// A length or count field exceeds what the session configuration allows.
    #[error("{what} too large: at most {max}, found {found}")]
    LengthTooLarge {
        /// What the length counts.
        what: &'static str,
        /// The largest value the configuration allows.
        max: u64,
        /// The value received.
        found: u64,
    },
    /// A length field is below the smallest valid value.
    #[error("{what} too small: at least {min}, found {found}")]
    LengthTooSmall {
        /// What the length counts.
        what: &'static str,
        /// The smallest valid value.
        min: u64,
        /// The value received.
        found: u64,
    },
    /// Padding bits at the end of a bit-packed field were not zero.
    #[error("non-zero padding bits in {what}")]
    NonZeroPadding {
        /// The bit-packed field.
        what: &'static str,
    },
    /// A packed element of a Z_m vector was not below m.
    #[error("packed ring element {index} is not below the modulus")]
    WordOutOfRange {
        /// The position of the first such element.
        index: usize,
    },
    /// A one-byte tag (an enum discriminant, a flag) had no defined meaning.
    #[error("invalid {what} tag 0x{found:02x}")]
    InvalidTag {
        /// The field.
        what: &'static str,
        /// The byte received.
        found: u8,
    },
    /// A list of client ids that must be strictly ascending was not.
    #[error("{what}: client ids not strictly ascending at position {index}")]
    UnsortedIds {
        /// The list.
        what: &'static str,
        /// The position of the first id not above its predecessor.
        index: usize,
    },
    /// A client id at or above the session's number of clients.
    #[error("{what}: client id {id} is out of range for {n} clients")]
    ClientIdOutOfRange {
        /// The field.
        what: &'static str,
        /// The id received.
        id: u32,
        /// The number of clients in the session.
        n: usize,
    },
    /// A 32-byte string that is not the canonical encoding of an X25519 u-coordinate
    /// (bit 255 set, or a value of at least 2^255 - 19).
    #[error("non-canonical x25519 public key encoding")]
    NonCanonicalPublicKey,
    /// 32 bytes that do not decompress to an Ed25519 point.
    #[error("invalid ed25519 verifying key encoding")]
    InvalidVerifyingKey,
}

impl EncodingError {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            EncodingError::InvalidLength { .. } => "InvalidLength",
            EncodingError::NonCanonicalScalar => "NonCanonicalScalar",
            EncodingError::Truncated { .. } => "Truncated",
            EncodingError::TrailingBytes { .. } => "TrailingBytes",
            EncodingError::UnknownVersion { .. } => "UnknownVersion",
            EncodingError::UnknownMessageType { .. } => "UnknownMessageType",
            EncodingError::LengthTooLarge { .. } => "LengthTooLarge",
            EncodingError::LengthTooSmall { .. } => "LengthTooSmall",
            EncodingError::NonZeroPadding { .. } => "NonZeroPadding",
            EncodingError::WordOutOfRange { .. } => "WordOutOfRange",
            EncodingError::InvalidTag { .. } => "InvalidTag",
            EncodingError::UnsortedIds { .. } => "UnsortedIds",
            EncodingError::ClientIdOutOfRange { .. } => "ClientIdOutOfRange",
            EncodingError::NonCanonicalPublicKey => "NonCanonicalPublicKey",
            EncodingError::InvalidVerifyingKey => "InvalidVerifyingKey",
        }
    }
}

/// A cryptographic check failed (kind [`ErrorKind::Crypto`]). [`CryptoError::Decryption`]
/// is deliberately bare: it says nothing about why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
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
    /// An Ed25519 signature did not verify.
    #[error("client {client}'s signature does not verify")]
    BadSignature {
        /// The alleged signer.
        client: ClientId,
    },
}

impl CryptoError {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            CryptoError::NonContributory => "NonContributory",
            CryptoError::Decryption => "Decryption",
            CryptoError::Rng => "Rng",
            CryptoError::BadSignature { .. } => "BadSignature",
        }
    }
}

/// Another party sent something well-formed that the protocol forbids: a message for the
/// wrong round, a second message, a list that names a non-neighbor, shares that do not
/// reconstruct, an aggregate no honest set of clients can produce (kind
/// [`ErrorKind::PeerMisbehaved`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// A share carried evaluation point x = 0, which would be the secret itself.
    #[error("share evaluation point x = 0 is not allowed")]
    ZeroShareIndex,
    /// Two shares carried the same evaluation point.
    #[error("duplicate share evaluation point x = {x}")]
    DuplicateShareIndex {
        /// The repeated evaluation point.
        x: u64,
    },
    /// A weighted aggregate had no trailing weight word.
    #[error("weighted aggregate is missing its weight word")]
    MissingWeightWord,
    /// A word of an aggregate lies outside what the included clients can have produced:
    /// a client sent an out-of-range input, or the count of included clients is wrong.
    #[error("aggregate word {index} = {word} is outside {min}..={max}")]
    AggregateOutOfRange {
        /// The position of the word (the weight word is the last one).
        index: usize,
        /// The word found.
        word: u64,
        /// The smallest possible value.
        min: u64,
        /// The largest possible value.
        max: u64,
    },
    /// A share carried an evaluation point beyond the last client's, `id + 1` for
    /// `id = u32::MAX`, i.e. above 2^32.
    #[error("share evaluation point x = {x} is out of range (at most 2^32)")]
    ShareIndexOutOfRange {
        /// The offending evaluation point.
        x: u64,
    },
    /// A message arrived that belongs to another round than the one expected.
    #[error("unexpected message: expected one for round {expected}, found one for round {found}")]
    UnexpectedMessage {
        /// The round the receiver is in.
        expected: Round,
        /// The round of the message received.
        found: Round,
    },
    /// A message for a round that the server has already closed (it arrived late).
    #[error("round {round} is already closed")]
    RoundClosed {
        /// The round of the late message.
        round: Round,
    },
    /// A message from a client that the server already counts as dropped.
    #[error("client {client} already dropped out of the session")]
    DroppedClient {
        /// The client.
        client: ClientId,
    },
    /// A second message from the same client in the same round.
    #[error("client {client} already sent its message for round {round}")]
    DuplicateMessage {
        /// The client.
        client: ClientId,
        /// The round.
        round: Round,
    },
    /// A client id outside `0..n`.
    #[error("unknown client id {client}")]
    UnknownClient {
        /// The id.
        client: ClientId,
    },
    /// A message names, as a neighbor of `client`, a party that is not one.
    #[error("client {other} is not a neighbor of client {client}")]
    NotANeighbor {
        /// The client whose neighborhood was checked.
        client: ClientId,
        /// The party that is not its neighbor.
        other: ClientId,
    },
    /// A list names the same client twice.
    #[error("client {client} is listed twice")]
    DuplicateEntry {
        /// The repeated client.
        client: ClientId,
    },
    /// A list lacks an entry it must contain.
    #[error("the entry for client {client} is missing")]
    MissingEntry {
        /// The client whose entry is missing.
        client: ClientId,
    },
    /// The server's key list lacks the receiving client's own keys.
    #[error("the key list does not contain the receiving client's own keys")]
    MissingOwnKey,
    /// The server's key list holds keys for the receiving client that it never sent.
    #[error("the key list alters the receiving client's own keys")]
    OwnKeyMismatch,
    /// Two public keys in a key list (or two configured verifying keys) are equal.
    #[error("clients {first} and {second} have the same public key")]
    DuplicateKey {
        /// The client listed first.
        first: ClientId,
        /// The client listed second (may equal `first`: its two keys are equal).
        second: ClientId,
    },
    /// A signature required by the malicious model is missing.
    #[error("client {client}'s signature is missing")]
    MissingSignature {
        /// The client whose signature is missing.
        client: ClientId,
    },
    /// A signature was attached where the threat model has none.
    #[error("unexpected signature from client {client} in the semi-honest model")]
    UnexpectedSignature {
        /// The client whose signature was attached.
        client: ClientId,
    },
    /// The server lists as alive a neighbor that had already dropped out.
    #[error("client {client} is listed alive after it dropped out")]
    AliveAfterDead {
        /// The neighbor.
        client: ClientId,
    },
    /// The server's survivor list omits the receiving client itself.
    #[error("the survivor list omits the receiving client itself")]
    SelfListedDead,
    /// The server's survivor list differs from the one the client signed, or a
    /// signature comes from a client outside it.
    #[error("the survivor list is inconsistent with the one signed")]
    InconsistentSurvivors,
    /// A decrypted share plaintext names another sender or receiver than its envelope.
    #[error("shares from client {from} are addressed inconsistently")]
    MisaddressedShares {
        /// The sender named by the envelope.
        from: ClientId,
    },
    /// An unmasking response reveals the wrong kind of share for a neighbor.
    #[error("client {client} revealed the wrong kind of share of client {owner}")]
    WrongShareKind {
        /// The responder.
        client: ClientId,
        /// The neighbor whose share it is.
        owner: ClientId,
    },
    /// The server asks a client for its pairwise agreement with a party that is not an
    /// excluded neighbor whose shares the client holds (it is listed among the
    /// survivors, or the client accused it or never received its shares): revealing it
    /// would expose a mask that protects an input in the sum.
    #[error("the server asks for the pairwise secret with client {client}, which is not an excluded neighbor")]
    PairwiseNotExcluded {
        /// The party named by the request.
        client: ClientId,
    },
    /// A reconstructed masking key does not match the public key its owner advertised:
    /// some neighbor revealed a bad share.
    #[error("the reconstructed masking key of client {client} does not match its public key")]
    ReconstructionMismatch {
        /// The owner of the key.
        client: ClientId,
    },
    /// A masked input has the wrong number of vectors, a wrong length or words outside
    /// the ring.
    #[error("client {client}'s masked input does not match vector #{vector} of the configuration")]
    MaskedInputMismatch {
        /// The sender.
        client: ClientId,
        /// The first vector that does not match (or the count, if that differs).
        vector: usize,
    },
}

impl PeerMisbehaved {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            PeerMisbehaved::ZeroShareIndex => "ZeroShareIndex",
            PeerMisbehaved::DuplicateShareIndex { .. } => "DuplicateShareIndex",
            PeerMisbehaved::MissingWeightWord => "MissingWeightWord",
            PeerMisbehaved::AggregateOutOfRange { .. } => "AggregateOutOfRange",
            PeerMisbehaved::ShareIndexOutOfRange { .. } => "ShareIndexOutOfRange",
            PeerMisbehaved::UnexpectedMessage { .. } => "UnexpectedMessage",
            PeerMisbehaved::RoundClosed { .. } => "RoundClosed",
            PeerMisbehaved::DroppedClient { .. } => "DroppedClient",
            PeerMisbehaved::DuplicateMessage { .. } => "DuplicateMessage",
            PeerMisbehaved::UnknownClient { .. } => "UnknownClient",
            PeerMisbehaved::NotANeighbor { .. } => "NotANeighbor",
            PeerMisbehaved::DuplicateEntry { .. } => "DuplicateEntry",
            PeerMisbehaved::MissingEntry { .. } => "MissingEntry",
            PeerMisbehaved::MissingOwnKey => "MissingOwnKey",
            PeerMisbehaved::OwnKeyMismatch => "OwnKeyMismatch",
            PeerMisbehaved::DuplicateKey { .. } => "DuplicateKey",
            PeerMisbehaved::MissingSignature { .. } => "MissingSignature",
            PeerMisbehaved::UnexpectedSignature { .. } => "UnexpectedSignature",
            PeerMisbehaved::AliveAfterDead { .. } => "AliveAfterDead",
            PeerMisbehaved::SelfListedDead => "SelfListedDead",
            PeerMisbehaved::InconsistentSurvivors => "InconsistentSurvivors",
            PeerMisbehaved::MisaddressedShares { .. } => "MisaddressedShares",
            PeerMisbehaved::WrongShareKind { .. } => "WrongShareKind",
            PeerMisbehaved::PairwiseNotExcluded { .. } => "PairwiseNotExcluded",
            PeerMisbehaved::ReconstructionMismatch { .. } => "ReconstructionMismatch",
            PeerMisbehaved::MaskedInputMismatch { .. } => "MaskedInputMismatch",
        }
    }
}

/// Too few parties or shares remain for the threshold (kind [`ErrorKind::Threshold`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdError {
    /// Fewer shares than the threshold were supplied.
    #[error("not enough shares to reconstruct: need {needed}, have {got}")]
    NotEnoughShares {
        /// The threshold.
        needed: usize,
        /// The number supplied.
        got: usize,
    },
    /// Fewer than `t` neighbors remain from the receiving client's point of view.
    #[error("round {round}: only {got} neighbors remain, need {needed}")]
    TooFewNeighbors {
        /// The round the client was about to play.
        round: Round,
        /// The threshold.
        needed: usize,
        /// The neighbors remaining.
        got: usize,
    },
    /// Fewer than `t` valid consistency signatures from neighbors.
    #[error("only {got} consistency signatures from neighbors, need {needed}")]
    TooFewSignatures {
        /// The threshold.
        needed: usize,
        /// The valid signatures received.
        got: usize,
    },
    /// No set of survivors lets every remaining client keep `threshold` surviving
    /// neighbors: the server aborts.
    #[error("round {round} ended with {survivors} survivors, too few for each to keep {threshold} surviving neighbors")]
    TooFewSurvivors {
        /// The round that just closed.
        round: Round,
        /// The threshold.
        threshold: usize,
        /// The number of clients that answered in that round.
        survivors: usize,
    },
    /// A secret the server must reconstruct has fewer than `t` share holders left.
    #[error(
        "after round {round}, client {client}'s secret has {got} share holders left, need {needed}"
    )]
    CannotReconstruct {
        /// The round that just closed.
        round: Round,
        /// The client whose secret cannot be reconstructed.
        client: ClientId,
        /// The threshold.
        needed: usize,
        /// The share holders left.
        got: usize,
    },
}

impl ThresholdError {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            ThresholdError::NotEnoughShares { .. } => "NotEnoughShares",
            ThresholdError::TooFewNeighbors { .. } => "TooFewNeighbors",
            ThresholdError::TooFewSignatures { .. } => "TooFewSignatures",
            ThresholdError::TooFewSurvivors { .. } => "TooFewSurvivors",
            ThresholdError::CannotReconstruct { .. } => "CannotReconstruct",
        }
    }
}

/// The caller used the API in a way it does not allow: an invalid configuration or
/// parameter, an input of the wrong shape, a session that already ended (kind
/// [`ErrorKind::Misuse`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Misuse {
    /// A threshold outside 1..=n (or otherwise unusable) was requested.
    #[error("invalid threshold {threshold} for {parties} parties")]
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// The number of parties.
        parties: usize,
    },
    /// A quantization parameter was outside its allowed range.
    #[error("invalid quantization parameter {param}: must be {allowed}")]
    InvalidQuantParam {
        /// The parameter (`clip`, `bits`, `ring_bits`, `max_clients`, `max_weight`).
        param: &'static str,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// The ring is too narrow for the sum of `max_clients` clients, each contributing at
    /// most `max_weight * (2^quant_bits - 1)`, to be exact: it could wrap.
    #[error(
        "a {ring_bits}-bit ring is too narrow: {max_clients} clients x weight {max_weight} x (2^{quant_bits} - 1) needs {needed_bits} bits"
    )]
    RingTooNarrow {
        /// The ring width asked for.
        ring_bits: u32,
        /// The smallest ring width whose sum cannot wrap.
        needed_bits: u32,
        /// The quantization bits.
        quant_bits: u32,
        /// The maximum number of clients summed.
        max_clients: usize,
        /// The maximum weight of one client (1 when unweighted).
        max_weight: u64,
    },
    /// An input to quantize was NaN or infinite.
    #[error("input element {index} is not finite (NaN or infinity)")]
    NonFiniteInput {
        /// The position of the first such element.
        index: usize,
    },
    /// A client weight outside `1..=max_weight`.
    #[error("weight {weight} is outside 1..={max}")]
    WeightOutOfRange {
        /// The weight given.
        weight: u64,
        /// The largest weight the configuration allows (1 when unweighted).
        max: u64,
    },
    /// More included clients than the quantizer was configured for.
    #[error("{included} included clients exceed the configured maximum of {max}")]
    TooManyIncluded {
        /// The number of included clients given.
        included: usize,
        /// The configured maximum.
        max: usize,
    },
    /// Shares were combined with Lagrange coefficients computed for a different
    /// number of points.
    #[error("share count mismatch: coefficients are for {expected} shares, found {found}")]
    ShareCountMismatch {
        /// The number of points the coefficients were computed for.
        expected: usize,
        /// The number of shares supplied.
        found: usize,
    },
    /// A share's evaluation point differs from the point the Lagrange coefficients
    /// were computed for at the same position.
    #[error("share point mismatch: expected x = {expected}, found x = {found}")]
    SharePointMismatch {
        /// The point the coefficients expect at this position.
        expected: u64,
        /// The point of the share at this position.
        found: u64,
    },
    /// A caller-chosen length exceeds what the primitive allows (an HKDF output
    /// longer than 255 hash blocks, a vector name longer than a `u16` can count).
    #[error("{what} too long: at most {max} bytes, found {found}")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// The largest allowed length.
        max: usize,
        /// The length requested.
        found: usize,
    },
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
    /// A mask-expansion or X25519 backend was requested that this CPU does not support.
    #[error("backend {name} is not supported on this CPU")]
    UnsupportedBackend {
        /// The backend's name.
        name: &'static str,
    },
    /// A thread pool could not be created (benchmarks with an explicit thread count).
    #[error("could not create a thread pool")]
    ThreadPool,
    /// A client count of zero, or more clients than a [`crate::ids::ClientId`] can
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
    /// The threshold is too low: corrupt neighbors (or, in the malicious model, a
    /// server that splits views) could reconstruct an honest client's secrets.
    #[error("threshold {threshold} is insecure: at least {min} is required")]
    ThresholdTooLow {
        /// The threshold asked for.
        threshold: usize,
        /// The smallest secure threshold.
        min: usize,
    },
    /// The threshold is too high: too few neighbors are expected to survive.
    #[error("threshold {threshold} is too high: at most {max} neighbors are expected to survive")]
    ThresholdTooHigh {
        /// The threshold asked for.
        threshold: usize,
        /// The largest threshold that meets the correctness target.
        max: usize,
    },
    /// In the malicious model, `2 t <= degree`: two disjoint sets of honest neighbors
    /// could each reach the threshold, so a server telling them different stories
    /// would learn both secrets of a client.
    #[error("threshold {threshold} lets two disjoint sets of the {degree} neighbors reconstruct")]
    ThresholdSplitView {
        /// The threshold asked for.
        threshold: usize,
        /// The number of neighbors that hold shares.
        degree: usize,
    },
    /// A message to encode does not fit the session's threat model: a signature in the
    /// semi-honest model, or none where the malicious model needs one.
    #[error("{what} do not match the session's threat model")]
    ModelMismatch {
        /// The field.
        what: &'static str,
    },
    /// A stored state was made for another session (its session id differs from the
    /// configuration's).
    #[error("the stored state belongs to another session")]
    StateSessionMismatch,
    /// A configuration must name at least one vector, and at most 65,535.
    #[error("invalid number of vectors {count}: need 1..=65535")]
    InvalidVectorCount {
        /// The number of vectors given.
        count: usize,
    },
    /// A vector's length must be in 1..=2^32-1.
    #[error("vector #{index} has invalid length {dim}: need 1..=2^32-1")]
    InvalidVectorLength {
        /// Position of the vector in the configuration.
        index: usize,
        /// The length given.
        dim: usize,
    },
    /// Two vectors share a name.
    #[error("vector #{index} repeats the name of an earlier vector")]
    DuplicateVectorName {
        /// Position of the second vector with that name.
        index: usize,
    },
    /// The malicious model needs one Ed25519 verifying key per client; the semi-honest
    /// model takes none.
    #[error("expected {expected} verifying keys, found {found}")]
    VerifyingKeyCount {
        /// The number required.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// A client's Ed25519 verifying key has small order.
    #[error("client {client}'s verifying key is weak (small order)")]
    WeakVerifyingKey {
        /// The client.
        client: ClientId,
    },
    /// The signing key given to a client is missing (malicious model), unexpected
    /// (semi-honest model) or does not match the configured verifying key.
    #[error("client {client}'s signing key does not match the configuration")]
    SigningKeyMismatch {
        /// The client.
        client: ClientId,
    },
    /// The caller's input has the wrong number of vectors.
    #[error("input has {found} vectors, the configuration names {expected}")]
    InputCount {
        /// The number of vectors in the configuration.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// One of the caller's input vectors has the wrong length.
    #[error("input vector #{vector} has length {found}, expected {expected}")]
    InputLength {
        /// Position of the vector.
        vector: usize,
        /// The configured length.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// One of the caller's input vectors is not a vector over the configured ring (word
    /// type or a word out of range).
    #[error("input vector #{vector} is not reduced into its ring")]
    InputNotInRing {
        /// Position of the vector.
        vector: usize,
    },
    /// A client started without its input ([`Client::new_deferred`](crate::protocol::Client::new_deferred))
    /// was asked to mask it before [`Client::provide_inputs`](crate::protocol::Client::provide_inputs)
    /// gave it one. The client is left as it was.
    #[error("the client has no input yet: provide it before the masked-input round")]
    InputMissing,
    /// An input was given to a client that already has one, or that is past the round
    /// that masks it.
    #[error("a client in state {state} takes no input")]
    InputNotExpected {
        /// The client's state.
        state: &'static str,
    },
    /// A client was started with an id outside `0..n`: the caller's mistake, not another
    /// party's.
    #[error("client id {client} is out of range: the session has {n} clients (ids 0..{n})")]
    InvalidClientId {
        /// The id given.
        client: ClientId,
        /// The number of clients.
        n: usize,
    },
    /// The session already completed; it takes no more messages.
    #[error("the session already completed")]
    AlreadyCompleted,
    /// The session already aborted; it takes no more messages.
    #[error("the session already aborted")]
    AlreadyAborted,
}

impl Misuse {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            Misuse::InvalidThreshold { .. } => "InvalidThreshold",
            Misuse::InvalidQuantParam { .. } => "InvalidQuantParam",
            Misuse::RingTooNarrow { .. } => "RingTooNarrow",
            Misuse::NonFiniteInput { .. } => "NonFiniteInput",
            Misuse::WeightOutOfRange { .. } => "WeightOutOfRange",
            Misuse::TooManyIncluded { .. } => "TooManyIncluded",
            Misuse::ShareCountMismatch { .. } => "ShareCountMismatch",
            Misuse::SharePointMismatch { .. } => "SharePointMismatch",
            Misuse::TooLong { .. } => "TooLong",
            Misuse::InvalidRingBits { .. } => "InvalidRingBits",
            Misuse::InvalidModulus { .. } => "InvalidModulus",
            Misuse::VectorLengthMismatch { .. } => "VectorLengthMismatch",
            Misuse::RingMismatch => "RingMismatch",
            Misuse::UnsupportedBackend { .. } => "UnsupportedBackend",
            Misuse::ThreadPool => "ThreadPool",
            Misuse::InvalidClientCount { .. } => "InvalidClientCount",
            Misuse::InvalidDegree { .. } => "InvalidDegree",
            Misuse::OutOfRange { .. } => "OutOfRange",
            Misuse::NoFeasibleParams { .. } => "NoFeasibleParams",
            Misuse::DegreeTooLow { .. } => "DegreeTooLow",
            Misuse::ThresholdTooLow { .. } => "ThresholdTooLow",
            Misuse::ThresholdTooHigh { .. } => "ThresholdTooHigh",
            Misuse::ThresholdSplitView { .. } => "ThresholdSplitView",
            Misuse::ModelMismatch { .. } => "ModelMismatch",
            Misuse::StateSessionMismatch => "StateSessionMismatch",
            Misuse::InvalidVectorCount { .. } => "InvalidVectorCount",
            Misuse::InvalidVectorLength { .. } => "InvalidVectorLength",
            Misuse::DuplicateVectorName { .. } => "DuplicateVectorName",
            Misuse::VerifyingKeyCount { .. } => "VerifyingKeyCount",
            Misuse::WeakVerifyingKey { .. } => "WeakVerifyingKey",
            Misuse::SigningKeyMismatch { .. } => "SigningKeyMismatch",
            Misuse::InputCount { .. } => "InputCount",
            Misuse::InputLength { .. } => "InputLength",
            Misuse::InputNotInRing { .. } => "InputNotInRing",
            Misuse::InputMissing => "InputMissing",
            Misuse::InputNotExpected { .. } => "InputNotExpected",
            Misuse::InvalidClientId { .. } => "InvalidClientId",
            Misuse::AlreadyCompleted => "AlreadyCompleted",
            Misuse::AlreadyAborted => "AlreadyAborted",
        }
    }
}

/// A real number carried by an error (an ε, a δ, a budget), compared by its bits so
/// that errors stay `Eq`; displays as the `f64` does.
#[derive(Clone, Copy, Debug)]
pub struct Number(pub f64);

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Number {}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A differential-privacy request the crate refuses (`secagg::dp`): a target or
/// parameter out of range, a spent budget, a ring too narrow for the noise, an exact
/// sampler parameter too large for its integer arithmetic (kind [`ErrorKind::Misuse`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpError {
    /// ε must be a finite number above 0.
    #[error("invalid epsilon {epsilon}: must be finite and > 0")]
    InvalidEpsilon {
        /// The ε given.
        epsilon: Number,
    },
    /// δ must lie strictly between 0 and 1.
    #[error("invalid delta {delta}: must be in (0, 1)")]
    InvalidDelta {
        /// The δ given.
        delta: Number,
    },
    /// Another DP parameter (noise multiplier, clip, rate, rounds, order) was out of
    /// its range.
    #[error("invalid DP parameter {what}: must be {allowed}")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// The allowed range, in words.
        allowed: &'static str,
    },
    /// The privacy budget is spent: going on would exceed it.
    #[error("privacy budget exhausted: epsilon would reach {epsilon}, the budget is {budget}")]
    BudgetExhausted {
        /// The ε the run would have after the next step.
        epsilon: Number,
        /// The budget's ε.
        budget: Number,
    },
    /// The ring cannot hold the noised sum without wrapping more often than the
    /// analysis allows; `bits_needed` is the narrowest ring that can.
    #[error("a {bits}-bit ring is too narrow for the DP noise: {bits_needed} bits needed")]
    RingTooNarrowForNoise {
        /// The ring width asked for.
        bits: u32,
        /// The narrowest ring width that holds the noised sum.
        bits_needed: u32,
    },
    /// An exact sampler's parameter is too large (numerator or denominator) for its
    /// integer arithmetic.
    #[error("DP parameter {what} too large for exact integer arithmetic")]
    Overflow {
        /// Which parameter.
        what: &'static str,
    },
    /// A client's conditional rounding stayed above the norm bound `tries` times in a
    /// row (probability at most `β^tries` for an honest input; the DP pipeline).
    #[error("conditional rounding exceeded the norm bound {tries} times in a row")]
    RoundingFailed {
        /// The roundings tried.
        tries: u32,
    },
    /// The noise is calibrated for more survivors than the session tolerates losing, or
    /// no survivor's noise would count (`calibrated <= colluding`): a tolerated drop-out
    /// would leave less noise than the target.
    #[error(
        "DP noise calibrated for {calibrated} survivors, but the session tolerates down to {tolerated} and assumes {colluding} colluding clients"
    )]
    NoiseBelowTarget {
        /// The survivors the noise would be calibrated for.
        calibrated: usize,
        /// The fewest survivors the session tolerates (n minus tolerated drop-outs).
        tolerated: usize,
        /// Clients assumed to collude with the server.
        colluding: usize,
    },
    /// No noise level up to the search limit meets the target.
    #[error("no noise level meets the target (epsilon {epsilon}) for these parameters")]
    Unreachable {
        /// The target ε.
        epsilon: Number,
    },
}

impl DpError {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            DpError::InvalidEpsilon { .. } => "InvalidEpsilon",
            DpError::InvalidDelta { .. } => "InvalidDelta",
            DpError::InvalidParameter { .. } => "InvalidParameter",
            DpError::BudgetExhausted { .. } => "BudgetExhausted",
            DpError::RingTooNarrowForNoise { .. } => "RingTooNarrowForNoise",
            DpError::Overflow { .. } => "Overflow",
            DpError::Unreachable { .. } => "Unreachable",
            DpError::RoundingFailed { .. } => "RoundingFailed",
            DpError::NoiseBelowTarget { .. } => "NoiseBelowTarget",
        }
    }
}

/// Shorthand for `Result<T, secagg::Error>`.
pub type Result<T> = core::result::Result<T, Error>;
