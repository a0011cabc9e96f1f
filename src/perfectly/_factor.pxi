# Included by _kernel.pyx (textual include: one extension module, and the prime table
# and other module-level C state it defines are shared). Single-n factorisation and σ.

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


# Constant C arrays: a Cython array initialiser would be re-run by every interpreter that
# imports the module, writing to memory that another interpreter may be reading.
cdef extern from *:
    """
    static const uint64_t PF_MR_BASES[7] = {
        2, 325, 9375, 28178, 450775, 9780504, 1795265022};
    static const uint64_t PF_SMALL_PRIMES[12] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    """
    const uint64_t MR_BASES "PF_MR_BASES"[7]
    const uint64_t SMALL_PRIMES "PF_SMALL_PRIMES"[12]


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


cdef inline int divide_out(uint64_t* n, Py_ssize_t k) noexcept nogil:
    """Divide the table prime _p[k] out of *n as often as it goes; return how often."""
    cdef uint64_t inv = _pinv[k], lim = _plim[k]
    cdef int e = 0
    while n[0] * inv <= lim:
        n[0] *= inv
        e += 1
    return e


cdef u128 sigma_u128(uint64_t n) noexcept nogil:
    """σ(n) for 1 ≤ n < 2⁶⁴, exact in 128 bits, by factorisation."""
    cdef uint64_t fac[64]
    cdef int nfac = 0
    cdef int tz, _
    cdef Py_ssize_t k
    cdef uint64_t p = 3
    tz = pf_ctz64(n)
    for _ in range(tz):
        fac[nfac] = 2
        nfac += 1
    n >>= tz
    for k in range(_np_small):
        p = _p[k]
        if p * p > n:
            break
        for _ in range(divide_out(&n, k)):
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
    cdef uint64_t p = 3, pk
    cdef Py_ssize_t k
    cdef int e, _
    cdef u128 whole
    if target % part != 0:
        return False
    target /= part
    for k in range(_np_small):
        p = _p[k]
        if p * p > m:
            break
        e = divide_out(&m, k)
        if e:
            part = 1
            pk = 1
            for _ in range(e):
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
