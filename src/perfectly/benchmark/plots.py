"""PNG plots of a results document, drawn with matplotlib's Agg canvas (no display).

* ``speedup.png``: speedup over serial against worker count, one panel per method
  (and schedule) and variant, one line per backend, with the ideal line
  (speedup = workers, up to the CPU count);
* ``breakdown.png``: where a run's time goes (start workers, run and merge chunks,
  stop workers), with one number per worker and with the full range;
* ``busy.png``: each worker's busy time for ``trial`` under static blocks and dynamic
  chunks: the load imbalance that the schedule causes or removes.

matplotlib is optional: :func:`available` says whether it is installed.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from perfectly.benchmark.matrix import VARIANTS
from perfectly.benchmark.records import VARIANT_LABELS, Record
from perfectly.benchmark.results import Results

STYLES = {
    "threads": ("tab:blue", "-", "o"),
    "_thread": ("tab:cyan", "-", "^"),
    "thread-pool": ("tab:green", "-", "s"),
    "processes": ("tab:red", "--", "o"),
    "process-pool": ("tab:orange", "--", "s"),
}


def available() -> bool:
    """Whether matplotlib is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _label(r: Record) -> str:
    # matplotlib hides legend labels that start with "_": name the _thread backend in words
    name = r.label.rsplit(" × ", 1)[0]
    return name.replace("_thread", "thread (_thread)")


def _speedup_panel(ax: Any, rows: list[Record], top: int, cpus: int) -> None:
    """One line per backend in one panel, the ideal line and the CPU count."""
    lines: dict[str, list[Record]] = defaultdict(list)
    for r in rows:
        if r.scenario.backend != "serial":
            lines[_label(r)].append(r)
    xs = list(range(1, top + 1))
    ax.plot(xs, [min(x, cpus) for x in xs], color="0.6", ls=":", label="ideal")
    ax.axvline(cpus, color="0.85", lw=1)
    for name, rs in lines.items():
        rs.sort(key=lambda r: r.scenario.workers)
        color, style, marker = STYLES.get(rs[0].scenario.backend, ("k", "-", "x"))
        ax.plot(
            [r.scenario.workers for r in rs],
            [r.speedup for r in rs],
            color=color,
            ls=style,
            marker=marker,
            label=name,
        )


def speedup(results: Results, path: Path) -> bool:
    """Speedup against workers, per variant and backend, with the ideal line."""
    rows = [r for r in results.records if r.scenario.section == "scaling" and r.speedup]
    if not rows:
        return False
    cpus = results.cpus
    panels: dict[tuple[str, str], dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        panels[(r.scenario.method, r.scenario.schedule)][r.scenario.variant].append(r)
    variants = [k for k in VARIANTS if any(k in p for p in panels.values())]
    fig = _figure(4.2 * len(variants), 3.4 * len(panels))
    axes = fig.subplots(len(panels), len(variants), squeeze=False)
    top = max(max(r.scenario.workers for r in rows), 2)
    high = max(max(r.speedup or 0.0 for r in rows), min(top, cpus)) * 1.08
    for i, ((method, schedule), by_variant) in enumerate(panels.items()):
        for j, variant in enumerate(variants):
            ax = axes[i][j]
            mine = by_variant.get(variant, [])
            if not any(r.scenario.backend != "serial" for r in mine):
                ax.set_visible(False)
                continue
            _speedup_panel(ax, mine, top, cpus)
            ax.axhline(1.0, color="0.3", lw=0.8)
            ax.set_ylim(0, high)
            ax.set_title(f"{VARIANT_LABELS[variant]} — {method}, {schedule}", fontsize=9)
            ax.set_xlabel("workers")
            ax.set_ylabel("speedup over serial")
            ax.set_xticks(sorted({r.scenario.workers for r in rows}))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(
        f"Speedup over serial, median of {results.parameters['repeat']} runs — "
        f"{results.machine['cpu_model']}, {cpus} CPUs",
        fontsize=10,
    )
    fig.savefig(path, format="png")
    return True


SEGMENTS = (
    ("start workers (launch)", "tab:red"),
    ("kernel work (busiest worker)", "tab:blue"),
    ("boot, messages, merging, waiting", "tab:olive"),
    ("stop workers", "tab:gray"),
)


def _segments(r: Record) -> tuple[float, float, float, float]:
    run = r.median_run()
    work = max(run.worker_busy, default=0.0)
    other = max(run.wall - run.startup - run.shutdown - work, 0.0)
    return run.startup, work, other, run.shutdown


def _breakdown_panel(ax: Any, rows: list[Record], title: str) -> None:
    ys = list(range(len(rows)))
    left = [0.0] * len(rows)
    parts = [_segments(r) for r in rows]
    for k, (name, color) in enumerate(SEGMENTS):
        widths = [p[k] * 1e3 for p in parts]
        ax.barh(ys, widths, left=left, color=color, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(ys, [r.label for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds (the median run)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))


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


def breakdown(results: Results, path: Path) -> bool:
    """Where a run's time goes, per backend: launch, kernel work, the rest, stop."""
    cpus = results.cpus
    panels = []
    empty = _at(results, ("overhead",))
    if empty:
        panels.append((empty, f"{cpus} workers, one number of work each"))
    full = _at(results, ("scaling", "start-methods"), variant="compiled-nogil", method="sieve")
    unique: dict[str, Record] = {}
    for r in full:  # the scaling and start-method groups share contenders: keep the first
        unique.setdefault(r.label, r)
    full = list(unique.values())
    if full:
        size = full[0].scenario.count
        panels.append((full, f"{cpus} workers, compiled nogil sieve on [1, {size:,}]"))
    if not panels:
        return False
    fig = _figure(10, 1.6 + 0.3 * sum(len(p[0]) + 3 for p in panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)
    for ax, (rows, title) in zip(axes[:, 0], panels, strict=True):
        _breakdown_panel(ax, rows, title)
    fig.suptitle(
        "Where the time goes (a pool creates its workers on the first task: no 'launch')",
        fontsize=9,
    )
    fig.savefig(path, format="png")
    return True


def busy(results: Results, path: Path) -> bool:
    """Per-worker busy time for trial under static and dynamic schedules."""
    cpus = results.cpus
    trial = [
        r
        for r in _at(results, ("scaling",), method="trial")
        if r.scenario.backend in ("threads", "processes")
    ]
    pairs = []
    for s in (r for r in trial if r.scenario.schedule == "static"):
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
        return False
    fig = _figure(4.2 * len(pairs), 3.4)
    axes = fig.subplots(1, len(pairs), squeeze=False)
    for ax, (s, d) in zip(axes[0], pairs, strict=True):
        for offset, r, color in ((-0.2, s, "tab:red"), (0.2, d, "tab:blue")):
            run = r.median_run()
            values = [v * 1e3 for v in run.worker_busy]
            ax.bar(
                [i + offset for i in range(len(values))],
                values,
                width=0.4,
                color=color,
                label=f"{r.scenario.schedule}: imbalance {run.imbalance:.2f}, "
                f"{run.wall * 1e3:.0f} ms in all",
            )
        ax.set_xticks(range(cpus), [str(i) for i in range(cpus)])
        name = s.label.rsplit(", ", 1)[0]  # the contender, without the schedule
        ax.set_title(f"{name}, {VARIANT_LABELS[s.scenario.variant]}, trial", fontsize=9)
        ax.set_xlabel("worker")
        ax.set_ylabel("busy milliseconds (the median run)")
        ax.legend(fontsize=7, loc="best")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Static blocks against dynamic chunks: each worker's kernel time", fontsize=10)
    fig.savefig(path, format="png")
    return True


PLOTS = {"speedup.png": speedup, "breakdown.png": breakdown, "busy.png": busy}


def draw(results: Results, directory: Path) -> list[str]:
    """Every plot the results have data for; returns the file names written."""
    written = []
    for name, plot in PLOTS.items():
        if plot(results, directory / name):
            written.append(name)
    return written
