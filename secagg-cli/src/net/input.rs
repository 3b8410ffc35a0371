//! A client's float input from a file: text (one number per line) or NumPy `.npy`.

use std::io::Read;
use std::path::Path;

/// Why a client's input file could not be read. These errors are the command line's own:
/// neither the core nor the network crate reads input files.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file (or standard input) could not be read.
    #[error("i/o error during {op}: {kind}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The operating system's error category.
        kind: std::io::ErrorKind,
    },
    /// A line of a text input file is not a finite number.
    #[error("input line {line} is not a number")]
    InputParse {
        /// The line number (1-based).
        line: usize,
    },
    /// A `.npy` input file is not a one-dimensional little-endian float array.
    #[error("unsupported .npy input: {what}")]
    NpyFormat {
        /// What is wrong.
        what: &'static str,
    },
}

impl InputError {
    /// The stable name of this error: its variant's identifier.
    pub fn name(&self) -> &'static str {
        match self {
            InputError::Io { .. } => "Io",
            InputError::InputParse { .. } => "InputParse",
            InputError::NpyFormat { .. } => "NpyFormat",
        }
    }
}

type Result<T> = core::result::Result<T, InputError>;

/// Reads a float vector: `-` is standard input (text); a path ending in `.npy` is a
/// one-dimensional little-endian `float32` or `float64` NumPy array (format versions
/// 1.0, 2.0, 3.0); anything else is text with one number per line (blank lines and
/// lines starting with `#` are skipped).
///
/// # Errors
/// [`InputError::Io`] (unreadable), [`InputError::InputParse`], [`InputError::NpyFormat`].
pub fn read_floats(path: &Path) -> Result<Vec<f64>> {
    let io = |e: std::io::Error| InputError::Io {
        op: "reading the input",
        kind: e.kind(),
    };
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(io)?;
        return parse_text(&text);
    }
    let bytes = std::fs::read(path).map_err(io)?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        parse_npy(&bytes)
    } else {
        let text = core::str::from_utf8(&bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            InputError::InputParse { line }
        })?;
        parse_text(text)
    }
}

/// Parses one number per line.
///
/// # Errors
/// [`InputError::InputParse`] with the 1-based number of the first bad line.
pub fn parse_text(text: &str) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let x: f64 = line
            .parse()
            .map_err(|_| InputError::InputParse { line: i + 1 })?;
        out.push(x);
    }
    Ok(out)
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Parses a `.npy` file holding a one-dimensional `<f4` or `<f8` array.
///
/// # Errors
/// [`InputError::NpyFormat`].
pub fn parse_npy(bytes: &[u8]) -> Result<Vec<f64>> {
    let bad = |what| InputError::NpyFormat { what };
    let rest = bytes.strip_prefix(NPY_MAGIC).ok_or(bad("no .npy magic"))?;
    let (&major, rest) = rest.split_first().ok_or(bad("truncated"))?;
    let (_minor, rest) = rest.split_first().ok_or(bad("truncated"))?;
    let (header_len, rest) = match major {
        1 => {
            let (len, rest) = rest.split_at_checked(2).ok_or(bad("truncated"))?;
            (usize::from(u16::from_le_bytes([len[0], len[1]])), rest)
        }
        2 | 3 => {
            let (len, rest) = rest.split_at_checked(4).ok_or(bad("truncated"))?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
            (
                usize::try_from(len).map_err(|_| bad("header too long"))?,
                rest,
            )
        }
        _ => return Err(bad("unknown format version")),
    };
    let (header, data) = rest
        .split_at_checked(header_len)
        .ok_or(bad("truncated header"))?;
    let header = core::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or(bad("no 'descr'"))?;
    let size = match descr.trim().trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => 4,
        "<f8" => 8,
        _ => return Err(bad("dtype is not little-endian float32 or float64")),
    };
    let shape = dict_value(header, "shape").ok_or(bad("no 'shape'"))?;
    let dims: Vec<&str> = shape
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or(bad("malformed 'shape'"))?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let [len] = dims[..] else {
        return Err(bad("array is not one-dimensional"));
    };
    let len: usize = len.parse().map_err(|_| bad("malformed 'shape'"))?;
    if Some(data.len()) != len.checked_mul(size) {
        return Err(bad("data length does not match the shape"));
    }
    Ok(if size == 4 {
        data.chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()
    })
}

/// The text of `'key': VALUE` in a Python dict literal, up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header
        .find(&format!("'{key}'"))
        .map(|i| i + key.len() + 2)?;
    let rest = header.get(start..)?.trim_start().strip_prefix(':')?;
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' | '}' if depth == 0 => return rest.get(..i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8], major: u8) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let pre = if major == 1 { 10 } else { 12 };
        while !(pre + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = NPY_MAGIC.to_vec();
        out.extend_from_slice(&[major, 0]);
        if major == 1 {
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn text() {
        assert_eq!(
            parse_text("1.5\n\n# comment\n-2e-3\n  7 \n").unwrap(),
            [1.5, -0.002, 7.0]
        );
        assert_eq!(
            parse_text("1\nx\n"),
            Err(InputError::InputParse { line: 2 })
        );
        assert_eq!(InputError::InputParse { line: 2 }.name(), "InputParse");
        assert_eq!(InputError::NpyFormat { what: "x" }.name(), "NpyFormat");
    }

    #[test]
    fn npy_f4_f8_and_versions() {
        let f4: Vec<u8> = [1.5f32, -2.0, 0.25]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(
            parse_npy(&npy("<f4", "(3,)", &f4, 1)).unwrap(),
            [1.5, -2.0, 0.25]
        );
        let f8: Vec<u8> = [0.1f64, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(parse_npy(&npy("<f8", "(2,)", &f8, 2)).unwrap(), [0.1, 3.0]);
        assert_eq!(
            parse_npy(&npy("<f8", "(0,)", &[], 3)).unwrap(),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn npy_refusals() {
        let f8 = 1.0f64.to_le_bytes();
        for (bytes, what) in [
            (npy(">f8", "(1,)", &f8, 1), "dtype"),
            (npy("<i8", "(1,)", &f8, 1), "dtype"),
            (npy("<f8", "(1, 1)", &f8, 1), "one-dimensional"),
            (npy("<f8", "(2,)", &f8, 1), "data length"),
            (npy("<f8", "(1,)", &f8, 4), "version"),
            (b"\x93NUMPY\x01\x00\xff\xff{}".to_vec(), "truncated"),
            (b"PK\x03\x04".to_vec(), "magic"),
        ] {
            match parse_npy(&bytes) {
                Err(InputError::NpyFormat { what: w }) => {
                    assert!(w.contains(what), "{w} vs {what}")
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        // No panics on any truncation of a valid file.
        let ok = npy("<f8", "(1,)", &f8, 1);
        for cut in 0..ok.len() {
            assert!(parse_npy(&ok[..cut]).is_err());
        }
    }
}
