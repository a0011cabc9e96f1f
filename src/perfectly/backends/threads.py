"""Threads: ``threading.Thread`` workers, ``queue.Queue`` for tasks and results.

With the compiled kernel the GIL is released for the whole of a chunk, so threads run
in parallel; with ``kernel="python"`` (or ``release_gil=False``) they take turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from typing import Any

from perfectly._work import ChunkResult, Job, Task, worker_loop
from perfectly.backends._base import RunContext
from perfectly.backends._driver import drive

JOIN_TIMEOUT = 2.0


class ThreadWorkers:
    """Worker threads for the driver; a thread cannot be killed, so it is always alive."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.results: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.tasks: dict[int, queue.Queue[Task | None]] = {}
        self.handles: dict[int, Any] = {}

    def _start(self, slot: int, tasks: queue.Queue[Task | None]) -> Any:
        thread = threading.Thread(
            target=worker_loop,
            args=(slot, self.job, tasks, self.results),
            name=f"perfectly-worker-{slot}",
            daemon=True,
        )
        thread.start()
        return thread

    def _join(self, handle: Any) -> None:
        handle.join(JOIN_TIMEOUT)

    def spawn(self, slot: int) -> None:
        tasks: queue.Queue[Task | None] = queue.Queue()
        self.tasks[slot] = tasks
        self.handles[slot] = self._start(slot, tasks)

    def send(self, slot: int, task: Task) -> None:
        self.tasks[slot].put(task)

    def poll(self, timeout: float) -> list[tuple[Any, ...]]:
        return drain(self.results, timeout)

    def alive(self, slot: int) -> bool:
        return True

    def stop(self, graceful: bool) -> None:
        for tasks in self.tasks.values():
            discard_pending(tasks)
            tasks.put(None)
        for handle in self.handles.values():
            self._join(handle)


def drain(results: queue.Queue[tuple[Any, ...]], timeout: float) -> list[tuple[Any, ...]]:
    """Every message on ``results``, waiting up to ``timeout`` s for the first."""
    try:
        messages = [results.get(timeout=timeout) if timeout > 0 else results.get_nowait()]
    except queue.Empty:
        return []
    while True:
        try:
            messages.append(results.get_nowait())
        except queue.Empty:
            return messages


def discard_pending(tasks: queue.Queue[Task | None]) -> None:
    """Drop the tasks a worker has not started, so that it stops after its current one."""
    while True:
        try:
            tasks.get_nowait()
        except queue.Empty:
            return


def run_threads(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks on ``ctx.workers`` threads."""
    return drive(ctx, ThreadWorkers(ctx.job))
