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
    """A chunk size worth about 0.1 s of compiled work, and ≥ 8 chunks per worker."""
    if method == "trial":
        cap = max(256, TRIAL_WORK // max(1, math.isqrt(max(hi - 1, 1))))
    else:
        cap = SIEVE_CHUNK
    spread = -(-(hi - lo) // (workers * CHUNKS_PER_WORKER))
    return max(1, min(cap, spread))


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
