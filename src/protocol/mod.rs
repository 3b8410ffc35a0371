//! The protocol layer: who shares with whom ([`graph`]) and how many shares are needed
//! ([`params`]). Sans-IO: nothing here does I/O, spawns threads or reads a clock.

pub mod graph;
