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

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from perfectly._validate import BACKENDS, PROCESS_BACKENDS, check_start_method

# Names are imported on first use (PEP 562): a worker interpreter imports
# perfectly.parallel._task, which runs this file, and needs none of the backends (their
# imports, concurrent.futures and multiprocessing among them, cost it about 30 ms).
#: Where each public name lives (the executors in the order of ``BACKENDS``).
_LAZY = {
    "SerialExecutor": "serial",
    "ThreadExecutor": "threads",
    "ThreadModuleExecutor": "threads",
    "ProcessExecutor": "processes",
    "ThreadPool": "pools",
    "ProcessPool": "pools",
    "InterpreterExecutor": "interpreters",
    "close_idle_interpreters": "interpreters",
    "DaskExecutor": "dask",
    "Executor": "_executor",
    "ChunkError": "_loop",
    "Run": "_loop",
    "WorkerLostError": "_loop",
    "ChunkResult": "_task",
    "Job": "_task",
    "Task": "_task",
    "WorkerError": "_task",
}
#: The executor class of each backend.
_EXECUTOR_NAMES = {
    "serial": "SerialExecutor",
    "threads": "ThreadExecutor",
    "_thread": "ThreadModuleExecutor",
    "processes": "ProcessExecutor",
    "thread-pool": "ThreadPool",
    "process-pool": "ProcessPool",
    "interpreters": "InterpreterExecutor",
    "dask": "DaskExecutor",
}
assert tuple(_EXECUTOR_NAMES) == BACKENDS


def executors() -> dict[str, type[Executor]]:
    """``EXECUTORS``: the executor class of each backend (imported on first use, then the
    same dict every time, so that tests may patch it)."""
    table: dict[str, type[Executor]] | None = globals().get("EXECUTORS")
    if table is None:
        table = {backend: __getattr__(name) for backend, name in _EXECUTOR_NAMES.items()}
        globals()["EXECUTORS"] = table
    return table


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    if name == "EXECUTORS":
        return executors()
    if name not in _LAZY:
        raise AttributeError(f"module 'perfectly.parallel' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"perfectly.parallel.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"EXECUTORS"})


if TYPE_CHECKING:  # what type checkers and IDEs see
    from perfectly.parallel._executor import Executor
    from perfectly.parallel._loop import ChunkError, Run, WorkerLostError
    from perfectly.parallel._task import ChunkResult, Job, Task, WorkerError
    from perfectly.parallel.dask import DaskExecutor
    from perfectly.parallel.interpreters import InterpreterExecutor, close_idle_interpreters
    from perfectly.parallel.pools import ProcessPool, ThreadPool
    from perfectly.parallel.processes import ProcessExecutor
    from perfectly.parallel.serial import SerialExecutor
    from perfectly.parallel.threads import ThreadExecutor, ThreadModuleExecutor

    EXECUTORS: dict[str, type[Executor]]


def make_executor(
    backend: str,
    workers: int | None,
    *,
    start_method: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Executor:
    """The executor for a backend name, not started yet.

    ``search`` makes its executor here, then drives it with :class:`Run`; it checks
    every argument first, and this function checks little itself.

    Parameters
    ----------
    backend : str
        One of ``perfectly.BACKENDS``: its executor class is ``EXECUTORS[backend]``.
    workers : int or None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use
        (``"serial"`` always has one).
    start_method : str or None, default None
        ``"fork"``, ``"forkserver"`` or ``"spawn"`` for ``"processes"`` and
        ``"process-pool"`` (None: the default); other backends take none.
    options : mapping or None, default None
        Keyword arguments for the executor class: for ``"dask"``, ``scheduler``,
        ``security`` and ``trust_scheduler`` (see :class:`DaskExecutor`).

    Returns
    -------
    Executor
        The backend's executor; nothing runs until ``start()`` (or ``with``).

    Raises
    ------
    TypeError
        ``workers`` is not an integer (or is a bool), or ``options`` has a key the
        executor does not take.
    ValueError
        ``backend`` is not a backend name, ``workers`` is out of range, or
        ``start_method`` is not a start method here or is given to a backend that
        starts no process of its own.
    RuntimeError
        The backend starts worker processes (the process backends; ``"dask"`` without a
        ``scheduler``) and this is a daemonic process, which may not have children.

    Examples
    --------
    >>> from perfectly import Census
    >>> from perfectly.parallel import Job, Run, make_executor
    >>> from perfectly.planning import plan
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> chunks = plan(1, 10_000, schedule="dynamic", workers=2, chunk_size=2_500, method="sieve")
    >>> with Run(make_executor("threads", workers=2), job, chunks) as run:
    ...     census = Census.merge(result.census for result in run)
    >>> census.perfect
    (6, 28, 496, 8128)

    A process backend, with its start method (no process starts here):

    >>> executor = make_executor("processes", 2, start_method="spawn")
    >>> type(executor).__name__, executor.max_workers, executor.start_method
    ('ProcessExecutor', 2, 'spawn')
    """
    if backend not in _EXECUTOR_NAMES:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    # only this backend's module is imported (a serial search need not pay some 20 ms
    # for multiprocessing, concurrent.futures and the rest); a patched table wins
    table: dict[str, type[Executor]] | None = globals().get("EXECUTORS")
    cls = table[backend] if table is not None else __getattr__(_EXECUTOR_NAMES[backend])
    kwargs = dict(options or {})
    starts_processes = backend in PROCESS_BACKENDS or (
        backend == "dask" and not kwargs.get("scheduler")
    )
    if starts_processes and _multiprocessing().current_process().daemon:
        raise RuntimeError(
            f"backend={backend!r} starts worker processes, and this is a daemonic process "
            "(a multiprocessing.Pool worker, say), which may not have children: use "
            "backend='threads' inside it, or run it in a non-daemonic process "
            "(concurrent.futures.ProcessPoolExecutor, or multiprocessing.Process)"
        )
    if check_start_method(start_method, backend) is not None:
        kwargs["mp_context"] = _multiprocessing().get_context(start_method)
    return cls(workers, **kwargs)


def _multiprocessing() -> Any:
    """The ``multiprocessing`` module, imported only by the backends that use it."""
    import multiprocessing

    return multiprocessing


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
    "close_idle_interpreters",
    "make_executor",
]
