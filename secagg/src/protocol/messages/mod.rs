//! The messages of one session, as plain Rust data.
//!
//! Clients send [`ClientMessage`]s to the server; the server answers each surviving
//! client with a [`ServerMessage`] when it closes a round. Every message belongs to one
//! [`Round`]: a client message to the round in which it is sent, a server message to the
//! round whose client message it asks for (a [`KeyList`] opens round
//! [`Round::ShareKeys`]). These types hold nothing that is not meant for their recipient
//! (shares travel sealed, except in the unmasking round whose whole point is to reveal
//! them to the server).
//!
//! Their byte encodings sit beside them in `protocol/messages/encoding.rs`
//! (`docs/wire-format.md`), written with the crate's protocol-free codec (`wire`); [`MessageLimits`] gives the largest
//! encoding of each message a session's configuration allows, which a transport uses to
//! bound its frames.

use ed25519_dalek::Signature;
use subtle::ConstantTimeEq;

use crate::crypto::aead::OVERHEAD;
use crate::crypto::shamir::SCALAR_LEN;
use crate::ids::{ClientId, Round};
use crate::ring::RingVec;

pub(crate) mod encoding;
mod limits;

pub use encoding::msg_type;
pub use limits::MessageLimits;

/// The key and share types the messages carry.
pub use crate::crypto::{
    keys::{PublicKey, SharedSecret},
    shamir::Share,
};

/// Length of a share plaintext: sender, receiver, two scalars.
pub const SHARE_PLAINTEXT_LEN: usize = 4 + 4 + 2 * SCALAR_LEN;

/// Length of one sealed pair of shares on the wire ([`SealedShares::ciphertext`]): the
/// share plaintext sealed with AES-256-GCM (nonce and tag added).
pub const SEALED_SHARES_LEN: usize = SHARE_PLAINTEXT_LEN + OVERHEAD;

// ---- client → server --------------------------------------------------------------

/// Round 0: a client's two fresh X25519 public keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdvertiseKeys {
    /// Key for sealing shares (`c_u^PK` in Bonawitz et al.).
    pub enc_pk: PublicKey,
    /// Key for pairwise masks (`s_u^PK`).
    pub mask_pk: PublicKey,
    /// Malicious model: the client's Ed25519 signature over
    /// [`crate::protocol::transcript::advertise`]; `None` in the semi-honest model.
    pub signature: Option<Signature>,
}

/// One sealed pair of shares, as sent by its author (round 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedShares {
    /// The neighbor that can open it.
    pub to: ClientId,
    /// `nonce || ciphertext || tag` (see [`crate::crypto::aead::seal`]).
    pub ciphertext: Vec<u8>,
}

/// Round 1: the client's shares of its masking key and self-mask secret, one sealed
/// pair per neighbor in its key list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareKeys {
    /// One entry per neighbor, sorted by recipient.
    pub shares: Vec<SealedShares>,
}

/// Round 2: the masked input, one ring vector per configured vector, in order, and the
/// client's accusations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskedInput {
    /// The neighbors whose routed shares this client could not use (the ciphertext did
    /// not open, or the plaintext was malformed), strictly ascending. The client
    /// treated each of them as dropped: it holds no share of theirs and added no
    /// pairwise mask with them. The server excludes every accused client from the sum
    /// (`docs/threat-model.md`, "Exclusion").
    pub accused: Vec<ClientId>,
    /// `y_u` for each named vector.
    pub vectors: Vec<RingVec>,
}

/// Round 3 (malicious model): the client's signature over the survivor set it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsistencySignature {
    /// Ed25519 signature over [`crate::protocol::transcript::consistency`].
    pub signature: Signature,
}

/// Which of a neighbor's secrets a client revealed in round 4: a share of one of the
/// neighbor's two secrets, or (for an excluded neighbor whose masking key cannot be
/// rebuilt) the pairwise agreement with it. A client reveals exactly one of the three
/// per neighbor whose shares it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShareKind {
    /// A share of the neighbor's self-mask secret `b_v` (the neighbor survived).
    SelfMask,
    /// A share of the neighbor's masking secret key (the neighbor dropped out).
    MaskKey,
    /// Not a share: the X25519 agreement of the client's masking key with the
    /// neighbor's, from which their pairwise mask seeds are derived
    /// ([`RevealedPairwise`]). Revealed only for a neighbor outside `U3` that the
    /// server asks for ([`UnmaskRequest::pairwise`]): an excluded client whose masking
    /// key has fewer than `t` holders in `U3` (`docs/protocol.md`, "Round 4").
    PairwiseSecret,
}

/// One share revealed to the server in round 4.
#[derive(Clone, Debug)]
pub struct RevealedShare {
    /// The neighbor whose secret this is a share of.
    pub owner: ClientId,
    /// Which secret.
    pub kind: ShareKind,
    /// The share (its point is the sender's `id + 1`).
    pub share: Share,
}

impl PartialEq for RevealedShare {
    fn eq(&self, other: &Self) -> bool {
        self.owner == other.owner
            && self.kind == other.kind
            && self.share.x() == other.share.x()
            && bool::from(self.share.y_bytes().ct_eq(&*other.share.y_bytes()))
    }
}

impl Eq for RevealedShare {}

/// One pairwise agreement revealed to the server in round 4
/// ([`ShareKind::PairwiseSecret`]): the 32-byte X25519 output of the sender's masking
/// key with `peer`'s, which [`crate::crypto::kdf`]'s pairwise mask derivation takes.
/// It lets the server cancel the one pairwise mask between the sender and an excluded
/// `peer` whose masking key cannot be rebuilt.
#[derive(Debug)]
pub struct RevealedPairwise {
    /// The excluded neighbor.
    pub peer: ClientId,
    /// `X25519(mask_sk_sender, mask_pk_peer)` (wiped on drop, redacted in `Debug`).
    pub secret: SharedSecret,
}

impl Clone for RevealedPairwise {
    fn clone(&self) -> Self {
        Self {
            peer: self.peer,
            secret: SharedSecret::from_bytes(*self.secret.as_bytes()),
        }
    }
}

impl PartialEq for RevealedPairwise {
    fn eq(&self, other: &Self) -> bool {
        self.peer == other.peer && bool::from(self.secret.as_bytes().ct_eq(other.secret.as_bytes()))
    }
}

impl Eq for RevealedPairwise {}

/// Round 4: for each neighbor the client holds shares from, exactly one revealed item:
/// a share (in `shares`) or, for the excluded neighbors the server asked for, the
/// pairwise agreement (in `pairwise`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmaskShares {
    /// Sorted by owner.
    pub shares: Vec<RevealedShare>,
    /// Sorted by peer; no peer also in `shares`.
    pub pairwise: Vec<RevealedPairwise>,
}

/// Any message a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMessage {
    /// Round 0.
    AdvertiseKeys(AdvertiseKeys),
    /// Round 1.
    ShareKeys(ShareKeys),
    /// Round 2.
    MaskedInput(MaskedInput),
    /// Round 3 (malicious model).
    ConsistencySignature(ConsistencySignature),
    /// Round 4.
    UnmaskShares(UnmaskShares),
}

impl ClientMessage {
    /// The round this message is sent in.
    pub fn round(&self) -> Round {
        match self {
            ClientMessage::AdvertiseKeys(_) => Round::AdvertiseKeys,
            ClientMessage::ShareKeys(_) => Round::ShareKeys,
            ClientMessage::MaskedInput(_) => Round::MaskedInputCollection,
            ClientMessage::ConsistencySignature(_) => Round::ConsistencyCheck,
            ClientMessage::UnmaskShares(_) => Round::Unmasking,
        }
    }
}

// ---- server → client --------------------------------------------------------------

/// One client's advertised keys, as relayed by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    /// The client.
    pub id: ClientId,
    /// What it advertised.
    pub keys: AdvertiseKeys,
}

/// Opens round 1: the advertised keys of the receiving client's neighbors that
/// survived round 0, plus the client's own entry, sorted by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyList {
    /// Sorted by id.
    pub entries: Vec<KeyEntry>,
}

/// One sealed pair of shares, as routed by the server to its recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutedCiphertext {
    /// The neighbor that sealed it.
    pub from: ClientId,
    /// `nonce || ciphertext || tag`, exactly as sent.
    pub ciphertext: Vec<u8>,
}

/// Opens round 2: the ciphertexts addressed to the receiving client by neighbors
/// that survived round 1. Their senders form the client's view of `U2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutedShares {
    /// Sorted by sender.
    pub shares: Vec<RoutedCiphertext>,
}

/// Opens round 3 (malicious model): the survivor set `U3`, the clients whose masked
/// inputs the server holds and will sum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyRequest {
    /// Sorted ascending, no repeats.
    pub survivors: Vec<ClientId>,
}

/// A neighbor's consistency signature, relayed by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SurvivorSignature {
    /// The signer.
    pub id: ClientId,
    /// Its signature over the survivor set.
    pub signature: Signature,
}

/// Opens round 4: the survivor set `U3` (the clients whose inputs the sum will
/// contain) and, in the malicious model, the consistency signatures of the receiving
/// client's neighbors that answered round 3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmaskRequest {
    /// Sorted ascending, no repeats.
    pub survivors: Vec<ClientId>,
    /// Empty in the semi-honest model; sorted by signer otherwise.
    pub signatures: Vec<SurvivorSignature>,
    /// The receiving client's excluded neighbors (outside `survivors`, their shares
    /// held by the client) whose pairwise agreement the server asks for instead of a
    /// masking-key share, sorted ascending; usually empty.
    pub pairwise: Vec<ClientId>,
}

/// Any message the server sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    /// Opens round 1.
    KeyList(KeyList),
    /// Opens round 2.
    RoutedShares(RoutedShares),
    /// Opens round 3 (malicious model).
    ConsistencyRequest(ConsistencyRequest),
    /// Opens round 4.
    UnmaskRequest(UnmaskRequest),
}

impl ServerMessage {
    /// The round whose client message this message asks for.
    pub fn round(&self) -> Round {
        match self {
            ServerMessage::KeyList(_) => Round::ShareKeys,
            ServerMessage::RoutedShares(_) => Round::MaskedInputCollection,
            ServerMessage::ConsistencyRequest(_) => Round::ConsistencyCheck,
            ServerMessage::UnmaskRequest(_) => Round::Unmasking,
        }
    }
}
