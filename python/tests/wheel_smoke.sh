#!/usr/bin/env bash
# The secagg wheel installs and runs on a machine without Rust (issue 13, packaging).
#
#   python/tests/wheel_smoke.sh [WHEEL]
#
# Without WHEEL it builds one (pip wheel --no-deps ./python, with Rust). Then, in a fresh
# venv whose PATH holds no cargo, rustc or rustup (every directory that has one is
# removed, and CARGO_HOME/RUSTUP_HOME point nowhere), it installs the wheel and numpy
# with --only-binary :all: (pip may build nothing; MATURIN_NO_INSTALL_RUST=1 so that
# maturin could not fetch a toolchain even if it ran), checks that no Rust tool is
# reachable, and runs a simulate() session and a Client/Server session over bytes,
# with a drop-out, against the plaintext sum. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wheel="${1:-}"
if [[ -z "$wheel" ]]; then
  MATURIN_NO_INSTALL_RUST=1 "$python" -m pip wheel --quiet --disable-pip-version-check \
    --no-deps -w "$work/dist" "$repo/python"
  wheel="$(ls "$work"/dist/secagg-*.whl)"
fi
case "$(basename "$wheel")" in
  *-abi3-*.whl) ;;
  *) echo "not an abi3 wheel: $wheel" >&2; exit 1 ;;
esac

# PATH without any directory that holds a Rust tool.
clean_path=""
IFS=':' read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [[ -z "$d" ]] && continue
  if [[ -e "$d/cargo" || -e "$d/rustc" || -e "$d/rustup" ]]; then continue; fi
  clean_path="${clean_path:+$clean_path:}$d"
done
py="$(command -v "$python")"
mkdir -p "$work/home"
"$py" -m venv "$work/venv"

env -i HOME="$work/home" PATH="$work/venv/bin:$clean_path" \
  CARGO_HOME="$work/no-cargo" RUSTUP_HOME="$work/no-rustup" MATURIN_NO_INSTALL_RUST=1 \
  PIP_DISABLE_PIP_VERSION_CHECK=1 bash -euo pipefail -c '
  for tool in cargo rustc rustup; do
    if command -v "$tool" >/dev/null; then echo "$tool is on PATH" >&2; exit 1; fi
  done
  pip install --quiet --only-binary ":all:" "$0" "numpy>=1.21"
  cd "$HOME/.." && python - <<"EOF"
import numpy as np
import secagg

print("secagg", secagg.__version__, "from", secagg.__file__)
n, d = 10, 257
rng = np.random.default_rng(7)
xs = [rng.uniform(-1, 1, d).astype(np.float32) for _ in range(n)]

cfg = secagg.Config(n, d, graph_seed=bytes(32))
sim = secagg.simulate(cfg, xs, drop={4: "MaskedInputCollection"}, seed=bytes(32))
agg = sim.aggregate
want = np.sum([xs[i].astype(np.float64) for i in agg.included], axis=0)
assert agg.included == [i for i in range(n) if i != 4], agg.included
assert np.max(np.abs(agg.sum - want)) <= agg.error_bound

model = {"w": np.zeros((3, 5), np.float32), "b": np.zeros(5, np.float64)}
cfg = secagg.Config(n, vectors=model, context=b"wheel smoke")
cfg = secagg.Config(**cfg.to_dict())  # as a client would rebuild it
ups = [{k: rng.uniform(-1, 1, v.shape).astype(v.dtype) for k, v in model.items()}
       for _ in range(n)]
clients = {i: secagg.Client(cfg, i) for i in range(n)}
server = secagg.Server(cfg)
inbox = {i: c.start() for i, c in clients.items()}
while True:
    for i, m in inbox.items():
        server.receive(i, m)
    out = server.close_round()
    if not out:
        break
    inbox = {}
    for i, m in out.items():
        if i == 2 and server.round == "MaskedInputCollection":
            continue  # drops out before its masked input
        c = clients[i]
        if c.needs_input:
            c.provide_input(ups[i])
        inbox[i] = c.handle(m)
agg = server.result()
assert agg.included == [i for i in range(n) if i != 2], agg.included
for k, v in model.items():
    want = np.sum([ups[i][k].astype(np.float64) for i in agg.included], axis=0)
    got = agg.sum[k]
    assert got.shape == v.shape and got.dtype == v.dtype, (k, got.shape, got.dtype)
    assert np.max(np.abs(got - want)) <= agg.error_bound + 1e-5, k
print("wheel smoke: OK (simulate and Client/Server, no Rust on PATH)")
EOF
' "$wheel"
