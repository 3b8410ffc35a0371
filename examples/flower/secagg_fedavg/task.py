"""The learning task: softmax regression through one hidden layer (numpy), on synthetic
per-client data drawn from one shared teacher network.

The model has four arrays of different shapes and dtypes (float32 weights, float64
biases), so that the secure aggregate must bring back every name, shape and dtype.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Tuple

import numpy as np

Model = Dict[str, np.ndarray]

#: Defaults of the run config (pyproject.toml's [tool.flwr.app.config] repeats them for
#: `flwr run`); run.py overrides them through $SECAGG_EXAMPLE_CONFIG.
DEFAULTS = {
    "num-server-rounds": 3,
    "strategy": "fedavg",
    "secure": True,
    "fraction-train": 1.0,
    "fraction-evaluate": 0.5,
    "local-epochs": 2,
    "lr": 0.1,
    "input-dim": 32,
    "hidden": 64,
    "classes": 4,
    "dropout": 0.1,
    "corrupt": 0.1,
    "clip": 0.5,
    "bits": 16,
    "max-weight": 1000,
    "round-timeout": 120.0,
    "verify": True,
    "fail": "3:1,7:2",
    "dp-noise-multiplier": 0.0,
    "dp-epsilon": 0.0,
}


def settings(run_config) -> dict:
    cfg = dict(DEFAULTS)
    cfg.update(dict(run_config or {}))
    cfg.update(json.loads(os.environ.get("SECAGG_EXAMPLE_CONFIG", "{}")))
    return cfg


def init_model(cfg) -> Model:
    rng = np.random.default_rng(0)
    d, h, k = int(cfg["input-dim"]), int(cfg["hidden"]), int(cfg["classes"])
    return {
        "hidden.weight": (rng.normal(size=(d, h)) / np.sqrt(d)).astype(np.float32),
        "hidden.bias": np.zeros(h, dtype=np.float64),
        "out.weight": (rng.normal(size=(h, k)) / np.sqrt(h)).astype(np.float32),
        "out.bias": np.zeros(k, dtype=np.float64),
    }


def client_data(cfg, partition: int) -> Tuple[np.ndarray, np.ndarray]:
    """Partition ``partition``'s examples (50 to 200 of them), labelled by the teacher."""
    rng = np.random.default_rng(10_000 + partition)
    d, k = int(cfg["input-dim"]), int(cfg["classes"])
    teacher = np.random.default_rng(1234).normal(size=(d, k))
    m = int(rng.integers(50, 201))
    x = rng.normal(size=(m, d)) + 0.5 * rng.normal(size=d)  # a per-client shift
    y = np.argmax(x @ teacher + 0.5 * rng.normal(size=(m, k)), axis=1)
    return x, y


def _forward(model: Model, x: np.ndarray):
    z = x @ model["hidden.weight"].astype(np.float64) + model["hidden.bias"]
    a = np.tanh(z)
    logits = a @ model["out.weight"].astype(np.float64) + model["out.bias"]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return a, p


def loss_acc(model: Model, x: np.ndarray, y: np.ndarray) -> Tuple[float, float]:
    _, p = _forward(model, x)
    loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
    return loss, float(np.mean(np.argmax(p, axis=1) == y))


def train(model: Model, x: np.ndarray, y: np.ndarray, epochs: int, lr: float) -> Model:
    """Full-batch gradient descent; returns the new model in the same dtypes."""
    w = {k: v.astype(np.float64) for k, v in model.items()}
    onehot = np.eye(w["out.bias"].size)[y]
    for _ in range(epochs):
        a, p = _forward(w, x)
        g = (p - onehot) / len(y)
        da = (g @ w["out.weight"].T) * (1 - a**2)
        w["out.weight"] -= lr * (a.T @ g)
        w["out.bias"] -= lr * g.sum(axis=0)
        w["hidden.weight"] -= lr * (x.T @ da)
        w["hidden.bias"] -= lr * da.sum(axis=0)
    return {k: w[k].astype(model[k].dtype) for k in model}


def fails(cfg, partition: int, fl_round: int) -> bool:
    """Whether this node's train function is to raise in ``fl_round`` (demo drop-outs)."""
    for item in filter(None, str(cfg["fail"]).split(",")):
        p, r = item.split(":")
        if int(p) == partition and int(r) == fl_round:
            return True
    return False
