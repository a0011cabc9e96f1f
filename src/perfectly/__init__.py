"""perfectly: fast divisor sums σ(n) with a compiled, GIL-free core.

The numbers API is serial and exact: :func:`sigma` for any n, :func:`sigma_range` for
whole ranges as NumPy arrays, :func:`census` for perfect, abundant, deficient and
multiply-perfect numbers, :func:`amicable_pairs`, and :func:`sum_sigma`, the closed-form
check of Σσ. :func:`search` runs a census in parallel; :func:`estimate` says beforehand
how long it will take on this machine.
"""

from perfectly._core import build_info
from perfectly._validate import BACKENDS, KERNELS, METHODS, SCHEDULES, START_METHODS
from perfectly.arithmetic import (
    Classification,
    aliquot,
    classify,
    is_perfect,
    sigma,
    sum_sigma,
)
from perfectly.census import Census, census
from perfectly.estimate import Estimate, estimate
from perfectly.parallel import ChunkError, WorkerLostError
from perfectly.ranges import (
    aliquot_range,
    amicable_pairs,
    multiply_perfect,
    perfect_numbers,
    sigma_range,
)
from perfectly.search import SearchResult, VerificationError, search

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "KERNELS",
    "METHODS",
    "SCHEDULES",
    "START_METHODS",
    "Census",
    "ChunkError",
    "Classification",
    "Estimate",
    "SearchResult",
    "VerificationError",
    "WorkerLostError",
    "aliquot",
    "aliquot_range",
    "amicable_pairs",
    "build_info",
    "census",
    "classify",
    "estimate",
    "is_perfect",
    "multiply_perfect",
    "perfect_numbers",
    "search",
    "sigma",
    "sigma_range",
    "sum_sigma",
]
