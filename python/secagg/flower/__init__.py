"""Secure aggregation for Flower apps (Message API), one line on each side.

Client::

    app = ClientApp(mods=[secagg_mod])          # the @app.train() function unchanged

Server::

    strategy = SecureAggregation(FedAvg(), clip=0.5, max_weight=10_000)
    strategy.start(grid=grid, initial_arrays=arrays, num_rounds=3)

With distributed differential privacy (each client adds its share of the noise before
masking; the server only ever unmasks a noised sum), a running accountant and a stop::

    strategy = SecureAggregation(FedAvg(), clip=1.0,
                                 dp=secagg.DistributedDP(noise_multiplier=1.0),
                                 dp_budget=(8.0, 1e-5))

What is aggregated, what the server learns and how to pick the parameters: the
repository's ``docs/flower.md``. Requires ``flwr`` (``pip install "secagg[flower]"``).
"""

from ._common import PrivacyBudgetExhausted, SecureAggregationError
from .mod import secagg_mod
from .strategy import RoundInfo, SecureAggregation

__all__ = [
    "PrivacyBudgetExhausted",
    "RoundInfo",
    "SecureAggregation",
    "SecureAggregationError",
    "secagg_mod",
]
