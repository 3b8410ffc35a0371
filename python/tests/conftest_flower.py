"""Flower apps and helpers for ``test_flower*.py`` (imported by the simulation's workers
by module name, so this file sits on their ``PYTHONPATH``).

The ClientApp is a plain Flower app with ``mods=[dropper, secagg_mod]``: its train
function is deterministic (the update depends on the node's partition, the FL round and
the model it was sent) and records what it was sent and what it returned in
``$SECAGG_FLOWER_TEST_DIR`` so that the test can recompute the inner strategy's
aggregate on the plaintext replies of exactly the included clients. ``dropper`` is a
test-only mod in front of ``secagg_mod`` that makes a node fail (error reply) or go
silent (sleep past the round timeout) in a chosen secagg round, following
``$SECAGG_FLOWER_TEST_DROP``: ``partition:round:fl_round:how,...`` with ``how`` one of
``error``, ``silent``, ``raise`` (the train function raises), ``garbage`` (bytes the
server rejects), ``typo`` (a string where the bytes go).
"""

from __future__ import annotations

import os
import pickle
import time
from typing import Dict

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from secagg.flower import SecureAggregation, secagg_mod

#: The model: three layers of different shapes and dtypes.
LAYERS = {
    "conv.weight": ((4, 1, 3, 3), np.float32),
    "fc.weight": ((10, 16), np.float64),
    "fc.bias": ((10,), np.float32),
}
SILENT_S = float(os.environ.get("SECAGG_FLOWER_TEST_SILENT_S", "0"))


def initial_model() -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {k: (0.1 * rng.normal(size=s)).astype(dt) for k, (s, dt) in LAYERS.items()}


def weight_of(partition: int) -> int:
    return 10 + 7 * partition


def local_train(model: Dict[str, np.ndarray], partition: int, fl_round: int):
    """Deterministic "training": a pull towards a per-client target plus noise."""
    rng = np.random.default_rng(1000 * fl_round + partition)
    out = {}
    for k, a in model.items():
        target = np.full(a.shape, 0.05 * (partition % 5 - 2), dtype=np.float64)
        step = 0.3 * (target - a.astype(np.float64)) + 0.01 * rng.normal(size=a.shape)
        out[k] = (a.astype(np.float64) + step).astype(a.dtype)
    return out


def _drops(partition: int, where: str, fl_round: int) -> str:
    spec = os.environ.get("SECAGG_FLOWER_TEST_DROP", "")
    for item in filter(None, spec.split(",")):
        p, rnd, fl, how = item.split(":")
        if int(p) == partition and rnd == where and int(fl) == fl_round:
            return how
    return ""


def dropper(msg: Message, context: Context, call_next) -> Message:
    """Test-only mod: fail or go silent in the secagg round the schedule names."""
    rec = msg.content.config_records.get("secagg") if msg.has_content() else None
    if rec is not None:
        partition = int(context.node_config["partition-id"])
        where = {"setup": "AdvertiseKeys", "roster": "Roster"}.get(
                    rec["stage"]) or str(rec["round"])
        how = _drops(partition, where, int(rec["server-round"]))
        if how == "error":
            return Message(Error(code=0, reason="test: node fails"), reply_to=msg)
        if how == "garbage":  # well-formed Flower reply, bytes the server must reject
            junk = ConfigRecord({"msg": b"\x01\x00junk", "clipped": 0})
            return Message(RecordDict({"secagg": junk}), reply_to=msg)
        if how == "typo":  # the secagg bytes as a string
            return Message(RecordDict({"secagg": ConfigRecord({"msg": "x"})}), reply_to=msg)
        if how == "silent":
            time.sleep(SILENT_S)
            return Message(Error(code=0, reason="test: too late"), reply_to=msg)
    return call_next(msg, context)


app = ClientApp(mods=[dropper, secagg_mod])


@app.train()
def train(msg: Message, context: Context) -> Message:
    partition = int(context.node_config["partition-id"])
    fl_round = int(msg.content["config"]["server-round"])
    if _drops(partition, "train", fl_round) == "raise":
        raise RuntimeError("test: training failed")
    mark = os.environ.get("SECAGG_FLOWER_TEST_KILL_MARK")
    if mark and partition == 0 and fl_round == 1:
        # The deployment test kills this node's SuperNode now, in the middle of a round.
        open(mark, "w").close()
        time.sleep(30)
    sent = {k: a.numpy() for k, a in msg.content["arrays"].items()}
    new = local_train(sent, partition, fl_round)
    out_dir = os.environ.get("SECAGG_FLOWER_TEST_DIR")
    if out_dir:
        with open(os.path.join(out_dir, f"r{fl_round}-n{context.node_id}.pkl"), "wb") as f:
            pickle.dump({"sent": sent, "new": new, "weight": weight_of(partition),
                         "partition": partition, "node": context.node_id}, f)
    content = RecordDict({
        "arrays": ArrayRecord({k: Array(v) for k, v in new.items()}),
        "metrics": MetricRecord({"num-examples": weight_of(partition), "loss": 1.0}),
    })
    return Message(content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    model = {k: a.numpy() for k, a in msg.content["arrays"].items()}
    loss = float(sum(np.sum(v.astype(np.float64) ** 2) for v in model.values()))
    return Message(RecordDict({"metrics": MetricRecord({"loss": loss, "num-examples": 1})}),
                   reply_to=msg)


@app.query()
def query(msg: Message, context: Context) -> Message:
    return Message(RecordDict(), reply_to=msg)


# --- server side: the test sets FACTORY and reads OUTCOME ------------------------------

FACTORY = {"make": None, "rounds": 2}
OUTCOME: Dict[str, object] = {}

server_app = ServerApp()


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    OUTCOME.clear()
    strategy = FACTORY["make"]()
    OUTCOME["strategy"] = strategy
    n = int(FACTORY.get("nodes", 0))
    deadline = time.monotonic() + 120
    while len(list(grid.get_node_ids())) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    # Warm-up: every node answers once (Ray's workers start after the ServerApp does),
    # so that the secagg rounds' short timeouts measure the nodes, not the start-up.
    ping = [Message(RecordDict(), dst_node_id=node, message_type="query")
            for node in grid.get_node_ids()]
    OUTCOME["warm-up"] = len(list(grid.send_and_receive(ping, timeout=120)))
    arrays = ArrayRecord({k: Array(v) for k, v in initial_model().items()})
    try:
        OUTCOME["result"] = strategy.start(grid=grid, initial_arrays=arrays,
                                           num_rounds=int(FACTORY["rounds"]))
    except Exception as e:  # noqa: BLE001 - the test inspects it
        OUTCOME["error"] = e


def load_round(out_dir: str, fl_round: int) -> Dict[int, dict]:
    """Node id -> what its train function was sent and returned in ``fl_round``."""
    out = {}
    for name in os.listdir(out_dir):
        if name.startswith(f"r{fl_round}-"):
            with open(os.path.join(out_dir, name), "rb") as f:
                d = pickle.load(f)
            out[int(d["node"])] = d
    return out


def plain_reply(d: dict, to: Message) -> Message:
    content = RecordDict({
        "arrays": ArrayRecord({k: Array(v) for k, v in d["new"].items()}),
        "metrics": MetricRecord({"num-examples": d["weight"]}),
    })
    return Message(content, reply_to=to)



# --- the deployment-engine test: a ServerApp in its own process ---------------------

deploy_server_app = ServerApp()


@deploy_server_app.main()
def deploy_main(grid: Grid, context: Context) -> None:
    """Reads its settings from ``$SECAGG_FLOWER_TEST_DEPLOY`` (JSON) and writes what
    happened to ``$SECAGG_FLOWER_TEST_DIR/outcome.pkl`` for the test to check."""
    import json

    from flwr.serverapp.strategy import FedAvg

    cfg = json.loads(os.environ["SECAGG_FLOWER_TEST_DEPLOY"])
    out = os.path.join(os.environ["SECAGG_FLOWER_TEST_DIR"], "outcome.pkl")
    deadline = time.monotonic() + 120
    while len(list(grid.get_node_ids())) < cfg["nodes"] and time.monotonic() < deadline:
        time.sleep(0.5)
    registered = len(list(grid.get_node_ids()))
    if registered != cfg["nodes"]:  # the test's counts would be off by the missing nodes
        with open(out + ".tmp", "wb") as f:
            pickle.dump({"error": f"{registered} of {cfg['nodes']} SuperNodes registered "
                                  "within 120 s", "history": []}, f)
        os.replace(out + ".tmp", out)
        return
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), timeout=cfg["timeout"],
                                 max_weight=200)
    arrays = ArrayRecord({k: Array(v) for k, v in initial_model().items()})
    outcome: Dict[str, object] = {}
    try:
        result = strategy.start(grid=grid, initial_arrays=arrays, num_rounds=cfg["rounds"])
        outcome["final"] = {k: a.numpy() for k, a in result.arrays.items()}
    except Exception as e:  # noqa: BLE001 - reported to the test
        outcome["error"] = repr(e)
    for info in strategy.history:
        info.mean_update = None
    outcome["history"] = strategy.history
    with open(out + ".tmp", "wb") as f:
        pickle.dump(outcome, f)
    os.replace(out + ".tmp", out)
