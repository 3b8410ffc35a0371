//! The commands that need no network, run as a user would: `params`, `simulate`, the
//! default run and `bench variants`.

use std::process::{Command, Output};

use serde_json::Value;

fn secagg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secagg"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that must succeed and print one JSON object.
fn json(args: &[&str]) -> Value {
    let out = secagg(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "secagg {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn params_matches_fcp_reference_values() {
    // Reference values of Google's fcp HararyGraphParameterFinder (issue 4), which has
    // no grinding margin; then the malicious default, which plans for a server that
    // tried 2^64 graph seeds (docs/threat-model.md, "The graph nobody can steer").
    for (n, rate, threat, grinding, k, t) in [
        ("1000", "0.05", "semi-honest", None, 30, 17),
        ("1000", "0.1", "semi-honest", None, 48, 27),
        ("1000", "0.05", "malicious", Some("0"), 52, 37),
        ("1000", "0.05", "malicious", None, 74, 56),
        ("1000", "0.05", "semi-honest", Some("64"), 46, 32),
    ] {
        let mut args = vec![
            "params",
            "--clients",
            n,
            "--dropout",
            rate,
            "--corrupt",
            rate,
            "--threat",
            threat,
            "--json",
        ];
        if let Some(g) = grinding {
            args.extend(["--grinding-bits", g]);
        }
        let v = json(&args);
        assert_eq!(v["neighbors"], k, "{args:?}: {v}");
        assert_eq!(v["threshold"], t, "{args:?}: {v}");
        assert_eq!(v["graph"], "sparse");
        assert_eq!(v["security_met"], true);
        assert_eq!(v["correctness_met"], true);
        let margin = match (threat, grinding) {
            (_, Some(g)) => g.parse::<f64>().unwrap(),
            ("malicious", None) => 64.0,
            _ => 0.0,
        };
        assert_eq!(v["grinding_bits"], margin, "{args:?}: {v}");
        let one_seed = v["log2_security"].as_f64().unwrap();
        assert!(one_seed <= -40.0 - margin, "{args:?}: {v}");
        let ground = v["log2_security_after_grinding"].as_f64().unwrap();
        assert!((ground - (one_seed + margin)).abs() < 1e-9, "{v}");
        assert!(v["log2_failure"].as_f64().unwrap() <= -20.0);
    }
}

#[test]
fn params_checks_a_given_degree_and_refuses_a_bad_one() {
    let v = json(&[
        "params",
        "--clients",
        "1000",
        "--dropout",
        "0.05",
        "--corrupt",
        "0.05",
        "--neighbors",
        "40",
        "--threshold",
        "20",
        "--json",
    ]);
    assert_eq!(v["source"], "checked");
    assert_eq!(v["neighbors"], 40);
    assert_eq!(v["threshold"], 20);

    // t = 2 with 50 corrupt clients and k = 40: privacy target missed.
    let out = secagg(&[
        "params",
        "--clients",
        "1000",
        "--neighbors",
        "40",
        "--threshold",
        "2",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshold"));
}

/// Keys every `simulate --json` object has, whatever the outcome.
const SESSION_KEYS: [&str; 9] = [
    "ok",
    "clients",
    "dim",
    "included",
    "neighbors",
    "threshold",
    "threat",
    "wall_ms",
    "dropped",
];

/// Keys a completed session adds.
const COMPLETED_KEYS: [&str; 6] = [
    "bytes",
    "max_abs_error",
    "error_bound",
    "exact_match",
    "client_ms",
    "server_ms",
];

fn simulate(extra: &[&str]) -> Value {
    let mut args = vec!["simulate", "--json", "--quiet"];
    args.extend_from_slice(extra);
    json(&args)
}

fn rounds(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn simulate_json_small_session_verifies() {
    for (graph, threat, drop_at) in [
        ("sparse", "semi-honest", "random"),
        ("complete", "semi-honest", "masked"),
        ("sparse", "malicious", "unmask"),
        ("complete", "malicious", "share"),
    ] {
        let v = simulate(&[
            "--clients",
            "24",
            "--dim",
            "500",
            "--dropout",
            "0.125",
            "--graph",
            graph,
            "--threat",
            threat,
            "--drop-at",
            drop_at,
            "--seed",
            "7",
        ]);
        for k in SESSION_KEYS.iter().chain(&COMPLETED_KEYS) {
            assert!(v.get(k).is_some(), "{graph}/{threat}: missing {k} in {v}");
        }
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["exact_match"], true);
        assert_eq!(v["clients"], 24);
        assert_eq!(v["dim"], 500);
        assert_eq!(v["graph"], graph);
        assert_eq!(v["threat"], threat);
        // 3 of 24 clients drop; those silent only after sending their input
        // (--drop-at unmask) are still in the sum.
        let included = v["included"].as_u64().unwrap();
        let want = if drop_at == "unmask" { 24 } else { 21 };
        assert_eq!(included, want, "{v}");
        let dropped: u64 = v["dropped"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(dropped, 3);
        let err = v["max_abs_error"].as_f64().unwrap();
        assert!(err <= v["error_bound"].as_f64().unwrap());
        let n = v["neighbors"].as_u64().unwrap();
        if graph == "complete" {
            assert_eq!(n, 23);
        } else {
            assert!(n < 23);
        }
        let want_rounds: &[&str] = if threat == "malicious" {
            &[
                "advertise_keys",
                "share_keys",
                "masked_input",
                "consistency_check",
                "unmasking",
                "total",
            ]
        } else {
            &[
                "advertise_keys",
                "share_keys",
                "masked_input",
                "unmasking",
                "total",
            ]
        };
        // Rounds the server never opens (everyone dropped before) are absent.
        for key in ["client_ms", "server_ms"] {
            let got = rounds(&v[key]);
            assert!(
                got.iter().all(|k| want_rounds.contains(&k.as_str())),
                "{got:?}"
            );
            assert!(got.contains(&"total".to_string()));
            let total = v[key]["total"].as_f64().unwrap();
            let parts: f64 = v[key]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "total")
                .map(|(_, x)| x.as_f64().unwrap())
                .sum();
            assert!((total - parts).abs() <= 1e-6 * total.max(1.0), "{key}: {v}");
        }
    }
}

#[test]
fn simulate_bytes_match_the_wire_format_formulas() {
    // docs/wire-format.md, "Sizes": per client and session without drop-outs, k
    // neighbors, P = ceil(d b / 8) bytes of masked input, N = ceil(n / 8):
    //   semi-honest: sends 88 + 143 k + P, receives 86 + 174 k + N;
    //   malicious:   sends 218 + 143 k + P, receives 156 + 306 k + 2 N.
    let (n, d, b) = (24u64, 500u64, 32u64);
    let p = (d * b).div_ceil(8);
    let big_n = n.div_ceil(8);
    for (graph, threat) in [
        ("complete", "semi-honest"),
        ("sparse", "semi-honest"),
        ("complete", "malicious"),
        ("sparse", "malicious"),
    ] {
        let v = simulate(&[
            "--clients",
            "24",
            "--dim",
            "500",
            "--ring-bits",
            "32",
            "--dropout",
            "0",
            "--graph",
            graph,
            "--threat",
            threat,
        ]);
        assert_eq!(v["ok"], true, "{v}");
        let k = v["neighbors"].as_u64().unwrap();
        let (sent, received) = match threat {
            "semi-honest" => (88 + 143 * k + p, 86 + 174 * k + big_n),
            _ => (218 + 143 * k + p, 156 + 306 * k + 2 * big_n),
        };
        let bytes = &v["bytes"];
        let total = |side: &str| bytes[side]["total"].as_f64().unwrap();
        assert_eq!(
            total("client_sent"),
            sent as f64,
            "{graph}/{threat}: {bytes}"
        );
        assert_eq!(
            total("client_received"),
            received as f64,
            "{graph}/{threat}"
        );
        assert_eq!(total("server_received"), (n * sent) as f64);
        assert_eq!(total("server_sent"), (n * received) as f64);
        assert_eq!(bytes["client_sent"]["masked_input"], (6 + p) as f64);
    }
}

#[test]
fn simulate_reports_an_abort_with_a_failure_status() {
    // Half of 10 clients never send a masked input; t = 8 of 9 neighbors cannot be met.
    let out = secagg(&[
        "simulate",
        "--json",
        "--quiet",
        "--clients",
        "10",
        "--dim",
        "50",
        "--graph",
        "complete",
        "--threshold",
        "8",
        "--dropout",
        "0.5",
        "--drop-at",
        "share",
    ]);
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["error"].is_string(), "{v}");
    for k in SESSION_KEYS {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
}

#[test]
fn default_run_prints_the_table_and_the_verdict() {
    let out = secagg(&["--clients", "12", "--dim", "300", "--quiet"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for word in [
        "AdvertiseKeys",
        "ShareKeys",
        "MaskedInputCollection",
        "Unmasking",
    ] {
        assert!(text.contains(word), "{text}");
    }
    assert!(
        text.contains("sum verified against the plaintext sum of 11 included clients")
            || text.contains("sum verified against the plaintext sum of 12 included clients"),
        "{text}"
    );
}

#[test]
fn bench_variants_quick_writes_csv_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let out = secagg(&["bench", "variants", "--quick", "--quiet", "--out", out_dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("sparse/malicious"), "{text}");

    let csv = std::fs::read_to_string(dir.path().join("variants.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in [
        "axis",
        "variant",
        "clients",
        "dim",
        "dropout",
        "client_ms",
        "server_ms",
        "ok",
    ] {
        assert!(header.contains(&col), "{header:?}");
    }
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 4 variants x (2 n + 2 d + 2 rates).
    assert_eq!(rows.len(), 24);
    for r in &rows {
        assert_eq!(r.len(), header.len());
        assert_eq!(r[col("ok")], "true", "{r:?}");
        assert!(r[col("client_ms")].parse::<f64>().unwrap() > 0.0);
        assert!(r[col("server_ms")].parse::<f64>().unwrap() > 0.0);
        let client_bytes: u64 = r[col("client_bytes")].parse().unwrap();
        let server_bytes: u64 = r[col("server_bytes")].parse().unwrap();
        assert!(client_bytes > 0 && server_bytes > client_bytes, "{r:?}");
    }

    for axis in ["clients", "dim", "dropout"] {
        let svg = std::fs::read_to_string(dir.path().join(format!("variants-{axis}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{axis}");
        assert!(svg.trim_end().ends_with("</svg>"), "{axis}");
        // Well-formed enough: every element opened is closed or self-closing.
        let opens = svg.matches('<').count();
        let closes = svg.matches('>').count();
        assert_eq!(opens, closes, "{axis}");
        for tag in ["text", "svg"] {
            let open = svg.matches(&format!("<{tag}")).count();
            let close = svg.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "{axis}: <{tag}>");
        }
        for variant in [
            "complete/semi-honest",
            "complete/malicious",
            "sparse/semi-honest",
            "sparse/malicious",
        ] {
            assert!(svg.contains(variant), "{axis}: {variant}");
        }
        // Three panels with one line per variant (the first variant's colour here),
        // and one shared legend entry per variant.
        let marks = |width: u32| {
            svg.matches(&format!(
                "<polyline fill=\"none\" opacity=\"1\" stroke=\"#0072B2\" stroke-width=\"{width}\""
            ))
            .count()
        };
        assert_eq!(marks(2), 3, "{axis}: one line per panel");
        assert_eq!(marks(3), 1, "{axis}: one legend entry");
    }
}

/// `secagg simulate` builds its session through `secagg::session`: the parameters of
/// tcId 1 ("complete") of secagg/tests/vectors/session.json, generated independently
/// from docs/float-encoding.md and docs/protocol.md, give its session id.
#[test]
fn simulate_session_id_is_the_known_answer() {
    let vectors: Value =
        serde_json::from_str(include_str!("../../../secagg/tests/vectors/session.json")).unwrap();
    let case = &vectors["tests"][0];
    assert_eq!(case["name"], "complete");
    assert_eq!(case["caller_context"], hex_of(b"model v3, round 17"));
    let v = simulate(&[
        "--clients",
        "5",
        "--dim",
        "10",
        "--graph",
        "complete",
        "--threshold",
        "3",
        "--bits",
        "16",
        "--clip",
        "1",
        "--context",
        "model v3, round 17",
        "--dropout",
        "0",
    ]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["ring_bits"], case["ring_bits"]);
    assert_eq!(v["session_id"], case["session_id"], "{v}");
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
