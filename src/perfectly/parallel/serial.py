"""The baseline: every chunk in the calling thread, one after the other.

``wait`` runs the oldest queued task; Ctrl-C acts between two kernel calls of a chunk
(see ``SUB_CALL``), and so does the deadline, which drops the chunk it cuts short.
"""

from __future__ import annotations

import time
from collections import deque

from perfectly.parallel._calls import Cancelled
from perfectly.parallel._executor import Executor
from perfectly.parallel._task import Event, Failed, Finished, Task, run_task


class SerialExecutor(Executor):
    """One worker, the calling thread, whatever ``max_workers`` says (it is still checked)."""

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self.max_workers = 1
        self._queue: deque[tuple[int, Task]] = deque()

    def _start(self) -> None:
        pass

    def _stop(self, cancel: bool) -> None:
        self._queue.clear()

    def _past_deadline(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def submit(self, slot: int, task: Task) -> None:
        self._queue.append((slot, task))

    def wait(self, timeout: float) -> list[Event]:
        if not self._queue:
            return []
        slot, task = self._queue.popleft()
        try:
            return [Finished(slot, run_task(task, slot, self._past_deadline))]
        except Cancelled:
            return []  # the loop sees the deadline passed, and raises
        except Exception as exc:
            return [Failed(slot, task.chunk.index, exc)]
