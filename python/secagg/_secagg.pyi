"""Type stubs for the native module ``secagg._secagg`` (re-exported by ``secagg``)."""

from typing import Literal, Optional, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

FloatArray = Union[npt.NDArray[np.float32], npt.NDArray[np.float64]]
Rounding = Literal["stochastic", "deterministic"]
ErrorKindName = Literal["encoding", "crypto", "peer-misbehaved", "threshold", "misuse"]

class SecAggError(Exception):
    """Base class of every error raised by secagg's Rust core.

    ``str(e)`` is the Rust error's message.
    """

    kind: ErrorKindName
    """The error's category."""
    variant: str
    """The Rust error variant, e.g. ``'RingTooNarrow'``."""

class EncodingError(SecAggError):
    """Bytes from another party did not decode (length, version, canonical form)."""

class CryptoError(SecAggError):
    """A cryptographic check failed (authentication, non-contributory key agreement)."""

class PeerMisbehavedError(SecAggError):
    """Another party sent something well-formed that the protocol forbids."""

class ThresholdError(SecAggError):
    """Too few parties or shares remain for the threshold."""

class MisuseError(SecAggError):
    """The caller used the API in a way it does not allow (wrong state, bad configuration)."""

class Quantizer:
    """Fixed-point encoding of float vectors into ring words, and decoding of sums.

    Each element is clipped to ``[-clip, clip]`` and mapped onto the integer grid
    ``0 .. 2**bits - 1`` with stochastic (unbiased) or deterministic rounding. The sum of
    up to ``max_clients`` clients (each weighted by an integer in ``1..max_weight`` when
    ``max_weight`` is set) never wraps in the ``ring_bits``-bit ring: a configuration that
    could wrap raises :class:`MisuseError` (variant ``RingTooNarrow``).
    ``ring_bits=None`` picks the smallest safe width.
    """

    def __init__(
        self,
        clip: float,
        bits: int,
        max_clients: int,
        ring_bits: Optional[int] = None,
        max_weight: Optional[int] = None,
        rounding: Rounding = "stochastic",
    ) -> None: ...
    @property
    def clip(self) -> float:
        """Clipping bound ``c``."""
    @property
    def bits(self) -> int:
        """Quantization bits ``q``."""
    @property
    def ring_bits(self) -> int:
        """Ring width ``b``: sums are computed modulo ``2**b``."""
    @property
    def max_clients(self) -> int:
        """Maximum number of clients summed."""
    @property
    def max_weight(self) -> Optional[int]:
        """Largest client weight, or ``None`` when unweighted."""
    @property
    def rounding(self) -> Rounding:
        """``'stochastic'`` or ``'deterministic'``."""
    @property
    def step(self) -> float:
        """Grid step ``2c / (2**q - 1)``."""
    def encoded_len(self, length: int) -> int:
        """Ring words an input of ``length`` elements encodes to (one more when weighted)."""
    def error_bound(self, total_weight: int) -> float:
        """Per-element bound on ``|decoded - sum_i w_i * clip(x_i)|`` for total weight
        ``total_weight`` (the number of clients when unweighted)."""
    def quantize(
        self, x: FloatArray, weight: int = 1, seed: Optional[bytes] = None
    ) -> Tuple[npt.NDArray[np.uint64], int]:
        """Encodes a float32/float64 array (any shape, flattened in C order).

        Returns ``(words, clipped)``. ``seed`` (32 bytes) makes stochastic rounding
        reproducible; by default it draws from the OS. Raises :class:`MisuseError` for
        NaN/inf inputs or a weight outside ``1..max_weight``.
        """
    def dequantize(self, sum: npt.NDArray[np.uint64], clients: int) -> Aggregate:
        """Decodes the ring sum of exactly ``clients`` encoded vectors.

        Raises :class:`PeerMisbehavedError` for a sum the included clients cannot have
        produced, :class:`MisuseError` when ``clients > max_clients``.
        """

class Aggregate:
    """The decoded sum of the included clients' vectors."""

    @property
    def sum(self) -> npt.NDArray[np.float64]:
        """``sum_i w_i * x_i`` per element (plain sum when unweighted)."""
    @property
    def clients(self) -> int:
        """Number of included clients."""
    @property
    def total_weight(self) -> int:
        """``sum_i w_i``, exact (``clients`` when unweighted)."""
    @property
    def error_bound(self) -> float:
        """Per-element bound on ``|sum - sum_i w_i * clip(x_i)|``."""
    @property
    def mean_error_bound(self) -> Optional[float]:
        """Per-element bound on the error of :meth:`mean`; ``None`` with no client."""
    def mean(self) -> Optional[npt.NDArray[np.float64]]:
        """``sum / total_weight``, or ``None`` when no client was included."""

def min_ring_bits(quant_bits: int, max_clients: int, max_weight: int = 1) -> int:
    """The smallest ring width for which the sum can never wrap."""

def max_quant_bits(ring_bits: int, max_clients: int, max_weight: int = 1) -> int:
    """The largest quantization bits (at most 53) whose sum cannot wrap in the ring."""

Threat = Literal["semi-honest", "malicious"]

class Params(TypedDict):
    """What :func:`find_params` and :func:`check_params` return."""

    n: int
    degree: int
    """Neighbours per client (``n - 1`` for the complete graph)."""
    threshold: int
    """Shamir threshold: shares among a client's neighbours needed to reconstruct."""
    complete: bool
    """Whether the graph is complete (SecAgg) rather than a Harary graph (SecAgg+)."""
    max_corrupt: int
    """``floor(corrupt * n)``, the number of corrupt clients assumed."""
    max_dropped: int
    """``floor(dropout * n)``, the number of dropped clients assumed."""
    log2_disconnect: float
    log2_corrupt: float
    log2_security: float
    """``log2`` of the probability that privacy fails (at most ``-sigma``)."""
    log2_failure: float
    """``log2`` of the probability that the protocol aborts (at most ``-eta``)."""

def find_params(
    n: int,
    dropout: float,
    corrupt: float,
    threat: Threat = "semi-honest",
    sigma: float = 40.0,
    eta: float = 20.0,
) -> Params:
    """The smallest even SecAgg+ degree and a threshold for ``n`` clients.

    Privacy fails with probability at most ``2**-sigma`` and the protocol aborts with
    probability at most ``2**-eta``; the complete graph (plain SecAgg) when no sparse
    graph works. Raises :class:`MisuseError` when nothing meets the targets or an
    argument is out of range, ``ValueError`` for an unknown ``threat``.
    """

def check_params(
    n: int,
    dropout: float,
    corrupt: float,
    degree: int,
    threshold: int,
    threat: Threat = "semi-honest",
    sigma: float = 40.0,
    eta: float = 20.0,
) -> Params:
    """Checks a chosen ``(degree, threshold)`` against the targets of :func:`find_params`.

    Raises :class:`MisuseError` (variants ``DegreeTooLow``, ``ThresholdTooLow``,
    ``ThresholdTooHigh``, ``ThresholdSplitView``, ...) saying which bound fails.
    """
