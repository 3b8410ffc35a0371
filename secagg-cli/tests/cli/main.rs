//! The `secagg` binary, run as a user would (`CARGO_BIN_EXE_secagg`): one integration
//! binary with a module per area.
//!
//! - `commands`: `params`, `simulate` (JSON output, byte counts against the wire-format
//!   formulas, aborts, the known-answer session id), the default run and `bench variants`.
//! - `dp`: `secagg dp` against the library's accountant, both directions, bad input.
//! - `bench_mask`: `bench mask` JSON output and its refusal of bad input.
//! - `net`: `serve` and `client` as real processes over loopback, killed mid-session.
//! - `simulate_memory`: `simulate --json` against outputs recorded from the simulator
//!   that held everything at once, and its peak-RSS field.
//! - `simulate_dp`: `simulate --dp-*` (its `dp` object against the library) and
//!   `bench dp`.
//! - `params_check`: `serve` and `client` refuse (degree, threshold) pairs that
//!   `check_params` rejects unless `--allow-insecure-params`.

mod bench_mask;
mod commands;
mod dp;
mod net;
mod params_check;
mod simulate_dp;
mod simulate_memory;
