"""The ClientApp: a plain Flower app plus one line, ``mods=[secagg_mod]``."""

from flwr.app import Array, ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from secagg.flower import secagg_mod

from . import task

app = ClientApp(mods=[secagg_mod])  # the one changed line


@app.train()
def train(msg: Message, context: Context) -> Message:
    cfg = task.settings(context.run_config)
    partition = int(context.node_config["partition-id"])
    fl_round = int(msg.content["config"]["server-round"])
    if task.fails(cfg, partition, fl_round):
        raise RuntimeError(f"partition {partition} fails in round {fl_round} (demo)")
    model = {k: a.numpy() for k, a in msg.content["arrays"].items()}
    x, y = task.client_data(cfg, partition)
    new = task.train(model, x, y, int(cfg["local-epochs"]), float(cfg["lr"]))
    loss, _ = task.loss_acc(new, x, y)
    arrays = ArrayRecord({k: Array(v) for k, v in new.items()})
    metrics = MetricRecord({"num-examples": len(y), "train-loss": loss})
    if cfg["verify"]:
        # Verification only (the example's check), never in a real deployment: keep the
        # plaintext reply so that the server can compare the secure aggregate with it.
        context.state["verify.sent"] = ArrayRecord(
            {k: Array(v.copy()) for k, v in model.items()})
        context.state["verify.arrays"] = ArrayRecord(
            {k: Array(v.copy()) for k, v in new.items()})
        context.state["verify.metrics"] = MetricRecord({"num-examples": len(y),
                                                        "server-round": fl_round})
    return Message(RecordDict({"arrays": arrays, "metrics": metrics}), reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    cfg = task.settings(context.run_config)
    model = {k: a.numpy() for k, a in msg.content["arrays"].items()}
    x, y = task.client_data(cfg, int(context.node_config["partition-id"]))
    loss, acc = task.loss_acc(model, x, y)
    metrics = MetricRecord({"num-examples": len(y), "loss": loss, "accuracy": acc})
    return Message(RecordDict({"metrics": metrics}), reply_to=msg)


@app.query("plain_reply")
def plain_reply(msg: Message, context: Context) -> Message:
    """Verification only: this node's last plaintext training reply."""
    content = RecordDict({k: context.state[k] for k in
                          ("verify.sent", "verify.arrays", "verify.metrics")
                          if k in context.state})
    return Message(content, reply_to=msg)
