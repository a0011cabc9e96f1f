"""
Step 2: threading.Thread
========================

A thread is another line of execution inside the same program: it runs a function you
give it, and it shares all the program's memory with the other threads. Here two
threads share the search of step 1.
"""

import os
import platform
import sys
import threading
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


def perfect_in(numbers: range) -> list[int]:
    """The perfect numbers among ``numbers``."""
    return [n for n in numbers if sigma(n) == 2 * n]


HI = 40_000
print(machine())
start = time.perf_counter()
serial = perfect_in(range(1, HI))
print(f"one thread:  {serial}  {time.perf_counter() - start:.3f} s")

# %%
# Two threads, each with half of the numbers
# -------------------------------------------
# σ(n) costs more as n grows (about √n divisions), so cutting the range into a low and
# a high half would give the second thread most of the work. Taking every other number
# instead, ``range(1, HI, 2)`` and ``range(2, HI, 2)``, gives each thread a fair share.
#
# ``Thread(target=f, args=...)`` makes a thread; ``start()`` runs ``f`` in it, and
# ``join()`` waits until ``f`` has returned. Whatever ``f`` returns is dropped, so each
# thread stores its answer in a slot of its own in a shared list: the two threads never
# write to the same place (step 6 shows what can happen when they do).
results: list[list[int]] = [[], []]


def work(k: int, numbers: range) -> None:
    results[k] = perfect_in(numbers)


threads = [
    threading.Thread(target=work, args=(k, range(1 + k, HI, 2)), name=f"searcher-{k}")
    for k in range(2)
]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.perf_counter() - start

found = sorted(results[0] + results[1])
print(f"two threads: {found}  {seconds:.3f} s")
print("odd numbers:", results[0], " even numbers:", results[1])
assert found == serial

# %%
# The answer is right, and the odd numbers held no perfect number (none is known). But
# compare the two times: on a standard CPython, with its global interpreter lock (GIL),
# two threads running pure Python take about as long as one, or longer, however many
# CPUs the machine has. Step 8 shows why, and what does run in parallel.
