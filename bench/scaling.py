"""Threads vs processes on one compiled core: ``python -m bench.scaling``.

Every figure is a ratio of runs made side by side in this one run, alternating the
contenders, median of ``--repeat``: speedups over serial for the sieve and the trial
algorithm, static vs dynamic schedules, the pure-Python kernel under threads and
processes, the range size from which processes beat serial (per start method), and the
peak memory of a long search.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable

import perfectly


def _timed(run: Callable[[], perfectly.SearchResult]) -> tuple[float, perfectly.SearchResult]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def compare(
    title: str, runs: dict[str, Callable[[], perfectly.SearchResult]], repeat: int
) -> dict[str, float]:
    """Median wall time of each contender, alternating them ``repeat`` times."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    last: dict[str, perfectly.SearchResult] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            seconds, last[name] = _timed(run)
            times[name].append(seconds)
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = next(iter(medians.values()))
    print(title)
    for name, median in medians.items():
        spread = (max(times[name]) - min(times[name])) / median
        print(
            f"  {name:34s} {median:8.3f} s  speedup {base / median:5.2f}x  "
            f"imbalance {last[name].imbalance:4.2f}  spread {spread:4.0%}"
        )
    return medians


def crossover(start_method: str, repeat: int) -> int | None:
    """Smallest range size (powers of 10) at which processes(2) beat serial."""
    for exponent in range(4, 9):
        hi = 1 + 10**exponent
        medians = compare(
            f"sieve [1, 1e{exponent}], processes ({start_method}) vs serial:",
            {
                "serial": lambda hi=hi: perfectly.search(1, hi, backend="serial"),
                f"processes(2, {start_method})": lambda hi=hi: perfectly.search(
                    1, hi, backend="processes", workers=2, start_method=start_method
                ),
            },
            repeat,
        )
        values = list(medians.values())
        if values[1] < values[0]:
            return 10**exponent
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    parser.add_argument("--sieve-hi", type=float, default=1e8)
    parser.add_argument("--trial-hi", type=float, default=2e6)
    parser.add_argument("--python-hi", type=float, default=2e4)
    parser.add_argument("--memory-hi", type=float, default=1e10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sieve_hi, trial_hi = int(args.sieve_hi) + 1, int(args.trial_hi)
    python_hi, repeat = int(args.python_hi), args.repeat
    print(f"python {sys.version.split()[0]}, {perfectly.build_info()['core']} core")

    def run(hi: int, **kw: object) -> Callable[[], perfectly.SearchResult]:
        return lambda: perfectly.search(1, hi, **kw)  # type: ignore[arg-type]

    compare(
        f"sieve [1, {sieve_hi - 1:.0e}], compiled nogil kernel:",
        {
            "serial": run(sieve_hi, backend="serial"),
            "threads(2)": run(sieve_hi, backend="threads", workers=2),
            "processes(2, fork)": run(
                sieve_hi, backend="processes", workers=2, start_method="fork"
            ),
            "threads(2), GIL held": run(sieve_hi, backend="threads", workers=2, release_gil=False),
        },
        repeat,
    )
    compare(
        f"trial [1, {trial_hi:.0e}), compiled nogil kernel:",
        {
            "serial": run(trial_hi, backend="serial", method="trial"),
            "threads(2), dynamic": run(trial_hi, backend="threads", workers=2, method="trial"),
            "threads(2), static": run(
                trial_hi, backend="threads", workers=2, method="trial", schedule="static"
            ),
            "processes(2), dynamic": run(
                trial_hi, backend="processes", workers=2, method="trial", start_method="fork"
            ),
        },
        repeat,
    )
    compare(
        f"trial [1, {python_hi:.0e}), pure-Python kernel:",
        {
            "serial": run(python_hi, backend="serial", method="trial", kernel="python"),
            "threads(2)": run(
                python_hi, backend="threads", workers=2, method="trial", kernel="python"
            ),
            "processes(2, fork)": run(
                python_hi,
                backend="processes",
                workers=2,
                method="trial",
                kernel="python",
                start_method="fork",
            ),
        },
        repeat,
    )
    for start_method in multiprocessing.get_all_start_methods():
        size = crossover(start_method, repeat)
        where = f"from [1, {size:.0e}]" if size else "nowhere up to [1, 1e8]"
        print(f"crossover ({start_method}): processes(2) beat serial {where}")

    if args.memory_hi > 0:
        hi = int(args.memory_hi)
        seconds, result = _timed(lambda: perfectly.search(1, hi, backend="threads", workers=2))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"search [1, {hi:.0e}), threads(2): {seconds:.1f} s, perfect "
            f"{list(result.census.perfect)}, verified {result.verified}, "
            f"peak RSS {peak:.0f} MiB"
        )


if __name__ == "__main__":
    main()
