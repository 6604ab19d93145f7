"""Measurement tools, outside the library: benchmarks, chunk-size tuning, the re-ranking study.

Each tool is a `python -m bench.<name>` command (`bench.model`: the model benchmarks with the
Transformer baseline); the library packages (`app`, `ingest`, `retrievers`, `xlstm_model`) never
import from here.
"""
