#!/usr/bin/env python3
"""check-layers.py BUILD_DIR - the tree's layering, checked on what was linked.

Each folder is one static library (CMakeLists.txt, kn_layer). LAYERS below
lists them from the bottom up with the libraries each may use. The check reads
the object files' symbol tables (nm) and fails when
  - an object uses a symbol defined in a library its own may not use
    (a dependency that runs upward or sideways), or
  - object files reference each other in a circle (within a library too),
    naming the files and the symbols that close it, or
  - a source file #includes a header of a library its own may not use (types
    and macros leave no symbol, so the includes are checked as well).
A symbol is "used" when an object leaves it undefined and another defines it.
Exit 0: clean; 1: a violation; 2: could not read the build.
"""
import os
import subprocess
import sys

# library: (folder, libraries it may use). Lowest first.
LAYERS = {
    "knbase": ("base", []),
    "knjson": ("json", ["knbase"]),
    "knyaml": ("yaml", ["knjson", "knbase"]),
    "knkube": ("kube", ["knjson", "knbase"]),
    "knkubeclient": ("kube/client", ["knkube", "knyaml", "knjson", "knbase"]),
    "knspark": ("spark", ["knkube", "knjson", "knbase"]),
    "knadmission": ("admission", ["knspark", "knkube", "knjson", "knbase"]),
    "knoperator": ("sim/operator", ["knspark", "knkube", "knjson", "knbase"]),
    "knwebhook": ("webhook", ["knadmission", "knoperator", "knyaml", "knspark", "knkube", "knjson", "knbase"]),
    "kncache": ("scheduler/cache", ["knspark", "knkube", "knjson", "knbase"]),
    "knplace": ("scheduler/place", ["kncache", "knspark", "knkube", "knjson", "knbase"]),
    "kncycle": ("scheduler/cycle", ["knplace", "kncache", "knspark", "knkube", "knjson", "knbase"]),
    "knsim": ("sim", ["kncycle", "knplace", "kncache", "knadmission", "knoperator", "knkubeclient", "knyaml",
                      "knspark", "knkube", "knjson", "knbase"]),
    "knsched": ("scheduler", ["kncycle", "knplace", "kncache", "knkubeclient", "knyaml", "knspark", "knkube",
                              "knjson", "knbase"]),
}


def symbols(archive):
    """{object: (defined set, undefined set)} of one static library."""
    out = subprocess.run(["nm", "-A", archive], capture_output=True, text=True, check=True).stdout
    objs = {}
    for line in out.splitlines():
        # "lib.a:obj.o:0000000000000000 T name" or "lib.a:obj.o:                 U name"
        head, _, rest = line.rpartition(":")
        obj = head.split(":", 1)[1] if ":" in head else head
        parts = rest.split()
        if len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1]
        d, u = objs.setdefault(obj, (set(), set()))
        if kind == "U":
            u.add(name)
        elif kind.isupper() and kind not in "N":
            d.add(name)
    return objs


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
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
    return out


def folder_lib(path):
    """The library of a source path: the longest LAYERS folder that holds it."""
    best = None
    for lib, (folder, _) in LAYERS.items():
        if os.path.dirname(path) == folder:
            best = lib
    return best


def check_includes(root):
    bad = 0
    for lib, (folder, allowed) in LAYERS.items():
        d = os.path.join(root, folder)
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")) or f == "main.c":  # a program may use every layer
                continue
            for n, line in enumerate(open(os.path.join(d, f), encoding="utf-8"), 1):
                if not line.startswith('#include "'):
                    continue
                target = line.split('"')[1]
                to = folder_lib(target)
                if to is not None and to != lib and to not in allowed:
                    print("layering: %s/%s:%d includes %s (%s), which %s may not use" % (folder, f, n, target, to, lib))
                    bad = 1
    return bad


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = sys.argv[1]
    owner, defs, undefs = {}, {}, {}
    for lib, (folder, _) in LAYERS.items():
        path = os.path.join(build, "lib%s.a" % lib)
        if not os.path.exists(path):
            print("check-layers: %s is missing (build first)" % path, file=sys.stderr)
            return 2
        for obj, (d, u) in symbols(path).items():
            node = "%s/%s" % (folder, obj[:-2] if obj.endswith(".o") else obj)
            owner[node] = lib
            defs[node], undefs[node] = d, u
    where = {}
    for node, d in defs.items():
        for name in d:
            where.setdefault(name, node)
    bad = 0
    graph = {node: set() for node in defs}
    uses = {}
    for node, u in undefs.items():
        for name in sorted(u):
            to = where.get(name)
            if to is None or to == node:
                continue
            graph[node].add(to)
            uses.setdefault((node, to), []).append(name)
            a, b = owner[node], owner[to]
            if a != b and b not in LAYERS[a][1]:
                print("layering: %s (%s) uses %s from %s (%s), which %s may not use"
                      % (node, a, name, to, b, a))
                bad = 1
    for comp in cycles(graph):
        print("circle: " + " <-> ".join(comp))
        for a in comp:
            for b in comp:
                if (a, b) in uses:
                    print("  %s -> %s: %s" % (a, b, ", ".join(uses[(a, b)][:6])))
        bad = 1
    bad |= check_includes(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if not bad:
        print("check-layers: %d libraries, %d objects, no upward dependency, no circle"
              % (len(LAYERS), len(defs)))
    return bad


if __name__ == "__main__":
    sys.exit(main())
