"""One chunk of work, as every backend runs it: the task, the result, the messages.

Workers in threads and processes run the same :func:`worker_loop`: take a task, run
the kernel on its chunk, send back a message. A worker never merges results and never
decides what to run next: the loop in the parent does both.
"""

from __future__ import annotations

import dataclasses
import pickle
import queue
import time
from collections.abc import Callable, Iterable
from typing import Any

from perfectly.census import Census
from perfectly.parallel._calls import Cancelled, sweep
from perfectly.planning import Chunk

#: Seconds between a worker process's checks that its parent is still alive.
PARENT_CHECK = 1.0


@dataclasses.dataclass(frozen=True)
class Job:
    """What every chunk of one search computes: plain data, cheap to pickle.

    A job is sent to the workers with each :class:`Task`; a worker computes a chunk's
    census with :meth:`summarize`. Nothing is checked here: ``search`` checks its
    arguments (``"trial"`` and ``amicable`` only below 2**61) before it makes a job.

    Parameters
    ----------
    method : str
        ``"sieve"`` (the segmented factor sieve) or ``"trial"`` (divisor pairs up to √n).
    kernel : str
        ``"compiled"`` (the Cython extension) or ``"python"`` (the pure-Python kernel).
    release_gil : bool
        Whether the compiled kernel releases the GIL while it runs (False holds it, to
        measure what that costs); the Python kernel always holds it.
    amicable : bool
        Also list the amicable pairs (a, b) with a in the chunk.

    Examples
    --------
    >>> import pickle
    >>> from perfectly.parallel import Job
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> pickle.loads(pickle.dumps(job)) == job
    True
    """

    method: str
    kernel: str
    release_gil: bool
    amicable: bool

    def summarize(self, chunk: Chunk, stop: Callable[[], bool] | None = None) -> Census:
        """The census of a chunk, from kernel calls of about 0.1 s each.

        The calls share one kernel ``Sweep`` (the sieve is set up once per chunk) and are
        sized as they go; :meth:`census` merges their pieces. A subclass may override
        this to inject faults, as the fault tests do.

        Parameters
        ----------
        chunk : perfectly.planning.Chunk
            The numbers [``chunk.lo``, ``chunk.hi``), ``1 ≤ lo ≤ hi ≤ 2**64``.
        stop : callable or None, default None
            Asked between two kernel calls: once ``stop()`` is true, the chunk is dropped
            with ``Cancelled`` (an internal exception); None: never stopped.

        Returns
        -------
        perfectly.Census
            The census of [``chunk.lo``, ``chunk.hi``).

        Raises
        ------
        ValueError
            ``method`` or ``kernel`` is not one the kernels know, or ``chunk.lo`` < 1 or
            ``chunk.lo`` > ``chunk.hi``.
        OverflowError
            The chunk goes beyond what ``method`` supports (2**64; 2**61 for
            ``"trial"`` and amicable pairs).
        RuntimeError
            ``kernel="compiled"`` where the compiled kernel is not available.

        Examples
        --------
        >>> from perfectly.parallel import Job
        >>> from perfectly.planning import Chunk
        >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=True)
        >>> job.summarize(Chunk(0, 1, 10_000))  # doctest: +NORMALIZE_WHITESPACE
        Census(lo=1, hi=10000, sigma_sum=82231803, abundant=2487, deficient=7508,
               perfect=(6, 28, 496, 8128), multiply_perfect=((120, 3), (672, 3)),
               amicable=((220, 284), (1184, 1210), (2620, 2924), (5020, 5564), (6232, 6368)))
        """
        pieces = sweep(
            self.kernel, self.method, self.amicable, self.release_gil, chunk.lo, chunk.hi, stop
        )
        return self.census(chunk, pieces)

    def census(self, chunk: Chunk, pieces: Iterable[tuple[int, int, Any, Any]]) -> Census:
        """The census of a chunk from the kernel's pieces of it, merged as they come.

        Parameters
        ----------
        chunk : perfectly.planning.Chunk
            The chunk the pieces tile, from ``chunk.lo`` on.
        pieces : iterable of tuple
            ``(lo, hi, summary, pairs)`` for consecutive ranges, as a kernel ``Sweep``
            gives them: ``summary`` is ``(Σσ, abundant, deficient, found)``, with
            ``found`` the ``(n, k)`` where σ(n) = k·n, k ≥ 2; ``pairs`` the amicable
            pairs, or None when the job does not look for them.

        Returns
        -------
        perfectly.Census
            The census of the range the pieces cover (``[chunk.lo, chunk.lo)`` if none).

        Raises
        ------
        ValueError
            The pieces do not tile a range from ``chunk.lo``, or some have ``pairs`` and
            others (or the job) do not.

        Examples
        --------
        >>> from perfectly.parallel import Job
        >>> from perfectly.planning import Chunk
        >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
        >>> pieces = [(1, 4, (8, 0, 3, []), None), (4, 7, (25, 0, 2, [(6, 2)]), None)]
        >>> job.census(Chunk(0, 1, 7), pieces)  # doctest: +NORMALIZE_WHITESPACE
        Census(lo=1, hi=7, sigma_sum=33, abundant=0, deficient=5, perfect=(6,),
               multiply_perfect=(), amicable=None)
        """
        total = Census.empty(chunk.lo, amicable=self.amicable)
        for lo, hi, summary, pairs in pieces:
            total = Census.merge([total, Census.from_summary(lo, hi, summary, pairs)])
        return total


@dataclasses.dataclass(frozen=True)
class Task:
    """A chunk of a job to run, and how many times it was tried before.

    What :meth:`Executor.submit` takes. :class:`Run` makes one per chunk, and a new one
    with ``attempt + 1`` for a chunk whose worker died.

    Parameters
    ----------
    job : Job
        What to compute.
    chunk : perfectly.planning.Chunk
        The numbers to compute it for; ``chunk.index`` names the task in messages.
    attempt : int, default 0
        How many times the chunk was tried before (its worker died each time).

    Examples
    --------
    >>> from perfectly.parallel import Job, Task
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> Task(job, Chunk(3, 1, 10_000))
    Task(job=Job(...), chunk=Chunk(index=3, lo=1, hi=10000), attempt=0)
    """

    job: Job
    chunk: Chunk
    attempt: int = 0


@dataclasses.dataclass(frozen=True)
class ChunkResult:
    """A finished chunk: its census, the worker that ran it and its seconds of work.

    Workers name themselves as they can (a slot, a process and thread, an address);
    :class:`Run` turns that into a worker id 0 … n-1 in the results it yields.

    Parameters
    ----------
    chunk : perfectly.planning.Chunk
        The chunk.
    census : perfectly.Census
        Its census.
    worker : int or str
        The worker that ran it: its id (from :class:`Run`), or the name it gave itself.
    busy : float
        Seconds the worker spent on it.

    Examples
    --------
    >>> from perfectly.parallel import Job, Run, make_executor
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> with Run(make_executor("serial", None), job, [Chunk(0, 1, 10_000)]) as run:
    ...     [result] = run
    >>> result.chunk, result.worker, result.census.perfect
    (Chunk(index=0, lo=1, hi=10000), 0, (6, 28, 496, 8128))
    """

    chunk: Chunk
    census: Census
    worker: int | str
    busy: float


@dataclasses.dataclass(frozen=True)
class Finished:
    """Message: the task of ``slot`` finished."""

    slot: int
    result: ChunkResult


@dataclasses.dataclass(frozen=True)
class Failed:
    """Message: chunk ``index`` of ``slot`` raised ``error`` (the original exception)."""

    slot: int
    index: int
    error: BaseException


@dataclasses.dataclass(frozen=True)
class Lost:
    """Message: a worker died. ``index`` None: the worker of ``slot`` died, and every task
    sent to it is lost (the oldest was running); else only task ``index`` was."""

    slot: int
    index: int | None = None


Event = Finished | Failed | Lost


class WorkerError(RuntimeError):
    """An exception from a worker process that could not be sent back as itself.

    A worker in another process (or interpreter) sends back what its chunk raised; an
    exception that cannot be pickled (or, from a worker interpreter running a plain
    :class:`Job`, any but a builtin one) comes back as a ``WorkerError`` with its type and
    text instead: the ``__cause__`` of the :exc:`~perfectly.ChunkError` that stops the run.

    Examples
    --------
    >>> from perfectly.parallel import WorkerError
    >>> error = WorkerError("LocalError: boom")  # as made for LocalError("boom")
    >>> isinstance(error, RuntimeError), str(error)
    (True, 'LocalError: boom')
    """


def run_task(task: Task, worker: int | str, stop: Callable[[], bool] | None = None) -> ChunkResult:
    """Run the kernel on one chunk and time it; ``Cancelled`` once ``stop()`` is true."""
    start = time.perf_counter()
    census = task.job.summarize(task.chunk, stop)
    return ChunkResult(task.chunk, census, worker, time.perf_counter() - start)


def run_pickled(task: Task, worker: int | str) -> ChunkResult:
    """``run_task`` for a worker whose pool pickles what it raises: errors made ``portable``."""
    try:
        return run_task(task, worker)
    except Exception as exc:
        error = portable(exc)
    # raised outside the handler, so that a WorkerError has no unpicklable __context__
    # (tblib, which distributed installs, pickles the context too)
    raise error


def portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a trip through pickle, else a ``WorkerError`` with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return WorkerError(f"{type(exc).__name__}: {exc}")
    return exc


def worker_loop(
    slot: int,
    tasks: Any,
    send: Callable[[Event], object],
    parent_alive: Callable[[], bool] | None = None,
    *,
    pickled: bool = False,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Run tasks from ``tasks`` until a ``None`` arrives, sending one message each.

    After a ``Failed`` message the worker stops. A worker process passes
    ``parent_alive`` so that it exits if its parent dies (a killed parent sends no
    ``None``, and the task queue never reports end of file). With ``pickled`` (the
    messages cross a process boundary) errors are made ``portable``. A thread worker
    passes ``stop``: once it is true the worker exits, even mid-chunk.
    """
    while True:
        if parent_alive is None:
            task = tasks.get()
        else:
            try:
                task = tasks.get(timeout=PARENT_CHECK)
            except queue.Empty:
                if not parent_alive():
                    return
                continue
        if task is None:
            return
        try:
            result = run_task(task, slot, stop)
        except Cancelled:
            return
        except BaseException as exc:  # SystemExit too: a thread dying of it would hang the run
            send(Failed(slot, task.chunk.index, portable(exc) if pickled else exc))
            return
        send(Finished(slot, result))
