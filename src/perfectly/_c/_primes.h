/* The odd primes below 2³², made on demand and shared by every sieve of the process.
 *
 * A sieve for [lo, hi) needs every prime up to √hi: 78 498 of them at 10¹², 203 million
 * near 2⁶⁴. They are made once per process, in segments of PF_PRIMES_SEG numbers, by a
 * segmented sieve of Eratosthenes over a bitmap of the odd numbers (L1-sized blocks, 3 …
 * 17 pre-sieved from a pattern, the small primes crossing in runs that skip multiples
 * of 3 and 5), as far as the largest √hi asked for so far, and kept as half gaps,
 * one byte a prime (every gap between odd primes below 2³² is at most 336): 203 MB for
 * all of them. Threads that need more primes at once make different segments side by
 * side: each claims the next segment nobody is making, makes it outside the lock, and
 * publishes it once every segment below it is made. A segment, once published, never
 * changes, so readers walk it without a lock; claims and the count of published segments
 * are read and written under the process-wide lock (_process_lock.h), which orders a
 * segment's writes before its publication for every reader, whatever thread or
 * interpreter it runs in. Nothing is freed before the process ends: it is a cache, like
 * the prime table. */
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
/* A sieve block is a bitmap of the odd numbers, bit t of byte b for the (8b + t)-th: 32 KiB
 * (L1) hold 2¹⁸ of them, 2¹⁹ numbers, an eighth of a segment. */
#define PF_PRIMES_BYTES 32768
#define PF_PRIMES_SLOTS (8 * PF_PRIMES_BYTES)
#define PF_PRIMES_PATTERN 255255 /* bytes in a period of 3·5·7·11·13·17 (16 numbers a byte) */
#define PF_PRIMES_FIRST 6        /* the primes sieved from the 7th (19) on; 3 … 17 pre-sieved */

typedef struct {
    uint32_t first;     /* the smallest odd prime of the segment (0: none) */
    uint32_t count;     /* how many odd primes the segment holds */
    uint8_t *half_gaps; /* the next prime is the last one + 2·half_gaps[i] */
} pf_prime_seg;

/* Process-wide, zero-initialised (no initialiser: see _kernel.pyx on _built). The count
 * is written only under pf_lock; pf_prime_segs[k] by the one thread that claimed segment
 * k, before it is published, and read without the lock once k < a count read under it. */
static pf_prime_seg pf_prime_segs[PF_PRIMES_MAX_SEGS];
static uint32_t pf_prime_nsegs;
/* Each segment's state, under pf_lock: PF_SEG_FREE, being made by a thread, or made
 * (published once every segment below it is made too). */
enum { PF_SEG_FREE = 0, PF_SEG_MAKING = 1, PF_SEG_MADE = 2 };
static uint8_t pf_prime_state[PF_PRIMES_MAX_SEGS];

/* The odd primes below 2¹⁶, which sieve every segment, and the pre-sieved pattern: byte
 * J mod PF_PRIMES_PATTERN of it has bit t set when 16J + 2t + 1 is prime to 3 … 17 (16 is
 * prime to the period, so that is all the byte depends on); PF_PRIMES_BYTES more bytes
 * repeat its start, so that a block is one copy. Both are made with the first segment. */
static uint32_t pf_base_primes[6542];
static uint32_t pf_nbase;
static uint8_t *pf_primes_pattern;

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
    uint32_t bytes = PF_PRIMES_PATTERN + PF_PRIMES_BYTES;
    uint8_t *pattern = (uint8_t *)malloc(bytes);
    if (pattern == NULL) return -1;
    memset(pattern, 0xFF, bytes);
    for (uint32_t k = 0; k < PF_PRIMES_FIRST; k++) { /* slot s is 2s + 1: q | it from (q−1)/2 */
        uint32_t q = pf_base_primes[k];
        for (uint32_t slot = (q - 1) / 2; slot < 8 * bytes; slot += q)
            pattern[slot >> 3] &= (uint8_t)~(1u << (slot & 7));
    }
    pf_primes_pattern = pattern;
    pf_nbase = n;
    return 0;
}

/* The small sieving primes cross a block in runs of one bit each. The odd multiples p·k
 * whose k lie in one class mod M (M = 16, 48 or 240) share their bit and lie M·p/16 bytes
 * apart; a class of k divisible by 3 (or 5), pre-sieved, is skipped: M = 240 leaves 64
 * runs a prime and crosses 8/15 of the odd multiples, M = 48 leaves 16 runs and crosses
 * 2/3, M = 16 leaves 8 and crosses all. A run is its next byte, from the block's start,
 * and its mask; the runs of a prime are set up per segment and carried from block to
 * block. Primes from PF_PRIMES_PHASED on (a few hits a block) cross slot by slot. */
#define PF_PRIMES_WHEEL30 512   /* below: M = 240 */
#define PF_PRIMES_WHEEL6 2048   /* below: M = 48; then M = 16 */
#define PF_PRIMES_PHASED 8192
#define PF_PRIMES_MAX_RUNS 16384 /* runs of the primes below PF_PRIMES_PHASED: 13 880 */

typedef struct {
    uint32_t byte; /* next byte to cross, from the current block's start */
    uint8_t keep;  /* the mask that crosses the run's bit */
} pf_primes_run;

static inline uint32_t pf_primes_period(uint32_t p) {
    return p < PF_PRIMES_WHEEL30 ? 240 : p < PF_PRIMES_WHEEL6 ? 48 : 16;
}

/* Set up prime p's runs for a segment starting at lo (a multiple of 16): the first odd
 * multiple ≥ max(p², lo) of each class it crosses; how many runs. */
static uint32_t pf_primes_runs(pf_primes_run *run, uint32_t p, uint64_t lo) {
    uint32_t M = pf_primes_period(p), n = 0;
    uint64_t kmin = (lo + p - 1) / p;
    if (kmin < p) kmin = p;
    for (uint32_t r = 1; r < M; r += 2) {
        if ((M % 3 == 0 && r % 3 == 0) || (M % 5 == 0 && r % 5 == 0)) continue;
        uint64_t k = kmin + (r + M - kmin % M) % M, slot = (p * k - lo - 1) / 2;
        run[n].byte = slot >> 3 < UINT32_MAX ? (uint32_t)(slot >> 3) : UINT32_MAX;
        run[n++].keep = (uint8_t)~(1u << (slot & 7));
    }
    return n;
}

/* Cross one prime's runs over a block, and move them to the next block's start. */
static inline void pf_primes_cross_runs(uint8_t *block, pf_primes_run *run, uint32_t nruns,
                                        uint32_t step) {
    for (uint32_t j = 0; j < nruns; j++) {
        uint32_t b = run[j].byte;
        uint8_t keep = run[j].keep;
        for (; b + 3 * step < PF_PRIMES_BYTES; b += 4 * step) {
            block[b] &= keep;
            block[b + step] &= keep;
            block[b + 2 * step] &= keep;
            block[b + 3 * step] &= keep;
        }
        for (; b < PF_PRIMES_BYTES; b += step) block[b] &= keep;
        run[j].byte = b - PF_PRIMES_BYTES;
    }
}

/* Sieve segment k: the odd primes in [k·SEG, (k+1)·SEG), as half gaps. */
static int pf_primes_make_segment(uint32_t k) {
    uint64_t lo = (uint64_t)k << PF_PRIMES_LOG_SEG, hi = lo + PF_PRIMES_SEG;
    /* odd n = lo + 2i + 1 is slot i of the segment */
    size_t cap = 1 << 16, count = 0;
    uint8_t *block = (uint8_t *)malloc(PF_PRIMES_BYTES);
    uint32_t *next = (uint32_t *)malloc(pf_nbase * sizeof(uint32_t));
    pf_primes_run *runs = (pf_primes_run *)malloc(PF_PRIMES_MAX_RUNS * sizeof(pf_primes_run));
    uint8_t *gaps = (uint8_t *)malloc(cap);
    if (block == NULL || next == NULL || runs == NULL || gaps == NULL) {
        free(block), free(next), free(runs), free(gaps);
        return -1;
    }
    uint32_t nb = PF_PRIMES_FIRST, nphased, nruns = 0;
    for (; nb < pf_nbase && pf_base_primes[nb] < PF_PRIMES_PHASED; nb++) {
        uint64_t p = pf_base_primes[nb];
        if (p * p >= hi) break;
        nruns += pf_primes_runs(runs + nruns, (uint32_t)p, lo);
    }
    nphased = nb;
    for (; nb < pf_nbase; nb++) { /* the slot of the first odd multiple ≥ max(p², lo) */
        uint64_t p = pf_base_primes[nb];
        if (p * p >= hi) break;
        uint64_t m = p * p >= lo ? p * p : lo + (p - lo % p) % p;
        if (m % 2 == 0) m += p;
        next[nb] = (uint32_t)((m - lo) / 2);
    }
    uint32_t last = UINT32_MAX; /* the slot of the last prime found: none yet, slot −1 */
    for (uint32_t s0 = 0; s0 < PF_PRIMES_SEG / 2; s0 += PF_PRIMES_SLOTS) {
        memcpy(block, pf_primes_pattern + ((lo + 2 * (uint64_t)s0) / 16) % PF_PRIMES_PATTERN,
               PF_PRIMES_BYTES);
        pf_primes_run *run = runs;
        for (uint32_t j = PF_PRIMES_FIRST; j < nphased; j++) {
            uint32_t p = pf_base_primes[j], M = pf_primes_period(p);
            uint32_t nr = M == 240 ? 64 : M == 48 ? 16 : 8; /* as pf_primes_runs set up */
            pf_primes_cross_runs(block, run, nr, M / 16 * p);
            run += nr;
        }
        for (uint32_t j = nphased; j < nb; j++) {
            uint32_t i = next[j] - s0, p = pf_base_primes[j];
            for (; i < PF_PRIMES_SLOTS; i += p) block[i >> 3] &= (uint8_t)~(1u << (i & 7));
            next[j] = s0 + i;
        }
        if (lo == 0 && s0 == 0) { /* 1 is not prime; 3 … 17 are */
            block[0] &= (uint8_t)~1u;
            for (uint32_t q = 0; q < PF_PRIMES_FIRST; q++)
                block[pf_base_primes[q] / 16] |= (uint8_t)(1u << (pf_base_primes[q] / 2 % 8));
        }
        if (count + PF_PRIMES_SLOTS + 8 > cap) { /* room for a block of primes */
            size_t grown_cap = cap;
            while (count + PF_PRIMES_SLOTS + 8 > grown_cap) grown_cap *= 2;
            uint8_t *grown = (uint8_t *)realloc(gaps, grown_cap);
            if (grown == NULL) {
                free(block), free(next), free(runs), free(gaps);
                return -1;
            }
            gaps = grown, cap = grown_cap;
        }
        /* The primes' slots, as differences (the first from slot −1: the segment's first
         * prime is within 336 of lo): a word's first eight without a branch, whatever
         * they are (gaps has room), the count moved on by its bits. */
        for (uint32_t w = 0; w < PF_PRIMES_BYTES / 8; w++) {
            uint64_t bits; /* bit t: slot s0 + 64w + t holds a prime (little-endian) */
            memcpy(&bits, block + 8 * (size_t)w, 8);
            uint32_t base = s0 + 64 * w, ones = (uint32_t)pf_popcount64(bits), prev = last;
            uint64_t rest = bits;
            for (int t = 0; t < 8; t++, rest &= rest - 1) {
                uint32_t slot = base + (uint32_t)pf_ctz64(rest | ((uint64_t)1 << 63));
                gaps[count + (size_t)t] = (uint8_t)(slot - prev);
                prev = slot;
            }
            for (uint32_t t = 8; t < ones; t++, rest &= rest - 1) {
                uint32_t slot = base + (uint32_t)pf_ctz64(rest);
                gaps[count + t] = (uint8_t)(slot - prev);
                prev = slot;
            }
            if (ones > 0) last = base + 63 - (uint32_t)pf_clz64(bits);
            count += ones;
        }
    }
    free(block), free(next), free(runs);
    pf_prime_segs[k].first = count > 0 ? (uint32_t)(lo + 2 * (uint64_t)gaps[0] - 1) : 0;
    uint8_t *fitted = (uint8_t *)realloc(gaps, count > 0 ? count : 1);
    pf_prime_segs[k].count = (uint32_t)count;
    pf_prime_segs[k].half_gaps = fitted != NULL ? fitted : gaps;
    return 0;
}

/* Store the odd primes ≤ limit (≤ 2³²), making at most `most` more segments of them
 * (≈ 1 ms each), so that a caller can look up between steps: 1 when the store
 * reaches limit, 0 when it needs another step, −1 when memory ran out (what was made
 * stays made). Safe from any thread, and threads calling at once share the work: each
 * makes segments no other is making, outside the lock. One that finds every segment it
 * needs made or being made pauses, and returns 0 if some are still being made. */
static int pf_primes_extend(uint64_t limit, uint32_t most) {
    uint32_t want = (uint32_t)((limit >> PF_PRIMES_LOG_SEG) + 1), made = 0, k;
    int rc = 0;
    if (want > PF_PRIMES_MAX_SEGS) want = PF_PRIMES_MAX_SEGS;
    pf_lock();
    if (pf_nbase == 0) rc = pf_primes_make_base();
    while (rc == 0 && pf_prime_nsegs < want && made < most) {
        for (k = pf_prime_nsegs; k < want && pf_prime_state[k] != PF_SEG_FREE; k++) {
        }
        if (k == want) break; /* the rest are being made by other threads */
        pf_prime_state[k] = PF_SEG_MAKING;
        pf_unlock();
        rc = pf_primes_make_segment(k); /* writes pf_prime_segs[k] alone */
        pf_lock();
        pf_prime_state[k] = rc == 0 ? PF_SEG_MADE : PF_SEG_FREE;
        while (pf_prime_nsegs < PF_PRIMES_MAX_SEGS &&
               pf_prime_state[pf_prime_nsegs] == PF_SEG_MADE)
            pf_prime_nsegs++;
        made++;
    }
    int done = pf_prime_nsegs >= want;
    pf_unlock();
    if (rc == 0 && !done && made == 0) pf_pause();
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
