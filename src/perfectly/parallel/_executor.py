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
import contextlib
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
    """Base class of the backends' executors: tasks in, messages out.

    An executor has ``max_workers`` slots (0 … ``max_workers`` - 1), starts its workers in
    :meth:`start`, takes tasks for a slot in :meth:`submit`, reports what happened in
    :meth:`wait` and stops in :meth:`shutdown`. Used as a context manager it starts on
    entry and shuts down on exit (cancelling if an exception is leaving). It never
    decides what runs next, never retries and never merges: :class:`Run` does that, the
    same way for every backend. Make one with :func:`make_executor`, or with a subclass.

    Parameters
    ----------
    max_workers : int or None, default None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use.

    Attributes
    ----------
    max_workers : int
        The worker count, checked.
    start_method : str or None
        The ``multiprocessing`` start method, for executors that start processes.
    deadline : float or None
        When the run must stop (a ``time.perf_counter()`` value), set by :class:`Run`.

    Raises
    ------
    TypeError
        ``max_workers`` is not an integer (or is a bool).
    ValueError
        ``max_workers`` is below 1 (other than -1) or above 4096.

    Examples
    --------
    The whole life of an executor, as :class:`Run` drives it:

    >>> from perfectly.parallel import Job, Task, make_executor
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> executor = make_executor("threads", workers=2)
    >>> executor.start()
    >>> executor.submit(0, Task(job, Chunk(0, 1, 5_000)))
    >>> executor.submit(1, Task(job, Chunk(1, 5_000, 10_000)))
    >>> events = []
    >>> while len(events) < 2:  # one message per task
    ...     events += executor.wait(timeout=0.05)
    >>> executor.shutdown()
    >>> sorted(n for event in events for n in event.result.census.perfect)
    [6, 28, 496, 8128]
    """

    #: The ``multiprocessing`` start method, for executors that start processes.
    start_method: str | None = None
    #: When the run must stop (a ``time.perf_counter()`` value), set by the loop; a
    #: backend that runs chunks in the calling thread stops its chunk there.
    deadline: float | None = None

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = check_workers(max_workers)
        self._state = "new"

    def start(self) -> None:
        """Start the workers; a second call does nothing.

        If the backend cannot start them all, the workers it did start are stopped,
        the executor is shut down and the backend's error propagates.

        Raises
        ------
        RuntimeError
            The executor was shut down: it cannot start again. Backends raise more
            where they cannot start (see each class).

        Examples
        --------
        >>> from perfectly.parallel import make_executor
        >>> executor = make_executor("threads", workers=2)
        >>> executor.start()
        >>> executor.start()  # started already: nothing happens
        >>> executor.shutdown()
        >>> executor.start()
        Traceback (most recent call last):
            ...
        RuntimeError: cannot start an executor after its shutdown
        """
        if self._state == "closed":
            raise RuntimeError("cannot start an executor after its shutdown")
        if self._state == "new":
            try:
                self._start()
            except BaseException:
                # Stop what did start (a process executor may have started some of its
                # workers before one failed): a failed executor is shut down, not half up.
                self._state = "closed"
                with contextlib.suppress(Exception):
                    self._stop(True)
                raise
            self._state = "started"

    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop every worker and free what the executor holds; idempotent.

        Parameters
        ----------
        cancel : bool, default False
            True: drop queued tasks and stop running ones where the backend can
            (processes are terminated; threads and worker interpreters, which cannot be,
            stop between two kernel calls of their chunk). False is for an executor with
            nothing in flight, as after a finished run: the workers are told to exit
            and waited for, briefly.

        Examples
        --------
        >>> from perfectly.parallel import make_executor
        >>> executor = make_executor("threads", workers=2)
        >>> executor.start()
        >>> executor.shutdown(cancel=True)
        >>> executor.shutdown()  # shut down already: nothing happens
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

    def submit(self, slot: int, task: Task) -> None:
        """Queue a task for a worker slot; its message comes back from :meth:`wait`.

        Call :meth:`start` first. A pool may run the task on any of its workers: the
        slot then only names the message.

        Parameters
        ----------
        slot : int
            The worker slot, 0 … ``max_workers`` - 1.
        task : Task
            The task; its ``chunk.index`` names it in the messages.

        Raises
        ------
        RuntimeError
            The executor was not started, or was shut down.
        TypeError
            ``slot`` is not an integer.
        ValueError
            ``slot`` is not one of the executor's slots.

        Examples
        --------
        >>> from perfectly.parallel import Job, Task, make_executor
        >>> from perfectly.planning import Chunk
        >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
        >>> with make_executor("threads", workers=2) as executor:
        ...     executor.submit(1, Task(job, Chunk(0, 1, 10_000)))
        ...     events = executor.wait(timeout=5.0)
        >>> events
        [Finished(slot=1, result=ChunkResult(chunk=Chunk(index=0, lo=1, hi=10000), ...))]
        """
        if self._state != "started":
            raise RuntimeError(
                "cannot submit to an executor after its shutdown"
                if self._state == "closed"
                else "start() the executor before submit()"
            )
        if isinstance(slot, bool) or not isinstance(slot, int):
            raise TypeError(f"slot must be an int, got {type(slot).__name__}")
        if not 0 <= slot < self.max_workers:
            raise ValueError(f"slot must be in 0 … {self.max_workers - 1}, got {slot}")
        self._submit(slot, task)

    @abc.abstractmethod
    def _submit(self, slot: int, task: Task) -> None:
        """Queue a task for a worker slot (started, slot checked)."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> list[Event]:
        """What happened since the last call, waiting up to ``timeout`` s for something.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the first message (:class:`SerialExecutor` runs the
            oldest queued task instead, however long it takes).

        Returns
        -------
        list
            The messages, oldest first; empty if nothing happened in time. Each is
            ``Finished(slot, result)`` (``result`` a :class:`ChunkResult`),
            ``Failed(slot, index, error)`` (chunk ``index`` raised ``error``: the
            original exception, a copy, or a :class:`WorkerError`; that worker then
            stops) or ``Lost(slot, index)`` (a worker died: with ``index`` None, every
            task sent to ``slot`` is lost, and the oldest was running).

        Examples
        --------
        >>> from perfectly.parallel import Job, Task, make_executor
        >>> from perfectly.planning import Chunk
        >>> bad = Job(method="nope", kernel="python", release_gil=True, amicable=False)
        >>> with make_executor("threads", workers=1) as executor:
        ...     executor.wait(timeout=0.01)  # nothing submitted: nothing happens
        ...     executor.submit(0, Task(bad, Chunk(7, 1, 100)))
        ...     executor.wait(timeout=5.0)
        []
        [Failed(slot=0, index=7, error=ValueError("method must be one of ...))]
        """
