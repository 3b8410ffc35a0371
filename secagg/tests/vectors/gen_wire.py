#!/usr/bin/env python3
"""Generates tests/vectors/wire/messages.json for secagg, independently of secagg.

Every encoding here is built by hand from the layouts in docs/wire-format.md (struct
packing, an MSB-first bit packer written out below), never by calling secagg, so a
mismatch between this file and the Rust decoder means the code and the document
disagree. Valid cases carry the decoded meaning; invalid cases name the error variant
the decoder must return.

Config B (malicious) carries real signatures: its keys, session-id preimage and
session id are in the JSON, and each signature signs the transcript of docs/protocol.md,
made with the RFC 8032 signer of gen_signatures.py and the preimage of gen_session.py
(both independent of secagg too).

Run from the repository root:  python3 secagg/tests/vectors/gen_wire.py
(standard library only)
"""

import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_session import preimage  # noqa: E402
from gen_signatures import public_key, sign  # noqa: E402

VERSION = 3  # PROTOCOL_VERSION (2: MaskedInput carries accusations; 3: pairwise reveals)
P = 2**255 - 19  # X25519 field prime
L = 2**252 + 27742317777372353535851937790883648493  # Ed25519 / Shamir scalar order
SEALED_SHARES_LEN = 4 + 4 + 2 * 32 + 12 + 16  # plaintext (ids, two scalars) + AES-GCM overhead

CLIENT = {"AdvertiseKeys": 0x00, "ShareKeys": 0x01, "MaskedInput": 0x02,
          "ConsistencySignature": 0x03, "UnmaskShares": 0x04}
SERVER = {"KeyList": 0x81, "RoutedShares": 0x82, "ConsistencyRequest": 0x83,
          "UnmaskRequest": 0x84}

CONFIGS = {
    "A": {"n": 5, "t": 3, "graph": "complete", "malicious": False, "max_degree": 4,
          "vectors": [{"name": "w20", "dim": 3, "ring": {"pow2": 20}},
                      {"name": "zm", "dim": 2, "ring": {"modulus": 1000003}}]},
    "B": {"n": 12, "t": 3, "graph": {"harary": 4, "seed": "07" * 32}, "malicious": True,
          "max_degree": 4,
          "vectors": [{"name": "", "dim": 4, "ring": {"pow2": 16}}]},
}

# Config B's signatures are real: client i's Ed25519 secret seed is SHA-256("wire-b" ||
# u32be(i)), its verifying key the RFC 8032 public key, the context empty, and the
# session id SHA-256 of docs/protocol.md's preimage (gen_session.py's transcription);
# every signature signs docs/protocol.md's transcript (gen_signatures.py's RFC 8032).
B_SEEDS = [hashlib.sha256(b"wire-b" + struct.pack(">I", i)).digest() for i in range(12)]
B_KEYS = [public_key(seed) for seed in B_SEEDS]
B_PREIMAGE = preimage(12, 3, (4, bytes.fromhex("07" * 32)), "malicious", [("", 4, 16)],
                      B_KEYS, b"")
B_SID = hashlib.sha256(B_PREIMAGE).digest()
CONFIGS["B"].update({
    "context": "",
    "signing_key_seeds": [x.hex() for x in B_SEEDS],
    "verifying_keys": [x.hex() for x in B_KEYS],
    "session_id_preimage": B_PREIMAGE.hex(),
    "session_id": B_SID.hex(),
})


def advertise_transcript(sid, i, enc_pk, mask_pk):
    return (b"secagg/advertise-keys\x00" + bytes([VERSION]) + sid + b"\x00"
            + struct.pack(">I", i) + enc_pk + mask_pk)


def consistency_transcript(sid, survivors):
    return (b"secagg/consistency\x00" + bytes([VERSION]) + sid + b"\x03"
            + struct.pack(">I", len(survivors))
            + b"".join(struct.pack(">I", v) for v in sorted(survivors)))


def u16(x): return struct.pack(">H", x)
def u32(x): return struct.pack(">I", x)
def hdr(ty): return bytes([VERSION, ty])


def det(label, n):
    """Deterministic filler bytes."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(label.encode() + bytes([i])).digest()
        i += 1
    return out[:n]


def pk(i):
    """A canonical X25519 u-coordinate (little-endian, below p)."""
    v = int.from_bytes(det(f"pk{i}", 32), "little") % P
    return v.to_bytes(32, "little")


def sig(i):
    """An Ed25519 signature R || s with a canonical s (s < l)."""
    s = int.from_bytes(det(f"s{i}", 32), "little") % L
    return det(f"R{i}", 32) + s.to_bytes(32, "little")


def scalar(i):
    return (int.from_bytes(det(f"y{i}", 32), "little") % L).to_bytes(32, "little")


def blob(i):
    return det(f"blob{i}", SEALED_SHARES_LEN)


def element_bits(ring):
    if "pow2" in ring:
        return ring["pow2"]
    return (ring["modulus"] - 1).bit_length()


def pack(bits, words):
    """Elements MSB-first into one bit string, bytes filled MSB-first, zero padding."""
    s = "".join(format(w, f"0{bits}b") for w in words)
    s += "0" * (-len(s) % 8)
    return bytes(int(s[i:i + 8], 2) for i in range(0, len(s), 8))


def idset(n, ids):
    bits = ["0"] * (n + (-n % 8))
    for i in ids:
        bits[i] = "1"
    s = "".join(bits)
    return bytes(int(s[i:i + 8], 2) for i in range(0, len(s), 8))


def adv_fields(cfg, m):
    out = bytes.fromhex(m["enc_pk"]) + bytes.fromhex(m["mask_pk"])
    if cfg["malicious"]:
        out += bytes.fromhex(m["signature"])
    return out


def encode(cfg, m):
    t = m["type"]
    if t == "AdvertiseKeys":
        return hdr(CLIENT[t]) + adv_fields(cfg, m)
    if t == "ShareKeys":
        body = u32(len(m["shares"]))
        for s in m["shares"]:
            c = bytes.fromhex(s["ciphertext"])
            body += u32(s["to"]) + u16(len(c)) + c
        return hdr(CLIENT[t]) + body
    if t == "MaskedInput":
        accused = m.get("accused", [])
        body = u32(len(accused)) + b"".join(u32(v) for v in accused)
        for spec, words in zip(cfg["vectors"], m["vectors"]):
            body += pack(element_bits(spec["ring"]), words)
        return hdr(CLIENT[t]) + body
    if t == "ConsistencySignature":
        return hdr(CLIENT[t]) + bytes.fromhex(m["signature"])
    if t == "UnmaskShares":
        body = u32(len(m["shares"]))
        for s in m["shares"]:
            kind = {"SelfMask": 0, "MaskKey": 1}[s["kind"]]
            body += u32(s["owner"]) + bytes([kind]) + bytes.fromhex(s["value"])
        # Version 3: the revealed pairwise agreements, peer u32 || X25519 output [32].
        body += u32(len(m["pairwise"]))
        for p in m["pairwise"]:
            body += u32(p["peer"]) + bytes.fromhex(p["secret"])
        return hdr(CLIENT[t]) + body
    if t == "KeyList":
        body = u32(len(m["entries"]))
        for e in m["entries"]:
            body += u32(e["id"]) + adv_fields(cfg, e)
        return hdr(SERVER[t]) + body
    if t == "RoutedShares":
        body = u32(len(m["shares"]))
        for s in m["shares"]:
            c = bytes.fromhex(s["ciphertext"])
            body += u32(s["from"]) + u16(len(c)) + c
        return hdr(SERVER[t]) + body
    if t == "ConsistencyRequest":
        return hdr(SERVER[t]) + idset(cfg["n"], m["survivors"])
    if t == "UnmaskRequest":
        body = idset(cfg["n"], m["survivors"])
        if cfg["malicious"]:
            body += u32(len(m["signatures"]))
            for s in m["signatures"]:
                body += u32(s["id"]) + bytes.fromhex(s["signature"])
        # Version 3: the pairwise requests, in both models.
        body += u32(len(m["pairwise"])) + b"".join(u32(v) for v in m["pairwise"])
        return hdr(SERVER[t]) + body
    raise ValueError(t)


def adv(i, malicious):
    """Client i's keys; in config B signed over the advertise transcript."""
    signature = None
    if malicious:
        signature = sign(B_SEEDS[i], advertise_transcript(B_SID, i, pk(2 * i), pk(2 * i + 1)))
        signature = signature.hex()
    return {"enc_pk": pk(2 * i).hex(), "mask_pk": pk(2 * i + 1).hex(),
            "signature": signature}


B_U3 = [0, 1, 2, 5, 7, 9, 11]

# The byte strings config B's signatures sign, as known answers of their own.
CONFIGS["B"]["signed_transcripts"] = {
    "advertise": {str(i): advertise_transcript(B_SID, i, pk(2 * i), pk(2 * i + 1)).hex()
                  for i in [1, 2, 5, 7, 9]},
    "consistency": consistency_transcript(B_SID, B_U3).hex(),
}


def b_consistency(i):
    return sign(B_SEEDS[i], consistency_transcript(B_SID, B_U3)).hex()


tests = []


def valid(config, direction, sender, msg, comment):
    b = encode(CONFIGS[config], msg)
    tests.append({"tcId": len(tests) + 1, "comment": comment, "config": config,
                  "direction": direction, "from": sender, "result": "valid",
                  "hex": b.hex(), "message": msg})
    return b


def invalid(config, direction, sender, b, error, comment):
    tests.append({"tcId": len(tests) + 1, "comment": comment, "config": config,
                  "direction": direction, "from": sender, "result": "invalid",
                  "hex": b.hex(), "error": error})


# ---- valid messages, config A (semi-honest, complete, n = 5) --------------------------
a_adv = valid("A", "client", 2, {"type": "AdvertiseKeys", **adv(2, False)},
              "round 0, semi-honest: two public keys, no signature")
a_sk_msg = {"type": "ShareKeys", "shares": [{"to": v, "ciphertext": blob(v).hex()}
                                            for v in [0, 1, 3, 4]]}
a_sk = valid("A", "client", 2, a_sk_msg, "round 1: one sealed pair per neighbor")
a_mi = valid("A", "client", 2, {"type": "MaskedInput", "accused": [],
                                "vectors": [[0, 0xabcde, 0xfffff], [1000002, 7]]},
             "round 2: no accusation, a 20-bit vector (60 bits, 8 bytes) then a Z_1000003 vector (40 bits)")
a_mi_acc = valid("A", "client", 2, {"type": "MaskedInput", "accused": [1, 4],
                                    "vectors": [[1, 2, 3], [4, 5]]},
                 "round 2: accusing neighbors 1 and 4 (their shares were unusable)")
a_us = valid("A", "client", 2, {"type": "UnmaskShares", "shares": [
    {"owner": 0, "kind": "SelfMask", "value": scalar(0).hex()},
    {"owner": 1, "kind": "MaskKey", "value": scalar(1).hex()},
    {"owner": 4, "kind": "SelfMask", "value": scalar(4).hex()}], "pairwise": []},
    "round 4: revealed shares; their point is the sender's id + 1 = 3")
a_us_pw = valid("A", "client", 2, {"type": "UnmaskShares", "shares": [
    {"owner": 0, "kind": "SelfMask", "value": scalar(0).hex()},
    {"owner": 4, "kind": "SelfMask", "value": scalar(4).hex()}],
    "pairwise": [{"peer": 1, "secret": det("dh1", 32).hex()},
                 {"peer": 3, "secret": (b"\xff" * 32).hex()}]},
    "round 4: two shares and two pairwise agreements (any 32 bytes: an X25519 output "
    "is not a scalar)")
a_kl = valid("A", "server", 2, {"type": "KeyList", "entries": [
    {"id": i, **adv(i, False)} for i in range(5)]},
    "opens round 1: every neighbor's keys and the recipient's own")
valid("A", "server", 2, {"type": "RoutedShares", "shares": [
    {"from": v, "ciphertext": blob(10 + v).hex()} for v in [0, 1, 4]]},
    "opens round 2: ciphertexts from the neighbors that survived round 1")
a_cr = valid("A", "server", 2, {"type": "ConsistencyRequest", "survivors": [0, 2, 3]},
             "a consistency request decodes in any model (the state machine refuses it)")
valid("A", "server", 2, {"type": "UnmaskRequest", "survivors": [0, 1, 2, 3],
                         "signatures": [], "pairwise": []},
      "opens round 4, semi-honest: the survivor bitmap and an empty request list")
a_ur_pw = valid("A", "server", 2, {"type": "UnmaskRequest", "survivors": [0, 2, 3],
                                   "signatures": [], "pairwise": [1, 4]},
                "opens round 4, semi-honest: the pairwise agreements with 1 and 4 asked for")

# ---- valid messages, config B (malicious, Harary degree 4, n = 12) --------------------
b_adv = valid("B", "client", 7, {"type": "AdvertiseKeys", **adv(7, True)},
              "round 0, malicious: keys and an Ed25519 signature")
b_cs = valid("B", "client", 7, {"type": "ConsistencySignature", "signature": b_consistency(7)},
             "round 3: a signature over the survivor set")
valid("B", "client", 7, {"type": "ShareKeys", "shares": []},
      "an empty list is well-formed (the server decides whether it is acceptable)")
valid("B", "client", 7, {"type": "MaskedInput", "accused": [], "vectors": [[0x0102, 0, 0xffff, 0x8000]]},
      "16-bit elements are big-endian u16s")
b_kl = valid("B", "server", 7, {"type": "KeyList", "entries": [
    {"id": i, **adv(i, True)} for i in [1, 2, 5, 7, 9]]},
    "malicious key list: five entries (degree 4 + the recipient), each signed")
b_ur = valid("B", "server", 7, {"type": "UnmaskRequest", "survivors": B_U3,
                                "signatures": [{"id": 2, "signature": b_consistency(2)},
                                               {"id": 9, "signature": b_consistency(9)}],
                                "pairwise": [8]},
             "opens round 4, malicious: 12-bit survivor bitmap (2 bytes), signatures, "
             "one pairwise request")

# ---- invalid encodings ----------------------------------------------------------------
invalid("A", "client", 2, b"", "Truncated", "empty input")
invalid("A", "client", 2, a_adv[:-1], "Truncated", "one byte short")
invalid("A", "client", 2, a_adv + b"\x00", "TrailingBytes", "one byte too many")
invalid("A", "client", 2, bytes([1]) + a_adv[1:], "UnknownVersion", "version 1 (before accusations)")
invalid("A", "client", 2, bytes([2]) + a_adv[1:], "UnknownVersion",
        "version 2 (before pairwise reveals)")
invalid("A", "client", 2, bytes([4]) + a_adv[1:], "UnknownVersion", "version 4")
# MaskedInput with accusations: count at 2..6, ids at 6..10 and 10..14.
invalid("A", "client", 2, a_mi_acc[:6] + u32(4) + u32(1) + a_mi_acc[14:], "UnsortedIds",
        "accusations out of order")
invalid("A", "client", 2, a_mi_acc[:6] + u32(1) + u32(1) + a_mi_acc[14:], "UnsortedIds",
        "an accusation repeated")
invalid("A", "client", 2, a_mi_acc[:2] + u32(5) + a_mi_acc[6:], "LengthTooLarge",
        "five accusations claimed, the largest neighborhood is 4")
invalid("A", "client", 2, a_mi_acc[:6] + u32(5) + a_mi_acc[10:], "ClientIdOutOfRange",
        "accused client 5 in a session of 5 clients")
invalid("A", "client", 2, bytes([0]) + a_adv[1:], "UnknownVersion", "version 0")
invalid("A", "client", 2, a_adv[:1] + bytes([0x05]) + a_adv[2:], "UnknownMessageType",
        "client type 0x05 does not exist")
invalid("A", "client", 2, a_kl, "UnknownMessageType",
        "a server message (0x81) given to the client-message decoder")
invalid("A", "server", 2, a_adv, "UnknownMessageType",
        "a client message (0x00) given to the server-message decoder")
invalid("A", "client", 2, a_adv[:2] + P.to_bytes(32, "little") + a_adv[34:],
        "NonCanonicalPublicKey", "enc_pk = p = 2^255 - 19")
hi = bytearray(a_adv)
hi[33] |= 0x80
invalid("A", "client", 2, bytes(hi), "NonCanonicalPublicKey", "enc_pk with bit 255 set")
# UnmaskShares: count at 2..6, first entry owner 6..10, kind 10, value 11..43.
invalid("A", "client", 2, a_us[:11] + L.to_bytes(32, "little") + a_us[43:],
        "NonCanonicalScalar", "a share value equal to l")
invalid("A", "client", 2, a_us[:10] + b"\x02" + a_us[11:], "InvalidTag", "share kind 2")
invalid("A", "client", 2, a_us[:2] + u32(5) + a_us[6:], "LengthTooLarge",
        "five revealed shares claimed, the largest neighborhood is 4")
invalid("A", "client", 2, a_us[:2] + u32(4) + a_us[6:], "Truncated",
        "four revealed shares claimed, three present")
# a_us_pw: shares count 2..6, two entries 6..80, pairwise count 80..84, entries of 36
# bytes at 84..120 and 120..156.
invalid("A", "client", 2, a_us_pw[:84] + a_us_pw[120:156] + a_us_pw[84:120], "UnsortedIds",
        "pairwise agreements out of order (3, then 1)")
invalid("A", "client", 2, a_us_pw[:84] + a_us_pw[84:120] * 2, "UnsortedIds",
        "a pairwise agreement repeated")
invalid("A", "client", 2, a_us_pw[:80] + u32(3) + a_us_pw[84:] + a_us_pw[84:120],
        "LengthTooLarge", "two shares and three agreements: more than the 4 neighbors")
invalid("A", "client", 2, a_us_pw[:84] + u32(5) + a_us_pw[88:], "ClientIdOutOfRange",
        "pairwise agreement with client 5 in a session of 5 clients")
invalid("A", "client", 2, a_us_pw[:-1], "Truncated", "last agreement one byte short")
invalid("A", "client", 2, a_us[:-4], "Truncated",
        "version 2's layout: no pairwise count after the shares")
# a_ur_pw: 1-byte bitmap at 2, count 3..7, ids 7..11 and 11..15.
invalid("A", "server", 2, a_ur_pw[:7] + u32(4) + u32(1), "UnsortedIds",
        "pairwise requests out of order")
invalid("A", "server", 2, a_ur_pw[:3] + u32(5) + a_ur_pw[7:], "LengthTooLarge",
        "five pairwise requests claimed, the largest neighborhood is 4")
invalid("A", "server", 2, a_ur_pw[:3], "Truncated",
        "version 2's layout: no request count after the survivors")
sk_entry = 4 + 2 + SEALED_SHARES_LEN
invalid("A", "client", 2, a_sk[:2] + u32(0xffffffff) + a_sk[6:], "LengthTooLarge",
        "count 2^32 - 1: refused before anything is allocated")
invalid("A", "client", 2, a_sk[:6] + u32(5) + a_sk[10:], "ClientIdOutOfRange",
        "recipient 5 in a session of 5 clients")
unsorted = a_sk[:6] + a_sk[6 + sk_entry:6 + 2 * sk_entry] + a_sk[6:6 + sk_entry] \
    + a_sk[6 + 2 * sk_entry:]
invalid("A", "client", 2, unsorted, "UnsortedIds", "recipients 1, 0, 3, 4")
invalid("A", "client", 2, a_sk[:10] + u16(SEALED_SHARES_LEN + 1) + a_sk[12:],
        "LengthTooLarge", "a sealed blob one byte longer than a pair of shares")
invalid("A", "client", 2, a_sk[:10] + u16(27) + a_sk[12:], "LengthTooSmall",
        "a sealed blob shorter than the AES-GCM overhead")
# MaskedInput: an empty accusation list (4 bytes), then w20 is 3 x 20 = 60 bits in 8
# bytes (4 padding bits), zm 2 x 20 = 40 bits.
invalid("A", "client", 2, a_mi[:13] + bytes([a_mi[13] | 1]) + a_mi[14:], "NonZeroPadding",
        "a padding bit of the 20-bit vector set")
invalid("A", "client", 2, a_mi[:14] + pack(20, [1000003, 7]), "WordOutOfRange",
        "1000003 is not an element of Z_1000003")
invalid("A", "server", 2, a_cr[:2] + bytes([a_cr[2] | 0x01]), "NonZeroPadding",
        "survivor bit 7 set in a session of 5 clients")
invalid("B", "client", 7, b_cs[:34] + L.to_bytes(32, "little"), "NonCanonicalScalar",
        "signature s = l")
invalid("B", "client", 7, b_adv[:66], "Truncated",
        "malicious model: advertised keys without their signature")
invalid("B", "server", 7, b_kl[:2] + u32(6) + b_kl[6:], "LengthTooLarge",
        "six key-list entries claimed, at most degree + 1 = 5")
invalid("B", "server", 7, b_ur[:-1], "Truncated", "last signature one byte short")

out = {
    "description": "secagg wire-format vectors (docs/wire-format.md), generated by "
                   "tests/vectors/gen_wire.py without secagg",
    "protocol_version": VERSION,
    "configs": CONFIGS,
    "tests": tests,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wire", "messages.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(tests)} tests to {path}")
