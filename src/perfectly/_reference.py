"""Pure-Python kernel with the same functions and signatures as ``perfectly._kernel``.

It is the GIL-bound baseline of the benchmark, the fallback when the extension is
missing, and the path for Python ints of any size (``sigma``). ``release_gil`` is
accepted for signature compatibility and has no effect: this code always holds the GIL.
"""

from __future__ import annotations

import math

from perfectly import _divisor_summatory
from perfectly._validate import (
    WIDE_LIMIT,
    check_amicable_hi,
    check_method,
    check_range,
    check_range_count,
    check_single,
    check_sum_sigma_x,
    check_trial_hi,
)

TYPE_CHECKING = False  # not typing's: worker interpreters import this module afresh
if TYPE_CHECKING:
    from collections.abc import MutableSequence
    from typing import Any

_BLOCK = 1 << 15
_SIEVE_ROOT_LIMIT = 1 << 20  # above √hi = 2**20, σ is taken per n by factorisation
_MR_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)  # exact below 3.3e24


def _small_primes(limit: int) -> list[int]:
    """Primes ≤ limit, by the sieve of Eratosthenes."""
    if limit < 2:
        return []
    flags = bytearray([1]) * (limit + 1)
    flags[0:2] = b"\x00\x00"
    for p in range(2, math.isqrt(limit) + 1):
        if flags[p]:
            flags[p * p :: p] = bytes(len(range(p * p, limit + 1, p)))
    return [i for i, f in enumerate(flags) if f]


_TRIAL_PRIMES = _small_primes(1000)


def _is_strong_probable_prime(n: int, a: int) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    x = pow(a, d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def _is_strong_lucas_probable_prime(n: int) -> bool:
    """Strong Lucas test with Selfridge's parameters (the second half of BPSW)."""
    if math.isqrt(n) ** 2 == n:
        return False
    d = 5
    while True:
        j = _jacobi(d, n)
        if j == -1:
            break
        if j == 0 and abs(d) != n:
            return False
        d = -d - 2 if d > 0 else -d + 2
    p, q = 1, (1 - d) // 4
    k, s = n + 1, 0
    while k % 2 == 0:
        k //= 2
        s += 1
    u, v, qk = 1, p, q % n  # U_1, V_1, Q^1
    for bit in bin(k)[3:]:
        u, v = u * v % n, (v * v - 2 * qk) % n
        qk = qk * qk % n
        if bit == "1":
            u, v = (p * u + v), (d * u + p * v)
            u = (u + n) // 2 % n if u % 2 else u // 2 % n
            v = (v + n) // 2 % n if v % 2 else v // 2 % n
            qk = qk * q % n
    if u == 0 or v == 0:
        return True
    for _ in range(s - 1):
        v = (v * v - 2 * qk) % n
        qk = qk * qk % n
        if v == 0:
            return True
    return False


def _jacobi(a: int, n: int) -> int:
    a %= n
    result = 1
    while a:
        while a % 2 == 0:
            a //= 2
            if n % 8 in (3, 5):
                result = -result
        a, n = n, a
        if a % 4 == 3 and n % 4 == 3:
            result = -result
        a %= n
    return result if n == 1 else 0


def is_prime(n: Any) -> bool:
    """Primality: exact below 3.3e24 (Miller–Rabin, 13 bases), BPSW beyond."""
    v = check_single(n, "n", None, minimum=0)
    if v < 2:
        return False
    for p in _TRIAL_PRIMES[:13]:
        if v % p == 0:
            return v == p
    if v < 3_317_044_064_679_887_385_961_981:
        return all(_is_strong_probable_prime(v, a) for a in _MR_BASES)
    return _is_strong_probable_prime(v, 2) and _is_strong_lucas_probable_prime(v)


#: Pollard-Brent steps before giving up: about 2**21 finds any prime factor below about
#: 2**40 (it needs about √p steps) within seconds; beyond, sigma stops with an error.
RHO_STEPS = 1 << 22


def _pollard_brent(n: int) -> int:
    """A non-trivial factor of the odd composite n; ``OverflowError`` if none is found
    within ``RHO_STEPS`` steps (every prime factor of n is then beyond about 2**40)."""
    for c in range(1, n):
        y, r, q, g = 2, 1, 1, 1
        x = ys = y
        while g == 1:
            x = y
            for _ in range(r):
                y = (y * y + c) % n
            k = 0
            while k < r and g == 1:
                ys = y
                for _ in range(min(128, r - k)):
                    y = (y * y + c) % n
                    q = q * abs(x - y) % n
                g = math.gcd(q, n)
                k += 128
            r *= 2
            if r > RHO_STEPS:
                raise OverflowError(
                    f"n = {n} has no prime factor small enough to find in reasonable time "
                    f"(none below about 2**40): its sigma is not offered"
                )
        if g == n:
            g = 1
            while g == 1:
                ys = (ys * ys + c) % n
                g = math.gcd(abs(x - ys), n)
        if g != n:
            return g
    raise ArithmeticError(f"no factor found for {n}")  # pragma: no cover


def factorize(n: int) -> dict[int, int]:
    """Prime factorisation {p: e} of n ≥ 1."""
    factors: dict[int, int] = {}
    for p in _TRIAL_PRIMES:
        if p * p > n:
            break
        while n % p == 0:
            factors[p] = factors.get(p, 0) + 1
            n //= p
    stack = [n] if n > 1 else []
    while stack:
        m = stack.pop()
        if m < 1000 * 1000 or is_prime(m):
            factors[m] = factors.get(m, 0) + 1
            continue
        r = math.isqrt(m)
        d = r if r * r == m else _pollard_brent(m)
        stack += [d, m // d]
    return factors


def _sigma_of(n: int) -> int:
    total = 1
    for p, e in factorize(n).items():
        total *= (p ** (e + 1) - 1) // (p - 1)
    return total


def sigma(n: Any) -> int:
    """σ(n) for any int n ≥ 1, exact."""
    return _sigma_of(check_single(n, "n", None))


def _sigma_trial(n: int) -> int:
    """σ(n) by divisor pairs up to √n: the classic tutorial loop."""
    r = math.isqrt(n)
    s = 0
    for d in range(1, r + 1):
        if n % d == 0:
            s += d + n // d
    return s - r if r * r == n else s


def _sigma_block(start: int, count: int, primes: list[int]) -> list[int]:
    """σ over [start, start + count) by the factor sieve, or per n when √hi is large."""
    if primes is None:
        return [_sigma_of(n) for n in range(start, start + count)]
    rem = list(range(start, start + count))
    sig = [1] * count
    for p in primes:
        for j in range((-start) % p, count, p):
            x, pk, s = rem[j] // p, p, 1 + p
            while x % p == 0:
                x //= p
                pk *= p
                s += pk
            rem[j] = x
            sig[j] *= s
    return [s * (r + 1) if r > 1 else s for s, r in zip(sig, rem, strict=True)]


def _sigma_blocks(lo: int, hi: int, trial: bool) -> Any:
    """Yield (start, σ values) block by block over [lo, hi)."""
    root = math.isqrt(hi - 1) if hi > 1 else 0
    primes: Any = _small_primes(root) if root <= _SIEVE_ROOT_LIMIT else None
    for start in range(lo, hi, _BLOCK):
        count = min(_BLOCK, hi - start)
        if trial:
            yield start, [_sigma_trial(n) for n in range(start, start + count)]
        else:
            yield start, _sigma_block(start, count, primes)


def fill_sigma(
    lo: Any,
    out: MutableSequence[Any],
    method: str = "sieve",
    aliquot: bool = False,
    release_gil: bool = True,
) -> None:
    """Write σ(lo + i) (or s(lo + i) when ``aliquot``) into the uint64 buffer ``out``."""
    lo_i, hi = check_range_count(lo, len(out))
    trial = check_method(method) == "trial"
    if trial:
        check_trial_hi(hi)
    for start, values in _sigma_blocks(lo_i, hi, trial):
        for i, s in enumerate(values):
            n = start + i
            v = s - n if aliquot else s
            if v >= 2**64:
                what = f"s({n}) = sigma(n) - n" if aliquot else f"sigma({n})"
                raise OverflowError(f"{what} is 2**64 or more: it does not fit in uint64")
            out[n - lo_i] = v


def summarize(
    lo: Any, hi: Any, method: str = "sieve", release_gil: bool = True
) -> tuple[int, int, int, list[tuple[int, int]]]:
    """Fold σ over [lo, hi): (Σσ, abundant, deficient, [(n, k) with σ(n) = k·n, k ≥ 2])."""
    lo_i, hi_i = check_range(lo, hi)
    trial = check_method(method) == "trial"
    if trial:
        check_trial_hi(hi_i)
    total = abundant = deficient = 0
    found = []
    for start, values in _sigma_blocks(lo_i, hi_i, trial):
        for n, s in enumerate(values, start):
            total += s
            if s < 2 * n:
                deficient += 1
                continue
            if s > 2 * n:
                abundant += 1
            if s % n == 0:
                found.append((n, s // n))
    return total, abundant, deficient, found


def amicable(lo: Any, hi: Any, release_gil: bool = True) -> list[tuple[int, int]]:
    """Amicable pairs (a, b), a < b, with lo ≤ a < hi (b may be ≥ hi); hi ≤ 2**61."""
    lo_i, hi_i = check_range(lo, hi)
    check_amicable_hi(hi_i)
    pairs = []
    for start, values in _sigma_blocks(lo_i, hi_i, trial=False):
        for a, sa in enumerate(values, start):
            b = sa - a
            if b > a:
                sb = values[b - start] if b < start + len(values) else _sigma_of(b)
                if sb == sa:
                    pairs.append((a, b))
    return pairs


class Sweep:
    """[lo, hi), taken in order by successive calls: the interface of the compiled
    kernel's ``Sweep``. Here there is no sieve state to keep: each call stands alone."""

    def __init__(self, lo: Any, hi: Any, method: str = "sieve", *, amicable: bool = False) -> None:
        self.lo, self.hi = check_range(lo, hi)
        self.method = check_method(method)
        if self.method == "trial":
            check_trial_hi(self.hi)
        if amicable:
            check_amicable_hi(self.hi)
        self.amicable = amicable
        self.position = self.lo
        self.memory = 0  # bytes of sieve state kept between calls: none
        self.segments = 0  # set-ups paid so far: none

    def summarize(
        self, count: Any, release_gil: bool = True
    ) -> tuple[int, int, tuple[int, int, int, list[tuple[int, int]]], Any]:
        """Take the next ``count`` numbers (fewer at the end): ``(lo, hi, summary,
        pairs)``, pairs being None unless the sweep looks for amicable pairs."""
        count = check_single(count, "count", None)
        lo, hi = self.position, min(self.position + count, self.hi)
        summary = summarize(lo, hi, self.method)
        pairs = amicable(lo, hi) if self.amicable else None
        self.position = hi
        return lo, hi, summary, pairs

    def fill(
        self, out: MutableSequence[Any], aliquot: bool = False, release_gil: bool = True
    ) -> None:
        """Write σ (or s, when ``aliquot``) of the next len(out) numbers into ``out``."""
        if len(out) > self.hi - self.position:
            raise ValueError(
                f"out has {len(out)} items, but only {self.hi - self.position} numbers are left"
            )
        fill_sigma(self.position, out, self.method, aliquot)
        self.position += len(out)


def sum_sigma(x: Any) -> int:
    """Σ_{k≤x} σ(k) exactly, for 0 ≤ x < 2**64, in O(x^(1/3) log x) steps (hull walk)."""
    return _divisor_summatory.sum_sigma(check_sum_sigma_x(x))


__all__ = [
    "WIDE_LIMIT",
    "Sweep",
    "amicable",
    "fill_sigma",
    "is_prime",
    "sigma",
    "sum_sigma",
    "summarize",
]
