//! `secagg bench mask`: mask expansion against a straight VAES keystream (the timing
//! code is `crate::bench`).

use clap::Args;

#[derive(Args, Debug)]
/// The flags of `secagg bench mask`.
pub struct MaskArgs {
    /// Vector length d (ring elements).
    #[arg(long, default_value_t = 1_000_000)]
    pub dim: usize,
    /// Masks (seeds) added per run.
    #[arg(long, default_value_t = 8)]
    pub seeds: usize,
    /// Worker threads (0 = one per CPU).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Ring width b in bits (1..=64; words are u32 for b <= 32).
    #[arg(long, default_value_t = 32)]
    pub bits: u32,
    /// Timed runs (the median is reported; at least 5).
    #[arg(long, default_value_t = 11)]
    pub runs: usize,
    /// Backend for the expansion: aes-crate, aes-ni, vaes256 or vaes512 (default: the fastest
    /// this CPU supports).
    #[arg(long, value_parser = ["aes-crate", "aes-ni", "vaes256", "vaes512"])]
    pub backend: Option<String>,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &MaskArgs) -> secagg::Result<String> {
    use secagg::crypto::prg::{backend, Backend};
    let b = match a.backend.as_deref() {
        None => backend(),
        Some(name) => Backend::ALL
            .iter()
            .copied()
            .find(|b| b.name() == name)
            .ok_or(secagg::Error::Misuse(secagg::Misuse::UnsupportedBackend {
                name: "unknown",
            }))?,
    };
    let r = crate::bench::bench_mask_with(b, a.dim, a.seeds, a.threads, a.bits, a.runs)?;
    Ok(if a.json { r.to_json() } else { r.to_text() })
}
