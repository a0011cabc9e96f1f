/* The segmented factor sieve of perfectly._kernel, in C: its types, its set-up, its
 * buckets, and the choice, once at import, of the build of its hot loops for this CPU.
 *
 * A sieve covers [lo, lo + count) block by block, PF_BLOCK numbers at a time, and factors
 * each block by every odd prime p ≤ √(lo + count − 1) (_primes.h stores them, to 2³²).
 * A cell keeps `rem`, what is left of n, and σ of the part already found; every division
 * is exact, a multiplication by p⁻¹ mod 2⁶⁴. Afterwards rem is 1 or one prime, and
 * σ(n) = σ(found part) · (1 + rem) when rem > 1.
 *   - 2 is taken out by counting trailing zeros, and the first power of 3, 5, 7, 11 and
 *     13 by a pre-sieved pattern of period 15015, indexed by n mod 15015.
 *   - Primes below PF_BLOCK are sieved in plain loops (dense) or with a fixed count of
 *     branch-free updates whose misses land in dummy cells (sparse). A further power p^k
 *     (k ≥ 2) of such a prime is its own entry of step p^k: on a hit it takes out one more
 *     p and turns σ(p^(k-1)) into σ(p^k), dividing exactly by σ(p^(k-1)) = 2^shift · odd
 *     (a shift and a multiply by odd⁻¹). The first power p^k ≥ PF_BLOCK is a "tail":
 *     on its rare hits it takes out every further power of p in a loop.
 *   - Primes from PF_BLOCK up ("large") hit a block at most once, so they wait in buckets
 *     (Oliveira e Silva's bucket sieve): each sits, as 8 bytes (p, offset), in the bucket
 *     list of the block of its next hit while that lies in the current window of
 *     PF_NEAR blocks, else in the list of the window it lies in (a ring of them, as many
 *     as √hi needs). A hit costs O(1): one cell update and one move to its next list; a
 *     window's list is spread over its blocks' lists when the window starts. A large
 *     prime takes every power of itself out on its hit (p ∤ rem·p⁻¹ is one product).
 *   - A sieve keeps this state from block to block, so a run of many calls over one
 *     range pays the set-up (the first hit of every prime ≤ √hi) once.
 *   - Below PF_WIDE every σ(n) < 2⁶⁴; a block with n ≥ PF_WIDE takes the "wide" build
 *     of the loops, which gets σ(n) in 128 bits (see pf_aux_log).
 * The hot loops (_sieve_kernels.h) are compiled once per x86-64 target and chosen at import
 * (pf_targets); other platforms and compilers get the baseline build only. */
#ifndef PERFECTLY_SIEVE_H
#define PERFECTLY_SIEVE_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "_portable.h"
#include "_primes.h"

#define PF_LOG_BLOCK 15
#define PF_BLOCK ((uint64_t)1 << PF_LOG_BLOCK) /* numbers per block: cells fill half of L2 */
#define PF_DUMMY 8                             /* dummy cells after a block, for misses */
#ifndef PF_LOG_NEAR
#define PF_LOG_NEAR 6
#endif
#define PF_NEAR (1 << PF_LOG_NEAR) /* blocks per window of the large primes' buckets */
#define PF_LOG_SPAN (PF_LOG_BLOCK + PF_LOG_NEAR)
#define PF_SPAN ((uint64_t)1 << PF_LOG_SPAN) /* numbers per window */
#define PF_SLAB 64                           /* buckets per allocation */
#define PF_WINDOW 64                         /* blocks per window of the tails */
#define PF_PATTERN 15015                     /* 3·5·7·11·13 */
#define PF_NPATTERN 5 /* the pattern primes: the first 5 odd primes */
#define PF_MAX_FOUND 256 /* perfect and multiply-perfect numbers one summary can hold */
#define PF_WIDE ((uint64_t)1 << 61) /* from here on σ(n) may need more than 64 bits */
#define PF_NONE UINT32_MAX
#define PF_MAX_POWERS 256 /* p^k < PF_BLOCK, k ≥ 2, p odd: 70 of them */
#define PF_MAX_SMALL 3600 /* odd primes below PF_BLOCK: 3511 */

/* Error codes of the nogil routines; turned into exceptions once the GIL is back. */
#define PF_ERR_NOMEM (-1)
#define PF_ERR_OVERFLOW (-2)
#define PF_ERR_TOO_MANY (-3)

typedef struct { uint64_t hi, lo; } pf_u128; /* unsigned 128-bit: exact sums of σ */
typedef struct { uint64_t rem, sig; } pf_cell;

/* What a chunk folds into: exact Σσ, class counts, and the n with σ(n) = k·n, k ≥ 2. */
typedef struct {
    pf_u128 total;
    uint64_t abundant, deficient;
    ptrdiff_t nfound;
    uint64_t found_n[PF_MAX_FOUND], found_k[PF_MAX_FOUND];
} pf_summary;

/* ------------------------------------------------------------ 128-bit helpers */

static inline pf_u128 pf_u(uint64_t hi, uint64_t lo) {
    pf_u128 r;
    r.hi = hi;
    r.lo = lo;
    return r;
}

static inline pf_u128 pf_mul64(uint64_t a, uint64_t b) {
    pf_u128 r;
    r.lo = a * b;
    r.hi = pf_mulhi(a, b);
    return r;
}

static inline pf_u128 pf_mul128(pf_u128 a, pf_u128 b) { /* a·b mod 2¹²⁸ */
    pf_u128 r;
    r.lo = a.lo * b.lo;
    r.hi = pf_mulhi(a.lo, b.lo) + a.hi * b.lo + a.lo * b.hi;
    return r;
}

static inline pf_u128 pf_shr128(pf_u128 a, unsigned s) { /* s < 64 */
    pf_u128 r;
    r.lo = s == 0 ? a.lo : (a.lo >> s) | (a.hi << (64 - s));
    r.hi = a.hi >> s;
    return r;
}

static inline uint64_t pf_inv64(uint64_t a) { /* a⁻¹ mod 2⁶⁴ for odd a (Newton) */
    uint64_t x = a;
    for (int i = 0; i < 5; i++) x *= 2 - a * x;
    return x;
}

/* p⁻¹ mod 2⁶⁴ for an odd p < 2³²: (3p) ⊕ 2 is right in 5 bits, and each Newton step
 * doubles that: three in 32 bits, one in 64. */
static inline uint64_t pf_inv32(uint32_t p) {
    uint32_t x = (3 * p) ^ 2;
    x *= 2 - p * x;
    x *= 2 - p * x;
    x *= 2 - p * x;
    uint64_t y = x;
    return y * (2 - (uint64_t)p * y);
}

/* ------------------------------------------------------------ set-up tables */

/* One entry of a prime below PF_BLOCK: p (step p) or a power p^k (step p^k). */
typedef struct {
    uint64_t step, inv; /* p^k and p⁻¹ mod 2⁶⁴ */
    uint64_t oinv;      /* odd⁻¹ mod 2⁶⁴, where σ(p^(k-1)) = 2^shift · odd */
    uint64_t mult;      /* σ(p^k) (p + 1 for a prime) */
    uint64_t wmult;     /* wide blocks: what the odd part of σ is multiplied by */
    uint32_t waux;      /* wide blocks: what the cell's aux word gains (pf_aux) */
    uint32_t shift;
    uint64_t lim;       /* ⌊(2⁶⁴ − 1) / p⌋: p divides x iff x · p⁻¹ ≤ lim (lone primes) */
} pf_entry;

/* A tail: the first power p^k ≥ PF_BLOCK of a prime p < PF_BLOCK, in a bucket. A lone
 * prime's (p² ≥ PF_BLOCK: p > 181, no power entries) is p² itself. */
typedef struct {
    uint64_t pos;  /* next hit, as an offset from the sieve's lo */
    uint64_t step; /* p^k */
    uint64_t p;
} pf_tail;

/* The tails, in buckets of the current window of PF_WINDOW blocks: at most one per prime
 * below PF_BLOCK, so the window's start walks them all. */
typedef struct {
    pf_tail *e;
    uint32_t *link; /* next entry in the same bucket */
    uint32_t head[PF_WINDOW];
    size_t n;
    uint64_t count; /* hits at offsets ≥ count are never taken */
} pf_tails;

/* A large prime's next hit: p, and its offset in the block (near) or window (far). */
typedef struct { uint32_t p, off; } pf_hit;

/* A bucket: 8 KiB, aligned to 8 KiB, so that a list's write pointer also tells where its
 * bucket starts and when it is full. */
#define PF_BUCKET_BYTES 8192
#define PF_HITS ((PF_BUCKET_BYTES - 16) / sizeof(pf_hit)) /* 1022 */
typedef struct pf_bucket {
    struct pf_bucket *next; /* the list's previous (full) bucket */
    uint64_t pad;
    pf_hit hit[PF_HITS];
} pf_bucket;

/* The large primes' bucket lists: PF_NEAR for the blocks of the current window, then a
 * ring of far_mask + 1 for the windows after it. A list is only its write pointer: the
 * next free hit of its newest bucket (NULL: empty), which is all a push touches. */
typedef struct {
    pf_hit **slot;    /* PF_NEAR + far_mask + 1 of them */
    uint64_t far_mask;
    pf_bucket *spare; /* emptied buckets, for reuse */
    void **slabs;     /* every allocation, freed at close */
    size_t nslabs, cap_slabs;
    size_t buckets;  /* buckets allocated */
    uint64_t count;  /* hits at offsets ≥ count are dropped */
    size_t primes;   /* large primes set up */
} pf_large;

typedef struct {
    uint64_t lo, count; /* the numbers lo … lo + count − 1 */
    uint64_t next_block; /* blocks are sieved in order */
    int wide;            /* some n ≥ PF_WIDE: blocks there keep σ in 128 bits */
    pf_cell *cells;      /* PF_BLOCK + PF_DUMMY cells */
    uint32_t *aux;       /* if wide: the cells' aux words (pf_aux_log) */
    pf_entry *dense, *sparse4, *sparse8, *powers; /* primes by hits per block; powers */
    uint64_t *off_dense, *off_sparse4, *off_sparse8, *off_powers; /* next hit in a block */
    size_t ndense, nsparse4, nsparse8, npowers;
    size_t npowered;      /* the first dense entries: primes with power entries (p ≤ 181) */
    pf_tails tails;       /* the tails of the primes with power entries */
    pf_tails lone;        /* the lone primes' (p² ≥ PF_BLOCK): see pf_lone_hit */
    pf_large large;
    void *mem; /* one allocation for the entries and tails */
    /* the set-up, which pf_sieve_setup takes a step at a time */
    int ready;            /* every prime ≤ root is in place: blocks may be sieved */
    uint64_t root;        /* √(lo + count − 1) */
    pf_prime_walk walk;   /* where the set-up is in the primes */
    size_t primes_seen;   /* primes the set-up has taken */
    uint32_t *ps;         /* a batch of primes, and their first offsets */
    uint64_t *offs;
} pf_sieve;

/* The pattern: for r = n mod 15015, (Π pattern p dividing r)⁻¹ mod 2⁶⁴ and Π (1 + p);
 * for wide blocks, the odd part of that product and its aux word. */
static uint64_t pf_pattern_inv[PF_PATTERN];
static uint32_t pf_pattern_sig[PF_PATTERN];
static uint64_t pf_pattern_odd[PF_PATTERN];
static uint32_t pf_pattern_aux[PF_PATTERN];
/* Wide blocks: the aux word of σ(2^t) (t < 64). */
static uint32_t pf_two_aux[64];
/* 1/d for the trial kernel's divisibility test (every n < 2³² finds its d here). */
#define PF_RECIP (1 << 16)
static double pf_recip[PF_RECIP];

/* Wide blocks (n may be ≥ 2⁶¹, σ(n) up to 2⁶⁷) keep in a cell σ(found part) mod 2⁶⁴
 * with the twos of the primes up to 181 (those with power entries) taken out and, in an
 * aux word, twos + 2⁸ · L, with twos their exponent of 2 and L ≈ PF_LOG_UNIT ·
 * log₂(σ(found part) / found part) over the same primes. A lone prime's σ(p^e) (p > 181:
 * p² ≥ PF_BLOCK, so no power entries; pf_lone_hit, PF_LONE) and a large prime's go into
 * the cell whole, as nothing is ever divided out for them again; the small primes' grow
 * by additions only, and a division by σ(p^(k-1)) is a multiplication by its odd part's
 * inverse: exact mod 2⁶⁴. The fold gets σ(n) mod 2⁶⁴ from the cell and the twos, and its
 * high word from the estimate n · 2^(L / PF_LOG_UNIT), which is within 4.9 % (below),
 * while the candidates for the high word are 2⁶⁴ apart, ≥ 14.4 % of σ(n) < 6.93 · 2⁶⁴
 * (Robin's bound at 2⁶⁴). The error of L: a rounding of at most 1.5 units per prime up to
 * 181 dividing n (there are at most 15), one for the pattern, one for the power of 2 (1.1 %
 * in all); the primes it leaves out, above 181: at most 8 divide an n < 2⁶⁴, each a factor
 * σ(p^e)/p^e < p/(p − 1), at most 3.94 % together (the 8 smallest, 191 … 229), and the
 * small primes' tails (at most 4, each a factor < 1 + 2⁻¹⁴); and 2^(L / PF_LOG_UNIT), a
 * cubic in its fraction (pf_wide_sigma_of): 0.02 %. So the estimate is at most 1.1 % over
 * and 4.9 % under. */
#define PF_LOG_UNIT 4096

/* The aux word of a factor σ(p^k)/p^k of the ratio, rounded: x = σ(p^k), y = p^k. */
static uint32_t pf_aux_log(double x, double y) {
    return (uint32_t)floor(PF_LOG_UNIT * (log2(x) - log2(y)) + 0.5) << 8;
}

static void pf_init_tables(void) {
    static const uint64_t ps[PF_NPATTERN] = {3, 5, 7, 11, 13};
    for (int d = 1; d < PF_RECIP; d++) pf_recip[d] = 1.0 / d;
    for (uint64_t r = 0; r < PF_PATTERN; r++) {
        uint64_t d = 1, s = 1;
        for (int k = 0; k < PF_NPATTERN; k++)
            if (r % ps[k] == 0) { d *= ps[k]; s *= ps[k] + 1; }
        pf_pattern_inv[r] = pf_inv64(d);
        pf_pattern_sig[r] = (uint32_t)s;
        int t = pf_ctz64(s);
        pf_pattern_odd[r] = s >> t;
        pf_pattern_aux[r] = pf_aux_log((double)s, (double)d) + (uint32_t)t;
    }
    for (int t = 0; t < 64; t++) /* σ(2^t) = 2^(t+1) − 1, odd */
        pf_two_aux[t] = pf_aux_log(ldexp(1.0, t + 1) - 1.0, ldexp(1.0, t));
}

/* x mod m, exactly, for any x < 2⁶⁴ and 3 ≤ m < 2⁴⁰, without a 64-bit division (tens of
 * cycles each, and a sieve near 2⁶⁴ needs 203 million) and without a branch:
 * q = x·(1/m) in doubles, truncated, is within 3·2¹¹/m + 1 of x/m (three roundings of
 * 2⁻⁵³ each, and x/m < 2⁶⁴/m), so r = x − q·m (wrapping) lies within ±(2¹³ + m) < 2⁴¹; a
 * second such step on r, exact in a double, leaves it in (−2m, 2m), and three corrections
 * in [0, m) (masks, not branches: their signs are random). */
static inline uint64_t pf_mod(uint64_t x, uint64_t m) {
    double rm = 1.0 / (double)m;
    int64_t s = (int64_t)m, r = (int64_t)(x - (uint64_t)((double)x * rm) * m);
    r -= (int64_t)((double)r * rm) * s;
    r += s & (r >> 63); /* r >> 63: all ones when r < 0 (an arithmetic shift) */
    r += s & (r >> 63);
    r -= s;
    r += s & (r >> 63);
    return (uint64_t)r;
}

/* The offset from lo of the first multiple of m ≥ lo (3 ≤ m < 2⁴⁰). */
static inline uint64_t pf_first(uint64_t lo, uint64_t m) {
    uint64_t r = pf_mod(lo, m);
    return r == 0 ? 0 : m - r;
}

/* ------------------------------------------------------------ the large primes' buckets */

static inline pf_bucket *pf_bucket_of(pf_hit *h) { /* the bucket of a hit */
    return (pf_bucket *)((uintptr_t)h & ~(uintptr_t)(PF_BUCKET_BYTES - 1));
}

static pf_bucket *pf_large_grow(pf_large *L) {
    if (L->nslabs == L->cap_slabs) {
        size_t cap = L->cap_slabs ? 2 * L->cap_slabs : 64;
        void **grown = (void **)realloc(L->slabs, cap * sizeof(void *));
        if (grown == NULL) return NULL;
        L->slabs = grown, L->cap_slabs = cap;
    }
    char *raw = (char *)malloc((PF_SLAB + 1) * PF_BUCKET_BYTES);
    if (raw == NULL) return NULL;
    L->slabs[L->nslabs++] = raw;
    pf_bucket *slab = (pf_bucket *)(((uintptr_t)raw + PF_BUCKET_BYTES - 1) &
                                    ~(uintptr_t)(PF_BUCKET_BYTES - 1));
    L->buckets += PF_SLAB;
    for (int i = 1; i < PF_SLAB; i++) {
        slab[i].next = L->spare;
        L->spare = &slab[i];
    }
    return &slab[0];
}

/* A fresh bucket for list k, whose bucket is full (or which is empty); NULL when out of
 * memory. */
static pf_hit *pf_large_fresh(pf_large *L, size_t k) {
    pf_bucket *fresh = L->spare;
    if (fresh != NULL) L->spare = fresh->next;
    else if ((fresh = pf_large_grow(L)) == NULL) return NULL;
    fresh->next = L->slot[k] == NULL ? NULL : pf_bucket_of(L->slot[k] - 1);
    return fresh->hit;
}

/* Add (p, off) to list k; −1 when out of memory. */
static inline int pf_push(pf_large *L, size_t k, uint32_t p, uint32_t off) {
    pf_hit *h = L->slot[k];
    if (((uintptr_t)h & (PF_BUCKET_BYTES - 1)) == 0 && (h = pf_large_fresh(L, k)) == NULL)
        return -1; /* h was NULL (empty) or at its bucket's end (full) */
    h->p = p;
    h->off = off;
    L->slot[k] = h + 1;
    return 0;
}

/* Put p's hit at offset `at` (from the sieve's lo) where it belongs, seen from window w. */
static inline int pf_place(pf_large *L, uint64_t w, uint32_t p, uint64_t at) {
    if (at >= L->count) return 0;
    uint64_t aw = at >> PF_LOG_SPAN;
    if (aw == w)
        return pf_push(L, (at >> PF_LOG_BLOCK) & (PF_NEAR - 1), p, (uint32_t)(at & (PF_BLOCK - 1)));
    return pf_push(L, PF_NEAR + (aw & L->far_mask), p, (uint32_t)(at & (PF_SPAN - 1)));
}

/* Take list k: its newest bucket and the end of its hits there (NULL, NULL: empty). */
static inline pf_bucket *pf_large_take(pf_large *L, size_t k, pf_hit **end) {
    pf_hit *h = L->slot[k];
    L->slot[k] = NULL;
    *end = h;
    return h == NULL ? NULL : pf_bucket_of(h - 1);
}

/* Give back bucket b, walked; the next bucket of its list, whose hits are all taken. */
static inline pf_bucket *pf_large_recycle(pf_large *L, pf_bucket *b, pf_hit **end) {
    pf_bucket *next = b->next;
    b->next = L->spare;
    L->spare = b;
    *end = next == NULL ? NULL : next->hit + PF_HITS;
    return next;
}

/* Window w starts: its far list goes into the lists of its blocks. */
static int pf_large_window(pf_large *L, uint64_t w) {
    pf_hit *end;
    for (pf_bucket *b = pf_large_take(L, PF_NEAR + (w & L->far_mask), &end); b != NULL;
         b = pf_large_recycle(L, b, &end)) {
        for (pf_hit *h = b->hit; h < end; h++)
            if (pf_push(L, h->off >> PF_LOG_BLOCK, h->p, h->off & (PF_BLOCK - 1))) return -1;
    }
    return 0;
}

static void pf_large_close(pf_large *L) {
    for (size_t i = 0; i < L->nslabs; i++) free(L->slabs[i]);
    free(L->slabs);
    free(L->slot);
    memset(L, 0, sizeof *L);
}

/* ------------------------------------------------------------ opening a sieve */

/* Entries for p^k, k ≥ 2, while p^k ≤ hi_incl: a power entry each while p^k < PF_BLOCK,
 * then one tail. */
static void pf_add_powers(uint64_t p, uint64_t inv, uint64_t hi_incl, pf_sieve *sv) {
    uint64_t prev = 1 + p, q = p;
    uint32_t prev_log = pf_aux_log((double)prev, (double)p); /* of σ(p^(k-1)) / p^(k-1) */
    while (pf_mulhi(q, p) == 0 && q * p <= hi_incl) {
        q *= p;
        if (q >= PF_BLOCK) {
            pf_tails *B = q == p * p ? &sv->lone : &sv->tails;
            pf_tail *T = &B->e[B->n++];
            T->pos = pf_first(sv->lo, q);
            T->step = q;
            T->p = p;
            return;
        }
        pf_entry E;
        memset(&E, 0, sizeof E);
        E.step = q;
        E.inv = inv;
        E.mult = prev + q; /* σ(p^k) */
        E.shift = (uint32_t)pf_ctz64(prev);
        E.oinv = pf_inv64(prev >> E.shift);
        uint32_t twos = (uint32_t)pf_ctz64(E.mult), log = pf_aux_log((double)E.mult, (double)q);
        E.wmult = (E.mult >> twos) * E.oinv; /* ·odd(σ(p^k)) / odd(σ(p^(k-1))) */
        E.waux = log - prev_log + twos - E.shift; /* mod 2³²: the sum is what counts */
        prev_log = log;
        sv->powers[sv->npowers] = E;
        sv->off_powers[sv->npowers++] = pf_first(sv->lo, q);
        prev = E.mult;
    }
}

static void pf_tails_window(pf_tails *B, uint64_t first_block);

static void pf_sieve_close(pf_sieve *sv) {
    pf_large_close(&sv->large);
    free(sv->mem);
    free(sv->cells);
    free(sv->aux);
    sv->mem = NULL;
    sv->cells = NULL;
    sv->aux = NULL;
}

/* Bytes a sieve holds now (its cells, entries and buckets). */
static size_t pf_sieve_bytes(const pf_sieve *sv) {
    size_t m = 3 * PF_MAX_SMALL + PF_MAX_POWERS;
    return (PF_BLOCK + PF_DUMMY) * (sizeof(pf_cell) + (sv->wide ? sizeof(uint32_t) : 0)) +
           m * (sizeof(pf_entry) + sizeof(uint64_t)) +
           2 * PF_MAX_SMALL * (sizeof(pf_tail) + sizeof(uint32_t)) +
           sv->large.buckets * sizeof(pf_bucket) +
           (PF_NEAR + sv->large.far_mask + 1) * sizeof(void *);
}

/* √x rounded down, for any x < 2⁶⁴. */
static inline uint64_t pf_isqrt(uint64_t x) {
    uint64_t r = (uint64_t)sqrt((double)x);
    if (r > 0xFFFFFFFFu) r = 0xFFFFFFFFu;
    while (r * r > x) r--;
    while (r < 0xFFFFFFFFu && (r + 1) * (r + 1) <= x) r++;
    return r;
}

/* Offsets from lo of the first multiple ≥ lo of each of n odd primes (compiled per
 * target: _sieve_kernels.h, pf_firsts). */
typedef void (*pf_firsts_fn)(uint64_t lo, const uint32_t *ps, uint64_t *out, size_t n);

#define PF_SETUP_BATCH 4096

/* Open a sieve of [lo, lo + count), count ≥ 1, lo + count ≤ 2⁶⁴: its memory; then
 * pf_sieve_setup places every odd prime p ≤ √(lo + count − 1), from the process's store
 * (which must reach that far: pf_primes_extend). */
static int pf_sieve_open(pf_sieve *sv, uint64_t lo, uint64_t count) {
    uint64_t hi_incl = lo + (count - 1);
    memset(sv, 0, sizeof *sv);
    sv->lo = lo;
    sv->count = count;
    sv->wide = hi_incl >= PF_WIDE;
    sv->root = pf_isqrt(hi_incl);
    size_t m = PF_MAX_SMALL, ne = 3 * m + PF_MAX_POWERS, nt = 2 * PF_MAX_SMALL;
    uint64_t nfar = 2;
    while (nfar < (sv->root >> PF_LOG_SPAN) + 2) nfar *= 2;
    sv->mem = malloc(ne * (sizeof(pf_entry) + sizeof(uint64_t)) +
                     nt * (sizeof(pf_tail) + sizeof(uint32_t)) +
                     PF_SETUP_BATCH * (sizeof(uint32_t) + sizeof(uint64_t)));
    sv->cells = (pf_cell *)malloc((PF_BLOCK + PF_DUMMY) * sizeof(pf_cell));
    if (sv->wide) sv->aux = (uint32_t *)malloc((PF_BLOCK + PF_DUMMY) * sizeof(uint32_t));
    sv->large.slot = (pf_hit **)calloc(PF_NEAR + nfar, sizeof(pf_hit *));
    sv->large.far_mask = nfar - 1;
    sv->large.count = count;
    if (sv->mem == NULL || sv->cells == NULL || sv->large.slot == NULL ||
        (sv->wide && sv->aux == NULL)) {
        pf_sieve_close(sv);
        return PF_ERR_NOMEM;
    }
    pf_entry *e = (pf_entry *)sv->mem;
    uint64_t *o = (uint64_t *)(e + ne);
    pf_tail *t = (pf_tail *)(o + ne);
    sv->dense = e; sv->off_dense = o;
    sv->sparse8 = e + m; sv->off_sparse8 = o + m;
    sv->sparse4 = e + 2 * m; sv->off_sparse4 = o + 2 * m;
    sv->powers = e + 3 * m; sv->off_powers = o + 3 * m;
    sv->tails.e = t;
    sv->lone.e = t + PF_MAX_SMALL;
    sv->tails.link = (uint32_t *)(t + nt);
    sv->lone.link = sv->tails.link + PF_MAX_SMALL;
    sv->tails.count = sv->lone.count = count;
    sv->offs = (uint64_t *)(sv->tails.link + nt);
    sv->ps = (uint32_t *)(sv->offs + PF_SETUP_BATCH);
    pf_lock(); /* the store's published segments (pf_primes_extend made them reach root) */
    pf_prime_walk_start(&sv->walk, pf_prime_nsegs);
    pf_unlock();
    return 0;
}

/* Place the next primes of a sieve's set-up, at most `batches` batches of PF_SETUP_BATCH
 * (≈ 10 µs each near 2⁶⁴, where there are 50 000 of them): 1 when every prime ≤ root is
 * in place, 0 when more steps are needed, or an error code. */
static int pf_sieve_setup(pf_sieve *sv, pf_firsts_fn firsts, size_t batches) {
    uint64_t hi_incl = sv->lo + (sv->count - 1), root = sv->root;
    size_t n;
    uint32_t *ps = sv->ps;
    uint64_t *offs = sv->offs;
    for (; !sv->ready && batches > 0; batches--) {
        size_t got = pf_prime_batch(&sv->walk, ps, PF_SETUP_BATCH);
        n = got;
        while (n > 0 && ps[n - 1] > root) n--; /* only primes ≤ root */
        int last = n < got || got < PF_SETUP_BATCH; /* past root, or the end of the store */
        if (n == 0) {
            sv->ready = 1;
            break;
        }
        firsts(sv->lo, ps, offs, n);
        size_t i = 0;
        for (; i < n && ps[i] < PF_BLOCK; i++, sv->primes_seen++) { /* below the block */
            uint64_t p = ps[i], inv = pf_inv64(p);
            pf_add_powers(p, inv, hi_incl, sv);
            if (sv->primes_seen < PF_NPATTERN) continue; /* first powers: the pattern */
            pf_entry E;
            memset(&E, 0, sizeof E);
            E.step = p;
            E.inv = inv;
            E.oinv = 1;
            E.mult = p + 1;
            E.shift = (uint32_t)pf_ctz64(p + 1);
            E.wmult = (p + 1) >> E.shift;
            E.waux = pf_aux_log((double)(p + 1), (double)p) + E.shift;
            E.lim = UINT64_MAX / p;
            if (p * 8 <= PF_BLOCK) {
                sv->dense[sv->ndense] = E;
                sv->off_dense[sv->ndense++] = offs[i];
                if (p * p < PF_BLOCK) sv->npowered = sv->ndense; /* primes come in order */
            } else if (p * 4 <= PF_BLOCK) {
                sv->sparse8[sv->nsparse8] = E;
                sv->off_sparse8[sv->nsparse8++] = offs[i];
            } else {
                sv->sparse4[sv->nsparse4] = E;
                sv->off_sparse4[sv->nsparse4++] = offs[i];
            }
        }
        sv->large.primes += n - i;
        sv->primes_seen += n - i;
        /* The large primes: placed where their first hit is. Near 2⁶⁴ most miss a
         * segment, at random, so those that hit are first gathered without a branch. */
        size_t hits = 0;
        for (; i < n; i++) {
            ps[hits] = ps[i];
            offs[hits] = offs[i];
            hits += offs[i] < sv->count;
        }
        for (size_t k = 0; k < hits; k++)
            if (pf_place(&sv->large, 0, ps[k], offs[k])) return PF_ERR_NOMEM;
        sv->ready = last;
    }
    if (sv->ready && sv->next_block == 0) {
        pf_tails_window(&sv->tails, 0);
        pf_tails_window(&sv->lone, 0);
    }
    return sv->ready;
}

/* Put every tail whose next hit lies in blocks first_block … + PF_WINDOW − 1 into the
 * bucket of that block. */
static void pf_tails_window(pf_tails *B, uint64_t first_block) {
    uint64_t end = (first_block + PF_WINDOW) << PF_LOG_BLOCK;
    if (end > B->count || end >> PF_LOG_BLOCK != first_block + PF_WINDOW) end = B->count;
    for (int w = 0; w < PF_WINDOW; w++) B->head[w] = PF_NONE;
    for (size_t k = 0; k < B->n; k++) {
        if (B->e[k].pos < end) {
            size_t w = (size_t)((B->e[k].pos >> PF_LOG_BLOCK) - first_block);
            B->link[k] = B->head[w];
            B->head[w] = (uint32_t)k;
        }
    }
}

/* σ(n) of cell c of a wide block, with its aux word, in 128 bits. σ(n) mod 2⁶⁴ is exact
 * (the cell's odd part, shifted by its twos, times 1 + rem); its high word is the one
 * that brings an estimate of σ(n) within 2⁶³ of it: from the ratio in the aux word when
 * rem = 1, else σ(found part) · (1 + rem) in doubles (the found part is below 2³⁴, so
 * its σ is exact in the cell). No branches, so that the fold vectorises. */
static inline pf_u128 pf_wide_sigma_of(uint64_t n, const pf_cell *c, uint32_t aux) {
    uint64_t r = c->rem, twos = aux & 255, log = aux >> 8;
    uint64_t found = (c->sig << (twos & 63)) & (0 - (uint64_t)(twos < 64)); /* exact if r > 1 */
    uint64_t low = found * (r + (r > 1));
    double prime = (double)(r > 1); /* 1: σ(found) · (1 + r); 0: the ratio's estimate */
    double f = (double)(int32_t)(log & 4095) * (1.0 / PF_LOG_UNIT); /* 2^f: within 0.02 % */
    double ratio = (1.0 + f * (0.6950360501 + f * (0.2283087556 + f * 0.0763249885))) *
                   (double)(1 << ((log >> 12) & 3));
    double est = (1.0 - prime) * (double)(int64_t)(n >> 1) * 2.0 * ratio +
                 prime * (double)(int64_t)found * ((double)(int64_t)(r >> 1) * 2.0 + 2.0);
    double high = (est - (double)(int64_t)(low >> 1) * 2.0) * (1.0 / 18446744073709551616.0) + 0.5; /* · 2⁻⁶⁴ */
    return pf_u((uint64_t)(int64_t)high, low);
}

/* ------------------------------------------------------------ per-target builds */

typedef struct {
    const char *name;
    int (*block)(pf_sieve *sv);  /* sieve the next block into sv->cells */
    int (*fold)(pf_summary *S, uint64_t start, size_t len, const pf_cell *c);
    int (*fold_wide)(pf_summary *S, uint64_t start, size_t len, const pf_cell *c,
                     const uint32_t *aux);
    uint64_t (*trial)(uint64_t n);
    void (*firsts)(uint64_t lo, const uint32_t *ps, uint64_t *out, size_t n);
} pf_target;

#define PF_CAT_(a, b) a##b
#define PF_CAT(a, b) PF_CAT_(a, b)
#define PF_NAME(x) PF_CAT(x, PF_SUFFIX)

#define PF_SUFFIX _baseline
#define PF_TARGET
#define PF_VECTOR PERFECTLY_MARCH_NATIVE
#include "_sieve_kernels.h"
#undef PF_SUFFIX
#undef PF_TARGET
#undef PF_VECTOR

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !PERFECTLY_MARCH_NATIVE
#define PF_DISPATCH 1
#define PF_VECTOR 1
#define PF_SUFFIX _avx2
#define PF_TARGET __attribute__((target("avx2,bmi,bmi2,fma,popcnt,lzcnt")))
#include "_sieve_kernels.h"
#undef PF_SUFFIX
#undef PF_TARGET
#define PF_SUFFIX _avx512
#define PF_TARGET \
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi,bmi2,fma,popcnt,lzcnt")))
#include "_sieve_kernels.h"
#undef PF_SUFFIX
#undef PF_TARGET
#else
#define PF_DISPATCH 0
#endif

/* The builds this CPU can run, best last; targets[0] is the baseline. */
static int pf_targets(pf_target *out) {
    int n = 0;
    pf_target base = {PERFECTLY_MARCH_NATIVE ? "native" : "baseline", pf_block_baseline,
                      pf_fold_baseline, pf_fold_wide_baseline, pf_trial_baseline,
                      pf_firsts_baseline};
    out[n++] = base;
#if PF_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("fma")) {
        pf_target t = {"x86-64-avx2", pf_block_avx2, pf_fold_avx2, pf_fold_wide_avx2,
                       pf_trial_avx2, pf_firsts_avx2};
        out[n++] = t;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
            pf_target u = {"x86-64-avx512", pf_block_avx512, pf_fold_avx512,
                           pf_fold_wide_avx512, pf_trial_avx512, pf_firsts_avx512};
            out[n++] = u;
        }
    }
#endif
    return n;
}

#endif
