//! Hygiene of every secret type: not `Copy` (checked at compile time), wiped
//! (`Zeroize`/`ZeroizeOnDrop` bounds, checked at compile time), and a `Debug` that
//! prints none of its bytes.

use secagg::crypto::aead::Cipher;
use secagg::crypto::kdf::{MaskSeed, ShareKey};
use secagg::crypto::keys::{KeyPair, SecretKey, SharedSecret};
use secagg::crypto::shamir::{split, SecretScalar, Share};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// `<T as NotCopy<_>>::check` is ambiguous, so does not compile, when `T: Copy`.
trait NotCopy<A> {
    fn check() {}
}
impl<T: ?Sized> NotCopy<()> for T {}
impl<T: Copy> NotCopy<u8> for T {}

fn wiped<T: Zeroize + ZeroizeOnDrop>() {}
fn wiped_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_are_not_copy_and_are_wiped() {
    <SecretKey as NotCopy<_>>::check();
    <SharedSecret as NotCopy<_>>::check();
    <KeyPair as NotCopy<_>>::check();
    <ShareKey as NotCopy<_>>::check();
    <MaskSeed as NotCopy<_>>::check();
    <Cipher as NotCopy<_>>::check();
    <SecretScalar as NotCopy<_>>::check();
    <Share as NotCopy<_>>::check();

    wiped::<SecretKey>();
    wiped::<SharedSecret>();
    wiped::<KeyPair>();
    wiped::<ShareKey>();
    wiped::<MaskSeed>();
    wiped_on_drop::<Cipher>();
    wiped::<SecretScalar>();
    wiped::<Share>();
}

/// Hex of `bytes`, and its first 4 bytes as a Debug-style decimal list, to look for.
fn leaks(debug: &str, bytes: &[u8]) -> bool {
    let hex = hex::encode(bytes);
    let dec = format!("{:?}", &bytes[..4]);
    let dec = dec.trim_end_matches(']');
    debug.contains(&hex[..8]) || debug.contains(dec) || debug.contains(&hex.to_uppercase()[..8])
}

#[test]
fn debug_prints_no_secret_bytes() {
    let bytes: [u8; 32] = core::array::from_fn(|i| (0xb5 ^ (i as u8).wrapping_mul(7)) & 0x0f); // < 2^252: canonical
    let sk = SecretKey::from_bytes(bytes);
    let pair = KeyPair::from_secret(sk.clone());
    let peer = SecretKey::from_bytes([0x42; 32]).public_key();
    let shared = sk.agree(&peer).unwrap();
    let shared_bytes = *shared.as_bytes();
    let scalar = SecretScalar::from_canonical_bytes(&bytes).unwrap();
    let share = &split(
        &scalar,
        1,
        &[5],
        &mut secagg::crypto::rng::seeded_rng([0; 32]),
    )
    .unwrap()[0];
    let mut seed = [0u8; 16];
    seed.copy_from_slice(&bytes[..16]);

    let cases: Vec<(String, &[u8], &str)> = vec![
        (format!("{sk:?}"), &bytes, "SecretKey"),
        (format!("{pair:?}"), &bytes, "KeyPair"),
        (format!("{shared:?}"), &shared_bytes, "SharedSecret"),
        (
            format!("{:?}", ShareKey::from_bytes(bytes)),
            &bytes,
            "ShareKey",
        ),
        (
            format!("{:?}", MaskSeed::from_bytes(seed)),
            &seed,
            "MaskSeed",
        ),
        (
            format!("{:?}", Cipher::new(&ShareKey::from_bytes(bytes))),
            &bytes,
            "Cipher",
        ),
        (format!("{scalar:?}"), &bytes, "SecretScalar"),
        (format!("{share:?}"), &bytes, "Share"),
    ];
    for (debug, secret, name) in &cases {
        assert!(debug.starts_with(name), "{debug}");
        assert!(debug.ends_with(".. }") || debug.contains(".."), "{debug}");
        assert!(!leaks(debug, secret), "{name} leaks: {debug}");
    }
    // A share shows its (public) point, and a key pair its public key.
    assert_eq!(format!("{share:?}"), "Share { x: 5, .. }");
    assert!(format!("{pair:?}").contains("PublicKey("));
}
