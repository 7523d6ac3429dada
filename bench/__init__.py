"""Benchmarks, each printing a ratio against a baseline of the same run (docs/benchmarks.md)."""
