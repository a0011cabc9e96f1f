"""
Step 1: one thread
==================

A number n is *perfect* when the sum of its divisors, σ(n), is 2n: for 6, σ(6) =
1 + 2 + 3 + 6 = 12. Before any concurrency, the plain way: one thread, one loop, in pure
Python. The later steps share this same search out among threads and processes, and
compare their times with one thread's.
"""

# %%
# Where the times come from
# -------------------------
# A time means little without the machine that made it, so every step that times
# something prints this line first.
import os
import platform
import sys
import threading
import time

import numpy as np

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


print(machine())
print("this code runs in", threading.current_thread().name)

# %%
# σ(n) by trial division
# ----------------------
# Divisors come in pairs: d divides n exactly when n // d does, and one of the two is at
# most √n. So trying d = 1, 2, … while d·d ≤ n finds them all.


def sigma(n: int) -> int:
    """Sum of the divisors of n."""
    total = 0
    d = 1
    while d * d <= n:
        if n % d == 0:
            total += d if d * d == n else d + n // d
        d += 1
    return total


print("sigma(6) =", sigma(6), " sigma(28) =", sigma(28), " sigma(12) =", sigma(12))

# %%
# The search, one number after another
# ------------------------------------
HI = 20_000

start = time.perf_counter()
found = [n for n in range(1, HI) if sigma(n) == 2 * n]
seconds = time.perf_counter() - start
print(f"perfect numbers below {HI:,}: {found}  ({seconds:.3f} s, pure Python)")
assert found == [6, 28, 496, 8128]

# %%
# The same with the compiled kernel
# ---------------------------------
# :func:`perfectly.sigma_range` fills a NumPy array with σ(n) for a whole range, in
# compiled code that sieves the range instead of dividing each number. It is the same
# arithmetic, so the answers must agree, number by number.
start = time.perf_counter()
sigmas = perfectly.sigma_range(1, HI)  # sigmas[i] is σ(1 + i)
n = np.arange(1, HI, dtype=np.uint64)
fast = n[sigmas == 2 * n].tolist()
seconds = time.perf_counter() - start
print(f"perfect numbers below {HI:,}: {fast}  ({seconds:.4f} s, compiled kernel)")
assert fast == found
assert all(perfectly.sigma(k) == sigma(k) for k in range(1, 2_000))

# %%
# A faster kernel moves the limit: :func:`perfectly.perfect_numbers` looks through ten
# million numbers (compare its time with the loop's above). The next steps ask the other
# question: can more threads, or processes, share the work?
start = time.perf_counter()
print(perfectly.perfect_numbers(1, 10_000_000), f"({time.perf_counter() - start:.3f} s)")
