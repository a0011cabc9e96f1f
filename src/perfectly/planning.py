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

from perfectly._validate import SCHEDULES, as_int, check_choice

#: Numbers per sieve chunk by default: about 0.1 s of work for the compiled kernel.
SIEVE_CHUNK = 1 << 24
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


def check_schedule(schedule: object) -> str:
    """One of ``SCHEDULES``, or a ``ValueError``/``TypeError`` naming ``schedule``."""
    return check_choice(schedule, "schedule", SCHEDULES)


def check_chunk_size(chunk_size: object) -> int | None:
    """None, or a positive int."""
    if chunk_size is None:
        return None
    size = as_int(chunk_size, "chunk_size")
    if size <= 0:
        raise ValueError(f"chunk_size must be ≥ 1 or None, got {size}")
    return size


def default_chunk_size(lo: int, hi: int, workers: int, method: str) -> int:
    """A chunk size worth about 0.1 s of compiled work, and ≥ 8 chunks per worker."""
    count = hi - lo
    if method == "trial":
        cap = max(256, TRIAL_WORK // max(1, math.isqrt(max(hi - 1, 1))))
    else:
        cap = SIEVE_CHUNK
    spread = -(-count // (workers * CHUNKS_PER_WORKER))
    return max(1, min(cap, spread))


def plan(
    lo: int, hi: int, *, schedule: str, workers: int, chunk_size: int | None, method: str
) -> Iterator[Chunk]:
    """The chunks of [lo, hi) in the order they are handed out.

    ``static`` yields ``workers`` blocks of sizes that differ by one at most (fewer
    when the range is shorter than ``workers``); chunk ``i`` belongs to worker ``i``.
    The others yield chunks lazily, so a plan of 10**12 numbers costs no memory.
    """
    count = hi - lo
    if count <= 0:
        return
    if schedule == "static":  # sizes differ by one at most
        index = 0
        for i in range(workers):
            start, stop = lo + i * count // workers, lo + (i + 1) * count // workers
            if stop > start:
                yield Chunk(index, start, stop)
                index += 1
        return
    size = chunk_size or default_chunk_size(lo, hi, workers, method)
    start, index = lo, 0
    while start < hi:
        if schedule == "guided":
            step = max(size // CHUNKS_PER_WORKER, -(-(hi - start) // (2 * workers)))
            step = min(step, size * CHUNKS_PER_WORKER)
        else:
            step = size
        stop = min(start + step, hi)
        yield Chunk(index, start, stop)
        start, index = stop, index + 1
