//! `secagg simulate` (and `secagg` with no command): one session, a per-round table or
//! one JSON object.

use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};

use secagg::dp::pipeline::{DistributedDp, DEFAULT_DELTA};
use secagg::dp::Mechanism;
use secagg::protocol::params::ParamQuery;
use secagg::quantize::Rounding;

use crate::params::{threat_name, Threat};
use crate::session::{
    self, round_key, Choice, DropAt, GraphKind, Phase, SessionReport, SessionSpec,
};
use crate::table::{bytes, ms, Table};
use crate::CliError;

/// Rounding of the quantizer, as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoundingArg {
    /// Unbiased stochastic rounding (the default for aggregation).
    Stochastic,
    /// Round to the nearest level (half to even): deterministic, biased. The Python
    /// bindings' name; `nearest` is accepted too.
    #[value(alias = "nearest")]
    Deterministic,
}

/// The DP mechanism, as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DpMechanismArg {
    /// The distributed discrete Gaussian (Kairouz, Liu, Steinke 2021).
    Ddg,
    /// The distributed Skellam mechanism (Agarwal, Kairouz, Liu 2021).
    Skellam,
}

impl DpMechanismArg {
    pub fn mechanism(self) -> Mechanism {
        match self {
            DpMechanismArg::Ddg => Mechanism::DiscreteGaussian,
            DpMechanismArg::Skellam => Mechanism::Skellam,
        }
    }
}

/// The flags of `secagg simulate`, also accepted by `secagg` without a command.
#[derive(Args, Clone, Debug)]
pub struct SimulateArgs {
    /// Number of clients n.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Vector length d (floats per client).
    #[arg(long, default_value_t = 100_000)]
    pub dim: usize,
    /// Fraction of clients that drop out: exactly floor(dropout * n), chosen at random.
    #[arg(long, default_value_t = 0.1)]
    pub dropout: f64,
    /// Neighbor graph: complete (SecAgg) or sparse (SecAgg+, Harary graph).
    #[arg(long, value_enum, default_value_t = GraphKind::Sparse)]
    pub graph: GraphKind,
    /// Degree k of the sparse graph (default: the parameter finder's).
    #[arg(long)]
    pub neighbors: Option<usize>,
    /// Shamir threshold t (default: the finder's, or the smallest that meets its
    /// targets for the chosen graph).
    #[arg(long)]
    pub threshold: Option<usize>,
    /// Threat model.
    #[arg(long, value_enum, default_value_t = Threat::SemiHonest)]
    pub threat: Threat,
    /// Before which round the dropping clients go silent.
    #[arg(long, value_enum, default_value_t = DropAt::Random)]
    pub drop_at: DropAt,
    /// Seed of every random choice (inputs, rounding, keys, graph, who drops).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Quantization bits q per element.
    #[arg(long, default_value_t = 16)]
    pub bits: u32,
    /// Clipping bound c: inputs are clipped to [-c, c] (inputs are uniform in [-1, 1)).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Ring width b (default: the smallest with which n clients' sum cannot wrap).
    #[arg(long)]
    pub ring_bits: Option<u32>,
    /// Rounding of the quantizer.
    #[arg(long, value_enum, default_value_t = RoundingArg::Stochastic)]
    pub rounding: RoundingArg,
    /// Tolerated fraction of corrupt clients, for the parameter finder (the same
    /// default as `secagg serve`, the float session and the Python bindings).
    #[arg(long, default_value_t = 0.1)]
    pub corrupt: f64,
    /// Statistical security parameter sigma, for the parameter finder.
    #[arg(long, default_value_t = ParamQuery::DEFAULT_SIGMA)]
    pub sigma: f64,
    /// Correctness parameter eta, for the parameter finder.
    #[arg(long, default_value_t = ParamQuery::DEFAULT_ETA)]
    pub eta: f64,
    /// Grinding margin N (bits) added to sigma by the parameter finder: it plans for a
    /// server that tried 2^N graph seeds. Default: 64 with --threat malicious (that
    /// server picks the seed), 0 semi-honest. 0 opts out.
    #[arg(long, value_name = "N")]
    pub grinding_bits: Option<f64>,
    /// Session context bound into the session id (e.g. a model hash).
    #[arg(long, default_value = "secagg simulate")]
    pub context: String,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Run each round's clients all at once (spread over the threads) instead of one
    /// after the other with every thread each (the per-client times a client device
    /// would see; the default).
    #[arg(long)]
    pub parallel_clients: bool,
    /// Distributed DP with this noise multiplier z: the sum of the fewest survivors the
    /// session plans for carries noise of standard deviation z * clip (clip is then the
    /// L2 norm bound of a client's update; --bits sets the grid).
    #[arg(long, conflicts_with = "dp_epsilon")]
    pub dp_noise_multiplier: Option<f64>,
    /// Distributed DP with the least noise for which one round is (epsilon, delta)-DP.
    #[arg(long, requires = "dp_delta")]
    pub dp_epsilon: Option<f64>,
    /// delta of the DP guarantee (default 1e-5 with --dp-noise-multiplier).
    #[arg(long)]
    pub dp_delta: Option<f64>,
    /// The DP noise: distributed discrete Gaussian or distributed Skellam.
    #[arg(long, value_enum, default_value_t = DpMechanismArg::Ddg)]
    pub dp_mechanism: DpMechanismArg,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// No progress display on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl SimulateArgs {
    pub fn spec(&self) -> SessionSpec {
        SessionSpec {
            clients: self.clients,
            dim: self.dim,
            dropout: self.dropout,
            graph: self.graph,
            neighbors: self.neighbors,
            threshold: self.threshold,
            threat: self.threat,
            drop_at: self.drop_at,
            seed: self.seed,
            bits: self.bits,
            clip: self.clip,
            ring_bits: self.ring_bits,
            rounding: match self.rounding {
                RoundingArg::Stochastic => Rounding::Stochastic,
                RoundingArg::Deterministic => Rounding::Deterministic,
            },
            corrupt: self.corrupt,
            sigma: self.sigma,
            eta: self.eta,
            grinding_bits: self.grinding_bits,
            context: self.context.clone(),
            sequential: !self.parallel_clients,
            dp: self.dp(),
        }
    }

    /// The DP configuration the `--dp-*` flags ask for.
    pub fn dp(&self) -> Option<DistributedDp> {
        let dp = match (self.dp_noise_multiplier, self.dp_epsilon) {
            (Some(z), _) => DistributedDp::noise_multiplier(z),
            (None, Some(e)) => DistributedDp::epsilon(e, self.dp_delta.unwrap_or(DEFAULT_DELTA)),
            (None, None) => return None,
        };
        Some(
            dp.mechanism(self.dp_mechanism.mechanism())
                .delta(self.dp_delta.unwrap_or(DEFAULT_DELTA)),
        )
    }
}

/// Runs `f` on a rayon pool of `threads` workers (0: one per CPU).
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T, CliError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::Threads(e.to_string()))?;
    Ok(pool.install(f))
}

/// Runs the session; `Ok((text, ok))` with what to print and whether it verified.
pub fn run(a: &SimulateArgs) -> Result<(String, bool), CliError> {
    let spec = a.spec();
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    };
    let n = spec.clients;
    let d = spec.dim;
    let progress = |p: Phase| {
        bar.set_message(match p {
            Phase::Session => format!(
                "{n} clients and the server: running the protocol ({d} floats per client, \
                 drawn and quantized as each client masks them)"
            ),
            Phase::Check => "checking the sum against the plaintext sum".to_string(),
        })
    };
    let (report, threads) = with_threads(a.threads, || {
        (session::run(&spec, &progress), rayon::current_num_threads())
    })?;
    bar.finish_and_clear();
    let report = report?;
    let ok = report.ok();
    let rss = peak_rss();
    let text = if a.json {
        to_json(&report, threads, rss).to_string()
    } else {
        to_text(&report, threads, rss)
    };
    Ok((text, ok))
}

/// The peak resident memory of this process and where it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeakRss {
    /// KiB (1024 bytes).
    pub kib: u64,
    /// `"VmHWM"` (Linux's /proc/self/status) or `"ru_maxrss"` (getrusage(2)).
    pub source: &'static str,
}

/// The process's peak resident set size so far: `VmHWM` from /proc/self/status where
/// it exists (Linux), else getrusage(2)'s `ru_maxrss` (KiB on the BSDs, bytes on
/// macOS and iOS), else `None`. `VmHWM` first because `ru_maxrss` also counts the
/// image the process had before its `execve` (on Linux: the forking parent's peak).
pub fn peak_rss() -> Option<PeakRss> {
    vm_hwm_kib()
        .map(|kib| PeakRss {
            kib,
            source: "VmHWM",
        })
        .or_else(|| {
            ru_maxrss_kib().map(|kib| PeakRss {
                kib,
                source: "ru_maxrss",
            })
        })
}

/// `VmHWM` from /proc/self/status, in KiB.
pub fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// getrusage(2)'s `ru_maxrss` for this process, in KiB.
#[cfg(unix)]
pub fn ru_maxrss_kib() -> Option<u64> {
    let mut usage = core::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable `rusage` (zero-initialised, and all-zero is
    // a valid `rusage`: plain integers); getrusage writes at most one `rusage` there and
    // reads nothing else. std has no safe equivalent.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: zero-initialised above (a valid value) and filled by a successful call.
    let max = unsafe { usage.assume_init() }.ru_maxrss;
    let max = u64::try_from(max).ok()?;
    if cfg!(any(target_os = "macos", target_os = "ios")) {
        Some(max / 1024)
    } else {
        Some(max)
    }
}

/// No getrusage off Unix.
#[cfg(not(unix))]
pub fn ru_maxrss_kib() -> Option<u64> {
    None
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A log2 probability for JSON: `null` for an impossible event.
fn log2_value(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// The JSON object of `secagg simulate --json`.
pub fn to_json(r: &SessionReport, threads: usize, rss: Option<PeakRss>) -> Value {
    let s = &r.spec;
    let params = match &r.setup.choice {
        Choice::Bounds(p) => json!({
            "meets_targets": p.log2_security_after_grinding() <= -r.setup.query.sigma
                && p.log2_failure <= -r.setup.query.eta,
            "corrupt": r.setup.query.corrupt,
            "sigma": r.setup.query.sigma,
            "eta": r.setup.query.eta,
            "grinding_bits": r.setup.query.grinding_bits,
            "log2_security": log2_value(p.log2_security),
            "log2_security_after_grinding": log2_value(p.log2_security_after_grinding()),
            "log2_failure": log2_value(p.log2_failure),
        }),
        Choice::Unchecked(why) => json!({
            "meets_targets": false,
            "corrupt": r.setup.query.corrupt,
            "sigma": r.setup.query.sigma,
            "eta": r.setup.query.eta,
            "grinding_bits": r.setup.query.grinding_bits,
            "why": why,
        }),
    };
    let dropped: Map<String, Value> = r
        .dropped
        .iter()
        .map(|(round, count)| (round_key(*round).to_string(), json!(count)))
        .collect();
    let mut v = json!({
        "ok": r.ok(),
        "clients": s.clients,
        "dim": s.dim,
        "graph": r.setup.graph.name(),
        "neighbors": r.setup.degree,
        "threshold": r.setup.threshold,
        "threat": threat_name(s.threat.model()),
        "dropout": s.dropout,
        "drop_at": s.drop_at.name(),
        "dropped": dropped,
        "seed": s.seed,
        "quant_bits": s.bits,
        "ring_bits": r.setup.ring_bits,
        "clip": s.clip,
        "session_id": r.setup.session_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "params": params,
        "threads": threads,
        "client_execution": if s.sequential { "sequential" } else { "parallel" },
        "quantize_ms": millis(r.quantize),
        "wall_ms": millis(r.wall),
        "inputs_ms": millis(r.inputs),
        "peak_rss_kib": rss.map(|p| p.kib),
        "peak_rss_source": rss.map(|p| p.source),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    match &r.outcome {
        Ok(o) => {
            let mut client = Map::new();
            let mut client_max = Map::new();
            let mut server = Map::new();
            for st in &o.rounds {
                let k = round_key(st.round).to_string();
                client.insert(k.clone(), json!(millis(st.client_mean)));
                client_max.insert(k.clone(), json!(millis(st.client_max)));
                server.insert(k, json!(millis(st.server)));
            }
            let total = |f: &dyn Fn(&secagg::sim::RoundStats) -> Duration| {
                json!(millis(o.rounds.iter().map(f).sum()))
            };
            client.insert("total".into(), total(&|st| st.client_mean));
            client_max.insert("total".into(), total(&|st| st.client_max));
            server.insert("total".into(), total(&|st| st.server));
            obj.insert("included".into(), json!(o.included));
            obj.insert("included_valid".into(), json!(o.included_valid));
            obj.insert("excluded_alive".into(), json!(o.excluded_alive));
            obj.insert("exact_match".into(), json!(o.exact));
            obj.insert("max_abs_error".into(), json!(o.max_abs_error));
            obj.insert("error_bound".into(), json!(o.error_bound));
            obj.insert("clipped".into(), json!(o.clipped));
            obj.insert("client_ms".into(), Value::Object(client));
            obj.insert("bytes".into(), bytes_json(&o.rounds));
            obj.insert("client_max_ms".into(), Value::Object(client_max));
            obj.insert("server_ms".into(), Value::Object(server));
            obj.insert("dequantize_ms".into(), json!(millis(o.dequantize)));
            obj.insert("client_aborts".into(), json!(o.client_aborts));
            if let Some(u) = &o.unmask {
                obj.insert("unmasking".into(), unmask_json(u));
            }
            if let Some(dp) = &o.dp {
                obj.insert("dp".into(), dp_json(dp));
            }
        }
        Err((round, e)) => {
            obj.insert("included".into(), Value::Null);
            obj.insert("abort_round".into(), json!(round_key(*round)));
            obj.insert("error".into(), json!(e.to_string()));
        }
    }
    v
}

/// The `unmasking` object: the server's unmasking work and where its time went.
pub fn unmask_json(u: &secagg::protocol::server::UnmaskTimings) -> Value {
    json!({
        "reconstructions": u.reconstructions,
        "agreements": u.agreements,
        "seeds": u.seeds,
        "keystream_bytes": u.keystream_bytes,
        "reconstruction_thread_ms": millis(u.reconstruction),
        "key_agreement_thread_ms": millis(u.key_agreement),
        "secrets_ms": millis(u.secrets_wall),
        "expansion_ms": millis(u.expansion),
        "total_ms": millis(u.total),
    })
}

/// The `dp` object: the mechanism, the guarantee of this round, the noise of the sum
/// and the error measured against the true sum.
fn dp_json(dp: &session::DpOutcome) -> Value {
    let n = &dp.noise;
    let p = &dp.params;
    json!({
        "mechanism": n.mechanism.name(),
        "epsilon": log2_value(n.epsilon),
        "delta": n.delta,
        "noise_stddev": n.noise_stddev,
        "measured_error_stddev": dp.measured_error_stddev,
        "rounding_stddev_bound": n.rounding_variance_bound.sqrt(),
        "noise_multiplier": p.noise_multiplier,
        "planned_epsilon": p.epsilon,
        "calibrated_survivors": p.min_survivors,
        "colluding": p.colluding,
        "noise_clients": n.noise_clients,
        "below_target": n.below_target,
        "l2_clip": p.clip,
        "grid_step": p.gamma,
        "padded_dim": p.padded.first().copied().unwrap_or(0),
        "client_variance": p.variance,
    })
}

/// A log2 probability for people: `2^-41.5`, or `0` for an impossible event.
fn log2_text(x: f64) -> String {
    if x.is_finite() {
        format!("<= 2^{x:.1}")
    } else {
        "= 0".to_string()
    }
}

/// The `bytes` object: per round and in total, what one client sends and receives
/// (means over the clients of the round) and what the server receives and sends.
fn bytes_json(rounds: &[secagg::sim::RoundStats]) -> Value {
    let rb = session::round_bytes(rounds);
    let mut out = Map::new();
    type Side = fn(&session::RoundBytes) -> f64;
    let sides: [(&str, Side); 4] = [
        ("client_sent", |b| b.client_sent),
        ("client_received", |b| b.client_received),
        ("server_received", |b| b.server_received as f64),
        ("server_sent", |b| b.server_sent as f64),
    ];
    for (name, f) in sides {
        let mut m = Map::new();
        for b in &rb {
            m.insert(round_key(b.round).into(), json!(f(b)));
        }
        m.insert("total".into(), json!(rb.iter().map(f).sum::<f64>()));
        out.insert(name.into(), Value::Object(m));
    }
    Value::Object(out)
}

/// The human-readable report.
pub fn to_text(r: &SessionReport, threads: usize, rss: Option<PeakRss>) -> String {
    let s = &r.spec;
    let graph = match r.setup.graph {
        GraphKind::Complete => "SecAgg, complete graph".to_string(),
        GraphKind::Sparse => "SecAgg+, Harary graph".to_string(),
    };
    let source = match &r.setup.choice {
        Choice::Bounds(p) => format!(
            "assuming <= {} corrupt and <= {} dropped clients: P[privacy fails] {}, \
             P[abort] {}",
            p.max_corrupt,
            p.max_dropped,
            log2_text(p.log2_security),
            log2_text(p.log2_failure),
        ),
        Choice::Unchecked(why) => format!("outside the finder's targets: {why}"),
    };
    let mut out = format!(
        "{} clients x {} floats, {graph}: k = {}, t = {}, {}\n  ({source})\n\
         ring Z_2^{}, {}-bit quantization, clip [-{}, {}], seed {}; {threads} threads, {}\n",
        s.clients,
        s.dim,
        r.setup.degree,
        r.setup.threshold,
        s.threat.name(),
        r.setup.ring_bits,
        s.bits,
        s.clip,
        s.clip,
        s.seed,
        if s.sequential {
            "clients one at a time"
        } else {
            "clients in parallel"
        },
    );
    let dropped: Vec<String> = r
        .dropped
        .iter()
        .map(|(round, c)| format!("{c} before {}", round.name()))
        .collect();
    let total_dropped: usize = r.dropped.iter().map(|d| d.1).sum();
    out.push_str(&format!(
        "dropping: {total_dropped} ({}){}\n\n",
        s.drop_at.name(),
        if dropped.is_empty() {
            String::new()
        } else {
            format!(": {}", dropped.join(", "))
        }
    ));
    let o = match &r.outcome {
        Ok(o) => o,
        Err((round, e)) => {
            out.push_str(&format!(
                "FAILED: the server aborted in round {}: {e}\n",
                round.name()
            ));
            return out;
        }
    };
    let mut t = Table::new([
        "round",
        "clients",
        "client ms",
        "(max)",
        "server ms",
        "client sends",
        "receives",
        "server gets",
        "sends",
    ]);
    let rb = session::round_bytes(&o.rounds);
    for (st, b) in o.rounds.iter().zip(&rb) {
        t.row([
            st.round.name().to_string(),
            st.active_clients.to_string(),
            ms(millis(st.client_mean)),
            ms(millis(st.client_max)),
            ms(millis(st.server)),
            bytes(b.client_sent.round() as u64),
            bytes(b.client_received.round() as u64),
            bytes(b.server_received),
            bytes(b.server_sent),
        ]);
    }
    let total = |f: fn(&session::RoundBytes) -> f64| rb.iter().map(f).sum::<f64>().round() as u64;
    let sum = |f: &dyn Fn(&secagg::sim::RoundStats) -> Duration| -> Duration {
        o.rounds.iter().map(f).sum()
    };
    t.row([
        "total".to_string(),
        String::new(),
        ms(millis(sum(&|st| st.client_mean))),
        ms(millis(sum(&|st| st.client_max))),
        ms(millis(sum(&|st| st.server))),
        bytes(total(|b| b.client_sent)),
        bytes(total(|b| b.client_received)),
        bytes(total(|b| b.server_received as f64)),
        bytes(total(|b| b.server_sent as f64)),
    ]);
    out.push_str(&t.to_text());
    out.push_str("(client: mean per client; bytes in the wire encoding, docs/wire-format.md)\n");
    out.push_str(&format!(
        "\nprotocol wall time {} ms (+ {} ms drawing and quantizing inputs as clients mask \
         them); quantize {} ms per client, dequantize {} ms\n",
        ms(millis(r.wall)),
        ms(millis(r.inputs)),
        ms(millis(r.quantize)),
        ms(millis(o.dequantize)),
    ));
    if let Some(u) = &o.unmask {
        out.push_str(&format!(
            "server unmasking {} ms: {} secrets reconstructed and {} key agreements in {} ms \
             (threads' time: reconstruction {} ms, key agreement {} ms), {} seeds expanded \
             ({}) in {} ms\n",
            ms(millis(u.total)),
            u.reconstructions,
            u.agreements,
            ms(millis(u.secrets_wall)),
            ms(millis(u.reconstruction)),
            ms(millis(u.key_agreement)),
            u.seeds,
            bytes(u.keystream_bytes),
            ms(millis(u.expansion)),
        ));
    }
    if let Some(p) = rss {
        out.push_str(&format!(
            "peak resident memory {:.1} MiB ({})\n",
            p.kib as f64 / 1024.0,
            p.source
        ));
    }
    out.push_str(&format!(
        "max |dequantized sum - float sum| = {:.3e} (bound {:.3e}); {} values clipped\n",
        o.max_abs_error, o.error_bound, o.clipped
    ));
    if let Some(dp) = &o.dp {
        let n = &dp.noise;
        out.push_str(&format!(
            "DP ({}, z = {:.3}, L2 clip {}, grid {:.3e}, padded to {}): noise sd {:.4e} from \
             {} clients (calibrated for {}, {} assumed colluding); this round is \
             ({:.4}, {:e})-DP; measured error sd {:.4e}{}\n",
            n.mechanism,
            dp.params.noise_multiplier,
            dp.params.clip,
            dp.params.gamma,
            dp.params.padded.first().copied().unwrap_or(0),
            n.noise_stddev,
            n.included,
            n.calibrated_for,
            dp.params.colluding,
            n.epsilon,
            n.delta,
            dp.measured_error_stddev,
            if n.below_target {
                " (fewer survivors than planned: less noise than the target)"
            } else {
                ""
            },
        ));
    }
    if o.excluded_alive > 0 {
        out.push_str(&format!(
            "{} clients that did not drop were left out (fewer than t surviving neighbors)\n",
            o.excluded_alive
        ));
    }
    if o.ok() {
        out.push_str(&format!(
            "sum verified against the plaintext sum of {} included clients\n",
            o.included
        ));
    } else {
        let mut why = Vec::new();
        if !o.exact {
            why.push("the ring sum differs from the plaintext ring sum".to_string());
        }
        if !o.included_valid {
            why.push("the server included a client that sent no masked input".into());
        }
        if o.max_abs_error > o.error_bound {
            why.push("the float error exceeds its bound".into());
        }
        if o.client_aborts > 0 {
            why.push(format!("{} clients aborted", o.client_aborts));
        }
        out.push_str(&format!(
            "FAILED: {} ({} included clients)\n",
            why.join("; "),
            o.included
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where both exist (Linux), the two sources are consistent: `ru_maxrss` is the
    /// high-water mark of the process over its life, including the image it had
    /// before its last `execve` (the forking parent's pages), so it is at least
    /// `VmHWM` (this image's high-water mark, read a moment earlier; 1 MiB of slack for
    /// the pages touched in between), and both see the 8 MiB touched here. This is why
    /// `peak_rss` prefers `VmHWM`.
    #[test]
    fn peak_rss_sources_agree() {
        let touched: Vec<u8> = vec![1; 8 << 20];
        assert_eq!(touched.iter().map(|&b| u64::from(b)).sum::<u64>(), 8 << 20);
        let Some(hwm) = vm_hwm_kib() else {
            return;
        };
        let max = ru_maxrss_kib().expect("getrusage where /proc has VmHWM");
        assert!(hwm >= 8 * 1024, "{hwm} KiB");
        assert!(max + 1024 >= hwm, "VmHWM {hwm} KiB, ru_maxrss {max} KiB");
        assert_eq!(peak_rss().map(|p| p.source), Some("VmHWM"));
    }
}
