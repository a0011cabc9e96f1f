"""Which backends may run at once in one process, and how.

CPython does not support ``fork()`` while subinterpreters exist in the process: a
``search(backend="processes")`` forking its workers while another thread's
``search(backend="interpreters")`` ran killed the whole process on 3.13 ("Fatal Python
error: PyThreadState_Get"). So the process backends start their workers, and the
interpreters backend makes its interpreters, under one lock; while any worker
interpreter lives, or once any has lived (first taken as the cause of a segfault on
3.13.0 in CI; the segfault came back without a fork, so that is not proven), a process
backend on the default start method starts its workers with ``forkserver`` instead of
``fork`` (the forkserver is itself started by fork + exec, which runs no Python in the
child), and one asked for ``fork`` explicitly is refused with a ``RuntimeError`` saying
why. (Python 3.14 makes ``forkserver`` the default on Linux.)

On 3.13 with the PEP 734 backport, worker interpreters made while a Dask search ran in
the same process corrupted memory ("double free or corruption", in a worker
interpreter's import; 3.14 ran the same mix cleanly): there, the two do not run at once,
and the second to start is refused with a ``RuntimeError``; idle worker interpreters,
kept for the next search, are closed when a Dask search starts.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: Whether worker interpreters and Dask must not run at once in this Python.
DASK_APART = sys.version_info < (3, 14)

_GUARD = threading.Lock()
_interpreters = 0  # executors whose worker interpreters exist now (under _GUARD)
_interpreters_made = False  # whether any were ever made in this process (under _GUARD)
_dask = 0  # Dask executors started and not yet stopped (under _GUARD)
#: Called when a Dask search starts where the two must not mix: the interpreters backend
#: (which this module must not import) adds what closes its idle worker interpreters.
before_dask: list[Callable[[], object]] = []


def _apart(starting: str, running: str) -> RuntimeError:
    return RuntimeError(
        f"backend={starting!r} cannot start while a backend={running!r} search runs in "
        f"this process on Python {sys.version_info[0]}.{sys.version_info[1]}: the two "
        "together crashed CPython 3.13 (with the PEP 734 backport); run them one after "
        "the other, or use Python 3.14"
    )


@contextlib.contextmanager
def making_interpreters() -> Iterator[None]:
    """Held while an executor makes its interpreters (no fork meanwhile); they count as
    alive from here until :func:`interpreters_gone` (or until this fails)."""
    global _interpreters, _interpreters_made
    with _GUARD:
        if DASK_APART and _dask:
            raise _apart("interpreters", "dask")
        _interpreters += 1
        try:
            yield
        except BaseException:  # none were made (no subinterpreters here, say)
            _interpreters -= 1
            raise
        _interpreters_made = True


def interpreters_gone() -> None:
    """An executor's interpreters have all been destroyed."""
    global _interpreters
    with _GUARD:
        _interpreters -= 1


def dask_starting() -> None:
    """A Dask executor starts (``RuntimeError`` where it may not now)."""
    global _dask
    with _GUARD:
        if DASK_APART and _interpreters:
            raise _apart("dask", "interpreters")
        if DASK_APART:
            for close in before_dask:
                close()
        _dask += 1


def dask_stopped() -> None:
    """A Dask executor that started has stopped."""
    global _dask
    with _GUARD:
        _dask -= 1


@contextlib.contextmanager
def starting_processes(context: Any, *, chosen: bool) -> Iterator[Any]:
    """Held while processes are started; yields the context to start them from:
    ``context``, or a ``forkserver`` one where ``context`` forks and worker interpreters
    live or have lived (``chosen``: the caller asked for ``fork``, and gets a
    ``RuntimeError`` instead)."""
    with _GUARD:
        if _interpreters_made and context.get_start_method() == "fork":
            if chosen:
                raise RuntimeError(
                    "start_method='fork' cannot start worker processes in a process where "
                    "worker interpreters (backend='interpreters') run or have run: CPython "
                    "does not support fork() with subinterpreters; use 'forkserver' or "
                    "'spawn', or leave start_method=None"
                )
            context = multiprocessing.get_context("forkserver")
        yield context
