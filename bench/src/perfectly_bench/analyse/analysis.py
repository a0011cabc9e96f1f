"""Derived figures, computed from the raw timings and nothing else.

* speedup = median of the group's serial run / median of this run (same kernel,
  method and range, measured side by side); efficiency = speedup / workers; its 95 %
  confidence interval is a bootstrap of the rounds both ran (:func:`speedup_interval`);
* load imbalance = max / mean of the workers' busy time (median over the runs);
* start-and-stop cost of N workers = median of a run with one number per worker −
  median of the serial run of one number;
* cost of one chunk's round trip = (median with many chunks − median with few) /
  (difference in chunk count), and the same for serial subtracted (that part is the
  kernel's own cost per call, not messaging);
* crossover = the smallest range from which a parallel contender beat serial at that
  size and every larger one measured, and where between the measured sizes speedup 1
  lies (see :func:`crossovers`);
* comparisons = the two-sample tests the verdict quotes (threads against processes,
  dynamic against static chunks), computed once here and stored with the results;
* noise = what the machine did to the runs: re-runs, runs still disturbed, scenarios
  whose rounds hit the cap, other work and steal (see :func:`noise`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from perfectly_bench.analyse import model
from perfectly_bench.common.stats import LEVEL, ratio_interval, summarize, two_sample
from perfectly_bench.records.records import Measurement, Record, contender_key

#: Which variants the verdict speaks of, in the order it does.
VERDICT_VARIANTS = ("compiled-nogil", "compiled-gil", "python")


def records(measurements: Iterable[Measurement]) -> list[Record]:
    """A record for every measurement that has at least one value, with its speedup
    over the serial run of its group (none in the overhead and messages sections:
    there is no work to speed up there, only costs)."""
    done = [m for m in measurements if m.runs]
    serial = {
        (m.group, m.scenario.section): m
        for m in done
        if m.scenario.backend == "serial" and m.scenario.chunk_size is None
    }
    schedules: dict[str, set[str]] = defaultdict(set)
    for m in done:
        if m.scenario.backend != "serial":
            schedules[m.group].add(m.scenario.schedule)
    out = []
    for m in done:
        s = m.scenario
        label = s.contender
        if len(schedules[m.group]) > 1 and s.backend != "serial":
            label += f", {s.schedule}"  # the group compares schedules
        ref = serial.get((m.group, s.section))
        if ref is None or s.section in ("overhead", "messages"):
            out.append(Record(m, label))
            continue
        if ref is m:
            out.append(Record(m, label, ref.scenario.id, 1.0))
            continue
        # The speedup and its interval from the same rounds: the serial reference may
        # have run more rounds (for a noisier contender), and a median over rounds this
        # contender did not run could fall outside the interval of the paired ones.
        serial_seconds, seconds = _paired(ref, m)
        speedup = summarize(serial_seconds).median / summarize(seconds).median
        interval = speedup_interval(serial_seconds, seconds)
        out.append(Record(m, label, ref.scenario.id, speedup, interval))
    return out


def speedup_interval(
    baseline_seconds: Sequence[float], seconds: Sequence[float], level: float = LEVEL
) -> tuple[float, float]:
    """A ``level`` confidence interval of median(baseline_seconds) / median(seconds).

    A percentile bootstrap with a fixed seed (the same timings give the same interval):
    of paired rounds when the two have as many values (``baseline_seconds[i]`` ran in
    the same round as ``seconds[i]``), else of each resampled on its own.
    """
    return ratio_interval(baseline_seconds, seconds, level)


def _paired(ref: Measurement, m: Measurement) -> tuple[list[float], list[float]]:
    """The serial and contender times of the rounds both ran, in round order (files
    without round numbers: every value of each, which ran in lock-step)."""
    if any(r.round is None for r in (*ref.runs, *m.runs)):
        return ref.values, m.values
    serial = {r.round: r.wall for r in ref.runs}
    pairs = [(serial[r.round], r.wall) for r in m.runs if r.round in serial]
    if not pairs:
        return ref.values, m.values
    return [a for a, _ in pairs], [b for _, b in pairs]


def pick(rows: Iterable[Record], **want: Any) -> Record | None:
    """The first record whose scenario has every attribute given."""
    for r in rows:
        if all(getattr(r.scenario, k) == v for k, v in want.items()):
            return r
    return None


def main_rows(rows: list[Record]) -> list[Record]:
    """The scaling records the verdict speaks of first: the sieve (else trial), with
    dynamic chunks where there are any."""
    scaling = [r for r in rows if r.scenario.section == "scaling"]
    method = "sieve" if any(r.scenario.method == "sieve" for r in scaling) else "trial"
    mine = [r for r in scaling if r.scenario.method == method]
    return [r for r in mine if r.scenario.schedule == "dynamic"] or mine


def verdict_pairs(rows: list[Record], cpus: int) -> list[tuple[Record, Record]]:
    """The pairs the verdict compares: threads against processes per variant, and
    dynamic against static chunks for ``trial``, at one worker per CPU."""
    pairs = []
    main = main_rows(rows)
    for variant in VERDICT_VARIANTS:
        threads = pick(main, variant=variant, backend="threads", workers=cpus)
        procs = pick(main, variant=variant, backend="processes", workers=cpus)
        if threads and procs:
            pairs.append((threads, procs))
    trial = [r for r in rows if r.scenario.section == "scaling" and r.scenario.method == "trial"]
    for backend in ("threads", "processes"):
        static = pick(trial, schedule="static", backend=backend, workers=cpus)
        if static is None:
            continue
        variant = static.scenario.variant
        dynamic = pick(trial, schedule="dynamic", backend=backend, workers=cpus, variant=variant)
        if dynamic is not None:
            pairs.append((dynamic, static))
    return pairs


def comparisons(rows: list[Record], cpus: int) -> list[dict[str, Any]]:
    """The two-sample test of each pair the verdict compares (see :func:`verdict_pairs`)."""
    return [
        {"a": a.id, "b": b.id, **two_sample(a.values, b.values).to_json()}
        for a, b in verdict_pairs(rows, cpus)
    ]


def overheads(rows: list[Record]) -> list[dict[str, Any]]:
    """Start-and-stop cost of workers with one number each, per backend and worker count."""
    section = [r for r in rows if r.scenario.section == "overhead"]
    base = next((r.median for r in section if r.scenario.backend == "serial"), 0.0)
    return [
        {
            "backend": r.scenario.backend,
            "start_method": r.scenario.start_method,
            "workers": r.scenario.workers,
            "cost": r.median - base,
            "wall": r.median,
            "startup": r.startup,
            "shutdown": r.shutdown,
            "id": r.id,
        }
        for r in section
        if r.scenario.backend != "serial"
    ]


def message_costs(rows: list[Record]) -> list[dict[str, Any]]:
    """Cost of one more chunk per backend, with the kernel's own per-call cost removed."""
    pairs: dict[str, list[Record]] = defaultdict(list)
    for r in rows:
        if r.scenario.section == "messages":
            pairs[r.scenario.key].append(r)
    per_chunk: dict[str, tuple[float, Record]] = {}
    for key, rs in pairs.items():
        if len(rs) != 2:
            continue
        few, many = sorted(rs, key=lambda r: r.runs[0].chunks)
        extra = many.runs[0].chunks - few.runs[0].chunks
        if extra > 0:
            per_chunk[key] = ((many.median - few.median) / extra, many)
    serial = per_chunk.get("serial", (0.0, None))[0]
    return [
        {
            "backend": r.scenario.backend,
            "start_method": r.scenario.start_method,
            "workers": r.scenario.workers,
            "per_chunk": cost,
            "message": cost - serial if key != "serial" else 0.0,
            "chunks": r.runs[0].chunks,
        }
        for key, (cost, r) in per_chunk.items()
    ]


Point = tuple[int, Record, Record]  # (size, contender, serial)


def _crossing(first: Point, second: Point) -> float | None:
    """Where straight lines of time against size through two sizes cross: serial's line
    (cost per number, no start-up) and the contender's (start-up, smaller cost per
    number). None if the contender's cost per number is not the smaller one."""
    (n1, p1, s1), (n2, p2, s2) = first, second
    if n1 == n2:
        return None
    serial_slope = (s2.median - s1.median) / (n2 - n1)
    own_slope = (p2.median - p1.median) / (n2 - n1)
    if serial_slope <= own_slope:
        return None
    serial_start = s1.median - serial_slope * n1
    own_start = p1.median - own_slope * n1
    return (own_start - serial_start) / (serial_slope - own_slope)


def crossovers(rows: list[Record]) -> list[dict[str, Any]]:
    """Per parallel contender: from which range size it beats serial.

    ``measured`` is the smallest size measured from which the contender beat serial at
    every larger size measured; ``estimate`` is where time-against-size lines through
    that size and the one below it cross (see :func:`_crossing`), or, if the contender
    never won, through the two largest sizes, when they are large enough for the work to
    dominate (serial time grew at least 0.7× as fast as the range) and the answer lies
    within 100× of the largest size.
    """
    by_size: dict[int, dict[str, Record]] = defaultdict(dict)
    for r in rows:
        if r.scenario.section == "crossover":
            by_size[r.scenario.count][r.scenario.key] = r
    sizes = sorted(by_size)
    keys = sorted({k for row in by_size.values() for k in row if k != "serial"})
    out = []
    for key in keys:
        points = [
            (n, by_size[n][key], by_size[n]["serial"])
            for n in sizes
            if key in by_size[n] and "serial" in by_size[n]
        ]
        if not points:
            continue
        speedups = [s.median / r.median for _, r, s in points]
        wins = [x > 1 for x in speedups]
        measured = next((points[i][0] for i in range(len(points)) if all(wins[i:])), None)
        estimate = _estimate(points, measured)
        first = points[0][1].scenario
        out.append(
            {
                "backend": first.backend,
                "start_method": first.start_method,
                "workers": first.workers,
                "variant": first.variant,
                "sizes": [n for n, _, _ in points],
                "speedups": speedups,
                "wins": wins,
                "measured": measured,
                "estimate": None if estimate is None else int(float(f"{estimate:.2g}")),
            }
        )
    return out


def _estimate(points: list[Point], measured: int | None) -> float | None:
    """Where speedup 1 lies: between the first winning size and the one below it, or
    (never won) by extrapolation from the two largest sizes (see :func:`crossovers`)."""
    if measured is not None and measured != points[0][0]:
        i = [n for n, _, _ in points].index(measured)
        return _crossing(points[i - 1], points[i])
    if measured is None and len(points) >= 2:
        (n1, _, s1), (n2, _, s2) = points[-2], points[-1]
        if s2.median / s1.median >= 0.7 * n2 / n1:  # serial time grows with the work
            guess = _crossing(points[-2], points[-1])
            if guess is not None and n2 < guess <= 100 * n2:
                return guess
    return None


def _key(c: dict[str, Any]) -> str:
    return contender_key(c["backend"], c["start_method"])


def settled(rows: list[Record]) -> frozenset[str]:
    """Crossover contenders that beat serial at their last two sizes: done with."""
    return frozenset(
        _key(c) for c in crossovers(rows) if len(c["wins"]) >= 2 and all(c["wins"][-2:])
    )


def crossover_skip(rows: list[Record], size: int, final: bool) -> frozenset[str]:
    """Contenders not worth measuring at ``size``: settled ones, and hopeless ones.

    Speedup can at most grow in proportion to the range (serial time grows at most in
    proportion, parallel time never shrinks with more work), so a contender whose
    speedup, scaled up to ``size``, would still be under 0.5 is skipped there, except on
    the ``final`` sizes, which the extrapolation needs.
    """
    skip = set(settled(rows))
    if not final:
        for c in crossovers(rows):
            if c["speedups"][-1] * size / c["sizes"][-1] < 0.5:
                skip.add(_key(c))
    return frozenset(skip)


def derive(rows: list[Record], cpus: int) -> dict[str, Any]:
    """The derived figures of a whole run."""
    return {
        "overheads": overheads(rows),
        "messages": message_costs(rows),
        "crossover": crossovers(rows),
        "comparisons": comparisons(rows, cpus),
        "unstable": sum(r.stats.unstable for r in rows),
        "model": model.derive(rows, cpus),
        "noise": noise(rows),
    }


def disturbed_share(r: Record) -> float:
    """The share of a record's kept runs that were disturbed (re-runs ran out)."""
    return sum(bool(run.disturbed) for run in r.runs) / len(r.runs)


def noise(rows: list[Record]) -> dict[str, Any]:
    """What the machine did to the runs: ``reruns`` (disturbed runs run again),
    ``disturbed`` (kept runs still disturbed, and their scenarios), ``capped`` (scenarios
    whose rounds stopped at the cap, not at the bound), and the median over the kept runs
    of ``others`` (share of the CPUs taken by other work), ``steal`` and ``cpu_ratio``
    (CPU-seconds of the process and its children per wall second), None where unknown."""
    runs = [run for r in rows for run in r.runs]

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 4) if values else None

    return {
        "reruns": sum(len(r.measurement.rejected) for r in rows),
        "rerun_scenarios": [r.id for r in rows if r.measurement.rejected],
        "disturbed": sum(bool(run.disturbed) for run in runs),
        "disturbed_scenarios": [r.id for r in rows if any(run.disturbed for run in r.runs)],
        "capped": [r.id for r in rows if r.measurement.capped],
        "runs": len(runs),
        "others": median([run.others for run in runs if run.others is not None]),
        "steal": median([run.steal for run in runs if run.steal is not None]),
        "cpu_ratio": median([run.cpu / run.wall for run in runs if run.cpu is not None]),
    }
