#!/usr/bin/env python3
"""Fails when two files of src/ import each other, directly or through others.

Reads every `crate::…`, `super::…` and `use <child>::…` path of every file (comments and the
`#[cfg(test)]` part left out), resolves each to the file that defines the module, and looks for
a cycle among the files (Tarjan's strongly connected components). A module's `mod child;`
declaration is containment, not an import, and is not counted.

Usage: python3 scripts/import-cycles.py [-v]   (-v also prints every file's imports)
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    name = path[:-3]
    if name.endswith("/mod"):
        name = name[: -len("/mod")]
    return "" if name == "lib" else name.replace("/", "::")


def main():
    files = [
        os.path.relpath(os.path.join(d, f), SRC)
        for d, _, fs in os.walk(SRC)
        for f in fs
        if f.endswith(".rs")
    ]
    modules = {module_of(f): f for f in files}

    def resolve(path):
        parts = [p for p in path.split("::") if p]
        for i in range(len(parts), 0, -1):
            name = "::".join(parts[:i])
            if name in modules:
                return name
        return None

    imports = {}
    for module, path in modules.items():
        with open(os.path.join(SRC, path)) as f:
            text = f.read()
        text = re.sub(r"//[^\n]*", "", text).split("#[cfg(test)]")[0]
        parent = module.rsplit("::", 1)[0] if "::" in module else ""
        found = set()
        for p in re.findall(r"crate::([a-z_][a-z0-9_:]*)", text):
            found.add(resolve(p))
        for p in re.findall(r"\bsuper::([a-z_][a-z0-9_:]*)", text):
            found.add(resolve(f"{parent}::{p}" if parent else p))
        for p in re.findall(r"^(?:pub(?:\(crate\))? )?use ([a-z_]+)::", text, re.M):
            found.add(resolve(f"{module}::{p}" if module else p))
        imports[module] = {m for m in found if m is not None and m != module}

    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in imports.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in imports:
        if v not in index:
            visit(v)

    if "-v" in sys.argv:
        for m in sorted(imports):
            print(f"{modules[m]} -> {', '.join(sorted(modules[i] for i in imports[m]))}")
    for c in cycles:
        print("import cycle among: " + ", ".join(modules[m] for m in c))
    print(f"{len(modules)} files, {len(cycles)} import cycles")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
