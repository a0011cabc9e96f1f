"""Threads: ``threading.Thread`` workers (or the low-level ``_thread`` module, as in the
classic tutorial), one ``queue.Queue`` of tasks per worker and one of messages.

With the compiled kernel the GIL is released for the whole of a chunk, so threads run
in parallel; with ``kernel="python"`` (or ``release_gil=False``) they take turns. A
thread cannot be killed: a cancelled run (Ctrl-C, the deadline, an error) sets an
event that each worker looks at between two kernel calls of its chunk (``SUB_CALL``),
so it stops within about one call.
"""

from __future__ import annotations

import _thread
import queue
import threading
from typing import Any

from perfectly.parallel._executor import Executor, drain
from perfectly.parallel._task import Event, Task, worker_loop

JOIN_TIMEOUT = 2.0


class ThreadExecutor(Executor):
    """``max_workers`` threads started with ``threading``, each with its own task queue.

    With the compiled kernel the GIL is released for the whole of a chunk, so the
    threads run in parallel; with ``kernel="python"`` (or ``release_gil=False``) they
    take turns. A thread cannot be killed: a cancelled run stops each one between two
    kernel calls of its chunk.

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
    >>> from perfectly.parallel import Job, Run, ThreadExecutor
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> chunks = [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]
    >>> with Run(ThreadExecutor(2), job, chunks) as run:
    ...     sorted(n for result in run for n in result.census.perfect)
    [6, 28, 496, 8128]
    """

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self._messages: queue.Queue[Event] = queue.Queue()
        self._cancelled = threading.Event()
        self._tasks: list[queue.Queue[Task | None]] = []
        self._handles: list[Any] = []

    def _start(self) -> None:
        for slot in range(self.max_workers):
            tasks: queue.Queue[Task | None] = queue.Queue()
            self._tasks.append(tasks)
            self._handles.append(self._launch(slot, tasks))

    def _launch(self, slot: int, tasks: queue.Queue[Task | None]) -> Any:
        thread = threading.Thread(
            target=worker_loop,
            args=(slot, tasks, self._messages.put),
            kwargs={"stop": self._cancelled.is_set},
            name=f"perfectly-worker-{slot}",
            daemon=True,
        )
        thread.start()
        return thread

    def _join(self, handle: Any) -> None:
        handle.join(JOIN_TIMEOUT)

    def _submit(self, slot: int, task: Task) -> None:
        self._tasks[slot].put(task)

    def wait(self, timeout: float) -> list[Event]:
        return drain(self._messages, timeout)

    def _stop(self, cancel: bool) -> None:
        if cancel:
            self._cancelled.set()
        for tasks in self._tasks:
            if cancel:
                drain(tasks)  # the worker stops after its current chunk
            tasks.put(None)
        for handle in self._handles:
            self._join(handle)


class ThreadModuleExecutor(ThreadExecutor):
    """Threads started with ``_thread.start_new_thread``, as in the classic tutorial.

    Each holds a lock from ``_thread.allocate_lock`` until it exits, which is how the
    parent joins it; otherwise it is a :class:`ThreadExecutor`.

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
    >>> from perfectly.parallel import Job, Run, ThreadModuleExecutor
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> chunks = [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]
    >>> with Run(ThreadModuleExecutor(2), job, chunks) as run:
    ...     sorted(n for result in run for n in result.census.perfect)
    [6, 28, 496, 8128]
    """

    def _launch(self, slot: int, tasks: queue.Queue[Task | None]) -> Any:
        running = _thread.allocate_lock()
        running.acquire()
        _thread.start_new_thread(self._main, (slot, tasks, running))
        return running

    def _main(self, slot: int, tasks: queue.Queue[Task | None], running: Any) -> None:
        try:
            worker_loop(slot, tasks, self._messages.put, stop=self._cancelled.is_set)
        finally:
            running.release()

    def _join(self, handle: Any) -> None:
        if handle.acquire(timeout=JOIN_TIMEOUT):
            handle.release()
