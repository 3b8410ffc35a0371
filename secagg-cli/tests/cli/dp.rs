//! `secagg dp`: both directions of the trade agree with the library's accountant, and
//! bad input is refused with the typed error's message.

use std::process::{Command, Output, Stdio};

use secagg::dp::accountant::{Accountant, RoundMechanism};
use secagg::dp::Mechanism;

const EXE: &str = env!("CARGO_BIN_EXE_secagg");

fn run(args: &[&str]) -> Output {
    Command::new(EXE)
        .arg("dp")
        .args(args)
        .stdin(Stdio::null())
        .env("FLWR_TELEMETRY_ENABLED", "0")
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// The noise-multiplier direction: the printed epsilon is the accountant's for the
/// printed per-client variance and sensitivity; then the epsilon direction finds a
/// noise multiplier whose epsilon is the target (and not much more noise).
#[test]
fn both_directions_agree_with_the_accountant() {
    for mech in ["ddg", "skellam"] {
        let common = [
            "--clients",
            "100",
            "--dim",
            "1000",
            "--rounds",
            "100",
            "--sampling-rate",
            "0.01",
            "--delta",
            "1e-6",
            "--mechanism",
            mech,
            "--json",
        ];
        let mut args = common.to_vec();
        args.extend(["--noise-multiplier", "1.0"]);
        let v = json(&args);
        let mechanism: Mechanism = mech.parse().expect("name");
        let round = RoundMechanism::new(
            mechanism,
            100,
            num(&v, "local_variance"),
            num(&v, "l2_sensitivity"),
            1024,
        )
        .expect("valid");
        let eps = Accountant::new(round, 0.01)
            .and_then(|a| a.privacy_after(100, 1e-6))
            .expect("valid")
            .epsilon;
        assert!((num(&v, "epsilon") - eps).abs() < 1e-12, "{v}");
        assert!((num(&v, "noise_multiplier") - 1.0).abs() < 1e-6);
        assert!((num(&v, "noise_stddev") - 1.0).abs() < 1e-6);
        // MSE of the mean per coordinate: (noise + rounding) / n^2 per client summed.
        let g = num(&v, "gamma");
        let expect = (num(&v, "local_variance") * g * g + g * g / 4.0) / 100.0;
        assert!((num(&v, "mse_mean_per_coordinate") - expect).abs() < 1e-15);

        let mut args = common.to_vec();
        let target = format!("{eps}");
        args.extend(["--epsilon", &target]);
        let w = json(&args);
        assert!(num(&w, "epsilon") <= eps * (1.0 + 1e-12), "{w}");
        assert!((num(&w, "noise_multiplier") - 1.0).abs() < 1e-6, "{w}");
    }
}

#[test]
fn drop_outs_and_corrupt_clients_reduce_the_noise_that_counts() {
    let v = json(&[
        "--clients",
        "100",
        "--dim",
        "100",
        "--noise-multiplier",
        "1",
        "--dropout",
        "0.2",
        "--corrupt",
        "0.1",
        "--json",
    ]);
    assert_eq!(v["min_survivors"], 80);
    assert_eq!(v["colluding"], 10);
    assert_eq!(v["noisy_clients"], 70);
    // z is met by the 70 honest survivors: each adds z^2 (c/gamma)^2 / 70.
    let steps = 1.0 / num(&v, "gamma");
    assert!((num(&v, "local_variance") - steps * steps / 70.0).abs() / (steps * steps) < 1e-9);
}

#[test]
fn bad_input_is_refused() {
    for (args, msg) in [
        (vec!["--epsilon", "0", "--delta", "1e-5"], "invalid epsilon"),
        (vec!["--epsilon=-1"], "invalid epsilon"),
        (
            vec!["--noise-multiplier", "1", "--delta", "1"],
            "invalid delta",
        ),
        (
            vec!["--noise-multiplier", "1", "--delta", "0"],
            "invalid delta",
        ),
        (
            vec!["--noise-multiplier", "1", "--sampling-rate", "0"],
            "sampling rate",
        ),
        (vec!["--noise-multiplier", "1", "--rounds", "0"], "rounds"),
        (vec!["--noise-multiplier", "1", "--corrupt", "1"], "corrupt"),
        (
            vec![
                "--noise-multiplier",
                "1",
                "--dim",
                "1000",
                "--ring-bits",
                "8",
            ],
            "bits needed",
        ),
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    // The ring error names the bits needed: and that ring is accepted.
    let out = run(&[
        "--noise-multiplier",
        "1",
        "--dim",
        "1000",
        "--ring-bits",
        "8",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    let needed: String = err
        .split("DP noise: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .expect("bits needed")
        .to_string();
    let v = json(&[
        "--noise-multiplier",
        "1",
        "--dim",
        "1000",
        "--ring-bits",
        &needed,
        "--json",
    ]);
    assert_eq!(v["ring_bits"].to_string(), needed);
}
