"""Concurrent calls from several threads give the same (correct) results as
serial calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import COMPILED

import perfectly

WIDTH = 200_000 if COMPILED else 5_000


def _windows():
    # four different windows inside the brute-force table range
    return [
        (1, 1 + WIDTH),
        (250_001, 250_001 + WIDTH),
        (500_000, 500_000 + WIDTH),
        (790_000, 790_000 + WIDTH),
    ]


def _jobs():
    jobs = []
    for i, (lo, hi) in enumerate(_windows()):
        method = "sieve" if i % 2 == 0 else "trial"
        jobs.append(("sigma_range", (lo, hi), {"method": method}))
        jobs.append(("census", (lo, hi), {"method": "sieve", "amicable": i == 0}))
        jobs.append(("aliquot_range", (lo, hi), {}))
    for n in (
        2**64 - 1,
        18446744073709551557,
        4611686014341806400,
        2**61 - 1,
        4294967291 * 4294967279,
        2**89 - 1,
    ):
        jobs.append(("sigma", (n,), {}))
    jobs.append(("sum_sigma", (10**10,), {}))
    jobs.append(("amicable_pairs", (1, 100_000), {}))
    return jobs


def _run(job):
    name, args, kwargs = job
    return getattr(perfectly, name)(*args, **kwargs)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


@pytest.mark.slow
def test_threaded_equals_serial(brute):
    jobs = _jobs()
    serial = [_run(j) for j in jobs]
    # the serial results themselves are right (brute force) for the range jobs
    table = brute.sigma_table(10**6)
    for job, res in zip(jobs, serial, strict=True):
        name, args, _ = job
        if name == "sigma_range":
            lo, hi = args
            np.testing.assert_array_equal(res, table[lo:hi].astype(np.uint64))
        elif name == "census":
            lo, hi = args
            assert res.sigma_sum == int(table[lo:hi].sum())
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=4) as ex:
            threaded = list(ex.map(_run, jobs))
        bad = [j for j, a, b in zip(jobs, serial, threaded, strict=True) if not _same(a, b)]
        assert bad == []


def test_threads_same_window_many_times(brute):
    lo, hi = 123_457, 123_457 + WIDTH // 2
    want = brute.sigma_table(10**6)[lo:hi].astype(np.uint64)
    with ThreadPoolExecutor(max_workers=4) as ex:
        futs = [ex.submit(perfectly.sigma_range, lo, hi, method=m) for m in ("sieve", "trial") * 4]
        results = [f.result() for f in futs]
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_threads_kernel_fill_release_gil(kernels, brute):
    """fill_sigma on separate output arrays from 4 threads, GIL released."""
    width = 50_000 if kernels.__name__.endswith("_kernel") else 2_000
    los = [1, 10_007, 300_000, 900_000]
    table = brute.sigma_table(10**6)

    def fill(lo):
        out = np.zeros(width, dtype=np.uint64)
        kernels.fill_sigma(lo, out, "sieve", False, True)
        return out

    with ThreadPoolExecutor(max_workers=4) as ex:
        outs = list(ex.map(fill, los))
    for lo, out in zip(los, outs, strict=True):
        hi = min(lo + width, 10**6 + 1)
        np.testing.assert_array_equal(out[: hi - lo], table[lo:hi].astype(np.uint64))
