/* Σ_{k≤x} σ(k) for 0 ≤ x < 2^64 in O(x^(1/3) log x): the closed form behind sum_sigma.
 *
 * With s = ⌊√x⌋, q_a = ⌊x/a⌋ and T(m) = m(m+1)/2 (Dirichlet's hyperbola method):
 *
 *     Σ_{k≤x} σ(k) = Σ_{d≤x} d·⌊x/d⌋ = Σ_{a≤s} (a·q_a + T(q_a)) − s·T(s).
 *
 * Rows a below about 2·(2x)^(1/3) are summed one by one (one division each). The rows
 * above, up to s, are read off the convex hull of the lattice points (q, a) strictly
 * above the hyperbola q·a = x. On a hull edge from (X, Y) to (X + dx, Y − dy), with
 * gcd(dx, dy) = 1, no lattice point lies between the edge and the hyperbola, so row
 * Y − t has q = X − 1 + F(t), F(t) = ⌈dx·t/dy⌉, for 1 ≤ t ≤ dy. The hull is walked with
 * a stack of Stern–Brocot slopes (the walk of Min_25's divisor summatory algorithm,
 * also used by perfectly._divisor_summatory, the pure-Python twin of this file).
 *
 * Each slope carries two sums over its edge's rows, f = Σ F(t) and e = Σ (C(F(t), 2) −
 * t·F(t)), 1 ≤ t ≤ dy, with which a run of steps is summed in O(1) (ds_run). They come
 * not from a Euclid-like floor-sum recursion per edge, O(log) each, but in O(1) from the
 * slope's Stern–Brocot parents: a slope is born as the mediant m = w1 + w2 of neighbours
 * (det = 1), w1 the flatter; the triangle 0, w1, m then holds no lattice point but its
 * corners, so the row values of m are those of w1, then those of w2 shifted by w1
 * (ds_mediant). The stack holds about x^(1/4) slopes: 28,731 (1.4 MB) at x = 2^64 − 1.
 *
 * Arithmetic modulo 2^128. The result fits: Σ_{d≤x} d·⌊x/d⌋ ≤ Σ_{d≤x} d·(x/d) = x²
 * < 2^128. Partial sums need not fit (Σ q_a² alone exceeds 2^128 at x = 2^64 − 1; e is
 * negative), and need not: reduction mod 2^128 is a ring homomorphism from the integers,
 * so a value built from integers by +, − and × alone is exact mod 2^128, and the final
 * one, known to lie in [0, 2^128), is exact outright. Every term below is built so. The
 * only divisions are the halvings in T(m), C(m, 2) = T(m − 1) and ds_half_product, each
 * of a product a·b of two 64-bit integers, known to be even: the even factor is halved
 * before the product is formed, so what enters the ring is the exact integer a·b/2.
 * Differences taken in 64 bits (X − 1, Y − dy, dx1 − dy1) are of integers whose order
 * is known (X ≥ 1, dy < Y where used, dx ≥ dy), so they are exact too.
 *
 * Portable C99: where the compiler has no unsigned __int128 (MSVC), ds_u128 is two
 * 64-bit halves and 64×64→128 products come from pf_mulhi in _portable.h.
 */
#ifndef PERFECTLY_DIVISOR_SUMMATORY_H
#define PERFECTLY_DIVISOR_SUMMATORY_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "_portable.h"

/* An integer modulo 2^128: unsigned __int128 where the compiler has it, else two halves
 * (MSVC, or a build with __SIZEOF_INT128__ undefined, which the tests force once). */
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 ds_u128;

static inline ds_u128 ds_add(ds_u128 a, ds_u128 b) { return a + b; }
static inline ds_u128 ds_sub(ds_u128 a, ds_u128 b) { return a - b; }
static inline ds_u128 ds_mul64(uint64_t a, uint64_t b) { return (ds_u128)a * b; }
static inline ds_u128 ds_mul(ds_u128 a, uint64_t b) { return a * b; }
static inline ds_u128 ds_mul128(ds_u128 a, ds_u128 b) { return a * b; }
static inline ds_u128 ds_from(uint64_t v) { return v; }
static inline uint64_t ds_lo(ds_u128 a) { return (uint64_t)a; }
static inline uint64_t ds_hi(ds_u128 a) { return (uint64_t)(a >> 64); }
static inline int ds_le(ds_u128 a, ds_u128 b) { return a <= b; }
#else
typedef struct {
    uint64_t lo, hi;
} ds_u128;

static inline ds_u128 ds_add(ds_u128 a, ds_u128 b) {
    a.lo += b.lo;
    a.hi += b.hi + (a.lo < b.lo);
    return a;
}

static inline ds_u128 ds_sub(ds_u128 a, ds_u128 b) {
    ds_u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}

/* a·b, exact. */
static inline ds_u128 ds_mul64(uint64_t a, uint64_t b) {
    ds_u128 r;
    r.lo = a * b;
    r.hi = pf_mulhi(a, b);
    return r;
}

/* a·b mod 2^128. */
static inline ds_u128 ds_mul(ds_u128 a, uint64_t b) {
    ds_u128 r = ds_mul64(a.lo, b);
    r.hi += a.hi * b;
    return r;
}

/* a·b mod 2^128. */
static inline ds_u128 ds_mul128(ds_u128 a, ds_u128 b) {
    ds_u128 r = ds_mul64(a.lo, b.lo);
    r.hi += a.hi * b.lo + a.lo * b.hi;
    return r;
}

static inline ds_u128 ds_from(uint64_t v) {
    ds_u128 r;
    r.lo = v;
    r.hi = 0;
    return r;
}

static inline uint64_t ds_lo(ds_u128 a) { return a.lo; }
static inline uint64_t ds_hi(ds_u128 a) { return a.hi; }
static inline int ds_le(ds_u128 a, ds_u128 b) {
    return a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo);
}
#endif

/* T(m) = m(m+1)/2 exactly, for any m < 2^64: the even one of m, m + 1 is halved first. */
static inline ds_u128 ds_triangle(uint64_t m) {
    return (m & 1) ? ds_mul64(m, (m >> 1) + 1) : ds_mul64(m >> 1, m + 1);
}

/* Whether the step (dx, dy) from (X, Y) lands strictly above the hyperbola q·a = x.
 * A column that wraps past 2^64 is above it (x < 2^64, row ≥ 1); the walk never forms
 * one, as its steps land on points (⌊x/a⌋ + 1, a), but the test stays exact. */
static inline int ds_fits(uint64_t X, uint64_t Y, uint64_t dx, uint64_t dy, uint64_t x) {
    uint64_t col = X + dx;
    return dy < Y && (col < X || !ds_le(ds_mul64(col, Y - dy), ds_from(x)));
}

/* a·b/2 exactly, for a·b even and a, b < 2^64: the even factor is halved first. */
static inline ds_u128 ds_half_product(uint64_t a, uint64_t b) {
    return (a & 1) ? ds_mul64(a, b >> 1) : ds_mul64(a >> 1, b);
}

/* A slope: the edge vector (dx, dy), dx ≥ dy ≥ 0 (every slope of the walk lies between
 * (1, 0) and (1, 1)), and the sums over its rows f = Σ F(t), e = Σ (C(F(t), 2) − t·F(t)). */
typedef struct {
    uint64_t dx, dy;
    ds_u128 f, e;
} ds_slope;

/* The mediant m = w1 + w2 of Stern–Brocot neighbours, w1 the flatter (dx1/dy1 > dx2/dy2).
 * Each has dy ≤ s: it was found to fit, or to fail with dy < Y, at a point of row Y ≤ s + 1.
 * Row values of m: F_m(t) = F_1(t) for t ≤ dy1, F_m(dy1 + t) = dx1 + F_2(t) for t ≤ dy2.
 * Hence f_m = f1 + f2 + dx1·dy2; and, with C(dx1 + F, 2) = C(dx1, 2) + dx1·F + C(F, 2)
 * and Σ (dy1 + t)(dx1 + F_2(t)) = dy1·dy2·dx1 + dy1·f2 + dx1·T(dy2) + Σ t·F_2(t):
 *   e_m = e1 + e2 + dy2·C(dx1, 2) − dx1·W + (dx1 − dy1)·f2,
 *   W = dy1·dy2 + T(dy2) = dy2·(2·dy1 + dy2 + 1)/2,  C(dx1, 2) = T(dx1 − 1). */
static inline ds_slope ds_mediant(const ds_slope *w1, const ds_slope *w2) {
    ds_slope m;
    ds_u128 w = ds_half_product(w2->dy, 2 * w1->dy + w2->dy + 1); /* each dy ≤ s + 1 */
    m.dx = w1->dx + w2->dx;
    m.dy = w1->dy + w2->dy;
    m.f = ds_add(ds_add(w1->f, w2->f), ds_mul64(w1->dx, w2->dy));
    m.e = ds_add(ds_add(w1->e, w2->e), ds_mul(ds_triangle(w1->dx - 1), w2->dy));
    m.e = ds_sub(m.e, ds_mul(w, w1->dx));
    m.e = ds_add(m.e, ds_mul(w2->f, w1->dx - w1->dy));
    return m;
}

/* Steps with slope w from (*X, *Y) while they stay above the hyperbola, and returns
 * Σ (a·q_a + T(q_a)) over the rows they cover. A step from (X, Y) covers the rows
 * a = Y − t, 1 ≤ t ≤ dy, where q_a = V + F(t), V = X − 1; with T(V + F) = T(V) + V·F
 * + C(F, 2) + F, they sum to
 *   Σ (Y − t)(V + F) + Σ T(V + F) = dy·H + (X + Y)·f + e − T(dy)·V,
 *   H = Y·V + T(V) = V·(V + 2Y + 1)/2,
 * so a run of steps needs only Σ H, Σ (X + Y) and Σ V. A step starts at Y ≥ 2 from the
 * first point above the hyperbola in its row, so X = ⌊x/Y⌋ + 1 ≤ 2^63, and Y ≤ s + 1 ≤
 * 2^32: V + 2Y + 1 and X + Y are below 2^64, and T(dy) < T(Y) < 2^64. */
static inline ds_u128 ds_run(uint64_t *X, uint64_t *Y, const ds_slope *w, uint64_t x) {
    ds_u128 sum_h = ds_from(0), sum_xy = ds_from(0), sum_v = ds_from(0), r;
    uint64_t steps = 0;
    while (ds_fits(*X, *Y, w->dx, w->dy, x)) {
        sum_h = ds_add(sum_h, ds_half_product(*X - 1, *X + 2 * *Y));
        sum_xy = ds_add(sum_xy, ds_from(*X + *Y));
        sum_v = ds_add(sum_v, ds_from(*X - 1));
        steps++;
        *X += w->dx;
        *Y -= w->dy;
    }
    r = ds_add(ds_mul(sum_h, w->dy), ds_mul128(w->f, sum_xy));
    r = ds_add(r, ds_mul(w->e, steps));
    return ds_sub(r, ds_mul(sum_v, ds_lo(ds_triangle(w->dy))));
}

/* The two slopes the walk starts from: (1, 0) and (1, 1). */
static inline ds_slope ds_first_slope(uint64_t dy) {
    ds_slope w;
    w.dx = 1;
    w.dy = dy;
    w.f = ds_from(dy);
    w.e = ds_sub(ds_from(0), w.f);
    return w;
}

/* A growable stack of slopes. */
typedef struct {
    ds_slope *items;
    size_t n, cap;
} ds_stack;

static inline int ds_push(ds_stack *st, ds_slope w) {
    if (st->n == st->cap) {
        size_t cap = 2 * st->cap;
        ds_slope *items = (ds_slope *)realloc(st->items, cap * sizeof(ds_slope));
        if (items == NULL) return -1;
        st->items = items;
        st->cap = cap;
    }
    st->items[st->n++] = w;
    return 0;
}

/* Walk the hull over the rows *end ≤ a ≤ s, adding Σ (a·q_a + T(q_a)) to *total.
 * It starts at the lowest lattice point above the hyperbola in column ⌊x/s⌋, which
 * is (⌊x/s⌋, s + 1), and goes to flatter slopes until its row is ≤ stop. The stack
 * holds Stern–Brocot slopes, flattest (1, 0) at the bottom: that step always stays
 * above the hyperbola, so the stack never empties; and the walk ends if it is the
 * only slope left to step with. Returns 0, or −1 when out of memory. */
static int ds_walk(uint64_t x, uint64_t s, uint64_t stop, ds_u128 *total, uint64_t *end) {
    ds_stack st;
    ds_slope w1, w2, m;
    uint64_t X = x / s, Y = s + 1;
    st.cap = 1024;
    st.items = (ds_slope *)malloc(st.cap * sizeof(ds_slope));
    if (st.items == NULL) return -1;
    st.items[0] = ds_first_slope(0); /* (1, 0): no rows */
    st.items[1] = ds_first_slope(1); /* (1, 1): F(1) = 1, so f = 1, e = −1 */
    st.n = 2;
    for (;;) {
        w1 = st.items[--st.n];
        if (w1.dy == 0) break;
        *total = ds_add(*total, ds_run(&X, &Y, &w1, x));
        if (Y <= stop) break;
        w2 = w1; /* the steepest slope that no longer fits */
        for (;;) {
            w1 = st.items[st.n - 1];
            if (ds_fits(X, Y, w1.dx, w1.dy, x)) break;
            w2 = w1;
            st.n--;
        }
        for (;;) { /* mediants of w1 (fits) and w2 (does not): the steepest that fits */
            m = ds_mediant(&w1, &w2);
            if (ds_fits(X, Y, m.dx, m.dy, x)) {
                if (ds_push(&st, m) < 0) {
                    free(st.items);
                    return -1;
                }
                w1 = m;
            } else if (m.dy >= Y || ds_le(ds_mul64(w1.dx, Y - m.dy), ds_mul64(w1.dy, X + m.dx))) {
                break; /* the hyperbola falls away faster than the mediants can follow */
            } else {
                w2 = m;
            }
        }
    }
    free(st.items);
    *end = Y;
    return 0;
}

/* ⌊√n⌋ for n < 2^64. */
static inline uint64_t ds_isqrt(uint64_t n) {
    uint64_t r = (uint64_t)sqrt((double)n);
    if (r > 0xFFFFFFFFu) r = 0xFFFFFFFFu;
    while (r * r > n) r--;
    while (r < 0xFFFFFFFFu && (r + 1) * (r + 1) <= n) r++;
    return r;
}

/* Σ_{k≤x} σ(k) for x < 2^64, as *hi·2^64 + *lo. Returns 0, or −1 when out of memory. */
static int pf_sum_sigma(uint64_t x, uint64_t *hi, uint64_t *lo) {
    ds_u128 total = ds_from(0);
    uint64_t s, stop, end, a, q;
    if (x > 0) {
        s = ds_isqrt(x);
        /* Where the walk hands over to plain division: the hull has few vertices only
         * where the slope x/a² changes slowly; below (2x)^(1/3) it has one per row. */
        stop = 2 * (uint64_t)cbrt(2.0 * (double)x);
        if (ds_walk(x, s, stop < 2 ? 2 : stop, &total, &end) < 0) return -1;
        for (a = 1; a < end; a++) {
            q = x / a;
            total = ds_add(total, ds_add(ds_mul64(a, q), ds_triangle(q)));
        }
        total = ds_sub(total, ds_mul64(s, ds_lo(ds_triangle(s)))); /* s·T(s) < 2^96 */
    }
    *hi = ds_hi(total);
    *lo = ds_lo(total);
    return 0;
}

#endif
