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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|_| Error::Misuse(Misuse::ThreadPool))?;
    pool.install(|| bench_mask_here(backend, dim, seeds, word_bits, runs))
}

/// [`bench_mask_with`] on the current rayon pool (the one the caller runs in), with
/// its threads. For a measurement next to work that just ran on that pool: a second
/// pool of as many threads competes, for a while, with the first one's workers, which
/// spin before they sleep (`bench scale` measured the rate at half speed in two runs of
/// five that way).
pub fn bench_mask_here(
    backend: Backend,
    dim: usize,
    seeds: usize,
    word_bits: u32,
    runs: usize,
) -> Result<MaskBenchReport> {
    let ring = Ring::pow2(word_bits)?;
    let runs = runs.max(5);
    let threads = rayon::current_num_threads();
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
        expand_add_with(backend, &ring, &masks, acc)?;
        Ok(t.elapsed())
    };
    let time_keystream = || -> Duration {
        let t = Instant::now();
        straight_keystream(&streams, dim, word_bytes);
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

/// The flags of `secagg bench dh`.
#[derive(clap::Args, Debug)]
pub struct DhArgs {
    /// Pairs per call of the batched functions (partial vector batches are padded).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Shared secrets computed per timed run and backend.
    #[arg(long, default_value_t = 512)]
    pub count: usize,
    /// Worker threads for the batched backends (0 = one per CPU; dalek's single-shot
    /// baseline always runs on one).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Timed runs (the median is reported; at least 5).
    #[arg(long, default_value_t = 11)]
    pub runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One timed line of [`DhBenchReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct DhLine {
    /// What was timed.
    pub what: String,
    /// Microseconds per shared secret (or key pair), median over the runs.
    pub us: f64,
    /// The baseline's time over this one's (> 1: faster than the baseline).
    pub speedup: f64,
}

/// The result of [`bench_dh`].
#[derive(Clone, Debug, PartialEq)]
pub struct DhBenchReport {
    /// Pairs per batched call.
    pub batch: usize,
    /// Shared secrets per timed run.
    pub count: usize,
    /// Threads of the batched backends.
    pub threads: usize,
    /// Runs timed.
    pub runs: usize,
    /// The backend the protocol uses on this CPU.
    pub detected: &'static str,
    /// Shared secrets: dalek single-shot first (the baseline), then each backend.
    pub shared: Vec<DhLine>,
    /// Key generation: dalek's fixed-base Edwards table first, then the batched
    /// ladder on u = 9 per backend.
    pub keygen: Vec<DhLine>,
}

impl DhBenchReport {
    /// One JSON object with every field.
    pub fn to_json(&self) -> String {
        let lines = |v: &[DhLine]| {
            v.iter()
                .map(|l| {
                    format!(
                        "{{\"what\":\"{}\",\"us\":{:.3},\"speedup\":{:.3}}}",
                        l.what, l.us, l.speedup
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "{{\"batch\":{},\"count\":{},\"threads\":{},\"runs\":{},\"detected\":\"{}\",\"shared\":[{}],\"keygen\":[{}]}}",
            self.batch,
            self.count,
            self.threads,
            self.runs,
            self.detected,
            lines(&self.shared),
            lines(&self.keygen)
        )
    }

    /// A table.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "X25519: {} per run, batches of {}, batched backends on {} thread(s), median of {} runs (detected: {})\n",
            self.count, self.batch, self.threads, self.runs, self.detected
        );
        for (title, lines, unit) in [
            ("shared secrets", &self.shared, "µs/secret"),
            ("key generation", &self.keygen, "µs/key"),
        ] {
            out.push_str(&format!("{title:<44} {unit:>10}   speedup\n"));
            for l in lines {
                out.push_str(&format!(
                    "  {:<42} {:>10.2}   {:>6.2}x\n",
                    l.what, l.us, l.speedup
                ));
            }
        }
        out
    }
}

/// `secagg bench dh`.
pub fn run_dh(a: &DhArgs) -> Result<String> {
    let r = bench_dh(a.batch, a.count, a.threads, a.runs)?;
    Ok(if a.json { r.to_json() } else { r.to_text() })
}

/// Times X25519 side by side in one run: x25519-dalek single-shot
/// ([`SecretKey::agree`], what the protocol called before batching) on one thread,
/// and every supported batched backend ([`x25519_pairs_with`], calls of `batch`
/// pairs) on a pool of `threads`; likewise key generation (dalek's fixed-base
/// table, [`SecretKey::public_key`], against the batched ladder on u = 9). Each run
/// times every contender once, in turn, so they see the same machine load; figures
/// are medians over `runs` (at least 5) after a warm-up run.
pub fn bench_dh(batch: usize, count: usize, threads: usize, runs: usize) -> Result<DhBenchReport> {
    use secagg::crypto::keys::{PublicKey, SecretKey};
    use secagg::crypto::rng::seeded_rng;
    use secagg::crypto::rng::Rng as _;
    use secagg::crypto::x25519::{backend, x25519_pairs_with, Backend as DhBackend};

    let (batch, count, runs) = (batch.max(1), count.max(1), runs.max(5));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|_| Error::Misuse(Misuse::ThreadPool))?;
    let threads = pool.current_num_threads();
    let mut rng = seeded_rng([0x25; 32]);
    let keys: Vec<SecretKey> = (0..count).map(|_| SecretKey::random(&mut rng)).collect();
    let points: Vec<PublicKey> = (0..count)
        .map(|_| {
            let mut u = [0u8; 32];
            rng.fill_bytes(&mut u);
            PublicKey::from_bytes(u)
        })
        .collect();
    let nine = {
        let mut u = [0u8; 32];
        u[0] = 9;
        u
    };
    let pairs: Vec<(&[u8; 32], &[u8; 32])> = keys
        .iter()
        .zip(&points)
        .map(|(k, p)| (k.as_bytes(), p.as_bytes()))
        .collect();
    let base: Vec<(&[u8; 32], &[u8; 32])> = keys.iter().map(|k| (k.as_bytes(), &nine)).collect();
    let backends: Vec<DhBackend> = DhBackend::ALL
        .iter()
        .copied()
        .filter(|b| b.is_supported())
        .collect();
    let mut out = vec![[0u8; 32]; count];

    // Contenders: 0 dalek agree, 1.. batched per backend, then keygen: dalek table,
    // batched per backend.
    let nb = backends.len();
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); 2 * (nb + 1)];
    for run in 0..=runs {
        let mut t = Vec::with_capacity(2 * (nb + 1));
        let start = Instant::now();
        for (k, p) in keys.iter().zip(&points) {
            // A random 32-byte string is low-order with negligible probability.
            black_box(k.agree(p).ok());
        }
        t.push(start.elapsed());
        for &b in &backends {
            let start = Instant::now();
            pool.install(|| -> Result<()> {
                for (ins, outs) in pairs.chunks(batch).zip(out.chunks_mut(batch)) {
                    x25519_pairs_with(b, ins, outs)?;
                }
                Ok(())
            })?;
            t.push(start.elapsed());
            black_box(&out);
        }
        let start = Instant::now();
        for k in &keys {
            black_box(k.public_key());
        }
        t.push(start.elapsed());
        for &b in &backends {
            let start = Instant::now();
            pool.install(|| -> Result<()> {
                for (ins, outs) in base.chunks(batch).zip(out.chunks_mut(batch)) {
                    x25519_pairs_with(b, ins, outs)?;
                }
                Ok(())
            })?;
            t.push(start.elapsed());
            black_box(&out);
        }
        if run > 0 {
            for (all, x) in times.iter_mut().zip(t) {
                all.push(x);
            }
        }
    }
    let us: Vec<f64> = times
        .iter_mut()
        .map(|t| median(t) * 1e6 / count as f64)
        .collect();
    let line = |what: String, x: f64, base: f64| DhLine {
        what,
        us: x,
        speedup: if x > 0.0 { base / x } else { 0.0 },
    };
    let mut shared = vec![line(
        "x25519-dalek single-shot (1 thread)".into(),
        us[0],
        us[0],
    )];
    let mut keygen = vec![line(
        "x25519-dalek fixed-base table (1 thread)".into(),
        us[nb + 1],
        us[nb + 1],
    )];
    for (i, b) in backends.iter().enumerate() {
        shared.push(line(format!("batched {}", b.name()), us[1 + i], us[0]));
        keygen.push(line(
            format!("batched {} ladder on u = 9", b.name()),
            us[nb + 2 + i],
            us[nb + 1],
        ));
    }
    Ok(DhBenchReport {
        batch,
        count,
        threads,
        runs,
        detected: backend().name(),
        shared,
        keygen,
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

    #[test]
    fn dh_report_has_every_supported_backend_and_valid_json() {
        let r = bench_dh(3, 10, 1, 5).unwrap();
        assert_eq!((r.batch, r.count, r.threads, r.runs), (3, 10, 1, 5));
        let supported = secagg::crypto::x25519::Backend::ALL
            .iter()
            .filter(|b| b.is_supported())
            .count();
        assert_eq!(r.shared.len(), 1 + supported);
        assert_eq!(r.keygen.len(), 1 + supported);
        assert!(r
            .shared
            .iter()
            .chain(&r.keygen)
            .all(|l| l.us > 0.0 && l.speedup > 0.0));
        assert_eq!(r.shared[0].speedup, 1.0);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["shared"].as_array().unwrap().len(), 1 + supported);
        assert!(r.to_text().contains("speedup"));
    }
}
