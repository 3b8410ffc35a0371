"""``SecureAggregation``: a Message-API strategy wrapper whose training aggregate is
computed by secagg.

``SecureAggregation(FedAvg(...), ...).start(grid=grid, initial_arrays=..., num_rounds=...)``
runs federated learning as the inner strategy would. In each training round it samples
nodes with the inner strategy's ``configure_train``, runs one secagg session with them
over ``grid.send_and_receive`` (each round bounded by ``timeout``; a node that replies
with an error or not at all has dropped out), and hands the inner strategy's
``aggregate_train`` one reply whose arrays are ``model + secure weighted mean of the
updates`` and whose weight is the exact sum of the included clients' weights. For a
strategy whose aggregate is the weighted mean of the replies (FedAvg, FedAvgM, FedProx,
FedAdam, FedYogi, FedAdagrad) that is what it computes on the plaintext replies of the
included clients, within the quantization bound. Evaluation passes through.

With ``dp=secagg.DistributedDP(...)`` every node clips its whole update to L2 norm
``clip``, rotates, rounds and adds its share of integer noise before masking (the
session's public parameters say how; the server sends them), so the server unmasks only
a noised sum, which it centres, unrotates and rescales; the mean is then unweighted. A
running accountant (:class:`secagg.dp.Accountant`) composes each round with the survivors
it actually had and logs the running ``(epsilon, delta)``; with ``dp_budget`` the run
stops before the round that would exceed it (:class:`PrivacyBudgetExhausted`).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Strategy

import secagg

from . import _common as c
from ._common import PrivacyBudgetExhausted, SecureAggregationError

log = logging.getLogger("flwr")

# Strategies whose aggregate is not a weighted mean of the replies: secure aggregation
# reveals only the sum, so they cannot run on top of it.
_REFUSED = {
    "Krum": "selects the update closest to its neighbours, which needs every individual update",
    "MultiKrum": "scores and selects individual updates by their distances to each other",
    "Bulyan": "selects and trims individual updates coordinate by coordinate",
    "FedMedian": "takes the coordinate-wise median of the individual updates",
    "FedTrimmedAvg": "trims the largest and smallest individual values per coordinate",
    "QFedAvg": "reweights each update by its own client's loss (q-FFL)",
    "FedXgbBagging": "merges individual XGBoost trees, not arrays",
    "FedXgbCyclic": "passes one client's model at a time, there is nothing to sum",
    "DifferentialPrivacyServerSideFixedClipping": "clips each individual update on the "
    "server (use client-side clipping: secagg's clip bounds every update)",
    "DifferentialPrivacyServerSideAdaptiveClipping": "clips each individual update on the "
    "server",
}
_WEIGHTED_MEAN = ("FedAvg", "FedAvgM", "FedProx", "FedAdam", "FedYogi", "FedAdagrad", "FedOpt")


@dataclass
class RoundInfo:
    """What one training round's secagg session did (``SecureAggregation.history``)."""

    server_round: int
    n: int
    degree: int
    threshold: int
    ring_bits: int
    nodes: List[int]
    """The sampled nodes, in client-id order (client ``i`` is ``nodes[i]``)."""
    included: List[int] = field(default_factory=list)
    """Node ids whose updates are in the aggregate."""
    dropped: Dict[int, str] = field(default_factory=dict)
    """Node id -> the secagg round it dropped out in (and the reason, if it gave one)."""
    total_weight: int = 0
    mean_error_bound: Optional[float] = None
    """Per-element bound on ``|secure mean - exact weighted mean of clipped updates|``."""
    clipped: int = 0
    """Update values clipped, as reported by the included nodes."""
    seconds: float = 0.0
    bytes_from_nodes: Dict[int, int] = field(default_factory=dict)
    """Per node, the secagg bytes it sent in this session."""
    error: Optional[str] = None
    mean_update: Optional[Dict[str, np.ndarray]] = None
    """The secure weighted mean of the included clients' updates (float64), kept for the
    latest round only."""
    dp: Optional[Dict[str, Any]] = None
    """With ``dp=``: the noise of this round's sum (:func:`secagg.dp_noise`:
    ``noise_stddev``, ``noise_clients``, ``calibrated_for``, ``epsilon`` of the round
    alone, ``below_target``, ...) and the accountant's ``running_epsilon``,
    ``running_delta``, ``sampling_rate`` and ``dp_rounds`` after it."""


class SecureAggregation(Strategy):
    """Wraps a Message-API strategy so that each training aggregate is computed by secagg.

    Parameters
    ----------
    strategy
        The inner strategy (``flwr.serverapp.strategy``). One whose aggregate is a
        weighted mean of the replies. Krum, MultiKrum, Bulyan, FedMedian, FedTrimmedAvg,
        QFedAvg, the XGBoost strategies and server-side DP clipping need individual
        updates and are refused (``ValueError``). Another custom strategy is refused
        unless ``assume_weighted_mean=True``.
    dropout, corrupt
        Fractions of the sampled nodes assumed to drop out and to be corrupt (colluding
        with the server). The session's graph and threshold follow from them
        (``secagg.find_params``); the dropout rate is raised to ``1/n`` when lower, so a
        round always survives at least one drop-out.
    clip
        Bound on each element of each client's **update** (returned arrays minus the
        arrays it was sent), not on the weights.
    bits
        Quantization bits per element. The error bound per element of the mean is
        logged each round.
    threat
        ``"semi-honest"`` or ``"malicious"`` (adds the consistency-check round; each node
        signs with an Ed25519 key it draws and announces in an extra first round).
    max_weight
        Largest weight (the inner strategy's weighting key, ``num-examples``) a client
        may report; the sum of weights is computed exactly. A client over it drops out.
    timeout
        Seconds each secagg round waits for replies; a node that has not answered by
        then has dropped out.
    on_clip
        What a node does when its update exceeds ``clip``: ``"ignore"``, ``"warn"``
        (logs on the node and the count is summed in the server's log) or ``"raise"``
        (the node drops out of the round).
    on_abort
        ``"raise"``: a session with too many drop-outs raises
        :class:`SecureAggregationError` (the run stops with that error);
        ``"skip"``: the round is logged as failed and the model stays as it was.
    sigma, eta
        Privacy and correctness targets: privacy fails with probability at most
        ``2**-sigma``, the protocol aborts with probability at most ``2**-eta``.
    assume_weighted_mean
        Accept a strategy not known to aggregate by a weighted mean.
    dp
        A :class:`secagg.DistributedDP`: distributed differential privacy. ``clip`` is
        then the L2 norm bound of a node's whole update (all arrays together), ``bits``
        the grid (``clip / step = 2**(bits - 1)``), the mean is unweighted (a weight
        would scale a node's sensitivity; ``max_weight`` is refused) and the noise is
        calibrated for the fewest survivors each round's session plans for, less the
        ``corrupt`` nodes (whose noise the server could subtract). A configuration
        whose tolerated drop-outs leave less noise than its target is refused here
        (:class:`secagg.DPError`, ``NoiseBelowTarget``), checked at the smallest round
        the inner strategy samples (from its ``min_train_nodes``, ``fraction_train``
        and ``min_available_nodes``; a round too small to run at all is left to the
        round, which raises the same error).
    dp_budget
        ``(epsilon, delta)`` or a :class:`secagg.dp.Budget`: the privacy budget of the
        whole run. Before a round whose spend would take the running ε above it, even
        if every sampled node survived, the run stops; the same check with the actual
        survivors runs before anything is unmasked (a round with more drop-outs than
        planned spends more). Default: no budget (ε is logged, never enforced).
    dp_sampling_rate
        The Poisson sampling rate the accountant amplifies by. ``1.0`` (default): none,
        the guarantee against the server, which knows which nodes it sampled.
        ``"auto"``: each round's sampled nodes over the available nodes, the guarantee
        against whoever sees only the models (treating Flower's uniform sampling of a
        fixed number of nodes as Poisson sampling at that rate, as DP-SGD accountants
        do). A float in ``(0, 1]``: that rate every round.
    on_budget
        ``"raise"`` (default): :class:`PrivacyBudgetExhausted` ends ``start()`` (it holds
        the model the run ended with); ``"stop"``: no further training round runs
        (``start()`` returns normally, :attr:`stopped` holds the exception).
    """

    def __init__(
        self,
        strategy: Strategy,
        *,
        dropout: float = 0.1,
        corrupt: float = 0.1,
        clip: float = 1.0,
        bits: int = 16,
        threat: str = "semi-honest",
        max_weight: Optional[int] = None,
        timeout: float = 120.0,
        on_clip: str = "warn",
        on_abort: str = "raise",
        sigma: float = 40.0,
        eta: float = 20.0,
        assume_weighted_mean: bool = False,
        dp: Optional[secagg.DistributedDP] = None,
        dp_budget: Union[secagg.Budget, Tuple[float, float], None] = None,
        dp_sampling_rate: Union[float, str] = 1.0,
        on_budget: str = "raise",
    ) -> None:
        super().__init__()
        name = type(strategy).__name__
        chain = [k.__name__ for k in type(strategy).__mro__]
        for k in chain:
            if k in _REFUSED:
                raise ValueError(
                    f"SecureAggregation cannot wrap {name}: it {_REFUSED[k]}; secure "
                    "aggregation reveals only the weighted sum of the updates"
                )
        if not assume_weighted_mean and not any(k in _WEIGHTED_MEAN for k in chain):
            raise ValueError(
                f"SecureAggregation cannot tell whether {name} aggregates by a weighted "
                "mean of the replies (the only aggregate secure aggregation provides); "
                "pass assume_weighted_mean=True if it does"
            )
        if not 0.0 <= dropout < 1.0 or not 0.0 <= corrupt < 1.0:
            raise ValueError("dropout and corrupt are fractions in [0, 1)")
        if threat not in ("semi-honest", "malicious"):
            raise ValueError("threat is 'semi-honest' or 'malicious'")
        if on_clip not in c.ON_CLIP:
            raise ValueError(f"on_clip is one of {c.ON_CLIP}")
        if on_abort not in ("raise", "skip"):
            raise ValueError("on_abort is 'raise' or 'skip'")
        if isinstance(dp, dict):
            dp = secagg.DistributedDP(**dp)
        if dp is not None and not isinstance(dp, secagg.DistributedDP):
            raise TypeError("dp is a secagg.DistributedDP")
        if dp is not None and max_weight is not None:
            raise ValueError(
                "with dp= the mean is unweighted (a weight would scale each node's "
                "sensitivity): leave max_weight unset"
            )
        if dp_budget is not None and dp is None:
            raise ValueError("dp_budget needs dp=secagg.DistributedDP(...)")
        if dp_budget is not None and not isinstance(dp_budget, secagg.Budget):
            eps, delta = dp_budget
            dp_budget = secagg.Budget(float(eps), float(delta))
        if dp_sampling_rate != "auto" and not (
            isinstance(dp_sampling_rate, (int, float)) and 0.0 < dp_sampling_rate <= 1.0
        ):
            raise ValueError('dp_sampling_rate is "auto" or a rate in (0, 1]')
        if on_budget not in ("raise", "stop"):
            raise ValueError("on_budget is 'raise' or 'stop'")
        if max_weight is None:
            max_weight = 65536
        if not clip > 0 or int(bits) < 1 or int(max_weight) < 1 or not timeout > 0:
            raise ValueError("clip, bits, max_weight and timeout must be positive")
        self.strategy = strategy
        self.dropout = float(dropout)
        self.corrupt = float(corrupt)
        self.clip = float(clip)
        self.bits = int(bits)
        self.threat = threat
        self.max_weight = int(max_weight)
        self.timeout = float(timeout)
        self.on_clip = on_clip
        self.on_abort = on_abort
        self.sigma = float(sigma)
        self.eta = float(eta)
        self.dp = dp
        self.dp_budget: Optional[secagg.Budget] = dp_budget
        self.dp_sampling_rate = dp_sampling_rate
        self.on_budget = on_budget
        #: With ``dp=``: the running :class:`secagg.dp.Accountant` (from the first round).
        self.accountant: Optional[secagg.Accountant] = None
        #: With ``on_budget="stop"``: the :class:`PrivacyBudgetExhausted` that stopped
        #: training, else ``None``.
        self.stopped: Optional[PrivacyBudgetExhausted] = None
        self.weighted_by_key = str(getattr(strategy, "weighted_by_key", "num-examples"))
        self.arrayrecord_key = str(getattr(strategy, "arrayrecord_key", "arrays"))
        #: One :class:`RoundInfo` per training round, in order.
        self.history: List[RoundInfo] = []
        self._pending: Optional[Tuple[Message, MetricRecord]] = None
        self._nonce = os.urandom(16)
        if dp is not None:
            # The smallest round the FedAvg family samples: max(int(fraction_train *
            # available), min_train_nodes) with at least min_available_nodes available.
            smallest = max(
                int(getattr(strategy, "min_train_nodes", 2) or 2),
                int(float(getattr(strategy, "fraction_train", 0.0) or 0.0)
                    * int(getattr(strategy, "min_available_nodes", 2) or 2)))
            self._check_dp(smallest)

    # --- Strategy interface ---------------------------------------------------------

    def summary(self) -> None:
        log.info("\t├──> SecureAggregation (secagg %s) around %s:", secagg.__version__,
                 type(self.strategy).__name__)
        log.info("\t│\t├── dropout %.3g, corrupt %.3g, threat %s", self.dropout,
                 self.corrupt, self.threat)
        if self.dp is None:
            log.info("\t│\t├── clip %g (per update element), %d bits, max weight %d",
                     self.clip, self.bits, self.max_weight)
        else:
            log.info("\t│\t├── clip %g (L2 norm of an update), %d grid bits, unweighted",
                     self.clip, self.bits)
        log.info("\t│\t%s── round timeout %gs, on_clip %s, on_abort %s",
                 "├" if self.dp else "└", self.timeout, self.on_clip, self.on_abort)
        if self.dp is not None:
            budget = (f"budget (ε {self.dp_budget.epsilon:g}, δ {self.dp_budget.delta:g}), "
                      f"on_budget {self.on_budget}" if self.dp_budget else "no budget")
            log.info("\t│\t└── distributed DP %r (clip = L2 bound of an update), sampling "
                     "rate %s, %s", self.dp, self.dp_sampling_rate, budget)
        self.strategy.summary()

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Samples with the inner strategy and runs the whole secagg session; returns no
        message (the session's result is handed over in :meth:`aggregate_train`)."""
        self._pending = None
        if self.stopped is not None:
            log.info("[secagg] round %d: no training, the privacy budget was exhausted in "
                     "round %d", server_round, self.stopped.server_round)
            return []
        messages = list(self.strategy.configure_train(server_round, arrays, config, grid))
        if not messages:
            return []
        try:
            self._pending = self._run_session(server_round, arrays, messages, grid)
        except PrivacyBudgetExhausted as e:
            log.warning("[secagg] %s", e)
            if self.on_budget == "raise":
                raise
            self.stopped = e
        except SecureAggregationError as e:
            if self.on_abort == "raise":
                raise
            log.error("[secagg] round %d skipped: %s", server_round, e)
        return []

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> Tuple[Optional[ArrayRecord], Optional[MetricRecord]]:
        """The inner strategy's aggregate of the one reply that stands for the included
        clients (``model + secure mean update``, weight = exact total weight)."""
        list(replies)  # nothing was sent by start() itself
        if self._pending is None:
            return None, None
        reply, extra = self._pending
        self._pending = None
        arrays, metrics = self.strategy.aggregate_train(server_round, [reply])
        if metrics is not None:
            for k, v in extra.items():
                metrics[k] = v
        return arrays, metrics

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        return self.strategy.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(
        self, server_round: int, replies: Iterable[Message]
    ) -> Optional[MetricRecord]:
        return self.strategy.aggregate_evaluate(server_round, replies)

    # --- the session ----------------------------------------------------------------

    def _config(self, n: int, spec: c.Spec, server_round: int, run_id: int,
                verifying_keys: Optional[List[bytes]]) -> secagg.Config:
        # At least one drop-out tolerated at any n.
        dropout = max(self.dropout, (1.0 + 1e-9) / n)
        context = (
            f"secagg.flower run {run_id} round {server_round} n {n} ".encode() + self._nonce
        )
        kw: Dict[str, Any] = dict(
            dropout=dropout,
            corrupt=self.corrupt,
            clip=self.clip,
            bits=self.bits,
            threat=self.threat,
            context=context,
        )
        if self.dp is None:
            kw["max_weight"] = self.max_weight
        else:
            kw["dp"] = self.dp
        if verifying_keys is not None:
            kw["verifying_keys"] = verifying_keys
        try:
            secagg.find_params(n, dropout, self.corrupt, self.threat, self.sigma, self.eta)
        except secagg.MisuseError:
            # Too few nodes for the finder's targets: the complete graph with the
            # largest threshold that survives the assumed drop-outs (a survivor keeps
            # n - 1 - dropped surviving neighbours' shares).
            dropped = max(1, int(dropout * n))
            t = n - 1 - dropped
            floor = int(self.corrupt * n) + 1
            if self.threat == "malicious":
                floor = max(floor, n // 2 + 1)
            if t < floor:
                raise SecureAggregationError(
                    f"{n} nodes cannot tolerate {dropped} drop-out(s) with "
                    f"corrupt={self.corrupt} ({self.threat}): sample more nodes"
                ) from None
            if t == 1:
                log.warning(
                    "[secagg] %d nodes: threshold 1, so that one drop-out is survived; "
                    "privacy then holds only against a server that colludes with no node "
                    "and follows the protocol", n)
            kw["threshold"] = t
        return c.make_config(n, spec, **kw)

    def _check_dp(self, n: int) -> None:
        """Refuses a DP configuration that no round of ``n`` (the fewest nodes the inner
        strategy samples) can calibrate: too few honest survivors for the noise
        (``NoiseBelowTarget``), a ring too narrow, a bad ε or δ. Rounds the wrapper
        cannot run at ``n`` for other reasons (too few nodes) are left to the round."""
        n = max(n, 2)
        keys = [secagg.signing_keypair()[1] for _ in range(n)] if self.threat == "malicious" else None
        try:
            self._config(n, [("probe", (1,), "<f8")], 0, 0, keys)
        except SecureAggregationError:
            pass
        except secagg.DPError as e:
            note = (f"secagg.flower: dp={self.dp!r} with dropout={self.dropout}, "
                    f"corrupt={self.corrupt} cannot be calibrated for a round of {n} nodes")
            if hasattr(e, "add_note"):
                e.add_note(note)
            raise

    def _sampling_rate(self, sampled: int, grid: Grid) -> float:
        """The rate the accountant amplifies this round by (``dp_sampling_rate``)."""
        if self.dp_sampling_rate != "auto":
            return float(self.dp_sampling_rate)
        available = len(list(grid.get_node_ids()))
        return min(1.0, sampled / max(available, sampled, 1))

    def _refuse(self, server_round: int, eps: float, arrays: ArrayRecord,
                survivors: Optional[int]) -> PrivacyBudgetExhausted:
        assert self.dp_budget is not None and self.accountant is not None
        b = self.dp_budget
        spent = self.accountant.epsilon(b.delta)
        when = ("even if every sampled node survived" if survivors is None else
                f"with its {survivors} survivors; stopped before unmasking: nothing of this "
                "round was revealed")
        return PrivacyBudgetExhausted(
            f"privacy budget exhausted: round {server_round} would take epsilon from "
            f"{spent:.6g} to {eps:.6g} (delta {b.delta:g}) {when}; the budget is epsilon "
            f"{b.epsilon:g} ({self.accountant.rounds} DP rounds run)",
            server_round=server_round, epsilon=eps, spent=spent, budget=b,
            rounds=self.accountant.rounds, survivors=survivors, arrays=arrays)

    def _dp_round(self, server_round: int, config: secagg.Config, included: int,
                  q: float) -> Dict[str, Any]:
        """Steps the accountant for a completed round; logs and returns its DP record."""
        assert self.accountant is not None
        # The accountant's delta is the budget's (or the session's without a budget).
        delta = self.accountant.delta
        report = dict(secagg.dp_noise(config, included))
        eps = self.accountant.step(survivors=included, sampling_rate=q, session=config)
        report.update(running_epsilon=eps, running_delta=delta, sampling_rate=q,
                      dp_rounds=self.accountant.rounds)
        budget = (f" of the budget {self.dp_budget.epsilon:g}" if self.dp_budget else "")
        log.info(
            "[secagg] round %d: DP %s, noise stddev %.4g per value of the sum (%.4g of "
            "the mean), %d of %d included nodes' noise counts (calibrated for %d "
            "survivors); running (epsilon, delta) = (%.4g, %.3g)%s after %d DP rounds "
            "at sampling rate %.4g", server_round, report["mechanism"],
            report["noise_stddev"], report["noise_stddev"] / max(included, 1),
            report["noise_clients"], included, report["calibrated_for"], eps, delta,
            budget, self.accountant.rounds, q)
        if report["below_target"]:
            log.warning(
                "[secagg] round %d: below_target: %d survivors, fewer than the %d the "
                "noise is calibrated for; this round alone has epsilon %.4g", server_round,
                included, report["calibrated_for"], report["epsilon"])
        return report

    def _bounds(self, config: secagg.Config, n: int) -> str:
        dropout = max(self.dropout, (1.0 + 1e-9) / n)
        degree = config.degree if config.degree is not None else n - 1
        try:
            p = secagg.check_params(n, dropout, self.corrupt, degree, config.threshold,
                                    self.threat, self.sigma, self.eta)
            return (f"log2 P[privacy fails] {p['log2_security']:.1f}, "
                    f"log2 P[abort] {p['log2_failure']:.1f} "
                    f"(up to {p['max_dropped']} drop-outs, {p['max_corrupt']} corrupt)")
        except secagg.SecAggError as e:
            return f"complete graph below the finder's range ({e})"

    def _send(self, grid: Grid, out: Dict[int, Message], info: RoundInfo, stage: str
              ) -> Dict[int, ConfigRecord]:
        """Sends one secagg round; returns node -> its ``"secagg"`` record."""
        msgs = list(out.values())
        replies = list(grid.send_and_receive(msgs, timeout=self.timeout))
        got: Dict[int, ConfigRecord] = {}
        for r in replies:
            node = r.metadata.src_node_id
            if node not in out:
                continue
            if r.has_error():
                info.dropped[node] = f"{stage}: {r.error.reason}"
                continue
            rec = r.content.config_records.get(c.RECORD) if r.has_content() else None
            # Whatever a node sends is checked before use: a malformed reply is a drop-out.
            if rec is None or not isinstance(rec.get(c.K_MSG), bytes):
                info.dropped[node] = f"{stage}: reply without secagg bytes"
                continue
            clipped = rec.get(c.K_CLIPPED, 0)
            if isinstance(clipped, bool) or not isinstance(clipped, int) or clipped < 0:
                info.dropped[node] = f"{stage}: malformed clipped count"
                continue
            got[node] = rec
        for node in out:
            if node not in got and node not in info.dropped:
                info.dropped[node] = f"{stage}: no reply within {self.timeout:g}s"
        return got

    def _roster(self, grid: Grid, server_round: int, msg_of: Dict[int, Message]):
        """Malicious model: each sampled node's Ed25519 verifying key, in node order.

        The roster is collected by this server, so it binds each secagg id to the node
        that answered (signatures, the consistency check); it is no defence against a
        server that adds nodes of its own (that is what ``corrupt`` accounts for)."""
        rec = {c.K_VERSION: c.VERSION, c.K_STAGE: c.STAGE_ROSTER, c.K_SESSION: b"",
               c.K_TRAIN: False, c.K_SERVER_ROUND: server_round}
        out = {node: Message(RecordDict({c.RECORD: ConfigRecord(dict(rec))}),
                             dst_node_id=node, message_type=m.metadata.message_type)
               for node, m in msg_of.items()}
        probe = RoundInfo(server_round, 0, 0, 0, 0, [])
        got = self._send(grid, out, probe, "Roster")
        nodes, keys = [], []
        for node in msg_of:
            vk = got.get(node, {}).get(c.K_VERIFYING_KEY) if node in got else None
            if isinstance(vk, bytes) and len(vk) == 32:
                nodes.append(node)
                keys.append(vk)
            elif node not in probe.dropped:
                probe.dropped[node] = "Roster: no verifying key"
        return nodes, keys, probe.dropped

    def _run_session(
        self, server_round: int, arrays: ArrayRecord, messages: List[Message], grid: Grid
    ) -> Tuple[Message, MetricRecord]:
        t0 = time.perf_counter()
        nodes = [m.metadata.dst_node_id for m in messages]
        if len(set(nodes)) != len(nodes):
            raise SecureAggregationError("the inner strategy sampled a node twice")
        n = len(nodes)
        if n < 2:
            raise SecureAggregationError(f"secure aggregation needs 2 or more nodes, got {n}")
        model = {k: a.numpy() for k, a in arrays.items()}
        spec = c.spec_of(model)
        for m in messages:
            recs = list(m.content.array_records.values())
            if len(recs) != 1 or c.spec_of({k: a.numpy() for k, a in recs[0].items()}) != spec:
                raise SecureAggregationError(
                    "each training message must carry exactly one ArrayRecord shaped "
                    "like the global model"
                )
        msg_of = dict(zip(nodes, messages))
        run_id = int(getattr(getattr(grid, "run", None), "run_id", 0) or 0)
        keys = None
        roster_dropped: Dict[int, str] = {}
        if self.threat == "malicious":
            nodes, keys, roster_dropped = self._roster(grid, server_round, msg_of)
            n = len(nodes)
            if n < 2:
                raise SecureAggregationError(
                    f"round {server_round}: {n} node(s) answered the roster round")
        cid_of = {node: i for i, node in enumerate(nodes)}
        config = self._config(n, spec, server_round, run_id, keys)
        q = 1.0
        if self.dp is not None:
            q = self._sampling_rate(len(messages), grid)
            if self.accountant is None:
                delta = self.dp_budget.delta if self.dp_budget else None
                self.accountant = secagg.Accountant.for_session(config, sampling_rate=q,
                                                                delta=delta)
            if self.dp_budget is not None:
                eps = self.accountant.epsilon_if(survivors=n, sampling_rate=q, session=config,
                                                 delta=self.dp_budget.delta)
                if eps > self.dp_budget.epsilon:
                    raise self._refuse(server_round, eps, arrays, None)
        info = RoundInfo(server_round=server_round, n=n,
                         degree=config.degree if config.degree is not None else n - 1,
                         threshold=config.threshold, ring_bits=config.quantizer.ring_bits,
                         nodes=nodes, dropped=roster_dropped)
        self.history.append(info)
        log.info(
            "[secagg] round %d: n %d, k %d%s, t %d, ring %d bits, %d %s, clip %g, %s",
            server_round, n, info.degree,
            " (complete, SecAgg)" if config.degree is None else " (Harary, SecAgg+)",
            info.threshold, info.ring_bits, self.bits,
            "bits per value" if self.dp is None else "grid bits (DP)", self.clip,
            self._bounds(config, n))
        session = bytes(config.session_id)
        blob = c.encode_config(config, spec)
        server = secagg.Server(config)

        def message(node: int, rec: Dict[str, Any], train: bool) -> Message:
            src = msg_of[node]
            content = RecordDict({k: v for k, v in src.content.items()}) if train else RecordDict()
            rec = {c.K_VERSION: c.VERSION, c.K_SESSION: session, c.K_TRAIN: train,
                   c.K_SERVER_ROUND: server_round, **rec}
            content[c.RECORD] = ConfigRecord(rec)
            return Message(content, dst_node_id=node, message_type=src.metadata.message_type)

        eager = not c.DEFERRED
        out = {
            node: message(node, {c.K_STAGE: c.STAGE_SETUP, c.K_CONFIG: blob,
                                 c.K_CLIENT_ID: cid_of[node],
                                 c.K_WEIGHT_KEY: self.weighted_by_key,
                                 c.K_ON_CLIP: self.on_clip}, eager)
            for node in nodes
        }
        stage = server.round
        clipped: Dict[int, int] = {}
        survivors = n
        try:
            while True:
                got = self._send(grid, out, info, stage)
                for node, rec in got.items():
                    data = bytes(rec[c.K_MSG])
                    info.bytes_from_nodes[node] = info.bytes_from_nodes.get(node, 0) + len(data)
                    if c.K_CLIPPED in rec:
                        clipped[node] = int(rec[c.K_CLIPPED])
                    try:
                        server.receive(cid_of[node], data)
                    except secagg.SecAggError as e:
                        info.dropped[node] = f"{stage}: message rejected ({e.name}: {e})"
                closed = stage
                outgoing = server.close_round()
                if not outgoing:
                    break
                stage = server.round
                if closed == "MaskedInputCollection":
                    survivors = len(outgoing)  # the clients whose inputs are in the sum
                if stage == "Unmasking" and self.dp_budget is not None:
                    assert self.accountant is not None
                    eps = self.accountant.epsilon_if(
                        survivors=survivors, sampling_rate=q, session=config,
                        delta=self.dp_budget.delta)
                    if eps > self.dp_budget.epsilon:
                        info.error = "privacy budget exhausted before unmasking"
                        info.seconds = time.perf_counter() - t0
                        raise self._refuse(server_round, eps, arrays, survivors)
                train = (not eager) and stage == "MaskedInputCollection"
                out = {
                    nodes[cid]: message(nodes[cid], {c.K_STAGE: c.STAGE_STEP, c.K_ROUND: stage,
                                                     c.K_MSG: m}, train)
                    for cid, m in outgoing.items()
                }
            agg = server.result()
        except secagg.SecAggError as e:
            info.error = f"{type(e).__name__} in {stage}: {e}"
            info.seconds = time.perf_counter() - t0
            raise SecureAggregationError(
                f"secure aggregation of round {server_round} aborted in {stage}: {e} "
                f"({len(info.dropped)} of {n} nodes dropped out: "
                f"{sorted(info.dropped)})"
            ) from e
        info.included = [nodes[i] for i in agg.included]
        info.total_weight = int(agg.total_weight)
        info.mean_error_bound = agg.mean_error_bound
        info.clipped = sum(clipped.get(node, 0) for node in info.included)
        if self.dp is not None:
            info.dp = self._dp_round(server_round, config, len(info.included), q)
        info.seconds = time.perf_counter() - t0
        mean = c.unflatten(spec, agg.mean())
        for old in self.history[:-1]:
            old.mean_update = None
        info.mean_update = mean
        new = {
            name: (model[name].astype(np.float64) + mean[name]).astype(np.dtype(dt))
            for name, _, dt in spec
        }
        if self.dp is None:
            log.info(
                "[secagg] round %d: %d of %d included, total weight %d, |mean error| <= "
                "%.3g per value, %d values clipped, %.2fs", server_round,
                len(info.included), n, info.total_weight, info.mean_error_bound or 0.0,
                info.clipped, info.seconds)
        else:
            log.info(
                "[secagg] round %d: %d of %d included (unweighted mean), %d updates "
                "clipped to L2 norm %g, %.2fs", server_round, len(info.included), n,
                info.clipped, self.clip, info.seconds)
        for node, why in sorted(info.dropped.items()):
            log.info("[secagg]\t> node %d dropped out: %s", node, why)
        content = RecordDict({
            self.arrayrecord_key: ArrayRecord({k: Array(np.asarray(v)) for k, v in new.items()}),
            "metrics": MetricRecord({self.weighted_by_key: info.total_weight}),
        })
        # A reply "from" the first included node, to the message it was last sent.
        reply = Message(content, reply_to=out_last(out, info.included))
        extra = MetricRecord({"secagg-included": len(info.included),
                              "secagg-dropped": len(info.dropped)})
        if info.dp is not None:
            extra["secagg-dp-epsilon"] = float(info.dp["running_epsilon"])
            extra["secagg-dp-noise-stddev"] = float(info.dp["noise_stddev"])
        return reply, extra


def out_last(out: Dict[int, Message], included: List[int]) -> Message:
    """A message this session sent to an included node (the reply's ``reply_to``)."""
    for node in included:
        if node in out:
            return out[node]
    return next(iter(out.values()))
