/* The hot loops of perfectly._kernel, compiled once per target: _sieve.h includes this file
 * with PF_SUFFIX (a suffix for each name) and PF_TARGET (a GCC/Clang target attribute, or
 * nothing for the baseline build). No include guard, on purpose. */

#define PF_W 0
#define PF_V(x) PF_CAT(x, _narrow)
#include "_sieve_block.h"
#undef PF_W
#undef PF_V
#define PF_W 1
#define PF_V(x) PF_CAT(x, _wide)
#include "_sieve_block.h"
#undef PF_W
#undef PF_V

/* Sieve the sieve's next block into sv->cells: 0 (the narrow build), 1 (the wide build:
 * some n ≥ PF_WIDE, and sv->aux holds the cells' aux words), or an error code. */
static PF_TARGET int PF_NAME(pf_block)(pf_sieve *sv) {
    uint64_t b = sv->next_block++, start = b << PF_LOG_BLOCK;
    uint64_t len = sv->count - start < PF_BLOCK ? sv->count - start : PF_BLOCK;
    int rc;
    if (sv->lo + start + (len - 1) >= PF_WIDE) {
        rc = PF_NAME(pf_block_wide)(sv, b);
        return rc < 0 ? rc : 1;
    }
    rc = PF_NAME(pf_block_narrow)(sv, b);
    return rc < 0 ? rc : 0;
}

static PF_TARGET int PF_NAME(pf_record)(pf_summary *S, uint64_t n, uint64_t k) {
    if (S->nfound == PF_MAX_FOUND) return PF_ERR_TOO_MANY;
    S->found_n[S->nfound] = n;
    S->found_k[S->nfound++] = k;
    return 0;
}

static PF_TARGET int PF_NAME(pf_record_narrow)(pf_summary *S, uint64_t n, uint64_t s) {
    for (uint64_t k = 2; k < 7; k++) /* n < 2⁶¹, so σ(n) < 7n and k·n fits */
        if (s == k * n) return PF_NAME(pf_record)(S, n, k);
    return 0;
}

/* Fold σ(n), n in [start, start + len) < 2⁶¹, from sieved cells into the summary. With
 * vectors of 64-bit integers (PF_VECTOR: AVX2 and up) the common case is one pass with no
 * branches (σ summed as two 32-bit halves) and a block with a (multiply-)perfect n takes
 * a second pass; without, one scalar pass that branches on the rare n with σ(n) = 2n or
 * σ(n) ≥ 3n is cheaper. */
#if PF_VECTOR
static PF_TARGET int PF_NAME(pf_fold)(pf_summary *S, uint64_t start, size_t len,
                                      const pf_cell *c) {
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
        rare += (s == two) | (s == three) | (s == four) | (s == four + n) | (s == four + two);
    }
    for (i = 0; rare && i < len; i++) {
        uint64_t n = start + i, r = c[i].rem;
        uint64_t s = c[i].sig * (r + (r > 1));
        if (s % n == 0 && s != n) {
            int rc = PF_NAME(pf_record_narrow)(S, n, s);
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
                                      const pf_cell *c) {
    uint64_t sum_lo = 0, sum_hi = 0, abundant = 0, deficient = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t n = start + i, r = c[i].rem, two = n + n;
        uint64_t s = c[i].sig * (r + (r > 1));
        sum_lo += s;
        sum_hi += sum_lo < s;
        deficient += s < two;
        abundant += s > two;
        if ((s == two || s >= two + n) && s % n == 0) {
            int rc = PF_NAME(pf_record_narrow)(S, n, s);
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

/* The fold of a wide block, any n < 2⁶⁴; σ(n) < 7n (Robin's bound at 2⁶⁴: σ(n)/n < 6.93),
 * so σ(n) < 2⁶⁷. σ(n) mod 2⁶⁴ is exact (the cell's odd part, shifted by its twos, times
 * 1 + rem); its high word is the one that brings an estimate of σ(n) within 2⁶³ of it:
 * from the ratio in the aux word when rem = 1, else σ(found part) · (1 + rem) in doubles
 * (the found part is below 2³⁴, so its σ is exact in the cell). One pass with no
 * branches (Σσ as the sums of its high word and of its low word's 32-bit halves); a
 * block where the low word of σ(n) − 2n is that of (k − 2)·n for some k in 2 … 6 takes
 * a second pass. */
static PF_TARGET int PF_NAME(pf_fold_wide)(pf_summary *S, uint64_t start, size_t len,
                                           const pf_cell *c, const uint32_t *aux) {
    uint64_t high = 0, mid = 0, low = 0, deficient = 0, equal = 0, rare = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        uint64_t n = start + i;
        pf_u128 s = pf_wide_sigma_of(n, &c[i], aux[i]);
        high += s.hi;
        mid += s.lo >> 32;
        low += s.lo & 0xFFFFFFFFu;
        uint64_t two = n << 1, d_lo = s.lo - two; /* d = σ(n) − 2n */
        uint64_t d_hi = s.hi - (n >> 63) - (s.lo < two);
        deficient += d_hi >> 63;
        equal += (d_lo | d_hi) == 0;
        /* σ(n) = k·n, k in 2 … 6, is d = (k − 2)·n: first the low words */
        rare += (d_lo == 0) | (d_lo == n) | (d_lo == two) | (d_lo == two + n) |
                (d_lo == two + two);
    }
    for (i = 0; rare && i < len; i++) {
        uint64_t n = start + i;
        pf_u128 s = pf_wide_sigma_of(n, &c[i], aux[i]);
        for (uint64_t k = 2; k < 7; k++) {
            pf_u128 kn = pf_mul64(n, k);
            if (kn.lo == s.lo && kn.hi == s.hi) {
                int rc = PF_NAME(pf_record)(S, n, k);
                if (rc < 0) return rc;
            }
        }
    }
    /* Σσ = high·2⁶⁴ + mid·2³² + low, with high < 2¹⁸, mid and low < 2⁴⁷ */
    uint64_t s_lo = low + (mid << 32);
    uint64_t s_hi = high + (mid >> 32) + (s_lo < low);
    S->total.lo += s_lo;
    S->total.hi += s_hi + (S->total.lo < s_lo);
    S->abundant += len - deficient - equal;
    S->deficient += deficient;
    return 0;
}

/* Offsets from lo of the first multiple ≥ lo of each odd prime ps[i] < 2³² (pf_mod,
 * vectorisable: lo is converted once, and the quotients, below 2⁶³, with signed
 * conversions, which every x86-64 has). */
static PF_TARGET void PF_NAME(pf_firsts)(uint64_t lo, const uint32_t *ps, uint64_t *out,
                                         size_t n) {
    double lo_d = (double)lo;
    for (size_t i = 0; i < n; i++) {
        int64_t m = (int64_t)ps[i];
        double md = (double)m, rm = 1.0 / md;
        int64_t r = (int64_t)(lo - (uint64_t)(int64_t)(lo_d * rm) * (uint64_t)m);
        r -= (int64_t)((double)r * rm) * m;
        r += m & (r >> 63);
        r += m & (r >> 63);
        r -= m;
        r += m & (r >> 63);
        out[i] = r == 0 ? 0 : (uint64_t)(m - r);
    }
}

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
