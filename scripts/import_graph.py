"""Measure the imports between gridcmd's packages: modules, import edges, cycles.

    .venv/bin/python scripts/import_graph.py            # figures for docs/architecture.md
    .venv/bin/python scripts/import_graph.py --edges    # also every package-to-package edge with its count

A "package" here is a top-level package (geo, dispatch, web, pgnative) or one of command/'s subpackages
(command.core, command.intake.intake, …); a flat module directly under command/ counts as its own unit. Cycles are
strongly connected components of the module graph (grimp, the graph import-linter uses), so a cycle of any
length between files shows up, whether or not its imports sit inside functions.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import grimp

ROOTS = ["command", "geo", "dispatch", "web", "pgnative"]


def unit(module: str) -> str:
    """The package a module is counted in: command.<sub> for command/, the top-level package otherwise."""
    parts = module.split(".")
    if parts[0] == "command" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def strongly_connected(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Tarjan's algorithm over the module graph: components with more than one module are import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in modules:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edges", action="store_true", help="list every package-to-package edge")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    roots = [r for r in ROOTS if (Path(__file__).resolve().parents[1] / r).is_dir()]
    graph = grimp.build_graph(*roots, cache_dir=None)
    modules = set(graph.modules)
    cmd = {m for m in modules if m.startswith("command.")}
    units = Counter(unit(m) for m in modules)
    edges: Counter[tuple[str, str]] = Counter()
    module_edges = 0
    for m in modules:
        for t in graph.find_modules_directly_imported_by(m):
            module_edges += 1
            a, b = unit(m), unit(t)
            if a != b:
                edges[(a, b)] += 1
    inside_cmd = sum(1 for m in cmd for t in graph.find_modules_directly_imported_by(m) if t.startswith("command."))
    unit_pairs = set(edges)
    unit_cycles = [c for c in strongly_connected_units(unit_pairs, set(units)) if len(c) > 1]
    cycles = strongly_connected(graph, modules)
    print(f"modules: {len(modules)} (command: {len(cmd)})")
    print(f"units (packages, command/ subpackages and flat command modules): {len(units)}")
    print(f"command/ top-level entries: {top_level_entries()}")
    print(f"module import edges: {module_edges} (inside command/: {inside_cmd})")
    print(f"import edges between units: {sum(edges.values())} over {len(unit_pairs)} unit pairs")
    print(f"cycles between units: {len(unit_cycles)}" + "".join(f"\n  {' <-> '.join(c)}" for c in unit_cycles))
    print(f"cycles between modules: {len(cycles)}" + "".join(f"\n  {' <-> '.join(c)}" for c in cycles))
    if args.edges:
        for (a, b), n in sorted(edges.items()):
            print(f"  {a} -> {b}: {n}")
    return 0


def strongly_connected_units(pairs: set[tuple[str, str]], nodes: set[str]) -> list[list[str]]:
    """Cycles between units (the same algorithm on the unit graph)."""
    g = grimp.ImportGraph()
    for n in nodes:
        g.add_module(n)
    for a, b in pairs:
        g.add_import(importer=a, imported=b)
    return strongly_connected(g, nodes)


def top_level_entries() -> int:
    root = Path(__file__).resolve().parents[1] / "command"
    return sum(1 for p in root.iterdir() if p.name != "__pycache__")


if __name__ == "__main__":
    raise SystemExit(main())
