"""One chunk of work, as every backend runs it: the job, the task, the result.

Workers in threads and in processes run the same ``worker_loop``: take a task, run the
kernel on the chunk, send back a ``ChunkResult``. The
loop never merges results and never decides what to run next: the parent does both.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import time
from collections.abc import Callable
from typing import Any

from perfectly._core import kernel_module
from perfectly.planning import Chunk

#: Test-only fault injection: "kill@LO", "kill-always@LO" or "raise@LO" makes the worker
#: that runs the chunk starting at LO SIGKILL itself (on its first attempt, or on
#: every attempt) or raise. Read by workers only; never set it outside tests.
FAULT_ENV = "PERFECTLY_TEST_FAULT"
#: Seconds between a worker process's checks that its parent is still alive.
PARENT_CHECK = 1.0


@dataclasses.dataclass(frozen=True)
class Job:
    """What every chunk of one search computes: plain data, cheap to pickle."""

    method: str
    kernel: str
    release_gil: bool
    amicable: bool


@dataclasses.dataclass(frozen=True)
class Task:
    """A chunk to run, and how many times it was tried before."""

    chunk: Chunk
    attempt: int = 0


@dataclasses.dataclass(frozen=True)
class ChunkResult:
    """What a worker sends back for one chunk: its summary and how long it took."""

    chunk: Chunk
    sigma_sum: int
    abundant: int
    deficient: int
    found: tuple[tuple[int, int], ...]
    amicable: tuple[tuple[int, int], ...] | None
    worker: int
    busy: float


class InjectedFault(RuntimeError):
    """Raised by the test-only fault hook."""


def _inject_fault(task: Task) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    kind, _, where = spec.partition("@")
    if int(where) != task.chunk.lo:
        return
    if kind == "raise":
        raise InjectedFault(f"injected fault in chunk starting at {where}")
    if kind == "kill-always" or (kind == "kill" and task.attempt == 0):
        os.kill(os.getpid(), signal.SIGKILL)


def run_task(job: Job, task: Task, worker: int) -> ChunkResult:
    """Run the kernel on one chunk and time it."""
    _inject_fault(task)
    kernel = kernel_module(job.kernel)
    chunk = task.chunk
    start = time.perf_counter()
    total, abundant, deficient, found = kernel.summarize(
        chunk.lo, chunk.hi, job.method, job.release_gil
    )
    pairs = kernel.amicable(chunk.lo, chunk.hi, job.release_gil) if job.amicable else None
    return ChunkResult(
        chunk=chunk,
        sigma_sum=int(total),
        abundant=int(abundant),
        deficient=int(deficient),
        found=tuple((int(n), int(k)) for n, k in found),
        amicable=None if pairs is None else tuple((int(a), int(b)) for a, b in pairs),
        worker=worker,
        busy=time.perf_counter() - start,
    )


def worker_loop(
    worker: int,
    job: Job,
    tasks: Any,
    results: Any,
    tally: Any = None,
    parent_alive: Callable[[], bool] | None = None,
) -> None:
    """Run tasks from ``tasks`` until a ``None`` arrives; report on ``results``.

    Messages: ``("done", worker, ChunkResult)`` and ``("error", worker, index, text)``,
    after which the worker stops. Tasks run in the order they arrive. ``tally``, if
    given, is a (lock, shared counter) pair that counts the numbers done. A worker
    process passes ``parent_alive`` so that it exits if its parent dies (a killed
    parent sends no ``None``, and the task queue never reports end of file).
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
            result = run_task(job, task, worker)
        except Exception as exc:
            results.put(("error", worker, task.chunk.index, f"{type(exc).__name__}: {exc}"))
            return
        results.put(("done", worker, result))
        if tally is not None:
            lock, counter = tally
            with lock:
                counter.value += task.chunk.count
