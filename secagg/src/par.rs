//! Data parallelism behind the `parallel` feature (on by default).
//!
//! With the feature, this re-exports rayon's parallel iterators. Without it, the same
//! method names (`par_iter`, `par_iter_mut`, `par_chunks`, `par_chunks_mut`,
//! `into_par_iter`) return the standard sequential iterators, so every call site
//! compiles unchanged and computes the same bytes in the same order of results
//! (rayon's `collect` keeps order; nothing here
//! depends on the order work runs in). The tests compare both paths.

#[cfg(feature = "parallel")]
pub(crate) use rayon::prelude::*;

/// Threads available to the parallel paths (1 without the `parallel` feature).
pub(crate) fn current_num_threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// `(a(), b())`, the two possibly at once (`rayon::join`); one after the other without
/// the `parallel` feature.
pub(crate) fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

#[cfg(not(feature = "parallel"))]
pub(crate) use serial::*;

#[cfg(not(feature = "parallel"))]
mod serial {
    /// `par_iter` / `par_iter_mut` / `par_chunks` / `par_chunks_mut` on slices,
    /// sequentially.
    pub(crate) trait ParSlice<T> {
        fn par_iter(&self) -> core::slice::Iter<'_, T>;
        fn par_chunks(&self, size: usize) -> core::slice::Chunks<'_, T>;
        fn par_iter_mut(&mut self) -> core::slice::IterMut<'_, T>;
        fn par_chunks_mut(&mut self, size: usize) -> core::slice::ChunksMut<'_, T>;
    }

    impl<T> ParSlice<T> for [T] {
        fn par_iter(&self) -> core::slice::Iter<'_, T> {
            self.iter()
        }
        fn par_chunks(&self, size: usize) -> core::slice::Chunks<'_, T> {
            self.chunks(size)
        }
        fn par_iter_mut(&mut self) -> core::slice::IterMut<'_, T> {
            self.iter_mut()
        }
        fn par_chunks_mut(&mut self, size: usize) -> core::slice::ChunksMut<'_, T> {
            self.chunks_mut(size)
        }
    }

    /// `into_par_iter`, sequentially.
    pub(crate) trait IntoParIter: IntoIterator + Sized {
        fn into_par_iter(self) -> Self::IntoIter {
            self.into_iter()
        }
    }

    impl<I: IntoIterator> IntoParIter for I {}
}
