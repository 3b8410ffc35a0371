//! The crate's one error type.
//!
//! Variants are grouped by [`ErrorKind`]: bytes that do not decode, a peer that broke
//! the protocol, a threshold that cannot be met, and misuse of the API by the caller.
//! No variant ever carries secret material; decryption failure is deliberately bare.

use core::fmt;

use crate::ids::{ClientId, Round};

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
    /// The network failed: a socket error, a closed connection, a timeout.
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

    // ---- quantize -------------------------------------------------------------------
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
    // ---- primitives (prim) ----------------------------------------------------------
    /// A share carried an evaluation point beyond the last client's, `id + 1` for
    /// `id = u32::MAX`, i.e. above 2^32.
    #[error("share evaluation point x = {x} is out of range (at most 2^32)")]
    ShareIndexOutOfRange {
        /// The offending evaluation point.
        x: u64,
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

    // ---- graph and parameters -------------------------------------------------------
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
    // ---- wire format ----------------------------------------------------------------
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

    // ---- net ------------------------------------------------------------------------
    /// A length-prefixed frame announced more bytes than the session allows; the
    /// connection is closed without reading (or allocating) the body.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The largest length accepted at this point.
        max: usize,
    },
    /// The peer closed the connection.
    #[error("connection closed by the peer during {during}")]
    ConnectionClosed {
        /// What was being read or written.
        during: &'static str,
    },
    /// A socket or file operation failed.
    #[error("i/o error during {op}: {kind}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The operating system's error category.
        kind: std::io::ErrorKind,
    },
    /// Nothing (or not enough) arrived before the deadline.
    #[error("timed out waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: &'static str,
    },
    /// A frame of a type that is not allowed at this point of the connection.
    #[error("unexpected frame type {found:#04x} while waiting for {expected}")]
    UnexpectedFrame {
        /// What was awaited.
        expected: &'static str,
        /// The frame type received.
        found: u8,
    },
    /// The peer speaks another version of the transport.
    #[error("unsupported transport version {found} (this build speaks {supported})")]
    TransportVersion {
        /// The version received.
        found: u8,
        /// The version this build speaks.
        supported: u8,
    },
    /// The server refused the connection.
    #[error("the server refused the connection: {reason}")]
    Rejected {
        /// Why, as reported by the server.
        reason: &'static str,
    },
    /// TLS could not be set up: an unreadable certificate or key, or a failed handshake.
    #[error("tls: {what}")]
    Tls {
        /// What failed.
        what: &'static str,
    },
    /// A line of a text input file is not a finite number.
    #[error("input line {line} is not a number")]
    InputParse {
        /// The line number (1-based).
        line: usize,
    },
    /// A `.npy` input file is not a one-dimensional little-endian float array.
    #[error("unsupported .npy input: {what}")]
    NpyFormat {
        /// What is wrong.
        what: &'static str,
    },
    // ---- protocol -------------------------------------------------------------------
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
    /// A message arrived that belongs to another round than the one expected.
    #[error("unexpected message: expected one for round {expected}, found one for round {found}")]
    UnexpectedMessage {
        /// The round the receiver is in.
        expected: Round,
        /// The round of the message received.
        found: Round,
    },
    /// The session already completed; it takes no more messages.
    #[error("the session already completed")]
    AlreadyCompleted,
    /// The session already aborted; it takes no more messages.
    #[error("the session already aborted")]
    AlreadyAborted,
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
    /// A message names, as a neighbour of `client`, a party that is not one.
    #[error("client {other} is not a neighbour of client {client}")]
    NotANeighbor {
        /// The client whose neighbourhood was checked.
        client: ClientId,
        /// The party that is not its neighbour.
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
    /// An Ed25519 signature did not verify.
    #[error("client {client}'s signature does not verify")]
    BadSignature {
        /// The alleged signer.
        client: ClientId,
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
    /// The server lists as alive a neighbour that had already dropped out.
    #[error("client {client} is listed alive after it dropped out")]
    AliveAfterDead {
        /// The neighbour.
        client: ClientId,
    },
    /// The server's survivor list omits the receiving client itself.
    #[error("the survivor list omits the receiving client itself")]
    SelfListedDead,
    /// The server's survivor list differs from the one the client signed, or a
    /// signature comes from a client outside it.
    #[error("the survivor list is inconsistent with the one signed")]
    InconsistentSurvivors,
    /// Fewer than `t` neighbours remain from the receiving client's point of view.
    #[error("round {round}: only {got} neighbours remain, need {needed}")]
    TooFewNeighbors {
        /// The round the client was about to play.
        round: Round,
        /// The threshold.
        needed: usize,
        /// The neighbours remaining.
        got: usize,
    },
    /// Fewer than `t` valid consistency signatures from neighbours.
    #[error("only {got} consistency signatures from neighbours, need {needed}")]
    TooFewSignatures {
        /// The threshold.
        needed: usize,
        /// The valid signatures received.
        got: usize,
    },
    /// A decrypted share plaintext names another sender or receiver than its envelope.
    #[error("shares from client {from} are addressed inconsistently")]
    MisaddressedShares {
        /// The sender named by the envelope.
        from: ClientId,
    },
    /// No set of survivors lets every remaining client keep `threshold` surviving
    /// neighbours: the server aborts.
    #[error("round {round} ended with {survivors} survivors, too few for each to keep {threshold} surviving neighbours")]
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
    /// An unmasking response reveals the wrong kind of share for a neighbour.
    #[error("client {client} revealed the wrong kind of share of client {owner}")]
    WrongShareKind {
        /// The responder.
        client: ClientId,
        /// The neighbour whose share it is.
        owner: ClientId,
    },
    /// A reconstructed masking key does not match the public key its owner advertised:
    /// some neighbour revealed a bad share.
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

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidLength { .. } | Error::NonCanonicalScalar => ErrorKind::Encoding,
            Error::NonContributory | Error::Decryption | Error::Rng => ErrorKind::Crypto,
            Error::ZeroShareIndex | Error::DuplicateShareIndex { .. } => ErrorKind::PeerMisbehaved,
            Error::NotEnoughShares { .. } => ErrorKind::Threshold,
            Error::InvalidThreshold { .. } => ErrorKind::Misuse,
            Error::InvalidQuantParam { .. }
            | Error::RingTooNarrow { .. }
            | Error::NonFiniteInput { .. }
            | Error::WeightOutOfRange { .. }
            | Error::TooManyIncluded { .. } => ErrorKind::Misuse,
            Error::MissingWeightWord | Error::AggregateOutOfRange { .. } => {
                ErrorKind::PeerMisbehaved
            }
            // ---- primitives (prim) ----
            Error::ShareIndexOutOfRange { .. } => ErrorKind::PeerMisbehaved,
            Error::ShareCountMismatch { .. }
            | Error::SharePointMismatch { .. }
            | Error::TooLong { .. } => ErrorKind::Misuse,
            Error::InvalidRingBits { .. }
            | Error::InvalidModulus { .. }
            | Error::VectorLengthMismatch { .. }
            | Error::RingMismatch
            | Error::UnsupportedBackend { .. }
            | Error::ThreadPool => ErrorKind::Misuse,
            Error::InvalidClientCount { .. }
            | Error::InvalidDegree { .. }
            | Error::OutOfRange { .. }
            | Error::NoFeasibleParams { .. }
            | Error::DegreeTooLow { .. }
            | Error::ThresholdTooLow { .. }
            | Error::ThresholdTooHigh { .. }
            | Error::ThresholdSplitView { .. } => ErrorKind::Misuse,
            // ---- net ----
            Error::FrameTooLarge { .. }
            | Error::UnexpectedFrame { .. }
            | Error::TransportVersion { .. } => ErrorKind::PeerMisbehaved,
            Error::ConnectionClosed { .. }
            | Error::Io { .. }
            | Error::Timeout { .. }
            | Error::Rejected { .. } => ErrorKind::Transport,
            Error::Tls { .. } => ErrorKind::Crypto,
            Error::InputParse { .. } | Error::NpyFormat { .. } => ErrorKind::Misuse,
            // ---- wire format ----
            Error::Truncated { .. }
            | Error::TrailingBytes { .. }
            | Error::UnknownVersion { .. }
            | Error::UnknownMessageType { .. }
            | Error::LengthTooLarge { .. }
            | Error::LengthTooSmall { .. }
            | Error::NonZeroPadding { .. }
            | Error::WordOutOfRange { .. }
            | Error::InvalidTag { .. }
            | Error::UnsortedIds { .. }
            | Error::ClientIdOutOfRange { .. }
            | Error::NonCanonicalPublicKey
            | Error::InvalidVerifyingKey => ErrorKind::Encoding,
            Error::ModelMismatch { .. } | Error::StateSessionMismatch => ErrorKind::Misuse,
            // ---- protocol ----
            Error::InvalidVectorCount { .. }
            | Error::InvalidVectorLength { .. }
            | Error::DuplicateVectorName { .. }
            | Error::VerifyingKeyCount { .. }
            | Error::WeakVerifyingKey { .. }
            | Error::SigningKeyMismatch { .. }
            | Error::InputCount { .. }
            | Error::InputLength { .. }
            | Error::InputNotInRing { .. }
            | Error::AlreadyCompleted
            | Error::AlreadyAborted => ErrorKind::Misuse,
            Error::UnexpectedMessage { .. }
            | Error::RoundClosed { .. }
            | Error::DroppedClient { .. }
            | Error::DuplicateMessage { .. }
            | Error::UnknownClient { .. }
            | Error::NotANeighbor { .. }
            | Error::DuplicateEntry { .. }
            | Error::MissingEntry { .. }
            | Error::MissingOwnKey
            | Error::OwnKeyMismatch
            | Error::DuplicateKey { .. }
            | Error::MissingSignature { .. }
            | Error::UnexpectedSignature { .. }
            | Error::AliveAfterDead { .. }
            | Error::SelfListedDead
            | Error::InconsistentSurvivors
            | Error::MisaddressedShares { .. }
            | Error::WrongShareKind { .. }
            | Error::ReconstructionMismatch { .. }
            | Error::MaskedInputMismatch { .. } => ErrorKind::PeerMisbehaved,
            Error::BadSignature { .. } => ErrorKind::Crypto,
            Error::TooFewNeighbors { .. }
            | Error::TooFewSignatures { .. }
            | Error::TooFewSurvivors { .. }
            | Error::CannotReconstruct { .. } => ErrorKind::Threshold,
        }
    }
}

/// Shorthand for `Result<T, secagg::Error>`.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every variant; extend it when a variant is added (and give the
    /// new variant the next index in [`variant_index`]).
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
            Error::InvalidQuantParam {
                param: "bits",
                allowed: "1..=53",
            },
            Error::RingTooNarrow {
                ring_bits: 20,
                needed_bits: 21,
                quant_bits: 16,
                max_clients: 17,
                max_weight: 1,
            },
            Error::NonFiniteInput { index: 4 },
            Error::WeightOutOfRange { weight: 0, max: 10 },
            Error::TooManyIncluded {
                included: 11,
                max: 10,
            },
            Error::MissingWeightWord,
            Error::AggregateOutOfRange {
                index: 2,
                word: 1 << 20,
                min: 0,
                max: 65535,
            },
            // ---- primitives (prim) ----
            Error::ShareIndexOutOfRange { x: 1 << 33 },
            Error::ShareCountMismatch {
                expected: 3,
                found: 2,
            },
            Error::SharePointMismatch {
                expected: 2,
                found: 5,
            },
            Error::TooLong {
                what: "hkdf-sha256 output",
                max: 8160,
                found: 8161,
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
            // ---- net ----
            Error::FrameTooLarge {
                len: 1 << 31,
                max: 4096,
            },
            Error::ConnectionClosed { during: "hello" },
            Error::Io {
                op: "connect",
                kind: std::io::ErrorKind::ConnectionRefused,
            },
            Error::Timeout {
                what: "the server's next message",
            },
            Error::UnexpectedFrame {
                expected: "hello",
                found: 0x7f,
            },
            Error::TransportVersion {
                found: 9,
                supported: 1,
            },
            Error::Rejected {
                reason: "duplicate client id",
            },
            Error::Tls {
                what: "handshake failed",
            },
            Error::InputParse { line: 3 },
            Error::NpyFormat {
                what: "not version 1.0",
            },
            // ---- wire format ----
            Error::Truncated {
                what: "public key",
                needed: 32,
                remaining: 3,
            },
            Error::TrailingBytes { count: 1 },
            Error::UnknownVersion {
                found: 9,
                expected: 1,
            },
            Error::UnknownMessageType { found: 0x7f },
            Error::LengthTooLarge {
                what: "key list entries",
                max: 30,
                found: 31,
            },
            Error::LengthTooSmall {
                what: "sealed shares",
                min: 28,
                found: 3,
            },
            Error::NonZeroPadding {
                what: "packed ring vector",
            },
            Error::WordOutOfRange { index: 7 },
            Error::InvalidTag {
                what: "share kind",
                found: 2,
            },
            Error::UnsortedIds {
                what: "key list",
                index: 1,
            },
            Error::ClientIdOutOfRange {
                what: "key list",
                id: 10,
                n: 10,
            },
            Error::NonCanonicalPublicKey,
            Error::InvalidVerifyingKey,
            Error::ModelMismatch {
                what: "advertised keys",
            },
            Error::StateSessionMismatch,
            // ---- protocol ----
            Error::InvalidVectorCount { count: 0 },
            Error::InvalidVectorLength { index: 0, dim: 0 },
            Error::DuplicateVectorName { index: 1 },
            Error::VerifyingKeyCount {
                expected: 5,
                found: 4,
            },
            Error::WeakVerifyingKey { client: 2 },
            Error::SigningKeyMismatch { client: 2 },
            Error::InputCount {
                expected: 1,
                found: 2,
            },
            Error::InputLength {
                vector: 0,
                expected: 10,
                found: 9,
            },
            Error::InputNotInRing { vector: 0 },
            Error::UnexpectedMessage {
                expected: Round::ShareKeys,
                found: Round::Unmasking,
            },
            Error::AlreadyCompleted,
            Error::AlreadyAborted,
            Error::RoundClosed {
                round: Round::AdvertiseKeys,
            },
            Error::DroppedClient { client: 3 },
            Error::DuplicateMessage {
                client: 3,
                round: Round::ShareKeys,
            },
            Error::UnknownClient { client: 99 },
            Error::NotANeighbor {
                client: 1,
                other: 4,
            },
            Error::DuplicateEntry { client: 1 },
            Error::MissingEntry { client: 1 },
            Error::MissingOwnKey,
            Error::OwnKeyMismatch,
            Error::DuplicateKey {
                first: 1,
                second: 2,
            },
            Error::BadSignature { client: 1 },
            Error::MissingSignature { client: 1 },
            Error::UnexpectedSignature { client: 1 },
            Error::AliveAfterDead { client: 1 },
            Error::SelfListedDead,
            Error::InconsistentSurvivors,
            Error::TooFewNeighbors {
                round: Round::ShareKeys,
                needed: 3,
                got: 2,
            },
            Error::TooFewSignatures { needed: 3, got: 2 },
            Error::MisaddressedShares { from: 1 },
            Error::TooFewSurvivors {
                round: Round::MaskedInputCollection,
                threshold: 3,
                survivors: 2,
            },
            Error::CannotReconstruct {
                round: Round::Unmasking,
                client: 1,
                needed: 3,
                got: 2,
            },
            Error::WrongShareKind {
                client: 1,
                owner: 2,
            },
            Error::ReconstructionMismatch { client: 1 },
            Error::MaskedInputMismatch {
                client: 1,
                vector: 0,
            },
        ]
    }

    /// The variant names declared in this file's `pub enum Error`, read from the source
    /// so that a new variant fails the test below until [`every_variant`] lists it.
    fn declared_variants() -> Vec<String> {
        let src = include_str!("error.rs");
        let body = src
            .split_once("pub enum Error {\n")
            .and_then(|(_, rest)| rest.split_once("\n}\n"))
            .map(|(body, _)| body)
            .unwrap_or("");
        body.lines()
            .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
            .map(str::trim)
            .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|l| {
                l.split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn every_variant_is_listed_once() {
        let declared = declared_variants();
        assert!(declared.len() >= 9, "parsed {declared:?}");
        let mut listed: Vec<String> = every_variant()
            .iter()
            .map(|e| {
                format!("{e:?}")
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        listed.sort();
        let mut declared_sorted = declared.clone();
        declared_sorted.sort();
        assert_eq!(listed, declared_sorted);
    }

    #[test]
    fn every_variant_displays_and_has_a_kind() {
        let mut shown = std::collections::BTreeSet::new();
        for e in every_variant() {
            let s = e.to_string();
            assert!(!s.is_empty());
            assert!(shown.insert(s), "two variants display alike: {e:?}");
            assert!(!format!("{e:?}").is_empty());
            assert!(!e.kind().to_string().is_empty());
        }
    }

    #[test]
    fn display_texts() {
        assert_eq!(
            Error::InvalidLength {
                what: "x25519 public key",
                expected: 32,
                found: 31
            }
            .to_string(),
            "invalid length for x25519 public key: expected 32 bytes, found 31"
        );
        assert_eq!(
            Error::SharePointMismatch {
                expected: 2,
                found: 5
            }
            .to_string(),
            "share point mismatch: expected x = 2, found x = 5"
        );
        assert_eq!(
            Error::TooLong {
                what: "vector name",
                max: 65535,
                found: 65536
            }
            .to_string(),
            "vector name too long: at most 65535 bytes, found 65536"
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(Error::Decryption.kind(), ErrorKind::Crypto);
        assert_eq!(Error::NonContributory.kind(), ErrorKind::Crypto);
        assert_eq!(Error::NonCanonicalScalar.kind(), ErrorKind::Encoding);
        assert_eq!(Error::ZeroShareIndex.kind(), ErrorKind::PeerMisbehaved);
        assert_eq!(
            Error::ShareIndexOutOfRange { x: 0 }.kind(),
            ErrorKind::PeerMisbehaved
        );
        assert_eq!(
            Error::NotEnoughShares { needed: 2, got: 1 }.kind(),
            ErrorKind::Threshold
        );
        assert_eq!(
            Error::SharePointMismatch {
                expected: 1,
                found: 2
            }
            .kind(),
            ErrorKind::Misuse
        );
    }

    #[test]
    fn decryption_error_is_bare() {
        assert_eq!(Error::Decryption.to_string(), "decryption failed");
    }
}
