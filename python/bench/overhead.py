"""The Python bindings' overhead: one session driven from Python vs the same loop in Rust.

    python python/bench/overhead.py [--n 100] [--dim 100000] [--reps 3]
                                    [--degree 15 --threshold 8]

Both drivers run in this process on the same inputs and parameters, alternating, with
every message encoded and decoded and clients one after another (each client's mask
expansion still uses every core): ``_drive_in_rust`` is the loop written in Rust,
the other is the same loop in Python over ``secagg.Client`` / ``secagg.Server``. A third
line is ``secagg.simulate(sequential=True)``: the Rust simulator, clients one after
another, messages passed as values (no encoding).
Prints medians over the repetitions and the ratios.
"""

import argparse
import statistics
import time

import numpy as np

import secagg
from secagg._secagg import _drive_in_rust


def drive_in_python(cfg, xs, seed):
    n = cfg.n
    client_s = [0.0] * n
    clients = []
    inbox = {}
    for i in range(n):
        t0 = time.perf_counter()
        c = secagg.Client(cfg, i, xs[i], seed=seed[:-1] + bytes([i % 256]))
        inbox[i] = c.start()
        client_s[i] += time.perf_counter() - t0
        clients.append(c)
    server = secagg.Server(cfg)
    server_s = 0.0
    while True:
        t0 = time.perf_counter()
        for i, m in inbox.items():
            server.receive(i, m)
        out = server.close_round()
        server_s += time.perf_counter() - t0
        if not out:
            break
        inbox = {}
        for i, m in out.items():
            t0 = time.perf_counter()
            inbox[i] = clients[i].handle(m)
            client_s[i] += time.perf_counter() - t0
    assert len(server.result().included) == n
    return {"client_s": client_s, "server_s": server_s}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--dim", type=int, default=100_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--degree", type=int, help="Harary degree (default: find_params)")
    p.add_argument("--threshold", type=int, help="threshold (alone: complete graph)")
    a = p.parse_args()
    if a.threshold is not None:
        kw = {"threshold": a.threshold, "degree": a.degree}
    else:
        kw = {"dropout": 0.1, "corrupt": 0.1}
    cfg = secagg.Config(a.n, a.dim, graph_seed=bytes(32), clip=1.0, bits=16, **kw)
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1, 1, a.dim).astype(np.float32) for _ in range(a.n)]
    print(f"n={a.n} d={a.dim} degree={cfg.degree or a.n - 1} t={cfg.threshold} "
          f"ring_bits={cfg.quantizer.ring_bits} (float32 in, 16-bit quantization)")

    rows = {"python": ([], []), "rust": ([], []), "simulate": ([], [])}
    for r in range(a.reps):
        seed = bytes([r + 1]) * 32
        # Alternate the order, so that neither driver always runs first.
        if r % 2 == 0:
            py = drive_in_python(cfg, xs, seed)
            rs = _drive_in_rust(cfg, xs, seed)
        else:
            rs = _drive_in_rust(cfg, xs, seed)
            py = drive_in_python(cfg, xs, seed)
        sim = secagg.simulate(cfg, xs, seed=seed, sequential=True)
        for name, (c, s) in (
            ("python", (statistics.mean(py["client_s"]), py["server_s"])),
            ("rust", (statistics.mean(rs["client_s"]), rs["server_s"])),
            ("simulate", (sim.client_total_s, sim.server_total_s)),
        ):
            rows[name][0].append(c)
            rows[name][1].append(s)

    med = {k: (statistics.median(c), statistics.median(s)) for k, (c, s) in rows.items()}
    print(f"{'driver':<34}{'client (mean, s)':>18}{'server (s)':>14}")
    labels = {
        "python": "Python loop over the bindings",
        "rust": "same loop in Rust (_drive_in_rust)",
        "simulate": "simulate(sequential=True), no bytes",
    }
    for k in ("python", "rust", "simulate"):
        print(f"{labels[k]:<34}{med[k][0]:>18.4f}{med[k][1]:>14.4f}")
    print(f"overhead python/rust: client x{med['python'][0] / med['rust'][0]:.3f}, "
          f"server x{med['python'][1] / med['rust'][1]:.3f}  (medians of {a.reps})")

    # The fixed cost of one call across the binding: a call that does no protocol work
    # (``Client.start()`` copies the stored round-0 message into a new bytes object).
    c = secagg.Client(cfg, 0, xs[0])
    calls = 100_000
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            c.start()
        best = min(best, (time.perf_counter() - t0) / calls)
    per_session = a.n * (len(sim.rounds) + 1) * 2 + len(sim.rounds)
    print(f"one binding call (Client.start, {len(c.start())}-byte result): {best * 1e6:.2f} us; "
          f"a session makes ~{per_session} calls: ~{per_session * best * 1e3:.2f} ms in all")


if __name__ == "__main__":
    main()
