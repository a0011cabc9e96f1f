"""Parallel search: every backend, worker count, schedule and chunk size gives the
exact census of the range (checked against brute force and against the serial
``perfectly.census``), the ``SearchResult`` describes the run truthfully, and bad
arguments fail with typed errors before any worker starts."""

from __future__ import annotations

import itertools
import json
import math
import multiprocessing
import os
import subprocess
import sys

import pytest
from conftest import (
    AMICABLE_BELOW_1E5,
    CHILD_ENV,
    COMPILED,
    PROCESS_BACKENDS,
    START_METHODS,
    worker_threads,
)
from conftest import LOCAL_BACKENDS as ALL_BACKENDS

import perfectly
from perfectly import parallel
from perfectly.census import Census
from perfectly.planning import plan

pytestmark = pytest.mark.timeout(120)

SCHEDULES = ("static", "dynamic", "guided")
CHUNK_SIZES = (None, 997, 5000)
WORKERS = (1, 2, 3)

LO, HI = 1, 20_000
# Independent facts about [1, 20000): the four perfect numbers below 10**4, the two
# 3-perfect numbers below 10**4, the first amicable pairs (smaller member < 20000).
KNOWN_PERFECT = (6, 28, 496, 8128)
KNOWN_TRIPERFECT = ((120, 3), (672, 3))
KNOWN_AMICABLE = tuple(p for p in AMICABLE_BELOW_1E5 if p[0] < HI)


# --------------------------------------------------------------------------
# Expected censuses, by brute force (no perfectly code involved)
# --------------------------------------------------------------------------

_EXPECTED: dict[tuple[int, int, bool], Census] = {}


def brute_census(brute, lo: int, hi: int, amicable: bool = False) -> Census:
    """The census of [lo, hi) from the brute-force helpers of conftest."""
    key = (lo, hi, amicable)
    if key not in _EXPECTED:
        _EXPECTED[key] = Census(**brute.census(lo, hi, amicable))
    return _EXPECTED[key]


def check_census(brute, result, lo, hi, amicable=False, *, method="sieve"):
    """``result.census`` equals brute force and the serial census (itself = brute force)."""
    expected = brute_census(brute, lo, hi, amicable)
    serial = perfectly.census(lo, hi, amicable=amicable, method=method)
    assert serial == expected, "the serial census disagrees with brute force"
    assert result.census == expected
    assert result.census == serial


def check_summary(result, *, backend, workers, schedule, lo, hi, chunk_size, method="sieve"):
    """What every ``SearchResult`` must say about the run that made it."""
    count = hi - lo
    expected_workers = 1 if backend == "serial" else workers
    if schedule != "static":  # no more workers than chunks (checked against the plan below)
        expected_workers = min(expected_workers, result.chunks)
    assert result.verified is True
    assert result.backend == backend
    assert result.workers == expected_workers
    assert result.schedule == schedule
    assert result.method == method
    assert result.retried == 0
    assert result.wall >= 0 and result.startup >= 0 and result.shutdown >= 0
    assert sum(result.worker_chunks) == result.chunks
    assert all(c >= 1 for c in result.worker_chunks)
    assert len(result.worker_busy) == len(result.worker_chunks)
    assert len(result.worker_busy) <= expected_workers
    assert all(b >= 0 for b in result.worker_busy)
    assert result.imbalance >= 1.0
    if backend in PROCESS_BACKENDS:
        assert result.start_method in START_METHODS
    else:
        assert result.start_method is None
    # the number of chunks follows the plan
    if schedule == "static":
        assert result.chunk_size == -(-count // expected_workers)  # the largest block
        assert result.chunks == min(expected_workers, count)
        if count >= expected_workers:
            assert result.chunks == expected_workers
            if backend not in ("thread-pool", "process-pool"):
                # hand-written backends: block i belongs to worker i
                assert result.worker_chunks == (1,) * expected_workers
    elif schedule == "dynamic":
        if chunk_size is not None:
            assert result.chunk_size == chunk_size
        assert result.chunks == -(-count // result.chunk_size)
    else:
        if chunk_size is not None:
            assert result.chunk_size == chunk_size
        chunks = list(
            plan(
                lo,
                hi,
                schedule="guided",
                workers=expected_workers,
                chunk_size=chunk_size,
                method=method,
            )
        )
        check_tiling(chunks, lo, hi)
        base = result.chunk_size
        for c in chunks[:-1]:  # the last one may be cut short by hi
            assert max(1, base // 8) <= c.count <= base * 8
        assert result.chunks == len(chunks)


def check_tiling(chunks, lo, hi):
    """The chunks cover [lo, hi) exactly, in order, without gaps or overlaps."""
    assert [c.index for c in chunks] == list(range(len(chunks)))
    start = lo
    for c in chunks:
        assert c.lo == start and c.hi > c.lo
        start = c.hi
    assert start == hi or (lo == hi and not chunks)


# --------------------------------------------------------------------------
# Sanity of the expected values themselves
# --------------------------------------------------------------------------


def test_brute_expectations_match_known_facts(brute):
    expected = brute_census(brute, LO, HI, amicable=True)
    assert expected.perfect == KNOWN_PERFECT
    assert expected.multiply_perfect == KNOWN_TRIPERFECT
    assert expected.amicable == KNOWN_AMICABLE
    assert expected.abundant + expected.deficient + len(expected.perfect) == HI - LO
    assert brute.sigma_loop(220) - 220 == 284 and brute.sigma_loop(284) - 284 == 220
    # the serial census agrees with brute force
    assert perfectly.census(LO, HI, amicable=True) == expected


# --------------------------------------------------------------------------
# The matrix: backend × workers × schedule × chunk size
# --------------------------------------------------------------------------


def _matrix_params():
    params = []
    for backend in ALL_BACKENDS:
        start_method = "fork" if backend in PROCESS_BACKENDS else None
        if start_method == "fork" and "fork" not in START_METHODS:
            continue
        for workers in WORKERS:
            for schedule in SCHEDULES:
                for chunk_size in CHUNK_SIZES:
                    params.append(
                        pytest.param(
                            backend,
                            start_method,
                            workers,
                            schedule,
                            chunk_size,
                            id=f"{backend}-w{workers}-{schedule}-c{chunk_size}",
                        )
                    )
    # forkserver and spawn start slowly: a smaller matrix
    for start_method in (m for m in START_METHODS if m != "fork"):
        for backend in PROCESS_BACKENDS:
            for schedule, chunk_size in (("dynamic", 997), ("static", None)):
                params.append(
                    pytest.param(
                        backend,
                        start_method,
                        2,
                        schedule,
                        chunk_size,
                        id=f"{backend}-{start_method}-{schedule}",
                    )
                )
    return params


@pytest.mark.parametrize(
    ("backend", "start_method", "workers", "schedule", "chunk_size"), _matrix_params()
)
def test_matrix_equals_serial_census(brute, backend, start_method, workers, schedule, chunk_size):
    amicable = chunk_size == 997  # a third of the matrix also looks for amicable pairs
    run = dict(backend=backend, workers=workers, schedule=schedule, chunk_size=chunk_size)
    result = perfectly.search(LO, HI, start_method=start_method, amicable=amicable, **run)
    check_census(brute, result, LO, HI, amicable)
    assert result.census.perfect == KNOWN_PERFECT
    if amicable:
        assert (220, 284) in result.census.amicable
    check_summary(result, lo=LO, hi=HI, **run)
    if start_method is not None:
        assert result.start_method == start_method
    assert worker_threads() == []
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_default_start_method_is_reported(backend):
    result = perfectly.search(1, 2000, backend=backend, workers=2)
    assert result.start_method == multiprocessing.get_context().get_start_method()
    assert result.start_method in START_METHODS


# --------------------------------------------------------------------------
# Other ranges, kernels, methods
# --------------------------------------------------------------------------

OTHER_RANGES = [
    (200, 12_300),  # lo > 1; (12285, 14595) has its partner beyond hi
    (8128, 8129),  # a single perfect number
    (2, 3),
    (1, 7),  # fewer numbers than chunks would like
    (9_999, 10_003),
]


def _start(backend):
    return "fork" if backend in PROCESS_BACKENDS and "fork" in START_METHODS else None


def _search(backend, lo, hi, **kwargs):
    """``perfectly.search`` on ``backend``, with fork for the process backends."""
    return perfectly.search(lo, hi, backend=backend, start_method=_start(backend), **kwargs)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize(("lo", "hi"), OTHER_RANGES)
def test_other_ranges(brute, backend, lo, hi):
    result = _search(backend, lo, hi, workers=3, chunk_size=997, amicable=True)
    check_census(brute, result, lo, hi, amicable=True)
    if (lo, hi) == (200, 12_300):
        assert result.census.perfect == (496, 8128)
        assert result.census.amicable[0] == (220, 284)
        assert result.census.amicable[-1] == (12285, 14595)
    if (lo, hi) == (8128, 8129):
        assert result.census.perfect == (8128,)
        assert result.chunks == 1


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_python_kernel(brute, backend, schedule):
    lo, hi = 1, 3000
    result = _search(
        backend,
        lo,
        hi,
        workers=2,
        schedule=schedule,
        chunk_size=500,
        kernel="python",
        amicable=True,
    )
    check_census(brute, result, lo, hi, amicable=True)
    assert result.kernel == "python"
    assert result.census.perfect == (6, 28, 496)
    assert result.census.amicable[:2] == ((220, 284), (1184, 1210))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_release_gil_false(brute, backend):
    result = _search(backend, LO, HI, workers=2, chunk_size=2000, release_gil=False, amicable=True)
    check_census(brute, result, LO, HI, amicable=True)
    assert result.release_gil is False


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_trial_method(brute, backend, schedule):
    run = dict(workers=3, schedule=schedule, method="trial")
    result = _search(backend, LO, HI, **run)
    check_census(brute, result, LO, HI, method="trial")
    check_summary(result, backend=backend, lo=LO, hi=HI, chunk_size=None, **run)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_trial_python_kernel(brute, backend):
    lo, hi = 1, 2000
    result = _search(backend, lo, hi, workers=2, method="trial", kernel="python", chunk_size=300)
    check_census(brute, result, lo, hi, method="trial")


@pytest.mark.parametrize("workers", [None, -1])
def test_workers_default_is_every_cpu(brute, workers):
    result = perfectly.search(1, 5000, backend="threads", workers=workers, chunk_size=100)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert result.workers == min(cpus, 50)  # 50 chunks
    check_census(brute, result, 1, 5000)


def test_more_workers_than_numbers(brute):
    for backend in ALL_BACKENDS:
        result = _search(
            backend, 5, 8, workers=3 if backend in PROCESS_BACKENDS else 8, chunk_size=1
        )
        check_census(brute, result, 5, 8)
        assert result.chunks == 3


# --------------------------------------------------------------------------
# Empty ranges, progress, SearchResult
# --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("amicable", [False, True])
def test_empty_range(backend, schedule, amicable):
    calls = []
    result = _search(
        backend,
        7,
        7,
        workers=2,
        schedule=schedule,
        amicable=amicable,
        progress=lambda d, t: calls.append((d, t)),
    )
    census = result.census
    assert (census.lo, census.hi, census.count) == (7, 7, 0)
    assert (census.sigma_sum, census.abundant, census.deficient) == (0, 0, 0)
    assert census.perfect == () and census.multiply_perfect == ()
    assert census.amicable == (() if amicable else None)
    assert census == perfectly.census(7, 7, amicable=amicable)
    assert result.verified is True
    assert result.chunks == 0 and sum(result.worker_chunks) == 0
    assert result.imbalance == 1.0
    assert all(d == t == 0 for d, t in calls)
    json.dumps(result.to_dict())
    assert multiprocessing.active_children() == []


def test_empty_range_at_one_and_at_the_top():
    for lo in (1, 2**64):
        result = perfectly.search(lo, lo, backend="threads", workers=2)
        assert result.census.count == 0 and result.census.sigma_sum == 0


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_progress(backend, schedule):
    calls = []
    result = _search(
        backend,
        LO,
        HI,
        workers=2,
        schedule=schedule,
        chunk_size=997,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls, "progress was never called"
    done = [d for d, _ in calls]
    assert all(t == HI - LO for _, t in calls)
    assert done == sorted(done)
    assert done[0] > 0
    assert done[-1] == HI - LO
    assert len(calls) == result.chunks


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_to_dict_round_trips(brute, backend):
    result = _search(backend, LO, HI, workers=2, chunk_size=3000, amicable=True)
    data = json.loads(json.dumps(result.to_dict()))
    expected = brute_census(brute, LO, HI, amicable=True)
    census = data["census"]
    assert census["lo"] == LO and census["hi"] == HI and census["count"] == HI - LO
    assert census["sigma_sum"] == expected.sigma_sum
    assert census["abundant"] == expected.abundant
    assert census["deficient"] == expected.deficient
    assert census["perfect"] == list(KNOWN_PERFECT)
    assert census["multiply_perfect"] == [list(m) for m in KNOWN_TRIPERFECT]
    assert census["amicable"] == [list(p) for p in KNOWN_AMICABLE]
    assert data["verified"] is True
    for key in (
        "backend",
        "workers",
        "start_method",
        "schedule",
        "method",
        "kernel",
        "release_gil",
        "chunk_size",
        "chunks",
        "retried",
    ):
        assert data[key] == getattr(result, key), key
    assert data["worker_chunks"] == list(result.worker_chunks)
    assert data["worker_busy"] == pytest.approx(list(result.worker_busy))
    assert data["imbalance"] == pytest.approx(result.imbalance)
    assert data["imbalance"] >= 1.0
    assert math.isfinite(data["wall"]) and data["wall"] >= 0


def test_imbalance_definition():
    result = perfectly.search(LO, HI, backend="threads", workers=2, chunk_size=997)
    busy = [b for b in result.worker_busy if b > 0]
    if busy:
        assert result.imbalance == pytest.approx(max(busy) / (sum(busy) / len(busy)))
    assert result.imbalance >= 1.0


@pytest.mark.parametrize("method", ["sieve", "trial"])
def test_default_chunks_are_worth_a_hand_off(method):
    """A default chunk holds about 0.1 ms of compiled work at least (one sieve block,
    2**15 numbers; 2**16 divisions for trial), so a small range is one chunk on any
    backend (16 chunks of 63 numbers made threads about 3x slower on [1, 1000)), while a
    range with room for it still gets 8 chunks per worker. A size given is taken as is."""
    from perfectly.planning import (
        LEAST_SIEVE_CHUNK,
        LEAST_TRIAL_WORK,
        default_chunk_size,
        least_chunk_size,
    )

    small = perfectly.search(1, 1000, backend="threads", workers=2, method=method)
    assert (small.chunks, small.census.perfect, small.verified) == (1, (6, 28, 496), True)
    given = perfectly.search(1, 1000, backend="threads", workers=2, method=method, chunk_size=63)
    assert given.chunks == 16 and given.census == small.census
    for hi in [1000, 2**15, 10**5, 10**6, 10**7, 2**40]:
        root = math.isqrt(hi - 1)
        least = LEAST_SIEVE_CHUNK if method == "sieve" else max(1, LEAST_TRIAL_WORK // root)
        for workers in (1, 2, 16):
            size = default_chunk_size(1, hi, workers, method)
            assert size >= least, (hi, workers, size)
            if hi - 1 >= 8 * workers * least and method == "sieve" and hi < 2**44:
                assert -(-(hi - 1) // size) >= 8 * workers, (hi, workers, size)
            assert least_chunk_size(hi, method) == least
            for schedule in ("dynamic", "guided"):  # every chunk but the last, shrinking too
                if hi <= 10**7:
                    chunks = list(
                        plan(
                            1,
                            hi,
                            schedule=schedule,
                            workers=workers,
                            chunk_size=None,
                            method=method,
                        )
                    )
                    small = [c.count for c in chunks[:-1] if c.count < least]
                    assert small == [], (schedule, hi, workers)


_FORKED: list[int] = []  # one entry per os.fork of this process
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_parent=lambda: _FORKED.append(0))


@pytest.mark.skipif(
    not hasattr(os, "register_at_fork") or "fork" not in multiprocessing.get_all_start_methods(),
    reason="counts forks",
)
def test_a_search_starts_no_more_workers_than_it_has_chunks():
    """A worker with no chunk to run only costs its start-up (about 2 ms forked, 30 ms
    spawned, on the 2-vCPU VM), and a default search of a short range is one chunk while
    ``workers=None`` is every CPU: so a search starts no more workers than it has chunks
    to run, counted in real forks. A static plan keeps one block a worker; ``estimate``
    says the same count."""
    cases = [  # (range, arguments, chunks and workers started)
        ((1, 1000), {}, 1),
        ((1, 10_000), {"chunk_size": 5_000}, 2),
        ((1, 10_000), {"schedule": "guided", "chunk_size": 80_000}, 1),
        ((1, 10_000), {"schedule": "static"}, 3),
    ]
    for (lo, hi), kwargs, started in cases:
        before = len(_FORKED)
        r = perfectly.search(lo, hi, backend="processes", start_method="fork", workers=3, **kwargs)
        assert len(_FORKED) - before == started, kwargs
        assert (r.workers, r.chunks, len(r.worker_chunks)) == (started, started, started)
        assert r.census == perfectly.census(lo, hi) and r.verified
        e = perfectly.estimate(lo, hi, backend="processes", workers=3, **kwargs)
        assert e.workers == started


@pytest.mark.parametrize("workers", [2, 3, 4, 5])
def test_static_gives_one_block_per_worker(workers):
    """``schedule="static"``: one block per worker whenever the range has at least
    ``workers`` numbers (else one block per number), and the block sizes (seen through
    the progress callback) differ by one at most."""
    bad = []
    for count in range(1, workers + 25):
        done = []
        result = perfectly.search(
            100,
            100 + count,
            backend="threads",
            workers=workers,
            schedule="static",
            progress=lambda d, t, done=done: done.append(d),
        )
        sizes = sorted(b - a for a, b in itertools.pairwise([0, *done]))
        blocks = min(workers, count)
        if (
            result.chunks != blocks
            or result.worker_chunks != (1,) * blocks
            or sum(sizes) != count
            or sizes[-1] - sizes[0] > 1
        ):
            bad.append((count, result.chunks, result.worker_chunks, sizes))
    assert not bad, f"(count, chunks, worker_chunks, block sizes) with workers={workers}: {bad}"


# --------------------------------------------------------------------------
# Bad arguments: typed errors naming the argument, before any worker starts
# --------------------------------------------------------------------------

BAD_ARGS = [
    ("backend-unknown", (1, 100), {"backend": "gpu"}, ValueError, r"\bbackend\b"),
    ("backend-none", (1, 100), {"backend": None}, TypeError, r"\bbackend\b"),
    ("schedule-unknown", (1, 100), {"schedule": "round-robin"}, ValueError, r"\bschedule\b"),
    ("schedule-int", (1, 100), {"schedule": 1}, TypeError, r"\bschedule\b"),
    ("start-method-unknown", (1, 100), {"start_method": "vfork"}, ValueError, r"start_method"),
    ("workers-zero", (1, 100), {"workers": 0}, ValueError, r"\bworkers\b"),
    ("workers-minus-two", (1, 100), {"workers": -2}, ValueError, r"\bworkers\b"),
    ("workers-float", (1, 100), {"workers": 1.5}, TypeError, r"\bworkers\b"),
    ("workers-str", (1, 100), {"workers": "2"}, TypeError, r"\bworkers\b"),
    ("workers-bool", (1, 100), {"workers": True}, TypeError, r"\bworkers\b"),
    ("chunk-zero", (1, 100), {"chunk_size": 0}, ValueError, r"chunk_size"),
    ("chunk-negative", (1, 100), {"chunk_size": -5}, ValueError, r"chunk_size"),
    ("chunk-float", (1, 100), {"chunk_size": 2.5}, TypeError, r"chunk_size"),
    ("chunk-bool", (1, 100), {"chunk_size": True}, TypeError, r"chunk_size"),
    ("retries-negative", (1, 100), {"retries": -1}, ValueError, r"\bretries\b"),
    ("retries-float", (1, 100), {"retries": 1.5}, TypeError, r"\bretries\b"),
    ("timeout-zero", (1, 100), {"timeout": 0}, ValueError, r"\btimeout\b"),
    ("timeout-negative", (1, 100), {"timeout": -1}, ValueError, r"\btimeout\b"),
    ("timeout-str", (1, 100), {"timeout": "x"}, (TypeError, ValueError), r"\btimeout\b"),
    ("timeout-nan", (1, 100), {"timeout": float("nan")}, ValueError, r"\btimeout\b"),
    ("kernel-gpu", (1, 100), {"kernel": "gpu"}, ValueError, r"\bkernel\b"),
    ("lo-gt-hi", (10, 5), {}, ValueError, r"\blo\b"),
    ("lo-zero", (0, 5), {}, ValueError, r"\blo\b"),
    ("lo-float", (1.0, 5), {}, TypeError, r"\blo\b"),
    ("hi-str", (1, "5"), {}, TypeError, r"\bhi\b"),
    ("hi-too-big", (1, 2**64 + 1), {}, OverflowError, r"\bhi\b"),
    ("method-unknown", (1, 100), {"method": "x"}, ValueError, r"\bmethod\b"),
    ("method-none", (1, 100), {"method": None}, TypeError, r"\bmethod\b"),
    ("trial-too-high", (2**61, 2**61 + 10), {"method": "trial"}, OverflowError, r"\bhi\b"),
    ("amicable-too-high", (2**61, 2**61 + 10), {"amicable": True}, OverflowError, r"\bhi\b"),
    ("progress-not-callable", (1, 100), {"progress": 5}, TypeError, r"\bprogress\b"),
    ("kernel-int", (1, 100), {"kernel": 1}, TypeError, r"\bkernel\b"),
    ("release-gil-int", (1, 100), {"release_gil": 1}, TypeError, r"\brelease_gil\b"),
    ("amicable-str", (1, 100), {"amicable": "yes"}, TypeError, r"\bamicable\b"),
    ("options-list", (1, 100), {"backend_options": [1]}, TypeError, r"backend_options"),
    ("options-unknown", (1, 100), {"backend_options": {"x": 1}}, ValueError, r"backend_options"),
]


class BackendReached(Exception):
    """Raised by the backend spy: validation let the search through."""


@pytest.fixture
def backend_spy(monkeypatch):
    """Replace every executor by a spy: a search that makes an executor is recorded."""
    called = []

    def make(name):
        def spy(*args, **kwargs):
            called.append(name)
            raise BackendReached(f"backend {name!r} was started: the arguments were accepted")

        return spy

    for name in list(parallel.EXECUTORS):
        monkeypatch.setitem(parallel.EXECUTORS, name, make(name))
    return called


def _assert_nothing_started(called):
    assert called == [], "a backend was started"
    assert multiprocessing.active_children() == []
    assert worker_threads() == []


@pytest.mark.parametrize("backend", ["threads", "processes", "process-pool"])
@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [pytest.param(a, k, e, m, id=i) for i, a, k, e, m in BAD_ARGS],
)
def test_bad_arguments(backend_spy, backend, args, kwargs, exc, match):
    kwargs = {"backend": backend, **kwargs}
    with pytest.raises(exc, match=match):
        perfectly.search(*args, **kwargs)
    _assert_nothing_started(backend_spy)


@pytest.mark.parametrize("backend", ["serial", "threads", "_thread", "thread-pool"])
@pytest.mark.parametrize("start_method", START_METHODS)
def test_start_method_for_a_non_process_backend(backend_spy, backend, start_method):
    with pytest.raises(ValueError, match="start_method"):
        perfectly.search(1, 100, backend=backend, start_method=start_method)
    _assert_nothing_started(backend_spy)


@pytest.mark.parametrize("workers", [0, -2, 1.5, "2", True])
def test_bad_workers_with_the_serial_backend(backend_spy, workers):
    """``workers`` is validated for the serial backend too (it is still an argument)."""
    with pytest.raises((TypeError, ValueError), match=r"\bworkers\b"):
        perfectly.search(1, 100, backend="serial", workers=workers)
    _assert_nothing_started(backend_spy)


def test_bad_arguments_with_real_backends():
    """Without the spy: nothing is started by a search that fails validation."""
    for backend in ALL_BACKENDS:
        for kwargs in ({"workers": 0}, {"chunk_size": 0}, {"timeout": -1}, {"retries": -1}):
            if backend == "serial" and "workers" in kwargs:
                continue
            with pytest.raises((TypeError, ValueError)):
                perfectly.search(1, 10**9, backend=backend, **kwargs)
            assert multiprocessing.active_children() == []
            assert worker_threads() == []


def test_old_thread_backend_name_is_a_deprecated_alias(brute):
    with pytest.warns(DeprecationWarning, match="backend='_thread'"):
        result = perfectly.search(1, 3000, backend="thread", workers=2)
    assert result.backend == "_thread"
    assert result.census == brute_census(brute, 1, 3000)


def test_kernel_default_is_the_active_one(brute):
    result = perfectly.search(1, 3000, workers=2)
    assert result.kernel == ("compiled" if COMPILED else "python")
    assert result.census == brute_census(brute, 1, 3000)


PURE_PYTHON = """
import perfectly
for backend in ("threads", "processes"):
    r = perfectly.search(1, 3000, backend=backend, workers=2)
    print(r.kernel, r.census.perfect, r.census.sigma_sum)
try:
    perfectly.search(1, 10, kernel="compiled")
except RuntimeError as exc:
    print("refused:", exc)
"""


def test_pure_python_install_searches_by_default(brute):
    """With ``PERFECTLY_NO_EXTENSIONS=1`` search() works with its defaults, and asking
    for the compiled kernel is a clear error."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", PURE_PYTHON],
        capture_output=True,
        text=True,
        timeout=60,
        env={**CHILD_ENV, "PERFECTLY_NO_EXTENSIONS": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    total = int(brute.sigma_table(3000)[1:3000].sum())
    assert proc.stdout.splitlines() == [
        f"python (6, 28, 496) {total}",
        f"python (6, 28, 496) {total}",
        "refused: the compiled kernel is not available here (PERFECTLY_NO_EXTENSIONS=1)",
    ]


# --- merging: memory O(workers), not O(chunks) ---------------------------------------


def _chunk_censuses(lo, hi, size, *, amicable=False):
    return [perfectly.census(a, min(a + size, hi), amicable=amicable) for a in range(lo, hi, size)]


@pytest.mark.parametrize("seed", range(5))
def test_aggregator_merges_chunks_in_any_order_into_the_whole(seed):
    import random

    from perfectly.census import Aggregator

    parts = _chunk_censuses(1, 30_001, 997, amicable=True)
    order = list(enumerate(parts))
    random.Random(seed).shuffle(order)
    merged = Aggregator(1, 30_001, amicable=True)
    for index, part in order:
        merged.add(index, part)
    assert merged.census() == perfectly.census(1, 30_001, amicable=True)
    assert merged.covers(1, 30_001) and merged._starts == [1]  # one run: memory O(1)


def test_aggregator_refuses_overlaps_and_gaps():
    from perfectly.census import Aggregator

    a, b, c = _chunk_censuses(1, 301, 100)
    merged = Aggregator(1, 301, amicable=False)
    merged.add(0, a)
    merged.add(2, c)
    assert merged.covers(1, 101) and not merged.covers(1, 201) and not merged.covers(101, 201)
    with pytest.raises(RuntimeError, match="only 200 of the 300 numbers"):
        merged.census()
    for again in (a, c, perfectly.census(50, 150), perfectly.census(150, 250)):
        with pytest.raises(ValueError, match="overlaps"):
            merged.add(9, again)
    with pytest.raises(ValueError, match="lacks amicable pairs"):
        Aggregator(1, 301, amicable=True).add(0, a)
    merged.add(1, b)
    assert merged.census() == perfectly.census(1, 301)


def test_bookkeeping_does_not_grow_with_the_chunk_count():
    """Once about 320 bytes a chunk: 1.6 million one-number chunks took 528 MB."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = perfectly.search(1, 20_001, backend="serial", chunk_size=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.chunks == 20_000 and result.verified
    assert peak < 1 << 20, peak  # 20,000 chunks kept would be about 6 MB
