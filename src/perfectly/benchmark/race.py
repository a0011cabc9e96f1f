"""``bench race``: race conditions and synchronising threads, made measurable.

Workers run the kernel on their chunks of a range and add each chunk's count of numbers
to one shared tally, so the right total is known: the size of the range. The tally is
a plain attribute shared by threads, or a ``multiprocessing.Value`` shared by processes,
updated with a read-modify-write, with and without a ``Lock``. Unlocked variants are
repeated until updates are lost or ``attempts`` is reached; locked ones are run as often,
so that their times compare like for like, and must always be exact.

Honesty about threads: on CPython with a GIL, ``tally.count += n`` is rarely interrupted
between its read and its write, so lost updates are rare, not absent, which is worse:
they pass tests. To make them show, every variant here yields (``time.sleep(0)``)
between the read and the write, the locked ones inside the lock. Processes run truly in
parallel and need no such help, but get it too, so that the variants stay comparable.

The deadlock demo takes two locks in opposite orders in two threads. Every acquire of
the second lock has a timeout, so the deadlock is *detected* (both threads give up, each
holding what the other needs), never waited out; then the same threads, taking the locks
in one global order, finish.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
import time
from typing import Any

from perfectly._core import kernel_module
from perfectly.benchmark.matrix import compiled_available
from perfectly.planning import Chunk, plan


def _chunks(numbers: int, chunk_size: int) -> list[Chunk]:
    return list(
        plan(1, numbers + 1, schedule="dynamic", workers=1, chunk_size=chunk_size, method="sieve")
    )


def _kernel_name() -> str:
    return "compiled" if compiled_available() else "python"


class Tally:
    """A plain object whose ``count`` attribute the threads share."""

    def __init__(self) -> None:
        self.count = 0


def _thread_worker(
    chunks: list[Chunk], tally: Tally, lock: threading.Lock | None, kernel: str
) -> None:
    module = kernel_module(kernel)
    for chunk in chunks:
        module.summarize(chunk.lo, chunk.hi, "sieve", True)
        if lock is None:
            value = tally.count
            time.sleep(0)  # let another thread run between the read and the write
            tally.count = value + chunk.count
        else:
            with lock:
                value = tally.count
                time.sleep(0)
                tally.count = value + chunk.count


def _process_worker(chunks: list[Chunk], value: Any, lock: Any, mode: str, kernel: str) -> None:
    module = kernel_module(kernel)
    for chunk in chunks:
        module.summarize(chunk.lo, chunk.hi, "sieve", True)
        if mode == "plus-equals":  # Value(lock=True): get and set each locked, not the pair
            value.value += chunk.count
        elif lock is None:
            current = value.value
            time.sleep(0)
            value.value = current + chunk.count
        else:
            with lock:
                current = value.value
                time.sleep(0)
                value.value = current + chunk.count


def _split(chunks: list[Chunk], workers: int) -> list[list[Chunk]]:
    return [chunks[w::workers] for w in range(workers)]


def attempt_threads(chunks: list[Chunk], workers: int, locked: bool) -> tuple[int, float]:
    """One attempt with threads: (observed total, seconds)."""
    tally = Tally()
    lock = threading.Lock() if locked else None
    kernel = _kernel_name()
    threads = [
        threading.Thread(target=_thread_worker, args=(part, tally, lock, kernel))
        for part in _split(chunks, workers)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally.count, time.perf_counter() - start


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
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    seconds = time.perf_counter() - start
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

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(attempts=self.attempts, lost=self.lost, exact=self.exact)
        return out


@dataclasses.dataclass(frozen=True)
class Deadlock:
    """What the lock-ordering demo found."""

    detected: bool
    seconds: float  # from the start until both threads had given up
    timeout: float
    messages: tuple[str, ...]
    ordered_seconds: float  # the same threads with one lock order
    ordered_ok: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def deadlock_demo(timeout: float) -> Deadlock:
    """Two threads take locks A and B in opposite orders; acquire timeouts detect it."""
    lock_a, lock_b = threading.Lock(), threading.Lock()
    names = {id(lock_a): "A", id(lock_b): "B"}
    messages: list[str] = []
    guard = threading.Lock()
    barrier = threading.Barrier(2)

    def worker(name: str, first: threading.Lock, second: threading.Lock, wait: bool) -> None:
        with first:
            if wait:  # both hold their first lock before either asks for its second
                barrier.wait(timeout=10 * timeout + 5)
            asked = time.perf_counter()
            if second.acquire(timeout=timeout):
                second.release()
                return
            with guard:
                messages.append(
                    f"{name} held lock {names[id(first)]} and gave up on lock "
                    f"{names[id(second)]} after {time.perf_counter() - asked:.2f} s"
                )

    def run(orders: list[tuple[threading.Lock, threading.Lock]], wait: bool) -> float:
        threads = [
            threading.Thread(target=worker, args=(f"thread-{i + 1}", a, b, wait), daemon=True)
            for i, (a, b) in enumerate(orders)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(10 * timeout + 10)
            if t.is_alive():
                raise RuntimeError("deadlock demo: a thread did not finish (this is a bug)")
        return time.perf_counter() - start

    seconds = run([(lock_a, lock_b), (lock_b, lock_a)], wait=True)
    detected = len(messages) > 0
    found = tuple(messages)
    messages.clear()
    ordered = run([(lock_a, lock_b), (lock_a, lock_b)], wait=False)
    return Deadlock(detected, seconds, timeout, found, ordered, not messages)


def lock_overhead(rounds: int = 20_000) -> dict[str, float]:
    """Seconds per uncontended acquire + release of each kind of lock (best of 3)."""
    out = {}
    locks: dict[str, Any] = {
        "threading.Lock": threading.Lock(),
        "multiprocessing.Lock": multiprocessing.get_context().Lock(),
    }
    for name, lock in locks.items():
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(rounds):
                with lock:
                    pass
            best = min(best, time.perf_counter() - start)
        out[name] = best / rounds
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "chunks": self.chunks,
            "chunk_size": self.chunk_size,
            "attempts": self.attempts,
            "variants": [v.to_dict() for v in self.variants],
            "lock_cost": {k: self.lock_cost(k) for k in ("threads", "processes")},
            "lock_overhead": self.lock_overhead,
            "deadlock": self.deadlock.to_dict(),
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
    plan_chunks = _chunks(chunks * chunk_size, chunk_size)
    expected = chunks * chunk_size
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


def render(result: RaceResult) -> str:
    """The race results as text."""
    from perfectly.benchmark.report import fmt_time

    lines = [
        f"{result.workers} workers add the count of each of {result.chunks} chunks "
        f"({result.chunk_size:,} numbers each, run through the kernel) to one shared tally",
        "",
        f"  {'variant':42} {'expected':>10} {'observed':>10} {'lost':>8} {'tries':>5} "
        f"{'time/try':>9}",
    ]
    for v in result.variants:
        worst = min(v.observed, default=0)
        lines.append(
            f"  {v.name:42} {v.expected:>10,} {worst:>10,} {v.lost:>8,} {v.attempts:>5} "
            f"{fmt_time(v.mean_seconds):>9}"
        )
    lines.append("")
    for v in result.variants:
        if v.locked:
            state = "exact in every try" if v.exact else "WRONG: a locked variant lost updates"
        elif not v.exact:
            tries = next(i for i, o in enumerate(v.observed) if o != v.expected) + 1
            state = f"lost {v.lost:,} in its worst try; first lost updates on try {tries}"
        else:
            state = (
                f"no lost updates seen in {v.attempts} tries — luck, not safety: "
                "the read-modify-write is still unguarded"
            )
        lines.append(f"  {v.name}: {state}")
    lines.append("")
    for kind in ("threads", "processes"):
        cost = result.lock_cost(kind)
        if cost is not None:
            lines.append(
                f"  the lock cost {kind} {fmt_time(cost)} per update in this job, waiting included"
            )
    lines.append(
        "  an uncontended acquire + release costs "
        + ", ".join(f"{fmt_time(v)} ({k})" for k, v in result.lock_overhead.items())
    )
    lines += [
        "",
        "  Note: the read-modify-write variants yield (time.sleep(0)) between reading and",
        "  writing the tally, the locked ones inside the lock: with a GIL, threads would",
        "  otherwise lose updates only rarely, not never. 'value += n' on a Value(lock=True)",
        "  has no such help: its get and its set are each locked, the pair is not.",
        "",
        "Lock-ordering deadlock (thread-1 takes A then B, thread-2 takes B then A):",
    ]
    d = result.deadlock
    if d.detected:
        lines.append(
            f"  detected in {d.seconds:.2f} s by acquire(timeout={d.timeout:g}), never waited out:"
        )
        lines += [f"    {m}" for m in d.messages]
    else:
        lines.append("  not provoked this time (the threads did not interleave)")
    state = "finish" if d.ordered_ok else "still time out (unexpected)"
    lines.append(
        f"  with one lock order (A before B) the same two threads {state} in "
        f"{fmt_time(d.ordered_seconds)}"
    )
    return "\n".join(lines)
