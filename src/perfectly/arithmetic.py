"""Divisor sums of single numbers: σ(n), s(n), the perfect/abundant/deficient class."""

from __future__ import annotations

import enum

from perfectly import _reference
from perfectly._core import kernel
from perfectly._validate import RANGE_LIMIT, check_single, check_sum_sigma_x


# numpydoc's PR01 would ask for the parameters of Enum's call (value, names, module, ...).
class Classification(enum.Enum):  # numpydoc ignore=PR01
    """Where σ(n) stands against 2n: what :func:`classify` returns.

    A member can also be looked up by its value, ``Classification("perfect")``.

    Attributes
    ----------
    DEFICIENT : Classification
        σ(n) < 2n; its value is ``"deficient"``.
    PERFECT : Classification
        σ(n) = 2n; its value is ``"perfect"``.
    ABUNDANT : Classification
        σ(n) > 2n; its value is ``"abundant"``.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.classify(12)
    <Classification.ABUNDANT: 'abundant'>
    >>> perfectly.Classification("perfect") is perfectly.classify(28)
    True
    >>> [c.value for c in perfectly.Classification]
    ['deficient', 'perfect', 'abundant']
    """

    DEFICIENT = "deficient"  # σ(n) < 2n
    PERFECT = "perfect"  # σ(n) = 2n
    ABUNDANT = "abundant"  # σ(n) > 2n


def sigma(n: int) -> int:
    """Sum of the divisors of ``n``, σ(n).

    Parameters
    ----------
    n : int
        Any integer ≥ 1 (anything ``operator.index`` accepts, NumPy integers too; not a
        bool). Below 2**64 the compiled kernel factors ``n`` (Miller–Rabin and
        Pollard–Brent); larger Python ints take an exact pure-Python path.

    Returns
    -------
    int
        σ(n), exact (it may exceed 2**64).

    Raises
    ------
    TypeError
        If ``n`` is not an integer (a bool, float or str, for instance).
    ValueError
        If ``n`` < 1.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.sigma(12)  # 1 + 2 + 3 + 4 + 6 + 12
    28
    >>> perfectly.sigma(2**64 + 1)
    18446811354131136516
    """
    v = check_single(n, "n", None)
    if v < RANGE_LIMIT:
        return int(kernel.sigma(v))
    return _reference.sigma(v)


def aliquot(n: int) -> int:
    """The aliquot sum s(n) = σ(n) − n: the sum of the proper divisors of ``n``.

    Parameters
    ----------
    n : int
        Any integer ≥ 1, as for :func:`sigma`.

    Returns
    -------
    int
        s(n), exact; 0 for n = 1.

    Raises
    ------
    TypeError
        If ``n`` is not an integer (a bool, float or str, for instance).
    ValueError
        If ``n`` < 1.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.aliquot(220), perfectly.aliquot(284)  # an amicable pair
    (284, 220)
    >>> perfectly.aliquot(1)
    0
    """
    v = check_single(n, "n", None)
    return sigma(v) - v


def classify(n: int) -> Classification:
    """Whether ``n`` is perfect (σ(n) = 2n), abundant (> 2n) or deficient (< 2n).

    Parameters
    ----------
    n : int
        Any integer ≥ 1, as for :func:`sigma`.

    Returns
    -------
    Classification
        ``Classification.PERFECT``, ``ABUNDANT`` or ``DEFICIENT``.

    Raises
    ------
    TypeError
        If ``n`` is not an integer (a bool, float or str, for instance).
    ValueError
        If ``n`` < 1.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.classify(28)
    <Classification.PERFECT: 'perfect'>
    >>> perfectly.classify(12).value, perfectly.classify(9).value
    ('abundant', 'deficient')
    """
    v = check_single(n, "n", None)
    s = sigma(v)
    if s == 2 * v:
        return Classification.PERFECT
    return Classification.ABUNDANT if s > 2 * v else Classification.DEFICIENT


def is_perfect(n: int) -> bool:
    """Whether ``n`` is perfect: σ(n) = 2n.

    Parameters
    ----------
    n : int
        Any integer ≥ 1, as for :func:`sigma`.

    Returns
    -------
    bool
        True if σ(n) = 2n.

    Raises
    ------
    TypeError
        If ``n`` is not an integer (a bool, float or str, for instance).
    ValueError
        If ``n`` < 1.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.is_perfect(8128), perfectly.is_perfect(8127)
    (True, False)
    """
    return classify(n) is Classification.PERFECT


def sum_sigma(x: int) -> int:
    """Σ_{k ≤ x} σ(k), exactly, for 0 ≤ x < 2**64.

    Uses Σ_{k≤x} σ(k) = Σ_{d≤x} d·⌊x/d⌋, the Dirichlet hyperbola method, and a walk on
    the convex hull of the lattice points above the hyperbola: O(x^(1/3) log x) time,
    and a stack of about x^(1/4) slopes (1.4 MB at 2**64). It is the independent check
    that every search runs on Σσ.

    Parameters
    ----------
    x : int
        The upper end, included: ``0 ≤ x < 2**64`` (0 gives the empty sum).

    Returns
    -------
    int
        σ(1) + σ(2) + … + σ(x), exact (above 2**64 from x ≈ 4.7e9 on).

    Raises
    ------
    TypeError
        If ``x`` is not an integer (a bool, float or str, for instance).
    ValueError
        If ``x`` < 0.
    OverflowError
        If ``x`` ≥ 2**64.

    Examples
    --------
    >>> import perfectly
    >>> perfectly.sum_sigma(10)
    87
    >>> sum(perfectly.sigma(k) for k in range(1, 11))
    87
    >>> perfectly.sum_sigma(10**12) - perfectly.sum_sigma(10**12 - 1) == perfectly.sigma(10**12)
    True
    """
    return int(kernel.sum_sigma(check_sum_sigma_x(x)))
