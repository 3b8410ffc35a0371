//! Neighbor graphs: who shares keys and pairwise masks with whom.
//!
//! SecAgg (Bonawitz et al. 2017) uses the complete graph: every client is a neighbor
//! of every other. SecAgg+ (Bell et al. 2020) uses a sparse `k`-regular graph: the
//! Harary graph `H(k, n)` whose node labels are permuted by a shuffle derived from a
//! public 32-byte seed. Every party that knows `(n, k, seed)` computes the same graph,
//! so a client can check its own neighborhood and the server cannot choose it.
//!
//! # The construction, exactly
//!
//! Clients are `0..n`. A [`GraphSpec::Harary`] with `degree >= n - 1` is the complete
//! graph. Otherwise, with `2 <= k = degree < n - 1` and `r = floor(k / 2)`:
//!
//! 1. **Ring positions.** Positions `0..n` sit on a cycle. Position `p` is adjacent to
//!    `p ± j mod n` for `j = 1..=r`. If `k` is odd, add the "diameters" of Harary's
//!    construction: for even `n`, `{p, p + n/2}` for `p in 0..n/2`; for odd `n`,
//!    `m = (n - 1) / 2` and `{p, p + m}` for `p in 0..=m`. Every position then has
//!    degree `k`, except that for odd `k` and odd `n` (where no `k`-regular graph
//!    exists) position `m` has degree `k + 1`. `H(k, n)` is `k`-connected.
//! 2. **Shuffle key.** `key = SHA-256("secagg/graph" || v || le64(n) || le64(k) ||
//!    seed)`, where `v` is the single byte [`PROTOCOL_VERSION`] and `le64` is the
//!    8-byte little-endian encoding.
//! 3. **Word stream.** The ChaCha20 keystream (20 rounds, the original 64-bit block
//!    counter starting at 0 and 64-bit nonce 0; equal to RFC 8439 with a zero 96-bit
//!    nonce for the first 2^32 blocks) under `key`, cut into consecutive 8-byte
//!    chunks, each read as a little-endian `u64`. This is `rand_chacha`'s
//!    `ChaCha20Rng::from_seed(key).next_u64()`.
//! 4. **Unbiased bounded draw.** `uniform(b)` for `1 <= b <= 2^32`: take the next word
//!    `x`; if `x >= b * floor(2^64 / b)` discard it and take the next; else return
//!    `x mod b`.
//! 5. **Fisher–Yates.** `label = [0, 1, .., n-1]`; for `i = n-1` down to `1`:
//!    `j = uniform(i + 1)`, swap `label[i]` and `label[j]`.
//! 6. **Graph.** Position `p` carries client `label[p]`; clients `label[p]` and
//!    `label[q]` are neighbors exactly when positions `p` and `q` are adjacent.
//!
//! [`harary_labels`] returns the `label` array of step 5. Neighborhoods are open (a
//! client is never its own neighbor), symmetric, and returned sorted ascending.
//!
//! # Positions from keys (the malicious model)
//!
//! When the clients have registered Ed25519 verifying keys, the positions come from
//! the keys instead of steps 2–5 ([`keyed_labels`], used by
//! [`Config`](super::config::Config) in the malicious model): client `u`'s *position
//! tag* is `SHA-256("secagg/graph-position" || v || le64(n) || le64(k) || seed ||
//! vk_u)`, and `label` lists the clients by ascending tag (ties, which need a SHA-256
//! collision, by ascending id). A position is then bound to the key, not to an id
//! number that whoever writes the roster assigns, and cannot be chosen without
//! knowing the seed: the seed is fixed in the session id, after the roster, before
//! any round-0 message. What choosing the seed still buys is bounded in
//! `docs/threat-model.md` ("The graph nobody can steer").
//!
//! Memory is `O(n * k)` (the adjacency lists, 4 bytes per entry, `n (n - 1)` entries
//! for the complete graph); [`Graph::neighbors`] is `O(1)`.

use ed25519_dalek::VerifyingKey;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::ids::{ClientId, PROTOCOL_VERSION};
use crate::{Error, Misuse, Result};

/// Domain-separation label of the shuffle key derivation.
pub const GRAPH_DOMAIN: &[u8] = b"secagg/graph";

/// Domain-separation label of the position tags of [`keyed_labels`].
pub const POSITION_DOMAIN: &[u8] = b"secagg/graph-position";

/// Largest number of clients: ids must fit a [`ClientId`].
pub const MAX_CLIENTS: usize = 1 << 32;

/// Which neighbor graph a session uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphSpec {
    /// Every client is a neighbor of every other (SecAgg).
    Complete,
    /// The Harary graph `H(degree, n)` with labels shuffled from a public seed
    /// (SecAgg+), or, in the malicious model, positioned by the clients' verifying
    /// keys and the seed ([`Graph::with_keys`]). `degree >= n - 1` gives the complete
    /// graph.
    Harary {
        /// Number of neighbors of each client (`k`).
        degree: usize,
        /// Public seed of the label shuffle.
        seed: [u8; 32],
    },
}

/// A neighbor graph over clients `0..n`, stored as sorted adjacency lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    n: usize,
    complete: bool,
    /// `offsets[u]..offsets[u + 1]` indexes `adj` for client `u`; length `n + 1`.
    offsets: Vec<usize>,
    adj: Vec<ClientId>,
    min_degree: usize,
    max_degree: usize,
}

impl Graph {
    /// Builds the graph for `n` clients.
    ///
    /// Errors: [`Misuse::InvalidClientCount`] if `n == 0` or `n > 2^32`;
    /// [`Misuse::InvalidDegree`] for a Harary degree below 2 that is not complete
    /// (degree 0, or degree 1 with more than 2 clients).
    pub fn new(n: usize, spec: &GraphSpec) -> Result<Graph> {
        check_n(n)?;
        match *spec {
            GraphSpec::Complete => Self::complete(n),
            GraphSpec::Harary { degree, ref seed } => {
                if degree == 0 || (degree == 1 && n > 2) {
                    return Err(Error::Misuse(Misuse::InvalidDegree { degree, n }));
                }
                if degree >= n - 1 {
                    return Self::complete(n);
                }
                let labels = harary_labels(n, degree, seed)?;
                Ok(Self::harary(n, degree, &labels))
            }
        }
    }

    /// Builds the graph for the clients whose verifying keys are `keys` (index = id):
    /// as [`Graph::new`], except that a sparse Harary graph takes its positions from
    /// the keys and the seed ([`keyed_labels`]). The complete graph ignores the keys.
    ///
    /// Errors: those of [`Graph::new`]; [`Misuse::VerifyingKeyCount`] unless there is
    /// one key per client.
    pub fn with_keys(n: usize, spec: &GraphSpec, keys: &[VerifyingKey]) -> Result<Graph> {
        check_n(n)?;
        if keys.len() != n {
            return Err(Error::Misuse(Misuse::VerifyingKeyCount {
                expected: n,
                found: keys.len(),
            }));
        }
        match *spec {
            GraphSpec::Harary { degree, ref seed } if degree >= 2 && degree < n - 1 => {
                let labels = keyed_labels(n, degree, seed, keys)?;
                Ok(Self::harary(n, degree, &labels))
            }
            _ => Self::new(n, spec),
        }
    }

    fn complete(n: usize) -> Result<Graph> {
        let total = n
            .checked_mul(n - 1)
            .ok_or(Error::Misuse(Misuse::InvalidClientCount { n }))?;
        let mut adj = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for u in 0..n {
            // Ids fit u32: n <= 2^32 was checked.
            adj.extend((0..n).filter(|&v| v != u).map(|v| v as ClientId));
            offsets.push(adj.len());
        }
        Ok(Graph {
            n,
            complete: true,
            offsets,
            adj,
            min_degree: n - 1,
            max_degree: n - 1,
        })
    }

    /// `2 <= k < n - 1`, `labels` a permutation of `0..n`.
    fn harary(n: usize, k: usize, labels: &[ClientId]) -> Graph {
        let r = k / 2;
        let odd = k % 2 == 1;
        // The extra ("diameter") partner of position p, for odd k.
        let diameter = |p: usize| -> Option<usize> {
            if !odd {
                None
            } else if n.is_multiple_of(2) {
                Some((p + n / 2) % n)
            } else {
                let m = (n - 1) / 2;
                // Edges {p, p + m} for p in 0..=m.
                if p <= m {
                    Some(p + m)
                } else {
                    Some(p - m)
                }
            }
        };
        // Position m of an odd-odd graph has a second diameter edge {0, m}.
        let extra_at = if odd && n % 2 == 1 {
            Some((n - 1) / 2)
        } else {
            None
        };

        // Built row by row in label order: the ring window of a position is contiguous
        // in `labels`, so reads stay local and `adj` is written sequentially.
        let mut pos = vec![0usize; n];
        for (p, &u) in labels.iter().enumerate() {
            pos[u as usize] = p;
        }
        let max_degree = if extra_at.is_some() { k + 1 } else { k };
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0usize);
        let mut adj: Vec<ClientId> = Vec::with_capacity(n * k + max_degree - k);
        for &p in &pos {
            let start = adj.len();
            for j in 1..=r {
                // (p + j) mod n and (p - j) mod n, without a division (j < n).
                let up = if p + j >= n { p + j - n } else { p + j };
                let down = if p >= j { p - j } else { p + n - j };
                adj.push(labels[up]);
                adj.push(labels[down]);
            }
            if let Some(q) = diameter(p) {
                adj.push(labels[q]);
            }
            if extra_at == Some(p) {
                adj.push(labels[0]);
            }
            adj[start..].sort_unstable();
            offsets.push(adj.len());
        }
        Graph {
            n,
            complete: false,
            offsets,
            adj,
            min_degree: k,
            max_degree,
        }
    }

    /// The number of clients.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Whether this is the complete graph (SecAgg).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The neighbors of `id`, sorted ascending, never containing `id`; empty for
    /// `id >= n`.
    pub fn neighbors(&self, id: ClientId) -> &[ClientId] {
        let u = id as usize;
        match (self.offsets.get(u), self.offsets.get(u + 1)) {
            (Some(&a), Some(&b)) => self.adj.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Whether `u` and `v` are neighbors (`O(log k)`); false if either is out of range.
    pub fn are_neighbors(&self, u: ClientId, v: ClientId) -> bool {
        self.neighbors(u).binary_search(&v).is_ok()
    }

    /// The number of neighbors of `id` (0 for `id >= n`).
    pub fn degree(&self, id: ClientId) -> usize {
        self.neighbors(id).len()
    }

    /// The largest neighborhood size.
    pub fn max_degree(&self) -> usize {
        self.max_degree
    }

    /// The smallest neighborhood size.
    pub fn min_degree(&self) -> usize {
        self.min_degree
    }
}

fn check_n(n: usize) -> Result<()> {
    if n == 0 || n > MAX_CLIENTS {
        return Err(Error::Misuse(Misuse::InvalidClientCount { n }));
    }
    Ok(())
}

/// The shuffle of a Harary graph: `labels[p]` is the client at ring position `p`
/// (steps 2–5 of the [module docs](self)). A permutation of `0..n`.
///
/// Errors: [`Misuse::InvalidClientCount`] if `n == 0` or `n > 2^32`.
pub fn harary_labels(n: usize, degree: usize, seed: &[u8; 32]) -> Result<Vec<ClientId>> {
    check_n(n)?;
    let mut h = Sha256::new();
    h.update(GRAPH_DOMAIN);
    h.update([PROTOCOL_VERSION]);
    h.update((n as u64).to_le_bytes());
    h.update((degree as u64).to_le_bytes());
    h.update(seed);
    let key: [u8; 32] = h.finalize().into();
    let mut rng = ChaCha20Rng::from_seed(key);

    // n <= 2^32, so every id n-1 fits a ClientId.
    let mut labels: Vec<ClientId> = (0..n).map(|i| i as ClientId).collect();
    for i in (1..n).rev() {
        let j = uniform(&mut rng, i as u64 + 1) as usize;
        labels.swap(i, j);
    }
    Ok(labels)
}

/// The positions of a Harary graph taken from the clients' verifying keys (see
/// "Positions from keys" in the [module docs](self)): `labels[p]` is the client at
/// ring position `p`, the clients in ascending order of their position tags.
///
/// Errors: [`Misuse::InvalidClientCount`] if `n == 0` or `n > 2^32`;
/// [`Misuse::VerifyingKeyCount`] unless `keys.len() == n`.
pub fn keyed_labels(
    n: usize,
    degree: usize,
    seed: &[u8; 32],
    keys: &[VerifyingKey],
) -> Result<Vec<ClientId>> {
    check_n(n)?;
    if keys.len() != n {
        return Err(Error::Misuse(Misuse::VerifyingKeyCount {
            expected: n,
            found: keys.len(),
        }));
    }
    let mut prefix = Sha256::new();
    prefix.update(POSITION_DOMAIN);
    prefix.update([PROTOCOL_VERSION]);
    prefix.update((n as u64).to_le_bytes());
    prefix.update((degree as u64).to_le_bytes());
    prefix.update(seed);
    let mut tagged: Vec<([u8; 32], ClientId)> = keys
        .iter()
        .enumerate()
        .map(|(id, vk)| {
            let mut h = prefix.clone();
            h.update(vk.as_bytes());
            // n <= 2^32, so every id fits a ClientId.
            (h.finalize().into(), id as ClientId)
        })
        .collect();
    tagged.sort_unstable();
    Ok(tagged.into_iter().map(|(_, id)| id).collect())
}

/// A uniform draw from `0..b` by rejection (step 4 of the module docs); `b >= 1`.
fn uniform(rng: &mut ChaCha20Rng, b: u64) -> u64 {
    // zone = b * floor(2^64 / b), the largest multiple of b that is <= 2^64.
    let zone = (1u128 << 64) / u128::from(b) * u128::from(b);
    loop {
        let x = rng.next_u64();
        if u128::from(x) < zone {
            return x % b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, VecDeque};

    fn seed(b: u8) -> [u8; 32] {
        [b; 32]
    }

    fn harary(n: usize, k: usize, s: u8) -> Graph {
        Graph::new(
            n,
            &GraphSpec::Harary {
                degree: k,
                seed: seed(s),
            },
        )
        .unwrap()
    }

    /// Structural invariants every graph must satisfy.
    fn check_invariants(g: &Graph) {
        let n = g.n();
        let mut edges = 0usize;
        for u in 0..n as ClientId {
            let nb = g.neighbors(u);
            assert!(nb.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
            assert!(!nb.contains(&u), "no self loop");
            assert!(nb.iter().all(|&v| (v as usize) < n));
            for &v in nb {
                assert!(g.are_neighbors(v, u), "symmetric: {u} {v}");
            }
            assert!(nb.len() >= g.min_degree() && nb.len() <= g.max_degree());
            edges += nb.len();
        }
        assert_eq!(edges % 2, 0);
        assert!(g.neighbors(n as ClientId).is_empty());
        assert!(g.neighbors(ClientId::MAX).is_empty());
        assert!(!g.are_neighbors(0, n as ClientId));
    }

    fn connected_without(g: &Graph, removed: &BTreeSet<ClientId>) -> bool {
        let n = g.n() as ClientId;
        let Some(start) = (0..n).find(|u| !removed.contains(u)) else {
            return true;
        };
        let mut seen = vec![false; g.n()];
        seen[start as usize] = true;
        let mut queue = VecDeque::from([start]);
        let mut count = 1;
        while let Some(u) = queue.pop_front() {
            for &v in g.neighbors(u) {
                if !removed.contains(&v) && !seen[v as usize] {
                    seen[v as usize] = true;
                    count += 1;
                    queue.push_back(v);
                }
            }
        }
        count == g.n() - removed.len()
    }

    #[test]
    fn regular_symmetric_sorted() {
        for &(n, k) in &[(10, 2), (10, 4), (11, 6), (100, 14), (1000, 30), (7, 4)] {
            let g = harary(n, k, 1);
            check_invariants(&g);
            assert!(!g.is_complete());
            for u in 0..n as ClientId {
                assert_eq!(g.degree(u), k, "n={n} k={k} u={u}");
            }
        }
    }

    #[test]
    fn odd_degree() {
        // Even n: k-regular.
        for &(n, k) in &[(100, 15), (10, 3), (12, 7)] {
            let g = harary(n, k, 2);
            check_invariants(&g);
            assert_eq!((g.min_degree(), g.max_degree()), (k, k));
            assert!((0..n as ClientId).all(|u| g.degree(u) == k));
        }
        // Odd n: one client has k + 1 neighbors, the rest k.
        for &(n, k) in &[(11, 3), (101, 15), (9, 5)] {
            let g = harary(n, k, 3);
            check_invariants(&g);
            assert_eq!((g.min_degree(), g.max_degree()), (k, k + 1));
            let big = (0..n as ClientId).filter(|&u| g.degree(u) == k + 1).count();
            let rest = (0..n as ClientId).filter(|&u| g.degree(u) == k).count();
            assert_eq!((big, rest), (1, n - 1));
        }
    }

    #[test]
    fn complete_graphs() {
        for n in [1usize, 2, 3, 8] {
            let g = Graph::new(n, &GraphSpec::Complete).unwrap();
            check_invariants(&g);
            assert!(g.is_complete());
            for u in 0..n as ClientId {
                let want: Vec<ClientId> = (0..n as ClientId).filter(|&v| v != u).collect();
                assert_eq!(g.neighbors(u), &want[..]);
            }
        }
        // Degree >= n - 1 means complete, whatever the seed.
        for (n, k) in [(5, 4), (5, 9), (6, 5), (2, 1)] {
            let g = harary(n, k, 9);
            assert_eq!(g, Graph::new(n, &GraphSpec::Complete).unwrap());
        }
    }

    #[test]
    fn rejects_bad_input() {
        let s = seed(0);
        assert_eq!(
            Graph::new(0, &GraphSpec::Complete),
            Err(Error::Misuse(Misuse::InvalidClientCount { n: 0 }))
        );
        assert_eq!(
            Graph::new(0, &GraphSpec::Harary { degree: 2, seed: s }),
            Err(Error::Misuse(Misuse::InvalidClientCount { n: 0 }))
        );
        assert_eq!(
            Graph::new(10, &GraphSpec::Harary { degree: 0, seed: s }),
            Err(Error::Misuse(Misuse::InvalidDegree { degree: 0, n: 10 }))
        );
        assert_eq!(
            Graph::new(10, &GraphSpec::Harary { degree: 1, seed: s }),
            Err(Error::Misuse(Misuse::InvalidDegree { degree: 1, n: 10 }))
        );
        assert_eq!(
            harary_labels(MAX_CLIENTS + 1, 2, &s),
            Err(Error::Misuse(Misuse::InvalidClientCount {
                n: MAX_CLIENTS + 1
            }))
        );
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = harary(500, 20, 7);
        let b = harary(500, 20, 7);
        assert_eq!(a, b);
        let c = harary(500, 20, 8);
        assert_ne!(a, c);
        // Same seed, other degree or size: an unrelated shuffle.
        assert_ne!(
            harary_labels(500, 20, &seed(7)).unwrap(),
            harary_labels(500, 22, &seed(7)).unwrap()
        );
        let l = harary_labels(500, 20, &seed(7)).unwrap();
        let mut sorted = l.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..500).collect::<Vec<ClientId>>(), "a permutation");
        assert_ne!(l, sorted, "not the identity");
    }

    #[test]
    fn each_client_computes_its_own_neighborhood() {
        // A client that knows (n, k, seed) rebuilds the graph and sees the same
        // neighborhood as the server, and it is the neighborhood of its ring position.
        let (n, k, s) = (300usize, 12usize, seed(5));
        let server = Graph::new(n, &GraphSpec::Harary { degree: k, seed: s }).unwrap();
        let labels = harary_labels(n, k, &s).unwrap();
        for p in 0..n {
            let u = labels[p];
            let mut want: Vec<ClientId> = (1..=k / 2)
                .flat_map(|j| [labels[(p + j) % n], labels[(p + n - j) % n]])
                .collect();
            want.sort_unstable();
            let client = Graph::new(n, &GraphSpec::Harary { degree: k, seed: s }).unwrap();
            assert_eq!(client.neighbors(u), &want[..]);
            assert_eq!(server.neighbors(u), &want[..]);
        }
    }

    #[test]
    fn stays_connected_below_k_removals() {
        // H(k, n) is k-connected: removing any k - 1 clients leaves it connected.
        let mut rng = crate::crypto::rng::seeded_rng([1; 32]);
        for &(n, k) in &[(40usize, 4usize), (41, 5), (60, 6), (30, 3)] {
            let g = harary(n, k, 4);
            assert!(connected_without(&g, &BTreeSet::new()));
            for _ in 0..200 {
                let mut removed = BTreeSet::new();
                while removed.len() < k - 1 {
                    removed.insert(uniform(&mut rng, n as u64) as ClientId);
                }
                assert!(connected_without(&g, &removed), "n={n} k={k}");
            }
            // And k removals can disconnect it: the ring neighbors of a client.
            let labels = harary_labels(n, k, &seed(4)).unwrap();
            let cut: BTreeSet<ClientId> = g.neighbors(labels[0]).iter().copied().collect();
            assert!(!connected_without(&g, &cut));
        }
    }

    #[test]
    fn uniform_is_in_range_and_covers() {
        let mut rng = crate::crypto::rng::seeded_rng([2; 32]);
        let mut hits = [0usize; 7];
        for _ in 0..7000 {
            hits[uniform(&mut rng, 7) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
        assert_eq!(uniform(&mut rng, 1), 0);
    }

    // ---- independent reference implementation of the shuffle ------------------------

    /// RFC 8439 ChaCha20 block function, written from the RFC, independent of
    /// rand_chacha.
    fn chacha20_block(key: &[u8; 32], counter: u32, nonce: &[u8; 12]) -> [u8; 64] {
        fn qr(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
            s[a] = s[a].wrapping_add(s[b]);
            s[d] = (s[d] ^ s[a]).rotate_left(16);
            s[c] = s[c].wrapping_add(s[d]);
            s[b] = (s[b] ^ s[c]).rotate_left(12);
            s[a] = s[a].wrapping_add(s[b]);
            s[d] = (s[d] ^ s[a]).rotate_left(8);
            s[c] = s[c].wrapping_add(s[d]);
            s[b] = (s[b] ^ s[c]).rotate_left(7);
        }
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let mut init = [0u32; 16];
        init[..4].copy_from_slice(&[0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
        for i in 0..8 {
            init[4 + i] = word(&key[4 * i..]);
        }
        init[12] = counter;
        for i in 0..3 {
            init[13 + i] = word(&nonce[4 * i..]);
        }
        let mut s = init;
        for _ in 0..10 {
            qr(&mut s, 0, 4, 8, 12);
            qr(&mut s, 1, 5, 9, 13);
            qr(&mut s, 2, 6, 10, 14);
            qr(&mut s, 3, 7, 11, 15);
            qr(&mut s, 0, 5, 10, 15);
            qr(&mut s, 1, 6, 11, 12);
            qr(&mut s, 2, 7, 8, 13);
            qr(&mut s, 3, 4, 9, 14);
        }
        let mut out = [0u8; 64];
        for i in 0..16 {
            out[4 * i..4 * i + 4].copy_from_slice(&s[i].wrapping_add(init[i]).to_le_bytes());
        }
        out
    }

    #[test]
    fn reference_chacha20_matches_rfc8439() {
        // RFC 8439 section 2.3.2 test vector.
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let nonce = [0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let out = chacha20_block(&key, 1, &nonce);
        assert_eq!(
            hex::encode(out),
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e\
             d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
        );
    }

    /// Slow reference: the module-doc algorithm with the RFC block function, SHA-256
    /// from the spec string, and a graph built as an edge set.
    fn reference_graph(n: usize, k: usize, seed: &[u8; 32]) -> Vec<BTreeSet<ClientId>> {
        let mut msg = b"secagg/graph".to_vec();
        msg.push(crate::ids::PROTOCOL_VERSION); // the protocol version
        msg.extend_from_slice(&(n as u64).to_le_bytes());
        msg.extend_from_slice(&(k as u64).to_le_bytes());
        msg.extend_from_slice(seed);
        let key: [u8; 32] = Sha256::digest(&msg).into();
        let mut stream = Vec::new();
        let mut counter = 0u32;
        let mut pos = 0usize;
        let mut next = || {
            if pos + 8 > stream.len() {
                stream.extend_from_slice(&chacha20_block(&key, counter, &[0; 12]));
                counter += 1;
            }
            let w = u64::from_le_bytes(stream[pos..pos + 8].try_into().unwrap());
            pos += 8;
            w
        };
        let mut labels: Vec<ClientId> = (0..n as ClientId).collect();
        for i in (1..n).rev() {
            let b = (i + 1) as u128;
            let j = loop {
                let x = next() as u128;
                if x < ((1u128 << 64) / b) * b {
                    break (x % b) as usize;
                }
            };
            labels.swap(i, j);
        }
        let mut adj = vec![BTreeSet::new(); n];
        let mut edge = |p: usize, q: usize| {
            adj[labels[p] as usize].insert(labels[q]);
            adj[labels[q] as usize].insert(labels[p]);
        };
        for p in 0..n {
            for j in 1..=k / 2 {
                edge(p, (p + j) % n);
            }
        }
        if k % 2 == 1 {
            if n.is_multiple_of(2) {
                for p in 0..n / 2 {
                    edge(p, p + n / 2);
                }
            } else {
                let m = (n - 1) / 2;
                for p in 0..=m {
                    edge(p, p + m);
                }
            }
        }
        adj
    }

    #[test]
    fn shuffle_matches_slow_reference() {
        for &(n, k, s) in &[
            (10usize, 2usize, 0u8),
            (97, 8, 1),
            (100, 15, 2),
            (101, 15, 3),
            (1000, 30, 4),
        ] {
            let g = harary(n, k, s);
            let want = reference_graph(n, k, &seed(s));
            for u in 0..n {
                let got: Vec<ClientId> = g.neighbors(u as ClientId).to_vec();
                let want: Vec<ClientId> = want[u].iter().copied().collect();
                assert_eq!(got, want, "n={n} k={k} u={u}");
            }
        }
    }

    #[test]
    fn shuffle_known_answer() {
        // Pins the derivation: any change to it changes these labels. Computed
        // independently with Python's hashlib and pyca/cryptography's ChaCha20
        // (docs/protocol.md, "Neighbor graph").
        let labels = harary_labels(16, 4, &[0u8; 32]).unwrap();
        assert_eq!(labels, KAT_LABELS_16_4_ZERO);
    }

    const KAT_LABELS_16_4_ZERO: [ClientId; 16] =
        [7, 0, 3, 15, 9, 1, 12, 6, 14, 10, 2, 11, 4, 13, 5, 8];
}
