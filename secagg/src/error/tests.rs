//! Every variant listed once, with a stable name, a distinct message and a kind.

use super::*;

/// One value of every [`EncodingError`] variant; extend it when a variant is added.
fn encoding() -> Vec<EncodingError> {
    vec![
        EncodingError::InvalidLength {
            what: "public key",
            expected: 32,
            found: 31,
        },
        EncodingError::NonCanonicalScalar,
        EncodingError::Truncated {
            what: "public key",
            needed: 32,
            remaining: 3,
        },
        EncodingError::TrailingBytes { count: 1 },
        EncodingError::UnknownVersion {
            found: 9,
            expected: 1,
        },
        EncodingError::UnknownMessageType { found: 0x7f },
        EncodingError::LengthTooLarge {
            what: "key list entries",
            max: 30,
            found: 31,
        },
        EncodingError::LengthTooSmall {
            what: "sealed shares",
            min: 28,
            found: 3,
        },
        EncodingError::NonZeroPadding {
            what: "packed ring vector",
        },
        EncodingError::WordOutOfRange { index: 7 },
        EncodingError::InvalidTag {
            what: "share kind",
            found: 2,
        },
        EncodingError::UnsortedIds {
            what: "key list",
            index: 1,
        },
        EncodingError::ClientIdOutOfRange {
            what: "key list",
            id: 10,
            n: 10,
        },
        EncodingError::NonCanonicalPublicKey,
        EncodingError::InvalidVerifyingKey,
    ]
}

/// One value of every [`CryptoError`] variant; extend it when a variant is added.
fn crypto() -> Vec<CryptoError> {
    vec![
        CryptoError::NonContributory,
        CryptoError::Decryption,
        CryptoError::Rng,
        CryptoError::BadSignature { client: 1 },
    ]
}

/// One value of every [`PeerMisbehaved`] variant; extend it when a variant is added.
fn peer_misbehaved() -> Vec<PeerMisbehaved> {
    vec![
        PeerMisbehaved::ZeroShareIndex,
        PeerMisbehaved::DuplicateShareIndex { x: 3 },
        PeerMisbehaved::MissingWeightWord,
        PeerMisbehaved::AggregateOutOfRange {
            index: 2,
            word: 1 << 20,
            min: 0,
            max: 65535,
        },
        PeerMisbehaved::ShareIndexOutOfRange { x: 1 << 33 },
        PeerMisbehaved::UnexpectedMessage {
            expected: Round::ShareKeys,
            found: Round::Unmasking,
        },
        PeerMisbehaved::RoundClosed {
            round: Round::AdvertiseKeys,
        },
        PeerMisbehaved::DroppedClient { client: 3 },
        PeerMisbehaved::DuplicateMessage {
            client: 3,
            round: Round::ShareKeys,
        },
        PeerMisbehaved::UnknownClient { client: 99 },
        PeerMisbehaved::NotANeighbor {
            client: 1,
            other: 4,
        },
        PeerMisbehaved::DuplicateEntry { client: 1 },
        PeerMisbehaved::MissingEntry { client: 1 },
        PeerMisbehaved::MissingOwnKey,
        PeerMisbehaved::OwnKeyMismatch,
        PeerMisbehaved::DuplicateKey {
            first: 1,
            second: 2,
        },
        PeerMisbehaved::MissingSignature { client: 1 },
        PeerMisbehaved::UnexpectedSignature { client: 1 },
        PeerMisbehaved::AliveAfterDead { client: 1 },
        PeerMisbehaved::SelfListedDead,
        PeerMisbehaved::InconsistentSurvivors,
        PeerMisbehaved::MisaddressedShares { from: 1 },
        PeerMisbehaved::WrongShareKind {
            client: 1,
            owner: 2,
        },
        PeerMisbehaved::PairwiseNotExcluded { client: 1 },
        PeerMisbehaved::ReconstructionMismatch { client: 1 },
        PeerMisbehaved::MaskedInputMismatch {
            client: 1,
            vector: 0,
        },
    ]
}

/// One value of every [`ThresholdError`] variant; extend it when a variant is added.
fn threshold() -> Vec<ThresholdError> {
    vec![
        ThresholdError::NotEnoughShares { needed: 3, got: 2 },
        ThresholdError::TooFewNeighbors {
            round: Round::ShareKeys,
            needed: 3,
            got: 2,
        },
        ThresholdError::TooFewSignatures { needed: 3, got: 2 },
        ThresholdError::TooFewSurvivors {
            round: Round::MaskedInputCollection,
            threshold: 3,
            survivors: 2,
        },
        ThresholdError::CannotReconstruct {
            round: Round::Unmasking,
            client: 1,
            needed: 3,
            got: 2,
        },
    ]
}

/// One value of every [`Misuse`] variant; extend it when a variant is added.
fn misuse() -> Vec<Misuse> {
    vec![
        Misuse::InvalidThreshold {
            threshold: 0,
            parties: 5,
        },
        Misuse::InvalidQuantParam {
            param: "bits",
            allowed: "1..=53",
        },
        Misuse::RingTooNarrow {
            ring_bits: 20,
            needed_bits: 21,
            quant_bits: 16,
            max_clients: 17,
            max_weight: 1,
        },
        Misuse::NonFiniteInput { index: 4 },
        Misuse::WeightOutOfRange { weight: 0, max: 10 },
        Misuse::TooManyIncluded {
            included: 11,
            max: 10,
        },
        Misuse::ShareCountMismatch {
            expected: 3,
            found: 2,
        },
        Misuse::SharePointMismatch {
            expected: 2,
            found: 5,
        },
        Misuse::TooLong {
            what: "hkdf-sha256 output",
            max: 8160,
            found: 8161,
        },
        Misuse::InvalidRingBits { bits: 65 },
        Misuse::InvalidModulus { m: 4 },
        Misuse::VectorLengthMismatch {
            expected: 3,
            found: 4,
        },
        Misuse::RingMismatch,
        Misuse::UnsupportedBackend { name: "vaes512" },
        Misuse::ThreadPool,
        Misuse::InvalidClientCount { n: 0 },
        Misuse::InvalidDegree { degree: 0, n: 10 },
        Misuse::OutOfRange {
            what: "dropout rate",
            allowed: "in [0, 1)",
        },
        Misuse::NoFeasibleParams { n: 10 },
        Misuse::DegreeTooLow { degree: 2, n: 1000 },
        Misuse::ThresholdTooLow {
            threshold: 2,
            min: 17,
        },
        Misuse::ThresholdTooHigh {
            threshold: 29,
            max: 22,
        },
        Misuse::ThresholdSplitView {
            threshold: 5,
            degree: 10,
        },
        Misuse::ModelMismatch {
            what: "advertised keys",
        },
        Misuse::StateSessionMismatch,
        Misuse::InvalidVectorCount { count: 0 },
        Misuse::InvalidVectorLength { index: 0, dim: 0 },
        Misuse::DuplicateVectorName { index: 1 },
        Misuse::VerifyingKeyCount {
            expected: 5,
            found: 4,
        },
        Misuse::WeakVerifyingKey { client: 2 },
        Misuse::SigningKeyMismatch { client: 2 },
        Misuse::InputCount {
            expected: 1,
            found: 2,
        },
        Misuse::InputLength {
            vector: 0,
            expected: 10,
            found: 9,
        },
        Misuse::InputNotInRing { vector: 0 },
        Misuse::InputMissing,
        Misuse::InputNotExpected { state: "InputSent" },
        Misuse::InvalidClientId { client: 9, n: 5 },
        Misuse::AlreadyCompleted,
        Misuse::AlreadyAborted,
    ]
}

/// One value of every [`DpError`] variant; extend it when a variant is added.
fn dp() -> Vec<DpError> {
    vec![
        DpError::InvalidEpsilon {
            epsilon: Number(-1.0),
        },
        DpError::InvalidDelta { delta: Number(1.0) },
        DpError::InvalidParameter {
            what: "noise multiplier",
            allowed: "finite and > 0",
        },
        DpError::BudgetExhausted {
            epsilon: Number(8.5),
            budget: Number(8.0),
        },
        DpError::RingTooNarrowForNoise {
            bits: 8,
            bits_needed: 17,
        },
        DpError::Overflow { what: "sigma^2" },
        DpError::RoundingFailed { tries: 1000 },
        DpError::NoiseBelowTarget {
            calibrated: 90,
            tolerated: 80,
            colluding: 5,
        },
        DpError::Unreachable {
            epsilon: Number(1e-9),
        },
    ]
}

/// One value of every variant of every category.
fn every_variant() -> Vec<Error> {
    let mut all: Vec<Error> = Vec::new();
    all.extend(encoding().into_iter().map(Error::from));
    all.extend(crypto().into_iter().map(Error::from));
    all.extend(peer_misbehaved().into_iter().map(Error::from));
    all.extend(threshold().into_iter().map(Error::from));
    all.extend(misuse().into_iter().map(Error::from));
    all.extend(dp().into_iter().map(Error::from));
    all
}

/// The variant names declared in `pub enum NAME` of `mod.rs`, read from the source so
/// that a new variant fails the tests below until the list of its category names it.
fn declared_variants(name: &str) -> Vec<String> {
    let src = include_str!("mod.rs");
    let body = src
        .split_once(&format!("pub enum {name} {{\n"))
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

/// Asserts that `listed` (the names of one value per variant) are non-empty, unique and
/// exactly the variants declared in `pub enum NAME`.
fn assert_listed_once(name: &str, listed: Vec<&'static str>) {
    let declared = declared_variants(name);
    assert!(!declared.is_empty(), "no variants parsed for {name}");
    assert!(listed.iter().all(|n| !n.is_empty()), "{name}: empty name");
    let unique: std::collections::BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "{name}: a name repeats: {listed:?}"
    );
    let mut listed: Vec<String> = listed.into_iter().map(String::from).collect();
    listed.sort();
    let mut declared_sorted = declared;
    declared_sorted.sort();
    assert_eq!(listed, declared_sorted, "{name}");
}

#[test]
fn every_variant_is_listed_once() {
    assert_listed_once(
        "EncodingError",
        encoding().iter().map(EncodingError::name).collect(),
    );
    assert_listed_once(
        "CryptoError",
        crypto().iter().map(CryptoError::name).collect(),
    );
    assert_listed_once(
        "PeerMisbehaved",
        peer_misbehaved().iter().map(PeerMisbehaved::name).collect(),
    );
    assert_listed_once(
        "ThresholdError",
        threshold().iter().map(ThresholdError::name).collect(),
    );
    assert_listed_once("Misuse", misuse().iter().map(Misuse::name).collect());
    assert_listed_once("DpError", dp().iter().map(DpError::name).collect());
    // The categories themselves, and names unique across all of them (the Python
    // bindings expose the name without its category).
    assert_eq!(
        declared_variants("Error"),
        [
            "Encoding",
            "Crypto",
            "PeerMisbehaved",
            "Threshold",
            "Misuse",
            "Dp"
        ]
    );
    let all = every_variant();
    let names: std::collections::BTreeSet<&str> = all.iter().map(Error::name).collect();
    assert_eq!(names.len(), all.len());
    assert!(all.len() >= 9);
}

#[test]
fn every_variant_displays_and_has_a_kind() {
    let mut shown = std::collections::BTreeSet::new();
    for e in every_variant() {
        let s = e.to_string();
        assert!(!s.is_empty());
        assert!(shown.insert(s), "two variants display alike: {}", e.name());
        assert!(!format!("{e:?}").is_empty());
        assert!(!e.kind().to_string().is_empty());
    }
}

#[test]
fn each_category_is_one_kind() {
    let cases: [(Vec<Error>, ErrorKind); 6] = [
        (
            encoding().into_iter().map(Error::from).collect(),
            ErrorKind::Encoding,
        ),
        (
            crypto().into_iter().map(Error::from).collect(),
            ErrorKind::Crypto,
        ),
        (
            peer_misbehaved().into_iter().map(Error::from).collect(),
            ErrorKind::PeerMisbehaved,
        ),
        (
            threshold().into_iter().map(Error::from).collect(),
            ErrorKind::Threshold,
        ),
        (
            misuse().into_iter().map(Error::from).collect(),
            ErrorKind::Misuse,
        ),
        (
            dp().into_iter().map(Error::from).collect(),
            ErrorKind::Misuse,
        ),
    ];
    for (errors, kind) in cases {
        for e in errors {
            assert_eq!(e.kind(), kind, "{}", e.name());
            assert_ne!(e.kind(), ErrorKind::Transport);
        }
    }
}

#[test]
fn names_are_stable() {
    // Python users see these as `.variant` and `.name`: changing one is a breaking change.
    let table: [(Error, &str); 8] = [
        (
            EncodingError::Truncated {
                what: "public key",
                needed: 32,
                remaining: 3,
            }
            .into(),
            "Truncated",
        ),
        (
            EncodingError::NonCanonicalScalar.into(),
            "NonCanonicalScalar",
        ),
        (CryptoError::Decryption.into(), "Decryption"),
        (
            PeerMisbehaved::AggregateOutOfRange {
                index: 0,
                word: 9,
                min: 0,
                max: 1,
            }
            .into(),
            "AggregateOutOfRange",
        ),
        (
            ThresholdError::TooFewSurvivors {
                round: Round::MaskedInputCollection,
                threshold: 3,
                survivors: 2,
            }
            .into(),
            "TooFewSurvivors",
        ),
        (
            Misuse::RingTooNarrow {
                ring_bits: 20,
                needed_bits: 21,
                quant_bits: 16,
                max_clients: 17,
                max_weight: 1,
            }
            .into(),
            "RingTooNarrow",
        ),
        (Misuse::AlreadyAborted.into(), "AlreadyAborted"),
        (
            Misuse::VectorLengthMismatch {
                expected: 3,
                found: 4,
            }
            .into(),
            "VectorLengthMismatch",
        ),
    ];
    for (e, name) in table {
        assert_eq!(e.name(), name);
    }
    assert_eq!(CryptoError::Decryption.name(), "Decryption");
    assert_eq!(Misuse::StateSessionMismatch.name(), "StateSessionMismatch");
}

#[test]
fn display_texts() {
    assert_eq!(
        Error::Encoding(EncodingError::InvalidLength {
            what: "x25519 public key",
            expected: 32,
            found: 31
        })
        .to_string(),
        "invalid length for x25519 public key: expected 32 bytes, found 31"
    );
    assert_eq!(
        Error::Misuse(Misuse::SharePointMismatch {
            expected: 2,
            found: 5
        })
        .to_string(),
        "share point mismatch: expected x = 2, found x = 5"
    );
    assert_eq!(
        Error::Misuse(Misuse::TooLong {
            what: "vector name",
            max: 65535,
            found: 65536
        })
        .to_string(),
        "vector name too long: at most 65535 bytes, found 65536"
    );
}

#[test]
fn kinds() {
    assert_eq!(
        Error::Crypto(CryptoError::Decryption).kind(),
        ErrorKind::Crypto
    );
    assert_eq!(
        Error::Crypto(CryptoError::NonContributory).kind(),
        ErrorKind::Crypto
    );
    assert_eq!(
        Error::Encoding(EncodingError::NonCanonicalScalar).kind(),
        ErrorKind::Encoding
    );
    assert_eq!(
        Error::PeerMisbehaved(PeerMisbehaved::ZeroShareIndex).kind(),
        ErrorKind::PeerMisbehaved
    );
    assert_eq!(
        Error::PeerMisbehaved(PeerMisbehaved::ShareIndexOutOfRange { x: 0 }).kind(),
        ErrorKind::PeerMisbehaved
    );
    assert_eq!(
        Error::Threshold(ThresholdError::NotEnoughShares { needed: 2, got: 1 }).kind(),
        ErrorKind::Threshold
    );
    assert_eq!(
        Error::Misuse(Misuse::SharePointMismatch {
            expected: 1,
            found: 2
        })
        .kind(),
        ErrorKind::Misuse
    );
}

#[test]
fn decryption_error_is_bare() {
    assert_eq!(
        Error::Crypto(CryptoError::Decryption).to_string(),
        "decryption failed"
    );
}
