//! What several benches share (a module of each bench target, not a bench itself).

/// A rayon pool of `threads` threads, for timing a parallel path at a fixed width
/// (`pool.install(|| ...)`).
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}
