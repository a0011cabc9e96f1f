"""Processes: ``multiprocessing.Process`` workers with an explicit start method.

Each worker has its own task queue (a ``multiprocessing.Queue``) and its own result
pipe, so a worker killed from outside (SIGKILL) cannot leave a lock the others need
held. A pipe's ``send`` writes before it returns (a ``Queue`` hands the write to a
feeder thread), so a worker's finished chunks are all in its pipe before it takes the
next task: when a worker dies, the parent knows which chunk it was running. The parent
waits on the pipes and on the process sentinels together, so a result or a death is
seen at once. Workers ignore SIGINT (Ctrl-C is the parent's to handle; it then
terminates them) and exit when their parent dies.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
from typing import Any, NamedTuple

from perfectly.parallel._executor import Executor
from perfectly.parallel._task import Event, Lost, Task, worker_loop

JOIN_TIMEOUT = 1.0


def _process_main(slot: int, tasks: Any, results: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    alive = parent.is_alive if parent is not None else lambda: True
    worker_loop(slot, tasks, results.send, alive, pickled=True)


class _Worker(NamedTuple):
    process: Any
    tasks: Any  # multiprocessing.Queue of Task | None
    results: Any  # the reading end of the worker's pipe


def _drain(worker: _Worker) -> list[Event]:
    """Every message in the worker's pipe now."""
    events = []
    try:
        while worker.results.poll():
            events.append(worker.results.recv())
    except (EOFError, OSError):  # the worker is gone, and so is the pipe's other end
        pass
    return events


class ProcessExecutor(Executor):
    """``max_workers`` processes from ``mp_context`` (None: the platform's default)."""

    def __init__(self, max_workers: int | None = None, mp_context: Any = None) -> None:
        super().__init__(max_workers)
        self._context = mp_context or multiprocessing.get_context()
        self.start_method = self._context.get_start_method()
        self._workers: dict[int, _Worker] = {}
        self._retired: list[_Worker] = []

    def _start(self) -> None:
        for slot in range(self.max_workers):
            self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        tasks = self._context.Queue()
        results, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_process_main,
            args=(slot, tasks, writer),
            name=f"perfectly-worker-{slot}",
            daemon=True,
        )
        process.start()
        writer.close()  # the worker holds the only writing end: its death closes the pipe
        self._workers[slot] = _Worker(process, tasks, results)

    def submit(self, slot: int, task: Task) -> None:
        self._workers[slot].tasks.put(task)

    def wait(self, timeout: float) -> list[Event]:
        workers = list(self._workers.values())
        handles = [w.results for w in workers] + [w.process.sentinel for w in workers]
        multiprocessing.connection.wait(handles, timeout)
        events = [event for w in workers for event in _drain(w)]
        for slot, worker in list(self._workers.items()):
            if not worker.process.is_alive():
                events += _drain(worker)  # what it sent just before it died
                events.append(Lost(slot))
                self._retired.append(worker)
                self._spawn(slot)
        return events

    def _stop(self, cancel: bool) -> None:
        workers = list(self._workers.values())
        if not cancel:
            for w in workers:
                w.tasks.put(None)
            for w in workers:
                w.process.join(JOIN_TIMEOUT)
        for w in workers:
            if w.process.is_alive():
                w.process.terminate()
        for w in workers + self._retired:
            w.process.join(JOIN_TIMEOUT)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.tasks.close()
            w.tasks.cancel_join_thread()
            w.results.close()
            w.process.close()
