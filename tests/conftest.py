"""Shared fixtures for the perfectly test suite.

Only fixtures live here (``kernels`` plus a ``brute`` namespace of independent
brute-force helpers); nothing in this file changes pytest's behaviour globally
apart from registering the ``slow`` marker so it is not an unknown mark.

The brute-force helpers never call into ``perfectly``: they compute divisor
sums with plain divisor loops / additive numpy sieves so the package can be
checked against them.
"""

from __future__ import annotations

import functools
import math
import types

import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slower tests (a few seconds); still run by default")


# --------------------------------------------------------------------------
# Independent brute-force helpers
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _sigma_table(limit: int) -> np.ndarray:
    """sigma(n) for 0 <= n <= limit (entry 0 is 0), as int64.

    Divisor-pair sieve: every n = d*k with d <= k contributes d + k (or just d
    when d == k).  Looping over d <= sqrt(limit) keeps it vectorised.
    """
    s = np.zeros(limit + 1, dtype=np.int64)
    for d in range(1, math.isqrt(limit) + 1):
        k = np.arange(d, limit // d + 1, dtype=np.int64)
        s[d * k] += d + k
        s[d * d] -= d  # the square term d*d was counted twice
    s.flags.writeable = False
    return s


def sigma_table(limit: int) -> np.ndarray:
    """Read-only int64 array t with t[n] == sigma(n) for n <= limit."""
    return _sigma_table(int(limit))


def sigma_loop(n: int) -> int:
    """sigma(n) by the textbook divisor loop up to sqrt(n) (pure Python)."""
    total = 0
    r = math.isqrt(n)
    for d in range(1, r + 1):
        if n % d == 0:
            total += d
            e = n // d
            if e != d:
                total += e
    return total


def sigma_numpy(n: int) -> int:
    """sigma(n) for n < 2**62 by a vectorised divisor loop up to sqrt(n)."""
    n = int(n)
    r = math.isqrt(n)
    d = np.arange(1, r + 1, dtype=np.int64)
    divs = d[(np.int64(n) % d) == 0]
    total = sum(int(x) for x in divs) + sum(n // int(x) for x in divs)
    if r * r == n:
        total -= r
    return total


def sigma_window(lo: int, hi: int) -> list[int]:
    """[sigma(n) for n in range(lo, hi)] by brute force; exact Python ints.

    Every n = d*c with d <= c contributes d + c (just d when d == c).  Small
    divisors d < width are handled one d at a time (many multiples each); the
    divisors d >= width have at most one multiple in the window and are
    handled in vectorised chunks.  Requires hi < 2**62.
    """
    lo, hi = int(lo), int(hi)
    assert 1 <= lo <= hi < 2**62
    width = hi - lo
    if width == 0:
        return []
    r = math.isqrt(hi - 1)
    acc = np.zeros(width, dtype=np.int64)
    small = min(r, width - 1)
    for d in range(1, small + 1):
        start = max(lo, d * d)
        first = -(-start // d) * d
        if first >= hi:
            continue
        m = np.arange(first, hi, d, dtype=np.int64)
        cof = m // d
        acc[m - lo] += d + cof
        if lo <= d * d < hi:
            acc[d * d - lo] -= d
    chunk = 1 << 20
    for d0 in range(small + 1, r + 1, chunk):
        d = np.arange(d0, min(r, d0 + chunk - 1) + 1, dtype=np.int64)
        m = -(-np.int64(lo) // d) * d
        cof = m // d
        keep = (m < hi) & (cof >= d)
        d, m, cof = d[keep], m[keep], cof[keep]
        val = np.where(cof == d, d, d + cof)
        np.add.at(acc, m - lo, val)
    return [int(x) for x in acc]


@pytest.fixture(scope="session")
def brute():
    """Namespace of independent brute-force helpers (no perfectly imports)."""
    return types.SimpleNamespace(
        sigma_table=sigma_table,
        sigma_loop=sigma_loop,
        sigma_numpy=sigma_numpy,
        sigma_window=sigma_window,
    )


# --------------------------------------------------------------------------
# Kernel modules
# --------------------------------------------------------------------------


@pytest.fixture(params=["perfectly._kernel", "perfectly._reference"])
def kernels(request):
    """Each kernel module in turn; the compiled one is skipped if unavailable."""
    return pytest.importorskip(request.param)


# --------------------------------------------------------------------------
# Fresh interpreters (appended for tests/test_cli.py and tests/test_fallback.py)
# --------------------------------------------------------------------------


def run_python(*args: str, cwd=None, timeout: float = 120, **env: str | None):
    """``python *args`` in a fresh interpreter, as a user would start it.

    The environment is this one without the fault injection switch, with ``env`` on top
    (a value of None removes that variable; ``PERFECTLY_NO_EXTENSIONS`` is kept unless
    removed, so that a pure-Python install runs its suite as the README says). ``cwd``
    should be a directory outside the source tree, so that the installed package is
    imported.
    """
    import os
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if k != "PERFECTLY_TEST_FAULT"}
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    command = [sys.executable, *args]
    return subprocess.run(
        command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout
    )
