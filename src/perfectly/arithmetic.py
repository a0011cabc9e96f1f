"""Divisor sums of single numbers: σ(n), s(n), the perfect/abundant/deficient class."""

from __future__ import annotations

import enum

from perfectly import _reference
from perfectly._core import kernel
from perfectly._validate import RANGE_LIMIT, check_single, check_sum_sigma_x


class Classification(enum.Enum):
    """Where σ(n) stands against 2n."""

    DEFICIENT = "deficient"  # σ(n) < 2n
    PERFECT = "perfect"  # σ(n) = 2n
    ABUNDANT = "abundant"  # σ(n) > 2n


def sigma(n: int) -> int:
    """Sum of the divisors of ``n``, σ(n).

    Parameters
    ----------
    n : int
        Any integer ≥ 1. Below 2**64 the compiled kernel factors ``n`` (Miller–Rabin and
        Pollard–Brent); larger Python ints take an exact pure-Python path.

    Returns
    -------
    int
        σ(n), exact (it may exceed 2**64).
    """
    v = check_single(n, "n", None)
    if v < RANGE_LIMIT:
        return int(kernel.sigma(v))
    return _reference.sigma(v)


def aliquot(n: int) -> int:
    """The aliquot sum s(n) = σ(n) − n: the sum of the proper divisors of ``n`` ≥ 1."""
    v = check_single(n, "n", None)
    return sigma(v) - v


def classify(n: int) -> Classification:
    """Whether ``n`` ≥ 1 is perfect (σ(n) = 2n), abundant (> 2n) or deficient (< 2n)."""
    v = check_single(n, "n", None)
    s = sigma(v)
    if s == 2 * v:
        return Classification.PERFECT
    return Classification.ABUNDANT if s > 2 * v else Classification.DEFICIENT


def is_perfect(n: int) -> bool:
    """Whether σ(n) = 2n for ``n`` ≥ 1."""
    return classify(n) is Classification.PERFECT


def sum_sigma(x: int) -> int:
    """Σ_{k ≤ x} σ(k), exactly, for 0 ≤ x < 2**64.

    Uses Σ_{k≤x} σ(k) = Σ_{d≤x} d·⌊x/d⌋, the Dirichlet hyperbola method, and a walk on
    the convex hull of the lattice points above the hyperbola: O(x^(1/3) log x) time,
    and a stack of about x^(1/4) slopes (1.4 MB at 2**64). It is the independent check
    that every search runs on Σσ.
    """
    return int(kernel.sum_sigma(check_sum_sigma_x(x)))
