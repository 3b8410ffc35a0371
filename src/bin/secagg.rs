//! The `secagg` command line.

fn main() {
    println!("secagg {}", env!("CARGO_PKG_VERSION"));
}
