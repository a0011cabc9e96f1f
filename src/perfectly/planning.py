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

#: Numbers per sieve chunk by default below 2**44: about 0.1 s of work for the compiled
#: kernel; above, chunks grow in multiples of it (SIEVE_SCALE).
SIEVE_CHUNK = 1 << 24
#: From 2**44 on, a sieve chunk of n ≥ 2**(bits - 1) numbers is (at most, at least)
#: SIEVE_CHUNK times these, keyed by bits = hi.bit_length(). A chunk runs on one sieve
#: (a Sweep), whose set-up is the first hit of every prime up to √hi (2 million primes
#: near 2**50, 203 million near 2**64), measured at the top of each bit length on a
#: 2-vCPU Xeon VM (2026-12-07): 16 ms at 2**50, 79 ms at 2**56, 0.28 s at 2**60, 0.8 s at
#: 2**64, beside 6.4 to 10.9 ns of sieving per number. The most: a set-up of at most 2.5 %
#: of the chunk's time, within 48·2**24 numbers (about 6 s of work) and the kernel's
#: bucket budget (512 MiB a sieve, _ranges.pxi: 44·2**24 numbers at 2**61, 22·2**24 at
#: 2**64); the least: a set-up of at most 5 %, or the budget's length where even that
#: one is more, whatever the balance of workers asks. A table, so that a plan, and a
#: journal's chunks, are the same on every machine.
SIEVE_SCALE = {
    45: (2, 1),
    46: (2, 1),
    47: (3, 1),
    48: (4, 2),
    49: (5, 2),
    50: (6, 3),
    51: (7, 3),
    52: (8, 4),
    53: (11, 5),
    54: (15, 7),
    55: (20, 10),
    56: (26, 13),
    57: (35, 17),
    58: (45, 22),
    59: (48, 30),
    60: (48, 40),
    61: (44, 44),
    62: (31, 31),
    63: (26, 26),
    64: (22, 22),
}
#: Divisions per trial chunk by default (each number costs about √n of them).
TRIAL_WORK = 1 << 26
#: Chunks per worker that a default chunk size aims for, so that dynamic plans balance.
CHUNKS_PER_WORKER = 8
#: The least a default chunk holds, so that it is worth handing to a worker (a hand-off
#: and its result cost tens of microseconds): one block of the compiled sieve (2**15
#: numbers, about 0.1 ms), or for ``trial`` about 2**16 divisions. Smaller ranges are
#: one chunk; a chunk size given by the caller is taken as it is.
LEAST_SIEVE_CHUNK = 1 << 15
LEAST_TRIAL_WORK = 1 << 16


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

    def workers_for(self, left: int) -> int:
        """The workers worth starting with ``left`` chunks of this plan still to run
        (:func:`workers_to_start`)."""
        return workers_to_start(self.workers, self.schedule, left)

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
    """A chunk size worth about 0.1 s of compiled work and ≥ 8 chunks per worker, but not
    below about 0.1 ms of it (LEAST_SIEVE_CHUNK, LEAST_TRIAL_WORK); or, for the sieve from
    2**44 on, what amortises a sieve's set-up (SIEVE_SCALE): as few chunks as a set-up of
    2.5 % (and the bucket budget) allows, more for balance while each set-up stays within
    5 %, and then, if they are few, a multiple of the workers, so that they share them
    evenly."""
    count = hi - lo
    spread = -(-count // (workers * CHUNKS_PER_WORKER))
    if method == "trial":
        most = max(256, TRIAL_WORK // _root(hi))
        return max(least_chunk_size(hi, method), min(most, spread))
    scale = SIEVE_SCALE.get((hi - 1).bit_length())
    if scale is None:
        return max(least_chunk_size(hi, method), min(SIEVE_CHUNK, spread))
    most, least = SIEVE_CHUNK * scale[0], SIEVE_CHUNK * scale[1]
    balanced = min(workers * CHUNKS_PER_WORKER, count // least)
    chunks = max(1, -(-count // most), balanced)
    if chunks < workers * CHUNKS_PER_WORKER:
        chunks = -(-chunks // workers) * workers
    return -(-count // chunks)


def workers_to_start(workers: int, schedule: str, left: int) -> int:
    """The workers a search starts with ``left`` chunks still to run: no more than those
    chunks (a worker with none to run would only cost its start-up: milliseconds forked,
    tens of milliseconds spawned), at least one; all ``workers`` for ``static``, whose
    chunk i belongs to worker i."""
    return workers if schedule == "static" else max(1, min(workers, left))


def least_chunk_size(hi: int, method: str) -> int:
    """The fewest numbers a default chunk of a range ending at ``hi`` holds: about 0.1 ms
    of compiled work (LEAST_SIEVE_CHUNK; for ``trial``, LEAST_TRIAL_WORK divisions)."""
    if method == "trial":
        return max(1, LEAST_TRIAL_WORK // _root(hi))
    return LEAST_SIEVE_CHUNK


def _root(hi: int) -> int:
    """⌊√(hi − 1)⌋, at least 1: trial division's divisions per number near ``hi``."""
    return max(1, math.isqrt(max(hi - 1, 1)))


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
    if schedule == "guided" and chunk_size is None:  # its chunks shrink to a size's 1/8
        size = max(size, CHUNKS_PER_WORKER * least_chunk_size(hi, method))
    return Plan(lo, hi, schedule, workers, size, method)
