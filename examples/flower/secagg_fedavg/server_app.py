"""The ServerApp: FedAvg whose weighted sum of updates is computed by secagg.

Per FL round: send the model and the session parameters to every node, run the secagg
session over Flower messages (a node whose reply is an error, or missing, has dropped
out), take the weighted mean of the included clients' updates from
``secagg.Server.result()``, and check it against Flower's own FedAvg aggregation
(``aggregate_arrayrecords``) of the same clients' plaintext updates.
"""

import time

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy.strategy_utils import aggregate_arrayrecords

import secagg

from .task import loss, true_model

app = ServerApp()

# The ServerApp runs in run.py's process: run.py sets SETTINGS (Flower's
# run_simulation passes no run config) and reads RESULT.
SETTINGS: dict = {
    "num-clients": 20,
    "fl-rounds": 3,
    "dim": 1000,
    "dropout": 0.1,
    "corrupt": 0.1,
    "clip": 1.0,
    "bits": 20,
    "round-timeout": 60.0,
}
RESULT: dict = {}

MAX_EXAMPLES = 120  # task.client_data: at most 120 examples per client (the weight)


def _config_record(config: secagg.Config, client_id: int, fl_round: int) -> ConfigRecord:
    params = {k: v for k, v in config.to_dict().items() if v is not None}
    params.update({"client-id": client_id, "fl-round": fl_round})
    return ConfigRecord(params)


def _send(grid: Grid, messages, timeout: float):
    """Sends and collects; replies that carry an error are drop-outs."""
    messages = list(messages)
    replies = list(grid.send_and_receive(messages, timeout=timeout))
    ok = {r.metadata.src_node_id: r for r in replies if not r.has_error()}
    # An error reply, or none before the timeout: that node dropped out.
    failed = [m.metadata.dst_node_id for m in messages if m.metadata.dst_node_id not in ok]
    return ok, failed


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = {**SETTINGS, **context.run_config}
    num_clients = int(cfg["num-clients"])
    fl_rounds = int(cfg["fl-rounds"])
    dim = int(cfg["dim"])
    timeout = float(cfg.get("round-timeout", 60.0))

    while len(list(grid.get_node_ids())) < num_clients:
        time.sleep(0.1)
    nodes = sorted(grid.get_node_ids())[:num_clients]
    client_of = {node: i for i, node in enumerate(nodes)}
    node_of = dict(enumerate(nodes))

    model = np.zeros(dim, dtype=np.float64)
    history = []
    for fl_round in range(1, fl_rounds + 1):
        config = secagg.Config(
            num_clients,
            dim,
            dropout=float(cfg["dropout"]),
            corrupt=float(cfg["corrupt"]),
            clip=float(cfg["clip"]),
            bits=int(cfg["bits"]),
            max_weight=MAX_EXAMPLES,
            context=f"flower run {context.run_id} round {fl_round}".encode(),
        )
        server = secagg.Server(config)
        t0 = time.perf_counter()

        # Round 0: train, then start the session.
        start = [
            Message(
                RecordDict(
                    {
                        "model": ArrayRecord({"w": Array(model)}),
                        "secagg": _config_record(config, client_of[node], fl_round),
                    }
                ),
                dst_node_id=node,
                message_type="train.secagg_start",
            )
            for node in nodes
        ]
        replies, dropped = _send(grid, start, timeout)
        workers = set()
        while True:
            for node, reply in replies.items():
                workers.add(int(reply.content["secagg"]["worker-pid"]))
                try:
                    server.receive(client_of[node], reply.content["secagg"]["msg"])
                except secagg.SecAggError as e:
                    # A message the server rejects counts as that client dropping out.
                    print(f"  rejected message from client {client_of[node]}: {e}")
            outgoing = server.close_round()
            if not outgoing:
                break
            step = [
                Message(
                    RecordDict({"secagg": ConfigRecord({"msg": m, "round": server.round})}),
                    dst_node_id=node_of[cid],
                    message_type="train.secagg_step",
                )
                for cid, m in outgoing.items()
            ]
            replies, failed = _send(grid, step, timeout)
            dropped += failed
        agg = server.result()
        secure_mean = agg.mean()
        elapsed = time.perf_counter() - t0

        # Verification only: Flower's FedAvg over the same clients' plaintext updates.
        plain_replies, _ = _send(
            grid,
            [
                Message(RecordDict(), dst_node_id=node_of[cid], message_type="query.plain_update")
                for cid in agg.included
            ],
            timeout,
        )
        records = [r.content for r in plain_replies.values()]
        updates = [r["update"]["w"].numpy().astype(np.float64) for r in records]
        weights = [int(r["metrics"]["num-examples"]) for r in records]
        clipped = sum(int(r["metrics"]["clipped"]) for r in records)
        # Exact weighted mean (float64): secagg must be within its documented bound.
        exact = sum(w * u for w, u in zip(weights, updates)) / sum(weights)
        err = float(np.max(np.abs(secure_mean - exact)))
        # Flower's FedAvg computes in float32: allow its own rounding on top.
        fedavg = aggregate_arrayrecords(records, "num-examples")["w"].numpy().astype(np.float64)
        f32_slack = 2 * len(records) * 2.0**-24 * max(float(np.max(np.abs(u))) for u in updates)
        err_fedavg = float(np.max(np.abs(secure_mean - fedavg)))
        ok = (
            len(records) == len(agg.included)
            and clipped == 0
            and agg.total_weight == sum(weights)
            and err <= agg.mean_error_bound
            and err_fedavg <= agg.mean_error_bound + f32_slack
        )

        model = model + secure_mean
        mse = loss(model, range(num_clients))
        history.append(
            {
                "round": fl_round,
                "included": len(agg.included),
                "dropped": [client_of[n] for n in dropped],
                "max_abs_diff_vs_exact": err,
                "max_abs_diff_vs_fedavg": err_fedavg,
                "bound": agg.mean_error_bound,
                "ok": ok,
                "mse": mse,
                "secagg_s": elapsed,
                "workers": len(workers),
            }
        )
        print(
            f"[round {fl_round}] degree={config.degree} t={config.threshold} "
            f"included={len(agg.included)}/{num_clients} dropped={history[-1]['dropped']} "
            f"|secagg - exact|max={err:.3g} (bound {agg.mean_error_bound:.3g}) "
            f"|secagg - FedAvg(f32)|max={err_fedavg:.3g} "
            f"ok={ok} mse={mse:.4f} secagg={elapsed:.2f}s workers={len(workers)}"
        )

    RESULT.clear()
    RESULT.update(
        {
            "history": history,
            "distance_to_truth": float(np.linalg.norm(model - true_model(dim))),
        }
    )
