"""The bindings build their sessions through the Rust float session (secagg::session):
the parameters of secagg/tests/vectors/session.json, generated independently from
docs/float-encoding.md and docs/protocol.md, give its session ids here too."""

import json
import pathlib

import pytest

import secagg

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "secagg" / "tests" / "vectors" / "session.json"


def cases():
    tests = json.loads(VECTORS.read_text())["tests"]
    # The bindings carry one unnamed vector per session.
    return [
        t for t in tests
        if t["result"] == "valid" and len(t["vectors"]) == 1 and t["vectors"][0]["name"] == ""
        and "dp" not in t  # the DP sessions' ids: test_dp.py
    ]


def config_of(t):
    kwargs = dict(
        clip=t["clip"],
        bits=t["bits"],
        max_weight=t["max_weight"],
        rounding=t["rounding"],
        ring_bits=t["ring_bits_given"],
        graph_seed=bytes.fromhex(t["graph_seed"]),
        context=bytes.fromhex(t["caller_context"]),
        threat=t["threat"],
    )
    if t["graph"] == "complete":
        kwargs["threshold"] = t["threshold"]
    elif t["graph"] == "harary":
        kwargs.update(threshold=t["threshold"], degree=t["degree"])
    else:  # find_params chooses
        kwargs.update(dropout=t["dropout"], corrupt=t["corrupt"])
    if t["threat"] == "malicious":
        kwargs["verifying_keys"] = [bytes.fromhex(k) for k in t["verifying_keys"]]
    return secagg.Config(t["n"], t["vectors"][0]["dim"], **kwargs)


def test_the_vectors_cover_every_graph_choice():
    assert {t["graph"] for t in cases()} == {"complete", "harary", "finder"}


@pytest.mark.parametrize("t", cases(), ids=lambda t: t["name"])
def test_known_answer_session_id(t):
    cfg = config_of(t)
    assert cfg.session_id.hex() == t["session_id"]
    assert cfg.threshold == t["threshold"]
    assert cfg.degree == (None if t["degree"] >= t["n"] - 1 else t["degree"])
    assert cfg.to_dict()["ring_bits"] == t["ring_bits"]
    # The dictionary the server sends the clients rebuilds the same session.
    assert secagg.Config(**cfg.to_dict()).session_id == cfg.session_id


def test_a_degree_of_n_minus_1_is_the_complete_graph():
    a = secagg.Config(6, 3, threshold=4)
    b = secagg.Config(6, 3, threshold=4, degree=5)
    assert a.session_id == b.session_id and b.degree is None
