"""Range functions (sigma_range, aliquot_range, perfect_numbers,
multiply_perfect, amicable_pairs, census) against brute force and sympy."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
import sympy

import perfectly
from perfectly import _reference

COMPILED = perfectly.build_info()["core"] == "compiled"
METHODS = ["sieve", "trial"]
U64 = 2**64
TABLE_LIMIT = 10**6
LARGEST_PRIME_BELOW_2_64 = 18446744073709551557


def _u64(values) -> np.ndarray:
    return np.array([int(v) for v in values], dtype=np.uint64)


def _reference_fill(lo: int, width: int, algorithm: str, aliquot: bool = False):
    out = np.zeros(width, dtype=np.uint64)
    _reference.fill_sigma(lo, out, algorithm, aliquot)
    return out


def _random_windows(seed: int, count: int, limit: int, max_width: int):
    rng = random.Random(seed)
    wins = []
    for _ in range(count):
        width = rng.choice([0, 1, 2, 3, rng.randrange(max_width + 1)])
        lo = rng.randrange(1, limit - width)
        wins.append((lo, lo + width))
    return wins


# --------------------------------------------------------------------------
# Windows inside [1, 10**6): compare against a precomputed brute-force table
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_random_windows_below_1e6(brute, method):
    table = brute.sigma_table(TABLE_LIMIT)
    max_width = 120_000 if COMPILED else 3_000
    for lo, hi in _random_windows(1001, 40, TABLE_LIMIT, max_width):
        want = table[lo:hi]
        got = perfectly.sigma_range(lo, hi, method=method)
        assert got.dtype == np.uint64 and got.shape == (hi - lo,), (lo, hi)
        np.testing.assert_array_equal(got, want.astype(np.uint64), err_msg=f"{lo},{hi}")
        got_s = perfectly.aliquot_range(lo, hi, method=method)
        n = np.arange(lo, hi, dtype=np.int64)
        np.testing.assert_array_equal(
            got_s, (want - n).astype(np.uint64), err_msg=f"aliquot {lo},{hi}"
        )


def test_windows_ending_at_table_limit(brute):
    table = brute.sigma_table(TABLE_LIMIT)
    for method in METHODS:
        got = perfectly.sigma_range(TABLE_LIMIT - 5000, TABLE_LIMIT + 1, method=method)
        np.testing.assert_array_equal(got, table[TABLE_LIMIT - 5000 :].astype(np.uint64))


@pytest.mark.parametrize("method", METHODS)
def test_tiny_and_empty_ranges(method):
    for lo in (1, 2, 5, 10**6, 2**32, 2**40):
        empty = perfectly.sigma_range(lo, lo, method=method)
        assert empty.dtype == np.uint64 and empty.shape == (0,)
        assert perfectly.aliquot_range(lo, lo, method=method).shape == (0,)
        assert perfectly.perfect_numbers(lo, lo, method=method) == []
        assert perfectly.multiply_perfect(lo, lo, method=method) == []
    np.testing.assert_array_equal(perfectly.sigma_range(1, 2, method=method), [1])
    np.testing.assert_array_equal(perfectly.aliquot_range(1, 2, method=method), [0])
    np.testing.assert_array_equal(perfectly.sigma_range(2, 3, method=method), [3])
    np.testing.assert_array_equal(perfectly.sigma_range(1, 7, method=method), [1, 3, 4, 7, 6, 12])


def test_empty_range_at_2_64():
    got = perfectly.sigma_range(U64, U64)
    assert got.dtype == np.uint64 and got.shape == (0,)
    assert perfectly.census(U64, U64).count == 0


# --------------------------------------------------------------------------
# Windows far from the origin
# --------------------------------------------------------------------------


def test_windows_straddling_2_32(brute):
    rng = random.Random(32)
    width = 3000 if COMPILED else 600
    for _ in range(4):
        before = rng.randrange(1, width)
        lo, hi = 2**32 - before, 2**32 - before + width
        want = _u64(brute.sigma_window(lo, hi))
        sieve = perfectly.sigma_range(lo, hi, method="sieve")
        trial = perfectly.sigma_range(lo, hi, method="trial")
        np.testing.assert_array_equal(sieve, want, err_msg=f"sieve {lo}")
        np.testing.assert_array_equal(trial, want, err_msg=f"trial {lo}")
        np.testing.assert_array_equal(_reference_fill(lo, hi - lo, "sieve"), want)
    # the reference trial kernel on a small straddling window
    lo = 2**32 - 7
    want = _u64(brute.sigma_window(lo, lo + 16))
    np.testing.assert_array_equal(_reference_fill(lo, 16, "trial"), want)
    np.testing.assert_array_equal(perfectly.sigma_range(lo, lo + 16, method="trial"), want)


@pytest.mark.parametrize("method", METHODS)
def test_sigma_2_32_minus_1(method):
    # 2**32 - 1 = 3 * 5 * 17 * 257 * 65537 = 65535 * 65537; sigma > 2**32
    n = 2**32 - 1
    want = 4 * 6 * 18 * 258 * 65538
    assert want == sympy.divisor_sigma(n) == 7304603328
    np.testing.assert_array_equal(perfectly.sigma_range(n, n + 1, method=method), [want])
    np.testing.assert_array_equal(perfectly.aliquot_range(n, n + 1, method=method), [want - n])
    c = perfectly.census(n - 1, n + 2, method=method)
    assert c.sigma_sum == sum(int(sympy.divisor_sigma(m)) for m in (n - 1, n, n + 1))


@pytest.mark.parametrize("method", METHODS)
def test_window_near_2_40(brute, method):
    lo = 2**40 - 97
    hi = lo + 200
    want = _u64(brute.sigma_window(lo, hi))
    got = perfectly.sigma_range(lo, hi, method=method)
    np.testing.assert_array_equal(got, want)
    n = np.arange(lo, hi, dtype=np.uint64)
    np.testing.assert_array_equal(perfectly.aliquot_range(lo, hi, method=method), want - n)


@pytest.mark.slow
def test_window_near_2_40_reference_sieve(brute):
    lo = 2**40 + 12345
    want = _u64(brute.sigma_window(lo, lo + 200))
    np.testing.assert_array_equal(_reference_fill(lo, 200, "sieve"), want)
    np.testing.assert_array_equal(perfectly.sigma_range(lo, lo + 200), want)


@pytest.mark.slow
def test_window_near_2_48_vs_sympy():
    lo = 2**48 - 150
    hi = lo + 300
    want = _u64(sympy.divisor_sigma(n) for n in range(lo, hi))
    np.testing.assert_array_equal(perfectly.sigma_range(lo, hi, method="sieve"), want)
    n = np.arange(lo, hi, dtype=np.uint64)
    np.testing.assert_array_equal(perfectly.aliquot_range(lo, hi), want - n)


@pytest.mark.slow
def test_window_near_2_48_trial_small_vs_sympy():
    lo = 2**48 + 1000
    want = _u64(sympy.divisor_sigma(n) for n in range(lo, lo + 20))
    np.testing.assert_array_equal(perfectly.sigma_range(lo, lo + 20, method="trial"), want)


@pytest.mark.slow
def test_window_at_top_of_u64():
    p = LARGEST_PRIME_BELOW_2_64
    assert sympy.isprime(p)
    np.testing.assert_array_equal(perfectly.sigma_range(p, p + 1), [p + 1])
    # every n in (p, 2**64) is composite, so sigma(n) >= 2**64 for the first one
    assert sympy.divisor_sigma(p + 1) >= U64
    with pytest.raises(OverflowError, match=str(p + 1)):
        perfectly.sigma_range(p, U64)


# --------------------------------------------------------------------------
# Overflow: sigma(n) >= 2**64 inside a window
# --------------------------------------------------------------------------


def _first_overflow(lo: int, hi: int):
    for n in range(lo, hi):
        if sympy.divisor_sigma(n) >= U64:
            return n
    return None


@pytest.mark.slow
@pytest.mark.parametrize(
    "center",
    [4611686014341806400, 2**63 - 30],  # < 2**62 with abundancy > 4; near 2**63
)
def test_sigma_range_overflow_names_first_n(center):
    lo, hi = center - 9, center + 12
    first = _first_overflow(lo, hi)
    assert first is not None
    with pytest.raises(OverflowError, match=str(first)):
        perfectly.sigma_range(lo, hi)
    # the part of the window before the first overflow works and is exact
    want = _u64(sympy.divisor_sigma(n) for n in range(lo, first))
    np.testing.assert_array_equal(perfectly.sigma_range(lo, first), want)


@pytest.mark.slow
def test_sigma_range_overflow_single_number_below_2_62():
    n = 4611686014341806400
    assert n < 2**62 and sympy.divisor_sigma(n) >= U64
    with pytest.raises(OverflowError, match=str(n)):
        perfectly.sigma_range(n, n + 1)


# --------------------------------------------------------------------------
# perfect_numbers / multiply_perfect / amicable_pairs on windows
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_perfect_and_multiply_perfect_windows(brute, method):
    table = brute.sigma_table(TABLE_LIMIT)
    limit = TABLE_LIMIT if COMPILED else 40_000
    max_width = 300_000 if COMPILED else 10_000
    wins = _random_windows(77, 12, limit, max_width)
    wins += [
        (6, 7),
        (1, 6),
        (7, 28),
        (28, 29),
        (29, 496),
        (496, 497),
        (120, 121),
        (121, 672),
        (1, 1),
        (30240, 32761),
        (1, 2),
    ]
    for lo, hi in wins:
        n = np.arange(lo, hi, dtype=np.int64)
        s = table[lo:hi]
        want_perfect = [int(x) for x in n[s == 2 * n]]
        mult = (s % n == 0) & (s // n >= 3)
        want_mult = [(int(a), int(b)) for a, b in zip(n[mult], (s // n)[mult], strict=True)]
        assert perfectly.perfect_numbers(lo, hi, method=method) == want_perfect, (lo, hi)
        assert perfectly.multiply_perfect(lo, hi, method=method) == want_mult, (lo, hi)


def _brute_amicable(brute, lo: int, hi: int):
    table = brute.sigma_table(TABLE_LIMIT)
    out = []
    for a in range(lo, hi):
        b = int(table[a]) - a
        if b <= a:
            continue
        sb = int(table[b]) if b <= TABLE_LIMIT else brute.sigma_numpy(b)
        if sb - b == a:
            out.append((a, b))
    return out


def test_amicable_pairs_windows(brute):
    wins = [
        (1, 20_001),
        (220, 221),
        (221, 285),
        (284, 285),
        (1, 220),
        (1, 221),
        (1184, 1185),
        (1185, 1211),
        (1000, 3000),
        (5, 5),
        (1, 10),
    ]
    wins += _random_windows(5, 6, 200_000, 50_000)
    for lo, hi in wins:
        assert perfectly.amicable_pairs(lo, hi) == _brute_amicable(brute, lo, hi), (lo, hi)
    assert perfectly.amicable_pairs(220, 221) == [(220, 284)]
    assert perfectly.amicable_pairs(221, 285) == []
    assert perfectly.amicable_pairs(1, 10) == []  # 6 is perfect, not amicable


def test_amicable_pair_with_b_beyond_hi(brute):
    # (63020, 76084): window holds a but not b
    assert _brute_amicable(brute, 63020, 63021) == [(63020, 76084)]
    assert perfectly.amicable_pairs(63020, 63021) == [(63020, 76084)]
    # later pairs whose a lies in the window are reported, (63020, 76084) is not
    assert perfectly.amicable_pairs(63021, 76085) == [
        (66928, 66992),
        (67095, 71145),
        (69615, 87633),
    ]
    assert perfectly.amicable_pairs(63021, 76085) == _brute_amicable(brute, 63021, 76085)


# --------------------------------------------------------------------------
# census
# --------------------------------------------------------------------------


def _brute_census(brute, lo: int, hi: int):
    table = brute.sigma_table(TABLE_LIMIT)
    n = np.arange(lo, hi, dtype=np.int64)
    s = table[lo:hi]
    mult = (s % n == 0) & (s // n >= 3)
    return dict(
        sigma_sum=sum(int(x) for x in s),
        abundant=int(np.count_nonzero(s > 2 * n)),
        deficient=int(np.count_nonzero(s < 2 * n)),
        perfect=tuple(int(x) for x in n[s == 2 * n]),
        multiply_perfect=tuple(
            (int(a), int(b)) for a, b in zip(n[mult], (s // n)[mult], strict=True)
        ),
    )


@pytest.mark.parametrize("method", METHODS)
def test_census_1_to_20001(brute, method):
    want = _brute_census(brute, 1, 20_001)
    c = perfectly.census(1, 20_001, method=method, amicable=True)
    assert isinstance(c, perfectly.Census)
    assert (c.lo, c.hi, c.count) == (1, 20_001, 20_000)
    assert c.sigma_sum == want["sigma_sum"]
    assert type(c.sigma_sum) is int
    assert c.abundant == want["abundant"]
    assert c.deficient == want["deficient"]
    assert c.perfect == want["perfect"] == (6, 28, 496, 8128)
    assert c.multiply_perfect == want["multiply_perfect"]
    assert c.amicable == tuple(_brute_amicable(brute, 1, 20_001))
    assert c.abundant + c.deficient + len(c.perfect) == c.count


def test_census_random_windows(brute):
    max_width = 200_000 if COMPILED else 5_000
    for i, (lo, hi) in enumerate(_random_windows(4242, 12, TABLE_LIMIT, max_width)):
        method = METHODS[i % 2]
        want = _brute_census(brute, lo, hi)
        c = perfectly.census(lo, hi, method=method)
        assert c.amicable is None
        assert (c.lo, c.hi, c.count) == (lo, hi, hi - lo)
        got = dict(
            sigma_sum=c.sigma_sum,
            abundant=c.abundant,
            deficient=c.deficient,
            perfect=c.perfect,
            multiply_perfect=c.multiply_perfect,
        )
        assert got == want, (lo, hi, method)
        assert c.abundant + c.deficient + len(c.perfect) == c.count


def test_census_window_near_2_40(brute):
    lo, hi = 2**40 - 150, 2**40 + 50
    s = brute.sigma_window(lo, hi)
    c = perfectly.census(lo, hi, amicable=True)
    assert c.sigma_sum == sum(s)
    assert c.abundant == sum(1 for n, v in zip(range(lo, hi), s, strict=True) if v > 2 * n)
    assert c.deficient == sum(1 for n, v in zip(range(lo, hi), s, strict=True) if v < 2 * n)
    assert c.perfect == ()
    amic = []
    for n, v in zip(range(lo, hi), s, strict=True):
        b = v - n
        if b > n and sympy.divisor_sigma(b) - b == n:
            amic.append((n, b))
    assert c.amicable == tuple(amic)


@pytest.mark.slow
def test_census_sigma_sum_exceeds_2_64(brute):
    # sigma(n) ~ 1.64 * 2**48 on average here, so 50,000 of them sum past 2**64
    lo, hi = 2**48, 2**48 + 50_000
    want = sum(brute.sigma_window(lo, hi))
    assert want > U64
    c = perfectly.census(lo, hi)
    assert c.sigma_sum == want
    assert type(c.sigma_sum) is int


def test_census_empty_and_frozen():
    c = perfectly.census(10, 10)
    assert (c.count, c.sigma_sum, c.abundant, c.deficient) == (0, 0, 0, 0)
    assert c.perfect == () and c.multiply_perfect == ()
    assert c.amicable is None
    assert perfectly.census(10, 10, amicable=True).amicable == ()
    assert dataclasses.is_dataclass(c)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lo = 3  # type: ignore[misc]
    fields = {f.name for f in dataclasses.fields(c)}
    assert {
        "lo",
        "hi",
        "sigma_sum",
        "abundant",
        "deficient",
        "perfect",
        "multiply_perfect",
        "amicable",
    } <= fields


@pytest.mark.slow
def test_aliquot_range_overflow_names_s_of_n():
    """s(n) = σ(n) − n ≥ 2**64 is said as such (the message once said σ(n))."""
    n = next(n for n in range(U64 - 200, U64) if sympy.divisor_sigma(n) - n >= U64)
    with pytest.raises(OverflowError, match=rf"s\({n}\) = sigma\(n\) - n is 2\*\*64 or more"):
        perfectly.aliquot_range(n, n + 1)
