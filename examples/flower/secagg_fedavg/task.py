"""The learning task: linear regression on synthetic, deterministic per-client data."""

import numpy as np

TRUE_SEED = 1234


def true_model(dim: int) -> np.ndarray:
    """The model every client's data is drawn from (unit norm on average)."""
    return np.random.default_rng(TRUE_SEED).normal(0.0, 1.0, dim) / np.sqrt(dim)


def client_data(partition: int, dim: int):
    """Client ``partition``'s examples: between 20 and 120 of them, a little noise."""
    rng = np.random.default_rng(10_000 + partition)
    m = int(rng.integers(20, 121))
    x = rng.normal(0.0, 1.0, (m, dim))
    y = x @ true_model(dim) + rng.normal(0.0, 0.1, m)
    return x, y


def local_update(model: np.ndarray, partition: int, epochs: int = 5, lr: float = 0.05):
    """A few epochs of full-batch gradient descent from ``model``.

    Returns ``(update, num_examples)`` with ``update = trained - model`` (float32, as a
    framework would ship it).
    """
    x, y = client_data(partition, model.size)
    w = model.astype(np.float64).copy()
    for _ in range(epochs):
        grad = x.T @ (x @ w - y) / len(y)
        w -= lr * grad
    return (w - model).astype(np.float32), len(y)


def loss(model: np.ndarray, partitions) -> float:
    """Mean squared error over the given clients' data."""
    errs = []
    for p in partitions:
        x, y = client_data(p, model.size)
        errs.append(np.mean((x @ model - y) ** 2))
    return float(np.mean(errs))
