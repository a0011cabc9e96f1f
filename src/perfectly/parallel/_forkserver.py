"""What a ``forkserver`` preloads for this package's worker processes.

A forkserver forks each worker from a server process that imported, once, the modules of
its preload list (``__main__`` by default); a worker then imports only what the server
lacks. ``import perfectly`` imports the parallel backends on first use (so that a worker
*interpreter* need not), so a server that preloads only ``__main__`` lacks the worker
side of the process backends, and every worker imported it again: on CPython 3.14 two
workers took 72 ms to start and stop instead of 25 ms. So before the process backends
start a forkserver, the worker modules join its preload list (added to what is there).
Where the forkserver runs already, the list no longer matters and is left alone.
"""

from __future__ import annotations

from typing import Any

#: The modules a worker of ``processes`` or ``process-pool`` runs, and
#: ``multiprocessing.synchronize`` for the locks of its task queue (with tempfile and
#: shutil, 7 ms of imports per worker on 3.14).
WORKER_MODULES = (
    "perfectly.parallel.processes",
    "perfectly.parallel.pools",
    "multiprocessing.synchronize",
)


def preload_worker_modules(context: Any) -> None:
    """Add ``WORKER_MODULES`` to the preload list of ``context``'s forkserver, if it
    starts its workers by forkserver."""
    if context.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    # The list itself is private (forkserver._forkserver._preload_modules, in every
    # CPython since 3.4); only a missing attribute falls back to the default.
    current = list(getattr(forkserver._forkserver, "_preload_modules", ["__main__"]))
    missing = [name for name in WORKER_MODULES if name not in current]
    if missing:
        context.set_forkserver_preload(current + missing)
