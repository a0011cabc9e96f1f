"""Baselines: what a user would write without this package, over the same range.

* ``numpy``: a vectorised segmented factor sieve in NumPy (one thread): for each block
  of numbers and each prime p ≤ √hi, divide p out of the multiples of p with array
  operations and build σ multiplicatively.
* ``numba``: the compiled kernel's factor sieve under ``@njit(parallel=True)``, blocks
  spread over numba's threads with ``prange`` (:mod:`._numba_kernels`);
* ``numba-njit``: one thread of plain ``@njit``: the same sieve, or a trial-division loop.
* ``yardstick``: the project's hand-written C factor sieve (``../shared/perf/sigma.c``, not
  shipped), where ``--yardstick PATH`` names a build of it: ``fact2`` mode, on one thread
  (the kernels section) or on OpenMP threads (the baselines section: how far a C loop
  scales on this machine, beside this package's threads).

Each returns (Σσ, abundant, deficient, perfect) and is checked against the closed form
of Σσ, as every ``search`` is (mod 2**64 for numba, which sums in ``uint64``).
"""

from __future__ import annotations

import math
import re
import subprocess
import warnings
from types import ModuleType

import numpy as np

from perfectly import VerificationError, sum_sigma
from perfectly_bench.measure.children import run_bounded

NUMPY_BLOCK = 1 << 20
#: Seconds one run of the C yardstick may take (a cost point takes a few).
YARDSTICK_TIMEOUT = 600.0
#: A built C yardstick to run beside the kernel (the CLI's --yardstick), or None.
yardstick: str | None = None


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
            from perfectly_bench.measure import _numba_kernels
    except ImportError:
        return None
    return _numba_kernels


def available() -> tuple[str, ...]:
    """The baselines that can run here."""
    names = ("numpy", "numba", "numba-njit") if _numba() is not None else ("numpy",)
    return names + (("yardstick",) if yardstick else ())


def yardstick_census(path: str, lo: int, hi: int, threads: int = 1) -> tuple[int, int, int, int]:
    """(Σσ, abundant, deficient, perfect) of the C yardstick over [lo, hi): its ``fact2``
    mode (64-bit cells, any hi) on ``threads`` OpenMP threads, one repetition, 64 Ki
    blocks."""
    command = [path, "fact2", str(lo), str(hi), str(threads), "1", "65536"]
    status, stdout = run_bounded(command, timeout=YARDSTICK_TIMEOUT)
    if status != 0:
        raise subprocess.CalledProcessError(status, command)
    fields = dict(re.findall(r"(\w+)=(\S*)", stdout))
    try:
        perfect = len([n for n in fields.get("perfect", "").split(",") if n])
        return (
            int(fields["sum_sigma"]),
            int(fields["abundant"]),
            int(fields["deficient"]),
            perfect,
        )
    except (KeyError, ValueError) as exc:
        raise RuntimeError(f"the yardstick {path} printed no census: {stdout[:200]!r}") from exc


def missing() -> str | None:
    """Why the numba baselines cannot run here, or None if they can."""
    return None if _numba() is not None else "numba is not installed (pip install numba)"


def numba_threads() -> int:
    """How many threads numba may use (0 without numba)."""
    module = _numba()
    return 0 if module is None else int(module.max_threads())


def warm_up(name: str) -> None:
    """Compile (numba) outside any timing."""
    if name.startswith("numba"):
        for method in ("sieve", "trial") if name == "numba-njit" else ("sieve",):
            run(name, method, 1, 1000, 1)


def _census(name: str, method: str, lo: int, hi: int, workers: int) -> tuple[int, ...]:
    if name == "numpy" and method == "sieve":
        return numpy_census(lo, hi)
    if name == "yardstick" and method == "sieve" and yardstick:
        return yardstick_census(yardstick, lo, hi, workers)
    module = _numba()
    if module is None:
        raise RuntimeError(f"{name}: {missing()}")
    if name == "numba" and method == "sieve":
        return tuple(module.census(lo, hi, workers))
    if name == "numba-njit":
        return tuple(
            module.census(lo, hi, None) if method == "sieve" else module.trial_census(lo, hi)
        )
    raise ValueError(f"no baseline {name!r} for method {method!r}")


def run(name: str, method: str, lo: int, hi: int, workers: int) -> tuple[int, ...]:
    """Run baseline ``name`` with ``method`` on [lo, hi); check its Σσ against the closed
    form (mod 2**64 for numba, which sums in ``uint64``)."""
    result = _census(name, method, lo, hi, workers)
    modulus = 2**64 if name.startswith("numba") else None
    expected = sum_sigma(hi - 1) - sum_sigma(lo - 1)
    got = result[0]
    if (expected % modulus if modulus else expected) != got:
        raise VerificationError(f"{name} baseline: Σσ over [{lo}, {hi}) is {got}, not {expected}")
    if sum(result[1:]) != hi - lo:
        raise VerificationError(f"{name} baseline: the counts do not add up to {hi - lo}")
    return result
