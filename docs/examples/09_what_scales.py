"""
Step 9: what does scale
=======================

Four ways to run Python on several CPUs at once, measured on the same work:

* **threads**, over compiled code that releases the GIL (step 8);
* **processes**, each with its own interpreter and GIL (steps 4–5);
* **subinterpreters**: several interpreters in one process, each with its own GIL
  (PEP 684 and 734; Python 3.14, or 3.13 with the ``interpreters-pep-734`` backport);
* **free-threaded CPython** (PEP 703; builds such as ``python3.14t``), which has no GIL
  at all, so that threads run even pure Python in parallel.

:func:`perfectly.search` runs one census on any of these *backends*, with either kernel
(the compiled one, or the pure-Python one), and checks every result.
"""

import importlib.util
import multiprocessing
import os
import platform
import sys
import sysconfig

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


# %%
# This interpreter
# ----------------
# ``sys._is_gil_enabled()`` (Python 3.13 and later) says whether the GIL is on now; a
# free-threaded build can still turn it on, for instance for an extension that does not
# declare itself safe without it (perfectly's kernel does declare it).
free_threaded_build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
if hasattr(sys, "_is_gil_enabled"):
    gil = "enabled" if sys._is_gil_enabled() else "disabled"
else:
    gil = "enabled (this Python predates sys._is_gil_enabled: every build has a GIL)"

# Subinterpreters with their own GIL: Python 3.14, or 3.13 with the backport.
SUBINTERPRETERS = sys.version_info >= (3, 13) and any(
    importlib.util.find_spec(name) for name in ("concurrent.interpreters", "interpreters_backport")
)
BACKENDS = ["serial", "threads", "processes"] + (["interpreters"] if SUBINTERPRETERS else [])

if __name__ == "__main__":  # see step 4: spawned processes re-import this script
    print(machine())
    print("free-threaded build:", "yes" if free_threaded_build else "no", "| GIL:", gil)
    print("subinterpreters:", "yes" if SUBINTERPRETERS else "not in this Python")

# %%
# The measurements
# ----------------
# Each kernel gets a range of similar serial cost, and 2 workers. Every case runs once
# per round, for 3 rounds, and keeps its fastest time, so that a moment of other load on
# the machine does not hit one case only. A time includes starting and stopping the
# workers and checking the result. "GIL held" is the compiled kernel told not to
# release the GIL (``release_gil=False``), to show what releasing it buys.
KERNELS = {
    "compiled, GIL released": dict(hi=60_000_000, kernel="compiled"),
    "compiled, GIL held": dict(hi=60_000_000, kernel="compiled", release_gil=False),
    "pure Python": dict(hi=400_000, kernel="python"),
}
# fork where the platform has it: spawned children could not import this page's script
START = "fork" if "fork" in multiprocessing.get_all_start_methods() else None


def wall(backend: str, hi: int, **options) -> float:
    """Seconds of one verified search of [1, hi) on ``backend`` with 2 workers."""
    if backend == "processes":
        options["start_method"] = START
    r = perfectly.search(1, hi, backend=backend, workers=2, **options)
    assert r.verified and r.census.perfect[:4] == (6, 28, 496, 8128)
    return r.wall


if __name__ == "__main__":
    seconds: dict[tuple[str, str], float] = {}
    # subinterpreters last: CPython does not support fork() in a process that has run them
    for group in (BACKENDS[:3], BACKENDS[3:]):
        for _ in range(3):
            for backend in group:
                for name, options in KERNELS.items():
                    t = wall(backend, **options)
                    seconds[name, backend] = min(t, seconds.get((name, backend), t))

    print(f"{'2 workers':<24}{'serial':>9}" + "".join(f"{b:>14}" for b in BACKENDS[1:]))
    for name in KERNELS:
        serial = seconds[name, "serial"]
        speedups = [serial / seconds[name, b] for b in BACKENDS[1:]]
        print(f"{name:<24}{serial:8.3f}s" + "".join(f"{s:13.2f}×" for s in speedups))
    print("(× : speedup over serial for the same kernel and range)")

# %%
# How to read it
# --------------
# With two or more idle CPUs you will typically see:
#
# * **threads** speed up the compiled kernel that releases the GIL, and nothing else: with
#   the GIL held, or in pure Python, they stay near 1× (or below) on a build with a GIL.
# * **processes** speed up everything, the pure-Python kernel included, since each has
#   its own GIL; they pay for starting the workers and for pickling every task and
#   result, which small jobs never earn back.
# * **subinterpreters** (when listed) scale pure Python too, inside one process. Starting
#   them costs more than starting threads, about as much as forking processes and much
#   less than spawning them; nothing is shared between them, so every task and result is
#   copied.
# * on a **free-threaded** build (the "GIL: disabled" line above) there is no GIL to
#   hold, so the threads column scales in every row, pure Python included; the price is
#   a slower single thread.
#
# Run this script under another interpreter (for example ``python3.14`` for
# subinterpreters, ``python3.14t`` for free threading, each with perfectly installed)
# to fill in the columns this one lacks. ``python -m bench --python PATH`` runs the
# same comparison across interpreters at length.
