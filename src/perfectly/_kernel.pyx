"""Compiled divisor-sum kernels: σ(n) for one n, for ranges, and range summaries.

Every ``def`` entry point validates its arguments with the GIL held, then does all
of its work inside one ``with nogil:`` region (unless ``release_gil=False``, which
exists only so the benchmark can show what releasing the GIL buys). Nothing here
is shared and mutable: the prime table, the sieve's tables and the choice of the
build of the hot loops for this CPU (_sieve.h) are made once per process, by the first
interpreter to import the module, and only read afterwards (see ``_init_once``).
"""
cimport cython
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memset
from libc.math cimport sqrt
from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_WRITABLE,
    PyBuffer_Release,
    PyObject_GetBuffer,
)

import os
import sys
from _thread import allocate_lock as _new_lock

from perfectly._validate import (
    check_choice,
    check_method,
    check_amicable_hi,
    check_range,
    check_range_count,
    check_single,
    check_sum_sigma_x,
    check_trial_hi,
)

#: How this extension was compiled (see setup.py).
BUILD_FLAGS = {"march_native": bool(PERFECTLY_MARCH_NATIVE), "debug": bool(PERFECTLY_DEBUG)}

cdef enum:
    SMALL_TRIAL = 1 << 10    # single-n factoring trial-divides by the odd primes below this

# C constants, not module globals: an interpreter importing the module writes nothing
# another may read.
cdef extern from *:
    """
    #define PF_U64_MAX ((uint64_t)0xFFFFFFFFFFFFFFFFu)
    #define PF_U32_MAX ((uint64_t)0xFFFFFFFFu)
    """
    const uint64_t U64_MAX "PF_U64_MAX"
    const uint64_t U32_MAX "PF_U32_MAX"

# Process-wide, shared by every interpreter that imports this module (each may have its
# own GIL): written once, under pf_lock, by the first importer (_init_once), then only read.
# No initialisers: C zero-initialises them, and an initialiser would be executed again by
# each importing interpreter, resetting what the others are reading.
cdef bint _built              # the tables below are made, and _cpu chosen
cdef uint32_t* _p             # odd primes below SMALL_TRIAL (the sieve's: _primes.h)
cdef uint64_t* _pinv          # p⁻¹ mod 2⁶⁴: n·p⁻¹ is n/p when p divides n
cdef uint64_t* _plim          # ⌊(2⁶⁴−1)/p⌋: p divides n iff n·p⁻¹ ≤ this
cdef Py_ssize_t _np_small     # how many of them there are
cdef pf_target _cpu             # the build of the hot loops in use (chosen at import)


# ---------------------------------------------------------------- small helpers

cdef inline uint64_t isqrt64(uint64_t n) noexcept nogil:
    cdef uint64_t r = <uint64_t>sqrt(<double>n)
    if r > U32_MAX:
        r = U32_MAX
    while r * r > n:
        r -= 1
    while r < U32_MAX and (r + 1) * (r + 1) <= n:
        r += 1
    return r


cdef inline void add64(u128* a, uint64_t v) noexcept nogil:
    a.lo += v
    a.hi += a.lo < v


cdef inline u128 mul64(uint64_t a, uint64_t b) noexcept nogil:
    cdef u128 r
    r.lo = a * b
    r.hi = pf_mulhi(a, b)
    return r


cdef inline u128 mul128(u128 a, u128 b) noexcept nogil:
    """a·b mod 2¹²⁸ (callers keep products below 2¹²⁸)."""
    cdef u128 r
    r.lo = a.lo * b.lo
    r.hi = pf_mulhi(a.lo, b.lo) + a.hi * b.lo + a.lo * b.hi
    return r


cdef inline object u128_to_int(u128 a):
    return (int(a.hi) << 64) | int(a.lo)


cdef inline uint64_t gcd64(uint64_t a, uint64_t b) noexcept nogil:
    cdef int shift
    cdef uint64_t t
    if a == 0:
        return b
    if b == 0:
        return a
    shift = pf_ctz64(a | b)
    a >>= pf_ctz64(a)
    while b != 0:
        b >>= pf_ctz64(b)
        if a > b:
            t = a
            a = b
            b = t
        b -= a
    return a << shift


# ------------------------------------------- single-n factorisation and σ (nogil)

# Textual includes (_factor.pxi, _ranges.pxi), not modules of their own: one extension,
# whose module-level C state (the prime table, the CPU build in use) they share.
include "_factor.pxi"


# ------------------------------------------- range routines (nogil), and the Σσ oracle

# The sieve itself is C (_sieve.h, _sieve_block.h, _sieve_kernels.h, _primes.h); the
# sweeps that run it over a range, segment by segment, are here.
include "_ranges.pxi"


cdef inline u128 triangle(uint64_t q) noexcept nogil:
    """q(q+1)/2 in 128 bits, for any q < 2⁶⁴."""
    if q & 1:
        return mul64(q, (q >> 1) + 1)
    return mul64(q >> 1, q + 1)


cdef u128 sum_sigma_u128(uint64_t x) noexcept nogil:
    """Σ_{k≤x} σ(k) = Σ_{d≤x} d·⌊x/d⌋, by the Dirichlet hyperbola method in O(√x).

    With s = ⌊√x⌋: Σ_{m≤s} T(⌊x/m⌋) + Σ_{d≤s} d·⌊x/d⌋ − s·T(s), T(y) = y(y+1)/2.
    Arithmetic is mod 2¹²⁸, and the result (< 0.83·x²) fits.
    """
    cdef uint64_t s = isqrt64(x)
    cdef uint64_t m, q
    cdef u128 total, t, ts
    total.hi = 0
    total.lo = 0
    for m in range(1, s + 1):
        q = x / m
        t = triangle(q)
        total.lo += t.lo
        total.hi += t.hi + (total.lo < t.lo)
        t = mul64(m, q)
        total.lo += t.lo
        total.hi += t.hi + (total.lo < t.lo)
    ts = triangle(s)
    t = mul128(ts, mul64(s, 1))
    total.hi -= t.hi + (total.lo < t.lo)
    total.lo -= t.lo
    return total


# ------------------------------------------------------------ import-time table

cdef int _build_table() except -1:
    global _p, _pinv, _plim, _np_small
    cdef uint8_t* composite = <uint8_t*>calloc(SMALL_TRIAL, 1)
    cdef Py_ssize_t i, j, k
    if composite == NULL:
        raise MemoryError()
    i = 3
    while i * i < SMALL_TRIAL:
        if not composite[i]:
            for j in range(i * i, SMALL_TRIAL, 2 * i):
                composite[j] = 1
        i += 2
    k = 0
    for i in range(3, SMALL_TRIAL, 2):
        k += not composite[i]
    _p = <uint32_t*>malloc(k * sizeof(uint32_t))
    _pinv = <uint64_t*>malloc(k * sizeof(uint64_t))
    _plim = <uint64_t*>malloc(k * sizeof(uint64_t))
    if _p == NULL or _pinv == NULL or _plim == NULL:
        free(composite)
        raise MemoryError()
    k = 0
    for i in range(3, SMALL_TRIAL, 2):
        if not composite[i]:
            _p[k] = <uint32_t>i
            _pinv[k] = pf_inv64(<uint64_t>i)
            _plim[k] = U64_MAX / <uint64_t>i
            k += 1
    free(composite)
    _np_small = k
    pf_init_tables()
    return 0


cdef tuple _choose_cpu_target(bint first):
    """The builds of the hot loops this CPU can run (baseline first), and the one in use:
    the best of them, or the one PERFECTLY_CPU_TARGET names (for tests, benchmarks). The
    first importer puts it in use; a later one must want the same (one per process)."""
    global _cpu
    cdef pf_target builds[4]
    cdef int i, n = pf_targets(builds)
    names = tuple([builds[i].name.decode() for i in range(n)])
    wanted = os.environ.get("PERFECTLY_CPU_TARGET", "") or names[n - 1]
    if wanted not in names:
        raise ImportError(f"PERFECTLY_CPU_TARGET={wanted!r}: this CPU runs only {names}")
    if first:
        _cpu = builds[names.index(wanted)]
    elif wanted != _cpu.name.decode():
        raise ImportError(
            f"PERFECTLY_CPU_TARGET={wanted!r}: this process already runs "
            f"{_cpu.name.decode()!r}, chosen when another interpreter imported this module"
        )
    return names, wanted


cdef tuple _init_once():
    """Build the process-wide tables and choose the CPU build, once per process.

    Every interpreter that imports this module runs this; the first builds, later ones
    find ``_built`` set and only read. ``pf_lock`` is a static process-wide lock, taken
    without holding this interpreter's GIL (so a waiter never blocks the builder, whatever
    interpreter or GIL it runs under), and released however the build ends; a failed
    build leaves ``_built`` False for the next importer to try again.
    """
    global _built
    with nogil:
        pf_lock()
    try:
        if not _built:
            _build_table()
        targets = _choose_cpu_target(not _built)
        _built = True
        return targets
    finally:
        pf_unlock()


#: The builds of the hot loops this CPU can run, and the one in use (see _sieve.h).
CPU_TARGETS, CPU_TARGET = _init_once()


# ------------------------------------------------------------- Python entry points

cdef inline void raise_for(int rc, uint64_t bad, bint aliquot=False) except *:
    if rc == ERR_NOMEM:
        raise MemoryError("perfectly: out of memory in the sieve")
    if rc == ERR_OVERFLOW:
        what = f"s({bad}) = sigma(n) - n" if aliquot else f"sigma({bad})"
        raise OverflowError(f"{what} is 2**64 or more: it does not fit in uint64")
    if rc == ERR_TOO_MANY:
        raise RuntimeError(
            f"more than {MAX_FOUND} multiply-perfect numbers in one chunk; split the range"
        )


def sigma(n):
    """σ(n) for 1 ≤ n < 2**64, exact (the result may exceed 2**64)."""
    cdef uint64_t v = check_single(n, "n", 2**64)
    cdef u128 r
    with nogil:
        r = sigma_u128(v)
    return u128_to_int(r)


def is_prime(n):
    """Whether 0 ≤ n < 2**64 is prime (deterministic Miller–Rabin)."""
    cdef uint64_t v = check_single(n, "n", 2**64, minimum=0)
    cdef bint r
    with nogil:
        r = is_prime64(v)
    return bool(r)


_UINT64_FORMATS = frozenset(
    [b"Q", b"@Q", b"=Q", b"<Q" if sys.byteorder == "little" else b">Q"]
    + ([b"L", b"@L"] if sizeof(unsigned long) == 8 else [])
)


cdef uint64_t* uint64_buffer(object out, Py_buffer* view) except NULL:
    """The writable, C-contiguous 1-D uint64 buffer of ``out`` (released by the caller).

    The buffer protocol itself rather than a typed memoryview: Cython's memoryview support
    keeps Python objects and locks in C globals, which interpreters with their own GIL
    must not share."""
    PyObject_GetBuffer(out, view, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
    if view.ndim != 1 or view.itemsize != 8 or view.format not in _UINT64_FORMATS:
        fmt = view.format.decode("ascii", "replace")
        PyBuffer_Release(view)
        raise ValueError(
            f"out must be a 1-D buffer of uint64, got format {fmt!r} with {view.ndim} dims"
        )
    return <uint64_t*>view.buf


cdef enum:
    OP_SUMMARY = 0
    OP_FILL = 1
    OP_AMICABLE = 2

# One job for a sweep: what to do with its numbers up to offset `upto` (patient: all of
# them; else it may return after a step of a sieve's set-up, with fewer).
ctypedef struct Job:
    int op
    bint patient
    uint64_t upto
    Summary* summary
    Pairs* pairs
    uint64_t* out
    bint aliquot
    uint64_t bad


cdef int do_job(SweepState* sw, Job* job) noexcept nogil:
    sw.patient = job.patient
    if job.op == OP_FILL:
        return sweep_fill(sw, job.upto, job.out, job.aliquot, &job.bad)
    if job.op == OP_AMICABLE:
        return sweep_amicable(sw, job.upto, job.summary, job.pairs)
    return sweep_summarize(sw, job.upto, job.summary)


cdef int run_job(SweepState* sw, Job* job, bint release_gil) except -9:
    """Run the job, without the GIL unless release_gil is False (the benchmark's contrast);
    raise what its error code means."""
    cdef int rc
    if release_gil:
        with nogil:
            rc = do_job(sw, job)
    else:
        rc = do_job(sw, job)
    raise_for(rc, job.bad, job.op == OP_FILL and job.aliquot)
    return 0


cdef int check_path(object path) except -1:
    """The way a sweep goes: "auto" (by the cost model, segment by segment), or "sieve"
    or "factor" (number by number) forced, which tests use to check one by the other."""
    return ("auto", "sieve", "factor").index(check_choice(path, "path", PATHS))


#: The ways a sweep may go (the ``path`` argument of the range entry points).
PATHS = ("auto", "sieve", "factor")


cdef tuple summary_tuple(Summary* S):
    found = [(S.found_n[i], S.found_k[i]) for i in range(S.nfound)]
    return u128_to_int(S.total), S.abundant, S.deficient, found


def fill_sigma(lo, out, method="sieve", bint aliquot=False, bint release_gil=True,
               path="auto"):
    """Write σ(lo + i) (or s(lo + i) when ``aliquot``) into the uint64 buffer ``out``."""
    cdef Py_buffer view
    cdef uint64_t* values = uint64_buffer(out, &view)
    cdef Py_ssize_t count = view.shape[0]
    cdef SweepState sw
    cdef Job job
    cdef bint trial
    cdef int way
    memset(&job, 0, sizeof(Job))
    sweep_init(&sw, 0, 0, False, PATH_AUTO)
    try:
        lo, hi = check_range_count(lo, count)
        trial = check_method(method) == "trial"
        way = check_path(path)
        if trial:
            check_trial_hi(hi)
        if count == 0:
            return
        sweep_init(&sw, lo, <uint64_t>count, trial, way)
        job.op = OP_FILL
        job.patient = True
        job.upto = <uint64_t>count
        job.out = values
        job.aliquot = aliquot
        run_job(&sw, &job, release_gil)
    finally:
        sweep_close(&sw)
        PyBuffer_Release(&view)


def summarize(lo, hi, method="sieve", bint release_gil=True, path="auto"):
    """Fold σ over [lo, hi): (Σσ, abundant, deficient, [(n, k) with σ(n) = k·n, k ≥ 2])."""
    lo, hi = check_range(lo, hi)
    cdef bint trial = check_method(method) == "trial"
    cdef int way = check_path(path)
    if trial:
        check_trial_hi(hi)
    cdef Summary* S = <Summary*>calloc(1, sizeof(Summary))
    if S == NULL:
        raise MemoryError()
    cdef SweepState sw
    cdef Job job
    memset(&job, 0, sizeof(Job))
    sweep_init(&sw, lo if hi > lo else 1, hi - lo, trial, way)
    try:
        job.op = OP_SUMMARY
        job.patient = True
        job.upto = hi - lo
        job.summary = S
        run_job(&sw, &job, release_gil)
        return summary_tuple(S)
    finally:
        sweep_close(&sw)
        free(S)


def amicable(lo, hi, bint release_gil=True, path="auto"):
    """Amicable pairs (a, b), a < b, with lo ≤ a < hi (b may be ≥ hi); hi ≤ 2**61."""
    lo, hi = check_range(lo, hi)
    check_amicable_hi(hi)
    cdef int way = check_path(path)
    cdef Summary* S = <Summary*>calloc(1, sizeof(Summary))
    if S == NULL:
        raise MemoryError()
    cdef Pairs P
    cdef SweepState sw
    cdef Job job
    cdef Py_ssize_t i
    P.ab = NULL
    P.n = 0
    P.cap = 0
    memset(&job, 0, sizeof(Job))
    sweep_init(&sw, lo if hi > lo else 1, hi - lo, False, way)
    try:
        job.op = OP_AMICABLE
        job.patient = True
        job.upto = hi - lo
        job.summary = S
        job.pairs = &P
        run_job(&sw, &job, release_gil)
        return [(P.ab[2 * i], P.ab[2 * i + 1]) for i in range(P.n)]
    finally:
        sweep_close(&sw)
        free(P.ab)
        free(S)


@cython.auto_pickle(False)  # a sieve's state is no data to send anywhere
cdef class Sweep:
    """[lo, hi), taken in order by successive calls, with the sieve kept between them.

    A sieve's set-up (the first hit of every prime up to √hi: 203 million of them near
    2**64) is paid once per segment, not once per call, so a worker that takes a long
    range in short calls (to stay responsive) runs as fast as one long call. A range
    whose buckets would outgrow the budget (512 MiB) is sieved in segments. One thread
    at a time: a second, concurrent call raises RuntimeError.
    """

    cdef SweepState state
    cdef readonly object lo, hi
    cdef readonly bint amicable
    cdef object _lock

    def __cinit__(self, lo, hi, method="sieve", *, bint amicable=False, path="auto"):
        lo, hi = check_range(lo, hi)
        cdef bint trial = check_method(method) == "trial"
        cdef int way = check_path(path)
        if trial:
            check_trial_hi(hi)
        if amicable:
            check_amicable_hi(hi)
        sweep_init(&self.state, lo if hi > lo else 1, hi - lo, trial, way)  # (lo may be 2**64)
        self.lo, self.hi, self.amicable = lo, hi, amicable
        self._lock = _new_lock()

    def __dealloc__(self):
        sweep_close(&self.state)

    @property
    def position(self):
        """The next number a call takes (hi once every number was taken)."""
        return self.lo + self.state.done

    @property
    def segments(self):
        """How many segments (each with its own set-up, if sieved) were started so far."""
        return self.state.segments

    @property
    def memory(self):
        """The most bytes one segment's sieve held so far (cells, entries, buckets)."""
        held = pf_sieve_bytes(&self.state.sv) if self.state.sv_open else 0
        return max(held, self.state.peak)

    def summarize(self, count, bint release_gil=True):
        """Take the next ``count`` numbers: ``(lo, hi, (Σσ, abundant, deficient, found),
        pairs)``, pairs being the amicable pairs found if the sweep looks for them, else
        None. Fewer at the end, and none while a sieve is being set up: near 2**64 that
        takes a second (and the first time in a process, making the primes, two more),
        done in steps of about 0.05 s, one per call, so that a caller may stop between
        them."""
        count = check_single(count, "count", None)
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("this Sweep is in use by another thread")
        cdef Summary* S = <Summary*>calloc(1, sizeof(Summary))
        cdef Pairs P
        cdef Job job
        cdef Py_ssize_t i
        P.ab = NULL
        P.n = 0
        P.cap = 0
        memset(&job, 0, sizeof(Job))
        try:
            if S == NULL:
                raise MemoryError()
            start = self.lo + self.state.done
            job.op = OP_AMICABLE if self.amicable else OP_SUMMARY
            job.upto = self.state.done + min(count, self.hi - start)
            job.summary = S
            job.pairs = &P
            run_job(&self.state, &job, release_gil)
            pairs = [(P.ab[2 * i], P.ab[2 * i + 1]) for i in range(P.n)]
            return start, self.lo + self.state.done, summary_tuple(S), (
                pairs if self.amicable else None
            )
        finally:
            free(P.ab)
            free(S)
            self._lock.release()

    def fill(self, out, bint aliquot=False, bint release_gil=True):
        """Write σ (or s, when ``aliquot``) of the next len(out) numbers into the uint64
        buffer ``out`` (ValueError if fewer are left)."""
        cdef Py_buffer view
        cdef uint64_t* values = uint64_buffer(out, &view)
        cdef Job job
        memset(&job, 0, sizeof(Job))
        if not self._lock.acquire(blocking=False):
            PyBuffer_Release(&view)
            raise RuntimeError("this Sweep is in use by another thread")
        try:
            if <object>view.shape[0] > self.hi - self.lo - self.state.done:
                raise ValueError(
                    f"out has {view.shape[0]} items, but only "
                    f"{self.hi - self.lo - self.state.done} numbers are left"
                )
            job.op = OP_FILL
            job.patient = True
            job.upto = self.state.done + <uint64_t>view.shape[0]
            job.out = values
            job.aliquot = aliquot
            run_job(&self.state, &job, release_gil)
        finally:
            self._lock.release()
            PyBuffer_Release(&view)


def _segment_length(lo, count):
    """How many numbers of [lo, lo + count) a sweep's first segment takes (for tests of
    the plan's chunk sizes: all, unless its buckets would outgrow the budget)."""
    lo, _ = check_range_count(lo, count)
    if count < 1:
        raise ValueError(f"count must be ≥ 1, got {count}")
    return segment_length(lo, count)


def _sieves(lo, count):
    """Whether a sweep of [lo, lo + count) sieves its first segment (else it factors its
    numbers one by one): the choice a sweep makes, from the primes this process has now
    (the estimate makes the primes only for a search that will sieve)."""
    length = _segment_length(lo, count)  # (which checks lo and count)
    return sieve_pays(lo, length)


def sieving_primes(upto=0):
    """The process's store of sieving primes: how far it reaches, and its bytes; made
    first to reach ``upto`` (≤ 2**32), if it does not already."""
    cdef uint64_t limit = check_single(upto, "upto", 2**32 + 1, minimum=0)
    cdef uint64_t reach
    cdef size_t held
    cdef long long made
    with nogil:
        made = pf_primes_ensure(limit) if limit > 0 else 0
        reach = pf_primes_reach()
        held = pf_primes_bytes()
    if made < 0:
        raise MemoryError("perfectly: out of memory making the sieving primes")
    return {"reach": reach, "bytes": held}


def sum_sigma(x):
    """Σ_{k≤x} σ(k) exactly, for 0 ≤ x < 2**64, in O(x^(1/3) log x) time."""
    cdef uint64_t v = check_sum_sigma_x(x)
    cdef u128 r
    cdef int rc
    with nogil:
        rc = pf_sum_sigma(v, &r.hi, &r.lo)
    if rc < 0:
        raise MemoryError("perfectly: out of memory in sum_sigma")
    return u128_to_int(r)


def _sum_sigma_sqrt(x):
    """sum_sigma by the O(√x) loop, for tests only: the oracle of the fast method."""
    cdef uint64_t v = check_sum_sigma_x(x)
    cdef u128 r
    with nogil:
        r = sum_sigma_u128(v)
    return u128_to_int(r)
