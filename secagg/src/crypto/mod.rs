//! Thin wrappers over audited primitives, each protocol-free and tested against
//! published vectors: X25519 key agreement ([`keys`]; batched in the lanes of AVX-512
//! IFMA by `x25519`, with x25519-dalek as the fallback), HKDF-SHA256 ([`kdf`]),
//! AES-256-GCM ([`aead`]), Shamir secret sharing over the ristretto/ed25519 scalar
//! field ([`shamir`]) and the randomness source ([`rng`]).
//!
//! The names they bind (client and session ids, the protocol version) come from the
//! crate's identity leaf ([`ClientId`](crate::ClientId), [`SessionId`](crate::SessionId),
//! [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION)); a round enters a derivation or associated data as its number,
//! so nothing here knows the protocol.
//!
//! Two modules are public in every build: [`keys`] (the X25519 public keys that the
//! messages carry) and [`rng`] (the randomness every state machine takes). The others
//! are the protocol's building blocks, public only with the `hazmat` feature for
//! cryptographers who benchmark or test them directly; without it they are private to
//! the crate, and what the messages expose of them (a [`Share`](shamir::Share)) is
//! re-exported by [`protocol::messages`](crate::protocol::messages).

pub mod keys;
pub mod rng;

/// Declares the hazmat modules: `pub` with the `hazmat` feature, crate-private without.
/// Without the feature, items only the feature's users call (a raw keystream, a forced
/// backend) are unused inside the crate, hence the `dead_code` allowance there only.
macro_rules! hazmat {
    ($(mod $name:ident;)*) => {$(
        #[cfg(feature = "hazmat")]
        pub mod $name;
        #[cfg(not(feature = "hazmat"))]
        #[allow(dead_code, unreachable_pub)]
        pub(crate) mod $name;
    )*};
}

hazmat! {
    mod aead;
    mod kdf;
    mod prg;
    mod shamir;
    mod x25519;
}

/// Bytes of stack [`scrub_stack`] overwrites.
const SCRUB_LEN: usize = 16 * 1024;

/// Overwrites with zeros the `SCRUB_LEN` bytes of stack just below the caller's frame,
/// where the frames of the functions it called lay. Rust moves values through stack
/// temporaries that no destructor sees (a share parsed and then pushed into its
/// vector, a scalar returned by value); a later move of an enum with a smaller variant
/// copies whatever those dead bytes hold into its padding, and so into the heap. The
/// client calls this after each step that handled secrets (best effort: it reaches the
/// depth it is called at, which is where the callees ran).
#[inline(never)]
pub(crate) fn scrub_stack() {
    use zeroize::Zeroize;
    // Words, not bytes: `zeroize` writes each element with one volatile store, so
    // 8-byte elements wipe the same bytes with an eighth of the stores.
    let mut buf = [0u64; SCRUB_LEN / 8];
    buf.zeroize();
    core::hint::black_box(&mut buf);
}

/// Runs `f` in a frame of its own, below the caller's, then [`scrub_stack`]s: the
/// secrets `f`'s body moved through stack temporaries (a derived key assigned into
/// place, a seed pushed into a vector, a key cloned to be handed over) lay in that
/// frame or deeper, and are wiped before the caller goes on. For the jobs a pool
/// thread runs: a closure's own frame is not below a `scrub_stack` it calls, and the
/// thread's next job (a simulated client handling its next message) moves values
/// through the same stack bytes, padding and all, into the heap.
#[inline(always)]
pub(crate) fn scrubbed<T>(f: impl FnOnce() -> T) -> T {
    let out = call_below(f);
    scrub_stack();
    out
}

/// `f()`, never inlined into its caller (see [`scrubbed`]).
#[inline(never)]
fn call_below<T>(f: impl FnOnce() -> T) -> T {
    f()
}
