"""Processes: ``multiprocessing.Process`` workers and multiprocessing queues.

Each worker has its own task queue (a ``multiprocessing.Queue``) and its own result
queue, so a worker killed from outside (SIGKILL) cannot leave a lock that the others
need held. Results go back through a ``multiprocessing.SimpleQueue``, whose ``put``
writes to the pipe before it returns (a ``Queue`` hands the write to a feeder thread):
a worker's finished chunks are therefore all in the pipe before it takes the next
task, so when a worker dies the parent knows which chunk it was running. A
``multiprocessing.Lock`` guards a shared tally of numbers done, which the parent can
read while the run goes on. Workers ignore SIGINT: Ctrl-C is the parent's to handle,
and the parent then terminates them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import time
from collections.abc import Generator
from typing import Any

from perfectly._work import ChunkResult, Job, Task, worker_loop
from perfectly.backends._base import RunContext
from perfectly.backends._driver import drive

JOIN_TIMEOUT = 1.0


def _process_main(slot: int, job: Job, tasks: Any, results: Any, tally: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    worker_loop(slot, job, tasks, results, tally, parent.is_alive if parent else None)


class ProcessWorkers:
    """Worker processes for the driver."""

    def __init__(self, job: Job, start_method: str | None) -> None:
        self.job = job
        self.context: Any = multiprocessing.get_context(start_method)
        self.start_method = self.context.get_start_method()
        self.lock = self.context.Lock()
        self.numbers_done = self.context.Value("Q", 0, lock=False)
        self.processes: dict[int, Any] = {}
        self.tasks: dict[int, Any] = {}
        self.results: dict[int, Any] = {}
        self._retired: list[Any] = []

    def spawn(self, slot: int) -> None:
        if slot in self.processes:  # a dead worker: its queues go with it
            self._retired += [self.tasks[slot], self.results[slot]]
            self.processes[slot].join(0)
        tasks, results = self.context.Queue(), self.context.SimpleQueue()
        process = self.context.Process(
            target=_process_main,
            args=(slot, self.job, tasks, results, (self.lock, self.numbers_done)),
            name=f"perfectly-worker-{slot}",
            daemon=True,
        )
        self.processes[slot], self.tasks[slot], self.results[slot] = process, tasks, results
        process.start()

    def send(self, slot: int, task: Task) -> None:
        self.tasks[slot].put(task)

    def _drain(self) -> list[tuple[Any, ...]]:
        messages = []
        for results in self.results.values():
            while not results.empty():  # this process is the only reader
                messages.append(results.get())
        return messages

    def poll(self, timeout: float) -> list[tuple[Any, ...]]:
        end = time.perf_counter() + timeout
        while True:
            messages = self._drain()
            left = end - time.perf_counter()
            if messages or left <= 0:
                return messages
            sentinels = [p.sentinel for p in self.processes.values()]
            multiprocessing.connection.wait(sentinels, min(left, 0.005))

    def alive(self, slot: int) -> bool:
        return bool(self.processes[slot].is_alive())

    def tally(self) -> int:
        """Numbers done so far, as the workers count them (read under the lock)."""
        with self.lock:
            return int(self.numbers_done.value)

    def stop(self, graceful: bool) -> None:
        if graceful:
            for tasks in self.tasks.values():
                tasks.put(None)
            for process in self.processes.values():
                process.join(JOIN_TIMEOUT)
        for process in self.processes.values():
            if process.is_alive():
                process.terminate()
        for process in self.processes.values():
            process.join(JOIN_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join()
        for q in [*self.tasks.values(), *self._retired]:
            q.close()
            if hasattr(q, "cancel_join_thread"):
                q.cancel_join_thread()
        for results in self.results.values():
            results.close()
        for process in self.processes.values():
            process.close()


def run_processes(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks on ``ctx.workers`` processes."""
    workers = ProcessWorkers(ctx.job, ctx.start_method)
    ctx.stats.start_method = workers.start_method
    return drive(ctx, workers)
