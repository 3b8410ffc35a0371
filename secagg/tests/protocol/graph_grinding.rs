//! The graph nobody can steer (issue 14 item 3, docs/threat-model.md): positions from
//! the clients' registered keys and a seed fixed in the session id. What remains is
//! grinding the seed: each seed is an independent draw of the graph, so an adversary who
//! tries W seeds wins with probability at most W times the per-seed probability. The
//! grinding experiment (`#[ignore]`d, it prints the figures of the threat model):
//!
//! ```text
//! cargo test --release -p secagg --test protocol graph_grinding -- --ignored --nocapture
//! ```
//!
//! n = 1000, 50 fixed corrupt clients, k and t from the finder (semi-honest k = 30,
//! t = 17: a target with at least t corrupt neighbors is exposed; malicious k = 52,
//! t = 37: at least 2t - k = 22). For W seeds it counts the corrupt neighbors of one
//! fixed target and the largest count over all honest targets, and compares them with
//! the exact hypergeometric law (computed here from exact binomials, independently of
//! the finder's code).

use secagg::protocol::config::Config;
use secagg::protocol::graph::{keyed_labels, Graph, GraphSpec};
use secagg::protocol::params::{find_params, ParamQuery, ThreatModel};
use secagg::ring::Ring;
use secagg::sim;
use secagg::ClientId;

/// `log2 P(X >= t)` for `X ~ Hypergeometric(total, marked, draws)`, exactly (big
/// binomials as f64 ratios of products, fine at these sizes).
fn log2_tail(total: u64, marked: u64, draws: u64, t: u64) -> f64 {
    // ln C(a, b) by summing logs: exact enough (relative error ~1e-13).
    let ln_choose = |a: u64, b: u64| -> f64 {
        if b > a {
            return f64::NEG_INFINITY;
        }
        (0..b)
            .map(|i| ((a - i) as f64).ln() - ((i + 1) as f64).ln())
            .sum()
    };
    let denom = ln_choose(total, draws);
    let mut acc = f64::NEG_INFINITY;
    for c in t..=draws.min(marked) {
        let x = ln_choose(marked, c) + ln_choose(total - marked, draws - c) - denom;
        let (hi, lo) = if acc > x { (acc, x) } else { (x, acc) };
        acc = if lo == f64::NEG_INFINITY {
            hi
        } else {
            hi + (lo - hi).exp().ln_1p()
        };
    }
    acc / std::f64::consts::LN_2
}

struct Setting {
    name: &'static str,
    threat: ThreatModel,
}

/// The corrupt-neighbor count of `target` and the largest over honest targets, for the
/// keyed graph of `seed`.
fn counts(
    n: usize,
    k: usize,
    seed: [u8; 32],
    keys: &[ed25519_dalek::VerifyingKey],
    corrupt: &[bool],
    target: ClientId,
) -> (usize, usize) {
    let g = Graph::with_keys(n, &GraphSpec::Harary { degree: k, seed }, keys).unwrap();
    let c = |u: ClientId| {
        g.neighbors(u)
            .iter()
            .filter(|&&v| corrupt[v as usize])
            .count()
    };
    let max = (0..n as ClientId)
        .filter(|&u| !corrupt[u as usize])
        .map(c)
        .max()
        .unwrap();
    (c(target), max)
}

#[test]
fn keyed_positions_follow_the_keys_and_the_seed() {
    let n = 50;
    let keys: Vec<_> = sim::signing_keys(n, [1; 32])
        .iter()
        .map(|k| k.verifying_key())
        .collect();
    let a = keyed_labels(n, 6, &[7; 32], &keys).unwrap();
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..n as ClientId).collect::<Vec<_>>(),
        "a permutation"
    );
    assert_ne!(
        a,
        keyed_labels(n, 6, &[8; 32], &keys).unwrap(),
        "another seed"
    );
    // Swapping two clients' keys swaps their positions, nothing else.
    let mut swapped = keys.clone();
    swapped.swap(3, 9);
    let b = keyed_labels(n, 6, &[7; 32], &swapped).unwrap();
    let pos = |l: &[ClientId], u: ClientId| l.iter().position(|&x| x == u).unwrap();
    assert_eq!(pos(&a, 3), pos(&b, 9));
    assert_eq!(pos(&a, 9), pos(&b, 3));
    for u in (0..n as ClientId).filter(|&u| u != 3 && u != 9) {
        assert_eq!(pos(&a, u), pos(&b, u));
    }
    // The malicious configuration builds exactly this graph; the semi-honest one the
    // seed's shuffle.
    let spec = GraphSpec::Harary {
        degree: 6,
        seed: [7; 32],
    };
    let build = |malicious: bool| {
        let b = Config::builder(n, 4)
            .graph(spec.clone())
            .vector("", 4, Ring::pow2(8).unwrap());
        let b = if malicious {
            b.malicious(keys.clone())
        } else {
            b
        };
        b.build().unwrap().graph().clone()
    };
    assert_eq!(build(true), Graph::with_keys(n, &spec, &keys).unwrap());
    assert_eq!(build(false), Graph::new(n, &spec).unwrap());
    assert_ne!(build(true), build(false));
    assert!(Graph::with_keys(n, &spec, &keys[1..]).is_err());
}

#[test]
fn keyed_positions_known_answer() {
    // docs/protocol.md, "Positions from keys": computed with Python's hashlib and
    // pyca/cryptography's Ed25519 from the document alone.
    let keys: Vec<_> = (0..8u8)
        .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]).verifying_key())
        .collect();
    assert_eq!(
        keyed_labels(8, 4, &[0x11; 32], &keys).unwrap(),
        vec![1, 6, 7, 5, 2, 3, 0, 4]
    );
}

#[test]
#[ignore = "prints the grinding figures of docs/threat-model.md (a few seconds per 1000 seeds)"]
fn graph_grinding() {
    let seeds: u64 = std::env::var("SECAGG_GRIND_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let n = 1000usize;
    let keys: Vec<_> = sim::signing_keys(n, [3; 32])
        .iter()
        .map(|k| k.verifying_key())
        .collect();
    // 50 fixed corrupt clients: every 20th id (their keys are as random as anyone's).
    let corrupt: Vec<bool> = (0..n).map(|i| i % 20 == 7).collect();
    let honest = corrupt.iter().filter(|&&c| !c).count();
    let target: ClientId = 0;
    for s in [
        Setting {
            name: "semi-honest",
            threat: ThreatModel::SemiHonest,
        },
        Setting {
            name: "malicious",
            threat: ThreatModel::Malicious,
        },
    ] {
        // The graph without a margin (what grinding is measured against); the finder's
        // default margin (64 bits, malicious) is in the table printed below.
        let p = find_params(&ParamQuery::new(n, 0.05, 0.05, s.threat).with_grinding(0.0)).unwrap();
        let (k, t) = (p.degree, p.threshold);
        let bad = match s.threat {
            ThreatModel::SemiHonest => t,
            ThreatModel::Malicious => 2 * t - k,
        };
        let mut hist_target = vec![0u64; k + 1];
        let mut hist_max = vec![0u64; k + 1];
        for i in 0..seeds {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&i.to_le_bytes());
            let (c, m) = counts(n, k, seed, &keys, &corrupt, target);
            hist_target[c] += 1;
            hist_max[m] += 1;
        }
        println!("== {}: n = {n}, 50 corrupt, k = {k}, t = {t}, exposed at >= {bad} corrupt neighbors, {seeds} seeds", s.name);
        println!(" c | target: seeds  P(X>=c) seen  log2 P(X>=c) exact | max over honest: seeds  seen  log2 union bound");
        let mut ge_t = seeds;
        let mut ge_m = seeds;
        for c in 0..=k {
            if ge_t == 0 && ge_m == 0 {
                break;
            }
            let exact = log2_tail((n - 1) as u64, 50, k as u64, c as u64);
            let union = (exact + (honest as f64).log2()).min(0.0);
            println!(
                "{c:>2} | {:>6}  {:>9.2e}  {:>8.2} | {:>6}  {:>9.2e}  {:>8.2}",
                hist_target[c],
                ge_t as f64 / seeds as f64,
                exact,
                hist_max[c],
                ge_m as f64 / seeds as f64,
                union
            );
            ge_t -= hist_target[c];
            ge_m -= hist_max[c];
        }
        let exact = log2_tail((n - 1) as u64, 50, k as u64, bad as u64);
        let union = exact + (honest as f64).log2();
        println!(
            "one fixed target exposed: 2^{exact:.2} per seed (work 2^{:.2} seeds); some honest target: <= 2^{union:.2} per seed (work >= 2^{:.2} seeds)",
            -exact, -union
        );
        // The seen frequencies must follow the exact law: the mean count of the fixed
        // target is k * 50 / 999 with variance below k * (50/999); 6 standard errors
        // (false failure < 2e-9 by Chebyshev-free normal tail over >= 1000 seeds).
        let mean = hist_target
            .iter()
            .enumerate()
            .map(|(c, &h)| c as f64 * h as f64)
            .sum::<f64>()
            / seeds as f64;
        let want = k as f64 * 50.0 / 999.0;
        let se = (want / seeds as f64).sqrt();
        assert!((mean - want).abs() < 6.0 * se, "mean {mean} vs {want}");
        // What the finder asks for once it is told of a grinding budget.
        for bits in [0.0, 20.0, 40.0, ParamQuery::MALICIOUS_GRINDING_BITS] {
            let q = ParamQuery::new(n, 0.05, 0.05, s.threat).with_grinding(bits);
            let g = find_params(&q).unwrap();
            let bad_g = match s.threat {
                ThreatModel::SemiHonest => g.threshold,
                ThreatModel::Malicious => 2 * g.threshold - g.degree,
            };
            let e = log2_tail((n - 1) as u64, 50, g.degree as u64, bad_g as u64)
                + (honest as f64).log2();
            println!(
                "grinding 2^{bits:<2}: finder k = {}, t = {}, log2_security {:.1}; 50 fixed corrupt: some target exposed <= 2^{e:.1} per seed, work >= 2^{:.1}",
                g.degree, g.threshold, g.log2_security, -e
            );
        }
    }
}
