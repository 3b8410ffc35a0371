"""Runs the Flower simulation: FedAvg with secagg, some clients dropping out.

    python run.py                      # 20 clients, 3 rounds, 1000 parameters
    python run.py --clients 30 --rounds 5 --dim 10000

Exits 1 unless, in every round, the secure aggregate equals Flower's FedAvg of the
included clients within secagg's documented quantization bound, and at least one
client dropped out.
"""

import argparse
import os
import sys

# Flower's simulation engine (Ray) starts workers that import this package by name.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ["PYTHONPATH"] = HERE + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
# No telemetry from Flower or Ray.
os.environ["FLWR_TELEMETRY_ENABLED"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
# Ray resolves "127.0.0.1" to the machine's routable address unless it runs as a
# single-machine (non-cluster) instance: this keeps its node on the loopback address.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

from flwr.simulation import run_simulation  # noqa: E402

from secagg_fedavg import server_app  # noqa: E402
from secagg_fedavg.client_app import app as client_app  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--dim", type=int, default=1000)
    p.add_argument(
        "--drop",
        default="3:MaskedInputCollection:1,11:Unmasking:1,5:ShareKeys:2",
        help="partition:secagg round:FL round, comma-separated: who drops out, and when",
    )
    args = p.parse_args()

    server_app.SETTINGS.update(
        {"num-clients": args.clients, "fl-rounds": args.rounds, "dim": args.dim}
    )
    # Read by the ClientApps in the simulation's worker (which inherits the environment).
    os.environ["SECAGG_FLOWER_DROP"] = args.drop
    run_simulation(
        server_app=server_app.app,
        client_app=client_app,
        num_supernodes=args.clients,
        # Two worker processes: a node's messages run on either, so nothing may live in a
        # worker's memory between them (the secagg client is in the node's Context).
        backend_config={
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            # Ray's node on the loopback address only, and no dashboard server.
            "init_args": {
                "num_cpus": 2,
                "num_gpus": 0,
                "_node_ip_address": "127.0.0.1",
                "include_dashboard": False,
            },
        },
    )
    result = server_app.RESULT
    hist = result.get("history", [])
    ok = (
        len(hist) == args.rounds
        and all(h["ok"] for h in hist)
        and any(h["dropped"] for h in hist)
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: {len(hist)} rounds, "
        f"{sum(len(h['dropped']) for h in hist)} drop-outs, "
        f"distance to the true model {result.get('distance_to_truth', float('nan')):.4f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
