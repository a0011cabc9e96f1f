"""Shared pieces of the benchmark's tests."""

from __future__ import annotations


def stored_scenario(version: int, walls: tuple[float, ...] = (0.002, 0.003, 0.004)) -> dict:
    """One small scaling scenario as results version 1 or 2 stored it, written out here
    (not by the code under test): version 1 says ``kernel`` and ``algorithm`` where 2
    says ``variant`` and ``method``."""
    names = {1: ("kernel", "algorithm"), 2: ("variant", "method")}[version]
    run = dict(startup=0.0001, shutdown=0.0001, worker_chunks=[1, 1], chunks=2)
    run |= dict(start_method=None, imbalance=1.0)
    return {
        "id": "scaling/sieve-dynamic/compiled-nogil/threads/w2",
        "section": "scaling",
        "group": "sieve, compiled nogil, [1, 1,000], dynamic schedule",
        "label": "threads × 2",
        names[0]: "compiled-nogil",
        "backend": "threads",
        "start_method": None,
        "workers": 2,
        names[1]: "sieve",
        "schedule": "dynamic",
        "lo": 1,
        "hi": 1001,
        "chunk_size": None,
        "values": list(walls),
        "warmups": [0.005],
        "runs": [{**run, "wall": w, "worker_busy": [w / 3, w / 3]} for w in walls],
        "stats": {
            **dict.fromkeys(("n", "median", "mean", "min", "max", "q1", "q3"), 0.003),
            **dict(stdev=0.001, iqr=0.001, spread=0.33, unstable=True),
        },
        "ns_per_number": 3000.0,
        "imbalance": 1.0,
        "startup": 0.0001,
        "shutdown": 0.0001,
        "reference": None,
        "speedup": None,
        "efficiency": None,
    }


def synthetic_parameters() -> dict:
    """The parameters of a results document made in a test: threads scenarios of the
    scaling section, at 2 workers, on 2 CPUs."""
    return {
        "variants": [],
        "backends": ["threads"],
        "workers": [2],
        "methods": ["sieve"],
        "schedules": ["dynamic"],
        "start_methods": [],
        "sections": ["scaling"],
        "sizes": {},
        "repeat": 6,
        "warmup": 1,
        "baselines": False,
        "quick": False,
        "cpus": 2,
        "argv": [],
    }
