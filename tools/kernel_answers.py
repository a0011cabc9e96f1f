"""The kernel's answers to a fixed set of calls, as JSON, to compare builds bit for bit.

    python tools/kernel_answers.py OUT.json             # the answers of this perfectly
    python tools/kernel_answers.py --against REF.json   # this perfectly's, on every CPU
                                                        # target this CPU runs, against REF's

Run on two architectures and compare: every answer must be identical, on every build of
the kernel (``PERFECTLY_CPU_TARGET``). The answers depend on nothing but the kernel (timings go to
stderr); a few checks against independent facts (the closed form, a Mersenne prime, the
known perfect numbers) make a file wrong on its own too. ``tools/arm64_check.sh`` uses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def _census(census: Any) -> dict[str, Any]:
    return {
        "range": [census.lo, census.hi],
        "sigma_sum": str(census.sigma_sum),
        "abundant": census.abundant,
        "deficient": census.deficient,
        "perfect": list(census.perfect),
        "multiply_perfect": [list(pair) for pair in census.multiply_perfect],
        "amicable": None if census.amicable is None else [list(p) for p in census.amicable],
    }


def _digest(values: Any) -> dict[str, Any]:
    import numpy as np

    data = np.ascontiguousarray(values, dtype="<u8")
    total = int(data.sum(dtype=object))
    return {"n": int(data.size), "sum": str(total), "sha256": hashlib.sha256(data).hexdigest()}


def answers() -> dict[str, Any]:
    """Every answer, and the checks against independent facts."""
    import perfectly

    big = [2**64 - 59, 2**64 - 1, 2**63 - 25, 2**61 - 1, (2**32 - 5) ** 2, 600851475143]
    calls: dict[str, Callable[[], Any]] = {
        "census(1, 1e6)": lambda: _census(perfectly.census(1, 10**6)),
        "census(1e12, 1e12+1e5)": lambda: _census(perfectly.census(10**12, 10**12 + 10**5)),
        "census(1, 1e5, trial)": lambda: _census(perfectly.census(1, 10**5, method="trial")),
        "census(1, 1e5, amicable)": lambda: _census(perfectly.census(1, 10**5, amicable=True)),
        "census(2^64-2^14, 2^64)": lambda: _census(perfectly.census(2**64 - 2**14, 2**64)),
        "sigma_range(1e12, +1e5)": lambda: _digest(perfectly.sigma_range(10**12, 10**12 + 10**5)),
        "sigma_range(2^61-2^14, 2^61)": lambda: _digest(
            perfectly.sigma_range(2**61 - 2**14, 2**61)
        ),
        "sigma(big)": lambda: [str(perfectly.sigma(n)) for n in big],
        "sum_sigma": lambda: [
            str(perfectly.sum_sigma(x)) for x in (0, 1, 10**6 - 1, 10**12 - 1, 2**53 + 1, 2**64 - 1)
        ],
    }
    results: dict[str, Any] = {}
    for name, call in calls.items():
        began = time.perf_counter()
        results[name] = call()
        print(f"  {name}: {time.perf_counter() - began:.3f} s", file=sys.stderr)
    first = results["census(1, 1e6)"]
    checks = {
        "census(1, 1e6) sums to sum_sigma(1e6 - 1)": first["sigma_sum"] == results["sum_sigma"][2],
        "sigma(2^61 - 1) = 2^61 (a Mersenne prime)": results["sigma(big)"][3] == str(2**61),
        "perfect numbers below 1e6: 6, 28, 496, 8128": first["perfect"] == [6, 28, 496, 8128],
        "every number below 1e6 counted once": (
            first["abundant"] + first["deficient"] + len(first["perfect"]) == 10**6 - 1
        ),
    }
    info = perfectly.build_info()
    return {"kernel": [info["core"], info["cpu_target"]], "results": results, "checks": checks}


def compare(paths: list[str]) -> int:
    """0 when every file's checks pass and all answers agree with the first file's."""
    files = {}
    for path in paths:
        with open(path, encoding="utf-8") as file:
            files[path] = json.load(file)
    reference = files[paths[0]]["results"]
    bad = 0
    for path, data in files.items():
        failed = [name for name, ok in data["checks"].items() if not ok]
        names = reference.keys() | data["results"].keys()
        differ = sorted(k for k in names if reference.get(k) != data["results"].get(k))
        verdict = "identical" if not differ else f"DIFFERENT: {differ}"
        checked = f", checks FAILED: {failed}" if failed else ", checks ok"
        print(f"{path}: kernel {'/'.join(data['kernel'])}, {len(names)} answers {verdict}{checked}")
        bad += bool(differ or failed)
    return 1 if bad else 0


def against(reference: str) -> int:
    """Write this perfectly's answers for each CPU target it runs here (a child Python
    each, beside ``reference``), then :func:`compare` them with ``reference``."""
    from perfectly import _kernel  # CPU_TARGETS: the builds this CPU runs

    paths = [reference]
    for target in _kernel.CPU_TARGETS:
        path = os.path.join(os.path.dirname(os.path.abspath(reference)), f"here-{target}.json")
        env = {**os.environ, "PERFECTLY_CPU_TARGET": target}
        subprocess.run([sys.executable, __file__, path], env=env, check=True)
        paths.append(path)
    return compare(paths)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--against"] and len(argv) == 2:
        return against(argv[1])
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    data = answers()
    with open(argv[0], "w", encoding="utf-8") as file:
        json.dump(data, file, indent=1, sort_keys=True)
    return 0 if all(data["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
