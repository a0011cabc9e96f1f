"""perfectly: fast divisor sums σ(n) with a compiled, GIL-free core.

The numbers API is serial and exact: :func:`sigma` for any n, :func:`sigma_range` for
whole ranges as NumPy arrays, :func:`census` for perfect, abundant, deficient and
multiply-perfect numbers, :func:`amicable_pairs`, and :func:`sum_sigma`, the closed-form
check of Σσ. :func:`search` runs a census in parallel; :func:`estimate` says beforehand
how long it will take on this machine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The kernel is chosen here, at import (an ImportError where PERFECTLY_CPU_TARGET names a
# build that cannot load); most other names are imported on first use (PEP 562), so that
# a worker interpreter, which needs only the kernel and the task, does not pay for the
# rest (the backends, concurrent.futures, multiprocessing, NumPy's ranges: about 40 ms in
# each interpreter on CPython 3.14).
from perfectly._core import build_info

# Names that are also submodules are imported now: a lazy `census` would be replaced by
# the module perfectly.census the moment anything imported that module.
from perfectly.census import Census, census
from perfectly.estimate import Estimate, estimate
from perfectly.search import SearchResult, VerificationError, search

#: Where each public name lives.
_LAZY = {
    "BACKENDS": "perfectly._validate",
    "KERNELS": "perfectly._validate",
    "MAX_WORKERS": "perfectly._validate",
    "METHODS": "perfectly._validate",
    "PROCESS_BACKENDS": "perfectly._validate",
    "SCHEDULES": "perfectly._validate",
    "START_METHODS": "perfectly._validate",
    "available_cpus": "perfectly._validate",
    "JournalError": "perfectly.journal",
    "parse_int": "perfectly._cli_numbers",
    "Classification": "perfectly.arithmetic",
    "aliquot": "perfectly.arithmetic",
    "classify": "perfectly.arithmetic",
    "is_perfect": "perfectly.arithmetic",
    "sigma": "perfectly.arithmetic",
    "sum_sigma": "perfectly.arithmetic",
    "ChunkError": "perfectly.parallel",
    "WorkerLostError": "perfectly.parallel",
    "aliquot_range": "perfectly.ranges",
    "amicable_pairs": "perfectly.ranges",
    "multiply_perfect": "perfectly.ranges",
    "perfect_numbers": "perfectly.ranges",
    "sigma_range": "perfectly.ranges",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'perfectly' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # what type checkers and IDEs see
    from perfectly._cli_numbers import parse_int
    from perfectly._validate import (
        BACKENDS,
        KERNELS,
        MAX_WORKERS,
        METHODS,
        PROCESS_BACKENDS,
        SCHEDULES,
        START_METHODS,
        available_cpus,
    )
    from perfectly.arithmetic import (
        Classification,
        aliquot,
        classify,
        is_perfect,
        sigma,
        sum_sigma,
    )
    from perfectly.journal import JournalError
    from perfectly.parallel import ChunkError, WorkerLostError
    from perfectly.ranges import (
        aliquot_range,
        amicable_pairs,
        multiply_perfect,
        perfect_numbers,
        sigma_range,
    )

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "KERNELS",
    "MAX_WORKERS",
    "METHODS",
    "PROCESS_BACKENDS",
    "SCHEDULES",
    "START_METHODS",
    "Census",
    "ChunkError",
    "Classification",
    "Estimate",
    "JournalError",
    "SearchResult",
    "VerificationError",
    "WorkerLostError",
    "aliquot",
    "aliquot_range",
    "amicable_pairs",
    "available_cpus",
    "build_info",
    "census",
    "classify",
    "estimate",
    "is_perfect",
    "multiply_perfect",
    "parse_int",
    "perfect_numbers",
    "search",
    "sigma",
    "sigma_range",
    "sum_sigma",
]
