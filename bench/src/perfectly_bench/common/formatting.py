"""How numbers read in the tables and the verdict: times, counts and ratios."""

from __future__ import annotations


def fmt_time(seconds: float) -> str:
    """``1.23 s``, ``45.6 ms``, ``789 µs``: three significant figures, a fitting unit."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale or unit == "µs":
            value = seconds / scale
            digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            return f"{value:.{digits}f} {unit}"
    raise AssertionError("unreachable")


def fmt_count(n: int) -> str:
    """1,000 as ``1e3``, 3,000,000 as ``3e6``, other numbers with thousands commas (so that
    a ladder 1e3, 1e4, … reads alike at every step)."""
    if n >= 1_000:
        exponent = len(str(n)) - 1
        mantissa, rest = divmod(n, 10**exponent)
        if rest == 0:
            return f"{mantissa}e{exponent}"
    return f"{n:,}"


def fmt_approx(n: float) -> str:
    """Two significant figures: 240000 as ``2.4e5``, 3000 as ``3,000``."""
    if n < 10_000:
        return f"{int(float(f'{n:.2g}')):,}"
    mantissa, _, exponent = f"{n:.2g}".partition("e")
    return f"{mantissa}e{int(exponent)}"


def fmt_ratio(x: float | None) -> str:
    """``1.82×``; below 0.1 two significant figures (``0.043×``, never ``0.00×``); ``n/a``
    when there is no ratio."""
    if x is None:
        return "n/a"
    if x >= 0.1:
        return f"{x:.2f}×"
    return f"{x:.2g}×" if x >= 0.001 else "< 0.001×"


def fmt_p(pvalue: float) -> str:
    """A p-value as the verdict quotes it."""
    return "p < 0.001" if pvalue < 0.001 else f"p = {pvalue:.2g}"


def fmt_interval(interval: tuple[float, float] | None) -> str:
    """A ratio's confidence interval: ``[1.80–1.93]`` (empty when there is none)."""
    return "" if interval is None else f"[{interval[0]:.2f}–{interval[1]:.2f}]"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun it counts, singular for 1: "1 warm-up", "3 warm-ups"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
