"""The terminal report of a results document: a table per group, then the verdict.

Everything here reads a :class:`~.results.Results` (as measured, or loaded back), so a
report can be made again from a file without measuring anything.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from perfectly_bench.common.formatting import (
    counted,
    fmt_count,
    fmt_interval,
    fmt_ratio,
    fmt_time,
)
from perfectly_bench.common.stats import UNSTABLE
from perfectly_bench.records.records import Record
from perfectly_bench.records.results import Results
from perfectly_bench.report import across, model_report
from perfectly_bench.scenarios import sizing

SECTION_TITLES = {
    "scaling": "Scaling: speedup over serial (same kernel, method and range)",
    "start-methods": "Start methods: process backends at one worker per CPU",
    "overhead": "Overhead: start and stop workers, one number of work each",
    "messages": "Messages: the same range in few or many chunks",
    "crossover": "Crossover: from which range size do parallel workers pay?",
    "baselines": "Baselines: the compiled kernel beside NumPy and numba",
    "kernels": "Kernels: one thread each, the same range side by side",
}


def machine_line(results: Results) -> str:
    """Where and when the numbers were measured, in two lines."""
    m = results.machine
    gil = "GIL enabled" if m["gil_enabled"] else "GIL disabled"
    python = f"{m['python_implementation']} {m['python_version']} ({gil})"
    if results.pythons:  # a run across interpreters
        python = ", ".join(_python_name(p) for p in results.pythons)
    loads = [m.get("load_average_start"), m.get("load_average_end")]
    load = (
        f"load average {loads[0]} at the start, {loads[1]} at the end"
        if None not in loads
        else "load average unknown"
    )
    return (
        f"perfectly {m['package_version']} ({m['build']['core']} core), "
        f"{python}, {m['os']}\n"
        f"{m['cpu_model']}, {m['cpus_available']} CPUs; {load}; started {results.created}"
        + "".join(f"\n{line}" for line in noise_lines(results))
    )


def noise_lines(results: Results) -> list[str]:
    """What the machine was doing while the runs ran, and how hard the run tried."""
    noise, policy = results.derived.get("noise"), results.parameters.get("policy")
    if not noise or not policy:
        return []  # a file from before version 3
    seen = []
    if noise["others"] is not None:
        seen.append(f"other work took {noise['others']:.0%} of the CPUs (median run)")
    if noise["steal"] is not None:
        seen.append(f"steal {noise['steal']:.0%}")
    seen = seen or ["other work and steal unknown here (no /proc/stat)"]
    lines = ["while it ran: " + ", ".join(seen) + ";"]
    if noise["cpu_ratio"] is not None:
        lines.append(
            f"  a run used {noise['cpu_ratio']:.2f} CPU-seconds per wall second (median; "
            "process and worker processes);"
        )
    lines += [
        f"  {counted(noise['reruns'], 'disturbed run')} re-run, {noise['disturbed']} of "
        f"{counted(noise['runs'], 'kept run')} still disturbed; "
        f"{counted(len(noise['capped']), 'scenario')} at the round cap (~)",
        f"rounds ({policy['name']}): {policy['repeat']} to {policy['max_rounds']} per scenario, "
        f"until the median's 95 % interval is within ±{policy['bound']:.0%};",
        "  speedup [low–high]: its 95 % interval (bootstrap of the paired rounds)",
    ]
    return lines


def _python_name(p: dict[str, Any]) -> str:
    """``3.13t = CPython 3.13.5, free-threaded build, GIL disabled``."""
    build = ", free-threaded build" if p.get("free_threaded_build") else ""
    gil = "GIL enabled" if p["gil_enabled"] else "GIL disabled"
    return f"{p['label']} = {p['python_implementation']} {p['python_version']}{build}, {gil}"


def _startup(results: Results) -> tuple[str, float] | None:
    """What starting one process per CPU with the default start method cost, if measured."""
    method = results.machine.get("default_start_method")
    for o in results.derived.get("overheads", []):
        if (o["backend"], o["workers"], o["start_method"]) == ("processes", results.cpus, method):
            return f"{results.cpus} processes with {method}", max(o["cost"], 0.0)
    return None


def _groups(results: Results) -> dict[tuple[str, str], list[Record]]:
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in results.records:
        groups[(r.scenario.section, r.group)].append(r)
    return groups


@dataclasses.dataclass(frozen=True)
class Grid:
    """One table as cells, for the terminal and report.html alike: each column's header
    and width (negative: aligned left), each row's cells and marks (``! ±12%``: a spread
    over :data:`UNSTABLE`; ``~``: at the round cap), and a closing note."""

    head: tuple[str, ...]
    widths: tuple[int, ...]
    rows: list[tuple[list[str], list[str]]]
    note: str = ""

    def lines(self) -> list[str]:
        out = [_line(self.head, self.widths)]
        for cells, marks in self.rows:
            out.append(_line(cells, self.widths) + "".join(f"  {m}" for m in marks))
        return out + ([f"  {self.note}"] if self.note else [])


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  " + " ".join(
        f"{c:{'<' if w < 0 else '>'}{abs(w)}}" for c, w in zip(cells, widths, strict=True)
    )


@dataclasses.dataclass(frozen=True)
class Part:
    """A piece of the report's tables: ``kind`` is ``python`` (the interpreter the groups
    after it ran on), ``section``, ``label`` (an interpreter within a section), ``group``
    (a group's title), ``note`` or ``table`` (its ``grid``)."""

    kind: str
    text: str = ""
    grid: Grid | None = None


def parts(results: Results) -> list[Part]:
    """The tables, one per group in the order they were measured, with the headings and
    notes between them: what :func:`table` prints, and report.html shows."""
    out: list[Part] = []
    section, python = None, None
    crossover: dict[str | None, list[Record]] = defaultdict(list)
    for (sec, title), rows in _groups(results).items():
        if sec == "crossover":
            crossover[rows[0].scenario.python] += rows
            continue
        if rows[0].scenario.python != python:
            python, section = rows[0].scenario.python, None
            out.append(Part("python", f"[{python}]"))
        if sec != section:
            out.append(Part("section", SECTION_TITLES.get(sec, sec)))
            if sec == "kernels" and results.machine["libraries"].get("numba") is None:
                out.append(Part("note", "(numba is not installed here: no numba contenders)"))
            section = sec
        out.append(Part("group", title))
        if sec == "kernels":
            out.append(Part("table", grid=_kernel_grid(rows)))
            continue
        out.append(Part("table", grid=_group_grid(rows, costs=sec in ("overhead", "messages"))))
        if sec == "overhead" and any(r.scenario.backend.endswith("-pool") for r in rows):
            out.append(
                Part(
                    "note",
                    "  (a pool starts its workers on the first task: its start-up is in the "
                    "median, not in 'start')",
                )
            )
    for python, rows in crossover.items():
        out.append(Part("section", SECTION_TITLES["crossover"]))
        out += [Part("label", f"[{python}]")] if python else []
        out.append(Part("table", grid=_crossover_grid(rows)))
    return out


def _text(part: Part) -> list[str]:
    if part.grid is not None:
        return part.grid.lines()
    if part.kind == "section":
        return ["", part.text, "=" * len(part.text)]
    return ["", part.text] if part.kind in ("python", "group") else [part.text]


def footnote(results: Results) -> str:
    """How the times were taken, and what the marks in the tables mean."""
    p = results.parameters
    return (
        f"times: median of at least {counted(p['repeat'], 'run')} after "
        f"{counted(p['warmup'], 'warm-up')}; '!' marks "
        f"a spread (std dev / mean) over {UNSTABLE:.0%}; '~' a scenario at the round cap"
    )


def ranges(results: Results) -> list[str]:
    """The range sizes of the run, one line each."""
    sizes = results.parameters.get("sizes", {})
    return sizing.describe(sizes, _startup(results), results.cpus)


def table(results: Results) -> str:
    """The results as text tables, one per group, in the order they were measured."""
    lines: list[str] = [machine_line(results), "ranges (a size N means [1, N]):"]
    lines += [f"  {line}" for line in ranges(results)]
    for part in parts(results):
        lines += _text(part)
    lines += across.table_lines(results)
    lines += ["", footnote(results)]
    return "\n".join(lines)


GROUP_HEAD = ("contender", "median", "mean ± std dev", "min", "IQR")
GROUP_WIDTHS = (-32, 9, 21, 9, 9)


def marks(r: Record, capped: bool = True) -> list[str]:
    """A row's marks: ``! ±12%`` for a spread over :data:`UNSTABLE`, ``~`` at the round
    cap (where ``capped``)."""
    out = [f"! ±{r.stats.spread:.0%}"] if r.stats.unstable else []
    return out + (["~"] if capped and r.measurement.capped else [])


def _group_grid(rows: list[Record], costs: bool) -> Grid:
    head: tuple[str, ...]
    widths: tuple[int, ...]
    if costs:
        head = (*GROUP_HEAD, "start", "stop")
        widths = (*GROUP_WIDTHS, 9, 9)
    else:
        head = (*GROUP_HEAD, "speedup [95 % interval]", "effic.", "imbal.")
        widths = (*GROUP_WIDTHS, 24, 6, 6)
    body = []
    for r in rows:
        st = r.stats
        mean = f"{fmt_time(st.mean)} ± {fmt_time(st.stdev)}"
        cells = [r.label, fmt_time(st.median), mean, fmt_time(st.min), fmt_time(st.iqr)]
        if costs:
            cells += [fmt_time(r.startup), fmt_time(r.shutdown)]
        else:
            speedup = "" if r.speedup is None else fmt_ratio(r.speedup)
            speedup += f" {fmt_interval(r.speedup_interval)}" if r.speedup_interval else ""
            eff = "" if r.efficiency is None else f"{r.efficiency:.2f}"
            imbal = "" if r.imbalance is None else f"{r.imbalance:.2f}"
            cells += [speedup, eff, imbal]
        body.append((cells, marks(r)))
    return Grid(head, widths, body)


def _kernel_grid(rows: list[Record]) -> Grid:
    """ns per number, and time against the compiled kernel's run beside it."""
    body = []
    for r in rows:
        ns = "" if r.ns_per_number is None else f"{r.ns_per_number:.2f}"
        ratio = "" if r.speedup is None else fmt_ratio(1 / r.speedup)
        body.append(([r.kernels_label, fmt_time(r.median), ns, ratio], marks(r, capped=False)))
    head = ("contender", "median", "ns/number", "time ÷ compiled")
    return Grid(head, (-20, 9, 10, 16), body)


def _crossover_grid(rows: list[Record]) -> Grid:
    by_size: dict[int, dict[str, Record]] = defaultdict(dict)
    columns: list[str] = []
    for r in rows:
        by_size[r.scenario.count][r.label] = r
        if r.scenario.backend != "serial" and r.label not in columns:
            columns.append(r.label)
    width = max([len(c) for c in columns] + [10])
    body: list[tuple[list[str], list[str]]] = []
    for size in sorted(by_size):
        row = by_size[size]
        serial = next((r for r in row.values() if r.scenario.backend == "serial"), None)
        cells = [fmt_count(size), fmt_time(serial.median) if serial else ""]
        for c in columns:
            cell = row.get(c)
            cells.append(fmt_ratio(cell.speedup) if cell and cell.speedup is not None else "")
        body.append((cells, []))
    return Grid(
        ("numbers", "serial", *columns),
        (10, 10, *[width] * len(columns)),
        body,
        note="(cells: speedup over serial at that size; > 1.00× means the workers paid)",
    )


def render(results: Results) -> str:
    """The table, then the verdict stored in the document."""
    lines = [table(results), *model_report.describe(results.derived.get("model"))]
    lines += ["", "Verdict", "-------"]
    lines += [f"* {line}" for line in results.verdict]
    return "\n".join(lines)
