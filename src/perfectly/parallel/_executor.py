"""The shape every backend has: a ``concurrent.futures``-like executor of tasks.

An executor has ``max_workers`` slots (0 … n-1), starts its workers in ``start()``,
takes tasks for a slot in ``submit(slot, task)``, reports what happened in
``wait(timeout)`` (``Finished``, ``Failed`` or ``Lost`` messages; it waits at most
``timeout`` seconds for the first) and stops in ``shutdown(cancel=…)``. It is a context
manager. It never decides what runs next, never retries and never merges: the loop
(:class:`perfectly.parallel.Run`) does all of that, the same way for every backend.
"""

from __future__ import annotations

import abc
import queue
from typing import TYPE_CHECKING, TypeVar

from perfectly._validate import check_workers
from perfectly.parallel._task import Event, Task

if TYPE_CHECKING:
    import concurrent.futures as cf

T = TypeVar("T")


def drain(q: queue.Queue[T], timeout: float = 0.0) -> list[T]:
    """Everything on ``q``, waiting up to ``timeout`` s for the first item."""
    items: list[T] = []
    try:
        items.append(q.get(block=timeout > 0, timeout=max(timeout, 0.0) or None))
        while True:
            items.append(q.get_nowait())
    except queue.Empty:
        return items


def finished(
    futures: dict[cf.Future[T], tuple[int, int]], timeout: float
) -> list[tuple[int, int, cf.Future[T]]]:
    """``(slot, chunk index, future)`` for each future of ``futures`` that is done, taken
    out of ``futures``; waits up to ``timeout`` s for the first (the pool backends)."""
    import concurrent.futures as cf

    done, _ = cf.wait(futures, timeout, return_when=cf.FIRST_COMPLETED)
    return [(*futures.pop(future), future) for future in done]


class Executor(abc.ABC):
    """Base class of the backends' executors."""

    #: The ``multiprocessing`` start method, for executors that start processes.
    start_method: str | None = None
    #: When the run must stop (a ``time.perf_counter()`` value), set by the loop; a
    #: backend that runs chunks in the calling thread stops its chunk there.
    deadline: float | None = None

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = check_workers(max_workers)
        self._state = "new"

    def start(self) -> None:
        """Start the workers (once; an executor shut down cannot start again)."""
        if self._state == "closed":
            raise RuntimeError("cannot start an executor after its shutdown")
        if self._state == "new":
            self._state = "started"
            self._start()

    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop every worker and free what the executor holds; idempotent.

        ``cancel``: drop queued tasks and stop running ones where the backend can
        (processes are terminated; a thread cannot be, so it finishes its chunk).
        """
        if self._state == "started":
            self._state = "closed"
            self._stop(cancel)
        self._state = "closed"

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self.shutdown(cancel=exc_type is not None)

    @abc.abstractmethod
    def _start(self) -> None:
        """Start the workers."""

    @abc.abstractmethod
    def _stop(self, cancel: bool) -> None:
        """Stop the workers."""

    @abc.abstractmethod
    def submit(self, slot: int, task: Task) -> None:
        """Queue ``task`` for worker ``slot`` (a pool may run it on any of its workers)."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> list[Event]:
        """What happened since the last call, waiting up to ``timeout`` s for something."""
