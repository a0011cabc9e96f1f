"""Backends: where chunks run. Each takes a ``RunContext`` and yields ``ChunkResult``s.

None of them computes σ or merges results: the kernel does the one, the
``Aggregator`` the other.
"""

from __future__ import annotations

from perfectly._validate import BACKENDS as BACKEND_NAMES
from perfectly._validate import PROCESS_BACKENDS, START_METHODS, check_backend, check_start_method
from perfectly.backends._base import Backend, ChunkError, RunContext, RunStats, WorkerLostError
from perfectly.backends.dask import run_dask
from perfectly.backends.pools import run_process_pool, run_thread_pool
from perfectly.backends.processes import run_processes
from perfectly.backends.serial import run_serial
from perfectly.backends.thread_module import run_thread_module
from perfectly.backends.threads import run_threads

BACKENDS: dict[str, Backend] = {
    "serial": run_serial,
    "threads": run_threads,
    "_thread": run_thread_module,
    "processes": run_processes,
    "thread-pool": run_thread_pool,
    "process-pool": run_process_pool,
    "dask": run_dask,
}
assert tuple(BACKENDS) == BACKEND_NAMES


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
