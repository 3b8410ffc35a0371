//! Plain-text tables with aligned columns, and CSV.

use std::fmt::Write as _;

/// A table: a header row and data rows of cells. Columns of numbers (every data cell
/// empty or starting with a digit or a sign) are right-aligned, the others left-aligned.
#[derive(Clone, Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as aligned text, one line per row, a rule under the header.
    pub fn to_text(&self) -> String {
        let cols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let numeric: Vec<bool> = (0..cols)
            .map(|i| {
                self.rows.iter().all(|r| {
                    r.get(i).is_none_or(|c| {
                        c.is_empty() || c.starts_with(|ch: char| ch.is_ascii_digit() || ch == '-')
                    })
                })
            })
            .collect();
        let mut out = String::new();
        let mut line = |r: &[String]| {
            let mut s = String::new();
            for (i, w) in width.iter().enumerate() {
                let c = r.get(i).map(String::as_str).unwrap_or("");
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = w - c.chars().count();
                if !numeric[i] {
                    s.push_str(c);
                    s.extend(std::iter::repeat_n(' ', pad));
                } else {
                    s.extend(std::iter::repeat_n(' ', pad));
                    s.push_str(c);
                }
            }
            let _ = writeln!(out, "{}", s.trim_end());
        };
        line(&self.header);
        let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule);
        for r in &self.rows {
            line(r);
        }
        out
    }

    /// The table as CSV (RFC 4180 quoting where a cell needs it).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = r.iter().map(|c| csv_cell(c)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

/// Milliseconds with a precision that suits their size.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A byte count in binary units: 512 B, 1.5 KiB, 3.2 MiB.
pub fn bytes(v: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if v < 1024 {
        return format!("{v} B");
    }
    let mut x = v as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if x < 1024.0 {
            break;
        }
        x /= 1024.0;
        unit = u;
    }
    format!("{x:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_text() {
        let mut t = Table::new(["round", "ms"]);
        t.row(["AdvertiseKeys", "1.25"]);
        t.row(["Unmasking", "120"]);
        assert_eq!(
            t.to_text(),
            "round            ms\n-------------  ----\nAdvertiseKeys  1.25\nUnmasking       120\n"
        );
        let mut t = Table::new(["n", "ok"]);
        t.row(["5", "ok"]);
        t.row(["50", "FAILED"]);
        assert_eq!(t.to_text(), " n  ok\n--  ------\n 5  ok\n50  FAILED\n");
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let mut t = Table::new(["a", "b"]);
        t.row(["x,y", "say \"hi\""]);
        t.row(["1", "2"]);
        assert_eq!(t.to_csv(), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n1,2\n");
    }

    #[test]
    fn units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(ms(0.1234), "0.12");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(1234.4), "1234");
    }
}
