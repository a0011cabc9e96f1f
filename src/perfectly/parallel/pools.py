"""``concurrent.futures`` pools, for comparison with the hand-written backends.

The pool's own queue decides which of its workers runs a task; the slot a task was
submitted for only paces the loop. A process pool broken by a killed worker does not
say which task killed it: every task it held is reported lost (each counts a try),
and a fresh pool takes over. Pool processes watch their parent and exit if it dies.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

# Imported now, not lazily by ``cf.ThreadPoolExecutor`` at the first thread-pool run: the
# module registers fork hooks for a lock, and registering them while another thread is
# between the hooks of its fork (a process backend starting) leaves that lock released
# under a running ``submit`` ("RuntimeError: release unlocked lock").
from concurrent.futures.thread import ThreadPoolExecutor
from typing import Any

from perfectly.parallel import _forkserver, _mixing
from perfectly.parallel._executor import Executor, finished
from perfectly.parallel._task import (
    PARENT_CHECK,
    ChunkResult,
    Event,
    Failed,
    Finished,
    Lost,
    Task,
    run_pickled,
    run_task,
)


def _pool_task(task: Task, pickled: bool, stop: Any = None) -> ChunkResult:
    """Run a task in a pool worker, which names itself by its process and thread; a
    thread pool's task stops between two kernel calls once ``stop()`` is true."""
    worker = f"{os.getpid()}:{threading.get_ident()}"
    return run_pickled(task, worker) if pickled else run_task(task, worker, stop)


def _watch_parent() -> None:
    """Pool-process initializer: exit when the parent dies (the pool would wait forever)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        while parent.is_alive():
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="perfectly-parent-watch", daemon=True).start()


class _PoolExecutor(Executor):
    """A ``concurrent.futures`` executor as a backend."""

    _pickled = False  # whether tasks cross a process boundary

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self._pool: cf.Executor | None = None
        self._futures: dict[cf.Future[ChunkResult], tuple[int, int]] = {}
        self._cancelled = threading.Event()

    @abc.abstractmethod
    def _make_pool(self) -> cf.Executor:
        """A fresh pool."""

    def _start(self) -> None:
        self._pool = self._make_pool()

    def _submit(self, slot: int, task: Task) -> None:
        assert self._pool is not None
        try:
            stop = None if self._pickled else self._cancelled.is_set
            future = self._pool.submit(_pool_task, task, self._pickled, stop)
        except BrokenProcessPool as exc:  # broken before wait() saw it: lost like the rest
            future = cf.Future()
            future.set_exception(exc)
        self._futures[future] = (slot, task.chunk.index)

    def wait(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        for slot, index, future in finished(self._futures, timeout):
            try:
                events.append(Finished(slot, future.result()))
            except BrokenProcessPool:
                events.append(Lost(slot, index))
            except KeyboardInterrupt:
                raise  # Ctrl-C in this thread, not the chunk's failure
            except BaseException as exc:  # SystemExit too, as from every other backend
                events.append(Failed(slot, index, exc))
        if any(isinstance(e, Lost) for e in events):  # the pool is broken: all it held is lost
            events += [Lost(slot, index) for slot, index in self._futures.values()]
            self._futures.clear()
            self._stop(cancel=True)
            self._pool = self._make_pool()
        return events

    def _stop(self, cancel: bool) -> None:
        if cancel:
            self._cancelled.set()  # running thread-pool tasks stop within one kernel call
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class ThreadPool(_PoolExecutor):
    """A ``ThreadPoolExecutor`` of ``max_workers`` threads.

    The pool's own queue decides which thread runs a task; the slot it was submitted
    for only paces the loop. A cancelled run stops running tasks between two kernel
    calls and drops queued ones.

    Parameters
    ----------
    max_workers : int or None, default None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use.

    Raises
    ------
    TypeError, ValueError
        ``max_workers`` is not a valid worker count (see :class:`Executor`).

    Examples
    --------
    >>> from perfectly.parallel import Job, Run, ThreadPool
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> chunks = [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]
    >>> with Run(ThreadPool(2), job, chunks) as run:
    ...     sorted(n for result in run for n in result.census.perfect)
    [6, 28, 496, 8128]
    """

    def _make_pool(self) -> cf.Executor:
        return ThreadPoolExecutor(max_workers=self.max_workers)


class ProcessPool(_PoolExecutor):
    """A ``ProcessPoolExecutor`` with an explicit ``mp_context``.

    The pool's own queue decides which process runs a task. A pool broken by a killed
    worker does not say which task killed it: every task it held is reported lost (each
    counts a try), and a fresh pool takes over. A cancelled run terminates the
    processes. Pool processes exit if their parent dies.

    Parameters
    ----------
    max_workers : int or None, default None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use.
    mp_context : multiprocessing context or None, default None
        Where the processes come from, e.g. ``multiprocessing.get_context("spawn")``.
        None: ``multiprocessing``'s default, except that ``forkserver`` replaces
        ``fork`` once worker interpreters have run in this process.

    Raises
    ------
    TypeError, ValueError
        ``max_workers`` is not a valid worker count (see :class:`Executor`).
    RuntimeError
        From :meth:`~Executor.start`: ``mp_context`` forks and worker interpreters
        (``backend="interpreters"``) run or have run in this process.

    Examples
    --------
    >>> import multiprocessing
    >>> from perfectly.parallel import Job, ProcessPool, Run
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> pool = ProcessPool(2, mp_context=multiprocessing.get_context("spawn"))
    >>> with Run(pool, job, [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]) as run:
    ...     sorted(n for result in run for n in result.census.perfect)
    [6, 28, 496, 8128]
    """

    _pickled = True

    def __init__(self, max_workers: int | None = None, mp_context: Any = None) -> None:
        super().__init__(max_workers)
        self._chosen = mp_context is not None
        self._context = mp_context or multiprocessing.get_context()
        self.start_method = self._context.get_start_method()

    def _make_pool(self) -> cf.Executor:
        """A pool whose workers, where they fork, are all started now, under the guard
        against forking while interpreters live (see ``_mixing``)."""
        with _mixing.starting_processes(self._context, chosen=self._chosen) as context:
            self._context, self.start_method = context, context.get_start_method()
            _forkserver.preload_worker_modules(context)
            pool = cf.ProcessPoolExecutor(
                max_workers=self.max_workers, mp_context=context, initializer=_watch_parent
            )
            if self.start_method == "fork":  # a fork pool starts every worker at its first task
                pool.submit(int).result()
        return pool

    def _stop(self, cancel: bool) -> None:
        if cancel and self._pool is not None:
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()  # no public way to stop a running task
        super()._stop(cancel)
