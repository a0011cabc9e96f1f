"""The terminal report of a results document: a table per group, then the verdict.

Everything here reads a :class:`~.results.Results` (as measured, or loaded back), so a
report can be made again from a file without measuring anything.
"""

from __future__ import annotations

from collections import defaultdict
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


def _title(section: str) -> list[str]:
    title = SECTION_TITLES.get(section, section)
    return ["", title, "=" * len(title)]


def table(results: Results) -> str:
    """The results as text tables, one per group, in the order they were measured."""
    lines: list[str] = [machine_line(results), "ranges (a size N means [1, N]):"]
    sizes = results.parameters.get("sizes", {})
    lines += [f"  {line}" for line in sizing.describe(sizes, _startup(results), results.cpus)]
    section, python = None, None
    crossover: dict[str | None, list[Record]] = defaultdict(list)
    for (sec, title), rows in _groups(results).items():
        if sec == "crossover":
            crossover[rows[0].scenario.python] += rows
            continue
        if rows[0].scenario.python != python:
            python, section = rows[0].scenario.python, None
            lines += ["", f"[{python}]"]
        if sec != section:
            lines += _title(sec)
            if sec == "kernels" and results.machine["libraries"].get("numba") is None:
                lines.append("(numba is not installed here: no numba contenders)")
            section = sec
        lines += ["", title]
        if sec == "kernels":
            lines += _kernel_table(rows)
            continue
        lines += _group_table(rows, costs=sec in ("overhead", "messages"))
        if sec == "overhead" and any(r.scenario.backend.endswith("-pool") for r in rows):
            lines.append(
                "  (a pool starts its workers on the first task: its start-up is in the median,"
                " not in 'start')"
            )
    for python, rows in crossover.items():
        lines += _title("crossover") + ([f"[{python}]"] if python else [])
        lines += _crossover_table(rows)
    lines += across.table_lines(results)
    p = results.parameters
    lines.append("")
    lines.append(
        f"times: median of at least {counted(p['repeat'], 'run')} after "
        f"{counted(p['warmup'], 'warm-up')}; '!' marks "
        f"a spread (std dev / mean) over {UNSTABLE:.0%}; '~' a scenario at the round cap"
    )
    return "\n".join(lines)


HEAD = f"  {'contender':32} {'median':>9} {'mean ± std dev':>21} {'min':>9} {'IQR':>9}"


def _group_table(rows: list[Record], costs: bool) -> list[str]:
    if costs:
        out = [HEAD + f" {'start':>9} {'stop':>9}"]
    else:
        out = [HEAD + f" {'speedup [95 % interval]':>24} {'effic.':>6} {'imbal.':>6}"]
    for r in rows:
        st = r.stats
        mean = f"{fmt_time(st.mean)} ± {fmt_time(st.stdev)}"
        row = f"  {r.label:32} {fmt_time(st.median):>9} {mean:>21} {fmt_time(st.min):>9}"
        row += f" {fmt_time(st.iqr):>9}"
        if costs:
            row += f" {fmt_time(r.startup):>9} {fmt_time(r.shutdown):>9}"
        else:
            speedup = "" if r.speedup is None else fmt_ratio(r.speedup)
            speedup += f" {fmt_interval(r.speedup_interval)}" if r.speedup_interval else ""
            eff = "" if r.efficiency is None else f"{r.efficiency:.2f}"
            imbal = "" if r.imbalance is None else f"{r.imbalance:.2f}"
            row += f" {speedup:>24} {eff:>6} {imbal:>6}"
        if st.unstable:
            row += f"  ! ±{st.spread:.0%}"
        if r.measurement.capped:
            row += "  ~"
        out.append(row)
    return out


def _kernel_table(rows: list[Record]) -> list[str]:
    """ns per number, and time against the compiled kernel's run beside it."""
    out = [f"  {'contender':20} {'median':>9} {'ns/number':>10} {'time ÷ compiled':>16}"]
    for r in rows:
        name = r.kernels_label
        ns = "" if r.ns_per_number is None else f"{r.ns_per_number:.2f}"
        ratio = "" if r.speedup is None else fmt_ratio(1 / r.speedup)
        row = f"  {name:20} {fmt_time(r.median):>9} {ns:>10} {ratio:>16}"
        if r.stats.unstable:
            row += f"  ! ±{r.stats.spread:.0%}"
        out.append(row)
    return out


def _crossover_table(rows: list[Record]) -> list[str]:
    by_size: dict[int, dict[str, Record]] = defaultdict(dict)
    columns: list[str] = []
    for r in rows:
        by_size[r.scenario.count][r.label] = r
        if r.scenario.backend != "serial" and r.label not in columns:
            columns.append(r.label)
    width = max([len(c) for c in columns] + [10])
    out = [f"  {'numbers':>10} {'serial':>10} " + " ".join(f"{c:>{width}}" for c in columns)]
    for size in sorted(by_size):
        row = by_size[size]
        serial = next((r for r in row.values() if r.scenario.backend == "serial"), None)
        cells = []
        for c in columns:
            cell = row.get(c)
            cells.append(fmt_ratio(cell.speedup) if cell and cell.speedup is not None else "")
        base = fmt_time(serial.median) if serial else ""
        out.append(
            f"  {fmt_count(size):>10} {base:>10} " + " ".join(f"{c:>{width}}" for c in cells)
        )
    out.append("  (cells: speedup over serial at that size; > 1.00× means the workers paid)")
    return out


def render(results: Results) -> str:
    """The table, then the verdict stored in the document."""
    lines = [table(results), *model_report.describe(results.derived.get("model"))]
    lines += ["", "Verdict", "-------"]
    lines += [f"* {line}" for line in results.verdict]
    return "\n".join(lines)
