# Included by _kernel.pyx (textual include: one extension module, and the prime table
# and CPU build it defines are shared). The nogil range jobs behind the entry points.

from libc.math cimport log as c_log

# ----------------------------------------------------------------- a sweep of a range

cdef enum:
    PATH_AUTO = 0     # per segment, whichever the cost model finds cheaper
    PATH_SIEVE = 1    # always the sieve
    PATH_FACTOR = 2   # always number by number (σ by factorisation)

cdef enum:
    # A set-up step near 2⁶⁴: 16 segments of primes to make (≈ 35 ms), or 2048 batches of
    # 4096 primes to place (≈ 30 ms); then a call that may not wait returns.
    PRIME_STEP = 16
    SETUP_STEP = 2048
    NOT_READY = 1     # (a return code: the set-up took its step; call again)

cdef enum:
    KIND_NARROW = 0   # block in sw.sv.cells (or sw.cells): σ = sig · (1 + rem), rem > 1
    KIND_WIDE = 1     # block in sw.sv.cells and sw.sv.aux: σ in 128 bits (pf_wide_sigma_of)
    KIND_EXACT = 2    # block in sw.exact: σ by factorisation, in 128 bits

cdef enum:
    # The bucket memory a sieve may hold (its large primes' next hits, 8 bytes each): a
    # sweep longer than this allows is sieved in segments, each with its own set-up. Near
    # 2⁶⁴ a segment is then ≈ 4·10⁸ numbers: seconds of work for a set-up of under one.
    BUCKET_BUDGET = 512 * 1024 * 1024

ctypedef struct SweepState:
    uint64_t lo          # the range [lo, lo + count), taken in order
    uint64_t count
    uint64_t done        # numbers taken so far
    bint trial           # method "trial": σ by divisor pairs, number by number
    int path             # PATH_*
    bint by_factor       # the current segment goes number by number
    Sieve sv             # the current segment's sieve, while sv_open
    bint sv_open
    uint64_t seg_end     # offset from lo where the current segment ends
    uint64_t blk         # offset from lo of the current block, blk_len numbers long
    uint64_t blk_len
    int kind             # KIND_* of the current block
    Cell* cells          # scratch for trial blocks
    u128* exact          # scratch for factored blocks
    size_t peak          # the most bytes a segment's sieve held
    uint64_t segments    # segments started so far
    uint64_t seg_root    # √ of the current segment's last number
    bint patient         # this call finishes a set-up; else it returns after a step of it


cdef inline double prime_count(double x) noexcept nogil:
    """π(x), estimated (within a few per cent from 10⁴ on)."""
    if x < 3:
        return 0
    return x / (c_log(x) - 1.1)


cdef double bucket_entries(double length, double root) noexcept nogil:
    """How many large-prime hits a sieve of ``length`` numbers holds at once, at most:
    every large prime ≤ min(length, root) waits for its next hit, and of the others
    about length · Σ 1/p (over length < p ≤ root) hit the range once."""
    cdef double small = length if length < root else root
    cdef double entries = prime_count(small)
    if root > length:
        entries += length * c_log(c_log(root) / c_log(length if length > BLOCK else BLOCK))
    return entries * 1.05


cdef uint64_t segment_length(uint64_t lo, uint64_t count) noexcept nogil:
    """How many of [lo, lo + count) the next segment takes: all, unless its buckets would
    outgrow BUCKET_BUDGET; then the range is cut into equal segments that fit."""
    cdef double root = <double>isqrt64(lo + (count - 1))
    cdef double budget = BUCKET_BUDGET / 8.0
    cdef double fits = <double>count, low = BLOCK, high
    cdef uint64_t pieces
    if bucket_entries(fits, root) <= budget:
        return count
    high = fits
    while high - low > BLOCK:  # the longest length that fits
        fits = (low + high) / 2
        if bucket_entries(fits, root) <= budget:
            low = fits
        else:
            high = fits
    pieces = <uint64_t>(<double>count / low) + 1
    return (count + pieces - 1) // pieces


cdef double sieve_ns(uint64_t x) noexcept nogil:
    """Nanoseconds a sieve spends per number near x (a model for choosing, on the order
    of this machine class; from the large primes' hits per number, ln(ln √x / ln BLOCK))."""
    cdef double r = sqrt(<double>x)
    cdef double hits = c_log(c_log(r) / c_log(<double>BLOCK)) if r > BLOCK else 0
    return 4.0 + 10.0 * hits + (4.0 if x >= WIDE else 0.0)


cdef double setup_ns(uint64_t lo, uint64_t count) noexcept nogil:
    """Nanoseconds to open a sieve of [lo, lo + count): making the primes the process does
    not have yet, then the first hit of each."""
    cdef double root = <double>isqrt64(lo + (count - 1)), reach = <double>pf_primes_reach()
    cdef double making = 0.5 * (root - reach) if root > reach else 0
    return 20000.0 + making + 3.0 * prime_count(root)


cdef double factor_ns(uint64_t x) noexcept nogil:
    """Nanoseconds to factor one n near x (trial division, then Pollard–Brent, whose cost
    grows like the fourth root of n)."""
    return 300.0 + 0.35 * sqrt(sqrt(<double>x))


cdef bint sieve_pays(uint64_t start, uint64_t length) noexcept nogil:
    """Whether a segment of [start, start + length) is cheaper sieved than factored
    number by number, by the cost model above and the primes this process has now."""
    cdef double by_sieve = setup_ns(start, length) + <double>length * sieve_ns(start + (length - 1))
    return <double>length * factor_ns(start + (length - 1)) >= by_sieve


cdef void sweep_init(SweepState* sw, uint64_t lo, uint64_t count, bint trial,
                     int path) noexcept nogil:
    memset(sw, 0, sizeof(SweepState))
    sw.lo = lo
    sw.count = count
    sw.trial = trial
    sw.path = path


cdef void sweep_close_segment(SweepState* sw) noexcept nogil:
    cdef size_t held
    if sw.sv_open:
        held = pf_sieve_bytes(&sw.sv)
        if held > sw.peak:
            sw.peak = held
        pf_sieve_close(&sw.sv)
        sw.sv_open = False


cdef void sweep_close(SweepState* sw) noexcept nogil:
    sweep_close_segment(sw)
    free(sw.cells)
    free(sw.exact)
    sw.cells = NULL
    sw.exact = NULL


cdef int sweep_segment(SweepState* sw) noexcept nogil:
    """Start the next segment at sw.done: a sieve (opened by sweep_ready), or number by
    number."""
    cdef uint64_t start = sw.lo + sw.done, length = segment_length(start, sw.count - sw.done)
    sweep_close_segment(sw)
    sw.seg_end = sw.done + length
    sw.seg_root = isqrt64(start + (length - 1))
    sw.segments += 1
    if sw.path == PATH_AUTO:
        sw.by_factor = not sieve_pays(start, length)
    else:
        sw.by_factor = sw.path == PATH_FACTOR
    if sw.by_factor and sw.exact == NULL:
        sw.exact = <u128*>malloc(BLOCK * sizeof(u128))
        if sw.exact == NULL:
            return ERR_NOMEM
    return 0


cdef int sweep_ready(SweepState* sw) noexcept nogil:
    """Take the current segment's sieve a step closer to sieving (all the way if
    sw.patient): make the primes the process lacks, open the sieve, place its primes.
    0 when it can sieve, NOT_READY after a step, or an error code."""
    cdef int rc
    while True:
        if not sw.sv_open:
            rc = pf_primes_extend(sw.seg_root, PRIME_STEP)
            if rc < 0:
                return ERR_NOMEM
            if rc == 1:
                rc = pf_sieve_open(&sw.sv, sw.lo + sw.done, sw.seg_end - sw.done)
                if rc < 0:
                    return rc
                sw.sv_open = True
                continue  # on to its first step: a small sieve needs no other
        else:
            rc = pf_sieve_setup(&sw.sv, _cpu.firsts, SETUP_STEP)
            if rc < 0:
                return rc
            if rc == 1:
                return 0
        if not sw.patient:
            return NOT_READY


cdef int sweep_block(SweepState* sw) noexcept nogil:
    """Make the block that starts at sw.done (the last one is used up)."""
    cdef uint64_t i, n, length
    cdef int rc
    if sw.trial:
        if sw.cells == NULL:
            sw.cells = <Cell*>malloc(BLOCK * sizeof(Cell))
            if sw.cells == NULL:
                return ERR_NOMEM
        length = sw.count - sw.done if sw.count - sw.done < BLOCK else BLOCK
        for i in range(length):
            sw.cells[i].rem = 1
            sw.cells[i].sig = _cpu.trial(sw.lo + sw.done + i)
        sw.kind = KIND_NARROW
    else:
        if sw.done == sw.seg_end:
            rc = sweep_segment(sw)
            if rc < 0:
                return rc
        if not sw.by_factor and not (sw.sv_open and sw.sv.ready):
            rc = sweep_ready(sw)
            if rc != 0:
                return rc
        length = sw.seg_end - sw.done if sw.seg_end - sw.done < BLOCK else BLOCK
        if sw.by_factor:
            for i in range(length):
                sw.exact[i] = sigma_u128(sw.lo + sw.done + i)
            sw.kind = KIND_EXACT
        else:
            rc = _cpu.block(&sw.sv)
            if rc < 0:
                return rc
            sw.kind = KIND_WIDE if rc == 1 else KIND_NARROW
    sw.blk = sw.done
    sw.blk_len = length
    return 0


cdef inline Cell* sweep_cells(SweepState* sw) noexcept nogil:
    return sw.cells if sw.trial else sw.sv.cells


cdef inline u128 block_sigma(SweepState* sw, uint64_t i) noexcept nogil:
    """σ of the number at index i of the current block."""
    cdef Cell* c
    cdef u128 s
    if sw.kind == KIND_EXACT:
        return sw.exact[i]
    if sw.kind == KIND_WIDE:
        return pf_wide_sigma_of(sw.lo + sw.blk + i, &sw.sv.cells[i], sw.sv.aux[i])
    c = &sweep_cells(sw)[i]
    s.hi = 0
    s.lo = c.sig * (c.rem + (c.rem > 1))
    return s


cdef inline uint64_t sweep_piece(SweepState* sw, int* rc) noexcept nogil:
    """The index in the current block of the sweep's next number (sw.done), making the
    next block first when the current one is used up (*rc: NOT_READY if a sieve's
    set-up took a step instead, or an error code)."""
    if sw.done == sw.blk + sw.blk_len:
        rc[0] = sweep_block(sw)
    return sw.done - sw.blk


# ----------------------------------------------------------------- what a sweep feeds

cdef int record(Summary* S, uint64_t n, uint64_t k) noexcept nogil:
    """Keep n, with σ(n) = k·n, in the summary's list of (multiply-)perfect numbers."""
    if S.nfound == MAX_FOUND:
        return ERR_TOO_MANY
    S.found_n[S.nfound] = n
    S.found_k[S.nfound] = k
    S.nfound += 1
    return 0


cdef int note_exact(Summary* S, uint64_t n, u128 sig) noexcept nogil:
    """Fold σ(n) of one n, given in 128 bits, into the summary."""
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
    for k in range(2, 8):  # σ(n)/n < 7 for every n < 2⁶⁴
        kn = mul64(n, k)
        if kn.hi == sig.hi and kn.lo == sig.lo:
            return record(S, n, k)
    return 0


cdef int fold_piece(SweepState* sw, uint64_t i0, uint64_t take, Summary* S) noexcept nogil:
    """Fold σ of the current block's numbers i0 … i0 + take − 1 into *S."""
    cdef uint64_t i
    cdef int rc = 0
    if sw.kind == KIND_NARROW:
        return _cpu.fold(S, sw.lo + sw.blk + i0, take, &sweep_cells(sw)[i0])
    if sw.kind == KIND_WIDE:
        return _cpu.fold_wide(S, sw.lo + sw.blk + i0, take, &sw.sv.cells[i0], &sw.sv.aux[i0])
    for i in range(take):
        rc = note_exact(S, sw.lo + sw.blk + i0 + i, sw.exact[i0 + i])
        if rc < 0:
            break
    return rc


cdef int sweep_summarize(SweepState* sw, uint64_t upto, Summary* S) noexcept nogil:
    """Fold σ over the sweep's numbers up to offset upto into *S (zeroed by the caller)."""
    cdef uint64_t i0, take
    cdef int rc = 0
    while sw.done < upto:
        i0 = sweep_piece(sw, &rc)
        if rc != 0:
            return rc
        take = sw.blk_len - i0 if sw.blk_len - i0 < upto - sw.done else upto - sw.done
        rc = fold_piece(sw, i0, take, S)
        if rc < 0:
            return rc
        sw.done += take
    return 0


cdef int sweep_fill(SweepState* sw, uint64_t upto, uint64_t* out, bint aliquot,
                    uint64_t* bad) noexcept nogil:
    """out[j] = σ (or s, when aliquot) of the sweep's numbers up to offset upto, in order;
    ERR_OVERFLOW, with *bad, for the first that does not fit in 64 bits."""
    cdef uint64_t i0, take, i, n
    cdef u128 s
    cdef int rc = 0
    cdef uint64_t* o = out
    while sw.done < upto:
        i0 = sweep_piece(sw, &rc)
        if rc != 0:
            return rc
        take = sw.blk_len - i0 if sw.blk_len - i0 < upto - sw.done else upto - sw.done
        for i in range(take):
            n = sw.lo + sw.done + i
            s = block_sigma(sw, i0 + i)
            if aliquot:
                s.hi -= s.lo < n
                s.lo -= n
            if s.hi != 0:
                bad[0] = n
                return ERR_OVERFLOW
            o[i] = s.lo
        o += take
        sw.done += take
    return 0


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


cdef int sweep_amicable(SweepState* sw, uint64_t upto, Summary* S, Pairs* P) noexcept nogil:
    """Fold σ as sweep_summarize does, and add to *P the amicable pairs (a, b), a < b,
    with a among the numbers taken (all below WIDE). σ(b) comes from the block when b lies
    in it, else from sigma_equals(b, σ(a)), which rejects most partners after a few
    small-prime divisions."""
    cdef uint64_t i0, take, i, a, sa, b, end
    cdef u128 s
    cdef int rc = 0
    while sw.done < upto:
        i0 = sweep_piece(sw, &rc)
        if rc != 0:
            return rc
        take = sw.blk_len - i0 if sw.blk_len - i0 < upto - sw.done else upto - sw.done
        rc = fold_piece(sw, i0, take, S)
        if rc < 0:
            return rc
        end = sw.lo + sw.blk + sw.blk_len
        for i in range(take):
            a = sw.lo + sw.done + i
            s = block_sigma(sw, i0 + i)
            sa = s.lo
            if s.hi != 0 or sa <= a + a:
                continue
            b = sa - a
            if b < end:
                s = block_sigma(sw, b - (sw.lo + sw.blk))
                if s.hi != 0 or s.lo != sa:
                    continue
            elif not sigma_equals(b, sa):
                continue
            rc = pairs_add(P, a, b)
            if rc < 0:
                return rc
        sw.done += take
    return 0
