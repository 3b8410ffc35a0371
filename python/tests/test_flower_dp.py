"""secagg.flower.SecureAggregation(dp=...): distributed DP through the Flower wrapper, on
the in-process grid of test_flower.py (every node's ClientApp called in this process).

- The aggregate differs from the plain mean of the included updates by noise whose
  empirical variance over 2 rounds x 4096 coordinates matches the noise the round
  reports (within 6 standard errors: a false failure below 2e-9 per check by the normal
  approximation; the updates come from fixed seeds, the noise from each node's own OS
  CSPRNG, as it must: the mod takes no seed).
- The running epsilon logged after R rounds equals an Accountant built independently
  (from the `secagg dp` arguments of the same sessions) and stepped R times.
- The budget stops the run exactly at the round that accountant says, before the round
  starts (every sampled node surviving would exceed it) or, with drop-outs, before
  anything is unmasked; with on_budget="stop" training stops and start() returns.
- Configurations whose tolerated drop-outs leave less noise than the target are refused
  at construction.
"""

from __future__ import annotations

import logging
import math
import os
import sys

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import Array, ArrayRecord, Context, Message, MetricRecord, RecordDict  # noqa: E402
from flwr.clientapp import ClientApp  # noqa: E402
from flwr.serverapp.strategy import FedAvg  # noqa: E402

import secagg  # noqa: E402
from secagg.flower import PrivacyBudgetExhausted, SecureAggregation, secagg_mod  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conftest_flower as apps  # noqa: E402
from test_flower import LocalGrid  # noqa: E402  (sets Flower's task identity too)

DIM = 4096
Z = 0.5  # noise multiplier: the sum at the calibrated survivors has noise stddev Z * clip
CLIP = 1.0
DELTA = 1e-5


def update(partition: int, fl_round: int) -> np.ndarray:
    """A node's update: a fixed-seed direction of L2 norm 0.5 (below the clip)."""
    v = np.random.default_rng(1000 * fl_round + partition).normal(size=DIM)
    return v * (0.5 / np.linalg.norm(v))


app = ClientApp(mods=[apps.dropper, secagg_mod])
TRAINED: list = []
SENT: dict = {}


@app.train()
def train(msg: Message, context: Context) -> Message:
    partition = int(context.node_config["partition-id"])
    fl_round = int(msg.content["config"]["server-round"])
    TRAINED.append((fl_round, partition))
    w = msg.content["arrays"]["w"].numpy()
    SENT[fl_round] = w
    new = ArrayRecord({"w": Array(w + update(partition, fl_round))})
    return Message(RecordDict({"arrays": new, "metrics": MetricRecord({"num-examples": 1})}),
                   reply_to=msg)


class RecordingGrid(LocalGrid):
    """Also records the secagg rounds each FL round sent (to see what was unmasked)."""

    def __init__(self, n: int):
        super().__init__(n, app=app)
        self.stages: dict = {}

    def send_and_receive(self, messages, *, timeout=None):
        messages = list(messages)
        for m in messages:
            rec = m.content.config_records.get("secagg")
            if rec is not None:
                self.stages.setdefault(int(rec["server-round"]), set()).add(
                    str(rec.get("round", rec["stage"])))
        return super().send_and_receive(messages, timeout=timeout)


def run(strategy, n, rounds, monkeypatch, drop=""):
    monkeypatch.setenv("SECAGG_FLOWER_TEST_DROP", drop)
    TRAINED.clear()
    grid = RecordingGrid(n)
    arrays = ArrayRecord({"w": Array(np.zeros(DIM))})
    return grid, strategy.start(grid=grid, initial_arrays=arrays, num_rounds=rounds)


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


@pytest.fixture
def flwr_log():
    h = Lines()
    logger = logging.getLogger("flwr")
    old = logger.level
    logger.addHandler(h)
    logger.setLevel(logging.INFO)
    yield h.lines
    logger.removeHandler(h)
    logger.setLevel(old)


def predictor(info, q):
    """An Accountant for the round's session from `secagg dp`'s arguments (not from the
    session the wrapper built): the same n, grid, calibration and sampling rate."""
    n, m = info.n, info.dp["calibrated_for"]
    colluding = len(info.included) - info.dp["noise_clients"]
    return secagg.dp.Accountant(clients=n, dim=DIM, clip=CLIP, bits=16, noise_multiplier=Z,
                                delta=DELTA, sampling_rate=q, dropout=(n - m + 0.5) / n,
                                corrupt=(colluding + 0.5) / n)


def strategy_of(**kw):
    kw.setdefault("dp", secagg.DistributedDP(noise_multiplier=Z, delta=DELTA))
    kw.setdefault("dropout", 0.2)
    return SecureAggregation(FedAvg(fraction_evaluate=0.0, **kw.pop("inner", {})), clip=CLIP,
                             bits=16, corrupt=0.1, timeout=30, **kw)


def test_the_noise_of_the_aggregate_and_the_running_epsilon(monkeypatch, flwr_log):
    n, rounds = 12, 2
    s = strategy_of(dp_sampling_rate="auto", inner=dict(fraction_train=0.5))
    _, result = run(s, n, rounds, monkeypatch)
    pred = None
    for info in s.history:
        included = len(info.included)
        assert info.n == 6 and info.dp["sampling_rate"] == 0.5  # 6 of 12 nodes sampled
        lo, hi = info.dp["noise_variance"], info.dp["noise_variance"] + info.dp[
            "rounding_variance_bound"]
        pred = pred or predictor(info, 0.5)
        eps = pred.step(survivors=included)
        assert info.dp["running_epsilon"] == pytest.approx(eps, rel=1e-12)
        assert info.dp["dp_rounds"] == info.server_round
        assert not info.dp["below_target"]
        # At the calibrated survivors the sum's noise has stddev Z * clip exactly.
        assert info.dp["noise_stddev"] == pytest.approx(
            Z * CLIP * math.sqrt(included / info.dp["calibrated_for"]), rel=1e-6)
    # The secure means: round 1's is the model round 2's nodes were sent (the model
    # starts at 0), round 2's is kept in its RoundInfo. Their errors times the included
    # count are the noise of the sums.
    means = {1: SENT[2], 2: s.history[1].mean_update["w"]}
    assert np.allclose(result.arrays["w"].numpy(), means[1] + means[2], rtol=0, atol=1e-12)
    errors = []
    for info in s.history:
        plain = np.mean([update(node - 100, info.server_round) for node in info.included],
                        axis=0)
        errors.append((means[info.server_round] - plain) * len(info.included))
    e = np.concatenate(errors)
    # Both rounds had the same sessions (6 nodes, none dropped): one variance to pool at.
    assert len({i.dp["noise_variance"] for i in s.history}) == 1
    se = hi * math.sqrt(2.0 / e.size)
    assert lo - 6 * se <= float(np.mean(e * e)) <= hi + 6 * se
    assert abs(float(np.mean(e))) <= 6 * math.sqrt(hi / e.size)
    assert s.accountant.rounds == rounds and s.accountant.epsilon() == pytest.approx(
        pred.epsilon(), rel=1e-12)
    # What is logged each round: the noise and the running (epsilon, delta).
    info_lines = [m for lvl, m in flwr_log if lvl == logging.INFO and "running (epsilon" in m]
    assert len(info_lines) == rounds
    assert f"{s.history[-1].dp['running_epsilon']:.4g}" in info_lines[-1]
    assert "noise stddev" in info_lines[-1] and "sampling rate 0.5" in info_lines[-1]
    assert result.train_metrics_clientapp[rounds]["secagg-dp-epsilon"] == pytest.approx(
        pred.epsilon(), rel=1e-12)


def budget_between(eps_ok, eps_over):
    assert eps_ok < eps_over
    return secagg.dp.Budget((eps_ok + eps_over) / 2, DELTA)


def test_the_budget_stops_the_run_at_the_round_the_accountant_says(monkeypatch, flwr_log):
    n = 8
    # The prediction: every round has all n nodes sampled (q = 1) and surviving.
    probe = strategy_of()
    _, _ = run(probe, n, 1, monkeypatch)
    pred = predictor(probe.history[0], 1.0)
    eps = [pred.epsilon_if(r, survivors=n) for r in (1, 2, 3)]
    budget = budget_between(eps[1], eps[2])  # rounds 1 and 2 fit, round 3 does not
    s = strategy_of(dp_budget=budget)
    with pytest.raises(PrivacyBudgetExhausted) as e:
        grid, _ = run(s, n, 5, monkeypatch)
    err = e.value
    assert isinstance(err, secagg.flower.SecureAggregationError)
    assert (err.server_round, err.rounds, err.survivors) == (3, 2, None)
    assert err.epsilon == pytest.approx(eps[2], rel=1e-12)
    assert err.spent == pytest.approx(eps[1], rel=1e-12)
    assert err.budget == budget and err.delta == DELTA
    assert "privacy budget exhausted: round 3" in str(err)
    # Round 3 never started: no node trained, the model is that of round 2.
    assert [i.server_round for i in s.history] == [1, 2]
    assert {r for r, _ in TRAINED} == {1, 2}
    # The model the run ended with: round 1's model plus round 2's secure mean.
    assert np.allclose(err.arrays["w"].numpy(), SENT[2] + s.history[1].mean_update["w"],
                       rtol=0, atol=1e-12)
    assert any(lvl == logging.WARNING and "privacy budget exhausted" in m for lvl, m in flwr_log)
    # on_budget="stop": the same stop, and start() returns with rounds 1 and 2 trained.
    s = strategy_of(dp_budget=(budget.epsilon, DELTA), on_budget="stop")
    _, result = run(s, n, 5, monkeypatch)
    assert s.stopped is not None and s.stopped.server_round == 3
    assert sorted(result.train_metrics_clientapp) == [1, 2]
    assert {r for r, _ in TRAINED} == {1, 2}
    assert s.accountant.epsilon() == pytest.approx(eps[1], rel=1e-12)
    assert s.accountant.epsilon() <= budget.epsilon


def test_drop_outs_that_would_exceed_the_budget_stop_before_unmasking(monkeypatch):
    n = 10
    probe = strategy_of()
    run(probe, n, 1, monkeypatch)
    info = probe.history[0]
    pred = predictor(info, 1.0)
    pred.step(survivors=n)
    full, short = pred.epsilon_if(survivors=n), pred.epsilon_if(survivors=n - 2)
    s = strategy_of(dp_budget=budget_between(full, short))
    # Round 2: two nodes fail in MaskedInputCollection (their inputs are not in the sum).
    drop = "3:MaskedInputCollection:2:error,5:MaskedInputCollection:2:error"
    with pytest.raises(PrivacyBudgetExhausted) as e:
        grid, _ = run(s, n, 3, monkeypatch, drop)
    err = e.value
    assert (err.server_round, err.rounds, err.survivors) == (2, 1, n - 2)
    assert err.epsilon == pytest.approx(short, rel=1e-12)
    assert "before unmasking" in str(err)
    assert s.history[-1].error and s.accountant.rounds == 1


def test_configurations_that_cannot_be_calibrated_are_refused():
    TRAINED.clear()
    dp = secagg.DistributedDP(noise_multiplier=1.0)
    # Calibrated for 10 survivors of 10: a tolerated drop-out would leave less noise.
    with pytest.raises(secagg.DPError) as e:
        SecureAggregation(FedAvg(min_train_nodes=10),
                          dp=secagg.DistributedDP(noise_multiplier=1.0, min_survivors=10))
    assert e.value.name == "NoiseBelowTarget"
    # 9 of 10 colluding: the 9 survivors the session plans for leave no noise it cannot
    # subtract.
    with pytest.raises(secagg.DPError) as e:
        SecureAggregation(FedAvg(min_train_nodes=10),
                          dp=secagg.DistributedDP(noise_multiplier=1.0, colluding=9))
    assert e.value.name == "NoiseBelowTarget"
    # Not checkable at construction (FedAvg may sample 2 nodes, too few to run at all):
    # the first round of 10 raises the same error before sending anything.
    late = SecureAggregation(FedAvg(fraction_evaluate=0.0), timeout=30,
                             dp=secagg.DistributedDP(noise_multiplier=1.0, min_survivors=10))
    with pytest.raises(secagg.DPError) as e:
        late.start(grid=RecordingGrid(10), initial_arrays=ArrayRecord({"w": Array(np.zeros(4))}),
                   num_rounds=1)
    assert e.value.name == "NoiseBelowTarget" and not TRAINED
    with pytest.raises(ValueError, match="unweighted"):
        SecureAggregation(FedAvg(), dp=dp, max_weight=100)
    with pytest.raises(ValueError, match="dp_budget needs"):
        SecureAggregation(FedAvg(), dp_budget=(1.0, 1e-5))
    with pytest.raises(secagg.DPError):
        SecureAggregation(FedAvg(), dp=dp, dp_budget=(0.0, 1e-5))
    for bad in (dict(dp_sampling_rate=0.0), dict(dp_sampling_rate="poisson"),
                dict(on_budget="ignore")):
        with pytest.raises(ValueError):
            SecureAggregation(FedAvg(), dp=dp, **bad)
    ok = SecureAggregation(FedAvg(min_train_nodes=10), dp=dp, dp_budget=(4.0, 1e-6))
    assert ok.dp_budget == secagg.dp.Budget(4.0, 1e-6)


def test_fewer_survivors_than_calibrated_is_logged_and_accounted(monkeypatch, flwr_log):
    n = 10
    # The session plans for 1 drop-out (degree 4, threshold 2: any 2 drop-outs leave every
    # secret 2 share holders); two nodes fail in MaskedInputCollection: 8 survivors.
    s = strategy_of(dropout=0.1)
    drop = ",".join(f"{p}:MaskedInputCollection:1:error" for p in (2, 6))
    run(s, n, 1, monkeypatch, drop)
    info = s.history[0]
    assert (info.degree, info.threshold) == (4, 2)
    assert len(info.included) == 8 and info.dp["calibrated_for"] == 9
    assert info.dp["below_target"]
    pred = predictor(info, 1.0)
    assert info.dp["running_epsilon"] == pytest.approx(pred.step(survivors=8), rel=1e-12)
    # The round alone (q = 1): the session layer's epsilon, above the calibrated one's.
    one = predictor(info, 1.0)
    assert info.dp["epsilon"] == pytest.approx(one.epsilon_if(survivors=8), rel=1e-12)
    assert info.dp["epsilon"] > one.epsilon_if(survivors=9)
    warn = [m for lvl, m in flwr_log if lvl == logging.WARNING and "below_target" in m]
    assert len(warn) == 1 and "8 survivors, fewer than the 9" in warn[0]


def test_malicious_model_with_dp_and_a_budget(monkeypatch):
    n = 6
    s = strategy_of(threat="malicious", dp_budget=(50.0, DELTA))
    _, result = run(s, n, 2, monkeypatch, "1:ConsistencyCheck:2:error")
    h = s.history
    assert [len(i.included) for i in h] == [n, n]  # a drop in the check is still included
    pred = predictor(h[0], 1.0)
    for info in h:
        assert info.dp["running_epsilon"] == pytest.approx(
            pred.step(survivors=len(info.included)), rel=1e-12)
    assert s.accountant.epsilon() <= 50.0
