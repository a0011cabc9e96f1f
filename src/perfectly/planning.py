"""Chunk plans: how a range [lo, hi) is cut into chunks for parallel workers.

``static`` gives each worker one contiguous block (cheap, but unbalanced when the cost
per number varies, as it does for ``trial``, whose cost grows like √n); ``dynamic``
hands out fixed-size chunks to whichever worker is free; ``guided`` hands out chunks
that shrink as the work runs out, so the last ones even out the finish.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

#: Numbers per sieve chunk by default below 2**52: about 0.1 s of work for the compiled
#: kernel; above, chunks grow in multiples of it (SIEVE_SCALE).
SIEVE_CHUNK = 1 << 24
#: From 2**52 on, a sieve chunk of n ≥ 2**(bits - 1) numbers is (at most, at least)
#: SIEVE_CHUNK times these, keyed by bits = hi.bit_length(). A chunk runs on one sieve
#: (a Sweep), whose set-up is the first hit of every prime up to √hi: 203 million primes
#: near 2**64, ≈ 0.6 s. The most: twenty set-ups of work, but no more than the kernel's
#: bucket budget (512 MiB a sieve, _ranges.pxi) holds in one segment; the least: ten
#: set-ups of work (the set-up is then ≤ 10 %), whatever the balance of workers asks. From
#: the kernel's cost model (ns per number 4 + 10·ln(ln √x / ln 2**15), + 4 from 2**61;
#: set-up 3 ns per prime ≤ √x), rounded down to multiples of SIEVE_CHUNK: a table, so that
#: a plan, and a journal's chunks, are the same on every machine.
SIEVE_SCALE = {
    53: (2, 1),
    54: (2, 1),
    55: (3, 1),
    56: (5, 2),
    57: (6, 3),
    58: (9, 4),
    59: (13, 6),
    60: (17, 8),
    61: (24, 12),
    62: (24, 12),
    63: (26, 16),
    64: (22, 22),
}
#: Divisions per trial chunk by default (each number costs about √n of them).
TRIAL_WORK = 1 << 26
#: Chunks per worker that a default chunk size aims for, so that dynamic plans balance.
CHUNKS_PER_WORKER = 8


@dataclasses.dataclass(frozen=True)
class Chunk:
    """The ``index``-th chunk of a plan: the numbers [lo, hi)."""

    index: int
    lo: int
    hi: int

    @property
    def count(self) -> int:
        return self.hi - self.lo


@dataclasses.dataclass(frozen=True)
class Plan:
    """How [lo, hi) is cut: iterate it for the chunks, lazily, in hand-out order.

    ``chunk_size`` is the size the plan uses: the largest block for ``static``, the
    size for ``dynamic``, the base size for ``guided``. With ``static`` chunk ``i``
    belongs to worker ``i`` (``pinned``).
    """

    lo: int
    hi: int
    schedule: str
    workers: int
    chunk_size: int
    method: str

    @property
    def pinned(self) -> bool:
        """Whether each chunk belongs to one worker (chunk i to worker i)."""
        return self.schedule == "static"

    def identity(self) -> dict[str, Any]:
        """What a journal records to recognise this plan (plain JSON data).

        A dynamic plan does not depend on the worker count; the others do.
        """
        return {
            "lo": str(self.lo),
            "hi": str(self.hi),
            "method": self.method,
            "schedule": self.schedule,
            "chunk_size": self.chunk_size,
            "plan_workers": None if self.schedule == "dynamic" else self.workers,
        }

    def __iter__(self) -> Iterator[Chunk]:
        if self.schedule == "static":
            return self._blocks()
        return self._chunks()

    def _blocks(self) -> Iterator[Chunk]:
        """``workers`` blocks whose sizes differ by one at most (fewer for short ranges)."""
        count, index = self.hi - self.lo, 0
        for i in range(self.workers):
            start = self.lo + i * count // self.workers
            stop = self.lo + (i + 1) * count // self.workers
            if stop > start:
                yield Chunk(index, start, stop)
                index += 1

    def _chunks(self) -> Iterator[Chunk]:
        size, start, index = self.chunk_size, self.lo, 0
        while start < self.hi:
            step = size
            if self.schedule == "guided":
                step = max(size // CHUNKS_PER_WORKER, -(-(self.hi - start) // (2 * self.workers)))
                step = min(step, size * CHUNKS_PER_WORKER)
            stop = min(start + step, self.hi)
            yield Chunk(index, start, stop)
            start, index = stop, index + 1


def default_chunk_size(lo: int, hi: int, workers: int, method: str) -> int:
    """A chunk size worth about 0.1 s of compiled work and ≥ 8 chunks per worker, or, for
    the sieve from 2**52 on, what amortises a sieve's set-up (SIEVE_SCALE): as few chunks
    as the bucket budget allows, more for balance while each stays ten set-ups long, and
    then, if they are few, a multiple of the workers, so that they share them evenly."""
    count = hi - lo
    spread = -(-count // (workers * CHUNKS_PER_WORKER))
    if method == "trial":
        return max(1, min(max(256, TRIAL_WORK // max(1, math.isqrt(max(hi - 1, 1)))), spread))
    scale = SIEVE_SCALE.get((hi - 1).bit_length())
    if scale is None:
        return max(1, min(SIEVE_CHUNK, spread))
    most, least = SIEVE_CHUNK * scale[0], SIEVE_CHUNK * scale[1]
    balanced = min(workers * CHUNKS_PER_WORKER, count // least)
    chunks = max(1, -(-count // most), balanced)
    if chunks < workers * CHUNKS_PER_WORKER:
        chunks = -(-chunks // workers) * workers
    return -(-count // chunks)


def plan(
    lo: int, hi: int, *, schedule: str, workers: int, chunk_size: int | None, method: str
) -> Plan:
    """The plan for [lo, hi): the chunk-size policy lives here.

    ``static`` ignores ``chunk_size`` (one block per worker); the others use it, or
    :func:`default_chunk_size` when it is None. Arguments are checked by the caller.
    """
    if schedule == "static":
        size = -(-(hi - lo) // workers) if hi > lo else 0
    else:
        size = chunk_size or default_chunk_size(lo, hi, workers, method)
    return Plan(lo, hi, schedule, workers, size, method)
