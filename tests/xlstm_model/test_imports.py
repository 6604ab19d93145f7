"""The model package's imports (function-local ones included, read from the AST by
tests/test_layers.py): no circle, one seam to ingest, no import of the training CLI."""

from __future__ import annotations

from tests.test_layers import circles, import_graph


def test_no_import_circles_in_the_model_package() -> None:
    graph = import_graph(("xlstm_model",))
    assert "xlstm_model.train" in graph and circles(graph) == []


def test_the_model_package_imports_only_itself_and_ingest_through_one_seam() -> None:
    graph = import_graph(("xlstm_model",))
    outside = {(m, t.split(".")[0]) for m, ts in graph.items() for t in ts}
    outside = {(m, p) for m, p in outside if p != "xlstm_model"}
    assert outside == {("xlstm_model.data", "ingest")}


def test_nothing_imports_the_training_cli() -> None:
    graph = import_graph(("xlstm_model", "app", "bench"))
    assert [m for m, targets in graph.items() if "xlstm_model.train" in targets] == []
