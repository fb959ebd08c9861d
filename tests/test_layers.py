"""Imports flow one way (../shared/HOUSE_STYLE.md, "Shape of the package"), checked on the source.

An AST walk over ``zcnas/`` collects every import of a zcnas module, at module level and inside
functions. No module may import a module of a higher layer (a function-local import that runs
upward is a hidden cycle too), the import graph has no cycle, and the analysis layers import
without torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "zcnas"

#: lowest first; a module belongs to the longest prefix that names it
LAYERS: tuple[tuple[str, ...], ...] = (
    ("zcnas._version", "zcnas.errors", "zcnas.registry", "zcnas.paths"),
    ("zcnas.arch", "zcnas.graph", "zcnas.protocols"),
    ("zcnas.spaces",),
    ("zcnas.proxies",),
    ("zcnas.data",),
    ("zcnas.tables", "zcnas.records"),
    ("zcnas.metrics",),
    ("zcnas.surrogate",),
    ("zcnas.aggregate", "zcnas.constraints", "zcnas.bench", "zcnas.hardware", "zcnas.report", "zcnas.selection",
     "zcnas.suite", "zcnas.transfer", "zcnas.budget"),
    ("zcnas.ranking",),
    ("zcnas.cli", "zcnas.__main__"),
    ("zcnas",),  # the package's public facade
)

#: a space module imports its torch network module inside ``build`` (keeps ``import zcnas``
#: torch-free); the network module never imports its space module back
LAZY_NETWORK_SUFFIX = "_net"


def _modules() -> dict[str, Path]:
    mods = {}
    for p in ROOT.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    return mods


def _imports(mods: dict[str, Path]) -> list[tuple[str, str, bool, int]]:
    """(importer, imported module, inside a function, line) for every zcnas import."""

    def resolve(name: str) -> str:
        while name and name not in mods:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return name

    out: list[tuple[str, str, bool, int]] = []

    def visit(node: ast.AST, mod: str, pkg: str, in_func: bool) -> None:
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, ast.If) and getattr(ch.test, "id", getattr(ch.test, "attr", "")) == "TYPE_CHECKING":
                continue
            if isinstance(ch, ast.Import | ast.ImportFrom):
                if isinstance(ch, ast.Import):
                    names = [a.name for a in ch.names]
                else:
                    base = ch.module or ""
                    if ch.level:
                        parts = pkg.split(".")
                        base = ".".join(parts[: len(parts) - ch.level + 1] + ([base] if base else []))
                    names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in ch.names]
                for target in {resolve(n) for n in names if n.startswith("zcnas")} - {"", mod}:
                    out.append((mod, target, in_func, ch.lineno))
            else:
                visit(ch, mod, pkg, in_func or isinstance(ch, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    for mod, path in mods.items():
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        visit(ast.parse(path.read_text()), mod, pkg, False)
    return out


def _layer(mod: str) -> int:
    best = (-1, -1)
    for i, group in enumerate(LAYERS):
        for prefix in group:
            if (mod == prefix or mod.startswith(prefix + ".")) and len(prefix) > best[1]:
                best = (i, len(prefix))
    assert best[0] >= 0, f"module {mod} is in no layer of tests/test_layers.py; add it to LAYERS"
    return best[0]


MODS = _modules()
EDGES = _imports(MODS)


def test_every_module_has_a_layer():
    for m in MODS:
        _layer(m)


def test_no_import_runs_upward():
    up = [f"{s}:{ln} imports {t}{' (inside a function)' if local else ''}"
          for s, t, local, ln in EDGES if _layer(t) > _layer(s)]
    assert not up, "imports that run up the layers:\n" + "\n".join(up)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODS}
    for s, t, _local, _ln in EDGES:
        if s == "zcnas" or t == "zcnas":  # the facade re-exports; nothing below imports it (checked above)
            continue
        graph[s].add(t)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
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
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_network_modules_do_not_import_their_space():
    bad = [f"{s} imports {t}" for s, t, _l, _n in EDGES
           if s.endswith(LAZY_NETWORK_SUFFIX) and t == s.removesuffix(LAZY_NETWORK_SUFFIX)]
    assert not bad, bad


@pytest.mark.parametrize("module", ["zcnas.records", "zcnas.surrogate", "zcnas.bench", "zcnas.metrics"])
def test_analysis_layers_import_without_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", f"importing {module} imported torch"
