/* One block of the sieve, in one of two builds: _sieve_kernels.h includes this file twice
 * per target, with PF_W 0 (σ in 64 bits: n < PF_WIDE) and PF_W 1 (the odd part of σ in
 * the cell and the aux word beside it: see pf_aux_log in _sieve.h), after defining
 * PF_V(x), the name of x in this build. No include guard, on purpose. */

#if PF_W
/* cell i's σ *= the entry's factor */
#define PF_SIG_MUL(i, E) (c[i].sig *= (E).wmult, aux[i] += (E).waux)
/* a lone prime (p > 181: no power entries) divides the number at cell i: unless its
 * square did and pf_lone_hit took every p out already, σ(p) = p + 1 goes into the cell
 * whole, its twos included, and the aux word is left alone (as for a large prime) */
#define PF_LONE(i, E)                                                                     \
    {                                                                                     \
        uint64_t r_ = c[i].rem * (E).inv;                                                 \
        int in_ = r_ <= (E).lim;                                                          \
        c[i].rem = in_ ? r_ : c[i].rem;                                                   \
        c[i].sig *= in_ ? (E).mult : 1;                                                   \
    }
#define PF_AUX_ARG , uint32_t *aux
#define PF_AUX , aux
#else
#define PF_SIG_MUL(i, E) (c[i].sig *= (E).mult)
#define PF_LONE(i, E) (c[i].rem *= (E).inv, c[i].sig *= (E).mult)
#define PF_AUX_ARG
#define PF_AUX
#endif

/* Primes with at most K hits in a block (p > PF_BLOCK / K, so lone): K updates, no
 * branches; a miss updates dummy cell len + j instead. */
#define PF_SPARSE(K, entries, offs, count)                                                \
    for (size_t k = 0; k < (count); k++) {                                                \
        const pf_entry E = (entries)[k];                                                  \
        uint64_t p = E.step, off = (offs)[k], hits = 0;                                   \
        for (uint64_t j = 0; j < (K); j++) {                                              \
            uint64_t i = off + j * p;                                                     \
            int hit = i < len;                                                            \
            i = hit ? i : len + j;                                                        \
            hits += (uint64_t)hit;                                                        \
            PF_LONE(i, E);                                                                \
        }                                                                                 \
        (offs)[k] = off + hits * p - len;                                                 \
    }

/* The large primes in the bucket list of block b (at `start` from the sieve's lo) take
 * their hit, with every power of p in the cell, and move on to the list of their next.
 * Cells are fetched PF_AHEAD hits ahead: the block's cells are in L2 at best. In a wide
 * block too the cell's σ is multiplied by all of σ(p^e), its twos included, and its aux
 * word is left alone: σ(n) mod 2⁶⁴ is then still the cell's value shifted by the aux
 * word's twos (which count those of the small primes, whose tails divide only by odd
 * parts), and the ratio's estimate leaves the large primes out anyway (pf_aux_log). */
#ifndef PF_AHEAD
#define PF_AHEAD 16
#endif
static PF_TARGET int PF_NAME(PF_V(pf_large_hits))(pf_large *L, pf_cell *c, uint64_t b) {
    uint64_t w = b >> PF_LOG_NEAR, start = b << PF_LOG_BLOCK;
    pf_hit *end;
    for (pf_bucket *bk = pf_large_take(L, b & (PF_NEAR - 1), &end); bk != NULL;
         bk = pf_large_recycle(L, bk, &end)) {
        for (pf_hit *h = bk->hit; h < end; h++) {
            if (h + PF_AHEAD < end) PF_PREFETCH(&c[h[PF_AHEAD].off]);
            uint32_t p32 = h->p, off = h->off;
            uint64_t p = p32, inv = pf_inv32(p32);
            pf_cell *C = &c[off];
            uint64_t r = C->rem * inv, q = r * inv;
            if (pf_mulhi(q, p) == 0) { /* p² divides n: rare (1/p) */
                pf_u128 f = pf_u(0, 1 + p), pk = pf_u(0, p);
                do {
                    r = q;
                    pk = pf_mul128(pk, pf_u(0, p));
                    f.lo += pk.lo;
                    f.hi += pk.hi + (f.lo < pk.lo);
                    q = r * inv;
                } while (pf_mulhi(q, p) == 0);
                C->sig *= f.lo; /* narrow: σ(n) < 2⁶⁴; wide: see below */
            } else {
                C->sig *= p + 1;
            }
            C->rem = r;
            if (pf_place(L, w, p32, start + off + p)) return PF_ERR_NOMEM;
        }
    }
    return 0;
}

/* Tail k, which took its hit in the window of blocks from `first` (its numbers below
 * `end`), moves on to its next, in this window's buckets if it falls there. */
static inline void PF_NAME(PF_V(pf_tail_next))(pf_tails *B, uint32_t k, uint64_t first,
                                               uint64_t end) {
    pf_tail *E = &B->e[k];
    E->pos += E->step;
    if (E->pos < end && E->pos >= E->step) { /* (≥ step: no wrap past 2⁶⁴) */
        uint64_t w = (E->pos >> PF_LOG_BLOCK) - first;
        B->link[k] = B->head[w];
        B->head[w] = k;
    }
}

/* Take the bucket of block b: its first tail (PF_NONE: empty); *first, the first block of
 * b's window, and *end, where the numbers that window's buckets take end (an offset from
 * the sieve's lo), for pf_tail_next. */
static inline uint32_t PF_NAME(PF_V(pf_tails_take))(pf_tails *B, uint64_t b, uint64_t *first,
                                                   uint64_t *end) {
    *first = b - b % PF_WINDOW;
    *end = (*first + PF_WINDOW) << PF_LOG_BLOCK;
    if (*end > B->count || *end >> PF_LOG_BLOCK != *first + PF_WINDOW) *end = B->count;
    uint32_t k = B->head[b % PF_WINDOW];
    B->head[b % PF_WINDOW] = PF_NONE;
    return k;
}

/* The tails in the bucket of block b take their hit: out go p^k and every further power
 * of p, and σ(p^(k-1)) in the cell becomes σ(p^e). Rare (≈ 35 hits a block): divisions
 * are cheap enough here. */
static PF_TARGET void PF_NAME(PF_V(pf_tails_hit))(pf_tails *B, pf_cell *c, uint64_t b PF_AUX_ARG) {
    uint64_t first, end, base = b << PF_LOG_BLOCK;
    uint32_t k = PF_NAME(PF_V(pf_tails_take))(B, b, &first, &end);
    while (k != PF_NONE) {
        uint32_t next = B->link[k];
        pf_tail *E = &B->e[k];
        pf_cell *C = &c[E->pos - base];
        uint64_t p = E->p, inv = pf_inv64(p), q = E->step, prev = (q - 1) / (p - 1);
        uint64_t x = C->rem * inv;
        pf_u128 s = pf_u(0, q + prev), pk = pf_u(0, q); /* σ(p^k) = p^k + σ(p^(k-1)) */
        while (x % p == 0) {
            x *= inv;
            pk = pf_mul128(pk, pf_u(0, p));
            s.lo += pk.lo;
            s.hi += pk.hi + (s.lo < pk.lo);
        }
        C->rem = x;
#if PF_W
        { /* σ / σ(p^(k-1)) · σ(p^e), in odd parts and twos (the ratio's factor is left out) */
            int t = pf_ctz64(prev);
            unsigned u = (unsigned)(s.lo ? pf_ctz64(s.lo) : 64 + pf_ctz64(s.hi));
            C->sig *= pf_inv64(prev >> t) * (u < 64 ? pf_shr128(s, u).lo : s.hi >> (u - 64));
            aux[E->pos - base] += u - (unsigned)t;
        }
#else
        C->sig = C->sig / prev * s.lo; /* σ(n) < 2⁶⁴ here */
#endif
        PF_NAME(PF_V(pf_tail_next))(B, k, first, end);
        k = next;
    }
}

#if PF_W
/* Wide blocks only, before the primes' own loops: the lone primes' squares in the bucket
 * of block b take every p out of the cell's rem, and σ(p^e) goes into the cell whole (mod
 * 2⁶⁴, its twos included: no σ is ever divided out again for a lone prime, so the cell's
 * product stays exact mod 2⁶⁴), the aux word left alone; p's own hit then finds no p left
 * (PF_LONE). So the hot loops of the primes above 181 touch no aux word, and the ratio's
 * estimate leaves them out (the error budget above PF_LOG_UNIT). Narrow blocks take these
 * tails after the loops, as upgrades (pf_tails_hit). */
static PF_TARGET void PF_NAME(PF_V(pf_lone_hit))(pf_tails *B, pf_cell *c, uint64_t b) {
    uint64_t first, end, base = b << PF_LOG_BLOCK;
    uint32_t k = PF_NAME(PF_V(pf_tails_take))(B, b, &first, &end);
    while (k != PF_NONE) {
        uint32_t next = B->link[k];
        pf_tail *E = &B->e[k];
        pf_cell *C = &c[E->pos - base];
        uint64_t p = E->p, inv = pf_inv64(p), x = C->rem * inv * inv; /* p² divides it */
        uint64_t s = 1 + p + p * p, pk = p * p; /* σ(p^e) mod 2⁶⁴ */
        while (x % p == 0) {
            x *= inv;
            pk *= p;
            s += pk;
        }
        C->rem = x;
        C->sig *= s;
        PF_NAME(PF_V(pf_tail_next))(B, k, first, end);
        k = next;
    }
}
#endif

/* Factor the numbers of block b (lo + b·PF_BLOCK, …) into sv->cells; blocks in order. */
static PF_TARGET int PF_NAME(PF_V(pf_block))(pf_sieve *sv, uint64_t b) {
    uint64_t start = b << PF_LOG_BLOCK;
    uint64_t a = sv->lo + start;
    size_t len = (size_t)(sv->count - start < PF_BLOCK ? sv->count - start : PF_BLOCK);
    size_t k, i0, j = (size_t)(a % PF_PATTERN);
    pf_cell *c = sv->cells;
#if PF_W
    uint32_t *aux = sv->aux;
#endif
    if (b % PF_WINDOW == 0 && b > 0) {
        pf_tails_window(&sv->tails, b);
        pf_tails_window(&sv->lone, b);
    }
    if (b % PF_NEAR == 0 && b > 0 && pf_large_window(&sv->large, b >> PF_LOG_NEAR))
        return PF_ERR_NOMEM;
    for (i0 = 0; i0 < len; j = 0) { /* 2 by trailing zeros, 3 … 13 from the pattern */
        size_t run = PF_PATTERN - j < len - i0 ? PF_PATTERN - j : len - i0;
        const uint64_t *pinv = pf_pattern_inv + j;
#if PF_W
        const uint64_t *podd = pf_pattern_odd + j;
        const uint32_t *paux = pf_pattern_aux + j;
#else
        const uint32_t *psig = pf_pattern_sig + j;
#endif
        pf_cell *C = c + i0;
        uint64_t n0 = a + i0;
        for (size_t i = 0; i < run; i++) {
            uint64_t n = n0 + i;
            int t = pf_ctz64(n);
            C[i].rem = (n >> t) * pinv[i];
#if PF_W
            C[i].sig = ((((uint64_t)2) << t) - 1) * podd[i]; /* t = 63: 2⁶⁴ − 1 */
            aux[i0 + i] = pf_two_aux[t] + paux[i];
#else
            C[i].sig = ((((uint64_t)2) << t) - 1) * psig[i];
#endif
        }
        i0 += run;
    }
#if PF_W
    PF_NAME(PF_V(pf_lone_hit))(&sv->lone, c, b);
#endif
    for (k = 0; k < sv->npowered; k++) {
        const pf_entry E = sv->dense[k];
        uint64_t p = E.step, inv = E.inv, i = sv->off_dense[k];
        for (; i < len; i += p) {
            c[i].rem *= inv;
            PF_SIG_MUL(i, E);
        }
        sv->off_dense[k] = i - len;
    }
    for (; k < sv->ndense; k++) { /* the lone primes */
        const pf_entry E = sv->dense[k];
        uint64_t p = E.step, i = sv->off_dense[k];
        for (; i < len; i += p) PF_LONE(i, E);
        sv->off_dense[k] = i - len;
    }
    PF_SPARSE(8, sv->sparse8, sv->off_sparse8, sv->nsparse8)
    PF_SPARSE(4, sv->sparse4, sv->off_sparse4, sv->nsparse4)
    if (PF_NAME(PF_V(pf_large_hits))(&sv->large, c, b)) return PF_ERR_NOMEM;
    for (k = 0; k < sv->npowers; k++) { /* in order of p, then k: σ(p^(k-1)) is in sig */
        const pf_entry E = sv->powers[k];
        uint64_t q = E.step, inv = E.inv, i = sv->off_powers[k];
#if PF_W
        for (; i < len; i += q) {
            c[i].rem *= inv;
            PF_SIG_MUL(i, E);
        }
#else
        uint64_t oinv = E.oinv, f = E.mult;
        uint32_t sh = E.shift;
        for (; i < len; i += q) {
            c[i].rem *= inv;
            c[i].sig = ((c[i].sig >> sh) * oinv) * f;
        }
#endif
        sv->off_powers[k] = i - len;
    }
    PF_NAME(PF_V(pf_tails_hit))(&sv->tails, c, b PF_AUX);
#if !PF_W
    PF_NAME(PF_V(pf_tails_hit))(&sv->lone, c, b);
#endif
    return 0;
}

#undef PF_SIG_MUL
#undef PF_LONE
#undef PF_AUX_ARG
#undef PF_AUX
#undef PF_SPARSE
