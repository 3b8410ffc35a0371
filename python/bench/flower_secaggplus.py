"""Per-client and server-unmasking time against Flower's SecAgg+, side by side in one run.

    python python/bench/flower_secaggplus.py [--n 100] [--dim 100000] [--k 15] [--t 8]
                                             [--dropout 0.1] [--reps 5] [--threads 1]
    python python/bench/flower_secaggplus.py --quick     # n = 20, d = 1000: seconds

Needs the ``secagg`` wheel, numpy and ``-r examples/flower/requirements.txt`` (flwr).
One process, the same inputs and drop-outs for both, repetitions alternating the order.

Flower (``flwr`` as installed): a whole SecAgg+ session per repetition, run by Flower's
own code on both sides. The server is ``SecAggPlusWorkflow``'s four stage methods
(``setup_stage``, ``share_keys_stage``, ``collect_masked_vectors_stage``,
``unmask_stage``), called in order as its ``__call__`` does, with a ``Grid`` whose
``send_and_receive`` hands each message to that node's client in this process; each
client is ``secaggplus_mod`` with its own ``Context``. ``num_shares = k`` (the client's
own share included, so k - 1 neighbours), ``reconstruction_threshold = t``, Flower's
default quantization (2^22 levels, clip 8.0, masks mod 2^32), ``max_weight = 1`` with
one example per client. The clients in the drop set get the collect-masked-vectors
message and never answer (the server then reconstructs their first secret keys and
removes their pairwise masks). Timed per client and stage:

* ``handler``: the stage function ``secaggplus_mod`` calls (``_setup``, ``_share_keys``,
  ``_collect_masked_vectors``, ``_unmask``): key generation, key agreement, Shamir
  shares and Fernet encryption, decryption, quantization, mask expansion and the
  serialization of the masked vector: the protocol's work.
* ``mod``: the whole ``secaggplus_mod`` call, which adds Flower's state handling (the
  state rebuilt from and saved into a ``ConfigRecord``), the message checks and the
  reply; the fit function it calls is timed and subtracted.

Server unmasking: ``unmask_stage`` minus the clients' handling inside it (the time
spent in ``send_and_receive``) and minus the strategy's ``aggregate_fit`` (FedAvg's
averaging; here a stub that keeps the aggregate): collecting the shares, Shamir
reconstruction, mask re-expansion, key agreements for the drop-outs, dequantization.
The aggregate must equal the plaintext mean of the surviving clients within one
quantization step, or the script exits 1.

Ours (``secagg``): SecAgg+ with a Harary graph of degree k (k neighbours, one more
than Flower's), threshold t, 22-bit quantization into a 32-bit ring (Flower's),
clip 8.0, the same drop-outs (silent from MaskedInputCollection on). Two drivers:

* ``bindings``: a Python loop over ``secagg.Client`` / ``secagg.Server`` passing every
  message as bytes; per client, the time of ``Client(...)`` + ``start()`` (round 0) and
  of each ``handle`` call (encode, decode, protocol work and the binding crossing).
* ``core``: ``secagg.simulate(sequential=True)``, each client's handler timed inside
  Rust, messages passed as values (no encoding, no Python).

Per client = the sum over rounds of the mean over the clients that play the round;
server unmasking = the server's Unmasking round (receiving the shares and closing it).
Both must reproduce the plaintext sum (within the quantizer's error bound), or exit 1.
``--threads`` sets ``RAYON_NUM_THREADS`` (default 1: one core for our client, as for
Flower's, whose mask expansion is single-threaded numpy).

Prints medians over the repetitions per stage, the spread, and the ratios Flower / ours.
"""

import argparse
import copy
import logging
import os
import random
import statistics
import sys
import time

import numpy as np

STAGES = ["setup", "share_keys", "collect_masked_vectors", "unmask"]
# Our round that does the work of each Flower stage.
OURS = {
    "setup": "AdvertiseKeys",
    "share_keys": "ShareKeys",
    "collect_masked_vectors": "MaskedInputCollection",
    "unmask": "Unmasking",
}


# Flower's primitives, as secaggplus_mod's namespace names them.
PARTS = ["generate_key_pairs", "generate_shared_key", "create_shares", "encrypt",
         "decrypt", "quantize", "pseudo_rand_gen"]


class Inconsistent(Exception):
    """A result differs from the plaintext computation."""


# ---------------------------------------------------------------------------- Flower


def flower_session(xs, drop, k, t, rng_seed):
    """One Flower SecAgg+ session; returns per-stage client means and server times."""
    import importlib

    import flwr.compat.common.recorddict_compat as compat
    from flwr.app import ConfigRecord, Context, Message, RecordDict
    from flwr.common import (
        Code,
        FitIns,
        FitRes,
        Status,
        ndarrays_to_parameters,
        parameters_to_ndarrays,
    )
    from flwr.common.secure_aggregation.secaggplus_constants import (
        RECORD_KEY_CONFIGS,
        Key,
    )
    from flwr.server.compat.legacy_context import LegacyContext
    from flwr.supercore.task_identity import TaskIdentity
    from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD
    from flwr.server.workflow.secure_aggregation.secaggplus_workflow import (
        SecAggPlusWorkflow,
        WorkflowState,
    )

    # The module (its package re-exports the function under the same name).
    fmod = importlib.import_module("flwr.client.mod.secure_aggregation.secaggplus_mod")
    # What a ServerApp process has set before its workflow builds messages.
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 0, 0, 0
    n = len(xs)
    nids = list(range(1, n + 1))  # Flower node ids; client i is node i + 1
    random.seed(rng_seed)  # setup_stage shuffles the ring with `random`
    np.random.seed(rng_seed)  # quantize's stochastic rounding uses numpy's global RNG

    handler_s = {s: {} for s in STAGES}
    mod_s = {s: {} for s in STAGES}
    current = {"nid": None, "stage": None}

    class Proxy:  # what the workflow reads from a ClientProxy
        def __init__(self, node_id):
            self.node_id = node_id

    class Strategy:  # configure_fit / aggregate_fit, as the workflow calls them
        aggregate = None
        results = 0

        def configure_fit(self, server_round, parameters, client_manager):
            return [(Proxy(nid), FitIns(parameters, {})) for nid in nids]

        def aggregate_fit(self, server_round, results, failures):
            t0 = time.perf_counter()
            Strategy.results = len(results)
            Strategy.aggregate = parameters_to_ndarrays(results[0][1].parameters)
            Strategy.seconds = time.perf_counter() - t0
            return None, {}

    class FlowerClient:
        def __init__(self, nid, x):
            self.nid = nid
            self.ctx = Context(
                run_id=0, node_id=nid, node_config={}, state=RecordDict(), run_config={}
            )
            self.params = ndarrays_to_parameters([x])
            self.silent = False
            self.fit_s = 0.0

        def fit(self, msg, ctxt):
            t0 = time.perf_counter()
            res = FitRes(Status(Code.OK, ""), self.params, 1, {})
            out = Message(compat.fitres_to_recorddict(res, keep_input=True), reply_to=msg)
            self.fit_s += time.perf_counter() - t0
            return out

        def handle(self, msg):
            stage = msg.content.config_records[RECORD_KEY_CONFIGS][Key.STAGE]
            if self.nid in drop_nids and stage == "collect_masked_vectors":
                self.silent = True
            if self.silent:
                return None
            current["nid"], current["stage"] = self.nid, stage
            self.fit_s = 0.0
            t0 = time.perf_counter()
            out = fmod.secaggplus_mod(msg, self.ctx, self.fit)
            mod_s[stage][self.nid] = time.perf_counter() - t0 - self.fit_s
            if out.has_error():
                raise Inconsistent(f"Flower client {self.nid} failed: {out.error}")
            return out

    drop_nids = {i + 1 for i in drop}
    clients = {nid: FlowerClient(nid, xs[nid - 1]) for nid in nids}

    class Grid:
        inside = 0.0

        def send_and_receive(self, messages, timeout=None):
            t0 = time.perf_counter()
            replies = []
            for m in messages:
                # A copy per node, as a transport delivers (setup_stage sends one
                # content object to every node, and the mod pops from it).
                r = clients[m.metadata.dst_node_id].handle(copy.deepcopy(m))
                if r is not None:
                    replies.append(r)
            Grid.inside += time.perf_counter() - t0
            return replies

    # Time the stage functions secaggplus_mod dispatches to (looked up as module
    # globals at call time, so wrapping them here is what the mod calls).
    originals = {s: getattr(fmod, "_" + s) for s in STAGES}

    def timed(stage, f):
        def g(*a, **kw):
            t0 = time.perf_counter()
            r = f(*a, **kw)
            handler_s[stage][current["nid"]] = time.perf_counter() - t0
            return r

        return g

    # The primitives the stage functions call, imported into the mod's namespace:
    # accumulated per client, for the breakdown of Flower's client time.
    parts_s = {p: {} for p in PARTS}
    part_originals = {p: getattr(fmod, p) for p in PARTS}

    def counted(part, f):
        def g(*a, **kw):
            t0 = time.perf_counter()
            r = f(*a, **kw)
            d = parts_s[part]
            d[current["nid"]] = d.get(current["nid"], 0.0) + time.perf_counter() - t0
            return r

        return g

    for s in STAGES:
        setattr(fmod, "_" + s, timed(s, originals[s]))
    for part in PARTS:
        setattr(fmod, part, counted(part, part_originals[part]))
    try:
        workflow = SecAggPlusWorkflow(
            num_shares=k, reconstruction_threshold=t, max_weight=1.0, clipping_range=8.0
        )
        base = Context(run_id=0, node_id=0, node_config={}, state=RecordDict(), run_config={})
        strategy = Strategy()
        ctx = LegacyContext(base, strategy=strategy)
        ctx.state.config_records[MAIN_CONFIGS_RECORD] = ConfigRecord({"current_round": 1})
        ctx.state.array_records[MAIN_PARAMS_RECORD] = compat.parameters_to_arrayrecord(
            ndarrays_to_parameters([np.zeros(1)]), keep_input=True
        )
        state = WorkflowState()
        grid = Grid()
        server_s = {}
        for s in STAGES:
            step = getattr(workflow, s + "_stage")
            Grid.inside, Strategy.seconds = 0.0, 0.0
            t0 = time.perf_counter()
            ok = step(grid, ctx, state)
            server_s[s] = time.perf_counter() - t0 - Grid.inside - Strategy.seconds
            if not ok:
                raise Inconsistent(f"Flower's {s} stage halted the session")
    finally:
        for s in STAGES:
            setattr(fmod, "_" + s, originals[s])
        for part in PARTS:
            setattr(fmod, part, part_originals[part])

    active = [i for i in range(n) if i not in drop]
    if Strategy.results != len(active) or Strategy.aggregate is None:
        raise Inconsistent(f"Flower aggregated {Strategy.results} results, not {len(active)}")
    got = Strategy.aggregate[0]
    want = np.mean(np.stack([xs[i].astype(np.float64) for i in active]), axis=0)
    step_size = 2 * 8.0 / 4194304
    err = float(np.max(np.abs(got - want)))
    if err > step_size * 1.001:
        raise Inconsistent(f"Flower's aggregate is {err:.3g} off the plaintext mean")
    return {
        "handler": {s: statistics.mean(handler_s[s].values()) for s in STAGES},
        "mod": {s: statistics.mean(mod_s[s].values()) for s in STAGES},
        "server": server_s,
        # Per client over the whole session (the active clients' mean).
        "parts": {p: sum(parts_s[p].get(i + 1, 0.0) for i in active) / len(active)
                  for p in PARTS},
    }


# ---------------------------------------------------------------------------- ours


def check_sum(agg, xs, active, what):
    if agg.included != active:
        raise Inconsistent(f"{what}: included {agg.included}, expected {active}")
    want = np.sum(np.stack([xs[i].astype(np.float64) for i in active]), axis=0)
    err = float(np.max(np.abs(np.asarray(agg.sum) - want)))
    if err > agg.error_bound:
        raise Inconsistent(f"{what}: sum {err:.3g} off the plaintext sum "
                           f"(bound {agg.error_bound:.3g})")


def ours_bindings(secagg, cfg, xs, drop, seed):
    """Our session over the bindings, bytes in and out; per-round client means."""
    n = cfg.n
    times = {}  # round -> [seconds per client]
    clients, inbox = [], {}
    times["AdvertiseKeys"] = []
    for i in range(n):
        t0 = time.perf_counter()
        c = secagg.Client(cfg, i, None, seed=seed[:-1] + bytes([i % 256]))
        inbox[i] = c.start()
        times["AdvertiseKeys"].append(time.perf_counter() - t0)
        clients.append(c)
    # The input's quantization, where Flower's client does it (in its masking stage).
    quant = []
    for i in range(n):
        if i in drop:
            continue
        t0 = time.perf_counter()
        clients[i].provide_input(xs[i])
        quant.append(time.perf_counter() - t0)
    server = secagg.Server(cfg)
    server_s = {}
    silent = set()
    while True:
        collecting = server.round
        t0 = time.perf_counter()
        for i, m in inbox.items():
            server.receive(i, m)
        out = server.close_round()
        server_s[collecting] = time.perf_counter() - t0
        if not out:
            break
        rnd = server.round
        if rnd == "MaskedInputCollection":
            silent = set(drop)
        inbox = {}
        ts = times.setdefault(rnd, [])
        for i, m in out.items():
            if i in silent:
                continue
            t0 = time.perf_counter()
            inbox[i] = clients[i].handle(m)
            ts.append(time.perf_counter() - t0)
    active = [i for i in range(n) if i not in drop]
    check_sum(server.result(), xs, active, "ours (bindings)")
    client = {r: statistics.mean(v) for r, v in times.items()}
    client["quantize"] = statistics.mean(quant)
    client["MaskedInputCollection"] += client["quantize"]
    return {"client": client, "server": server_s}


def ours_core(secagg, cfg, xs, drop, seed):
    sim = secagg.simulate(cfg, xs, drop={i: "MaskedInputCollection" for i in drop},
                          seed=seed, sequential=True)
    check_sum(sim.aggregate, xs, [i for i in range(cfg.n) if i not in drop], "ours (core)")
    return {
        "client": {r["round"]: r["client_mean_s"] for r in sim.rounds},
        "server": {r["round"]: r["server_s"] for r in sim.rounds},
    }


# ---------------------------------------------------------------------------- report


def pick(row, path):
    for p in path:
        row = row[p]
    return row


def med(rows, *path):
    vals = [pick(row, path) for row in rows]
    return statistics.median(vals), min(vals), max(vals)


def fmt(v):
    m, lo, hi = v
    return f"{m * 1e3:10.3f} [{lo * 1e3:.3f}-{hi * 1e3:.3f}]"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--dim", type=int, default=100_000)
    p.add_argument("--k", type=int, default=15, help="our degree; Flower's num_shares")
    p.add_argument("--t", type=int, default=8, help="threshold (reconstruction_threshold)")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="RAYON_NUM_THREADS for ours")
    p.add_argument("--quick", action="store_true", help="n=20, d=1000, k=5, t=3, 2 reps")
    a = p.parse_args()
    if a.quick:
        a.n, a.dim, a.k, a.t, a.reps = 20, 1000, 5, 3, 2
    # Before the first use of our rayon pool (it reads the variable once).
    os.environ["RAYON_NUM_THREADS"] = str(a.threads)
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    import flwr

    logging.getLogger("flwr").setLevel(logging.WARNING)

    import secagg

    rng = np.random.default_rng(0)
    xs = [rng.uniform(-1, 1, a.dim).astype(np.float32) for _ in range(a.n)]
    drop = sorted(rng.choice(a.n, size=round(a.n * a.dropout), replace=False).tolist())
    cfg = secagg.Config(a.n, a.dim, threshold=a.t, degree=a.k, graph_seed=bytes(32),
                        clip=8.0, bits=22, ring_bits=32)
    load0 = os.getloadavg()
    print(f"n={a.n} d={a.dim} k={a.k} t={a.t} dropped={len(drop)} reps={a.reps} "
          f"threads(ours)={a.threads} flwr={flwr.__version__} "
          f"cpus={os.cpu_count()} load={load0[0]:.2f},{load0[1]:.2f},{load0[2]:.2f}",
          flush=True)

    rows = []
    for r in range(a.reps):
        seed = bytes([r + 1]) * 32
        row = {}
        order = ["flower", "bindings", "core"]
        if r % 2:
            order.reverse()
        for which in order:
            if which == "flower":
                row[which] = flower_session(xs, set(drop), a.k, a.t, r)
            elif which == "bindings":
                row[which] = ours_bindings(secagg, cfg, xs, set(drop), seed)
            else:
                row[which] = ours_core(secagg, cfg, xs, set(drop), seed)
        for side, key in (("flower", "handler"), ("flower", "mod"),
                          ("bindings", "client"), ("core", "client")):
            d = row[side][key]
            rounds = STAGES if side == "flower" else [OURS[s] for s in STAGES]
            # ConsistencyCheck is played only in the malicious model.
            row[side][key + "_total"] = sum(d.get(s, 0.0) for s in rounds)
        f = row["flower"]
        f["handler_noquant_total"] = f["handler_total"] - f["parts"]["quantize"]
        rows.append(row)
        print(f"rep {r + 1}: client total flower {f['handler_total'] * 1e3:.2f} ms,"
              f" ours {row['core']['client_total'] * 1e3:.3f} ms (core),"
              f" {row['bindings']['client_total'] * 1e3:.3f} ms (bindings);"
              f" unmasking flower {f['server']['unmask'] * 1e3:.1f} ms,"
              f" ours {row['core']['server']['Unmasking'] * 1e3:.2f} ms", flush=True)

    w = 26
    print(f"\nper client, ms: median [min-max] over {a.reps} repetitions")
    print(f"{'stage':<24}{'flower handler':>{w}}{'flower mod':>{w}}"
          f"{'ours bindings':>{w}}{'ours core':>{w}}")
    for s in STAGES:
        o = OURS[s]
        print(f"{s:<24}{fmt(med(rows, 'flower', 'handler', s)):>{w}}"
              f"{fmt(med(rows, 'flower', 'mod', s)):>{w}}"
              f"{fmt(med(rows, 'bindings', 'client', o)):>{w}}"
              f"{fmt(med(rows, 'core', 'client', o)):>{w}}")
    print(f"{'  of which quantize':<24}{fmt(med(rows, 'flower', 'parts', 'quantize')):>{w}}"
          f"{'':>{w}}{fmt(med(rows, 'bindings', 'client', 'quantize')):>{w}}"
          f"{'(not timed)':>{w}}")
    print(f"{'total':<24}{fmt(med(rows, 'flower', 'handler_total')):>{w}}"
          f"{fmt(med(rows, 'flower', 'mod_total')):>{w}}"
          f"{fmt(med(rows, 'bindings', 'client_total')):>{w}}"
          f"{fmt(med(rows, 'core', 'client_total')):>{w}}")
    print(f"{'total less quantize':<24}{fmt(med(rows, 'flower', 'handler_noquant_total')):>{w}}")
    print("\nFlower's client primitives, ms per client over the session: median [min-max]")
    for part in PARTS:
        print(f"  {part:<22}{fmt(med(rows, 'flower', 'parts', part)):>{w}}")
    print("\nserver, ms: median [min-max]")
    print(f"{'stage':<24}{'flower':>{w}}{'':>{w}}{'ours bindings':>{w}}{'ours core':>{w}}")
    for s in STAGES:
        o = OURS[s]
        print(f"{s:<24}{fmt(med(rows, 'flower', 'server', s)):>{w}}{'':>{w}}"
              f"{fmt(med(rows, 'bindings', 'server', o)):>{w}}"
              f"{fmt(med(rows, 'core', 'server', o)):>{w}}")

    print("\nratios flower / ours: of the medians, and [min-max] of the per-repetition ratios")
    for name, num, den in (
        ("client: flower handler / ours core", ("flower", "handler_total"),
         ("core", "client_total")),
        ("client: same, less quantize / ours core", ("flower", "handler_noquant_total"),
         ("core", "client_total")),
        ("client: flower handler / ours bindings", ("flower", "handler_total"),
         ("bindings", "client_total")),
        ("client: flower mod / ours bindings", ("flower", "mod_total"),
         ("bindings", "client_total")),
        ("server unmasking: flower / ours core", ("flower", "server", "unmask"),
         ("core", "server", "Unmasking")),
        ("server unmasking: flower / ours bindings", ("flower", "server", "unmask"),
         ("bindings", "server", "Unmasking")),
    ):
        per = [pick(row, num) / pick(row, den) for row in rows]
        m = med(rows, *num)[0] / med(rows, *den)[0]
        print(f"{name:<44} x{m:8.1f}  [{min(per):.1f}-{max(per):.1f}]")
    load1 = os.getloadavg()
    print(f"load at the end: {load1[0]:.2f},{load1[1]:.2f},{load1[2]:.2f}")


if __name__ == "__main__":
    try:
        main()
    except Inconsistent as e:
        print(f"inconsistent: {e}", file=sys.stderr)
        sys.exit(1)
