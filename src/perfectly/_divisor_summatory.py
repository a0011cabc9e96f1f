"""Σ_{k≤x} σ(k) in O(x^(1/3) log x) with exact Python ints: the pure-Python twin of
``_divisor_summatory.h`` (beside ``_kernel.pyx``), written apart from it as a second opinion.

With s = ⌊√x⌋, q_a = ⌊x/a⌋ and T(m) = m(m+1)/2 (Dirichlet's hyperbola method)::

    Σ_{k≤x} σ(k) = Σ_{d≤x} d·⌊x/d⌋ = Σ_{a≤s} (a·q_a + T(q_a)) − s·T(s).

Rows a below about (2x)^(1/3) are summed one by one. Above, in the plane of points
(q, a), the rows a ≤ s of the hyperbola are read off the convex hull of the lattice
points strictly above it, q·a > x: on a hull edge from (X, Y) to (X + dX, Y − dY)
(gcd(dX, dY) = 1), row Y − t has q = X − 1 + ⌈dX·t/dY⌉, 1 ≤ t ≤ dY (no lattice point
lies between an edge and the hyperbola). The hull is walked with Stern–Brocot slopes
(the walk of Min_25's divisor summatory algorithm) and each straight run of an edge is
summed in closed form with floor sums (:func:`_floor_sums`, Euclid-like, O(log)).
"""

from __future__ import annotations

import math


def _floor_sums(a: int, b: int, c: int, n: int) -> tuple[int, int, int]:
    """(Σ F, Σ i·F, Σ F²) over 0 ≤ i ≤ n of F = ⌊(a·i + b)/c⌋, for a, b ≥ 0, c ≥ 1.

    The "similar Euclid" recursion: take the whole parts of a/c and b/c out in closed
    form, then swap the roles of i and F (the lattice points under the line, counted
    by rows instead of columns), which replaces (a, c) by (c, a mod c). O(log) steps.
    """
    if a >= c or b >= c:
        qa, a = divmod(a, c)
        qb, b = divmod(b, c)
        f, g, h = _floor_sums(a, b, c, n)
        s1 = n * (n + 1) // 2  # Σ i
        s2 = s1 * (2 * n + 1) // 3  # Σ i²
        return (
            f + qa * s1 + qb * (n + 1),
            g + qa * s2 + qb * s1,
            h + qa * qa * s2 + qb * qb * (n + 1) + 2 * (qa * qb * s1 + qb * f + qa * g),
        )
    m = (a * n + b) // c
    if m == 0:
        return 0, 0, 0
    f, g, h = _floor_sums(c, c - b - 1, a, m - 1)
    total = n * m - f
    return total, (m * n * (n + 1) - h - f) // 2, n * m * (m + 1) - 2 * (g + f) - total


def _run_sum(x_0: int, y_0: int, dx: int, dy: int, steps: int) -> int:
    """Σ (a·q_a + T(q_a)) over the rows a of ``steps`` hull edges (dx, dy) from (x_0, y_0).

    Rows a = y_0 − t, 1 ≤ t ≤ steps·dy, have q_a = V + F with V = x_0 − 1 and
    F = ⌈dx·t/dy⌉ = ⌊(dx·i + dx + dy − 1)/dy⌋ for i = t − 1.
    """
    n = steps * dy - 1
    f, g, h = _floor_sums(dx, dx + dy - 1, dy, n)
    v, top, count = x_0 - 1, y_0 - 1, n + 1  # row a = top − i
    sum_aq = top * v * count - v * (n * count // 2) + top * f - g
    sum_tq = count * (v * (v + 1) // 2) + v * f + (h + f) // 2
    return sum_aq + sum_tq


def _hull_rows(x: int, s: int, stop: int) -> tuple[int, int]:
    """Σ (a·q_a + T(q_a)) over the rows end ≤ a ≤ s, walked on the hull; returns (sum, end).

    The walk starts at the lowest lattice point above the hyperbola in column ⌊x/s⌋,
    which is (⌊x/s⌋, s + 1), and goes to flatter slopes until its row is ≤ ``stop``.
    The stack holds Stern–Brocot slopes, flattest at the bottom: (1, 0) is always a
    step that stays above the hyperbola, so the search for the next slope never pops it.
    """

    def above(dx: int, dy: int) -> bool:
        return dy < y and (q + dx) * (y - dy) > x

    q = x // s
    y = s + 1
    total = 0
    stack = [(1, 0), (1, 1)]
    while True:
        dx1, dy1 = stack.pop()
        if dy1 == 0:  # only (1, 0) is left: it covers no rows
            return total, y
        steps = 0
        while above(dx1 * (steps + 1), dy1 * (steps + 1)):
            steps += 1
        if steps:
            total += _run_sum(q, y, dx1, dy1, steps)
            q, y = q + steps * dx1, y - steps * dy1
        if y <= stop:
            return total, y
        dx2, dy2 = dx1, dy1  # the steepest slope that no longer fits
        while not above(*stack[-1]):
            dx2, dy2 = stack.pop()
        dx1, dy1 = stack[-1]
        while True:  # look for the steepest fitting slope between the two: mediants
            mx, my = dx1 + dx2, dy1 + dy2
            if above(mx, my):
                stack.append((mx, my))
                dx1, dy1 = mx, my
            elif my >= y or dx1 * (y - my) <= dy1 * (q + mx):
                break  # the hyperbola falls away faster than mediants can follow
            else:
                dx2, dy2 = mx, my


def sum_sigma(x: int) -> int:
    """Σ_{k≤x} σ(k) for an int x ≥ 0, exactly, in O(x^(1/3) log x) steps."""
    if x <= 0:
        return 0
    s = math.isqrt(x)
    total, end = _hull_rows(x, s, 2 * round((2 * x) ** (1 / 3)))
    for a in range(1, end):
        q = x // a
        total += a * q + q * (q + 1) // 2
    return total - s * (s * (s + 1) // 2)
