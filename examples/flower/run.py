"""Runs the example in Flower's simulation engine, in this process, and exits non-zero
unless every round's secure-aggregation check passed and the loss went down.

    python run.py                               # 20 nodes, the pyproject.toml defaults
    python run.py --rounds 2 --nodes 10 -c strategy=fedadam
    python run.py --compare -c hidden=1200 -c input-dim=784 -c classes=10 --rounds 1
    python run.py --dp 1.0 --dp-epsilon 20 --rounds 5   # distributed DP with a budget

``flwr run .`` runs the same apps (docs/flower.md); this script exists because
``run_simulation`` lets it read the ServerApp's verdict and turn it into an exit status.
``--compare`` runs the same rounds twice, with and without secagg, and prints the round
times side by side and the bytes each node sent.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# Flower's simulation workers import the app by name and inherit this environment.
os.environ["PYTHONPATH"] = HERE + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
# Keeps Ray's node on the loopback address.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

from flwr.simulation import run_simulation  # noqa: E402

from secagg_fedavg import server_app  # noqa: E402
from secagg_fedavg.client_app import app as client_app  # noqa: E402


def _value(s: str):
    try:
        return json.loads(s)
    except ValueError:
        return s


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def simulate(nodes: int, overrides: dict) -> dict:
    os.environ["SECAGG_EXAMPLE_CONFIG"] = json.dumps(overrides)
    run_simulation(
        server_app=server_app.app,
        client_app=client_app,
        num_supernodes=nodes,
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"num_cpus": 2, "num_gpus": 0, "_node_ip_address": "127.0.0.1",
                          "include_dashboard": False},
        },
    )
    return dict(server_app.RESULT)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=20)
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("-c", "--run-config", action="append", default=[],
                   help="key=value overriding pyproject.toml's run config")
    p.add_argument("--compare", action="store_true",
                   help="run twice, with and without secagg, and report both")
    p.add_argument("--json-out", help="write the run's figures here (JSON)")
    p.add_argument("--dp", type=float, default=None, metavar="Z",
                   help="distributed DP with noise multiplier Z (clip: L2 bound of an update)")
    p.add_argument("--dp-epsilon", type=float, default=None, metavar="E",
                   help="with --dp: the run's privacy budget epsilon (delta 1e-5)")
    args = p.parse_args()
    overrides = dict(kv.split("=", 1) for kv in args.run_config)
    overrides = {k: _value(v) for k, v in overrides.items()}
    if args.rounds is not None:
        overrides["num-server-rounds"] = args.rounds
    if args.dp is not None:
        overrides["dp-noise-multiplier"] = args.dp
    if args.dp_epsilon is not None:
        overrides["dp-epsilon"] = args.dp_epsilon
    if args.compare:
        # Each side in its own process (a fresh simulation engine), one after the other.
        overrides.update({"verify": False, "fail": "", "fraction-evaluate": 0.0})
        runs = {}
        for secure in (False, True):
            out = os.path.join(tempfile.mkdtemp(), "run.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--nodes", str(args.nodes),
                   "--json-out", out, "-c", f"secure={json.dumps(secure)}"]
            cmd += [a for k, v in overrides.items() for a in ("-c", f"{k}={json.dumps(v)}")]
            subprocess.run(cmd, check=False)
            with open(out) as f:
                runs[secure] = json.load(f)
        tp, ts = runs[False]["round_s"], runs[True]["round_s"]
        sent = runs[True]["bytes_sent"]
        # Round 1 includes the simulation workers' start-up: medians over the others.
        mp, ms = (_median(t[1:] if len(t) > 1 else t) for t in (tp, ts))
        print(f"[compare] {args.nodes} nodes, {runs[True]['parameters']} parameters, "
              f"round seconds: plain {[round(t, 2) for t in tp]}, "
              f"secagg {[round(t, 2) for t in ts]}")
        print(f"[compare] median round (rounds 2..): plain {mp:.2f}s, secagg {ms:.2f}s, "
              f"secagg / plain {ms / mp:.2f}")
        if sent:
            print(f"[compare] secagg bytes each node sent per round: median "
                  f"{_median(sent)}, max {max(sent)}; plain Flower: "
                  f"{runs[False]['model_bytes']} (the model's arrays)")
        return 0 if runs[False]["ok"] and runs[True]["ok"] else 1
    t0 = time.monotonic()
    result = simulate(args.nodes, overrides)
    checks = result.get("checks", [])
    ok = bool(result.get("ok")) and all(c["ok"] for c in checks)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"ok": ok, "round_s": result.get("round_s", []),
                       "bytes_sent": [b for h in result.get("history", [])
                                      for b in h.bytes_from_nodes.values()],
                       "parameters": result.get("parameters"),
                       "model_bytes": result.get("model_bytes")}, f)
    losses = result.get("losses", [float("nan")])
    print(f"{'PASS' if ok else 'FAIL'}: {len(checks)} rounds checked, "
          f"{sum(c['dropped'] for c in checks)} drop-outs, loss {losses[0]:.4f} -> "
          f"{losses[-1]:.4f}, {time.monotonic() - t0:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
