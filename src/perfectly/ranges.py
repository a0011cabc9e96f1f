"""σ over whole ranges as NumPy arrays, and the special numbers a range holds.

NumPy is imported when an array is made, not with ``perfectly``: NumPy cannot load in a
subinterpreter, where ``backend="interpreters"`` imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfectly._core import kernel_module
from perfectly._validate import check_method, check_range, check_trial_hi
from perfectly.census import census

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def sigma_range(
    lo: int, hi: int, *, method: str = "sieve", kernel: str | None = None
) -> npt.NDArray[np.uint64]:
    """σ(n) for every n in [lo, hi).

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``; the array holds hi − lo values.
    method : {"sieve", "trial"}
        The range algorithm (see :func:`perfectly.census`).
    kernel : {"compiled", "python"} or None
        Which kernel fills the array.

    Returns
    -------
    numpy.ndarray
        Shape ``(hi - lo,)``, dtype ``uint64``. Mixed with signed integers it follows
        NumPy's rules: minus an ``int64`` array it becomes ``float64`` (exact only below
        2**53); for σ(n) − n use :func:`aliquot_range`.

    Raises
    ------
    OverflowError
        Naming the first n whose σ(n) is 2**64 or more (possible only for n ≥ 2**61).
    """
    return _fill(lo, hi, method, kernel, aliquot=False)


def aliquot_range(
    lo: int, hi: int, *, method: str = "sieve", kernel: str | None = None
) -> npt.NDArray[np.uint64]:
    """s(n) = σ(n) − n for every n in [lo, hi), as a ``uint64`` array of shape (hi − lo,)."""
    return _fill(lo, hi, method, kernel, aliquot=True)


def _fill(
    lo: int, hi: int, method: str, kernel: str | None, aliquot: bool
) -> npt.NDArray[np.uint64]:
    lo, hi = check_range(lo, hi)
    method = check_method(method)
    if method == "trial":
        check_trial_hi(hi)
    import numpy as np

    try:
        out = np.empty(hi - lo, dtype=np.uint64)
    except (MemoryError, ValueError) as exc:
        raise OverflowError(
            f"hi - lo must fit in memory as uint64 values, got hi={hi} (hi - lo = {hi - lo})"
        ) from exc
    kernel_module(kernel).fill_sigma(lo, out, method, aliquot)
    return out


def perfect_numbers(lo: int, hi: int, *, method: str = "sieve") -> list[int]:
    """The perfect numbers (σ(n) = 2n) in [lo, hi), in order."""
    return list(census(lo, hi, method=method).perfect)


def multiply_perfect(lo: int, hi: int, *, method: str = "sieve") -> list[tuple[int, int]]:
    """Pairs (n, k) with σ(n) = k·n and k ≥ 3, for n in [lo, hi), in order of n."""
    return list(census(lo, hi, method=method).multiply_perfect)


def amicable_pairs(lo: int, hi: int) -> list[tuple[int, int]]:
    """Amicable pairs (a, b): a < b, s(a) = b and s(b) = a, with lo ≤ a < hi (b may be ≥ hi).

    ``hi ≤ 2**61``. σ of partners outside the range is checked number by number, with
    early rejection; the job costs about 3–4 plain censuses.
    """
    pairs = census(lo, hi, amicable=True).amicable
    assert pairs is not None
    return list(pairs)
