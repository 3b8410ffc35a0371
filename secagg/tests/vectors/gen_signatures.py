#!/usr/bin/env python3
"""Generates tests/vectors/signatures.json: Ed25519 signatures at the edges of the
acceptance rules of docs/protocol.md ("Signature verification").

Nothing here calls secagg or an Ed25519 library: the curve arithmetic, the encoding and
RFC 8032 signing (section 5.1.6) are written out over Python integers and hashlib, and
every case is checked against two models written from the documents: the rules of
docs/protocol.md (`accepted`), and a cofactored verifier without small-order checks
(RFC 8032 section 5.1.7 as written, with the lax point decoding; `cofactored`), so the
vectors show where the two differ. Edge cases are built from explicit scalars: a
mixed-order point is [a]B + T with T of order 8, and a message is searched (counter
appended) until the challenge k has the residue mod 8 a case needs.

Run from the repository root:  python3 secagg/tests/vectors/gen_signatures.py
(standard library only; CI only reads the committed JSON).
"""

import hashlib
import json
import os

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def inv(x):
    return pow(x, P - 2, P)


def add(p1, p2):
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c = 2 * p1[3] * p2[3] * D % P
    d = 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def neg(p1):
    return ((-p1[0]) % P, p1[1], p1[2], (-p1[3]) % P)


def mul(s, p1):
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = add(q, p1)
        p1 = add(p1, p1)
        s >>= 1
    return q


def equal(p1, p2):
    return (p1[0] * p2[2] - p2[0] * p1[2]) % P == 0 and (
        p1[1] * p2[2] - p2[1] * p1[2]
    ) % P == 0


def affine(x, y):
    return (x, y, 1, x * y % P)


def compress(p1):
    """The canonical encoding: y < p, bit 255 = x mod 2."""
    zinv = inv(p1[2])
    x, y = p1[0] * zinv % P, p1[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode_lax(b):
    """docs/protocol.md's decoding: the low 255 bits reduced mod p (y >= p accepted),
    x the even square root, negated when bit 255 is set (x = 0 with bit 255 set gives
    x = 0); None when y is not the y of a point."""
    v = int.from_bytes(b, "little")
    sign, y = v >> 255, (v & ((1 << 255) - 1)) % P
    u, w = (y * y - 1) % P, (D * y * y + 1) % P
    x2 = u * inv(w) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if x & 1:
        x = P - x
    if sign:
        x = (P - x) % P
    return affine(x, y)


def canonical(b):
    """RFC 8032 5.1.3 would refuse these: y >= p, or x = 0 with bit 255 set."""
    v = int.from_bytes(b, "little")
    y = v & ((1 << 255) - 1)
    if y >= P:
        return False
    pt = decode_lax(b)
    return pt is None or not (v >> 255 and pt[0] % P == 0)


B = decode_lax((4 * inv(5) % P).to_bytes(32, "little"))


def small_order(p1):
    return equal(mul(8, p1), IDENTITY)


def order8_point():
    """A point of order exactly 8: [L]Q for a point Q of the full group."""
    for y in range(2, 1000):
        q = decode_lax(y.to_bytes(32, "little"))
        if q is None:
            continue
        t = mul(L, q)
        if not equal(mul(4, t), IDENTITY):
            return t
    raise AssertionError


T8 = order8_point()
assert equal(mul(8, T8), IDENTITY) and not equal(mul(4, T8), IDENTITY)


def h_int(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def challenge(r_bytes, a_bytes, msg):
    return h_int(r_bytes, a_bytes, msg) % L


def secret_expand(secret):
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key(secret):
    return compress(mul(secret_expand(secret)[0], B))


def sign(secret, msg):
    """RFC 8032 5.1.6."""
    a, prefix = secret_expand(secret)
    a_bytes = compress(mul(a, B))
    r = h_int(prefix, msg) % L
    r_bytes = compress(mul(r, B))
    s = (r + challenge(r_bytes, a_bytes, msg) * a) % L
    return r_bytes + s.to_bytes(32, "little")


def decoded(pk, msg, sig):
    """What both verifiers read: (S, A, R, k) with S < L and A, R decoded laxly; None
    when S >= L or a point does not decode."""
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return None
    a_pt, r_pt = decode_lax(pk), decode_lax(sig[:32])
    if a_pt is None or r_pt is None:
        return None
    return s, a_pt, r_pt, challenge(sig[:32], pk, msg)


def accepted(pk, msg, sig):
    """docs/protocol.md, "Signature verification"."""
    parts = decoded(pk, msg, sig)
    if parts is None:
        return False
    s, a_pt, r_pt, k = parts
    if small_order(a_pt) or small_order(r_pt):
        return False
    return compress(add(mul(s, B), neg(mul(k, a_pt)))) == sig[:32]


def cofactored(pk, msg, sig):
    """[8][S]B = [8]R + [8][k]A, lax decoding, S < L, no small-order checks."""
    parts = decoded(pk, msg, sig)
    if parts is None:
        return False
    s, a_pt, r_pt, k = parts
    lhs = mul(8, mul(s, B))
    rhs = mul(8, add(r_pt, mul(k, a_pt)))
    return equal(lhs, rhs)


def le(x):
    return (x % L).to_bytes(32, "little")


def search(r_bytes_of, a_bytes, base, want):
    """The first message base || u32be(i) whose challenge k satisfies want(k)."""
    for i in range(10000):
        msg = base + i.to_bytes(4, "big")
        r_bytes = r_bytes_of(msg)
        k = challenge(r_bytes, a_bytes, msg)
        if want(k):
            return msg, r_bytes, k
    raise AssertionError


CASES = []


def case(name, pk, msg, sig, expect, comment):
    got = accepted(pk, msg, sig)
    assert got == expect, name
    CASES.append(
        {
            "name": name,
            "public_key": pk.hex(),
            "message": msg.hex(),
            "signature": sig.hex(),
            "accepted": got,
            "cofactored": cofactored(pk, msg, sig),
            "canonical_R": canonical(sig[:32]),
            "canonical_A": canonical(pk),
            "comment": comment,
        }
    )


def main():
    # RFC 8032 7.1, test 1 (empty message), to check the transcription.
    sk1 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pk1 = public_key(sk1)
    assert pk1.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    sig1 = sign(sk1, b"")
    assert sig1.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    case("rfc8032-test1", pk1, b"", sig1, True, "RFC 8032 7.1 test 1")

    sk = bytes(range(32))
    pk = public_key(sk)
    msg = b"secagg/advertise-keys\x00\x01" + bytes(32) + b"\x00" + bytes(4) + bytes(64)
    sig = sign(sk, msg)
    case("honest", pk, msg, sig, True, "RFC 8032 signature over an advertise-keys layout")
    case("wrong-message", pk, msg[:-1] + b"\x01", sig, False, "the message differs")
    s = int.from_bytes(sig[32:], "little")
    case(
        "s-plus-l",
        pk,
        msg,
        sig[:32] + (s + L).to_bytes(32, "little"),
        False,
        "S + L: same value mod L, non-canonical S (the wire decoder refuses it as NonCanonicalScalar)",
    )
    case(
        "s-flipped",
        pk,
        msg,
        sig[:32] + bytes([sig[32] ^ 1]) + sig[33:],
        False,
        "one bit of S flipped",
    )

    # A mixed-order verifying key A = [a]B + T8 (not of small order).
    a = 0x1234567 * 8 + 5
    a_mixed = add(mul(a, B), T8)
    assert not small_order(a_mixed)
    pk_mixed = compress(a_mixed)
    r = 0xABCDEF
    r_bytes = compress(mul(r, B))
    m, _, k = search(lambda _m: r_bytes, pk_mixed, b"mixed-A", lambda k: k % 8 == 0)
    case(
        "mixed-order-A-k0",
        pk_mixed,
        m,
        r_bytes + le(r + k * a),
        True,
        "A = [a]B + T (T of order 8), k = 0 mod 8: [S]B - [k]A = R holds; A is not of small order",
    )
    m, _, k = search(lambda _m: r_bytes, pk_mixed, b"mixed-A", lambda k: k % 8 != 0)
    case(
        "mixed-order-A-cofactored-only",
        pk_mixed,
        m,
        r_bytes + le(r + k * a),
        False,
        "A = [a]B + T, k != 0 mod 8: only the cofactored equation holds",
    )

    # A mixed-order R = [r]B + T8 with an honest key: only the cofactored equation holds.
    sk_a, _ = secret_expand(sk)
    r_mixed = compress(add(mul(r, B), T8))
    m = b"mixed-R"
    k = challenge(r_mixed, pk, m)
    case(
        "mixed-order-R-cofactored-only",
        pk,
        m,
        r_mixed + le(r + k * sk_a),
        False,
        "R = [r]B + T: [S]B - [k]A = [r]B != R; the cofactored equation holds",
    )

    # R of small order (the identity), the cofactorless equation holding: with the mixed
    # key, [S]B - [k]A = [ka]B - [k]T = O when S = ka and k = 0 mod 8.
    id_bytes = compress(IDENTITY)
    m, _, k = search(lambda _m: id_bytes, pk_mixed, b"small-R", lambda k: k % 8 == 0)
    case(
        "small-order-R",
        pk_mixed,
        m,
        id_bytes + le(k * a),
        False,
        "R = identity (small order); [S]B - [k]A = R holds",
    )
    # The same identity, encoded non-canonically (y = p + 1).
    nc_id = (P + 1).to_bytes(32, "little")
    m, _, k = search(lambda _m: nc_id, pk_mixed, b"nc-R", lambda k: k % 8 == 0)
    case(
        "non-canonical-R",
        pk_mixed,
        m,
        nc_id + le(k * a),
        False,
        "R = identity encoded with y = p + 1: small order, and never the canonical encoding of [S]B - [k]A",
    )
    # The order-2 point (0, -1) encoded with x = 0 and the sign bit set ("negative zero").
    neg_zero = ((P - 1) | (1 << 255)).to_bytes(32, "little")
    assert equal(decode_lax(neg_zero), affine(0, P - 1))
    m, _, k = search(lambda _m: neg_zero, pk_mixed, b"neg-zero-R", lambda k: k % 8 == 0)
    case(
        "negative-zero-R",
        pk_mixed,
        m,
        neg_zero + le(k * a),
        False,
        "R = (0, -1) with the sign bit set: small order, non-canonical",
    )

    # Verifying keys of small order, the cofactorless equation holding (S = r when
    # [k]A = O): refused.
    for name, pt in [("small-order-A-identity", IDENTITY), ("small-order-A-order8", T8)]:
        pk_small = compress(pt)
        m, _, k = search(
            lambda _m: r_bytes, pk_small, name.encode(), lambda k: equal(mul(k, pt), IDENTITY)
        )
        case(name, pk_small, m, r_bytes + le(r), False, "A of small order; [S]B - [k]A = R holds")

    doc = {
        "about": "Ed25519 signatures at the edges of docs/protocol.md's acceptance rules "
        "(\"Signature verification\"); generated by gen_signatures.py. accepted: the "
        "rules secagg applies; cofactored: what a cofactored verifier without small-order "
        "checks would say; canonical_R / canonical_A: whether RFC 8032 5.1.3 decoding "
        "accepts the encoding.",
        "tests": [dict(tcId=i + 1, **c) for i, c in enumerate(CASES)],
    }
    with open(os.path.join(OUT_DIR, "signatures.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
