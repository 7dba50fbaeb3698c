"""Benchmark scripts (not tests): run them with ``python -m tests.benchmarks.<name> --help``.

Nothing here is collected by pytest and nothing here fails on a slow machine; the
scripts print figures to compare between runs and machines.
"""
