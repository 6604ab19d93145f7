"""The import graph from the AST, function-level imports included: `python -m bench.import_graph`.

Prints every import cycle among the project's modules (a circle hidden by an import inside a
function counts as well) and exits 1 when there is one. `--package NAME` restricts the graph to
modules of that package; `--edges` prints every arrow.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "bench", "ingest", "retrievers", "xlstm_model")


def module_files(root: Path = REPO, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """{dotted module name: file} for every .py file of the packages (`pkg` for pkg/__init__.py)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, module: str, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, at any depth of its AST (inside functions too).

    `from pkg import sub` points at the module pkg.sub when there is one, else at pkg.
    """
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(_nearest_module(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: counted from the package of `module`
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else _nearest_module(base, modules))
    found.discard("")
    found.discard(module)
    return found


def _nearest_module(name: str, modules: dict[str, Path]) -> str:
    """`name` or its longest prefix that is a project module; "" for outside modules."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in modules:
            return ".".join(parts[:n])
    return ""


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """{module: the project modules it imports}."""
    return {module: imports_of(path, module, modules) for module, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.import_graph", description=__doc__)
    p.add_argument("--package", action="append", help="only these packages (repeatable)")
    p.add_argument("--edges", action="store_true", help="print every import arrow")
    p.add_argument("--root", type=Path, default=REPO, help="repository root (default: this one)")
    args = p.parse_args(argv)
    sys.setrecursionlimit(10_000)
    graph = import_graph(module_files(args.root, args.package or PACKAGES))
    if args.edges:
        for module in sorted(graph):
            for target in sorted(graph[module]):
                print(f"{module} -> {target}")
    cycles = find_cycles(graph)
    arrows = sum(len(t) for t in graph.values())
    print(f"{len(graph)} modules, {arrows} import arrows, {len(cycles)} cycles")
    for cycle in cycles:
        print("cycle: " + " <-> ".join(cycle))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
