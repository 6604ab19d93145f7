"""The import graph: no circles (function-local imports included) and arrows that flow one way.

app → retrievers / ingest / xlstm_model; retrievers → ingest; bench (the measurement tools) may
use everything, and no library package imports bench.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("ingest", "retrievers", "app", "bench")  # xlstm_model: see tests/xlstm_model
ALLOWED = {
    "ingest": set(),
    "retrievers": {"ingest"},
    "app": {"ingest", "retrievers", "xlstm_model"},
    "bench": {"ingest", "retrievers", "app", "xlstm_model"},
}


def _modules(packages: tuple[str, ...]) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module → the project modules it imports anywhere in its body (not just at the top)."""
    modules = _modules(("ingest", "retrievers", "app", "bench", "xlstm_model"))
    graph = {}
    for name in _modules(packages):
        targets = set()
        for node in ast.walk(ast.parse(modules[name].read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {_resolve(a.name, modules) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {
                    _resolve(f"{node.module}.{a.name}", modules) or _resolve(node.module, modules)
                    for a in node.names
                }
        graph[name] = {t for t in targets if t and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), i.e. every import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                component.append(top)
            if component:
                found.append(sorted([node, *component]))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_hidden_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    assert circles(import_graph(CHECKED)) == []


@pytest.mark.parametrize("package", CHECKED)
def test_imports_flow_one_way(package: str) -> None:
    graph = import_graph((package,))
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[package] | {package}
    )
    assert wrong == []
