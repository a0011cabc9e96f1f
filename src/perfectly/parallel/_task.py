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
    """What every chunk of one search computes: plain data, cheap to pickle."""

    method: str
    kernel: str
    release_gil: bool
    amicable: bool

    def summarize(self, chunk: Chunk, stop: Callable[[], bool] | None = None) -> Census:
        """The census of ``chunk``, from kernel calls of about ``SUB_CALL`` s each (see
        :func:`~perfectly.parallel._calls.sweep`); ``Cancelled`` as soon as ``stop()`` says
        so between two calls. (The fault tests inject faults in a subclass.)"""
        pieces = sweep(
            self.kernel, self.method, self.amicable, self.release_gil, chunk.lo, chunk.hi, stop
        )
        return self.census(chunk, pieces)

    def census(self, chunk: Chunk, pieces: Iterable[tuple[int, int, Any, Any]]) -> Census:
        """The census of ``chunk`` from the kernel's pieces of it, merged as they come."""
        total = Census.empty(chunk.lo, chunk.lo, amicable=self.amicable)
        for lo, hi, summary, pairs in pieces:
            total = Census.merge([total, Census.from_summary(lo, hi, summary, pairs)])
        return total


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
