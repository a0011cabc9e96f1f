"""sum_sigma(x) = sum_{k<=x} sigma(k), against brute cumulative sums, an
independent hyperbola-method implementation, and sympy differences."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sympy

import perfectly

COMPILED = perfectly.build_info()["core"] == "compiled"
U64 = 2**64


def hyperbola_sum_sigma(x: int) -> int:
    """sum_{k<=x} sigma(k) = #{(d, q): d*q <= x} weighted by d, via the
    Dirichlet hyperbola method (written here independently, pure Python)."""
    if x <= 0:
        return 0
    r = math.isqrt(x)
    total = 0
    for d in range(1, r + 1):
        m = x // d
        total += d * m + m * (m + 1) // 2
    return total - r * (r * (r + 1) // 2)


def test_hyperbola_helper_is_right(brute):
    table = brute.sigma_table(5000)
    cum = np.cumsum(table)
    for x in range(0, 5001):
        assert hyperbola_sum_sigma(x) == int(cum[x])


def test_sum_sigma_every_x_up_to_2000(brute):
    cum = np.cumsum(brute.sigma_table(2000))
    assert perfectly.sum_sigma(0) == 0
    bad = [x for x in range(0, 2001) if perfectly.sum_sigma(x) != int(cum[x])]
    assert bad == []


def test_sum_sigma_spot_values_up_to_1e5(brute):
    cum = np.cumsum(brute.sigma_table(10**5))
    rng = random.Random(99)
    xs = [rng.randrange(2001, 10**5 + 1) for _ in range(300)]
    xs += [10**4, 10**5, 65535, 65536, 65537, 99_999]
    for x in xs:
        v = perfectly.sum_sigma(x)
        assert type(v) is int
        assert v == int(cum[x]), x


def test_sum_sigma_small_literals():
    # 1, 1+3, 1+3+4, ... (OEIS A024916)
    assert [perfectly.sum_sigma(x) for x in range(0, 11)] == [
        0,
        1,
        4,
        8,
        15,
        21,
        33,
        41,
        56,
        69,
        87,
    ]


@pytest.mark.parametrize("x", [10**6 + 7, 2_345_678])
def test_sum_sigma_vs_sum_of_brute_table(brute, x):
    table = brute.sigma_table(max(x, 10**6))
    assert perfectly.sum_sigma(x) == int(table[: x + 1].sum())
    # and against the package's own range (both checked against brute elsewhere)
    assert perfectly.sum_sigma(x) == int(perfectly.sigma_range(1, x + 1).astype(object).sum())


@pytest.mark.slow
def test_sum_sigma_vs_sigma_range_sum_larger():
    x = 10**7 + 3 if COMPILED else 10**5 + 3
    s = perfectly.sigma_range(1, x + 1)
    assert perfectly.sum_sigma(x) == int(s.astype(object).sum())
    assert perfectly.sum_sigma(x) == hyperbola_sum_sigma(x)


@pytest.mark.parametrize(
    "x", [10**8, 10**9 + 7, 2**32 - 1, 2**32, 2**32 + 1, 10**10, 123_456_789_012, 10**12]
)
def test_sum_sigma_vs_hyperbola(x):
    assert perfectly.sum_sigma(x) == hyperbola_sum_sigma(x)


def test_sum_sigma_exceeds_2_64_exactly():
    # sum_sigma(x) ~ pi^2/12 x^2 passes 2**64 around x ~ 4.7e9
    x = 5 * 10**9
    v = perfectly.sum_sigma(x)
    assert v > U64 and type(v) is int
    assert v == hyperbola_sum_sigma(x)


@pytest.mark.slow
@pytest.mark.parametrize("x", [10**15 + 37, 2**50 + 7, 2**52 - 1])
def test_sum_sigma_differences_vs_sympy(x):
    d = perfectly.sum_sigma(x) - perfectly.sum_sigma(x - 1)
    assert d == sympy.divisor_sigma(x)
    # magnitude check: pi^2/12 x^2 to within 1e-6 relative for such large x
    ratio = perfectly.sum_sigma(x) / (math.pi**2 / 12 * x * x)
    assert abs(ratio - 1) < 1e-6


def test_sum_sigma_matches_census_windows(brute):
    table = brute.sigma_table(10**6)
    wins = [(1, 2), (1, 1001), (500, 90_000), (999_000, 1_000_001), (7, 7)]
    for lo, hi in wins:
        want = int(table[lo:hi].sum())
        assert perfectly.sum_sigma(hi - 1) - perfectly.sum_sigma(lo - 1) == want
        assert perfectly.census(lo, hi).sigma_sum == want
    for lo, hi in [(2**40 - 100, 2**40 + 100), (2**33 + 5, 2**33 + 3005)]:
        want = sum(brute.sigma_window(lo, hi))
        assert perfectly.sum_sigma(hi - 1) - perfectly.sum_sigma(lo - 1) == want
        assert perfectly.census(lo, hi).sigma_sum == want


def test_sum_sigma_numpy_int_argument(brute):
    cum = np.cumsum(brute.sigma_table(1000))
    assert perfectly.sum_sigma(np.int64(1000)) == int(cum[1000])
    assert perfectly.sum_sigma(np.uint32(0)) == 0
