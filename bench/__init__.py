"""Measurement tools: benchmarks, baselines and studies (not imported by the library)."""
