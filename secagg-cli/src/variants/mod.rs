//! `secagg bench variants`: complete vs sparse graph and both threat models, swept over
//! the number of clients, the vector length and the drop-out rate; CSV, SVG plots and a
//! summary table.
//!
//! The default grid varies one axis at a time around a base point (not the full cross
//! product), so it finishes in a few minutes on two cores; `--cross` and the list flags
//! widen it.

mod output;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use secagg::protocol::params::ParamQuery;
use secagg::quantize::Rounding;
use secagg::Round;

use crate::params::Threat;
use crate::session::{self, round_key, DropAt, GraphKind, SessionReport, SessionSpec};
use crate::simulate::with_threads;
use crate::CliError;

/// The flags of `secagg bench variants`.
#[derive(Args, Clone, Debug)]
pub struct VariantsArgs {
    /// Directory for variants.csv and the SVG plots (created if missing).
    #[arg(long, default_value = "secagg-variants")]
    pub out: PathBuf,
    /// Numbers of clients swept (the other axes at their base values).
    #[arg(long, value_delimiter = ',', default_value = "50,100,200,500,1000")]
    pub clients: Vec<usize>,
    /// Vector lengths swept.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,10000,100000,1000000"
    )]
    pub dims: Vec<usize>,
    /// Drop-out rates swept.
    #[arg(long, value_delimiter = ',', default_value = "0,0.1,0.2,0.3")]
    pub dropouts: Vec<f64>,
    /// Number of clients at the base point.
    #[arg(long, default_value_t = 100)]
    pub base_clients: usize,
    /// Vector length at the base point.
    #[arg(long, default_value_t = 10_000)]
    pub base_dim: usize,
    /// Drop-out rate at the base point.
    #[arg(long, default_value_t = 0.1)]
    pub base_dropout: f64,
    /// Graphs compared.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "complete,sparse"
    )]
    pub graphs: Vec<GraphKind>,
    /// Threat models compared.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "semi-honest,malicious"
    )]
    pub threats: Vec<Threat>,
    /// The complete graph is skipped above this many clients (its cost grows as n^2).
    #[arg(long, default_value_t = 200)]
    pub complete_max_clients: usize,
    /// Run the full cross product of the three lists instead of one axis at a time.
    #[arg(long)]
    pub cross: bool,
    /// A tiny grid (seconds): for smoke tests.
    #[arg(long)]
    pub quick: bool,
    /// Before which round the dropping clients go silent.
    #[arg(long, value_enum, default_value_t = DropAt::Random)]
    pub drop_at: DropAt,
    /// Passes over the whole grid; for each time the fastest of a point's runs is
    /// reported (load from other processes only ever adds time).
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    /// Tolerated fraction of corrupt clients, for the parameter finder.
    #[arg(long, default_value_t = 0.1)]
    pub corrupt: f64,
    /// The finder's grinding margin N (bits); default: 64 for the malicious model's
    /// points, 0 for the semi-honest ones. 0 opts out.
    #[arg(long, value_name = "N")]
    pub grinding_bits: Option<f64>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Run each round's clients all at once (faster sweep) instead of one after the
    /// other with every thread each (per-client times as a device would see them).
    #[arg(long)]
    pub parallel_clients: bool,
    /// No progress display on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The axis a point belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    Clients,
    Dim,
    Dropout,
    /// A point of the full cross product.
    Cross,
}

impl Axis {
    fn name(self) -> &'static str {
        match self {
            Axis::Clients => "clients",
            Axis::Dim => "dim",
            Axis::Dropout => "dropout",
            Axis::Cross => "cross",
        }
    }
}

/// One session to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub axis: Axis,
    pub graph: GraphKind,
    pub threat: Threat,
    pub clients: usize,
    pub dim: usize,
    pub dropout: f64,
}

impl Point {
    fn variant(&self) -> String {
        format!("{}/{}", self.graph.name(), self.threat.name())
    }
}

/// The effective lists and base point (`--quick` replaces the defaults).
struct Grid {
    clients: Vec<usize>,
    dims: Vec<usize>,
    dropouts: Vec<f64>,
    base: (usize, usize, f64),
}

fn grid(a: &VariantsArgs) -> Grid {
    if a.quick {
        Grid {
            clients: vec![8, 16],
            dims: vec![100, 1_000],
            dropouts: vec![0.0, 0.25],
            base: (8, 100, 0.25),
        }
    } else {
        Grid {
            clients: a.clients.clone(),
            dims: a.dims.clone(),
            dropouts: a.dropouts.clone(),
            base: (a.base_clients, a.base_dim, a.base_dropout),
        }
    }
}

/// Every point of the sweep, in run order; the complete graph above
/// `complete_max_clients` is left out.
pub fn points(a: &VariantsArgs) -> Vec<Point> {
    let g = grid(a);
    let (n0, d0, f0) = g.base;
    let mut pts = Vec::new();
    for &graph in &a.graphs {
        for &threat in &a.threats {
            let p = |axis, clients, dim, dropout| Point {
                axis,
                graph,
                threat,
                clients,
                dim,
                dropout,
            };
            if a.cross {
                for &n in &g.clients {
                    for &d in &g.dims {
                        for &f in &g.dropouts {
                            pts.push(p(Axis::Cross, n, d, f));
                        }
                    }
                }
            } else {
                pts.extend(g.clients.iter().map(|&n| p(Axis::Clients, n, d0, f0)));
                pts.extend(g.dims.iter().map(|&d| p(Axis::Dim, n0, d, f0)));
                pts.extend(g.dropouts.iter().map(|&f| p(Axis::Dropout, n0, d0, f)));
            }
        }
    }
    pts.retain(|p| p.graph != GraphKind::Complete || p.clients <= a.complete_max_clients);
    pts
}

/// The figures of one point (the fastest over repeats, for each time).
#[derive(Clone, Debug)]
pub struct Row {
    pub point: Point,
    pub ok: bool,
    pub error: Option<String>,
    pub neighbors: usize,
    pub threshold: usize,
    pub included: Option<usize>,
    pub max_abs_error: Option<f64>,
    /// Mean client time per round, in ms, keyed by round.
    pub client_ms: Vec<(Round, f64)>,
    pub server_ms: Vec<(Round, f64)>,
    pub client_total_ms: f64,
    pub server_total_ms: f64,
    /// Mean bytes one client sends and receives over the session (wire encoding).
    pub client_bytes: f64,
    /// Bytes the server receives and sends over the session.
    pub server_bytes: f64,
    pub wall_ms: f64,
}

fn fastest(v: Vec<f64>) -> f64 {
    v.into_iter()
        .filter(|x| x.is_finite())
        .fold(f64::NAN, f64::min)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The session of one point.
fn spec(a: &VariantsArgs, p: &Point) -> SessionSpec {
    SessionSpec {
        clients: p.clients,
        dim: p.dim,
        dropout: p.dropout,
        graph: p.graph,
        neighbors: None,
        threshold: None,
        threat: p.threat,
        drop_at: a.drop_at,
        seed: a.seed,
        bits: 16,
        clip: 1.0,
        ring_bits: None,
        rounding: Rounding::Stochastic,
        corrupt: a.corrupt,
        sigma: ParamQuery::DEFAULT_SIGMA,
        eta: ParamQuery::DEFAULT_ETA,
        grinding_bits: a.grinding_bits,
        context: "secagg bench variants".into(),
        sequential: !a.parallel_clients,
        dp: None,
    }
}

/// The row of point `p` from its runs (at least one).
fn summarize(p: &Point, reports: &[SessionReport]) -> Row {
    let Some(first) = reports.first() else {
        return Row {
            point: *p,
            ok: false,
            error: Some("not run".into()),
            neighbors: 0,
            threshold: 0,
            included: None,
            max_abs_error: None,
            client_ms: Vec::new(),
            server_ms: Vec::new(),
            client_total_ms: f64::NAN,
            server_total_ms: f64::NAN,
            client_bytes: f64::NAN,
            server_bytes: f64::NAN,
            wall_ms: f64::NAN,
        };
    };
    let mut row = Row {
        point: *p,
        ok: reports.iter().all(SessionReport::ok),
        error: None,
        neighbors: first.setup.degree,
        threshold: first.setup.threshold,
        included: None,
        max_abs_error: None,
        client_ms: Vec::new(),
        server_ms: Vec::new(),
        client_total_ms: f64::NAN,
        server_total_ms: f64::NAN,
        client_bytes: f64::NAN,
        server_bytes: f64::NAN,
        wall_ms: fastest(reports.iter().map(|r| millis(r.wall)).collect()),
    };
    let outcomes: Vec<_> = match reports
        .iter()
        .map(|r| r.outcome.as_ref())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(o) => o,
        Err((round, e)) => {
            row.error = Some(format!("aborted in {}: {e}", round_key(*round)));
            return row;
        }
    };
    let o0 = outcomes[0];
    row.included = Some(o0.included);
    row.max_abs_error = Some(o0.max_abs_error);
    for (i, st) in o0.rounds.iter().enumerate() {
        let pick = |f: &dyn Fn(&secagg::sim::RoundStats) -> Duration| {
            fastest(
                outcomes
                    .iter()
                    .filter_map(|o| o.rounds.get(i).map(|s| millis(f(s))))
                    .collect(),
            )
        };
        row.client_ms.push((st.round, pick(&|s| s.client_mean)));
        row.server_ms.push((st.round, pick(&|s| s.server)));
    }
    let total = |f: &dyn Fn(&secagg::sim::RoundStats) -> Duration| {
        fastest(
            outcomes
                .iter()
                .map(|o| millis(o.rounds.iter().map(f).sum()))
                .collect(),
        )
    };
    row.client_total_ms = total(&|s| s.client_mean);
    row.server_total_ms = total(&|s| s.server);
    // Byte counts do not depend on timing: the first run's.
    let rb = session::round_bytes(&o0.rounds);
    row.client_bytes = rb.iter().map(|b| b.client_sent + b.client_received).sum();
    row.server_bytes = rb
        .iter()
        .map(|b| (b.server_received + b.server_sent) as f64)
        .sum();
    row
}

/// Runs the sweep; `Ok((summary, every point verified))`.
pub fn run(a: &VariantsArgs) -> Result<(String, bool), CliError> {
    let pts = points(a);
    std::fs::create_dir_all(&a.out).map_err(|e| CliError::Io(a.out.clone(), e))?;
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(pts.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed}<{eta}] {msg}")
        {
            bar.set_style(style);
        }
        bar
    };
    // The base point lies on every axis: run each distinct session once per pass.
    let key = |p: &Point| (p.graph, p.threat, p.clients, p.dim, p.dropout.to_bits());
    let mut unique: Vec<Point> = Vec::new();
    for p in &pts {
        if !unique.iter().any(|q| key(q) == key(p)) {
            unique.push(*p);
        }
    }
    let passes = a.repeats.max(1);
    bar.set_length((unique.len() * passes) as u64);
    // Whole passes over the grid, so that a burst of load from other processes
    // spoils one run of several points rather than every run of one point.
    let (reports, threads) = with_threads(a.threads, || {
        let mut reports: Vec<Vec<SessionReport>> = vec![Vec::new(); unique.len()];
        for pass in 0..passes {
            for (p, out) in unique.iter().zip(reports.iter_mut()) {
                bar.set_message(format!(
                    "pass {}/{passes}: {} n={} d={} drop-out {}",
                    pass + 1,
                    p.variant(),
                    p.clients,
                    p.dim,
                    p.dropout
                ));
                match session::run(&spec(a, p), &|_| {}) {
                    Ok(r) => out.push(r),
                    Err(e) => return (Err(e), rayon::current_num_threads()),
                }
                bar.inc(1);
            }
        }
        (Ok(reports), rayon::current_num_threads())
    })?;
    let reports = reports?;
    let rows: Vec<Row> = pts
        .iter()
        .map(|p| {
            let i = unique.iter().position(|q| key(q) == key(p));
            summarize(p, i.and_then(|i| reports.get(i)).map_or(&[], Vec::as_slice))
        })
        .collect();
    bar.finish_and_clear();

    let mut files = vec![a.out.join("variants.csv")];
    output::write(&files[0], &output::csv(&rows))?;
    for axis in [Axis::Clients, Axis::Dim, Axis::Dropout] {
        if let Some(svg) = output::axis_svg(&rows, axis)? {
            let path = a.out.join(format!("variants-{}.svg", axis.name()));
            output::write(&path, &svg)?;
            files.push(path);
        }
    }
    let all_ok = rows.iter().all(|r| r.ok);
    let mut out = output::summary(&rows);
    out.push_str(&format!(
        "\n{} points ({} sessions x {passes} passes), {threads} threads, clients {}, \
         drop-outs before {} rounds; wrote {}\n",
        rows.len(),
        unique.len(),
        if a.parallel_clients {
            "in parallel"
        } else {
            "one at a time"
        },
        a.drop_at.name(),
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if a.complete_max_clients < grid(a).clients.iter().copied().max().unwrap_or(0) {
        out.push_str(&format!(
            "complete graph skipped above n = {} (--complete-max-clients)\n",
            a.complete_max_clients
        ));
    }
    Ok((out, all_ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: VariantsArgs,
    }

    fn args(extra: &[&str]) -> VariantsArgs {
        T::parse_from(std::iter::once("t").chain(extra.iter().copied())).a
    }

    #[test]
    fn one_axis_at_a_time_around_the_base() {
        let a = args(&[]);
        let pts = points(&a);
        // 4 variants x (5 n + 4 d + 4 rates), minus complete above 200 (2 n x 2 threats).
        assert_eq!(pts.len(), 4 * (5 + 4 + 4) - 4);
        for p in &pts {
            match p.axis {
                Axis::Clients => assert_eq!((p.dim, p.dropout), (10_000, 0.1)),
                Axis::Dim => assert_eq!((p.clients, p.dropout), (100, 0.1)),
                Axis::Dropout => assert_eq!((p.clients, p.dim), (100, 10_000)),
                Axis::Cross => panic!("no cross points by default"),
            }
            assert!(p.graph == GraphKind::Sparse || p.clients <= 200);
        }
        let cross = points(&args(&[
            "--cross",
            "--graphs",
            "sparse",
            "--threats",
            "malicious",
        ]));
        assert_eq!(cross.len(), 5 * 4 * 4);
    }
}
