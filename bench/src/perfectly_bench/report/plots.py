"""PNG plots of a results document, drawn with matplotlib's Agg canvas (no display).

* ``threads-or-processes.png``: the question at a glance: speedup over serial of threads
  and processes at one worker per CPU, per variant and method, with error bars;
* ``speedup.png``: speedup over serial against worker count, one panel per method
  (and schedule) and variant, one line per backend, with error bars and the ideal line
  (speedup = workers, up to the CPU count);
* ``breakdown.png``: where a run's time goes (start workers, kernel work, the rest, stop
  workers), with one number per worker and with the full range, on a log scale with
  each value written beside its bar, the rows in the same order in every panel;
* ``busy.png``: each worker's busy time for ``trial`` under static blocks and dynamic
  chunks: the load imbalance that the schedule causes or removes.
* ``model.png``: what the fitted model predicts for more workers (see
  :mod:`.model_plot`);
* ``cost.png``: the cost curve of the kernels section (``--baselines``): ns per number
  from 1e6 to 2**64, one thread, beside the C yardstick's where it ran.

Every backend has one colour in every figure (:mod:`.plot_style`); legends sit outside
the axes. Error bars come from :data:`INTERVAL`. matplotlib is optional: :func:`available`
says whether it is installed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from perfectly_bench.analyse.analysis import disturbed_share, speedup_interval
from perfectly_bench.common.formatting import fmt_time
from perfectly_bench.common.stats import median_interval
from perfectly_bench.records.records import VARIANT_LABELS, Record
from perfectly_bench.records.results import Results
from perfectly_bench.report.model_plot import model_figure
from perfectly_bench.report.plot_style import MARKS, colour, figure, legend_outside, rank
from perfectly_bench.report.verdict import outcome
from perfectly_bench.scenarios.matrix import COST_TITLE, VARIANTS

SEGMENTS = (
    ("whole run", "0.25"),
    ("start workers (launch)", "tab:red"),
    ("kernel work (busiest worker)", "tab:blue"),
    ("boot, messages, merging, waiting", "tab:olive"),
    ("stop workers", "tab:gray"),
)

Interval = Callable[[Sequence[float], Sequence[float]], tuple[float, float]]


#: The error bars' interval of a speedup: (serial times, contender times) → (low, high),
#: the 95 % bootstrap interval of the paired rounds that the table prints.
INTERVAL: Interval = speedup_interval


def available() -> bool:
    """Whether matplotlib is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _order(r: Record) -> tuple[int, str, int, int]:
    """The place of a record's row: by backend, start method, workers, chunks."""
    s = r.scenario
    return rank(s.backend), s.start_method or "", s.workers, s.chunks or 0


def _label(r: Record) -> str:
    # matplotlib hides legend labels that start with "_": name the _thread backend in words
    name = r.label.rsplit(" × ", 1)[0]
    return name.replace("_thread", "thread (_thread)")


def _bars(rows: Sequence[Record], results: Results, interval: Interval) -> list[list[float]]:
    """Error bar lengths below and above each row's speedup, from its interval."""
    by_id = {r.id: r for r in results.records}
    low, high = [], []
    for r in rows:
        ref = by_id.get(r.reference or "")
        lo, hi = interval(ref.values, r.values) if ref else (r.speedup, r.speedup)
        low.append(max((r.speedup or 0.0) - (lo or 0.0), 0.0))
        high.append(max((hi or 0.0) - (r.speedup or 0.0), 0.0))
    return [low, high]


def _speedup_panel(ax: Any, rows: list[Record], results: Results, interval: Interval) -> None:
    """One line per backend in one panel, with error bars, the ideal line and the CPUs."""
    lines: dict[str, list[Record]] = defaultdict(list)
    for r in sorted(rows, key=_order):
        if r.scenario.backend != "serial":
            lines[_label(r)].append(r)
    top, cpus = max(max(r.scenario.workers for r in rows), 2), results.cpus
    xs = list(range(1, top + 1))
    ax.plot(xs, [min(x, cpus) for x in xs], color="0.6", ls=":", label="ideal")
    ax.axvline(cpus, color="0.85", lw=1)
    for name, rs in lines.items():
        backend = rs[0].scenario.backend
        style, marker = MARKS.get(backend, ("-", "o"))
        ax.errorbar(
            [r.scenario.workers for r in rs],
            [r.speedup for r in rs],
            yerr=_bars(rs, results, interval),
            color=colour(backend),
            ls=style,
            marker=marker,
            capsize=3,
            label=name,
        )


def speedup_figure(results: Results, interval: Interval = INTERVAL) -> Any:
    """Speedup against workers, per variant and backend, with the ideal line (or None)."""
    rows = [r for r in results.records if r.scenario.section == "scaling" and r.speedup]
    if not rows:
        return None
    panels: dict[tuple[str, str], dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        panels[(r.scenario.method, r.scenario.schedule)][r.scenario.variant].append(r)
    variants = [k for k in VARIANTS if any(k in p for p in panels.values())]
    fig = figure(4.2 * len(variants) + 2.2, 3.4 * len(panels))
    axes = fig.subplots(len(panels), len(variants), squeeze=False)
    high = max(max(r.speedup or 0.0 for r in rows), results.cpus) * 1.15
    for i, ((method, schedule), by_variant) in enumerate(panels.items()):
        for j, variant in enumerate(variants):
            ax, mine = axes[i][j], by_variant.get(variant, [])
            if not any(r.scenario.backend != "serial" for r in mine):
                ax.set_visible(False)
                continue
            _speedup_panel(ax, mine, results, interval)
            ax.axhline(1.0, color="0.3", lw=0.8)
            ax.set_ylim(0, high)
            ax.set_title(f"{VARIANT_LABELS[variant]} — {method}, {schedule}", fontsize=9)
            ax.set_xlabel("workers")
            ax.set_ylabel("speedup over serial")
            ax.set_xticks(sorted({r.scenario.workers for r in rows}))
            ax.grid(alpha=0.3)
    legend_outside(fig, axes.flat)
    counts = sorted({len(r.values) for r in rows})
    rounds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    workers = sorted({r.scenario.workers for r in rows if r.scenario.backend != "serial"})
    at = f" at {workers[0]} workers" if len(workers) == 1 else ""
    fig.suptitle(
        f"Speedup over serial{at}, median of {rounds} rounds, error bars "
        f"{_interval_name(interval)} — {results.machine['cpu_model']}, {results.cpus} CPUs",
        fontsize=10,
    )
    return fig


def _interval_name(interval: Interval) -> str:
    return "95 % CI" if interval is speedup_interval else "interval"


def verdict_figure(results: Results, interval: Interval = INTERVAL) -> Any:
    """Threads against processes at one worker per CPU: a bar per variant and backend,
    one panel per method (dynamic schedule), with error bars (or None)."""
    rows = [
        r
        for r in results.records
        if r.scenario.section == "scaling"
        and r.speedup
        and r.scenario.workers == results.cpus
        and r.scenario.schedule == "dynamic"
        and r.scenario.backend in ("threads", "processes")
    ]
    methods = list(dict.fromkeys(r.scenario.method for r in rows))
    if not methods:
        return None
    fig = figure(4.6 * len(methods) + 2.0, 3.8)
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    top = max(max(r.speedup or 0.0 for r in rows), results.cpus) * 1.2
    for ax, method in zip(axes, methods, strict=True):
        mine = [r for r in rows if r.scenario.method == method]
        variants = [v for v in VARIANTS if any(r.scenario.variant == v for r in mine)]
        for k, backend in enumerate(("threads", "processes")):
            bars = [
                next((r for r in mine if (r.scenario.variant, r.scenario.backend) == key), None)
                for key in ((v, backend) for v in variants)
            ]
            xs = [i + (k - 0.5) * 0.38 for i, r in enumerate(bars) if r]
            shown = [r for r in bars if r]
            name = _label(shown[0]) if shown else backend
            drawn = ax.bar(
                xs,
                [r.speedup for r in shown],
                width=0.36,
                yerr=_bars(shown, results, interval),
                capsize=4,
                color=colour(backend),
                label=f"{name} × {results.cpus}",
            )
            for bar, r in zip(drawn, shown, strict=True):  # most runs disturbed: hatched
                if disturbed_share(r) >= 0.5:
                    bar.set_hatch("///")
                    bar.set_edgecolor("0.2")
            ax.bar_label(drawn, [f"{r.speedup:.2f}×" for r in shown], padding=3, fontsize=8)
        ax.axhline(1.0, color="0.3", lw=0.8, label="serial (1×)")
        ax.axhline(results.cpus, color="0.6", ls=":", label=f"ideal ({results.cpus}×)")
        said = [_said(results, mine, v) for v in variants]
        ax.set_xticks(
            range(len(variants)),
            [f"{VARIANT_LABELS[v]}\n{s}" for v, s in zip(variants, said, strict=True)],
            fontsize=8,
        )
        ax.set_ylim(0, top)
        ax.set_ylabel("speedup over serial")
        ax.set_title(f"{method}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    legend_outside(fig, axes, where="center")  # the title runs the figure's width
    fig.suptitle(
        f"Threads or processes? {results.cpus} workers on {results.cpus} CPUs, error bars "
        f"{_interval_name(interval)};\nunder each pair, the verdict; hatched: most runs "
        "disturbed by other work",
        fontsize=9,
    )
    return fig


def _said(results: Results, rows: list[Record], variant: str) -> str:
    """The verdict's word on threads against processes for ``variant`` ('' unless both)."""
    threads, procs = (
        next((r for r in rows if (r.scenario.variant, r.scenario.backend) == (variant, b)), None)
        for b in ("threads", "processes")
    )
    return outcome(results, threads, procs) if threads and procs else ""


def _segments(r: Record) -> tuple[float, float, float, float, float]:
    run = r.median_run()
    work = max(run.worker_busy, default=0.0)
    other = max(run.wall - run.startup - run.shutdown - work, 0.0)
    return run.wall, run.startup, work, other, run.shutdown


def _breakdown_panel(ax: Any, rows: dict[str, Record | None], title: str) -> None:
    """A group of bars per row (the whole run, then each part), log scale, labelled."""
    height = 0.8 / len(SEGMENTS)
    for y, r in enumerate(rows.values()):
        if r is None:
            ax.text(0.01, y, "not measured", transform=ax.get_yaxis_transform(), fontsize=7)
            continue
        for k, ((name, shade), value) in enumerate(zip(SEGMENTS, _segments(r), strict=True)):
            if value <= 0:
                continue
            bar = ax.barh(y + (k - 2) * height, value * 1e3, height=height, color=shade, label=name)
            ax.bar_label(bar, [fmt_time(value)], padding=2, fontsize=6)
    ax.set_xscale("log")
    ax.set_xlim(right=ax.get_xlim()[1] * 4)  # room for the labels of the longest bars
    ax.set_yticks(range(len(rows)), list(rows), fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("milliseconds (the median run), log scale")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def _at(results: Results, sections: tuple[str, ...], **want: Any) -> list[Record]:
    """Parallel records at one worker per CPU in ``sections`` with these attributes."""
    return [
        r
        for r in results.records
        if r.scenario.section in sections
        and r.scenario.workers == results.cpus
        and r.scenario.backend != "serial"
        and all(getattr(r.scenario, k) == v for k, v in want.items())
    ]


def breakdown_figure(results: Results) -> Any:
    """Where a run's time goes, per backend: launch, kernel work, the rest, stop (or None)."""
    cpus, panels = results.cpus, []
    empty = _at(results, ("overhead",))
    if empty:
        panels.append((empty, f"{cpus} workers, one number of work each"))
    full: dict[str, Record] = {}
    for r in _at(results, ("scaling", "start-methods"), variant="compiled-nogil", method="sieve"):
        full.setdefault(r.label, r)  # the scaling and start-method groups share contenders
    if full:
        size = next(iter(full.values())).scenario.count
        panels.append(
            (list(full.values()), f"{cpus} workers, compiled nogil sieve on [1, {size:,}]")
        )
    if not panels:
        return None
    ordered = sorted((r for rows, _ in panels for r in rows), key=_order)
    labels = list(dict.fromkeys(r.label for r in ordered))  # the same rows in every panel
    fig = figure(10, 1.2 + 0.55 * len(labels) * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (rows, title) in zip(axes, panels, strict=True):
        mine = {r.label: r for r in rows}
        _breakdown_panel(ax, {label: mine.get(label) for label in labels}, title)
    legend_outside(fig, axes)
    fig.suptitle(
        "Where the time goes (a pool creates its workers on the first task: no 'launch')",
        fontsize=9,
    )
    return fig


def busy_figure(results: Results) -> Any:
    """Per-worker busy time for trial under static and dynamic schedules (or None)."""
    trial = [
        r
        for r in _at(results, ("scaling",), method="trial")
        if r.scenario.backend in ("threads", "processes")
    ]
    pairs = []
    for s in sorted((r for r in trial if r.scenario.schedule == "static"), key=_order):
        same = (s.scenario.variant, s.scenario.backend)
        d = next(
            (
                r
                for r in trial
                if r.scenario.schedule == "dynamic"
                and (r.scenario.variant, r.scenario.backend) == same
            ),
            None,
        )
        if d is not None:
            pairs.append((s, d))
    if not pairs:
        return None
    fig = figure(4.2 * len(pairs), 3.6)
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    for ax, (s, d) in zip(axes, pairs, strict=True):
        for offset, r, shade in ((-0.2, s, "0.55"), (0.2, d, colour(s.scenario.backend))):
            run = r.median_run()
            values = [v * 1e3 for v in run.worker_busy]
            ax.bar(
                [i + offset for i in range(len(values))],
                values,
                width=0.4,
                color=shade,
                # the table's figure (the median over the runs), then the run drawn
                label=f"{r.scenario.schedule}: imbalance {r.imbalance or run.imbalance:.2f} "
                f"(median of runs); bars: the median run, {run.wall * 1e3:.0f} ms",
            )
        ax.set_xticks(range(results.cpus), [str(i) for i in range(results.cpus)])
        name = s.label.rsplit(", ", 1)[0]  # the contender, without the schedule
        ax.set_title(f"{name}, {VARIANT_LABELS[s.scenario.variant]}, trial", fontsize=9)
        ax.set_xlabel("worker")
        ax.set_ylabel("busy milliseconds (the median run)")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Static blocks against dynamic chunks: each worker's kernel time", fontsize=10)
    return fig


def cost_figure(results: Results) -> Any:
    """The cost curve (kernels section): ns per number against magnitude, one thread, the
    compiled sieve and the C yardstick where it ran; error bars: the 95 % interval of
    each median (or None without a cost curve)."""
    rows = [r for r in results.records if r.measurement.group.startswith(COST_TITLE)]
    if not rows:
        return None
    fig = figure(8, 4.2)
    ax = fig.subplots()
    lines: dict[str, list[Record]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r.scenario.lo):
        lines[r.kernels_label].append(r)
    for name, rs in lines.items():
        ns = [r.ns_per_number or 0.0 for r in rs]
        spans = [median_interval(r.measurement.values) for r in rs]
        bars = [
            [
                n - low / r.scenario.count * 1e9
                for n, (low, _), r in zip(ns, spans, rs, strict=True)
            ],
            [
                high / r.scenario.count * 1e9 - n
                for n, (_, high), r in zip(ns, spans, rs, strict=True)
            ],
        ]
        backend = rs[0].scenario.backend
        ax.errorbar(
            [r.scenario.lo for r in rs],
            ns,
            yerr=bars,
            color=colour(backend),
            marker=MARKS.get(backend, ("-", "o"))[1],
            capsize=3,
            label=name,
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("n (log scale): each point is one chunk of a search from there")
    ax.set_ylabel("ns per number (log scale)")
    ax.grid(True, which="both", color="0.92")
    ax.legend(fontsize=8)
    fig.suptitle(
        "What a number costs, from 1e6 to 2**64: one thread, sieve set-up included", fontsize=9
    )
    return fig


def figures(results: Results, interval: Interval = INTERVAL) -> dict[str, Any]:
    """Every figure the results have data for, by file name."""
    made = {
        "threads-or-processes.png": verdict_figure(results, interval),
        "speedup.png": speedup_figure(results, interval),
        "breakdown.png": breakdown_figure(results),
        "busy.png": busy_figure(results),
        "model.png": model_figure(results),
        "cost.png": cost_figure(results),
    }
    return {name: fig for name, fig in made.items() if fig is not None}


def draw(results: Results, directory: Path, interval: Interval = INTERVAL) -> list[str]:
    """Write every figure the results have data for; returns the file names written."""
    written = []
    for name, fig in figures(results, interval).items():
        fig.savefig(directory / name, format="png")
        written.append(name)
    return written
