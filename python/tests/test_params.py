"""find_params / check_params against the reference table in docs/protocol.md."""

import math

import numpy as np
import pytest

import secagg

# n, rate (corrupt = dropout), threat, k, t, log2 security, log2 failure
REFERENCE = [
    (1_000, 0.05, "semi-honest", 30, 17, -41.50, -26.98),
    (1_000, 0.10, "semi-honest", 48, 27, -42.71, -24.72),
    (10_000, 0.05, "semi-honest", 34, 20, -44.25, -22.32),
    (1_000_000, 0.05, "semi-honest", 38, 22, -41.91, -20.26),
    # The malicious default adds a 64-bit grinding margin to sigma (its server picks
    # the graph seed; docs/threat-model.md): 52, 37 (-45.93, -21.38) without it.
    (1_000, 0.05, "malicious", 74, 56, -112.40, -22.47),
]


@pytest.mark.parametrize("n,rate,threat,k,t,sec,fail", REFERENCE)
def test_reference_values(n, rate, threat, k, t, sec, fail):
    p = secagg.find_params(n, rate, rate, threat=threat)
    assert (p["degree"], p["threshold"], p["complete"]) == (k, t, False)
    assert p["n"] == n
    assert p["max_corrupt"] == p["max_dropped"] == math.floor(rate * n + 1e-9)
    assert p["log2_security"] == pytest.approx(sec, abs=0.005)
    assert p["log2_failure"] == pytest.approx(fail, abs=0.005)
    assert p["log2_security"] <= -40 and p["log2_failure"] <= -20
    # check_params agrees on the pair find_params chose.
    assert secagg.check_params(n, rate, rate, k, t, threat=threat) == p


def test_complete_graph_when_sparse_cannot_work():
    # gamma + delta = 0.9 at n = 20 (A = D = 9): no even k <= 18 works, so the complete
    # graph, with deterministic bounds A + 1 <= t <= n - D - 1 (here t = 10 exactly).
    p = secagg.find_params(20, 0.45, 0.45)
    assert p["complete"] and p["degree"] == 19
    assert p["max_corrupt"] + 1 <= p["threshold"] <= 20 - p["max_dropped"] - 1
    assert p["log2_security"] == -math.inf


def test_sigma_eta_change_the_answer():
    loose = secagg.find_params(1_000, 0.05, 0.05, sigma=20, eta=10)
    strict = secagg.find_params(1_000, 0.05, 0.05)
    assert loose["degree"] < strict["degree"]


def test_errors():
    with pytest.raises(secagg.MisuseError) as e:
        secagg.find_params(0, 0.1, 0.1)
    assert e.value.variant == "InvalidClientCount"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.find_params(100, 1.0, 0.0)
    assert e.value.variant == "OutOfRange" and "dropout" in str(e.value)
    with pytest.raises(ValueError):
        secagg.find_params(100, 0.1, 0.1, threat="paranoid")
    with pytest.raises(secagg.MisuseError) as e:
        secagg.check_params(1_000, 0.05, 0.05, 30, 16)
    assert e.value.variant == "ThresholdTooLow"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.check_params(1_000, 0.05, 0.05, 40, 20, threat="malicious")
    assert e.value.variant == "ThresholdSplitView"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.check_params(1_000, 0.05, 0.05, 2, 1)
    assert e.value.variant == "DegreeTooLow"


@pytest.mark.parametrize("threat", ["semi-honest", "malicious"])
def test_defaults_tolerate_a_drop_out_from_four_clients(threat):
    # floor(0.1 * n) is 0 below n = 10: the finder still plans for one drop-out.
    for n in range(4, 13):
        p = secagg.find_params(n, threat=threat)
        assert p["max_dropped"] >= 1, (n, p)
    assert secagg.find_params(8, 0.1, 0.1)["max_dropped"] == 1
    # A rate of 0 still plans for none; three clients cannot survive one (t >= 2).
    assert secagg.find_params(8, 0.0, 0.1)["max_dropped"] == 0
    assert secagg.find_params(3)["max_dropped"] == 0


def test_default_config_survives_a_drop_out_in_every_round():
    n, d = 8, 5
    xs = [np.full(d, (i + 1) / 10) for i in range(n)]
    cfg = secagg.Config(n, d)
    assert (cfg.degree, cfg.threshold) == (4, 2)
    for rnd in ["ShareKeys", "MaskedInputCollection", "Unmasking"]:
        sim = secagg.simulate(cfg, xs, drop={3: rnd}, seed=bytes(32))
        agg = sim.aggregate
        want = sum(xs[i] for i in agg.included)
        assert len(agg.included) == (n if rnd == "Unmasking" else n - 1)
        assert np.all(np.abs(agg.sum - want) <= agg.error_bound)


def test_impossible_bounds_are_minus_infinity():
    # The same value the command line writes as JSON null (docs/cli.md).
    p = secagg.find_params(20, 0.45, 0.45)
    assert p["log2_security"] == -math.inf and isinstance(p["log2_security"], float)
