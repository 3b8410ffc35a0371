//! `secagg dp`: the privacy accountant from the command line. Given a noise multiplier
//! it prints the (ε, δ) of a training run; given a target (ε, δ) the least noise that
//! meets it; both with the grid, the ring, and the expected error of the mean.
//!
//! The grid, the norm bound after conditional rounding and the ring come from the same
//! resolution a session with DP makes (`secagg::dp::pipeline::DpParams::resolve`), the
//! guarantee over R rounds at sampling rate q from `secagg::dp::accountant`.

use clap::Args;
use serde_json::json;

use secagg::dp::accountant::{variance_for, Accountant, Privacy, RoundMechanism, ORDERS};
use secagg::dp::pipeline::{DistributedDp, DpParams, DpSetup, Noise, DEFAULT_BETA};
use secagg::dp::{DpError, Mechanism};

use crate::table::Table;

fn parse_mechanism(s: &str) -> Result<Mechanism, String> {
    s.parse::<Mechanism>().map_err(|e| e.to_string())
}

/// `secagg dp`.
#[derive(Args, Clone, Debug)]
pub struct DpArgs {
    /// Clients per round n (the session size; with sampling, the planned number).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// L2 norm bound c of one client's update (float units).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Grid bits q, as the session's --bits: the grid step is gamma = c * 2^(1-q).
    #[arg(long, default_value_t = 16)]
    pub bits: u32,
    /// Ring width b to check (default: the narrowest that holds the noised sum).
    #[arg(long)]
    pub ring_bits: Option<u32>,
    /// Vector length d (floats per client; padded to a power of two).
    #[arg(long, default_value_t = 100_000)]
    pub dim: usize,
    /// Noise multiplier z: the sum of the fewest honest survivors carries noise of
    /// standard deviation z * c. Prints the epsilon of the run.
    #[arg(long, conflicts_with = "epsilon", required_unless_present = "epsilon")]
    pub noise_multiplier: Option<f64>,
    /// Target epsilon of the whole run (R rounds): prints the least noise that meets it.
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// delta of the guarantee.
    #[arg(long, default_value_t = 1e-5)]
    pub delta: f64,
    /// Training rounds R.
    #[arg(long, default_value_t = 1)]
    pub rounds: u64,
    /// Poisson sampling rate q of clients per round, in (0, 1].
    #[arg(long, default_value_t = 1.0)]
    pub sampling_rate: f64,
    /// The noise: ddg (distributed discrete Gaussian) or skellam.
    #[arg(long, default_value = "ddg", value_parser = parse_mechanism)]
    pub mechanism: Mechanism,
    /// Fraction of the n clients that may drop: the noise is calibrated for
    /// n - floor(dropout * n) survivors.
    #[arg(long, default_value_t = 0.0)]
    pub dropout: f64,
    /// Fraction of the n clients assumed to collude with the server (they know their
    /// own noise): floor(corrupt * n) clients' noise does not count.
    #[arg(long, default_value_t = 0.0)]
    pub corrupt: f64,
    /// beta of conditional rounding, in (0, 1).
    #[arg(long, default_value_t = DEFAULT_BETA)]
    pub beta: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `secagg dp` computed.
#[derive(Clone, Debug)]
pub struct DpReport {
    pub params: DpParams,
    pub noisy_clients: usize,
    pub privacy: Privacy,
    pub order: u32,
    pub epsilon_round: f64,
    pub tau: f64,
    /// Per coordinate of the mean at the fewest survivors: the variance of its error
    /// (DP noise plus the bound on randomized rounding), float units.
    pub mean_error_variance: f64,
    /// The same at full participation (n clients).
    pub mean_error_variance_full: f64,
}

fn fraction(x: f64, what: &'static str) -> Result<f64, DpError> {
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(DpError::InvalidParameter {
            what,
            allowed: "in [0, 1)",
        })
    }
}

fn resolve(a: &DpArgs, z: f64, m: usize, colluding: usize) -> secagg::Result<DpParams> {
    let dp = DistributedDp {
        noise: Noise::Multiplier(z),
        ..DistributedDp::noise_multiplier(z)
    }
    .mechanism(a.mechanism)
    .delta(a.delta)
    .beta(a.beta)
    .min_survivors(m)
    .colluding(colluding);
    let dims = [a.dim];
    DpParams::resolve(
        &dp,
        &DpSetup {
            n: a.clients,
            dims: &dims,
            clip: a.clip,
            bits: a.bits,
            ring_bits: a.ring_bits,
            finder: None,
            // The calibration is given (min_survivors): any m up to n is accepted.
            threshold: a.clients,
        },
    )
}

fn accountant(p: &DpParams, noisy: usize, q: f64) -> Result<Accountant, DpError> {
    let round = RoundMechanism::new(
        p.mechanism,
        noisy,
        p.variance,
        p.l2_sensitivity(),
        p.total_padded(),
    )?;
    Accountant::new(round, q)
}

/// Computes the report of `secagg dp`.
///
/// # Errors
/// The typed errors of the accountant and of the DP resolution: `InvalidEpsilon`,
/// `InvalidDelta`, `InvalidParameter`, `NoiseBelowTarget`, `RingTooNarrowForNoise`,
/// `Unreachable`.
pub fn report(a: &DpArgs) -> secagg::Result<DpReport> {
    if let Some(e) = a.epsilon {
        Privacy::new(e, a.delta)?;
    } else {
        Privacy::new(1.0, a.delta)?;
    }
    if a.rounds == 0 {
        return Err(DpError::InvalidParameter {
            what: "rounds",
            allowed: ">= 1",
        }
        .into());
    }
    if !(a.sampling_rate > 0.0 && a.sampling_rate <= 1.0) {
        return Err(DpError::InvalidParameter {
            what: "sampling rate",
            allowed: "in (0, 1]",
        }
        .into());
    }
    let n = a.clients;
    let dropped = (fraction(a.dropout, "dropout")? * n as f64).floor() as usize;
    let colluding = (fraction(a.corrupt, "corrupt")? * n as f64).floor() as usize;
    let m = n.saturating_sub(dropped);
    let noisy = secagg::dp::accountant::noisy_clients(m, colluding)?;
    let q = a.sampling_rate;

    let params = match (a.noise_multiplier, a.epsilon) {
        (Some(z), _) => resolve(a, z, m, colluding)?,
        (None, Some(eps)) => {
            // The grid and the norm bound do not depend on the noise: resolve once for
            // them (any ring), solve for the variance, then resolve at that noise (and
            // the ring asked for), nudging up if the exact rational fell just below.
            let probe = resolve(
                &DpArgs {
                    ring_bits: None,
                    ..a.clone()
                },
                1.0,
                m,
                colluding,
            )?;
            let round = RoundMechanism::new(
                a.mechanism,
                noisy,
                1.0,
                probe.l2_sensitivity(),
                probe.total_padded(),
            )?;
            let target = Privacy::new(eps, a.delta)?;
            let var = variance_for(target, round, q, a.rounds)?;
            let mut z = (noisy as f64 * var).sqrt() / probe.steps();
            let mut tries = 0;
            loop {
                let p = resolve(a, z, m, colluding)?;
                let got = accountant(&p, noisy, q)?.privacy_after(a.rounds, a.delta)?;
                if got.epsilon <= eps || tries >= 20 {
                    break p;
                }
                z *= 1.0 + 1e-9 * f64::from(1u32 << tries.min(20));
                tries += 1;
            }
        }
        (None, None) => {
            return Err(DpError::InvalidParameter {
                what: "noise",
                allowed: "--noise-multiplier or --epsilon",
            }
            .into())
        }
    };
    let acct = accountant(&params, noisy, q)?;
    let run = acct.rdp_after(a.rounds);
    let (epsilon, order) = secagg::dp::accountant::rdp_to_dp(&run, a.delta)?;
    let epsilon_round = accountant(&params, noisy, 1.0)?
        .privacy_after(1, a.delta)?
        .epsilon;
    let g2 = params.gamma * params.gamma;
    let per_client = params.variance * g2 + g2 / 4.0;
    debug_assert_eq!(run.len(), ORDERS.len());
    Ok(DpReport {
        tau: acct.round().tau(),
        noisy_clients: noisy,
        privacy: Privacy {
            epsilon,
            delta: a.delta,
        },
        order,
        epsilon_round,
        mean_error_variance: per_client / m as f64,
        mean_error_variance_full: per_client / n as f64,
        params,
    })
}

fn fmt(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e5 || x.abs() < 1e-3) {
        format!("{x:.4e}")
    } else {
        format!("{x:.6}")
    }
}

/// Runs `secagg dp` and returns what to print.
pub fn run(a: &DpArgs) -> secagg::Result<String> {
    let r = report(a)?;
    let p = &r.params;
    let noise_sd = (r.noisy_clients as f64 * p.variance).sqrt() * p.gamma;
    let dim = a.dim as f64;
    if a.json {
        return Ok(json!({
            "mechanism": p.mechanism.name(),
            "clients": p.n,
            "min_survivors": p.min_survivors,
            "colluding": p.colluding,
            "noisy_clients": r.noisy_clients,
            "clip": p.clip,
            "bits": p.bits,
            "gamma": p.gamma,
            "ring_bits": p.ring_bits,
            "dim": a.dim,
            "padded_dim": p.total_padded(),
            "beta": p.beta,
            "l2_sensitivity": p.l2_sensitivity(),
            "noise_multiplier": p.noise_multiplier,
            "local_variance": p.variance,
            "noise_stddev": noise_sd,
            "tau": r.tau,
            "rounds": a.rounds,
            "sampling_rate": a.sampling_rate,
            "epsilon": r.privacy.epsilon,
            "delta": r.privacy.delta,
            "rdp_order": r.order,
            "epsilon_round_unsampled": r.epsilon_round,
            "mse_mean_per_coordinate": r.mean_error_variance,
            "mse_mean": r.mean_error_variance * dim,
            "mse_mean_full_participation": r.mean_error_variance_full * dim,
        })
        .to_string());
    }
    let mut t = Table::new(["", "value"]);
    t.row(["mechanism", p.mechanism.name()]);
    t.row([
        "clients n / fewest survivors / colluding".to_string(),
        format!("{} / {} / {}", p.n, p.min_survivors, p.colluding),
    ]);
    t.row([
        "noisy clients (honest survivors)".to_string(),
        r.noisy_clients.to_string(),
    ]);
    t.row(["grid step gamma".to_string(), fmt(p.gamma)]);
    t.row(["ring bits".to_string(), p.ring_bits.to_string()]);
    t.row([
        "L2 sensitivity (grid, after rounding)".to_string(),
        fmt(p.l2_sensitivity()),
    ]);
    t.row(["noise multiplier z".to_string(), fmt(p.noise_multiplier)]);
    t.row(["per-client variance (grid)".to_string(), fmt(p.variance)]);
    t.row(["noise stddev of the sum".to_string(), fmt(noise_sd)]);
    if p.mechanism == Mechanism::DiscreteGaussian {
        t.row(["tau (sum-of-DG gap)".to_string(), fmt(r.tau)]);
    }
    t.row([
        format!(
            "epsilon after {} rounds at q = {}",
            a.rounds, a.sampling_rate
        ),
        fmt(r.privacy.epsilon),
    ]);
    t.row(["delta".to_string(), fmt(r.privacy.delta)]);
    t.row(["RDP order".to_string(), r.order.to_string()]);
    t.row([
        "epsilon of one unsampled round".to_string(),
        fmt(r.epsilon_round),
    ]);
    t.row([
        "MSE of the mean, per coordinate".to_string(),
        fmt(r.mean_error_variance),
    ]);
    t.row([
        "MSE of the mean (L2^2, d coordinates)".to_string(),
        fmt(r.mean_error_variance * dim),
    ]);
    Ok(t.to_text())
}

/// `secagg bench samplers`.
#[derive(Args, Clone, Debug)]
pub struct BenchSamplersArgs {
    /// Draws per timed run and distribution.
    #[arg(long, default_value_t = 200_000)]
    pub draws: usize,
    /// Timed runs (the median is reported; at least 3).
    #[arg(long, default_value_t = 7)]
    pub runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One distribution the bench times.
enum Sampler {
    Gaussian(secagg::dp::sample::DiscreteGaussian),
    Skellam(secagg::dp::sample::Skellam),
    /// The inexact baseline: a float Gaussian (Box–Muller) rounded to an integer.
    Rounded(f64),
}

impl Sampler {
    fn fill<R: secagg::crypto::rng::CryptoRng>(&self, rng: &mut R, out: &mut [i64]) {
        match self {
            Sampler::Gaussian(s) => s.fill(rng, out),
            Sampler::Skellam(s) => s.fill(rng, out),
            Sampler::Rounded(sd) => {
                for o in out.iter_mut() {
                    let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
                    let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    let g = (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos();
                    *o = (g * sd).round() as i64;
                }
            }
        }
    }
}

/// Times the exact samplers (ns per draw, medians of `runs` interleaved runs) against
/// the inexact rounded float Gaussian of the same standard deviation, in one run.
pub fn bench_samplers(a: &BenchSamplersArgs) -> secagg::Result<String> {
    use secagg::dp::sample::{DiscreteGaussian, Rational, Skellam};
    use std::time::Instant;
    let runs = a.runs.max(3);
    let draws = a.draws.max(1000);
    // (name, stddev, exact sampler)
    let mut cases: Vec<(String, f64, Sampler)> = Vec::new();
    for var in [0.25f64, 10.0, 1e6, 1e10] {
        let r = Rational::approx_f64(var, 1 << 20)?;
        cases.push((
            format!("discrete Gaussian sigma^2 = {var}"),
            var.sqrt(),
            Sampler::Gaussian(DiscreteGaussian::new(r)?),
        ));
    }
    for var in [0.5f64, 20.0, 2e4, 2e6] {
        let r = Rational::approx_f64(var / 2.0, 1 << 20)?;
        cases.push((
            format!("Skellam variance {var}"),
            var.sqrt(),
            Sampler::Skellam(Skellam::new(r)?),
        ));
    }
    let mut rng = secagg::crypto::rng::seeded_rng([7; 32]);
    let mut buf = vec![0i64; draws];
    let mut times: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); cases.len()];
    for _ in 0..runs {
        for (i, (_, sd, s)) in cases.iter().enumerate() {
            let t = Instant::now();
            s.fill(&mut rng, &mut buf);
            times[i]
                .0
                .push(t.elapsed().as_secs_f64() * 1e9 / draws as f64);
            let base = Sampler::Rounded(*sd);
            let t = Instant::now();
            base.fill(&mut rng, &mut buf);
            times[i]
                .1
                .push(t.elapsed().as_secs_f64() * 1e9 / draws as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rows: Vec<(String, f64, f64)> = cases
        .iter()
        .zip(times.iter_mut())
        .map(|((name, _, _), (e, b))| (name.clone(), median(e), median(b)))
        .collect();
    if a.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(n, e, b)| json!({"sampler": n, "exact_ns": e, "rounded_float_ns": b, "ratio": e / b}))
            .collect();
        return Ok(json!({"draws": draws, "runs": runs, "samplers": list}).to_string());
    }
    let mut t = Table::new(["sampler", "exact ns/draw", "rounded float ns/draw", "ratio"]);
    for (n, e, b) in &rows {
        t.row([
            n.clone(),
            format!("{e:.1}"),
            format!("{b:.1}"),
            format!("{:.2}", e / b),
        ]);
    }
    Ok(format!(
        "{draws} draws per run, medians of {runs} interleaved runs, ChaCha20 rng\n{}",
        t.to_text()
    ))
}
