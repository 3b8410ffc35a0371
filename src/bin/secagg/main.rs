//! The `secagg` command line.

// Wired into `secagg bench variants` in the following commits.
#[allow(dead_code)]
mod plot;
#[allow(dead_code)]
mod table;

fn main() {
    println!("secagg {}", env!("CARGO_PKG_VERSION"));
}
