//! `secagg simulate --dp-*` and `secagg bench dp`: the `dp` object of the JSON against
//! the library's resolved parameters and report, the measured error against the reported
//! noise, and the refusals.

use std::process::{Command, Output};

use secagg::dp::pipeline::DistributedDp;
use secagg::dp::Mechanism;
use secagg::session::FloatSession;
use serde_json::Value;

fn secagg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secagg"))
        .args(args)
        .env("FLWR_TELEMETRY_ENABLED", "0")
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = secagg(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "secagg {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

const BASE: [&str; 14] = [
    "simulate",
    "--clients",
    "20",
    "--dim",
    "300",
    "--graph",
    "complete",
    "--dropout",
    "0.1",
    "--corrupt",
    "0.05",
    "--clip",
    "2.0",
    "--json",
];

#[test]
fn simulate_reports_the_noise_it_adds() {
    for (mech, extra) in [("ddg", "1.5"), ("skellam", "1.5")] {
        let mut args = BASE.to_vec();
        args.extend([
            "--quiet",
            "--bits",
            "10",
            "--drop-at",
            "masked",
            "--dp-mechanism",
            mech,
        ]);
        args.extend(["--dp-noise-multiplier", extra]);
        let v = json(&args);
        assert_eq!(v["ok"], true, "{v}");
        let dp = &v["dp"];
        assert_eq!(dp["mechanism"], mech);
        // The library builds the same session (same session id) with the same numbers.
        let m = Mechanism::from_name(mech).unwrap();
        let s = FloatSession::builder(20)
            .dim(300)
            .rates(0.1, 0.05)
            .complete()
            .clip(2.0)
            .bits(10)
            .context(*b"secagg simulate")
            .dp(DistributedDp::noise_multiplier(1.5).mechanism(m))
            .build()
            .unwrap();
        let want_id: String = s.session_id().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(v["session_id"], want_id.as_str());
        let p = s.dp().unwrap();
        assert_eq!(v["ring_bits"], p.ring_bits);
        assert_eq!(dp["padded_dim"], 512);
        assert_eq!(dp["calibrated_survivors"], 18);
        assert_eq!(dp["colluding"], 1);
        let included = v["included"].as_u64().unwrap() as usize;
        assert_eq!(included, 18);
        let r = p.noise_report(included).unwrap();
        assert!((dp["noise_stddev"].as_f64().unwrap() - r.noise_stddev).abs() < 1e-9);
        assert!((dp["epsilon"].as_f64().unwrap() - r.epsilon).abs() < 1e-9);
        // 300 coordinates: the sample sd is within 6 standard errors (sd·√(1/(2·300)),
        // false failure below 2e-9) of the noise plus the rounding's most.
        let measured = dp["measured_error_stddev"].as_f64().unwrap();
        let hi = (r.noise_variance + r.rounding_variance_bound).sqrt();
        let se = hi / (2.0f64 * 300.0).sqrt();
        assert!(
            measured > r.noise_stddev - 6.0 * se && measured < hi + 6.0 * se,
            "{measured} vs {} .. {hi}",
            r.noise_stddev
        );
    }
}

#[test]
fn simulate_refuses_bad_dp_flags() {
    let run = |extra: &[&str]| {
        let mut args = BASE.to_vec();
        args.push("--quiet");
        args.extend(extra);
        secagg(&args)
    };
    let out = run(&["--dp-epsilon", "0", "--dp-delta", "1e-5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("epsilon"));
    let out = run(&[
        "--dp-epsilon",
        "1",
        "--dp-delta",
        "1e-5",
        "--ring-bits",
        "8",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bits needed"));
    // Both kinds of noise, or an epsilon without delta: a usage error.
    let out = run(&[
        "--dp-epsilon",
        "1",
        "--dp-delta",
        "1e-5",
        "--dp-noise-multiplier",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--dp-epsilon", "1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_dp_writes_its_table_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let v = json(&[
        "bench",
        "dp",
        "--clients",
        "10",
        "--dim",
        "16",
        "--ring-bits",
        "12",
        "--epsilons",
        "1,4",
        "--rounds",
        "1",
        "--mechanisms",
        "ddg",
        "--out",
        out,
        "--json",
    ]);
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for p in points {
        assert!(p["measured_rmse"].as_f64().unwrap() > 0.0);
        // The target is met and the noise shrinks with epsilon.
        assert!(p["epsilon"].as_f64().unwrap() <= p["target_epsilon"].as_f64().unwrap() + 1e-9);
    }
    assert!(points[0]["predicted_rmse"].as_f64() > points[1]["predicted_rmse"].as_f64());
    assert!(dir.path().join("dp.csv").exists());
    let svg = std::fs::read_to_string(dir.path().join("dp.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
}
