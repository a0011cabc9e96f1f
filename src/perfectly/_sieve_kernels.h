/* The hot loops of perfectly._kernel, compiled once per target: _sieve.h includes this file
 * with PF_NAME (a suffix for each name) and PF_TARGET (a GCC/Clang target attribute, or
 * nothing for the baseline build). No include guard, on purpose. */

/* Entries in the bucket of block b take their one hit; then each goes to the bucket of its
 * next hit, if that is in this window. Primes (tail = 0) multiply σ by p + 1; tails take
 * out p^k and every further power of p, and turn σ(p^(k-1)) in sig into σ(p^e). */
static PF_TARGET void PF_NAME(pf_buckets_hit)(pf_buckets *B, pf_cell *c, uint64_t b, int tail) {
    uint64_t first = b - b % PF_WINDOW;
    uint64_t end = (first + PF_WINDOW) << PF_LOG_BLOCK;
    if (end > B->count) end = B->count;
    uint64_t base = b << PF_LOG_BLOCK;
    uint32_t k = B->head[b % PF_WINDOW];
    B->head[b % PF_WINDOW] = PF_NONE;
    while (k != PF_NONE) {
        uint32_t next = B->link[k];
        pf_bucketed *E = &B->e[k];
        pf_cell *C = &c[E->pos - base];
        uint64_t p = E->p;
        if (tail) { /* rare (≈ 35 hits a block): divisions are cheap enough here */
            uint64_t inv = pf_inv64(p), q = E->u.step, prev = (q - 1) / (p - 1);
            uint64_t x = C->rem * inv, s = q + prev, pk = q; /* σ(p^k) = p^k + σ(p^(k-1)) */
            while (x % p == 0) {
                x *= inv;
                pk *= p;
                s += pk;
            }
            C->rem = x;
            C->sig = C->sig / prev * s; /* σ(p^(k-1)) = (p^k − 1)/(p − 1) */
            E->pos += q;
        } else {
            C->rem *= E->u.inv;
            C->sig *= p + 1;
            E->pos += p;
        }
        if (E->pos < end) {
            uint64_t w = (E->pos >> PF_LOG_BLOCK) - first;
            B->link[k] = B->head[w];
            B->head[w] = k;
        }
        k = next;
    }
}

/* Primes with at most K hits in a block (p > PF_BLOCK / K): K updates, no branches; a
 * miss updates dummy cell len + j instead. */
#define PF_SPARSE(K, entries, offs, count)                                                \
    for (size_t k = 0; k < (count); k++) {                                                \
        uint64_t p = (entries)[k].step, inv = (entries)[k].inv, f = (entries)[k].mult;   \
        uint64_t off = (offs)[k], hits = 0;                                               \
        for (uint64_t j = 0; j < (K); j++) {                                              \
            uint64_t i = off + j * p;                                                     \
            int hit = i < len;                                                            \
            i = hit ? i : len + j;                                                        \
            hits += (uint64_t)hit;                                                        \
            c[i].rem *= inv;                                                              \
            c[i].sig *= f;                                                                \
        }                                                                                 \
        (offs)[k] = off + hits * p - len;                                                 \
    }

/* Factor the numbers of block b (lo + b·PF_BLOCK, …) into sv->cells; blocks in order. */
static PF_TARGET void PF_NAME(pf_block)(pf_sieve *sv, uint64_t b) {
    uint64_t start = b << PF_LOG_BLOCK;
    uint64_t a = sv->lo + start;
    size_t len = (size_t)(sv->count - start < PF_BLOCK ? sv->count - start : PF_BLOCK);
    size_t k, i0, j = (size_t)(a % PF_PATTERN);
    pf_cell *c = sv->cells;
    if (b % PF_WINDOW == 0 && b > 0) {
        pf_bucket_window(&sv->big, b);
        pf_bucket_window(&sv->tails, b);
    }
    for (i0 = 0; i0 < len; j = 0) { /* 2 by trailing zeros, 3 … 13 from the pattern */
        size_t run = PF_PATTERN - j < len - i0 ? PF_PATTERN - j : len - i0;
        const uint64_t *pinv = pf_pattern_inv + j;
        const uint32_t *psig = pf_pattern_sig + j;
        pf_cell *C = c + i0;
        uint64_t n0 = a + i0;
        for (size_t i = 0; i < run; i++) {
            uint64_t n = n0 + i;
            int t = pf_ctz64(n);
            C[i].rem = (n >> t) * pinv[i];
            C[i].sig = ((((uint64_t)2) << t) - 1) * psig[i];
        }
        i0 += run;
    }
    for (k = 0; k < sv->ndense; k++) {
        uint64_t p = sv->dense[k].step, inv = sv->dense[k].inv, f = sv->dense[k].mult;
        uint64_t i = sv->off_dense[k];
        for (; i < len; i += p) {
            c[i].rem *= inv;
            c[i].sig *= f;
        }
        sv->off_dense[k] = i - len;
    }
    PF_SPARSE(8, sv->sparse8, sv->off_sparse8, sv->nsparse8)
    PF_SPARSE(4, sv->sparse4, sv->off_sparse4, sv->nsparse4)
    PF_NAME(pf_buckets_hit)(&sv->big, c, b, 0);
    for (k = 0; k < sv->npowers; k++) { /* in order of p, then k: σ(p^(k-1)) is in sig */
        const pf_entry *E = &sv->powers[k];
        uint64_t q = E->step, inv = E->inv, oinv = E->oinv, f = E->mult;
        uint32_t sh = E->shift;
        uint64_t i = sv->off_powers[k];
        for (; i < len; i += q) {
            c[i].rem *= inv;
            c[i].sig = ((c[i].sig >> sh) * oinv) * f;
        }
        sv->off_powers[k] = i - len;
    }
    PF_NAME(pf_buckets_hit)(&sv->tails, c, b, 1);
}

static PF_TARGET int PF_NAME(pf_record)(pf_summary *S, uint64_t n, uint64_t s) {
    for (uint64_t k = 2; k < 7; k++) { /* n < 2⁶¹, so σ(n) < 7n and k·n fits */
        if (s == k * n) {
            if (S->nfound == PF_MAX_FOUND) return PF_ERR_TOO_MANY;
            S->found_n[S->nfound] = n;
            S->found_k[S->nfound++] = k;
        }
    }
    return 0;
}

/* Fold σ(n), n in [start, start + len) < 2⁶¹, from sieved cells into the summary. With
 * vectors of 64-bit integers (PF_VECTOR: AVX2 and up) the common case is one pass with no
 * branches (σ summed as two 32-bit halves) and a block with a (multiply-)perfect n or a
 * rough cofactor takes a second pass; without, one scalar pass that branches on the rare
 * n with σ(n) = 2n or σ(n) ≥ 3n is cheaper. */
#if PF_VECTOR
static PF_TARGET int PF_NAME(pf_fold)(pf_summary *S, uint64_t start, size_t len,
                                      const pf_cell *c, int rough, pf_rough_fn rough_sigma) {
    uint64_t sum_hi32 = 0, sum_lo32 = 0, abundant = 0, deficient = 0, rare = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        uint64_t n = start + i, r = c[i].rem, two = n + n;
        uint64_t s = c[i].sig * (r + (r > 1));
        sum_hi32 += s >> 32;
        sum_lo32 += s & 0xFFFFFFFFu;
        deficient += s < two;
        abundant += s > two;
        uint64_t three = two + n, four = two + two; /* σ(n) = k·n needs k ≤ 6 here */
        rare += (s == two) | (s == three) | (s == four) | (s == four + n) | (s == four + two) |
                (rough & (r > PF_ROUGH));
    }
    for (i = 0; rare && i < len; i++) {
        uint64_t n = start + i, r = c[i].rem, two = n + n;
        uint64_t s = c[i].sig * (r + (r > 1));
        if (rough && r > PF_ROUGH) { /* σ was wrong in the first pass: correct it */
            uint64_t t = c[i].sig * rough_sigma(r);
            sum_hi32 += (t >> 32) - (s >> 32);
            sum_lo32 += (t & 0xFFFFFFFFu) - (s & 0xFFFFFFFFu);
            deficient += (t < two) - (s < two);
            abundant += (t > two) - (s > two);
            s = t;
        }
        if (s % n == 0 && s != n) {
            int rc = PF_NAME(pf_record)(S, n, s);
            if (rc < 0) return rc;
        }
    }
    /* Σσ of the block = sum_hi32·2³² + sum_lo32, each half below 2⁴⁸ */
    uint64_t lo = sum_lo32 + (sum_hi32 << 32);
    uint64_t hi = (sum_hi32 >> 32) + (lo < sum_lo32);
    S->total.lo += lo;
    S->total.hi += hi + (S->total.lo < lo);
    S->abundant += abundant;
    S->deficient += deficient;
    return 0;
}
#else
static PF_TARGET int PF_NAME(pf_fold)(pf_summary *S, uint64_t start, size_t len,
                                      const pf_cell *c, int rough, pf_rough_fn rough_sigma) {
    uint64_t sum_lo = 0, sum_hi = 0, abundant = 0, deficient = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t n = start + i, r = c[i].rem, two = n + n;
        uint64_t s = c[i].sig * (rough && r > PF_ROUGH ? rough_sigma(r) : r + (r > 1));
        sum_lo += s;
        sum_hi += sum_lo < s;
        deficient += s < two;
        abundant += s > two;
        if ((s == two || s >= two + n) && s % n == 0) {
            int rc = PF_NAME(pf_record)(S, n, s);
            if (rc < 0) return rc;
        }
    }
    S->total.lo += sum_lo;
    S->total.hi += sum_hi + (S->total.lo < sum_lo);
    S->abundant += abundant;
    S->deficient += deficient;
    return 0;
}
#endif

/* The divisor-pair sum over d in [d0, d1] (d1 < 2²⁵, n < 2⁵⁰), several d at once, with no
 * division when 1/d comes from the table: q = round(n · (1/d)) is n/d exactly when d
 * divides n (the error is below 1/2 while n/d < 2⁵¹), and q·d == n is exact as both sides
 * are integers below 2⁵³; when d does not divide n, no integer q gives q·d == n. Adding
 * 1.5·2⁵² rounds and leaves q in the low bits of the double, so the sum is of integers. */
static PF_TARGET uint64_t PF_NAME(pf_pairs)(double nd, int32_t d0, int32_t d1, int table) {
    const double magic = 6755399441055744.0; /* 1.5·2⁵² */
    const uint64_t magic_bits = 0x4338000000000000u;
    uint64_t s = 0;
    for (int32_t d = d0; d <= d1; d++) { /* int32 → double vectorises */
        double dd = (double)d, t = (table ? nd * pf_recip[d] : nd / dd) + magic;
        uint64_t bits;
        memcpy(&bits, &t, sizeof bits);
        s += (t - magic) * dd == nd ? (uint64_t)d + (bits - magic_bits) : 0;
    }
    return s;
}

/* σ(n) by divisor pairs d, n/d with d ≤ √n: the classic O(√n) workload, with the
 * divisibility test of pf_pairs below 2⁵⁰ and one 64-bit division per d above. */
static PF_TARGET uint64_t PF_NAME(pf_trial)(uint64_t n) {
    uint64_t r = (uint64_t)sqrt((double)n), s = 0;
    while (r * r > n) r--;
    while ((r + 1) * (r + 1) <= n) r++;
    if (n < ((uint64_t)1 << 50)) {
        int32_t r32 = (int32_t)r, split = r32 < PF_RECIP - 1 ? r32 : PF_RECIP - 1;
        s = PF_NAME(pf_pairs)((double)n, 1, split, 1) +
            PF_NAME(pf_pairs)((double)n, split + 1, r32, 0);
    } else {
        for (uint64_t d = 1; d <= r; d++)
            if (n % d == 0) s += d + n / d;
    }
    return r * r == n ? s - r : s;
}
