"""Benchmark scenarios for perfectly, run from a checkout as ``python -m bench.kernels``."""
