"""sigma / aliquot / classify / is_perfect checked against independent methods.

Independent methods used here: a vectorised divisor-pair sieve (conftest
``brute``), sympy.divisor_sigma, and closed forms for prime powers and
products of known primes.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import perfectly

SMALL = 20_000
U64 = 2**64
LARGEST_PRIME_BELOW_2_64 = 18446744073709551557


# --------------------------------------------------------------------------
# Every n <= 20,000
# --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sieve", "trial"])
def test_sigma_range_every_n_up_to_20000(brute, method):
    table = brute.sigma_table(SMALL)
    got = perfectly.sigma_range(1, SMALL + 1, method=method)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.uint64
    assert got.shape == (SMALL,)
    np.testing.assert_array_equal(got, table[1:].astype(np.uint64))


def test_sigma_range_default_method_is_sieve_and_correct(brute):
    table = brute.sigma_table(SMALL)
    np.testing.assert_array_equal(perfectly.sigma_range(1, SMALL + 1), table[1:].astype(np.uint64))


@pytest.mark.parametrize("method", ["sieve", "trial"])
def test_aliquot_range_every_n_up_to_20000(brute, method):
    table = brute.sigma_table(SMALL)
    n = np.arange(1, SMALL + 1, dtype=np.int64)
    got = perfectly.aliquot_range(1, SMALL + 1, method=method)
    assert got.dtype == np.uint64
    np.testing.assert_array_equal(got, (table[1:] - n).astype(np.uint64))


def test_sigma_scalar_every_n_up_to_20000(brute):
    table = brute.sigma_table(SMALL)
    wrong = [n for n in range(1, SMALL + 1) if perfectly.sigma(n) != int(table[n])]
    assert wrong == []


def test_sigma_scalar_returns_python_int():
    for n in (1, 12, 2**40, 2**64 - 1, 2**70):
        v = perfectly.sigma(n)
        assert type(v) is int
        v = perfectly.aliquot(n)
        assert type(v) is int


def test_sigma_small_literal_values():
    # sigma(1..12) from the definition: A000203
    expected = [1, 3, 4, 7, 6, 12, 8, 15, 13, 18, 12, 28]
    assert [perfectly.sigma(n) for n in range(1, 13)] == expected
    assert [perfectly.aliquot(n) for n in range(1, 13)] == [
        e - n for n, e in zip(range(1, 13), expected, strict=True)
    ]


def test_aliquot_classify_is_perfect_every_n_up_to_20000(brute):
    table = brute.sigma_table(SMALL)
    C = perfectly.Classification
    bad = []
    for n in range(1, SMALL + 1):
        s = int(table[n])
        want = C.PERFECT if s == 2 * n else (C.ABUNDANT if s > 2 * n else C.DEFICIENT)
        if (
            perfectly.aliquot(n) != s - n
            or perfectly.classify(n) is not want
            or perfectly.is_perfect(n) is not (s == 2 * n)
        ):
            bad.append(n)
    assert bad == []


def test_classification_enum_members():
    C = perfectly.Classification
    assert {m.name for m in C} == {"PERFECT", "ABUNDANT", "DEFICIENT"}
    assert perfectly.classify(6) is C.PERFECT
    assert perfectly.classify(12) is C.ABUNDANT
    assert perfectly.classify(1) is C.DEFICIENT
    assert perfectly.classify(7) is C.DEFICIENT


def test_numpy_integer_scalars_accepted():
    assert perfectly.sigma(np.int64(12)) == 28
    assert type(perfectly.sigma(np.int64(12))) is int
    assert perfectly.sigma(np.uint64(2**63)) == 2**64 - 1
    assert perfectly.sigma(np.int32(28)) == 56
    assert perfectly.aliquot(np.int16(28)) == 28
    assert perfectly.is_perfect(np.int64(496)) is True
    assert perfectly.classify(np.uint8(12)) is perfectly.Classification.ABUNDANT


# --------------------------------------------------------------------------
# 64-bit values against sympy and closed forms
# --------------------------------------------------------------------------


def _sigma_of_factorization(fac: dict[int, int]) -> int:
    out = 1
    for p, e in fac.items():
        out *= (p ** (e + 1) - 1) // (p - 1)
    return out


def test_sigma_random_64bit_vs_sympy():
    rng = random.Random(20240611)
    ns = [rng.randrange(1, U64) for _ in range(200)]
    # a spread of bit lengths, not just ~64-bit numbers
    ns += [rng.randrange(1, 2**b) for b in range(2, 65) for _ in range(2)]
    bad = [
        (n, perfectly.sigma(n), sympy.divisor_sigma(n))
        for n in ns
        if perfectly.sigma(n) != sympy.divisor_sigma(n)
    ]
    assert bad == []


def test_sigma_primes_vs_closed_form():
    rng = random.Random(7)
    primes = []
    for bits in (8, 16, 31, 32, 33, 40, 48, 56, 62, 63, 64):
        for _ in range(4):
            lo = 2 ** (bits - 1)
            p = sympy.nextprime(rng.randrange(lo, 2**bits - 2 ** (bits // 2)))
            if p < U64:
                primes.append(p)
    primes += [2, 3, 4294967291, 4294967311, 2**61 - 1, LARGEST_PRIME_BELOW_2_64]
    for p in primes:
        assert sympy.isprime(p)
        assert perfectly.sigma(p) == p + 1, p
        assert perfectly.aliquot(p) == 1, p
        assert perfectly.classify(p) is perfectly.Classification.DEFICIENT


def test_sigma_largest_prime_below_2_64():
    p = LARGEST_PRIME_BELOW_2_64
    assert sympy.isprime(p) and sympy.nextprime(p) > U64
    assert perfectly.sigma(p) == p + 1


def test_sigma_2_64_minus_1():
    n = U64 - 1
    want = sympy.divisor_sigma(n)
    assert want == _sigma_of_factorization(
        {3: 1, 5: 1, 17: 1, 257: 1, 641: 1, 65537: 1, 6700417: 1}
    )
    assert perfectly.sigma(n) == want
    assert want > U64  # exercises the > 64-bit result path


def test_sigma_prime_squares():
    rng = random.Random(11)
    ps = [sympy.prevprime(2**32), 4294967291, 65521, 3, 2]
    ps += [sympy.nextprime(rng.randrange(2**20, 2**32 - 2**16)) for _ in range(20)]
    for p in ps:
        n = p * p
        assert n < U64
        assert sympy.isprime(p)
        assert perfectly.sigma(n) == 1 + p + p * p, p


def test_sigma_semiprimes_of_32bit_primes():
    rng = random.Random(12)
    pairs = []
    for _ in range(30):
        p = sympy.nextprime(rng.randrange(2**31, 2**32 - 2**20))
        q = sympy.nextprime(rng.randrange(2**31, 2**32 - 2**20))
        pairs.append((p, q))
    pairs.append((4294967291, 4294967279))  # the two largest 32-bit primes
    pairs.append((4294967291, 4294967291))
    for p, q in pairs:
        n = p * q
        assert n < U64
        want = (p + 1) * (q + 1) if p != q else 1 + p + p * p
        assert sympy.isprime(p) and sympy.isprime(q)
        assert perfectly.sigma(n) == want, (p, q)


@pytest.mark.parametrize("base", [2, 3])
def test_sigma_powers(base):
    e = 0
    while base**e < 2**80:
        n = base**e
        assert perfectly.sigma(n) == (base ** (e + 1) - 1) // (base - 1), n
        e += 1


def test_sigma_results_at_least_2_64():
    """n < 2**64 whose sigma does not fit in 64 bits: exact Python ints."""
    cands = [
        4611686014341806400,  # < 2**62, abundancy > 4
        4611686007358029600,
        U64 - 1,
        2**63 + 4,
        2**63 - 2,
        2**63 + 12,
    ]
    rng = random.Random(13)
    base = 6983776800  # 2^5 3^3 5^2 7 11 13 17 19 (very abundant)
    for _ in range(40):
        cands.append(base * rng.randrange(2**62 // base, U64 // base))
    big = 0
    for n in cands:
        assert 1 <= n < U64
        want = int(sympy.divisor_sigma(n))
        big += want >= U64
        assert perfectly.sigma(n) == want, n
        assert perfectly.aliquot(n) == want - n, n
    assert big >= 20  # the >= 2**64 path really was exercised


def test_sigma_beyond_64_bits_vs_sympy():
    rng = random.Random(14)
    ns = [
        U64,
        U64 + 1,
        U64 + 2,
        10**20,
        3**50,
        2**89 - 1,
        2**88 * (2**89 - 1),
        2**127 - 1,
        2**64 * 3**5 * 7,
    ]
    for _ in range(20):
        ns.append(rng.randrange(U64, 2**72))
    for n in ns:
        assert perfectly.sigma(n) == sympy.divisor_sigma(n), n
    # products of known primes, far beyond what a divisor loop could do
    for _ in range(15):
        fac = {}
        for _ in range(rng.randrange(2, 5)):
            p = sympy.nextprime(rng.randrange(1, 2**28))
            fac[p] = fac.get(p, 0) + rng.randrange(1, 3)
        n = math.prod(p**e for p, e in fac.items())
        assert perfectly.sigma(n) == _sigma_of_factorization(fac), fac


def test_classify_and_is_perfect_large():
    C = perfectly.Classification
    # Euclid-Euler: 2^(p-1) (2^p - 1) is perfect iff 2^p - 1 is prime
    for p in (2, 3, 5, 7, 13, 17, 19, 31, 61, 89, 107):
        m = 2**p - 1
        assert sympy.isprime(m)
        n = 2 ** (p - 1) * m
        assert perfectly.is_perfect(n) is True, n
        assert perfectly.classify(n) is C.PERFECT, n
        assert perfectly.aliquot(n) == n
    for p in (11, 23, 29, 37, 41, 43, 47, 53, 59, 67):
        m = 2**p - 1
        assert not sympy.isprime(m)
        n = 2 ** (p - 1) * m
        s = sympy.divisor_sigma(n)
        assert perfectly.is_perfect(n) is False, n
        want = C.ABUNDANT if s > 2 * n else C.DEFICIENT
        assert perfectly.classify(n) is want, n
    # near 2**64, sigma straddles 2n
    for n in (U64 - 1, U64 - 2, U64 - 3, 2**63, 2**63 + 4, LARGEST_PRIME_BELOW_2_64):
        s = sympy.divisor_sigma(n)
        want = C.PERFECT if s == 2 * n else (C.ABUNDANT if s > 2 * n else C.DEFICIENT)
        assert perfectly.classify(n) is want, n
        assert perfectly.is_perfect(n) is (s == 2 * n)


# --------------------------------------------------------------------------
# Multiplicativity (property test)
# --------------------------------------------------------------------------


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)
@given(a=st.integers(1, 10**9), b=st.integers(1, 10**9))
def test_sigma_multiplicative_on_coprime_pairs(a, b):
    assume(math.gcd(a, b) == 1)
    assert perfectly.sigma(a * b) == perfectly.sigma(a) * perfectly.sigma(b)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(n=st.integers(1, 10**6))
def test_sigma_matches_divisor_loop_property(brute, n):
    assert perfectly.sigma(n) == brute.sigma_loop(n)
