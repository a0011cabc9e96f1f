"""The numba baselines: the compiled kernel's segmented factor sieve, and its trial
division loop, written with ``@njit``.

Same algorithm as the compiled kernel (blocks of numbers; each divided exactly by the odd
primes ≤ √hi that hit it, by multiplying with p's inverse mod 2**64; σ built
multiplicatively; a cofactor > 1 left at the end is a prime), so the comparison is of
implementations, not of algorithms. The kernel's refinements (wheel pre-sieve, L1
sub-blocks) are left out: this is what a careful user would write. ``prange`` spreads
the blocks over numba's threads; each thread has its own scratch arrays, and the totals
are ``prange`` reductions; :func:`census` with ``workers=None`` runs the same code
compiled without ``parallel=True``: one thread, ``prange`` a plain ``range``.

The trial loop (:func:`trial_census`) is the plain one a user would write: σ(n) from the
divisor pairs (d, n/d) for d ≤ √n, in unsigned 64-bit arithmetic. Imported only when
numba is installed.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

BLOCK = 1 << 13
U64 = npt.NDArray[np.uint64]


def odd_primes(limit: int) -> U64:
    """The odd primes ≤ ``limit``, by NumPy's sieve of Eratosthenes."""
    flags = np.ones(limit + 1, dtype=np.bool_)
    flags[:2] = False
    for p in range(2, math.isqrt(limit) + 1):
        if flags[p]:
            flags[p * p :: p] = False
    primes = np.nonzero(flags)[0].astype(np.uint64)
    return primes[primes > 2]


def _inverse(p: np.uint64) -> np.uint64:
    """p⁻¹ mod 2**64 for odd p (Newton's iteration)."""
    x = p
    for _ in range(5):
        x = x * (np.uint64(2) - p * x)
    return x


_inverse_jit: Any = numba.njit(cache=True)(_inverse)


def _classify(s: np.uint64, n: np.uint64) -> tuple[int, int, int]:
    """(1, 0, 0) if σ(n) = ``s`` makes n abundant, (0, 1, 0) deficient, (0, 0, 1) perfect."""
    twice = n + n
    return int(s > twice), int(s < twice), int(s == twice)


_classify_jit: Any = numba.njit(cache=True, inline="always")(_classify)


def _block(
    start: int, count: int, primes: U64, inv: U64, lim: U64, rem: U64, sig: U64
) -> tuple[np.uint64, int, int, int]:
    """(Σσ mod 2**64, abundant, deficient, perfect) over [start, start + count)."""
    for i in range(count):
        n = np.uint64(start + i)
        tz = 0
        while (n >> np.uint64(tz)) & np.uint64(1) == 0:
            tz += 1
        rem[i] = n >> np.uint64(tz)
        sig[i] = (np.uint64(2) << np.uint64(tz)) - np.uint64(1)
    for k in range(primes.shape[0]):
        p = primes[k]
        pinv = inv[k]
        plim = lim[k]
        j = np.int64((p - np.uint64(start) % p) % p)
        while j < count:
            x = rem[j] * pinv
            pk = p
            s = np.uint64(1) + p
            y = x * pinv
            while y <= plim:
                x = y
                pk *= p
                s += pk
                y = x * pinv
            rem[j] = x
            sig[j] *= s
            j += np.int64(p)
    total = np.uint64(0)
    abundant = 0
    deficient = 0
    perfect = 0
    for i in range(count):
        r = rem[i]
        s = sig[i] * (r + np.uint64(1)) if r > 1 else sig[i]
        total += s
        a, d, q = _classify_jit(s, np.uint64(start + i))
        abundant += a
        deficient += d
        perfect += q
    return total, abundant, deficient, perfect


_block_jit: Any = numba.njit(cache=True)(_block)


def _census(lo: int, hi: int, primes: U64, rems: U64, sigs: U64) -> tuple[np.uint64, int, int, int]:
    """(Σσ mod 2**64, abundant, deficient, perfect) over [lo, hi), blocks in parallel.

    ``rems`` and ``sigs`` are scratch arrays, one row per thread.
    """
    n_primes = primes.shape[0]
    inv = np.empty(n_primes, np.uint64)
    lim = np.empty(n_primes, np.uint64)
    top = np.uint64(0xFFFFFFFFFFFFFFFF)
    for k in range(n_primes):
        inv[k] = _inverse_jit(primes[k])
        lim[k] = top // primes[k]
    n_blocks = (hi - lo + BLOCK - 1) // BLOCK
    total = np.uint64(0)
    abundant = 0
    deficient = 0
    perfect = 0
    for b in numba.prange(n_blocks):
        thread = numba.get_thread_id()  # type: ignore[attr-defined]
        start = lo + b * BLOCK
        t, a, d, q = _block_jit(
            start, min(BLOCK, hi - start), primes, inv, lim, rems[thread], sigs[thread]
        )
        total += t
        abundant += a
        deficient += d
        perfect += q
    return total, abundant, deficient, perfect


_census_jit: Any = numba.njit(parallel=True, cache=True)(_census)
# Not cached: numba keys its on-disk cache by the function and the signature, not by
# parallel=True, so two cached compilations of one function overwrite each other's
# entry, and a later process ran the other's machine code (a segfault, seen here).
_census_one_thread: Any = numba.njit(cache=False)(_census)


def _trial(lo: int, hi: int) -> tuple[np.uint64, int, int, int]:
    """(Σσ mod 2**64, abundant, deficient, perfect) over [lo, hi) by divisor pairs."""
    total = np.uint64(0)
    abundant = 0
    deficient = 0
    perfect = 0
    for k in range(lo, hi):
        n = np.uint64(k)
        s = np.uint64(0)
        d = np.uint64(1)
        while d * d <= n:
            if n % d == 0:
                q = n // d
                s += d + q if q != d else d
            d += np.uint64(1)
        total += s
        more, less, equal = _classify_jit(s, n)
        abundant += more
        deficient += less
        perfect += equal
    return total, abundant, deficient, perfect


_trial_jit: Any = numba.njit(cache=True)(_trial)


def max_threads() -> int:
    """The most threads numba may use here."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def census(lo: int, hi: int, workers: int | None) -> tuple[int, int, int, int]:
    """(Σσ mod 2**64, abundant, deficient, perfect) over [lo, hi) (hi ≤ 2**61) on
    ``workers`` numba threads, or compiled without ``parallel=True`` if None."""
    if workers is not None:
        numba.set_num_threads(workers)
    primes = odd_primes(math.isqrt(hi - 1) if hi > 1 else 1)
    rows = max_threads()  # numba.get_thread_id() is below this
    rems = np.empty((rows, BLOCK), np.uint64)
    sigs = np.empty((rows, BLOCK), np.uint64)
    run = _census_one_thread if workers is None else _census_jit
    total, abundant, deficient, perfect = run(lo, hi, primes, rems, sigs)
    return int(total), int(abundant), int(deficient), int(perfect)


def trial_census(lo: int, hi: int) -> tuple[int, int, int, int]:
    """(Σσ mod 2**64, abundant, deficient, perfect) over [lo, hi) (hi ≤ 2**32), one thread."""
    total, abundant, deficient, perfect = _trial_jit(lo, hi)
    return int(total), int(abundant), int(deficient), int(perfect)
