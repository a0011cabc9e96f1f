"""The numba baseline: the same segmented factor sieve, written with ``@njit``.

It uses the same ideas as the compiled kernel (blocks, exact division by p's inverse
mod 2**64, σ built multiplicatively), so the comparison is of implementations, not of
algorithms. Imported only when numba is installed.
"""

from __future__ import annotations

import math

import numba
import numpy as np

BLOCK = 1 << 13


def _odd_primes(limit: int) -> np.ndarray:
    flags = np.ones(limit + 1, dtype=np.bool_)
    flags[:2] = False
    for p in range(2, math.isqrt(limit) + 1):
        if flags[p]:
            flags[p * p :: p] = False
    primes = np.nonzero(flags)[0].astype(np.uint64)
    return primes[primes > 2]


@numba.njit(cache=True)
def _inverse(p: np.uint64) -> np.uint64:
    x = p
    for _ in range(5):
        x = x * (np.uint64(2) - p * x)
    return x


@numba.njit(cache=True)
def _census(lo, hi, primes):  # type: ignore[no-untyped-def]
    """(Σσ mod 2**64, abundant, deficient, perfect count) over [lo, hi)."""
    n_primes = primes.shape[0]
    inv = np.empty(n_primes, np.uint64)
    lim = np.empty(n_primes, np.uint64)
    off = np.empty(n_primes, np.int64)
    top = np.uint64(0xFFFFFFFFFFFFFFFF)
    for k in range(n_primes):
        p = primes[k]
        inv[k] = _inverse(p)
        lim[k] = top // p
        off[k] = np.int64((p - np.uint64(lo) % p) % p)
    rem = np.empty(BLOCK, np.uint64)
    sig = np.empty(BLOCK, np.uint64)
    total = np.uint64(0)
    abundant = 0
    deficient = 0
    perfect = 0
    start = lo
    while start < hi:
        count = min(BLOCK, hi - start)
        for i in range(count):
            n = np.uint64(start + i)
            tz = 0
            while (n >> np.uint64(tz)) & np.uint64(1) == 0:
                tz += 1
            rem[i] = n >> np.uint64(tz)
            sig[i] = (np.uint64(2) << np.uint64(tz)) - np.uint64(1)
        for k in range(n_primes):
            p = primes[k]
            pinv = inv[k]
            plim = lim[k]
            j = off[k]
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
            off[k] = j - count
        for i in range(count):
            r = rem[i]
            s = sig[i] * (r + np.uint64(1)) if r > 1 else sig[i]
            n = np.uint64(start + i)
            total += s
            if s > n + n:
                abundant += 1
            elif s < n + n:
                deficient += 1
            else:
                perfect += 1
        start += count
    return total, abundant, deficient, perfect


def census(lo: int, hi: int) -> tuple[int, int, int, int]:
    """Counts over [lo, hi) (hi ≤ 2**61), Σσ mod 2**64: enough to check the kernel."""
    primes = _odd_primes(math.isqrt(hi - 1) if hi > 1 else 1)
    total, abundant, deficient, perfect = _census(lo, hi, primes)
    return int(total), int(abundant), int(deficient), int(perfect)
