"""Merging chunk results into one census, under a lock, in any order."""

from __future__ import annotations

import threading

from perfectly._work import ChunkResult
from perfectly.census import Census


class Aggregator:
    """Folds ``ChunkResult``s for [lo, hi) into one ``Census``.

    ``add`` may be called from any thread; a ``threading.Lock`` guards the running
    totals. Merging is order-independent (sums, and lists sorted at the end), so every
    backend, worker count, schedule and chunk size gives the identical census. A
    chunk added twice is an error, and so is a census asked for before every number
    of the range was covered exactly once.
    """

    def __init__(self, lo: int, hi: int, *, amicable: bool) -> None:
        self.lo, self.hi = lo, hi
        self._amicable = amicable
        self._lock = threading.Lock()
        self._done: set[int] = set()
        self._numbers = 0
        self._sigma_sum = 0
        self._abundant = 0
        self._deficient = 0
        self._found: list[tuple[int, int]] = []
        self._pairs: list[tuple[int, int]] = []
        self.busy: dict[int, float] = {}
        self.chunks: dict[int, int] = {}

    def add(self, result: ChunkResult) -> None:
        """Merge one chunk's result."""
        chunk = result.chunk
        if not (self.lo <= chunk.lo <= chunk.hi <= self.hi):
            raise ValueError(f"chunk [{chunk.lo}, {chunk.hi}) is outside [{self.lo}, {self.hi})")
        with self._lock:
            if chunk.index in self._done:
                raise ValueError(f"chunk {chunk.index} [{chunk.lo}, {chunk.hi}) merged twice")
            self._done.add(chunk.index)
            self._numbers += chunk.count
            self._sigma_sum += result.sigma_sum
            self._abundant += result.abundant
            self._deficient += result.deficient
            self._found.extend(result.found)
            self._pairs.extend(result.amicable or ())
            self.busy[result.worker] = self.busy.get(result.worker, 0.0) + result.busy
            self.chunks[result.worker] = self.chunks.get(result.worker, 0) + 1

    def indices(self) -> set[int]:
        """Indices of the chunks merged so far."""
        with self._lock:
            return set(self._done)

    @property
    def numbers_done(self) -> int:
        """How many numbers of the range are merged so far."""
        with self._lock:
            return self._numbers

    def census(self) -> Census:
        """The merged census; every number of [lo, hi) must have been covered."""
        with self._lock:
            if self._numbers != self.hi - self.lo:
                raise RuntimeError(
                    f"only {self._numbers} of the {self.hi - self.lo} numbers of "
                    f"[{self.lo}, {self.hi}) were merged"
                )
            return Census.from_summary(
                self.lo,
                self.hi,
                (self._sigma_sum, self._abundant, self._deficient, sorted(self._found)),
                sorted(self._pairs) if self._amicable else None,
            )
