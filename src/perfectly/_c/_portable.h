/* Portable 64x64->128 high product and count-trailing-zeros for perfectly._kernel.
 * GCC/Clang use unsigned __int128 and builtins; MSVC uses its intrinsics; anything
 * else gets a plain C fallback, so the extension builds on every wheel target. */
#ifndef PERFECTLY_PORTABLE_H
#define PERFECTLY_PORTABLE_H
#include <stdint.h>

/* Build switches, set by setup.py and reported by perfectly.build_info(). */
#ifndef PERFECTLY_MARCH_NATIVE
#define PERFECTLY_MARCH_NATIVE 0
#endif
#ifndef PERFECTLY_DEBUG
#define PERFECTLY_DEBUG 0
#endif

#if defined(__SIZEOF_INT128__)
static inline uint64_t pf_mulhi(uint64_t a, uint64_t b) {
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
#include <intrin.h>
static inline uint64_t pf_mulhi(uint64_t a, uint64_t b) { return __umulh(a, b); }
#else
static inline uint64_t pf_mulhi(uint64_t a, uint64_t b) {
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}
#endif

#if defined(__GNUC__) || defined(__clang__)
static inline int pf_ctz64(uint64_t x) { return __builtin_ctzll(x); }
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_ARM64))
#include <intrin.h>
static inline int pf_ctz64(uint64_t x) {
    unsigned long i;
    _BitScanForward64(&i, x);
    return (int)i;
}
#else
static inline int pf_ctz64(uint64_t x) {
    int n = 0;
    while (!(x & 1)) { x >>= 1; n++; }
    return n;
}
#endif

/* The number of set bits, and the count of leading zeros of x ≠ 0. */
#if defined(__GNUC__) || defined(__clang__)
static inline int pf_popcount64(uint64_t x) { return __builtin_popcountll(x); }
static inline int pf_clz64(uint64_t x) { return __builtin_clzll(x); }
#else
static inline int pf_popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555u);
    x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
    return (int)((x * 0x0101010101010101u) >> 56);
}
static inline int pf_clz64(uint64_t x) {
    int n = 0;
    while (!(x >> 63)) { x <<= 1; n++; }
    return n;
}
#endif

/* A hint to fetch the cache line at addr (no fault if it is not mapped). */
#if defined(__GNUC__) || defined(__clang__)
#define PF_PREFETCH(addr) __builtin_prefetch(addr)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define PF_PREFETCH(addr) _mm_prefetch((const char *)(addr), _MM_HINT_T0)
#else
#define PF_PREFETCH(addr) ((void)0)
#endif

#endif
