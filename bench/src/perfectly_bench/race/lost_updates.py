"""Lost updates: workers add their chunks' counts to one shared tally, with and without
a ``Lock`` (see the package's docstring for why every variant yields mid-update)."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import threading
import time
from typing import Any

from perfectly import build_info, census
from perfectly.planning import Chunk, plan
from perfectly_bench.race.deadlock import Deadlock, deadlock_demo, lock_overhead


def _kernel_name() -> str:
    return "compiled" if build_info()["core"] == "compiled" else "python"


class Tally:
    """A plain object whose ``count`` attribute the threads share."""

    def __init__(self) -> None:
        self.count = 0


def _thread_worker(
    chunks: list[Chunk], tally: Tally, lock: threading.Lock | None, kernel: str
) -> None:
    for chunk in chunks:
        census(chunk.lo, chunk.hi, kernel=kernel)
        with lock or contextlib.nullcontext():
            value = tally.count
            time.sleep(0)  # let another thread run between the read and the write
            tally.count = value + chunk.count


def _process_worker(chunks: list[Chunk], value: Any, lock: Any, mode: str, kernel: str) -> None:
    for chunk in chunks:
        census(chunk.lo, chunk.hi, kernel=kernel)
        if mode == "plus-equals":  # Value(lock=True): get and set each locked, not the pair
            value.value += chunk.count
            continue
        with lock or contextlib.nullcontext():
            current = value.value
            time.sleep(0)
            value.value = current + chunk.count


def _split(chunks: list[Chunk], workers: int) -> list[list[Chunk]]:
    return [chunks[w::workers] for w in range(workers)]


def _start_and_join(workers: list[Any]) -> float:
    """Start every thread or process, wait for all: the seconds that took."""
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start


def attempt_threads(chunks: list[Chunk], workers: int, locked: bool) -> tuple[int, float]:
    """One attempt with threads: (observed total, seconds)."""
    tally = Tally()
    lock = threading.Lock() if locked else None
    kernel = _kernel_name()
    threads = [
        threading.Thread(target=_thread_worker, args=(part, tally, lock, kernel))
        for part in _split(chunks, workers)
    ]
    seconds = _start_and_join(threads)
    return tally.count, seconds


def attempt_processes(chunks: list[Chunk], workers: int, mode: str) -> tuple[int, float]:
    """One attempt with processes (``mode``: "none", "lock" or "plus-equals")."""
    context = multiprocessing.get_context()
    # lock=True (the default) wraps the value so that each get and each set is locked
    value = context.Value("q", 0, lock=mode == "plus-equals")
    lock = context.Lock() if mode == "lock" else None
    kernel = _kernel_name()
    procs = [
        context.Process(target=_process_worker, args=(part, value, lock, mode, kernel))
        for part in _split(chunks, workers)
    ]
    seconds = _start_and_join(procs)
    for p in procs:
        if p.exitcode != 0:
            raise RuntimeError(f"a race worker process failed with exit code {p.exitcode}")
        p.close()
    return int(value.value), seconds


@dataclasses.dataclass
class Variant:
    """One way of updating the tally, and what it gave."""

    name: str
    kind: str  # "threads" or "processes"
    locked: bool
    expected: int
    observed: list[int] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)

    @property
    def attempts(self) -> int:
        return len(self.observed)

    @property
    def lost(self) -> int:
        """Updates lost in the worst attempt (numbers missing from the total)."""
        return max((self.expected - o for o in self.observed), default=0)

    @property
    def exact(self) -> bool:
        return all(o == self.expected for o in self.observed)

    @property
    def mean_seconds(self) -> float:
        return sum(self.seconds) / len(self.seconds) if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(attempts=self.attempts, lost=self.lost, exact=self.exact)
        return out


@dataclasses.dataclass
class RaceResult:
    """Every variant, and the deadlock demo."""

    workers: int
    chunks: int
    chunk_size: int
    attempts: int
    variants: list[Variant]
    deadlock: Deadlock
    lock_overhead: dict[str, float]

    def lock_cost(self, kind: str) -> float | None:
        """Extra seconds per update that the lock cost, for ``kind``."""
        plain = next((v for v in self.variants if v.kind == kind and not v.locked), None)
        locked = next((v for v in self.variants if v.kind == kind and v.locked), None)
        if plain is None or locked is None or not plain.seconds or not locked.seconds:
            return None
        return (locked.mean_seconds - plain.mean_seconds) / self.chunks

    def to_json(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "chunks": self.chunks,
            "chunk_size": self.chunk_size,
            "attempts": self.attempts,
            "variants": [v.to_json() for v in self.variants],
            "lock_cost": {k: self.lock_cost(k) for k in ("threads", "processes")},
            "lock_overhead": self.lock_overhead,
            "deadlock": self.deadlock.to_json(),
        }


def run_race(
    workers: int = 2,
    chunks: int = 400,
    chunk_size: int = 1000,
    attempts: int = 20,
    timeout: float = 0.5,
    processes: bool = True,
) -> RaceResult:
    """Run every variant and the deadlock demo."""
    expected = chunks * chunk_size
    plan_chunks = list(
        plan(1, expected + 1, schedule="dynamic", workers=1, chunk_size=chunk_size, method="sieve")
    )
    threads_plain = Variant("threads, attribute, no lock", "threads", False, expected)
    threads_locked = Variant("threads, attribute, threading.Lock", "threads", True, expected)
    variants = [threads_plain, threads_locked]
    pairs: list[tuple[Variant, Any]] = [
        (threads_plain, lambda: attempt_threads(plan_chunks, workers, False)),
        (threads_locked, lambda: attempt_threads(plan_chunks, workers, True)),
    ]
    if processes:
        proc_plain = Variant("processes, Value(lock=False), no lock", "processes", False, expected)
        proc_locked = Variant("processes, Value, multiprocessing.Lock", "processes", True, expected)
        proc_plus = Variant("processes, Value(lock=True), value += n", "processes", False, expected)
        variants += [proc_plain, proc_locked, proc_plus]
        pairs += [
            (proc_plain, lambda: attempt_processes(plan_chunks, workers, "none")),
            (proc_locked, lambda: attempt_processes(plan_chunks, workers, "lock")),
            (proc_plus, lambda: attempt_processes(plan_chunks, workers, "plus-equals")),
        ]
    for kind in ("threads", "processes"):
        mine = [(v, f) for v, f in pairs if v.kind == kind]
        for _ in range(attempts):  # alternate the variants of a kind within each attempt
            for variant, attempt in mine:
                if variant.locked or variant.exact:
                    observed, seconds = attempt()
                    variant.observed.append(observed)
                    variant.seconds.append(seconds)
            if all(not v.exact for v, _ in mine if not v.locked):
                break  # every unlocked variant has lost updates: the point is made
    return RaceResult(
        workers, chunks, chunk_size, attempts, variants, deadlock_demo(timeout), lock_overhead()
    )
