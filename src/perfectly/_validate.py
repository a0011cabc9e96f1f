"""Argument checks shared by the kernels and the public API.

Each check raises ``TypeError`` (not an integer), ``ValueError`` (an integer outside
the domain) or ``OverflowError`` (beyond what the routine supports), and the message
always names the argument, so that bad input never crashes, hangs or gives a wrong
answer.
"""

from __future__ import annotations

import multiprocessing
import operator
import os
import warnings

#: Exclusive upper bound of every range: numbers are unsigned 64-bit.
RANGE_LIMIT = 2**64
#: Below this every σ(n) fits in 64 bits; the trial and amicable jobs stop here.
WIDE_LIMIT = 2**61

# One name per idea, everywhere: the API, the kernel, the CLI and the benchmark.
#: Range algorithms (``method=``).
METHODS = ("sieve", "trial")
#: Kernels (``kernel=``): the compiled extension or the pure-Python one.
KERNELS = ("compiled", "python")
#: How a range is cut and handed out (``schedule=``).
SCHEDULES = ("static", "dynamic", "guided")
#: Where chunks run (``backend=``).
BACKENDS = ("serial", "threads", "_thread", "processes", "thread-pool", "process-pool", "dask")
#: Backends that run chunks in other processes (they take ``start_method=``).
PROCESS_BACKENDS = ("processes", "process-pool")
#: Old backend names still accepted, with a ``DeprecationWarning``.
DEPRECATED_BACKENDS = {"thread": "_thread"}
#: The ``multiprocessing`` start methods this platform has.
START_METHODS = tuple(multiprocessing.get_all_start_methods())


def as_int(value: object, name: str) -> int:
    """``value`` as a Python int; bools, floats, strings and None are refused."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not bool")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}") from None


def check_single(value: object, name: str, limit: int | None, minimum: int = 1) -> int:
    """An integer ``minimum ≤ value < limit`` (no upper bound when limit is None)."""
    n = as_int(value, name)
    if n < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {n}")
    if limit is not None and n >= limit:
        raise OverflowError(f"{name} must be < {_power(limit)}, got {n}")
    return n


def check_range(lo: object, hi: object) -> tuple[int, int]:
    """A half-open range ``1 ≤ lo ≤ hi ≤ 2**64``; empty ranges are valid."""
    lo_i = as_int(lo, "lo")
    hi_i = as_int(hi, "hi")
    if lo_i < 1:
        raise ValueError(f"lo must be ≥ 1, got {lo_i}")
    if hi_i > RANGE_LIMIT:
        raise OverflowError(f"hi must be ≤ 2**64, got {hi_i}")
    if lo_i > hi_i:
        raise ValueError(f"lo must be ≤ hi, got lo={lo_i} > hi={hi_i}")
    return lo_i, hi_i


def check_range_count(lo: object, count: int) -> tuple[int, int]:
    """The range ``[lo, lo + count)`` of a buffer of ``count`` values."""
    lo_i = as_int(lo, "lo")
    return check_range(lo_i, lo_i + count)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else an error naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {choices}, not {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_method(value: object, name: str = "method") -> str:
    """One of ``METHODS``."""
    return check_choice(value, name, METHODS)


def check_backend(value: object) -> str:
    """One of ``BACKENDS``; a deprecated alias is accepted with a warning."""
    if isinstance(value, str) and value in DEPRECATED_BACKENDS:
        new = DEPRECATED_BACKENDS[value]
        message = f"backend={value!r} is deprecated, use backend={new!r}"
        warnings.warn(message, DeprecationWarning, stacklevel=3)
        return new
    return check_choice(value, "backend", BACKENDS)


def check_start_method(value: object) -> str | None:
    """None (the platform's default), or one of ``START_METHODS``."""
    return None if value is None else check_choice(value, "start_method", START_METHODS)


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: object) -> int:
    """``None`` or ``-1``: every CPU this process may use; else an int ≥ 1."""
    if workers is None or (not isinstance(workers, bool) and workers == -1):
        return available_cpus()
    count = as_int(workers, "workers")
    if count < 1:
        raise ValueError(f"workers must be ≥ 1, -1 or None, got {count}")
    return count


def check_trial_hi(hi: int) -> None:
    """Trial division costs √n per number; it is offered below 2**61 only."""
    if hi > WIDE_LIMIT:
        raise OverflowError(
            f"hi must be ≤ 2**61 for the trial algorithm (√n divisions per number), "
            f"got {hi}; use the sieve"
        )


def check_amicable_hi(hi: int) -> None:
    """Partners b = s(a) of a < 2**61 stay below 2**64; beyond, they may not."""
    if hi > WIDE_LIMIT:
        raise OverflowError(f"hi must be ≤ 2**61 for amicable pairs, got {hi}")


def check_sum_sigma_x(value: object) -> int:
    """``0 ≤ x < 2**64`` for ``sum_sigma``."""
    return check_single(value, "x", RANGE_LIMIT, minimum=0)


def _power(limit: int) -> str:
    bits = limit.bit_length() - 1
    return f"2**{bits}" if limit == 1 << bits else str(limit)
