"""The quantizer against numpy: sums within the documented bound, exact ring arithmetic."""

import numpy as np
import pytest

import secagg


def ring_sum(words, ring_bits):
    """Word-wise sum modulo 2**ring_bits, computed independently in Python ints."""
    mod = 1 << ring_bits
    total = [0] * len(words[0])
    for w in words:
        for j, x in enumerate(w.tolist()):
            total[j] = (total[j] + x) % mod
    return np.array(total, dtype=np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rounding", ["stochastic", "deterministic"])
def test_sum_of_clients_within_bound(dtype, rounding):
    rng = np.random.default_rng(1)
    n, d, clip = 25, 300, 2.0
    q = secagg.Quantizer(clip, 12, n, rounding=rounding)
    xs = [rng.uniform(-3, 3, size=d).astype(dtype) for _ in range(n)]
    encoded = [q.quantize(x, seed=bytes([i]) * 32) for i, x in enumerate(xs)]
    words = [w for w, _ in encoded]
    assert all(w.dtype == np.uint64 and w.shape == (d,) for w in words)
    assert all(int(w.max()) < (1 << q.ring_bits) for w in words)
    # Clipped counts agree with numpy.
    for x, (_, clipped) in zip(xs, encoded):
        assert clipped == int(np.count_nonzero(np.abs(x.astype(np.float64)) > clip))
    agg = q.dequantize(ring_sum(words, q.ring_bits), n)
    want = np.sum([np.clip(x.astype(np.float64), -clip, clip) for x in xs], axis=0)
    assert agg.clients == n and agg.total_weight == n
    assert agg.error_bound == pytest.approx(q.error_bound(n))
    assert np.max(np.abs(agg.sum - want)) <= agg.error_bound
    # The bound is not vacuous: it is a few grid steps per client, far below the values.
    assert agg.error_bound < 0.01 * np.max(np.abs(want))
    assert np.allclose(agg.mean(), agg.sum / n)


def test_weighted_mean():
    rng = np.random.default_rng(2)
    n, d = 10, 50
    q = secagg.Quantizer(1.0, 16, n, max_weight=1000)
    assert q.encoded_len(d) == d + 1
    xs = [rng.uniform(-1, 1, size=d) for _ in range(n)]
    ws = [int(w) for w in rng.integers(1, 1001, size=n)]
    words = [q.quantize(x, weight=w, seed=bytes(32))[0] for x, w in zip(xs, ws)]
    agg = q.dequantize(ring_sum(words, q.ring_bits), n)
    assert agg.total_weight == sum(ws)
    want = np.sum([w * x for w, x in zip(ws, xs)], axis=0)
    assert np.max(np.abs(agg.sum - want)) <= agg.error_bound
    assert np.max(np.abs(agg.mean() - want / sum(ws))) <= agg.mean_error_bound


def test_shapes_are_flattened_in_c_order_and_views_work():
    q = secagg.Quantizer(1.0, 20, 1, rounding="deterministic")
    x = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    w1, _ = q.quantize(x)
    w2, _ = q.quantize(x.ravel())
    assert np.array_equal(w1, w2)
    view = x.reshape(6, 4)[:, ::2]  # not contiguous
    w3, _ = q.quantize(view)
    w4, _ = q.quantize(np.ascontiguousarray(view))
    assert np.array_equal(w3, w4)


def test_seed_makes_rounding_reproducible():
    q = secagg.Quantizer(1.0, 4, 3)
    x = np.random.default_rng(3).uniform(-1, 1, 1000)
    a, _ = q.quantize(x, seed=b"\x01" * 32)
    b, _ = q.quantize(x, seed=b"\x01" * 32)
    c, _ = q.quantize(x, seed=b"\x02" * 32)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_ring_bits_helpers_match_the_arithmetic():
    for qb, n, w in [(16, 100, 1), (16, 100, 500), (8, 1, 1), (20, 1000, 1)]:
        b = secagg.min_ring_bits(qb, n, w)
        assert b == (n * w * ((1 << qb) - 1)).bit_length()
        assert secagg.max_quant_bits(b, n, w) >= qb
    secagg.Quantizer(1.0, 16, 100, ring_bits=secagg.min_ring_bits(16, 100))


def test_errors_are_typed():
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Quantizer(1.0, 16, 10, ring_bits=19)
    assert e.value.kind == "misuse" and e.value.variant == "RingTooNarrow"
    assert e.value.name == "RingTooNarrow"
    assert isinstance(e.value, secagg.SecAggError)
    assert "20 bits" in str(e.value)
    q = secagg.Quantizer(1.0, 8, 2)
    with pytest.raises(secagg.MisuseError) as e:
        q.quantize(np.array([0.0, np.nan]))
    assert e.value.variant == "NonFiniteInput" and "element 1" in str(e.value)
    with pytest.raises(secagg.MisuseError) as e:
        q.quantize(np.zeros(3), weight=2)
    assert e.value.variant == "WeightOutOfRange"
    with pytest.raises(secagg.PeerMisbehavedError) as e:
        q.dequantize(np.array([255 * 2 + 1], dtype=np.uint64), 2)
    assert e.value.kind == "peer-misbehaved" and e.value.variant == "AggregateOutOfRange"
    with pytest.raises(secagg.MisuseError):
        q.dequantize(np.zeros(1, dtype=np.uint64), 3)
    # Any float array-like is taken (a list, a float64 buffer); integers are not floats.
    seed = bytes(32)
    want = q.quantize(np.array([0.1, 0.2]), seed=seed)[0]
    assert np.array_equal(q.quantize([0.1, 0.2], seed=seed)[0], want)
    assert np.array_equal(q.quantize(bytearray(np.array([0.1, 0.2]).tobytes()), seed=seed)[0], want)
    with pytest.raises(TypeError):
        q.quantize([1, 2])
    with pytest.raises(TypeError):
        q.quantize(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError):
        q.dequantize(np.zeros(3, dtype=np.int64), 1)
    with pytest.raises(ValueError):
        q.quantize(np.zeros(3), seed=b"short")
    with pytest.raises(ValueError):
        secagg.Quantizer(1.0, 8, 2, rounding="up")
