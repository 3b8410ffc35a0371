//! `secagg simulate` since the streaming simulator: the same JSON as the simulator
//! that held every client's input, state and message at once (recorded from commit
//! 8eea39f's binary in `simulate_recorded.jsonl`, timings and thread count left out),
//! and a peak resident memory that is reported and does not grow with n x d.

use std::process::Command;

use serde_json::Value;

fn simulate(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_secagg"))
        .args(["simulate", "--json", "--quiet"])
        .args(args)
        .env("FLWR_TELEMETRY_ENABLED", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "secagg simulate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Fields that did not exist in the recorded binary, or that are timings.
fn observable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| {
            !k.ends_with("_ms")
                && !matches!(
                    k.as_str(),
                    "threads" | "peak_rss_kib" | "peak_rss_source" | "unmasking"
                )
        });
    }
    v
}

#[test]
fn simulate_json_matches_the_recorded_simulator() {
    let recorded = include_str!("simulate_recorded.jsonl");
    let mut cases = 0;
    for line in recorded.lines().filter(|l| !l.trim().is_empty()) {
        let rec: Value = serde_json::from_str(line).unwrap();
        let args: Vec<&str> = rec["args"].as_str().unwrap().split_whitespace().collect();
        let got = observable(simulate(&args));
        assert_eq!(got, rec["out"], "secagg simulate {args:?}");
        cases += 1;
    }
    assert_eq!(cases, 5);
}

/// The peak RSS field is there (on Linux, from `VmHWM`), plausible, and grows by far
/// less than the n x d words a simulator holding every input would add: going from
/// 100 to 400 clients at d = 20,000 (16-bit quantization, a 25-bit ring: 4-byte words)
/// adds 300 x 20,000 x 4 = 24 MB of inputs alone (twice that with the clients' copies
/// and their masked messages); the streaming simulator adds the clients' small states
/// and the server's O(n k) keys and ciphertexts. The bound (8 MiB) leaves room for
/// allocator noise; the recorded simulator grew by about 49 MB here.
#[test]
fn simulate_peak_rss_is_reported_and_does_not_grow_with_n_times_d() {
    let rss = |n: &str| {
        let v = simulate(&[
            "--clients",
            n,
            "--dim",
            "20000",
            "--dropout",
            "0.05",
            "--parallel-clients",
        ]);
        assert_eq!(v["ok"], true);
        if cfg!(target_os = "linux") {
            assert_eq!(v["peak_rss_source"], "VmHWM");
        }
        let kib = v["peak_rss_kib"].as_u64().unwrap();
        // More than the binary and its thread stacks' touched pages, less than 1 GiB.
        assert!((1024..1 << 20).contains(&kib), "{kib} KiB");
        kib
    };
    let (small, large) = (rss("100"), rss("400"));
    assert!(
        large < small + 8 * 1024,
        "peak RSS {small} KiB at n = 100, {large} KiB at n = 400"
    );
}
