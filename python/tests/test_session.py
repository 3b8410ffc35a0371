"""Client and Server driven with bytes (the wire format), against numpy sums."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import secagg

ROUNDS = ["AdvertiseKeys", "ShareKeys", "MaskedInputCollection", "ConsistencyCheck", "Unmasking"]


def run_session(cfg, xs, drop=None, weights=None, signing_keys=None, parallel=False,
                restore=False):
    """Drives one session over bytes. ``drop``: {id: round name}, silent from that round.
    ``restore``: every party is stored with to_bytes and restored from bytes between
    any two messages (as a stateless framework would)."""
    drop = drop or {}
    weights = weights or [1] * cfg.n
    keys = signing_keys or [None] * cfg.n
    clients = {
        i: secagg.Client(cfg, i, xs[i], weight=weights[i], signing_key=keys[i])
        for i in range(cfg.n)
    }
    server = secagg.Server(cfg)
    inbox = {i: c.start() for i, c in clients.items()}
    pool = ThreadPoolExecutor(4) if parallel else None
    while True:
        r = ROUNDS.index(server.round)
        for i, m in inbox.items():
            if i in drop and ROUNDS.index(drop[i]) <= r:
                continue
            server.receive(i, m)
        if restore:
            server = secagg.Server.from_bytes(cfg, server.to_bytes())
        out = server.close_round()
        if restore:
            server = secagg.Server.from_bytes(cfg, server.to_bytes())
        if not out:
            break
        # A client silent from the next round on never computes its reply.
        nxt = ROUNDS.index(server.round)
        out = {i: b for i, b in out.items() if not (i in drop and ROUNDS.index(drop[i]) <= nxt)}
        if pool:
            futures = {i: pool.submit(clients[i].handle, b) for i, b in out.items()}
            inbox = {i: f.result() for i, f in futures.items()}
        else:
            inbox = {i: clients[i].handle(b) for i, b in out.items()}
        if restore:
            for i in out:
                clients[i] = secagg.Client.from_bytes(cfg, clients[i].to_bytes())
    return server, clients


def inputs(n, d, seed, dtype=np.float64, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(scale * rng.uniform(-1, 1, d)).astype(dtype) for _ in range(n)]


def expected_included(n, drop):
    """Clients that sent their masked input: all but those silent before round 2."""
    return [i for i in range(n) if ROUNDS.index(drop.get(i, "Unmasking")) > 2 or i not in drop]


def check_sum(agg, xs, clip, weights=None):
    weights = weights or [1] * len(xs)
    want = np.sum(
        [weights[i] * np.clip(xs[i].astype(np.float64), -clip, clip) for i in agg.included],
        axis=0,
    )
    assert agg.sum.shape == want.shape
    err = np.max(np.abs(agg.sum - want))
    assert err <= agg.error_bound, (err, agg.error_bound)


@pytest.mark.parametrize("graph", ["complete", "harary"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bytes_session_with_dropouts_in_every_round(graph, dtype):
    n, d = 12, 257
    kw = dict(threshold=5) if graph == "complete" else dict(degree=8, threshold=4)
    cfg = secagg.Config(n, d, clip=1.0, bits=16, context=b"t1", **kw)
    assert cfg.degree == (None if graph == "complete" else 8)
    xs = inputs(n, d, 1, dtype, scale=1.2)  # some elements clipped
    drop = {2: "AdvertiseKeys", 4: "ShareKeys", 7: "MaskedInputCollection", 9: "Unmasking"}
    server, clients = run_session(cfg, xs, drop)
    agg = server.result()
    assert agg.included == server.included == expected_included(n, drop)
    assert agg.clients == len(agg.included) == 9
    check_sum(agg, xs, 1.0)
    # Every client still running completed; the dropped ones stopped where they were.
    for i, c in clients.items():
        assert c.completed == (i not in drop), (i, c.state)
        assert c.clipped == int(np.count_nonzero(np.abs(xs[i]) > 1.0))


def test_weighted_fedavg_mean():
    n, d = 10, 100
    cfg = secagg.Config(n, d, threshold=6, clip=2.0, bits=18, max_weight=500)
    xs = inputs(n, d, 2)
    ws = [int(w) for w in np.random.default_rng(3).integers(1, 501, n)]
    server, _ = run_session(cfg, xs, {0: "MaskedInputCollection"}, weights=ws)
    agg = server.result()
    assert agg.included == list(range(1, n))
    assert agg.total_weight == sum(ws[1:])
    check_sum(agg, xs, 2.0, ws)
    want_mean = sum(ws[i] * xs[i] for i in agg.included) / agg.total_weight
    assert np.max(np.abs(agg.mean() - want_mean)) <= agg.mean_error_bound


def test_malicious_model_with_signatures():
    n, d = 9, 64
    pairs = [secagg.signing_keypair(seed=bytes([i + 1]) * 32) for i in range(n)]
    sks, vks = [p[0] for p in pairs], [p[1] for p in pairs]
    cfg = secagg.Config(n, d, threshold=6, threat="malicious", verifying_keys=vks)
    assert cfg.threat == "malicious"
    # The configuration survives the trip through to_dict (as a server would send it).
    assert secagg.Config(**cfg.to_dict()).session_id == cfg.session_id
    xs = inputs(n, d, 4)
    drop = {1: "ShareKeys", 5: "ConsistencyCheck"}
    server, _ = run_session(cfg, xs, drop, signing_keys=sks)
    agg = server.result()
    # Client 5 sent its masked input, then went silent: it is still in the sum.
    assert agg.included == [0, 2, 3, 4, 5, 6, 7, 8]
    check_sum(agg, xs, 1.0)


def test_clients_in_threads_release_the_gil():
    n, d = 8, 20_000
    cfg = secagg.Config(n, d, threshold=5)
    xs = inputs(n, d, 5, np.float32)
    server, _ = run_session(cfg, xs, {3: "MaskedInputCollection"}, parallel=True)
    check_sum(server.result(), xs, 1.0)


def test_too_many_dropouts_raise_threshold_error():
    n, d = 6, 10
    cfg = secagg.Config(n, d, threshold=4)
    xs = inputs(n, d, 7)
    with pytest.raises(secagg.ThresholdError) as e:
        run_session(cfg, xs, {0: "ShareKeys", 1: "ShareKeys", 2: "ShareKeys"})
    assert e.value.kind == "threshold"


def test_bad_bytes_and_misuse():
    n, d = 5, 16
    cfg = secagg.Config(n, d, threshold=3)
    xs = inputs(n, d, 8)
    server = secagg.Server(cfg)
    c0 = secagg.Client(cfg, 0, xs[0])
    first = c0.start()
    assert c0.start() == first  # idempotent, for retransmission
    # Garbage and truncated messages are encoding errors and leave the server as it was.
    for bad in (b"", b"\x00" * 7, first[:-1], first + b"\x00"):
        with pytest.raises(secagg.EncodingError) as e:
            server.receive(0, bad)
        assert e.value.kind == "encoding"
    assert server.received == []
    server.receive(0, first)
    with pytest.raises(secagg.SecAggError):
        server.receive(0, first)  # duplicate
    assert server.received == [0]
    with pytest.raises(secagg.MisuseError) as e:
        server.result()
    assert e.value.variant == "NotCompleted"
    # Bytes that do not decode leave a client as it was; a protocol error aborts it.
    with pytest.raises(secagg.EncodingError):
        c0.handle(b"\x01\x02\x03")
    assert c0.state == "KeysAdvertised" and c0.error is None
    others = [secagg.Client(cfg, i, xs[i]) for i in range(1, n)]
    for i, c in enumerate(others, start=1):
        server.receive(i, c.start())
    key_list = server.close_round()[0]
    c0.handle(key_list)
    assert c0.state == "SharesSent"
    with pytest.raises(secagg.SecAggError) as e:
        c0.handle(key_list)  # a key list again, where routed shares are due
    assert c0.state == "Aborted" and c0.error == str(e.value)
    with pytest.raises(secagg.MisuseError) as e:
        c0.handle(key_list)
    assert e.value.variant == "AlreadyAborted"
    # Inputs of the wrong length or non-finite values are misuse.
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Client(cfg, 1, np.zeros(d + 1))
    assert e.value.variant == "InputLength"
    with pytest.raises(secagg.MisuseError):
        secagg.Client(cfg, 1, np.full(d, np.inf))
    with pytest.raises(TypeError):
        secagg.Client(cfg, 1, list(range(d)))
    with pytest.raises(ValueError):
        secagg.Config(n, d, degree=4)
    with pytest.raises(ValueError):
        secagg.Config(n, d, threshold=3, threat="malicious")
    with pytest.raises(secagg.MisuseError):
        secagg.Config(n, d, threshold=n)  # above the neighborhood size


def test_different_context_cannot_complete():
    n, d = 4, 8
    a = secagg.Config(n, d, threshold=3, context=b"round 1", graph_seed=bytes(32))
    b = secagg.Config(n, d, threshold=3, context=b"round 2", graph_seed=bytes(32))
    assert a.session_id != b.session_id
    xs = inputs(n, d, 9)
    clients = [secagg.Client(b if i == 0 else a, i, xs[i]) for i in range(n)]
    server = secagg.Server(a)
    for i, c in enumerate(clients):
        server.receive(i, c.start())
    # Client 0 seals its shares under another session id than its neighbors ...
    for i, m in server.close_round().items():
        server.receive(i, clients[i].handle(m))
    # ... so no one can open what the other side sealed: each client accuses the
    # neighbors it cannot decrypt, is left with fewer than t = 3 usable ones, and aborts.
    failures = []
    for i, m in server.close_round().items():
        try:
            clients[i].handle(m)
        except secagg.ThresholdError as e:
            failures.append(i)
            assert e.variant == "TooFewNeighbors"
    assert failures == [0, 1, 2, 3]


@pytest.mark.parametrize("threat", ["semi-honest", "malicious"])
def test_every_party_stored_and_restored_between_messages(threat):
    n, d = 10, 300
    kw = {}
    keys = None
    if threat == "malicious":
        pairs = [secagg.signing_keypair() for _ in range(n)]
        keys = [p[0] for p in pairs]
        kw = {"verifying_keys": [p[1] for p in pairs]}
    cfg = secagg.Config(n, d, degree=8, threshold=5, threat=threat, max_weight=10, **kw)
    xs = inputs(n, d, 11, np.float32)
    ws = list(range(1, n + 1))
    drop = {1: "ShareKeys", 6: "MaskedInputCollection", 8: "Unmasking"}
    server, clients = run_session(cfg, xs, drop, weights=ws, signing_keys=keys, restore=True)
    agg = server.result()
    assert agg.included == [0, 2, 3, 4, 5, 7, 8, 9]
    assert agg.total_weight == sum(ws[i] for i in agg.included)
    check_sum(agg, xs, 1.0, ws)
    done = [i for i in range(n) if i not in drop]
    assert all(clients[i].completed and clients[i].clipped is None for i in done)


def test_state_errors():
    n, d = 4, 8
    cfg = secagg.Config(n, d, threshold=3, context=b"a")
    other = secagg.Config(n, d, threshold=3, context=b"b")
    c = secagg.Client(cfg, 0, np.zeros(d))
    state = c.to_bytes()
    restored = secagg.Client.from_bytes(cfg, state)
    assert restored.state == "KeysAdvertised" and restored.id == 0
    with pytest.raises(secagg.MisuseError) as e:
        restored.start()
    assert e.value.variant == "Restored"
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Client.from_bytes(other, state)
    assert e.value.variant == "StateSessionMismatch"
    for bad in (b"", state[:-1], state + b"\x00", b"\x01\xf1" + state[2:]):
        with pytest.raises(secagg.EncodingError):
            secagg.Client.from_bytes(cfg, bad)
    s = secagg.Server(cfg)
    with pytest.raises(secagg.MisuseError) as e:
        secagg.Server.from_bytes(other, s.to_bytes())
    assert e.value.variant == "StateSessionMismatch"
    with pytest.raises(secagg.EncodingError):
        secagg.Server.from_bytes(cfg, state)  # a client state is not a server state
    # An aborted client has no state worth storing.
    others = [secagg.Client(cfg, i, np.zeros(d)) for i in range(1, n)]
    s.receive(0, c.start())
    for i, o in enumerate(others, start=1):
        s.receive(i, o.start())
    key_list = s.close_round()[0]
    c.handle(key_list)
    with pytest.raises(secagg.SecAggError):
        c.handle(key_list)  # out of order: aborts
    with pytest.raises(secagg.MisuseError) as e:
        c.to_bytes()
    assert e.value.variant == "AlreadyAborted"


def _masked_input_of_client_0(cfg, xs, deferred=False):
    """Client 0's masked-input message (round 2) in a session with fixed seeds; its input
    given to the constructor or (``deferred``) with provide_input."""
    clients = [secagg.Client(cfg, i, None if deferred and i == 0 else xs[i],
                             seed=bytes([i + 1]) * 32) for i in range(cfg.n)]
    if deferred:
        clients[0].provide_input(xs[0])
    server = secagg.Server(cfg)
    inbox = {i: c.start() for i, c in enumerate(clients)}
    for _ in range(2):  # AdvertiseKeys, then ShareKeys: the replies are the masked inputs
        for i, m in inbox.items():
            server.receive(i, m)
        inbox = {i: clients[i].handle(m) for i, m in server.close_round().items()}
    assert server.round == "MaskedInputCollection"
    return inbox[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_memory_order_is_read_in_c_order(dtype):
    """A Fortran-ordered or strided input is the vector of its C-ordered copy: the same
    masked input, byte for byte, and the plaintext sum (a Fortran-ordered array was once
    read in memory order)."""
    cfg = secagg.Config(4, 12, threshold=3, clip=1.0, bits=16)
    base = np.random.default_rng(5).uniform(-1, 1, (3, 4)).astype(dtype)
    forms = [base, np.asfortranarray(base), np.repeat(base, 2, axis=1)[:, ::2]]
    assert not forms[1].flags.c_contiguous and not forms[2].flags.c_contiguous
    others = inputs(3, 12, seed=6, dtype=dtype)
    for deferred in (False, True):  # (the two draw in another order: other bytes)
        msgs = {_masked_input_of_client_0(cfg, [x] + others, deferred) for x in forms}
        assert len(msgs) == 1
    for x in forms:
        server, _ = run_session(cfg, [x] * 4)
        check_sum(server.result(), [base.ravel()] * 4, clip=1.0)
