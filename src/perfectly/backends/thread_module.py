"""The low-level ``_thread`` module, as in the classic tutorial.

Workers start with ``_thread.start_new_thread``; each holds a lock from
``_thread.allocate_lock`` until it exits, which is how the parent joins it.
"""

from __future__ import annotations

import _thread
import queue
from collections.abc import Generator
from typing import Any

from perfectly._work import ChunkResult, Job, Task, worker_loop
from perfectly.backends._base import RunContext
from perfectly.backends._driver import drive
from perfectly.backends.threads import JOIN_TIMEOUT, discard_pending, drain


class ThreadModuleWorkers:
    """Workers started with ``_thread.start_new_thread``."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.results: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.tasks: dict[int, queue.Queue[Task | None]] = {}
        self.running: dict[int, Any] = {}  # slot -> lock held while the worker runs

    def _main(self, slot: int, tasks: queue.Queue[Task | None], running: Any) -> None:
        try:
            worker_loop(slot, self.job, tasks, self.results)
        finally:
            running.release()

    def spawn(self, slot: int) -> None:
        tasks: queue.Queue[Task | None] = queue.Queue()
        running = _thread.allocate_lock()
        running.acquire()
        self.tasks[slot], self.running[slot] = tasks, running
        _thread.start_new_thread(self._main, (slot, tasks, running))

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
        for running in self.running.values():
            if running.acquire(timeout=JOIN_TIMEOUT):
                running.release()


def run_thread_module(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks on ``ctx.workers`` threads started with ``_thread``."""
    return drive(ctx, ThreadModuleWorkers(ctx.job))
