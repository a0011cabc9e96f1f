"""Bad-input contract: type errors for non-integers, ValueError/OverflowError
for out-of-range values, and the message names the offending argument."""

from __future__ import annotations

import numpy as np
import pytest

import perfectly

U64 = 2**64
LO = r"\blo\b"
HI = r"\bhi\b"
N = r"\bn\b"
X = r"\bx\b"
METHOD = r"\bmethod\b"
LO_OR_HI = r"\blo\b|\bhi\b"
RANGE_ERR = (ValueError, OverflowError)


def _call(name, *args, **kwargs):
    return lambda: getattr(perfectly, name)(*args, **kwargs)


CASES = [
    # ---- scalar functions: n ------------------------------------------
    ("sigma-bool", _call("sigma", True), TypeError, N),
    ("sigma-false", _call("sigma", False), TypeError, N),
    ("sigma-float", _call("sigma", 6.0), TypeError, N),
    ("sigma-str", _call("sigma", "6"), TypeError, N),
    ("sigma-none", _call("sigma", None), TypeError, N),
    ("sigma-npfloat", _call("sigma", np.float64(6.0)), TypeError, N),
    ("sigma-zero", _call("sigma", 0), ValueError, N),
    ("sigma-neg", _call("sigma", -6), ValueError, N),
    ("sigma-bigneg", _call("sigma", -(2**70)), ValueError, N),
    ("sigma-npneg", _call("sigma", np.int64(-3)), ValueError, N),
    ("aliquot-zero", _call("aliquot", 0), ValueError, N),
    ("aliquot-float", _call("aliquot", 28.0), TypeError, N),
    ("aliquot-bool", _call("aliquot", True), TypeError, N),
    ("classify-neg", _call("classify", -12), ValueError, N),
    ("classify-str", _call("classify", "12"), TypeError, N),
    ("classify-none", _call("classify", None), TypeError, N),
    ("is_perfect-zero", _call("is_perfect", 0), ValueError, N),
    ("is_perfect-float", _call("is_perfect", 6.0), TypeError, N),
    ("is_perfect-bool", _call("is_perfect", True), TypeError, N),
    # ---- sigma_range --------------------------------------------------
    ("sr-lo-zero", _call("sigma_range", 0, 10), ValueError, LO),
    ("sr-lo-neg", _call("sigma_range", -5, 10), ValueError, LO),
    ("sr-lo-gt-hi", _call("sigma_range", 10, 5), ValueError, LO_OR_HI),
    ("sr-hi-too-big", _call("sigma_range", 1, U64 + 1), RANGE_ERR, HI),
    ("sr-hi-way-too-big", _call("sigma_range", U64, 2**80), RANGE_ERR, HI),
    ("sr-lo-float", _call("sigma_range", 1.0, 10), TypeError, LO),
    ("sr-hi-float", _call("sigma_range", 1, 10.0), TypeError, HI),
    ("sr-hi-str", _call("sigma_range", 1, "10"), TypeError, HI),
    ("sr-lo-bool", _call("sigma_range", True, 10), TypeError, LO),
    ("sr-hi-bool", _call("sigma_range", 1, True), TypeError, HI),
    ("sr-hi-none", _call("sigma_range", 1, None), TypeError, HI),
    ("sr-lo-none", _call("sigma_range", None, 10), TypeError, LO),
    ("sr-method", _call("sigma_range", 1, 10, method="magic"), ValueError, METHOD),
    ("sr-method-case", _call("sigma_range", 1, 10, method="SIEVE"), ValueError, METHOD),
    ("sr-method-none", _call("sigma_range", 1, 10, method=None), (TypeError, ValueError), METHOD),
    (
        "sr-trial-too-high",
        _call("sigma_range", 2**61, 2**61 + 10, method="trial"),
        RANGE_ERR,
        r"\bhi\b|\bmethod\b|trial",
    ),
    ("sr-np-float", _call("sigma_range", np.float32(1), 10), TypeError, LO),
    # ---- aliquot_range -------------------------------------------------
    ("ar-lo-gt-hi", _call("aliquot_range", 5, 4), ValueError, LO_OR_HI),
    ("ar-lo-zero", _call("aliquot_range", 0, 4), ValueError, LO),
    ("ar-method", _call("aliquot_range", 1, 4, method="fast"), ValueError, METHOD),
    ("ar-hi-float", _call("aliquot_range", 1, 4.5), TypeError, HI),
    # ---- perfect_numbers -----------------------------------------------
    ("pn-lo-zero", _call("perfect_numbers", 0, 10), ValueError, LO),
    ("pn-method", _call("perfect_numbers", 1, 10, method="fast"), ValueError, METHOD),
    ("pn-hi-too-big", _call("perfect_numbers", 1, U64 + 5), RANGE_ERR, HI),
    ("pn-lo-str", _call("perfect_numbers", "1", 10), TypeError, LO),
    # ---- multiply_perfect ----------------------------------------------
    ("mp-lo-gt-hi", _call("multiply_perfect", 10, 1), ValueError, LO_OR_HI),
    ("mp-lo-float", _call("multiply_perfect", 1.5, 10), TypeError, LO),
    ("mp-method", _call("multiply_perfect", 1, 10, method=""), ValueError, METHOD),
    # ---- amicable_pairs ------------------------------------------------
    ("am-lo-zero", _call("amicable_pairs", 0, 10), ValueError, LO),
    ("am-lo-gt-hi", _call("amicable_pairs", 10, 5), ValueError, LO_OR_HI),
    ("am-hi-too-big", _call("amicable_pairs", 1, 2**61 + 1), RANGE_ERR, HI),
    ("am-hi-none", _call("amicable_pairs", 1, None), TypeError, HI),
    # ---- census --------------------------------------------------------
    ("census-lo-zero", _call("census", 0, 10), ValueError, LO),
    ("census-lo-gt-hi", _call("census", 11, 10), ValueError, LO_OR_HI),
    ("census-method", _call("census", 1, 10, method="x"), ValueError, METHOD),
    ("census-hi-too-big", _call("census", 1, U64 + 1), RANGE_ERR, HI),
    ("census-lo-str", _call("census", "1", 10), TypeError, LO),
    ("census-hi-bool", _call("census", 1, True), TypeError, HI),
    # ---- sum_sigma -----------------------------------------------------
    ("ss-neg", _call("sum_sigma", -1), ValueError, X),
    ("ss-too-big", _call("sum_sigma", U64), RANGE_ERR, X),
    ("ss-way-too-big", _call("sum_sigma", 2**100), RANGE_ERR, X),
    ("ss-float", _call("sum_sigma", 10.0), TypeError, X),
    ("ss-bool", _call("sum_sigma", True), TypeError, X),
    ("ss-none", _call("sum_sigma", None), TypeError, X),
    ("ss-str", _call("sum_sigma", "10"), TypeError, X),
    # ---- issue 13: flags, worker counts, huge arrays --------------------
    ("census-amicable-str", _call("census", 1, 10, amicable="no"), TypeError, r"\bamicable\b"),
    ("census-amicable-int", _call("census", 1, 10, amicable=1), TypeError, r"\bamicable\b"),
    ("sr-hi-huge-array", _call("sigma_range", 1, 2**63), RANGE_ERR, HI),
    ("ar-hi-huge-array", _call("aliquot_range", 2**62, 2**64), RANGE_ERR, HI),
    ("search-workers-neg-float", _call("search", 1, 100, workers=-1.0), TypeError, r"workers"),
    ("search-workers-float", _call("search", 1, 100, workers=2.0), TypeError, r"workers"),
    ("search-workers-huge", _call("search", 1, 100, workers=10**9), ValueError, r"workers"),
    (
        "search-workers-np-huge",
        _call("search", 1, 100, workers=np.int64(10**9)),
        ValueError,
        "workers",
    ),
    ("search-workers-neg2", _call("search", 1, 100, workers=-2), ValueError, r"workers"),
    ("search-timeout-str", _call("search", 1, 100, timeout="5"), TypeError, r"timeout"),
    (
        "search-timeout-nan",
        _call("search", 1, 100, timeout=np.float64("nan")),
        ValueError,
        "timeout",
    ),
    ("search-timeout-np-zero", _call("search", 1, 100, timeout=np.int64(0)), ValueError, "timeout"),
    ("search-timeout-bool", _call("search", 1, 100, timeout=True), TypeError, r"timeout"),
    ("search-journal-empty", _call("search", 1, 100, journal=""), ValueError, r"journal"),
    ("search-journal-memory", _call("search", 1, 100, journal=":memory:"), ValueError, "journal"),
    ("search-journal-int", _call("search", 1, 100, journal=3), TypeError, r"journal"),
    ("search-amicable-str", _call("search", 1, 100, amicable="no"), TypeError, r"amicable"),
    ("search-lo-npfloat", _call("search", np.float64(1), 100), TypeError, LO),
    # ---- kernel=: a TypeError for a non-str, a ValueError for an unknown name, everywhere
    *(
        (f"{fn}-kernel-{tag}", _call(fn, 1, 100, kernel=value), exc, r"\bkernel\b")
        for fn in ("census", "sigma_range", "aliquot_range", "search", "estimate")
        for tag, value, exc in (
            ("int", 3, TypeError),
            ("bytes", b"python", TypeError),
            ("unknown", "fast", ValueError),
        )
    ),
]


@pytest.mark.parametrize("name,fn,exc,pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()


def test_enough_bad_input_cases():
    assert len(CASES) >= 40


# The boundaries themselves are accepted (so the errors above are not just
# "everything raises").
def test_boundaries_accepted():
    assert perfectly.sigma(1) == 1
    assert perfectly.sum_sigma(0) == 0
    assert perfectly.sigma_range(U64, U64).shape == (0,)
    assert perfectly.sigma_range(10, 10).shape == (0,)
    assert perfectly.amicable_pairs(2**61, 2**61) == []
    assert list(perfectly.sigma_range(np.int64(1), np.uint64(4))) == [1, 3, 4]
    assert perfectly.sigma_range(2**61, 2**61, method="trial").shape == (0,)
    assert perfectly.census(np.int32(1), np.int64(7)).perfect == (6,)


def test_numpy_scalars_accepted_wherever_ints_are():
    """NumPy integer scalars for every integer argument; NumPy numbers for timeout."""
    want = perfectly.census(1, 1000)
    for t in (np.int16, np.int32, np.int64, np.uint16, np.uint32, np.uint64):
        r = perfectly.search(
            t(1), t(1000), backend="serial", workers=t(2), chunk_size=t(100), retries=t(1)
        )
        assert r.census == want and r.verified
    for seconds in (np.int64(30), np.float64(30.0), np.float32(30.0), np.int32(30)):
        assert perfectly.search(1, 1000, backend="serial", timeout=seconds).census == want
    assert perfectly.sigma(np.uint64(2**64 - 1)) == perfectly.sigma(2**64 - 1)
    assert perfectly.sum_sigma(np.int64(10)) == 87
    # clamped: to the numbers (static: a block a worker), to the chunks (one here)
    assert perfectly.search(1, 4, backend="threads", workers=8, schedule="static").workers == 3
    assert perfectly.search(1, 4, backend="threads", workers=8).workers == 1
