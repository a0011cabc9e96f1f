"""Compiled divisor-sum kernels: σ(n) for one n, for ranges, and range summaries.

Every ``def`` entry point validates its arguments with the GIL held, then does all
of its work inside one ``with nogil:`` region (unless ``release_gil=False``, which
exists only so the benchmark can show what releasing the GIL buys). Nothing here
is shared and mutable: the prime table, the sieve's tables and the choice of the
build of the hot loops for this CPU (_sieve.h) are made once at import and only read.
"""
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.math cimport sqrt

import os

from perfectly._validate import (
    check_method,
    check_amicable_hi,
    check_range,
    check_range_count,
    check_single,
    check_sum_sigma_x,
    check_trial_hi,
)

cdef extern from "_portable.h":
    int PERFECTLY_MARCH_NATIVE
    int PERFECTLY_DEBUG

#: How this extension was compiled (see setup.py).
BUILD_FLAGS = {"march_native": bool(PERFECTLY_MARCH_NATIVE), "debug": bool(PERFECTLY_DEBUG)}

cdef enum:
    TABLE_LIMIT = 1 << 20    # odd primes below this are kept in the table
    SMALL_TRIAL = 1 << 10    # single-n factoring trial-divides by primes below this

# Below WIDE every σ(n) fits in 64 bits (Robin's bound: σ(n) < 6.85 n there), so the
# range loops use 64-bit σ; from WIDE on, σ is computed per n in 128 bits.
cdef uint64_t WIDE = (<uint64_t>1) << 61
cdef uint64_t U64_MAX = <uint64_t>0xFFFFFFFFFFFFFFFF
cdef uint64_t U32_MAX = 0xFFFFFFFF

cdef uint32_t* _p = NULL      # odd primes below TABLE_LIMIT
cdef uint64_t* _pinv = NULL   # p⁻¹ mod 2⁶⁴: n·p⁻¹ is n/p when p divides n
cdef uint64_t* _plim = NULL   # ⌊(2⁶⁴−1)/p⌋: p divides n iff n·p⁻¹ ≤ this
cdef Py_ssize_t _np = 0
cdef Py_ssize_t _np_small = 0  # how many of them are below SMALL_TRIAL
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


# ------------------------------------------------- Montgomery arithmetic mod odd n

ctypedef struct Mont:
    uint64_t n
    uint64_t ninv   # n⁻¹ mod 2⁶⁴
    uint64_t one    # 2⁶⁴ mod n: 1 in Montgomery form
    uint64_t r2     # 2¹²⁸ mod n: converts into Montgomery form


cdef inline uint64_t addmod(uint64_t a, uint64_t b, uint64_t n) noexcept nogil:
    cdef uint64_t s = a + b
    if s < a or s >= n:
        s -= n
    return s


cdef inline uint64_t mmul(uint64_t a, uint64_t b, const Mont* m) noexcept nogil:
    """a·b·2⁻⁶⁴ mod n for a, b < n (REDC with n⁻¹; no 128-bit division)."""
    cdef uint64_t lo = a * b
    cdef uint64_t hi = pf_mulhi(a, b)
    cdef uint64_t h = pf_mulhi(lo * m.ninv, m.n)
    cdef uint64_t r = hi - h
    if hi < h:
        r += m.n
    return r


cdef inline void mont_init(Mont* m, uint64_t n) noexcept nogil:
    cdef int _
    cdef uint64_t r2
    m.n = n
    m.ninv = pf_inv64(n)
    m.one = (0 - n) % n
    r2 = m.one
    for _ in range(64):
        r2 = addmod(r2, r2, n)
    m.r2 = r2


cdef inline uint64_t to_mont(uint64_t a, const Mont* m) noexcept nogil:
    return mmul(a % m.n, m.r2, m)


cdef inline uint64_t mpow(uint64_t a, uint64_t e, const Mont* m) noexcept nogil:
    cdef uint64_t r = m.one
    while e:
        if e & 1:
            r = mmul(r, a, m)
        a = mmul(a, a, m)
        e >>= 1
    return r


cdef uint64_t[7] MR_BASES = [2, 325, 9375, 28178, 450775, 9780504, 1795265022]
cdef uint64_t[12] SMALL_PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]


cdef bint is_prime64(uint64_t n) noexcept nogil:
    """Deterministic Miller–Rabin for every n < 2⁶⁴ (Sinclair's seven bases)."""
    cdef Mont m
    cdef uint64_t d, x, minus_one
    cdef int s, i, _
    cdef bint witness
    if n < 2:
        return False
    for i in range(12):
        if n % SMALL_PRIMES[i] == 0:
            return n == SMALL_PRIMES[i]
    if n < 37 * 37:
        return True
    mont_init(&m, n)
    minus_one = n - m.one
    d = n - 1
    s = pf_ctz64(d)
    d >>= s
    for i in range(7):
        if MR_BASES[i] % n == 0:
            continue
        x = mpow(to_mont(MR_BASES[i], &m), d, &m)
        if x == m.one or x == minus_one:
            continue
        witness = True
        for _ in range(1, s):
            x = mmul(x, x, &m)
            if x == minus_one:
                witness = False
                break
        if witness:
            return False
    return True


cdef uint64_t pollard_brent(uint64_t n) noexcept nogil:
    """A non-trivial factor of the odd composite n, or 0 if every try failed."""
    cdef Mont m
    cdef uint64_t c, cm, y, x, ys, q, g, diff
    cdef uint64_t r, k, _, lim
    mont_init(&m, n)
    for c in range(1, 64):
        cm = to_mont(c, &m)
        y = to_mont(2, &m)
        x = y
        ys = y
        q = m.one
        g = 1
        r = 1
        while g == 1:
            x = y
            for _ in range(r):
                y = addmod(mmul(y, y, &m), cm, n)
            k = 0
            while k < r and g == 1:
                ys = y
                lim = r - k if r - k < 128 else 128
                for _ in range(lim):
                    y = addmod(mmul(y, y, &m), cm, n)
                    diff = x - y if x > y else y - x
                    q = mmul(q, diff, &m)
                g = gcd64(q, n)
                k += 128
            r *= 2
        if g == n:
            g = 1
            while g == 1:
                ys = addmod(mmul(ys, ys, &m), cm, n)
                diff = x - ys if x > ys else ys - x
                g = gcd64(diff, n)
        if g != n:
            return g
    return 0


# ------------------------------------------------------------ factorisation and σ

cdef int factor_rough(uint64_t n, uint64_t* fac, int nfac) noexcept nogil:
    """Append the prime factors of n to fac; n has no prime factor below SMALL_TRIAL.

    Returns the new count. n < 2⁶⁴ has at most 63 prime factors, so 64 slots do.
    """
    cdef uint64_t stack[64]
    cdef int sp = 1
    cdef uint64_t m, d, r
    stack[0] = n
    while sp > 0:
        sp -= 1
        m = stack[sp]
        if m == 1:
            continue
        if m < <uint64_t>SMALL_TRIAL * SMALL_TRIAL or is_prime64(m):
            fac[nfac] = m
            nfac += 1
            continue
        r = isqrt64(m)
        if r * r == m:
            stack[sp] = r
            stack[sp + 1] = r
            sp += 2
            continue
        d = pollard_brent(m)
        if d == 0:  # never seen; trial division is slow but cannot be wrong
            d = SMALL_TRIAL | 1
            while m % d != 0:
                d += 2
        stack[sp] = d
        stack[sp + 1] = m / d
        sp += 2
    return nfac


cdef u128 sigma_of_factors(uint64_t* fac, int nfac) noexcept nogil:
    """σ of the product of the primes in fac (sorted here, in place)."""
    cdef int i, j
    cdef uint64_t t, p, pk
    cdef u128 total, part
    for i in range(1, nfac):  # insertion sort: at most 63 entries
        t = fac[i]
        j = i - 1
        while j >= 0 and fac[j] > t:
            fac[j + 1] = fac[j]
            j -= 1
        fac[j + 1] = t
    total.hi = 0
    total.lo = 1
    i = 0
    while i < nfac:
        p = fac[i]
        pk = 1
        part.hi = 0
        part.lo = 1
        while i < nfac and fac[i] == p:
            pk *= p
            add64(&part, pk)
            i += 1
        total = mul128(total, part)
    return total


cdef u128 sigma_u128(uint64_t n) noexcept nogil:
    """σ(n) for 1 ≤ n < 2⁶⁴, exact in 128 bits, by factorisation."""
    cdef uint64_t fac[64]
    cdef int nfac = 0
    cdef int tz, _
    cdef Py_ssize_t k
    cdef uint64_t p = 3, inv, lim
    tz = pf_ctz64(n)
    for _ in range(tz):
        fac[nfac] = 2
        nfac += 1
    n >>= tz
    for k in range(_np_small):
        p = _p[k]
        if p * p > n:
            break
        inv = _pinv[k]
        lim = _plim[k]
        while n * inv <= lim:
            n *= inv
            fac[nfac] = p
            nfac += 1
    if n > 1:
        if n < p * p:
            fac[nfac] = n
            nfac += 1
        else:
            nfac = factor_rough(n, fac, nfac)
    return sigma_of_factors(fac, nfac)


cdef inline u128 sigma_rough(uint64_t m) noexcept nogil:
    """σ(m) for m with no prime factor below SMALL_TRIAL."""
    cdef uint64_t fac[64]
    cdef int nfac = factor_rough(m, fac, 0)
    return sigma_of_factors(fac, nfac)


cdef bint sigma_equals(uint64_t b, uint64_t target) noexcept nogil:
    """σ(b) == target, deciding early from the divisibility of target by σ(p^e)."""
    cdef int tz = pf_ctz64(b)
    cdef uint64_t m = b >> tz
    cdef uint64_t part = (((<uint64_t>1) << tz) << 1) - 1
    cdef uint64_t p = 3, inv, lim, pk
    cdef Py_ssize_t k
    cdef u128 whole
    if target % part != 0:
        return False
    target /= part
    for k in range(_np_small):
        p = _p[k]
        if p * p > m:
            break
        inv = _pinv[k]
        lim = _plim[k]
        if m * inv <= lim:
            part = 1
            pk = 1
            while m * inv <= lim:
                m *= inv
                pk *= p
                part += pk
            if part < pk:  # σ(p^e) ≥ 2⁶⁴ > target
                return False
            if target % part != 0:
                return False
            target /= part
    if m == 1:
        return target == 1
    if m < p * p:  # m has no prime factor ≤ √m: it is prime
        return target == m + 1
    if target <= m:
        return False
    if target == m + 1:
        return is_prime64(m)
    whole = sigma_rough(m)
    return whole.hi == 0 and whole.lo == target


# ------------------------------------------------------------------- the sieve

cdef Py_ssize_t primes_upto(uint64_t x) noexcept nogil:
    """How many table primes are ≤ x."""
    cdef Py_ssize_t a = 0, b = _np, mid
    while a < b:
        mid = (a + b) // 2
        if _p[mid] <= x:
            a = mid + 1
        else:
            b = mid
    return a


cdef uint64_t rough_sigma(uint64_t m) noexcept nogil:
    """σ(m) of a rough sieve cofactor (it fits: n < WIDE)."""
    return sigma_rough(m).lo


cdef inline uint64_t cell_sigma(const Cell* c, bint rough) noexcept nogil:
    """σ(n) of a sieved cell: what is left of n is 1 or a prime, unless ``rough``
    (table primes stop below √n), when a cofactor above ROUGH may be composite."""
    cdef uint64_t r = c.rem
    if rough and r > ROUGH:
        return c.sig * rough_sigma(r)
    return c.sig * (r + (r > 1))


cdef int sieve_open(Sieve* sv, uint64_t lo, uint64_t count) noexcept nogil:
    """Scratch and sieve entries for [lo, lo + count), count ≥ 1, lo + count ≤ WIDE."""
    cdef uint64_t root = isqrt64(lo + count - 1)
    return pf_sieve_open(sv, lo, count, _p, _pinv, primes_upto(root), root >= TABLE_LIMIT)


cdef inline Py_ssize_t sieve_next(Sieve* sv, uint64_t start) noexcept nogil:
    """Sieve the block at offset ``start`` (a multiple of BLOCK; blocks in order) into
    sv.cells, and return its length."""
    _cpu.block(sv, start >> LOG_BLOCK)
    return <Py_ssize_t>(sv.count - start if sv.count - start < BLOCK else BLOCK)


# ----------------------------------------------------------- range routines

cdef int fill_range(uint64_t lo, uint64_t count, uint64_t* out, bint trial,
                    bint aliquot, uint64_t* bad) noexcept nogil:
    """out[i] = σ(lo + i), or s(lo + i) when aliquot; ERR_OVERFLOW sets *bad."""
    cdef uint64_t i, n, narrow, start
    cdef Py_ssize_t b, blen
    cdef Sieve sv
    cdef u128 s
    cdef int rc
    narrow = 0
    if lo < WIDE:
        narrow = WIDE - lo if count > WIDE - lo else count
    if trial:
        for i in range(narrow):
            n = lo + i
            out[i] = _cpu.trial(n) - (n if aliquot else 0)
    elif narrow > 0:
        rc = sieve_open(&sv, lo, narrow)
        if rc < 0:
            return rc
        start = 0
        while start < narrow:
            blen = sieve_next(&sv, start)
            for b in range(blen):
                n = lo + start + <uint64_t>b
                out[start + b] = cell_sigma(&sv.cells[b], sv.rough) - (n if aliquot else 0)
            start += BLOCK
        pf_sieve_close(&sv)
    for i in range(narrow, count):
        n = lo + i
        s = sigma_u128(n)
        if aliquot:
            s.hi -= s.lo < n
            s.lo -= n
        if s.hi != 0:
            bad[0] = n
            return ERR_OVERFLOW
        out[i] = s.lo
    return 0


cdef int record(Summary* S, uint64_t n, uint64_t k) noexcept nogil:
    """Keep n, with σ(n) = k·n, in the summary's list of (multiply-)perfect numbers."""
    if S.nfound == MAX_FOUND:
        return ERR_TOO_MANY
    S.found_n[S.nfound] = n
    S.found_k[S.nfound] = k
    S.nfound += 1
    return 0


cdef int note_wide(Summary* S, uint64_t n, u128 sig) noexcept nogil:
    """Fold σ(n) of one n ≥ WIDE, where σ(n) needs 128 bits, into the summary."""
    cdef u128 kn
    cdef uint64_t k
    S.total.lo += sig.lo
    S.total.hi += sig.hi + (S.total.lo < sig.lo)
    kn = mul64(n, 2)
    if sig.hi < kn.hi or (sig.hi == kn.hi and sig.lo < kn.lo):
        S.deficient += 1
        return 0
    if sig.hi != kn.hi or sig.lo != kn.lo:
        S.abundant += 1
    for k in range(2, 16):  # σ(n)/n < 7 for every n < 2⁶⁴
        kn = mul64(n, k)
        if kn.hi == sig.hi and kn.lo == sig.lo:
            return record(S, n, k)
    return 0


cdef int summarize_range(uint64_t lo, uint64_t count, bint trial,
                         Summary* out) noexcept nogil:
    """Fold σ over [lo, lo + count) into *out (which the caller zeroed)."""
    cdef uint64_t i, narrow, start
    cdef Py_ssize_t b, blen
    cdef Sieve sv
    cdef Cell* cells
    cdef int rc = 0
    narrow = 0
    if lo < WIDE:
        narrow = WIDE - lo if count > WIDE - lo else count
    if trial and narrow > 0:
        cells = <Cell*>malloc(BLOCK * sizeof(Cell))
        if cells == NULL:
            return ERR_NOMEM
        start = 0
        while start < narrow:
            blen = <Py_ssize_t>(narrow - start if narrow - start < BLOCK else BLOCK)
            for b in range(blen):
                cells[b].rem = 1
                cells[b].sig = _cpu.trial(lo + start + <uint64_t>b)
            rc = _cpu.fold(out, lo + start, blen, cells, False, rough_sigma)
            if rc < 0:
                break
            start += BLOCK
        free(cells)
    elif narrow > 0:
        rc = sieve_open(&sv, lo, narrow)
        if rc < 0:
            return rc
        start = 0
        while start < narrow:
            blen = sieve_next(&sv, start)
            rc = _cpu.fold(out, lo + start, blen, sv.cells, sv.rough, rough_sigma)
            if rc < 0:
                break
            start += BLOCK
        pf_sieve_close(&sv)
    for i in range(narrow, count):
        if rc < 0:
            break
        rc = note_wide(out, lo + i, sigma_u128(lo + i))
    return rc


cdef int pairs_add(Pairs* P, uint64_t a, uint64_t b) noexcept nogil:
    cdef uint64_t* grown
    if P.n == P.cap:
        P.cap = 64 if P.cap == 0 else 2 * P.cap
        grown = <uint64_t*>realloc(P.ab, 2 * P.cap * sizeof(uint64_t))
        if grown == NULL:
            return ERR_NOMEM
        P.ab = grown
    P.ab[2 * P.n] = a
    P.ab[2 * P.n + 1] = b
    P.n += 1
    return 0


cdef int amicable_range(uint64_t lo, uint64_t count, Pairs* out) noexcept nogil:
    """Amicable pairs (a, b), a < b, with a in [lo, lo + count); needs lo + count ≤ WIDE.

    σ(a) comes from the sieve; the partner b = σ(a) − a of an abundant a is checked
    in the same block when it lies there, else by sigma_equals(b, σ(a)), which
    rejects most partners after a few small-prime divisions.
    """
    cdef uint64_t start, a, sa, b, end
    cdef Py_ssize_t i, blen
    cdef Sieve sv
    cdef bint hit
    cdef int rc
    if count == 0:
        return 0
    rc = sieve_open(&sv, lo, count)
    if rc < 0:
        return rc
    start = 0
    while start < count:
        blen = sieve_next(&sv, start)
        end = lo + start + <uint64_t>blen
        for i in range(blen):
            a = lo + start + <uint64_t>i
            sa = cell_sigma(&sv.cells[i], sv.rough)
            if sa <= a + a:
                continue
            b = sa - a
            if b < end:
                hit = cell_sigma(&sv.cells[b - lo - start], sv.rough) == sa
            else:
                hit = sigma_equals(b, sa)
            if hit:
                rc = pairs_add(out, a, b)
                if rc < 0:
                    break
        if rc < 0:
            break
        start += BLOCK
    pf_sieve_close(&sv)
    return rc


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
    global _p, _pinv, _plim, _np, _np_small
    cdef uint8_t* composite = <uint8_t*>calloc(TABLE_LIMIT, 1)
    cdef Py_ssize_t i, j, k
    if composite == NULL:
        raise MemoryError()
    i = 3
    while i * i < TABLE_LIMIT:
        if not composite[i]:
            for j in range(i * i, TABLE_LIMIT, 2 * i):
                composite[j] = 1
        i += 2
    k = 0
    for i in range(3, TABLE_LIMIT, 2):
        k += not composite[i]
    _p = <uint32_t*>malloc(k * sizeof(uint32_t))
    _pinv = <uint64_t*>malloc(k * sizeof(uint64_t))
    _plim = <uint64_t*>malloc(k * sizeof(uint64_t))
    if _p == NULL or _pinv == NULL or _plim == NULL:
        free(composite)
        raise MemoryError()
    k = 0
    for i in range(3, TABLE_LIMIT, 2):
        if not composite[i]:
            _p[k] = <uint32_t>i
            _pinv[k] = pf_inv64(<uint64_t>i)
            _plim[k] = U64_MAX / <uint64_t>i
            k += 1
    free(composite)
    _np = k
    _np_small = primes_upto(SMALL_TRIAL)
    pf_init_tables()
    return 0


cdef tuple _choose_cpu_target():
    """The builds of the hot loops this CPU can run (baseline first), and the one put in
    use: the best of them, or the one PERFECTLY_CPU_TARGET names (for tests, benchmarks)."""
    global _cpu
    cdef pf_target builds[4]
    cdef int i, n = pf_targets(builds)
    names = tuple([builds[i].name.decode() for i in range(n)])
    wanted = os.environ.get("PERFECTLY_CPU_TARGET", "") or names[n - 1]
    if wanted not in names:
        raise ImportError(f"PERFECTLY_CPU_TARGET={wanted!r}: this CPU runs only {names}")
    _cpu = builds[names.index(wanted)]
    return names, wanted


_build_table()
#: The builds of the hot loops this CPU can run, and the one in use (see _sieve.h).
CPU_TARGETS, CPU_TARGET = _choose_cpu_target()


# ------------------------------------------------------------- Python entry points

cdef inline void raise_for(int rc, uint64_t bad) except *:
    if rc == ERR_NOMEM:
        raise MemoryError("perfectly: out of memory in the sieve")
    if rc == ERR_OVERFLOW:
        raise OverflowError(f"sigma({bad}) is 2**64 or more: it does not fit in uint64")
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


def fill_sigma(lo, uint64_t[::1] out, method="sieve", bint aliquot=False,
               bint release_gil=True):
    """Write σ(lo + i) (or s(lo + i) when ``aliquot``) into the uint64 buffer ``out``."""
    cdef Py_ssize_t count = out.shape[0]
    lo, hi = check_range_count(lo, count)
    cdef bint trial = check_method(method) == "trial"
    if trial:
        check_trial_hi(hi)
    if count == 0:
        return
    cdef uint64_t start = lo
    cdef uint64_t bad = 0
    cdef int rc
    if release_gil:
        with nogil:
            rc = fill_range(start, <uint64_t>count, &out[0], trial, aliquot, &bad)
    else:
        rc = fill_range(start, <uint64_t>count, &out[0], trial, aliquot, &bad)
    raise_for(rc, bad)


def summarize(lo, hi, method="sieve", bint release_gil=True):
    """Fold σ over [lo, hi): (Σσ, abundant, deficient, [(n, k) with σ(n) = k·n, k ≥ 2])."""
    lo, hi = check_range(lo, hi)
    cdef bint trial = check_method(method) == "trial"
    if trial:
        check_trial_hi(hi)
    cdef Summary* S = <Summary*>calloc(1, sizeof(Summary))
    if S == NULL:
        raise MemoryError()
    cdef uint64_t start = lo
    cdef uint64_t count = hi - lo
    cdef int rc
    cdef Py_ssize_t i
    try:
        if release_gil:
            with nogil:
                rc = summarize_range(start, count, trial, S)
        else:
            rc = summarize_range(start, count, trial, S)
        raise_for(rc, 0)
        found = [(S.found_n[i], S.found_k[i]) for i in range(S.nfound)]
        return u128_to_int(S.total), S.abundant, S.deficient, found
    finally:
        free(S)


def amicable(lo, hi, bint release_gil=True):
    """Amicable pairs (a, b), a < b, with lo ≤ a < hi (b may be ≥ hi); hi ≤ 2**61."""
    lo, hi = check_range(lo, hi)
    check_amicable_hi(hi)
    cdef Pairs P
    P.ab = NULL
    P.n = 0
    P.cap = 0
    cdef uint64_t start = lo
    cdef uint64_t count = hi - lo
    cdef int rc
    cdef Py_ssize_t i
    try:
        if release_gil:
            with nogil:
                rc = amicable_range(start, count, &P)
        else:
            rc = amicable_range(start, count, &P)
        raise_for(rc, 0)
        return [(P.ab[2 * i], P.ab[2 * i + 1]) for i in range(P.n)]
    finally:
        free(P.ab)


cdef extern from "_divisor_summatory.h" nogil:
    int pf_sum_sigma(uint64_t x, uint64_t* hi, uint64_t* lo)


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
