//! The outputs of `secagg bench variants`: CSV, one SVG per axis, the summary table.

use std::path::Path;

use secagg::Round;

use super::{Axis, Point, Row};
use crate::plot::{render_svg, Panel, Series};
use crate::session::round_key;
use crate::table::{bytes, ms, Table};
use crate::CliError;

const ROUND_COLUMNS: [Round; 5] = Round::ALL;

/// All rows as CSV: one line per point; per-round columns are empty for rounds a
/// variant does not have.
pub fn csv(rows: &[Row]) -> String {
    let mut header: Vec<String> = [
        "axis",
        "variant",
        "graph",
        "threat",
        "clients",
        "dim",
        "dropout",
        "neighbors",
        "threshold",
        "included",
        "ok",
        "max_abs_error",
        "client_ms",
        "server_ms",
        "wall_ms",
        "client_bytes",
        "server_bytes",
    ]
    .map(String::from)
    .to_vec();
    for r in ROUND_COLUMNS {
        header.push(format!("client_ms_{}", round_key(r)));
    }
    for r in ROUND_COLUMNS {
        header.push(format!("server_ms_{}", round_key(r)));
    }
    header.push("error".into());
    let mut t = Table::new(header);
    let opt = |x: Option<String>| x.unwrap_or_default();
    let count = |x: f64| {
        if x.is_finite() {
            format!("{x:.0}")
        } else {
            String::new()
        }
    };
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x:.4}")
        } else {
            String::new()
        }
    };
    for r in rows {
        let p = &r.point;
        let mut cells = vec![
            p.axis.name().to_string(),
            p.variant(),
            p.graph.name().to_string(),
            p.threat.name().to_string(),
            p.clients.to_string(),
            p.dim.to_string(),
            p.dropout.to_string(),
            r.neighbors.to_string(),
            r.threshold.to_string(),
            opt(r.included.map(|x| x.to_string())),
            r.ok.to_string(),
            opt(r.max_abs_error.map(|x| format!("{x:e}"))),
            num(r.client_total_ms),
            num(r.server_total_ms),
            num(r.wall_ms),
            count(r.client_bytes),
            count(r.server_bytes),
        ];
        for list in [&r.client_ms, &r.server_ms] {
            for round in ROUND_COLUMNS {
                let v = list.iter().find(|(rr, _)| *rr == round).map(|x| num(x.1));
                cells.push(opt(v));
            }
        }
        cells.push(opt(r.error.clone()));
        t.row(cells);
    }
    t.to_csv()
}

/// The SVG for one axis: client time, server time and client bytes against it, one
/// line per variant (all rounds summed).
pub fn axis_svg(rows: &[Row], axis: Axis) -> Result<Option<String>, CliError> {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.point.axis == axis).collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let mut variants: Vec<String> = Vec::new();
    for r in &rows {
        let v = r.point.variant();
        if !variants.contains(&v) {
            variants.push(v);
        }
    }
    let (x_label, log_x, x_of): (&str, bool, fn(&Point) -> f64) = match axis {
        Axis::Clients => ("clients n", true, |p| p.clients as f64),
        Axis::Dim => ("vector length d", true, |p| p.dim as f64),
        _ => ("drop-out rate", false, |p| p.dropout),
    };
    let series = |metric: fn(&Row) -> f64| -> Vec<Series> {
        variants
            .iter()
            .map(|v| Series {
                label: v.clone(),
                points: rows
                    .iter()
                    .filter(|r| r.point.variant() == *v && r.error.is_none())
                    .map(|r| (x_of(&r.point), metric(r)))
                    .collect(),
            })
            .collect()
    };
    let panel = |title: &str, unit: &str, metric: fn(&Row) -> f64| Panel {
        title: title.into(),
        x_label: x_label.into(),
        y_label: unit.into(),
        log_x,
        log_y: log_x,
        series: series(metric),
    };
    let first = &rows[0].point;
    let fixed = match axis {
        Axis::Clients => format!("d = {}, drop-out {}", first.dim, first.dropout),
        Axis::Dim => format!("n = {}, drop-out {}", first.clients, first.dropout),
        _ => format!("n = {}, d = {}", first.clients, first.dim),
    };
    let svg = render_svg(
        &format!("secagg variants against {x_label} ({fixed})"),
        &[
            panel("client time (mean per client)", "ms", |r| r.client_total_ms),
            panel("server time", "ms", |r| r.server_total_ms),
            panel("bytes per client (sent + received)", "bytes", |r| {
                r.client_bytes
            }),
        ],
    )?;
    Ok(Some(svg))
}

pub fn write(path: &Path, contents: &str) -> Result<(), CliError> {
    std::fs::write(path, contents).map_err(|e| CliError::Io(path.to_path_buf(), e))
}

/// The summary table printed at the end.
pub fn summary(rows: &[Row]) -> String {
    let mut t = Table::new([
        "axis",
        "variant",
        "n",
        "d",
        "drop",
        "k",
        "t",
        "incl",
        "client ms",
        "server ms",
        "client bytes",
        "wall ms",
        "ok",
    ]);
    for r in rows {
        let p = &r.point;
        t.row([
            p.axis.name().to_string(),
            p.variant(),
            p.clients.to_string(),
            p.dim.to_string(),
            format!("{:.0}%", p.dropout * 100.0),
            r.neighbors.to_string(),
            r.threshold.to_string(),
            r.included.map(|x| x.to_string()).unwrap_or_default(),
            ms(r.client_total_ms),
            ms(r.server_total_ms),
            if r.client_bytes.is_finite() {
                bytes(r.client_bytes.round() as u64)
            } else {
                String::new()
            },
            ms(r.wall_ms),
            match &r.error {
                Some(e) => e.clone(),
                None if r.ok => "ok".into(),
                None => "FAILED".into(),
            },
        ]);
    }
    t.to_text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Threat;
    use crate::session::GraphKind;

    #[test]
    fn csv_has_one_line_per_row_and_fixed_columns() {
        let p = Point {
            axis: Axis::Dim,
            graph: GraphKind::Sparse,
            threat: Threat::SemiHonest,
            clients: 10,
            dim: 100,
            dropout: 0.1,
        };
        let row = Row {
            point: p,
            ok: true,
            error: None,
            neighbors: 4,
            threshold: 2,
            included: Some(9),
            max_abs_error: Some(1e-4),
            client_ms: vec![(Round::AdvertiseKeys, 0.5), (Round::Unmasking, 1.0)],
            server_ms: vec![(Round::Unmasking, 2.0)],
            client_total_ms: 1.5,
            server_total_ms: 2.0,
            client_bytes: 1000.0,
            server_bytes: 9000.0,
            wall_ms: 3.0,
        };
        let text = csv(&[row.clone(), row]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let cols = lines[0].split(',').count();
        assert_eq!(cols, 17 + 10 + 1);
        assert!(lines.iter().all(|l| l.split(',').count() == cols));
        assert!(lines[1]
            .starts_with("dim,sparse/semi-honest,sparse,semi-honest,10,100,0.1,4,2,9,true,"));
    }
}
