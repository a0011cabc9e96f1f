"""The parent's side of the hand-written backends (threads, ``_thread``, processes).

Each worker has its own task queue, which the parent keeps ``DEPTH`` tasks deep: with
``schedule="static"`` a worker only ever gets its own block; otherwise the next chunk
goes to whichever worker has room, which is a shared work queue in effect, but one that
a worker killed from outside cannot leave locked. The parent reads results, yields
them, notices dead workers, retries their chunk on a fresh worker, and stops every
worker when it is done, fails, times out or is interrupted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator
from typing import Any, Protocol

from perfectly._work import ChunkResult, Task
from perfectly.backends._base import RunContext, WorkerLostError, chunk_error

DEPTH = 2  # tasks queued per worker: one running, one ready
POLL = 0.05  # seconds between looks at the deadline and at dead workers


class Workers(Protocol):
    """Workers of one kind, as the driver uses them."""

    def spawn(self, slot: int) -> None:
        """Start (or restart) worker ``slot``."""

    def send(self, slot: int, task: Task) -> None:
        """Queue a task for worker ``slot``."""

    def poll(self, timeout: float) -> list[tuple[Any, ...]]:
        """Messages from any worker, waiting up to ``timeout`` s for the first."""

    def alive(self, slot: int) -> bool:
        """Whether worker ``slot`` is still running."""

    def stop(self, graceful: bool) -> None:
        """End every worker (letting them finish when ``graceful``) and free resources."""


def drive(ctx: RunContext, workers: Workers) -> Generator[ChunkResult, None, None]:
    """Run ``ctx.chunks`` on ``workers``, yielding each result as it arrives."""
    slots = range(ctx.workers)
    own: dict[int, deque[Task]] = {w: deque() for w in slots}
    retry: deque[Task] = deque()
    sent: dict[int, dict[int, Task]] = {w: {} for w in slots}
    plan = ctx.chunks
    if ctx.static:
        for chunk in plan:
            own[chunk.index % ctx.workers].append(Task(chunk))
    start = time.perf_counter()
    for w in slots:
        workers.spawn(w)
    ctx.stats.startup = time.perf_counter() - start
    finished = False

    def next_task(w: int) -> Task | None:
        if own[w]:
            return own[w].popleft()
        if ctx.static:
            return None
        if retry:
            return retry.popleft()
        return next((Task(c) for c in plan), None)

    def handle(message: tuple[Any, ...]) -> ChunkResult | None:
        kind, w = message[0], message[1]
        if kind == "done":
            result: ChunkResult = message[2]
            sent[w].pop(result.chunk.index, None)
            return result
        if kind == "error":
            task = sent[w][message[2]]
            raise chunk_error(task.chunk, message[3])
        return None

    try:
        while True:
            for w in slots:
                while len(sent[w]) < DEPTH and (task := next_task(w)) is not None:
                    sent[w][task.chunk.index] = task
                    workers.send(w, task)
            if not any(sent.values()):
                finished = True
                return
            for message in workers.poll(POLL):
                if (result := handle(message)) is not None:
                    yield result
            for w in slots:
                if sent[w] and not workers.alive(w):
                    for message in workers.poll(0):  # what it sent before it died
                        if (result := handle(message)) is not None:
                            yield result
                    for task in reversed(_lost_tasks(ctx, sent[w])):
                        (own[w] if ctx.static else retry).appendleft(task)
                    sent[w] = {}
                    workers.spawn(w)
            ctx.check_deadline()
    finally:
        start = time.perf_counter()
        workers.stop(graceful=finished)
        ctx.stats.shutdown = time.perf_counter() - start


def _lost_tasks(ctx: RunContext, sent: dict[int, Task]) -> list[Task]:
    """The tasks of a dead worker, to run again, in order.

    A worker runs its tasks in the order they were sent, so the oldest one left is
    the one it was running: that one counts a try.
    """
    tasks = []
    for position, (index, task) in enumerate(sent.items()):
        if position == 0:
            if task.attempt >= ctx.retries:
                raise WorkerLostError(
                    f"a worker died running chunk {index} [{task.chunk.lo}, {task.chunk.hi}) "
                    f"on attempt {task.attempt + 1}, and retries={ctx.retries} allows no more"
                )
            task = Task(task.chunk, task.attempt + 1)
            ctx.stats.retried += 1
        tasks.append(task)
    return tasks
