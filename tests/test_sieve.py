"""The sieve at every magnitude up to 2**64, against methods that share none of its code.

The sieve (perfectly._kernel, path "sieve") factors whole blocks by every prime up to √hi,
with the primes from the block size up waiting in buckets, and keeps σ in 128 bits from
2**61 on. Its oracles: the compiled kernel's number-by-number factorisation (path
"factor": Miller–Rabin and Pollard–Brent), the pure-Python kernel's own factorisation,
SymPy, and the closed form of Σσ (sum_sigma, a lattice-point count). Windows straddle
2**40, 2**61 and the sieve's block and bucket-window boundaries, and sit around p², p³ of
large primes and high powers of small ones.
"""

from __future__ import annotations

import math
import random
import threading
import time

import pytest
import sympy
from conftest import run_python

from perfectly import _reference

kernel = pytest.importorskip("perfectly._kernel")

BLOCK = 1 << 15  # numbers per sieve block (_sieve.h: PF_BLOCK)
SPAN = 1 << 21  # numbers per window of the large primes' buckets (PF_SPAN)
WIDE = 1 << 61  # from here on a block keeps σ in 128 bits (PF_WIDE)


def sigmas(lo: int, hi: int, path: str) -> list[int]:
    """σ(n), exactly, for n in [lo, hi), one number per call of one Sweep (whose state
    is kept between calls): the way to see 128-bit values, which fill_sigma refuses."""
    sweep = kernel.Sweep(lo, hi, path=path)
    out = []
    while sweep.position < hi:
        a, b, (total, _, _, _), _ = sweep.summarize(1)
        if b == a:  # a step of the sieve's set-up
            continue
        assert b == a + 1
        out.append(total)
    return out


def closed_form(lo: int, hi: int) -> int:
    return kernel.sum_sigma(hi - 1) - kernel.sum_sigma(lo - 1)


def set_up(sweep) -> tuple:
    """The sweep's first call that takes numbers (one; the calls before it are steps of
    its sieve's set-up, which take none)."""
    while True:
        a, b, summary, pairs = sweep.summarize(1)
        if b > a:
            return a, b, summary, pairs


# --------------------------------------------------------------------------
# number by number, at each magnitude
# --------------------------------------------------------------------------

WINDOWS = {  # name: (lo, hi), each more than two blocks, straddling where it says
    "2**40": (2**40 - BLOCK - 123, 2**40 + BLOCK + 77),
    "1e13": (10**13 - BLOCK - 5, 10**13 + BLOCK + 5),
    "1e15": (10**15 + 17, 10**15 + 2 * BLOCK + 3),
    "2**50": (2**50 - BLOCK, 2**50 + BLOCK),
    "2**61": (2**61 - BLOCK - 9, 2**61 + BLOCK + 9),  # narrow blocks, then wide
    "2**64": (2**64 - 2 * BLOCK - 1, 2**64),
}


@pytest.mark.parametrize("name", list(WINDOWS))
def test_sieve_equals_factorisation_number_by_number(name):
    lo, hi = WINDOWS[name]
    sieved = sigmas(lo, hi, "sieve")
    assert sieved == sigmas(lo, hi, "factor")
    rng = random.Random(lo)
    for i in sorted({0, 1, BLOCK - 1, BLOCK, hi - lo - 1, *rng.sample(range(hi - lo), 8)}):
        n = lo + i
        assert sieved[i] == _reference.sigma(n) == sympy.divisor_sigma(n), n
    assert sum(sieved) == closed_form(lo, hi)


@pytest.mark.parametrize("name", list(WINDOWS))
def test_summaries_of_both_paths_agree(name):
    lo, hi = WINDOWS[name]
    sieve = kernel.summarize(lo, hi, path="sieve")
    assert sieve == kernel.summarize(lo, hi, path="factor")
    total, abundant, deficient, found = sieve
    assert total == closed_form(lo, hi)
    assert abundant + deficient + sum(1 for _, k in found if k == 2) == hi - lo


def test_fill_both_paths_below_2_61():
    np = pytest.importorskip("numpy")
    for name in ("2**40", "1e15", "2**50"):
        lo, hi = WINDOWS[name]
        a, b = np.zeros(hi - lo, np.uint64), np.zeros(hi - lo, np.uint64)
        kernel.fill_sigma(lo, a, path="sieve")
        kernel.fill_sigma(lo, b, path="factor")
        assert (a == b).all(), name
        assert [int(x) for x in a] == sigmas(lo, hi, "factor")


def test_fill_overflow_is_named_in_the_wide_region():
    np = pytest.importorskip("numpy")
    lo = 2**64 - 100
    out = np.zeros(100, np.uint64)
    with pytest.raises(OverflowError, match=r"sigma\(\d+\) is 2\*\*64 or more"):
        kernel.fill_sigma(lo, out, path="sieve")
    # s(n) = σ(n) − n fits for the deficient ones; the first abundant n is named
    first = next(n for n in range(lo, 2**64) if _reference.sigma(n) - n >= 2**64)
    with pytest.raises(OverflowError, match=str(first)):
        kernel.fill_sigma(lo, out, aliquot=True, path="sieve")


# --------------------------------------------------------------------------
# prime powers: large primes' squares and cubes, small primes' high powers
# --------------------------------------------------------------------------


def _prime_after(x: int) -> int:
    return int(sympy.nextprime(x))


POWERS = [
    _prime_after(2**20) ** 3,  # a cube near 2**60: narrow block, a large prime's p³
    _prime_after(2**21) ** 3,  # near 2**63: wide
    _prime_after(2**31) ** 2,  # p² near 2**62
    3 * _prime_after(2**31) ** 2,
    _prime_after(2**31 + 2**30) ** 2,  # p² near 2**63.2
    (2**32 - 5) ** 2,  # the largest prime below 2**32, squared: the last sieving prime
    _prime_after(2**16 - 100) ** 4,  # p⁴ near 2**64
    3**40,  # small primes' tails, high powers, in wide blocks
    5**27,
    7**22,
    2**63,  # σ = 2**64 − 1
    2**62 * 3,
    2**64 - 1,  # 3·5·17·257·641·65537·6700417
]


@pytest.mark.parametrize("n", POWERS, ids=[f"{n:#x}" for n in POWERS])
def test_around_prime_powers(n):
    lo, hi = max(1, n - 40), min(2**64, n + 40)
    sieved = sigmas(lo, hi, "sieve")
    assert sieved == [kernel.sigma(m) for m in range(lo, hi)]
    assert sieved[n - lo] == sympy.divisor_sigma(n) == _reference.sigma(n)


@pytest.mark.parametrize("p", [32771, 2**20 + 7, 2**26 + 15])  # large primes: p ≥ BLOCK
def test_multiples_of_large_squares(p):
    """k·p² for a large prime p (k = 1, 2, 3, 2**10 + 1, 2**20 + 3): its one hit in the
    window takes out p² (and p³ for k = p), not p alone."""
    assert sympy.isprime(p)
    for k in (1, 2, 3, p, 2**10 + 1, 2**20 + 3):
        n = k * p * p
        if n >= 2**64:
            continue
        lo, hi = max(1, n - 5), min(2**64, n + 5)
        assert sigmas(lo, hi, "sieve") == [kernel.sigma(m) for m in range(lo, hi)], (k, p)


#: Lone primes (above 181: no power entries, p² ≥ BLOCK) of each of the sieve's loops
#: below the block: dense (the first and a middle one), sparse8, sparse4 (the last).
LONE = [191, 1999, 4099, 8209, 32749]


@pytest.mark.parametrize("p", LONE)
def test_multiples_of_lone_squares_in_wide_blocks(p):
    """k·p^e near 2**64 for a lone prime p (e = 2, 3, 4): in wide blocks its square's hit
    takes every p out first, and p's own hit must then leave the cell alone."""
    assert sympy.isprime(p) and p * p >= BLOCK
    rng = random.Random(p)
    for e in (2, 3, 4):
        q = p**e
        for k in ((2**64 - 1) // q, (2**64 - 1) // q - 1, rng.randrange(-(-WIDE // q), 2**64 // q)):
            n = k * q
            lo, hi = max(WIDE, n - 3), min(2**64, n + 4)
            sieved = sigmas(lo, hi, "sieve")
            assert sieved == [kernel.sigma(m) for m in range(lo, hi)], (p, e, k)
            assert sieved[n - lo] == sympy.divisor_sigma(n), (p, e, k)


#: The product of the eight smallest lone primes (the most of them a number below 2**64
#: has): the ratio σ(n)/n that wide blocks estimate leaves lone primes out, so these n
#: are where the estimate is furthest off (3.9 %); and a number below 2**64 with many small
#: primes (σ(n)/n = 6.16), where σ(n) is largest and the high word's margin smallest.
EIGHT_LONE = 191 * 193 * 197 * 199 * 211 * 223 * 227 * 229
ABUNDANT = 2**4 * 3**2 * math.prod(int(q) for q in sympy.primerange(5, 48))


@pytest.mark.parametrize(
    "n",
    [EIGHT_LONE, 2 * EIGHT_LONE, 4 * EIGHT_LONE, 5 * EIGHT_LONE, ABUNDANT, ABUNDANT // 3 * 2],
)
def test_the_wide_estimate_at_its_limits(n):
    assert WIDE <= n < 2**64
    lo, hi = n - 3, min(2**64, n + 4)
    sieved = sigmas(lo, hi, "sieve")
    assert sieved == [int(sympy.divisor_sigma(m)) for m in range(lo, hi)]


# --------------------------------------------------------------------------
# long windows: across bucket windows, in many calls, Σσ by the closed form
# --------------------------------------------------------------------------

LONG = {  # more than two bucket windows of the large primes
    "1e15": (10**15 - SPAN - 3, 10**15 + 2 * SPAN + 5),
    "2**50": (2**50 + 12345, 2**50 + 12345 + 3 * SPAN),
    "2**61": (2**61 - SPAN - 1, 2**61 + SPAN + 1),
    "2**64": (2**64 - 3 * SPAN - 7, 2**64),
}


@pytest.mark.parametrize("name", list(LONG))
def test_long_window_in_calls_of_any_size(name):
    """One sweep taken in calls of odd sizes, which cut blocks anywhere: the same census
    as one call, and Σσ of the closed form; σ exact around window boundaries."""
    lo, hi = LONG[name]
    whole = kernel.summarize(lo, hi)
    assert whole[0] == closed_form(lo, hi)
    sweep = kernel.Sweep(lo, hi)
    rng = random.Random(hi)
    total = abundant = deficient = 0
    found: list[tuple[int, int]] = []
    checked = 0
    while sweep.position < hi:
        at = sweep.position
        boundary = -(at - lo) % SPAN  # numbers to the next window boundary
        if boundary < 3 or (at - lo) % SPAN < 3:  # σ of the numbers at the boundary
            _, _, (t, a, d, f), _ = set_up(sweep)
            assert t == kernel.sigma(at), at
            checked += 1
        else:
            _, _, (t, a, d, f), _ = sweep.summarize(
                min(boundary - 2, rng.choice([1, 7, BLOCK - 1, BLOCK + 5, 3 * BLOCK + 11]))
            )
        total, abundant, deficient = total + t, abundant + a, deficient + d
        found += f
    assert checked >= 6
    assert sweep.segments == 1  # one set-up for every call
    assert (total, abundant, deficient, found) == whole


# --------------------------------------------------------------------------
# memory: buckets grow with the primes, never with the range
# --------------------------------------------------------------------------


def _pi(x: float) -> float:
    """An upper bound on π(x) for x ≥ 17 (Rosser and Schoenfeld)."""
    return 1.25506 * x / math.log(x)


def test_bucket_memory_is_bounded_by_the_primes_not_the_range():
    """A sieve holds at most one 8-byte hit per prime up to √hi, in 8 KiB buckets (a
    half-empty one per list at most), beside its block of cells: at 10**13 a few MB
    whatever the range. One hit per number of the range, were the buckets to grow with
    it, would be gigabytes for the longer sweep."""
    lo = 10**13
    for length in (2**22, 2**36):
        sweep = kernel.Sweep(lo, lo + length)
        set_up(sweep)
        sweep.summarize(4 * BLOCK)  # a few blocks in
        root = math.isqrt(lo + length)
        lists = 64 + 2 ** math.ceil(math.log2(root / SPAN + 2))
        bound = 8 * _pi(root) + 8192 * (lists + 64) + 2**21
        assert sweep.memory <= bound, (length, sweep.memory, bound)


def test_memory_budget_near_2_64():
    """Near 2**64 the 203 million primes below 2**32 would take 1.6 GB of buckets: a long
    sweep is sieved in segments whose buckets fit the kernel's 512 MiB budget."""
    lo = 2**64 - 2**35
    sweep = kernel.Sweep(lo, 2**64)
    set_up(sweep)
    assert 2**27 < sweep.memory <= 512 * 2**20 + 40 * 2**20
    primes = kernel.sieving_primes()
    assert primes["reach"] >= 2**32
    assert primes["bytes"] == 203_280_220  # one byte per odd prime below 2**32


# --------------------------------------------------------------------------
# the Sweep: the sieve's state kept from call to call
# --------------------------------------------------------------------------


def test_sweep_calls_join_exactly_and_pay_one_set_up():
    lo, hi = 10**14, 10**14 + 5 * BLOCK + 3
    sweep = kernel.Sweep(lo, hi)
    assert (sweep.lo, sweep.hi, sweep.position, sweep.segments) == (lo, hi, lo, 0)
    parts = []
    while sweep.position < hi:
        part = sweep.summarize(BLOCK // 3)
        if part[1] > part[0]:  # (not a step of the set-up)
            parts.append(part)
    assert sweep.segments == 1
    assert [p[0] for p in parts] == [lo, *[p[1] for p in parts[:-1]]]
    assert parts[-1][1] == hi
    assert sum(p[2][0] for p in parts) == kernel.summarize(lo, hi)[0] == closed_form(lo, hi)
    assert sweep.summarize(10) == (hi, hi, (0, 0, 0, []), None)  # past the end: nothing


def test_sweep_fill_then_summarize():
    np = pytest.importorskip("numpy")
    lo, hi = 10**12 - 1000, 10**12 + 3 * BLOCK
    sweep = kernel.Sweep(lo, hi)
    head = np.zeros(BLOCK + 17, np.uint64)
    sweep.fill(head)
    assert [int(x) for x in head] == [kernel.sigma(n) for n in range(lo, lo + len(head))]
    rest = sweep.summarize(hi)
    assert rest[:2] == (lo + len(head), hi)
    assert rest[2][0] + int(head.sum()) == closed_form(lo, hi)
    with pytest.raises(ValueError, match="only 0 numbers are left"):
        sweep.fill(np.zeros(1, np.uint64))


def test_sweep_amicable_in_calls():
    sweep = kernel.Sweep(1, 20_000, amicable=True)
    pairs: list[tuple[int, int]] = []
    while sweep.position < 20_000:
        pairs += sweep.summarize(777)[3]
    assert pairs == kernel.amicable(1, 20_000) == _reference.amicable(1, 20_000)
    assert (220, 284) in pairs


def test_sweep_refuses_a_second_thread():
    """A Sweep is one thread's at a time: a call while another thread's runs is refused
    (a RuntimeError), and the running one is not disturbed."""
    lo, hi = 2**64 - 2**24, 2**64
    sweep = kernel.Sweep(lo, hi)
    set_up(sweep)  # the set-up goes in short steps: a long call is one of 2**24 numbers
    box: dict[str, object] = {}
    started = threading.Event()

    def long_call():
        started.set()
        try:
            box["result"] = sweep.summarize(2**24)  # ≈ 0.3 s near 2**64
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=long_call)
    worker.start()
    started.wait()
    time.sleep(0.05)
    with pytest.raises(RuntimeError, match="in use by another thread"):
        sweep.summarize(1)
    worker.join()
    assert "error" not in box
    assert box["result"][:2] == (lo + 1, hi)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((10, 5), {}, ValueError, "lo must be ≤ hi"),
        ((1, 10), {"path": "fast"}, ValueError, "path must be one of"),
        ((1, 10), {"path": 1}, TypeError, "path must be a str"),
        ((1, 2**62), {"amicable": True}, OverflowError, "2\\*\\*61"),
        ((1, 10, "both"), {}, ValueError, "method must be one of"),
    ],
)
def test_sweep_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        kernel.Sweep(*args, **kwargs)


def test_sweep_bad_counts():
    sweep = kernel.Sweep(1, 100)
    with pytest.raises(ValueError, match="count must be ≥ 1"):
        sweep.summarize(0)
    with pytest.raises(TypeError, match="count"):
        sweep.summarize(1.5)


def test_reference_sweep_has_the_same_interface():
    ref = _reference.Sweep(10**6, 10**6 + 1000, amicable=True)
    com = kernel.Sweep(10**6, 10**6 + 1000, amicable=True)  # a small sieve: one call sets up
    while com.position < com.hi:
        assert ref.summarize(333) == com.summarize(333)
    assert ref.position == com.position == 10**6 + 1000


# --------------------------------------------------------------------------
# the plan: a chunk is one segment, with one set-up, at every magnitude
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bits", range(40, 65))
@pytest.mark.parametrize("workers", [1, 2, 16])
def test_default_chunks_fit_one_segment(bits, workers):
    """The plan's chunk (planning.SIEVE_SCALE) never makes the kernel cut it into two
    sieves, whose buckets would outgrow the budget; and from 2**44, where set-ups cost,
    a chunk is at least the table's least (a set-up of 5 % of it, as measured)."""
    from perfectly.planning import SIEVE_CHUNK, SIEVE_SCALE, default_chunk_size

    for lo, hi in [(2 ** (bits - 1), 2 ** (bits - 1) + 10**11), (2**bits - 10**9, 2**bits)]:
        size = default_chunk_size(lo, hi, workers, "sieve")
        start = hi - size  # the last chunk: the largest √hi
        assert kernel._segment_length(start, size) == size, (bits, workers, size)
        if bits in SIEVE_SCALE:  # twenty set-ups of work, or every worker busy
            least = SIEVE_CHUNK * SIEVE_SCALE[bits][1] // 2  # (even chunks: within 2×)
            assert size >= min(least, -(-(hi - lo) // (8 * workers))), (bits, size)


# --------------------------------------------------------------------------
# a long set-up goes in steps, so that a worker can be stopped between them
# --------------------------------------------------------------------------


def test_set_up_near_2_64_goes_in_steps():
    """Placing 203 million primes takes a second: a Sweep's call does a step of it and
    returns with no numbers, until the sieve is ready (the search's workers look
    whether the run was stopped between calls). The stateless calls wait for it all."""
    lo = 2**64 - 2**30
    sweep = kernel.Sweep(lo, 2**64)
    empty = 0
    while True:
        a, b, summary, _ = sweep.summarize(BLOCK)
        if b > a:
            break
        assert (a, b, summary) == (lo, lo, (0, 0, 0, []))
        empty += 1
    assert empty >= 10  # 203 million primes, 8 million a step
    assert (a, b) == (lo, lo + BLOCK)
    assert summary[0] == closed_form(lo, lo + BLOCK)


def test_threads_make_the_sieving_primes_together():
    """Three threads of a fresh process need the primes below 2**30 at once (two sweeps in
    steps, one sigma_range in one call): they make the store's 256 segments side by side,
    and it holds every odd prime below 2**30 once (pi(2**30) = 54,400,028, SymPy), each
    window exact against per-number factorisation and its Sigma sigma against the closed
    form."""
    code = """if True:
        import threading
        import perfectly
        from perfectly import _kernel as kernel
        lo, n = 2**60 - 3 * 10**5, 10**5
        start, out = threading.Barrier(3), {}
        def sweep(i):
            start.wait()
            s = kernel.Sweep(lo + i * n, lo + (i + 1) * n)
            pieces = []
            while s.position < s.hi:
                pieces.append(s.summarize(n))
            out[i] = sum(p[2][0] for p in pieces), sum(p[2][1] for p in pieces)
        def values():
            start.wait()
            out[2] = int(perfectly.sigma_range(lo + 2 * n, lo + 3 * n).sum(dtype=object))
        threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
        threads.append(threading.Thread(target=values))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(kernel.sieving_primes())
        for i in range(3):
            ref = kernel.Sweep(lo + i * n, lo + (i + 1) * n, path="factor").summarize(n)[2]
            got = out[i] if i < 2 else (out[i], ref[1])
            print(got == (ref[0], ref[1]), got[0] == kernel.sum_sigma(lo + (i + 1) * n - 1)
                  - kernel.sum_sigma(lo + i * n - 1))
    """
    done = run_python("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str({"reach": 2**30, "bytes": sympy.primepi(2**30) - 1})
    assert lines[1:] == ["True True"] * 3


@pytest.mark.slow
def test_timeout_while_a_sieve_is_set_up_near_2_64():
    """search(2**64 - 10**10, 2**64, timeout=0.5) on threads: each worker's first chunk
    opens a sieve of 203 million primes (and the first, in a fresh process, makes them):
    TimeoutError within about one step of the deadline, not after the set-up."""
    code = (
        "import time, perfectly\n"
        "began = time.perf_counter()\n"
        "try:\n"
        "    perfectly.search(2**64 - 10**10, 2**64, backend='threads', workers=2, timeout=0.5)\n"
        "except TimeoutError:\n"
        "    print(time.perf_counter() - began)\n"
    )
    done = run_python("-c", code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 0.5 <= float(done.stdout) < 1.5
