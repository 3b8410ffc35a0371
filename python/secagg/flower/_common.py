"""What the mod and the strategy wrapper agree on: record keys, stages, the config codec,
and the adapter over the two shapes of the ``secagg`` Python API.

Every secagg message of a training round is a Flower message of the inner strategy's own
``message_type`` (``"train"`` for the FedAvg family) whose content holds a
``ConfigRecord`` under :data:`RECORD` (``"secagg"``). The keys of that record are listed
in ``docs/flower.md`` ("Messages"). A message without that record is not ours: the mod
passes it to the app untouched.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, List, Mapping, Tuple

import numpy as np

import secagg

#: Content key of the ``ConfigRecord`` that marks a message as a secagg message.
RECORD = "secagg"
#: ``Context.state`` key of the mod's stored client (a ``ConfigRecord``).
STATE = "secagg.flower"
#: Version of the message layout below; a node refuses any other.
VERSION = 1

# Server -> node keys.
K_VERSION = "version"
K_STAGE = "stage"  # "setup" (round 0) or "step" (every later secagg round)
K_SESSION = "session"  # the 32-byte session id, in every message both ways
K_CONFIG = "config"  # setup only: the session config (``encode_config``)
K_CLIENT_ID = "client-id"  # setup only: this node's secagg client id
K_WEIGHT_KEY = "weight-key"  # setup only: the MetricRecord key holding the weight
K_ON_CLIP = "on-clip"  # setup only: "ignore" | "warn" | "raise"
K_ROUND = "round"  # step only: the secagg round being collected
K_TRAIN = "train"  # True in the one message that carries the model: train now
K_MSG = "msg"  # the secagg bytes (both ways)
K_SERVER_ROUND = "server-round"  # the FL round (public), in every message
# Node -> server keys (besides K_MSG, K_SESSION).
K_CLIPPED = "clipped"  # in the reply to the training message: values clipped

K_VERIFYING_KEY = "verifying-key"  # roster reply: the node's Ed25519 public key

STAGE_ROSTER = "roster"  # malicious model only: collect the nodes' verifying keys
STAGE_SETUP = "setup"
STAGE_STEP = "step"
#: ``Context.state`` key of the node's Ed25519 key pair (malicious model; per run).
KEY_STATE = "secagg.flower.key"

ON_CLIP = ("ignore", "warn", "raise")


class SecureAggregationError(RuntimeError):
    """A secure-aggregation round could not produce an aggregate.

    Raised by :class:`~secagg.flower.SecureAggregation` when too few nodes remain for the
    session's threshold (``cause`` holds the ``secagg`` error) or when the inner
    strategy's messages cannot be aggregated securely.
    """


class PrivacyBudgetExhausted(SecureAggregationError):
    """The next secure-aggregation round would take the run's privacy loss above the
    ``dp_budget`` of :class:`~secagg.flower.SecureAggregation`: the run stops before
    that round's aggregate is revealed (raised from ``Strategy.start``; with
    ``on_budget="stop"`` the wrapper stops training instead and keeps this in
    ``SecureAggregation.stopped``).

    Attributes: ``server_round`` (the round refused), ``epsilon`` (the ε that round
    would have reached), ``spent`` (the ε spent, all rounds before it), ``delta``,
    ``budget`` (a :class:`secagg.dp.Budget`), ``rounds`` (DP rounds completed),
    ``survivors`` (``None`` when refused before the round started: even if every
    sampled node survived; else the survivors whose sum was not unmasked) and
    ``arrays`` (the global model the run ended with, an ``ArrayRecord``).
    """

    def __init__(self, message: str, *, server_round: int, epsilon: float, spent: float,
                 budget: Any, rounds: int, survivors: Any = None, arrays: Any = None):
        super().__init__(message)
        self.server_round = server_round
        self.epsilon = epsilon
        self.spent = spent
        self.budget = budget
        self.delta = budget.delta
        self.rounds = rounds
        self.survivors = survivors
        self.arrays = arrays


# --- the config codec --------------------------------------------------------------


def _to_json(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, tuple):
        return {"$tuple": [_to_json(x) for x in v]}
    if isinstance(v, (list,)):
        return [_to_json(x) for x in v]
    if isinstance(v, Mapping):
        return {"$map": [[str(k), _to_json(x)] for k, x in v.items()]}
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"cannot encode a {type(v).__name__} in a secagg config")


def _from_json(v: Any) -> Any:
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        if len(v) != 1:
            raise ValueError("malformed secagg config")
        ((tag, x),) = v.items()
        if tag == "$bytes":
            return base64.b64decode(x, validate=True)
        if tag == "$tuple":
            return tuple(_from_json(y) for y in x)
        if tag == "$map":
            return {str(k): _from_json(y) for k, y in x}
        raise ValueError(f"malformed secagg config (tag {tag!r})")
    return v


def encode_config(config: secagg.Config, spec: "Spec") -> bytes:
    """``config.to_dict()`` and the model's layout as JSON bytes (a ``ConfigRecord``
    holds no nested values).

    Bytes, tuples and mappings are tagged, so that :func:`decode_config` rebuilds exactly
    the same keyword arguments (nothing in the encoding makes the receiver allocate).
    """
    d = {k: v for k, v in config.to_dict().items() if v is not None}
    body = {"config": _to_json(d), "spec": [[name, list(shape), dt] for name, shape, dt in spec]}
    return json.dumps(body, separators=(",", ":")).encode()


def decode_config(data: bytes) -> "Tuple[secagg.Config, Spec]":
    """Rebuilds the :class:`secagg.Config` a server sent and the model layout (the
    session id is recomputed from the parameters, so a node and the server agree on it
    or the session fails)."""
    try:
        body = json.loads(bytes(data).decode("utf-8"))
        kwargs = _from_json(body["config"])
        spec = [(str(name), tuple(int(s) for s in shape), str(np.dtype(dt).str))
                for name, shape, dt in body["spec"]]
    except (ValueError, UnicodeDecodeError, TypeError, KeyError) as e:
        raise ValueError(f"malformed secagg config: {e}") from None
    if not isinstance(kwargs, dict) or "n" not in kwargs:
        raise ValueError("malformed secagg config")
    n = kwargs.pop("n")
    config = secagg.Config(n, **kwargs)
    # The layout must be the session's own vectors (names and sizes are in its id).
    declared = getattr(config, "vectors", None)
    if NAMED and declared is not None:
        if [(str(a), tuple(b)) for a, b, _ in declared] != [(a, b) for a, b, _ in spec]:
            raise ValueError("the model layout does not match the session's vectors")
    return config, spec


# --- named vectors: the two shapes of the secagg API --------------------------------

#: The Python API takes named vectors (``Config(vectors=...)``) and the input after the
#: key exchange (``Client(config, id)``, ``provide_input``); ``Aggregate.mean()`` is then a
#: dict. An older build (one flat vector, input at creation) still works: the model then
#: rides in the first message and the update is flattened here.
DEFERRED = hasattr(secagg.Client, "provide_input")
NAMED = DEFERRED

Spec = List[Tuple[str, Tuple[int, ...], str]]


def spec_of(arrays: Mapping[str, np.ndarray]) -> Spec:
    """Names, shapes and dtypes of a model's arrays, in the ArrayRecord's order.

    Raises ``TypeError`` for an array that is not float32 or float64 (secagg aggregates
    floats; integer buffers such as a batch-norm counter cannot be averaged securely).
    """
    out: Spec = []
    for name, a in arrays.items():
        if a.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"array {name!r} has dtype {a.dtype}: secure aggregation averages "
                "float32/float64 arrays only (keep integer buffers out of the ArrayRecord "
                "that is trained, or cast them)"
            )
        out.append((str(name), tuple(int(s) for s in a.shape), a.dtype.str))
    return out


def make_config(n: int, spec: Spec, **kwargs: Any) -> secagg.Config:
    """A session config for ``n`` clients whose input is the model ``spec``."""
    if NAMED:
        # Declared float64: the update is computed in float64 and the mean comes back in
        # float64 (the model's own dtypes are restored when it is added back).
        vectors = {name: np.zeros(shape, dtype=np.float64) for name, shape, _ in spec}
        return secagg.Config(n, vectors=vectors, **kwargs)
    dim = sum(int(np.prod(shape, dtype=np.int64)) for _, shape, _ in spec)
    return secagg.Config(n, dim, **kwargs)


def flatten(spec: Spec, arrays: Mapping[str, np.ndarray]) -> Any:
    """The client's input in the shape the API takes (a dict, or one flat vector)."""
    if NAMED:
        return {name: np.asarray(arrays[name], dtype=np.float64) for name, _, _ in spec}
    return np.concatenate([np.asarray(arrays[name], np.float64).ravel() for name, _, _ in spec])


def unflatten(spec: Spec, mean: Any) -> Dict[str, np.ndarray]:
    """The aggregate's mean per named array (float64, in the model's shapes)."""
    if isinstance(mean, Mapping):
        return {name: np.asarray(mean[name], np.float64).reshape(shape) for name, shape, _ in spec}
    flat = np.asarray(mean, np.float64).ravel()
    out, off = {}, 0
    for name, shape, _ in spec:
        size = int(np.prod(shape, dtype=np.int64))
        out[name] = flat[off : off + size].reshape(shape)
        off += size
    return out
