"""Config and simulate() against numpy sums."""

import numpy as np
import pytest

import secagg


def inputs(n, d, seed, dtype=np.float64, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(scale * rng.uniform(-1, 1, d)).astype(dtype) for _ in range(n)]


def check_sum(agg, xs, clip, weights=None):
    """The decoded sum is within the documented bound of numpy's sum of the included."""
    weights = weights or [1] * len(xs)
    want = np.sum(
        [weights[i] * np.clip(xs[i].astype(np.float64), -clip, clip) for i in agg.included],
        axis=0,
    )
    assert agg.sum.shape == want.shape
    err = np.max(np.abs(agg.sum - want))
    assert err <= agg.error_bound, (err, agg.error_bound)


def test_default_parameters_come_from_find_params():
    cfg = secagg.Config(200, 8, dropout=0.1, corrupt=0.1)
    p = secagg.find_params(200, 0.1, 0.1)
    assert cfg.threshold == p["threshold"]
    assert cfg.degree == (None if p["complete"] else p["degree"])
    for i in (0, 57, 199):
        nb = cfg.neighbors(i)
        assert i not in nb and nb == sorted(nb)
        assert len(nb) == (199 if cfg.degree is None else cfg.degree)
    complete = secagg.Config(10, 8, threshold=6)
    assert complete.degree is None and complete.neighbors(3) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_to_dict_rebuilds_the_same_session():
    cfg = secagg.Config(50, 100, degree=10, threshold=6, clip=0.5, bits=12, max_weight=7,
                        rounding="deterministic", context=b"model 1, round 2")
    d = cfg.to_dict()
    again = secagg.Config(**d)
    assert again.session_id == cfg.session_id and len(cfg.session_id) == 32
    assert again.to_dict() == d
    assert d["graph_seed"] == cfg.graph_seed and len(cfg.graph_seed) == 32
    # Anything that differs gives another session id.
    for change in ({"context": b"model 1, round 3"}, {"threshold": 7}, {"clip": 0.25},
                   {"graph_seed": bytes(32)}, {"bits": 11}, {"max_weight": 6},
                   {"rounding": "stochastic"}, {"dim": 101}, {"ring_bits": 22}):
        assert secagg.Config(**{**d, **change}).session_id != cfg.session_id, change
    # Without an explicit seed, two configs draw different graphs.
    a = secagg.Config(50, 1, degree=10, threshold=6)
    b = secagg.Config(50, 1, degree=10, threshold=6)
    assert a.graph_seed != b.graph_seed


@pytest.mark.parametrize("graph", ["complete", "harary"])
def test_simulate_matches_numpy_with_dropouts(graph):
    n, d = 30, 1000
    kw = dict(threshold=16) if graph == "complete" else dict(degree=10, threshold=6)
    cfg = secagg.Config(n, d, clip=0.5, bits=12, **kw)
    xs = np.random.default_rng(6).normal(0, 0.3, (n, d))
    drop = {0: "ShareKeys", 1: 2, 2: "Unmasking", 3: "AdvertiseKeys"}
    sim = secagg.simulate(cfg, xs, drop=drop, seed=bytes(32))
    agg = sim.aggregate
    assert agg.included == [i for i in range(n) if i not in (0, 1, 3)]
    check_sum(agg, list(xs), 0.5)
    assert sim.clipped == [int(np.count_nonzero(np.abs(x) > 0.5)) for x in xs]
    assert [r["round"] for r in sim.rounds] == [
        "AdvertiseKeys", "ShareKeys", "MaskedInputCollection", "Unmasking"
    ]
    assert [r["active_clients"] for r in sim.rounds] == [n - 1, n - 2, n - 3, n - 4]
    assert sim.client_total_s > 0 and sim.server_total_s > 0
    assert sim.client_aborts == []
    # Seeded: the same run again gives the same sum, bit for bit.
    again = secagg.simulate(cfg, xs, drop=drop, seed=bytes(32))
    assert np.array_equal(again.aggregate.sum, agg.sum)
    # Running the clients one after another changes timings, not results.
    seq = secagg.simulate(cfg, xs, drop=drop, seed=bytes(32), sequential=True)
    assert np.array_equal(seq.aggregate.sum, agg.sum)


def test_simulate_weighted_float32():
    n, d = 12, 300
    cfg = secagg.Config(n, d, threshold=7, clip=1.0, bits=16, max_weight=1000)
    xs = inputs(n, d, 2, np.float32, scale=1.1)
    ws = [int(w) for w in np.random.default_rng(3).integers(1, 1001, n)]
    sim = secagg.simulate(cfg, xs, weights=ws, drop={4: "MaskedInputCollection"})
    agg = sim.aggregate
    assert agg.included == [i for i in range(n) if i != 4]
    assert agg.total_weight == sum(ws) - ws[4]
    check_sum(agg, xs, 1.0, ws)
    want = sum(ws[i] * np.clip(xs[i].astype(np.float64), -1, 1) for i in agg.included)
    assert np.max(np.abs(agg.mean() - want / agg.total_weight)) <= agg.mean_error_bound


def test_simulate_malicious_model():
    n, d = 9, 64
    pairs = [secagg.signing_keypair(seed=bytes([i + 1]) * 32) for i in range(n)]
    sks, vks = [p[0] for p in pairs], [p[1] for p in pairs]
    assert all(len(k) == 32 for k in sks + vks) and len(set(vks)) == n
    cfg = secagg.Config(n, d, threshold=6, threat="malicious", verifying_keys=vks)
    assert cfg.threat == "malicious"
    assert secagg.Config(**cfg.to_dict()).session_id == cfg.session_id
    xs = inputs(n, d, 4)
    sim = secagg.simulate(cfg, xs, signing_keys=sks, drop={1: "ShareKeys", 5: "ConsistencyCheck"})
    # Client 5 sent its masked input, then went silent: it is still in the sum.
    assert sim.aggregate.included == [0, 2, 3, 4, 5, 6, 7, 8]
    assert [r["round"] for r in sim.rounds][-2:] == ["ConsistencyCheck", "Unmasking"]
    check_sum(sim.aggregate, xs, 1.0)


def test_errors():
    n, d = 6, 10
    cfg = secagg.Config(n, d, threshold=4)
    xs = inputs(n, d, 7)
    with pytest.raises(secagg.ThresholdError) as e:
        secagg.simulate(cfg, xs, drop={0: 1, 1: 1, 2: 1})
    assert e.value.kind == "threshold"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.simulate(cfg, [np.zeros(d + 1)] * n)
    assert e.value.variant == "InputLength"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.simulate(cfg, [np.full(d, np.nan)] * n)
    assert e.value.variant == "NonFiniteInput"
    with pytest.raises(ValueError):
        secagg.simulate(cfg, xs[:-1])
    with pytest.raises(ValueError):
        secagg.simulate(cfg, xs, drop={0: "Lunch"})
    with pytest.raises(ValueError):
        secagg.simulate(cfg, xs, drop={n: 1})
    with pytest.raises(TypeError):
        secagg.simulate(cfg, [list(range(d))] * n)
    with pytest.raises(ValueError):
        secagg.Config(n, d, degree=4)  # a degree needs a threshold
    with pytest.raises(ValueError):
        secagg.Config(n, d, threshold=3, threat="malicious")  # no verifying keys
    with pytest.raises(ValueError):
        secagg.Config(n, d, threshold=3, graph_seed=b"short")
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Config(n, d, threshold=n)  # above the neighborhood size
    assert e.value.variant == "InvalidThreshold"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Config(n, d, threshold=4, bits=16, ring_bits=16)
    assert e.value.variant == "RingTooNarrow"
