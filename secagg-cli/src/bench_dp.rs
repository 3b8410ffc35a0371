//! `secagg bench dp`: utility against privacy. For each mechanism, ring width and target
//! ε, one DP float session (the pipeline of `secagg::dp::pipeline`: clip, rotate, round,
//! noise, ring) at the finest grid its ring holds, run for a few rounds at fixed inputs;
//! the measured error of the mean against ε, beside the central continuous Gaussian
//! mechanism at the same (ε, δ). A table, `dp.csv` and `dp.svg`.
//!
//! The sum is the ring sum of every client's encoded words, which is what the protocol
//! returns when nobody drops (checked in `secagg/tests/dp/pipeline.rs`); masking adds
//! nothing to the error, so it is left out here.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::dp::accountant::{gaussian_subsampled_rdp, rdp_to_dp, ORDERS};
use secagg::dp::pipeline::DistributedDp;
use secagg::dp::Mechanism;
use secagg::ring::RingVec;
use secagg::session::FloatSession;
use secagg::{DpError, Error};

use crate::plot::{render_svg, Panel, Series};
use crate::session::derive_seed;
use crate::simulate::DpMechanismArg;
use crate::table::Table;
use crate::CliError;

/// The flags of `secagg bench dp`.
#[derive(Args, Clone, Debug)]
pub struct DpBenchArgs {
    /// Directory for dp.csv and dp.svg (created if missing).
    #[arg(long, default_value = "secagg-dp")]
    pub out: PathBuf,
    /// Number of clients n (all included).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Vector length d (padded to a power of two inside the pipeline).
    #[arg(long, default_value_t = 256)]
    pub dim: usize,
    /// L2 clip bound c; every client's input has norm c (a random direction).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Ring widths b swept.
    #[arg(long, value_delimiter = ',', default_value = "12,14,16")]
    pub ring_bits: Vec<u32>,
    /// Target ε per round swept.
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,4,8")]
    pub epsilons: Vec<f64>,
    /// δ.
    #[arg(long, default_value_t = 1e-5)]
    pub delta: f64,
    /// Mechanisms compared.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "ddg,skellam")]
    pub mechanisms: Vec<DpMechanismArg>,
    /// Drop-out rate the noise is calibrated for (the finder's D = floor(rate · n)).
    #[arg(long, default_value_t = 0.0)]
    pub dropout: f64,
    /// Rounds per point.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Seed of the inputs and of every client's randomness.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// One measured point.
#[derive(Clone, Debug)]
struct Point {
    mechanism: Mechanism,
    ring_bits: u32,
    epsilon: f64,
    /// The grid bits q chosen (c/γ = 2^(q−1)), or why none fits.
    grid: Result<u32, String>,
    achieved_epsilon: f64,
    noise_multiplier: f64,
    /// Root mean square over coordinates and rounds of (DP mean − true mean).
    measured_rmse: f64,
    /// √(noise variance + rounding bound) / n, what the report predicts.
    predicted_rmse: f64,
    /// The central continuous Gaussian mechanism's error of the mean at the same (ε, δ).
    gaussian_rmse: f64,
    encode_ms: f64,
}

/// The central Gaussian noise multiplier for (ε, δ) in one round: the least σ/Δ with
/// the accountant's RDP-to-DP conversion at most ε (bisection on log σ).
fn gaussian_multiplier(epsilon: f64, delta: f64) -> Result<f64, DpError> {
    let eps = |s: f64| -> Result<f64, DpError> {
        let rdp: Vec<f64> = ORDERS
            .iter()
            .map(|&a| gaussian_subsampled_rdp(s, 1.0, a))
            .collect();
        Ok(rdp_to_dp(&rdp, delta)?.0)
    };
    let (mut lo, mut hi) = (-10.0f64, 10.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if eps(mid.exp())? <= epsilon {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi.exp())
}

/// A random direction of norm `c` for client `i`.
fn input(seed: u64, i: usize, d: usize, c: f64) -> Vec<f64> {
    let mut s = derive_seed(seed, "bench-dp-inputs");
    s[..8].copy_from_slice(&(i as u64).to_le_bytes());
    let mut rng = seeded_rng(s);
    let x: Vec<f64> = (0..d)
        .map(|_| (rng.next_u64() >> 11) as f64 / 2f64.powi(53) - 0.5)
        .collect();
    let norm = x
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    x.iter().map(|v| v * c / norm).collect()
}

fn session(
    a: &DpBenchArgs,
    m: Mechanism,
    b: u32,
    eps: f64,
    q: u32,
) -> secagg::Result<FloatSession> {
    FloatSession::builder(a.clients)
        .dim(a.dim)
        .rates(a.dropout, 0.0)
        .complete()
        .threshold(a.clients.div_ceil(2).max(1))
        .clip(a.clip)
        .bits(q)
        .ring_bits(b)
        .context(*b"secagg bench dp")
        .dp(DistributedDp::epsilon(eps, a.delta).mechanism(m))
        .build()
}

fn measure(a: &DpBenchArgs, m: Mechanism, b: u32, eps: f64, xs: &[Vec<f64>]) -> Point {
    let gaussian_rmse =
        gaussian_multiplier(eps, a.delta).map_or(f64::NAN, |z| z * a.clip) / a.clients as f64;
    let mut point = Point {
        mechanism: m,
        ring_bits: b,
        epsilon: eps,
        grid: Err(String::new()),
        achieved_epsilon: f64::NAN,
        noise_multiplier: f64::NAN,
        measured_rmse: f64::NAN,
        predicted_rmse: f64::NAN,
        gaussian_rmse,
        encode_ms: f64::NAN,
    };
    // The finest grid the ring holds: the largest q that builds.
    let mut found = None;
    let mut why = String::from("no grid fits");
    for q in (1..=24).rev() {
        match session(a, m, b, eps, q) {
            Ok(s) => {
                found = Some((q, s));
                break;
            }
            Err(Error::Dp(DpError::RingTooNarrowForNoise { bits_needed, .. })) => {
                why = format!("needs {bits_needed} bits at q = 1");
            }
            Err(e) => {
                why = e.to_string();
                break;
            }
        }
    }
    let Some((q, s)) = found else {
        point.grid = Err(why);
        return point;
    };
    point.grid = Ok(q);
    let Some(p) = s.dp() else {
        return point;
    };
    point.achieved_epsilon = p.epsilon;
    point.noise_multiplier = p.noise_multiplier;
    let n = a.clients;
    let ring = s.config().vectors()[0].ring;
    let len = s.config().vectors()[0].dim;
    let truth: Vec<f64> = (0..a.dim)
        .map(|j| xs.iter().map(|x| x[j]).sum::<f64>() / n as f64)
        .collect();
    let (mut sq, mut count, mut encode) = (0.0, 0usize, 0.0);
    for r in 0..a.rounds {
        let mut sum = RingVec::zeros(&ring, len);
        for (i, x) in xs.iter().enumerate() {
            let mut seed = derive_seed(a.seed, "bench-dp-client");
            seed[..8].copy_from_slice(&((r * n + i) as u64).to_le_bytes());
            let t0 = Instant::now();
            let e = match s.encode(x, 1, &mut seeded_rng(seed)) {
                Ok(e) => e,
                Err(e) => {
                    point.grid = Err(e.to_string());
                    return point;
                }
            };
            encode += t0.elapsed().as_secs_f64();
            if sum.add_assign(&ring, &e.vectors()[0]).is_err() {
                return point;
            }
        }
        let Ok(agg) = s.decode(&[sum], n) else {
            return point;
        };
        let Some(agg) = agg.into_iter().next() else {
            return point;
        };
        if let Some(noise) = agg.dp {
            point.predicted_rmse =
                (noise.noise_variance + noise.rounding_variance_bound).sqrt() / n as f64;
        }
        for (got, want) in agg.sum.iter().zip(&truth) {
            sq += (got / n as f64 - want).powi(2);
            count += 1;
        }
    }
    point.measured_rmse = (sq / count.max(1) as f64).sqrt();
    point.encode_ms = encode * 1e3 / (a.rounds * n).max(1) as f64;
    point
}

fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4e}")
    } else {
        "-".into()
    }
}

/// Runs the sweep; `Ok((text, ok))`.
pub fn run(a: &DpBenchArgs) -> Result<(String, bool), CliError> {
    let xs: Vec<Vec<f64>> = (0..a.clients)
        .map(|i| input(a.seed, i, a.dim, a.clip))
        .collect();
    let mut points = Vec::new();
    for m in &a.mechanisms {
        for &b in &a.ring_bits {
            for &eps in &a.epsilons {
                points.push(measure(a, m.mechanism(), b, eps, &xs));
            }
        }
    }
    let mut table = Table::new([
        "mechanism",
        "ring bits",
        "target eps",
        "grid q",
        "eps",
        "z",
        "rmse of mean",
        "predicted",
        "gaussian",
        "ratio",
        "encode ms",
    ]);
    for p in &points {
        table.row([
            p.mechanism.name().to_string(),
            p.ring_bits.to_string(),
            format!("{}", p.epsilon),
            match &p.grid {
                Ok(q) => q.to_string(),
                Err(why) => format!("({why})"),
            },
            number(p.achieved_epsilon),
            number(p.noise_multiplier),
            number(p.measured_rmse),
            number(p.predicted_rmse),
            number(p.gaussian_rmse),
            if p.predicted_rmse.is_finite() {
                format!("{:.3}", p.predicted_rmse / p.gaussian_rmse)
            } else {
                "-".into()
            },
            if p.encode_ms.is_finite() {
                format!("{:.3}", p.encode_ms)
            } else {
                "-".into()
            },
        ]);
    }
    std::fs::create_dir_all(&a.out).map_err(|e| CliError::Io(a.out.clone(), e))?;
    let csv = a.out.join("dp.csv");
    std::fs::write(&csv, table.to_csv()).map_err(|e| CliError::Io(csv.clone(), e))?;
    let panels: Vec<Panel> = a
        .mechanisms
        .iter()
        .map(|m| {
            let m = m.mechanism();
            let mut series: Vec<Series> = a
                .ring_bits
                .iter()
                .map(|&b| Series {
                    label: format!("{} b = {b}", m.name()),
                    points: points
                        .iter()
                        .filter(|p| p.mechanism == m && p.ring_bits == b)
                        .filter(|p| p.measured_rmse.is_finite())
                        .map(|p| (p.epsilon, p.measured_rmse))
                        .collect(),
                })
                .collect();
            series.push(Series {
                label: "central Gaussian".into(),
                points: a
                    .epsilons
                    .iter()
                    .filter_map(|&e| {
                        points
                            .iter()
                            .find(|p| p.epsilon == e)
                            .map(|p| (e, p.gaussian_rmse))
                    })
                    .collect(),
            });
            Panel {
                title: format!("{}: error of the mean vs epsilon", m.name()),
                x_label: "epsilon per round".into(),
                y_label: "RMSE of the mean".into(),
                log_x: true,
                log_y: true,
                series,
            }
        })
        .collect();
    let svg = render_svg(
        &format!(
            "distributed DP, n = {}, d = {}, c = {}, delta = {}",
            a.clients, a.dim, a.clip, a.delta
        ),
        &panels,
    )?;
    let svg_path = a.out.join("dp.svg");
    std::fs::write(&svg_path, svg).map_err(|e| CliError::Io(svg_path.clone(), e))?;
    let ok = points.iter().any(|p| p.measured_rmse.is_finite());
    if a.json {
        let rows: Vec<_> = points
            .iter()
            .map(|p| {
                json!({
                    "mechanism": p.mechanism.name(),
                    "ring_bits": p.ring_bits,
                    "target_epsilon": p.epsilon,
                    "grid_bits": p.grid.as_ref().ok(),
                    "why": p.grid.as_ref().err(),
                    "epsilon": p.achieved_epsilon.is_finite().then_some(p.achieved_epsilon),
                    "noise_multiplier": p.noise_multiplier.is_finite().then_some(p.noise_multiplier),
                    "measured_rmse": p.measured_rmse.is_finite().then_some(p.measured_rmse),
                    "predicted_rmse": p.predicted_rmse.is_finite().then_some(p.predicted_rmse),
                    "gaussian_rmse": p.gaussian_rmse.is_finite().then_some(p.gaussian_rmse),
                    "encode_ms": p.encode_ms.is_finite().then_some(p.encode_ms),
                })
            })
            .collect();
        let v = json!({
            "clients": a.clients, "dim": a.dim, "clip": a.clip, "delta": a.delta,
            "rounds": a.rounds, "points": rows,
            "csv": csv.display().to_string(), "svg": svg_path.display().to_string(),
        });
        return Ok((v.to_string(), ok));
    }
    let mut out = format!(
        "distributed DP: n = {} clients (all included), d = {}, L2 clip {}, delta {}, {} rounds \
         per point, finest grid each ring holds (k = 4 sd)\n\n",
        a.clients, a.dim, a.clip, a.delta, a.rounds
    );
    out.push_str(&table.to_text());
    out.push_str(
        "(rmse of mean: measured, over coordinates and rounds; predicted: from the reported \
         noise and rounding; gaussian: the central continuous Gaussian mechanism at the same \
         (eps, delta); ratio = predicted / gaussian, the cost of the grid, rotation and \
         distributed noise)\n",
    );
    out.push_str(&format!(
        "wrote {} and {}\n",
        csv.display(),
        svg_path.display()
    ));
    Ok((out, ok))
}
