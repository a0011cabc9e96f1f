"""Single-thread kernel speed, side by side in one run: ``python -m bench.kernels``.

(``python -m bench --baselines`` puts the same baselines into the full comparison.)

Measures ns per number of the compiled ``sieve`` census on [1, 1e8) against numba's
``@njit`` version of the same factor sieve (when numba is installed), the compiled
``trial`` algorithm on [1, 2e6) with and without the GIL held, the pure-Python kernel on
a small range, and the README's main job. Runs alternate between contenders and the
median of ``--repeat`` runs is reported, since these machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from perfectly import _kernel, _reference, census


def _median_seconds(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kernels", description=__doc__)
    parser.add_argument("--sieve-hi", type=float, default=1e8)
    parser.add_argument("--trial-hi", type=float, default=2e6)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sieve_hi, trial_hi = int(args.sieve_hi), int(args.trial_hi)

    contenders: dict[str, Callable[[], object]] = {
        "compiled sieve census": lambda: _kernel.summarize(1, sieve_hi),
        "compiled sieve census, 1e9 offset": lambda: _kernel.summarize(10**9, 10**9 + sieve_hi - 1),
    }
    try:
        from perfectly.benchmark import _numba_sieve as numba_sieve

        numba_sieve.census(1, 1000, 1)  # compile outside the timing
        contenders["numba @njit sieve census"] = lambda: numba_sieve.census(1, sieve_hi, 1)
        contenders["numba @njit sieve census, 1e9 offset"] = lambda: numba_sieve.census(
            10**9, 10**9 + sieve_hi - 1, 1
        )
    except ImportError:
        print("numba is not installed: no numba baseline")

    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeat):  # alternate, so drifts in machine load hit all alike
        for name, run in contenders.items():
            results[name].append(_median_seconds(run, 1)[0])
    print(f"sieve over {sieve_hi - 1:,} numbers, median of {args.repeat}:")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"  {name:40s} {median * 1e9 / (sieve_hi - 1):6.2f} ns/number ({median:.3f} s)")

    trial = {
        "compiled trial, GIL released": lambda: _kernel.summarize(1, trial_hi, "trial"),
        "compiled trial, GIL held": lambda: _kernel.summarize(1, trial_hi, "trial", False),
    }
    print(f"trial over {trial_hi - 1:,} numbers:")
    for name, run in trial.items():
        median, _ = _median_seconds(run, max(1, args.repeat // 2))
        print(f"  {name:40s} {median * 1e9 / (trial_hi - 1):8.1f} ns/number ({median:.3f} s)")
    py_hi = 20_000
    median, _ = _median_seconds(lambda: _reference.summarize(1, py_hi, "trial"), 1)
    print(f"  {'pure-Python trial, [1, 2e4)':40s} {median * 1e9 / (py_hi - 1):8.1f} ns/number")

    median, _ = _median_seconds(lambda: census(1, 30_000_001), args.repeat)
    print(f"README main job, census(1, 30_000_001): {median:.3f} s")


if __name__ == "__main__":
    main()
