"""Baselines: what a user would write without this package, over the same range.

* ``numpy``: a vectorised segmented factor sieve in NumPy (one thread): for each block
  of numbers and each prime p ≤ √hi, divide p out of the multiples of p with array
  operations and build σ multiplicatively.
* ``numba``: the compiled kernel's factor sieve under ``@njit(parallel=True)``, blocks
  spread over numba's threads with ``prange`` (:mod:`._numba_sieve`).

Each returns (Σσ, abundant, deficient, perfect) and is checked against the closed form
of Σσ, as every ``search`` is (mod 2**64 for numba, which sums in ``uint64``).
"""

from __future__ import annotations

import math
import warnings
from types import ModuleType

import numpy as np

from perfectly.arithmetic import sum_sigma
from perfectly.search import VerificationError

NUMPY_BLOCK = 1 << 20


def _primes(limit: int) -> list[int]:
    flags = np.ones(limit + 1, dtype=np.bool_)
    flags[:2] = False
    for p in range(2, math.isqrt(limit) + 1):
        if flags[p]:
            flags[p * p :: p] = False
    return [int(p) for p in np.nonzero(flags)[0]]


def numpy_census(lo: int, hi: int, block: int = NUMPY_BLOCK) -> tuple[int, int, int, int]:
    """(Σσ, abundant, deficient, perfect) over [lo, hi), vectorised with NumPy."""
    primes = _primes(math.isqrt(hi - 1) if hi > 1 else 1)
    total = abundant = deficient = perfect = 0
    for start in range(lo, hi, block):
        stop = min(start + block, hi)
        n = np.arange(start, stop, dtype=np.uint64)
        rem = n.copy()
        sig = np.ones(stop - start, dtype=np.uint64)
        for p in primes:
            view = rem[(-start) % p :: p]  # the multiples of p: a view into rem
            if not view.size:
                continue
            view //= p
            term = np.full(view.size, 1 + p, dtype=np.uint64)  # 1 + p + … + p^k
            power = np.full(view.size, p, dtype=np.uint64)
            more = np.flatnonzero(view % p == 0)
            while more.size:
                view[more] //= p
                power[more] *= p
                term[more] += power[more]
                more = more[view[more] % p == 0]
            sig[(-start) % p :: p] *= term
        big = rem > 1
        sig[big] *= rem[big] + 1
        twice = n + n
        total += int(sig.sum(dtype=np.uint64))
        abundant += int(np.count_nonzero(sig > twice))
        deficient += int(np.count_nonzero(sig < twice))
        perfect += int(np.count_nonzero(sig == twice))
    return total, abundant, deficient, perfect


def _numba() -> ModuleType | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's import-time notices are not ours
            from perfectly.benchmark import _numba_sieve
    except ImportError:
        return None
    return _numba_sieve


def available() -> tuple[str, ...]:
    """The baselines that can run here."""
    return ("numpy", "numba") if _numba() is not None else ("numpy",)


def numba_threads() -> int:
    """How many threads numba may use (0 without numba)."""
    module = _numba()
    return 0 if module is None else int(module.max_threads())


def warm_up(name: str) -> None:
    """Compile (numba) outside any timing."""
    if name == "numba":
        run("numba", 1, 1000, 1)


def run(name: str, lo: int, hi: int, workers: int) -> tuple[int, int, int, int]:
    """Run baseline ``name`` on [lo, hi) and check its Σσ against the closed form."""
    if name == "numpy":
        result = numpy_census(lo, hi)
        modulus = None
    elif name == "numba":
        module = _numba()
        if module is None:
            raise RuntimeError("numba is not installed")
        result = module.census(lo, hi, workers)
        modulus = 2**64
    else:
        raise ValueError(f"unknown baseline {name!r}")
    expected = sum_sigma(hi - 1) - sum_sigma(lo - 1)
    got = result[0]
    if (expected % modulus if modulus else expected) != got:
        raise VerificationError(f"{name} baseline: Σσ over [{lo}, {hi}) is {got}, not {expected}")
    if sum(result[1:]) != hi - lo:
        raise VerificationError(f"{name} baseline: the counts do not add up to {hi - lo}")
    return result
