//! `secagg params`: the parameter finder's choice of degree and threshold.

use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use secagg::protocol::params::{check_params, find_params, ParamQuery, Params, ThreatModel};

use crate::table::Table;

/// The threat model, as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Threat {
    /// Honest-but-curious server and clients.
    SemiHonest,
    /// Malicious server (may lie about drop-outs), with the consistency-check round.
    Malicious,
}

impl Threat {
    pub fn model(self) -> ThreatModel {
        match self {
            Threat::SemiHonest => ThreatModel::SemiHonest,
            Threat::Malicious => ThreatModel::Malicious,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Threat::SemiHonest => "semi-honest",
            Threat::Malicious => "malicious",
        }
    }
}

/// What the finder is asked, shared by `params`, `simulate` and `bench variants`.
#[derive(Args, Clone, Debug)]
pub struct SecurityArgs {
    /// Tolerated fraction of corrupt clients (colluding with the server), in [0, 1).
    #[arg(long, default_value_t = 0.1)]
    pub corrupt: f64,
    /// Statistical security parameter sigma: privacy fails with probability <= 2^-sigma.
    #[arg(long, default_value_t = ParamQuery::DEFAULT_SIGMA)]
    pub sigma: f64,
    /// Correctness parameter eta: the session aborts with probability <= 2^-eta.
    #[arg(long, default_value_t = ParamQuery::DEFAULT_ETA)]
    pub eta: f64,
    /// Grinding margin N (bits) added to sigma: plan for a server that tried 2^N graph
    /// seeds and kept the worst. Default: 64 in the malicious model (its server picks
    /// the seed), 0 semi-honest. 0 opts out.
    #[arg(long, value_name = "N")]
    pub grinding_bits: Option<f64>,
}

impl SecurityArgs {
    pub fn query(&self, n: usize, dropout: f64, threat: Threat) -> ParamQuery {
        let q = ParamQuery {
            sigma: self.sigma,
            eta: self.eta,
            ..ParamQuery::new(n, dropout, self.corrupt, threat.model())
        };
        match self.grinding_bits {
            Some(bits) => q.with_grinding(bits),
            None => q,
        }
    }
}

/// `secagg params`.
#[derive(Args, Clone, Debug)]
pub struct ParamsArgs {
    /// Number of clients n.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Expected fraction of clients that drop out, in [0, 1).
    #[arg(long, default_value_t = 0.1)]
    pub dropout: f64,
    #[command(flatten)]
    pub security: SecurityArgs,
    /// Threat model.
    #[arg(long, value_enum, default_value_t = Threat::SemiHonest)]
    pub threat: Threat,
    /// Check this degree k instead of searching (needs --threshold too).
    #[arg(long, requires = "threshold")]
    pub neighbors: Option<usize>,
    /// Check this threshold t instead of searching (needs --neighbors too).
    #[arg(long, requires = "neighbors")]
    pub threshold: Option<usize>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The finder's answer for `query`, or a check of the caller's `(k, t)`.
pub fn choose(q: &ParamQuery, k_t: Option<(usize, usize)>) -> secagg::Result<Params> {
    match k_t {
        Some((k, t)) => check_params(q, k, t),
        None => find_params(q),
    }
}

/// A log2 probability for JSON: `null` for an impossible event (`-inf`).
fn log2_value(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// The JSON object `secagg params --json` prints.
pub fn to_json(q: &ParamQuery, p: &Params, searched: bool) -> Value {
    json!({
        "clients": p.n,
        "dropout": q.dropout,
        "corrupt": q.corrupt,
        "threat": threat_name(q.threat),
        "sigma": q.sigma,
        "eta": q.eta,
        "grinding_bits": q.grinding_bits,
        "source": if searched { "finder" } else { "checked" },
        "graph": if p.complete { "complete" } else { "sparse" },
        "neighbors": p.degree,
        "threshold": p.threshold,
        "max_corrupt": p.max_corrupt,
        "max_dropped": p.max_dropped,
        "log2_disconnect": log2_value(p.log2_disconnect),
        "log2_corrupt": log2_value(p.log2_corrupt),
        "log2_security": log2_value(p.log2_security),
        "log2_security_after_grinding": log2_value(p.log2_security_after_grinding()),
        "log2_failure": log2_value(p.log2_failure),
        "security_met": p.log2_security_after_grinding() <= -q.sigma,
        "correctness_met": p.log2_failure <= -q.eta,
    })
}

pub fn threat_name(t: ThreatModel) -> &'static str {
    match t {
        ThreatModel::SemiHonest => "semi-honest",
        ThreatModel::Malicious => "malicious",
    }
}

fn log2_text(x: f64) -> String {
    if x.is_finite() {
        format!("2^{x:.1}")
    } else {
        "0 (impossible)".to_string()
    }
}

/// Runs `secagg params` and returns what to print.
pub fn run(a: &ParamsArgs) -> secagg::Result<String> {
    let q = a.security.query(a.clients, a.dropout, a.threat);
    let k_t = a.neighbors.zip(a.threshold);
    let p = choose(&q, k_t)?;
    if a.json {
        return Ok(to_json(&q, &p, k_t.is_none()).to_string());
    }
    let mut t = Table::new(["", "value"]);
    let graph = if p.complete {
        "complete (SecAgg)"
    } else {
        "Harary (SecAgg+)"
    };
    t.row(["graph", graph]);
    t.row(["neighbors k".to_string(), p.degree.to_string()]);
    t.row(["threshold t".to_string(), p.threshold.to_string()]);
    t.row([
        "corrupt clients assumed".to_string(),
        p.max_corrupt.to_string(),
    ]);
    t.row([
        "dropped clients assumed".to_string(),
        p.max_dropped.to_string(),
    ]);
    t.row(["P[graph disconnects]", &log2_text(p.log2_disconnect)]);
    t.row(["P[too many corrupt neighbors]", &log2_text(p.log2_corrupt)]);
    t.row([
        format!(
            "P[privacy fails], one seed (target 2^-{})",
            q.effective_sigma()
        ),
        log2_text(p.log2_security),
    ]);
    t.row([
        format!(
            "P[privacy fails], best of 2^{} seeds (target 2^-{})",
            q.grinding_bits, q.sigma
        ),
        log2_text(p.log2_security_after_grinding()),
    ]);
    t.row([
        format!("P[session aborts] (target 2^-{})", q.eta),
        log2_text(p.log2_failure),
    ]);
    Ok(format!(
        "n = {}, dropout {}, corrupt {}, {}\n{}",
        p.n,
        q.dropout,
        q.corrupt,
        a.threat.name(),
        t.to_text().trim_end()
    ))
}
