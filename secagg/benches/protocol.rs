//! A full session at n = 100, d = 10^5 (32-bit ring), SecAgg+ graph of degree k = 15,
//! threshold t = 8, 10% of the clients dropping after sharing their keys (before the
//! masked-input round, so the server must reconstruct their masking keys and remove
//! their pairwise masks): each round's client handler and server round, separately.
//!
//! One session is recorded first (every message, the server state before each round).
//! A client benchmark then replays one client (rotating over all clients that play the
//! round) up to the round, outside the timing, and times its handler; client handlers
//! are deterministic given their seeded random stream, so the replayed state matches the
//! recorded messages. A server benchmark clones the recorded server state and times
//! ingesting the round's messages plus closing the round.
//!
//! Two groups: wall time with every core (the global rayon pool), and process CPU time
//! with each timed routine run in a one-thread rayon pool (one core's work; robust to
//! other processes' load, and the figure to compare with single-threaded code).
//!
//! `cargo bench --bench protocol`

use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rand_chacha::ChaCha20Rng;
use secagg::crypto::rng::{seeded_rng, Rng};
use secagg::protocol::client::Client;
use secagg::protocol::config::Config;
use secagg::protocol::graph::GraphSpec;
use secagg::protocol::messages::{ClientMessage, ServerMessage};
use secagg::protocol::server::Server;
use secagg::ring::{Ring, RingVec};
use secagg::sim::{self, DropSchedule};
use secagg::{ClientId, Round};

const N: usize = 100;
const D: usize = 100_000;
const K: usize = 15;
const T: usize = 8;
const DROPPED: usize = 10;

struct Recording {
    config: Arc<Config>,
    inputs: Vec<Vec<RingVec>>,
    /// Rounds played, in order.
    rounds: Vec<Round>,
    /// Server state before ingesting each round's messages.
    server_before: Vec<Server>,
    /// Client messages of each round.
    client_msgs: Vec<Vec<(ClientId, ClientMessage)>>,
    /// Server messages that close each round (to be handled in the next one).
    server_msgs: Vec<Vec<(ClientId, ServerMessage)>>,
}

fn client_rng(id: ClientId) -> ChaCha20Rng {
    let mut seed = [0xc1; 32];
    seed[..4].copy_from_slice(&id.to_be_bytes());
    seeded_rng(seed)
}

fn record() -> Recording {
    let config = Arc::new(
        Config::builder(N, T)
            .graph(GraphSpec::Harary {
                degree: K,
                seed: [7; 32],
            })
            .vector("", D, Ring::pow2(32).unwrap())
            .context(*b"bench")
            .build()
            .unwrap(),
    );
    let mut rng = seeded_rng([1; 32]);
    let inputs = sim::random_inputs(&config, &mut rng);
    let mut schedule = DropSchedule::none(N);
    let mut dropped = 0;
    while dropped < DROPPED {
        let u = (rng.next_u32() % N as u32) as ClientId;
        if schedule.get(u).is_none() {
            schedule.set(u, Some(Round::MaskedInputCollection));
            dropped += 1;
        }
    }
    let mut server = Server::new(Arc::clone(&config));
    let mut rngs: Vec<ChaCha20Rng> = (0..N as ClientId).map(client_rng).collect();
    let mut clients = Vec::new();
    let mut msgs = Vec::new();
    for u in 0..N {
        let (c, m) = Client::new(
            Arc::clone(&config),
            u as ClientId,
            inputs[u].clone(),
            None,
            &mut rngs[u],
        )
        .unwrap();
        clients.push(c);
        msgs.push((u as ClientId, m));
    }
    let mut rec = Recording {
        config,
        inputs,
        rounds: Vec::new(),
        server_before: Vec::new(),
        client_msgs: Vec::new(),
        server_msgs: Vec::new(),
    };
    let mut round = Round::AdvertiseKeys;
    loop {
        rec.rounds.push(round);
        rec.server_before.push(server.clone());
        for (u, m) in &msgs {
            server.receive(*u, m.clone()).unwrap();
        }
        let replies = server.close_round().unwrap();
        rec.client_msgs.push(std::mem::take(&mut msgs));
        rec.server_msgs.push(replies.clone());
        let Some((_, first)) = replies.first() else {
            break;
        };
        round = first.round();
        for (u, m) in replies {
            if schedule.is_silent(u, round) {
                continue;
            }
            let i = u as usize;
            msgs.push((u, clients[i].handle(m, &mut rngs[i]).unwrap()));
        }
    }
    let out = server.output().unwrap();
    assert_eq!(out.included.len(), N - DROPPED);
    assert_eq!(
        out.sums,
        sim::plaintext_sum(&rec.config, &rec.inputs, &out.included).unwrap()
    );
    rec
}

/// Client `u` replayed to the point where it handles round `k`'s server message.
fn replay(rec: &Recording, u: ClientId, k: usize) -> (Client, ChaCha20Rng) {
    let mut rng = client_rng(u);
    let (mut c, _) = Client::new(
        Arc::clone(&rec.config),
        u,
        rec.inputs[u as usize].clone(),
        None,
        &mut rng,
    )
    .unwrap();
    for msgs in &rec.server_msgs[..k - 1] {
        let m = msgs.iter().find(|(v, _)| *v == u).unwrap().1.clone();
        c.handle(m, &mut rng).unwrap();
    }
    (c, rng)
}

/// Process CPU time (all threads), for figures that a neighbor's load cannot inflate
/// the way it inflates wall time. Used with a one-thread rayon pool, it is the time one
/// core spends.
struct ProcessCpuTime(WallTime);

fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID is supported on
    // Linux. A failure leaves `ts` zero, which only spoils the figure.
    unsafe {
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ProcessCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        process_cpu()
    }
    fn end(&self, i: Duration) -> Duration {
        process_cpu().saturating_sub(i)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

fn recording() -> &'static Recording {
    static REC: OnceLock<Recording> = OnceLock::new();
    REC.get_or_init(record)
}

/// Every round, client and server. `pool`: run each timed routine inside this pool
/// (a one-thread pool for the CPU-time figures); `None`: the global pool.
fn rounds<M: Measurement>(c: &mut Criterion<M>, group: &str, pool: Option<&rayon::ThreadPool>) {
    let rec = recording();
    let run = |f: &mut (dyn FnMut() + Send)| match pool {
        Some(p) => p.install(f),
        None => f(),
    };
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));

    for (k, round) in rec.rounds.iter().enumerate() {
        let name = format!("{round:?}");
        // Client: the clients that answered this round, in turn.
        let players: Vec<ClientId> = rec.client_msgs[k].iter().map(|(u, _)| *u).collect();
        let mut next = 0usize;
        if k == 0 {
            g.bench_function(format!("client/{name}"), |b| {
                b.iter_batched(
                    || {
                        next = (next + 1) % players.len();
                        let u = players[next];
                        (u, rec.inputs[u as usize].clone(), client_rng(u))
                    },
                    |(u, x, mut rng)| {
                        let mut x = Some(x);
                        let mut out = None;
                        run(&mut || {
                            let x = x.take().unwrap_or_default();
                            out = Some(Client::new(Arc::clone(&rec.config), u, x, None, &mut rng));
                        });
                        black_box(out)
                    },
                    BatchSize::PerIteration,
                )
            });
        } else {
            g.bench_function(format!("client/{name}"), |b| {
                b.iter_batched(
                    || {
                        next = (next + 1) % players.len();
                        let u = players[next];
                        let (c, rng) = replay(rec, u, k);
                        let m = rec.server_msgs[k - 1]
                            .iter()
                            .find(|(v, _)| *v == u)
                            .unwrap()
                            .1
                            .clone();
                        (c, rng, m)
                    },
                    |(mut c, mut rng, m)| {
                        let mut m = Some(m);
                        let mut out = None;
                        run(&mut || {
                            if let Some(m) = m.take() {
                                out = Some(c.handle(m, &mut rng).unwrap());
                            }
                        });
                        black_box((c, out))
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        // Server: ingest the round's messages and close it.
        g.bench_function(format!("server/{name}"), |b| {
            b.iter_batched(
                || (rec.server_before[k].clone(), rec.client_msgs[k].clone()),
                |(mut s, msgs)| {
                    let mut msgs = Some(msgs);
                    let mut replies = None;
                    run(&mut || {
                        for (u, m) in msgs.take().unwrap_or_default() {
                            s.receive(u, m).unwrap();
                        }
                        replies = Some(s.close_round().unwrap());
                    });
                    black_box((s, replies))
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// Wall time, every core (the global rayon pool).
fn wall(c: &mut Criterion) {
    rounds(c, "session_n100_d1e5_k15_t8_drop10", None);
}

/// CPU time on one core (a one-thread pool).
fn cpu(c: &mut Criterion<ProcessCpuTime>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    rounds(c, "session_n100_d1e5_k15_t8_drop10_cpu1", Some(&pool));
}

criterion_group!(wall_time, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(ProcessCpuTime(WallTime));
    targets = cpu
}
criterion_main!(wall_time, cpu_time);
