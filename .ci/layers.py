#!/usr/bin/env python3
"""Checks that the core crate's module graph points one way (docs/architecture.md,
"Layers inside the core").

Reads every file of secagg/src, resolves each `use` and each inline `crate::`/`super::`
path to the module (file) that defines the item, following `use` re-exports, and fails

* on a cycle between the children of any folder: the top-level modules (ids, error,
  wire, crypto, ring, quantize, dp, protocol, session, sim, par), the files and sub-folders of
  protocol/, of protocol/messages/, and so on (a file and the folder of its child
  modules count as one child; a child module's use of its parent is not a cycle);
* on an import the layering forbids (FORBIDDEN below): the leaves (ids, error, wire)
  never import the protocol, the primitives know nothing of the protocol.

`python3 .ci/layers.py` prints the top-level graph; `--files` prints every file's
edges. Exit status 1 on a violation. Doc comments and string literals are ignored:
an intra-doc link is not an import.
"""

import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "secagg", "src")

# Top-level module -> top-level modules it must not import.
FORBIDDEN = {
    "ids": {"error", "wire", "crypto", "ring", "quantize", "dp", "protocol", "session", "sim", "par"},
    "error": {"wire", "crypto", "ring", "quantize", "dp", "protocol", "session", "sim", "par"},
    "wire": {"protocol", "quantize", "dp", "session", "sim"},
    "crypto": {"protocol", "quantize", "dp", "session", "sim", "wire"},
    "ring": {"protocol", "quantize", "dp", "session", "sim", "wire", "crypto"},
    # dp (samplers, accountant, the client pipeline) sits with the encodings: above
    # crypto and ring, below the protocol and the session layer; quantize may name it.
    "dp": {"protocol", "quantize", "session", "sim", "wire"},
    "quantize": {"protocol", "session", "sim", "wire"},
    "protocol": {"session", "sim"},
    "session": {"sim"},
}


def module_of(rel):
    """Module path (tuple) of a file path relative to src/."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("lib", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def strip(src):
    """Source without comments, string literals and char literals."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', src[i:i + 10]) and not (
            i and (src[i - 1].isalnum() or src[i - 1] == "_")
        ):
            hashes = re.match(r"r(#*)\"", src[i:]).group(1)
            end = src.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i + 4]):
            m = re.match(r"'(\\.|[^\\'])'", src[i:])
            i += len(m.group(0))
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(s):
    """Splits a use-tree list on commas outside braces."""
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def expand(tree, prefix=()):
    """(path, alias) pairs of a use tree; `*` ends a path as itself."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^((?:\w+::)*)\{(.*)\}$", tree)
    if m:
        head = tuple(x for x in m.group(1).split("::") if x)
        out = []
        for sub in split_top(m.group(2)):
            out += expand(sub, prefix + head)
        return out
    alias = None
    if "as" in tree and re.search(r"\bas\b", tree.replace("::", " ")):
        tree, alias = re.split(r"as(?=\w+$)", tree, maxsplit=1)
        tree = tree.rstrip()
    path = prefix + tuple(x for x in tree.split("::") if x)
    if path and path[-1] == "self":
        path = path[:-1]
    return [(path, alias or (path[-1] if path else None))]


def inline_modules(src):
    """(start, end, name) of every inline `mod name { ... }` of a file."""
    out = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{", src):
        depth, i = 1, m.end()
        while i < len(src) and depth:
            depth += {"{": 1, "}": -1}.get(src[i], 0)
            i += 1
        out.append((m.start(), i, m.group(1)))
    return out


def scope(regions, pos):
    """The inline-module path (tuple) that position `pos` of a file is in."""
    return tuple(name for start, end, name in regions if start <= pos < end)


class Crate:
    def __init__(self, root):
        self.files = {}  # module -> stripped source
        for dirpath, _, names in os.walk(root):
            for name in names:
                if name.endswith(".rs"):
                    full = os.path.join(dirpath, name)
                    rel = os.path.relpath(full, root)
                    with open(full, encoding="utf-8") as f:
                        self.files[module_of(rel)] = strip(f.read())
        self.uses = {m: self.parse_uses(m, s) for m, s in self.files.items()}

    def parse_uses(self, mod, src):
        """name -> absolute path, for every `use` of a module (public or not) outside
        its inline modules."""
        names = {}
        regions = inline_modules(src)
        for m in re.finditer(r"(?:pub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);", src):
            if scope(regions, m.start()):
                continue
            for path, alias in expand(m.group(1)):
                absolute = self.absolute(mod, path)
                if absolute is not None and alias and alias != "*":
                    names[alias] = absolute
        return names

    def absolute(self, mod, path):
        """An absolute crate path for `path` written in module `mod`, or None (extern)."""
        if not path:
            return None
        head = path[0]
        if head == "crate":
            return path[1:]
        if head == "self":
            return mod + path[1:]
        if head == "super":
            base = list(mod)
            while path and path[0] == "super":
                base, path = base[:-1], path[1:]
            return tuple(base) + tuple(path)
        if mod + (head,) in self.files or any(k[: len(mod) + 1] == mod + (head,) for k in self.files):
            return mod + tuple(path)
        return None

    def resolve(self, path, depth=0):
        """The module (file) defining the item at absolute `path`."""
        best = ()
        for i in range(len(path), -1, -1):
            if tuple(path[:i]) in self.files:
                best = tuple(path[:i])
                break
        rest = path[len(best):]
        if rest and depth < 16:
            target = self.uses.get(best, {}).get(rest[0])
            if target is not None and target != path:
                return self.resolve(tuple(target) + tuple(rest[1:]), depth + 1)
        return best

    def edges(self):
        out = defaultdict(set)
        for file_mod, src in self.files.items():
            regions = inline_modules(src)
            paths = []  # (module the path is written in, path)
            for m in re.finditer(r"(?:pub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);", src):
                here = file_mod + scope(regions, m.start())
                paths += [(here, p) for p, _ in expand(m.group(1))]
            body = re.sub(r"\buse\s+[^;]+;", lambda m: " " * len(m.group(0)), src)
            for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", body):
                here = file_mod + scope(regions, m.start())
                paths.append((here, tuple(m.group(1).split("::"))))
            mod = file_mod
            for here, p in paths:
                absolute = self.absolute(here, p)
                if absolute is None:
                    continue
                target = self.resolve(absolute)
                if target != mod:
                    out[mod].add(target)
        return out


def cycle(nodes, succ):
    """One cycle (list of nodes) of the graph, or None."""
    color, stack = {}, []

    def visit(v):
        color[v] = 1
        stack.append(v)
        for w in sorted(succ.get(v, ())):
            if color.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in color:
                found = visit(w)
                if found:
                    return found
        stack.pop()
        color[v] = 2
        return None

    for v in sorted(nodes):
        if v not in color:
            found = visit(v)
            if found:
                return found
    return None


def name(mod):
    return "::".join(mod) or "crate"


def folder_name(mod):
    return "secagg/src/" + "".join(m + "/" for m in mod)


def main():
    crate = Crate(ROOT)
    edges = crate.edges()
    failures = []

    # Every folder: the graph between its children. A child of `folder` is the next
    # path segment; the folder's own file is the child `()`.
    folders = {mod[:i] for mod in crate.files for i in range(len(mod))}
    for folder in sorted(folders):
        succ = defaultdict(set)
        nodes = set()
        for src, targets in edges.items():
            if src[: len(folder)] != folder:
                continue
            a = src[len(folder): len(folder) + 1]
            nodes.add(a)
            for dst in targets:
                if dst[: len(folder)] != folder:
                    continue
                b = dst[len(folder): len(folder) + 1]
                # A child module naming its own ancestors (`super::`) is not a cycle of
                # this folder; the folder's own file naming a child is its re-export.
                if a != b and b != ():
                    succ[a].add(b)
        found = cycle(nodes, succ)
        if found:
            failures.append(
                "cycle in %s: %s" % (folder_name(folder), " -> ".join(name(folder + c) for c in found))
            )

    top = defaultdict(set)
    for src, targets in edges.items():
        for dst in targets:
            if src and dst and src[0] != dst[0]:
                top[src[0]].add(dst[0])
    for src, banned in FORBIDDEN.items():
        for dst in sorted(top.get(src, set()) & banned):
            culprits = sorted(
                "%s -> %s" % (name(s), name(d))
                for s, ts in edges.items()
                for d in ts
                if s and d and s[0] == src and d[0] == dst
            )
            failures.append("%s must not import %s: %s" % (src, dst, "; ".join(culprits)))

    print("top-level modules of secagg (a -> what it imports):")
    for mod in sorted({m[0] for m in crate.files if m}):
        print("  %-9s -> %s" % (mod, ", ".join(sorted(top.get(mod, ()))) or "(nothing)"))
    if "--files" in sys.argv:
        print("files:")
        for mod in sorted(edges):
            print("  %s -> %s" % (name(mod), ", ".join(sorted(name(d) for d in edges[mod]))))
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
