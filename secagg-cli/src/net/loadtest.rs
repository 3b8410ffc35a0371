//! `secagg loadtest`: one `secagg serve` process and `n` concurrent in-process clients
//! over loopback, to find how many clients one server handles within a deadline and
//! what memory it needs.
//!
//! The server runs as a child process (this executable's `serve` subcommand with
//! `--json --demo-check`), so its peak resident memory (`VmHWM`, in its JSON) is the
//! server's alone; the clients run as tokio tasks in this process. Each client gets a
//! fresh Ed25519 key, generated here; the server gets their roster (a temporary file).
//! With `--flood N`, N silent connections from 127.0.0.1 are opened first and held
//! open, and the clients connect from 127.0.0.2 upwards (Linux: all of 127/8 is
//! loopback), as in the flood test of `secagg-net`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use super::{fail, ms, peak_rss_kib, runtime, SessionArgs};
use secagg::ClientId;
use secagg_net::client::{run_client, ClientOptions};
use secagg_net::hello::Done;
use secagg_net::roster::Roster;
use secagg_net::tls::ClientTransport;
use secagg_net::{Error, Result, TransportError};

/// `secagg loadtest`: a server and `n` in-process clients over loopback.
#[derive(Args, Clone, Debug)]
pub struct LoadtestArgs {
    /// Session flags (use --degree for large n: the complete graph costs each client
    /// n-1 mask expansions).
    #[command(flatten)]
    pub session: SessionArgs,
    /// The server's deadline per round, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub deadline_ms: u64,
    /// The server's time for round 0 (all clients connect and advertise keys), in
    /// milliseconds (default: --deadline-ms).
    #[arg(long)]
    pub join_ms: Option<u64>,
    /// Plain TCP instead of TLS.
    #[arg(long)]
    pub plain: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Before the clients start, open this many connections from 127.0.0.1 that never
    /// send anything and keep them open; the clients then connect from 127.0.0.2 and
    /// upwards (Linux only), and the server keeps its per-address limit.
    #[arg(long, default_value_t = 0)]
    pub flood: usize,
}

/// The loopback address client `id` connects from under `--flood`: 127.0.0.2 to
/// 127.0.0.251, in turn.
fn client_address(id: usize) -> std::net::IpAddr {
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2 + (id % 250) as u8))
}

/// Runs `secagg loadtest`. Exit status 0 when every client was included and the demo
/// check passed, 1 otherwise, 2 on setup errors.
pub fn run_loadtest(args: LoadtestArgs) -> ExitCode {
    // The server and clients it starts would refuse the same pair: say so up front.
    if let Ok(session) = args.session.session() {
        match args.session.check_params(&session) {
            Ok(None) => {}
            Ok(Some(warning)) => eprintln!("secagg loadtest: warning: {warning}"),
            Err(refusal) => return fail("loadtest", &refusal),
        }
    }
    // A fresh key per client, and their roster for the server.
    let keys: Vec<SigningKey> = (0..args.session.clients)
        .map(|_| crate::keygen::generate())
        .collect();
    let roster = match Roster::new(keys.iter().map(SigningKey::verifying_key).collect()) {
        Ok(r) => r,
        Err(e) => return fail("loadtest", &e),
    };
    match loadtest_main(&args, keys, roster) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => fail("loadtest", &e),
    }
}

fn io(op: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| TransportError::Io { op, kind: e.kind() }.into()
}

fn session_flags(s: &SessionArgs) -> Vec<String> {
    let mut v = vec![
        "--clients".to_string(),
        s.clients.to_string(),
        "--dim".into(),
        s.dim.to_string(),
        "--quant-bits".into(),
        s.quant_bits.to_string(),
        "--clip".into(),
        s.clip.to_string(),
        "--seed".into(),
        s.seed.clone(),
    ];
    for (flag, value) in [
        ("--threshold", s.threshold),
        ("--degree", s.degree),
        ("--ring-bits", s.ring_bits.map(|b| b as usize)),
    ] {
        if let Some(x) = value {
            v.push(flag.into());
            v.push(x.to_string());
        }
    }
    if s.malicious {
        v.push("--malicious".into());
    }
    if s.allow_insecure_params {
        v.push("--allow-insecure-params".into());
    }
    v
}

fn loadtest_main(args: &LoadtestArgs, keys: Vec<SigningKey>, roster: Roster) -> Result<bool> {
    let n = args.session.clients;
    let session = args.session.session_with(Some(roster.clone()))?;
    let exe = std::env::current_exe().map_err(io("finding this executable"))?;
    let tmp = |ext: &str| {
        std::env::temp_dir().join(format!("secagg-loadtest-{}.{ext}", std::process::id()))
    };
    let cert: PathBuf = tmp("pem");
    let roster_file = tmp("roster");
    std::fs::write(&roster_file, roster.to_text()).map_err(io("writing the roster"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0", "--json", "--demo-check"])
        .arg("--roster")
        .arg(&roster_file)
        .args(session_flags(&args.session))
        .args(["--deadline-ms", &args.deadline_ms.to_string()])
        .args([
            "--join-ms",
            &args.join_ms.unwrap_or(args.deadline_ms).to_string(),
        ]);
    if args.flood == 0 {
        // Every client connects from 127.0.0.1: one address may hold every slot.
        cmd.args(["--max-handshakes-per-address", "256"]);
    }
    if args.plain {
        cmd.arg("--plain");
    } else {
        cmd.arg("--cert-out").arg(&cert);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io("starting the server"))?;
    // The server prints its address on stderr; a thread forwards the rest.
    let stderr = child
        .stderr
        .take()
        .ok_or(Error::Transport(TransportError::Io {
            op: "reading the server's stderr",
            kind: std::io::ErrorKind::BrokenPipe,
        }))?;
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr)
            .lines()
            .map_while(core::result::Result::ok)
        {
            if let Some(a) = line.strip_prefix("secagg serve: listening on ") {
                let _ = addr_tx.send(a.to_string());
            } else {
                eprintln!("{line}");
            }
        }
    });
    let Ok(addr) = addr_rx.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Error::Transport(TransportError::Timeout {
            what: "the server to listen",
        }));
    };
    let transport = if args.plain {
        ClientTransport::Plain
    } else {
        ClientTransport::tls_from_ca_file(&cert, "localhost")?
    };
    let read_timeout = Duration::from_millis(
        args.join_ms
            .unwrap_or(args.deadline_ms)
            .max(args.deadline_ms)
            .saturating_mul(2)
            .saturating_add(60_000),
    );
    // Inputs are prepared up front so that the load generator's own work does not
    // delay the clients' handshakes.
    let inputs: secagg::Result<Vec<_>> = {
        use rayon::prelude::*;
        (0..n)
            .into_par_iter()
            .map(|id| {
                let words = session.demo_words(id as ClientId)?;
                session.ring_input(&words)
            })
            .collect::<secagg::Result<Vec<_>>>()
    };
    let inputs = match inputs {
        Ok(i) => i,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.into());
        }
    };
    let rt = runtime()?;
    // The flood: silent connections from 127.0.0.1, held open until the end.
    let flood_start = Instant::now();
    let flooded: Vec<tokio::net::TcpStream> = rt.block_on(async {
        let mut kept = Vec::with_capacity(args.flood);
        for _ in 0..args.flood {
            let c = tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::TcpStream::connect(&addr),
            )
            .await;
            if let Ok(Ok(t)) = c {
                kept.push(t);
            }
        }
        kept
    });
    let flood_ms = ms(flood_start.elapsed());
    let started = Instant::now();
    let outcomes: Vec<Result<Option<Done>>> = rt.block_on(async {
        let tasks: Vec<_> = inputs
            .into_iter()
            .zip(keys)
            .enumerate()
            .map(|(id, (input, key))| {
                let addr = addr.clone();
                let opts = ClientOptions {
                    transport: transport.clone(),
                    read_timeout,
                    connect_timeout: Duration::from_secs(30),
                    local_addr: (args.flood > 0).then(|| client_address(id)),
                    ..ClientOptions::new(session.clone(), id as ClientId)
                };
                tokio::spawn(async move { Ok(run_client(&addr, &opts, input, &key).await?.done) })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.unwrap_or(Err(Error::Transport(TransportError::Io {
                op: "client task",
                kind: std::io::ErrorKind::Other,
            }))));
        }
        out
    });
    let clients_wall = started.elapsed();
    let output = child
        .wait_with_output()
        .map_err(io("waiting for the server"))?;
    let _ = std::fs::remove_file(&cert);
    let _ = std::fs::remove_file(&roster_file);
    let flood_opened = flooded.len();
    drop(flooded);
    let server: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let included = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Some(Done::Completed { included: true }))))
        .count();
    let failed: Vec<String> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.as_ref().err().map(|e| format!("client {i}: {e}")))
        .take(5)
        .collect();
    let ok = included == n && server["ok"] == json!(true);
    let v = json!({
        "clients": n,
        "dim": session.params.dim,
        "degree": session.config.graph().max_degree(),
        "threshold": session.config.threshold(),
        "tls": !args.plain,
        "deadline_ms": args.deadline_ms,
        "all_included": included == n,
        "included": included,
        "ok": ok,
        "clients_wall_ms": ms(clients_wall),
        "flood": args.flood,
        "flood_opened": flood_opened,
        "flood_ms": flood_ms,
        "client_errors": failed,
        "clients_process_peak_rss_kib": peak_rss_kib(),
        "server": server,
    });
    if args.json {
        println!("{v}");
    } else {
        let s = &v["server"];
        println!(
            "n = {n}, d = {}, degree {}, t = {}, {}: {included}/{n} clients included, \
             demo check {}, server total {} ms, server peak RSS {} KiB, clients process \
             peak RSS {} KiB{}",
            session.params.dim,
            v["degree"],
            v["threshold"],
            if args.plain { "plain TCP" } else { "TLS" },
            s["ok"],
            s["total_ms"],
            s["peak_rss_kib"],
            v["clients_process_peak_rss_kib"],
            if args.flood > 0 {
                format!(
                    "; flood of {flood_opened} silent connections: {} shed at accept, {} \
                     refused, peak {} in their handshake",
                    s["shed"], s["refused"], s["peak_handshakes"]
                )
            } else {
                String::new()
            },
        );
        if let Some(rounds) = s["rounds"].as_array() {
            for r in rounds {
                println!(
                    "  round {} {}: collect {} ms, compute {} ms, {} received, {} go on",
                    r["round"],
                    r["name"].as_str().unwrap_or(""),
                    r["collect_ms"],
                    r["compute_ms"],
                    r["received"],
                    r["survivors"]
                );
            }
        }
        for f in &failed {
            println!("  {f}");
        }
    }
    Ok(ok)
}
