"""Dropout-tolerant secure aggregation (SecAgg / SecAgg+) for federated learning.

A thin Python layer over the Rust crate ``secagg``: floats in, float sums out.
Every error from the Rust core is raised as a subclass of :class:`SecAggError`
named after its category. :mod:`secagg.dp` gathers distributed differential privacy
(:class:`DistributedDP`, the privacy :class:`Accountant`, :class:`Budget`);
:mod:`secagg.flower` is the Flower layer (needs ``flwr``).
"""

from ._secagg import (
    Accountant,
    Aggregate,
    Budget,
    BudgetExhaustedError,
    ClipError,
    ClipWarning,
    Client,
    Config,
    CryptoError,
    DistributedDP,
    DPError,
    EncodingError,
    MisuseError,
    PeerMisbehavedError,
    Quantizer,
    SecAggError,
    Server,
    Simulation,
    ThresholdError,
    __version__,
    check_params,
    dp_noise,
    find_params,
    max_quant_bits,
    min_ring_bits,
    signing_keypair,
    simulate,
)

from . import dp  # noqa: E402  (secagg.dp: the DP names together)

__all__ = [
    "Accountant",
    "Aggregate",
    "Budget",
    "BudgetExhaustedError",
    "ClipError",
    "ClipWarning",
    "Client",
    "Config",
    "CryptoError",
    "DPError",
    "DistributedDP",
    "EncodingError",
    "MisuseError",
    "PeerMisbehavedError",
    "Quantizer",
    "SecAggError",
    "Server",
    "Simulation",
    "ThresholdError",
    "__version__",
    "check_params",
    "dp_noise",
    "find_params",
    "max_quant_bits",
    "min_ring_bits",
    "signing_keypair",
    "simulate",
]
