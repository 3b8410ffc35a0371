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

The ``secagg.Client`` holds secret keys and lives in this process's memory between
messages, keyed by (run id, node id): it is never written into Flower's ``Context``
state. The simulation therefore runs every ClientApp in one long-lived worker (see
``run.py``).
"""

import os

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

import secagg

from .task import local_update

app = ClientApp()

# (run id, node id) -> secagg.Client, and the update it holds (for verification only).
_SESSIONS: dict = {}
_UPDATES: dict = {}


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
    return Message(RecordDict({"secagg": ConfigRecord({"msg": payload})}), reply_to=msg)


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
    key = (msg.metadata.run_id, context.node_id)
    _SESSIONS[key] = (client, fl_round)
    _UPDATES[key] = (update, num_examples, client.clipped)
    return _reply(msg, client.start())


@app.train("secagg_step")
def step(msg: Message, context: Context) -> Message:
    key = (msg.metadata.run_id, context.node_id)
    client, fl_round = _SESSIONS[key]
    rec = msg.content["secagg"]
    if _drops_now(context, str(rec["round"]), fl_round):
        del _SESSIONS[key]
        raise DropOut(f"node {context.node_id} drops out before {rec['round']}")
    out = client.handle(rec["msg"])
    if client.completed:
        del _SESSIONS[key]
    return _reply(msg, out)


@app.query("plain_update")
def plain_update(msg: Message, context: Context) -> Message:
    update, num_examples, clipped = _UPDATES[(msg.metadata.run_id, context.node_id)]
    content = RecordDict(
        {
            "update": ArrayRecord({"w": Array(np.asarray(update))}),
            "metrics": MetricRecord({"num-examples": num_examples, "clipped": clipped}),
        }
    )
    return Message(content, reply_to=msg)
