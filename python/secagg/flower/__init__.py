"""Secure aggregation for Flower apps (Message API), one line on each side.

Client::

    app = ClientApp(mods=[secagg_mod])          # the @app.train() function unchanged

Server::

    strategy = SecureAggregation(FedAvg(), clip=0.5, max_weight=10_000)
    strategy.start(grid=grid, initial_arrays=arrays, num_rounds=3)

What is aggregated, what the server learns and how to pick the parameters: the
repository's ``docs/flower.md``. Requires ``flwr`` (``pip install "secagg[flower]"``).
"""

from ._common import SecureAggregationError
from .mod import secagg_mod
from .strategy import RoundInfo, SecureAggregation

__all__ = ["RoundInfo", "SecureAggregation", "SecureAggregationError", "secagg_mod"]
