"""The low-level ``_thread`` module, as in the classic tutorial.

Workers start with ``_thread.start_new_thread``; each holds a lock from
``_thread.allocate_lock`` until it exits, which is how the parent joins it.
Queues, messages and stopping are those of the ``threads`` backend.
"""

from __future__ import annotations

import _thread
import queue
from collections.abc import Generator
from typing import Any

from perfectly._work import ChunkResult, Task, worker_loop
from perfectly.backends._base import RunContext
from perfectly.backends._driver import drive
from perfectly.backends.threads import JOIN_TIMEOUT, ThreadWorkers


class ThreadModuleWorkers(ThreadWorkers):
    """Workers started with ``_thread.start_new_thread``."""

    def _main(self, slot: int, tasks: queue.Queue[Task | None], running: Any) -> None:
        try:
            worker_loop(slot, self.job, tasks, self.results)
        finally:
            running.release()

    def _start(self, slot: int, tasks: queue.Queue[Task | None]) -> Any:
        running = _thread.allocate_lock()
        running.acquire()
        _thread.start_new_thread(self._main, (slot, tasks, running))
        return running

    def _join(self, handle: Any) -> None:
        if handle.acquire(timeout=JOIN_TIMEOUT):
            handle.release()


def run_thread_module(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks on ``ctx.workers`` threads started with ``_thread``."""
    return drive(ctx, ThreadModuleWorkers(ctx.job))
