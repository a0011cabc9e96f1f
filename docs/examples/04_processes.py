"""
Step 4: multiprocessing.Process
===============================

A process is a whole running program: its own Python interpreter, its own memory, and
its own global interpreter lock. :class:`multiprocessing.Process` has the shape of
``threading.Thread`` (``target``, ``args``, ``start()``, ``join()``), but the function
runs in another process, so the operating system can put each one on its own CPU.
"""

import multiprocessing
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


found: list[int] = []  # each process has its own copy of this list


def work(numbers: range) -> None:
    found.extend(n for n in numbers if sigma(n) == 2 * n)


HI = 40_000

# %%
# How a process starts, and the ``__main__`` guard
# ------------------------------------------------
# With the *fork* start method (Linux, macOS) the child is a copy of the parent, made
# at ``start()``. With *spawn* (the only one on Windows, the default on macOS) and
# *forkserver* (the default on Linux from Python 3.14) the child is a fresh interpreter
# that imports this script to find ``work``, so any code at the top level of the script
# runs again in every child. Hence the rule: in a script that starts processes, keep the
# work under ``if __name__ == "__main__":``, which is false in those children.
#
# This page was made by running the script inside Sphinx, where a spawned child could
# not import it, so the script asks for *fork* wherever the platform has it.
METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
ctx = multiprocessing.get_context(METHOD)

if __name__ == "__main__":
    print(machine(), "| start method:", METHOD)
    start = time.perf_counter()
    work(range(1, HI))
    print(f"one process (this one): {found}  {time.perf_counter() - start:.3f} s")

# %%
# Two processes, each with half of the numbers
# --------------------------------------------
if __name__ == "__main__":
    found.clear()
    processes = [ctx.Process(target=work, args=(range(1 + k, HI, 2),)) for k in range(2)]
    start = time.perf_counter()
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    seconds = time.perf_counter() - start
    for p in processes:
        print(f"process {p.pid} ended with exit code {p.exitcode}")
    print(f"two processes: {seconds:.3f} s, and in this process, found = {found}")
    assert found == [] and all(p.exitcode == 0 for p in processes)

# %%
# On a machine with two or more idle CPUs the two processes take about half the time
# of one: unlike the threads of step 2, they really ran at the same time. (On a single
# CPU they cannot, and starting them costs a little on top.)
#
# But the answer is lost. Each child extended *its own copy* of ``found``, which vanished
# when the child ended; the parent's list is still empty. Processes share no memory:
# results must be sent back. That is the next step.
