//! Byte encodings of every [`ClientMessage`] and [`ServerMessage`], beside their types
//! (the codec they are written with, [`crate::wire`], knows nothing of the protocol).
//!
//! Every message starts with the protocol version ([`PROTOCOL_VERSION`]) and a
//! message-type byte ([`msg_type`]): a client message's type is the number of the round
//! it is sent in, a server message's is `0x80 |` the number of the round whose client
//! message it asks for. The fields follow, laid out in `docs/wire-format.md`; which
//! fields are present and how long each is follows from the session [`Config`] (the
//! threat model, the number of clients, the graph's largest degree, each vector's ring
//! and length), so decoding needs the configuration, and encoding checks the message
//! against it so that whatever encodes also decodes.
//!
//! A client message does not name its sender: the transport knows it, and the decoder
//! takes it (`from`) to give revealed shares their evaluation point `from + 1`.
//!
//! Both message enums implement the codec's [`ParameterizedEncode`] and
//! [`ParameterizedDecode`] with the configuration as parameter (the client message's
//! decoder takes `(config, from)`); their inherent `encode`, `encoded_len` and `decode`
//! are the same functions. The length of each message body is one function here, used
//! by `encoded_len` and by the session's largest messages
//! ([`MessageLimits`](super::MessageLimits)).

use super::{
    AdvertiseKeys, ClientMessage, ConsistencyRequest, ConsistencySignature, KeyEntry, KeyList,
    MaskedInput, RevealedPairwise, RevealedShare, RoutedCiphertext, RoutedShares, SealedShares,
    ServerMessage, ShareKeys, ShareKind, SurvivorSignature, UnmaskRequest, UnmaskShares,
    SEALED_SHARES_LEN,
};
use crate::crypto::aead::OVERHEAD;
use crate::crypto::keys::{SharedSecret, KEY_LEN};
use crate::crypto::shamir::SCALAR_LEN;
use crate::error::{EncodingError, Error, Misuse, Result};
use crate::ids::{ClientId, PROTOCOL_VERSION};
use crate::protocol::config::Config;
use crate::wire::fields::{self, ID_LEN, SIGNATURE_LEN};
use crate::wire::{pack, ParameterizedDecode, ParameterizedEncode, Reader, Writer};

/// The message-type bytes.
pub mod msg_type {
    /// Client, round 0: [`AdvertiseKeys`](crate::protocol::messages::AdvertiseKeys).
    pub const ADVERTISE_KEYS: u8 = 0x00;
    /// Client, round 1: [`ShareKeys`](crate::protocol::messages::ShareKeys).
    pub const SHARE_KEYS: u8 = 0x01;
    /// Client, round 2: [`MaskedInput`](crate::protocol::messages::MaskedInput).
    pub const MASKED_INPUT: u8 = 0x02;
    /// Client, round 3:
    /// [`ConsistencySignature`](crate::protocol::messages::ConsistencySignature).
    pub const CONSISTENCY_SIGNATURE: u8 = 0x03;
    /// Client, round 4: [`UnmaskShares`](crate::protocol::messages::UnmaskShares).
    pub const UNMASK_SHARES: u8 = 0x04;
    /// Server, opens round 1: [`KeyList`](crate::protocol::messages::KeyList).
    pub const KEY_LIST: u8 = 0x81;
    /// Server, opens round 2: [`RoutedShares`](crate::protocol::messages::RoutedShares).
    pub const ROUTED_SHARES: u8 = 0x82;
    /// Server, opens round 3:
    /// [`ConsistencyRequest`](crate::protocol::messages::ConsistencyRequest).
    pub const CONSISTENCY_REQUEST: u8 = 0x83;
    /// Server, opens round 4: [`UnmaskRequest`](crate::protocol::messages::UnmaskRequest).
    pub const UNMASK_REQUEST: u8 = 0x84;
    /// A stored client state ([`Client::to_bytes`](crate::protocol::Client::to_bytes));
    /// never sent.
    pub const CLIENT_STATE: u8 = 0xf0;
    /// A stored server state ([`Server::to_bytes`](crate::protocol::Server::to_bytes));
    /// never sent.
    pub const SERVER_STATE: u8 = 0xf1;
}

/// Bytes of the header (version, type).
pub const HEADER_LEN: usize = 2;

/// Bytes of one sealed-shares entry's length prefix.
pub const SEALED_LEN_PREFIX: usize = 2;

/// Bytes of a list's count prefix.
pub const COUNT_LEN: usize = 4;

/// Bytes of one revealed share: owner id, kind tag, share value.
pub const REVEALED_SHARE_LEN: usize = ID_LEN + 1 + SCALAR_LEN;

/// Bytes of one revealed pairwise agreement: peer id, the 32-byte X25519 output.
pub const REVEALED_PAIRWISE_LEN: usize = ID_LEN + KEY_LEN;

const SHARE_KIND_SELF_MASK: u8 = 0;
const SHARE_KIND_MASK_KEY: u8 = 1;
const SHARE_KIND_PAIRWISE: u8 = 2;

/// Writes a share kind: `0x00` self-mask secret, `0x01` masking key, `0x02` pairwise
/// agreement (stored client states only: on the wire a pairwise agreement travels in
/// its own list).
pub(crate) fn write_share_kind(w: &mut Writer, kind: ShareKind) {
    w.u8(match kind {
        ShareKind::SelfMask => SHARE_KIND_SELF_MASK,
        ShareKind::MaskKey => SHARE_KIND_MASK_KEY,
        ShareKind::PairwiseSecret => SHARE_KIND_PAIRWISE,
    });
}

/// Reads a share kind ([`EncodingError::InvalidTag`] for any other byte).
pub(crate) fn read_share_kind(r: &mut Reader<'_>) -> Result<ShareKind> {
    match r.u8("share kind")? {
        SHARE_KIND_SELF_MASK => Ok(ShareKind::SelfMask),
        SHARE_KIND_MASK_KEY => Ok(ShareKind::MaskKey),
        SHARE_KIND_PAIRWISE => Ok(ShareKind::PairwiseSecret),
        found => Err(Error::Encoding(EncodingError::InvalidTag {
            what: "share kind",
            found,
        })),
    }
}

/// Reads the kind of a revealed *share*: `0x00` or `0x01` (a pairwise agreement is no
/// share; its `0x02` is an [`EncodingError::InvalidTag`] here).
pub(crate) fn read_revealed_kind(r: &mut Reader<'_>) -> Result<ShareKind> {
    match read_share_kind(r)? {
        ShareKind::PairwiseSecret => Err(Error::Encoding(EncodingError::InvalidTag {
            what: "share kind",
            found: SHARE_KIND_PAIRWISE,
        })),
        kind => Ok(kind),
    }
}

/// Writes a list of revealed pairwise agreements (count, then peer and secret each),
/// at most `max` of them, strictly ascending.
pub(crate) fn write_pairwise_list(
    w: &mut Writer,
    n: usize,
    max: usize,
    list: &[RevealedPairwise],
) -> Result<()> {
    let what = "revealed pairwise secrets";
    check_count(what, max, list.len())?;
    fields::check_ascending(what, list.iter().map(|p| p.peer))?;
    w.length_u32(what, list.len())?;
    for p in list {
        fields::check_id(what, p.peer, n)?;
        fields::write_id(w, p.peer);
        w.bytes(p.secret.as_bytes());
    }
    Ok(())
}

/// Reads what [`write_pairwise_list`] writes.
pub(crate) fn read_pairwise_list(
    r: &mut Reader<'_>,
    n: usize,
    max: usize,
) -> Result<Vec<RevealedPairwise>> {
    let what = "revealed pairwise secrets";
    let count = r.count(what, max, REVEALED_PAIRWISE_LEN)?;
    let mut out = Vec::with_capacity(count);
    let mut prev: Option<ClientId> = None;
    for index in 0..count {
        let peer = fields::read_id(r, what, n)?;
        ascending(what, &mut prev, peer, index)?;
        let secret = SharedSecret::from_bytes(*zeroize::Zeroizing::new(
            r.array::<KEY_LEN>("pairwise secret")?,
        ));
        out.push(RevealedPairwise { peer, secret });
    }
    Ok(out)
}

/// Writes an id list (count, then ids) of at most `max` strictly ascending ids.
fn write_id_list(
    w: &mut Writer,
    what: &'static str,
    n: usize,
    max: usize,
    ids: &[ClientId],
) -> Result<()> {
    check_count(what, max, ids.len())?;
    fields::check_ascending(what, ids.iter().copied())?;
    w.length_u32(what, ids.len())?;
    for &v in ids {
        fields::check_id(what, v, n)?;
        fields::write_id(w, v);
    }
    Ok(())
}

/// Reads what [`write_id_list`] writes.
fn read_id_list(
    r: &mut Reader<'_>,
    what: &'static str,
    n: usize,
    max: usize,
) -> Result<Vec<ClientId>> {
    let count = r.count(what, max, ID_LEN)?;
    let mut out = Vec::with_capacity(count);
    let mut prev: Option<ClientId> = None;
    for index in 0..count {
        let v = fields::read_id(r, what, n)?;
        ascending(what, &mut prev, v, index)?;
        out.push(v);
    }
    Ok(out)
}

/// The largest number of neighbors any client has: the bound on every per-neighbor
/// list.
pub(super) fn max_neighbors(config: &Config) -> usize {
    config.graph().max_degree()
}

/// The bound on a key list: the receiving client's neighbors and itself.
pub(super) fn max_key_entries(config: &Config) -> usize {
    config.n().min(max_neighbors(config).saturating_add(1))
}

pub(crate) fn header(w: &mut Writer, ty: u8) {
    w.u8(PROTOCOL_VERSION);
    w.u8(ty);
}

/// Reads the header and returns the type byte.
pub(crate) fn read_header(r: &mut Reader<'_>) -> Result<u8> {
    let version = r.u8("protocol version")?;
    if version != PROTOCOL_VERSION {
        return Err(Error::Encoding(EncodingError::UnknownVersion {
            found: version,
            expected: PROTOCOL_VERSION,
        }));
    }
    r.u8("message type")
}

/// Fails with [`Misuse::ModelMismatch`] unless a signature is present exactly in the
/// malicious model.
fn check_signature_presence(config: &Config, present: bool, what: &'static str) -> Result<()> {
    if present == config.is_malicious() {
        Ok(())
    } else {
        Err(Error::Misuse(Misuse::ModelMismatch { what }))
    }
}

fn check_count(what: &'static str, max: usize, found: usize) -> Result<()> {
    if found > max {
        return Err(Error::Encoding(EncodingError::LengthTooLarge {
            what,
            max: max as u64,
            found: found as u64,
        }));
    }
    Ok(())
}

impl ClientMessage {
    /// The message's encoding under `config`.
    ///
    /// # Errors
    /// A message the configuration cannot carry: [`Misuse::ModelMismatch`] (a signature
    /// in the semi-honest model or none in the malicious one), [`EncodingError::LengthTooLarge`]
    /// (more entries than the largest neighborhood), [`EncodingError::ClientIdOutOfRange`],
    /// [`EncodingError::UnsortedIds`] (entries must be strictly ascending), sealed blobs of the
    /// wrong size, [`Misuse::InputCount`], [`Misuse::InputLength`],
    /// [`Misuse::InputNotInRing`].
    pub fn encode(&self, config: &Config) -> Result<Vec<u8>> {
        self.encode_with_param(config)
    }

    /// The length of [`ClientMessage::encode`]'s output, computed without encoding.
    pub fn encoded_len(&self, config: &Config) -> Result<usize> {
        ParameterizedEncode::encoded_len(self, config)
    }

    /// Decodes a message that client `from` sent in a session with `config`.
    ///
    /// # Errors [`EncodingError::ClientIdOutOfRange`] for a sender outside the session;
    /// otherwise only errors of kind [`ErrorKind::Encoding`](crate::ErrorKind::Encoding):
    /// [`EncodingError::Truncated`], [`EncodingError::TrailingBytes`],
    /// [`EncodingError::UnknownVersion`], [`EncodingError::UnknownMessageType`] (including
    /// every server type), [`EncodingError::LengthTooLarge`] /
    /// [`EncodingError::LengthTooSmall`] (counts above the largest neighborhood, sealed
    /// blobs outside their size), [`EncodingError::ClientIdOutOfRange`],
    /// [`EncodingError::UnsortedIds`], [`EncodingError::NonCanonicalPublicKey`],
    /// [`EncodingError::NonCanonicalScalar`] (signatures and share values),
    /// [`EncodingError::InvalidTag`], [`EncodingError::NonZeroPadding`],
    /// [`EncodingError::WordOutOfRange`].
    pub fn decode(config: &Config, from: ClientId, bytes: &[u8]) -> Result<ClientMessage> {
        Self::decode_with_param(&(config, from), bytes)
    }
}

impl ParameterizedEncode<Config> for ClientMessage {
    fn encode_into(&self, config: &Config, w: &mut Writer) -> Result<()> {
        match self {
            ClientMessage::AdvertiseKeys(m) => {
                header(w, msg_type::ADVERTISE_KEYS);
                write_advertise(w, config, m)?;
            }
            ClientMessage::ShareKeys(m) => {
                header(w, msg_type::SHARE_KEYS);
                let what = "share keys entries";
                check_count(what, max_neighbors(config), m.shares.len())?;
                fields::check_ascending(what, m.shares.iter().map(|s| s.to))?;
                w.length_u32(what, m.shares.len())?;
                for s in &m.shares {
                    fields::check_id(what, s.to, config.n())?;
                    fields::write_id(w, s.to);
                    fields::write_sealed(w, "sealed shares", SEALED_SHARES_LEN, &s.ciphertext)?;
                }
            }
            ClientMessage::MaskedInput(m) => {
                header(w, msg_type::MASKED_INPUT);
                let what = "accused";
                check_count(what, max_neighbors(config), m.accused.len())?;
                fields::check_ascending(what, m.accused.iter().copied())?;
                w.length_u32(what, m.accused.len())?;
                for &v in &m.accused {
                    fields::check_id(what, v, config.n())?;
                    fields::write_id(w, v);
                }
                let specs = config.vectors();
                if m.vectors.len() != specs.len() {
                    return Err(Error::Misuse(Misuse::InputCount {
                        expected: specs.len(),
                        found: m.vectors.len(),
                    }));
                }
                for (vector, (v, spec)) in m.vectors.iter().zip(specs).enumerate() {
                    pack::pack(w, &spec.ring, spec.dim, v).map_err(|e| match e {
                        Error::Misuse(Misuse::VectorLengthMismatch { expected, found }) => {
                            Error::Misuse(Misuse::InputLength {
                                vector,
                                expected,
                                found,
                            })
                        }
                        Error::Misuse(Misuse::RingMismatch) => {
                            Error::Misuse(Misuse::InputNotInRing { vector })
                        }
                        other => other,
                    })?;
                }
            }
            ClientMessage::ConsistencySignature(m) => {
                header(w, msg_type::CONSISTENCY_SIGNATURE);
                fields::write_signature(w, &m.signature);
            }
            ClientMessage::UnmaskShares(m) => {
                header(w, msg_type::UNMASK_SHARES);
                let what = "revealed shares";
                check_count(what, max_neighbors(config), m.shares.len())?;
                fields::check_ascending(what, m.shares.iter().map(|s| s.owner))?;
                w.length_u32(what, m.shares.len())?;
                for s in &m.shares {
                    fields::check_id(what, s.owner, config.n())?;
                    if s.kind == ShareKind::PairwiseSecret {
                        return Err(Error::Encoding(EncodingError::InvalidTag {
                            what: "share kind",
                            found: SHARE_KIND_PAIRWISE,
                        }));
                    }
                    fields::write_id(w, s.owner);
                    write_share_kind(w, s.kind);
                    fields::write_share_value(w, &s.share);
                }
                // One revealed item per held neighbor: both lists together hold at
                // most `k`.
                let max = max_neighbors(config).saturating_sub(m.shares.len());
                write_pairwise_list(w, config.n(), max, &m.pairwise)?;
            }
        }
        Ok(())
    }

    fn encoded_len(&self, config: &Config) -> Result<usize> {
        let body = match self {
            ClientMessage::AdvertiseKeys(_) => advertise_len(config),
            ClientMessage::ShareKeys(m) => sealed_list_len(
                m.shares.len(),
                m.shares.iter().map(|s| s.ciphertext.len()).sum(),
            ),
            ClientMessage::MaskedInput(m) => {
                accusations_len(m.accused.len()) + masked_input_body_len(config)?
            }
            ClientMessage::ConsistencySignature(_) => SIGNATURE_LEN,
            ClientMessage::UnmaskShares(m) => revealed_list_len(m.shares.len(), m.pairwise.len()),
        };
        Ok(HEADER_LEN + body)
    }
}

/// The parameter is the session's configuration and the sender's id.
impl ParameterizedDecode<(&Config, ClientId)> for ClientMessage {
    fn decode_from(&(config, from): &(&Config, ClientId), r: &mut Reader<'_>) -> Result<Self> {
        fields::check_id("sender", from, config.n())?;
        let msg = match read_header(r)? {
            msg_type::ADVERTISE_KEYS => ClientMessage::AdvertiseKeys(read_advertise(r, config)?),
            msg_type::SHARE_KEYS => {
                let what = "share keys entries";
                let count = r.count(
                    what,
                    max_neighbors(config),
                    ID_LEN + SEALED_LEN_PREFIX + OVERHEAD,
                )?;
                let mut shares = Vec::with_capacity(count);
                let mut prev: Option<ClientId> = None;
                for index in 0..count {
                    let to = fields::read_id(r, what, config.n())?;
                    ascending(what, &mut prev, to, index)?;
                    let ciphertext = fields::read_sealed(r, "sealed shares", SEALED_SHARES_LEN)?;
                    shares.push(SealedShares { to, ciphertext });
                }
                ClientMessage::ShareKeys(ShareKeys { shares })
            }
            msg_type::MASKED_INPUT => {
                let what = "accused";
                let count = r.count(what, max_neighbors(config), ID_LEN)?;
                let mut accused = Vec::with_capacity(count);
                let mut prev: Option<ClientId> = None;
                for index in 0..count {
                    let v = fields::read_id(r, what, config.n())?;
                    ascending(what, &mut prev, v, index)?;
                    accused.push(v);
                }
                // Check the whole length first: nothing is allocated for a short message.
                let need = masked_input_body_len(config)?;
                if r.remaining() < need {
                    return Err(Error::Encoding(EncodingError::Truncated {
                        what: "masked input",
                        needed: need,
                        remaining: r.remaining(),
                    }));
                }
                let mut vectors = Vec::with_capacity(config.vectors().len());
                for spec in config.vectors() {
                    vectors.push(pack::unpack(r, &spec.ring, spec.dim)?);
                }
                ClientMessage::MaskedInput(MaskedInput { accused, vectors })
            }
            msg_type::CONSISTENCY_SIGNATURE => {
                ClientMessage::ConsistencySignature(ConsistencySignature {
                    signature: fields::read_signature(r)?,
                })
            }
            msg_type::UNMASK_SHARES => {
                let what = "revealed shares";
                let count = r.count(what, max_neighbors(config), REVEALED_SHARE_LEN)?;
                let mut shares = Vec::with_capacity(count);
                let mut prev: Option<ClientId> = None;
                for index in 0..count {
                    let owner = fields::read_id(r, what, config.n())?;
                    ascending(what, &mut prev, owner, index)?;
                    let kind = read_revealed_kind(r)?;
                    let share = fields::read_share_value(r, from)?;
                    shares.push(RevealedShare { owner, kind, share });
                }
                let max = max_neighbors(config).saturating_sub(count);
                let pairwise = read_pairwise_list(r, config.n(), max)?;
                ClientMessage::UnmaskShares(UnmaskShares { shares, pairwise })
            }
            found => return Err(Error::Encoding(EncodingError::UnknownMessageType { found })),
        };
        Ok(msg)
    }
}

impl ServerMessage {
    /// The message's encoding under `config`.
    ///
    /// # Errors As [`ClientMessage::encode`]: [`Misuse::ModelMismatch`] (signatures present
    /// exactly in the malicious model), [`EncodingError::LengthTooLarge`],
    /// [`EncodingError::ClientIdOutOfRange`], [`EncodingError::UnsortedIds`], sealed blobs
    /// of the wrong size.
    pub fn encode(&self, config: &Config) -> Result<Vec<u8>> {
        self.encode_with_param(config)
    }

    /// The length of [`ServerMessage::encode`]'s output, computed without encoding.
    pub fn encoded_len(&self, config: &Config) -> Result<usize> {
        ParameterizedEncode::encoded_len(self, config)
    }

    /// Decodes a message the server sent in a session with `config`.
    ///
    /// # Errors
    /// Only errors of kind [`ErrorKind::Encoding`](crate::ErrorKind::Encoding), as for
    /// [`ClientMessage::decode`]; every client type is an
    /// [`EncodingError::UnknownMessageType`] here.
    pub fn decode(config: &Config, bytes: &[u8]) -> Result<ServerMessage> {
        Self::decode_with_param(config, bytes)
    }
}

impl ParameterizedEncode<Config> for ServerMessage {
    fn encode_into(&self, config: &Config, w: &mut Writer) -> Result<()> {
        let n = config.n();
        match self {
            ServerMessage::KeyList(m) => {
                header(w, msg_type::KEY_LIST);
                let what = "key list entries";
                check_count(what, max_key_entries(config), m.entries.len())?;
                fields::check_ascending(what, m.entries.iter().map(|e| e.id))?;
                w.length_u32(what, m.entries.len())?;
                for e in &m.entries {
                    fields::check_id(what, e.id, n)?;
                    fields::write_id(w, e.id);
                    write_advertise(w, config, &e.keys)?;
                }
            }
            ServerMessage::RoutedShares(m) => {
                header(w, msg_type::ROUTED_SHARES);
                let what = "routed shares entries";
                check_count(what, max_neighbors(config), m.shares.len())?;
                fields::check_ascending(what, m.shares.iter().map(|s| s.from))?;
                w.length_u32(what, m.shares.len())?;
                for s in &m.shares {
                    fields::check_id(what, s.from, n)?;
                    fields::write_id(w, s.from);
                    fields::write_sealed(w, "sealed shares", SEALED_SHARES_LEN, &s.ciphertext)?;
                }
            }
            ServerMessage::ConsistencyRequest(m) => {
                header(w, msg_type::CONSISTENCY_REQUEST);
                fields::write_id_set(w, "survivors", n, &m.survivors)?;
            }
            ServerMessage::UnmaskRequest(m) => {
                header(w, msg_type::UNMASK_REQUEST);
                fields::write_id_set(w, "survivors", n, &m.survivors)?;
                if config.is_malicious() {
                    let what = "consistency signatures";
                    check_count(what, max_neighbors(config), m.signatures.len())?;
                    fields::check_ascending(what, m.signatures.iter().map(|s| s.id))?;
                    w.length_u32(what, m.signatures.len())?;
                    for s in &m.signatures {
                        fields::check_id(what, s.id, n)?;
                        fields::write_id(w, s.id);
                        fields::write_signature(w, &s.signature);
                    }
                } else if !m.signatures.is_empty() {
                    return Err(Error::Misuse(Misuse::ModelMismatch {
                        what: "consistency signatures",
                    }));
                }
                write_id_list(
                    w,
                    "pairwise requests",
                    n,
                    max_neighbors(config),
                    &m.pairwise,
                )?;
            }
        }
        Ok(())
    }

    fn encoded_len(&self, config: &Config) -> Result<usize> {
        let body = match self {
            ServerMessage::KeyList(m) => key_list_len(config, m.entries.len()),
            ServerMessage::RoutedShares(m) => sealed_list_len(
                m.shares.len(),
                m.shares.iter().map(|s| s.ciphertext.len()).sum(),
            ),
            ServerMessage::ConsistencyRequest(_) => fields::id_set_len(config.n()),
            ServerMessage::UnmaskRequest(m) => {
                unmask_request_len(config, m.signatures.len(), m.pairwise.len())
            }
        };
        Ok(HEADER_LEN + body)
    }
}

impl ParameterizedDecode<Config> for ServerMessage {
    fn decode_from(config: &Config, r: &mut Reader<'_>) -> Result<Self> {
        let n = config.n();
        let msg = match read_header(r)? {
            msg_type::KEY_LIST => {
                let what = "key list entries";
                let count = r.count(
                    what,
                    max_key_entries(config),
                    ID_LEN + advertise_len(config),
                )?;
                let mut entries = Vec::with_capacity(count);
                let mut prev: Option<ClientId> = None;
                for index in 0..count {
                    let id = fields::read_id(r, what, n)?;
                    ascending(what, &mut prev, id, index)?;
                    let keys = read_advertise(r, config)?;
                    entries.push(KeyEntry { id, keys });
                }
                ServerMessage::KeyList(KeyList { entries })
            }
            msg_type::ROUTED_SHARES => {
                let what = "routed shares entries";
                let count = r.count(
                    what,
                    max_neighbors(config),
                    ID_LEN + SEALED_LEN_PREFIX + OVERHEAD,
                )?;
                let mut shares = Vec::with_capacity(count);
                let mut prev: Option<ClientId> = None;
                for index in 0..count {
                    let from = fields::read_id(r, what, n)?;
                    ascending(what, &mut prev, from, index)?;
                    let ciphertext = fields::read_sealed(r, "sealed shares", SEALED_SHARES_LEN)?;
                    shares.push(RoutedCiphertext { from, ciphertext });
                }
                ServerMessage::RoutedShares(RoutedShares { shares })
            }
            msg_type::CONSISTENCY_REQUEST => {
                ServerMessage::ConsistencyRequest(ConsistencyRequest {
                    survivors: fields::read_id_set(r, "survivors", n)?,
                })
            }
            msg_type::UNMASK_REQUEST => {
                let survivors = fields::read_id_set(r, "survivors", n)?;
                let mut signatures = Vec::new();
                if config.is_malicious() {
                    let what = "consistency signatures";
                    let count = r.count(what, max_neighbors(config), ID_LEN + SIGNATURE_LEN)?;
                    signatures.reserve_exact(count);
                    let mut prev: Option<ClientId> = None;
                    for index in 0..count {
                        let id = fields::read_id(r, what, n)?;
                        ascending(what, &mut prev, id, index)?;
                        let signature = fields::read_signature(r)?;
                        signatures.push(SurvivorSignature { id, signature });
                    }
                }
                let pairwise = read_id_list(r, "pairwise requests", n, max_neighbors(config))?;
                ServerMessage::UnmaskRequest(UnmaskRequest {
                    survivors,
                    signatures,
                    pairwise,
                })
            }
            found => return Err(Error::Encoding(EncodingError::UnknownMessageType { found })),
        };
        Ok(msg)
    }
}

/// Fails with [`EncodingError::UnsortedIds`] unless `id` is above the previous id of the list.
pub(crate) fn ascending(
    what: &'static str,
    prev: &mut Option<ClientId>,
    id: ClientId,
    index: usize,
) -> Result<()> {
    if prev.is_some_and(|p| id <= p) {
        return Err(Error::Encoding(EncodingError::UnsortedIds { what, index }));
    }
    *prev = Some(id);
    Ok(())
}

// ---- body lengths: one function per layout, used by `encoded_len` and by the limits --

/// Bytes of a list of `entries` sealed-shares entries (share keys, routed shares) whose
/// blobs hold `blob_bytes` bytes together: the count, then per entry an id, the blob's
/// length prefix and the blob.
pub(super) fn sealed_list_len(entries: usize, blob_bytes: usize) -> usize {
    COUNT_LEN + entries * (ID_LEN + SEALED_LEN_PREFIX) + blob_bytes
}

/// Bytes of an unmasking response with `entries` revealed shares and `pairwise`
/// revealed pairwise agreements: each list's count, then its entries.
pub(super) fn revealed_list_len(entries: usize, pairwise: usize) -> usize {
    COUNT_LEN + entries * REVEALED_SHARE_LEN + COUNT_LEN + pairwise * REVEALED_PAIRWISE_LEN
}

/// Bytes of a key list of `entries` entries: the count, then per entry an id and the
/// advertised keys.
pub(super) fn key_list_len(config: &Config, entries: usize) -> usize {
    COUNT_LEN + entries * (ID_LEN + advertise_len(config))
}

/// Bytes of an unmask request with `signatures` relayed signatures and `pairwise`
/// pairwise requests: the survivor set, then (malicious model only) the count and per
/// signature an id and the signature, then the count and ids of the requests.
pub(super) fn unmask_request_len(config: &Config, signatures: usize, pairwise: usize) -> usize {
    fields::id_set_len(config.n())
        + if config.is_malicious() {
            COUNT_LEN + signatures * (ID_LEN + SIGNATURE_LEN)
        } else {
            0
        }
        + COUNT_LEN
        + pairwise * ID_LEN
}

/// Bytes of advertised keys: two public keys, plus a signature in the malicious model.
pub(crate) fn advertise_len(config: &Config) -> usize {
    2 * KEY_LEN
        + if config.is_malicious() {
            SIGNATURE_LEN
        } else {
            0
        }
}

pub(crate) fn write_advertise(w: &mut Writer, config: &Config, m: &AdvertiseKeys) -> Result<()> {
    check_signature_presence(config, m.signature.is_some(), "advertised keys")?;
    fields::write_public_key(w, &m.enc_pk);
    fields::write_public_key(w, &m.mask_pk);
    if let Some(sig) = &m.signature {
        fields::write_signature(w, sig);
    }
    Ok(())
}

pub(crate) fn read_advertise(r: &mut Reader<'_>, config: &Config) -> Result<AdvertiseKeys> {
    let enc_pk = fields::read_public_key(r)?;
    let mask_pk = fields::read_public_key(r)?;
    let signature = if config.is_malicious() {
        Some(fields::read_signature(r)?)
    } else {
        None
    };
    Ok(AdvertiseKeys {
        enc_pk,
        mask_pk,
        signature,
    })
}

/// Advertised keys as they travel in an [`AdvertiseKeys`] message and in each
/// [`KeyEntry`] of a key list: two public keys, then the signature in the malicious
/// model.
impl ParameterizedEncode<Config> for AdvertiseKeys {
    fn encode_into(&self, config: &Config, w: &mut Writer) -> Result<()> {
        write_advertise(w, config, self)
    }

    fn encoded_len(&self, config: &Config) -> Result<usize> {
        Ok(advertise_len(config))
    }
}

impl ParameterizedDecode<Config> for AdvertiseKeys {
    fn decode_from(config: &Config, r: &mut Reader<'_>) -> Result<Self> {
        read_advertise(r, config)
    }
}

/// Bytes of a masked input's accusation list of `count` ids (its length prefix
/// included).
pub(crate) fn accusations_len(count: usize) -> usize {
    4 + count * ID_LEN
}

/// Bytes of a masked input's vectors: every configured vector, packed.
pub(crate) fn masked_input_body_len(config: &Config) -> Result<usize> {
    let mut total: usize = 0;
    for spec in config.vectors() {
        total = total
            .checked_add(pack::packed_len(&spec.ring, spec.dim)?)
            .ok_or(Error::Encoding(EncodingError::LengthTooLarge {
                what: "masked input",
                max: usize::MAX as u64,
                found: u64::MAX,
            }))?;
    }
    Ok(total)
}
