#!/usr/bin/env python3
"""Generates tests/vectors/session.json: float-session contexts and session ids.

Nothing here calls secagg: the context is transcribed from docs/float-encoding.md
("Sessions"), the session-id preimage from docs/protocol.md ("Configuration and session
id"), the narrowest safe ring from docs/float-encoding.md ("Overflow condition"), and
Ed25519 public keys (for the malicious case) from RFC 8032 section 5.1.5, written out
over Python integers and hashlib (gen_signatures.py's transcription, shared). A mismatch between this file and the Rust code means
the code and the documents disagree.

Run from the repository root:  python3 secagg/tests/vectors/gen_session.py
(standard library only; CI only reads the committed JSON).
"""

import hashlib
import hmac
import json
import math
import os
import struct
import sys
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_signatures  # noqa: E402

VERSION = 3  # PROTOCOL_VERSION
SESSION_ID_LABEL = b"secagg/session-id"
FLOAT_LABEL = b"secagg-float/1"

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def u8(x):
    return struct.pack(">B", x)


def u16(x):
    return struct.pack(">H", x)


def u32(x):
    return struct.pack(">I", x)


def u64(x):
    return struct.pack(">Q", x)


# ---- Ed25519 public keys, RFC 8032 5.1.5 ----------------------------------------------
# gen_signatures.py's transcription (curve arithmetic, encoding, key expansion), checked
# here against RFC 8032 7.1, test 1.

ed25519_public_key = gen_signatures.public_key

assert ed25519_public_key(
    bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


# ---- docs/float-encoding.md ----------------------------------------------------------

def min_ring_bits(bits, n, max_weight):
    """Bit length of n * W * (2^q - 1) (W = 1 unweighted)."""
    return (n * (max_weight or 1) * (2**bits - 1)).bit_length()


def float_context(clip, bits, max_weight, rounding, caller, dp=None):
    return (
        FLOAT_LABEL
        + b"\x00"
        + struct.pack(">d", clip)  # the IEEE 754 bits of the f64, big-endian
        + u8(bits)
        + u64(max_weight or 0)
        + u8({"stochastic": 0, "deterministic": 1}[rounding])
        + (u8(0) if dp is None else u8(dp["transform"]) + dp["bytes"])
        + caller
    )


# ---- docs/differential-privacy.md, "Pipeline" (the DP session's numbers) --------------

DEFAULT_BETA = math.exp(-0.5)
ROTATION_LABEL = b"secagg/dp-rotation"


def next_pow2(d):
    return 1 << max(0, (d - 1).bit_length())


def dp_params(c):
    """What both sides of a DP session compute: the padded lengths, B = floor(Delta_2^2),
    the exact per-client variance, the ring, and the context bytes after the header."""
    dp = c["dp"]
    n = c["n"]
    steps = 2.0 ** (c["bits"] - 1)  # c / gamma
    padded = [next_pow2(d) for _, d in c["vectors"]]
    l_tot, l_min = sum(padded), min(padded)
    beta, k = dp["beta"], dp["k_stddevs"]
    a = steps * steps + l_tot / 4.0 + math.sqrt(2.0 * math.log(1.0 / beta)) * (
        steps + math.sqrt(l_tot) / 2.0
    )
    b = (steps + math.sqrt(l_tot)) ** 2
    norm_bound_sq = math.floor(min(a, b))
    delta2 = math.sqrt(float(norm_bound_sq))
    m, coll = dp["min_survivors"], dp["colluding"]
    z = dp["noise_multiplier"]
    v = Fraction(z * z * steps * steps / (m - coll))
    # The cases use variances with small denominators, which the crate takes exactly.
    assert v.denominator <= 2**20, v
    variance = v.numerator / v.denominator
    nf = float(n)
    noise_sd = math.sqrt(nf * variance)
    half = min(
        k * math.sqrt(nf * nf * delta2 * delta2 / l_min + nf * variance),
        nf * delta2 + k * noise_sd,
    )
    ring_bits = 1
    while 2.0 ** (ring_bits - 1) < half + 1.0:
        ring_bits += 1
    body = (
        u8(1)  # rotation: Walsh-Hadamard, signs from the session id
        + u64(v.numerator)
        + u64(v.denominator)
        + struct.pack(">d", beta)
        + u64(norm_bound_sq)
        + struct.pack(">d", k)
        + u64(m)
        + u64(coll)
        + struct.pack(">d", dp["delta"])
    )
    return {
        "transform": {"ddg": 1, "skellam": 2}[dp["mechanism"]],
        "bytes": body,
        "padded": padded,
        "ring_bits": ring_bits,
        "norm_bound_sq": norm_bound_sq,
        "variance": [v.numerator, v.denominator],
    }


def hkdf_sha256(ikm, info, length):
    prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def rotation_seed(session_id, index, name):
    name = name.encode()
    info = ROTATION_LABEL + b"\x00" + u8(VERSION) + u32(index) + u16(len(name)) + name
    return hkdf_sha256(session_id, info, 32)


# ---- docs/protocol.md ----------------------------------------------------------------

def preimage(n, t, graph, threat, vectors, keys, context):
    out = SESSION_ID_LABEL + b"\x00" + u8(VERSION) + u64(n) + u64(t)
    if graph is None:
        out += u8(0)
    else:
        degree, seed = graph
        out += u8(1) + u64(degree) + seed
    out += u8({"semi-honest": 0, "malicious": 1}[threat])
    out += u16(len(vectors))
    for name, dim, ring_bits in vectors:
        name = name.encode()
        out += u16(len(name)) + name + u32(dim) + u8(0) + u32(ring_bits)
    out += u32(len(keys)) + b"".join(keys)
    out += u64(len(context)) + context
    return out


# ---- the cases -----------------------------------------------------------------------

CASES = [
    {
        # SecAgg: the complete graph, an explicit threshold, the default ring.
        "name": "complete",
        "n": 5,
        "vectors": [["", 10]],
        "clip": 1.0,
        "bits": 16,
        "max_weight": None,
        "rounding": "stochastic",
        "graph": "complete",
        "degree": 4,
        "threshold": 3,
        "ring_bits": None,
        "threat": "semi-honest",
        "graph_seed": bytes(32),
        "caller_context": b"model v3, round 17",
    },
    {
        # SecAgg+: a Harary graph, weighted, deterministic rounding, an explicit ring.
        "name": "harary-weighted",
        "n": 10,
        "vectors": [["", 7]],
        "clip": 0.5,
        "bits": 12,
        "max_weight": 1000,
        "rounding": "deterministic",
        "graph": "harary",
        "degree": 4,
        "threshold": 3,
        "ring_bits": 32,
        "threat": "semi-honest",
        "graph_seed": bytes(range(32)),
        "caller_context": b"",
    },
    {
        # The malicious model with two named vectors.
        "name": "malicious-named",
        "n": 4,
        "vectors": [["dense", 6], ["bias", 2]],
        "clip": 2.0,
        "bits": 8,
        "max_weight": None,
        "rounding": "stochastic",
        "graph": "complete",
        "degree": 3,
        "threshold": 3,
        "ring_bits": None,
        "threat": "malicious",
        "graph_seed": bytes(32),
        "caller_context": b"ctx",
        "signing_key_seeds": [bytes([i + 1]) * 32 for i in range(4)],
    },
    {
        # Degree and threshold left to the parameter finder (drop-out and corrupt rates
        # 0.1, sigma 40, eta 20): what find_params picks is pinned here, and the Rust
        # test checks that it still picks it.
        "name": "finder",
        "n": 100,
        "vectors": [["", 1000]],
        "clip": 1.0,
        "bits": 16,
        "max_weight": None,
        "rounding": "stochastic",
        "graph": "finder",
        "dropout": 0.1,
        "corrupt": 0.1,
        "degree": None,  # filled in below (FINDER)
        "threshold": None,
        "ring_bits": None,
        "threat": "semi-honest",
        "graph_seed": bytes([7]) * 32,
        "caller_context": b"finder",
    },
]

# ---- docs/networking.md: what `secagg serve` / `secagg client` hand the float session --

NET_LABEL = b"secagg-net/1"


def net_caller_context(seed):
    seed = seed.encode()
    return NET_LABEL + b"\x00" + u64(len(seed)) + seed


def net_derived(label, seed, extra=b""):
    seed = seed.encode()
    return hashlib.sha256(
        NET_LABEL + b"\x00" + label + b"\x00" + u64(len(seed)) + seed + extra
    ).digest()


CASES.append(
    {
        # `--clients 10 --dim 7 --degree 4` (default threshold floor(2*4/3) + 1 = 3,
        # 16 bits, clip 1.0, the narrowest ring, seed "secagg-demo").
        "name": "net-harary",
        "net_seed": "secagg-demo",
        "n": 10,
        "vectors": [["", 7]],
        "clip": 1.0,
        "bits": 16,
        "max_weight": None,
        "rounding": "stochastic",
        "graph": "harary",
        "degree": 4,
        "threshold": 3,
        "ring_bits": None,
        "threat": "semi-honest",
        "graph_seed": net_derived(b"graph", "secagg-demo"),
        "caller_context": net_caller_context("secagg-demo"),
    }
)

CASES += [
    {
        # Distributed DP (discrete Gaussian), noise multiplier 1, the noise calibrated
        # for 8 survivors and no colluding client: sigma^2 = 512^2 / 8 = 2^15 exactly;
        # d = 50 is padded to 64; the ring is the narrowest that holds the noised sum.
        "name": "dp-ddg",
        "n": 10,
        "vectors": [["", 50]],
        "clip": 2.0,
        "bits": 10,
        "max_weight": None,
        "rounding": "stochastic",
        "graph": "complete",
        "degree": 9,
        "threshold": 6,
        "ring_bits": None,
        "threat": "semi-honest",
        "graph_seed": bytes(32),
        "caller_context": b"dp round 3",
        "dp": {
            "mechanism": "ddg",
            "noise_multiplier": 1.0,
            "delta": 1e-5,
            "beta": DEFAULT_BETA,
            "k_stddevs": 4.0,
            "min_survivors": 8,
            "colluding": 0,
        },
    },
    {
        # Distributed Skellam over two named vectors (7 -> 8 and 3 -> 4 coordinates,
        # each with its own rotation), z = 2, 6 survivors of which 2 colluding:
        # sigma^2 = 4 * 2048^2 / 4 = 2^22, beta 0.5, k = 3, delta 1e-6.
        "name": "dp-skellam-named",
        "n": 8,
        "vectors": [["w", 7], ["b", 3]],
        "clip": 0.5,
        "bits": 12,
        "max_weight": None,
        "rounding": "stochastic",
        "graph": "harary",
        "degree": 4,
        "threshold": 3,
        "ring_bits": None,
        "threat": "semi-honest",
        "graph_seed": bytes([3]) * 32,
        "caller_context": b"",
        "dp": {
            "mechanism": "skellam",
            "noise_multiplier": 2.0,
            "delta": 1e-6,
            "beta": 0.5,
            "k_stddevs": 3.0,
            "min_survivors": 6,
            "colluding": 2,
        },
    },
]

# find_params(n = 100, dropout 0.1, corrupt 0.1, semi-honest, sigma 40, eta 20).
FINDER = {"degree": 22, "threshold": 11}


# Parameter sets every party must refuse, each a change to one of the cases above, with
# the error the documents name for it.
INVALID = [
    # 5 * (2^16 - 1) needs 19 bits (docs/float-encoding.md, "Overflow condition").
    ("complete", {"ring_bits": 18}, "RingTooNarrow"),
    # 1000 * 10 * (2^12 - 1) needs 26 bits: 25 cannot hold the weighted sum.
    ("harary-weighted", {"ring_bits": 25}, "RingTooNarrow"),
    # The threshold cannot exceed the degree (docs/protocol.md, "Configuration").
    ("harary-weighted", {"threshold": 5}, "InvalidThreshold"),
    # The malicious model needs one verifying key per client.
    ("malicious-named", {"signing_key_seeds": [bytes([i + 1]) * 32 for i in range(3)]},
     "VerifyingKeyCount"),
    # Vector names are distinct.
    ("malicious-named", {"vectors": [["dense", 6], ["dense", 2]]}, "DuplicateVectorName"),
    # The clip bound is in [2^-512, 2^512] (docs/float-encoding.md, "Parameters").
    ("complete", {"clip": 0.0}, "InvalidQuantParam"),
    # bits is in 1..=53.
    ("complete", {"bits": 54, "ring_bits": 64}, "InvalidQuantParam"),
    # A ring one bit narrower than the DP noise needs (docs/differential-privacy.md).
    ("dp-ddg", {"ring_bits": "needed - 1"}, "RingTooNarrowForNoise"),
    # Weights are refused with DP.
    ("dp-ddg", {"max_weight": 5}, "InvalidParameter"),
]


def invalid_json(tc_id, base, change, error):
    c = dict(next(c for c in CASES if c["name"] == base), **change)
    if c["ring_bits"] == "needed - 1":
        c["ring_bits"] = dp_params(c)["ring_bits"] - 1
    out = {
        "tcId": tc_id,
        "name": f"{base}: {', '.join(sorted(change))} changed",
        "result": "invalid",
        "error": error,
    }
    out.update(params_json(c))
    return out


def params_json(c):
    seeds = c.get("signing_key_seeds", [])
    out = {
        "n": c["n"],
        "vectors": [{"name": name, "dim": d} for name, d in c["vectors"]],
        "clip": c["clip"],
        "bits": c["bits"],
        "max_weight": c["max_weight"],
        "rounding": c["rounding"],
        "graph": c["graph"],
        "degree": c["degree"],
        "threshold": c["threshold"],
        "ring_bits_given": c["ring_bits"],
        "threat": c["threat"],
        "graph_seed": c["graph_seed"].hex(),
        "signing_key_seeds": [s.hex() for s in seeds],
        "verifying_keys": [ed25519_public_key(s).hex() for s in seeds],
        "caller_context": c["caller_context"].hex(),
    }
    if c["graph"] == "finder":
        out["dropout"] = c["dropout"]
        out["corrupt"] = c["corrupt"]
    if "dp" in c:
        out["dp"] = c["dp"]
    return out


def case_json(tc_id, c):
    if c["graph"] == "finder":
        c = dict(c, degree=FINDER["degree"], threshold=FINDER["threshold"])
    n, k, t = c["n"], c["degree"], c["threshold"]
    dp = dp_params(c) if "dp" in c else None
    if dp is not None:
        ring_bits = c["ring_bits"] or dp["ring_bits"]
        vectors = [(name, l, ring_bits) for (name, _), l in zip(c["vectors"], dp["padded"])]
    else:
        ring_bits = c["ring_bits"] or min_ring_bits(c["bits"], n, c["max_weight"])
        weighted = c["max_weight"] is not None
        vectors = [(name, d + int(weighted), ring_bits) for name, d in c["vectors"]]
    graph = None if k >= n - 1 else (k, c["graph_seed"])
    seeds = c.get("signing_key_seeds", [])
    keys = [ed25519_public_key(s) for s in seeds]
    context = float_context(
        c["clip"], c["bits"], c["max_weight"], c["rounding"], c["caller_context"], dp
    )
    pre = preimage(n, t, graph, c["threat"], vectors, keys, context)
    out = {"tcId": tc_id, "name": c["name"], "result": "valid"}
    if "net_seed" in c:
        out["net_seed"] = c["net_seed"]
    out.update(params_json(c))
    out.update(
        {
            "ring_bits": ring_bits,
            "context": context.hex(),
            "preimage": pre.hex(),
            "session_id": hashlib.sha256(pre).hexdigest(),
        }
    )
    if dp is not None:
        sid = hashlib.sha256(pre).digest()
        out["dp_padded"] = dp["padded"]
        out["dp_norm_bound_sq"] = dp["norm_bound_sq"]
        out["dp_variance"] = dp["variance"]
        out["dp_rotation_seeds"] = [
            rotation_seed(sid, i, name).hex() for i, (name, _) in enumerate(c["vectors"])
        ]
    return out


def main():
    doc = {
        "about": "Float-session context bytes, session-id preimages and session ids "
        "(docs/float-encoding.md, docs/protocol.md); generated by gen_session.py.",
        "context_label": FLOAT_LABEL.decode(),
        "tests": [case_json(i + 1, c) for i, c in enumerate(CASES)]
        + [invalid_json(len(CASES) + i + 1, *x) for i, x in enumerate(INVALID)],
    }
    with open(os.path.join(OUT_DIR, "session.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
