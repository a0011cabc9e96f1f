"""Subinterpreters: each worker is an interpreter with its own GIL (PEP 684), in this process.

Python 3.14 has them as ``concurrent.interpreters``; 3.13 gets them from the PEP 734
backport (``pip install interpreters-pep-734``, or ``".[interpreters]"`` in a checkout);
elsewhere starting the executor raises ``ImportError`` saying what is needed (3.12 without
trying the backport: its low-level module for 3.12 crashes the process at import).
Pure-Python code runs in parallel here, as in processes, with no process to start and
nothing to fork.

Each worker is a thread of a ``ThreadPoolExecutor`` that owns one interpreter and runs its
tasks there, calling :mod:`perfectly.parallel._in_interpreter` (see there how a task goes
in and its answer comes back). Not ``InterpreterPoolExecutor``: its workers import
``concurrent.futures``, ``logging`` and ``traceback`` to run anything (about 50 ms more
than bare interpreters, for 2 workers started together on 3.14). A worker starts with
this process's ``sys.path`` (as ``spawn`` workers do) and registers this process's
packages ``perfectly`` and ``perfectly.parallel`` without running their ``__init__``
(which imports the whole library: about 45 ms), so that it imports only the kernel and
the worker module; starting the executor waits for every worker at most
``START_TIMEOUT`` s, and fails loudly.

A worker cannot be killed: a cancelled run (Ctrl-C, an error) writes a byte to a socket
pair that each worker looks at between two kernel calls of its chunk (``SUB_CALL``), and
each also keeps the deadline itself, so it stops within about one call.

The interpreters of a run that finished are kept, idle (no thread runs them), for the
next executor of this process, at most one per CPU: closing one leaks about 2 MB (the
Cython module's per-interpreter state keeps its memory alive, upstream), and a kept one
starts with its kernel already imported. Those of a run that was cancelled or failed,
or that ran a pickled job (which may have imported the caller's modules), are closed.
:func:`close_idle_interpreters` closes the kept ones, as this process does at exit and
before ``os.fork()`` (a child forked while they lived crashed when it ran the kernel:
SIGSEGV on 3.14.10, "PyThreadState_Get" on 3.13.18).
"""

from __future__ import annotations

import ast
import atexit
import builtins
import concurrent.futures as cf
import os
import pickle
import socket
import sys
import tempfile
import threading
from typing import Any

from perfectly._core import kernel_name
from perfectly._validate import available_cpus
from perfectly.parallel import _mixing
from perfectly.parallel._executor import Executor, finished
from perfectly.parallel._task import (
    ChunkResult,
    Event,
    Failed,
    Finished,
    Job,
    Task,
    WorkerError,
)

#: Seconds ``start()`` waits for the worker interpreters to be ready.
START_TIMEOUT = 60.0
NEEDS = (
    'backend="interpreters" needs subinterpreters with their own GIL: Python 3.14+, or '
    "3.13 with the PEP 734 backport (pip install interpreters-pep-734; in a perfectly "
    'checkout: pip install ".[interpreters]")'
)


def setup_code() -> str:
    """The first code each worker runs: this process's ``sys.path``, then this process's
    ``perfectly`` and ``perfectly.parallel`` registered without running their
    ``__init__``, then the worker module, as ``worker``."""
    import perfectly
    import perfectly.parallel

    path = [entry for entry in sys.path if isinstance(entry, str)]
    packages = [(p.__name__, p.__file__) for p in (perfectly, perfectly.parallel)]
    return (
        "import sys\n"
        "from importlib.util import module_from_spec, spec_from_file_location\n"
        f"sys.path[:] = {path!r}\n"
        f"for name, init in {packages!r}:\n"
        "    sys.modules[name] = module_from_spec(spec_from_file_location(name, init))\n"
        "from perfectly.parallel import _in_interpreter as worker\n"
    )


def interpreters_module() -> Any:
    """``concurrent.interpreters``: the standard library's, or the backport's."""
    try:
        from concurrent import interpreters  # type: ignore[attr-defined]
    except ImportError:
        if sys.version_info < (3, 13):
            raise ImportError(f"{NEEDS}; this is Python {sys.version.split()[0]}") from None
        try:
            from interpreters_backport import interpreters
        except ImportError as exc:
            raise ImportError(f"{NEEDS}; this is Python {sys.version.split()[0]}") from exc
    return interpreters


class _Worker:
    """One worker interpreter and the file it answers in (see ``_in_interpreter``)."""

    def __init__(self, interpreters: Any, setup: str) -> None:
        # unbuffered, as the worker writes to it too; closed in close()
        self._out = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
        self.ready = False  # whether it answered its first call (and its thread is done)
        self.plain = True  # whether it only ever ran plain jobs (nothing pickled)
        self.interpreter = interpreters.create()
        try:
            self.interpreter.exec(setup)
        except BaseException:
            self.close()
            raise

    def ask(self, function: str, *args: object) -> bytes:
        """Call ``_in_interpreter.function(out, *args)`` in the worker; what it answered.
        (``ExecutionFailed`` where the call itself fails.)"""
        literals = ", ".join(repr(arg) for arg in (self._out.fileno(), *args))
        self.interpreter.exec(f"worker.{function}({literals})")
        self._out.seek(0)
        return self._out.readall()

    def close(self) -> None:
        self.interpreter.close()
        self._out.close()


_IDLE_LOCK = threading.Lock()
_idle: list[_Worker] = []  # kept for the next executor (under _IDLE_LOCK)
_closed_at_exit = False  # whether they are closed at exit and fork (under _IDLE_LOCK)


def _take_idle() -> _Worker | None:
    """A kept worker, if there is one (its ``sys.path`` made this process's again; one
    that cannot take even that is closed, and the next is tried)."""
    path = [entry for entry in sys.path if isinstance(entry, str)]
    while True:
        with _IDLE_LOCK:
            if not _idle:
                return None
            worker = _idle.pop()
        try:
            worker.interpreter.exec(f"import sys\nsys.path[:] = {path!r}\n")
        except Exception:
            _close([worker])
            continue
        return worker


def _keep(workers: list[_Worker]) -> list[_Worker]:
    """Keep as many of ``workers`` (ready, plain) as there is room for, at most one per
    CPU in all; the rest, to be closed."""
    global _closed_at_exit
    with _IDLE_LOCK:
        if not _closed_at_exit:
            atexit.register(close_idle_interpreters)
            if hasattr(os, "register_at_fork"):  # a forked child crashed on them
                os.register_at_fork(before=close_idle_interpreters)
            _closed_at_exit = True
        room = max(0, available_cpus() - len(_idle))
        kept = [worker for worker in workers if worker.ready and worker.plain][:room]
        _idle.extend(kept)
    return [worker for worker in workers if worker not in kept]


def _close(workers: list[_Worker]) -> None:
    """Close idle workers: one thread each, as closing takes milliseconds and each
    interpreter has its own GIL (any thread may close one that runs nothing)."""
    closing = [threading.Thread(target=worker.close) for worker in workers]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join()


def close_idle_interpreters() -> int:
    """Close the worker interpreters kept for the next search; how many there were.

    A ``backend="interpreters"`` search that finishes keeps its worker interpreters, idle
    (no thread runs them), for the next one in this process, at most one per CPU: a
    kept one starts with the kernel already imported, and closing one leaks about 2 MB
    (upstream: a Cython module with per-interpreter state keeps the memory of every
    interpreter that imported it alive). This closes them now, as this process does at
    exit; a benchmark calls it to time start-up from scratch.

    Returns
    -------
    int
        How many idle interpreters were closed.

    Examples
    --------
    >>> from perfectly.parallel import close_idle_interpreters
    >>> close_idle_interpreters() >= 0  # 0 where no interpreters search ran
    True
    """
    with _IDLE_LOCK:
        workers = list(_idle)
        _idle.clear()
    _close(workers)
    return len(workers)


def _error(name: str, message: str) -> Exception:
    """The exception a worker reported by name: the builtin one, else a ``WorkerError``."""
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        return kind(message)
    return WorkerError(f"{name}: {message}")


_mixing.before_dask.append(close_idle_interpreters)


class InterpreterExecutor(Executor):
    """``max_workers`` interpreters, each with its own GIL, each run by its own thread.

    Pure-Python code runs in parallel here, as in processes, with no process to start and
    nothing to fork. Needs Python 3.14, or 3.13 with the PEP 734 backport
    (``pip install interpreters-pep-734``); elsewhere :meth:`~Executor.start` raises
    ``ImportError``. A worker cannot be killed: a cancelled run stops each one between
    two kernel calls of its chunk. The interpreters of a run that finished are kept,
    idle, for the next executor (see :func:`close_idle_interpreters`).

    Parameters
    ----------
    max_workers : int or None, default None
        Worker count: 1 to 4096, or None or -1 for every CPU this process may use.

    Raises
    ------
    TypeError, ValueError
        ``max_workers`` is not a valid worker count (see :class:`Executor`).
    ImportError
        From :meth:`~Executor.start`: this Python has no subinterpreters with their own
        GIL (see above).
    RuntimeError, TimeoutError
        From :meth:`~Executor.start`: a worker interpreter failed to start, or was not
        ready within 60 s; or, before Python 3.14, a Dask executor runs in this process.

    Examples
    --------
    Subinterpreters where this Python has them, else threads:

    >>> from perfectly.parallel import InterpreterExecutor, Job, Run, ThreadExecutor
    >>> from perfectly.planning import Chunk
    >>> job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    >>> executor = InterpreterExecutor(2)
    >>> try:
    ...     executor.start()
    ... except ImportError:  # before 3.13, or 3.13 without the backport
    ...     executor = ThreadExecutor(2)
    >>> with Run(executor, job, [Chunk(0, 1, 5_000), Chunk(1, 5_000, 10_000)]) as run:
    ...     sorted(n for result in run for n in result.census.perfect)
    [6, 28, 496, 8128]
    """

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self._pool: cf.ThreadPoolExecutor | None = None
        self._workers: list[_Worker] = []
        self._mine = threading.local()  # .worker: the worker of the pool thread
        self._futures: dict[cf.Future[Any], tuple[int, int]] = {}
        self._stop_in: socket.socket | None = None
        self._stop_out: socket.socket | None = None
        self._alive = False  # whether this executor's interpreters count in _mixing

    def _start(self) -> None:
        with _mixing.making_interpreters():  # no fork while they are made
            self._make_interpreters()
        self._alive = True

    def _make_interpreters(self) -> None:
        """Start the workers, and again once where a worker got a kernel other than this
        interpreter's: on 3.14.10 a fresh worker interpreter now and then (1 in about 700
        while process workers started beside them) is refused the compiled kernel with
        "Module '_kernel' has already been imported into this interpreter"; a new
        interpreter imports it."""
        for attempt in (1, 2):
            kernels = self._new_pool()
            wanted = kernel_name(None)
            if all(k.partition(" ")[0] == wanted for k in kernels):
                return
            self._close_pool()
            if attempt == 2:
                why = next(k for k in kernels if k.partition(" ")[0] != wanted)
                raise RuntimeError(f"a worker interpreter has no {wanted} kernel: {why}")

    def _new_pool(self) -> list[str]:
        """Start the pool: each worker makes its interpreter and imports the kernel now,
        so that start-up is timed as start-up; the kernel each got (``compiled``, else why
        not). A barrier holds every probe until all run, so each runs on a thread of its
        own (the pool starts a thread per task while none is idle)."""
        interpreters = interpreters_module()
        self._stop_in, self._stop_out = socket.socketpair()
        self._pool = cf.ThreadPoolExecutor(self.max_workers, "perfectly-interpreter")
        barrier = threading.Barrier(self.max_workers, timeout=START_TIMEOUT)
        setup = setup_code()
        probes = [
            self._pool.submit(self._make_worker, interpreters, setup, barrier)
            for _ in range(self.max_workers)
        ]
        done, late = cf.wait(probes, START_TIMEOUT)
        error = next((e for p in done if (e := p.exception()) is not None), None)
        if late or error is not None:
            self._close_pool(wait=not late)  # a stuck one never ends
            if late:
                raise TimeoutError(f"worker interpreters not ready after {START_TIMEOUT} s")
            raise RuntimeError(f"a worker interpreter failed to start: {error}") from error
        return [p.result() for p in probes]

    def _make_worker(self, interpreters: Any, setup: str, barrier: threading.Barrier) -> str:
        """Make this pool thread's worker (or take a kept one); the kernel it got."""
        try:
            worker = _take_idle() or _Worker(interpreters, setup)
        finally:
            barrier.wait()
        self._workers.append(worker)
        self._mine.worker = worker
        kernel = worker.ask("ready").decode()
        worker.ready = True
        return kernel

    def _close_pool(self, wait: bool = True, keep: bool = False) -> None:
        """Stop the pool and close its interpreters, or with ``keep`` (the run finished)
        keep what room allows. Without ``wait`` (a start that timed out) only the ready
        ones: a stuck worker never ends, and its interpreter runs."""
        assert self._pool is not None
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self._pool = None
        idle = [worker for worker in self._workers if wait or worker.ready]  # none runs now
        _close(_keep(idle) if keep else idle)
        self._workers.clear()
        self._close_sockets()

    def _submit(self, slot: int, task: Task) -> None:
        assert self._pool is not None
        future = self._pool.submit(self._run, task)
        self._futures[future] = (slot, task.chunk.index)

    def _run(self, task: Task) -> ChunkResult | BaseException | None:
        """Run ``task`` in this pool thread's worker: its result, the error it raised, or
        None when the run was stopped."""
        worker: _Worker = self._mine.worker
        assert self._stop_out is not None
        where = (self._stop_out.fileno(), self.deadline)
        job, chunk = task.job, task.chunk
        if type(job) is not Job:  # a subclass: only pickle carries it
            worker.plain = False  # it may import the caller's modules: never kept
            outcome: ChunkResult | BaseException | None
            outcome = pickle.loads(worker.ask("run_pickled", *where, pickle.dumps(task)))
            return outcome
        fields = (job.kernel, job.method, job.amicable, job.release_gil, chunk.lo, chunk.hi)
        answer = ast.literal_eval(worker.ask("run_plain", *where, *fields).decode())
        if answer[0] == "stopped":
            return None
        if answer[0] == "error":
            return _error(*answer[1:])
        _, pieces, seconds = answer
        name = f"{os.getpid()}:{threading.get_ident()}"
        return ChunkResult(chunk, job.census(chunk, pieces), name, seconds)

    def wait(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        for slot, index, future in finished(self._futures, timeout):
            try:
                outcome = future.result()
            except Exception as exc:  # raised outside the task (an answer, the interpreter)
                outcome = exc
            if isinstance(outcome, BaseException):
                events.append(Failed(slot, index, outcome))
            elif outcome is not None:  # None: stopped, and the loop sees why
                events.append(Finished(slot, outcome))
        return events

    def _stop(self, cancel: bool) -> None:
        if cancel and self._stop_in is not None:
            self._stop_in.send(b"!")  # running chunks stop within one kernel call
        if self._pool is not None:
            self._close_pool(keep=not cancel)
        self._close_sockets()
        if self._alive:
            self._alive = False
            _mixing.interpreters_gone()

    def _close_sockets(self) -> None:
        for end in (self._stop_in, self._stop_out):
            if end is not None:
                end.close()
        self._stop_in = self._stop_out = None
