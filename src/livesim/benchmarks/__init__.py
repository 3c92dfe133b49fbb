"""Benchmarks, runnable as ``python -m livesim.benchmarks.<name>``."""
