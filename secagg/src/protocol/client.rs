//! The client: a sans-IO state machine.
//!
//! Each state is a value; a transition consumes it and returns the next state and the
//! message to send, or a typed error. [`Client`] wraps the states in one enum for
//! drivers: [`Client::new`] yields the round-0 message, [`Client::handle`] turns each
//! server message into the next client message. After any error the client is
//! [`Client::Aborted`]; after the last round it is [`Client::Completed`]; both refuse
//! every further message.
//!
//! ```text
//! new ──AdvertiseKeys──▶ KeysAdvertised ──KeyList / ShareKeys──▶ SharesSent
//!     ──RoutedShares / MaskedInput──▶ InputSent
//!     ──(malicious) ConsistencyRequest / ConsistencySignature──▶ SurvivorsSigned
//!     ──UnmaskRequest / UnmaskShares──▶ Completed
//! ```
//!
//! The core privacy guarantee: for every neighbor `v`, a client reveals either its
//! share of `v`'s self-mask secret (v survived) or its share of `v`'s masking key (v
//! dropped), never both. It answers exactly one unmasking request: the state that
//! answers is consumed, so a second request finds [`Client::Completed`].

use std::sync::Arc;

use crate::par::*;
use ed25519_dalek::{Signer, SigningKey};

use super::config::Config;
use super::messages::{
    AdvertiseKeys, ClientMessage, ConsistencyRequest, ConsistencySignature, KeyList, MaskedInput,
    RevealedPairwise, RevealedShare, RoutedShares, SealedShares, ServerMessage, ShareKeys,
    ShareKind, UnmaskRequest, UnmaskShares, SHARE_PLAINTEXT_LEN,
};
use super::transcript;
use crate::crypto::aead::{self, AssociatedData};
use crate::crypto::kdf::{self, MaskSeed, ShareKey};
use crate::crypto::keys::{SecretKey, SharedSecret};
use crate::crypto::prg::{self, Sign};
use crate::crypto::rng::CryptoRng;
use crate::crypto::shamir::{self, eval_point, SecretScalar, Share, SCALAR_LEN};
use crate::error::{
    CryptoError, EncodingError, Error, Misuse, PeerMisbehaved, Result, ThresholdError,
};
use crate::ids::{ClientId, Round};
use crate::ring::RingVec;

// Where the secrets live. Every secret a state holds sits in a heap block of its own
// (a `Box` or a `Vec` that never reallocates) that moves from state to state as a
// pointer: moving a state, or the `Client` holding it (`Client::handle`'s swap, a
// caller's `Vec<Client>` growing), copies no secret byte, and the block is wiped in
// place (`ZeroizeOnDrop`) when it is dropped. Nothing is moved out of a container of
// secrets: values are read by reference and the container is dropped whole.
// `tests/wipe` checks this with a scanning allocator.

/// Who the client is: shared by every state.
struct Identity {
    config: Arc<Config>,
    id: ClientId,
    /// Boxed so that moves of the state do not copy it (see above).
    signing_key: Option<Box<SigningKey>>,
}

impl Identity {
    fn sign(&self, message: &[u8]) -> Result<ed25519_dalek::Signature> {
        self.signing_key
            .as_ref()
            .map(|k| k.sign(message))
            .ok_or(Error::Misuse(Misuse::SigningKeyMismatch {
                client: self.id,
            }))
    }

    fn threshold(&self) -> usize {
        self.config.threshold()
    }
}

/// Round 0 done: keys advertised, waiting for the [`KeyList`].
pub struct KeysAdvertised {
    me: Identity,
    /// Empty until a client started with [`Client::new_deferred`] is given its input.
    inputs: Vec<RingVec>,
    enc_sk: Box<SecretKey>,
    mask_sk: Box<SecretKey>,
    self_secret: Box<SecretScalar>,
    advertised: AdvertiseKeys,
}

/// What a client keeps about one neighbor from its key list.
struct Neighbor {
    id: ClientId,
    /// Key of the shares this neighbor sealed to us.
    key_in: ShareKey,
    /// Pairwise mask seed with this neighbor, one per vector.
    seeds: Vec<MaskSeed>,
    /// The masking-key agreement the seeds come from, kept in case the neighbor is
    /// excluded and the server needs it revealed ([`ShareKind::PairwiseSecret`]).
    mask_shared: SharedSecret,
}

/// Round 1 done: shares sent, waiting for [`RoutedShares`].
pub struct SharesSent {
    me: Identity,
    /// Empty until a client started with [`Client::new_deferred`] is given its input
    /// (then [`Client::handle`] refuses the [`RoutedShares`] with [`Misuse::InputMissing`]).
    inputs: Vec<RingVec>,
    self_secret: Box<SecretScalar>,
    neighbors: Vec<Neighbor>,
}

/// The two shares a neighbor entrusted to us, and our masking-key agreement with it.
struct Held {
    from: ClientId,
    mask_key: Share,
    self_mask: Share,
    /// `X25519(mask_sk_u, mask_pk_from)`: revealed instead of the masking-key share if
    /// the neighbor is excluded and the server asks for it.
    pairwise: SharedSecret,
}

/// Round 2 done: masked input sent, waiting for a [`ConsistencyRequest`] (malicious
/// model) or an [`UnmaskRequest`] (semi-honest model).
pub struct InputSent {
    me: Identity,
    /// Sorted by `from`: the client's view of `U2 ∩ N(u)`.
    held: Vec<Held>,
}

/// Round 3 done (malicious model): survivor set signed, waiting for the
/// [`UnmaskRequest`].
pub struct SurvivorsSigned {
    me: Identity,
    held: Vec<Held>,
    /// The survivor set signed, sorted.
    signed: Vec<ClientId>,
}

/// The session is over for this client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    revealed: Vec<(ClientId, ShareKind)>,
}

impl Completed {
    /// For each neighbor the client held shares from, which share it revealed.
    pub fn revealed(&self) -> &[(ClientId, ShareKind)] {
        &self.revealed
    }
}

fn check_inputs(config: &Config, inputs: &[RingVec]) -> Result<()> {
    let specs = config.vectors();
    if inputs.len() != specs.len() {
        return Err(Error::Misuse(Misuse::InputCount {
            expected: specs.len(),
            found: inputs.len(),
        }));
    }
    for (vector, (x, spec)) in inputs.iter().zip(specs).enumerate() {
        if x.len() != spec.dim {
            return Err(Error::Misuse(Misuse::InputLength {
                vector,
                expected: spec.dim,
                found: x.len(),
            }));
        }
        if !x.fits(&spec.ring) {
            return Err(Error::Misuse(Misuse::InputNotInRing { vector }));
        }
    }
    Ok(())
}

impl KeysAdvertised {
    /// Starts client `id`: checks the inputs (one ring vector per configured vector)
    /// and the signing key (required in the malicious model, refused otherwise),
    /// generates the two X25519 key pairs and the self-mask secret, and returns the
    /// round-0 message.
    ///
    /// # Errors
    /// [`Misuse::InvalidClientId`] for an id outside `0..n`;
    /// [`Misuse::SigningKeyMismatch`]; [`Misuse::InputCount`], [`Misuse::InputLength`],
    /// [`Misuse::InputNotInRing`].
    pub fn new<R: CryptoRng + ?Sized>(
        config: Arc<Config>,
        id: ClientId,
        inputs: Vec<RingVec>,
        signing_key: Option<SigningKey>,
        rng: &mut R,
    ) -> Result<(Self, AdvertiseKeys)> {
        Self::check_identity(&config, id, signing_key.as_ref())?;
        check_inputs(&config, &inputs)?;
        Self::start(config, id, inputs, signing_key, rng)
    }

    /// Starts client `id` without its input (`inputs` empty until
    /// [`Client::provide_inputs`]); as [`new`](Self::new) otherwise.
    ///
    /// # Errors
    /// As [`new`](Self::new), less the input checks.
    pub fn new_deferred<R: CryptoRng + ?Sized>(
        config: Arc<Config>,
        id: ClientId,
        signing_key: Option<SigningKey>,
        rng: &mut R,
    ) -> Result<(Self, AdvertiseKeys)> {
        Self::check_identity(&config, id, signing_key.as_ref())?;
        Self::start(config, id, Vec::new(), signing_key, rng)
    }

    /// The id is in range and the signing key is the configured one (or absent in the
    /// semi-honest model).
    fn check_identity(
        config: &Config,
        id: ClientId,
        signing_key: Option<&SigningKey>,
    ) -> Result<()> {
        if !config.contains(id) {
            return Err(Error::Misuse(Misuse::InvalidClientId {
                client: id,
                n: config.n(),
            }));
        }
        let key_ok = match (signing_key, config.verifying_key(id)) {
            (None, None) => true,
            (Some(sk), Some(vk)) => sk.verifying_key() == *vk,
            _ => false,
        };
        if !key_ok {
            return Err(Error::Misuse(Misuse::SigningKeyMismatch { client: id }));
        }
        Ok(())
    }

    /// Generates the keys and the round-0 message (identity and inputs checked).
    fn start<R: CryptoRng + ?Sized>(
        config: Arc<Config>,
        id: ClientId,
        inputs: Vec<RingVec>,
        signing_key: Option<SigningKey>,
        rng: &mut R,
    ) -> Result<(Self, AdvertiseKeys)> {
        let enc_sk = Box::new(SecretKey::random(rng));
        let mask_sk = Box::new(SecretKey::random(rng));
        let self_secret = Box::new(SecretScalar::random(rng));
        let (enc_pk, mask_pk) = (enc_sk.public_key(), mask_sk.public_key());
        let me = Identity {
            config,
            id,
            signing_key: signing_key.map(Box::new),
        };
        let signature = if me.config.is_malicious() {
            let t = transcript::advertise(me.config.session_id(), id, &enc_pk, &mask_pk);
            Some(me.sign(&t)?)
        } else {
            None
        };
        let advertised = AdvertiseKeys {
            enc_pk,
            mask_pk,
            signature,
        };
        let state = Self {
            me,
            inputs,
            enc_sk,
            mask_sk,
            self_secret,
            advertised,
        };
        Ok((state, advertised))
    }

    /// Round 1: checks the key list, seals one pair of shares (masking key, self-mask
    /// secret; threshold `t`) to each neighbor listed, and derives the pairwise mask
    /// seeds.
    ///
    /// # Errors [`PeerMisbehaved::UnknownClient`], [`PeerMisbehaved::DuplicateEntry`],
    /// [`PeerMisbehaved::NotANeighbor`], [`PeerMisbehaved::MissingOwnKey`],
    /// [`PeerMisbehaved::OwnKeyMismatch`], [`PeerMisbehaved::DuplicateKey`],
    /// [`PeerMisbehaved::MissingSignature`], [`PeerMisbehaved::UnexpectedSignature`],
    /// [`CryptoError::BadSignature`], [`ThresholdError::TooFewNeighbors`],
    /// [`CryptoError::NonContributory`] (a low-order public key).
    pub fn handle_key_list<R: CryptoRng + ?Sized>(
        self,
        msg: &KeyList,
        rng: &mut R,
    ) -> Result<(SharesSent, ShareKeys)> {
        let config = &self.me.config;
        let (u, sid) = (self.me.id, *config.session_id());
        let graph = config.graph();
        let mut ids: Vec<ClientId> = Vec::with_capacity(msg.entries.len());
        let mut keys: Vec<([u8; 32], ClientId)> = Vec::with_capacity(2 * msg.entries.len());
        let mut own = false;
        for e in &msg.entries {
            if !config.contains(e.id) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                    client: e.id,
                }));
            }
            if e.id == u {
                if own {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                        client: u,
                    }));
                }
                if e.keys != self.advertised {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::OwnKeyMismatch));
                }
                own = true;
            } else if !graph.are_neighbors(u, e.id) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                    client: u,
                    other: e.id,
                }));
            } else {
                ids.push(e.id);
            }
            keys.push((e.keys.enc_pk.to_bytes(), e.id));
            keys.push((e.keys.mask_pk.to_bytes(), e.id));
        }
        if !own {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingOwnKey));
        }
        ids.sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                client: w[0],
            }));
        }
        keys.sort_unstable();
        if let Some(w) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateKey {
                first: w[0].1.min(w[1].1),
                second: w[0].1.max(w[1].1),
            }));
        }
        for e in msg.entries.iter().filter(|e| e.id != u) {
            match (config.is_malicious(), e.keys.signature) {
                (false, None) => {}
                (false, Some(_)) => {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedSignature {
                        client: e.id,
                    }))
                }
                (true, None) => {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::MissingSignature {
                        client: e.id,
                    }))
                }
                (true, Some(sig)) => {
                    let t = transcript::advertise(&sid, e.id, &e.keys.enc_pk, &e.keys.mask_pk);
                    let vk = config.verifying_key(e.id).ok_or(Error::PeerMisbehaved(
                        PeerMisbehaved::UnknownClient { client: e.id },
                    ))?;
                    vk.verify_strict(&t, &sig)
                        .map_err(|_| Error::Crypto(CryptoError::BadSignature { client: e.id }))?;
                }
            }
        }
        let t = self.me.threshold();
        if ids.len() < t {
            return Err(Error::Threshold(ThresholdError::TooFewNeighbors {
                round: Round::ShareKeys,
                needed: t,
                got: ids.len(),
            }));
        }

        let mut entries: Vec<_> = msg.entries.iter().filter(|e| e.id != u).collect();
        entries.sort_unstable_by_key(|e| e.id);
        let xs: Vec<u64> = ids.iter().map(|&v| eval_point(v)).collect();
        let mask_shares = shamir::split(&self.mask_sk.to_scalar()?, t, &xs, rng)?;
        let self_shares = shamir::split(&self.self_secret, t, &xs, rng)?;
        // The key agreements dominate (two X25519 per neighbor): spread them over the
        // rayon pool. Sealing needs the caller's rng, so it stays sequential.
        //
        // The derived keys are written in place into vectors allocated once at their
        // final size (no collect, whose intermediate vectors rayon frees unwiped, and
        // no move out of a vector, which leaves the bytes in the freed buffer).
        let (enc_sk, mask_sk) = (&self.enc_sk, &self.mask_sk);
        let per = config.vectors().len();
        let mut keys_out: Vec<ShareKey> = Vec::with_capacity(entries.len());
        let mut neighbors: Vec<Neighbor> = Vec::with_capacity(entries.len());
        for e in &entries {
            keys_out.push(ShareKey::from_bytes([0; 32]));
            neighbors.push(Neighbor {
                id: e.id,
                key_in: ShareKey::from_bytes([0; 32]),
                seeds: Vec::with_capacity(per),
                mask_shared: SharedSecret::from_bytes([0; 32]),
            });
        }
        // Both agreements with every neighbor, batched in the vector unit's lanes
        // (`SecretKey::agree_many`); the secrets wipe themselves when dropped.
        let enc_pks: Vec<crate::crypto::keys::PublicKey> =
            entries.iter().map(|e| e.keys.enc_pk).collect();
        let mask_pks: Vec<crate::crypto::keys::PublicKey> =
            entries.iter().map(|e| e.keys.mask_pk).collect();
        let enc_all = enc_sk.agree_many(&enc_pks);
        let mask_all = mask_sk.agree_many(&mask_pks);
        keys_out
            .par_iter_mut()
            .zip(neighbors.par_iter_mut())
            .zip(entries.par_iter())
            .zip(enc_all.par_iter().zip(mask_all.par_iter()))
            .try_for_each(|(((key_out, neighbor), e), (enc, mask))| -> Result<()> {
                // This may run on a pool thread, whose stack `Client::handle` does not
                // scrub: the derived keys and seeds pass through the frame of the
                // closure below, which `scrubbed` wipes.
                crate::crypto::scrubbed(|| -> Result<()> {
                    let v = e.id;
                    let enc_shared = enc.as_ref().map_err(Clone::clone)?;
                    let mask_shared = mask.as_ref().map_err(Clone::clone)?;
                    for spec in config.vectors() {
                        neighbor.seeds.push(kdf::pairwise_mask_seed(
                            mask_shared,
                            &sid,
                            u,
                            v,
                            spec.name.as_bytes(),
                        )?);
                    }
                    neighbor.key_in = kdf::share_key(enc_shared, &sid, v, u);
                    neighbor.mask_shared = SharedSecret::from_bytes(*mask_shared.as_bytes());
                    *key_out = kdf::share_key(enc_shared, &sid, u, v);
                    Ok(())
                })
            })?;
        let mut sealed = Vec::with_capacity(entries.len());
        for (((key_out, neighbor), ms), ss) in keys_out
            .iter()
            .zip(&neighbors)
            .zip(&mask_shares)
            .zip(&self_shares)
        {
            let v = neighbor.id;
            let mut pt = zeroize::Zeroizing::new([0u8; SHARE_PLAINTEXT_LEN]);
            pt[..4].copy_from_slice(&u.to_be_bytes());
            pt[4..8].copy_from_slice(&v.to_be_bytes());
            pt[8..40].copy_from_slice(&*ms.y_bytes());
            pt[40..].copy_from_slice(&*ss.y_bytes());
            let ad = AssociatedData {
                session_id: sid,
                round: Round::ShareKeys.number(),
                sender: u,
                receiver: v,
            };
            sealed.push(SealedShares {
                to: v,
                ciphertext: aead::seal(key_out, &ad, &pt[..], rng),
            });
        }
        drop(keys_out);
        let next = SharesSent {
            me: self.me,
            inputs: self.inputs,
            self_secret: self.self_secret,
            neighbors,
        };
        Ok((next, ShareKeys { shares: sealed }))
    }
}

impl SharesSent {
    /// Round 2: opens the shares routed to this client and masks the input. A sender
    /// whose ciphertext does not open ([`CryptoError::Decryption`], which includes
    /// reflected and replayed ciphertexts) or whose plaintext is malformed (wrong
    /// length, wrong ids, a non-canonical share) is *accused*: listed in
    /// [`MaskedInput::accused`] and treated as dropped. The others are the client's
    /// view of `U2` (its usable neighbors), and for each vector
    /// `y = x + PRG(self seed) + Σ_{v∈U2, v>u} PRG(s_uv) − Σ_{v∈U2, v<u} PRG(s_uv)`.
    ///
    /// # Errors [`PeerMisbehaved::UnknownClient`], [`PeerMisbehaved::NotANeighbor`],
    /// [`PeerMisbehaved::AliveAfterDead`] (a neighbor absent from the key list),
    /// [`PeerMisbehaved::DuplicateEntry`] (the routing is the server's: these abort),
    /// [`ThresholdError::TooFewNeighbors`] (fewer than `t` usable neighbors).
    pub fn handle_routed_shares(self, msg: &RoutedShares) -> Result<(InputSent, MaskedInput)> {
        if self.inputs.is_empty() {
            return Err(Error::Misuse(Misuse::InputMissing));
        }
        let config = &self.me.config;
        let (u, sid) = (self.me.id, *config.session_id());
        // Held shares go straight into the vector the next state keeps (never moved out
        // of it; sorting swaps them within it).
        let mut held: Vec<Held> = Vec::with_capacity(msg.shares.len());
        let mut accused: Vec<ClientId> = Vec::new();
        for rc in &msg.shares {
            let v = rc.from;
            let idx = match self.neighbors.binary_search_by_key(&v, |n| n.id) {
                Ok(i) => i,
                Err(_) if !config.contains(v) => {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                        client: v,
                    }))
                }
                Err(_) if config.graph().are_neighbors(u, v) => {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
                        client: v,
                    }))
                }
                Err(_) => {
                    return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                        client: u,
                        other: v,
                    }))
                }
            };
            if held.iter().any(|h| h.from == v) || accused.contains(&v) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                    client: v,
                }));
            }
            // A ciphertext that does not open or a plaintext that is malformed is the
            // sender's fault (or a tampering server's): the client holds nothing of
            // that sender, adds no mask with it, and accuses it (docs/threat-model.md,
            // "Exclusion"). The error itself is not kept: it says nothing the
            // accusation does not.
            let nb = &self.neighbors[idx];
            match open_shares(&nb.key_in, &nb.mask_shared, sid, u, v, &rc.ciphertext) {
                Ok(h) => held.push(h),
                Err(_) => accused.push(v),
            }
        }
        let t = self.me.threshold();
        if held.len() < t {
            return Err(Error::Threshold(ThresholdError::TooFewNeighbors {
                round: Round::MaskedInputCollection,
                needed: t,
                got: held.len(),
            }));
        }
        held.sort_unstable_by_key(|h| h.from);
        accused.sort_unstable();

        let mut vectors = Vec::with_capacity(self.inputs.len());
        for (j, (mut y, spec)) in self.inputs.into_iter().zip(config.vectors()).enumerate() {
            let self_seed = kdf::self_mask_seed(&self.self_secret, &sid, u, spec.name.as_bytes())?;
            let mut masks: Vec<(&MaskSeed, Sign)> = Vec::with_capacity(held.len() + 1);
            masks.push((&self_seed, Sign::Plus));
            for h in &held {
                // `held` is a subset of `neighbors`, both sorted by id.
                let seed = self
                    .neighbors
                    .binary_search_by_key(&h.from, |n| n.id)
                    .ok()
                    .and_then(|i| self.neighbors[i].seeds.get(j))
                    .ok_or(Error::Misuse(Misuse::InputCount {
                        expected: config.vectors().len(),
                        found: j,
                    }))?;
                masks.push((seed, if h.from > u { Sign::Plus } else { Sign::Minus }));
            }
            prg::expand_add(&spec.ring, &masks, &mut y)?;
            vectors.push(y);
        }
        let next = InputSent { me: self.me, held };
        Ok((next, MaskedInput { accused, vectors }))
    }
}

/// Opens the pair of shares `v` sealed to `u` and checks it: the plaintext's length,
/// its two ids, and that both share values are canonical scalars.
///
/// # Errors [`CryptoError::Decryption`] (includes reflected and replayed ciphertexts),
/// [`EncodingError::InvalidLength`], [`PeerMisbehaved::MisaddressedShares`],
/// [`EncodingError::NonCanonicalScalar`].
fn open_shares(
    key_in: &ShareKey,
    mask_shared: &SharedSecret,
    session_id: crate::ids::SessionId,
    u: ClientId,
    v: ClientId,
    ciphertext: &[u8],
) -> Result<Held> {
    let ad = AssociatedData {
        session_id,
        round: Round::ShareKeys.number(),
        sender: v,
        receiver: u,
    };
    let pt = aead::open(key_in, &ad, ciphertext)?;
    let pt: &[u8; SHARE_PLAINTEXT_LEN] = pt.as_slice().try_into().map_err(|_| {
        Error::Encoding(EncodingError::InvalidLength {
            what: "share plaintext",
            expected: SHARE_PLAINTEXT_LEN,
            found: pt.len(),
        })
    })?;
    if pt[..4] != v.to_be_bytes() || pt[4..8] != u.to_be_bytes() {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::MisaddressedShares {
            from: v,
        }));
    }
    let y = |r: core::ops::Range<usize>| -> Result<[u8; SCALAR_LEN]> {
        pt.get(r)
            .and_then(|s| s.try_into().ok())
            .ok_or(Error::Encoding(EncodingError::InvalidLength {
                what: "share plaintext",
                expected: SHARE_PLAINTEXT_LEN,
                found: pt.len(),
            }))
    };
    let mask_key = Share::from_bytes(eval_point(u), &zeroize::Zeroizing::new(y(8..40)?))?;
    let self_mask = Share::from_bytes(eval_point(u), &zeroize::Zeroizing::new(y(40..72)?))?;
    Ok(Held {
        from: v,
        mask_key,
        self_mask,
        pairwise: SharedSecret::from_bytes(*mask_shared.as_bytes()),
    })
}

/// Checks a survivor set against the client's view and returns it sorted.
fn check_survivors(
    me: &Identity,
    held: &[Held],
    survivors: &[ClientId],
    round: Round,
) -> Result<Vec<ClientId>> {
    let config = &me.config;
    let u = me.id;
    let mut sorted = survivors.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
            client: w[0],
        }));
    }
    if let Some(&bad) = sorted.iter().find(|&&v| !config.contains(v)) {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
            client: bad,
        }));
    }
    if sorted.binary_search(&u).is_err() {
        return Err(Error::PeerMisbehaved(PeerMisbehaved::SelfListedDead));
    }
    let mut alive_neighbors = 0;
    for &v in config.graph().neighbors(u) {
        if sorted.binary_search(&v).is_ok() {
            if held.binary_search_by_key(&v, |h| h.from).is_err() {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::AliveAfterDead {
                    client: v,
                }));
            }
            alive_neighbors += 1;
        }
    }
    let t = me.threshold();
    if alive_neighbors < t {
        return Err(Error::Threshold(ThresholdError::TooFewNeighbors {
            round,
            needed: t,
            got: alive_neighbors,
        }));
    }
    Ok(sorted)
}

/// Checks the server's pairwise requests: strictly ascending, each a neighbor outside
/// the survivor set whose shares the client holds (it did not accuse it). Such a
/// neighbor is already not counted among the `t` the survivor check requires (it is
/// not listed), so what the client reveals leaves it at least `t` neighbors in `U3`
/// whose masks with it stay hidden.
///
/// # Errors [`PeerMisbehaved::DuplicateEntry`] (a repeat or wrong order),
/// [`PeerMisbehaved::UnknownClient`], [`PeerMisbehaved::NotANeighbor`],
/// [`PeerMisbehaved::PairwiseNotExcluded`] (a survivor, or a neighbor whose shares the
/// client does not hold).
fn check_pairwise(
    me: &Identity,
    held: &[Held],
    survivors: &[ClientId],
    requested: &[ClientId],
) -> Result<()> {
    let config = &me.config;
    for (k, &v) in requested.iter().enumerate() {
        if k > 0 && requested.get(k - 1).is_some_and(|&p| p >= v) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                client: v,
            }));
        }
        if !config.contains(v) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownClient {
                client: v,
            }));
        }
        if !config.graph().are_neighbors(me.id, v) {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                client: me.id,
                other: v,
            }));
        }
        if survivors.binary_search(&v).is_ok() || held.binary_search_by_key(&v, |h| h.from).is_err()
        {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::PairwiseNotExcluded {
                client: v,
            }));
        }
    }
    Ok(())
}

/// Reveals, for every neighbor held, exactly one item: a share of its self-mask secret
/// if it survived; if not, the pairwise agreement with it when the server asked for
/// it (`requested`, checked by [`check_pairwise`]), else a share of its masking key.
///
/// The shares and agreements are copied out by reference and `held` is dropped whole,
/// which wipes every share in place (moving them out would leave them in the freed
/// buffer).
fn reveal(
    held: Vec<Held>,
    survivors: &[ClientId],
    requested: &[ClientId],
) -> (Completed, UnmaskShares) {
    let mut revealed = Vec::with_capacity(held.len());
    let mut shares = Vec::with_capacity(held.len());
    let mut pairwise = Vec::with_capacity(requested.len());
    for h in &held {
        let (kind, share) = if survivors.binary_search(&h.from).is_ok() {
            (ShareKind::SelfMask, h.self_mask.clone())
        } else if requested.binary_search(&h.from).is_ok() {
            revealed.push((h.from, ShareKind::PairwiseSecret));
            pairwise.push(RevealedPairwise {
                peer: h.from,
                secret: SharedSecret::from_bytes(*h.pairwise.as_bytes()),
            });
            continue;
        } else {
            (ShareKind::MaskKey, h.mask_key.clone())
        };
        revealed.push((h.from, kind));
        shares.push(RevealedShare {
            owner: h.from,
            kind,
            share,
        });
    }
    (Completed { revealed }, UnmaskShares { shares, pairwise })
}

impl InputSent {
    /// Round 3 (malicious model): checks the survivor set and signs it.
    ///
    /// # Errors [`PeerMisbehaved::UnexpectedMessage`] in the semi-honest model;
    /// [`PeerMisbehaved::DuplicateEntry`], [`PeerMisbehaved::UnknownClient`],
    /// [`PeerMisbehaved::SelfListedDead`], [`PeerMisbehaved::AliveAfterDead`],
    /// [`ThresholdError::TooFewNeighbors`].
    pub fn handle_consistency_request(
        self,
        msg: &ConsistencyRequest,
    ) -> Result<(SurvivorsSigned, ConsistencySignature)> {
        if !self.me.config.is_malicious() {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected: Round::Unmasking,
                found: Round::ConsistencyCheck,
            }));
        }
        let signed = check_survivors(
            &self.me,
            &self.held,
            &msg.survivors,
            Round::ConsistencyCheck,
        )?;
        let t = transcript::consistency(self.me.config.session_id(), &signed);
        let signature = self.me.sign(&t)?;
        let next = SurvivorsSigned {
            me: self.me,
            held: self.held,
            signed,
        };
        Ok((next, ConsistencySignature { signature }))
    }

    /// Round 4 (semi-honest model): checks the survivor set and the pairwise requests,
    /// and reveals one item per neighbor held (a share, or the pairwise agreement with
    /// an excluded neighbor the server asked for).
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnexpectedMessage`] in the malicious model (the consistency round comes
    /// first); [`PeerMisbehaved::UnexpectedSignature`]; those of the survivor check
    /// ([`InputSent::handle_consistency_request`]); for the pairwise requests
    /// [`PeerMisbehaved::DuplicateEntry`], [`PeerMisbehaved::UnknownClient`],
    /// [`PeerMisbehaved::NotANeighbor`], [`PeerMisbehaved::PairwiseNotExcluded`].
    pub fn handle_unmask_request(self, msg: &UnmaskRequest) -> Result<(Completed, UnmaskShares)> {
        if self.me.config.is_malicious() {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected: Round::ConsistencyCheck,
                found: Round::Unmasking,
            }));
        }
        if let Some(s) = msg.signatures.first() {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedSignature {
                client: s.id,
            }));
        }
        let survivors = check_survivors(&self.me, &self.held, &msg.survivors, Round::Unmasking)?;
        check_pairwise(&self.me, &self.held, &survivors, &msg.pairwise)?;
        Ok(reveal(self.held, &survivors, &msg.pairwise))
    }
}

impl SurvivorsSigned {
    /// Round 4 (malicious model): checks that the survivor set is the one signed and
    /// that at least `t` neighbors signed it too, then reveals one share per neighbor
    /// held.
    ///
    /// # Errors [`PeerMisbehaved::InconsistentSurvivors`] (another set than the one signed,
    /// or a signer outside it), [`PeerMisbehaved::UnknownClient`],
    /// [`PeerMisbehaved::NotANeighbor`], [`PeerMisbehaved::DuplicateEntry`],
    /// [`CryptoError::BadSignature`], [`ThresholdError::TooFewSignatures`]; those of the
    /// pairwise requests ([`InputSent::handle_unmask_request`]).
    pub fn handle_unmask_request(self, msg: &UnmaskRequest) -> Result<(Completed, UnmaskShares)> {
        let config = &self.me.config;
        let u = self.me.id;
        let mut survivors = msg.survivors.clone();
        survivors.sort_unstable();
        if survivors != self.signed {
            return Err(Error::PeerMisbehaved(PeerMisbehaved::InconsistentSurvivors));
        }
        let t = transcript::consistency(config.session_id(), &self.signed);
        let mut signers: Vec<ClientId> = Vec::with_capacity(msg.signatures.len());
        for s in &msg.signatures {
            let vk = config.verifying_key(s.id).ok_or(Error::PeerMisbehaved(
                PeerMisbehaved::UnknownClient { client: s.id },
            ))?;
            if !config.graph().are_neighbors(u, s.id) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::NotANeighbor {
                    client: u,
                    other: s.id,
                }));
            }
            if signers.contains(&s.id) {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::DuplicateEntry {
                    client: s.id,
                }));
            }
            if self.signed.binary_search(&s.id).is_err() {
                return Err(Error::PeerMisbehaved(PeerMisbehaved::InconsistentSurvivors));
            }
            vk.verify_strict(&t, &s.signature)
                .map_err(|_| Error::Crypto(CryptoError::BadSignature { client: s.id }))?;
            signers.push(s.id);
        }
        let needed = self.me.threshold();
        if signers.len() < needed {
            return Err(Error::Threshold(ThresholdError::TooFewSignatures {
                needed,
                got: signers.len(),
            }));
        }
        check_pairwise(&self.me, &self.held, &self.signed, &msg.pairwise)?;
        Ok(reveal(self.held, &self.signed, &msg.pairwise))
    }
}

/// A client of one session, in whichever state it is.
pub enum Client {
    /// Waiting for the key list.
    KeysAdvertised(KeysAdvertised),
    /// Waiting for the routed shares.
    SharesSent(SharesSent),
    /// Waiting for the consistency request (malicious) or the unmask request.
    InputSent(InputSent),
    /// Waiting for the unmask request (malicious).
    SurvivorsSigned(SurvivorsSigned),
    /// Done.
    Completed(Completed),
    /// Stopped by an error; refuses every further message.
    Aborted(Error),
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Client::Aborted(e) => f.debug_tuple("Aborted").field(e).finish(),
            Client::Completed(c) => f.debug_tuple("Completed").field(c).finish(),
            other => f.debug_struct(other.state_name()).finish_non_exhaustive(),
        }
    }
}

impl Client {
    /// Starts client `id`; returns it and its round-0 message. See
    /// [`KeysAdvertised::new`].
    pub fn new<R: CryptoRng + ?Sized>(
        config: Arc<Config>,
        id: ClientId,
        inputs: Vec<RingVec>,
        signing_key: Option<SigningKey>,
        rng: &mut R,
    ) -> Result<(Client, ClientMessage)> {
        let started = KeysAdvertised::new(config, id, inputs, signing_key, rng);
        // Key generation left secrets in dead stack bytes (see `scrub_stack`).
        crate::crypto::scrub_stack();
        let (state, msg) = started?;
        Ok((
            Client::KeysAdvertised(state),
            ClientMessage::AdvertiseKeys(msg),
        ))
    }

    /// Starts client `id` without its input: the round-0 message needs none, and neither
    /// does round 1. Give it with [`provide_inputs`](Self::provide_inputs) before the
    /// [`RoutedShares`] arrive ([`needs_input`](Self::needs_input) says when it is
    /// due). See [`KeysAdvertised::new_deferred`].
    pub fn new_deferred<R: CryptoRng + ?Sized>(
        config: Arc<Config>,
        id: ClientId,
        signing_key: Option<SigningKey>,
        rng: &mut R,
    ) -> Result<(Client, ClientMessage)> {
        let started = KeysAdvertised::new_deferred(config, id, signing_key, rng);
        // Key generation left secrets in dead stack bytes (see `scrub_stack`).
        crate::crypto::scrub_stack();
        let (state, msg) = started?;
        Ok((
            Client::KeysAdvertised(state),
            ClientMessage::AdvertiseKeys(msg),
        ))
    }

    /// Checks inputs against `config` as [`Client::new`] and [`Client::provide_inputs`]
    /// do, without starting a client.
    ///
    /// # Errors
    /// [`Misuse::InputCount`], [`Misuse::InputLength`], [`Misuse::InputNotInRing`].
    pub fn check_inputs(config: &Config, inputs: &[RingVec]) -> Result<()> {
        check_inputs(config, inputs)
    }

    /// Gives a client started with [`new_deferred`](Self::new_deferred) its input (one
    /// ring vector per configured vector), in state `KeysAdvertised` or `SharesSent`.
    /// The vectors move into the state as they are (no copy).
    ///
    /// # Errors
    /// [`Misuse::InputNotExpected`] when the client has an input already or is past the
    /// masked-input round; [`Misuse::InputCount`], [`Misuse::InputLength`],
    /// [`Misuse::InputNotInRing`] as for [`new`](Self::new). On error the client is left
    /// as it was and the refused vectors are wiped.
    pub fn provide_inputs(&mut self, mut inputs: Vec<RingVec>) -> Result<()> {
        let checked = match self {
            Client::KeysAdvertised(KeysAdvertised {
                me, inputs: own, ..
            })
            | Client::SharesSent(SharesSent {
                me, inputs: own, ..
            }) if own.is_empty() => check_inputs(&me.config, &inputs).map(|()| own),
            other => Err(Error::Misuse(Misuse::InputNotExpected {
                state: other.state_name(),
            })),
        };
        match checked {
            Ok(own) => {
                *own = inputs;
                Ok(())
            }
            Err(e) => {
                wipe_ring_vecs(&mut inputs);
                Err(e)
            }
        }
    }

    /// Whether the next message the client expects (the [`RoutedShares`]) needs an input
    /// it has not been given yet.
    pub fn needs_input(&self) -> bool {
        matches!(self, Client::SharesSent(s) if s.inputs.is_empty())
    }

    /// Whether the client would take an input now ([`provide_inputs`](Self::provide_inputs)):
    /// it was started without one, has not been given one, and has not masked it yet.
    pub fn accepts_input(&self) -> bool {
        match self {
            Client::KeysAdvertised(s) => s.inputs.is_empty(),
            Client::SharesSent(s) => s.inputs.is_empty(),
            _ => false,
        }
    }

    /// Feeds one server message; returns the message to send back. On any error the
    /// client moves to [`Client::Aborted`] (and stays there); a message for the wrong
    /// state is [`PeerMisbehaved::UnexpectedMessage`]; after completion or abort every message is
    /// [`Misuse::AlreadyCompleted`] or [`Misuse::AlreadyAborted`]. The one error that
    /// does not abort: [`Misuse::InputMissing`], the [`RoutedShares`] for a client started
    /// with [`new_deferred`](Self::new_deferred) that has not been given its input (the
    /// client stays as it was).
    pub fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        msg: ServerMessage,
        rng: &mut R,
    ) -> Result<ClientMessage> {
        match self {
            Client::Completed(_) => return Err(Error::Misuse(Misuse::AlreadyCompleted)),
            Client::Aborted(_) => return Err(Error::Misuse(Misuse::AlreadyAborted)),
            // The caller's mistake, not the server's: refused without aborting, so that
            // the input can still be given and the message handled again.
            Client::SharesSent(s)
                if s.inputs.is_empty() && matches!(msg, ServerMessage::RoutedShares(_)) =>
            {
                return Err(Error::Misuse(Misuse::InputMissing))
            }
            _ => {}
        }
        let state =
            core::mem::replace(self, Client::Aborted(Error::Misuse(Misuse::AlreadyAborted)));
        let (next, result) = match step(state, &msg, rng) {
            Ok((next, out)) => (next, Ok(out)),
            Err(e) => (Client::Aborted(e.clone()), Err(e)),
        };
        *self = next;
        // The step's callees left secrets in dead stack bytes (see `scrub_stack`).
        crate::crypto::scrub_stack();
        result
    }

    /// The client's id, unless it aborted.
    pub fn id(&self) -> Option<ClientId> {
        match self {
            Client::KeysAdvertised(s) => Some(s.me.id),
            Client::SharesSent(s) => Some(s.me.id),
            Client::InputSent(s) => Some(s.me.id),
            Client::SurvivorsSigned(s) => Some(s.me.id),
            Client::Completed(_) | Client::Aborted(_) => None,
        }
    }

    /// The name of the current state.
    pub fn state_name(&self) -> &'static str {
        match self {
            Client::KeysAdvertised(_) => "KeysAdvertised",
            Client::SharesSent(_) => "SharesSent",
            Client::InputSent(_) => "InputSent",
            Client::SurvivorsSigned(_) => "SurvivorsSigned",
            Client::Completed(_) => "Completed",
            Client::Aborted(_) => "Aborted",
        }
    }

    /// Whether the client completed the session.
    pub fn is_completed(&self) -> bool {
        matches!(self, Client::Completed(_))
    }

    /// The error that aborted the client, if it aborted.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Client::Aborted(e) => Some(e),
            _ => None,
        }
    }
}

fn step<R: CryptoRng + ?Sized>(
    state: Client,
    msg: &ServerMessage,
    rng: &mut R,
) -> Result<(Client, ClientMessage)> {
    match (state, msg) {
        (Client::KeysAdvertised(s), ServerMessage::KeyList(m)) => {
            let (next, out) = s.handle_key_list(m, rng)?;
            Ok((Client::SharesSent(next), ClientMessage::ShareKeys(out)))
        }
        (Client::SharesSent(s), ServerMessage::RoutedShares(m)) => {
            let (next, out) = s.handle_routed_shares(m)?;
            Ok((Client::InputSent(next), ClientMessage::MaskedInput(out)))
        }
        (Client::InputSent(s), ServerMessage::ConsistencyRequest(m)) => {
            let (next, out) = s.handle_consistency_request(m)?;
            Ok((
                Client::SurvivorsSigned(next),
                ClientMessage::ConsistencySignature(out),
            ))
        }
        (Client::InputSent(s), ServerMessage::UnmaskRequest(m)) => {
            let (next, out) = s.handle_unmask_request(m)?;
            Ok((Client::Completed(next), ClientMessage::UnmaskShares(out)))
        }
        (Client::SurvivorsSigned(s), ServerMessage::UnmaskRequest(m)) => {
            let (next, out) = s.handle_unmask_request(m)?;
            Ok((Client::Completed(next), ClientMessage::UnmaskShares(out)))
        }
        (state, msg) => {
            let expected = match &state {
                Client::KeysAdvertised(_) => Round::ShareKeys,
                Client::SharesSent(_) => Round::MaskedInputCollection,
                Client::InputSent(s) if s.me.config.is_malicious() => Round::ConsistencyCheck,
                Client::InputSent(_) | Client::SurvivorsSigned(_) => Round::Unmasking,
                Client::Completed(_) => return Err(Error::Misuse(Misuse::AlreadyCompleted)),
                Client::Aborted(_) => return Err(Error::Misuse(Misuse::AlreadyAborted)),
            };
            Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected,
                found: msg.round(),
            }))
        }
    }
}

/// Wipes ring vectors in place (the caller's inputs, which this crate refused).
fn wipe_ring_vecs(vs: &mut [RingVec]) {
    use zeroize::Zeroize;
    for v in vs {
        match v {
            RingVec::U32(w) => w.zeroize(),
            RingVec::U64(w) => w.zeroize(),
        }
    }
}

// Storing the state between rounds (the encoding is the wire format's).
mod state;
