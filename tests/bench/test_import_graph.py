"""The import-graph tool, and the house rules it checks on the real packages."""

from __future__ import annotations

from pathlib import Path

from bench.import_graph import PACKAGES, REPO, find_cycles, import_graph, main, module_files

LIBRARY = ("app", "ingest", "retrievers", "xlstm_model")


def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_circle_hidden_inside_a_function_is_found(tmp_path: Path, capsys) -> None:
    _package(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app.b import f\n",
            "app/b.py": "def f():\n    from app import a\n    return a\n",
            "app/c.py": "from . import b\nimport json\n",
        },
    )
    graph = import_graph(module_files(tmp_path, ["app"]))
    assert graph["app.a"] == {"app.b"} and graph["app.b"] == {"app.a"}
    assert graph["app.c"] == {"app.b"}  # relative import; json is outside the project
    assert find_cycles(graph) == [["app.a", "app.b"]]
    assert main(["--root", str(tmp_path), "--package", "app"]) == 1
    assert "cycle: app.a <-> app.b" in capsys.readouterr().out


def test_find_cycles_reports_each_strongly_connected_group_once() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c"]]


def test_the_model_package_has_no_import_cycle() -> None:
    graph = import_graph(module_files(REPO, ["xlstm_model"]))
    assert "xlstm_model.train" in graph and find_cycles(graph) == []


def test_the_model_package_reaches_ingest_through_one_seam_only() -> None:
    graph = import_graph(module_files(REPO, PACKAGES))
    into_ingest = {
        m for m, targets in graph.items() if m.startswith("xlstm_model") and _any(targets, "ingest")
    }
    assert into_ingest == {"xlstm_model.data"}
    assert not any(_any(t, "app") or _any(t, "retrievers") for m, t in graph.items() if
                   m.startswith("xlstm_model"))  # fmt: skip


def test_no_library_package_imports_the_measurement_tools() -> None:
    graph = import_graph(module_files(REPO, PACKAGES))
    assert not [m for m, t in graph.items() if m.split(".")[0] in LIBRARY and _any(t, "bench")]


def test_finetune_does_not_import_the_train_cli() -> None:
    graph = import_graph(module_files(REPO, ["xlstm_model"]))
    assert not [m for m, t in graph.items() if "xlstm_model.train" in t]


def _any(targets: set[str], package: str) -> bool:
    return any(t == package or t.startswith(package + ".") for t in targets)
