"""The interpreter dimension of a report: one table, a few verdict lines and one plot
that set the interpreters of a ``--python`` run side by side.

Every figure is the scaling section's, at one worker per CPU: each contender's speedup
over its own interpreter's serial run on the same range, and each interpreter's serial
time against the first one's (all interpreters ran the same ranges).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfectly_bench.analyse.analysis import VERDICT_VARIANTS, disturbed_share, main_rows, pick
from perfectly_bench.common.formatting import fmt_ratio, fmt_time
from perfectly_bench.records.records import VARIANT_LABELS, Record
from perfectly_bench.records.results import Results

#: The parallel contenders compared across interpreters, as the verdict names them.
WAYS = {"threads": "threads", "interpreters": "subinterpreters", "processes": "processes"}
#: A gap in speedup (processes, pure Python against compiled) worth a line of its own.
SCALING_GAP = 0.2


def describe(python: dict[str, Any]) -> str:
    """``3.11 (GIL)``, ``3.13t (free-threaded, GIL off)``: what decides how threads scale."""
    if python.get("free_threaded_build"):
        gil = "free-threaded, GIL off" if not python["gil_enabled"] else "free-threaded, GIL on"
    else:
        gil = "GIL"
    return f"{python['label']} ({gil})"


def by_python(results: Results) -> dict[str, list[Record]]:
    """The verdict's main scaling rows (see :func:`.analysis.main_rows`) per interpreter."""
    return {
        p["label"]: main_rows([r for r in results.records if r.scenario.python == p["label"]])
        for p in results.pythons
    }


def _workers(results: Results, rows: list[Record]) -> int:
    """One worker per CPU, else the most workers measured."""
    counts = {r.scenario.workers for r in rows if r.scenario.backend != "serial"}
    return results.cpus if results.cpus in counts or not counts else max(counts)


def _cells(rows: list[Record], variant: str, workers: int) -> dict[str, Record]:
    """serial and each way's record for ``variant`` at ``workers``, where measured."""
    mine = [r for r in rows if r.scenario.variant == variant]
    out = {"serial": pick(mine, backend="serial")}
    out.update({way: pick(mine, backend=way, workers=workers) for way in WAYS})
    return {k: v for k, v in out.items() if v is not None}


def _grid(results: Results) -> list[tuple[str, int, dict[str, dict[str, Record]]]]:
    """Per variant measured: (variant, workers, {label: cells})."""
    rows = by_python(results)
    every = [r for rs in rows.values() for r in rs]
    workers = _workers(results, every)
    out = []
    for variant in reversed(VERDICT_VARIANTS):  # pure Python first: it is the story here
        cells = {label: _cells(rs, variant, workers) for label, rs in rows.items()}
        if any(c.get("serial") for c in cells.values()):
            out.append((variant, workers, cells))
    return out


def _methods(way: str, cells: dict[str, dict[str, Record]]) -> list[str]:
    """The start methods ``way`` ran with, one per interpreter in order, repeats left out
    (a run with worker interpreters does not fork: 3.11's fork, 3.13's forkserver)."""
    found = [c[way].scenario.start_method for c in cells.values() if way in c]
    return list(dict.fromkeys(m for m in found if m))


def _contender(way: str, cells: dict[str, dict[str, Record]], workers: int) -> str:
    """``processes (forkserver) × 2`` as measured (``fork / forkserver`` where the
    interpreters differ), else the way's name."""
    methods = _methods(way, cells)
    if len(methods) > 1:
        return f"{way} ({' / '.join(methods)}) × {workers}"
    for c in cells.values():
        if way in c:
            return c[way].label
    return f"{way} × {workers}"


def _row(name: str, cells: list[str], widths: list[int]) -> str:
    return f"  {name:34} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))


def table_lines(results: Results) -> list[str]:
    """The interpreters side by side: serial time, its ratio to the first one's, and
    each way's speedup over its own serial run."""
    if len(results.pythons) < 2:
        return []
    names = [describe(p) for p in results.pythons]
    widths = [max(10, len(n)) for n in names]
    title = "Interpreters: the same ranges under each Python, side by side"
    out = ["", title, "=" * len(title)]
    first = results.pythons[0]["label"]
    for variant, workers, cells in _grid(results):
        some = next(c["serial"] for c in cells.values() if "serial" in c)
        head = f"{VARIANT_LABELS[variant]}, {some.scenario.method} [1, {some.scenario.count:,}]"
        out += ["", f"  {head}", _row("", names, widths)]
        ref = cells[first].get("serial")
        serial = [c.get("serial") for c in cells.values()]
        out.append(
            _row("serial (time)", [fmt_time(s.median) if s else "—" for s in serial], widths)
        )
        ratios = [fmt_ratio(s.median / ref.median) if s and ref else "—" for s in serial]
        out.append(_row(f"serial time ÷ {first}'s", ratios, widths))
        for way in WAYS:
            if any(way in c for c in cells.values()):
                row = [fmt_ratio(c[way].speedup) if way in c else "—" for c in cells.values()]
                out.append(_row(_contender(way, cells, workers), row, widths))
    out.append("  (speedup over that interpreter's own serial run; '—': not measured there)")
    return out


def _way_line(way: str, cells: dict[str, dict[str, Record]], names: dict[str, str]) -> str | None:
    each = len(_methods(way, cells)) > 1  # name the start method on every interpreter
    parts = [
        f"{fmt_ratio(c[way].speedup)}"
        + (f" ({c[way].scenario.start_method})" if each and c[way].scenario.start_method else "")
        + f" on {names[label]}"
        for label, c in cells.items()
        if way in c
    ]
    if not parts:
        return None
    some = next(c[way] for c in cells.values() if way in c)
    method = f" ({some.scenario.start_method})" if some.scenario.start_method and not each else ""
    return f"{WAYS[way]}{method} " + ", ".join(parts)


def _serial_part(cells: dict[str, dict[str, Record]], first: str) -> str | None:
    ref = cells[first].get("serial")
    parts = []
    for label, c in cells.items():
        if label != first and ref and "serial" in c:
            ratio = c["serial"].median / ref.median
            how = "slower" if ratio > 1 else "faster"
            parts.append(f"{label} {max(ratio, 1 / ratio):.2f}× {how}")
    return f"serial against {first}: " + ", ".join(parts) if parts else None


def _fastest(cells: dict[str, dict[str, Record]], names: dict[str, str]) -> str:
    timed = [(r.median, names[label], key) for label, c in cells.items() for key, r in c.items()]
    best, name, key = min(timed)
    return f"fastest overall: {WAYS.get(key, key)} on {name} ({fmt_time(best)})"


#: The share of an interpreter's runs disturbed by other work from which a comparison
#: across interpreters carries a caveat: they ran one after the other, not interleaved.
DISTURBED_HALF = 0.1


def _halves_caveat(results: Results) -> str:
    """A caveat when the interpreters' runs, made one interpreter after the other, were
    disturbed by other work: drift then becomes a difference between interpreters."""
    shares = {}
    for label, rows in by_python(results).items():
        runs = [run for r in rows for run in r.runs]
        shares[label] = sum(bool(run.disturbed) for run in runs) / len(runs) if runs else 0.0
    if max(shares.values(), default=0.0) < DISTURBED_HALF:
        return ""
    each = ", ".join(f"{share:.0%} of {label}'s" for label, share in shares.items())
    return (
        f" (but the interpreters ran one after the other, and other work disturbed {each} "
        "runs: a difference between them may be the machine's)"
    )


def verdict(results: Results, own: dict[str, list[str]]) -> list[str]:
    """Lines across interpreters (one per variant, and the scaling gap between pure
    Python and the compiled kernel), then each interpreter's own verdict, labelled."""
    names = {p["label"]: describe(p) for p in results.pythons}
    first = results.pythons[0]["label"]
    lines = []
    for variant, workers, cells in _grid(results):
        parts = [p for way in WAYS if (p := _way_line(way, cells, names))]
        serial = _serial_part(cells, first)
        parts += [serial] if serial else []
        line = f"{VARIANT_LABELS[variant]}, {workers} workers: " + "; ".join(parts)
        lines.append(f"{line} — {_fastest(cells, names)}{_halves_caveat(results)}.")
    lines += _gap_lines(results, names)
    for label, mine in own.items():
        lines += [f"[{label}] {line}" for line in mine]
    return lines


def _gap_lines(results: Results, names: dict[str, str]) -> list[str]:
    """Where processes scale pure Python clearly less than the compiled kernel: no state
    is shared between processes, so the difference is the CPU's, not Python's."""
    out = []
    for label, rows in by_python(results).items():
        workers = _workers(results, rows)
        py = pick(rows, variant="python", backend="processes", workers=workers)
        c = pick(rows, variant="compiled-nogil", backend="processes", workers=workers)
        if py and c and py.speedup and c.speedup and c.speedup - py.speedup > SCALING_GAP:
            out.append(
                f"On {names[label]}, processes × {workers} scale the compiled kernel "
                f"{fmt_ratio(c.speedup)} but pure Python only {fmt_ratio(py.speedup)}: processes "
                "share no Python state, so this is the hardware (how the CPUs share the core "
                "and its caches), not the interpreter or the backend."
            )
    return out


def draw(results: Results, directory: Path) -> list[str]:
    """``interpreters.png``: each way's speedup per interpreter, one panel per variant;
    returns the file names written (none for a single interpreter)."""
    grid = _grid(results)
    if len(results.pythons) < 2 or not grid:
        return []
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(grid) + 2.4, 3.8), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(grid), squeeze=False)[0]
    labels = [p["label"] for p in results.pythons]
    for ax, (variant, workers, cells) in zip(axes, grid, strict=True):
        width = 0.8 / len(labels)
        ways = [w for w in WAYS if any(w in c for c in cells.values())]
        for i, label in enumerate(labels):
            shown = [(j, cells[label][w]) for j, w in enumerate(ways) if w in cells[label]]
            ys = [r.speedup or 0.0 for _, r in shown]
            spans = [r.speedup_interval or (y, y) for y, (_, r) in zip(ys, shown, strict=True)]
            low = [y - span[0] for y, span in zip(ys, spans, strict=True)]
            high = [span[1] - y for y, span in zip(ys, spans, strict=True)]
            bars = ax.bar(
                [j + i * width for j, _ in shown],
                ys,
                width,
                yerr=[low, high],
                capsize=3,
                label=describe(results.pythons[i]),
            )
            for bar, (_, r) in zip(bars, shown, strict=True):  # most runs disturbed
                if disturbed_share(r) >= 0.5:
                    bar.set_hatch("///")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(ways))], [WAYS[w] for w in ways])
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.axhline(workers, color="grey", lw=0.8, ls=":", label=f"ideal ({workers}×)")
        ax.set_title(f"{VARIANT_LABELS[variant]}, {workers} workers", fontsize=9)
        ax.set_ylabel("speedup over own serial")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right upper", fontsize=7)  # off the bars
    fig.suptitle(
        "Each interpreter's speedup over its own serial run (error bars: 95 % intervals; "
        "hatched: most runs disturbed).\nA bar above the ideal line is a speedup over a "
        "slower serial run of that interpreter, not more than the CPUs can give.",
        fontsize=8,
    )
    fig.savefig(directory / "interpreters.png", format="png")
    return ["interpreters.png"]
