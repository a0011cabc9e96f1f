"""Where chunks run: one executor per backend, all driven by one loop (:class:`Run`).

=================  ==========================================================
``serial``         :class:`SerialExecutor`: the calling thread
``threads``        :class:`ThreadExecutor`: ``threading`` + ``queue.Queue``
``_thread``        :class:`ThreadModuleExecutor`: the low-level ``_thread``
``processes``      :class:`ProcessExecutor`: ``multiprocessing``, explicit context
``thread-pool``    :class:`ThreadPool`: ``concurrent.futures.ThreadPoolExecutor``
``process-pool``   :class:`ProcessPool`: ``concurrent.futures.ProcessPoolExecutor``
``interpreters``   :class:`InterpreterExecutor`: subinterpreters, each with its own GIL
``dask``           :class:`DaskExecutor`: a ``distributed`` cluster
=================  ==========================================================

An executor runs tasks and reports what happened; it computes no σ itself, merges
nothing and knows nothing of journals or verification.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from typing import Any

from perfectly._validate import BACKENDS, PROCESS_BACKENDS
from perfectly.parallel._executor import Executor
from perfectly.parallel._loop import ChunkError, Run, WorkerLostError
from perfectly.parallel._task import ChunkResult, Job, Task, WorkerError
from perfectly.parallel.dask import DaskExecutor
from perfectly.parallel.interpreters import InterpreterExecutor
from perfectly.parallel.pools import ProcessPool, ThreadPool
from perfectly.parallel.processes import ProcessExecutor
from perfectly.parallel.serial import SerialExecutor
from perfectly.parallel.threads import ThreadExecutor, ThreadModuleExecutor

EXECUTORS: dict[str, type[Executor]] = {
    "serial": SerialExecutor,
    "threads": ThreadExecutor,
    "_thread": ThreadModuleExecutor,
    "processes": ProcessExecutor,
    "thread-pool": ThreadPool,
    "process-pool": ProcessPool,
    "interpreters": InterpreterExecutor,
    "dask": DaskExecutor,
}
assert tuple(EXECUTORS) == BACKENDS


def make_executor(
    backend: str,
    workers: int | None,
    *,
    start_method: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Executor:
    """The executor for a backend name (arguments checked by the caller)."""
    kwargs = dict(options or {})
    starts_processes = backend in PROCESS_BACKENDS or (
        backend == "dask" and not kwargs.get("scheduler")
    )
    if starts_processes and multiprocessing.current_process().daemon:
        raise RuntimeError(
            f"backend={backend!r} starts worker processes, and this is a daemonic process "
            "(a multiprocessing.Pool worker, say), which may not have children: use "
            "backend='threads' inside it, or run it in a non-daemonic process "
            "(concurrent.futures.ProcessPoolExecutor, or multiprocessing.Process)"
        )
    if backend in PROCESS_BACKENDS and start_method is not None:
        kwargs["mp_context"] = multiprocessing.get_context(start_method)
    return EXECUTORS[backend](workers, **kwargs)


__all__ = [
    "EXECUTORS",
    "ChunkError",
    "ChunkResult",
    "DaskExecutor",
    "Executor",
    "InterpreterExecutor",
    "Job",
    "ProcessExecutor",
    "ProcessPool",
    "Run",
    "SerialExecutor",
    "Task",
    "ThreadExecutor",
    "ThreadModuleExecutor",
    "ThreadPool",
    "WorkerError",
    "WorkerLostError",
    "make_executor",
]
