"""Known results from the literature (perfect, multiperfect, amicable numbers),
each re-verified inside the test with sympy or brute force."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from conftest import AMICABLE_BELOW_1E5, COMPILED, PERFECT_NUMBERS

import perfectly

PERFECT = list(PERFECT_NUMBERS)

# multiply perfect numbers (k >= 3) below 600,000 (OEIS A007691 without 1, 6, 28, 496)
MULTIPERFECT_BELOW_600000 = [(120, 3), (672, 3), (30240, 4), (32760, 4), (523776, 3)]


def test_literature_constants_verified_with_sympy():
    for n in PERFECT:
        assert sympy.divisor_sigma(n) == 2 * n
    for a, b in AMICABLE_BELOW_1E5:
        assert sympy.divisor_sigma(a) - a == b
        assert sympy.divisor_sigma(b) - b == a
    for n, k in MULTIPERFECT_BELOW_600000:
        assert sympy.divisor_sigma(n) == k * n


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sieve", "trial"])
def test_perfect_numbers_below_1e8_or_1e5(brute, method):
    if COMPILED and method == "sieve":
        limit = 10**8
    elif COMPILED:
        limit = 10**6
    else:
        limit = 10**5
    got = perfectly.perfect_numbers(1, limit, method=method)
    assert got == [p for p in PERFECT if p < limit]
    if limit == 10**8:
        assert got == [6, 28, 496, 8128, 33550336]
    # the table up to 10**6 confirms there are no others in that part
    table = brute.sigma_table(10**6)
    n = np.arange(1, 10**6 + 1)
    assert [int(x) for x in n[table[1:] == 2 * n]] == [6, 28, 496, 8128]


def test_perfect_numbers_windows_around_large_perfects():
    for p in (33550336, 8589869056, 137438691328):
        assert perfectly.perfect_numbers(p - 100, p + 100) == [p]
        assert perfectly.perfect_numbers(p - 100, p) == []
        assert perfectly.perfect_numbers(p + 1, p + 100) == []
        assert perfectly.is_perfect(p)


@pytest.mark.slow
def test_perfect_number_just_below_2_61():
    p = 2305843008139952128  # 2**30 * (2**31 - 1), the 8th perfect number
    assert p == 2**30 * (2**31 - 1) and sympy.isprime(2**31 - 1) and p < 2**61
    assert perfectly.perfect_numbers(p - 20, p + 20) == [p]
    assert perfectly.is_perfect(p)
    assert perfectly.sigma(p) == 2 * p


@pytest.mark.parametrize("method", ["sieve", "trial"])
def test_multiply_perfect_below_600000(brute, method):
    hi = 600_000 if (COMPILED or method == "sieve") else 40_000
    got = perfectly.multiply_perfect(1, hi, method=method)
    want = [(n, k) for n, k in MULTIPERFECT_BELOW_600000 if n < hi]
    assert got == want
    for n, k in got:
        assert sympy.divisor_sigma(n) == k * n
    # brute force over the whole range finds exactly these
    table = brute.sigma_table(10**6)
    n = np.arange(1, hi, dtype=np.int64)
    s = table[1:hi]
    mask = (s % n == 0) & (s // n >= 3)
    assert [(int(a), int(b)) for a, b in zip(n[mask], (s // n)[mask], strict=True)] == want
    if hi == 600_000:
        for entry in [(120, 3), (672, 3), (523776, 3), (30240, 4), (32760, 4)]:
            assert entry in got


def test_multiply_perfect_larger_known():
    # 3-perfect 459818240 and 4-perfect 2178540, 23569920 (OEIS A005820, A027687)
    for n, k in [(2178540, 4), (23569920, 4), (459818240, 3), (14182439040, 5)]:
        assert sympy.divisor_sigma(n) == k * n
        assert perfectly.multiply_perfect(n - 50, n + 50) == [(n, k)]
        assert perfectly.sigma(n) == k * n


def test_amicable_pairs_below_1e5(brute):
    assert perfectly.amicable_pairs(1, 10**5) == list(AMICABLE_BELOW_1E5)
    # brute force from the divisor table agrees
    table = brute.sigma_table(10**6)
    found = []
    for a in range(1, 10**5):
        b = int(table[a]) - a
        if b > a and int(table[b]) - b == a:
            found.append((a, b))
    assert found == list(AMICABLE_BELOW_1E5)


def test_amicable_census_below_1e5():
    c = perfectly.census(1, 10**5, amicable=True)
    assert c.amicable == AMICABLE_BELOW_1E5
    assert c.perfect == (6, 28, 496, 8128)


def test_amicable_window_containing_a_only():
    assert perfectly.amicable_pairs(220, 221) == [(220, 284)]
    assert perfectly.amicable_pairs(221, 285) == []
    assert perfectly.amicable_pairs(79750, 79751) == [(79750, 88730)]
    assert perfectly.amicable_pairs(88730, 88731) == []


def test_abundant_count_below_1e6(brute):
    table = brute.sigma_table(10**6)
    n = np.arange(1, 10**6, dtype=np.int64)
    s = table[1 : 10**6]
    abundant = int(np.count_nonzero(s > 2 * n))
    deficient = int(np.count_nonzero(s < 2 * n))
    c = perfectly.census(1, 10**6)
    assert c.abundant == abundant
    assert c.deficient == deficient
    assert c.perfect == (6, 28, 496, 8128)
    assert c.sigma_sum == int(s.sum())
    # natural density of abundant numbers is ~0.2476 (Deleglise 1998)
    assert 0.245 < abundant / 10**6 < 0.25
