"""The one scheduling loop: every backend's chunks are handed out, waited for, retried
and timed here.

Each worker slot has at most ``DEPTH`` tasks in flight (one running, one ready). With a
pinned plan (``schedule="static"``) chunk i only ever goes to slot i; otherwise the next
chunk goes to whichever slot has room. The loop waits on the executor at most ``POLL``
seconds at a time, so the deadline is kept while a long chunk runs. A task whose worker
was *lost* is run again, up to ``retries`` tries; a task that *raised* never is: the run
stops with ``ChunkError`` chained to the original exception. Whatever ends the run (the
end, an error, the deadline, Ctrl-C, the caller stopping early), the executor is shut
down on the way out.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator

from perfectly.parallel._executor import Executor
from perfectly.parallel._task import ChunkResult, Event, Failed, Finished, Job, Lost, Task
from perfectly.planning import Chunk

DEPTH = 2  # tasks in flight per worker slot: one running, one ready
POLL = 0.05  # seconds between looks at the deadline


class ChunkError(RuntimeError):
    """A chunk raised: the search stopped, and nothing it started is left running.

    ``__cause__`` is the original exception, ``SystemExit`` included (for a process, a
    copy, or a ``WorkerError`` with its text when it could not be pickled, or, from a
    Dask task, when it is not an ``Exception``). A chunk that raised is never run again,
    whatever ``retries`` says.

    Examples
    --------
    A job that fails, as the fault tests make one:

    >>> from perfectly.parallel import ChunkError, Job, Run, make_executor
    >>> from perfectly.planning import Chunk
    >>> class Broken(Job):
    ...     def summarize(self, chunk, stop=None):
    ...         raise ZeroDivisionError("injected")
    >>> job = Broken(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> try:
    ...     with Run(make_executor("threads", workers=2), job, [Chunk(0, 1, 100)]) as run:
    ...         list(run)
    ... except ChunkError as error:
    ...     print(error)
    ...     print(repr(error.__cause__))
    chunk 0 [1, 100) failed: ZeroDivisionError: injected
    ZeroDivisionError('injected')
    """


class WorkerLostError(RuntimeError):
    """A worker died (killed from outside) more often than ``retries`` allows.

    A chunk whose worker died is run again, up to ``retries`` more times (``search`` and
    :class:`~perfectly.parallel.Run` take ``retries``, default 1); one more loss stops the
    run with this error, and nothing it started is left running.

    Examples
    --------
    >>> import perfectly
    >>> from perfectly.parallel import WorkerLostError
    >>> WorkerLostError is perfectly.WorkerLostError
    True
    >>> issubclass(WorkerLostError, RuntimeError)
    True
    """


def chunk_error(chunk: Chunk, error: BaseException) -> ChunkError:
    """The error for a chunk that raised ``error``."""
    return ChunkError(
        f"chunk {chunk.index} [{chunk.lo}, {chunk.hi}) failed: {type(error).__name__}: {error}"
    )


class Run:
    """Run chunks of a job on an executor; iterate it for each chunk's result.

    The one scheduling loop, the same for every backend (``search`` runs its chunks
    with it). Use it as a context manager: entering starts the executor (timed as
    ``startup``), leaving shuts it down (timed as ``shutdown``), cancelling unless the
    run finished. Iterating yields a :class:`ChunkResult` per chunk as it finishes, in no
    set order, with ``worker`` a worker id 0 … n-1. Each slot has at most two tasks in
    flight; the loop waits on the executor at most 0.05 s at a time, to keep the deadline.

    Parameters
    ----------
    executor : Executor
        Where the chunks run; its ``max_workers`` slots are the workers.
    job : Job
        What every chunk computes.
    chunks : iterable of perfectly.planning.Chunk
        The chunks, with distinct indices (a ``perfectly.planning.Plan``, say); taken
        as slots have room, or all at once when ``pinned``.
    pinned : bool, default False
        Chunk i only ever runs on slot i mod ``max_workers`` (a static plan); else the
        next chunk goes to whichever slot has room.
    retries : int, default 1
        How many times a chunk whose worker died is run again (never one that raised).
    timeout : float or None, default None
        Seconds from ``started`` before the run stops with ``TimeoutError``; None: no limit.
    started : float or None, default None
        When the run began, as a ``time.perf_counter()`` value (None: now).

    Attributes
    ----------
    busy, done : dict
        Each worker's seconds of kernel work and chunks run, by worker id.
    retried : int
        Tasks run again after their worker died.
    startup, shutdown : float
        Seconds the executor took to start and to shut down.

    Raises
    ------
    ChunkError
        While iterating: a chunk raised (its ``__cause__`` is the original error).
    WorkerLostError
        While iterating: a worker died running a chunk more often than ``retries`` allows.
    TimeoutError
        While iterating: ``timeout`` passed.

    Examples
    --------
    >>> from perfectly import Census
    >>> from perfectly.parallel import Job, Run, make_executor
    >>> from perfectly.planning import plan
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> chunks = plan(1, 10_000, schedule="dynamic", workers=2, chunk_size=2_500, method="sieve")
    >>> with Run(make_executor("threads", workers=2), job, chunks, timeout=60) as run:
    ...     census = Census.merge(result.census for result in run)
    >>> census.sigma_sum, census.perfect
    (82231803, (6, 28, 496, 8128))
    >>> sum(run.done.values()), run.retried
    (4, 0)
    """

    def __init__(
        self,
        executor: Executor,
        job: Job,
        chunks: Iterable[Chunk],
        *,
        pinned: bool = False,
        retries: int = 1,
        timeout: float | None = None,
        started: float | None = None,
    ) -> None:
        self.executor, self.job, self.retries, self.timeout = executor, job, retries, timeout
        self.pinned = pinned
        began = time.perf_counter() if started is None else started
        self.deadline = None if timeout is None else began + timeout
        executor.deadline = self.deadline
        slots = range(executor.max_workers)
        self._chunks = iter(chunks)
        self._own: list[deque[Task]] = [deque() for _ in slots]  # pinned, and retries of them
        self._again: deque[Task] = deque()  # lost tasks to run again, on any slot
        self._sent: list[dict[int, Task]] = [{} for _ in slots]  # in flight, oldest first
        self._ids: dict[int | str, int] = {}
        self.busy: dict[int, float] = {}
        self.done: dict[int, int] = {}
        self.startup = self.shutdown = 0.0
        self.retried = 0
        self._finished = False

    def __enter__(self) -> Run:
        began = time.perf_counter()
        self.executor.start()
        self.startup = time.perf_counter() - began
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        began = time.perf_counter()
        self.executor.shutdown(cancel=not self._finished)
        self.shutdown = time.perf_counter() - began

    def __iter__(self) -> Iterator[ChunkResult]:
        if self.pinned:
            for chunk in self._chunks:
                self._own[chunk.index % len(self._own)].append(Task(self.job, chunk))
        while True:
            self._hand_out()
            if not any(self._sent):
                self._finished = True
                return
            for event in self.executor.wait(self._wait_time()):
                if (result := self._take(event)) is not None:
                    yield result
            self._check_deadline()

    def _hand_out(self) -> None:
        """Up to ``DEPTH`` tasks in flight per slot, dealt one round of slots at a time: a
        slot's second task only once every slot has a first (depth first, two chunks on
        two workers both went to the first, and the second worker idled)."""
        for depth in range(1, DEPTH + 1):
            for slot, sent in enumerate(self._sent):
                if len(sent) < depth and (task := self._next_task(slot)) is not None:
                    sent[task.chunk.index] = task
                    self.executor.submit(slot, task)

    def _next_task(self, slot: int) -> Task | None:
        if self._own[slot]:
            return self._own[slot].popleft()
        if self.pinned:
            return None
        if self._again:
            return self._again.popleft()
        chunk = next(self._chunks, None)
        return None if chunk is None else Task(self.job, chunk)

    def _take(self, event: Event) -> ChunkResult | None:
        """The result an event brings, if any; raise for a failure, requeue for a loss."""
        if isinstance(event, Finished):
            result = event.result
            del self._sent[event.slot][result.chunk.index]
            worker = self._ids.setdefault(result.worker, len(self._ids) % len(self._sent))
            self.busy[worker] = self.busy.get(worker, 0.0) + result.busy
            self.done[worker] = self.done.get(worker, 0) + 1
            return ChunkResult(result.chunk, result.census, worker, result.busy)
        if isinstance(event, Failed):
            chunk = self._sent[event.slot][event.index].chunk
            raise chunk_error(chunk, event.error) from event.error
        self._requeue(event)
        return None

    def _requeue(self, event: Lost) -> None:
        """Put a lost worker's tasks back in line; the one it was running counts a try."""
        sent = self._sent[event.slot]
        if event.index is None:
            lost = list(sent.values())  # oldest first: the first one was running
            sent.clear()
        else:
            lost = [sent.pop(event.index)]
        if lost:
            lost[0] = self._tried_again(lost[0])
        (self._own[event.slot] if self.pinned else self._again).extendleft(reversed(lost))

    def _tried_again(self, task: Task) -> Task:
        """The task a lost worker was running, with one try more, if retries allow."""
        if task.attempt >= self.retries:
            c = task.chunk
            raise WorkerLostError(
                f"a worker died running chunk {c.index} [{c.lo}, {c.hi}) on attempt "
                f"{task.attempt + 1}, and retries={self.retries} allows no more"
            )
        self.retried += 1
        return Task(task.job, task.chunk, task.attempt + 1)

    def _wait_time(self) -> float:
        if self.deadline is None:
            return POLL
        return max(0.0, min(POLL, self.deadline - time.perf_counter()))

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise TimeoutError(f"the search did not finish within timeout={self.timeout} s")
