"""A lock-ordering deadlock between two threads, detected by acquire timeouts (never
waited out); then the same threads with one global lock order, which finish."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
import time
from typing import Any


@dataclasses.dataclass(frozen=True)
class Deadlock:
    """What the lock-ordering demo found."""

    detected: bool
    seconds: float  # from the start until both threads had given up
    timeout: float
    messages: tuple[str, ...]
    ordered_seconds: float  # the same threads with one lock order
    ordered_ok: bool

    def to_json(self) -> dict[str, Any]:
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
