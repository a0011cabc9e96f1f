"""Parallel search: one range, cut into chunks, run on a backend, merged and verified."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from perfectly import _validate as v
from perfectly._core import kernel_name
from perfectly.arithmetic import sigma, sum_sigma
from perfectly.census import Aggregator, Census, check_part
from perfectly.parallel import Job, Run, make_executor
from perfectly.parallel._loop import POLL
from perfectly.planning import Plan, plan

if TYPE_CHECKING:
    from perfectly.journal import Journal

# perfectly.journal (and sqlite3) is imported where a journal is used, not here: worker
# interpreters import this module, and on CPython 3.13.0 the first `import sqlite3` of a
# process, run in several own-GIL interpreters at once, crashes it.


class VerificationError(ArithmeticError):
    """The merged census fails a check (Σσ against the closed form, the class counts,
    σ of a listed number): the result is not returned.

    :func:`search` raises it instead of returning a census it could not verify; it is an
    ``ArithmeticError``.

    Examples
    --------
    >>> import perfectly
    >>> try:
    ...     result = perfectly.search(1, 10_000, backend="serial")
    ... except perfectly.VerificationError as exc:
    ...     print("not verified:", exc)
    ... else:
    ...     print(result.verified)
    True
    """


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """A census of [lo, hi) and how the search that made it ran.

    :func:`search` returns it; it is frozen, and each parameter below is an attribute of
    the same name. The census is the same whatever the backend, workers, schedule or
    chunk size; the timings are of this run.

    Parameters
    ----------
    census : Census
        The merged, verified census of [lo, hi).
    verified : bool
        Whether the census passed verification: always True in a returned result (a
        failure raises :class:`VerificationError`).
    backend : str
        The backend that ran the chunks, one of ``BACKENDS``.
    workers : int
        How many workers it started: those asked for, but never more than the chunks
        it had to run (1 for ``"serial"``).
    start_method : str or None
        The ``multiprocessing`` start method of a process backend; None for the others.
    schedule, method, kernel : str
        How the range was cut and handed out, the range algorithm, and the kernel
        (``"compiled"`` or ``"python"``) that ran.
    release_gil : bool
        Whether the compiled kernel released the GIL.
    chunk_size : int
        The plan's chunk size (for ``"static"`` the largest block; for ``"guided"`` the
        base size).
    chunks : int
        How many chunks made the census, run or resumed from the journal.
    wall : float
        Seconds the whole search took, verification included.
    startup, shutdown : float
        Seconds spent starting the workers, and stopping them.
    worker_busy : tuple of float
        Seconds of kernel work of each worker that ran a chunk.
    worker_chunks : tuple of int
        Chunks each of those workers ran, in the same order (resumed chunks not
        included).
    retried : int
        Chunks run again after their worker died.
    resumed : int, default 0
        Chunks taken from the journal, not run.
    resumed_numbers : int, default 0
        How many numbers those resumed chunks cover.

    Examples
    --------
    >>> import perfectly
    >>> r = perfectly.search(1, 10_000, backend="serial", chunk_size=1_000)
    >>> r.census.perfect, r.verified, r.workers, r.chunks, r.worker_chunks
    ((6, 28, 496, 8128), True, 1, 10, (10,))
    >>> r
    SearchResult(census=Census(lo=1, hi=10000, ...), verified=True, backend='serial', ...)
    """

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
    worker_busy: tuple[float, ...]  # seconds of kernel work, per worker that ran a chunk
    worker_chunks: tuple[int, ...]  # chunks run, per worker (resumed ones not included)
    retried: int  # chunks run again after their worker died
    resumed: int = 0  # chunks taken from the journal, not run
    resumed_numbers: int = 0  # the numbers those chunks cover

    @property
    def imbalance(self) -> float:
        """Load imbalance: max / mean of the workers' busy time (1.0 is perfect).

        Only workers that ran a chunk count; it is a timing, so it varies from run to run.

        Returns
        -------
        float
            ``max(worker_busy) / mean(worker_busy)``, ≥ 1.0; 1.0 for one worker.

        Examples
        --------
        >>> import perfectly
        >>> perfectly.search(1, 10_000, backend="serial").imbalance
        1.0
        """
        return imbalance(self.worker_busy)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict.

        Returns
        -------
        dict
            Every field, with ``census`` as :meth:`Census.to_dict` gives it and tuples as
            lists, and ``imbalance``.

        Examples
        --------
        >>> import json, perfectly
        >>> d = perfectly.search(1, 10_000, backend="serial").to_dict()
        >>> d["census"]["perfect"], d["backend"], d["imbalance"]
        ([6, 28, 496, 8128], 'serial', 1.0)
        >>> json.loads(json.dumps(d)) == d
        True
        """
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["census"] = self.census.to_dict()
        fields["worker_busy"] = list(self.worker_busy)
        fields["worker_chunks"] = list(self.worker_chunks)
        fields["imbalance"] = self.imbalance
        return fields


def imbalance(worker_busy: Iterable[float]) -> float:
    """max / mean of the busy time of the workers that did any work (1.0: none, or even)."""
    busy = [b for b in worker_busy if b > 0] or [0.0]
    mean = sum(busy) / len(busy)
    return max(busy) / mean if mean > 0 else 1.0


@dataclasses.dataclass(frozen=True)
class _Settings:
    """A search's arguments, checked (see ``search`` for each)."""

    lo: int
    hi: int
    backend: str
    workers: int
    job: Job
    schedule: str
    chunk_size: int | None
    start_method: str | None
    retries: int
    timeout: float | None
    progress: Callable[[int, int], object] | None
    journal: str | None
    backend_options: dict[str, Any]


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
    kernel: str | None = None,
    start_method: str | None = None,
    retries: int = 1,
    timeout: float | None = None,
    progress: Callable[[int, int], object] | None = None,
    amicable: bool = False,
    journal: str | os.PathLike[str] | None = None,
    backend_options: dict[str, Any] | None = None,
) -> SearchResult:
    """Census of [lo, hi) in parallel, verified against the closed form of Σσ.

    The range is cut into chunks, the chunks run on a backend, and their censuses are
    merged and checked (Σσ against :func:`sum_sigma`, σ of every number listed) before
    the result is returned. The census is the same as :func:`census` gives, whatever the
    backend, workers, schedule or chunk size. The README's "Parallel search" has the
    arguments in a table.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    backend : str, default "threads"
        Where chunks run, one of ``perfectly.BACKENDS`` (see :mod:`perfectly.parallel`).
    workers : int or None, default None
        How many, ``1 ≤ workers ≤ 4096``; None or -1: every CPU this process may use.
        Never more than the plan has chunks to run (except for ``"static"``, which has
        one a worker); ``"serial"`` uses 1.
    method : {"sieve", "trial"}, default "sieve"
        The range algorithm, as for :func:`census` (``"trial"`` needs ``hi ≤ 2**61``).
    schedule : {"static", "dynamic", "guided"}, default "dynamic"
        How the range is cut and handed out: one block per worker; fixed-size chunks to
        whichever worker is free; chunks that shrink as the work runs out.
    chunk_size : int or None, default None
        Numbers per chunk, ≥ 1 (``"static"`` ignores it: one block per worker). None:
        about 0.1 s of work per chunk and 8 chunks per worker, but at least about 0.1 ms
        of it (``perfectly.planning.default_chunk_size``), or, resuming a journal, the
        journal's size.
    release_gil : bool, default True
        False holds the GIL in the compiled kernel, to measure what releasing it buys.
    kernel : {"compiled", "python"} or None, default None
        None for the active kernel (compiled where installed).
    start_method : str or None, default None
        Process backends only: one of ``perfectly.START_METHODS`` (``"fork"``,
        ``"forkserver"``, ``"spawn"``); None: the platform's default. With the last two a
        script needs ``if __name__ == "__main__":``.
    retries : int, default 1
        Re-runs (≥ 0) of a chunk whose worker died (never of one that raised).
    timeout : float or None, default None
        Seconds (a real > 0), verification included, before every worker is stopped and
        ``TimeoutError`` is raised; None: no limit.
    progress : callable or None, default None
        Called as ``progress(done, total)`` in the calling thread after each chunk, with
        the numbers done so far and ``hi - lo``.
    amicable : bool, default False
        Also find amicable pairs (``hi ≤ 2**61``), as :func:`census` does.
    journal : str or os.PathLike or None, default None
        An SQLite file that records each finished chunk, which a rerun of the same
        search resumes from (see ``perfectly.journal``).
    backend_options : dict or None, default None
        Dask only: ``scheduler`` (an address or a ``Client``; None: a ``LocalCluster``
        of ``workers`` processes), ``security`` (a ``distributed.Security``) and
        ``trust_scheduler`` (needed for a plain tcp:// address off loopback).

    Returns
    -------
    SearchResult
        The verified census, and how the search ran.

    Raises
    ------
    TypeError
        If an argument has the wrong type: ``lo``, ``hi``, ``workers``, ``chunk_size``
        or ``retries`` not an integer, a name not a str, ``release_gil`` or
        ``amicable`` not a bool, ``timeout`` not a number, ``progress`` not callable,
        ``journal`` not a path, ``backend_options`` not a mapping.
    ValueError
        If an argument is outside its domain: ``lo`` < 1 or ``lo`` > ``hi``, an unknown
        name, ``workers``, ``chunk_size``, ``retries`` or ``timeout`` out of range,
        ``start_method`` with a backend that is not a process one, an option the
        backend does not take, a Dask ``scheduler`` it refuses, or a ``journal`` of
        ``""`` or ``":memory:"``.
    OverflowError
        If ``hi`` > 2**64, or ``hi`` > 2**61 with ``method="trial"`` or ``amicable``.
    RuntimeError
        If ``kernel="compiled"`` and the compiled kernel is not available, or the backend
        cannot start beside another one this process runs or ran (see
        :mod:`perfectly.parallel`: ``fork`` after worker interpreters, for instance).
    ImportError
        If the backend needs what is not installed (``"dask"`` without Dask,
        ``"interpreters"`` on a Python without subinterpreters).
    ConnectionError
        If the Dask ``scheduler`` cannot be reached.
    ChunkError
        If a chunk raised; its ``__cause__`` is the original error.
    WorkerLostError
        If a worker died more often than ``retries`` allows.
    TimeoutError
        If the search, verification included, did not finish within ``timeout``.
    VerificationError
        If a check of the merged census fails: never a result.
    perfectly.journal.JournalError
        If the journal was made for another search, holds a wrong chunk, or cannot be
        written.

    Warns
    -----
    DeprecationWarning
        For ``backend="thread"``, the old name of ``"_thread"``.

    Examples
    --------
    >>> import perfectly
    >>> r = perfectly.search(1, 10_000, workers=2, chunk_size=1_000)
    >>> r.census.perfect, r.verified, r.backend, r.workers, r.chunks
    ((6, 28, 496, 8128), True, 'threads', 2, 10)
    >>> r.census == perfectly.census(1, 10_000)
    True
    """
    started = time.perf_counter()
    s = _checked(
        lo,
        hi,
        backend=backend,
        workers=workers,
        method=method,
        schedule=schedule,
        chunk_size=chunk_size,
        release_gil=release_gil,
        kernel=kernel,
        start_method=start_method,
        retries=retries,
        timeout=timeout,
        progress=progress,
        amicable=amicable,
        journal=journal,
        backend_options=backend_options,
    )
    chunks = _plan(s)
    merged = Aggregator(s.lo, s.hi, amicable=s.job.amicable)
    with _open_journal(s.journal, chunks, s.job.amicable) as book:
        resumed = _resume(book, chunks, merged)
        resumed_numbers = merged.numbers_done
        closed_form = ClosedForm(s.lo, s.hi)  # Σσ for the check, while the chunks run
        run = _run(s, chunks, merged, book, started)
    census = _verified(merged.census(), closed_form.wait(run.deadline, s.timeout))
    wall = time.perf_counter() - started
    return _result(s, chunks, census, run, (resumed, resumed_numbers), wall)


def _checked(
    lo: object,
    hi: object,
    *,
    backend: object,
    workers: object,
    method: object,
    schedule: object,
    chunk_size: object,
    release_gil: object,
    kernel: object,
    start_method: object,
    retries: object,
    timeout: object,
    progress: object,
    amicable: object,
    journal: object,
    backend_options: object,
) -> _Settings:
    """Every argument of ``search`` checked, before anything starts."""
    lo_, hi_ = v.check_range(lo, hi)
    backend_ = v.check_backend(backend)
    workers_ = v.check_workers(workers)
    method_ = v.check_method(method)
    amicable_ = v.check_flag(amicable, "amicable")
    if method_ == "trial":
        v.check_trial_hi(hi_)
    if amicable_:
        v.check_amicable_hi(hi_)
    job = Job(
        method=method_,
        kernel=kernel_name(v.check_kernel(kernel)),  # fails if it is missing here
        release_gil=v.check_flag(release_gil, "release_gil"),
        amicable=amicable_,
    )
    return _Settings(
        lo=lo_,
        hi=hi_,
        backend=backend_,
        # serial: the calling thread only; never more workers than numbers
        workers=1 if backend_ == "serial" else min(workers_, max(1, hi_ - lo_)),
        job=job,
        schedule=v.check_schedule(schedule),
        chunk_size=v.check_chunk_size(chunk_size),
        start_method=v.check_start_method(start_method, backend_),
        retries=v.check_retries(retries),
        timeout=v.check_timeout(timeout),
        progress=v.check_progress(progress),
        journal=None if journal is None else v.check_journal_path(journal),
        backend_options=v.check_backend_options(backend_, backend_options),
    )


def _plan(s: _Settings) -> Plan:
    """The plan; resuming a journal without a chunk size takes the journal's, so that
    a run on another number of workers still finds its chunks."""
    size = s.chunk_size
    if s.journal is not None and size is None and s.schedule != "static":
        from perfectly.journal import stored_params

        stored = stored_params(s.journal)
        if stored is not None and isinstance(stored.get("chunk_size"), int):
            size = stored["chunk_size"]
    return plan(
        s.lo, s.hi, schedule=s.schedule, workers=s.workers, chunk_size=size, method=s.job.method
    )


def _open_journal(
    journal: str | None, chunks: Plan, amicable: bool
) -> contextlib.AbstractContextManager[Journal | None]:
    """The journal for this plan (refused if it was made for another), or None."""
    if journal is None:
        return contextlib.nullcontext()
    from perfectly.journal import Journal

    return Journal(journal, {**chunks.identity(), "amicable": amicable})


def _resume(book: Journal | None, chunks: Plan, merged: Aggregator) -> int:
    """Take the journal's finished chunks, each checked to be the plan's chunk of its
    index and consistent (:func:`check_part`); how many there were."""
    if book is None:
        return 0
    from perfectly.journal import JournalError

    planned = iter(chunks)  # lazily, in index order, as the journal's rows come
    count = 0
    for result in book.finished():
        chunk = next((c for c in planned if c.index >= result.chunk.index), None)
        try:
            if chunk != result.chunk:
                raise ValueError(f"the plan has {chunk} for index {result.chunk.index}")
            check_part(result.census, sigma)
        except ValueError as exc:
            raise JournalError(
                f"journal {book.path!r} holds chunk {result.chunk.index} "
                f"[{result.chunk.lo}, {result.chunk.hi}), which is wrong: {exc}"
            ) from exc
        merged.add(result.chunk.index, result.census)
        count += 1
    if book.read_only is not None and merged.numbers_done < merged.hi - merged.lo:
        raise JournalError(
            f"journal {book.path!r} cannot be written ({book.read_only}) and holds only "
            f"{count} finished chunks: make it writable, or use another file"
        )
    return count


def _run(
    s: _Settings, chunks: Plan, merged: Aggregator, book: Journal | None, started: float
) -> Run:
    """Run the chunks not merged yet; journal and merge each result as it arrives."""
    todo = (c for c in chunks if not merged.covers(c.lo, c.hi))  # not resumed
    first = list(itertools.islice(todo, s.workers))  # enough to know how many to start
    executor = make_executor(
        s.backend,
        chunks.workers_for(len(first)),
        start_method=s.start_method,
        options=s.backend_options,
    )
    run = Run(
        executor,
        s.job,
        itertools.chain(first, todo),
        pinned=chunks.pinned,
        retries=s.retries,
        timeout=s.timeout,
        started=started,
    )
    with run:
        for result in run:
            if book is not None:
                book.record(result)
            merged.add(result.chunk.index, result.census)
            if s.progress is not None:
                s.progress(merged.numbers_done, s.hi - s.lo)
    return run


class ClosedForm:
    """Σσ over [lo, hi) by the closed form (:func:`sum_sigma`), computed in a thread of
    its own from the start of the search, so that verification waits for it only until
    the deadline, and Ctrl-C while it waits acts within ``POLL`` s; up to ``hi`` =
    ``INLINE_UP_TO`` it is computed at once instead, as it takes less than starting the
    thread would.

    A compiled ``sum_sigma`` call cannot be interrupted: after a timeout or Ctrl-C the
    thread (a daemon, ``perfectly-verify``) ends with its call, under a second even at
    2**64, and starts no second call once the search has given up waiting.
    """

    #: Up to this hi the two sum_sigma calls (O(√hi)) take at most about what the thread
    #: costs a search (0.15 ms; a serial search of [1, 1000) took 0.62 ms with it, 0.37
    #: ms without; 2-vCPU Xeon VM, 2026-12-07).
    INLINE_UP_TO = 2**31

    def __init__(self, lo: int, hi: int) -> None:
        self._done, self._abandoned = threading.Event(), threading.Event()
        self._value = 0
        self._error: BaseException | None = None
        if hi <= self.INLINE_UP_TO:  # here, so that Ctrl-C is raised at once, not kept
            self._value = sum_sigma(hi - 1) - sum_sigma(lo - 1)
            self._done.set()
            return
        thread = threading.Thread(
            target=self._compute, args=(lo, hi), name="perfectly-verify", daemon=True
        )
        thread.start()

    def _compute(self, lo: int, hi: int) -> None:
        try:
            upper = sum_sigma(hi - 1)
            if not self._abandoned.is_set():
                self._value = upper - sum_sigma(lo - 1)
        except BaseException as exc:  # handed to the waiting search, which raises it
            self._error = exc
        finally:
            self._done.set()

    def wait(self, deadline: float | None, timeout: float | None) -> int:
        """The closed form; ``TimeoutError`` if it is not ready by ``deadline``."""
        try:
            while not self._done.wait(POLL):
                if deadline is not None and time.perf_counter() > deadline:
                    raise TimeoutError(
                        f"the search did not finish within timeout={timeout} s: every "
                        "chunk ran, but verification (the closed form of sum of sigma) "
                        "was still running"
                    )
        finally:
            self._abandoned.set()
        if self._error is not None:
            raise self._error
        return self._value


def _verified(census: Census, expected: int) -> Census:
    """``census`` if its Σσ is ``expected`` (the closed form's) and it passes
    :func:`check_part` (σ recomputed for every number it lists), else
    ``VerificationError``."""
    try:
        check_part(census, sigma)
    except ValueError as exc:
        raise VerificationError(f"the merged census is wrong: {exc}") from exc
    if census.sigma_sum != expected:
        raise VerificationError(
            f"sum of sigma over [{census.lo}, {census.hi}) is {census.sigma_sum}, "
            f"but the closed form gives {expected}"
        )
    return census


def _result(
    s: _Settings, chunks: Plan, census: Census, run: Run, resumed: tuple[int, int], wall: float
) -> SearchResult:
    workers = sorted(run.busy)
    return SearchResult(
        census=census,
        verified=True,
        backend=s.backend,
        workers=run.executor.max_workers,
        start_method=run.executor.start_method,
        schedule=s.schedule,
        method=s.job.method,
        kernel=s.job.kernel,
        release_gil=s.job.release_gil,
        chunk_size=chunks.chunk_size,
        chunks=sum(run.done.values()) + resumed[0],
        resumed=resumed[0],
        resumed_numbers=resumed[1],
        wall=wall,
        startup=run.startup,
        shutdown=run.shutdown,
        worker_busy=tuple(run.busy[w] for w in workers),
        worker_chunks=tuple(run.done[w] for w in workers),
        retried=run.retried,
    )
