"""What runs inside a worker interpreter of ``backend="interpreters"``.

The parent (:mod:`perfectly.parallel.interpreters`) calls these functions by running one
line of code in the worker (``Interpreter.exec``) with the arguments written into it as
literals; each answers by writing bytes into a file the parent gave it (``out``: a file
descriptor, which both interpreters of this process share), because ``exec`` returns
nothing and the 3.13 backport's ``Interpreter.call`` takes no arguments and returns
nothing either.

A chunk of the library's own ``Job`` arrives as plain values and its answer is the
``repr`` of plain values: such a worker imports the kernel and this module, and nothing
else (no pickle, no dataclasses, no ``typing``), since every worker interpreter imports
its modules afresh at every start. A job of any other type (a subclass: the fault tests)
is pickled whole, and the worker then loads the rest of the package to unpickle it.
"""

from __future__ import annotations

import os
import select
import sys
import time
from _thread import get_ident

from perfectly._core import build_info, kernel_name
from perfectly.parallel._calls import Cancelled, sweep

TYPE_CHECKING = False  # not typing's: see above
if TYPE_CHECKING:
    from collections.abc import Callable


def _stopper(fd: int, deadline: float | None) -> Callable[[], bool]:
    """True once the parent wrote to its end of the stop socket, or past ``deadline``."""

    def stop() -> bool:
        if deadline is not None and time.perf_counter() > deadline:
            return True
        return bool(select.select([fd], [], [], 0)[0])

    return stop


def _answer(out: int, data: bytes) -> None:
    """Make ``data`` the whole content of the file ``out``, for the parent to read."""
    os.ftruncate(out, 0)
    os.lseek(out, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(out, view) :]


def ready(out: int) -> None:
    """Answer the kernel this worker got: ``compiled``, else ``python (why)``."""
    name = kernel_name(None)
    _answer(out, (name if name == "compiled" else f"{name} ({build_info()['reason']})").encode())


def run_plain(
    out: int,
    stop_fd: int,
    deadline: float | None,
    kernel: str,
    method: str,
    amicable: bool,
    release_gil: bool,
    lo: int,
    hi: int,
) -> None:
    """Run the chunk [lo, hi) of a plain ``Job``; answer the ``repr`` of ``("done",
    pieces, seconds)``, ``("stopped",)``, or ``("error", exception type, message)``."""
    began = time.perf_counter()
    answer: tuple[object, ...]
    try:
        stop = _stopper(stop_fd, deadline)
        pieces = list(sweep(kernel, method, amicable, release_gil, lo, hi, stop))
        answer = ("done", pieces, time.perf_counter() - began)
    except Cancelled:
        answer = ("stopped",)
    except BaseException as exc:  # SystemExit too: a chunk that raised, as on every backend
        answer = ("error", type(exc).__name__, str(exc))
    _answer(out, repr(answer).encode())


def run_pickled(out: int, stop_fd: int, deadline: float | None, payload: bytes) -> None:
    """Run a pickled ``Task``; answer the pickled ``ChunkResult``, the (portable)
    exception, or None when the run was stopped."""
    _load_package()
    import pickle

    from perfectly.parallel._task import portable, run_task

    outcome: object
    try:
        task = pickle.loads(payload)
        outcome = run_task(task, f"{os.getpid()}:{get_ident()}", _stopper(stop_fd, deadline))
    except Cancelled:
        outcome = None
    except BaseException as exc:  # SystemExit too: a chunk that raised, as on every backend
        outcome = portable(exc)
    _answer(out, pickle.dumps(outcome))


def _load_package() -> None:
    """Run the ``__init__`` of ``perfectly.parallel`` and ``perfectly`` (which imports
    names from the first) in the modules the parent registered without running them (its
    start-up code), once: unpickling any job may need the whole package."""
    for name in ("perfectly.parallel", "perfectly"):
        module = sys.modules[name]
        if "__all__" not in vars(module):
            module.__spec__.loader.exec_module(module)  # type: ignore[union-attr]
