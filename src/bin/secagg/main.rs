//! The `secagg` command line. The logic lives in the sibling modules; this file only
//! parses arguments, dispatches and turns failures into an exit status.

mod mask;
mod params;
// Wired into `secagg bench variants` in the following commits.
#[allow(dead_code)]
mod plot;
// Only part of it is used until `simulate` lands.
#[allow(dead_code)]
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Secure aggregation toolkit (SecAgg / SecAgg+).
#[derive(Parser, Debug)]
#[command(name = "secagg", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// The parameter finder's degree k and threshold t (Bell et al. 2020), and the
    /// security and correctness bounds they meet.
    Params(params::ParamsArgs),
    /// Benchmarks that print medians and ratios measured in one run.
    Bench(BenchArgs),
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
}

/// Why a command failed.
#[derive(Debug)]
enum CliError {
    /// The library refused the parameters or the session failed.
    Secagg(secagg::Error),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Secagg(e) => write!(f, "{e}"),
        }
    }
}

impl From<secagg::Error> for CliError {
    fn from(e: secagg::Error) -> Self {
        CliError::Secagg(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out: Result<String, CliError> = match cli.command {
        None => Ok(format!("secagg {}", env!("CARGO_PKG_VERSION"))),
        Some(Commands::Params(a)) => params::run(&a).map_err(CliError::from),
        Some(Commands::Bench(BenchArgs {
            what: BenchCommand::Mask(a),
        })) => mask::run(&a).map_err(CliError::from),
    };
    match out {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("secagg: {e}");
            ExitCode::FAILURE
        }
    }
}
