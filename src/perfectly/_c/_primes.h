/* The odd primes below 2³², made on demand and shared by every sieve of the process.
 *
 * A sieve for [lo, hi) needs every prime up to √hi: 78 498 of them at 10¹², 203 million
 * near 2⁶⁴. They are made once per process, in segments of PF_PRIMES_SEG numbers, by a
 * segmented sieve of Eratosthenes over odd numbers (L1-sized blocks, 3 … 13 pre-sieved
 * from a pattern), as far as the largest √hi asked for so far, and kept as half gaps,
 * one byte a prime (every gap between odd primes below 2³² is at most 336): 203 MB for
 * all of them. A segment, once published, never changes, so readers walk it without a
 * lock; the count of published segments is read and written under the process-wide lock
 * (_process_lock.h), which orders a segment's writes before its publication for every
 * reader, whatever thread or interpreter it runs in. Nothing is freed before the process
 * ends: it is a cache, like the prime table. */
#ifndef PERFECTLY_PRIMES_H
#define PERFECTLY_PRIMES_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "_portable.h"
#include "_process_lock.h"

#define PF_PRIMES_LOG_SEG 22
#define PF_PRIMES_SEG ((uint64_t)1 << PF_PRIMES_LOG_SEG) /* numbers per segment */
#define PF_PRIMES_MAX_SEGS 1024                          /* up to 2³² */
#define PF_PRIMES_LIMIT ((uint64_t)1 << 32)
#define PF_PRIMES_BLOCK 32768 /* odd numbers per sieve block: one byte each, in L1 */
#define PF_PRIMES_PATTERN 15015 /* odd numbers in a period of 3·5·7·11·13 */

typedef struct {
    uint32_t first;     /* the smallest odd prime of the segment (0: none) */
    uint32_t count;     /* how many odd primes the segment holds */
    uint8_t *half_gaps; /* the next prime is the last one + 2·half_gaps[i] */
} pf_prime_seg;

/* Process-wide, zero-initialised (no initialiser: see _kernel.pyx on _built). Written
 * only under pf_lock; pf_prime_segs[k] is read without it once k < a count read under it. */
static pf_prime_seg pf_prime_segs[PF_PRIMES_MAX_SEGS];
static uint32_t pf_prime_nsegs;

/* The odd primes below 2¹⁶, which sieve every segment (built with the first segment). */
static uint32_t pf_base_primes[6542];
static uint32_t pf_nbase;

static int pf_primes_make_base(void) {
    uint8_t composite[1 << 16];
    memset(composite, 0, sizeof composite);
    uint32_t n = 0;
    for (uint32_t i = 3; i < (1u << 16); i += 2) {
        if (composite[i]) continue;
        pf_base_primes[n++] = i;
        if (i < 256)
            for (uint32_t j = i * i; j < (1u << 16); j += 2 * i) composite[j] = 1;
    }
    pf_nbase = n;
    return 0;
}

/* Sieve segment k: the odd primes in [k·SEG, (k+1)·SEG), as half gaps. */
static int pf_primes_make_segment(uint32_t k) {
    static const uint32_t pattern_primes[5] = {3, 5, 7, 11, 13};
    uint64_t lo = (uint64_t)k << PF_PRIMES_LOG_SEG, hi = lo + PF_PRIMES_SEG;
    /* odd n = 2i + 1; slot i of the segment is n = lo + 2i + 1 */
    size_t nslots = (size_t)(PF_PRIMES_SEG / 2), cap = 1 << 16, count = 0;
    uint8_t *block = (uint8_t *)malloc(PF_PRIMES_BLOCK + 64);
    uint8_t *pattern = (uint8_t *)malloc(PF_PRIMES_PATTERN + PF_PRIMES_BLOCK);
    uint64_t *next = (uint64_t *)malloc(pf_nbase * sizeof(uint64_t));
    uint8_t *gaps = (uint8_t *)malloc(cap);
    if (block == NULL || pattern == NULL || next == NULL || gaps == NULL) {
        free(block), free(pattern), free(next), free(gaps);
        return -1;
    }
    for (size_t i = 0; i < PF_PRIMES_PATTERN + PF_PRIMES_BLOCK; i++) {
        uint64_t n = 2 * (i % PF_PRIMES_PATTERN) + 1;
        pattern[i] = (n % 3 != 0) & (n % 5 != 0) & (n % 7 != 0) & (n % 11 != 0) & (n % 13 != 0);
    }
    uint32_t nb = 0;
    for (; nb < pf_nbase; nb++) { /* the slot of the first odd multiple ≥ max(p², lo) */
        uint64_t p = pf_base_primes[nb];
        if (p * p >= hi) break;
        uint64_t m = p * p >= lo ? p * p : lo + (p - lo % p) % p;
        if (m % 2 == 0) m += p;
        next[nb] = (m - lo) / 2;
    }
    uint64_t last = 0;
    uint32_t first = 0;
    for (size_t s0 = 0; s0 < nslots; s0 += PF_PRIMES_BLOCK) {
        size_t s1 = s0 + PF_PRIMES_BLOCK < nslots ? s0 + PF_PRIMES_BLOCK : nslots;
        uint64_t phase = ((lo / 2) + s0) % PF_PRIMES_PATTERN;
        memcpy(block, pattern + phase, s1 - s0);
        for (uint32_t j = 5; j < nb; j++) { /* 17 and up; 3 … 13 came with the pattern */
            uint64_t p = pf_base_primes[j], m = next[j];
            for (; m < s1; m += p) block[m - s0] = 0;
            next[j] = m;
        }
        if (lo == 0 && s0 == 0) { /* 1 is not prime; 3 … 13 are */
            block[0] = 0;
            for (int q = 0; q < 5; q++) block[pattern_primes[q] / 2] = 1;
        }
        memset(block + (s1 - s0), 0, 64);
        for (size_t i = 0; i < s1 - s0; i += 64) {
            uint64_t bits = 0; /* bit j: slot i + j holds a prime (its byte is 1) */
            for (int q = 0; q < 8; q++) {
                uint64_t w;
                memcpy(&w, block + i + 8 * (size_t)q, 8);
                bits |= ((w * 0x0102040810204080u) >> 56) << (8 * q); /* little-endian */
            }
            if (count + 64 > cap) {
                uint8_t *grown = (uint8_t *)realloc(gaps, cap * 2);
                if (grown == NULL) {
                    free(block), free(pattern), free(next), free(gaps);
                    return -1;
                }
                gaps = grown, cap *= 2;
            }
            for (; bits != 0; bits &= bits - 1) {
                uint64_t n = lo + 2 * (s0 + i + (size_t)pf_ctz64(bits)) + 1;
                if (count == 0) first = (uint32_t)n;
                gaps[count++] = (uint8_t)((n - last) / 2); /* gaps[0] is unused */
                last = n;
            }
        }
    }
    free(block), free(pattern), free(next);
    pf_prime_segs[k].first = first;
    pf_prime_segs[k].count = (uint32_t)count;
    pf_prime_segs[k].half_gaps = gaps;
    return 0;
}

/* Store the odd primes ≤ limit (≤ 2³²), making at most `most` more segments of them
 * (≈ 4 ms each), so that a caller can look up between steps: 1 when the store
 * reaches limit, 0 when it needs another step, −1 when memory ran out (what was made
 * stays made). Safe from any thread; the lock is held for one step at most. */
static int pf_primes_extend(uint64_t limit, uint32_t most) {
    uint32_t want = (uint32_t)((limit >> PF_PRIMES_LOG_SEG) + 1);
    int rc = 0;
    if (want > PF_PRIMES_MAX_SEGS) want = PF_PRIMES_MAX_SEGS;
    pf_lock();
    if (pf_nbase == 0) rc = pf_primes_make_base();
    for (uint32_t made = 0; rc == 0 && pf_prime_nsegs < want && made < most; made++) {
        rc = pf_primes_make_segment(pf_prime_nsegs);
        if (rc == 0) pf_prime_nsegs++;
    }
    int done = pf_prime_nsegs >= want;
    pf_unlock();
    return rc < 0 ? -1 : done;
}

/* Store the odd primes ≤ limit, in one go; the number of segments published then, or −1
 * when memory ran out. */
static int64_t pf_primes_ensure(uint64_t limit) {
    int rc;
    while ((rc = pf_primes_extend(limit, PF_PRIMES_MAX_SEGS)) == 0) {
    }
    if (rc < 0) return -1;
    pf_lock();
    int64_t have = pf_prime_nsegs;
    pf_unlock();
    return have;
}

/* Walks the stored odd primes in order, a batch at a time (pf_prime_batch). */
typedef struct {
    uint32_t seg, nsegs, i;
    uint64_t p;
} pf_prime_walk;

static inline void pf_prime_walk_start(pf_prime_walk *w, uint32_t nsegs) {
    w->seg = 0, w->nsegs = nsegs, w->i = 0, w->p = 0;
}

/* The next stored odd primes, up to max of them, into out; how many (0 after the last). */
static size_t pf_prime_batch(pf_prime_walk *w, uint32_t *out, size_t max) {
    size_t n = 0;
    while (n < max && w->seg < w->nsegs) {
        const pf_prime_seg *S = &pf_prime_segs[w->seg];
        if (w->i == 0 && S->count > 0) {
            w->p = S->first;
            out[n++] = (uint32_t)w->p;
            w->i = 1;
        }
        size_t take = S->count - w->i < max - n ? S->count - w->i : max - n;
        const uint8_t *g = S->half_gaps + w->i;
        uint64_t p = w->p;
        for (size_t k = 0; k < take; k++) {
            p += 2 * (uint64_t)g[k];
            out[n + k] = (uint32_t)p;
        }
        w->p = p;
        n += take;
        w->i += (uint32_t)take;
        if (w->i >= S->count) w->seg++, w->i = 0;
    }
    return n;
}

/* How far the store reaches now: every odd prime below this is in it. */
static uint64_t pf_primes_reach(void) {
    uint64_t reach;
    pf_lock();
    reach = (uint64_t)pf_prime_nsegs << PF_PRIMES_LOG_SEG;
    pf_unlock();
    return reach;
}

/* Bytes the store holds now. */
static size_t pf_primes_bytes(void) {
    size_t total = 0;
    pf_lock();
    for (uint32_t k = 0; k < pf_prime_nsegs; k++) total += pf_prime_segs[k].count;
    pf_unlock();
    return total;
}

#endif
