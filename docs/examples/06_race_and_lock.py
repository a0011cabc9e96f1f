"""
Step 6: a shared tally, the race, then the Lock
===============================================

Threads share memory, which is handy and dangerous. Here two threads count the
*abundant* numbers (σ(n) > 2n) in a range by adding one to a shared tally for each
they find. The right total is known beforehand, so lost updates show.
"""

import dis
import os
import platform
import sys
import threading
import time

import perfectly


def machine() -> str:
    """The CPU, the CPUs this process may use, the OS and the Python of this run."""
    cpu = platform.processor() or platform.machine()
    try:  # Linux names the CPU model here
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":")[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gil = "" if getattr(sys, "_is_gil_enabled", lambda: True)() else " (GIL disabled)"
    return (
        f"machine: {cpu}, {cpus} CPUs, {platform.system()}, Python {platform.python_version()}{gil}"
    )


def sigma(n: int) -> int:
    """Sum of the divisors of n, by trial division up to √n (step 1)."""
    total = 0
    d = 1
    while d * d <= n:
        if n % d == 0:
            total += d if d * d == n else d + n // d
        d += 1
    return total


def in_two_threads(count) -> tuple[int, float]:
    """Run ``count`` on the odd and on the even numbers below HI at once: (tally, seconds)."""
    global tally
    tally = 0
    threads = [threading.Thread(target=count, args=(range(1 + k, HI, 2),)) for k in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - start


HI = 20_000
EXPECTED = perfectly.census(1, HI).abundant  # counted by the library, in one thread
tally = 0
print(machine())
print(f"abundant numbers below {HI:,}: {EXPECTED}")

# %%
# ``tally += 1`` is three steps
# -----------------------------
# Python reads the tally, adds one, and writes the sum back. If another thread writes in
# between, its update is overwritten: it is *lost*.
dis.dis("tally += 1")

# %%
# On a CPython with the GIL, a thread is switched out only at certain points of the
# bytecode, so this plain version may well come out right here. That is the trouble
# with races: they pass tests, then fail elsewhere (on a free-threaded Python, or another
# version). Right today is not correct.


def count_plain(numbers: range) -> None:
    global tally
    for n in numbers:
        if sigma(n) > 2 * n:
            tally += 1


def report(name: str, count) -> None:
    value, seconds = in_two_threads(count)
    lost = EXPECTED - value
    print(f"{name:>18}: tally {value} of {EXPECTED} ({lost} lost), {seconds:.3f} s")


report("plain tally += 1", count_plain)

# %%
# Making the race show
# --------------------
# Any thread may be paused between its read and its write; ``time.sleep(0)`` pauses it
# there on purpose, so that the other thread runs in the gap, as it can at any moment on
# a free-threaded Python. Now updates are lost, and how many varies from run to run.


def count_racy(numbers: range) -> None:
    global tally
    for n in numbers:
        if sigma(n) > 2 * n:
            seen = tally  # 1. read
            time.sleep(0)  # (the other thread runs here)
            tally = seen + 1  # 2. write: whatever the other thread added meanwhile is lost


report("read, pause, write", count_racy)

# %%
# The Lock
# --------
# A :class:`threading.Lock` is held by one thread at a time: ``with lock:`` waits until
# it is free, takes it, and gives it back at the end of the block, even on an exception.
# With the read and the write inside it, no thread can slip in between, pause or not.
lock = threading.Lock()


def count_locked(numbers: range) -> None:
    global tally
    for n in numbers:
        if sigma(n) > 2 * n:
            with lock:
                seen = tally
                time.sleep(0)
                tally = seen + 1


report("the same, locked", count_locked)
assert tally == EXPECTED

# %%
# The locked count is exact every time. A lock costs a little each time it is taken,
# and while one thread holds it the others wait, so hold it briefly, around the shared
# data only (here the σ computations stay outside it). Better still, share less: the
# queues of step 5 let each worker count on its own and hand in one total. Processes
# race the same way on shared memory (:class:`multiprocessing.Value`); the command
# ``python -m perfectly race`` (from the benchmark, perfectly-bench) measures both, with
# and without a lock.
