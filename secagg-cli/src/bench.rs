//! Benchmark helpers behind `secagg bench`: medians and ratios measured in one run.
//!
//! [`bench_mask_with`] times [`expand_add`](secagg::crypto::prg::expand_add) (the mask-expansion hot path) against a straight
//! VAES keystream (the same AES kernel storing into an L1-resident buffer, no add) on
//! the same thread pool, alternating the two so that both see the same machine load.

use std::hint::black_box;
use std::time::{Duration, Instant};

use secagg::crypto::kdf::MaskSeed;
use secagg::crypto::prg::{expand_add_with, straight_keystream, Backend, Keystream, Sign};
use secagg::error::{Error, Misuse, Result};
use secagg::ring::{Ring, RingVec};

/// The result of [`bench_mask_with`].
#[derive(Clone, Debug, PartialEq)]
pub struct MaskBenchReport {
    /// Vector length d.
    pub dim: usize,
    /// Number of seeds expanded into the accumulator per run.
    pub seeds: usize,
    /// Threads in the rayon pool.
    pub threads: usize,
    /// Ring width b (Z_{2^b}).
    pub word_bits: u32,
    /// The backend `expand_add` ran (see [`Backend::name`]).
    pub backend: &'static str,
    /// Runs timed (each figure is the median over them).
    pub runs: usize,
    /// Keystream bytes consumed per second by `expand_add`, in 10^9 bytes/s (median).
    pub gbps: f64,
    /// Mask words added per second (seeds x dim / median time).
    pub words_per_sec: f64,
    /// The backend of the straight keystream reference.
    pub keystream_backend: &'static str,
    /// Straight keystream (no add) of the same number of bytes, same threads (median).
    pub vaes_keystream_gbps: f64,
    /// `gbps / vaes_keystream_gbps`.
    pub ratio: f64,
}

impl MaskBenchReport {
    /// One JSON object with every field.
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                "{{\"dim\":{},\"seeds\":{},\"threads\":{},\"word_bits\":{},",
                "\"backend\":\"{}\",\"runs\":{},\"gbps\":{:.3},\"words_per_sec\":{:.0},",
                "\"keystream_backend\":\"{}\",\"vaes_keystream_gbps\":{:.3},\"ratio\":{:.3}}}"
            ),
            self.dim,
            self.seeds,
            self.threads,
            self.word_bits,
            self.backend,
            self.runs,
            self.gbps,
            self.words_per_sec,
            self.keystream_backend,
            self.vaes_keystream_gbps,
            self.ratio
        )
    }

    /// A one-line human-readable summary.
    pub fn to_text(&self) -> String {
        format!(
            "mask expansion d={} seeds={} threads={} b={}: {:.2} GB/s ({:.3e} words/s, {}), \
             straight keystream {:.2} GB/s ({}), ratio {:.3} (median of {})",
            self.dim,
            self.seeds,
            self.threads,
            self.word_bits,
            self.gbps,
            self.words_per_sec,
            self.backend,
            self.vaes_keystream_gbps,
            self.keystream_backend,
            self.ratio,
            self.runs
        )
    }
}

/// Times `expand_add` of `seeds` masks into a `dim`-word accumulator of Z_{2^word_bits}
/// on a pool of `threads` threads (0 = one per CPU), `runs` times (at least 5), after one
/// warm-up run, interleaved with a straight keystream of the same size.
#[cfg(test)]
fn bench_mask(
    dim: usize,
    seeds: usize,
    threads: usize,
    word_bits: u32,
    runs: usize,
) -> Result<MaskBenchReport> {
    bench_mask_with(
        secagg::crypto::prg::backend(),
        dim,
        seeds,
        threads,
        word_bits,
        runs,
    )
}

/// Times `expand_add` of `seeds` masks into a `dim`-word accumulator of Z_{2^word_bits}
/// on a pool of `threads` threads (0 = one per CPU), `runs` times (at least 5), after one
/// warm-up run, interleaved with a straight keystream of the same size, with a chosen
/// backend for `expand_add` (the keystream reference is
/// always the widest VAES kernel the CPU has).
pub fn bench_mask_with(
    backend: Backend,
    dim: usize,
    seeds: usize,
    threads: usize,
    word_bits: u32,
    runs: usize,
) -> Result<MaskBenchReport> {
    let ring = Ring::pow2(word_bits)?;
    let runs = runs.max(5);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|_| Error::Misuse(Misuse::ThreadPool))?;
    let threads = pool.current_num_threads();
    let seed_list: Vec<MaskSeed> = (0..seeds)
        .map(|i| {
            let mut s = [0u8; 16];
            s[..8].copy_from_slice(&(i as u64).to_le_bytes());
            MaskSeed::from_bytes(s)
        })
        .collect();
    let masks: Vec<(&MaskSeed, Sign)> = seed_list
        .iter()
        .enumerate()
        .map(|(i, s)| (s, if i % 2 == 0 { Sign::Plus } else { Sign::Minus }))
        .collect();
    let ks_backend = [Backend::Vaes512, Backend::Vaes256]
        .into_iter()
        .find(|b| b.is_supported())
        .unwrap_or(Backend::Portable);
    let streams = seed_list
        .iter()
        .map(|s| Keystream::new(ks_backend, s))
        .collect::<Result<Vec<_>>>()?;
    let word_bytes = if ring.uses_u32() { 4 } else { 8 };
    let mut acc = RingVec::zeros(&ring, dim);

    let time_expand = |acc: &mut RingVec| -> Result<Duration> {
        let t = Instant::now();
        pool.install(|| expand_add_with(backend, &ring, &masks, acc))?;
        Ok(t.elapsed())
    };
    let time_keystream = || -> Duration {
        let t = Instant::now();
        pool.install(|| straight_keystream(&streams, dim, word_bytes));
        t.elapsed()
    };
    time_expand(&mut acc)?;
    time_keystream();
    let mut te = Vec::with_capacity(runs);
    let mut tk = Vec::with_capacity(runs);
    for _ in 0..runs {
        te.push(time_expand(&mut acc)?);
        tk.push(time_keystream());
    }
    black_box(&acc);
    let bytes = (seeds * dim * word_bytes) as f64;
    let (se, sk) = (median(&mut te), median(&mut tk));
    let gbps = bytes / se / 1e9;
    let vaes_keystream_gbps = bytes / sk / 1e9;
    Ok(MaskBenchReport {
        dim,
        seeds,
        threads,
        word_bits,
        backend: backend.name(),
        runs,
        gbps,
        words_per_sec: (seeds * dim) as f64 / se,
        keystream_backend: ks_backend.name(),
        vaes_keystream_gbps,
        ratio: if vaes_keystream_gbps > 0.0 {
            gbps / vaes_keystream_gbps
        } else {
            0.0
        },
    })
}

/// The median of `t` in seconds (0 for an empty slice).
fn median(t: &mut [Duration]) -> f64 {
    t.sort_unstable();
    t.get(t.len() / 2).map_or(0.0, Duration::as_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_one_json_object_with_the_fields() {
        let r = bench_mask(1000, 2, 1, 32, 5).unwrap();
        assert_eq!(
            (r.dim, r.seeds, r.threads, r.word_bits, r.runs),
            (1000, 2, 1, 32, 5)
        );
        assert!(r.gbps > 0.0 && r.vaes_keystream_gbps > 0.0 && r.words_per_sec > 0.0);
        let j = r.to_json();
        for key in [
            "\"dim\":1000",
            "\"seeds\":2",
            "\"threads\":1",
            "\"word_bits\":32",
            "\"backend\":",
            "\"gbps\":",
            "\"words_per_sec\":",
            "\"vaes_keystream_gbps\":",
            "\"ratio\":",
        ] {
            assert!(j.contains(key), "{key} missing in {j}");
        }
        assert!(j.starts_with('{') && j.ends_with('}'));
        assert!(bench_mask(10, 1, 1, 0, 5).is_err());
    }
}
