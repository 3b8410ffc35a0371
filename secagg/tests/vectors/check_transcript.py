#!/usr/bin/env python3
"""Checks tests/vectors/transcript.json without secagg (docs/wire-format.md, "Session
transcripts").

transcript.json is written by secagg's own test; this script re-derives what can be
derived from the JSON alone, from the documents, with the other generators'
transcriptions (gen_session.py: the session-id preimage; gen_signatures.py: Ed25519;
gen_vectors.py: HKDF, the derivation `info`, X25519 and AES-256-GCM from pyca/cryptography;
gen_prg.py: mask expansion): the session id, every public key from its secret, every
signature over its transcript, every sealed share opened, each client's secrets
reconstructed from the shares it dealt (Lagrange at 0 over l), every revealed share,
every masked input recomputed, and the output sum from the inputs. It does not parse
the server's messages beyond the survivor sets and routed senders it needs, nor
reproduce ShareKeys (its randomness is secagg's).

Run from the repository root:  python3 secagg/tests/vectors/check_transcript.py
(needs the `cryptography` package, as gen_vectors.py does).
"""

import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_prg import expand  # noqa: E402
from gen_session import preimage  # noqa: E402
from gen_signatures import accepted  # noqa: E402
from gen_vectors import LABELS, L, ad_bytes, hkdf_sha256, info, x25519, x25519_public  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402


def u32(b, at):
    return struct.unpack(">I", b[at:at + 4])[0]


def id_set(b, n):
    return [i for i in range(n) if b[i // 8] & (0x80 >> (i % 8))]


def lagrange0(points):
    """The secret from [(x, y)] over Z_l."""
    total = 0
    for i, (xi, yi) in enumerate(points):
        num, den = 1, 1
        for j, (xj, _) in enumerate(points):
            if i != j:
                num = num * (-xj) % L
                den = den * (xi - xj) % L
        total = (total + yi * num * pow(den, L - 2, L)) % L
    return total


def advertise_transcript(sid, i, enc_pk, mask_pk):
    return b"secagg/advertise-keys\x00\x03" + sid + b"\x00" + struct.pack(">I", i) + enc_pk + mask_pk


def consistency_transcript(sid, ids):
    return (b"secagg/consistency\x00\x03" + sid + b"\x03" + struct.pack(">I", len(ids))
            + b"".join(struct.pack(">I", v) for v in ids))


def check(t):
    n, name = t["n"], t["name"]
    malicious = t["threat"] == "malicious"
    sigma = 64 if malicious else 0
    ring = t["vectors"][0]["ring"]
    bits, dim = ring["pow2"], t["vectors"][0]["dim"]
    mod = 1 << bits
    keys = [bytes.fromhex(k) for k in t["verifying_keys"]]
    graph = None if t["graph"] == "complete" else (t["graph"]["harary"],
                                                   bytes.fromhex(t["graph"]["seed"]))
    pre = preimage(n, t["t"], graph, t["threat"], [("", dim, bits)], keys,
                   bytes.fromhex(t["context"]))
    assert pre.hex() == t["session_id_preimage"], name
    sid = hashlib.sha256(pre).digest()
    assert sid.hex() == t["session_id"], name
    sec = [{k: bytes.fromhex(v) for k, v in s.items()} for s in t["client_secrets"]]
    enc_pk = [x25519_public(s["enc_sk"]) for s in sec]
    mask_pk = [x25519_public(s["mask_sk"]) for s in sec]
    held = {}  # (holder, owner) -> (mask-key share, self-mask share)
    routed = {}  # u -> senders of its RoutedShares
    u3 = None
    counts = {"signatures": 0, "masked": 0, "revealed": 0}
    for m in t["messages"]:
        b, i = bytes.fromhex(m["hex"]), m["id"]
        assert b[0] == 3  # PROTOCOL_VERSION
        ty = b[1]
        if ty == 0x00:  # AdvertiseKeys
            assert b[2:34] == enc_pk[i] and b[34:66] == mask_pk[i], (name, i)
            if malicious:
                assert accepted(keys[i], advertise_transcript(sid, i, b[2:34], b[34:66]), b[66:130])
                counts["signatures"] += 1
        elif ty == 0x81:  # KeyList: each entry's keys (and signature) as advertised
            for e in range(u32(b, 2)):
                at = 6 + e * (68 + sigma)
                j = u32(b, at)
                assert b[at + 4:at + 36] == enc_pk[j] and b[at + 36:at + 68] == mask_pk[j]
                if malicious:
                    tr = advertise_transcript(sid, j, enc_pk[j], mask_pk[j])
                    assert accepted(keys[j], tr, b[at + 68:at + 132])
                    counts["signatures"] += 1
        elif ty == 0x01:  # ShareKeys: open each sealed pair for its recipient
            for e in range(u32(b, 2)):
                at = 6 + e * 106
                v, ln = u32(b, at), struct.unpack(">H", b[at + 4:at + 6])[0]
                blob = b[at + 6:at + 6 + ln]
                shared = x25519(sec[v]["enc_sk"], enc_pk[i])
                key = hkdf_sha256(None, shared, info(LABELS["share_key"], sid, i, v, b""), 32)
                pt = AESGCM(key).decrypt(blob[:12], blob[12:], ad_bytes(sid, 1, i, v))
                assert len(pt) == 72 and u32(pt, 0) == i and u32(pt, 4) == v
                held[(v, i)] = (pt[8:40], pt[40:72])
        elif ty == 0x82:  # RoutedShares: u's view of U2
            routed[i] = [u32(b, 6 + e * 106) for e in range(u32(b, 2))]
        elif ty == 0x02:  # MaskedInput
            x = t["inputs"][i][0]
            seed = hkdf_sha256(None, sec[i]["self_mask_secret"],
                               info(LABELS["self_mask_seed"], sid, i, i, b""), 16)
            y = [(a + c) % mod for a, c in zip(x, expand(seed, ring, dim))]
            for v in routed[i]:
                shared = x25519(sec[i]["mask_sk"], mask_pk[v])
                s_uv = hkdf_sha256(None, shared, info(LABELS["pairwise_mask_seed"], sid,
                                                      min(i, v), max(i, v), b""), 16)
                sign = 1 if v > i else -1
                y = [(a + sign * c) % mod for a, c in zip(y, expand(s_uv, ring, dim))]
            off = 6 + 4 * u32(b, 2)  # the accusation list: count, then ids
            assert u32(b, 2) == 0, "honest transcripts accuse nobody"
            got = [int.from_bytes(b[off + 2 * j:off + 2 + 2 * j], "big") for j in range(dim)]
            assert got == y, (name, i)
            counts["masked"] += 1
        elif ty in (0x83, 0x84):  # ConsistencyRequest / UnmaskRequest
            survivors = id_set(b[2:], n)
            assert u3 is None or survivors == u3
            u3 = survivors
            at = 2 + (n + 7) // 8
            if ty == 0x84 and malicious:
                for e in range(u32(b, at)):
                    j = u32(b, at + 4 + 68 * e)
                    sig = b[at + 8 + 68 * e:at + 72 + 68 * e]
                    assert accepted(keys[j], consistency_transcript(sid, u3), sig)
                    counts["signatures"] += 1
                at += 4 + 68 * u32(b, at)
            if ty == 0x84:  # the pairwise requests: none (nobody is accused)
                assert u32(b, at) == 0 and len(b) == at + 4, (name, i)
        elif ty == 0x03:  # ConsistencySignature
            assert accepted(keys[i], consistency_transcript(sid, u3), b[2:66])
            counts["signatures"] += 1
        elif ty == 0x04:  # UnmaskShares
            for e in range(u32(b, 2)):
                at = 6 + 37 * e
                owner, kind, y = u32(b, at), b[at + 4], b[at + 5:at + 37]
                mask, selfm = held[(i, owner)]
                assert y == (selfm if kind == 0 else mask), (name, i, owner)
                assert (kind == 0) == (owner in u3)
                counts["revealed"] += 1
            # Then the pairwise agreements (none here: nobody is accused), and the end.
            at = 6 + 37 * u32(b, 2)
            assert u32(b, at) == 0 and len(b) == at + 4, (name, i)
    for owner in range(n):
        pts = [(h + 1, held[(h, o)]) for (h, o) in held if o == owner]
        for which, key in ((0, "mask_sk"), (1, "self_mask_secret")):
            shares = [(x, int.from_bytes(p[which], "little")) for x, p in pts][: t["t"]]
            got = lagrange0(shares).to_bytes(32, "little")
            assert got == sec[owner][key], (name, owner, key)
    assert t["included"] == u3, name
    want = [sum(t["inputs"][i][0][j] for i in u3) % mod for j in range(dim)]
    assert t["sums"] == [want], name
    assert counts["masked"] == len([m for m in t["messages"] if bytes.fromhex(m["hex"])[1] == 2])
    return counts


def main():
    with open(os.path.join(HERE, "transcript.json")) as f:
        doc = json.load(f)
    for t in doc["tests"]:
        print(t["name"], check(t))
    print("transcript.json: all checks passed")


if __name__ == "__main__":
    main()
