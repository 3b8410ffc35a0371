"""secagg.dp.Accountant and Budget: the core's privacy accountant from Python.

Checked against (1) what ``secagg dp ... --json`` printed for the same arguments
(recorded below with the command lines; the command is not in the wheel), (2) the
session layer's own report of the same round (``Config(dp=...).dp``, ``dp_noise``), a
second path through the core, (3) TensorFlow Privacy's published sampled-Gaussian RDP
values and the moments accountant's epsilon, and (4) the continuous Gaussian
mechanism's epsilon, computed here from its closed-form RDP alpha / (2 z^2) and the
conversion written out by hand, which both discrete mechanisms approach from above as
the grid gets fine. No randomness: every check is exact or within a stated float
tolerance.
"""

import json
import math

import pytest

import secagg
from secagg.dp import (
    RDP_ORDERS,
    Accountant,
    Budget,
    BudgetExhaustedError,
    DPError,
    gaussian_rdp,
    rdp_to_epsilon,
)

# `secagg dp --json <args>` (secagg-cli at 621bf47), args as the Accountant's keywords.
CLI = [
    (  # --clients 100 --dim 100000 --rounds 100 --sampling-rate 0.01 --delta 1e-6
       #   --dropout 0.1 --corrupt 0.05 --noise-multiplier 1
        dict(clients=100, dim=100000, rounds=100, sampling_rate=0.01, delta=1e-6,
             dropout=0.1, corrupt=0.05, noise_multiplier=1.0),
        '{"mechanism":"ddg","clients":100,"min_survivors":90,"colluding":5,"noisy_clients":85,"clip":1.0,"bits":16,"gamma":0.000030517578125,"ring_bits":19,"dim":100000,"padded_dim":131072,"beta":0.6065306597126334,"l2_sensitivity":32769.0027464981,"noise_multiplier":1.0,"local_variance":12632256.752941176,"noise_stddev":1.0,"tau":0.0,"rounds":100,"sampling_rate":0.01,"epsilon":1.683455805502601,"delta":1e-6,"rdp_order":8,"epsilon_round_unsampled":5.222612272130198,"mse_mean_per_coordinate":0.00013071895683537316,"mse_mean":13.071895683537315,"mse_mean_full_participation":11.764706115183584}',
    ),
    (  # the same with --epsilon 1 instead of --noise-multiplier
        dict(clients=100, dim=100000, rounds=100, sampling_rate=0.01, delta=1e-6,
             dropout=0.1, corrupt=0.05, epsilon=1.0),
        '{"mechanism":"ddg","clients":100,"min_survivors":90,"colluding":5,"noisy_clients":85,"clip":1.0,"bits":16,"gamma":0.000030517578125,"ring_bits":19,"dim":100000,"padded_dim":131072,"beta":0.6065306597126334,"l2_sensitivity":32769.0027464981,"noise_multiplier":1.2182799992604487,"local_variance":18748873.244442444,"noise_stddev":1.2182799992604487,"tau":0.0,"rounds":100,"sampling_rate":0.01,"epsilon":0.9999999992642757,"delta":1e-6,"rdp_order":13,"epsilon_round_unsampled":4.182423354471855,"mse_mean_per_coordinate":0.00019401387926648933,"mse_mean":19.401387926648933,"mse_mean_full_participation":17.46124913398404}',
    ),
    (  # --clients 50 --dim 1000 --rounds 10 --sampling-rate 0.1 --delta 1e-5 --epsilon 2
       #   --mechanism skellam --bits 12 --clip 0.5
        dict(clients=50, dim=1000, rounds=10, sampling_rate=0.1, delta=1e-5, epsilon=2.0,
             mechanism="skellam", bits=12, clip=0.5),
        '{"mechanism":"skellam","clients":50,"min_survivors":50,"colluding":0,"noisy_clients":50,"clip":0.5,"bits":12,"gamma":0.000244140625,"ring_bits":16,"dim":1000,"padded_dim":1024,"beta":0.6065306597126334,"l2_sensitivity":2048.5663279474256,"noise_multiplier":1.5282236828873708,"local_variance":195913.22402294556,"noise_stddev":0.7641118414436854,"tau":0.0,"rounds":10,"sampling_rate":0.1,"epsilon":1.9999999992442645,"delta":0.00001,"rdp_order":8,"epsilon_round_unsampled":2.9277757873723997,"mse_mean_per_coordinate":0.0002335470605170078,"mse_mean":0.2335470605170078,"mse_mean_full_participation":0.2335470605170078}',
    ),
]


@pytest.mark.parametrize("kwargs, printed", CLI, ids=["z=1", "eps=1", "skellam"])
def test_the_numbers_of_secagg_dp_json(kwargs, printed):
    want = json.loads(printed)
    got = Accountant(**kwargs).to_dict()
    assert set(got) == set(want)
    for k, v in want.items():
        if isinstance(v, float):
            assert got[k] == pytest.approx(v, rel=1e-12, abs=1e-300), k
        else:
            assert got[k] == v, k
    a = Accountant(**kwargs)
    assert a.epsilon_after(kwargs["rounds"]) == got["epsilon"]
    if "epsilon" in kwargs:
        # The inverse: the least noise within the target, and 0.1% less noise is not.
        assert got["epsilon"] <= kwargs["epsilon"]
        less = dict(kwargs, noise_multiplier=got["noise_multiplier"] * 0.999)
        del less["epsilon"]
        assert Accountant(**less).epsilon_after(kwargs["rounds"]) > kwargs["epsilon"]


def test_tensorflow_privacy_sampled_gaussian_rdp():
    # rdp_accountant_test.py: compute_rdp(q=0.1, sigma=2, steps=10, order 5) = 0.07737;
    # compute_rdp(0.01, 2.5, 50, [5, 50, 100]) = [0.00218075, 0.023846, 167.416307].
    assert 10 * gaussian_rdp(2.0, 0.1, 5) == pytest.approx(0.07737, abs=5e-6)
    assert 50 * gaussian_rdp(2.5, 0.01, 5) == pytest.approx(0.00218075, abs=1e-7)
    assert 50 * gaussian_rdp(2.5, 0.01, 50) == pytest.approx(0.023846, abs=1e-6)
    assert 50 * gaussian_rdp(2.5, 0.01, 100) == pytest.approx(167.416307, abs=1e-4)
    assert gaussian_rdp(10.0, 1.0, 20) == pytest.approx(0.1, abs=1e-15)
    # The moments accountant (Abadi et al.): q = 0.01, sigma = 4, 10^4 steps, delta 1e-5:
    # epsilon 1.258575 at order 20 with Mironov's conversion.
    rdp = [1e4 * gaussian_rdp(4.0, 0.01, a) for a in RDP_ORDERS]
    eps, order = rdp_to_epsilon(rdp, 1e-5, classic=True)
    assert eps == pytest.approx(1.258575, abs=5e-6) and order == 20
    tight, _ = rdp_to_epsilon(rdp, 1e-5)
    assert 0.8 * eps < tight < eps


def gaussian_epsilon(z, rounds, delta):
    """The continuous Gaussian mechanism (RDP alpha / (2 z^2) per round), converted by
    eps = min_a rho(a) + log((a-1)/a) - (log delta + log a) / (a - 1), over the same
    orders, written out here."""
    return min(
        rounds * a / (2 * z * z) + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
        for a in RDP_ORDERS
    )


@pytest.mark.parametrize("mechanism", ["ddg", "skellam"])
def test_fine_grids_approach_the_continuous_gaussian_from_above(mechanism):
    z, rounds, delta = 1.5, 10, 1e-6
    gauss = gaussian_epsilon(z, rounds, delta)
    # rho-zCDP with rho = rounds / (2 z^2) gives rho + 2 sqrt(rho log(1/delta)) (Bun and
    # Steinke 2016): the RDP conversion is never looser.
    rho = rounds / (2 * z * z)
    assert gauss <= rho + 2 * math.sqrt(rho * math.log(1 / delta))
    last = math.inf
    for bits in (8, 12, 16, 20):
        a = Accountant(mechanism, clients=20, dim=256, bits=bits, noise_multiplier=z,
                       rounds=rounds, delta=delta)
        eps = a.epsilon_after(rounds)
        assert gauss <= eps <= last, bits
        last = eps
    assert last <= gauss * 1.001


def test_the_session_layer_reports_the_same_round():
    dp = secagg.DistributedDP(noise_multiplier=1.3, delta=1e-6)
    cfg = secagg.Config(20, 300, threshold=12, dropout=0.2, corrupt=0.1, clip=2.0, bits=12,
                        graph_seed=bytes(32), dp=dp)
    p = cfg.dp
    acct = Accountant.for_session(cfg)
    assert (acct.min_survivors, acct.colluding) == (p["min_survivors"], p["colluding"])
    assert acct.noise_multiplier == p["noise_multiplier"]
    assert acct.client_variance == p["client_variance"]
    # One unsampled round at the planned survivors: the session's epsilon.
    assert acct.epsilon_if() == pytest.approx(p["epsilon"], rel=1e-12)
    for included in (p["min_survivors"], p["min_survivors"] - 1, 20):
        report = secagg.dp_noise(cfg, included)
        assert acct.epsilon_if(survivors=included) == pytest.approx(report["epsilon"], rel=1e-12)
    # The same session through the `secagg dp` arguments: same grid, variance, epsilon.
    plan = Accountant(clients=20, dim=300, clip=2.0, bits=12, noise_multiplier=1.3,
                      delta=1e-6, dropout=(20 - p["min_survivors"]) / 20,
                      corrupt=p["colluding"] / 20)
    assert plan.client_variance == acct.client_variance
    assert plan.epsilon_after(3) == pytest.approx(acct.epsilon_if(3), rel=1e-12)


def test_steps_compose_the_rounds_they_were_given():
    dp = secagg.DistributedDP(noise_multiplier=0.9, mechanism="skellam")
    small = secagg.Config(10, 64, threshold=6, dropout=0.2, corrupt=0.0, bits=10, dp=dp)
    large = secagg.Config(30, 64, threshold=16, dropout=0.2, corrupt=0.0, bits=10, dp=dp)
    acct = Accountant.for_session(small, sampling_rate=0.2)
    assert acct.epsilon() == 0.0 and acct.rounds == 0 and acct.spent() == (0.0, 1e-5)
    # R planned rounds: the core's own composition.
    e3 = acct.step(3)
    assert e3 == pytest.approx(acct.epsilon_after(3), rel=1e-12)
    # Rounds of another session, survivors and rate: RDPs add up, order by order.
    one = Accountant.for_session(large, sampling_rate=0.5)
    one.step(survivors=25)
    want_rdp = [3 * a + b for a, b in zip(acct.round_rdp_planned(), one.rdp)]
    preview = acct.epsilon_if(survivors=25, sampling_rate=0.5, session=large)
    assert acct.epsilon() == e3 and acct.rounds == 3  # a preview spends nothing
    e4 = acct.step(survivors=25, sampling_rate=0.5, session=large)
    assert e4 == preview
    assert acct.rdp == pytest.approx(want_rdp, rel=1e-12)
    assert e4 == pytest.approx(rdp_to_epsilon(want_rdp, 1e-5)[0], rel=1e-12)
    assert acct.rounds == 4 and acct.spent() == (e4, 1e-5) and e4 > e3
    # More survivors, more noise: less epsilon; no honest survivor: no guarantee.
    assert acct.epsilon_if(survivors=10) < acct.epsilon_if(survivors=8)
    assert math.isinf(acct.epsilon_if(survivors=0))
    with pytest.raises(secagg.MisuseError) as e:
        acct.epsilon_if(survivors=11)
    assert e.value.name == "TooManyIncluded"


def test_the_budget_refuses_the_round_the_accountant_says():
    acct = Accountant(clients=50, dim=128, noise_multiplier=2.0, sampling_rate=0.1, bits=10)
    budget = Budget(1.0, 1e-5)
    stop = acct.max_rounds(budget)
    assert stop >= 1 and acct.max_rounds((1.0, 1e-5)) == stop
    assert acct.epsilon_after(stop) <= 1.0 < acct.epsilon_after(stop + 1)
    for r in range(stop):
        assert acct.step(budget=budget) <= 1.0
    with pytest.raises(BudgetExhaustedError) as e:
        acct.step(budget=(1.0, 1e-5))
    err = e.value
    assert isinstance(err, DPError) and isinstance(err, secagg.MisuseError)
    assert err.name == "BudgetExhausted" and err.kind == "misuse"
    assert err.budget == 1.0 and err.delta == 1e-5 and err.rounds == stop
    assert err.epsilon == pytest.approx(acct.epsilon_after(stop + 1), rel=1e-12)
    assert acct.rounds == stop  # nothing spent
    assert "privacy budget exhausted" in str(err)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(epsilon=0.0), "InvalidEpsilon"),
        (dict(epsilon=math.nan), "InvalidEpsilon"),
        (dict(noise_multiplier=1.0, delta=1.0), "InvalidDelta"),
        (dict(noise_multiplier=1.0, delta=0.0), "InvalidDelta"),
        (dict(noise_multiplier=1.0, sampling_rate=0.0), "InvalidParameter"),
        (dict(noise_multiplier=1.0, sampling_rate=1.5), "InvalidParameter"),
        (dict(noise_multiplier=1.0, rounds=0), "InvalidParameter"),
        (dict(noise_multiplier=1.0, dropout=1.0), "InvalidParameter"),
        (dict(noise_multiplier=1.0, dropout=0.5, corrupt=0.5), "InvalidParameter"),
        (dict(noise_multiplier=-1.0), "InvalidParameter"),
        (dict(epsilon=1e-12, delta=1e-9, rounds=1000), "Unreachable"),
        (dict(noise_multiplier=1.0, ring_bits=8), "RingTooNarrowForNoise"),
    ],
)
def test_bad_arguments_are_typed_errors(kwargs, name):
    with pytest.raises(DPError) as e:
        Accountant(clients=10, dim=16, **kwargs)
    assert e.value.name == name and isinstance(e.value, secagg.MisuseError)


def test_bad_budgets_and_other_misuse():
    for eps, delta, name in ((0.0, 1e-5, "InvalidEpsilon"), (math.inf, 1e-5, "InvalidEpsilon"),
                             (1.0, 1.0, "InvalidDelta"), (1.0, -1e-5, "InvalidDelta")):
        with pytest.raises(DPError) as e:
            Budget(eps, delta)
        assert e.value.name == name
    b = Budget(2.0, 1e-6)
    assert (b.epsilon, b.delta, b.as_tuple()) == (2.0, 1e-6, (2.0, 1e-6)) and b == Budget(2, 1e-6)
    for bad in ({}, {"noise_multiplier": 1.0, "epsilon": 1.0}):
        with pytest.raises(ValueError):
            Accountant(clients=10, dim=16, **bad)
    with pytest.raises(ValueError):
        Accountant("laplace", clients=10, dim=16, noise_multiplier=1.0)
    with pytest.raises(secagg.MisuseError):
        Accountant.for_session(secagg.Config(5, 4, threshold=3))
    a = Accountant(clients=10, dim=16, noise_multiplier=1.0)
    with pytest.raises(TypeError):
        a.step(budget=1.0)
    with pytest.raises(DPError):
        a.step(sampling_rate=0.0)
    with pytest.raises(DPError):
        gaussian_rdp(1.0, 0.5, 1)
    with pytest.raises(ValueError):
        rdp_to_epsilon([0.1, 0.2], 1e-5)
    # The session layer's DP errors are DPErrors too (and still MisuseErrors).
    with pytest.raises(DPError) as e:
        secagg.Config(10, 50, threshold=6, dp=secagg.DistributedDP(epsilon=-1.0))
    assert e.value.name == "InvalidEpsilon"
