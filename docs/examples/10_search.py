"""
Step 10: the library's search
=============================

:func:`perfectly.search` puts the previous steps together: it cuts the range into
chunks, hands them out through queues to workers (threads by default), merges the
workers' answers, and checks the merged result against the closed formula for Σσ
before returning it. There is no shared tally to lock: each chunk's answer comes back
to the caller as a message, and only the caller adds them up.
"""

import os
import platform
import sys

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


def summary(r: perfectly.SearchResult) -> None:
    """What a search found, and how it ran."""
    c = r.census
    how = r.backend + (f", {r.start_method}" if r.start_method else "")
    print(f"[{c.lo:,}, {c.hi:,}) on {r.workers} workers ({how}), verified: {r.verified}")
    print(f"  perfect: {c.perfect}")
    print(f"  abundant: {c.abundant:,}  deficient: {c.deficient:,}  Σσ: {c.sigma_sum:,}")
    busy = ", ".join(f"{b:.3f}" for b in r.worker_busy)
    print(f"  {r.chunks} chunks of {r.chunk_size:,}; busy per worker (s): {busy}")
    print(f"  wall: {r.wall:.3f} s, of which starting workers {r.startup:.3f} s")


HI = 50_000_000

# %%
# How long will it take?
# ----------------------
# :func:`perfectly.estimate` times the kernel at a few points of the range and predicts
# the search's wall time on this machine (assuming the CPUs are otherwise idle).
if __name__ == "__main__":  # see step 4: the process backend below needs it
    print(machine())
    guess = perfectly.estimate(1, HI, backend="threads")
    print(f"estimate: {guess.seconds:.3f} s on {guess.workers} threads")

# %%
# Threads, then processes
# -----------------------
# ``workers=None`` (the default) means one worker per CPU this process may use. The
# process workers start by the platform's default method (step 4), which the result
# names. The answer is the same whatever the backend, the number of workers or the
# chunk size.
if __name__ == "__main__":
    threads = perfectly.search(1, HI, backend="threads")
    summary(threads)

    processes = perfectly.search(1, HI, backend="processes")
    summary(processes)
    assert processes.census == threads.census
    assert threads.census.perfect == (6, 28, 496, 8128, 33_550_336)

# %%
# Sharing the work fairly
# -----------------------
# With ``method="trial"`` (trial division, as in step 1) a number's cost grows like √n.
# ``schedule="static"`` gives each worker one block: the last block holds the largest
# numbers, and its worker is still busy when the others are done. ``"dynamic"`` hands
# out small chunks to whichever worker is free. ``imbalance`` is the busiest worker's
# time over the average (1.0 is perfect).
if __name__ == "__main__":
    for schedule in ("static", "dynamic"):
        r = perfectly.search(1, 2_000_000, method="trial", schedule=schedule, workers=2)
        busy = ", ".join(f"{b:.3f}" for b in r.worker_busy)
        print(
            f"{schedule:>8}: {r.chunks:3} chunks, busy per worker (s): {busy}, "
            f"imbalance {r.imbalance:.2f}, wall {r.wall:.3f} s"
        )

# %%
# The same search runs from the command line, ``python -m perfectly search 1 1e8
# --backend processes``, and ``python -m bench`` measures every backend on your
# machine. The how-to guides cover long searches that can resume, and Dask clusters.
