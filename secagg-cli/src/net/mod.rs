//! The `secagg serve`, `secagg client` and `secagg loadtest` subcommands: their
//! arguments (clap) and what they run. The binary only dispatches here.

pub mod input;
pub mod loadtest;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use input::read_floats;
use secagg::error::Misuse;
use secagg::protocol::Output;
use secagg::quantize::Aggregate;
use secagg::session::Choice;
use secagg::ClientId;
use secagg_net::client::{run_client, ClientOptions};
use secagg_net::events::{ClientEvent, OnEvent, ServerEvent};
use secagg_net::hello::Done;
use secagg_net::roster::{read_key_file, Roster, RosterError};
use secagg_net::server::{serve, ServeReport, ServerOptions};
use secagg_net::session::{Session, SessionParams};
use secagg_net::tls::{acceptor, ClientTransport, Identity};
use secagg_net::{Error, Result, TransportError};

use crate::CliError;

/// The flags every party of a session must give identically.
#[derive(Args, Clone, Debug)]
pub struct SessionArgs {
    /// Number of clients n (ids 0..n).
    #[arg(long)]
    pub clients: usize,
    /// Length d of each client's float vector.
    #[arg(long)]
    pub dim: usize,
    /// Threshold t (default: min(floor(2·deg/3) + 1, deg), deg = min(--degree, n-1)).
    #[arg(long)]
    pub threshold: Option<usize>,
    /// SecAgg+: a Harary graph of this degree (>= 2; >= n-1 is the complete graph);
    /// default: the complete graph.
    #[arg(long)]
    pub degree: Option<usize>,
    /// Quantization bits per element.
    #[arg(long, default_value_t = 16)]
    pub quant_bits: u32,
    /// Clipping bound c: inputs are clipped to [-c, c].
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Ring width b (default: the smallest that cannot wrap for n clients).
    #[arg(long)]
    pub ring_bits: Option<u32>,
    /// Malicious model: the clients' Ed25519 keys (the roster's) also sign the protocol.
    #[arg(long)]
    pub malicious: bool,
    /// Session seed: names the session, seeds the graph and demo inputs.
    #[arg(long, default_value = "secagg-demo")]
    pub seed: String,
    /// Run even when the parameter check (`check_params`: privacy 2^-40 against the
    /// default corrupt fraction, graph connectivity, correctness under the default
    /// drop-out rate) rejects the (degree, threshold) pair. Insecure: experiments only.
    #[arg(long)]
    pub allow_insecure_params: bool,
    /// The grinding margin (bits) of that check: it plans for a server that tried
    /// 2^N graph seeds. Default: 64 with --malicious (the server picks --seed), 0
    /// without. 0 opts out (a seed the server does not control).
    #[arg(long, value_name = "N")]
    pub grinding_bits: Option<f64>,
}

impl SessionArgs {
    /// Why `session`'s (degree, threshold) pair is refused: the reason
    /// [`check_params`](secagg::protocol::params::check_params) gave (which the float
    /// session records as [`Choice::Unchecked`]), unless `--allow-insecure-params`.
    /// With the flag, the same reason is returned as `Ok(Some(..))` for a warning.
    ///
    /// # Errors
    /// The refusal, as a message that names the flag.
    pub fn check_params(&self, session: &Session) -> core::result::Result<Option<String>, String> {
        let Choice::Unchecked(e) = session.float.choice() else {
            return Ok(None);
        };
        let n = session.config.n();
        let degree = self
            .degree
            .map_or(n.saturating_sub(1), |k| k.min(n.saturating_sub(1)));
        let reason = format!(
            "parameters check_params rejects for {n} clients: degree {degree}, threshold {t}: {e}",
            t = session.config.threshold()
        );
        if self.allow_insecure_params {
            Ok(Some(reason))
        } else {
            Err(format!(
                "{reason} (choose other --degree/--threshold, or pass --allow-insecure-params to run them anyway)"
            ))
        }
    }

    /// Builds the session these flags describe, with the demo keys.
    ///
    /// # Errors
    /// As [`Session::new`].
    pub fn session(&self) -> secagg::Result<Session> {
        self.session_with(None)
    }

    /// Builds the session these flags describe with `roster` (`None`: the demo keys).
    ///
    /// # Errors
    /// As [`Session::new`].
    pub fn session_with(&self, roster: Option<Roster>) -> secagg::Result<Session> {
        Session::new(SessionParams {
            clients: self.clients,
            dim: self.dim,
            threshold: self.threshold,
            degree: self.degree,
            quant_bits: self.quant_bits,
            clip: self.clip,
            ring_bits: self.ring_bits,
            malicious: self.malicious,
            seed: self.seed.clone(),
            roster,
            grinding_bits: self.grinding_bits,
        })
    }
}

/// Where the clients' keys come from (`serve` and `client`): exactly one of `--roster`
/// and `--demo-keys`.
#[derive(Args, Clone, Debug)]
#[group(required = true, multiple = false)]
pub struct RosterArgs {
    /// The roster: every client's Ed25519 verifying key, one `ID HEX` line each
    /// (`secagg keygen` prints them). Every party of a session holds the same roster (it
    /// is bound into the session id).
    #[arg(long)]
    pub roster: Option<PathBuf>,
    /// INSECURE demo: every client's key is derived from the public --seed, so anyone
    /// who knows the seed can claim any id (and sign for it with --malicious). Local
    /// experiments only.
    #[arg(long)]
    pub demo_keys: bool,
}

/// The warning `serve` and `client` print for `--demo-keys`.
pub const DEMO_KEYS_WARNING: &str = "--demo-keys: every client's key is derived from the \
     public --seed: anyone who knows the seed can claim any client id (and, with \
     --malicious, sign for every client); for local experiments only";

impl RosterArgs {
    /// Reads the roster (`None` with `--demo-keys`).
    ///
    /// # Errors
    /// The roster file's [`RosterError`].
    pub fn load(&self) -> core::result::Result<Option<Roster>, RosterError> {
        match (&self.roster, self.demo_keys) {
            (Some(path), false) => Roster::read(path).map(Some),
            _ => Ok(None),
        }
    }
}

/// `secagg serve`: run one session's server.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:7447")]
    pub listen: String,
    /// Session flags.
    #[command(flatten)]
    pub session: SessionArgs,
    /// Deadline of each round after the first, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub deadline_ms: u64,
    /// Time for clients to connect and advertise keys (round 0), in milliseconds
    /// (default: --deadline-ms).
    #[arg(long)]
    pub join_ms: Option<u64>,
    /// Time a connection has for its TLS handshake and signed hello, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    pub handshake_ms: u64,
    /// Connections allowed in their handshake at once.
    #[arg(long, default_value_t = 256)]
    pub max_handshakes: usize,
    /// Connections one address (IPv4 address, IPv6 /64) may have in their handshake at
    /// once; further ones are closed at accept, before TLS.
    #[arg(long, default_value_t = 8)]
    pub max_handshakes_per_address: usize,
    /// The clients' keys.
    #[command(flatten)]
    pub keys: RosterArgs,
    /// Plain TCP instead of TLS (local experiments only).
    #[arg(long)]
    pub plain: bool,
    /// PEM certificate chain (with --key); default: a fresh self-signed certificate.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key for --cert (TLS; clients' keys are in --roster).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where to write the self-signed certificate (PEM) for clients' --ca.
    #[arg(long)]
    pub cert_out: Option<PathBuf>,
    /// Name (DNS or IP) in the self-signed certificate.
    #[arg(long, default_value = "localhost")]
    pub tls_name: String,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Recompute the included clients' demo inputs and check the sum ("ok").
    #[arg(long)]
    pub demo_check: bool,
    /// Print the dequantized sum itself (otherwise only its SHA-256).
    #[arg(long)]
    pub print_sum: bool,
    /// Close each round only at its deadline (default: as soon as every awaited
    /// client answered or disconnected).
    #[arg(long)]
    pub no_early_close: bool,
    /// Log connection events to stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `secagg client`: run one client.
#[derive(Args, Clone, Debug)]
pub struct ClientArgs {
    /// The server's address.
    #[arg(long)]
    pub server: String,
    /// This client's id (0..n).
    #[arg(long)]
    pub id: ClientId,
    /// Session flags.
    #[command(flatten)]
    pub session: SessionArgs,
    /// This client's Ed25519 signing key (a `secagg keygen` key file): it signs the
    /// server's challenge and, with --malicious, the protocol messages.
    #[arg(
        long,
        required_unless_present = "demo_keys",
        conflicts_with = "demo_keys"
    )]
    pub key: Option<PathBuf>,
    /// The clients' keys.
    #[command(flatten)]
    pub keys: RosterArgs,
    /// Local address to connect from (default: the operating system's choice).
    #[arg(long)]
    pub bind: Option<std::net::IpAddr>,
    /// Use the demo input derived from the seed and the id.
    #[arg(long, conflicts_with = "input", required_unless_present = "input")]
    pub demo_input: bool,
    /// Input file: one float per line, or .npy (float32/float64); "-" for stdin.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Plain TCP instead of TLS.
    #[arg(long)]
    pub plain: bool,
    /// PEM certificate(s) to trust for the server (e.g. the server's --cert-out).
    #[arg(long, required_unless_present = "plain")]
    pub ca: Option<PathBuf>,
    /// The name the server's certificate must carry.
    #[arg(long, default_value = "localhost")]
    pub server_name: String,
    /// Longest wait for any server message, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub timeout_ms: u64,
    /// How long to keep retrying a refused connection, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub connect_ms: u64,
    /// Log each message sent to stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Error::Transport(TransportError::Io {
                op: "starting the runtime",
                kind: e.kind(),
            })
        })
}

pub(crate) fn fail(cmd: &str, e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("secagg {cmd}: error: {e}");
    ExitCode::from(2)
}

/// Peak resident set size of this process in KiB (`VmHWM`), where the OS reports it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Milliseconds, rounded to microseconds (for reports).
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// What `--demo-check` found.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoCheck {
    /// The ring sum equals the sum of the included clients' quantized demo inputs.
    pub exact: bool,
    /// Largest |dequantized sum − float sum| over the elements.
    pub max_error: f64,
    /// The quantization error bound for this many clients.
    pub bound: f64,
}

impl DemoCheck {
    /// Both checks passed.
    pub fn ok(&self) -> bool {
        self.exact && self.max_error <= self.bound
    }
}

/// The decoded sum of the session's single vector.
fn first_aggregate(session: &Session, out: &Output) -> Result<Aggregate> {
    Ok(session.float.decode_first(out)?)
}

/// Recomputes the included clients' demo inputs and compares with `out`.
///
/// # Errors
/// The float session's decoding errors (a sum outside the range `included` clients can
/// produce).
pub fn demo_check(session: &Session, out: &Output) -> Result<DemoCheck> {
    let ring = session.quantizer().config().ring_bits;
    let mask = if ring == 64 {
        u64::MAX
    } else {
        (1u64 << ring) - 1
    };
    let d = session.params.dim;
    let mut words = vec![0u64; d];
    let mut floats = vec![0f64; d];
    for &id in &out.included {
        let (x, _) = session.demo_input(id);
        let q = session.demo_words(id)?;
        let q = q.vectors().first().map(|v| v.to_u64s()).unwrap_or_default();
        for (s, w) in words.iter_mut().zip(&q) {
            *s = s.wrapping_add(*w) & mask;
        }
        for (s, v) in floats.iter_mut().zip(&x) {
            *s += v;
        }
    }
    let got = out.sums.first().map(|v| v.to_u64s()).unwrap_or_default();
    let agg = first_aggregate(session, out)?;
    let max_error = agg
        .sum
        .iter()
        .zip(&floats)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    Ok(DemoCheck {
        exact: got == words,
        max_error,
        bound: agg.error_bound,
    })
}

fn sum_digest(out: &Output) -> String {
    let mut h = Sha256::new();
    for v in &out.sums {
        for w in v.to_u64s() {
            h.update(w.to_le_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn report_json(report: &ServeReport, session: &Session, args: &ServeArgs) -> (Value, bool) {
    let rounds: Vec<Value> = report
        .rounds
        .iter()
        .map(|r| {
            json!({
                "round": r.round.number(),
                "name": format!("{:?}", r.round),
                "collect_ms": ms(r.collect),
                "compute_ms": ms(r.compute),
                "received": r.received,
                "survivors": r.survivors,
                "early_close": r.early,
            })
        })
        .collect();
    let mut v = json!({
        "clients": session.config.n(),
        "dim": session.params.dim,
        "threshold": session.config.threshold(),
        "connected": report.connected,
        "refused": report.refused,
        "shed": report.shed,
        "peak_handshakes": report.peak_handshakes,
        "disconnected": report.disconnected.len(),
        "rounds": rounds,
        "total_ms": ms(report.total),
        "peak_rss_kib": peak_rss_kib(),
    });
    let mut ok = true;
    match &report.result {
        Ok(out) => {
            v["status"] = json!("completed");
            v["included"] = json!(out.included);
            v["included_count"] = json!(out.included.len());
            v["sum_sha256"] = json!(sum_digest(out));
            if args.print_sum {
                match first_aggregate(session, out) {
                    Ok(agg) => v["sum"] = json!(agg.sum),
                    Err(e) => v["sum_error"] = json!(e.to_string()),
                }
            }
            if args.demo_check {
                match demo_check(session, out) {
                    Ok(c) => {
                        ok = c.ok();
                        v["ok"] = json!(ok);
                        v["exact_ring_sum"] = json!(c.exact);
                        v["max_abs_error"] = json!(c.max_error);
                        v["error_bound"] = json!(c.bound);
                    }
                    Err(e) => {
                        ok = false;
                        v["ok"] = json!(false);
                        v["check_error"] = json!(e.to_string());
                    }
                }
            }
        }
        Err(e) => {
            ok = false;
            v["status"] = json!("aborted");
            v["error"] = json!(e.to_string());
            v["error_kind"] = json!(e.kind().to_string());
            if args.demo_check {
                v["ok"] = json!(false);
            }
        }
    }
    (v, ok)
}

/// Runs `secagg serve`. Exit status: 0 completed (and the demo check passed), 1 aborted
/// or the check failed, 2 setup error.
pub fn run_serve(args: ServeArgs) -> ExitCode {
    match serve_main(&args) {
        Ok(code) => code,
        Err(e) => fail("serve", &e),
    }
}

fn serve_main(args: &ServeArgs) -> Result<ExitCode> {
    let roster = match args.keys.load() {
        Ok(r) => r,
        Err(e) => return Ok(fail("serve", &e)),
    };
    let demo = roster.is_none();
    let session = args.session.session_with(roster)?;
    match args.session.check_params(&session) {
        Ok(None) => {}
        Ok(Some(warning)) => eprintln!("secagg serve: warning: {warning}"),
        Err(refusal) => return Ok(fail("serve", &refusal)),
    }
    if demo {
        eprintln!("secagg serve: warning: {DEMO_KEYS_WARNING}");
    }
    let tls = if args.plain {
        None
    } else {
        let identity = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => Identity::from_pem_files(cert, key)?,
            _ => {
                let (identity, pem) = Identity::self_signed(std::slice::from_ref(&args.tls_name))?;
                if let Some(path) = &args.cert_out {
                    std::fs::write(path, pem).map_err(|e| {
                        Error::Transport(TransportError::Io {
                            op: "writing --cert-out",
                            kind: e.kind(),
                        })
                    })?;
                }
                identity
            }
        };
        Some(acceptor(identity)?)
    };
    let deadline = Duration::from_millis(args.deadline_ms);
    let opts = ServerOptions {
        round_deadline: deadline,
        join_deadline: args.join_ms.map_or(deadline, Duration::from_millis),
        handshake_timeout: Duration::from_millis(args.handshake_ms),
        max_handshakes: args.max_handshakes.max(1),
        max_handshakes_per_address: args.max_handshakes_per_address.max(1),
        tls,
        early_close: !args.no_early_close,
        on_event: if args.verbose {
            OnEvent::new(|e: &ServerEvent| eprintln!("secagg serve: {e}"))
        } else {
            OnEvent::none()
        },
        ..ServerOptions::new(session.clone())
    };
    let rt = runtime()?;
    let report = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| {
                Error::Transport(TransportError::Io {
                    op: "binding --listen",
                    kind: e.kind(),
                })
            })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::Transport(TransportError::Io {
                op: "binding --listen",
                kind: e.kind(),
            })
        })?;
        eprintln!("secagg serve: listening on {addr}");
        Ok::<_, Error>(serve(listener, opts).await)
    })?;
    let (v, ok) = report_json(&report, &session, args);
    if args.json {
        println!("{v}");
    } else {
        print_human(&report, &v);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_human(report: &ServeReport, v: &Value) {
    for r in &report.rounds {
        println!(
            "round {}: {} received, {} go on, collected in {:.1} ms{}, computed in {:.1} ms",
            r.round,
            r.received,
            r.survivors,
            ms(r.collect),
            if r.early { " (early close)" } else { "" },
            ms(r.compute)
        );
    }
    match &report.result {
        Ok(out) => {
            println!(
                "completed: {} of {} clients included, sum sha256 {}",
                out.included.len(),
                v["clients"],
                v["sum_sha256"].as_str().unwrap_or("")
            );
            if let Some(ok) = v.get("ok") {
                println!(
                    "demo check: {} (exact ring sum {}, max error {} <= bound {})",
                    if ok == &json!(true) { "ok" } else { "FAILED" },
                    v["exact_ring_sum"],
                    v["max_abs_error"],
                    v["error_bound"]
                );
            }
            if let Some(sum) = v.get("sum") {
                println!("sum: {sum}");
            }
        }
        Err(e) => println!("aborted: {e}"),
    }
    println!("total {:.1} ms", ms(report.total));
}

/// Runs `secagg client`. Exit status: 0 the client's input is in the sum, 1 the session
/// completed without it or aborted, 2 error (the server went away, refused, timed out).
pub fn run_client_cmd(args: ClientArgs) -> ExitCode {
    match client_main(&args) {
        Ok(code) => code,
        Err(e) => fail("client", &e),
    }
}

fn client_main(args: &ClientArgs) -> core::result::Result<ExitCode, CliError> {
    let roster = match args.keys.load() {
        Ok(r) => r,
        Err(e) => return Ok(fail("client", &e)),
    };
    let session = args.session.session_with(roster)?;
    match args.session.check_params(&session) {
        Ok(None) => {}
        Ok(Some(warning)) => eprintln!("secagg client: warning: {warning}"),
        Err(refusal) => return Ok(fail("client", &refusal)),
    }
    let key = match &args.key {
        Some(path) if !args.keys.demo_keys => match read_key_file(path) {
            Ok(k) => k,
            Err(e) => return Ok(fail("client", &e)),
        },
        _ => {
            eprintln!("secagg client: warning: {DEMO_KEYS_WARNING}");
            secagg_net::roster::demo_signing_key(&args.session.seed, args.id)
        }
    };
    let transport = match (&args.ca, args.plain) {
        (_, true) => ClientTransport::Plain,
        (Some(ca), false) => ClientTransport::tls_from_ca_file(ca, &args.server_name)?,
        (None, false) => {
            return Err(TransportError::Tls {
                what: "TLS needs --ca (the server's certificate), or pass --plain",
            }
            .into())
        }
    };
    let words = match &args.input {
        Some(path) => {
            let x = read_floats(path)?;
            if x.len() != session.params.dim {
                return Err(secagg::Error::from(Misuse::VectorLengthMismatch {
                    expected: session.params.dim,
                    found: x.len(),
                })
                .into());
            }
            session
                .float
                .encode(&x, 1, &mut secagg::crypto::rng::os_rng())?
        }
        None => session.demo_words(args.id)?,
    };
    let input = session.ring_input(&words)?;
    let opts = ClientOptions {
        transport,
        read_timeout: Duration::from_millis(args.timeout_ms),
        connect_timeout: Duration::from_millis(args.connect_ms),
        local_addr: args.bind,
        on_event: if args.verbose {
            OnEvent::new(|e: &ClientEvent| eprintln!("{e}"))
        } else {
            OnEvent::none()
        },
        ..ClientOptions::new(session.clone(), args.id)
    };
    let rt = runtime()?;
    let report = rt.block_on(run_client(&args.server, &opts, input, &key))?;
    let id = args.id;
    Ok(match report.done {
        Some(Done::Completed { included: true }) => {
            println!(
                "client {id}: included in the sum ({} messages, {:.1} ms)",
                report.sent,
                ms(report.elapsed)
            );
            ExitCode::SUCCESS
        }
        Some(Done::Completed { included: false }) => {
            println!("client {id}: the session completed without this client's input");
            ExitCode::from(1)
        }
        Some(Done::Aborted(kind)) => {
            println!("client {id}: the server aborted the session ({kind} error)");
            ExitCode::from(1)
        }
        None => ExitCode::from(1),
    })
}
