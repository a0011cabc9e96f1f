"""Subinterpreters: each worker is an interpreter with its own GIL (PEP 684), in this process.

``concurrent.futures.InterpreterPoolExecutor`` runs them: Python 3.14 has it, 3.13 gets
it from the PEP 734 backport (``pip install interpreters-pep-734``, or ``".[interpreters]"``
in a checkout); elsewhere
starting the executor raises ``ImportError`` saying what is needed (3.12 without trying
the backport: its low-level module for 3.12 crashes the process at import). Pure-Python
code runs in parallel here, as in processes, with no process to start and nothing to fork.

A task goes out as pickled bytes and comes back as pickled bytes (the result, or the
error made portable), and the function the pool calls is the builtin ``eval``. The
backport (0.5.0, on 3.13) unpickles the function it is given *outside* its error capture:
a function the worker cannot import (one defined in ``__main__``, a module the worker's
``sys.path`` lacks) leaves it polling an empty result queue forever, and the caller
hangs. ``eval`` is always importable, so any such error is raised in the worker and
reported; workers also get this process's ``sys.path``, as ``spawn`` workers do. Starting
the executor waits for every worker at most ``START_TIMEOUT`` s, and fails loudly.

A worker cannot be killed: a cancelled run (Ctrl-C, an error) writes a byte to a socket
pair that each worker looks at between two kernel calls of its chunk (``SUB_CALL``), and
each also keeps the deadline itself, so it stops within about one call. What runs in a
worker is in :mod:`perfectly.parallel._in_interpreter`, which imports only what it needs.
"""

from __future__ import annotations

import concurrent.futures as cf
import pickle
import socket
import sys
from typing import Any

from perfectly._core import kernel_name
from perfectly.parallel import _mixing
from perfectly.parallel._executor import Executor, finished
from perfectly.parallel._task import Event, Failed, Finished, Task

#: Seconds ``start()`` waits for the worker interpreters to be ready.
START_TIMEOUT = 60.0
NEEDS = (
    'backend="interpreters" needs subinterpreters with their own GIL: Python 3.14+, or '
    "3.13 with the PEP 734 backport (pip install interpreters-pep-734; in a perfectly "
    'checkout: pip install ".[interpreters]")'
)
# What each worker evaluates first: the kernel it got ("compiled", or why it fell back).
_READY = "__import__('perfectly.parallel._in_interpreter', fromlist=['_']).worker_kernel()"
# What each worker evaluates, with ``payload`` (bytes) in its globals.
_CALL = "__import__('perfectly.parallel._in_interpreter', fromlist=['_']).run_payload(payload)"


def pool_class() -> Any:
    """``InterpreterPoolExecutor``: the standard library's, or the backport's."""
    try:
        from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined]
    except ImportError:
        if sys.version_info < (3, 13):
            raise ImportError(f"{NEEDS}; this is Python {sys.version.split()[0]}") from None
        try:
            from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
        except ImportError as exc:
            raise ImportError(f"{NEEDS}; this is Python {sys.version.split()[0]}") from exc
    return InterpreterPoolExecutor


class InterpreterExecutor(Executor):
    """An ``InterpreterPoolExecutor`` of ``max_workers`` interpreters, each with its own GIL."""

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self._pool: Any = None
        self._futures: dict[cf.Future[bytes], tuple[int, int]] = {}
        self._stop_in: socket.socket | None = None
        self._stop_out: socket.socket | None = None
        self._alive = False  # whether this executor's interpreters count in _mixing

    def _start(self) -> None:
        with _mixing.making_interpreters():  # no fork while they are made
            self._make_interpreters()
        self._alive = True

    def _make_interpreters(self) -> None:
        """Make the pool, and again once where a worker got a kernel other than this
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
        """Start the pool: each worker imports perfectly (and its kernel) now, so that
        start-up is timed as start-up; the kernel each got (``compiled``, else why not)."""
        pool_type = pool_class()
        self._stop_in, self._stop_out = socket.socketpair()
        self._pool = pool_type(
            max_workers=self.max_workers,
            thread_name_prefix="perfectly-interpreter",
            initializer=exec,
            initargs=(f"import sys; sys.path[:] = {sys.path!r}", {}),
        )
        probes = [self._pool.submit(eval, _READY, {}) for _ in range(self.max_workers)]
        done, late = cf.wait(probes, START_TIMEOUT)
        error = next((e for p in done if (e := p.exception()) is not None), None)
        if late or error is not None:
            self._close_pool(wait=not late)  # a stuck one never ends
            if late:
                raise TimeoutError(f"worker interpreters not ready after {START_TIMEOUT} s")
            raise RuntimeError(f"a worker interpreter failed to start: {error}") from error
        return [p.result() for p in probes]

    def _close_pool(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self._pool = None
        self._close_sockets()

    def submit(self, slot: int, task: Task) -> None:
        assert self._pool is not None, "start() the executor first"
        assert self._stop_out is not None
        payload = pickle.dumps((task, self._stop_out.fileno(), self.deadline))
        future = self._pool.submit(eval, _CALL, {"payload": payload})
        self._futures[future] = (slot, task.chunk.index)

    def wait(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        for slot, index, future in finished(self._futures, timeout):
            try:
                outcome = pickle.loads(future.result())
            except Exception as exc:  # raised before the task ran (the payload, an import)
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
            self._pool.shutdown(wait=True, cancel_futures=True)  # destroys the interpreters
        self._close_sockets()
        if self._alive:
            self._alive = False
            _mixing.interpreters_gone()

    def _close_sockets(self) -> None:
        for end in (self._stop_in, self._stop_out):
            if end is not None:
                end.close()
        self._stop_in = self._stop_out = None
