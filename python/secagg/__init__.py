"""Dropout-tolerant secure aggregation (SecAgg / SecAgg+) for federated learning.

A thin Python layer over the Rust crate ``secagg``: floats in, float sums out.
Every error from the Rust core is raised as a subclass of :class:`SecAggError`
named after its category.
"""

from ._secagg import (
    Aggregate,
    ClipError,
    ClipWarning,
    Client,
    Config,
    CryptoError,
    DistributedDP,
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

__all__ = [
    "Aggregate",
    "ClipError",
    "ClipWarning",
    "Client",
    "Config",
    "CryptoError",
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
