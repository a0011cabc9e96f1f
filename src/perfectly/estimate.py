"""How long a search will take on this machine, known before it starts.

The cost of a number grows with its size (the sieve's large primes hit more often; each
chunk opens a sieve, whose set-up grows with the primes up to √hi; trial division grows
like √n), so the rate of the first minutes says little about the last ones: a census of
[1, 1e13) costs more per number at its end than at its start. :func:`estimate` times
the kernel itself at a few points across the range, each on a sieve as long as the
search's chunks there (so its set-up and its buckets are the real ones), and sums the
cost of every chunk of the search's plan, shared out among the workers as the search
shares them. It adds the search's verification, Σσ by the closed form at both ends of
the range, which runs beside the workers: 1.2 s near 2**64, where a short range is all
verification.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import itertools
import math
import sys
import time
from typing import Any

from perfectly import _validate as v
from perfectly._core import kernel_module, kernel_name
from perfectly.arithmetic import sum_sigma
from perfectly.planning import Plan, plan

#: Points of the range that are timed (fewer for short ranges).
SAMPLES = 5
#: Seconds of steady kernel work timed at each point.
SAMPLE_WORK = 0.04
#: Numbers in the first call at a point, the one that pays the sieve's set-up.
FIRST_CALL = {"compiled": 1 << 15, "python": 64}
#: The closed form's time grows like x**(1/3)·ln x (its hull walk): it is timed at this x
#: (or at a smaller one) and scaled: 0.94-1.00 of the real time from 10**13 to 2**64
#: (compiled, 2-vCPU Xeon, 2026-12-06; the pure-Python one, whose numbers outgrow 64
#: bits, took up to 1.25 times the scaled time at 10**15).
CLOSED_FORM_AT = 10**12
#: Chunks up to this many are handed out to the workers one by one, as the search's
#: loop does; above it, their work is spread evenly (the tail is one chunk at most).
SIMULATED_CHUNKS = 20_000


@dataclasses.dataclass(frozen=True)
class Sample:
    """What the kernel took at ``at``: seconds per number, and seconds to open a sieve
    of one chunk there (0 for trial division)."""

    at: int
    per_number: float
    setup: float


@dataclasses.dataclass(frozen=True)
class Estimate:
    """The predicted time of ``search(lo, hi, ...)`` with these arguments, on this machine.

    ``seconds`` is the wall time; ``work`` the seconds of kernel work of all chunks
    together; ``samples`` what was timed. :meth:`work_before` is the work up to a number,
    which a progress bar needs for an honest ETA. :func:`estimate` makes it; it is
    frozen, and each parameter below is an attribute of the same name.

    Parameters
    ----------
    lo, hi : int
        The range of the search.
    backend : str
        Its backend.
    workers : int
        The workers the search would start (1 for ``"serial"``; never more than its
        chunks).
    parallel : int
        How many workers can compute at once here: no more than the CPUs this process
        may use, and 1 where a thread backend runs the pure-Python kernel under the GIL.
    method, kernel : str
        The range algorithm, and the kernel (``"compiled"`` or ``"python"``).
    chunks, chunk_size : int
        How many chunks the search's plan has, and its chunk size.
    seconds : float
        The predicted wall time of the search, ``primes`` and ``check`` included.
    work : float
        Seconds of kernel work of all chunks together.
    primes : float
        Seconds this process spent making the sieving primes it lacked (a search pays
        this once, not per chunk).
    check : float
        Seconds the search's verification takes: Σσ by the closed form at ``hi - 1``
        and ``lo - 1``, in a thread of its own beside the workers (a CPU to itself where
        one is free). 1.2 s near 2**64: all there is to a short range there.
    samples : tuple of Sample
        What was timed: at each point ``at``, seconds per number (``per_number``) and
        seconds to open a sieve of one chunk there (``setup``, 0 for trial division).
    took : float
        Seconds spent estimating.

    Examples
    --------
    >>> import perfectly
    >>> e = perfectly.estimate(1, 10**6, backend="serial")
    >>> e.workers, e.parallel, e.chunks, e.chunk_size
    (1, 1, 8, 125000)
    >>> e
    Estimate(lo=1, hi=1000000, backend='serial', workers=1, parallel=1, method='sieve', ...)
    """

    lo: int
    hi: int
    backend: str
    workers: int
    parallel: int  # how many workers can run at once here (CPUs, the GIL)
    method: str
    kernel: str
    chunks: int
    chunk_size: int
    seconds: float
    work: float
    primes: float  # seconds this process spent making the sieving primes it lacked
    check: float  # seconds of Σσ by the closed form, the search's verification
    samples: tuple[Sample, ...]
    took: float  # seconds spent estimating

    def work_before(self, n: int) -> float:
        """Seconds of kernel work that [lo, n) costs (lo ≤ n ≤ hi).

        The cost per number, interpolated between the samples, summed up to ``n``: what
        the work done so far is worth, for an ETA that allows for numbers growing
        dearer.

        Parameters
        ----------
        n : int
            Where the work stops; values below ``lo`` or above ``hi`` are taken as
            ``lo`` or ``hi``.

        Returns
        -------
        float
            Seconds, from 0.0 at ``lo`` to ``work`` at ``hi``.

        Examples
        --------
        >>> import perfectly
        >>> e = perfectly.estimate(1, 10**6, backend="serial")
        >>> e.work_before(e.lo), e.work_before(e.hi) == e.work
        (0.0, True)
        >>> 0.0 <= e.work_before(5_000) <= e.work
        True
        """
        return _integral(self.samples, self.chunk_size, self.lo, min(max(n, self.lo), self.hi))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict.

        Returns
        -------
        dict
            Every field, with ``samples`` as a list of dicts (``at``, ``per_number``,
            ``setup``).

        Examples
        --------
        >>> import json, perfectly
        >>> d = perfectly.estimate(1, 10**6, backend="serial").to_dict()
        >>> d["chunks"], sorted(d["samples"][0])
        (8, ['at', 'per_number', 'setup'])
        >>> json.loads(json.dumps(d)) == d
        True
        """
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["samples"] = [dataclasses.asdict(s) for s in self.samples]
        return fields


def estimate(
    lo: int,
    hi: int,
    *,
    backend: str = "threads",
    workers: int | None = None,
    method: str = "sieve",
    schedule: str = "dynamic",
    chunk_size: int | None = None,
    kernel: str | None = None,
) -> Estimate:
    """How long ``search(lo, hi, ...)`` with the same arguments will take here.

    Parameters are those of :func:`perfectly.search`. It times the kernel at up to five
    points of the range (about 0.1 s each, more where a sieve's set-up is slow: near
    2**64 each point opens a sieve of 203 million primes, ≈ 0.7 s, and the first use in a
    process also makes those primes, ≈ 2 s), and the closed form of Σσ that verifies the
    search, and assumes the CPUs are not shared with other work while the search runs.
    Starting and stopping the workers is left out: about 1 to 20 ms for threads,
    interpreters and forked processes, 0.1 s for spawned ones and 0.5 to 1 s for a Dask
    cluster the search makes (2 workers, 2-vCPU VM), which only a short search notices.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    backend : str, default "threads"
        One of ``perfectly.BACKENDS``; it is not started.
    workers : int or None, default None
        ``1 ≤ workers ≤ 4096``; None or -1: every CPU this process may use.
    method : {"sieve", "trial"}, default "sieve"
        The range algorithm (``"trial"`` needs ``hi ≤ 2**61``).
    schedule : {"static", "dynamic", "guided"}, default "dynamic"
        How the search would cut and hand out the range.
    chunk_size : int or None, default None
        Numbers per chunk, ≥ 1; None: the search's default.
    kernel : {"compiled", "python"} or None, default None
        The kernel to time; None for the active one.

    Returns
    -------
    Estimate
        The predicted wall time (``seconds``), the work, and what was timed.

    Raises
    ------
    TypeError
        If ``lo``, ``hi``, ``workers`` or ``chunk_size`` is not an integer, or a name
        (``backend``, ``method``, ``schedule``, ``kernel``) is not a str.
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``, a name is not one of its choices, or
        ``workers`` or ``chunk_size`` is out of range.
    OverflowError
        If ``hi`` > 2**64, or ``method="trial"`` with ``hi`` > 2**61.
    RuntimeError
        If ``kernel="compiled"`` and the compiled kernel is not available.

    Warns
    -----
    DeprecationWarning
        For ``backend="thread"``, the old name of ``"_thread"``.

    Examples
    --------
    >>> import perfectly
    >>> e = perfectly.estimate(1, 10_000, workers=2, chunk_size=1_000)
    >>> e.backend, e.workers, e.chunks, e.chunk_size
    ('threads', 2, 10, 1000)
    >>> e.seconds >= 0.0
    True
    """
    started = time.perf_counter()
    lo, hi = v.check_range(lo, hi)
    backend = v.check_backend(backend)
    workers = 1 if backend == "serial" else min(v.check_workers(workers), max(1, hi - lo))
    method = v.check_method(method)
    if method == "trial":
        v.check_trial_hi(hi)
    name = kernel_name(v.check_kernel(kernel))
    chunks = plan(
        lo,
        hi,
        schedule=v.check_schedule(schedule),
        workers=workers,
        chunk_size=v.check_chunk_size(chunk_size),
        method=method,
    )
    module = kernel_module(name)
    primes = _make_primes(module, chunks) if hi > lo else 0.0
    samples = _samples(module, chunks, name) if hi > lo else ()
    costs = _chunk_costs(samples, chunks)
    workers = chunks.workers_for(len(list(itertools.islice(chunks, workers))))  # as search
    parallel = _parallel(backend, workers, name)
    work = _integral(samples, chunks.chunk_size, lo, hi) if samples else 0.0
    check = _closed_form(hi - 1, lo - 1) if hi > lo else 0.0
    busy = primes + _makespan(costs[1], costs[0], work, parallel)
    return Estimate(
        lo=lo,
        hi=hi,
        backend=backend,
        workers=workers,
        parallel=parallel,
        method=method,
        kernel=name,
        chunks=costs[0],
        chunk_size=chunks.chunk_size,
        seconds=_wall(busy, check, primes + work + check, v.available_cpus()),
        work=work,
        primes=primes,
        check=check,
        samples=samples,
        took=time.perf_counter() - started,
    )


def _make_primes(kernel: Any, chunks: Plan) -> float:
    """Seconds to make the sieving primes up to √hi, which the compiled sieve makes once
    per process (0 if this one has them already): a search pays it once, not per chunk,
    and not at all where its last chunk would rather factor its numbers one by one (a
    short range near 2**64: the kernel's own choice)."""
    if chunks.method != "sieve" or not hasattr(kernel, "sieving_primes") or chunks.hi < 2:
        return 0.0
    size = min(chunks.chunk_size or chunks.hi, chunks.hi - chunks.lo)
    if not kernel._sieves(chunks.hi - size, size):
        return 0.0
    began = time.perf_counter()
    kernel.sieving_primes(math.isqrt(chunks.hi - 1))
    return time.perf_counter() - began


def _closed_form(*xs: int) -> float:
    """Seconds ``sum_sigma`` takes here at each of ``xs``, together: timed once at
    ``CLOSED_FORM_AT`` (or at the largest x, if smaller; the best of three where that is
    quick, as it is compiled: 1.4 ms) and scaled by x**(1/3)·ln x."""
    xs = tuple(x for x in xs if x >= 2)
    if not xs:
        return 0.0
    at = min(max(xs), CLOSED_FORM_AT)
    took: list[float] = []
    while len(took) < 3 and sum(took) < 0.05:
        began = time.perf_counter()
        sum_sigma(at)
        took.append(time.perf_counter() - began)
    return sum(min(took) * math.pow(x / at, 1 / 3) * math.log(x) / math.log(at) for x in xs)


def _wall(busy: float, check: float, cpu: float, cpus: int) -> float:
    """The search's wall time: its workers' (``busy``: the primes, then the chunks as they
    share them) or its verification's (``check``, in a thread of its own from the start),
    whichever ends last; or, where the ``cpus`` cannot run them all at once, the CPU time
    of everything (``cpu``) shared out among them."""
    return max(busy, check, cpu / max(1, cpus))


def _points(chunks: Plan, size: int) -> list[int]:
    """Where to time: evenly across the range, each window inside it; once, in the
    middle, where the range spans under 2 % of its magnitude (the cost is flat there)."""
    last = max(chunks.lo, chunks.hi - size)
    if 64 * (chunks.hi - chunks.lo) <= chunks.hi:
        return [(chunks.lo + last) // 2]
    count = 1 if last == chunks.lo else SAMPLES
    return sorted({chunks.lo + (last - chunks.lo) * i // max(1, count - 1) for i in range(count)})


def _samples(kernel: Any, chunks: Plan, name: str) -> tuple[Sample, ...]:
    size = chunks.chunk_size or (chunks.hi - chunks.lo)
    return tuple(
        _sample(kernel, x, min(chunks.hi, x + size), chunks.method, name)
        for x in _points(chunks, size)
    )


def _sample(kernel: Any, at: int, end: int, method: str, name: str) -> Sample:
    """Time a sweep of [at, end) as a chunk's would run: its calls up to the first that
    takes numbers (the set-up, in steps), then calls twice as long each until
    SAMPLE_WORK seconds of steady work."""
    clock = time.thread_time
    sweep = kernel.Sweep(at, end, method)
    step = FIRST_CALL[name]
    began = clock()
    first = sweep.summarize(step)
    while first[1] == first[0] and sweep.position < end:  # a sieve's set-up, a step a call
        first = sweep.summarize(step)
    first_time = clock() - began
    numbers, seconds = 0, 0.0
    while sweep.position < end and seconds < SAMPLE_WORK:
        began = clock()
        a, b, _, _ = sweep.summarize(step)
        seconds += clock() - began
        numbers += b - a
        step *= 2
    if numbers == 0:  # the window was one call long: its time is all there is
        return Sample(at, first_time / max(1, first[1] - first[0]), 0.0)
    per_number = seconds / numbers
    setup = max(0.0, first_time - (first[1] - first[0]) * per_number)
    return Sample(at, per_number, setup if method == "sieve" else 0.0)


def _density(samples: tuple[Sample, ...], size: int, x: float) -> float:
    """Seconds per number at x: per-number cost and set-up spread over a chunk, linear
    between the samples, constant beyond them."""
    at = [s.at for s in samples]
    i = bisect.bisect_right(at, x)
    if i == 0 or i == len(samples):
        s = samples[0 if i == 0 else -1]
        return s.per_number + s.setup / size
    a, b = samples[i - 1], samples[i]
    t = (x - a.at) / (b.at - a.at)
    return (1 - t) * (a.per_number + a.setup / size) + t * (b.per_number + b.setup / size)


def _integral(samples: tuple[Sample, ...], size: int, lo: int, n: int) -> float:
    """∫ density over [lo, n): exact for the piecewise-linear density (trapezoids between
    knots, which are the samples and the ends)."""
    if n <= lo or not samples:
        return 0.0
    size = size or (n - lo)
    knots = [lo] + [s.at for s in samples if lo < s.at < n] + [n]
    return sum(
        (b - a) * (_density(samples, size, a) + _density(samples, size, b)) / 2
        for a, b in itertools.pairwise(knots)
    )


def _chunk_costs(samples: tuple[Sample, ...], chunks: Plan) -> tuple[int, list[float]]:
    """How many chunks the plan has, and their costs if there are few enough to hand out
    one by one (else an empty list)."""
    size = chunks.chunk_size
    count = len(list(chunks)) if chunks.pinned else -(-(chunks.hi - chunks.lo) // max(1, size))
    if not samples or count > SIMULATED_CHUNKS or chunks.schedule == "guided":
        return count, []
    return count, [_integral(samples, size, c.lo, c.hi) for c in chunks]


def _makespan(costs: list[float], count: int, work: float, parallel: int) -> float:
    """When the last worker finishes: chunks handed out in order to whichever is free
    (the search's dynamic loop); with too many chunks to simulate, the work spread
    evenly plus at most one chunk's tail."""
    if not costs:
        return work / parallel + (work / count if count else 0.0) * (parallel > 1)
    free = [0.0] * min(parallel, len(costs))
    for cost in costs:
        heapq.heappush(free, heapq.heappop(free) + cost)
    return max(free)


def _parallel(backend: str, workers: int, kernel: str) -> int:
    """How many of the workers can compute at the same time here: no more than the CPUs
    this process may use, and one where a thread backend runs the pure-Python kernel
    under the GIL."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    if backend == "serial" or (kernel == "python" and backend in ("threads", "_thread") and gil):
        return 1
    return max(1, min(workers, v.available_cpus()))


def describe(e: Estimate) -> str:
    """The estimate in words, one line."""
    rates = sorted(s.per_number * 1e9 for s in e.samples)
    rate = (
        f"{rates[0]:.3g}–{rates[-1]:.3g}" if len(rates) > 1 else f"{rates[0]:.3g}" if rates else "–"
    )
    how = f"{e.backend}, {e.workers} worker{'s' * (e.workers > 1)}"
    primes = f"; {e.primes:.1f} s making the sieving primes" if e.primes >= 0.05 else ""
    check = f"; verification {e.check:.1f} s" if e.check >= 0.05 else ""
    chunks = f"{e.chunks:,} chunk{'s' * (e.chunks != 1)}"
    return (
        f"estimate for [{e.lo}, {e.hi}): {duration(e.seconds)} ({how}; {chunks}; "
        f"{rate} ns per number and chunk set-up, timed here at {len(e.samples)} "
        f"point{'s' * (len(e.samples) != 1)} in {e.took:.1f} s{primes}{check})"
    )


def duration(seconds: float) -> str:
    """3.2 s, 14 min 5 s, 5 h 12 min, 3 d 4 h."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes = math.floor(seconds / 60)
    if minutes < 60:
        return f"{minutes} min {round(seconds - 60 * minutes)} s"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes - 60 * hours} min"
    return f"{hours // 24} d {hours % 24} h"
