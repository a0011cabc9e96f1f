"""Range summaries: the census of [lo, hi) and how two adjacent censuses merge."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from typing import Any

from perfectly._core import kernel_module
from perfectly._validate import check_amicable_hi, check_method, check_range, check_trial_hi

#: Numbers per kernel call in a serial census: short enough for Ctrl-C to be prompt.
SERIAL_CHUNK = 1 << 24


@dataclasses.dataclass(frozen=True)
class Census:
    """What a range [lo, hi) holds: exact Σσ, class counts, and the rare numbers found.

    ``perfect`` lists n with σ(n) = 2n; ``multiply_perfect`` lists (n, k) with
    σ(n) = k·n, k ≥ 3; ``amicable`` lists pairs (a, b), a < b, with lo ≤ a < hi, or is
    None when the census did not look for them.
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
        """How many numbers the census covers."""
        return self.hi - self.lo

    @classmethod
    def from_summary(
        cls,
        lo: int,
        hi: int,
        summary: tuple[int, int, int, list[tuple[int, int]]],
        amicable: Iterable[tuple[int, int]] | None = None,
    ) -> Census:
        """A census from a kernel's ``summarize(lo, hi)`` (and ``amicable``) output."""
        total, abundant, deficient, found = summary
        return cls(
            lo=lo,
            hi=hi,
            sigma_sum=int(total),
            abundant=int(abundant),
            deficient=int(deficient),
            perfect=tuple(int(n) for n, k in found if k == 2),
            multiply_perfect=tuple((int(n), int(k)) for n, k in found if k >= 3),
            amicable=None if amicable is None else tuple((int(a), int(b)) for a, b in amicable),
        )

    @classmethod
    def merge(cls, parts: Iterable[Census]) -> Census:
        """One census from parts that tile a range exactly, in any order."""
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
        """A JSON-ready dict (lists for tuples; ints stay exact)."""
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


def census(
    lo: int,
    hi: int,
    *,
    method: str = "sieve",
    amicable: bool = False,
    kernel: str | None = None,
) -> Census:
    """Census of [lo, hi): Σσ, perfect/abundant/deficient counts, multiply-perfect numbers.

    Parameters
    ----------
    lo, hi : int
        The half-open range, ``1 ≤ lo ≤ hi ≤ 2**64``.
    method : {"sieve", "trial"}
        ``sieve`` factors whole blocks (O(log log n) per number); ``trial`` tests divisor
        pairs up to √n per number (the classic uneven workload, ``hi ≤ 2**61``).
    amicable : bool
        Also list amicable pairs with the smaller member in [lo, hi) (``hi ≤ 2**61``);
        about 3–4 times the cost of the plain census.
    kernel : {"compiled", "python"} or None
        Which kernel computes σ; None uses the compiled one when it is available.

    Returns
    -------
    Census
    """
    lo, hi = check_range(lo, hi)
    method = check_method(method)
    if method == "trial":
        check_trial_hi(hi)
    if amicable:
        check_amicable_hi(hi)
    k = kernel_module(kernel)
    parts = [
        Census.from_summary(
            start,
            stop,
            k.summarize(start, stop, method),
            k.amicable(start, stop) if amicable else None,
        )
        for start, stop in _chunks(lo, hi, SERIAL_CHUNK)
    ]
    if not parts:
        return Census(lo, hi, 0, 0, 0, (), (), () if amicable else None)
    return Census.merge(parts)


def _chunks(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, hi)) for start in range(lo, hi, size)]
