"""secagg.DistributedDP: distributed differential privacy through Config(..., dp=...):
the DP sessions of secagg/tests/vectors/session.json (generated independently from the
documents) give their session ids here; simulated DP sessions with drop-outs carry the
noise dp_noise reports; bad parameters raise typed errors.

The statistical check pools 5 sessions x 512 coordinates and allows 6 standard errors
(false failure below 2e-9 by the normal approximation; the seeds are fixed)."""

import json
import math
import pathlib

import numpy as np
import pytest

import secagg

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "secagg" / "tests" / "vectors" / "session.json"


def dp_cases():
    tests = json.loads(VECTORS.read_text())["tests"]
    return [
        t for t in tests
        if t["result"] == "valid" and "dp" in t and len(t["vectors"]) == 1
    ]


def test_the_vectors_have_a_dp_case():
    assert [t["name"] for t in dp_cases()] == ["dp-ddg"]


@pytest.mark.parametrize("t", dp_cases(), ids=lambda t: t["name"])
def test_known_answer_session_id(t):
    dp = secagg.DistributedDP(**{k: v for k, v in t["dp"].items()})
    cfg = secagg.Config(
        t["n"], t["vectors"][0]["dim"], threshold=t["threshold"], clip=t["clip"],
        bits=t["bits"], graph_seed=bytes.fromhex(t["graph_seed"]),
        context=bytes.fromhex(t["caller_context"]), dp=dp,
    )
    assert cfg.session_id.hex() == t["session_id"]
    p = cfg.dp
    assert p["padded_dims"] == t["dp_padded"]
    assert p["norm_bound_sq"] == t["dp_norm_bound_sq"]
    assert list(p["client_variance_exact"]) == t["dp_variance"]
    assert p["ring_bits"] == t["ring_bits"]
    # The dictionary the server sends rebuilds the same session.
    d = cfg.to_dict()
    assert secagg.Config(**d).session_id == cfg.session_id
    assert secagg.Config(**{**d, "dp": None, "ring_bits": None}).session_id != cfg.session_id


def test_distributed_dp_arguments():
    a = secagg.DistributedDP(noise_multiplier=1.2, mechanism="skellam")
    assert (a.mechanism, a.noise_multiplier, a.epsilon, a.delta) == ("skellam", 1.2, None, 1e-5)
    assert secagg.DistributedDP(**a.to_dict()).to_dict() == a.to_dict()
    b = secagg.DistributedDP(epsilon=2.0, delta=1e-6)
    assert (b.mechanism, b.noise_multiplier, b.epsilon) == ("ddg", None, 2.0)
    for bad in ({}, {"noise_multiplier": 1.0, "epsilon": 1.0}):
        with pytest.raises(ValueError):
            secagg.DistributedDP(**bad)
    with pytest.raises(ValueError):
        secagg.DistributedDP(noise_multiplier=1.0, mechanism="laplace")


@pytest.mark.parametrize(
    "dp, name",
    [
        (dict(epsilon=0.0), "InvalidEpsilon"),
        (dict(epsilon=-1.0), "InvalidEpsilon"),
        (dict(epsilon=1.0, delta=1.0), "InvalidDelta"),
        (dict(noise_multiplier=-1.0), "InvalidParameter"),
        (dict(noise_multiplier=1.0, min_survivors=10), "NoiseBelowTarget"),
    ],
)
def test_bad_parameters_are_typed_errors(dp, name):
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Config(10, 50, threshold=6, dropout=0.2, corrupt=0.0,
                      dp=secagg.DistributedDP(**dp))
    assert e.value.name == name and e.value.kind == "misuse"


def test_a_ring_too_narrow_for_the_noise_names_the_bits_needed():
    dp = secagg.DistributedDP(noise_multiplier=1.0)
    ok = secagg.Config(10, 50, threshold=6, dp=dp)
    b = ok.dp["ring_bits"]
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Config(10, 50, threshold=6, ring_bits=b - 1, dp=dp)
    assert e.value.name == "RingTooNarrowForNoise"
    assert f"{b} bits needed" in str(e.value)
    with pytest.raises(secagg.MisuseError):
        secagg.dp_noise(secagg.Config(10, 50, threshold=6), 5)


@pytest.mark.parametrize("mechanism", ["ddg", "skellam"])
def test_simulated_sessions_carry_the_reported_noise(mechanism):
    n, d, clip = 12, 512, 1.0
    cfg = secagg.Config(n, d, threshold=7, dropout=0.25, corrupt=0.0, clip=clip, bits=12,
                        graph_seed=bytes(32), context=b"test_dp",
                        dp=secagg.DistributedDP(noise_multiplier=2.0, mechanism=mechanism))
    assert cfg.dp["min_survivors"] == 9 and cfg.dp["colluding"] == 0
    rng = np.random.default_rng(5)
    xs = [rng.normal(size=d) for _ in range(n)]
    xs = [x * (0.5 * clip / np.linalg.norm(x)) for x in xs]
    xs[0] = xs[0] * 4.0  # norm 2c: clipped to c
    errors = []
    for s in range(5):
        drop = {1: "MaskedInputCollection", 4: "ShareKeys", 9: "AdvertiseKeys"}  # 3 = n - 9
        sim = secagg.simulate(cfg, xs, drop=drop, seed=bytes([s]) * 32)
        agg = sim.aggregate
        assert agg.included == [0, 2, 3, 5, 6, 7, 8, 10, 11]
        assert math.isinf(agg.error_bound)
        want = np.sum([xs[i] * min(1.0, clip / np.linalg.norm(xs[i])) for i in agg.included], axis=0)
        errors.append(agg.sum - want)
    report = secagg.dp_noise(cfg, 9)
    # Calibrated for 9 survivors: the noise's sd is z * c exactly there.
    assert abs(report["noise_stddev"] - 2.0 * clip) < 1e-9
    assert not report["below_target"] and report["epsilon"] == cfg.dp["epsilon"]
    assert secagg.dp_noise(cfg, 8)["below_target"]
    e = np.concatenate(errors)
    lo = report["noise_variance"]
    hi = lo + report["rounding_variance_bound"]
    se = hi * math.sqrt(2.0 / e.size)
    assert lo - 6 * se <= np.mean(e * e) <= hi + 6 * se
    assert abs(np.mean(e)) <= 6 * math.sqrt(hi / e.size)
