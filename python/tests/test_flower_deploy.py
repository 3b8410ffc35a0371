"""secagg.flower in Flower's deployment engine, on loopback: one SuperLink and N
SuperNodes started here (127.0.0.1, free ports, a private ``FLWR_HOME``), ``flwr run`` of
a two-round app, one SuperNode killed (SIGKILL, with its ClientApp process) while its
train function runs in round 1. Every process is stopped at the end; every wait is
bounded.

The result is checked against FedAvg on the plaintext replies of exactly the included
clients, as in ``test_flower.py``. Slow on a loaded 2-core machine: each Flower message
starts a ClientApp process.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("flwr")

from flwr.serverapp.strategy import FedAvg  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_flower import _check_against_plaintext  # noqa: E402

NODES = 5
ROUNDS = 2
ROUND_TIMEOUT_S = 60.0
TOTAL_S = 540.0
BIN = os.path.dirname(sys.executable)

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "secagg-deploy-test"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "secagg"

[tool.flwr.app.components]
serverapp = "deployapp:server_app"
clientapp = "deployapp:client_app"

[tool.flwr.app.config]
"""

APP = """\
import conftest_flower

client_app = conftest_flower.app
server_app = conftest_flower.deploy_server_app
"""


def _ports(count: int) -> list:
    """``count`` distinct free loopback ports, drawn below the kernel's ephemeral range.

    A port from ``bind(0)`` comes from the ephemeral range, where any outgoing connection
    of the processes started here (the SuperNodes and their ClientApps all connect to the
    SuperLink) may take it before the process meant to listen on it binds it; a SuperNode
    that cannot bind its port exits, and the run then has a node fewer. Below the range
    only a listener takes a port."""
    lo = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    first = max(1024, lo - 12000)
    picked: list = []
    for _ in range(2000):  # bounded: a loaded box still has thousands of free ports
        if len(picked) == count:
            break
        p = rng.randrange(first, lo)
        if p in picked:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        picked.append(p)
    assert len(picked) == count, f"found only {len(picked)} free ports below {lo}"
    return picked


def _tail(path, lines: int = 25) -> str:
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"({path}: {e})"
    return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen) -> None:
    """Stops a process and everything it started (its own session)."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_deployment_two_rounds_one_node_killed(tmp_path):
    if shutil.which("flower-superlink", path=BIN) is None:
        pytest.skip("flower-superlink is not installed next to this Python")
    home, out, app = tmp_path / "flwr-home", tmp_path / "out", tmp_path / "app"
    for d in (home, out, app):
        d.mkdir()
    (app / "pyproject.toml").write_text(PYPROJECT)
    (app / "deployapp.py").write_text(APP)
    mark = tmp_path / "node0-training"
    port, *node_ports = _ports(NODES + 1)
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "test"\n\n[superlink.test]\n'
        f'address = "127.0.0.1:{port}"\ninsecure = true\n'
    )
    env = dict(os.environ)
    env.update({
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "PYTHONPATH": HERE + os.pathsep + env.get("PYTHONPATH", ""),
        "FLWR_HOME": str(home),
        "FLWR_TELEMETRY_ENABLED": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "SECAGG_FLOWER_TEST_DIR": str(out),
        "SECAGG_FLOWER_TEST_DROP": "",
        "SECAGG_FLOWER_TEST_KILL_MARK": str(mark),
        "SECAGG_FLOWER_TEST_DEPLOY": json.dumps(
            {"nodes": NODES, "rounds": ROUNDS, "timeout": ROUND_TIMEOUT_S}),
    })
    procs = []

    def start(args, log):
        p = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=open(tmp_path / log, "wb"),
                             stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(p)
        return p

    t0 = time.monotonic()
    try:
        start([f"{BIN}/flower-superlink", "--insecure", "--host", "127.0.0.1",
               "--port", str(port), "--disable-runtime-dependency-installation"],
              "superlink.log")
        nodes = [
            start([f"{BIN}/flower-supernode", "--insecure", "--superlink",
                   f"127.0.0.1:{port}", "--port", str(node_ports[i]),
                   "--node-config", f"partition-id={i} num-partitions={NODES}"],
                  f"supernode{i}.log")
            for i in range(NODES)
        ]
        # The SuperLink takes a few seconds to listen: retry `flwr run` until it submits.
        while True:
            r = subprocess.run([f"{BIN}/flwr", "run", str(app), "test"], env=env,
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
            if r.returncode == 0 and "Successfully started run" in r.stdout:
                break
            assert time.monotonic() - t0 < 90, r.stdout + r.stderr
            time.sleep(2)
        killed = False
        result = out / "outcome.pkl"
        while not result.exists():
            assert time.monotonic() - t0 < TOTAL_S, "the run did not finish in time"
            if not killed and mark.exists():
                _stop_now = nodes[0]
                os.killpg(_stop_now.pid, signal.SIGKILL)  # the node vanishes mid-round
                killed = True
            assert procs[0].poll() is None, "the SuperLink exited:\n" + _tail(
                tmp_path / "superlink.log")
            for i, p in enumerate(nodes):
                if i == 0 and killed:
                    continue
                assert p.poll() is None, f"SuperNode {i} exited:\n" + _tail(
                    tmp_path / f"supernode{i}.log")
            time.sleep(0.5)
        assert killed
    finally:
        for p in reversed(procs):
            _stop(p)
    with open(result, "rb") as f:
        outcome = pickle.load(f)
    assert "error" not in outcome, outcome.get("error")
    hist = outcome["history"]
    assert len(hist) == ROUNDS
    first_included = set(hist[0].included)
    logs = "\n".join(f"--- supernode{i}.log\n" + _tail(tmp_path / f"supernode{i}.log")
                     for i in range(NODES))
    assert len(first_included) == NODES - 1 and len(hist[0].dropped) == 1, (
        f"round 1: sampled {hist[0].nodes}, included {sorted(first_included)}, "
        f"dropped {hist[0].dropped}\n{logs}")
    (why,) = hist[0].dropped.values()
    assert "no reply" in why or "unavailable" in why.lower() or "error" in why.lower(), why

    class _Strategy:  # what _check_against_plaintext reads
        history = hist

    from flwr.app import Array, ArrayRecord

    final = ArrayRecord({k: Array(v) for k, v in outcome["final"].items()})
    _check_against_plaintext(_Strategy, FedAvg(), out, ROUNDS, final)
    print(f"deployment, {NODES} SuperNodes, {ROUNDS} rounds: {time.monotonic() - t0:.0f}s")
