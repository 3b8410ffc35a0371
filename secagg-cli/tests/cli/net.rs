//! The `secagg serve` and `secagg client` commands as real processes over loopback
//! (127.0.0.1): clients killed with SIGKILL at every round, a client whose server is
//! killed, and file inputs with the printed float sum. Every wait is bounded; sums are
//! checked against the plaintext sum of exactly the included clients, computed here from
//! the demo inputs. The in-process sessions of the library are secagg-net's `net` tests.

use std::time::Duration;

use secagg::ClientId;
use secagg_net::session::{Session, SessionParams};

/// The sum of the included clients' demo words, computed without the protocol (as in
/// secagg-net's tests/net.rs).
fn expected_sum(session: &Session, included: &[ClientId]) -> Vec<u64> {
    let b = session.quantizer().config().ring_bits;
    let mask = if b == 64 { u64::MAX } else { (1u64 << b) - 1 };
    let mut sum = vec![0u64; session.params.dim];
    for &id in included {
        let w = session.demo_words(id).unwrap().vectors()[0].to_u64s();
        for (s, x) in sum.iter_mut().zip(&w) {
            *s = s.wrapping_add(*x) & mask;
        }
    }
    sum
}

/// Real `secagg serve` and `secagg client` processes; 10 of 50 clients are killed with
/// SIGKILL: before they connect, and right after sending their 1st, 2nd or 3rd message
/// (the server closes rounds only at their deadlines here, so each kill lands before
/// the next round opens). The sum must be the plaintext sum of exactly the clients that
/// sent their masked input.

#[test]
fn real_processes_killed_at_every_round() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let exe = env!("CARGO_BIN_EXE_secagg");
    let n = 50usize;
    let d = 1000usize;
    let dir = std::env::temp_dir().join(format!("secagg-net-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    let flags = ["--clients", "50", "--dim", "1000", "--seed", "kill-test"];
    let mut server = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--json", "--demo-check"])
        .args(flags)
        .args([
            "--join-ms",
            "8000",
            "--deadline-ms",
            "2000",
            "--no-early-close",
        ])
        .arg("--cert-out")
        .arg(&cert)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("secagg serve: listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();

    // Client id -> number of messages after which it is killed (0: before connecting).
    let kill_after = |id: usize| match id {
        3 | 17 => Some(0),
        8 | 21 => Some(1),
        12 | 30 => Some(2),
        25 | 33 | 41 | 47 => Some(3),
        _ => None,
    };
    let mut handles = Vec::new();
    for id in 0..n {
        let mut child = Command::new(exe)
            .args(["client", "--server", &addr, "--id", &id.to_string()])
            .args(flags)
            .args(["--demo-input", "--verbose", "--timeout-ms", "20000"])
            .arg("--ca")
            .arg(&cert)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        handles.push(std::thread::spawn(move || {
            let k = kill_after(id);
            if k == Some(0) {
                child.kill().unwrap();
            }
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                if k.is_some_and(|k| line.ends_with(&format!("sent message {k} (round {})", k - 1)))
                {
                    child.kill().unwrap();
                }
            }
            let out = child.wait_with_output().unwrap();
            (out.status, String::from_utf8_lossy(&out.stdout).to_string())
        }));
    }
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let out = server.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let want: Vec<ClientId> = (0..n)
        .filter(|&id| kill_after(id).is_none_or(|k| k >= 3))
        .map(|id| id as ClientId)
        .collect();
    let included: Vec<ClientId> = serde_json::from_value(v["included"].clone()).unwrap();
    assert_eq!(included, want);
    assert_eq!(v["ok"], serde_json::json!(true), "{v}");
    // The digest of the ring sum, recomputed here from the demo inputs.
    let s = Session::new(SessionParams {
        seed: "kill-test".into(),
        ..SessionParams::new(n, d)
    })
    .unwrap();
    let digest: String = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for w in expected_sum(&s, &want) {
            h.update(w.to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(v["sum_sha256"], serde_json::json!(digest));
    for (id, (status, stdout)) in results.iter().enumerate() {
        match kill_after(id) {
            Some(_) => assert!(!status.success(), "client {id} was killed"),
            None => {
                assert!(status.success(), "client {id}: {status} {stdout}");
                assert!(stdout.contains("included in the sum"), "{stdout}");
            }
        }
    }
}

/// A `secagg client` whose server is killed mid-session exits non-zero with a clear
/// message, quickly.

#[test]
fn client_process_exits_when_the_server_is_killed() {
    use std::process::{Command, Stdio};
    let exe = env!("CARGO_BIN_EXE_secagg");
    let flags = ["--clients", "3", "--dim", "10", "--plain"];
    let mut server = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--join-ms", "20000"])
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();
    // Client 0 joins and waits for the key list, which never comes: 2 of 3 are missing.
    let mut client = Command::new(exe)
        .args([
            "client",
            "--server",
            &addr,
            "--id",
            "0",
            "--demo-input",
            "--verbose",
        ])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(client.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.contains("sent message 1"), "{line}");
    server.kill().unwrap();
    server.wait().unwrap();
    let started = std::time::Instant::now();
    let status = client.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(2));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(rest.contains("connection closed by the peer"), "{rest}");
}

/// `secagg client --input` with a text file and a `.npy` file, and `serve --print-sum`:
/// the printed sum is the float sum of the inputs within the reported error bound.

#[test]
fn file_inputs_and_printed_sum() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let exe = env!("CARGO_BIN_EXE_secagg");
    let dir = std::env::temp_dir().join(format!("secagg-net-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = [0.5f64, -0.25, 0.125, 1.5]; // 1.5 is clipped to 1.0
    let b = [0.1f32, 0.2, -0.3, -0.4];
    let text = dir.join("a.txt");
    std::fs::write(&text, "# client 0\n0.5\n-0.25\n\n0.125\n1.5\n").unwrap();
    let npy = dir.join("b.npy");
    let mut header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for x in b {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&npy, bytes).unwrap();

    let flags = ["--clients", "2", "--dim", "4", "--plain", "--seed", "files"];
    let mut server = Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--json", "--print-sum"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();
    let clients: Vec<_> = [(0, &text), (1, &npy)]
        .into_iter()
        .map(|(id, path)| {
            Command::new(exe)
                .args(["client", "--server", &addr, "--id", &id.to_string()])
                .args(flags)
                .arg("--input")
                .arg(path)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in clients {
        assert!(c.wait().unwrap().success());
    }
    let out = server.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sum: Vec<f64> = serde_json::from_value(v["sum"].clone()).unwrap();
    // Two clients, stochastic rounding, 16 bits over [-1, 1]: at most 2 steps of 2/65535.
    let bound = 2.0 * 2.0 / 65535.0 + 1e-12;
    for j in 0..4 {
        let want = a[j].clamp(-1.0, 1.0) + f64::from(b[j]);
        assert!((sum[j] - want).abs() <= bound, "{j}: {} vs {want}", sum[j]);
    }
}
