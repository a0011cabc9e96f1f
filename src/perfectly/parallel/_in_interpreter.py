"""What runs inside a worker interpreter of ``backend="interpreters"``.

Kept apart from :mod:`perfectly.parallel.interpreters` (the parent's side: the pool,
``concurrent.futures``, the stop socket) so that a worker imports only what it runs: the
kernel, the task and ``pickle``. Each worker interpreter imports its modules afresh, so
every import here is paid again by every worker at every start.
"""

from __future__ import annotations

import os
import pickle
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from perfectly._core import build_info, kernel_name
from perfectly.parallel._task import Cancelled, portable, run_task


def _stopper(fd: int, deadline: float | None) -> Callable[[], bool]:
    """True once the parent wrote to its end of the stop socket, or past ``deadline``."""

    def stop() -> bool:
        if deadline is not None and time.perf_counter() > deadline:
            return True
        return bool(select.select([fd], [], [], 0)[0])

    return stop


def worker_kernel() -> str:
    """``compiled``, else ``python (why)``: the kernel this worker got."""
    name = kernel_name(None)
    return name if name == "compiled" else f"{name} ({build_info()['reason']})"


def run_payload(payload: bytes) -> bytes:
    """Run a pickled ``(task, stop fd, deadline)``; the pickled ``ChunkResult``, the
    (portable) exception, or None when the run was stopped."""
    outcome: Any
    try:
        task, fd, deadline = pickle.loads(payload)
        worker = f"{os.getpid()}:{threading.get_ident()}"
        outcome = run_task(task, worker, _stopper(fd, deadline))
    except Cancelled:
        outcome = None
    except Exception as exc:
        outcome = portable(exc)
    return pickle.dumps(outcome)
