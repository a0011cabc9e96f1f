"""Summary statistics of timings, and the two-sample test that ``compare`` uses.

A summary gives what pyperf gives: median, mean ± standard deviation, min, max and the
interquartile range, and flags a result as *unstable* when its spread (standard
deviation / mean) exceeds 10 %.

Whether two sets of timings differ is decided by Welch's t-test from scipy when scipy
is installed, otherwise by a permutation test on the difference of the means written
here with the standard library (exact when there are few enough ways to split the
values, else 20,000 random splits with a fixed seed). Each says which one it used.

Confidence intervals are percentile bootstrap intervals (numpy, ``BOOTSTRAP`` resamples
from a fixed seed, so the same values always give the same interval): of a median
(:func:`median_interval`, which decides when a scenario has had rounds enough) and of a
ratio of medians over paired rounds (:func:`ratio_interval`, every speedup's interval).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import random
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

UNSTABLE = 0.10  # spread (std dev / mean) above which a result is flagged
ALPHA = 0.05  # significance level of compare
EXACT_LIMIT = 20_000  # permutation test: enumerate every split up to this many
RESAMPLES = 20_000  # else draw this many random splits
BOOTSTRAP = 10_000  # resamples of each bootstrap interval
LEVEL = 0.95  # confidence level of every interval
SEED = 20_241  # the bootstrap's seed: an interval is reproducible from the values alone


@dataclasses.dataclass(frozen=True)
class Summary:
    """Statistics of one scenario's timings, in seconds."""

    n: int
    median: float
    mean: float
    stdev: float
    min: float
    max: float
    q1: float
    q3: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def spread(self) -> float:
        """Standard deviation / mean (0 with fewer than two values)."""
        return self.stdev / self.mean if self.mean > 0 else 0.0

    @property
    def unstable(self) -> bool:
        return self.spread > UNSTABLE

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(iqr=self.iqr, spread=self.spread, unstable=self.unstable)
        return out


def summarize(values: Sequence[float]) -> Summary:
    """Summary of at least one value."""
    if not values:
        raise ValueError("no values to summarize")
    data = sorted(float(v) for v in values)
    if len(data) >= 2:
        q1, _, q3 = statistics.quantiles(data, n=4, method="inclusive")
        stdev = statistics.stdev(data)
    else:
        q1 = q3 = data[0]
        stdev = 0.0
    return Summary(
        n=len(data),
        median=statistics.median(data),
        mean=statistics.fmean(data),
        stdev=stdev,
        min=data[0],
        max=data[-1],
        q1=q1,
        q3=q3,
    )


@dataclasses.dataclass(frozen=True)
class Significance:
    """A two-sample test's verdict on whether two sets of timings differ."""

    test: str
    pvalue: float | None  # None when there are too few values to test
    floor: float = 0.0  # the smallest p-value this test can give with these sample sizes

    @property
    def testable(self) -> bool:
        """Whether the test could call a difference significant at all."""
        return self.pvalue is not None and self.floor < ALPHA

    @property
    def significant(self) -> bool:
        return self.pvalue is not None and self.pvalue < ALPHA

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "significant": self.significant}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Significance:
        return cls(data["test"], data["pvalue"], data["floor"])


def two_sample(a: Sequence[float], b: Sequence[float], *, use_scipy: bool = True) -> Significance:
    """Whether the timings ``a`` and ``b`` differ: Welch's t-test, or a permutation test."""
    if len(a) < 2 or len(b) < 2:
        return Significance("too few values (need 2 each)", None)
    if use_scipy:
        try:
            from scipy import stats as scipy_stats
        except ImportError:
            pass
        else:
            if statistics.pvariance(a) == 0 and statistics.pvariance(b) == 0:
                pvalue = 1.0 if statistics.fmean(a) == statistics.fmean(b) else 0.0
            else:
                pvalue = float(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue)
            return Significance("Welch's t-test (scipy)", pvalue)
    return permutation_test(a, b)


def permutation_test(a: Sequence[float], b: Sequence[float]) -> Significance:
    """Two-sided permutation test on the difference of the means.

    The p-value is the share of ways of splitting the pooled values into groups of
    ``len(a)`` and ``len(b)`` whose difference of means is at least as large as the one
    observed (the observed split included). Exact when there are at most
    ``EXACT_LIMIT`` splits, else estimated from ``RESAMPLES`` random splits (seed 0).
    With few values the p-value cannot get small: 3 values each allow 20 splits, so
    p ≥ 0.1 whatever the data; ``floor`` says so.
    """
    pooled = [float(v) for v in (*a, *b)]
    n, total = len(a), math.fsum(pooled)
    size = len(pooled)

    def gap(first_sum: float) -> float:
        return abs(first_sum / n - (total - first_sum) / (size - n))

    observed = gap(math.fsum(a)) * (1 - 1e-12)  # ties count as at least as extreme
    splits = math.comb(size, n)
    if splits <= EXACT_LIMIT:
        gaps = [
            gap(math.fsum(pooled[i] for i in chosen))
            for chosen in itertools.combinations(range(size), n)
        ]
        widest = max(gaps) * (1 - 1e-12)
        return Significance(
            "permutation test, exact (standard library)",
            sum(g >= observed for g in gaps) / splits,
            floor=sum(g >= widest for g in gaps) / splits,
        )
    rng = random.Random(0)
    hits = 1  # the observed split
    for _ in range(RESAMPLES):
        hits += gap(math.fsum(rng.sample(pooled, n))) >= observed
    return Significance(
        f"permutation test, {RESAMPLES} random splits (standard library)",
        hits / (RESAMPLES + 1),
        floor=1 / (RESAMPLES + 1),
    )


def _bounds(estimates: Any, level: float) -> tuple[float, float]:
    """The central ``level`` share of bootstrap ``estimates`` (percentile interval)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    low, high = np.quantile(estimates, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _timings(values: Sequence[float], name: str) -> Any:
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0 or not np.all(np.isfinite(data)) or np.any(data <= 0):
        raise ValueError(f"{name} must be a non-empty sequence of positive seconds")
    return data


def _row_medians(rows: Any) -> Any:
    """The median of each row (sorting short rows beats ``np.median`` several times)."""
    ordered = np.sort(rows, axis=1)
    half, odd = divmod(rows.shape[1], 2)
    return ordered[:, half] if odd else (ordered[:, half - 1] + ordered[:, half]) / 2


def median_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """A ``level`` bootstrap confidence interval of the median of ``values``."""
    return _median_interval(tuple(_timings(values, "values").tolist()), level)


@functools.lru_cache(maxsize=4096)
def _median_interval(values: tuple[float, ...], level: float) -> tuple[float, float]:
    data = np.asarray(values)  # cached: the rounds ask again until a value is added
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, data.size, size=(BOOTSTRAP, data.size))
    return _bounds(_row_medians(data[picks]), level)


def relative_width(values: Sequence[float], level: float = LEVEL) -> float:
    """How far the median's interval reaches from the median, as a share of it: 0.05 is
    ±5 %. The adaptive rounds stop when this is within their bound."""
    low, high = median_interval(values, level)
    median = statistics.median(values)
    return max(median - low, high - median) / median


def ratio_interval(
    baseline: Sequence[float], values: Sequence[float], level: float = LEVEL
) -> tuple[float, float]:
    """A ``level`` bootstrap confidence interval of median(baseline) / median(values).

    Equal lengths are taken as paired rounds (``baseline[i]`` and ``values[i]`` ran in
    the same round, so a drift in load hit both): a resample draws whole rounds. Unequal
    lengths are resampled independently.
    """
    base, data = _timings(baseline, "baseline_seconds"), _timings(values, "seconds")
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, data.size, size=(BOOTSTRAP, data.size))
    if base.size == data.size:
        base_picks = picks
    else:
        base_picks = rng.integers(0, base.size, size=(BOOTSTRAP, base.size))
    ratios = _row_medians(base[base_picks]) / _row_medians(data[picks])
    return _bounds(ratios, level)
