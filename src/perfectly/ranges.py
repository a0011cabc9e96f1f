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
    """σ(n) for every n in [lo, hi), as a NumPy array.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``; the array holds hi − lo values.
    method : {"sieve", "trial"}, default "sieve"
        The range algorithm (see :func:`perfectly.census`); ``"trial"`` needs
        ``hi ≤ 2**61``.
    kernel : {"compiled", "python"} or None, default None
        Which kernel fills the array; None uses the active one (compiled where it is
        installed).

    Returns
    -------
    numpy.ndarray
        Shape ``(hi - lo,)``, dtype ``uint64``. Mixed with signed integers it follows
        NumPy's rules: minus an ``int64`` array it becomes ``float64`` (exact only below
        2**53); for σ(n) − n use :func:`aliquot_range`.

    Raises
    ------
    TypeError
        If ``lo`` or ``hi`` is not an integer, or ``method`` or ``kernel`` is not a str
        (``kernel`` may be None).
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``, ``method`` is not one of ``METHODS``, or
        ``kernel`` is not None, ``"compiled"`` or ``"python"``.
    RuntimeError
        If ``kernel="compiled"`` and the compiled kernel is not available.
    OverflowError
        If ``hi`` > 2**64, ``method="trial"`` with ``hi`` > 2**61, the array does not
        fit in memory, or some σ(n) is 2**64 or more (the message names the first such
        n; possible only for n ≥ 2**61).

    Examples
    --------
    >>> import perfectly
    >>> perfectly.sigma_range(1, 11)
    array([ 1,  3,  4,  7,  6, 12,  8, 15, 13, 18], dtype=uint64)
    >>> s = perfectly.sigma_range(1, 10_000)
    >>> int(s.sum()) == perfectly.sum_sigma(9_999)
    True
    """
    return _fill(lo, hi, method, kernel, aliquot=False)


def aliquot_range(
    lo: int, hi: int, *, method: str = "sieve", kernel: str | None = None
) -> npt.NDArray[np.uint64]:
    """s(n) = σ(n) − n for every n in [lo, hi), as a NumPy array.

    Computed in the kernel, so it stays exact in ``uint64`` where
    ``sigma_range(lo, hi) - np.arange(lo, hi)`` would mix signed and unsigned integers.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``; the array holds hi − lo values.
    method : {"sieve", "trial"}, default "sieve"
        The range algorithm (see :func:`perfectly.census`); ``"trial"`` needs
        ``hi ≤ 2**61``.
    kernel : {"compiled", "python"} or None, default None
        Which kernel fills the array; None uses the active one (compiled where it is
        installed).

    Returns
    -------
    numpy.ndarray
        Shape ``(hi - lo,)``, dtype ``uint64``.

    Raises
    ------
    TypeError
        If ``lo`` or ``hi`` is not an integer, or ``method`` or ``kernel`` is not a str
        (``kernel`` may be None).
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``, ``method`` is not one of ``METHODS``, or
        ``kernel`` is not None, ``"compiled"`` or ``"python"``.
    RuntimeError
        If ``kernel="compiled"`` and the compiled kernel is not available.
    OverflowError
        If ``hi`` > 2**64, ``method="trial"`` with ``hi`` > 2**61, the array does not
        fit in memory, or some s(n) is 2**64 or more (the message names the first such
        n).

    Examples
    --------
    >>> import perfectly
    >>> perfectly.aliquot_range(1, 11)
    array([0, 1, 1, 3, 1, 6, 1, 7, 4, 8], dtype=uint64)
    >>> s = perfectly.aliquot_range(1, 10_000)
    >>> int(s[220 - 1]), int(s[284 - 1])  # s(220) and s(284): an amicable pair
    (284, 220)
    """
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
    """The perfect numbers (σ(n) = 2n) in [lo, hi), in order.

    A serial :func:`census` of the range that keeps only its ``perfect`` list.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    method : {"sieve", "trial"}, default "sieve"
        The range algorithm (see :func:`perfectly.census`); ``"trial"`` needs
        ``hi ≤ 2**61``.

    Returns
    -------
    list of int
        The perfect numbers n with lo ≤ n < hi, ascending.

    Raises
    ------
    TypeError
        If ``lo`` or ``hi`` is not an integer, or ``method`` is not a str.
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``, or ``method`` is not one of ``METHODS``.
    OverflowError
        If ``hi`` > 2**64, or ``method="trial"`` with ``hi`` > 2**61.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.perfect_numbers(1, 10_000)
    [6, 28, 496, 8128]
    """
    return list(census(lo, hi, method=method).perfect)


def multiply_perfect(lo: int, hi: int, *, method: str = "sieve") -> list[tuple[int, int]]:
    """Pairs (n, k) with σ(n) = k·n and k ≥ 3, for n in [lo, hi), in order of n.

    A serial :func:`census` of the range that keeps only its ``multiply_perfect`` list;
    perfect numbers (k = 2) are in :func:`perfect_numbers`.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    method : {"sieve", "trial"}, default "sieve"
        The range algorithm (see :func:`perfectly.census`); ``"trial"`` needs
        ``hi ≤ 2**61``.

    Returns
    -------
    list of tuple of (int, int)
        ``(n, k)`` for each multiply-perfect n with lo ≤ n < hi, ascending in n.

    Raises
    ------
    TypeError
        If ``lo`` or ``hi`` is not an integer, or ``method`` is not a str.
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``, or ``method`` is not one of ``METHODS``.
    OverflowError
        If ``hi`` > 2**64, or ``method="trial"`` with ``hi`` > 2**61.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.multiply_perfect(1, 100_000)
    [(120, 3), (672, 3), (30240, 4), (32760, 4)]
    """
    return list(census(lo, hi, method=method).multiply_perfect)


def amicable_pairs(lo: int, hi: int) -> list[tuple[int, int]]:
    """Amicable pairs (a, b): a < b, s(a) = b and s(b) = a, with lo ≤ a < hi (b may be ≥ hi).

    ``hi ≤ 2**61``. σ of partners outside the range is checked number by number, with
    early rejection; the job costs about 3–4 plain censuses.

    Parameters
    ----------
    lo, hi : int
        The half-open range of the smaller members, ``1 ≤ lo ≤ hi ≤ 2**61``.

    Returns
    -------
    list of tuple of (int, int)
        The pairs ``(a, b)``, ascending in a.

    Raises
    ------
    TypeError
        If ``lo`` or ``hi`` is not an integer.
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``.
    OverflowError
        If ``hi`` > 2**61.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.amicable_pairs(1, 10_000)
    [(220, 284), (1184, 1210), (2620, 2924), (5020, 5564), (6232, 6368)]
    >>> perfectly.amicable_pairs(250, 1_200)  # 1210 lies beyond hi
    [(1184, 1210)]
    """
    pairs = census(lo, hi, amicable=True).amicable
    assert pairs is not None
    return list(pairs)
