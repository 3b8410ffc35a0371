"""Type stubs for the native module ``secagg._secagg`` (re-exported by ``secagg``)."""

from typing import Dict, List, Literal, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

FloatArray = Union[npt.NDArray[np.float32], npt.NDArray[np.float64]]
# Any float array-like: an ndarray of any float dtype, a sequence of floats, or a
# float64 buffer (bytes, bytearray, memoryview).
FloatLike = Union[npt.ArrayLike, bytes, bytearray, memoryview]
# A vector's shape: an int, a tuple of ints, or a template array (its shape and dtype).
ShapeLike = Union[int, Tuple[int, ...], npt.NDArray[np.floating]]
# A whole model's vectors: name -> shape, or a list of shapes (named "0", "1", ...) or
# of the 'dtype:shape:name' strings Config.to_dict returns.
VectorsSpec = Union[Dict[str, ShapeLike], Sequence[Union[ShapeLike, str]]]
# One client's input: one array (a dim session or a one-vector session), a dict
# name -> array, or a list of arrays in the session's order.
ClientInput = Union[FloatLike, Dict[str, FloatLike], Sequence[FloatLike]]
# A decoded sum: a flat float64 array (dim session), or name -> array of the original
# shape and dtype (vectors session).
Arrays = Union[npt.NDArray[np.float64], Dict[str, FloatArray]]
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
    name: str
    """The error's stable name (``secagg::Error::name``), the same as ``variant``."""

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

class DPError(MisuseError):
    """Distributed DP refused a parameter or a step (``name``: ``'InvalidEpsilon'``,
    ``'InvalidDelta'``, ``'InvalidParameter'``, ``'NoiseBelowTarget'``,
    ``'RingTooNarrowForNoise'``, ``'Unreachable'``, ``'Overflow'``, ``'RoundingFailed'``
    or ``'BudgetExhausted'``): raised by ``Config(..., dp=...)``, :class:`Accountant`
    and :class:`Budget`."""

class BudgetExhaustedError(DPError):
    """A privacy budget would be exceeded (``name`` ``'BudgetExhausted'``):
    :meth:`Accountant.step` with ``budget=`` spent nothing."""

    epsilon: float
    """The ε the run would reach with the refused step."""
    budget: float
    """The budget's ε."""
    delta: float
    """δ of both (set by :meth:`Accountant.step`)."""
    rounds: int
    """Rounds spent before the refused step (set by :meth:`Accountant.step`)."""

class ClipError(MisuseError):
    """An input had elements outside ``[-clip, clip]`` under ``on_clip='raise'``
    (``name`` ``'Clipped'``); the input was refused and the client is as it was."""

class ClipWarning(UserWarning):
    """Warned when a client with ``on_clip='warn'`` clipped elements of its input."""

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
        self, x: FloatLike, weight: int = 1, seed: Optional[bytes] = None
    ) -> Tuple[npt.NDArray[np.uint64], int]:
        """Encodes a float array-like (any shape, flattened in C order; any float dtype;
        a float64 buffer).

        Returns ``(words, clipped)``. ``seed`` (32 bytes) makes stochastic rounding
        reproducible; by default one seed is drawn from the OS per call and expanded
        with ChaCha20. Raises :class:`MisuseError` for
        NaN/inf inputs or a weight outside ``1..max_weight``.
        """
    def dequantize(self, sum: npt.NDArray[np.uint64], clients: int) -> Aggregate:
        """Decodes the ring sum of exactly ``clients`` encoded vectors.

        Raises :class:`PeerMisbehavedError` for a sum the included clients cannot have
        produced, :class:`MisuseError` when ``clients > max_clients``.
        """

class Aggregate:
    """The decoded sum of the included clients' vectors: flat ``float64`` arrays for a
    ``dim`` session and :meth:`Quantizer.dequantize`, dicts ``name -> array`` of the
    original shapes and dtypes for a ``vectors`` session."""

    @property
    def included(self) -> Optional[List[int]]:
        """Ids of the included clients (sorted) for an aggregate from a protocol run
        (:meth:`Server.result`, :func:`simulate`); ``None`` from
        :meth:`Quantizer.dequantize`."""
    @property
    def sum(self) -> Arrays:
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
    def mean(self) -> Optional[Arrays]:
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
    """Neighbors per client (``n - 1`` for the complete graph)."""
    threshold: int
    """Shamir threshold: shares among a client's neighbors needed to reconstruct."""
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
    dropout: float = 0.1,
    corrupt: float = 0.1,
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

RoundName = Literal[
    "AdvertiseKeys", "ShareKeys", "MaskedInputCollection", "ConsistencyCheck", "Unmasking"
]

class Config:
    """The session parameters every party must agree on.

    ``n`` clients (ids ``0 .. n-1``) each contribute one float vector of ``dim``
    elements or, with ``vectors``, a whole model (a dict ``name -> shape`` or ``name ->
    template array``, or a list of such, named ``"0"``, ``"1"``, ...; exactly one of
    ``dim`` and ``vectors``). Every element is clipped to ``[-clip, clip]`` and quantized to ``bits`` bits (weighted by an integer in
    ``1..max_weight`` when ``max_weight`` is set). The graph and threshold come from
    :func:`find_params` (with ``dropout``, ``corrupt``, ``threat``) unless given:
    ``threshold`` alone selects the complete graph (SecAgg), ``degree`` and
    ``threshold`` a SecAgg+ Harary graph drawn from the public ``graph_seed`` (random
    when not given). ``context`` (e.g. a model hash and round number) is bound into
    the session id. In the malicious model, ``verifying_keys`` lists every client's
    Ed25519 public key (see :func:`signing_keypair`).

    Every party must build an identical ``Config``: send :meth:`to_dict` to the
    clients, which rebuild it with ``Config(**d)``. It is built through the Rust float
    session (``secagg::session``), so the same parameters give the same session id in
    Rust, in ``secagg serve`` and here (docs/float-encoding.md, "Sessions").
    """

    def __init__(
        self,
        n: int,
        dim: Optional[int] = None,
        *,
        vectors: Optional[VectorsSpec] = None,
        threshold: Optional[int] = None,
        degree: Optional[int] = None,
        dropout: float = 0.1,
        corrupt: float = 0.1,
        graph_seed: Optional[bytes] = None,
        clip: float = 1.0,
        bits: int = 16,
        ring_bits: Optional[int] = None,
        max_weight: Optional[int] = None,
        rounding: Rounding = "stochastic",
        context: Optional[bytes] = None,
        threat: Threat = "semi-honest",
        verifying_keys: Optional[Sequence[bytes]] = None,
        dp: Union["DistributedDP", Dict[str, object], None] = None,
    ) -> None: ...
    @property
    def n(self) -> int:
        """Number of clients."""
    @property
    def dp(self) -> Optional[Dict[str, object]]:
        """With ``dp=``: the resolved distributed-DP parameters (``grid_step``,
        ``ring_bits``, ``padded_dims``, ``client_variance``, ``min_survivors``,
        ``colluding``, ``epsilon`` of one round, ``delta``, ``noise_multiplier``, ...);
        ``None`` without DP."""
    @property
    def dim(self) -> Optional[int]:
        """Float elements per client vector (``None`` for a ``vectors`` session)."""
    @property
    def vectors(self) -> List[Tuple[str, Tuple[int, ...], str]]:
        """``[(name, shape, dtype)]`` in order (``[("", (dim,), "float64")]`` for a
        ``dim`` session)."""
    @property
    def size(self) -> int:
        """Total float elements per client, over all vectors."""
    @property
    def threshold(self) -> int:
        """Shamir threshold."""
    @property
    def degree(self) -> Optional[int]:
        """Harary graph degree, or ``None`` for the complete graph."""
    @property
    def graph_seed(self) -> bytes:
        """The public seed of the Harary graph."""
    @property
    def session_id(self) -> bytes:
        """The 32-byte session id (SHA-256 over every parameter, the float encoding and
        the context)."""
    @property
    def threat(self) -> Threat:
        """``'semi-honest'`` or ``'malicious'``."""
    @property
    def quantizer(self) -> Quantizer:
        """The float encoding used by clients and the server."""
    def neighbors(self, id: int) -> List[int]:
        """The neighbors of client ``id`` (sorted ids)."""
    def to_dict(self) -> Dict[str, Union[int, float, str, bytes, List[str], List[bytes]]]:
        """Keyword arguments that rebuild this exact configuration: ``Config(**d)``.
        Never ``None`` (unset parameters are left out): fits Flower's ``ConfigRecord``."""

Mechanism = Literal["ddg", "skellam"]

class DistributedDP:
    """Distributed differential privacy for a session (``Config(..., dp=...)``): every
    client adds its share of integer noise (the distributed discrete Gaussian,
    ``'ddg'``, or distributed Skellam, ``'skellam'``) to its rotated, rounded update
    before masking, so the sum the server unmasks is noised.

    Give exactly one of ``noise_multiplier`` (the sum of the fewest planned honest
    survivors carries noise of standard deviation ``noise_multiplier * clip``) and
    ``epsilon`` (the least noise for which one round is ``(epsilon, delta)``-DP). With
    ``dp=`` the session's ``clip`` is the L2 bound of a client's update and ``bits`` the
    grid; every parameter is bound into the session id (docs/differential-privacy.md).
    """

    def __init__(
        self,
        *,
        noise_multiplier: Optional[float] = None,
        epsilon: Optional[float] = None,
        delta: float = 1e-5,
        mechanism: Mechanism = "ddg",
        beta: float = 0.6065306597126334,
        k_stddevs: float = 4.0,
        min_survivors: Optional[int] = None,
        colluding: Optional[int] = None,
    ) -> None: ...
    @property
    def mechanism(self) -> Mechanism:
        """``'ddg'`` or ``'skellam'``."""
    @property
    def noise_multiplier(self) -> Optional[float]:
        """The noise multiplier asked for, or ``None`` when ``epsilon`` was."""
    @property
    def epsilon(self) -> Optional[float]:
        """The target epsilon per round, or ``None`` when a noise multiplier was given."""
    @property
    def delta(self) -> float:
        """delta of the guarantee."""
    def to_dict(self) -> Dict[str, object]:
        """Keyword arguments that rebuild this configuration: ``DistributedDP(**d)``."""

def dp_noise(config: Config, included: int) -> Dict[str, object]:
    """The noise a DP session's decoded sum of ``included`` clients carries and the
    guarantee of its round: ``noise_variance`` and ``noise_stddev`` per coordinate,
    ``rounding_variance_bound``, ``epsilon`` at ``delta`` for the clients whose noise
    counts, ``below_target`` when fewer clients than planned were included.
    ``MisuseError`` for a session without DP."""

class Budget:
    """A privacy budget ``(epsilon, delta)``: ``epsilon`` finite and above 0, ``delta``
    in ``(0, 1)``, else :class:`DPError` (``InvalidEpsilon``, ``InvalidDelta``)."""

    def __init__(self, epsilon: float, delta: float) -> None: ...
    @property
    def epsilon(self) -> float:
        """ε of the budget."""
    @property
    def delta(self) -> float:
        """δ of the budget."""
    def as_tuple(self) -> Tuple[float, float]:
        """``(epsilon, delta)``."""

BudgetLike = Union[Budget, Tuple[float, float]]

RDP_ORDERS: Tuple[int, ...]
"""The Rényi orders the accountant minimises over (2..256 and a few larger)."""

class Accountant:
    """The privacy accountant of a training run with distributed DP: the Rényi DP of
    each round (distributed discrete Gaussian or Skellam, amplified by Poisson sampling
    at ``sampling_rate``), composed over rounds, converted to ``(epsilon, delta)``.

    Built from the arguments of ``secagg dp`` (the same numbers as ``secagg dp ...
    --json``, :meth:`to_dict`), with exactly one of ``noise_multiplier`` and
    ``epsilon`` (the target over ``rounds`` rounds: the least noise that meets it); or
    from a DP session with :meth:`for_session`. :meth:`step` composes the rounds a run
    had; :meth:`epsilon` and :meth:`spent` give the guarantee so far. Bad arguments
    raise :class:`DPError`.
    """

    def __init__(
        self,
        mechanism: Mechanism = "ddg",
        *,
        clients: int,
        dim: int,
        clip: float = 1.0,
        bits: int = 16,
        ring_bits: Optional[int] = None,
        noise_multiplier: Optional[float] = None,
        epsilon: Optional[float] = None,
        delta: float = 1e-5,
        rounds: int = 1,
        sampling_rate: float = 1.0,
        dropout: float = 0.0,
        corrupt: float = 0.0,
        beta: float = 0.6065306597126334,
    ) -> None: ...
    @staticmethod
    def for_session(
        config: Config, *, sampling_rate: float = 1.0, delta: Optional[float] = None
    ) -> Accountant:
        """The accountant of the rounds of one DP session (its grid, norm bound,
        per-client variance and calibration); ``delta`` defaults to the session's."""
    def step(
        self,
        rounds: int = 1,
        *,
        survivors: Optional[int] = None,
        sampling_rate: Optional[float] = None,
        session: Optional[Config] = None,
        budget: Optional[BudgetLike] = None,
    ) -> float:
        """Composes ``rounds`` more rounds (each with ``survivors`` included clients,
        default the planned fewest; at ``sampling_rate``; of ``session``) and returns the
        running ε. With ``budget``, a step past it raises :class:`BudgetExhaustedError`
        and spends nothing."""
    def epsilon_if(
        self,
        rounds: int = 1,
        *,
        survivors: Optional[int] = None,
        sampling_rate: Optional[float] = None,
        session: Optional[Config] = None,
        delta: Optional[float] = None,
    ) -> float:
        """The running ε :meth:`step` would return, without spending anything."""
    def epsilon(self, delta: Optional[float] = None) -> float:
        """The running ε after the rounds stepped (0 before any)."""
    def spent(self) -> Tuple[float, float]:
        """``(epsilon, delta)`` spent so far."""
    @property
    def rounds(self) -> int:
        """Rounds stepped so far."""
    @property
    def rdp(self) -> List[float]:
        """The composed RDP of the rounds stepped, at each of :data:`RDP_ORDERS`."""
    def round_rdp_planned(self) -> List[float]:
        """The RDP of one planned round, at each of :data:`RDP_ORDERS`."""
    def epsilon_after(self, rounds: int, delta: Optional[float] = None) -> float:
        """ε after ``rounds`` planned rounds; nothing is spent."""
    def max_rounds(self, budget: BudgetLike) -> int:
        """The most planned rounds within ``budget`` (0 when one round exceeds it)."""
    @property
    def mechanism(self) -> Mechanism:
        """``'ddg'`` or ``'skellam'``."""
    @property
    def clients(self) -> int:
        """Clients per session ``n``."""
    @property
    def min_survivors(self) -> int:
        """The fewest survivors the noise is calibrated for."""
    @property
    def colluding(self) -> int:
        """Clients assumed to collude with the server."""
    @property
    def noisy_clients(self) -> int:
        """``min_survivors - colluding``."""
    @property
    def noise_multiplier(self) -> float:
        """The planned round's noise stddev over ``clip``."""
    @property
    def noise_stddev(self) -> float:
        """Standard deviation of the planned round's summed noise (float units)."""
    @property
    def client_variance(self) -> float:
        """Per-client noise variance in grid units."""
    @property
    def sampling_rate(self) -> float:
        """The planned rounds' sampling rate."""
    @property
    def delta(self) -> float:
        """δ of the reported guarantees."""
    def to_dict(self) -> Dict[str, object]:
        """The keys and values of ``secagg dp ... --json`` (ε after the planned
        ``rounds``)."""

def gaussian_rdp(noise_multiplier: float, sampling_rate: float, order: int) -> float:
    """The RDP at integer ``order`` of the Poisson-subsampled continuous Gaussian
    mechanism (TensorFlow Privacy's ``compute_rdp`` for one step)."""

def rdp_to_epsilon(
    rdp: Sequence[float], delta: float, *, classic: bool = False
) -> Tuple[float, int]:
    """``(epsilon, order)`` from RDP values at :data:`RDP_ORDERS`; ``classic``:
    Mironov's conversion."""

class Client:
    """One client of one session, driven by the framework's messaging.

    The input ``x`` (see :data:`ClientInput`) is quantized when it is given and kept only
    in the Rust state. ``x=None`` defers it: give it with :meth:`provide_input` before
    the masked-input round (:attr:`needs_input`). ``on_clip``: ``'ignore'``, ``'warn'``
    (:class:`ClipWarning`) or ``'raise'`` (:class:`ClipError`). An id outside
    ``0..n-1`` is :class:`MisuseError` (``InvalidClientId``). :meth:`start` returns the first message to send; :meth:`handle`
    turns each server message into the reply. Bytes that do not decode raise
    :class:`EncodingError` and leave the client as it was; any other error aborts the
    client for good. Heavy work releases the GIL.
    """

    def __init__(
        self,
        config: Config,
        id: int,
        x: Optional[ClientInput] = None,
        *,
        weight: int = 1,
        signing_key: Optional[bytes] = None,
        seed: Optional[bytes] = None,
        on_clip: Literal["ignore", "warn", "raise"] = "ignore",
    ) -> None: ...
    def provide_input(self, x: ClientInput, weight: int = 1) -> None:
        """Gives a client created with ``x=None`` its input (until the masked-input
        round). :class:`MisuseError` (``InputNotExpected``) when it has one or is past
        that round; on any error the client is left as it was."""
    @property
    def needs_input(self) -> bool:
        """Whether the next message (round 2) needs the input and it is not given yet."""
    @property
    def accepts_input(self) -> bool:
        """Whether :meth:`provide_input` would take an input now."""
    def start(self) -> bytes:
        """The round-0 message; calling it again returns the same bytes. A restored
        client does not have it (:class:`MisuseError`, variant ``'Restored'``)."""
    def to_bytes(self) -> bytes:
        """The client's state, to store between messages (**a secret**: its keys, input
        and the shares it holds). Store it after every :meth:`handle` before sending the
        reply; never restore an older one. :class:`MisuseError` once aborted."""
    @staticmethod
    def from_bytes(
        config: Config,
        state: bytes,
        *,
        seed: Optional[bytes] = None,
        on_clip: Literal["ignore", "warn", "raise"] = "ignore",
    ) -> Client:
        """Restores a client stored with :meth:`to_bytes` under the same config (any
        state, with or without its input)."""
    def handle(self, message: bytes) -> bytes:
        """Handles one server message and returns the reply to send. The round-2
        message without an input raises :class:`MisuseError` (``InputMissing``) and
        leaves the client as it was."""
    @property
    def id(self) -> Optional[int]:
        """The client's id (``None`` once completed or aborted)."""
    @property
    def state(self) -> str:
        """``'KeysAdvertised'``, ``'SharesSent'``, ``'InputSent'``, ``'SurvivorsSigned'``,
        ``'Completed'`` or ``'Aborted'``."""
    @property
    def completed(self) -> bool:
        """Whether the client completed the session."""
    @property
    def error(self) -> Optional[str]:
        """The message of the error that aborted the client, or ``None``."""
    @property
    def clipped(self) -> Optional[int]:
        """How many input elements were clipped to ``[-clip, clip]`` (``None`` before an
        input was given, and for a restored client)."""

class Server:
    """The server of one session.

    Feed it each client's bytes with :meth:`receive`; call :meth:`close_round` when the
    round's deadline passed (whoever has not answered has dropped out). It returns the
    message for each surviving client, and ``{}`` after the last round, when
    :meth:`result` holds the float sum and the ids of the clients it contains.
    """

    def __init__(self, config: Config) -> None: ...
    def to_bytes(self) -> bytes:
        """The server's state, to store between rounds (public keys, sealed shares,
        masked sums, revealed shares: nothing the server may not know)."""
    @staticmethod
    def from_bytes(config: Config, state: bytes) -> Server:
        """Restores a server stored with :meth:`to_bytes` under the same config."""
    def receive(self, client_id: int, message: bytes) -> None:
        """Accepts one client's message for the current round; a rejected message
        leaves the server as it was (treat that client as dropped out)."""
    def close_round(self) -> Dict[int, bytes]:
        """Closes the round: the next message per surviving client, ``{}`` when done.
        Raises :class:`ThresholdError` when too few clients survive."""
    def result(self) -> Aggregate:
        """The decoded sum of the included clients (``included`` set).
        Raises :class:`MisuseError` before the session completed."""
    @property
    def round(self) -> RoundName:
        """The round being collected."""
    @property
    def awaited(self) -> List[int]:
        """Clients whose message for the current round is still awaited."""
    @property
    def received(self) -> List[int]:
        """Clients whose message for the current round arrived."""
    @property
    def completed(self) -> bool:
        """Whether the session completed."""
    @property
    def error(self) -> Optional[str]:
        """The message of the error that aborted the session, or ``None``."""
    @property
    def included(self) -> Optional[List[int]]:
        """The included clients (sorted), once completed."""

class RoundStats(TypedDict):
    round: RoundName
    active_clients: int
    client_mean_s: float
    client_max_s: float
    server_s: float
    client_messages: int
    server_messages: int

class Simulation:
    """What :func:`simulate` returns."""

    @property
    def aggregate(self) -> Aggregate:
        """The decoded float sum of the included clients, with ``included`` set."""
    @property
    def rounds(self) -> List[RoundStats]:
        """Per-round figures measured inside Rust."""
    @property
    def client_aborts(self) -> List[Tuple[int, str]]:
        """Clients that aborted on a server message (none with an honest server)."""
    @property
    def clipped(self) -> List[int]:
        """Per client, how many input elements were clipped."""
    @property
    def client_total_s(self) -> float:
        """Sum over rounds of the mean client handler time (seconds)."""
    @property
    def server_total_s(self) -> float:
        """Server time over the whole session (seconds)."""

def simulate(
    config: Config,
    inputs: Union[Sequence[ClientInput], FloatArray],
    *,
    weights: Optional[Sequence[int]] = None,
    drop: Optional[Dict[int, Union[RoundName, int]]] = None,
    signing_keys: Optional[Sequence[bytes]] = None,
    seed: Optional[bytes] = None,
    sequential: bool = False,
) -> Simulation:
    """Runs a whole session in process (clients in parallel, messages as values).

    ``sequential=True`` runs each round's clients one after the other, each with every
    core for its own mask expansion (the per-client times a device would see).
    ``drop``: ``{id: round}``, the client goes silent from that round on.
    ``signing_keys``: one 32-byte Ed25519 secret per client (malicious model).
    ``seed``: makes keys, masks and rounding deterministic.
    """

def signing_keypair(seed: Optional[bytes] = None) -> Tuple[bytes, bytes]:
    """A fresh Ed25519 key pair ``(signing_key, verifying_key)``, 32 bytes each."""

def _drive_in_rust(config: Config, inputs: Sequence[FloatArray], seed: bytes) -> Dict[str, object]:
    """Benchmark helper: the byte-level session loop, written in Rust, timed."""
