"""Range summaries: the census of [lo, hi), how censuses of chunks merge, and the
serial ``census()``.

``Census`` is the one summary type: the kernel wrapper (:func:`summarize`) makes one per
chunk, workers send it back, the journal stores it, and :meth:`Census.merge` is the one
place where parts become the whole.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterable
from typing import Any

from perfectly._core import kernel_module
from perfectly._validate import (
    check_amicable_hi,
    check_flag,
    check_method,
    check_range,
    check_trial_hi,
)

#: Numbers per kernel call in a serial census: short enough for Ctrl-C to be prompt (the
#: sieve's state is kept from call to call, in one Sweep).
SERIAL_CHUNK = 1 << 24


@dataclasses.dataclass(frozen=True)
class Census:
    """What a range [lo, hi) holds: exact Σσ, class counts, and the rare numbers found.

    :func:`census` and :func:`search` make it (``SearchResult.census``); it is frozen,
    and each parameter below is an attribute of the same name.

    Parameters
    ----------
    lo, hi : int
        The half-open range [lo, hi) the census covers.
    sigma_sum : int
        Σσ(n) over the range, exact.
    abundant, deficient : int
        How many n in the range have σ(n) > 2n, and σ(n) < 2n.
    perfect : tuple of int
        The n with σ(n) = 2n, ascending.
    multiply_perfect : tuple of tuple of (int, int)
        The (n, k) with σ(n) = k·n, k ≥ 3, ascending in n.
    amicable : tuple of tuple of (int, int) or None, default None
        The amicable pairs (a, b), a < b, with lo ≤ a < hi, ascending in a; None when
        the census did not look for them.

    Examples
    --------
    >>> import perfectly
    >>> c = perfectly.census(1, 10_000)
    >>> c.perfect, c.abundant, c.deficient
    ((6, 28, 496, 8128), 2487, 7508)
    >>> c
    Census(lo=1, hi=10000, sigma_sum=82231803, ..., amicable=None)
    """

    lo: int
    hi: int
    sigma_sum: int
    abundant: int
    deficient: int
    perfect: tuple[int, ...]
    multiply_perfect: tuple[tuple[int, int], ...]
    amicable: tuple[tuple[int, int], ...] | None = None

    @property
    def count(self) -> int:
        """How many numbers the census covers: hi − lo.

        It equals ``abundant + deficient + len(perfect)``.

        Returns
        -------
        int
            The count, ≥ 0.

        Examples
        --------
        >>> import perfectly
        >>> c = perfectly.census(1, 10_000)
        >>> c.count, c.abundant + c.deficient + len(c.perfect)
        (9999, 9999)
        """
        return self.hi - self.lo

    @property
    def found(self) -> tuple[tuple[int, int], ...]:
        """(n, k) with σ(n) = k·n, k ≥ 2, as the kernel reports them.

        The perfect numbers (k = 2) and the multiply-perfect ones together.

        Returns
        -------
        tuple of tuple of (int, int)
            The pairs ``(n, k)``, ascending in n.

        Examples
        --------
        >>> import perfectly
        >>> perfectly.census(1, 1_000).found
        ((6, 2), (28, 2), (120, 3), (496, 2), (672, 3))
        """
        return tuple(sorted([(n, 2) for n in self.perfect] + list(self.multiply_perfect)))

    @classmethod
    def empty(cls, lo: int, *, amicable: bool) -> Census:
        """The census of the empty range [lo, lo): every sum and count 0.

        Parameters
        ----------
        lo : int
            Where the range starts (and ends).
        amicable : bool
            True for an empty ``amicable`` tuple (a census that looked for pairs), False
            for None.

        Returns
        -------
        Census
            The empty census, which :meth:`merge` can start from.

        Examples
        --------
        >>> import perfectly
        >>> perfectly.Census.empty(5, amicable=True)
        Census(lo=5, hi=5, sigma_sum=0, abundant=0, deficient=0, perfect=(),
               multiply_perfect=(), amicable=())
        """
        return cls(lo, lo, 0, 0, 0, (), (), () if amicable else None)

    @classmethod
    def from_summary(
        cls,
        lo: int,
        hi: int,
        summary: tuple[int, int, int, Iterable[tuple[int, int]]],
        amicable: Iterable[tuple[int, int]] | None = None,
    ) -> Census:
        """A census from a kernel's ``summarize(lo, hi)`` (and ``amicable``) output.

        Nothing is checked: the numbers are only converted to Python ints and sorted
        into ``perfect`` (k = 2) and ``multiply_perfect`` (k ≥ 3).

        Parameters
        ----------
        lo, hi : int
            The range the summary covers.
        summary : tuple
            ``(Σσ, abundant, deficient, found)``, where ``found`` lists the (n, k) with
            σ(n) = k·n, k ≥ 2, ascending in n.
        amicable : iterable of tuple of (int, int) or None, default None
            The amicable pairs (a, b) found, or None where they were not looked for.

        Returns
        -------
        Census
            The census of [lo, hi).

        Examples
        --------
        >>> import perfectly
        >>> perfectly.Census.from_summary(1, 30, (690, 4, 23, [(6, 2), (28, 2)]))
        Census(lo=1, hi=30, sigma_sum=690, abundant=4, deficient=23, perfect=(6, 28), ...)
        """
        total, abundant, deficient, found = summary
        found = [(int(n), int(k)) for n, k in found]
        return cls(
            lo=lo,
            hi=hi,
            sigma_sum=int(total),
            abundant=int(abundant),
            deficient=int(deficient),
            perfect=tuple(n for n, k in found if k == 2),
            multiply_perfect=tuple((n, k) for n, k in found if k >= 3),
            amicable=None if amicable is None else tuple((int(a), int(b)) for a, b in amicable),
        )

    @classmethod
    def merge(cls, parts: Iterable[Census]) -> Census:
        """One census from parts that tile a range exactly, in any order.

        Sums and counts are added, and the numbers found are concatenated in order of
        the parts' ranges.

        Parameters
        ----------
        parts : iterable of Census
            Censuses of adjacent ranges: sorted by ``lo``, each must end where the next
            starts. Either all have ``amicable`` pairs or none has.

        Returns
        -------
        Census
            The census of [lowest ``lo``, highest ``hi``).

        Raises
        ------
        ValueError
            If ``parts`` is empty, leaves a gap or an overlap, or mixes censuses with
            and without amicable pairs.

        Examples
        --------
        >>> import perfectly
        >>> halves = [perfectly.census(5_000, 10_000), perfectly.census(1, 5_000)]
        >>> perfectly.Census.merge(halves) == perfectly.census(1, 10_000)
        True
        """
        ordered = sorted(parts, key=lambda c: c.lo)
        if not ordered:
            raise ValueError("parts must not be empty")
        for left, right in itertools.pairwise(ordered):
            if left.hi != right.lo:
                raise ValueError(
                    f"parts must tile the range: [{left.lo}, {left.hi}) "
                    f"is followed by [{right.lo}, {right.hi})"
                )
        with_pairs = [c.amicable for c in ordered]
        if any(p is None for p in with_pairs) and not all(p is None for p in with_pairs):
            raise ValueError("parts must all have amicable pairs, or none")
        return cls(
            lo=ordered[0].lo,
            hi=ordered[-1].hi,
            sigma_sum=sum(c.sigma_sum for c in ordered),
            abundant=sum(c.abundant for c in ordered),
            deficient=sum(c.deficient for c in ordered),
            perfect=tuple(n for c in ordered for n in c.perfect),
            multiply_perfect=tuple(m for c in ordered for m in c.multiply_perfect),
            amicable=None
            if with_pairs[0] is None
            else tuple(p for c in ordered for p in c.amicable or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for tuples; ints stay exact).

        Returns
        -------
        dict
            Every field, and ``count``; tuples become lists, and ``amicable`` stays
            None where the census did not look for pairs.

        Examples
        --------
        >>> import json, perfectly
        >>> json.dumps(perfectly.census(1, 1_000).to_dict())
        '{"lo": 1, "hi": 1000, "count": 999, "sigma_sum": 820741, ..., "amicable": null}'
        """
        return {
            "lo": self.lo,
            "hi": self.hi,
            "count": self.count,
            "sigma_sum": self.sigma_sum,
            "perfect": list(self.perfect),
            "abundant": self.abundant,
            "deficient": self.deficient,
            "multiply_perfect": [list(m) for m in self.multiply_perfect],
            "amicable": None if self.amicable is None else [list(p) for p in self.amicable],
        }


def check_part(part: Census, sigma: Callable[[int], int]) -> None:
    """``ValueError`` unless ``part`` is consistent: its class counts add up to its size,
    and every number it lists is in its range, listed once, and is what it claims by
    ``sigma`` (σ(n) = k·n; for a pair (a, b), a < b, s(a) = b and s(b) = a).

    Cheap (one σ per listed number), so every search runs it on every journaled chunk
    and on its result; a dropped number it cannot see (Σσ catches most such changes).
    """
    counted = part.abundant + part.deficient + len(part.perfect)
    if min(part.abundant, part.deficient) < 0 or counted != part.count:
        raise ValueError(
            f"[{part.lo}, {part.hi}) has {part.count} numbers, but abundant + deficient + "
            f"perfect = {part.abundant} + {part.deficient} + {len(part.perfect)}"
        )
    found = [n for n, _ in part.found]
    pairs = part.amicable or ()
    for listed in (found, [a for a, _ in pairs]):
        if listed != sorted(set(listed)):
            raise ValueError(f"[{part.lo}, {part.hi}) lists a number twice, or out of order")
    for n, k in part.found:
        if not (part.lo <= n < part.hi and k >= 2 and sigma(n) == k * n):
            raise ValueError(f"[{part.lo}, {part.hi}) lists {n} with sigma = {k}·n, wrongly")
    for a, b in pairs:
        if not (part.lo <= a < part.hi and a < b and sigma(a) - a == b and sigma(b) - b == a):
            raise ValueError(f"[{part.lo}, {part.hi}) lists ({a}, {b}) as amicable, wrongly")


def census(
    lo: int,
    hi: int,
    *,
    method: str = "sieve",
    amicable: bool = False,
    kernel: str | None = None,
) -> Census:
    """Census of [lo, hi): Σσ, perfect/abundant/deficient counts, multiply-perfect numbers.

    Serial, in the calling thread; :func:`search` makes the same census in parallel.
    Memory stays small whatever the range: the kernel is called on 2**24 numbers at a
    time and the parts are merged as they come.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    method : {"sieve", "trial"}, default "sieve"
        ``sieve`` factors whole blocks (O(log log n) per number); ``trial`` tests divisor
        pairs up to √n per number (the classic uneven workload, ``hi ≤ 2**61``).
    amicable : bool, default False
        Also list amicable pairs with the smaller member in [lo, hi) (``hi ≤ 2**61``);
        about 3–4 times the cost of the plain census.
    kernel : {"compiled", "python"} or None, default None
        Which kernel computes σ; None uses the compiled one when it is available.

    Returns
    -------
    Census
        The census of [lo, hi); its ``amicable`` is None unless ``amicable`` is True.

    Raises
    ------
    TypeError
        If ``lo`` or ``hi`` is not an integer, ``method`` or ``kernel`` is not a str
        (``kernel`` may be None), or ``amicable`` is not a bool.
    ValueError
        If ``lo`` < 1 or ``lo`` > ``hi``, ``method`` is not one of ``METHODS``, or
        ``kernel`` is not None, ``"compiled"`` or ``"python"``.
    OverflowError
        If ``hi`` > 2**64, or ``hi`` > 2**61 with ``method="trial"`` or ``amicable``.
    RuntimeError
        If ``kernel="compiled"`` and the compiled kernel is not available.

    Examples
    --------
    >>> import perfectly
    >>> c = perfectly.census(1, 10_000, amicable=True)
    >>> c.sigma_sum == perfectly.sum_sigma(9_999)
    True
    >>> c.perfect, c.multiply_perfect
    ((6, 28, 496, 8128), ((120, 3), (672, 3)))
    >>> c.amicable
    ((220, 284), (1184, 1210), (2620, 2924), (5020, 5564), (6232, 6368))
    """
    lo, hi = check_range(lo, hi)
    method = check_method(method)
    amicable = check_flag(amicable, "amicable")
    if method == "trial":
        check_trial_hi(hi)
    if amicable:
        check_amicable_hi(hi)
    sweep = kernel_module(kernel).Sweep(lo, hi, method, amicable=amicable)
    total = Census.empty(lo, amicable=amicable)
    while sweep.position < hi:  # merged as they come: memory O(chunk), whatever the range
        a, b, summary, pairs = sweep.summarize(SERIAL_CHUNK)
        total = Census.merge([total, Census.from_summary(a, b, summary, pairs)])
    return dataclasses.replace(total, hi=hi)


class Aggregator:
    """Collects the censuses of a plan's chunks, in any order, into one ``Census``.

    ``add`` may be called from any thread (a ``threading.Lock`` guards the state). Sums
    and counts are added as chunks come, the few numbers found are kept, and what is
    covered is kept as disjoint runs of chunks that touch, merged as they meet: memory
    O(workers + numbers found), not O(chunks), however small the chunks. A chunk that
    overlaps one added before is an error, and so is a census asked for before every
    number of [lo, hi) was covered exactly once; every backend, worker count, schedule and
    chunk size gives the identical census.
    """

    def __init__(self, lo: int, hi: int, *, amicable: bool) -> None:
        self.lo, self.hi = lo, hi
        self._amicable = amicable
        self._lock = threading.Lock()
        self._starts: list[int] = []  # the covered runs [start, end), sorted by start
        self._ends: dict[int, int] = {}
        self._numbers = self._sigma_sum = self._abundant = self._deficient = 0
        self._perfect: list[int] = []
        self._multiply_perfect: list[tuple[int, int]] = []
        self._pairs: list[tuple[int, int]] = []

    def add(self, index: int, part: Census) -> None:
        """Take the census of chunk ``index``."""
        if not (self.lo <= part.lo <= part.hi <= self.hi):
            raise ValueError(f"chunk [{part.lo}, {part.hi}) is outside [{self.lo}, {self.hi})")
        if (part.amicable is not None) != self._amicable:
            raise ValueError(f"chunk {index} [{part.lo}, {part.hi}) lacks amicable pairs")
        if part.count == 0:
            return
        with self._lock:
            self._cover(index, part.lo, part.hi)
            self._numbers += part.count
            self._sigma_sum += part.sigma_sum
            self._abundant += part.abundant
            self._deficient += part.deficient
            self._perfect.extend(part.perfect)
            self._multiply_perfect.extend(part.multiply_perfect)
            self._pairs.extend(part.amicable or ())

    def _cover(self, index: int, lo: int, hi: int) -> None:
        """Mark [lo, hi) covered, joining the runs it touches; ``ValueError`` on overlap."""
        at = bisect.bisect_right(self._starts, lo)
        before = self._starts[at - 1] if at > 0 else None
        after = self._starts[at] if at < len(self._starts) else None
        if (before is not None and self._ends[before] > lo) or (after is not None and after < hi):
            raise ValueError(f"chunk {index} [{lo}, {hi}) overlaps chunks merged before")
        if after == hi:  # joins the run after it
            hi = self._ends.pop(after)
            del self._starts[at]
        if before is not None and self._ends[before] == lo:  # joins the run before it
            self._ends[before] = hi
        else:
            self._starts.insert(at, lo)
            self._ends[lo] = hi

    def covers(self, lo: int, hi: int) -> bool:
        """Whether every number of [lo, hi) is covered so far."""
        with self._lock:
            at = bisect.bisect_right(self._starts, lo)
            return at > 0 and self._ends[self._starts[at - 1]] >= hi

    @property
    def numbers_done(self) -> int:
        """How many numbers of the range are covered so far."""
        with self._lock:
            return self._numbers

    def census(self) -> Census:
        """The merged census; every number of [lo, hi) must have been covered."""
        with self._lock:
            if self._numbers != self.hi - self.lo:
                raise RuntimeError(
                    f"only {self._numbers} of the {self.hi - self.lo} numbers of "
                    f"[{self.lo}, {self.hi}) were merged"
                )
            return Census(
                lo=self.lo,
                hi=self.hi,
                sigma_sum=self._sigma_sum,
                abundant=self._abundant,
                deficient=self._deficient,
                perfect=tuple(sorted(self._perfect)),
                multiply_perfect=tuple(sorted(self._multiply_perfect)),
                amicable=tuple(sorted(self._pairs)) if self._amicable else None,
            )
