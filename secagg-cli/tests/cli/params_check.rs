//! `secagg serve` and `secagg client` refuse a (degree, threshold) pair that
//! `check_params` rejects, with its reason, unless `--allow-insecure-params`; with the
//! flag the session runs (and completes). The reason is checked against the library's
//! own `check_params` on the float session's query (n, drop-out 0.1, corrupt 0.1,
//! semi-honest).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use secagg::protocol::params::{check_params, ParamQuery, ThreatModel};

const EXE: &str = env!("CARGO_BIN_EXE_secagg");

/// What `check_params` says about `(degree, threshold)` for `n` clients, on the query
/// the networked session uses.
fn reason(n: usize, degree: usize, threshold: usize) -> String {
    let q = ParamQuery::new(n, 0.1, 0.1, ThreatModel::SemiHonest);
    check_params(&q, degree, threshold)
        .err()
        .unwrap_or_else(|| panic!("check_params accepts n {n}, degree {degree}, t {threshold}"))
        .to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn refused(out: &Output, cmd: &str, reason: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with(&format!("secagg {cmd}: error: ")), "{err}");
    assert!(err.contains(reason), "{err} lacks {reason}");
    assert!(err.contains("--allow-insecure-params"), "{err}");
}

#[test]
fn serve_and_client_refuse_pairs_check_params_rejects() {
    // The pair: degree 4, t = 3 (at n = 100 the graph may disconnect).
    let why = reason(100, 4, 3);
    assert!(why.contains("degree 4 is too low"), "{why}");
    let flags = [
        "--clients",
        "100",
        "--dim",
        "4",
        "--degree",
        "4",
        "--threshold",
        "3",
        "--demo-keys",
    ];
    let serve = [&["serve", "--plain", "--listen", "127.0.0.1:0"][..], &flags].concat();
    refused(&run(&serve), "serve", &why);
    // Refused before connecting: no server is listening on port 9.
    let client = [
        &[
            "client",
            "--plain",
            "--server",
            "127.0.0.1:9",
            "--id",
            "0",
            "--demo-input",
        ][..],
        &flags,
    ]
    .concat();
    refused(&run(&client), "client", &why);
    // The default threshold (floor(2k/3) + 1 = 3 for k = 4) is refused the same way.
    let default_t = [
        "serve",
        "--plain",
        "--listen",
        "127.0.0.1:0",
        "--clients",
        "100",
        "--demo-keys",
    ];
    refused(
        &run(&[&default_t[..], &["--dim", "4", "--degree", "4"]].concat()),
        "serve",
        &why,
    );
    // The malicious model's split-view rule (2t <= k) is structural: the session
    // itself refuses it, flag or not.
    let why = {
        let q = ParamQuery::new(10, 0.1, 0.1, ThreatModel::Malicious);
        check_params(&q, 6, 3).unwrap_err().to_string()
    };
    let mal = [
        "serve",
        "--plain",
        "--listen",
        "127.0.0.1:0",
        "--clients",
        "10",
        "--dim",
        "4",
        "--degree",
        "6",
        "--threshold",
        "3",
        "--malicious",
        "--demo-keys",
    ];
    for extra in [&[][..], &["--allow-insecure-params"][..]] {
        let out = run(&[&mal[..], extra].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&why), "{err} lacks {why}");
    }
}

/// With `--allow-insecure-params`, the refused pair runs: a warning names the reason and
/// a full session (20 client processes, degree 4, t = 3, which `check_params` rejects
/// at n = 20) completes with every input in the demo-checked sum.
#[test]
fn allow_insecure_params_runs_the_session() {
    let n = 20usize;
    let why = reason(n, 4, 3);
    let flags = [
        "--clients",
        "20",
        "--dim",
        "8",
        "--degree",
        "4",
        "--threshold",
        "3",
        "--plain",
        "--seed",
        "insecure-ok",
        "--allow-insecure-params",
        "--demo-keys",
    ];
    let mut server = Command::new(EXE)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo-check",
            "--join-ms",
            "20000",
        ])
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(server.stderr.take().unwrap());
    let (mut warning, mut demo, mut listening) = (String::new(), String::new(), String::new());
    err.read_line(&mut warning).unwrap();
    err.read_line(&mut demo).unwrap();
    assert!(demo.contains("--demo-keys"), "{demo}");
    err.read_line(&mut listening).unwrap();
    assert!(warning.starts_with("secagg serve: warning: "), "{warning}");
    assert!(warning.contains(&why), "{warning}");
    let addr = listening
        .trim()
        .strip_prefix("secagg serve: listening on ")
        .unwrap_or_else(|| panic!("{listening}"))
        .to_string();
    let clients: Vec<_> = (0..n)
        .map(|id| {
            Command::new(EXE)
                .args([
                    "client",
                    "--server",
                    &addr,
                    "--id",
                    &id.to_string(),
                    "--demo-input",
                ])
                .args(flags)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    for mut c in clients {
        let status = c.wait().unwrap();
        let mut e = String::new();
        c.stderr.take().unwrap().read_to_string(&mut e).unwrap();
        assert_eq!(status.code(), Some(0), "{e}");
        assert!(e.contains("secagg client: warning: "), "{e}");
    }
    let status = server.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(started.elapsed() < Duration::from_secs(60));
}
