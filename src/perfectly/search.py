"""Parallel search: one range, cut into chunks, run on a backend, merged and verified."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

from perfectly._core import kernel_module
from perfectly._validate import (
    KERNELS,
    PROCESS_BACKENDS,
    as_int,
    check_amicable_hi,
    check_backend,
    check_method,
    check_range,
    check_start_method,
    check_trial_hi,
    check_workers,
)
from perfectly._work import Job
from perfectly.aggregate import Aggregator
from perfectly.arithmetic import sum_sigma
from perfectly.backends import BACKENDS, RunContext
from perfectly.census import Census
from perfectly.journal import Journal, stored_params
from perfectly.planning import check_chunk_size, check_schedule, default_chunk_size, plan


class VerificationError(ArithmeticError):
    """The merged Σσ disagrees with the closed form: the result is not returned."""


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """A census of [lo, hi) and how the search that made it ran."""

    census: Census
    verified: bool
    backend: str
    workers: int
    start_method: str | None
    schedule: str
    method: str
    kernel: str
    release_gil: bool
    chunk_size: int
    chunks: int
    wall: float  # seconds, the whole search
    startup: float  # seconds starting workers
    shutdown: float  # seconds stopping them
    worker_busy: tuple[float, ...]  # seconds of kernel work, per worker
    worker_chunks: tuple[int, ...]  # chunks run, per worker
    retried: int  # chunks run again after their worker died
    resumed: int = 0  # chunks taken from the journal, not run

    @property
    def imbalance(self) -> float:
        """Load imbalance: max / mean of the workers' busy time (1.0 is perfect)."""
        busy = [b for b in self.worker_busy if b > 0] or [0.0]
        mean = sum(busy) / len(busy)
        return max(busy) / mean if mean > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["census"] = self.census.to_dict()
        fields["worker_busy"] = list(self.worker_busy)
        fields["worker_chunks"] = list(self.worker_chunks)
        fields["imbalance"] = self.imbalance
        return fields


def search(
    lo: int,
    hi: int,
    *,
    backend: str = "threads",
    workers: int | None = None,
    method: str = "sieve",
    schedule: str = "dynamic",
    chunk_size: int | None = None,
    release_gil: bool = True,
    kernel: str = "compiled",
    start_method: str | None = None,
    retries: int = 1,
    timeout: float | None = None,
    progress: Callable[[int, int], object] | None = None,
    amicable: bool = False,
    journal: str | os.PathLike[str] | None = None,
    scheduler: Any = None,
    security: Any = None,
) -> SearchResult:
    """Census of [lo, hi) in parallel, verified against the closed form of Σσ.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    backend : str
        Where chunks run: ``"serial"``, ``"threads"`` (``threading``), ``"_thread"``
        (``_thread``), ``"processes"`` (``multiprocessing``), ``"thread-pool"`` or
        ``"process-pool"`` (``concurrent.futures``), or ``"dask"`` (``distributed``).
    workers : int or None
        Worker count; None or -1 for every CPU this process may use.
    method : {"sieve", "trial"}
        The range algorithm.
    schedule : {"static", "dynamic", "guided"}
        How the range is cut and handed out (see :mod:`perfectly.planning`).
    chunk_size : int or None
        Numbers per chunk for ``dynamic`` (the base size for ``guided``); None picks
        about 0.1 s of work and at least 8 chunks per worker.
    release_gil : bool
        Whether the compiled kernel releases the GIL (False only to measure the GIL).
    kernel : {"compiled", "python"}
        The compiled kernel, or the pure-Python one (always holds the GIL).
    start_method : str or None
        For process backends: ``"fork"``, ``"forkserver"`` or ``"spawn"``; None for
        the platform's default.
    retries : int
        How often a chunk whose worker was killed is run again on a fresh worker.
    timeout : float or None
        Seconds; past it every worker is stopped and ``TimeoutError`` is raised.
    progress : callable or None
        Called as ``progress(numbers_done, numbers_total)`` after each chunk.
    amicable : bool
        Also find amicable pairs (``hi ≤ 2**61``).
    journal : path or None
        An SQLite file recording each finished chunk; a search run again with the same
        arguments and journal skips the chunks it holds (see :mod:`perfectly.journal`).
    scheduler : str, distributed.Client or None
        ``backend="dask"`` only: a scheduler address such as ``"tcp://host:8786"`` or a
        ``Client``; None starts a ``LocalCluster`` of ``workers`` processes.
    security : distributed.Security or None
        ``backend="dask"`` only: TLS settings (a scheduler's TCP port is
        unauthenticated without them).

    Returns
    -------
    SearchResult

    Raises
    ------
    ChunkError
        A chunk raised; the message names its range and the original error.
    WorkerLostError
        A worker died more often than ``retries`` allows.
    VerificationError
        The merged Σσ disagrees with ``sum_sigma`` (never returned as a result).
    """
    lo, hi = check_range(lo, hi)
    backend = check_backend(backend)
    count = check_workers(workers)
    if backend == "serial":
        count = 1  # the serial backend runs in the calling thread, whatever workers says
    method = check_method(method)
    if method == "trial":
        check_trial_hi(hi)
    if amicable:
        check_amicable_hi(hi)
    schedule = check_schedule(schedule)
    size = check_chunk_size(chunk_size)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    kernel_module(kernel)  # fails early if the compiled kernel is missing
    method_start = check_start_method(start_method)
    if method_start is not None and backend not in PROCESS_BACKENDS:
        raise ValueError(f"start_method only applies to {PROCESS_BACKENDS}, not {backend!r}")
    retries = as_int(retries, "retries")
    if retries < 0:
        raise ValueError(f"retries must be ≥ 0, got {retries}")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, got {timeout!r}")
    for name, flag in (("release_gil", release_gil), ("amicable", amicable)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, not {flag!r}")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable or None")
    if backend != "dask" and (scheduler is not None or security is not None):
        raise ValueError(f"scheduler and security only apply to backend='dask', not {backend!r}")

    started = time.perf_counter()
    if journal is not None and size is None and schedule != "static":
        stored = stored_params(journal)  # resume with the journal's default chunk size,
        if stored is not None and isinstance(stored.get("chunk_size"), int):  # whatever
            size = stored["chunk_size"]  # the worker count now
    chunk_size = size or default_chunk_size(lo, hi, count, method)
    if schedule == "static":
        chunk_size = -(-(hi - lo) // count) if hi > lo else 0
    ctx = RunContext(
        job=Job(method=method, kernel=kernel, release_gil=bool(release_gil), amicable=amicable),
        chunks=plan(lo, hi, schedule=schedule, workers=count, chunk_size=size, method=method),
        workers=count,
        static=schedule == "static",
        retries=retries,
        deadline=None if timeout is None else started + timeout,
        timeout=timeout,
        start_method=method_start,
        scheduler=scheduler,
        security=security,
    )
    aggregator = Aggregator(lo, hi, amicable=amicable)
    chunks = resumed = 0
    book = None
    if journal is not None:
        identity = {
            "lo": str(lo),
            "hi": str(hi),
            "method": method,
            "amicable": amicable,
            "schedule": schedule,
            "chunk_size": chunk_size,
            "plan_workers": None if schedule == "dynamic" else count,
        }
        book = Journal(journal, identity)
        for result in book.finished():
            aggregator.add(result)
            resumed += 1
        done = aggregator.indices()
        ctx.chunks = (c for c in ctx.chunks if c.index not in done)
    try:
        with contextlib.closing(BACKENDS[backend](ctx)) as results:  # stops workers on exit
            for result in results:
                if book is not None:
                    book.record(result)
                aggregator.add(result)
                chunks += 1
                if progress is not None:
                    progress(aggregator.numbers_done, hi - lo)
    finally:
        if book is not None:
            book.close()
    census = aggregator.census()
    expected = sum_sigma(hi - 1) - sum_sigma(lo - 1) if hi > lo else 0
    if census.sigma_sum != expected:
        raise VerificationError(
            f"sum of sigma over [{lo}, {hi}) is {census.sigma_sum}, "
            f"but the closed form gives {expected}"
        )
    slots = sorted(aggregator.busy)
    return SearchResult(
        census=census,
        verified=True,
        backend=backend,
        workers=count,
        start_method=ctx.stats.start_method,
        schedule=schedule,
        method=method,
        kernel=kernel,
        release_gil=bool(release_gil),
        chunk_size=chunk_size,
        chunks=chunks + resumed,
        resumed=resumed,
        wall=time.perf_counter() - started,
        startup=ctx.stats.startup,
        shutdown=ctx.stats.shutdown,
        worker_busy=tuple(aggregator.busy[s] for s in slots),
        worker_chunks=tuple(aggregator.chunks[s] for s in slots),
        retried=ctx.stats.retried,
    )
