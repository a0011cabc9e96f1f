"""``model.png``: what the fitted model (:mod:`.model`) predicts for more workers, one
panel per kernel and method, one line per backend, the measured speedups beside it.

Both axes are logarithmic (speedups from 0.02× to 64× on one panel); the grey line is
the ideal (speedup = workers) and the vertical line this machine's CPU count, beyond
which the lines are the model's alone.
"""

from __future__ import annotations

from typing import Any

from perfectly_bench.common.formatting import fmt_count
from perfectly_bench.records.records import VARIANT_LABELS
from perfectly_bench.records.results import Results
from perfectly_bench.report.plot_style import MARKS, colour, figure, legend_outside, rank

TICKS = (1, 2, 4, 8, 16, 32, 64)
#: A backend whose measured speedups stay at or below this did not scale here (threads
#: under the GIL, say): its fitted serial fraction is noise, and its line is not drawn
#: beyond this machine's CPUs (it drew pure-Python threads at 1.28x at 16 workers).
NO_SCALING = 1.1
#: Markers per start method, so that the process backends' lines can be told apart.
START_MARKERS = {"fork": "o", "spawn": "^", "forkserver": "s"}


def _name(key: str) -> str:
    backend, _, method = key.partition(":")
    # matplotlib hides legend labels that start with "_": name the _thread backend in words
    backend = "thread (_thread)" if backend == "_thread" else backend
    return f"{backend} ({method})" if method else backend


def _panel(ax: Any, backends: list[dict[str, Any]], workload: str, cpus: int) -> None:
    top = 1
    for b in backends:
        preds = sorted(
            (p for p in b["predictions"] if p["workload"] == workload), key=lambda p: p["workers"]
        )
        measured = [p["measured"] for p in preds if p["measured"] is not None]
        if measured and max(measured) <= NO_SCALING:  # nothing to extrapolate but noise
            preds = [p for p in preds if p["workers"] <= cpus]
        if not preds:
            continue
        backend, _, method = b["backend"].partition(":")
        style, marker = MARKS.get(backend, ("-", "o"))
        marker = START_MARKERS.get(method, marker)
        xs = [p["workers"] for p in preds]
        top = max(top, *xs)
        ax.plot(
            xs,
            [p["speedup"] for p in preds],
            color=colour(backend),
            ls=style,
            marker=marker,
            label=f"{_name(b['backend'])}, model",
        )
        seen = [(p["workers"], p["measured"]) for p in preds if p["measured"] is not None]
        if seen:
            ax.scatter(
                *zip(*seen, strict=True),
                s=90,
                facecolors="none",
                linewidths=1.5,
                edgecolors=colour(backend),
                label="measured",
                zorder=3,
            )
    ax.plot([1, top], [1, top], color="0.6", ls=":", label="ideal")
    ax.axhline(1.0, color="0.3", lw=0.8)
    ax.axvline(cpus, color="0.8", lw=1, label=f"this machine ({cpus} CPUs)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(TICKS, [str(t) for t in TICKS])
    ax.set_yscale("log")
    ax.set_xlabel("workers, one core each")
    ax.set_ylabel("speedup over serial")
    variant, _, method = workload.partition("/")
    mine = [p for b in backends for p in b["predictions"] if p["workload"] == workload]
    count = mine[0]["count"]
    name = VARIANT_LABELS.get(variant, variant)
    ax.set_title(f"{name}, {method} on [1, {fmt_count(count)}]", fontsize=9)
    ax.grid(alpha=0.3, which="both")


def model_figure(results: Results) -> Any:
    """Predicted speedup against workers per workload and backend (or None)."""
    model = results.derived.get("model")
    if not model or not model["backends"]:
        return None
    backends = sorted(
        model["backends"], key=lambda b: (rank(b["backend"].split(":")[0]), b["backend"])
    )
    workloads = list(dict.fromkeys(p["workload"] for b in backends for p in b["predictions"]))
    columns = min(len(workloads), 3)
    rows = -(-len(workloads) // columns)
    fig = figure(4.2 * columns + 2.6, 3.6 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).flat
    for ax in axes[len(workloads) :]:
        ax.set_visible(False)
    for ax, workload in zip(axes, workloads, strict=False):
        _panel(ax, backends, workload, model["cpus"])
    legend_outside(fig, [ax for ax in fig.axes if ax.get_visible()])
    fig.suptitle(
        "What more workers would give: the model fitted to this run (lines), the measured "
        "speedups (circles)\nbeyond this machine's CPUs it assumes the serial fraction and "
        f"contention measured here; a backend that did not scale here (≤ {NO_SCALING}×) is "
        "not extrapolated",
        fontsize=9,
    )
    return fig
