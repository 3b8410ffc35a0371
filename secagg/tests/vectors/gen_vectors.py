#!/usr/bin/env python3
"""Generates tests/vectors/{kdf,aead,shamir}.json for secagg, independently of secagg.

Nothing here calls secagg: HKDF-SHA256 is RFC 5869 written out over Python's hmac and
hashlib, X25519 and AES-256-GCM come from pyca/cryptography (OpenSSL), and Shamir
shares are evaluated with Python integers modulo l. The derivations are transcribed
from docs/primitives.md, so a mismatch between these files and the Rust code means the
code and the document disagree.

Run from the repository root:  python3 tests/vectors/gen_vectors.py
(needs the `cryptography` package; CI only reads the committed JSON).
"""

import hashlib
import hmac
import itertools
import json
import os
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 3  # PROTOCOL_VERSION
L = 2**252 + 27742317777372353535851937790883648493  # order of curve25519-dalek's Scalar
MAX_POINT = 2**32  # eval_point(u32::MAX)

LABELS = {
    "share_key": b"secagg/share-encryption",
    "pairwise_mask_seed": b"secagg/pairwise-mask",
    "self_mask_seed": b"secagg/self-mask",
}
OUT_LEN = {"share_key": 32, "pairwise_mask_seed": 16, "self_mask_seed": 16}

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


def sha256(s):
    return hashlib.sha256(s).digest()


# ---- HKDF-SHA256, RFC 5869 ----------------------------------------------------------

def hkdf_sha256(salt, ikm, info, length):
    if salt is None:
        salt = bytes(32)  # "not provided": HashLen zero bytes
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


# RFC 5869 test case 1, to check this transcription.
assert hkdf_sha256(bytes(range(13)), b"\x0b" * 22, bytes(range(0xF0, 0xFA)), 42).hex() == (
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
)


def info(label, sid, id_a, id_b, name, version=VERSION, terminator=b"\x00", ids=">II"):
    """version=None leaves the version byte out (for a wrong-derivation vector)."""
    return (
        label
        + terminator
        + (bytes([version]) if version is not None else b"")
        + sid
        + struct.pack(ids, id_a, id_b)
        + struct.pack(">H", len(name))
        + name
    )


def ids_for(function, t):
    if function == "share_key":
        return t["sender"], t["receiver"]
    if function == "pairwise_mask_seed":
        return min(t["u"], t["v"]), max(t["u"], t["v"])
    return t["u"], t["u"]


# ---- X25519 (OpenSSL through pyca/cryptography) --------------------------------------

def x25519(sk, pk):
    """The shared secret, or None when OpenSSL refuses an all-zero result."""
    try:
        return X25519PrivateKey.from_private_bytes(sk).exchange(
            X25519PublicKey.from_public_bytes(pk)
        )
    except ValueError:
        return None


def x25519_public(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


# RFC 7748 section 6.1.
ALICE_SK = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
BOB_SK = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PK = x25519_public(BOB_SK)
assert BOB_PK.hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
assert x25519(ALICE_SK, BOB_PK).hex() == (
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
)
# A second pair whose secret keys are canonical scalars, as secagg generates them.
CAROL_SK = (int.from_bytes(sha256(b"secagg/test-vectors/carol"), "little") % L).to_bytes(32, "little")
DAVE_SK = (int.from_bytes(sha256(b"secagg/test-vectors/dave"), "little") % L).to_bytes(32, "little")
DAVE_PK = x25519_public(DAVE_SK)
# A point of order 8 (Wycheproof x25519 / libsodium blocklist).
LOW_ORDER_PK = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
assert x25519(ALICE_SK, LOW_ORDER_PK) is None

SID1 = sha256(b"secagg/test-vectors/session-1")
SID2 = sha256(b"secagg/test-vectors/session-2")
B_U = (int.from_bytes(sha256(b"secagg/test-vectors/b_u"), "little") % L).to_bytes(32, "little")


# ---- kdf.json -----------------------------------------------------------------------

def kdf_vectors():
    tests = []

    def add(function, comment, result="valid", error=None, wrong=None, **t):
        t = dict(t)
        name = bytes.fromhex(t.get("name", ""))
        if "name_repeat" in t:
            byte, count = t["name_repeat"]
            name = bytes([byte]) * count
        if function == "self_mask_seed":
            ikm = bytes.fromhex(t["b_u"])
        else:
            ikm = x25519(bytes.fromhex(t["secret_key"]), bytes.fromhex(t["public_key"]))
            t["shared_secret"] = ikm.hex() if ikm is not None else None
        entry = {"tcId": len(tests) + 1, "function": function, "comment": comment}
        entry.update(t)
        entry["result"] = result
        if result == "error":
            entry["error"] = error
        else:
            id_a, id_b = ids_for(function, t)
            label = LABELS[function]
            salt = None
            kw = {}
            if wrong == "ids-little-endian":
                kw["ids"] = "<II"
            elif wrong == "no-terminator":
                kw["terminator"] = b""
            elif wrong == "no-version":
                kw["version"] = None
            elif wrong == "label-self-mask":
                label = LABELS["self_mask_seed"]
            elif wrong == "salt-is-session-id":
                salt = bytes.fromhex(t["session_id"])
            elif wrong == "ids-unsorted":
                id_a, id_b = t["u"], t["v"]
            inf = info(label, bytes.fromhex(t["session_id"]), id_a, id_b, name, **kw)
            okm = hkdf_sha256(salt, ikm, inf, OUT_LEN[function])
            if wrong == "raw-dh-output":
                okm = ikm[: OUT_LEN[function]]
            if "name_repeat" not in t:
                entry["info"] = inf.hex()
            entry["okm"] = okm.hex()
            if wrong:
                entry["wrong_derivation"] = wrong
        tests.append(entry)

    ab = dict(secret_key=ALICE_SK.hex(), public_key=BOB_PK.hex())
    cd = dict(secret_key=CAROL_SK.hex(), public_key=DAVE_PK.hex())
    s1, s2 = SID1.hex(), SID2.hex()

    # share_key: directional, ids (sender, receiver)
    add("share_key", "RFC 7748 6.1 shared secret, sender 3 -> receiver 17", session_id=s1, sender=3, receiver=17, **ab)
    add("share_key", "same pair, other direction: a different key", session_id=s1, sender=17, receiver=3, **ab)
    add("share_key", "ids that pin big-endian byte order", session_id=s1, sender=0x01020304, receiver=0xFFFFFFFE, **ab)
    add("share_key", "canonical-scalar secret keys, other session", session_id=s2, sender=0, receiver=1, **cd)
    # pairwise_mask_seed: symmetric, ids (min, max), named
    add("pairwise_mask_seed", "u < v, unnamed vector", session_id=s1, u=3, v=17, name="", **ab)
    add("pairwise_mask_seed", "u > v gives the same seed as u < v", session_id=s1, u=17, v=3, name="", **ab)
    add("pairwise_mask_seed", "named vector 'weights'", session_id=s1, u=3, v=17, name=b"weights".hex(), **ab)
    add("pairwise_mask_seed", "name of maximal length 65535 ('a' repeated)", session_id=s1, u=3, v=17, name_repeat=[0x61, 65535], **ab)
    add("pairwise_mask_seed", "canonical-scalar keys, extreme ids", session_id=s2, u=0xFFFFFFFF, v=0, name=b"bias".hex(), **cd)
    # self_mask_seed: ids (u, u), ikm = b_u
    add("self_mask_seed", "unnamed vector", session_id=s1, b_u=B_U.hex(), u=3, name="")
    add("self_mask_seed", "named vector 'weights'", session_id=s1, b_u=B_U.hex(), u=3, name=b"weights".hex())
    add("self_mask_seed", "largest id, other session", session_id=s2, b_u=B_U.hex(), u=0xFFFFFFFF, name="")
    add("self_mask_seed", "b_u = 0 is a valid scalar", session_id=s1, b_u=bytes(32).hex(), u=0, name="")
    add("self_mask_seed", "b_u = l - 1, the largest canonical scalar", session_id=s1, b_u=(L - 1).to_bytes(32, "little").hex(), u=1, name="")

    # errors
    add("pairwise_mask_seed", "name one byte too long", "error", "TooLong", session_id=s1, u=3, v=17, name_repeat=[0x61, 65536], **ab)
    add("self_mask_seed", "name one byte too long", "error", "TooLong", session_id=s1, b_u=B_U.hex(), u=3, name_repeat=[0x61, 65536])
    add("self_mask_seed", "b_u = l is not canonical", "error", "NonCanonicalScalar", session_id=s1, b_u=L.to_bytes(32, "little").hex(), u=3, name="")
    add("self_mask_seed", "b_u = 2^256 - 1 is not canonical", "error", "NonCanonicalScalar", session_id=s1, b_u="ff" * 32, u=3, name="")
    add("share_key", "peer key of order 8: all-zero shared secret", "error", "NonContributory", session_id=s1, sender=3, receiver=17, secret_key=ALICE_SK.hex(), public_key=LOW_ORDER_PK.hex())
    add("pairwise_mask_seed", "peer key 0: all-zero shared secret", "error", "NonContributory", session_id=s1, u=3, v=17, name="", secret_key=ALICE_SK.hex(), public_key=bytes(32).hex())

    # wrong derivations our code must NOT reproduce
    add("share_key", "ids little-endian", "invalid", wrong="ids-little-endian", session_id=s1, sender=3, receiver=17, **ab)
    add("share_key", "label without its 0x00 terminator", "invalid", wrong="no-terminator", session_id=s1, sender=3, receiver=17, **ab)
    add("share_key", "raw X25519 output used as the key", "invalid", wrong="raw-dh-output", session_id=s1, sender=3, receiver=17, **ab)
    add("pairwise_mask_seed", "protocol version byte left out", "invalid", wrong="no-version", session_id=s1, u=3, v=17, name="", **ab)
    add("pairwise_mask_seed", "ids in given order (17, 3), not sorted", "invalid", wrong="ids-unsorted", session_id=s1, u=17, v=3, name="", **ab)
    add("pairwise_mask_seed", "self-mask label for a pairwise seed", "invalid", wrong="label-self-mask", session_id=s1, u=3, v=3, name="", **ab)
    add("self_mask_seed", "session id as HKDF salt", "invalid", wrong="salt-is-session-id", session_id=s1, b_u=B_U.hex(), u=3, name="")

    return {
        "description": "Known answers for secagg::crypto::kdf (share_key, pairwise_mask_seed, self_mask_seed).",
        "generator": [
            "tests/vectors/gen_vectors.py, independent of secagg: HKDF-SHA256 per RFC 5869 over",
            "Python hmac/hashlib, X25519 from pyca/cryptography (OpenSSL).",
            "okm = HKDF-SHA256(salt = none (32 zero bytes), ikm, info, L); L = 32 for share_key, 16 otherwise.",
            "info = label || 0x00 || version u8 (2) || session_id [32] || id_a u32be || id_b u32be",
            "       || len(name) u16be || name.",
            "share_key: label 'secagg/share-encryption', ikm = X25519(secret_key, public_key),",
            "  (id_a, id_b) = (sender, receiver), name empty.",
            "pairwise_mask_seed: label 'secagg/pairwise-mask', ikm = X25519(secret_key, public_key),",
            "  (id_a, id_b) = (min(u, v), max(u, v)).",
            "self_mask_seed: label 'secagg/self-mask', ikm = b_u (32-byte little-endian canonical scalar),",
            "  (id_a, id_b) = (u, u).",
            "name_repeat [byte, count]: the name is `count` copies of `byte` (info omitted for size).",
        ],
        "results": {
            "valid": "the function returns okm (and kdf::info returns info)",
            "error": "the named secagg::Error variant, from the X25519 step (NonContributory), from parsing b_u (NonCanonicalScalar) or from the function (TooLong)",
            "invalid": "okm is a plausible but wrong derivation (wrong_derivation says how); the function must return something else",
        },
        "tests": tests,
    }


# ---- aead.json ----------------------------------------------------------------------

def ad_bytes(sid, rnd, sender, receiver, version=VERSION, ids=">II"):
    return bytes([version]) + sid + bytes([rnd]) + struct.pack(ids, sender, receiver)


def aead_vectors(kdf):
    tests = []
    share_key_tc1 = bytes.fromhex(kdf["tests"][0]["okm"])

    def add(comment, key, nonce, sid, rnd, sender, receiver, pt, result="valid", wrong=None, seal=None):
        """`seal` overrides associated-data fields used when sealing (an invalid vector)."""
        ad = ad_bytes(sid, rnd, sender, receiver)
        seal = seal or {}
        seal_with = ad_bytes(
            seal.get("session_id", sid),
            seal.get("round", rnd),
            seal.get("sender", sender),
            seal.get("receiver", receiver),
            seal.get("version", VERSION),
            seal.get("ids", ">II"),
        )
        sealed = nonce + AESGCM(key).encrypt(nonce, pt, seal_with)
        if wrong == "flip-tag-bit":
            sealed = sealed[:-1] + bytes([sealed[-1] ^ 0x80])
        elif wrong == "flip-nonce-bit":
            sealed = bytes([sealed[0] ^ 1]) + sealed[1:]
        elif wrong == "flip-ciphertext-bit":
            sealed = sealed[:12] + bytes([sealed[12] ^ 1]) + sealed[13:]
        elif wrong == "truncated":
            sealed = sealed[:-1]
        elif wrong == "too-short":
            sealed = sealed[:27]
        entry = {
            "tcId": len(tests) + 1,
            "comment": comment,
            "key": key.hex(),
            "session_id": sid.hex(),
            "round": rnd,
            "sender": sender,
            "receiver": receiver,
            "plaintext": pt.hex(),
            "result": result,
        }
        if result == "valid":
            entry["nonce"] = nonce.hex()
            entry["ad"] = ad.hex()
        else:
            entry["wrong"] = wrong if wrong else "sealed with associated data " + seal_with.hex()
        entry["sealed"] = sealed.hex()
        tests.append(entry)

    n1 = bytes.fromhex("000102030405060708090a0b")
    n2 = sha256(b"secagg/test-vectors/nonce-2")[:12]
    pt64 = bytes(range(64))
    k2 = sha256(b"secagg/test-vectors/aead-key-2")
    add("key = kdf.json tcId 1 (share key 3 -> 17), 64-byte plaintext", share_key_tc1, n1, SID1, 1, 3, 17, pt64)
    add("empty plaintext", share_key_tc1, n1, SID1, 1, 3, 17, b"")
    add("ids and round pin the associated-data byte order", k2, n2, SID2, 0xFE, 0x01020304, 0xFFFFFFFE, b"shares")
    add("one block plus one byte", k2, n2, SID2, 4, 0, 1, bytes(range(17)))

    add("sender and receiver swapped", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", seal=dict(sender=17, receiver=3))
    add("another round", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", seal=dict(round=2))
    add("another session", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", seal=dict(session_id=SID2))
    add("another receiver", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", seal=dict(receiver=18))
    add("another protocol version", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", seal=dict(version=1))
    add("ids little-endian in the associated data", k2, n2, SID2, 0xFE, 0x01020304, 0xFFFFFFFE, b"shares", "invalid", seal=dict(ids="<II"))
    add("tag bit flipped", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", wrong="flip-tag-bit")
    add("nonce bit flipped", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", wrong="flip-nonce-bit")
    add("ciphertext bit flipped", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", wrong="flip-ciphertext-bit")
    add("last byte cut off", share_key_tc1, n1, SID1, 1, 3, 17, pt64, "invalid", wrong="truncated")
    add("27 bytes: shorter than nonce and tag", share_key_tc1, n1, SID1, 1, 3, 17, b"", "invalid", wrong="too-short")

    return {
        "description": "Known answers for secagg::crypto::aead (seal/open with a fixed nonce).",
        "generator": [
            "tests/vectors/gen_vectors.py, independent of secagg: AES-256-GCM from pyca/cryptography (OpenSSL).",
            "ad = version u8 (2) || session_id [32] || round u8 || sender u32be || receiver u32be (42 bytes).",
            "sealed = nonce [12] || AES-256-GCM(key, nonce, plaintext, ad) (ciphertext || 16-byte tag).",
        ],
        "results": {
            "valid": "AssociatedData::to_bytes() = ad; Cipher::encrypt(nonce, ad, plaintext) = sealed[12..]; open() = plaintext",
            "invalid": "open(key, ad of the listed fields, sealed) fails with Error::Decryption (wrong says what was changed)",
        },
        "tests": tests,
    }


# ---- shamir.json --------------------------------------------------------------------

def shamir_vectors():
    tests = []

    def poly(secret, t, tag):
        coeffs = [secret] + [
            int.from_bytes(sha256(b"secagg/test-vectors/shamir/%s/%d" % (tag.encode(), i)), "little") % L
            for i in range(1, t)
        ]
        return lambda x: sum(c * pow(x, i, L) for i, c in enumerate(coeffs)) % L

    def enc(y):
        return y.to_bytes(32, "little").hex()

    def add(comment, secret, t, xs, tag, result="valid", error=None, edit=None):
        f = poly(secret, t, tag)
        shares = [[x, enc(f(x))] for x in xs]
        if edit:
            shares = edit(shares)
        entry = {"tcId": len(tests) + 1, "comment": comment, "threshold": t, "shares": shares, "result": result}
        if result == "valid":
            entry["secret"] = enc(secret)
        else:
            entry["error"] = error
        tests.append(entry)

    s1 = int.from_bytes(sha256(b"secagg/test-vectors/shamir/secret-1"), "little") % L
    add("t = 3 of n = 5 at x = id + 1 = 1..5; any 3 or more reconstruct", s1, 3, [1, 2, 3, 4, 5], "a")
    add("t = 1: every share is the secret", s1, 1, [1, 7, 9], "b")
    add("t = n = 4, scattered points", s1, 4, [2, 11, 5, 1000], "c")
    add("secret 0", 0, 2, [1, 2, 3], "d")
    add("secret l - 1", L - 1, 3, [1, 2, 3, 4], "e")
    add("largest points: 2^32 - 2, 2^32 - 1, 2^32", s1, 3, [MAX_POINT - 2, MAX_POINT - 1, MAX_POINT], "f")
    add("t = 7 of 10", s1, 7, list(range(1, 11)), "g")

    # errors (the test passes the shares as given to reconstruct(shares, threshold))
    add("t - 1 = 2 shares for t = 3", s1, 3, [1, 2], "h", "error", "NotEnoughShares")
    add("x = 0 is the secret itself", s1, 2, [0, 1, 2], "i", "error", "ZeroShareIndex")
    add("x = 2^32 + 1 is beyond the last client", s1, 2, [1, MAX_POINT + 1], "j", "error", "ShareIndexOutOfRange")
    add("duplicate x", s1, 2, [1, 2, 3], "k", "error", "DuplicateShareIndex",
        edit=lambda sh: [sh[0], sh[1], [sh[0][0], sh[2][1]]])
    add("y = l is not canonical", s1, 2, [1, 2], "l", "error", "NonCanonicalScalar",
        edit=lambda sh: [sh[0], [sh[1][0], enc(L)]])
    add("y = 2^256 - 1 is not canonical", s1, 2, [1, 2], "m", "error", "NonCanonicalScalar",
        edit=lambda sh: [[sh[0][0], "ff" * 32], sh[1]])
    add("y = f(x) + l: right value mod l, but not canonical", s1, 2, [1, 2], "n", "error", "NonCanonicalScalar",
        edit=lambda sh: [sh[0], [sh[1][0], (int.from_bytes(bytes.fromhex(sh[1][1]), "little") + L).to_bytes(32, "little").hex()]])
    add("threshold 0", s1, 1, [1, 2], "o", "error", "InvalidThreshold")
    tests[-1]["threshold"] = 0

    return {
        "description": "Known answers for secagg::crypto::shamir::reconstruct and LagrangeAtZero.",
        "generator": [
            "tests/vectors/gen_vectors.py, independent of secagg: Python integers modulo",
            "l = 2^252 + 27742317777372353535851937790883648493.",
            "f(x) = secret + sum_{i=1}^{t-1} a_i x^i mod l, a_i = SHA-256('secagg/test-vectors/shamir/<tag>/<i>') read",
            "little-endian, mod l. Each share is [x, f(x) as 32-byte little-endian hex].",
        ],
        "results": {
            "valid": "reconstruct(every subset of at least `threshold` shares, threshold) = secret; fewer give NotEnoughShares",
            "error": "Share::from_bytes or reconstruct(all shares, threshold) fails with the named secagg::Error variant",
        },
        "tests": tests,
    }


def main():
    kdf = kdf_vectors()
    files = {"kdf.json": kdf, "aead.json": aead_vectors(kdf), "shamir.json": shamir_vectors()}
    for name, data in files.items():
        with open(os.path.join(OUT_DIR, name), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
