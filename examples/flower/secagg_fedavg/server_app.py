"""The ServerApp: a plain Flower strategy wrapped in ``SecureAggregation``.

The example's own check (``verify``, on by default): after each round, the included
nodes' plaintext replies (kept by the example's ClientApp for verification only) give
the exact weighted mean of their updates; the secure mean must equal it within secagg's
reported bound, the total weight exactly. With distributed DP
(``dp-noise-multiplier > 0``) the secure mean is the unweighted mean of the clipped
updates plus noise: every element must lie within 6 reported noise standard deviations
of it (a false failure below 3e-9 per element, about 1e-5 per round for this model).
The run fails (the ServerApp raises) when a check fails or, without DP, when the global
loss did not go down.
"""

from __future__ import annotations

import time

import numpy as np
from flwr.app import Array, ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAdam, FedAvg

import secagg
from secagg.flower import SecureAggregation

from . import task

app = ServerApp()

#: run.py reads this (same process in Flower's simulation engine).
RESULT: dict = {}


def _verify(grid: Grid, strategy: SecureAggregation, fl_round: int, timeout: float) -> dict:
    info = strategy.history[-1]
    msgs = [Message(RecordDict(), dst_node_id=n, message_type="query.plain_reply")
            for n in info.included]
    replies = [r for r in grid.send_and_receive(msgs, timeout=timeout) if not r.has_error()]
    updates, weights = [], []
    for r in replies:
        c = r.content
        if int(c["verify.metrics"]["server-round"]) != fl_round:
            continue
        sent, new = c["verify.sent"], c["verify.arrays"]
        updates.append({k: new[k].numpy().astype(np.float64) - sent[k].numpy().astype(np.float64)
                        for k in sent})
        weights.append(int(c["verify.metrics"]["num-examples"]))
    ok = len(updates) == len(info.included) and sum(weights) == info.total_weight
    bound = info.mean_error_bound
    if info.dp is not None:
        # Unweighted, each update scaled to L2 norm <= clip; the noise of the mean.
        weights = [1.0] * len(updates)
        for u in updates:
            norm = float(np.sqrt(sum(float(np.sum(a * a)) for a in u.values())))
            scale = min(1.0, strategy.clip / norm) if norm > 0 else 1.0
            for k in u:
                u[k] = u[k] * scale
        var = info.dp["noise_variance"] + info.dp["rounding_variance_bound"]
        bound = 6.0 * float(np.sqrt(var)) / len(info.included)
        ok = len(updates) == len(info.included)
    err = 0.0
    if updates:
        total = sum(weights)
        for k, secure in info.mean_update.items():
            exact = sum(w * u[k] for w, u in zip(weights, updates)) / total
            err = max(err, float(np.max(np.abs(secure - exact))))
    ok = ok and err <= bound
    return {"ok": ok, "err": err, "bound": bound, "checked": len(updates),
            "included": len(info.included), "dropped": len(info.dropped)}


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = task.settings(context.run_config)
    RESULT.clear()
    rounds = int(cfg["num-server-rounds"])
    common = dict(fraction_train=float(cfg["fraction-train"]), fraction_evaluate=float(cfg["fraction-evaluate"]),
                  min_available_nodes=2)
    if cfg["strategy"] == "fedadam":
        inner = FedAdam(eta=0.05, tau=0.01, **common)
    else:
        inner = FedAvg(**common)
    secure = bool(cfg["secure"])
    strategy = inner
    z, budget = float(cfg["dp-noise-multiplier"]), float(cfg["dp-epsilon"])
    if secure and z > 0:
        strategy = SecureAggregation(  # with distributed DP: unweighted, L2 clip
            inner, dropout=float(cfg["dropout"]), corrupt=float(cfg["corrupt"]),
            clip=float(cfg["clip"]), bits=int(cfg["bits"]), timeout=float(cfg["round-timeout"]),
            dp=secagg.DistributedDP(noise_multiplier=z),
            dp_budget=(budget, 1e-5) if budget > 0 else None, on_budget="stop")
    elif secure:
        strategy = SecureAggregation(  # the one changed line
            inner, dropout=float(cfg["dropout"]), corrupt=float(cfg["corrupt"]),
            clip=float(cfg["clip"]), bits=int(cfg["bits"]),
            max_weight=int(cfg["max-weight"]), timeout=float(cfg["round-timeout"]))
    n_nodes = len(list(grid.get_node_ids()))
    data = [task.client_data(cfg, p) for p in range(max(n_nodes, 2))]
    x = np.concatenate([d[0] for d in data])
    y = np.concatenate([d[1] for d in data])
    checks, losses, times = [], [], []
    t_round = [time.perf_counter()]

    def evaluate_fn(fl_round: int, arrays: ArrayRecord):
        model = {k: a.numpy() for k, a in arrays.items()}
        loss, acc = task.loss_acc(model, x, y)
        losses.append(loss)
        now = time.perf_counter()
        if fl_round > 0:
            times.append(now - t_round[0])
        last = strategy.history[-1] if secure and strategy.history else None
        trained = last is not None and last.server_round == fl_round and last.error is None
        if fl_round > 0 and trained and cfg["verify"]:
            checks.append(_verify(grid, strategy, fl_round, float(cfg["round-timeout"])))
            print(f"[check] round {fl_round}: {checks[-1]}", flush=True)
        t_round[0] = time.perf_counter()
        return MetricRecord({"loss": loss, "accuracy": acc})

    arrays = ArrayRecord({k: Array(v) for k, v in task.init_model(cfg).items()})
    strategy.start(grid=grid, initial_arrays=arrays, num_rounds=rounds,
                   evaluate_fn=evaluate_fn)
    model = task.init_model(cfg)
    RESULT.update({"checks": checks, "losses": losses, "round_s": times,
                   "history": getattr(strategy, "history", []),
                   "parameters": int(sum(v.size for v in model.values())),
                   "model_bytes": int(sum(v.nbytes for v in model.values()))})
    failed = [c for c in checks if not c["ok"]]
    if failed:
        raise RuntimeError(f"secure aggregation check FAILED: {failed}")
    if not losses[-1] < losses[0] and not (secure and z > 0):
        raise RuntimeError(f"training diverged: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    if secure and z > 0:
        acct = strategy.accountant
        stop = strategy.stopped
        print(f"[check] DP: running (epsilon, delta) = {acct.spent() if acct else None} after "
              f"{acct.rounds if acct else 0} rounds"
              + (f"; training stopped at round {stop.server_round}: {stop}" if stop else ""),
              flush=True)
    RESULT["ok"] = True
    print(f"[check] PASS: loss {losses[0]:.4f} -> {losses[-1]:.4f}, "
          f"{len(checks)} rounds checked", flush=True)
