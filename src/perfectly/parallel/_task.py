"""One chunk of work, as every backend runs it: the task, the result, the messages.

Workers in threads and processes run the same :func:`worker_loop`: take a task, run
the kernel on its chunk, send back a message. A worker never merges results and never
decides what to run next: the loop in the parent does both.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import queue
import time
from collections.abc import Callable
from typing import Any

from perfectly._core import kernel_module
from perfectly.census import Census
from perfectly.planning import Chunk

#: Seconds between a worker process's checks that its parent is still alive.
PARENT_CHECK = 1.0
#: Seconds of work a worker aims for per kernel call: a chunk runs as a series of calls
#: sized to take about this long, with a look at ``stop`` between them, so a cancelled
#: thread worker stops within about one call (a compiled call cannot be interrupted).
#: 0.1 s: a call costs ≈ 50 µs in Python, 0.05 % of it (the sieve's set-up is paid once
#: per chunk, not per call: see Job.summarize); and a timeout or Ctrl-C still stops every
#: thread worker well within its 2 s (one call, even at 5× load).
#: A call is sized by the CPU time of its thread, not by the clock: on a busy machine a
#: thread waiting for a CPU would read as a slow call, and the size would collapse
#: (measured: with two busy loops on 2 CPUs, sizes shrank to a few numbers and a search
#: of [1, 4e7) took 13 s instead of 0.1 s). A size also halves at most per call.
SUB_CALL = 0.1
#: Sub-call sizes learned so far in this process, by (method, kernel): the last size and
#: the n where it ran, so that a worker's next chunk starts near the right size instead
#: of ramping up from 1 again (the ramp costs a call's set-up per step).
_learned: dict[tuple[str, str], tuple[int, int]] = {}


@dataclasses.dataclass(frozen=True)
class Job:
    """What every chunk of one search computes: plain data, cheap to pickle."""

    method: str
    kernel: str
    release_gil: bool
    amicable: bool

    def summarize(self, chunk: Chunk, stop: Callable[[], bool] | None = None) -> Census:
        """The census of ``chunk``, in kernel calls of about ``SUB_CALL`` s each on one
        ``Sweep`` (the sieve's state is kept from call to call, so its set-up is paid once
        per chunk; the calls are sized as they go, as the cost per number grows with n);
        ``Cancelled`` as soon as ``stop()`` says so between two calls. (The fault tests
        inject faults in a subclass.)"""
        sweep = kernel_module(self.kernel).Sweep(
            chunk.lo, chunk.hi, self.method, amicable=self.amicable
        )
        total = Census.empty(chunk.lo, chunk.lo, amicable=self.amicable)
        size = first_size(_learned.get((self.method, self.kernel)), chunk.lo)
        while sweep.position < chunk.hi:
            if stop is not None and stop():
                raise Cancelled(f"stopped in chunk {chunk.index} at {sweep.position}")
            segments, began = sweep.segments, time.thread_time()
            lo, hi, summary, pairs = sweep.summarize(size, self.release_gil)
            growth = SUB_CALL / max(time.thread_time() - began, 1e-6)
            # a short last call says little about the next size, and one that paid a
            # set-up is slower than the calls after it: it may only make the next larger
            if hi - lo == size and (sweep.segments == segments or growth > 1):
                size = max(1, int(size * min(4.0, max(0.5, growth))))
                _learned[self.method, self.kernel] = (size, hi)
            total = Census.merge([total, Census.from_summary(lo, hi, summary, pairs)])
        return total


def first_size(learned: tuple[int, int] | None, lo: int) -> int:
    """The size of a chunk's first kernel call at ``lo``: 1 (then ×4 a call) with nothing
    learned, else the learned size, scaled by √(at / lo) when ``lo`` lies above where it
    was learned, as the cost per number grows at most like √n (trial division)."""
    if learned is None:
        return 1
    size, at = learned
    if lo > at:
        size = int(size * math.sqrt(at / lo))
    return max(1, size)


@dataclasses.dataclass(frozen=True)
class Task:
    """A chunk of a job to run, and how many times it was tried before."""

    job: Job
    chunk: Chunk
    attempt: int = 0


@dataclasses.dataclass(frozen=True)
class ChunkResult:
    """A finished chunk: its census, the worker that ran it and its seconds of work.

    Workers name themselves as they can (a slot, a process and thread, an address);
    the loop turns that into a worker id 0 … n-1.
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


class Cancelled(Exception):
    """Raised in a worker whose run was stopped (cancelled, or past its deadline)."""


class WorkerError(RuntimeError):
    """An exception from a worker process that could not be sent back as itself."""


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
        except Exception as exc:
            send(Failed(slot, task.chunk.index, portable(exc) if pickled else exc))
            return
        send(Finished(slot, result))
