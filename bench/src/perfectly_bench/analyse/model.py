"""A small model of a parallel run's time, fitted per backend, to plan past this machine.

For a backend that runs ``n`` numbers on ``p`` workers in ``c`` chunks, ``q = min(p,
CPUs)`` of them at once, the model says the run takes::

    T = start + per_worker·p + round_trip·c + W(n)·(1/q + σ·(q − 1)/q + κ·(q − 1))

* ``W(n)``: the serial time of the same work, measured beside it (the group's serial run);
* ``start``, ``per_worker``: the start-up, a fixed part and a part per worker (seconds);
* ``round_trip``: one chunk's round trip: hand it out, call the kernel, send it back;
* ``σ`` (serial fraction): the part of the work that does not spread over workers
  (Amdahl's law; work that holds the GIL has σ ≈ 1 on threads);
* ``κ`` (contention): a cost that grows with each pair of workers (memory bandwidth,
  shared caches), Gunther's universal scalability law, whose time for ``q`` workers is
  the bracket above (speedup ``q / (1 + σ(q − 1) + κq(q − 1))``).

σ and κ are fitted per *workload* (variant and method: a pure-Python kernel does not
spread as a compiled one does); the other three are the backend's own. The model is
linear in its parameters, so it is fitted by weighted least squares with NumPy (weights
1/T: every point counts by its relative error). A parameter that the run cannot tell
apart from the others is left out and taken as 0, and the report says so: κ needs three
core counts (on 2 CPUs any contention is counted in σ), ``start`` needs two worker
counts. A parameter fitted below 0 (no meaning) is taken as 0 and the rest refitted.
Static blocks of ``trial`` are left out: their load imbalance is not in the model.

From the fit come, per backend and workload, the speedup at this machine's CPU count and
at :data:`PLAN_WORKERS` workers with a core each (on the largest range measured, chunked
as the package's default plan would), and, for the sieve (whose cost per number is about
flat), the range size from which the backend beats serial. A workload measured on one
core only has no serial fraction, so nothing is predicted for it.

How well it predicts is measured on points it was not fitted on: each measured point is
predicted by a fit that left it out (leave-one-out), and the relative errors of those
predictions are what the report quotes. Predicting for more workers than this machine
has CPUs assumes that σ and κ stay as measured here, which a bigger machine (more memory
channels, or fewer per core) need not share.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from perfectly.planning import plan, workers_to_start
from perfectly_bench.records.records import BASELINE_BACKENDS, Record

FORMULA = "T = start + per_worker·p + round_trip·chunks + W·(1/q + σ·(q−1)/q + κ·(q−1))"
CAVEAT = (
    "predictions for more workers than this machine has CPUs assume that the serial "
    "fraction and contention measured here stay the same on a bigger machine"
)
#: The fewest measured points a backend's fit accepts.
MIN_POINTS = 3
#: Worker counts the model predicts for (with one core each), besides this machine's.
PLAN_WORKERS = (4, 8, 16, 64)
#: Columns whose smallest singular value is below this share of the largest (after
#: scaling each to unit length) cannot be told apart: the later one is left out.
RANK_TOLERANCE = 1e-3
#: The range sizes searched for a crossover: 10 per decade from 100 to 10^13.
CROSSOVER_GRID = tuple(sorted({round(10 ** (k / 10)) for k in range(20, 131)}))


@dataclasses.dataclass(frozen=True)
class Point:
    """One measured scenario as the model sees it."""

    id: str
    variant: str
    method: str
    count: int  # numbers in the range
    workers: int  # workers the search started: no more than its chunks
    cores: int  # workers running at once: min(workers, CPUs)
    chunks: int
    work: float  # W: the serial run's median, seconds
    seconds: float  # the measured median, seconds

    @property
    def workload(self) -> str:
        return f"{self.variant}/{self.method}"


def _serial_by_group(rows: Sequence[Record]) -> dict[str, Record]:
    """Each group's serial run of the whole range: the default plan, else the fewest chunks."""
    serial: dict[str, list[Record]] = defaultdict(list)
    for r in rows:
        if r.scenario.backend == "serial":
            serial[r.group].append(r)
    return {
        group: max(rs, key=lambda r: r.scenario.chunk_size or math.inf)
        for group, rs in serial.items()
    }


def points(rows: Sequence[Record], cpus: int) -> dict[str, list[Point]]:
    """The points the model can use, per contender (``processes:fork``, ``threads``; in a
    run across interpreters per interpreter too: ``3.13t threads``)."""
    serial = _serial_by_group(rows)
    out: dict[str, list[Point]] = defaultdict(list)
    for r in rows:
        s = r.scenario
        ref = serial.get(r.group)
        if s.backend == "serial" or s.backend in BASELINE_BACKENDS or ref is None:
            continue
        if s.schedule == "static" and s.method == "trial":
            continue
        chunks = r.median_run().chunks
        started = workers_to_start(s.workers, s.schedule, chunks)
        shape = (s.count, started, min(started, cpus), chunks)
        key = f"{s.python} {s.key}" if s.python else s.key  # one fit per interpreter
        out[key].append(Point(r.id, s.variant, s.method, *shape, ref.median, r.median))
    return dict(out)


def _features(point: Point, names: Sequence[str]) -> list[float]:
    """The row of the design matrix for ``point`` (columns named as in :class:`Fit`)."""
    q, w = point.cores, point.work
    values = {
        "start": 1.0,
        "per_worker": float(point.workers),
        "round_trip": float(point.chunks),
        f"serial_fraction:{point.workload}": w * (q - 1) / q,
        f"contention:{point.workload}": w * (q - 1),
    }
    return [values.get(name, 0.0) for name in names]


def _names(workloads: Sequence[str]) -> list[str]:
    """The columns in the order they are kept when they cannot all be told apart."""
    return [
        "per_worker",
        "round_trip",
        *(f"serial_fraction:{w}" for w in workloads),
        "start",
        *(f"contention:{w}" for w in workloads),
    ]


def _separable(matrix: np.ndarray) -> list[int]:
    """Columns, in order, each kept if it can be told apart from those kept before it
    (never more columns than rows: each parameter needs a point of its own)."""
    norms = np.linalg.norm(matrix, axis=0)
    kept: list[int] = []
    for j in range(matrix.shape[1]):
        if norms[j] == 0 or len(kept) == matrix.shape[0]:
            continue
        trial = matrix[:, [*kept, j]] / norms[[*kept, j]]
        s = np.linalg.svd(trial, compute_uv=False)
        if s[-1] > RANK_TOLERANCE * s[0]:
            kept.append(j)
    return kept


@dataclasses.dataclass(frozen=True)
class Fit:
    """The fitted parameters of one backend (0 for those not measured)."""

    values: dict[str, float]
    not_measured: tuple[str, ...]  # could not be told apart from the others
    clamped: tuple[str, ...]  # fitted below 0: taken as 0
    points: int

    def measured(self, name: str) -> bool:
        return name in self.values and name not in self.not_measured

    def seconds(self, workload: str, work: float, workers: int, cores: int, chunks: int) -> float:
        """The model's time for ``work`` seconds of serial work on ``workers`` workers."""
        v, q = self.values, cores
        return (
            v["start"]
            + v["per_worker"] * workers
            + v["round_trip"] * chunks
            + work / q
            + work * v.get(f"serial_fraction:{workload}", 0.0) * (q - 1) / q
            + work * v.get(f"contention:{workload}", 0.0) * (q - 1)
        )

    def predict(self, point: Point) -> float:
        return self.seconds(point.workload, point.work, point.workers, point.cores, point.chunks)


class NotEnoughData(ValueError):
    """The points cannot be fitted: too few of them, or a time that is not positive."""


def fit(data: Sequence[Point]) -> Fit:
    """Weighted least squares of the model on ``data`` (see the module docstring), every
    parameter ≥ 0: a parameter whose best value is negative is clamped to 0 and the rest
    fitted again, until none is negative (or none is left)."""
    if len(data) < MIN_POINTS:
        raise NotEnoughData(
            f"the model needs at least {MIN_POINTS} measured points of a backend to fit, "
            f"got {len(data)}"
        )
    names = _names(sorted({p.workload for p in data}))
    seconds = np.array([p.seconds for p in data])
    if not np.all(seconds > 0):
        raise NotEnoughData("the model needs positive measured times")
    matrix = np.array([_features(p, names) for p in data]) / seconds[:, None]
    target = np.array([p.seconds - p.work / p.cores for p in data]) / seconds
    kept = _separable(matrix)
    not_measured = [names[j] for j in range(len(names)) if j not in kept]
    clamped: list[str] = []
    values = dict.fromkeys(names, 0.0)
    while kept:
        theta = np.linalg.lstsq(matrix[:, kept], target, rcond=None)[0]
        if theta.min() >= 0:
            values.update({names[j]: float(t) for j, t in zip(kept, theta, strict=True)})
            break
        worst = kept[int(theta.argmin())]
        clamped.append(names[worst])
        kept.remove(worst)  # when it was the last one, every parameter stays 0
    return Fit(values, tuple(not_measured), tuple(clamped), len(data))


def _uses(point: Point) -> list[str]:
    """The parameters that ``point``'s time depends on."""
    used = ["start", "per_worker", "round_trip"]
    if point.cores > 1:
        used += [f"serial_fraction:{point.workload}", f"contention:{point.workload}"]
    return used


def held_out(data: Sequence[Point], full: Fit) -> list[dict[str, Any]]:
    """Each point predicted by a fit without it, where that fit still measures every
    parameter the point depends on that the full fit measures (else it is skipped)."""
    out = []
    for i, point in enumerate(data):
        try:
            partial = fit([*data[:i], *data[i + 1 :]])
        except NotEnoughData:
            continue
        if any(full.measured(n) and not partial.measured(n) for n in _uses(point)):
            continue
        predicted = partial.predict(point)
        error = abs(predicted - point.seconds) / point.seconds
        out.append(
            {"id": point.id, "measured": point.seconds, "predicted": predicted, "error": error}
        )
    return out


def _spread_workloads(f: Fit, data: Sequence[Point], method: str | None = None) -> list[str]:
    """The workloads (of ``method``, if given) whose serial fraction was measured."""
    names = {p.workload for p in data if method in (None, p.method)}
    return sorted(w for w in names if f.measured(f"serial_fraction:{w}"))


def chunks(count: int, workers: int, method: str) -> int:
    """How many chunks the package's default dynamic plan cuts ``count`` numbers into."""
    size = plan(1, count + 1, schedule="dynamic", workers=workers, chunk_size=None, method=method)
    return -(-count // size.chunk_size)


def _predictions(f: Fit, data: Sequence[Point], cpus: int) -> list[dict[str, Any]]:
    """Speedup per workload at this machine's CPU count and at :data:`PLAN_WORKERS`
    (one core each), on the workload's largest measured range, beside the measurements;
    none for a workload whose serial fraction the run could not measure (one core only)."""
    out = []
    for workload in _spread_workloads(f, data):
        mine = [p for p in data if p.workload == workload]
        widest = max(mine, key=lambda p: (p.count, p.work))
        for workers in sorted({cpus, *PLAN_WORKERS}):
            n = chunks(widest.count, workers, widest.method)
            model = widest.work / f.seconds(workload, widest.work, workers, workers, n)
            seen = [
                widest.work / p.seconds
                for p in mine
                if (p.count, p.workers) == (widest.count, workers) and workers <= cpus
            ]
            out.append(
                {
                    "workload": workload,
                    "count": widest.count,
                    "workers": workers,
                    "speedup": model,
                    "measured": statistics.median(seen) if seen else None,
                }
            )
    return out


def crossover(f: Fit, workload: str, per_number: float, workers: int, method: str) -> int | None:
    """The smallest range size on :data:`CROSSOVER_GRID` from which the model has
    ``workers`` workers (one core each) beat serial at every larger size; None if never."""
    wins = []
    for n in CROSSOVER_GRID:
        work = per_number * n
        wins.append(f.seconds(workload, work, workers, workers, chunks(n, workers, method)) < work)
    lost = [i for i, won in enumerate(wins) if not won]
    first = lost[-1] + 1 if lost else 0
    return CROSSOVER_GRID[first] if first < len(CROSSOVER_GRID) else None


def _crossovers(f: Fit, data: Sequence[Point], cpus: int) -> list[dict[str, Any]]:
    """Where the backend starts to beat serial, per sieve workload and worker count, with
    the serial cost per number of the workload's largest measured range (the sieve costs
    about the same per number everywhere; ``trial``'s cost grows like √n)."""
    out = []
    for workload in _spread_workloads(f, data, method="sieve"):
        widest = max((p for p in data if p.workload == workload), key=lambda p: p.count)
        per_number = widest.work / widest.count
        for workers in sorted({cpus, *PLAN_WORKERS}):
            size = crossover(f, workload, per_number, workers, widest.method)
            out.append({"workload": workload, "workers": workers, "size": size})
    return out


def describe_backend(key: str, data: Sequence[Point], cpus: int) -> dict[str, Any]:
    """The fit of one backend, its held-out check, predictions and crossovers (JSON)."""
    f = fit(data)
    checked = held_out(data, f)
    errors = [c["error"] for c in checked]
    return {
        "backend": key,
        "points": len(data),
        "parameters": f.values,
        "not_measured": list(f.not_measured),
        "clamped": list(f.clamped),
        "held_out": checked,
        "held_out_median_error": statistics.median(errors) if errors else None,
        "held_out_max_error": max(errors) if errors else None,
        "predictions": _predictions(f, data, cpus),
        "crossover": _crossovers(f, data, cpus),
    }


def derive(rows: Sequence[Record], cpus: int) -> dict[str, Any]:
    """The model of every backend with enough points, for the results' ``derived``."""
    fitted, skipped = [], {}
    for key, data in sorted(points(rows, cpus).items()):
        try:
            fitted.append(describe_backend(key, data, cpus))
        except NotEnoughData as exc:
            skipped[key] = str(exc)
    return {
        "formula": FORMULA,
        "cpus": cpus,
        "caveat": CAVEAT,
        "backends": fitted,
        "skipped": skipped,
    }
