"""The baseline: every chunk in the calling thread, one after the other.

``wait`` runs the oldest queued task, so Ctrl-C and the deadline act between chunks.
"""

from __future__ import annotations

from collections import deque

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

    def submit(self, slot: int, task: Task) -> None:
        self._queue.append((slot, task))

    def wait(self, timeout: float) -> list[Event]:
        if not self._queue:
            return []
        slot, task = self._queue.popleft()
        try:
            return [Finished(slot, run_task(task, slot))]
        except Exception as exc:
            return [Failed(slot, task.chunk.index, exc)]
