/* The segmented factor sieve of perfectly._kernel, in C: its types, its set-up, and the
 * choice, once at import, of the build of its hot loops that suits this CPU.
 *
 * A block of PF_BLOCK numbers n is factored by the odd primes p ≤ √hi: each cell keeps
 * `rem`, what is left of n, and `sig`, σ of the part already found. Every division is
 * exact, by multiplying with p⁻¹ mod 2⁶⁴. Afterwards rem is 1 or one prime (or, above
 * 2⁴⁰, a rough cofactor: see pf_sieve.rough) and σ(n) = sig · (1 + rem) when rem > 1.
 *   - 2 is taken out by counting trailing zeros, and the first power of 3, 5, 7, 11 and
 *     13 by a pre-sieved pattern of period 15015, indexed by n mod 15015.
 *   - A further power p^k (k ≥ 2) is its own sieve entry of step p^k: on a hit it takes
 *     out one more p and turns σ(p^(k-1)) into σ(p^k) in sig, dividing exactly by
 *     σ(p^(k-1)) = 2^shift · odd (a shift and a multiply by odd⁻¹). No loop per hit.
 *   - Entries with step < PF_BLOCK are sieved in plain loops (dense) or with a fixed
 *     count of branch-free updates whose misses land in dummy cells (sparse). Entries
 *     with a larger step hit a block at most once: they wait in buckets, one per block
 *     of a window of PF_WINDOW blocks, so a block costs only its hits.
 *   - The first power p^k ≥ PF_BLOCK of a prime is a "tail" entry: it is bucketed too,
 *     and on its rare hits takes out every further power of p in a loop, so the order in
 *     which the bucketed entries of one prime hit a cell never matters.
 * The hot loops (_sieve_kernels.h) are compiled once per x86-64 target and chosen at import
 * (pf_select); other platforms and compilers get the baseline build only. */
#ifndef PERFECTLY_SIEVE_H
#define PERFECTLY_SIEVE_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "_portable.h"

#define PF_LOG_BLOCK 15
#define PF_BLOCK ((uint64_t)1 << PF_LOG_BLOCK) /* numbers per block: cells fill half of L2 */
#define PF_DUMMY 8                             /* dummy cells after a block, for misses */
#define PF_WINDOW 64                           /* blocks per bucket window */
#define PF_PATTERN 15015                       /* 3·5·7·11·13 */
#define PF_NPATTERN 5                          /* the pattern primes: the first 5 odd primes */
#define PF_MAX_FOUND 256     /* perfect and multiply-perfect numbers one summary can hold */
#define PF_ROUGH ((uint64_t)1 << 40)           /* table primes reach 2²⁰: see rough */
#define PF_NONE UINT32_MAX
#define PF_MAX_POWERS 256 /* p^k < PF_BLOCK, k ≥ 2, p odd: 70 of them */
#define PF_MAX_SMALL 3600  /* odd primes below PF_BLOCK: 3511 */

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

/* σ(m) of a cofactor m > 2⁴⁰ that may be composite (the kernel factors it). */
typedef uint64_t (*pf_rough_fn)(uint64_t m);

/* One sieve entry with a step < PF_BLOCK: a prime p (step p) or a power p^k (step p^k). */
typedef struct {
    uint64_t step, inv; /* p^k and p⁻¹ mod 2⁶⁴ */
    uint64_t oinv;      /* odd⁻¹ mod 2⁶⁴, where σ(p^(k-1)) = 2^shift · odd */
    uint64_t mult;      /* σ(p^k) (p + 1 for a prime) */
    uint32_t shift, pad;
} pf_entry;

/* An entry with a step ≥ PF_BLOCK, kept in a bucket: 24 bytes, all that a hit reads,
 * since a call near 1e12 writes and reads ≈ 160 000 of them (memory traffic, not
 * arithmetic, was its set-up cost). */
typedef struct {
    uint64_t pos; /* next hit, as an offset from the sieve's lo */
    union {
        uint64_t inv;  /* a prime: p⁻¹ mod 2⁶⁴ */
        uint64_t step; /* a tail: p^k */
    } u;
    uint64_t p;
} pf_bucketed;

/* Entries of one kind with steps ≥ PF_BLOCK, in buckets of the current window. The links
 * are an array of their own: a bucket is walked link by link, and 4 bytes an entry stay in
 * L2 where the entries do not, so the entries' cache misses overlap instead of queueing. */
typedef struct {
    pf_bucketed *e;
    uint32_t *link; /* next entry in the same bucket */
    uint32_t head[PF_WINDOW];
    size_t n;
    uint64_t count; /* hits at offsets ≥ count are never taken */
} pf_buckets;

typedef struct {
    uint64_t lo, count; /* the numbers lo … lo + count − 1, all below 2⁶¹ */
    int rough;          /* √hi is beyond the table: a cofactor > 2⁴⁰ may be composite */
    pf_cell *cells;     /* PF_BLOCK + PF_DUMMY */
    pf_entry *dense, *sparse4, *sparse8, *powers; /* primes by hits per block; powers */
    uint64_t *off_dense, *off_sparse4, *off_sparse8, *off_powers; /* next hit in a block */
    size_t ndense, nsparse4, nsparse8, npowers;
    pf_buckets big, tails; /* primes ≥ PF_BLOCK; tails */
    void *mem;             /* one allocation for all of the above but the cells */
} pf_sieve;

/* The pattern: for r = n mod 15015, (Π pattern p dividing r)⁻¹ mod 2⁶⁴ and Π (1 + p). */
static uint64_t pf_pattern_inv[PF_PATTERN];
static uint32_t pf_pattern_sig[PF_PATTERN];
/* 1/d for the trial kernel's divisibility test (every n < 2³² finds its d here). */
#define PF_RECIP (1 << 16)
static double pf_recip[PF_RECIP];

static inline uint64_t pf_inv64(uint64_t a) { /* a⁻¹ mod 2⁶⁴ for odd a (Newton) */
    uint64_t x = a;
    for (int i = 0; i < 5; i++) x *= 2 - a * x;
    return x;
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
    }
}

/* x mod m, exactly, for any x < 2⁶⁴ and 3 ≤ m < 2⁴⁰, without a 64-bit division (tens of
 * cycles each, ≈ 160 000 of them per sieve near 1e12) and without a branch: q = x·(1/m)
 * in doubles, truncated, is within 3·2¹¹/m + 1 of x/m (three roundings of 2⁻⁵³ each, and
 * x/m < 2⁶⁴/m), so r = x − q·m (wrapping) lies within ±(2¹³ + m) < 2⁴¹; a second such
 * step on r, exact in a double, leaves it in (−2m, 2m), and three corrections in [0, m)
 * (masks, not branches: their signs are random). */
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

/* Entries for p^k, k ≥ 2, while p^k ≤ hi_incl: a power entry each while p^k < PF_BLOCK,
 * then one tail entry. */
static void pf_add_powers(uint64_t p, uint64_t inv, uint64_t hi_incl, pf_sieve *sv) {
    uint64_t prev = 1 + p, q = p;
    while (pf_mulhi(q, p) == 0 && q * p <= hi_incl) { /* no division: 78 000 primes a call */
        q *= p;
        if (q >= PF_BLOCK) {
            pf_bucketed *T = &sv->tails.e[sv->tails.n++];
            T->pos = pf_first(sv->lo, q);
            T->u.step = q;
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
        sv->powers[sv->npowers] = E;
        sv->off_powers[sv->npowers++] = pf_first(sv->lo, q);
        prev = E.mult;
    }
}

static void pf_bucket_window(pf_buckets *B, uint64_t first_block);

static void pf_sieve_close(pf_sieve *sv) {
    free(sv->mem);
    free(sv->cells);
    sv->mem = NULL;
    sv->cells = NULL;
}

/* Scratch and entries for sieving [lo, lo + count) by the odd primes in ps[0 … np)
 * (ascending, from 3, with inverses pinv) that are ≤ √(lo + count − 1). */
static int pf_sieve_open(pf_sieve *sv, uint64_t lo, uint64_t count, const uint32_t *ps,
                         const uint64_t *pinv, size_t np, int rough) {
    uint64_t hi_incl = lo + count - 1;
    size_t k, n = np + 1;
    memset(sv, 0, sizeof *sv);
    sv->lo = lo;
    sv->count = count;
    sv->rough = rough;
    /* primes < PF_BLOCK (3512 of them) go to dense, sparse8 or sparse4: ≤ m each, and
     * the powers, with an offset each; the others to big: ≤ n; tails ≤ n */
    size_t m = n < PF_MAX_SMALL ? n : PF_MAX_SMALL;
    size_t ne = 3 * m + PF_MAX_POWERS;
    sv->mem = malloc(ne * (sizeof(pf_entry) + sizeof(uint64_t)) +
                     2 * n * (sizeof(pf_bucketed) + sizeof(uint32_t)));
    sv->cells = (pf_cell *)malloc((PF_BLOCK + PF_DUMMY) * sizeof(pf_cell));
    if (sv->mem == NULL || sv->cells == NULL) {
        pf_sieve_close(sv);
        return PF_ERR_NOMEM;
    }
    pf_entry *e = (pf_entry *)sv->mem;
    uint64_t *o = (uint64_t *)(e + ne);
    pf_bucketed *bk = (pf_bucketed *)(o + ne);
    sv->dense = e; sv->off_dense = o;
    sv->sparse8 = e + m; sv->off_sparse8 = o + m;
    sv->sparse4 = e + 2 * m; sv->off_sparse4 = o + 2 * m;
    sv->powers = e + 3 * m; sv->off_powers = o + 3 * m;
    uint32_t *l = (uint32_t *)(bk + 2 * n);
    sv->big.e = bk; sv->big.link = l;
    sv->tails.e = bk + n; sv->tails.link = l + n;
    for (k = 0; k < np; k++) {
        uint64_t p = ps[k];
        if (p * p > hi_incl) break;
        pf_add_powers(p, pinv[k], hi_incl, sv);
        if (k < PF_NPATTERN) continue; /* first powers come from the pattern */
        if (p >= PF_BLOCK) {
            pf_bucketed *B = &sv->big.e[sv->big.n++];
            B->pos = pf_first(lo, p);
            B->u.inv = pinv[k];
            B->p = p;
            continue;
        }
        pf_entry E;
        memset(&E, 0, sizeof E);
        E.step = p;
        E.inv = pinv[k];
        E.oinv = 1;
        E.mult = p + 1;
        uint64_t off = pf_first(lo, p);
        if (p * 8 <= PF_BLOCK) {
            sv->dense[sv->ndense] = E;
            sv->off_dense[sv->ndense++] = off;
        } else if (p * 4 <= PF_BLOCK) {
            sv->sparse8[sv->nsparse8] = E;
            sv->off_sparse8[sv->nsparse8++] = off;
        } else {
            sv->sparse4[sv->nsparse4] = E;
            sv->off_sparse4[sv->nsparse4++] = off;
        }
    }
    sv->big.count = sv->tails.count = count;
    pf_bucket_window(&sv->big, 0);
    pf_bucket_window(&sv->tails, 0);
    return 0;
}

/* Put every entry whose next hit lies in blocks first_block … + PF_WINDOW − 1 into the
 * bucket of that block. */
static void pf_bucket_window(pf_buckets *B, uint64_t first_block) {
    uint64_t end = (first_block + PF_WINDOW) << PF_LOG_BLOCK;
    if (end > B->count) end = B->count;
    for (int w = 0; w < PF_WINDOW; w++) B->head[w] = PF_NONE;
    for (size_t k = 0; k < B->n; k++) {
        if (B->e[k].pos < end) {
            size_t w = (size_t)((B->e[k].pos >> PF_LOG_BLOCK) - first_block);
            B->link[k] = B->head[w];
            B->head[w] = (uint32_t)k;
        }
    }
}

/* ------------------------------------------------------------ per-target builds */

typedef struct {
    const char *name;
    void (*block)(pf_sieve *sv, uint64_t b);
    int (*fold)(pf_summary *S, uint64_t start, size_t len, const pf_cell *c, int rough,
                pf_rough_fn rough_sigma);
    uint64_t (*trial)(uint64_t n);
} pf_target;

#define PF_NAME(x) x##_baseline
#define PF_TARGET
#define PF_VECTOR PERFECTLY_MARCH_NATIVE
#include "_sieve_kernels.h"
#undef PF_NAME
#undef PF_TARGET
#undef PF_VECTOR

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !PERFECTLY_MARCH_NATIVE
#define PF_DISPATCH 1
#define PF_VECTOR 1
#define PF_NAME(x) x##_avx2
#define PF_TARGET __attribute__((target("avx2,bmi,bmi2,fma,popcnt,lzcnt")))
#include "_sieve_kernels.h"
#undef PF_NAME
#undef PF_TARGET
#define PF_NAME(x) x##_avx512
#define PF_TARGET \
    __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi,bmi2,fma,popcnt,lzcnt")))
#include "_sieve_kernels.h"
#undef PF_NAME
#undef PF_TARGET
#else
#define PF_DISPATCH 0
#endif

/* The builds this CPU can run, best last; targets[0] is the baseline. */
static int pf_targets(pf_target *out) {
    int n = 0;
    pf_target base = {PERFECTLY_MARCH_NATIVE ? "native" : "baseline", pf_block_baseline,
                      pf_fold_baseline, pf_trial_baseline};
    out[n++] = base;
#if PF_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("fma")) {
        pf_target t = {"x86-64-avx2", pf_block_avx2, pf_fold_avx2, pf_trial_avx2};
        out[n++] = t;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
            pf_target u = {"x86-64-avx512", pf_block_avx512, pf_fold_avx512, pf_trial_avx512};
            out[n++] = u;
        }
    }
#endif
    return n;
}

#endif
