//! Client identities: the roster of Ed25519 verifying keys the server admits hellos
//! against, and the signing-key file each client holds. Formats in
//! `docs/networking.md`, "Client authentication".
//!
//! * A **roster** file lists one client per line, `ID KEY`: the decimal id (`0..n`, each
//!   exactly once, in any order) and the 32-byte Ed25519 verifying key in hex (64 digits),
//!   separated by spaces or tabs; blank lines and lines starting with `#` are skipped.
//!   Parsing is strict: anything else is a [`RosterError`] that names the line.
//! * A **key file** holds one line, `secagg-ed25519-secret-key HEX` (the 32-byte secret
//!   key, RFC 8032's seed, in hex). `secagg keygen` writes it with mode 0600.
//!
//! Demo rosters ([`Roster::demo`]) derive every key from the public session seed: anyone
//! who knows the seed can sign for every client. They exist for local experiments only.

use std::collections::HashMap;
use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use secagg::ClientId;

/// The first word of a key file's line.
pub const KEY_FILE_TAG: &str = "secagg-ed25519-secret-key";

/// Why a roster or key file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// The file could not be read.
    #[error("cannot read {what}: {kind}")]
    Io {
        /// Which file.
        what: &'static str,
        /// The operating system's error category.
        kind: std::io::ErrorKind,
    },
    /// A line of a roster that does not parse.
    #[error("roster line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
    /// The roster's ids are not exactly `0..n`.
    #[error("roster: no line for client {id} (the ids must be 0..{n}, each once)")]
    MissingId {
        /// The first id without a line.
        id: ClientId,
        /// The number of lines with keys.
        n: usize,
    },
    /// The roster lists a different number of clients than the session.
    #[error("roster lists {found} clients, the session has {expected}")]
    Count {
        /// The session's `n`.
        expected: usize,
        /// Keys in the roster.
        found: usize,
    },
    /// The key file is not one `secagg-ed25519-secret-key HEX` line.
    #[error("key file: {problem}")]
    KeyFile {
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// What is wrong with one roster line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// Not two fields.
    #[error("expected `ID KEY` (two fields), found {0}")]
    Fields(usize),
    /// The id is not a decimal `u32`.
    #[error("the id is not a decimal number below 2^32")]
    BadId,
    /// The key is not 64 hex digits.
    #[error("the key is not 64 hex digits")]
    BadHex,
    /// The 32 bytes are not an Ed25519 point, are a non-canonical encoding of one, or
    /// are a small-order one (no one holds its secret key, or its signatures verify for
    /// many messages).
    #[error("the key is not a usable Ed25519 verifying key")]
    BadKey,
    /// The id appeared on an earlier line.
    #[error("client {id} is already listed on line {first}")]
    DuplicateId {
        /// The id.
        id: ClientId,
        /// The line that listed it first.
        first: usize,
    },
    /// The key appeared on an earlier line.
    #[error("the key is already listed on line {first}")]
    DuplicateKey {
        /// The line that listed it first.
        first: usize,
    },
}

/// The verifying keys of clients `0..n`, in id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roster {
    keys: Vec<VerifyingKey>,
    demo: bool,
}

impl Roster {
    /// A roster from keys in id order.
    ///
    /// # Errors
    /// [`LineProblem::BadKey`] or [`LineProblem::DuplicateKey`] (as the `line` of the
    /// 1-based index) for a weak or repeated key.
    pub fn new(keys: Vec<VerifyingKey>) -> Result<Roster, RosterError> {
        let mut seen: HashMap<[u8; 32], usize> = HashMap::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            let problem = if !usable(k) {
                Some(LineProblem::BadKey)
            } else {
                seen.insert(k.to_bytes(), i + 1)
                    .map(|first| LineProblem::DuplicateKey { first })
            };
            if let Some(problem) = problem {
                return Err(RosterError::Line {
                    line: i + 1,
                    problem,
                });
            }
        }
        Ok(Roster { keys, demo: false })
    }

    /// The demo roster of session seed `seed`: client `i`'s key is derived from the seed
    /// ([`demo_signing_key`]). **Insecure**: anyone who knows the seed holds every key.
    pub fn demo(seed: &str, n: usize) -> Roster {
        let keys = (0..n)
            .map(|i| demo_signing_key(seed, i as ClientId).verifying_key())
            .collect();
        Roster { keys, demo: true }
    }

    /// Parses a roster file's text (format in the module docs).
    ///
    /// # Errors
    /// [`RosterError::Line`] for the first line that does not parse (or repeats an id or
    /// a key), [`RosterError::MissingId`] when the ids are not `0..n`.
    pub fn parse(text: &str) -> Result<Roster, RosterError> {
        let mut entries: Vec<(ClientId, VerifyingKey, usize)> = Vec::new();
        let mut ids: HashMap<ClientId, usize> = HashMap::new();
        let mut keys: HashMap<[u8; 32], usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let bad = |problem| RosterError::Line { line, problem };
            let fields: Vec<&str> = trimmed
                .split([' ', '\t'])
                .filter(|f| !f.is_empty())
                .collect();
            let [id, key] = fields[..] else {
                return Err(bad(LineProblem::Fields(fields.len())));
            };
            if !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(LineProblem::BadId));
            }
            let id: ClientId = id.parse().map_err(|_| bad(LineProblem::BadId))?;
            let bytes = decode_hex32(key).ok_or(bad(LineProblem::BadHex))?;
            let vk = VerifyingKey::from_bytes(&bytes).map_err(|_| bad(LineProblem::BadKey))?;
            if !usable(&vk) {
                return Err(bad(LineProblem::BadKey));
            }
            if let Some(&first) = ids.get(&id) {
                return Err(bad(LineProblem::DuplicateId { id, first }));
            }
            if let Some(&first) = keys.get(&bytes) {
                return Err(bad(LineProblem::DuplicateKey { first }));
            }
            ids.insert(id, line);
            keys.insert(bytes, line);
            entries.push((id, vk, line));
        }
        entries.sort_by_key(|e| e.0);
        let n = entries.len();
        for (want, e) in entries.iter().enumerate() {
            if e.0 as usize != want {
                return Err(RosterError::MissingId {
                    id: want as ClientId,
                    n,
                });
            }
        }
        Ok(Roster {
            keys: entries.into_iter().map(|e| e.1).collect(),
            demo: false,
        })
    }

    /// Reads and parses a roster file.
    ///
    /// # Errors
    /// [`RosterError::Io`], or as [`Roster::parse`].
    pub fn read(path: &Path) -> Result<Roster, RosterError> {
        let text = std::fs::read_to_string(path).map_err(|e| RosterError::Io {
            what: "the roster",
            kind: e.kind(),
        })?;
        Roster::parse(&text)
    }

    /// The keys in id order.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// Client `id`'s key.
    pub fn key(&self, id: ClientId) -> Option<&VerifyingKey> {
        self.keys.get(id as usize)
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the roster lists nobody.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the keys are derived from the seed ([`Roster::demo`]).
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The roster file's text: one [`roster_line`] per client.
    pub fn to_text(&self) -> String {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| roster_line(i as ClientId, k) + "\n")
            .collect()
    }

    /// The roster's digest, bound into the session id:
    /// `SHA-256("secagg-net/1" || 0x00 || "roster" || 0x00 || u64be(n) || key_0 || .. || key_{n-1})`.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(crate::session::CONTEXT_LABEL);
        h.update([0]);
        h.update(b"roster");
        h.update([0]);
        h.update((self.keys.len() as u64).to_be_bytes());
        for k in &self.keys {
            h.update(k.as_bytes());
        }
        h.finalize().into()
    }
}

/// A key a roster accepts: not of small order, and canonically encoded (so that two
/// distinct lines cannot hold one point under two encodings).
fn usable(key: &VerifyingKey) -> bool {
    !key.is_weak() && key.to_edwards().compress().to_bytes() == key.to_bytes()
}

/// One roster line: `ID HEX` (the id in decimal, the key in lowercase hex).
pub fn roster_line(id: ClientId, key: &VerifyingKey) -> String {
    format!("{id} {}", hex(key.as_bytes()))
}

/// Client `id`'s demo signing key for session seed `seed`: the Ed25519 secret key bytes
/// `H("signing-key", u32be(id))` (`docs/networking.md`). **Insecure**: derived from a
/// public value.
pub fn demo_signing_key(seed: &str, id: ClientId) -> SigningKey {
    let bytes = Zeroizing::new(crate::session::labelled(
        b"signing-key",
        seed,
        &id.to_be_bytes(),
    ));
    SigningKey::from_bytes(&bytes)
}

/// The text of a key file for `key`: `secagg-ed25519-secret-key HEX\n`.
pub fn key_file_text(key: &SigningKey) -> Zeroizing<String> {
    let secret = Zeroizing::new(key.to_bytes());
    let mut out = Zeroizing::new(String::with_capacity(KEY_FILE_TAG.len() + 66));
    out.push_str(KEY_FILE_TAG);
    out.push(' ');
    for b in secret.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out.push('\n');
    out
}

/// Parses a key file's text.
///
/// # Errors
/// [`RosterError::KeyFile`] when it is not exactly one `secagg-ed25519-secret-key HEX`
/// line (a final newline allowed).
pub fn parse_key_file(text: &str) -> Result<SigningKey, RosterError> {
    let bad = |problem| RosterError::KeyFile { problem };
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains('\n') {
        return Err(bad("more than one line"));
    }
    let Some(hex) = line
        .strip_prefix(KEY_FILE_TAG)
        .and_then(|r| r.strip_prefix(' '))
    else {
        return Err(bad("does not start with `secagg-ed25519-secret-key `"));
    };
    let secret = Zeroizing::new(decode_hex32(hex).ok_or(bad("the key is not 64 hex digits"))?);
    Ok(SigningKey::from_bytes(&secret))
}

/// Reads a key file.
///
/// # Errors
/// [`RosterError::Io`], or as [`parse_key_file`].
pub fn read_key_file(path: &Path) -> Result<SigningKey, RosterError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| RosterError::Io {
        what: "the key file",
        kind: e.kind(),
    })?);
    let text = std::str::from_utf8(&bytes).map_err(|_| RosterError::KeyFile {
        problem: "not text",
    })?;
    parse_key_file(text)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i; 32])
    }

    #[test]
    fn roster_text_round_trips_in_any_order_with_comments() {
        let keys: Vec<_> = (1..=3).map(|i| key(i).verifying_key()).collect();
        let roster = Roster::new(keys.clone()).unwrap();
        assert_eq!(Roster::parse(&roster.to_text()).unwrap(), roster);
        let text = format!(
            "# three clients\n\n{}\n  {}\t\n{}\n",
            roster_line(2, &keys[2]),
            roster_line(0, &keys[0]).replace(' ', "\t "),
            roster_line(1, &keys[1]).to_uppercase(),
        );
        assert_eq!(Roster::parse(&text).unwrap().keys(), &keys[..]);
    }

    #[test]
    fn roster_errors_name_the_line() {
        let a = roster_line(0, &key(1).verifying_key());
        let b = roster_line(1, &key(2).verifying_key());
        let line = |text: &str| match Roster::parse(text) {
            Err(RosterError::Line { line, problem }) => (line, problem),
            other => panic!("{other:?}"),
        };
        assert_eq!(line(&format!("{a}\n0\n")), (2, LineProblem::Fields(1)));
        assert_eq!(line(&format!("{a} x\n")), (1, LineProblem::Fields(3)));
        assert_eq!(
            line(&format!("# c\n{}\n", b.replacen('1', "-1", 1))),
            (2, LineProblem::BadId)
        );
        assert_eq!(
            line(&format!("{}\n", a.replacen('0', "+0", 1))),
            (1, LineProblem::BadId)
        );
        assert_eq!(
            line(&format!("{}\n", &a[..a.len() - 1])),
            (1, LineProblem::BadHex)
        );
        assert_eq!(
            line(&format!("{}g\n", &a[..a.len() - 1])),
            (1, LineProblem::BadHex)
        );
        assert_eq!(
            line(&format!("{a}\n{}\n", a.replacen('0', "1", 1))),
            (2, LineProblem::DuplicateKey { first: 1 })
        );
        assert_eq!(
            line(&format!(
                "{a}\n{}\n",
                roster_line(0, &key(2).verifying_key())
            )),
            (2, LineProblem::DuplicateId { id: 0, first: 1 })
        );
        // The identity point (small order) and a y that is no curve point.
        let identity = format!("0 01{}\n", "00".repeat(31));
        assert_eq!(line(&identity), (1, LineProblem::BadKey));
        let off_curve = format!("0 02{}\n", "00".repeat(31));
        assert_eq!(line(&off_curve), (1, LineProblem::BadKey));
        // A non-canonical encoding (y + p for a y < 19) of a point: refused. y = 3 + p
        // wraps to y = 3; as bytes, 2^255 - 19 + 3 = 0xf0ff..ff7f.
        let mut y = [0xffu8; 32];
        y[0] = 0xf0;
        y[31] = 0x7f;
        let lax = VerifyingKey::from_bytes(&y).unwrap();
        assert!(!lax.is_weak(), "refused for its encoding, not its order");
        let hex: String = y.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(line(&format!("0 {hex}\n")), (1, LineProblem::BadKey));
        assert!(matches!(
            Roster::new(vec![lax]),
            Err(RosterError::Line {
                line: 1,
                problem: LineProblem::BadKey
            })
        ));
        assert_eq!(
            Roster::parse(&format!("{b}\n")),
            Err(RosterError::MissingId { id: 0, n: 1 })
        );
    }

    #[test]
    fn key_files_round_trip_and_are_strict() {
        let k = key(7);
        let text = key_file_text(&k);
        assert_eq!(text.len(), KEY_FILE_TAG.len() + 1 + 64 + 1);
        assert_eq!(parse_key_file(&text).unwrap().to_bytes(), k.to_bytes());
        assert_eq!(
            parse_key_file(text.trim_end()).unwrap().to_bytes(),
            k.to_bytes()
        );
        for bad in [
            String::new(),
            format!("{}{}", &*text, &*text),
            text.replace(KEY_FILE_TAG, "ed25519"),
            text[..text.len() - 2].to_string(),
        ] {
            assert!(
                matches!(parse_key_file(&bad), Err(RosterError::KeyFile { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn demo_roster_matches_the_demo_keys() {
        let r = Roster::demo("s", 3);
        assert!(r.is_demo());
        for i in 0..3 {
            assert_eq!(r.key(i), Some(&demo_signing_key("s", i).verifying_key()));
        }
        assert!(!Roster::new(r.keys().to_vec()).unwrap().is_demo());
    }
}
