"""Derived figures, computed from the raw timings and nothing else.

* speedup = median of the group's serial run / median of this run (same kernel,
  algorithm and range, measured side by side); efficiency = speedup / workers;
* load imbalance = max / mean of the workers' busy time (median over the runs);
* start-and-stop cost of N workers = median of a run with one number per worker −
  median of the serial run of one number;
* cost of one chunk's round trip = (median with many chunks − median with few) /
  (difference in chunk count), and the same for serial subtracted (that part is the
  kernel's own cost per call, not messaging);
* crossover = the smallest range from which a parallel contender beat serial at that
  size and every larger one measured, and where between the measured sizes speedup 1
  lies (see :func:`crossovers`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from perfectly.benchmark.timing import Measurement


def scenario_record(m: Measurement, reference: Measurement | None) -> dict[str, Any]:
    """The JSON record of one measured scenario, derived figures included."""
    s = m.scenario
    record: dict[str, Any] = {**s.to_dict(), "group": m.group, "label": s.contender}
    record["values"] = m.values
    record["warmups"] = list(m.warmups)
    record["runs"] = [run.to_dict() for run in m.runs]
    summary = m.summary()
    record["stats"] = summary.to_dict()
    record["ns_per_number"] = summary.median / s.count * 1e9 if s.count else None
    parallel = s.backend not in ("numpy", "numba")
    record["imbalance"] = statistics.median(r.imbalance for r in m.runs) if parallel else None
    record["startup"] = statistics.median(r.startup for r in m.runs)
    record["shutdown"] = statistics.median(r.shutdown for r in m.runs)
    record["reference"] = None
    record["speedup"] = record["efficiency"] = None
    if reference is not None and reference.runs:
        base = reference.summary().median
        record["reference"] = reference.scenario.id
        record["speedup"] = base / summary.median
        record["efficiency"] = record["speedup"] / s.workers
    return record


def scenario_records(measurements: Iterable[Measurement]) -> list[dict[str, Any]]:
    """Records for every measurement that has at least one value."""
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
    records = []
    for m in done:
        ref = serial.get((m.group, m.scenario.section))
        if m.scenario.section in ("overhead", "messages"):
            ref = None  # no work to speed up: these are costs, not speedups
        record = scenario_record(m, ref)
        if len(schedules[m.group]) > 1 and m.scenario.backend != "serial":
            record["label"] += f", {m.scenario.schedule}"  # the group compares schedules
        records.append(record)
    return records


def _median(record: dict[str, Any]) -> float:
    return float(record["stats"]["median"])


def _contender_key(record: dict[str, Any]) -> str:
    sm = record["start_method"]
    return str(record["backend"]) + (f":{sm}" if sm else "")


def overheads(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start-and-stop cost of workers with one number each, per backend and worker count."""
    section = [r for r in records if r["section"] == "overhead"]
    base = next((_median(r) for r in section if r["backend"] == "serial"), 0.0)
    return [
        {
            "backend": r["backend"],
            "start_method": r["start_method"],
            "workers": r["workers"],
            "cost": _median(r) - base,
            "wall": _median(r),
            "startup": r["startup"],
            "shutdown": r["shutdown"],
            "id": r["id"],
        }
        for r in section
        if r["backend"] != "serial"
    ]


def message_costs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cost of one more chunk per backend, with the kernel's own per-call cost removed."""
    pairs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["section"] == "messages":
            pairs[_contender_key(r)].append(r)
    per_chunk: dict[str, tuple[float, dict[str, Any]]] = {}
    for key, rs in pairs.items():
        if len(rs) != 2:
            continue
        few, many = sorted(rs, key=lambda r: r["runs"][0]["chunks"])
        extra = many["runs"][0]["chunks"] - few["runs"][0]["chunks"]
        if extra > 0:
            per_chunk[key] = ((_median(many) - _median(few)) / extra, many)
    serial = per_chunk.get("serial", (0.0, None))[0]
    return [
        {
            "backend": r["backend"],
            "start_method": r["start_method"],
            "workers": r["workers"],
            "per_chunk": cost,
            "message": cost - serial if key != "serial" else 0.0,
            "chunks": r["runs"][0]["chunks"],
        }
        for key, (cost, r) in per_chunk.items()
    ]


Point = tuple[int, dict[str, Any], dict[str, Any]]  # (size, contender, serial) records


def _crossing(first: Point, second: Point) -> float | None:
    """Where straight lines of time against size through two sizes cross: serial's line
    (cost per number, no start-up) and the contender's (start-up, smaller cost per
    number). None if the contender's cost per number is not the smaller one."""
    (n1, p1, s1), (n2, p2, s2) = first, second
    if n1 == n2:
        return None
    serial_slope = (_median(s2) - _median(s1)) / (n2 - n1)
    own_slope = (_median(p2) - _median(p1)) / (n2 - n1)
    if serial_slope <= own_slope:
        return None
    serial_start = _median(s1) - serial_slope * n1
    own_start = _median(p1) - own_slope * n1
    return (own_start - serial_start) / (serial_slope - own_slope)


def crossovers(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per parallel contender: from which range size it beats serial.

    ``measured`` is the smallest size measured from which the contender beat serial at
    every larger size measured; ``estimate`` is where time-against-size lines through
    that size and the one below it cross (see :func:`_crossing`), or, if the contender
    never won, through the two largest sizes, when they are large enough for the work to
    dominate (serial time grew at least 0.7× as fast as the range) and the answer lies
    within 100× of the largest size.
    """
    by_size: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in records:
        if r["section"] == "crossover":
            by_size[r["hi"] - r["lo"]][_contender_key(r)] = r
    sizes = sorted(by_size)
    keys = sorted({k for row in by_size.values() for k in row if k != "serial"})
    out = []
    for key in keys:
        rows = [
            (n, by_size[n][key], by_size[n]["serial"])
            for n in sizes
            if key in by_size[n] and "serial" in by_size[n]
        ]
        if not rows:
            continue
        speedups = [_median(s) / _median(r) for _, r, s in rows]
        wins = [x > 1 for x in speedups]
        measured = None
        for i in range(len(rows)):
            if all(wins[i:]):
                measured = rows[i][0]
                break
        estimate = None
        if measured is not None and measured != rows[0][0]:
            i = [n for n, _, _ in rows].index(measured)
            estimate = _crossing(rows[i - 1], rows[i])
        elif measured is None and len(rows) >= 2:
            (n1, _, s1), (n2, _, s2) = rows[-2], rows[-1]
            if _median(s2) / _median(s1) >= 0.7 * n2 / n1:  # serial time grows with the work
                guess = _crossing(rows[-2], rows[-1])
                if guess is not None and n2 < guess <= 100 * n2:
                    estimate = guess
        first = rows[0][1]
        out.append(
            {
                "backend": first["backend"],
                "start_method": first["start_method"],
                "workers": first["workers"],
                "kernel": first["kernel"],
                "sizes": [n for n, _, _ in rows],
                "speedups": speedups,
                "wins": wins,
                "measured": measured,
                "estimate": None if estimate is None else int(float(f"{estimate:.2g}")),
            }
        )
    return out


def settled(records: list[dict[str, Any]]) -> frozenset[str]:
    """Crossover contenders that beat serial at their last two sizes: done with."""
    done = set()
    for c in crossovers(records):
        if len(c["wins"]) >= 2 and all(c["wins"][-2:]):
            sm = c["start_method"]
            done.add(c["backend"] + (f":{sm}" if sm else ""))
    return frozenset(done)


def crossover_skip(records: list[dict[str, Any]], size: int, final: bool) -> frozenset[str]:
    """Contenders not worth measuring at ``size``: settled ones, and hopeless ones.

    Speedup can at most grow in proportion to the range (serial time grows at most in
    proportion, parallel time never shrinks with more work), so a contender whose
    speedup, scaled up to ``size``, would still be under 0.5 is skipped there, except on
    the ``final`` sizes, which the extrapolation needs.
    """
    skip = set(settled(records))
    if final:
        return frozenset(skip)
    for c in crossovers(records):
        if c["speedups"][-1] * size / c["sizes"][-1] < 0.5:
            sm = c["start_method"]
            skip.add(c["backend"] + (f":{sm}" if sm else ""))
    return frozenset(skip)


def derive(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The derived figures of a whole run."""
    return {
        "overheads": overheads(records),
        "messages": message_costs(records),
        "crossover": crossovers(records),
        "unstable": sum(bool(r["stats"]["unstable"]) for r in records),
    }
