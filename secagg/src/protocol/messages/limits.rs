//! The largest encoding of each message that a session's configuration allows.
//!
//! A transport needs a bound on a frame before it reads it; the bound must follow the
//! message layout exactly, or a valid message is refused (or a needlessly large frame
//! buffered). So it is computed here, by the same body-length functions
//! [`ClientMessage::encoded_len`](super::ClientMessage::encoded_len) and
//! [`ServerMessage::encoded_len`](super::ServerMessage::encoded_len) use, at the largest
//! counts the decoders accept: every per-neighbor list at the graph's largest degree
//! `k`, a key list at `min(n, k + 1)` entries, every sealed blob at
//! [`SEALED_SHARES_LEN`], every configured vector packed.

use super::encoding::{
    accusations_len, advertise_len, key_list_len, masked_input_body_len, max_key_entries,
    max_neighbors, revealed_list_len, sealed_list_len, unmask_request_len, HEADER_LEN,
};
use super::SEALED_SHARES_LEN;
use crate::error::{EncodingError, Error, Result};
use crate::ids::Round;
use crate::protocol::config::Config;
use crate::wire::fields::{id_set_len, SIGNATURE_LEN};

/// The largest encoded length, header included, of each message of a session
/// (`docs/wire-format.md`, "Sizes"). A message of its type that encodes under the
/// configuration is never longer; every decoder refuses a longer one.
///
/// The consistency round's two messages are bounded in both threat models (their
/// encodings do not depend on the model), although only the malicious model sends them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageLimits {
    /// Round 0, client: [`AdvertiseKeys`](super::AdvertiseKeys).
    pub advertise_keys: usize,
    /// Round 1, client: [`ShareKeys`](super::ShareKeys) with `k` entries.
    pub share_keys: usize,
    /// Round 2, client: [`MaskedInput`](super::MaskedInput) accusing `k` neighbors.
    pub masked_input: usize,
    /// Round 3, client: [`ConsistencySignature`](super::ConsistencySignature).
    pub consistency_signature: usize,
    /// Round 4, client: [`UnmaskShares`](super::UnmaskShares) with `k` shares (and an
    /// empty pairwise list; a pairwise entry is shorter than a share).
    pub unmask_shares: usize,
    /// Opens round 1, server: [`KeyList`](super::KeyList) with `min(n, k + 1)` entries.
    pub key_list: usize,
    /// Opens round 2, server: [`RoutedShares`](super::RoutedShares) with `k` entries.
    pub routed_shares: usize,
    /// Opens round 3, server: [`ConsistencyRequest`](super::ConsistencyRequest).
    pub consistency_request: usize,
    /// Opens round 4, server: [`UnmaskRequest`](super::UnmaskRequest) with `k`
    /// signatures in the malicious model and `k` pairwise requests.
    pub unmask_request: usize,
}

impl MessageLimits {
    /// The limits of a session with `config`.
    ///
    /// # Errors
    /// [`EncodingError::LengthTooLarge`] when the packed vectors of a masked input do not fit in
    /// a `usize`.
    pub fn new(config: &Config) -> Result<MessageLimits> {
        let k = max_neighbors(config);
        let msg = |body: usize| HEADER_LEN.checked_add(body).ok_or_else(overflow);
        let sealed = sealed_list_len(k, k.checked_mul(SEALED_SHARES_LEN).ok_or_else(overflow)?);
        Ok(MessageLimits {
            advertise_keys: msg(advertise_len(config))?,
            share_keys: msg(sealed)?,
            masked_input: msg(masked_input_body_len(config)?
                .checked_add(accusations_len(k))
                .ok_or_else(overflow)?)?,
            consistency_signature: msg(SIGNATURE_LEN)?,
            // At most `k` revealed items in all, the larger (a share) each time.
            unmask_shares: msg(revealed_list_len(k, 0))?,
            key_list: msg(key_list_len(config, max_key_entries(config)))?,
            routed_shares: msg(sealed)?,
            consistency_request: msg(id_set_len(config.n()))?,
            unmask_request: msg(unmask_request_len(config, k, k))?,
        })
    }

    /// The largest client message of `round`.
    pub fn client(&self, round: Round) -> usize {
        match round {
            Round::AdvertiseKeys => self.advertise_keys,
            Round::ShareKeys => self.share_keys,
            Round::MaskedInputCollection => self.masked_input,
            Round::ConsistencyCheck => self.consistency_signature,
            Round::Unmasking => self.unmask_shares,
        }
    }

    /// The largest server message that opens `round` (none opens round 0).
    pub fn server(&self, round: Round) -> Option<usize> {
        match round {
            Round::AdvertiseKeys => None,
            Round::ShareKeys => Some(self.key_list),
            Round::MaskedInputCollection => Some(self.routed_shares),
            Round::ConsistencyCheck => Some(self.consistency_request),
            Round::Unmasking => Some(self.unmask_request),
        }
    }

    /// The largest message any client sends in the session.
    pub fn max_client(&self) -> usize {
        Round::ALL
            .iter()
            .map(|&r| self.client(r))
            .max()
            .unwrap_or(0)
    }

    /// The largest message the server sends in the session.
    pub fn max_server(&self) -> usize {
        Round::ALL
            .iter()
            .filter_map(|&r| self.server(r))
            .max()
            .unwrap_or(0)
    }
}

fn overflow() -> Error {
    Error::Encoding(EncodingError::LengthTooLarge {
        what: "message limits",
        max: usize::MAX as u64,
        found: u64::MAX,
    })
}
