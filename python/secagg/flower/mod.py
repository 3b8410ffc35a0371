"""``secagg_mod``: the client side of secure aggregation in a Flower ``ClientApp``.

``ClientApp(mods=[secagg_mod])`` with the app's ``@app.train()`` function unchanged. The
mod answers the secagg rounds of a training round itself and calls the train function
once, when the server's message that needs the update arrives (after the key exchange).
It masks ``update = returned arrays - arrays it was sent`` with the weight the train
function reported under the strategy's weighting key (``num-examples``), and keeps in
``Context.state`` only the serialized secagg client (keys and shares; a secret that stays
on the node). Messages without the ``"secagg"`` record pass through untouched.

A session with distributed DP (the server's session parameters carry it) is encoded by
the session layer: the whole update clipped to L2 norm ``clip``, rotated, rounded and
noised with this node's share before masking; it is then unweighted (weight 1, the
train function's weight is not used).
"""

from __future__ import annotations

import logging
from typing import Dict

import numpy as np
from flwr.app import ConfigRecord, Context, Error, Message, RecordDict
from flwr.clientapp.typing import ClientAppCallable

import secagg

from . import _common as c

log = logging.getLogger("flwr")

#: ``Error.code`` of a node's refusal or failure inside a secagg round (Flower's
#: ``ErrorCode.MOD_FAILED_PRECONDITION``): the server counts the node as dropped out.
ERROR_CODE = 6


class _Refusal(Exception):
    """This node leaves the session (the server sees an error reply: a drop-out)."""


def _error(msg: Message, reason: str) -> Message:
    return Message(Error(code=ERROR_CODE, reason=f"secagg: {reason}"), reply_to=msg)


def _reply(msg: Message, rec: Dict, content: RecordDict | None = None) -> Message:
    out = RecordDict() if content is None else content
    out[c.RECORD] = ConfigRecord(rec)
    return Message(out, reply_to=msg)


def _store(context: Context, client: secagg.Client, meta: Dict) -> None:
    rec = dict(meta)
    rec["client"] = client.to_bytes()
    context.state[c.STATE] = ConfigRecord(rec)


def _forget(context: Context) -> None:
    if c.STATE in context.state:
        del context.state[c.STATE]


def _train(
    msg: Message, context: Context, call_next: ClientAppCallable, spec: c.Spec, meta: Dict
):
    """Runs the app's train function on the training content; returns ``(update, weight,
    clipped)``: the update per array (float64), the weight it reported and how many
    update values exceed the clipping bound."""
    content = RecordDict({k: v for k, v in msg.content.items() if k != c.RECORD})
    arrays_in = list(content.array_records.values())
    if len(arrays_in) != 1:
        raise _Refusal("the training message must carry exactly one ArrayRecord")
    sent = {k: a.numpy() for k, a in arrays_in[0].items()}
    if c.spec_of(sent) != spec:
        raise _Refusal("the model sent does not match the session's vectors")
    # The app sees the message a plain Flower app would see: same metadata, the content
    # without the secagg record.
    msg.content = content
    try:
        reply = call_next(msg, context)
    except Exception as e:  # the app's own failure: this node drops out
        raise _Refusal(f"the train function raised {type(e).__name__}: {e}") from None
    if reply.has_error():
        raise _Refusal(f"the train function replied with an error: {reply.error.reason}")
    records = list(reply.content.array_records.values())
    if len(records) != 1:
        raise _Refusal("the train function must return exactly one ArrayRecord")
    got = {k: a.numpy() for k, a in records[0].items()}
    if set(got) != set(sent):
        raise _Refusal("the train function returned other arrays than it was sent")
    update = {}
    for name, shape, _ in spec:
        a = np.asarray(got[name])
        if a.shape != shape:
            raise _Refusal(f"array {name!r} came back with shape {a.shape}, sent {shape}")
        update[name] = a.astype(np.float64) - sent[name].astype(np.float64)
        if not np.all(np.isfinite(update[name])):
            raise _Refusal(f"array {name!r}: the update has NaN or infinite values")
    clip = float(meta["clip"])
    if meta.get("dp", False):
        # Distributed DP: unweighted (weight 1), and clip bounds the L2 norm of the
        # whole update, which the session's encoding scales down to it.
        norm = float(np.sqrt(sum(float(np.sum(u * u)) for u in update.values())))
        for r in reply.content.array_records.values():
            r.clear()
        return update, 1, int(norm > clip)
    key = str(meta[c.K_WEIGHT_KEY])
    weight = None
    for m in reply.content.metric_records.values():
        if key in m:
            weight = m[key]
    if weight is None:
        raise _Refusal(f"the train function's MetricRecord has no {key!r}")
    if isinstance(weight, list) or float(weight) != int(weight) or int(weight) < 1:
        raise _Refusal(f"{key!r} must be a positive integer (got {weight!r})")
    clipped = int(sum(int(np.count_nonzero(np.abs(u) > clip)) for u in update.values()))
    # The plaintext model leaves the reply: only the masked update goes to the server.
    for r in reply.content.array_records.values():
        r.clear()
    return update, int(weight), clipped


def _setup(msg: Message, rec: ConfigRecord, context: Context,
           call_next: ClientAppCallable) -> Message:
    config, spec = c.decode_config(rec[c.K_CONFIG])
    if bytes(config.session_id) != bytes(rec[c.K_SESSION]):
        raise _Refusal("the session id does not match the session parameters")
    on_clip = str(rec.get(c.K_ON_CLIP, "warn"))
    if on_clip not in c.ON_CLIP:
        raise _Refusal(f"unknown on-clip policy {on_clip!r}")
    meta = {
        c.K_CONFIG: bytes(rec[c.K_CONFIG]),
        c.K_SESSION: bytes(config.session_id),
        c.K_CLIENT_ID: int(rec[c.K_CLIENT_ID]),
        c.K_WEIGHT_KEY: str(rec[c.K_WEIGHT_KEY]),
        c.K_ON_CLIP: on_clip,
        "clip": float(config.quantizer.clip),
        "dp": config.dp is not None,
    }
    cid = meta[c.K_CLIENT_ID]
    out = {c.K_SESSION: meta[c.K_SESSION]}
    kw = {}
    if config.threat == "malicious":
        sk, vk = _signing_key(context)
        keys = config.to_dict().get("verifying_keys") or []
        if cid >= len(keys) or bytes(keys[cid]) != vk:
            raise _Refusal("the session's roster does not hold this node's key at its id")
        kw["signing_key"] = sk
    if c.DEFERRED:
        client = secagg.Client(config, cid, **kw)
    else:
        # An API without deferred input: the model rides in this message (eager mode).
        if not rec.get(c.K_TRAIN, False):
            raise _Refusal("this secagg build needs the model in the setup message")
        update, weight, clipped = _train(msg, context, call_next, spec, meta)
        _check_clip(clipped, on_clip)
        client = secagg.Client(config, cid, c.flatten(spec, update), weight=weight, **kw)
        out[c.K_CLIPPED] = clipped
    out[c.K_MSG] = client.start()
    _store(context, client, meta)
    return _reply(msg, out)


def _signing_key(context: Context) -> tuple:
    """This node's Ed25519 key pair, drawn once per run and kept in ``Context.state``."""
    if c.KEY_STATE not in context.state:
        sk, vk = secagg.signing_keypair()
        context.state[c.KEY_STATE] = ConfigRecord({"signing": sk, "verifying": vk})
    rec = context.state[c.KEY_STATE]
    return bytes(rec["signing"]), bytes(rec["verifying"])


def _roster(msg: Message, context: Context) -> Message:
    _, vk = _signing_key(context)
    return _reply(msg, {c.K_VERIFYING_KEY: vk, c.K_MSG: b""})


def _check_clip(clipped: int, on_clip: str) -> None:
    if clipped and on_clip == "raise":
        raise _Refusal(f"{clipped} update values exceed the clipping bound (on_clip='raise')")
    if clipped and on_clip == "warn":
        log.warning("secagg: %d update values clipped to the session's bound", clipped)


def _step(msg: Message, rec: ConfigRecord, context: Context,
          call_next: ClientAppCallable) -> Message:
    if c.STATE not in context.state:
        raise _Refusal("no secagg session on this node (it restarted, or never set up)")
    meta = dict(context.state[c.STATE])
    if bytes(meta[c.K_SESSION]) != bytes(rec[c.K_SESSION]):
        raise _Refusal("a message of another session")
    config, spec = c.decode_config(meta[c.K_CONFIG])
    client = secagg.Client.from_bytes(config, meta.pop("client"))
    out = {c.K_SESSION: meta[c.K_SESSION]}
    if rec.get(c.K_TRAIN, False) and c.DEFERRED:
        # The one step that needs the update: train, mask, forget the update.
        update, weight, clipped = _train(msg, context, call_next, spec, meta)
        _check_clip(clipped, meta[c.K_ON_CLIP])
        client.provide_input(c.flatten(spec, update), weight=weight)
        del update
        out[c.K_CLIPPED] = clipped
    out[c.K_MSG] = client.handle(bytes(rec[c.K_MSG]))
    if client.completed:
        _forget(context)
    else:
        _store(context, client, meta)
    return _reply(msg, out)


def secagg_mod(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Flower mod: runs this node's part of a secure-aggregation round.

    Use as ``ClientApp(mods=[secagg_mod])``. Messages without the ``"secagg"`` record
    (evaluation, queries, a plain strategy's training) go to the app untouched. A secagg
    message is answered by the mod; the app's train function runs once per FL round, in
    the step whose reply carries the masked update. A train function that raises, a
    weight outside ``1..max_weight``, an update clipped under ``on_clip="raise"`` or a
    session message this node cannot process all make this node leave the session: it
    replies with an error (code :data:`ERROR_CODE`), which the server counts as a
    drop-out, and the round goes on without it.
    """
    if c.RECORD not in msg.content.config_records:
        return call_next(msg, context)
    rec = msg.content.config_records[c.RECORD]
    try:
        if int(rec.get(c.K_VERSION, -1)) != c.VERSION:
            raise _Refusal(f"message layout version {rec.get(c.K_VERSION)!r}, this node "
                           f"speaks {c.VERSION}")
        stage = rec.get(c.K_STAGE)
        if stage == c.STAGE_ROSTER:
            return _roster(msg, context)
        if stage == c.STAGE_SETUP:
            return _setup(msg, rec, context, call_next)
        if stage == c.STAGE_STEP:
            return _step(msg, rec, context, call_next)
        raise _Refusal(f"unknown stage {stage!r}")
    except _Refusal as e:
        _forget(context)
        log.warning("secagg: node leaves the session: %s", e)
        return _error(msg, str(e))
    except (secagg.SecAggError, ValueError, KeyError, TypeError) as e:
        _forget(context)
        log.warning("secagg: node leaves the session: %s: %s", type(e).__name__, e)
        return _error(msg, f"{type(e).__name__}: {e}")
