//! The `secagg` binary, run as a user would.

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
    // Reference values of Google's fcp HararyGraphParameterFinder (issue 4).
    for (n, rate, threat, k, t) in [
        ("1000", "0.05", "semi-honest", 30, 17),
        ("1000", "0.1", "semi-honest", 48, 27),
        ("1000", "0.05", "malicious", 52, 37),
    ] {
        let args = [
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
        let v = json(&args);
        assert_eq!(v["neighbors"], k, "{args:?}: {v}");
        assert_eq!(v["threshold"], t, "{args:?}: {v}");
        assert_eq!(v["graph"], "sparse");
        assert_eq!(v["security_met"], true);
        assert_eq!(v["correctness_met"], true);
        assert!(v["log2_security"].as_f64().unwrap() <= -40.0);
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
