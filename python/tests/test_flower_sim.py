"""secagg.flower in Flower's simulation engine (Ray): 12 and 16 nodes, FedAvg and FedAdam,
drop-outs in every secagg round (errors, a train function that raises, a node that stops
answering past the round timeout), an aborting session.

Each run is checked as in ``test_flower.py``: the inner strategy replayed on the
plaintext replies of exactly the included clients. Ray's start-up dominates (tens of
seconds per run on 2 cores), so the runs are few and each covers several cases.
"""

from __future__ import annotations

import copy
import os
import sys
import time

import pytest

pytest.importorskip("flwr")
pytest.importorskip("ray")

from flwr.app import Array, ArrayRecord  # noqa: E402
from flwr.serverapp.strategy import FedAdam, FedAvg  # noqa: E402
from flwr.simulation import run_simulation  # noqa: E402

from secagg.flower import SecureAggregation, SecureAggregationError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import conftest_flower as apps  # noqa: E402
from test_flower import _check_against_plaintext  # noqa: E402

SILENT_S = 12.0  # how long a "silent" node sleeps: past the round timeout below
TIMEOUT_S = 8.0


def _simulate(make, nodes, rounds, drop, tmp_path, monkeypatch):
    # Flower's simulation workers import the apps by module name and inherit this
    # environment; no telemetry; Ray on the loopback address, no dashboard.
    monkeypatch.setenv("PYTHONPATH", HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("FLWR_TELEMETRY_ENABLED", "0")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    monkeypatch.setenv("SECAGG_FLOWER_TEST_DIR", str(tmp_path))
    monkeypatch.setenv("SECAGG_FLOWER_TEST_DROP", drop)
    monkeypatch.setenv("SECAGG_FLOWER_TEST_SILENT_S", str(SILENT_S))
    apps.FACTORY.update({"make": make, "rounds": rounds, "nodes": nodes})
    t0 = time.monotonic()
    run_simulation(
        server_app=apps.server_app,
        client_app=apps.app,
        num_supernodes=nodes,
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {
                "num_cpus": 2,
                "num_gpus": 0,
                "_node_ip_address": "127.0.0.1",
                "include_dashboard": False,
            },
        },
    )
    return time.monotonic() - t0


def test_simulation_fedavg_dropouts_in_every_round(tmp_path, monkeypatch):
    nodes = 16
    inner = FedAvg(fraction_evaluate=0.25, min_available_nodes=nodes)
    drop = ("1:AdvertiseKeys:1:error,2:ShareKeys:1:silent,3:train:1:raise,"
            "4:Unmasking:1:error,5:MaskedInputCollection:2:error,6:ShareKeys:2:error")
    elapsed = _simulate(
        lambda: SecureAggregation(copy.deepcopy(inner), dropout=0.3, clip=0.5,
                                  max_weight=200, timeout=TIMEOUT_S),
        nodes, 2, drop, tmp_path, monkeypatch)
    assert "error" not in apps.OUTCOME, apps.OUTCOME.get("error")
    strategy = apps.OUTCOME["strategy"]
    result = apps.OUTCOME["result"]
    h = strategy.history
    assert len(h) == 2 and all(i.n == nodes for i in h)
    # One node per secagg round in round 1 (the second one silent), two in round 2.
    assert len(h[0].dropped) == 4 and len(h[1].dropped) == 2
    assert any("no reply within" in why for why in h[0].dropped.values())
    assert any("raised RuntimeError" in why for why in h[0].dropped.values())
    assert len(h[0].included) == nodes - 3 and len(h[1].included) == nodes - 2
    _check_against_plaintext(strategy, inner, tmp_path, 2, result.arrays)
    assert result.evaluate_metrics_clientapp
    print(f"simulation, {nodes} nodes, 2 rounds: {elapsed:.1f}s")


def test_simulation_fedadam_and_abort(tmp_path, monkeypatch):
    nodes = 12
    inner = FedAdam(eta=0.1, tau=0.5, fraction_evaluate=0.0, min_available_nodes=nodes)
    # Round 1 survives one failing trainer; round 2 loses 9 of 12 in ShareKeys: abort.
    drop = "0:train:1:raise," + ",".join(f"{p}:ShareKeys:2:error" for p in range(9))
    t0 = time.monotonic()
    _simulate(
        lambda: SecureAggregation(copy.deepcopy(inner), clip=0.5, bits=18, max_weight=200,
                                  timeout=TIMEOUT_S),
        nodes, 2, drop, tmp_path, monkeypatch)
    assert time.monotonic() - t0 < 300
    err = apps.OUTCOME.get("error")
    assert isinstance(err, SecureAggregationError), err
    assert "aborted in ShareKeys" in str(err)
    strategy = apps.OUTCOME["strategy"]
    assert len(strategy.history) == 2 and strategy.history[1].error
    assert len(strategy.history[0].included) == nodes - 1
    # Round 1 against FedAdam on the plaintext replies; the model after round 1 is what
    # the inner strategy was configuring round 2 with.
    inner._amplify = 0.1 / 0.5 * (1 + 1 / (1 - 0.99) ** 0.5)
    strategy.history = strategy.history[:1]
    after_1 = ArrayRecord({k: Array(v) for k, v in strategy.strategy.current_arrays.items()})
    _check_against_plaintext(strategy, inner, tmp_path, 1, after_1)
