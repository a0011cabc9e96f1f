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
    """One worker, the calling thread, whatever ``max_workers`` says (it is still checked).

    The baseline: :meth:`~Executor.wait` runs the oldest queued task, there and then, so chunks
    run one after the other in the order they were submitted. Ctrl-C and the deadline
    act between two kernel calls of a chunk (the deadline drops the chunk it cuts short).

    Parameters
    ----------
    max_workers : int or None, default None
        Checked as for every executor, then ignored: ``max_workers`` is always 1.

    Raises
    ------
    TypeError, ValueError
        ``max_workers`` is not a valid worker count (see :class:`Executor`).

    Examples
    --------
    >>> from perfectly.parallel import Job, Run, SerialExecutor
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> executor = SerialExecutor(4)
    >>> executor.max_workers
    1
    >>> with Run(executor, job, [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]) as run:
    ...     [result.census.perfect for result in run]
    [(6, 28, 496), (8128,)]
    """

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

    def _submit(self, slot: int, task: Task) -> None:
        self._queue.append((slot, task))

    def wait(self, timeout: float) -> list[Event]:
        if not self._queue:
            return []
        slot, task = self._queue.popleft()
        try:
            return [Finished(slot, run_task(task, slot, self._past_deadline))]
        except Cancelled:
            return []  # the loop sees the deadline passed, and raises
        except KeyboardInterrupt:
            raise  # Ctrl-C, not the chunk's failure
        except BaseException as exc:  # SystemExit too, as from every other backend
            return [Failed(slot, task.chunk.index, exc)]
