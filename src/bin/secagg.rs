//! The `secagg` command line.

use clap::{Args, Parser, Subcommand};

/// Secure aggregation toolkit (SecAgg / SecAgg+).
#[derive(Parser)]
#[command(name = "secagg", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Benchmarks that print medians and ratios measured in one run.
    Bench(BenchArgs),
    /// Run the server of one networked session (TLS by default).
    #[cfg(feature = "net")]
    Serve(secagg::net::cli::ServeArgs),
    /// Run one client of a networked session.
    #[cfg(feature = "net")]
    Client(secagg::net::cli::ClientArgs),
    /// A server process and N in-process clients over loopback: load and memory.
    #[cfg(feature = "net")]
    Loadtest(secagg::net::loadtest::LoadtestArgs),
}

#[derive(Args)]
struct BenchArgs {
    #[command(subcommand)]
    what: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Mask expansion (expand-and-add of AES-128-CTR masks) vs a straight VAES keystream.
    Mask(MaskArgs),
}

#[derive(Args)]
struct MaskArgs {
    /// Vector length d (ring elements).
    #[arg(long, default_value_t = 1_000_000)]
    dim: usize,
    /// Masks (seeds) added per run.
    #[arg(long, default_value_t = 8)]
    seeds: usize,
    /// Worker threads (0 = one per CPU).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Ring width b in bits (1..=64; words are u32 for b <= 32).
    #[arg(long, default_value_t = 32)]
    bits: u32,
    /// Timed runs (the median is reported; at least 5).
    #[arg(long, default_value_t = 11)]
    runs: usize,
    /// Backend for the expansion: aes-crate, aes-ni, vaes256 or vaes512 (default: the fastest
    /// this CPU supports).
    #[arg(long, value_parser = ["aes-crate", "aes-ni", "vaes256", "vaes512"])]
    backend: Option<String>,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    json: bool,
}

fn bench_mask(a: &MaskArgs) -> secagg::Result<String> {
    use secagg::crypto::prg::{backend, Backend};
    let b = match a.backend.as_deref() {
        None => backend(),
        Some(name) => Backend::ALL
            .iter()
            .copied()
            .find(|b| b.name() == name)
            .ok_or(secagg::Error::UnsupportedBackend { name: "unknown" })?,
    };
    let r = secagg::bench::bench_mask_with(b, a.dim, a.seeds, a.threads, a.bits, a.runs)?;
    Ok(if a.json { r.to_json() } else { r.to_text() })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let out = match cli.command {
        Commands::Bench(BenchArgs {
            what: BenchCommand::Mask(a),
        }) => bench_mask(&a),
        #[cfg(feature = "net")]
        Commands::Serve(args) => return secagg::net::cli::run_serve(args),
        #[cfg(feature = "net")]
        Commands::Client(args) => return secagg::net::cli::run_client_cmd(args),
        #[cfg(feature = "net")]
        Commands::Loadtest(args) => return secagg::net::loadtest::run_loadtest(args),
    };
    match out {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("secagg: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
