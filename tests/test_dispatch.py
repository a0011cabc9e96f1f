"""Every build of the compiled kernel's hot loops (perfectly._kernel.CPU_TARGETS) against
the baseline build and against independent oracles: conftest's brute force, the pure-Python
kernel (perfectly._reference: its own factorisation and closed form) and SymPy.

Each target runs in a subprocess with PERFECTLY_CPU_TARGET set, as a user would force it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
import sympy

from perfectly import _reference

kernel = pytest.importorskip("perfectly._kernel")

BLOCK = 1 << 15  # the sieve's block (_sieve.h: PF_BLOCK)
PATTERN = 15015  # the period of its pre-sieved pattern (PF_PATTERN)
EVEN_PERFECT = {
    6,
    28,
    496,
    8128,
    33550336,
    8589869056,
    137438691328,
    2305843008139952128,
}

# Run in the subprocess: σ of each window by each method, and the sieve's summary.
_WORKER = """
import json, sys
import numpy as np
from perfectly import _kernel
jobs = json.load(sys.stdin)
out = {"target": _kernel.CPU_TARGET, "fill": [], "summary": []}
for lo, hi, method in jobs["fill"]:
    a = np.zeros(hi - lo, dtype=np.uint64)
    _kernel.fill_sigma(lo, a, method)
    out["fill"].append([int(x) for x in a])
for lo, hi, method in jobs["summary"]:
    total, ab, de, found = _kernel.summarize(lo, hi, method)
    out["summary"].append([str(total), ab, de, [[str(n), k] for n, k in found]])
out["exact"] = []  # σ in 128 bits, one number per call of a Sweep
for lo, hi in jobs["exact"]:
    sweep = _kernel.Sweep(lo, hi)
    out["exact"].append([str(sweep.summarize(1)[2][0]) for _ in range(hi - lo)])
json.dump(out, sys.stdout)
"""


def _run(target: str, jobs: dict) -> dict:
    env = dict(os.environ, PERFECTLY_CPU_TARGET=target)
    done = subprocess.run(
        [sys.executable, "-c", _WORKER],
        input=json.dumps(jobs),
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    result = json.loads(done.stdout)
    assert result["target"] == target
    return result


def _fill_windows() -> list[tuple[int, int, str]]:
    rng = random.Random(10)
    w = [(1, 3000, "sieve"), (1, 3000, "trial")]
    for centre, half in [(2**32, 300), (2**40, 200), (10**12, 200)]:
        lo = centre - rng.randrange(1, half)
        w.append((lo, lo + 2 * half, "sieve"))
    w.append((2**32 - 150, 2**32 + 150, "trial"))
    w.append((10**12 - 40, 10**12 + 40, "trial"))
    w.append((2**50 - 2, 2**50 + 2, "trial"))  # the double test's limit
    for _ in range(3):  # random windows; and blocks starting mid-period of the pattern
        lo = rng.randrange(1, 10**7)
        w.append((lo, lo + rng.randrange(1, 5000), rng.choice(["sieve", "trial"])))
        lo = rng.randrange(10**6, 10**7) // PATTERN * PATTERN + rng.randrange(1, PATTERN)
        w.append((lo, lo + 3 * BLOCK + rng.randrange(1, 999), "sieve"))
    return w


def _wide_windows() -> list[tuple[int, int, str]]:
    """Near and across 2**61 (where blocks turn wide): oracle is factorisation."""
    rng = random.Random(61)
    lo = 2**61 - rng.randrange(50, 150)
    return [(lo, lo + 200, "sieve"), (2**61 - 2**20 - 77, 2**61 - 2**20 + 23, "sieve")]


def _summary_windows() -> list[tuple[int, int, str]]:
    rng = random.Random(9)
    w = [(1, 10**6, "sieve"), (1, 20_000, "trial"), (8589869056 - 1000, 8589869056 + 1000, "sieve")]
    w.append((137438691328 - 3 * BLOCK - 5, 137438691328 + 100_000, "sieve"))
    w.append((2305843008139952128 - 300, 2305843008139952128 + 300, "sieve"))
    for _ in range(3):  # random windows of several blocks
        lo = rng.randrange(1, 2 ** rng.randrange(20, 41))
        w.append((lo, lo + rng.randrange(1, 3 * BLOCK), "sieve"))
    for _ in range(2):  # and short ones anywhere below 2**64
        lo = rng.randrange(1, 2**64 - 500)
        w.append((lo, lo + rng.randrange(1, 500), "sieve"))
    lo = rng.randrange(10**10, 10**11)
    w.append((lo, lo + 70 * BLOCK + 17, "sieve"))  # more blocks than a bucket window (64)
    for centre in (10**12, 2**40):  # ≈ 80 000 primes, most of them bucketed
        lo = centre - rng.randrange(1, 2 * BLOCK)
        w.append((lo, lo + 3 * BLOCK + rng.randrange(1, BLOCK), "sieve"))
    return w


SPAN = 1 << 21  # numbers per window of the large primes' buckets (_sieve.h: PF_SPAN)


def _far_windows() -> list[tuple[int, int, str]]:
    """Long windows where every prime up to √hi sieves, across bucket windows: their
    oracle is the closed form of Σσ."""
    return [
        (10**15 - SPAN - 3, 10**15 + 2 * SPAN + 5, "sieve"),
        (2**61 - SPAN - 1, 2**61 + SPAN + 1, "sieve"),
        (2**64 - 2 * SPAN - 7, 2**64, "sieve"),
    ]


def _exact_windows() -> list[tuple[int, int]]:
    """Where σ needs 128 bits: its oracle is factorisation."""
    return [(2**61 - 150, 2**61 + 150), (2**64 - 300, 2**64), (3**40 - 150, 3**40 + 150)]


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    jobs = {
        "fill": _fill_windows() + _wide_windows(),
        "summary": _summary_windows() + _far_windows(),
        "exact": _exact_windows(),
    }
    return {target: _run(target, jobs) for target in kernel.CPU_TARGETS}


def test_targets_listed():
    assert kernel.CPU_TARGETS[0] in ("baseline", "native")
    assert kernel.CPU_TARGET in kernel.CPU_TARGETS
    assert len(set(kernel.CPU_TARGETS)) == len(kernel.CPU_TARGETS)


def test_build_info_reports_the_target():
    import perfectly

    info = perfectly.build_info()
    if info["core"] == "compiled":
        assert info["cpu_target"] == kernel.CPU_TARGET


@pytest.mark.parametrize("statement", ["import perfectly", "import perfectly._kernel"])
def test_unknown_target_fails_loudly(statement):
    """A forced target this CPU cannot run is an ImportError, never the pure-Python
    fallback with a warning (it is a switch for tests and benchmarks)."""
    env = dict(os.environ, PERFECTLY_CPU_TARGET="no-such-cpu")
    env.pop("PERFECTLY_NO_EXTENSIONS", None)
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", statement], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: PERFECTLY_CPU_TARGET='no-such-cpu'"), done.stderr


def test_targets_agree_with_baseline(results):
    base = results[kernel.CPU_TARGETS[0]]
    for target, got in results.items():
        assert got["fill"] == base["fill"], target
        assert got["summary"] == base["summary"], target
        assert got["exact"] == base["exact"], target


def test_far_windows_against_the_closed_form(results):
    base = results[kernel.CPU_TARGETS[0]]
    far = base["summary"][len(_summary_windows()) :]
    for (lo, hi, _), (total, ab, de, found) in zip(_far_windows(), far, strict=True):
        assert int(total) == kernel.sum_sigma(hi - 1) - kernel.sum_sigma(lo - 1), (lo, hi)
        assert ab + de + sum(1 for _, k in found if k == 2) == hi - lo


def test_exact_sigma_against_factorisation(results):
    base = results[kernel.CPU_TARGETS[0]]
    for (lo, hi), got in zip(_exact_windows(), base["exact"], strict=True):
        assert [int(x) for x in got] == [kernel.sigma(n) for n in range(lo, hi)], lo
        for n in random.Random(lo).sample(range(lo, hi), 4):
            assert int(got[n - lo]) == _reference.sigma(n) == sympy.divisor_sigma(n)


def test_fill_against_brute_force(results, brute):
    base = results[kernel.CPU_TARGETS[0]]
    for (lo, hi, method), got in zip(_fill_windows(), base["fill"], strict=False):
        if hi <= 2**40 + 300 or method == "sieve":
            assert got == brute.sigma_window(lo, hi), (lo, hi, method)
        else:  # √n divisors per number are slow in NumPy: factorisation instead
            assert got == [_reference.sigma(n) for n in range(lo, hi)], (lo, hi, method)


def test_fill_near_2_61_against_factorisation(results):
    base = results[kernel.CPU_TARGETS[0]]
    wide = base["fill"][len(_fill_windows()) :]
    for (lo, hi, _), got in zip(_wide_windows(), wide, strict=True):
        want = [_reference.sigma(n) for n in range(lo, hi)]
        assert got == want, (lo, hi)
        for n in random.Random(lo).sample(range(lo, hi), 5):
            assert got[n - lo] == sympy.divisor_sigma(n)


def test_summaries_against_closed_form_and_factorisation(results):
    base = results[kernel.CPU_TARGETS[0]]
    near = base["summary"][: len(_summary_windows())]
    for (lo, hi, _), (total, ab, de, found) in zip(_summary_windows(), near, strict=True):
        if hi < 2**45:  # the closed form Σσ, O(√hi) in pure Python
            want = _reference.sum_sigma(hi - 1) - _reference.sum_sigma(lo - 1)
        else:  # σ of each n by factorisation
            want = sum(_reference.sigma(n) for n in range(lo, hi))
        assert int(total) == want, (lo, hi)
        assert ab + de + sum(1 for _, k in found if k == 2) == hi - lo
        for n, k in found:
            assert _reference.sigma(int(n)) == k * int(n)


def test_every_perfect_number_is_even_perfect(results):
    """Every σ(n) = 2n below 2**64 is one of the eight even perfect numbers."""
    base = results[kernel.CPU_TARGETS[0]]
    perfect = {int(n) for *_, found in base["summary"] for n, k in found if k == 2}
    assert perfect <= EVEN_PERFECT
    assert {8589869056, 137438691328, 2305843008139952128} <= perfect  # windows around them
