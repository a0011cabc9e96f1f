"""sum_sigma(x) = sum_{k<=x} sigma(k), against brute cumulative sums, an
independent hyperbola-method implementation, and sympy differences."""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sympy

import perfectly
import perfectly._reference

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


# ---- the O(x^(1/3) log x) hull walk: compiled, pure Python, and the O(√x) oracle ----

TOP = U64 - 1


@pytest.fixture(scope="module")
def compiled():
    """The compiled kernel, with its fast sum_sigma and the O(√x) loop kept as oracle."""
    return pytest.importorskip("perfectly._kernel")


def python_sum_sigma(x: int) -> int:
    return perfectly._reference.sum_sigma(x)


def edge_xs(largest_root: int) -> list[int]:
    """Squares s² and cubes n³ and their neighbours (hull corners), with s² ≤ largest_root²."""
    rng = random.Random(2024)
    roots = list(range(1, 60)) + [rng.randrange(60, largest_root) for _ in range(40)]
    roots += [largest_root - 1, largest_root]
    xs = {s * s + d for s in roots for d in (-1, 0, 1)}
    xs |= {n**3 + d for n in range(1, math.isqrt(largest_root) + 1, 37) for d in (-1, 0, 1)}
    return sorted(x for x in xs if 0 <= x <= largest_root**2 + 1)


def test_every_x_up_to_1e5_compiled(compiled, brute):
    cum = np.cumsum(brute.sigma_table(10**5))
    got = [compiled.sum_sigma(x) for x in range(0, 10**5 + 1)]
    assert got[0] == 0
    bad = [x for x in range(1, 10**5 + 1) if got[x] != int(cum[x])]
    assert bad == []


def test_every_x_up_to_2e4_and_a_sample_to_1e5_python(brute):
    cum = np.cumsum(brute.sigma_table(10**5))
    xs = list(range(0, 20_001)) + list(range(20_001, 10**5 + 1, 7))
    bad = [x for x in xs if python_sum_sigma(x) != int(cum[x])]
    assert bad == []


def test_random_x_compiled_python_and_sqrt_agree(compiled):
    rng = random.Random(11)
    xs = [rng.getrandbits(rng.randrange(1, 37)) for _ in range(200)] + [rng.getrandbits(42)]
    for x in xs:
        want = compiled._sum_sigma_sqrt(x)
        assert compiled.sum_sigma(x) == want, x
        assert python_sum_sigma(x) == want, x


def test_random_large_x_compiled_vs_sqrt(compiled):
    rng = random.Random(12)
    xs = [rng.randrange(2**48, 2**54) for _ in range(2)] + [rng.randrange(2**56, 2**57)]
    for x in xs:
        assert compiled.sum_sigma(x) == compiled._sum_sigma_sqrt(x), x


@pytest.mark.slow
def test_top_of_range_compiled_vs_sqrt(compiled):
    # the O(√x) loop takes 10-16 s here; the hull walk well under one
    assert compiled.sum_sigma(TOP) == compiled._sum_sigma_sqrt(TOP)


def test_squares_cubes_and_neighbours(compiled):
    for x in [*edge_xs(2**16), 2**32 - 1, 2**32, 2**32 + 1]:
        want = compiled._sum_sigma_sqrt(x)
        assert compiled.sum_sigma(x) == want, x
        assert python_sum_sigma(x) == want, x


def test_top_edges_by_sympy_differences(compiled):
    # Around the largest square and cube below 2**64, consecutive values differ by σ(x).
    s, n = math.isqrt(TOP), round(TOP ** (1 / 3))
    n -= n**3 > TOP
    for first, last in [(s * s - 2, s * s + 1), (n**3 - 1, n**3 + 1), (TOP - 1, TOP)]:
        sums = [compiled.sum_sigma(x) for x in range(first, last + 1)]
        for i in range(1, len(sums)):
            assert sums[i] - sums[i - 1] == sympy.divisor_sigma(first + i), first + i
    assert sums[-1] < TOP * TOP  # Σσ(TOP) = Σ d·⌊x/d⌋ ≤ x²: it fits in 128 bits


def test_python_matches_compiled_on_large_x(compiled):
    rng = random.Random(13)
    for x in [rng.randrange(2**44, 2**47), 10**14 - 1]:
        assert python_sum_sigma(x) == compiled.sum_sigma(x), x


PORTABLE_DRIVER = r"""
#if defined(__SIZEOF_INT128__)
#error "__SIZEOF_INT128__ is defined: this is not the portable path"
#endif
#include <stdio.h>
#include "_divisor_summatory.h"
int main(void) {
    unsigned long long x;
    uint64_t hi, lo;
    while (scanf("%llu", &x) == 1) {
        if (pf_sum_sigma(x, &hi, &lo) != 0) return 1;
        printf("%llu %llu\n", (unsigned long long)hi, (unsigned long long)lo);
    }
    return 0;
}
"""


def test_portable_path_without_int128(compiled, tmp_path):
    """The header built as for MSVC (no unsigned __int128) gives the same sums."""
    header_dir = Path(__file__).resolve().parents[1] / "src" / "perfectly" / "_c"
    cc = shutil.which("gcc") or shutil.which("clang")
    if cc is None or not (header_dir / "_divisor_summatory.h").exists():
        pytest.skip("needs gcc or clang and the source tree's src/perfectly/_c headers")
    (tmp_path / "driver.c").write_text(PORTABLE_DRIVER)
    exe = tmp_path / "driver"
    flags = ["-O2", "-std=c99", "-Wall", "-Werror", "-U__SIZEOF_INT128__", f"-I{header_dir}"]
    subprocess.run([cc, *flags, str(tmp_path / "driver.c"), "-o", str(exe), "-lm"], check=True)
    rng = random.Random(14)
    xs = list(range(0, 2000)) + [rng.getrandbits(rng.randrange(1, 49)) for _ in range(100)]
    xs += [*edge_xs(2**20), rng.randrange(2**56, 2**60), TOP]
    run = subprocess.run(
        [str(exe)], input="\n".join(map(str, xs)), capture_output=True, text=True, check=True
    )
    got = [
        int(hi) << 64 | int(lo)
        for hi, lo in (line.split() for line in run.stdout.split("\n") if line)
    ]
    assert got == [compiled.sum_sigma(x) for x in xs]
