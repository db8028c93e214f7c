#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle.

For every `crates/*/src` tree this reads each module file, collects the paths it names
(`use crate::…`, `use super::…`, `self::…`, a child module by its bare name, and the same paths
written inline in code), resolves each to the module that defines the item (following `pub use`
re-exports), and looks for strongly connected components of two or more modules in that graph.
`#[cfg(test)]` code is left out: a module's tests may use whatever they test. A module's `mod`
declarations are not edges; only what it names is.

Usage: scripts/module_cycles.py [crate_dir ...]   (default: every crates/* of the workspace)
Exit status 1 and the cycles on stdout when any crate has one. Before checking, it runs
itself on small planted trees (a cycle through a use tree with an alias, one through `super::`
and an inline path, and an acyclic facade) and fails if it misjudges any of them.
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_files(src):
    """{module path tuple: file} for one crate's src directory."""
    mods = {}
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts == ["lib"] or parts == ["main"]:
            parts = [] if parts == ["lib"] else ["<main>"]
        elif parts[-1] == "mod":
            parts = parts[:-1]
        mods[tuple(parts)] = f
    return mods


def strip_tests(text):
    """The text without comments, string contents and `#[cfg(test)]` items."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        j = m.end()
        # skip the next item: up to its `;` or its balanced `{…}`
        while j < len(text) and text[j] not in "{;":
            j += 1
        if j < len(text) and text[j] == "{":
            depth = 0
            while j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand_use_tree(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)  # `x as y` names x
    tree = re.sub(r"\s+", "", tree)

    def parse(s, i, prefix):
        paths, cur = [], ""
        while i < len(s):
            c = s[i]
            if c == "{":
                sub, i = parse(s, i + 1, prefix + cur)
                paths.extend(sub)
                cur = None
            elif c == ",":
                if cur:
                    paths.append(prefix + cur)
                cur = ""
                i += 1
            elif c == "}":
                if cur:
                    paths.append(prefix + cur)
                return paths, i + 1
            else:
                cur = (cur or "") + c
                i += 1
        if cur:
            paths.append(prefix + cur)
        return paths, i

    return [p for p in parse(tree, 0, "")[0] if p]


def edges_of_crate(src):
    mods = module_files(src)
    texts = {m: strip_tests(f.read_text()) for m, f in mods.items()}
    # Re-exports: (module, name) -> absolute path it stands for.
    # A `pub use` is a facade, not a dependency of the module that holds it: whoever names the
    # item through it gets an edge to the module that defines it instead.
    reexports = {}
    uses = {}
    for m, text in texts.items():
        paths = []
        for um in re.finditer(r"\b(pub(\([^)]*\))?\s+)?use\s+([^;]+);", text):
            for p in expand_use_tree(um.group(3)):
                name = p.split("::")[-1]
                if um.group(1) and name not in ("*", "self"):
                    reexports[(m, name)] = (m, p)
                else:
                    paths.append(p)
        rest = re.sub(r"\buse\s+[^;]+;", "", text)
        paths += re.findall(r"\b(?:crate|super|self)(?:::" + IDENT + r")+", rest)
        children = [k[-1] for k in mods if len(k) == len(m) + 1 and k[: len(m)] == m]
        for child in children:
            paths += re.findall(r"(?<![:\w])" + child + r"(?:::" + IDENT + r")+", rest)
        uses[m] = paths

    def absolute(m, path):
        segs = path.split("::")
        if segs[0] == "crate":
            base, segs = [], segs[1:]
        elif segs[0] in ("super", "self"):
            base = list(m)
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
        elif tuple(list(m) + [segs[0]]) in mods:
            base = list(m)
        else:
            return None  # another crate
        return base + segs

    def owner(m, path, seen=()):
        """The module that defines what `path` (written in module `m`) names."""
        full = absolute(m, path)
        if full is None:
            return None
        k = len(full)
        while k >= 0 and tuple(full[:k]) not in mods:
            k -= 1
        mod = tuple(full[:k])
        rest = full[k:]
        if rest and (mod, rest[0]) in reexports and (mod, rest[0]) not in seen:
            src_mod, src_path = reexports[(mod, rest[0])]
            target = owner(src_mod, src_path, seen + ((mod, rest[0]),))
            if target is not None:
                return target
        return mod

    edges = {m: set() for m in mods}
    for m, paths in uses.items():
        for p in paths:
            t = owner(m, p)
            if t is not None and t != m:
                edges[m].add(t)
    return edges


def cycles(edges):
    """Strongly connected components with two or more modules (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def name(m):
    return "::".join(("crate",) + m)


def self_test():
    """The check on planted trees: {files} -> expected number of cycles."""
    import tempfile

    cases = [
        ({"lib.rs": "mod a;\nmod b;\n", "a.rs": "use crate::{b::{B as Bee}};\n",
          "b.rs": "use crate::a;\nfn f() { a::g() }\n"}, 1),
        ({"lib.rs": "mod p;\n", "p.rs": "mod c;\nfn f() { c::g() }\npub struct T;\n",
          "p/c.rs": "fn g() -> super::T { crate::p::T }\n"}, 1),
        ({"lib.rs": "mod m;\nmod n;\npub use m::M;\n", "m.rs": "pub struct M;\n",
          "n.rs": "use crate::M;\n// crate::n::x in a comment\n#[cfg(test)]\nmod tests { use crate::*; }\n"}, 0),
    ]
    for files, expected in cases:
        with tempfile.TemporaryDirectory() as d:
            for name, text in files.items():
                path = Path(d) / "src" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            found = len(cycles(edges_of_crate(Path(d) / "src")))
            if found != expected:
                print(f"self-test failed: {files} has {found} cycles, expected {expected}")
                sys.exit(2)


def main():
    self_test()
    root = Path(__file__).resolve().parent.parent
    crates = [Path(a) for a in sys.argv[1:]] or sorted(p for p in (root / "crates").iterdir() if (p / "src").is_dir())
    failed = False
    for c in crates:
        edges = edges_of_crate(c / "src")
        found = cycles(edges)
        print(f"{c.name}: {len(edges)} modules, {sum(map(len, edges.values()))} import edges, {len(found)} cycles")
        for comp in found:
            failed = True
            members = set(comp)
            print("  cycle: " + ", ".join(name(m) for m in comp))
            for m in comp:
                for t in sorted(edges[m] & members):
                    print(f"    {name(m)} -> {name(t)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
