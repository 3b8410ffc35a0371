//! `secagg bench scale`: the largest SecAgg+ session (parameter finder's degree and
//! threshold) this machine simulates within a time budget, for each vector length, with
//! its peak resident memory, and the server's unmasking set against its ideal.
//!
//! The search: a first session at `--start-clients`; then, since a session's time
//! grows about linearly with n, the next n aims at the budget from the last two
//! measurements (at most 4x up, at least 1.15x), until the largest n within the budget
//! and the smallest over it are within 10% of each other (or `--probes` sessions ran).
//! The session at the largest n within the budget is then repeated `--runs` times and
//! the medians reported.
//!
//! "Session time" is the protocol wall time including the in-session drawing and
//! quantization of inputs (`wall_ms + inputs_ms` of `secagg simulate --json`); the
//! plaintext check after the session is not counted. Peak memory is the process's
//! `VmHWM`, reset before each session (`/proc/self/clear_refs`, Linux); where it cannot
//! be reset the figure is the process's peak so far and is marked so.
//!
//! The unmasking ideal: the keystream bytes the server expanded at the mask-expansion
//! rate (`bench mask`'s timing on the sessions' own thread pool, same d, same ring
//! width, enough seeds for 10^7 words a run, median of 11), plus the key agreements it did at the batched
//! X25519 rate (`crypto::keys::SecretKey::agree_many`, the server's own call for a
//! dropped client's neighbours, on the detected backend, batches of 64 keys = full lane
//! batches, in a one-thread pool, divided by the thread count since the server spreads
//! agreements over the pool). Both rates are measured again right after each session
//! (they take a few tens of milliseconds), and each session's unmasking is set against
//! the ideal from the rates measured next to it; the ratio reported is the median of
//! those per-session ratios. On a shared machine the rates move between modes that
//! differ by up to 2x over minutes (a neighbour's load on the core's sibling): one rate
//! measured once, after every session, set a quiet session against a loaded ideal or
//! the reverse; and a second pool built for the measurement competed with the
//! sessions' pool, whose workers spin a while before they sleep (the rate came out at
//! half speed in two runs of five). Secret reconstruction is not in the ideal (the definition); it
//! is reported apart.

use std::hint::black_box;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};

use secagg::crypto::keys::SecretKey;
use secagg::crypto::rng::seeded_rng;
use secagg::quantize::Rounding;

use crate::params::Threat;
use crate::session::{self, DropAt, GraphKind, SessionReport, SessionSpec};
use crate::simulate::{peak_rss, unmask_json, with_threads};
use crate::table::Table;
use crate::CliError;

/// The flags of `secagg bench scale`.
#[derive(Args, Clone, Debug)]
pub struct ScaleArgs {
    /// Vector lengths d, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000usize, 100_000])]
    pub dims: Vec<usize>,
    /// Time budget of one session, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub budget_s: f64,
    /// Fraction of clients that drop out.
    #[arg(long, default_value_t = 0.05)]
    pub dropout: f64,
    /// Before which round the dropping clients go silent.
    #[arg(long, value_enum, default_value_t = DropAt::Random)]
    pub drop_at: DropAt,
    /// Clients of the first session of the search.
    #[arg(long, default_value_t = 1000)]
    pub start_clients: usize,
    /// Largest n the search tries.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_clients: usize,
    /// Most sessions the search runs per d (the repeats not counted).
    #[arg(long, default_value_t = 6)]
    pub probes: usize,
    /// No search: measure this many clients at every d.
    #[arg(long)]
    pub clients: Option<usize>,
    /// Sessions at the chosen n (medians reported).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Run each round's clients one after the other, each with every thread
    /// (`simulate`'s default), instead of all at once (the fastest session).
    #[arg(long)]
    pub sequential_clients: bool,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Seed of the sessions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One session's figures.
#[derive(Clone, Debug)]
struct Probe {
    clients: usize,
    ok: bool,
    degree: usize,
    threshold: usize,
    ring_bits: u32,
    /// Protocol wall time without inputs, and the inputs' share.
    wall: Duration,
    inputs: Duration,
    /// Peak RSS of the session in KiB, and whether the peak was reset before it.
    peak_kib: Option<u64>,
    peak_reset: bool,
    unmask: Option<secagg::protocol::server::UnmaskTimings>,
}

impl Probe {
    fn session(&self) -> Duration {
        self.wall + self.inputs
    }
}

/// Resets this process's `VmHWM` to its current RSS (Linux >= 4.0); whether it did.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn spec(a: &ScaleArgs, clients: usize, dim: usize) -> SessionSpec {
    SessionSpec {
        clients,
        dim,
        dropout: a.dropout,
        graph: GraphKind::Sparse,
        neighbors: None,
        threshold: None,
        threat: Threat::SemiHonest,
        drop_at: a.drop_at,
        seed: a.seed,
        bits: 16,
        clip: 1.0,
        ring_bits: None,
        rounding: Rounding::Stochastic,
        corrupt: 0.05,
        sigma: secagg::protocol::params::ParamQuery::DEFAULT_SIGMA,
        eta: secagg::protocol::params::ParamQuery::DEFAULT_ETA,
        grinding_bits: None,
        context: "secagg bench scale".to_string(),
        sequential: a.sequential_clients,
        dp: None,
    }
}

fn probe(a: &ScaleArgs, clients: usize, dim: usize) -> Result<Probe, CliError> {
    let s = spec(a, clients, dim);
    let peak_reset = reset_peak_rss();
    let r: SessionReport = session::run(&s, &|_| {})?;
    let peak_kib = peak_rss().map(|p| p.kib);
    let p = Probe {
        clients,
        ok: r.ok(),
        degree: r.setup.degree,
        threshold: r.setup.threshold,
        ring_bits: r.setup.ring_bits,
        wall: r.wall,
        inputs: r.inputs,
        peak_kib,
        peak_reset,
        unmask: r.outcome.as_ref().ok().and_then(|o| o.unmask),
    };
    if !a.quiet {
        eprintln!(
            "bench scale: d = {dim}, n = {clients}: session {:.1} s (protocol {:.1} s + inputs \
             {:.1} s), peak {} MiB{}",
            p.session().as_secs_f64(),
            p.wall.as_secs_f64(),
            p.inputs.as_secs_f64(),
            p.peak_kib
                .map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            if p.ok { "" } else { ", FAILED" }
        );
    }
    Ok(p)
}

/// The largest n within the budget (and every session run to find it).
fn search(a: &ScaleArgs, dim: usize) -> Result<(usize, Vec<Probe>), CliError> {
    let budget = a.budget_s;
    let mut probes: Vec<Probe> = Vec::new();
    let mut n = a.start_clients.clamp(2, a.max_clients.max(2));
    for _ in 0..a.probes.max(1) {
        let p = probe(a, n, dim)?;
        probes.push(p);
        let within = |p: &&Probe| p.ok && p.session().as_secs_f64() <= budget;
        let best = probes.iter().filter(within).map(|p| p.clients).max();
        let over = probes
            .iter()
            .filter(|p| !within(p))
            .map(|p| p.clients)
            .min();
        let next = match (best, over) {
            (Some(lo), Some(hi)) if hi as f64 <= lo as f64 * 1.1 => break,
            (Some(lo), Some(hi)) => {
                // Linear in time between the two bracketing sessions.
                let t = |c: usize| {
                    probes
                        .iter()
                        .find(|p| p.clients == c)
                        .map_or(0.0, |p| p.session().as_secs_f64())
                };
                let (tl, th) = (t(lo), t(hi));
                let aim = 0.97 * budget;
                let guess = if th > tl {
                    lo as f64 + (aim - tl) / (th - tl) * (hi - lo) as f64
                } else {
                    (lo + hi) as f64 / 2.0
                };
                (guess.round() as usize).clamp(lo + 1, hi - 1)
            }
            (Some(lo), None) => {
                if lo >= a.max_clients {
                    break;
                }
                let t = probes.last().map_or(1.0, |p| p.session().as_secs_f64());
                let factor = (0.95 * budget / t.max(1e-3)).clamp(1.15, 4.0);
                ((lo as f64 * factor).round() as usize).min(a.max_clients)
            }
            (None, Some(hi)) => {
                if hi <= 2 {
                    break;
                }
                let t = probes.last().map_or(1.0, |p| p.session().as_secs_f64());
                let factor = (0.95 * budget / t.max(1e-3)).clamp(0.25, 0.87);
                ((hi as f64 * factor).round() as usize).max(2)
            }
            (None, None) => break,
        };
        n = next;
    }
    let best = probes
        .iter()
        .filter(|p| p.ok && p.session().as_secs_f64() <= budget)
        .map(|p| p.clients)
        .max()
        .unwrap_or(0);
    Ok((best, probes))
}

/// Median of a non-empty list of floats (upper median for even lengths).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Keys per `agree_many` call when timing the batched rate: eight full batches of the
/// widest backend's lanes.
const AGREE_BATCH: usize = 64;

/// One X25519 agreement through the server's own batched call
/// ([`SecretKey::agree_many`], the detected backend) on one thread (a one-thread pool,
/// since the call spreads its lane batches over the pool), in seconds: median of 5
/// timed runs of 4 calls of [`AGREE_BATCH`] keys, after one warm-up run.
fn agreement_seconds() -> Result<f64, CliError> {
    let mut rng = seeded_rng([7; 32]);
    let sk = SecretKey::random(&mut rng);
    let pks: Vec<_> = (0..AGREE_BATCH)
        .map(|_| SecretKey::random(&mut rng).public_key())
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| CliError::Threads(e.to_string()))?;
    pool.install(|| {
        let mut times = Vec::new();
        for _ in 0..6 {
            let t0 = Instant::now();
            for _ in 0..4 {
                for shared in black_box(sk.agree_many(black_box(&pks))) {
                    black_box(shared?);
                }
            }
            times.push(t0.elapsed().as_secs_f64() / (4 * pks.len()) as f64);
        }
        times.remove(0);
        Ok(median(times))
    })
}

/// The rates an unmasking ideal is computed from, measured right after a session on
/// the same pool.
#[derive(Clone, Copy, Debug)]
struct Rates {
    /// Mask expansion, bytes per second (all threads).
    mask_bps: f64,
    /// Batched X25519, seconds per agreement on one thread.
    agree_s: f64,
}

/// The rates on the current pool: the sessions' own (a second pool would compete with
/// its spinning workers).
fn rates(dim: usize, bits: u32) -> Result<Rates, CliError> {
    // Enough seeds that one timed run expands >= 10^7 words (at small d a run of 8
    // seeds lasts microseconds and measures the pool's start-up and the load, not AES).
    let seeds = (10_000_000 / dim.max(1)).clamp(8, 4096);
    let mask = crate::bench::bench_mask_here(secagg::crypto::prg::backend(), dim, seeds, bits, 11)?;
    Ok(Rates {
        mask_bps: mask.gbps * 1e9,
        agree_s: agreement_seconds()?,
    })
}

/// What one d found.
struct DimResult {
    dim: usize,
    clients: usize,
    probes: Vec<Probe>,
    runs: Vec<Probe>,
    /// The rates measured right after each of `runs` (same order).
    rates: Vec<Rates>,
    threads: usize,
}

impl DimResult {
    /// Per run with an unmasking: (its unmasking, the ideal from the rates measured
    /// next to it, split into expansion and agreement), in seconds.
    fn paired(&self) -> Vec<(f64, f64, f64)> {
        let threads = self.threads.max(1) as f64;
        self.runs
            .iter()
            .zip(&self.rates)
            .filter_map(|(p, r)| {
                p.unmask.as_ref().map(|u| {
                    (
                        u.total.as_secs_f64(),
                        u.keystream_bytes as f64 / r.mask_bps,
                        u.agreements as f64 * r.agree_s / threads,
                    )
                })
            })
            .collect()
    }

    /// The median over runs of unmasking / its paired ideal.
    fn ratio(&self) -> f64 {
        median(self.paired().iter().map(|&(a, e, g)| a / (e + g)).collect())
    }

    fn mask_bps(&self) -> f64 {
        median(self.rates.iter().map(|r| r.mask_bps).collect())
    }

    fn agree_s(&self) -> f64 {
        median(self.rates.iter().map(|r| r.agree_s).collect())
    }

    fn med(&self, f: impl Fn(&Probe) -> f64) -> f64 {
        median(self.runs.iter().map(f).collect())
    }

    fn unmask_med(&self, f: impl Fn(&secagg::protocol::server::UnmaskTimings) -> f64) -> f64 {
        median(
            self.runs
                .iter()
                .filter_map(|p| p.unmask.as_ref().map(&f))
                .collect(),
        )
    }

    /// The median over runs of the paired ideal unmasking time, in seconds.
    fn ideal_s(&self) -> f64 {
        median(self.paired().iter().map(|&(_, e, g)| e + g).collect())
    }

    fn to_json(&self, budget: f64) -> Value {
        let last = self.runs.last();
        let ideal = self.ideal_s();
        let actual = self.unmask_med(|u| u.total.as_secs_f64());
        let paired = self.paired();
        json!({
            "dim": self.dim,
            "clients": self.clients,
            "budget_s": budget,
            "neighbors": last.map(|p| p.degree),
            "threshold": last.map(|p| p.threshold),
            "ring_bits": last.map(|p| p.ring_bits),
            "runs": self.runs.len(),
            "ok": self.runs.iter().all(|p| p.ok),
            "session_s": self.med(|p| p.session().as_secs_f64()),
            "protocol_s": self.med(|p| p.wall.as_secs_f64()),
            "inputs_s": self.med(|p| p.inputs.as_secs_f64()),
            "peak_rss_kib": self.med(|p| p.peak_kib.map_or(f64::NAN, |k| k as f64)),
            "peak_rss_reset": self.runs.iter().all(|p| p.peak_reset),
            "unmasking": last.and_then(|p| p.unmask.as_ref()).map(unmask_json),
            "unmasking_ms_median": actual * 1e3,
            "secrets_ms_median": self.unmask_med(|u| u.secrets_wall.as_secs_f64()) * 1e3,
            "expansion_ms_median": self.unmask_med(|u| u.expansion.as_secs_f64()) * 1e3,
            "mask_gbps": self.mask_bps() / 1e9,
            "x25519_us": self.agree_s() * 1e6,
            "ideal_ms": ideal * 1e3,
            "ideal_expansion_ms": median(paired.iter().map(|p| p.1).collect()) * 1e3,
            "ideal_agreement_ms": median(paired.iter().map(|p| p.2).collect()) * 1e3,
            "unmasking_over_ideal": self.ratio(),
            "unmasking_over_ideal_runs": paired
                .iter()
                .map(|&(a, e, g)| a / (e + g))
                .collect::<Vec<_>>(),
            "search": self.probes.iter().map(|p| json!({
                "clients": p.clients,
                "ok": p.ok,
                "session_s": p.session().as_secs_f64(),
                "peak_rss_kib": p.peak_kib,
            })).collect::<Vec<_>>(),
        })
    }
}

fn measure(a: &ScaleArgs, dim: usize) -> Result<DimResult, CliError> {
    let (clients, probes) = match a.clients {
        Some(n) => (n, Vec::new()),
        None => search(a, dim)?,
    };
    let threads = rayon::current_num_threads();
    let mut runs: Vec<Probe> = probes
        .iter()
        .filter(|p| p.clients == clients)
        .take(1)
        .cloned()
        .collect();
    let bits_of = |p: &Probe| p.ring_bits.max(1);
    // The reused session of the search gets the rates measured now (after the search's
    // last session); every further run gets those measured right after it.
    let mut measured = Vec::new();
    for p in &runs {
        measured.push(rates(dim, bits_of(p))?);
    }
    if clients > 0 {
        while runs.len() < a.runs.max(1) {
            let p = probe(a, clients, dim)?;
            measured.push(rates(dim, bits_of(&p))?);
            runs.push(p);
        }
    }
    Ok(DimResult {
        dim,
        clients,
        probes,
        runs,
        rates: measured,
        threads,
    })
}

/// Runs the benchmark; `Ok((text, ok))`.
pub fn run(a: &ScaleArgs) -> Result<(String, bool), CliError> {
    let (results, threads) = with_threads(a.threads, || {
        let r: Result<Vec<DimResult>, CliError> = a.dims.iter().map(|&d| measure(a, d)).collect();
        (r, rayon::current_num_threads())
    })?;
    let results = results?;
    let ok = results
        .iter()
        .all(|r| r.clients > 0 && r.runs.iter().all(|p| p.ok));
    if a.json {
        let v = json!({
            "threads": threads,
            "dropout": a.dropout,
            "drop_at": a.drop_at.name(),
            "client_execution": if a.sequential_clients { "sequential" } else { "parallel" },
            "results": results.iter().map(|r| r.to_json(a.budget_s)).collect::<Vec<_>>(),
        });
        return Ok((v.to_string(), ok));
    }
    let mut t = Table::new([
        "d",
        "n",
        "k",
        "t",
        "session s",
        "(inputs s)",
        "peak MiB",
        "unmask ms",
        "secrets ms",
        "expand ms",
        "agreements",
        "ideal ms",
        "x ideal",
    ]);
    for r in &results {
        let last = r.runs.last();
        t.row([
            r.dim.to_string(),
            r.clients.to_string(),
            last.map_or(String::new(), |p| p.degree.to_string()),
            last.map_or(String::new(), |p| p.threshold.to_string()),
            format!("{:.1}", r.med(|p| p.session().as_secs_f64())),
            format!("{:.1}", r.med(|p| p.inputs.as_secs_f64())),
            format!(
                "{:.0}",
                r.med(|p| p.peak_kib.map_or(f64::NAN, |k| k as f64)) / 1024.0
            ),
            format!("{:.0}", r.unmask_med(|u| u.total.as_secs_f64()) * 1e3),
            format!(
                "{:.0}",
                r.unmask_med(|u| u.secrets_wall.as_secs_f64()) * 1e3
            ),
            format!("{:.0}", r.unmask_med(|u| u.expansion.as_secs_f64()) * 1e3),
            format!("{:.0}", r.unmask_med(|u| u.agreements as f64)),
            format!("{:.0}", r.ideal_s() * 1e3),
            format!("{:.2}", r.ratio()),
        ]);
    }
    let mut out = format!(
        "largest SecAgg+ sessions within {} s (finder's k and t, {}% drop-out ({}), {threads} \
         threads, clients {}); medians of {} run(s)\n\n",
        a.budget_s,
        a.dropout * 100.0,
        a.drop_at.name(),
        if a.sequential_clients {
            "one at a time"
        } else {
            "in parallel"
        },
        a.runs.max(1),
    );
    out.push_str(&t.to_text());
    for r in &results {
        out.push_str(&format!(
            "d = {}: mask expansion {:.2} GB/s, batched X25519 {:.1} us per agreement on one \
             thread (medians of the rates measured right after each session)\n",
            r.dim,
            r.mask_bps() / 1e9,
            r.agree_s() * 1e6
        ));
    }
    out.push_str(
        "(session: protocol wall time + drawing and quantizing inputs inside it; ideal: \
         keystream bytes at the mask rate + agreements at the batched X25519 rate / \
         threads, both measured right after each session; x ideal: median over sessions \
         of unmasking / its own ideal)\n",
    );
    Ok((out, ok))
}
