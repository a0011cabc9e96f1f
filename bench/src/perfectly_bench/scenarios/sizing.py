"""How big each range is: sized to this machine by a short calibration, or given.

Four sizes, one per kernel family and method: ``sieve`` and ``trial`` for the compiled
kernel (held GIL or not: the same code, the same range, so the two compare directly),
``python-sieve`` and ``python-trial`` for the pure-Python kernel, which is about 1000×
slower and gets a range about 1000× smaller. A size N means the range [1, N].

``--size`` takes one of three forms:

``0.5s``
    calibrate every range so that one serial run takes about half a second;
``1e7``
    the compiled sieve runs on [1, 1e7]; the other ranges are calibrated to take as long;
``sieve=1e7,python-trial=2e4``
    these sizes as given, the others calibrated to the default target time.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

from perfectly import census, parse_int
from perfectly_bench.common.formatting import fmt_count

SIZE_KEYS = ("sieve", "trial", "python-sieve", "python-trial")
DEFAULT_TARGET = 0.25  # seconds of serial work per scenario, default run, at least
#: ... and at least this much per worker at one worker per CPU: a fixed 0.25 s would leave
#: each of 64 workers 4 ms, about what starting a forked worker costs.
PER_WORKER_TARGET = 0.125
#: --quick takes as much work per range as the full run, so that its answer does not hinge
#: on starting workers (tens of milliseconds); it saves time on contenders and rounds.


def default_target(cpus: int) -> float:
    """Seconds of serial work per range on a machine with ``cpus`` CPUs: 0.25 s up to 2
    CPUs, then 0.125 s for each worker of a run at one worker per CPU."""
    return max(DEFAULT_TARGET, PER_WORKER_TARGET * cpus)


MIN_SIZE = 100
#: (kernel, method, numbers in the smaller probe, bounds on the exponent of n in the
#: cost) per size key. The cost is fitted as c·n^e from probes of n and 4n: the sieve is
#: not quite linear (more primes per number as n grows), trial division goes like n^1.5.
_PROBES = {
    "sieve": ("compiled", "sieve", 1 << 20, (1.0, 1.3)),
    "trial": ("compiled", "trial", 20_000, (1.3, 1.7)),
    "python-sieve": ("python", "sieve", 10_000, (1.0, 1.4)),
    "python-trial": ("python", "trial", 3_000, (1.3, 1.7)),
}


@dataclasses.dataclass(frozen=True)
class SizeSpec:
    """What ``--size`` asked for: a target time, and any sizes given outright."""

    target: float = DEFAULT_TARGET
    fixed: tuple[tuple[str, int], ...] = ()
    match_sieve: bool = False  # the target is the time the compiled sieve takes at its size


@dataclasses.dataclass(frozen=True)
class Sizes:
    """The range size for each kernel family and method."""

    sieve: int
    trial: int
    python_sieve: int
    python_trial: int
    target: float  # seconds of serial work aimed at when calibrating
    calibrated: tuple[str, ...]  # the keys that were calibrated, not given

    def count(self, variant: str, method: str) -> int:
        """Numbers in the range for ``variant`` (see :data:`.matrix.VARIANTS`) and ``method``."""
        key = f"python-{method}" if variant == "python" else method
        return int(getattr(self, key.replace("-", "_")))

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {key: self.count(*_split(key)) for key in SIZE_KEYS}
        out["target_seconds"] = self.target
        out["calibrated"] = list(self.calibrated)
        return out


_LABELS = {
    "sieve": "compiled sieve",
    "trial": "compiled trial division",
    "python-sieve": "pure-Python sieve",
    "python-trial": "pure-Python trial division",
}


def describe(
    sizes: dict[str, object], startup: tuple[str, float] | None = None, cpus: int | None = None
) -> list[str]:
    """One line per range measured (``sizes`` as :meth:`Sizes.to_json` wrote it): its
    size, and why it is that big. ``startup``: what starting the workers was measured to
    cost (a name and seconds), if it was; ``cpus``: the machine's, to say the work each
    worker gets at one worker per CPU."""
    target = sizes.get("target_seconds")
    calibrated = sizes.get("calibrated", [])
    lines = []
    for key in SIZE_KEYS:
        n = sizes.get(key)
        if not isinstance(n, int) or n <= 0:
            continue
        if not (isinstance(calibrated, list) and key in calibrated and isinstance(target, float)):
            lines.append(f"{_LABELS[key]} [1, {fmt_count(n)}]: as given by --size")
            continue
        why = f"about {target:.2g} s of serial work"
        if cpus:
            why += f" ({target / cpus:.2g} s per worker at {cpus})"
        if startup is None:
            why += ", more than starting workers costs (tens of ms with fork)"
        else:
            name, cost = startup
            relation = "≫" if target >= 5 * cost else "not ≫: start-up weighs on the answer,"
            why += f", {relation} starting {name} ({cost * 1e3:.3g} ms, measured below)"
        lines.append(f"{_LABELS[key]} [1, {fmt_count(n)}]: {why}")
    return lines


def _split(key: str) -> tuple[str, str]:
    kernel, _, method = key.rpartition("-")
    return ("python" if kernel else "compiled-nogil"), method


def parse_size(text: str) -> SizeSpec:
    """Parse a ``--size`` value; ``ValueError`` with a one-line reason if it is bad."""
    text = text.strip()
    if text.endswith("s") and "=" not in text:
        try:
            seconds = float(text[:-1])
        except ValueError:
            raise ValueError(f"--size {text!r}: expected seconds such as 0.5s") from None
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"--size {text!r}: the target time must be positive")
        return SizeSpec(target=seconds)
    if "=" not in text:
        return SizeSpec(fixed=(("sieve", _size(text, "sieve")),), match_sieve=True)
    fixed = []
    for item in text.split(","):
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in SIZE_KEYS:
            raise ValueError(f"--size: unknown range {key!r}; choose from {', '.join(SIZE_KEYS)}")
        fixed.append((key, _size(value, key)))
    return SizeSpec(fixed=tuple(fixed))


def _size(text: str, key: str) -> int:
    try:
        value = parse_int(text.strip())
    except ValueError:
        raise ValueError(f"--size: {key}={text.strip()!r} is not an integer") from None
    if not 1 <= value <= 2**40:
        raise ValueError(f"--size: {key}={value} must be between 1 and 2**40")
    return value


def nice(n: float) -> int:
    """``n`` rounded down to 1, 1.5, 2, 3, 4, 5, 6 or 8 × a power of ten (≥ MIN_SIZE)."""
    if n <= MIN_SIZE:
        return MIN_SIZE
    power = 10 ** math.floor(math.log10(n))
    mantissa = max(m for m in (1, 1.5, 2, 3, 4, 5, 6, 8) if m * power <= n)
    return int(mantissa * power)


def _best_of(run: Callable[[], object], times: int = 3) -> float:
    best = math.inf
    for _ in range(times):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def probe(key: str, n: int) -> float:
    """Seconds one serial run of [1, n] takes with ``key``'s kernel (best of 3)."""
    kernel, method, _, _ = _PROBES[key]
    return _best_of(lambda: census(1, n + 1, method=method, kernel=kernel))


def size_for(key: str, target: float) -> int:
    """The range size whose serial run takes about ``target`` seconds."""
    _, _, n, (low, high) = _PROBES[key]
    small, large = probe(key, n), probe(key, 4 * n)
    exponent = math.log(max(large, 1e-9) / max(small, 1e-9)) / math.log(4)
    exponent = min(max(exponent, low), high)
    return nice(4 * n * (target / max(large, 1e-9)) ** (1 / exponent))


def resolve(spec: SizeSpec, keys: tuple[str, ...]) -> Sizes:
    """Sizes for ``keys`` (the ones this run needs), calibrating those not given."""
    fixed = dict(spec.fixed)
    target = spec.target
    if spec.match_sieve:  # the time the compiled sieve takes at the size given
        _, _, n, _ = _PROBES["sieve"]
        target = probe("sieve", 4 * n) * fixed["sieve"] / (4 * n)
    values = {}
    calibrated = []
    for key in SIZE_KEYS:
        if key in fixed:
            values[key] = fixed[key]
        elif key in keys:
            values[key] = size_for(key, target)
            calibrated.append(key)
        else:
            values[key] = 0  # not measured in this run
    return Sizes(
        sieve=values["sieve"],
        trial=values["trial"],
        python_sieve=values["python-sieve"],
        python_trial=values["python-trial"],
        target=target,
        calibrated=tuple(calibrated),
    )
