#!/usr/bin/env python3
"""Generates tests/vectors/net.json: what `secagg serve` / `secagg client` derive from the
session flags (docs/networking.md, "Session flags and the session id"): the labelled
hashes H(label, extra), the demo signing keys and their verifying keys, the demo inputs
(f64) and their ring words, and the session id of a malicious networked session; and
(docs/networking.md, "Client authentication") a roster of four keys with its file text,
digest and the session ids it gives in both models, a key file, and one hello exchange
byte for byte: the challenge frame, the signed transcript, the signature and the hello
frame.

Nothing here calls secagg: H is transcribed from docs/networking.md, the word stream
(ChaCha20, RFC 8439's block function with a 64-bit counter and a zero nonce) from
docs/protocol.md ("Neighbor graph", step 3), the quantization from
docs/float-encoding.md ("Encoding"), the context and session-id preimage from
gen_session.py's transcription of the documents, Ed25519 public keys from
gen_signatures.py's RFC 8032 (public keys and signatures; Ed25519 signing is
deterministic, so the signature bytes are exact).

Run from the repository root:  python3 secagg/tests/vectors/gen_net.py
(standard library only; CI only reads the committed JSON).
"""

import hashlib
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_session import float_context, min_ring_bits, net_caller_context, net_derived, preimage  # noqa: E402
from gen_signatures import public_key, sign  # noqa: E402

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def u32be(x):
    return struct.pack(">I", x)


# ---- ChaCha20 word stream (docs/protocol.md, "Neighbor graph", step 3) ----------------

def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & 0xFFFFFFFF


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key, counter):
    """64 keystream bytes: 20 rounds, 64-bit block counter (words 12-13), nonce 0."""
    const = struct.unpack("<4I", b"expand 32-byte k")
    state = list(const) + list(struct.unpack("<8I", key)) + [
        counter & 0xFFFFFFFF, counter >> 32, 0, 0]
    w = state[:]
    for _ in range(10):
        _quarter(w, 0, 4, 8, 12)
        _quarter(w, 1, 5, 9, 13)
        _quarter(w, 2, 6, 10, 14)
        _quarter(w, 3, 7, 11, 15)
        _quarter(w, 0, 5, 10, 15)
        _quarter(w, 1, 6, 11, 12)
        _quarter(w, 2, 7, 8, 13)
        _quarter(w, 3, 4, 9, 14)
    return struct.pack("<16I", *[(a + b) & 0xFFFFFFFF for a, b in zip(w, state)])


# RFC 8439 2.3.2's block (key 00..1f, counter 1, nonce 000000090000004a00000000) fixes
# the word layout; our nonce is zero, so check the zero-nonce keystream of RFC 8439
# A.1, test vector 1 (key 0, counter 0) instead.
assert chacha20_block(bytes(32), 0).hex().startswith("76b8e0ada0f13d90405d6ae55386bd28")


def words(key):
    """The little-endian u64 words of the keystream under key."""
    counter = 0
    while True:
        block = chacha20_block(key, counter)
        counter += 1
        for i in range(8):
            yield struct.unpack("<Q", block[8 * i:8 * i + 8])[0]


# ---- docs/networking.md --------------------------------------------------------------

SEED = "secagg-demo"
N, DIM, CLIP, BITS = 4, 5, 1.0, 16


def demo_floats(i, dim, clip):
    w = words(net_derived(b"demo-input", SEED, u32be(i)))
    out = []
    for _ in range(dim):
        u = (next(w) >> 11) * 2.0**-53
        out.append((2.0 * u - 1.0) * clip)
    return out


def quantize(xs, i, clip, bits):
    """docs/float-encoding.md, "Encoding", stochastic rounding, unweighted."""
    m = 2**bits - 1
    s = float(m) / (2.0 * clip)
    w = words(net_derived(b"demo-rounding", SEED, u32be(i)))
    out = []
    for x in xs:
        assert math.isfinite(x)
        xt = -clip if x < -clip else clip if x > clip else x
        v = float(m) if xt == clip else min((xt + clip) * s, float(m))
        u = (next(w) >> 11) * 2.0**-53
        fl = math.floor(v)
        out.append(int(fl) + (1 if u < v - fl else 0))
    return out


TRANSPORT_VERSION = 2
HELLO_LABEL = b"secagg-net/2 hello"
KIND_HELLO, KIND_CHALLENGE = 0x01, 0x04
KEY_FILE_TAG = "secagg-ed25519-secret-key"


def frame(kind, body):
    """docs/networking.md, "Framing": u32be(L) || type || body, L = 1 + len(body)."""
    return u32be(1 + len(body)) + bytes([kind]) + body


def roster_digest(keys):
    """docs/networking.md, "Client authentication": the roster's digest."""
    return hashlib.sha256(
        b"secagg-net/1\x00roster\x00" + struct.pack(">Q", len(keys)) + b"".join(keys)
    ).digest()


def roster_section():
    # Four keys whose secrets are SHA-256("net.json roster key" || u32be(i)).
    secrets = [hashlib.sha256(b"net.json roster key" + u32be(i)).digest() for i in range(N)]
    keys = [public_key(x) for x in secrets]
    text = "".join(f"{i} {k.hex()}\n" for i, k in enumerate(keys))
    digest = roster_digest(keys)
    caller = net_caller_context(SEED) + digest
    context = float_context(CLIP, BITS, None, "stochastic", caller)
    deg = N - 1
    t = min(2 * deg // 3 + 1, deg)
    ring_bits = min_ring_bits(BITS, N, None)
    vectors = [("", DIM, ring_bits)]
    sessions = {}
    for threat, listed in [("semi-honest", []), ("malicious", keys)]:
        pre = preimage(N, t, None, threat, vectors, listed, context)
        sessions[threat] = {"preimage": pre.hex(), "session_id": hashlib.sha256(pre).hexdigest()}
    # One hello exchange in the semi-honest session: client 2, challenge 00 01 .. 1f.
    sid = hashlib.sha256(preimage(N, t, None, "semi-honest", vectors, [], context)).digest()
    client = 2
    challenge = bytes(range(32))
    challenge_body = bytes([TRANSPORT_VERSION]) + challenge
    # Plain TCP: the channel binding is 32 zero bytes (TLS: the connection's exporter).
    binding = bytes(32)
    transcript = HELLO_LABEL + b"\x00" + challenge + binding + sid + u32be(client)
    signature = sign(secrets[client], transcript)
    hello_body = bytes([TRANSPORT_VERSION]) + u32be(client) + sid + signature
    return {
        "flags": f"--clients {N} --dim {DIM} --seed {SEED} --roster FILE [--malicious]",
        "secret_keys": [x.hex() for x in secrets],
        "verifying_keys": [k.hex() for k in keys],
        "roster_text": text,
        "key_file_2": f"{KEY_FILE_TAG} {secrets[2].hex()}\n",
        "digest": digest.hex(),
        "caller_context": caller.hex(),
        "context": context.hex(),
        "semi_honest": sessions["semi-honest"],
        "malicious": sessions["malicious"],
        "hello": {
            "session": "semi_honest",
            "client": client,
            "challenge": challenge.hex(),
            "challenge_frame": frame(KIND_CHALLENGE, challenge_body).hex(),
            "channel_binding": binding.hex(),
            "transcript": transcript.hex(),
            "signature": signature.hex(),
            "hello_body": hello_body.hex(),
            "hello_frame": frame(KIND_HELLO, hello_body).hex(),
        },
    }


def main():
    derived = {"graph": net_derived(b"graph", SEED).hex()}
    for i in range(N):
        derived[f"signing-key {i}"] = net_derived(b"signing-key", SEED, u32be(i)).hex()
        derived[f"demo-input {i}"] = net_derived(b"demo-input", SEED, u32be(i)).hex()
        derived[f"demo-rounding {i}"] = net_derived(b"demo-rounding", SEED, u32be(i)).hex()
    seeds = [net_derived(b"signing-key", SEED, u32be(i)) for i in range(N)]
    keys = [public_key(s) for s in seeds]
    # --clients 4 --dim 5 --malicious: complete graph, deg = 3, t = min(2*3//3 + 1, 3) = 3.
    deg = N - 1
    t = min(2 * deg // 3 + 1, deg)
    ring_bits = min_ring_bits(BITS, N, None)
    caller = net_caller_context(SEED)
    context = float_context(CLIP, BITS, None, "stochastic", caller)
    pre = preimage(N, t, None, "malicious", [("", DIM, ring_bits)], keys, context)
    demo = []
    for i in range(N):
        xs = demo_floats(i, DIM, CLIP)
        demo.append({
            "id": i,
            "floats": xs,
            "float_bits": [struct.pack(">d", x).hex() for x in xs],
            "words": quantize(xs, i, CLIP, BITS),
        })
    doc = {
        "about": "Values the networked server and client derive from the session flags "
        "(docs/networking.md); generated by gen_net.py.",
        "seed": SEED,
        "H": derived,
        "session": {
            "flags": f"--clients {N} --dim {DIM} --malicious --seed {SEED}",
            "n": N, "dim": DIM, "threshold": t, "clip": CLIP, "quant_bits": BITS,
            "ring_bits": ring_bits,
            "signing_key_seeds": [s.hex() for s in seeds],
            "verifying_keys": [k.hex() for k in keys],
            "caller_context": caller.hex(),
            "context": context.hex(),
            "preimage": pre.hex(),
            "session_id": hashlib.sha256(pre).hexdigest(),
        },
        "demo": demo,
        "roster": roster_section(),
    }
    with open(os.path.join(OUT_DIR, "net.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
