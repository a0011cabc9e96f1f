"""
Step 8: the GIL, or why pure-Python threads do not speed up
===========================================================

On a standard CPython build a thread must hold the *global interpreter lock* (GIL) to
run Python code, and there is one GIL per interpreter. So however many CPUs there are,
only one thread runs Python at a time; the others wait their turn. The lock changes
hands when the running thread blocks (on I/O, a sleep, a lock), or when it has held it
for :func:`sys.getswitchinterval` seconds and another thread is waiting. Compiled code
may release it while it works on data of its own: that is what makes
:mod:`perfectly`'s kernel different.
"""

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


def timed(label: str, jobs: list) -> None:
    """Run each function of ``jobs`` in a thread of its own; print the wall time and how
    many CPUs were busy on average (CPU time of this process ÷ wall time)."""
    threads = [threading.Thread(target=job) for job in jobs]
    wall, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<36} {wall:6.3f} s, CPUs busy on average: {cpu / wall:.2f}")


print(machine())
print("switch interval:", sys.getswitchinterval(), "s")

# %%
# Pure Python: one thread, then two
# ---------------------------------
# The same work as steps 1–3. With two threads, the CPU time is still about the wall
# time: one CPU busy at a time, the threads taking turns.
HI = 40_000


def search(numbers: range) -> None:
    assert [n for n in numbers if sigma(n) == 2 * n] in ([], [6, 28, 496, 8128])


timed("pure Python, one thread", [lambda: search(range(1, HI))])
timed("pure Python, two threads", [lambda k=k: search(range(1 + k, HI, 2)) for k in (0, 1)])

# %%
# Threads that wait do overlap
# ----------------------------
# A thread that sleeps, or waits for a file or the network, lets go of the GIL while it
# waits. Two threads that each wait 0.3 s are done in about 0.3 s, not 0.6: threads are
# the right tool for work that mostly waits, whatever the GIL.
timed("two threads sleeping 0.3 s each", [lambda: time.sleep(0.3)] * 2)

# %%
# Compiled code that releases the GIL
# -----------------------------------
# :func:`perfectly.census` runs a compiled sieve whose loops release the GIL (a Cython
# ``with nogil:`` block): while it works, other threads may run, and so may another
# call of the kernel in another thread. The sieve's cost per number hardly grows with
# n, so two halves of the range are a fair split.
N = 40_000_000
parts: dict[str, perfectly.Census] = {}


def census_of(name: str, lo: int, hi: int) -> None:
    parts[name] = perfectly.census(lo, hi)


timed("compiled kernel, one thread", [lambda: census_of("whole", 1, N)])
timed(
    "compiled kernel, two threads",
    [lambda: census_of("low", 1, N // 2), lambda: census_of("high", N // 2, N)],
)
low, high, whole = parts["low"], parts["high"], parts["whole"]
assert low.perfect + high.perfect == whole.perfect == (6, 28, 496, 8128, 33_550_336)
assert low.sigma_sum + high.sigma_sum == whole.sigma_sum == perfectly.sum_sigma(N - 1)

# %%
# On two or more idle CPUs the compiled kernel in two threads takes about half the time
# of one, with two CPUs busy: the same threads that gained nothing on pure Python. Threads
# are not slow; the GIL serialises Python code. The next step compares every way around
# it: threads over GIL-free compiled code, processes, subinterpreters, and free-threaded
# Python.
