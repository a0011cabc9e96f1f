# Included by _kernel.pyx (textual include: one extension module, and the prime table
# and CPU build it defines are shared). The nogil range jobs behind the entry points.

# ----------------------------------------------------------- range routines

cdef inline uint64_t below_wide(uint64_t lo, uint64_t count) noexcept nogil:
    """How many of [lo, lo + count) lie below WIDE (the 64-bit σ loops take those)."""
    if lo >= WIDE:
        return 0
    return WIDE - lo if count > WIDE - lo else count


cdef int fill_range(uint64_t lo, uint64_t count, uint64_t* out, bint trial,
                    bint aliquot, uint64_t* bad) noexcept nogil:
    """out[i] = σ(lo + i), or s(lo + i) when aliquot; ERR_OVERFLOW sets *bad."""
    cdef uint64_t i, n, narrow, start
    cdef Py_ssize_t b, blen
    cdef Sieve sv
    cdef u128 s
    cdef int rc
    narrow = below_wide(lo, count)
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
    narrow = below_wide(lo, count)
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
