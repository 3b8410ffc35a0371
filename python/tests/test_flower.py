"""secagg.flower: the mod and the strategy wrapper.

Two drivers: an in-process grid that calls the ClientApp directly (fast; every node's
``Context`` kept as Flower keeps it), and Flower's simulation engine (Ray) for the real
thing. Every result is checked against the inner strategy run on the plaintext replies of
exactly the included clients (``aggregate_train`` of a fresh copy of the strategy), within
secagg's reported per-element bound plus float32 rounding of the arrays.
"""

from __future__ import annotations

import copy
import os
import sys
import time
import uuid

import numpy as np
import pytest

flwr = pytest.importorskip("flwr")

from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict  # noqa: E402
from flwr.serverapp.strategy import (  # noqa: E402
    Bulyan,
    FedAdam,
    FedAvg,
    FedAvgM,
    FedMedian,
    FedProx,
    FedTrimmedAvg,
    Krum,
    MultiKrum,
    QFedAvg,
)

from flwr.supercore.task_identity import TaskIdentity  # noqa: E402

from secagg.flower import SecureAggregation, SecureAggregationError, secagg_mod  # noqa: E402
from secagg.flower import _common  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conftest_flower as apps  # noqa: E402

# Messages built outside a Flower process need a run id (the ServerApp process sets it).
TaskIdentity.run_id = 1
TaskIdentity.node_id = 1  # the ServerApp side
TaskIdentity.task_id = 1
os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


# --- an in-process grid ---------------------------------------------------------------


class LocalGrid:
    """A ``Grid`` whose nodes run the ClientApp in this process, one ``Context`` each
    (the ``dropper`` mod's ``silent`` here drops the reply instead of sleeping)."""

    def __init__(self, n: int, app=apps.app):
        self.app = app
        self.contexts = {
            100 + i: Context(run_id=1, node_id=100 + i, node_config={"partition-id": i},
                             state=RecordDict(), run_config={})
            for i in range(n)
        }
        self.sent_bytes = 0

    def get_node_ids(self):
        return list(self.contexts)

    def send_and_receive(self, messages, *, timeout=None):
        messages = list(messages)
        if any("secagg" in m.content for m in messages):  # bounded secagg rounds
            assert timeout is not None and timeout <= 600
        replies = []
        for m in messages:
            m.metadata.__dict__["_message_id"] = str(uuid.uuid4())
            m.metadata.__dict__["_run_id"] = 1
            node = m.metadata.dst_node_id
            ctx = self.contexts[node]
            rec = m.content.config_records.get("secagg")
            if rec is not None:
                where = {"setup": "AdvertiseKeys", "roster": "Roster"}.get(
                    rec["stage"]) or str(rec["round"])
                if apps._drops(ctx.node_config["partition-id"], where,
                               int(rec["server-round"])) == "silent":
                    continue
            try:
                r = self.app(m, ctx)
            except Exception as e:  # what Flower does: an error reply
                from flwr.app import Error

                r = Message(Error(code=2, reason=str(e)), reply_to=m)
            replies.append(r)
        return replies


def _ref_strategy(strategy):
    return copy.deepcopy(strategy)


def _run_local(strategy, n, rounds, drop, tmp_path, monkeypatch):
    monkeypatch.setenv("SECAGG_FLOWER_TEST_DIR", str(tmp_path))
    monkeypatch.setenv("SECAGG_FLOWER_TEST_DROP", drop)
    grid = LocalGrid(n)
    arrays = ArrayRecord({k: Array(v) for k, v in apps.initial_model().items()})
    result = strategy.start(grid=grid, initial_arrays=arrays, num_rounds=rounds)
    return grid, result


def _check_against_plaintext(secure, ref, tmp_path, rounds, final):
    """Replays ``ref`` (a fresh copy of the inner strategy) on the plaintext replies of the
    included clients of every round and compares with the secure run's models."""
    for info in secure.history:
        r = info.server_round
        data = apps.load_round(str(tmp_path), r)
        assert set(info.included) <= set(data)
        # Only a node that sent its masked input can be included.
        late = {k for k, v in info.dropped.items() if v.startswith(("Unmasking", "Consistency"))}
        assert set(info.included).isdisjoint(set(info.dropped) - late)
        sent = data[info.included[0]]["sent"]
        # The reference strategy sees the model the clients were sent.
        ref_arrays = ArrayRecord({k: Array(v) for k, v in sent.items()})
        grid = LocalGrid(0)
        grid.get_node_ids = lambda: info.included  # sampling: exactly the included nodes
        ref.min_available_nodes = ref.min_train_nodes = 2
        ref.configure_train(r, ref_arrays, ConfigRecord(), grid)
        to = Message(RecordDict(), dst_node_id=info.included[0], message_type="train")
        to.metadata.__dict__["_message_id"] = "x"
        replies = [apps.plain_reply(data[node], to) for node in info.included]
        want, _ = ref.aggregate_train(r, replies)
        assert info.total_weight == sum(data[node]["weight"] for node in info.included)
        # The secure model after round r: what round r+1's clients were sent, or the end.
        if r < rounds:
            got = apps.load_round(str(tmp_path), r + 1)
            got = next(iter(got.values()))["sent"]
        else:
            got = {k: a.numpy() for k, a in final.items()}
        for name, (_, dt) in apps.LAYERS.items():
            w = want[name].numpy()
            g = got[name]
            # The dtype the inner strategy gives on plaintext replies (FedAvg keeps the
            # model's; Flower's FedAdam computes in float64).
            assert g.dtype == w.dtype and g.shape == w.shape
            if isinstance(ref, FedAvg) and type(ref) is FedAvg:
                assert g.dtype == dt
            w = w.astype(np.float64)
            f32 = 4 * 2.0**-24 * max(1.0, float(np.max(np.abs(w)))) if dt == np.float32 else 1e-12
            err = float(np.max(np.abs(g.astype(np.float64) - w)))
            assert err <= info.mean_error_bound * getattr(ref, "_amplify", 1.0) + f32, (
                r, name, err, info.mean_error_bound)


# --- unit tests -----------------------------------------------------------------------


def test_config_codec_round_trip():
    spec = _common.spec_of(apps.initial_model())
    config = _common.make_config(10, spec, dropout=0.2, clip=0.5, bits=12, max_weight=100,
                                 context=b"ctx\x00\xff")
    again, spec2 = _common.decode_config(_common.encode_config(config, spec))
    assert again.session_id == config.session_id
    assert spec2 == spec
    with pytest.raises(ValueError):
        _common.decode_config(b"{not json")
    # A layout that is not the session's vectors is refused.
    import json

    body = json.loads(_common.encode_config(config, spec))
    body["spec"][0][1] = [2, 2]
    with pytest.raises(ValueError, match="layout"):
        _common.decode_config(json.dumps(body).encode())


@pytest.mark.parametrize(
    "make",
    [Krum, MultiKrum, Bulyan, FedMedian, FedTrimmedAvg, lambda: QFedAvg(0.1)],
    ids=["Krum", "MultiKrum", "Bulyan", "FedMedian", "FedTrimmedAvg", "QFedAvg"],
)
def test_refused_strategies(make):
    inner = make()
    with pytest.raises(ValueError, match=f"cannot wrap {type(inner).__name__}: it .*"):
        SecureAggregation(inner)


def test_accepted_strategies():
    for s in (FedAvg(), FedAvgM(), FedProx(proximal_mu=0.1), FedAdam()):
        SecureAggregation(s)

    class Custom(flwr.serverapp.strategy.DifferentialPrivacyClientSideFixedClipping):
        pass

    inner = Custom(FedAvg(), noise_multiplier=0.1, clipping_norm=1.0, num_sampled_clients=4)
    with pytest.raises(ValueError, match="assume_weighted_mean"):
        SecureAggregation(inner)


def test_mod_passes_other_messages_through():
    seen = []

    def nxt(msg, ctx):
        seen.append(msg)
        return Message(RecordDict(), reply_to=msg)

    ctx = Context(run_id=1, node_id=5, node_config={}, state=RecordDict(), run_config={})
    m = Message(RecordDict({"config": ConfigRecord({"a": 1})}), dst_node_id=5,
                message_type="evaluate")
    m.metadata.__dict__["_message_id"] = "m1"
    secagg_mod(m, ctx, nxt)
    assert seen == [m] and "secagg.flower" not in ctx.state


def test_mod_refuses_a_foreign_session_step():
    ctx = Context(run_id=1, node_id=5, node_config={}, state=RecordDict(), run_config={})
    rec = ConfigRecord({"version": 1, "stage": "step", "session": b"\0" * 32, "msg": b"x",
                        "round": "ShareKeys", "server-round": 1, "train": False})
    m = Message(RecordDict({"secagg": rec}), dst_node_id=5, message_type="train")
    m.metadata.__dict__["_message_id"] = "m1"
    r = secagg_mod(m, ctx, lambda *_: pytest.fail("train must not run"))
    assert r.has_error() and "no secagg session" in r.error.reason


# --- the wrapper on the in-process grid ----------------------------------------------

# Drop-outs in every secagg round: an error in round 0, silence in ShareKeys, a train
# function that raises (MaskedInputCollection), silence in Unmasking; round 2 others.
DROPS = ("1:AdvertiseKeys:1:error,2:ShareKeys:1:silent,3:train:1:raise,"
         "4:Unmasking:1:silent,5:MaskedInputCollection:2:error,6:ShareKeys:2:error")


def test_fedavg_local_grid_dropouts_every_round(tmp_path, monkeypatch):
    n = 14
    inner = FedAvg(fraction_evaluate=0.5)
    strategy = SecureAggregation(copy.deepcopy(inner), dropout=0.3, clip=0.5, bits=16,
                                 max_weight=200, timeout=30)
    grid, result = _run_local(strategy, n, 2, DROPS, tmp_path, monkeypatch)
    h = strategy.history
    assert [i.server_round for i in h] == [1, 2]
    assert sorted(h[0].dropped) == [101, 102, 103, 104]
    assert "AdvertiseKeys" in h[0].dropped[101] and "ShareKeys" in h[0].dropped[102]
    assert "raised RuntimeError" in h[0].dropped[103]
    assert "Unmasking" in h[0].dropped[104]
    # Dropped in Unmasking, after sending its masked input: still included.
    assert 104 in h[0].included and len(h[0].included) == n - 3
    assert sorted(h[1].dropped) == [105, 106] and len(h[1].included) == n - 2
    _check_against_plaintext(strategy, inner, tmp_path, 2, result.arrays)
    assert result.evaluate_metrics_clientapp  # evaluation passed through
    assert result.train_metrics_clientapp[1]["secagg-included"] == n - 3


def test_fedadam_local_grid(tmp_path, monkeypatch):
    n = 10
    # tau large against the updates: Adam's step is then close to linear in the mean
    # update, so the check below discriminates a wrong aggregate (not just its sign).
    inner = FedAdam(eta=0.1, tau=0.5, fraction_evaluate=0.0)
    strategy = SecureAggregation(copy.deepcopy(inner), clip=0.5, bits=18, max_weight=200,
                                 timeout=30)
    _, result = _run_local(strategy, n, 3, "2:train:2:raise", tmp_path, monkeypatch)
    assert len(strategy.history[1].included) == n - 1
    # |d step / d delta| <= eta_norm * (1 - beta_1) / tau per element (round 1; later
    # rounds add the momentum's share): the secagg error bound, amplified.
    inner._amplify = 3 * 0.1 / 0.5 * (1 + 1 / (1 - 0.99) ** 0.5)
    _check_against_plaintext(strategy, inner, tmp_path, 3, result.arrays)


def test_abort_is_a_clear_error(tmp_path, monkeypatch):
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), timeout=30)
    drop = ",".join(f"{p}:ShareKeys:1:error" for p in range(4))
    t0 = time.monotonic()
    with pytest.raises(SecureAggregationError, match="aborted in ShareKeys"):
        _run_local(strategy, 6, 2, drop, tmp_path, monkeypatch)
    assert time.monotonic() - t0 < 30
    assert strategy.history[0].error


def test_abort_skip_keeps_the_model(tmp_path, monkeypatch):
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), timeout=30, on_abort="skip")
    drop = ",".join(f"{p}:ShareKeys:1:error" for p in range(4))
    _, result = _run_local(strategy, 6, 2, drop, tmp_path, monkeypatch)
    assert strategy.history[0].error and strategy.history[1].error is None
    assert len(strategy.history[1].included) == 6


def test_three_nodes_survive_one_dropout(tmp_path, monkeypatch):
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0, min_available_nodes=3),
                                 timeout=30)
    _, result = _run_local(strategy, 3, 1, "0:ShareKeys:1:error", tmp_path, monkeypatch)
    assert len(strategy.history[0].included) == 2
    _check_against_plaintext(strategy, FedAvg(), tmp_path, 1, result.arrays)


def test_weight_over_max_drops_the_node(tmp_path, monkeypatch):
    # Partition p weighs 10 + 7p: with max_weight 40, partitions 5.. are over it.
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), max_weight=40, timeout=30)
    _, result = _run_local(strategy, 7, 1, "", tmp_path, monkeypatch)
    info = strategy.history[0]
    assert sorted(info.dropped) == [105, 106]
    assert all("num-examples" in why or "weight" in why for why in info.dropped.values())
    _check_against_plaintext(strategy, FedAvg(), tmp_path, 1, result.arrays)


def test_on_clip_raise_drops_clipped_nodes(tmp_path, monkeypatch):
    # Partition 0's target is -0.1 and the updates move 30% of the way: some update
    # values exceed clip=0.02 for every node, so under 'raise' they all drop out.
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), clip=0.02, on_clip="raise",
                                 timeout=30)
    with pytest.raises(SecureAggregationError):
        _run_local(strategy, 5, 1, "", tmp_path, monkeypatch)
    assert all("clipping bound" in w for w in strategy.history[0].dropped.values())


def test_malicious_model_local_grid(tmp_path, monkeypatch):
    # Roster round (verifying keys), then the consistency check: drop-outs in the roster,
    # ShareKeys, the consistency check and the unmasking.
    n = 10
    drop = ("0:Roster:1:error,1:ShareKeys:1:error,2:ConsistencyCheck:1:error,"
            "3:Unmasking:1:silent")
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), threat="malicious",
                                 dropout=0.4, clip=0.5, max_weight=200, timeout=30)
    _, result = _run_local(strategy, n, 1, drop, tmp_path, monkeypatch)
    info = strategy.history[0]
    assert info.n == n - 1 and "Roster" in info.dropped[100]
    assert sorted(info.dropped) == [100, 101, 102, 103]
    # Dropped after its masked input (consistency check, unmasking): still included.
    assert 101 not in info.included and {102, 103} <= set(info.included)
    _check_against_plaintext(strategy, FedAvg(), tmp_path, 1, result.arrays)


@pytest.mark.parametrize("name", ["FedAvgM", "FedProx", "FedYogi", "FedAdagrad"])
def test_other_weighted_mean_strategies_local_grid(name, tmp_path, monkeypatch):
    from flwr.serverapp import strategy as s

    make = {
        "FedAvgM": lambda: s.FedAvgM(server_learning_rate=0.5, server_momentum=0.9,
                                     fraction_evaluate=0.0),
        "FedProx": lambda: s.FedProx(proximal_mu=0.1, fraction_evaluate=0.0),
        "FedYogi": lambda: s.FedYogi(eta=0.05, tau=0.5, fraction_evaluate=0.0),
        "FedAdagrad": lambda: s.FedAdagrad(eta=0.05, tau=0.5, fraction_evaluate=0.0),
    }[name]
    inner = make()
    strategy = SecureAggregation(make(), clip=0.5, bits=18, max_weight=200, timeout=30)
    _, result = _run_local(strategy, 6, 2, "1:train:1:raise", tmp_path, monkeypatch)
    # Step sizes are at most linear in the mean update with slope eta / tau (the
    # adaptive ones), server_learning_rate / (1 - momentum) (FedAvgM): the bound, scaled.
    inner._amplify = {"FedAvgM": 0.5 * 10, "FedProx": 1.0}.get(name, 2 * 0.05 / 0.5 * 11)
    _check_against_plaintext(strategy, inner, tmp_path, 2, result.arrays)


def test_malformed_replies_are_dropouts(tmp_path, monkeypatch):
    drop = "1:AdvertiseKeys:1:garbage,2:ShareKeys:1:typo,3:MaskedInputCollection:1:garbage"
    strategy = SecureAggregation(FedAvg(fraction_evaluate=0.0), dropout=0.4, timeout=30)
    _, result = _run_local(strategy, 8, 1, drop, tmp_path, monkeypatch)
    info = strategy.history[0]
    assert sorted(info.dropped) == [101, 102, 103]
    assert "rejected" in info.dropped[101] and "without secagg bytes" in info.dropped[102]
    _check_against_plaintext(strategy, FedAvg(), tmp_path, 1, result.arrays)
