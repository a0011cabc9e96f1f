"""
Step 5: results through a Queue
===============================

A queue is a safe way for workers to hand results back: any number of threads (or
processes) may ``put()`` into it at once, and ``get()`` waits until an item is there.
The same worker function serves threads with :class:`queue.Queue` and processes with
:class:`multiprocessing.Queue`, which has the same ``put()`` and ``get()``.
"""

import multiprocessing
import os
import platform
import queue
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


def work(k: int, numbers: range, results: "queue.Queue") -> None:
    """Search ``numbers``; put (k, perfect numbers found, Σσ of them all) on ``results``."""
    found, total = [], 0
    for n in numbers:
        s = sigma(n)
        total += s
        if s == 2 * n:
            found.append(n)
    results.put((k, found, total))


def check(answers: list) -> None:
    """The merged answer: the four perfect numbers, and Σσ(n) for n < HI, which
    :func:`perfectly.sum_sigma` computes independently, by a closed formula."""
    found = sorted(n for _, part, _ in answers for n in part)
    assert found == [6, 28, 496, 8128], found
    assert sum(total for _, _, total in answers) == perfectly.sum_sigma(HI - 1)


HI = 40_000
METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"

# %%
# Threads and queue.Queue
# -----------------------
if __name__ == "__main__":  # see step 4: needed wherever processes are spawned
    print(machine())
    results: queue.Queue = queue.Queue()
    threads = [
        threading.Thread(target=work, args=(k, range(1 + k, HI, 2), results)) for k in range(2)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    answers = [results.get() for _ in threads]  # one answer per thread, in finishing order
    for t in threads:
        t.join()
    print(f"two threads:   {time.perf_counter() - start:.3f} s, answers {answers}")
    check(answers)

# %%
# Processes and multiprocessing.Queue
# -----------------------------------
# Here every item is pickled and sent through a pipe to the parent. Take the results
# out *before* ``join()``: a process that has put items on a queue does not end until
# they have been passed on to the pipe, and a full pipe waits for a reader, so joining
# first can wait forever.
if __name__ == "__main__":
    ctx = multiprocessing.get_context(METHOD)  # fork where available (see step 4)
    results = ctx.Queue()
    processes = [ctx.Process(target=work, args=(k, range(1 + k, HI, 2), results)) for k in range(2)]
    start = time.perf_counter()
    for p in processes:
        p.start()
    answers = [results.get() for _ in processes]
    for p in processes:
        p.join()
    print(f"two processes: {time.perf_counter() - start:.3f} s, answers {answers}")
    check(answers)

# %%
# Both give the right answer, checked twice: the perfect numbers, and the sum of every
# σ(n) against a formula that never looks at a single divisor. On two or more idle
# CPUs the processes take about half the time of the threads. A queue is also how work
# is handed *out*: ``perfectly.search(..., backend="processes")`` gives each worker
# process a queue of chunks to do and a pipe for the answers.
