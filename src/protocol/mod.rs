//! The protocol layer (sans-IO: nothing here does I/O, spawns threads or reads a clock).
//!
//! [`graph`]: who shares keys and pairwise masks with whom.

pub mod graph;
