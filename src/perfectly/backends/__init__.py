"""Backends: where chunks run. Each takes a ``RunContext`` and yields ``ChunkResult``s.

None of them computes σ or merges results: the kernel does the one, the
``Aggregator`` the other.
"""

from __future__ import annotations

from perfectly.backends._base import Backend, ChunkError, RunContext, RunStats, WorkerLostError
from perfectly.backends.dask import run_dask
from perfectly.backends.pools import run_process_pool, run_thread_pool
from perfectly.backends.processes import START_METHODS, check_start_method, run_processes
from perfectly.backends.serial import run_serial
from perfectly.backends.thread_module import run_thread_module
from perfectly.backends.threads import run_threads

BACKENDS: dict[str, Backend] = {
    "serial": run_serial,
    "threads": run_threads,
    "thread": run_thread_module,
    "processes": run_processes,
    "thread-pool": run_thread_pool,
    "process-pool": run_process_pool,
    "dask": run_dask,
}
PROCESS_BACKENDS = ("processes", "process-pool")


def check_backend(backend: object) -> str:
    """A name in ``BACKENDS``, or a ``TypeError``/``ValueError`` naming ``backend``."""
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, one of {tuple(BACKENDS)}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {tuple(BACKENDS)}, got {backend!r}")
    return backend


__all__ = [
    "BACKENDS",
    "PROCESS_BACKENDS",
    "START_METHODS",
    "ChunkError",
    "RunContext",
    "RunStats",
    "WorkerLostError",
    "check_backend",
    "check_start_method",
]
