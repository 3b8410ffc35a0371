//! The `secagg` command line. The logic lives in the sibling modules; this file only
//! parses arguments, dispatches and turns failures into an exit status.

mod bench;
mod bench_dp;
mod dp;
mod keygen;
mod mask;
mod net;
mod params;
mod plot;
mod scale;
mod session;
mod simulate;
mod table;
mod variants;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Secure aggregation toolkit (SecAgg / SecAgg+).
///
/// Without a command, runs one secure-sum session in process (the flags of `simulate`
/// apply): 100 clients, 100,000 floats each, SecAgg+ with the parameter finder's
/// degree and threshold, 10% of clients dropping at random rounds; prints a per-round
/// table and checks the sum against the plaintext sum.
#[derive(Parser, Debug)]
#[command(
    name = "secagg",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    #[command(flatten)]
    session: simulate::SimulateArgs,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Run one secure-sum session in process (clients and server), with drop-outs,
    /// and check the sum against the plaintext sum of the included clients.
    Simulate(simulate::SimulateArgs),
    /// The parameter finder's degree k and threshold t (Bell et al. 2020), and the
    /// security and correctness bounds they meet.
    Params(params::ParamsArgs),
    /// The privacy accountant: the epsilon of a training run for a noise multiplier,
    /// or the noise for a target (epsilon, delta); grid, ring and error of the mean.
    Dp(dp::DpArgs),
    /// Benchmarks: medians and ratios measured in one run, tables, CSV and plots.
    Bench(BenchArgs),
    /// Run the server of one networked session (TLS by default).
    Serve(net::ServeArgs),
    /// Run one client of a networked session.
    Client(net::ClientArgs),
    /// A server process and N in-process clients over loopback: load and memory.
    Loadtest(net::loadtest::LoadtestArgs),
    /// Write a client's Ed25519 key pair (key file, mode 0600) and print its roster line.
    Keygen(keygen::KeygenArgs),
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    #[command(subcommand)]
    what: BenchCommand,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Mask expansion (expand-and-add of AES-128-CTR masks) vs a straight VAES keystream.
    Mask(mask::MaskArgs),
    /// Complete vs sparse graph and both threat models, swept over the number of
    /// clients, the vector length and the drop-out rate: CSV, SVG plots and a table.
    Variants(variants::VariantsArgs),
    /// X25519 shared secrets and key generation: x25519-dalek single-shot vs the
    /// batched backends (AVX-512 IFMA), µs each and the ratio, measured in one run.
    Dh(bench::DhArgs),
    /// The largest SecAgg+ sessions simulated within a time budget per vector length,
    /// with peak memory and the server's unmasking against its ideal.
    Scale(scale::ScaleArgs),
    /// Distributed DP: error of the mean against epsilon for both mechanisms and a few
    /// ring widths, beside the central Gaussian mechanism: a table, CSV and an SVG plot.
    Dp(bench_dp::DpBenchArgs),
    /// The exact DP samplers (discrete Gaussian, Skellam): ns per draw against a
    /// rounded float Gaussian, medians measured in one run.
    Samplers(dp::BenchSamplersArgs),
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The library refused the parameters.
    Secagg(secagg::Error),
    /// A networked command failed (the transport, or the core behind it).
    Net(secagg_net::Error),
    /// A client's input file could not be read.
    Input(net::input::InputError),
    /// A file could not be written.
    Io(std::path::PathBuf, std::io::Error),
    /// A plot could not be drawn.
    Plot(plot::PlotError),
    /// The thread pool could not be built.
    Threads(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Secagg(e) => write!(f, "{e}"),
            CliError::Net(e) => write!(f, "{e}"),
            CliError::Input(e) => write!(f, "{e}"),
            CliError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            CliError::Plot(e) => write!(f, "{e}"),
            CliError::Threads(e) => write!(f, "thread pool: {e}"),
        }
    }
}

impl From<secagg::Error> for CliError {
    fn from(e: secagg::Error) -> Self {
        CliError::Secagg(e)
    }
}

impl From<secagg_net::Error> for CliError {
    fn from(e: secagg_net::Error) -> Self {
        CliError::Net(e)
    }
}

impl From<secagg_net::TransportError> for CliError {
    fn from(e: secagg_net::TransportError) -> Self {
        CliError::Net(e.into())
    }
}

impl From<net::input::InputError> for CliError {
    fn from(e: net::input::InputError) -> Self {
        CliError::Input(e)
    }
}

impl From<plot::PlotError> for CliError {
    fn from(e: plot::PlotError) -> Self {
        CliError::Plot(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Ok((what to print, whether the command succeeded)).
    let out: Result<(String, bool), CliError> = match cli.command {
        None => simulate::run(&cli.session),
        Some(Commands::Simulate(a)) => simulate::run(&a),
        Some(Commands::Params(a)) => params::run(&a).map(|s| (s, true)).map_err(CliError::from),
        Some(Commands::Dp(a)) => dp::run(&a).map(|s| (s, true)).map_err(CliError::from),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Mask(a),
        })) => mask::run(&a).map(|s| (s, true)).map_err(CliError::from),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Variants(a),
        })) => variants::run(&a),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Dh(a),
        })) => bench::run_dh(&a).map(|s| (s, true)).map_err(CliError::from),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Scale(a),
        })) => scale::run(&a),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Dp(a),
        })) => bench_dp::run(&a),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Samplers(a),
        })) => dp::bench_samplers(&a)
            .map(|s| (s, true))
            .map_err(CliError::from),
        // The networked commands print their own output and choose their exit status.
        Some(Commands::Serve(a)) => return net::run_serve(a),
        Some(Commands::Client(a)) => return net::run_client_cmd(a),
        Some(Commands::Loadtest(a)) => return net::loadtest::run_loadtest(a),
        Some(Commands::Keygen(a)) => return keygen::run(&a),
    };
    match out {
        Ok((text, ok)) => {
            println!("{}", text.trim_end());
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("secagg: {e}");
            ExitCode::FAILURE
        }
    }
}
