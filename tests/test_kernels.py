"""Both kernel modules (compiled perfectly._kernel and pure-Python
perfectly._reference) against brute force, and against each other."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy

METHODS = ["sieve", "trial"]


def _is_compiled(mod) -> bool:
    return mod.__name__.endswith("_kernel")


def _fill(mod, lo, width, method, aliquot=False, release_gil=True):
    out = np.zeros(width, dtype=np.uint64)
    assert mod.fill_sigma(lo, out, method=method, aliquot=aliquot, release_gil=release_gil) is None
    return out


def _brute_summary(brute, lo, hi):
    s = brute.sigma_window(lo, hi)
    total = sum(s)
    ab = sum(1 for n, v in zip(range(lo, hi), s, strict=True) if v > 2 * n)
    de = sum(1 for n, v in zip(range(lo, hi), s, strict=True) if v < 2 * n)
    found = [
        (n, v // n) for n, v in zip(range(lo, hi), s, strict=True) if v % n == 0 and v // n >= 2
    ]
    return total, ab, de, found


def _windows(compiled):
    w = [
        (1, 2),
        (1, 1001),
        (2, 3),
        (9_990, 10_010),
        (33_550_300, 33_550_400),
        (2**32 - 40, 2**32 + 40),
    ]
    w.append((10**9 + 7, 10**9 + (1007 if compiled else 107)))
    rng = random.Random(3)
    for _ in range(5):
        lo = rng.randrange(1, 10**6)
        w.append((lo, lo + rng.randrange(0, 2000 if compiled else 300)))
    if compiled:
        w += [(1, 300_001), (2**40 - 50, 2**40 + 50)]
    return w


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("aliquot", [False, True])
def test_fill_sigma_windows(kernels, brute, method, aliquot):
    for lo, hi in _windows(_is_compiled(kernels)):
        want = np.array(brute.sigma_window(lo, hi), dtype=np.uint64)
        if aliquot:
            want = want - np.arange(lo, hi, dtype=np.uint64)
        got = _fill(kernels, lo, hi - lo, method, aliquot)
        np.testing.assert_array_equal(got, want, err_msg=f"{lo},{hi}")
        got2 = _fill(kernels, lo, hi - lo, method, aliquot, release_gil=False)
        np.testing.assert_array_equal(got2, want, err_msg=f"nogil=False {lo},{hi}")


def test_fill_sigma_empty_output(kernels):
    out = np.zeros(0, dtype=np.uint64)
    for method in METHODS:
        kernels.fill_sigma(5, out, method=method)
        kernels.fill_sigma(2**40, out, method=method, aliquot=True)


def test_fill_sigma_writes_only_its_array(kernels, brute):
    # a C-contiguous slice of a larger buffer: neighbours must stay untouched
    buf = np.full(1200, 0xDEADBEEF, dtype=np.uint64)
    view = buf[100:1100]
    assert view.flags.c_contiguous and view.flags.writeable
    kernels.fill_sigma(5000, view, method="sieve")
    np.testing.assert_array_equal(view, np.array(brute.sigma_window(5000, 6000), dtype=np.uint64))
    assert (buf[:100] == 0xDEADBEEF).all() and (buf[1100:] == 0xDEADBEEF).all()


@pytest.mark.parametrize("method", METHODS)
def test_summarize(kernels, brute, method):
    wins = [
        (1, 20_001),
        (1, 2),
        (100, 100),
        (8000, 8200),
        (523_700, 523_800),
        (2**32 - 100, 2**32 + 100),
    ]
    if _is_compiled(kernels):
        wins += [(1, 600_001), (33_550_000, 33_551_000)]
    for lo, hi in wins:
        want = _brute_summary(brute, lo, hi)
        for rg in (True, False):
            total, ab, de, found = kernels.summarize(lo, hi, method=method, release_gil=rg)
            assert total == want[0], (lo, hi)
            assert (ab, de) == want[1:3], (lo, hi)
            assert [tuple(x) for x in found] == want[3], (lo, hi)


def test_summarize_known_entries(kernels):
    hi = 600_001 if _is_compiled(kernels) else 35_000
    _, _, _, found = kernels.summarize(1, hi, method="sieve")
    found = [tuple(x) for x in found]
    for entry in [
        (6, 2),
        (28, 2),
        (496, 2),
        (8128, 2),
        (120, 3),
        (672, 3),
        (30240, 4),
        (32760, 4),
        (523776, 3),
    ]:
        if entry[0] < hi:
            assert entry in found
            assert sympy.divisor_sigma(entry[0]) == entry[0] * entry[1]
    assert (1, 1) not in found  # k >= 2 only


def test_amicable(kernels, brute):
    table = brute.sigma_table(10**6)
    hi = 100_000 if _is_compiled(kernels) else 20_000
    want = []
    for a in range(1, hi):
        b = int(table[a]) - a
        if b > a and int(table[b]) - b == a:
            want.append((a, b))
    for rg in (True, False):
        got = [tuple(x) for x in kernels.amicable(1, hi, release_gil=rg)]
        assert got == want
    assert [tuple(x) for x in kernels.amicable(220, 221)] == [(220, 284)]
    assert [tuple(x) for x in kernels.amicable(221, 1184)] == []
    assert [tuple(x) for x in kernels.amicable(284, 285)] == []
    assert list(kernels.amicable(50, 50)) == []


def test_kernel_sigma(kernels, brute):
    table = brute.sigma_table(5000)
    assert [kernels.sigma(n) for n in range(1, 5001)] == [int(v) for v in table[1:]]
    rng = random.Random(8)
    ns = [rng.randrange(1, 2**64) for _ in range(60)]
    ns += [
        2**64 - 1,
        18446744073709551557,
        4294967291 * 4294967279,
        4294967291**2,
        2**63,
        4611686014341806400,
        2**61 - 1,
    ]
    for n in ns:
        v = kernels.sigma(n)
        assert type(v) is int
        assert v == sympy.divisor_sigma(n), n


def test_kernel_sum_sigma(kernels, brute):
    cum = np.cumsum(brute.sigma_table(3000))
    assert [kernels.sum_sigma(x) for x in range(0, 3001)] == [int(v) for v in cum]
    table = brute.sigma_table(10**6)
    assert kernels.sum_sigma(10**6) == int(table.sum())
    assert kernels.sum_sigma(999_983) == int(table[:999_984].sum())


def test_kernels_agree_with_each_other(brute):
    k = pytest.importorskip("perfectly._kernel")
    r = pytest.importorskip("perfectly._reference")
    rng = random.Random(21)
    for _ in range(6):
        lo = rng.randrange(1, 2**30)
        width = rng.randrange(1, 150)
        for method, aliquot in [("sieve", False), ("sieve", True), ("trial", False)]:
            a = _fill(k, lo, width, method, aliquot)
            b = _fill(r, lo, width, method, aliquot)
            np.testing.assert_array_equal(a, b)
        ks, rs = k.summarize(lo, lo + width), r.summarize(lo, lo + width)
        assert tuple(ks[:3]) == tuple(rs[:3])
        assert [tuple(x) for x in ks[3]] == [tuple(x) for x in rs[3]]
        # and both are right
        want = np.array(brute.sigma_window(lo, lo + width), dtype=np.uint64)
        np.testing.assert_array_equal(_fill(k, lo, width, "sieve"), want)
    for x in (0, 1, 10**9, 2**33 + 1, 10**11):
        assert k.sum_sigma(x) == r.sum_sigma(x)
    for n in (1, 2**62 + 3, 2**64 - 1, 10**18 + 9):
        assert k.sigma(n) == r.sigma(n) == sympy.divisor_sigma(n)


# ------------------------------------------------ the sieve at large n, and its sub-calls

BLOCK = 1 << 15  # the sieve's block (_sieve.h: PF_BLOCK)


def _large_windows() -> list[tuple[int, int]]:
    """Random windows of 2–3 blocks near 1e12 and 2**40 (primes ≥ BLOCK in buckets, start
    offsets of ≈ 80 000 primes), and short ones around p², p³ of primes p, large ones
    (which take out every power of p on their hit) and small ones (whose powers from
    BLOCK on are bucketed 'tail' entries)."""
    rng = random.Random(12)
    w = []
    for centre in (10**12, 2**40, 10**12 - 10**9):
        lo = centre - rng.randrange(1, BLOCK)
        w.append((lo, lo + 2 * BLOCK + rng.randrange(1, BLOCK)))
    for p, k in [(999_983, 2), (9_973, 3), (181, 5), (32_771, 2), (1_048_573, 2), (101, 6)]:
        c = p**k * rng.randrange(1, 4)
        w.append((c - 60, c + 60))
    return w


def test_sieve_at_large_n_against_closed_form_and_factorisation():
    k = pytest.importorskip("perfectly._kernel")
    r = pytest.importorskip("perfectly._reference")
    for lo, hi in _large_windows():
        total, ab, de, found = k.summarize(lo, hi)
        assert total == r.sum_sigma(hi - 1) - r.sum_sigma(lo - 1), (lo, hi)
        assert ab + de + sum(1 for _, m in found if m == 2) == hi - lo
        got = _fill(k, lo, hi - lo, "sieve")
        edges = [i for b in range(BLOCK, hi - lo, BLOCK) for i in range(b - 3, b + 3)]
        sample = random.Random(lo).sample(range(hi - lo), min(hi - lo, 150))
        for i in sorted(set(edges + sample)):  # around block boundaries, and anywhere
            assert int(got[i]) == r.sigma(lo + i), lo + i


def test_sieve_near_2_61_across_blocks_against_factorisation():
    """A window of two blocks and more just below 2**61: every prime up to 2**30.5 sieves."""
    k = pytest.importorskip("perfectly._kernel")
    r = pytest.importorskip("perfectly._reference")
    rng = random.Random(2**61)
    lo = 2**61 - 2 * BLOCK - rng.randrange(1, BLOCK)
    got = _fill(k, lo, 2**61 - lo, "sieve")
    edges = [i for b in (BLOCK, 2 * BLOCK) for i in range(b - 3, b + 3)]
    for i in sorted(set(edges + rng.sample(range(2**61 - lo), 100))):
        assert int(got[i]) == r.sigma(lo + i) == sympy.divisor_sigma(lo + i), lo + i


def test_sub_calls_join_exactly():
    """A chunk in many kernel calls, sized from what earlier chunks taught the worker,
    gives the closed-form Σσ; the first call's size follows the learned one."""
    pytest.importorskip("perfectly._kernel")
    r = pytest.importorskip("perfectly._reference")
    from perfectly.parallel import _calls, _task
    from perfectly.planning import Chunk

    job = _task.Job("sieve", "compiled", release_gil=True, amicable=False)
    lo = 10**12 - 5 * 10**6
    for index, (a, b) in enumerate([(lo, lo + 3 * 10**6), (lo + 3 * 10**6, 10**12 + 10**5)]):
        census = job.summarize(Chunk(index, a, b))
        assert (census.lo, census.hi) == (a, b)
        assert census.sigma_sum == r.sum_sigma(b - 1) - r.sum_sigma(a - 1)
        assert census.abundant + census.deficient + len(census.perfect) == b - a
        assert _calls._learned[job.method, job.kernel][0] >= 1


def test_first_sub_call_size():
    from perfectly.parallel._calls import first_size

    assert first_size(None, 10**12) == 1
    assert first_size((4096, 10**6), 10**6) == 4096
    assert first_size((4096, 10**6), 10**3) == 4096  # below: kept (the ramp grows it)
    assert first_size((4096, 10**6), 4 * 10**6) == 2048  # above: × √(at / lo)
    assert first_size((4, 10), 10**12) == 1
