"""perfectly.estimate: the time of a search, known before it starts.

Its figures are timings, so these tests check what it is made of (the plan's chunks, the
points it timed, the sums), never how fast anything ran; how close it comes to real
runs is measured by the benchmark and reported, not asserted here.
"""

from __future__ import annotations

import json
import math
import sys

import pytest
from conftest import run_cli

import perfectly
from perfectly._validate import available_cpus
from perfectly.estimate import (
    Estimate,
    Sample,
    _closed_form,
    _integral,
    _makespan,
    _wall,
    describe,
)
from perfectly.planning import plan


@pytest.mark.parametrize("kernel", ["compiled", "python"])
def test_estimate_is_made_of_the_plan_and_its_samples(kernel):
    if kernel == "compiled":
        pytest.importorskip("perfectly._kernel")
    lo, hi = 10**6, 10**6 + (10**8 if kernel == "compiled" else 10**5)
    e = perfectly.estimate(lo, hi, workers=2, kernel=kernel)
    assert isinstance(e, Estimate)
    assert (e.lo, e.hi, e.backend, e.workers, e.kernel, e.method) == (
        lo,
        hi,
        "threads",
        2,
        kernel,
        "sieve",
    )
    chunks = list(plan(lo, hi, schedule="dynamic", workers=2, chunk_size=None, method="sieve"))
    assert e.chunks == len(chunks) and e.chunk_size == chunks[0].count
    assert 1 <= len(e.samples) <= 5
    assert all(lo <= s.at < hi and s.per_number > 0 and s.setup >= 0 for s in e.samples)
    assert [s.at for s in e.samples] == sorted(s.at for s in e.samples)
    assert e.work > 0 and e.seconds > 0
    assert math.isclose(e.work_before(hi), e.work)
    assert e.work_before(lo) == 0
    steps = [e.work_before(lo + (hi - lo) * i // 10) for i in range(11)]
    assert steps == sorted(steps)  # work only grows along the range


def test_parallel_workers_follow_the_backend_and_the_gil():
    pytest.importorskip("perfectly._kernel")
    serial = perfectly.estimate(1, 10**7, backend="serial", workers=4)
    assert (serial.workers, serial.parallel) == (1, 1)
    threads = perfectly.estimate(1, 10**7, backend="threads", workers=2)
    assert threads.parallel == min(2, available_cpus())
    python = perfectly.estimate(1, 10**5, backend="threads", workers=2, kernel="python")
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    assert python.parallel == (1 if gil else threads.parallel)
    processes = perfectly.estimate(1, 10**5, backend="processes", workers=2, kernel="python")
    assert processes.parallel == threads.parallel


def test_trial_division_has_no_set_up():
    e = perfectly.estimate(10**9, 10**9 + 20_000, method="trial", backend="serial")
    assert e.samples and all(s.setup == 0 for s in e.samples)
    assert e.primes == 0


def test_empty_range():
    e = perfectly.estimate(7, 7)
    assert (e.seconds, e.work, e.chunks, e.samples, e.check) == (0.0, 0.0, 0, (), 0.0)


def test_the_verification_counts_where_it_is_all_there_is():
    """A short range near 2**64: the search factors its numbers (making the 203 million
    sieving primes would cost more) and then verifies by the closed form at both ends,
    which takes longer than the numbers: the estimate makes no primes, times no sieve,
    and counts the closed form."""
    kernel = pytest.importorskip("perfectly._kernel")
    lo, hi = 2**64 - 1000, 2**64
    assert not kernel._sieves(lo, hi - lo)
    e = perfectly.estimate(lo, hi, backend="serial")
    assert e.primes == 0.0 and e.samples and all(s.setup == 0 for s in e.samples)
    assert e.check > 0 and e.seconds >= e.check > e.work
    assert "; verification " in describe(e)


def test_the_estimate_sieves_where_the_search_sieves():
    """``_sieves`` is the choice a Sweep makes: one that factors opens no sieve (it holds
    no buckets), one that sieves does."""
    kernel = pytest.importorskip("perfectly._kernel")
    for lo, count in ((2**64 - 1000, 1000), (10**15, 10**6), (10**6, 10**5)):
        sweep = kernel.Sweep(lo, lo + count)
        while sweep.position < lo + count:
            sweep.summarize(count)
        assert (sweep.memory > 0) == kernel._sieves(lo, count), (lo, count)
    with pytest.raises(ValueError, match="count must be ≥ 1"):
        kernel._sieves(10, 0)


def test_the_closed_form_is_timed_and_scaled():
    assert _closed_form(0) == _closed_form(1) == 0.0
    small, large = _closed_form(10**6), _closed_form(2**64 - 1)
    assert 0 < small < large


def test_wall_is_the_last_to_finish_or_the_cpu_time_shared_out():
    assert _wall(busy=5.0, check=1.0, cpu=6.0, cpus=2) == 5.0  # serial: the check beside it
    assert _wall(busy=0.1, check=1.0, cpu=1.2, cpus=2) == 1.0  # a short range: the check
    assert _wall(busy=5.0, check=1.0, cpu=11.0, cpus=2) == 5.5  # 2 workers and the check
    assert _wall(busy=5.0, check=1.0, cpu=6.0, cpus=1) == 6.0  # one CPU for all


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lo": 10, "hi": 5}, ValueError, "lo must be ≤ hi"),
        ({"lo": 1, "hi": 2**62, "method": "trial"}, OverflowError, "2\\*\\*61"),
        ({"lo": 1, "hi": 10, "backend": "gpu"}, ValueError, "backend must be one of"),
        ({"lo": 1, "hi": 10, "workers": 0}, ValueError, "workers"),
        ({"lo": 1, "hi": 10, "chunk_size": 0}, ValueError, "chunk_size"),
        ({"lo": 1.0, "hi": 10}, TypeError, "lo must be an integer"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        perfectly.estimate(**kwargs)


def _synthetic(samples, lo=0, hi=1000, size=100, chunks=10, parallel=1):
    return Estimate(
        lo=lo, hi=hi, backend="threads", workers=parallel, parallel=parallel, method="sieve",
        kernel="compiled", chunks=chunks, chunk_size=size, seconds=0.0, work=0.0, primes=0.0,
        check=0.0, samples=tuple(samples), took=0.0,
    )  # fmt: skip


def test_work_is_the_integral_of_the_sampled_costs():
    """A density linear between samples and flat beyond them, integrated in closed form,
    against a midpoint sum over every number."""
    samples = (Sample(200, 1.0, 50.0), Sample(600, 3.0, 150.0))
    e = _synthetic(samples)

    def density(x):
        if x <= 200:
            return 1.0 + 50.0 / 100
        if x >= 600:
            return 3.0 + 150.0 / 100
        t = (x - 200) / 400
        return (1 - t) * 1.5 + t * 4.5

    for n in (0, 150, 200, 450, 600, 1000):
        want = sum(density(x + 0.5) for x in range(n))
        assert math.isclose(e.work_before(n), want, rel_tol=1e-6), n
    assert math.isclose(_integral(samples, 100, 0, 1000), e.work_before(1000))


def test_makespan_hands_chunks_to_the_first_free_worker():
    assert _makespan([3.0, 1.0, 1.0, 1.0], 4, 6.0, 2) == 3.0
    assert _makespan([1.0, 1.0, 1.0, 3.0], 4, 6.0, 2) == 4.0
    assert _makespan([2.0] * 5, 5, 10.0, 1) == 10.0
    assert _makespan([], 10**6, 100.0, 4) == 25.0 + 100.0 / 10**6  # too many: even, + a tail


def test_describe_is_one_line():
    e = _synthetic([Sample(10, 5e-9, 0.001)], lo=1, hi=10**12, chunks=59605, parallel=2)
    e = Estimate(**{**e.__dict__, "seconds": 3000.0, "took": 0.3})
    text = describe(e)
    assert "\n" not in text
    assert text.startswith("estimate for [1, 1000000000000): 50 min 0 s (threads, 2 workers")
    assert "59,605 chunks" in text
    one = Estimate(**{**e.__dict__, "chunks": 1, "workers": 1})
    assert "(threads, 1 worker; 1 chunk; " in describe(one)


def test_cli_estimate():
    pytest.importorskip("perfectly._kernel")
    done = run_cli("search", "1", "1e13", "--estimate", "--workers", "2")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("estimate for [1, 10000000000000): ")
    assert "(threads, 2 workers; 596,047 chunks;" in done.stdout
    done = run_cli("search", "1e12", "2e12", "--estimate", "--json", "--backend", "serial")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert (data["lo"], data["hi"], data["workers"], data["chunks"]) == (
        10**12,
        2 * 10**12,
        1,
        59605,
    )
    assert data["seconds"] > 0 and len(data["samples"]) == 5
