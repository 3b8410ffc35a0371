"""The ClientApp: trains locally and takes part in the secagg session.

Messages (``message_type``):

* ``train.secagg_start``: carries the global model (``ArrayRecord "model"``) and the
  session parameters (``ConfigRecord "secagg"``: ``secagg.Config.to_dict()`` plus this
  node's client id). The client trains, quantizes its update inside
  ``secagg.Client`` and answers with the round-0 bytes (``ConfigRecord "secagg"``,
  key ``"msg"``).
* ``train.secagg_step``: one server message of the session in ``"msg"``; the answer is
  the client's next message.
* ``query.plain_update``: verification only (never in a real deployment): the client's
  update in the clear, so that the example can compare with Flower's own FedAvg.

Between messages the ClientApp keeps nothing in memory: the secagg client is stored
in the node's ``Context.state`` (``Client.to_bytes()``, restored with
``Client.from_bytes``), as Flower expects of a ClientApp, so any worker process can
handle any message. That state is a secret (the client's keys, input and shares): it
stays with the node, which is where Flower keeps a node's context.
"""

import os

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

import secagg

from .task import local_update

app = ClientApp()

STATE = "secagg-client"  # Context.state key: the stored client and its session config
PLAIN = "plain-update"  # Context.state keys: the update in the clear and its metrics
PLAIN_METRICS = "plain-metrics"  # (verification only)


class DropOut(RuntimeError):
    """Raised to make this node vanish in the middle of a session."""


def _drops_now(context: Context, secagg_round: str, fl_round: int) -> bool:
    """Whether this node is to drop out before ``secagg_round`` of FL round ``fl_round``.

    The schedule comes from the environment (``SECAGG_FLOWER_DROP``, set by run.py and
    inherited by the simulation's workers): ``partition:round:fl_round,...``.
    """
    spec = str(context.run_config.get("drop", os.environ.get("SECAGG_FLOWER_DROP", "")))
    me = int(context.node_config["partition-id"])
    for item in filter(None, spec.split(",")):
        partition, rnd, fl = item.split(":")
        if int(partition) == me and rnd == secagg_round and int(fl) == fl_round:
            return True
    return False


def _reply(msg: Message, payload: bytes) -> Message:
    record = ConfigRecord({"msg": payload, "worker-pid": os.getpid()})
    return Message(RecordDict({"secagg": record}), reply_to=msg)


def _store(context: Context, client: secagg.Client, params: dict, fl_round: int) -> None:
    """Stores the client (before its reply is sent) with what rebuilds its config."""
    record = {f"config.{k}": v for k, v in params.items()}
    record.update({"state": client.to_bytes(), "fl-round": fl_round})
    context.state[STATE] = ConfigRecord(record)


def _load(context: Context):
    record = context.state[STATE]
    params = {k[len("config."):]: v for k, v in record.items() if k.startswith("config.")}
    config = secagg.Config(**params)
    client = secagg.Client.from_bytes(config, record["state"])
    return client, params, int(record["fl-round"])


@app.train("secagg_start")
def start(msg: Message, context: Context) -> Message:
    model = msg.content["model"]["w"].numpy()
    rec = msg.content["secagg"]
    fl_round = int(rec["fl-round"])
    params = {k: v for k, v in rec.items() if k not in ("client-id", "fl-round")}
    config = secagg.Config(**params)
    partition = int(context.node_config["partition-id"])
    update, num_examples = local_update(model, partition)
    client = secagg.Client(config, int(rec["client-id"]), update, weight=num_examples)
    _store(context, client, params, fl_round)
    context.state[PLAIN] = ArrayRecord({"w": Array(np.asarray(update))})
    context.state[PLAIN_METRICS] = MetricRecord(
        {"num-examples": num_examples, "clipped": client.clipped}
    )
    return _reply(msg, client.start())


@app.train("secagg_step")
def step(msg: Message, context: Context) -> Message:
    client, params, fl_round = _load(context)
    rec = msg.content["secagg"]
    if _drops_now(context, str(rec["round"]), fl_round):
        raise DropOut(f"node {context.node_id} drops out before {rec['round']}")
    out = client.handle(rec["msg"])
    _store(context, client, params, fl_round)
    return _reply(msg, out)


@app.query("plain_update")
def plain_update(msg: Message, context: Context) -> Message:
    content = RecordDict(
        {"update": context.state[PLAIN], "metrics": context.state[PLAIN_METRICS]}
    )
    return Message(content, reply_to=msg)
