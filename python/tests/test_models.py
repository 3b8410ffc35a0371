"""Whole models (several named arrays per session) and deferred input, driven over bytes
and checked against the plaintext numpy sum of exactly the included clients."""

import inspect

import numpy as np
import pytest

import secagg

ROUNDS = ["AdvertiseKeys", "ShareKeys", "MaskedInputCollection", "ConsistencyCheck", "Unmasking"]

# Three layers of different shapes and dtypes, and a scalar.
TEMPLATE = {
    "conv.weight": np.zeros((4, 3, 2), np.float32),
    "conv.bias": np.zeros(4, np.float32),
    "fc.weight": np.zeros((5, 4), np.float64),
    "scale": np.float64(0.0),
}


def model(seed, scale=0.5):
    rng = np.random.default_rng(seed)
    return {
        k: (scale * rng.uniform(-1, 1, np.shape(v))).astype(np.asarray(v).dtype)
        for k, v in TEMPLATE.items()
    }


def drive(cfg, clients, inputs=None, drop=(), restore=False, provide_at="needs_input"):
    """Drives a session over bytes; clients without an input get ``inputs[i]`` when
    ``needs_input`` says so (``provide_at='refused'``: only after the round-2 message
    was refused once). ``drop``: ids silent from round 2 on."""
    server = secagg.Server(cfg)
    inbox = {i: c.start() for i, c in clients.items()}
    while True:
        for i, m in inbox.items():
            server.receive(i, m)
        out = server.close_round()
        if not out:
            return server
        inbox = {}
        for i, msg in out.items():
            if i in drop and ROUNDS.index(server.round) >= 2:
                continue
            c = clients[i]
            if c.needs_input:
                if provide_at == "refused":
                    with pytest.raises(secagg.MisuseError) as e:
                        c.handle(msg)
                    assert e.value.name == "InputMissing"
                    assert c.state == "SharesSent" and c.error is None
                c.provide_input(inputs[i])
                assert not c.needs_input and not c.accepts_input
            inbox[i] = c.handle(msg)
            if restore and not c.completed:
                clients[i] = secagg.Client.from_bytes(cfg, c.to_bytes())


def plain_sum(xs, included, clip):
    return {
        k: np.sum([np.clip(np.asarray(xs[i][k], np.float64), -clip, clip) for i in included],
                  axis=0)
        for k in TEMPLATE
    }


def check(agg, xs, clip=1.0):
    want = plain_sum(xs, agg.included, clip)
    assert list(agg.sum) == list(TEMPLATE)
    for k, v in TEMPLATE.items():
        got = agg.sum[k]
        assert got.shape == np.shape(v) and got.dtype == np.asarray(v).dtype, k
        # float32 results are rounded from the float64 sum: allow its half-ulp.
        slack = np.abs(want[k]) * 2.0**-23 if got.dtype == np.float32 else 0.0
        assert np.all(np.abs(got.astype(np.float64) - want[k]) <= agg.error_bound + slack), k
        mean = agg.mean()[k]
        assert mean.shape == got.shape and mean.dtype == got.dtype


@pytest.mark.parametrize("form", ["dict", "list"])
def test_whole_model_sums_per_layer_with_a_drop_out(form):
    n = 7
    cfg = secagg.Config(n, vectors=TEMPLATE, threshold=4, graph_seed=bytes(32))
    assert cfg.dim is None and cfg.size == 24 + 4 + 20 + 1
    assert cfg.vectors == [
        ("conv.weight", (4, 3, 2), "float32"),
        ("conv.bias", (4,), "float32"),
        ("fc.weight", (5, 4), "float64"),
        ("scale", (), "float64"),
    ]
    xs = [model(i) for i in range(n)]
    give = (lambda x: x) if form == "dict" else (lambda x: list(x.values()))
    clients = {i: secagg.Client(cfg, i, give(xs[i]), seed=bytes([i]) * 32) for i in range(n)}
    server = drive(cfg, clients, drop={3})
    agg = server.result()
    assert agg.included == [0, 1, 2, 4, 5, 6]
    check(agg, xs)


def test_shapes_as_ints_and_tuples_and_list_names():
    cfg = secagg.Config(4, vectors=[(2, 3), 5], threshold=3)
    assert cfg.vectors == [("0", (2, 3), "float64"), ("1", (5,), "float64")]
    rng = np.random.default_rng(3)
    xs = [[rng.uniform(-1, 1, (2, 3)), list(rng.uniform(-1, 1, 5))] for _ in range(4)]
    clients = {i: secagg.Client(cfg, i, xs[i]) for i in range(4)}
    agg = drive(cfg, clients).result()
    want0 = sum(x[0] for x in xs)
    want1 = sum(np.asarray(x[1]) for x in xs)
    assert agg.sum["0"].shape == (2, 3) and agg.sum["0"].dtype == np.float64
    assert np.all(np.abs(agg.sum["0"] - want0) <= agg.error_bound)
    assert np.all(np.abs(agg.sum["1"] - want1) <= agg.error_bound)


@pytest.mark.parametrize("provide_at", ["needs_input", "refused"])
def test_deferred_input_interoperates_and_survives_restores(provide_at):
    n = 6
    cfg = secagg.Config(n, vectors=TEMPLATE, degree=4, threshold=3, graph_seed=bytes(32))
    xs = [model(10 + i) for i in range(n)]
    # Even ids start with their input, odd ones are given it when it is due.
    clients = {
        i: secagg.Client(cfg, i, xs[i] if i % 2 == 0 else None) for i in range(n)
    }
    for i, c in clients.items():
        assert c.accepts_input == (i % 2 == 1) and not c.needs_input
        assert c.clipped == (0 if i % 2 == 0 else None)
    server = drive(cfg, clients, xs, restore=True, provide_at=provide_at)
    agg = server.result()
    assert agg.included == list(range(n))
    check(agg, xs)


def test_state_before_input_holds_no_input():
    cfg = secagg.Config(3, vectors={"w": 1000}, threshold=2)
    c = secagg.Client(cfg, 0)
    without = c.to_bytes()
    c.provide_input({"w": np.zeros(1000)})
    with_input = c.to_bytes()
    # Exactly the packed input (1000 words of the session's ring) more.
    ring_bits = cfg.to_dict()["ring_bits"]
    assert len(with_input) - len(without) == (1000 * ring_bits + 7) // 8
    restored = secagg.Client.from_bytes(cfg, without)
    assert restored.accepts_input and restored.state == "KeysAdvertised"


def test_input_misuse_is_typed_and_leaves_the_client_usable():
    cfg = secagg.Config(4, vectors=TEMPLATE, threshold=3)
    x = model(1)
    c = secagg.Client(cfg, 0)
    cases = [
        ({k: v for k, v in x.items() if k != "scale"}, "InputNames"),
        ({**x, "extra": np.zeros(2)}, "InputNames"),
        (list(x.values())[:3], "InputCount"),
        ({**x, "conv.bias": np.zeros(5, np.float32)}, "InputShape"),
        ({**x, "fc.weight": np.zeros(20)}, "InputShape"),  # flat is not (5, 4)
    ]
    for bad, name in cases:
        with pytest.raises(secagg.MisuseError) as e:
            c.provide_input(bad)
        assert e.value.name == name and e.value.kind == "misuse", name
        assert c.accepts_input
    with pytest.raises(TypeError):
        c.provide_input({**x, "conv.bias": np.arange(4)})  # integers are not floats
    with pytest.raises(TypeError):
        c.provide_input(np.zeros(49))  # one array for a four-vector session
    c.provide_input(x)
    with pytest.raises(secagg.MisuseError) as e:
        c.provide_input(x)
    assert e.value.name == "InputNotExpected"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Client(cfg, 1, x).provide_input(x)
    assert e.value.name == "InputNotExpected"
    # The same errors at construction.
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Client(cfg, 1, list(x.values())[:2])
    assert e.value.name == "InputCount"


def test_config_vectors_arguments():
    with pytest.raises(ValueError):
        secagg.Config(4)
    with pytest.raises(ValueError):
        secagg.Config(4, 3, vectors={"a": 3})
    with pytest.raises(ValueError):
        secagg.Config(4, vectors={})
    with pytest.raises(ValueError):
        secagg.Config(4, vectors={"a": (2, 0)})
    with pytest.raises(TypeError):
        secagg.Config(4, vectors={"a": "3"})
    with pytest.raises(TypeError):
        secagg.Config(4, vectors={"a": np.zeros(3, np.int32)})
    with pytest.raises(secagg.MisuseError):
        secagg.Config(4, vectors=[3, "float64:3:0"])  # the name "0" twice


def test_to_dict_round_trips_and_has_no_none():
    cfgs = [
        secagg.Config(5, vectors=TEMPLATE, threshold=3),
        secagg.Config(9, 10, dropout=0.2),
        secagg.Config(5, 10, threshold=3, max_weight=100),
    ]
    for cfg in cfgs:
        d = cfg.to_dict()
        assert None not in d.values()
        for v in d.values():
            assert isinstance(v, (int, float, str, bytes, list)), v
            if isinstance(v, list):
                assert len({type(e) for e in v}) <= 1 and all(isinstance(e, (str, bytes)) for e in v)
        back = secagg.Config(**d)
        assert back.session_id == cfg.session_id and back.vectors == cfg.vectors
    assert cfgs[0].to_dict()["vectors"] == [
        "float32:4x3x2:conv.weight", "float32:4:conv.bias", "float64:5x4:fc.weight", "float64::scale",
    ]


def test_to_dict_fits_flowers_config_record():
    flwr = pytest.importorskip("flwr.app")
    cfg = secagg.Config(5, vectors=TEMPLATE, threshold=3, dropout=0.2)
    rec = flwr.ConfigRecord(cfg.to_dict())
    assert secagg.Config(**dict(rec)).session_id == cfg.session_id


def test_signatures_are_clean():
    for obj in (secagg.Config, secagg.Client, secagg.Client.from_bytes, secagg.Server):
        sig = inspect.signature(obj)
        for p in sig.parameters.values():
            assert p.default is not Ellipsis, (obj, p)
    assert inspect.signature(secagg.Config).parameters["context"].default is None


def test_client_ids_out_of_range_are_misuse():
    cfg = secagg.Config(3, 4, threshold=2)
    for bad in (-1, 3, 2**32, -(2**70)):
        with pytest.raises(secagg.MisuseError) as e:
            secagg.Client(cfg, bad, np.zeros(4))
        assert e.value.name == "InvalidClientId" and "ids 0..3" in str(e.value)
    with pytest.raises(TypeError):
        secagg.Client(cfg, "0", np.zeros(4))


def test_buffers_and_other_float_dtypes():
    cfg = secagg.Config(3, 4, threshold=2, graph_seed=bytes(32))
    x = np.array([0.5, -0.25, 0.125, 1.0])
    forms = [
        [x, x, x],
        [bytearray(x.tobytes()), memoryview(x), x.tobytes()],
        [x.astype(np.float16), list(x), memoryview(x.astype(np.float32))],
        [x.astype(">f8"), x.reshape(2, 2), x[::-1][::-1]],
    ]
    for xs in forms:
        clients = {i: secagg.Client(cfg, i, xs[i]) for i in range(3)}
        agg = drive(cfg, clients).result()
        assert np.all(np.abs(agg.sum - 3 * x) <= agg.error_bound), xs


def test_on_clip():
    cfg = secagg.Config(3, 4, threshold=2)
    big = np.array([2.0, 0.0, -3.0, 0.5])
    assert secagg.Client(cfg, 0, big).clipped == 2
    with pytest.warns(secagg.ClipWarning, match="2 input elements"):
        secagg.Client(cfg, 0, big, on_clip="warn")
    with pytest.raises(secagg.ClipError) as e:
        secagg.Client(cfg, 0, big, on_clip="raise")
    assert e.value.name == "Clipped" and isinstance(e.value, secagg.MisuseError)
    # Deferred: refused, and the client still takes a clipped-free input.
    c = secagg.Client(cfg, 0, on_clip="raise")
    with pytest.raises(secagg.ClipError):
        c.provide_input(big)
    assert c.accepts_input and c.clipped is None
    c.provide_input(np.clip(big, -1, 1))
    assert c.clipped == 0
    with pytest.raises(ValueError):
        secagg.Client(cfg, 0, big, on_clip="loud")


def test_simulate_takes_whole_models():
    n = 5
    cfg = secagg.Config(n, vectors=TEMPLATE, threshold=3)
    xs = [model(20 + i) for i in range(n)]
    sim = secagg.simulate(cfg, xs, drop={2: "MaskedInputCollection"}, seed=bytes(32))
    assert sim.aggregate.included == [0, 1, 3, 4]
    check(sim.aggregate, xs)
