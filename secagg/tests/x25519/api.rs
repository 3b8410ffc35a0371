//! The key API over the batch: `agree_many` and `agree_batch` equal `agree` element by
//! element, including per-element `NonContributory`.

use secagg::crypto::keys::{agree_batch, KeyPair, PublicKey, SecretKey};
use secagg::crypto::rng::seeded_rng;
use secagg::{CryptoError, Error};

#[test]
fn agree_many_equals_agree_every_size() {
    let mut rng = seeded_rng([21; 32]);
    let me = KeyPair::random(&mut rng);
    let peers: Vec<PublicKey> = (0..17)
        .map(|_| *KeyPair::random(&mut rng).public())
        .collect();
    for n in 0..=17 {
        let got = me.secret().agree_many(&peers[..n]);
        assert_eq!(got.len(), n);
        for (g, p) in got.iter().zip(&peers) {
            let want = me.secret().agree(p).unwrap();
            assert_eq!(g.as_ref().unwrap().as_bytes(), want.as_bytes());
        }
    }
}

#[test]
fn non_contributory_is_reported_per_lane() {
    let mut rng = seeded_rng([22; 32]);
    let me = KeyPair::random(&mut rng);
    let mut peers: Vec<PublicKey> = (0..11)
        .map(|_| *KeyPair::random(&mut rng).public())
        .collect();
    // Low-order keys at lanes 0, 5 and 10 (the third batch's third lane).
    for i in [0, 5, 10] {
        peers[i] = PublicKey::from_bytes([0; 32]);
    }
    peers[5] = PublicKey::from_bytes({
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    });
    let got = me.secret().agree_many(&peers);
    for (i, g) in got.iter().enumerate() {
        if [0, 5, 10].contains(&i) {
            assert_eq!(
                g.as_ref().err(),
                Some(&Error::Crypto(CryptoError::NonContributory))
            );
        } else {
            assert_eq!(
                g.as_ref().unwrap().as_bytes(),
                me.secret().agree(&peers[i]).unwrap().as_bytes()
            );
        }
    }
}

#[test]
fn agree_batch_is_symmetric_with_agree() {
    let mut rng = seeded_rng([23; 32]);
    let a: Vec<KeyPair> = (0..13).map(|_| KeyPair::random(&mut rng)).collect();
    let b: Vec<KeyPair> = (0..13).map(|_| KeyPair::random(&mut rng)).collect();
    let ab: Vec<(&SecretKey, &PublicKey)> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x.secret(), y.public()))
        .collect();
    let ba: Vec<(&SecretKey, &PublicKey)> = b
        .iter()
        .zip(&a)
        .map(|(x, y)| (x.secret(), y.public()))
        .collect();
    for (x, y) in agree_batch(&ab).iter().zip(agree_batch(&ba).iter()) {
        assert_eq!(
            x.as_ref().unwrap().as_bytes(),
            y.as_ref().unwrap().as_bytes()
        );
    }
    assert!(agree_batch(&[]).is_empty());
}

/// Batched public keys equal the fixed-base table's for every count 0..=17 (full
/// vector batches and remainders).
#[test]
fn public_keys_batch_equals_fixed_base() {
    use secagg::crypto::keys::public_keys;
    let mut rng = seeded_rng([24; 32]);
    let sks: Vec<SecretKey> = (0..17).map(|_| SecretKey::random(&mut rng)).collect();
    for n in 0..=17 {
        let refs: Vec<&SecretKey> = sks[..n].iter().collect();
        let got = public_keys(&refs);
        let want: Vec<PublicKey> = sks[..n].iter().map(|k| k.public_key()).collect();
        assert_eq!(got, want, "n = {n}");
    }
}
