#!/usr/bin/env python3
"""Checks the compiled batched X25519 for branches that could depend on secrets.

    cargo test --release -p secagg --test x25519 --no-run
    python3 secagg/tests/x25519/check_ct_asm.py [BINARY]

Disassembles (objdump) the functions that handle scalars, ladder state and outputs:
the IFMA ladder with its inversion (`crypto::x25519::ifma::ladder`, into which the
field arithmetic, the swaps and the inversion chain are inlined), the lane loop around
it (`ifma::x25519x8`: clamping, decoding) and the canonical encoding
(`crypto::x25519::encode`, if not inlined). Rules:

* no indirect jump or call, no `cmov`/`set`cc (data-dependent selects are done with
  vector masks in this code, so a scalar select would be new and needs review);
* every conditional jump is a loop's back edge whose flags come from counter
  arithmetic with an immediate: `dec REG`, `inc REG`, `add $IMM,REG`, `sub $IMM,REG` or
  `cmp $IMM,REG` immediately before it (the ladder's 255 steps, the inversion's
  fixed squaring runs, the eight lanes).

Prints each function's conditional jumps and exits 1 on a violation. Without an
argument it takes the newest target/release/deps/x25519-* test binary.
"""

import glob
import os
import re
import subprocess
import sys

FUNCS = [
    "secagg::crypto::x25519::ifma::ladder",
    "secagg::crypto::x25519::ifma::x25519x8",
    "secagg::crypto::x25519::encode",
]
COUNTER = re.compile(r"^(dec|inc)\s+%\w+$|^(add|sub|cmp)\s+\$0x[0-9a-f]+,%\w+$")
JCC = re.compile(r"^j(?!mp)[a-z]+\s")


def newest_binary():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
    cands = [
        p
        for p in glob.glob(os.path.join(root, "target", "release", "deps", "x25519-*"))
        if not p.endswith(".d") and os.access(p, os.X_OK)
    ]
    if not cands:
        sys.exit("no x25519 test binary: cargo test --release -p secagg --test x25519 --no-run")
    return max(cands, key=os.path.getmtime)


def functions(binary):
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-C", binary],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    funcs, name = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            name = m.group(1)
            funcs.setdefault(name, [])
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(.*)$", line)
        if m and name is not None:
            funcs[name].append(m.group(1).split("#")[0].strip())
    return funcs


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else newest_binary()
    funcs = functions(binary)
    bad = 0
    seen = 0
    for f in FUNCS:
        body = funcs.get(f)
        if body is None:
            print(f"{f}: not present (inlined into its caller)")
            continue
        seen += 1
        jumps = 0
        for i, ins in enumerate(body):
            op = ins.split()[0] if ins else ""
            if op.startswith("cmov") or re.match(r"^set[a-z]+$", op):
                print(f"  {f}: scalar select {ins!r}")
                bad += 1
            if re.match(r"^(jmp|call)\s+\*", ins):
                print(f"  {f}: indirect {ins!r}")
                bad += 1
            if JCC.match(ins):
                jumps += 1
                prev = body[i - 1] if i else ""
                ok = bool(COUNTER.match(prev))
                print(f"  {f}: {ins.split('<')[0].strip()} after {prev!r}: {'counter' if ok else 'REVIEW'}")
                bad += not ok
        print(f"{f}: {len(body)} instructions, {jumps} conditional jumps")
    if seen == 0:
        sys.exit(f"{binary}: none of the functions found")
    print("ok: every conditional jump is a loop counter's" if not bad else f"{bad} violation(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
