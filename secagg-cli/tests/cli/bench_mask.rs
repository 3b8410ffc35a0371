//! `secagg bench mask` prints one JSON object with the documented fields.

use std::process::Command;

#[test]
fn bench_mask_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_secagg"))
        .args([
            "bench",
            "mask",
            "--dim",
            "5000",
            "--seeds",
            "2",
            "--threads",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dim"], 5000);
    assert_eq!(v["seeds"], 2);
    assert_eq!(v["threads"], 1);
    assert_eq!(v["word_bits"], 32);
    assert_eq!(v["backend"], secagg::crypto::prg::backend_name());
    for k in ["gbps", "words_per_sec", "vaes_keystream_gbps", "ratio"] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}");
    }
}

#[test]
fn bench_mask_rejects_bad_input() {
    for args in [
        &["bench", "mask", "--bits", "0"][..],
        &["bench", "mask", "--backend", "nope"][..],
        &["bench", "mask", "--dim", "x"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_secagg"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
    }
}
