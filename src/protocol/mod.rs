//! The protocol layer (sans-IO: nothing here does I/O, spawns threads or reads a clock).
//!
//! [`graph`]: who shares keys and pairwise masks with whom. [`params`]: how many
//! neighbours and which threshold meet a security and a correctness target.

pub mod graph;
pub mod params;
