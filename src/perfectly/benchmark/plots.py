"""PNG plots of a results document, drawn with matplotlib's Agg canvas (no display).

* ``speedup.png``: speedup over serial against worker count, one panel per algorithm
  (and schedule) and kernel, one line per backend, with the ideal line
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

from perfectly.benchmark.matrix import KERNEL_LABELS, KERNELS

KERNEL_ORDER = KERNELS

Record = dict[str, Any]
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
    name = str(r["label"]).rsplit(" × ", 1)[0]
    return name.replace("_thread", "thread (_thread)")


def _median_run(r: Record) -> dict[str, Any]:
    runs: list[dict[str, Any]] = sorted(r["runs"], key=lambda x: x["wall"])
    return runs[(len(runs) - 1) // 2]


def speedup(doc: dict[str, Any], path: Path) -> bool:
    """Speedup against workers, per kernel and backend, with the ideal line."""
    rows = [r for r in doc["scenarios"] if r["section"] == "scaling" and r["speedup"] is not None]
    if not rows:
        return False
    cpus = int(doc["parameters"]["cpus"])
    panels: dict[tuple[str, str], dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        panels[(r["algorithm"], r["schedule"])][r["kernel"]].append(r)
    kernels = [k for k in KERNEL_ORDER if any(k in p for p in panels.values())]
    fig = _figure(4.2 * len(kernels), 3.4 * len(panels))
    axes = fig.subplots(len(panels), len(kernels), squeeze=False)
    top = max(max(r["workers"] for r in rows), 2)
    high = max(max(r["speedup"] for r in rows), min(top, cpus)) * 1.08
    for i, ((algorithm, schedule), by_kernel) in enumerate(panels.items()):
        for j, kernel in enumerate(kernels):
            ax = axes[i][j]
            lines: dict[str, list[Record]] = defaultdict(list)
            for r in by_kernel.get(kernel, []):
                if r["backend"] != "serial":
                    lines[_label(r)].append(r)
            if not lines:
                ax.set_visible(False)
                continue
            xs = list(range(1, top + 1))
            ax.plot(xs, [min(x, cpus) for x in xs], color="0.6", ls=":", label="ideal")
            ax.axvline(cpus, color="0.85", lw=1)
            for name, rs in lines.items():
                rs.sort(key=lambda r: r["workers"])
                color, style, marker = STYLES.get(rs[0]["backend"], ("k", "-", "x"))
                ax.plot(
                    [r["workers"] for r in rs],
                    [r["speedup"] for r in rs],
                    color=color,
                    ls=style,
                    marker=marker,
                    label=name,
                )
            ax.axhline(1.0, color="0.3", lw=0.8)
            ax.set_ylim(0, high)
            ax.set_title(f"{KERNEL_LABELS[kernel]} — {algorithm}, {schedule}", fontsize=9)
            ax.set_xlabel("workers")
            ax.set_ylabel("speedup over serial")
            ax.set_xticks(sorted({r["workers"] for r in rows}))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(
        f"Speedup over serial, median of {doc['parameters']['repeat']} runs — "
        f"{doc['machine']['cpu_model']}, {cpus} CPUs",
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
    run = _median_run(r)
    work = max(run["worker_busy"], default=0.0)
    other = max(run["wall"] - run["startup"] - run["shutdown"] - work, 0.0)
    return run["startup"], work, other, run["shutdown"]


def _breakdown_panel(ax: Any, rows: list[Record], title: str) -> None:
    ys = list(range(len(rows)))
    left = [0.0] * len(rows)
    parts = [_segments(r) for r in rows]
    for k, (name, color) in enumerate(SEGMENTS):
        widths = [p[k] * 1e3 for p in parts]
        ax.barh(ys, widths, left=left, color=color, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(ys, [r["label"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds (the median run)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def breakdown(doc: dict[str, Any], path: Path) -> bool:
    """Where a run's time goes, per backend: launch, kernel work, the rest, stop."""
    cpus = int(doc["parameters"]["cpus"])
    panels = []
    empty = [
        r
        for r in doc["scenarios"]
        if r["section"] == "overhead" and r["workers"] == cpus and r["backend"] != "serial"
    ]
    if empty:
        panels.append((empty, f"{cpus} workers, one number of work each"))
    full = [
        r
        for r in doc["scenarios"]
        if r["section"] in ("scaling", "start-methods")
        and r["kernel"] == "compiled-nogil"
        and r["algorithm"] == "sieve"
        and r["workers"] == cpus
        and r["backend"] != "serial"
    ]
    unique: dict[str, Record] = {}
    for r in full:  # the scaling and start-method groups share contenders: keep the first
        unique.setdefault(r["label"], r)
    full = list(unique.values())
    if full:
        size = full[0]["hi"] - full[0]["lo"]
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


def busy(doc: dict[str, Any], path: Path) -> bool:
    """Per-worker busy time for trial under static and dynamic schedules."""
    cpus = int(doc["parameters"]["cpus"])
    trial = [
        r
        for r in doc["scenarios"]
        if r["section"] == "scaling"
        and r["algorithm"] == "trial"
        and r["workers"] == cpus
        and r["backend"] in ("threads", "processes")
    ]
    pairs = []
    for s in (r for r in trial if r["schedule"] == "static"):
        d = next(
            (
                r
                for r in trial
                if r["schedule"] == "dynamic"
                and r["kernel"] == s["kernel"]
                and r["backend"] == s["backend"]
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
            run = _median_run(r)
            values = [v * 1e3 for v in run["worker_busy"]]
            ax.bar(
                [i + offset for i in range(len(values))],
                values,
                width=0.4,
                color=color,
                label=f"{r['schedule']}: imbalance {run['imbalance']:.2f}, "
                f"{run['wall'] * 1e3:.0f} ms in all",
            )
        ax.set_xticks(range(cpus), [str(i) for i in range(cpus)])
        name = str(s["label"]).rsplit(", ", 1)[0]  # the contender, without the schedule
        ax.set_title(f"{name}, {KERNEL_LABELS[s['kernel']]}, trial", fontsize=9)
        ax.set_xlabel("worker")
        ax.set_ylabel("busy milliseconds (the median run)")
        ax.legend(fontsize=7, loc="best")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Static blocks against dynamic chunks: each worker's kernel time", fontsize=10)
    fig.savefig(path, format="png")
    return True


PLOTS = {"speedup.png": speedup, "breakdown.png": breakdown, "busy.png": busy}


def draw(doc: dict[str, Any], directory: Path) -> list[str]:
    """Every plot the document has data for; returns the file names written."""
    written = []
    for name, plot in PLOTS.items():
        if plot(doc, directory / name):
            written.append(name)
    return written
