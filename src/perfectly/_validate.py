"""Argument checks shared by the kernels and the public API.

Each check raises ``TypeError`` (not an integer), ``ValueError`` (an integer outside
the domain) or ``OverflowError`` (beyond what the routine supports), and the message
always names the argument, so that bad input never crashes, hangs or gives a wrong
answer.

Every worker interpreter imports this module (the kernel does), afresh at each start: it
imports what only the parent's checks use (``numbers``, ``collections.abc``,
``warnings``) where they use it.
"""

from __future__ import annotations

import math
import operator
import os

TYPE_CHECKING = False  # not typing's: worker interpreters import this module afresh
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
BACKENDS = (
    "serial",
    "threads",
    "_thread",
    "processes",
    "thread-pool",
    "process-pool",
    "interpreters",
    "dask",
)
#: Backends that run chunks in other processes (they take ``start_method=``).
PROCESS_BACKENDS = ("processes", "process-pool")
#: Old backend names still accepted, with a ``DeprecationWarning``.
DEPRECATED_BACKENDS = {"thread": "_thread"}
#: The ``multiprocessing`` start methods this platform has (made on first use: see
#: ``__getattr__``).
START_METHODS: tuple[str, ...]
#: The most workers a run may ask for (each costs a thread, a process or a Dask worker).
MAX_WORKERS = 4096
#: Options a backend takes in ``search(..., backend_options={...})``.
BACKEND_OPTIONS: dict[str, tuple[str, ...]] = {"dask": ("scheduler", "security", "trust_scheduler")}


def start_methods() -> tuple[str, ...]:
    """``START_METHODS``, asked of ``multiprocessing`` on first use: importing it at
    module level cost every worker interpreter about 10 ms (this module is imported by
    the kernel), and a worker never needs it."""
    methods: tuple[str, ...] | None = globals().get("START_METHODS")
    if methods is None:
        import multiprocessing

        methods = globals()["START_METHODS"] = tuple(multiprocessing.get_all_start_methods())
    return methods


def __getattr__(name: str) -> Any:  # PEP 562: the module's lazily made constants
    if name == "START_METHODS":
        return start_methods()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        import warnings

        warnings.warn(message, DeprecationWarning, stacklevel=3)
        return new
    return check_choice(value, "backend", BACKENDS)


def check_start_method(value: object, backend: str | None = None) -> str | None:
    """None (the platform's default), or one of ``START_METHODS``; only a process
    backend takes one (when ``backend`` is given)."""
    if value is None:
        return None
    method = check_choice(value, "start_method", start_methods())
    if backend is not None and backend not in PROCESS_BACKENDS:
        raise ValueError(f"start_method only applies to {PROCESS_BACKENDS}, not {backend!r}")
    return method


def check_schedule(value: object) -> str:
    """One of ``SCHEDULES``."""
    return check_choice(value, "schedule", SCHEDULES)


def check_kernel(value: object) -> str | None:
    """None (the active kernel), or one of ``KERNELS``."""
    return None if value is None else check_choice(value, "kernel", KERNELS)


def check_chunk_size(value: object) -> int | None:
    """None (the plan picks one), or an int ≥ 1."""
    if value is None:
        return None
    size = as_int(value, "chunk_size")
    if size < 1:
        raise ValueError(f"chunk_size must be ≥ 1 or None, got {size}")
    return size


def check_retries(value: object) -> int:
    """An int ≥ 0."""
    retries = as_int(value, "retries")
    if retries < 0:
        raise ValueError(f"retries must be ≥ 0, got {retries}")
    return retries


def check_timeout(value: object) -> float | None:
    """None (no limit), or a number of seconds > 0."""
    if value is None:
        return None
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # NumPy's too
        raise TypeError(f"timeout must be a number of seconds or None, not {value!r}")
    seconds = float(value)
    if not seconds > 0:  # NaN too
        raise ValueError(f"timeout must be > 0 seconds or None, got {value!r}")
    return None if math.isinf(seconds) else seconds


def check_flag(value: object, name: str) -> bool:
    """True or False, nothing else (no truthy stand-ins)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {value!r}")
    return value


def check_progress(value: object) -> Callable[[int, int], object] | None:
    """None, or a callable ``progress(done, total)``."""
    if value is not None and not callable(value):
        raise TypeError("progress must be callable or None")
    return value


def check_backend_options(backend: str, options: object) -> dict[str, Any]:
    """The options a backend takes, as a dict; others name the backend that takes them."""
    from collections.abc import Mapping

    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"backend_options must be a dict or None, not {type(options).__name__}")
    allowed = BACKEND_OPTIONS.get(backend, ())
    for key in options:
        if key in allowed:
            continue
        owners = [name for name, keys in BACKEND_OPTIONS.items() if key in keys]
        if owners:
            where = " or ".join(f"backend={name!r}" for name in owners)
            raise ValueError(f"backend_options {key!r} only applies to {where}, not {backend!r}")
        raise ValueError(f"backend {backend!r} takes backend_options {allowed}, not {key!r}")
    return dict(options)


def available_cpus() -> int:
    """The number of CPUs this process may run on.

    What ``workers=None`` (or ``-1``) means everywhere: on Linux the CPUs of this
    process's affinity mask (a container or ``taskset`` may allow fewer than the machine
    has), elsewhere ``os.cpu_count()``.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import os, perfectly
    >>> 1 <= perfectly.available_cpus() <= (os.cpu_count() or 1)
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_workers(workers: object) -> int:
    """``None`` or ``-1``: every CPU this process may use; else an int, 1 ≤ workers ≤
    ``MAX_WORKERS`` (a search also uses no more workers than it has numbers)."""
    if workers is None:
        return available_cpus()
    count = as_int(workers, "workers")
    if count == -1:
        return available_cpus()
    if count < 1:
        raise ValueError(f"workers must be ≥ 1, -1 or None, got {count}")
    if count > MAX_WORKERS:
        raise ValueError(f"workers must be ≤ {MAX_WORKERS}, got {count}")
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


def check_journal_path(path: object) -> str:
    """The journal path as an absolute file name; ``TypeError``/``ValueError`` otherwise."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"journal must be a path or None, not {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError("journal must be a str path or None, not bytes")
    if text in ("", ":memory:"):
        raise ValueError(f"journal must name a file, got {text!r} (it would save nothing)")
    return os.path.abspath(text)  # never ":memory:" and never a "file:" URI
