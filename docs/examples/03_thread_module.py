"""
Step 3: the low-level _thread module
====================================

:mod:`threading` is built on :mod:`_thread`, a thin layer over the operating system's
threads. It has no ``Thread`` objects and no ``join()``: you start a function and get
back a number. Seeing what it lacks shows what :mod:`threading` adds.
"""

import _thread
import os
import platform
import sys
import time


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


HI = 40_000
print(machine())

# %%
# Waiting without join()
# ----------------------
# ``_thread.start_new_thread(f, args)`` runs ``f(*args)`` in a new thread and returns its
# identifier at once. To wait for it, hand the thread a lock that is already taken: the
# thread releases it as its last act, and the main thread's second ``acquire()`` blocks
# until then. This is, in essence, what ``Thread.join()`` does for you.
results: list[list[int]] = [[], []]


def work(k: int, numbers: range, done: _thread.LockType) -> None:
    try:
        results[k] = [n for n in numbers if sigma(n) == 2 * n]
    finally:
        done.release()  # without this (say, after an exception) the main thread waits forever


start = time.perf_counter()
locks = []
for k in range(2):
    done = _thread.allocate_lock()
    done.acquire()
    ident = _thread.start_new_thread(work, (k, range(1 + k, HI, 2), done))
    print(f"started thread {k}, identifier {ident}")
    locks.append(done)
for done in locks:
    done.acquire()  # blocks until that thread has released it
seconds = time.perf_counter() - start

found = sorted(results[0] + results[1])
print(f"two _thread threads: {found}  {seconds:.3f} s")
assert found == [6, 28, 496, 8128]

# %%
# What threading adds
# -------------------
# The work and the time are those of step 2: both modules make the same operating
# system threads. :mod:`threading` adds what the lock trick above does by hand, and more:
# ``join()`` with a timeout, names, ``is_alive()``, an exception hook that reports a
# thread's uncaught error, and the *daemon* flag: the program waits for its threads
# before it exits, unless they are daemons. A :mod:`_thread` thread is never waited for:
# it is stopped wherever it is when the program ends. Use :mod:`threading`;
# ``perfectly.search(..., backend="_thread")`` exists to show the two do the same work.
