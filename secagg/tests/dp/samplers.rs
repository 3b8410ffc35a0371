//! The exact samplers (filled in below).
