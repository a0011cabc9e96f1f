"""Processes: ``multiprocessing.Process`` workers with an explicit start method.

Each worker has its own task queue (a ``multiprocessing.Queue``) and its own result
pipe, so a worker killed from outside (SIGKILL) cannot leave a lock the others need
held. A pipe's ``send`` writes before it returns (a ``Queue`` hands the write to a
feeder thread), so a worker's finished chunks are all in its pipe before it takes the
next task: when a worker dies, the parent knows which chunk it was running. The parent
waits on the pipes and on the process sentinels together, so a result or a death is
seen at once. Workers ignore SIGINT (Ctrl-C is the parent's to handle; it then
terminates them) and exit when their parent dies.

``search`` may be called from many threads at once. Every ``Process.start()`` reaps
*any* finished child of the process (``multiprocessing._cleanup``), so one thread's
start could reap another's worker between that thread's ``join()`` and ``close()``
("Cannot close a process while it is still running"): every start and every look at a
worker's exit status here happens under one lock (``_REAPING``).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import threading
import time
from typing import Any, NamedTuple

from perfectly.parallel import _forkserver, _mixing
from perfectly.parallel._executor import Executor
from perfectly.parallel._task import Event, Lost, Task, worker_loop

JOIN_TIMEOUT = 1.0
_REAPING = threading.Lock()  # held by Process.start() and every poll of an exit status


def _exited(process: Any, timeout: float | None = 0.0) -> bool:
    """Whether ``process`` has exited, waiting up to ``timeout`` s (None: for as long as it
    takes); its exit status is polled under ``_REAPING`` only. The wait is on the
    process's sentinel, which is ready the moment it exits (a sleep of 10 ms between polls
    made every shutdown take 10 ms, half of a small search on forked workers)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _REAPING:
            if process.exitcode is not None:
                return True
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return False
        if multiprocessing.connection.wait([process.sentinel], left):
            time.sleep(0.0005)  # it has exited: its status is there a moment later


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
    """``max_workers`` processes from ``mp_context``, each with its own task queue.

    Each worker has its own queue and result pipe, so the parent knows which chunk a
    killed worker was running, and starts a new worker in its slot. Workers ignore
    Ctrl-C (the parent handles it and terminates them) and exit if their parent dies.

    Parameters
    ----------
    max_workers : int or None, default None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use.
    mp_context : multiprocessing context or None, default None
        Where the processes come from, e.g. ``multiprocessing.get_context("spawn")``.
        None: ``multiprocessing``'s default, except that ``forkserver`` replaces
        ``fork`` once worker interpreters have run in this process.

    Raises
    ------
    TypeError, ValueError
        ``max_workers`` is not a valid worker count (see :class:`Executor`).
    RuntimeError
        From :meth:`~Executor.start`: ``mp_context`` forks and worker interpreters
        (``backend="interpreters"``) run or have run in this process.

    Examples
    --------
    >>> import multiprocessing
    >>> from perfectly.parallel import Job, ProcessExecutor, Run
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> executor = ProcessExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    >>> with Run(executor, job, [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]) as run:
    ...     sorted(n for result in run for n in result.census.perfect)
    [6, 28, 496, 8128]
    """

    def __init__(self, max_workers: int | None = None, mp_context: Any = None) -> None:
        super().__init__(max_workers)
        self._chosen = mp_context is not None
        self._context = mp_context or multiprocessing.get_context()
        self.start_method = self._context.get_start_method()
        self._workers: dict[int, _Worker] = {}
        self._retired: list[_Worker] = []

    def _start(self) -> None:
        for slot in range(self.max_workers):
            self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        with _mixing.starting_processes(self._context, chosen=self._chosen) as context:
            self._context, self.start_method = context, context.get_start_method()
            _forkserver.preload_worker_modules(context)
            self._start_worker(slot)

    def _start_worker(self, slot: int) -> None:
        tasks = self._context.Queue()
        results, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_process_main,
            args=(slot, tasks, writer),
            name=f"perfectly-worker-{slot}",
            daemon=True,
        )
        with _REAPING:
            process.start()
        writer.close()  # the worker holds the only writing end: its death closes the pipe
        self._workers[slot] = _Worker(process, tasks, results)

    def _submit(self, slot: int, task: Task) -> None:
        self._workers[slot].tasks.put(task)

    def wait(self, timeout: float) -> list[Event]:
        workers = list(self._workers.values())
        handles = [w.results for w in workers] + [w.process.sentinel for w in workers]
        multiprocessing.connection.wait(handles, timeout)
        events = [event for w in workers for event in _drain(w)]
        for slot, worker in list(self._workers.items()):
            if _exited(worker.process):
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
            deadline = time.monotonic() + JOIN_TIMEOUT
            for w in workers:
                _exited(w.process, max(0.0, deadline - time.monotonic()))
        for w in workers:
            if not _exited(w.process):
                w.process.terminate()
        for w in workers + self._retired:
            if not _exited(w.process, JOIN_TIMEOUT):
                w.process.kill()
                _exited(w.process, None)
            w.tasks.close()
            w.tasks.cancel_join_thread()
            w.results.close()
            with _REAPING:
                w.process.close()
