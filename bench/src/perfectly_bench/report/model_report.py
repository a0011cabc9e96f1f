"""The model's section of the terminal report, in plain words, from the results' JSON
(so that ``bench report FILE`` prints it again without measuring anything)."""

from __future__ import annotations

from typing import Any

from perfectly_bench.common.formatting import fmt_approx, fmt_count, fmt_ratio, fmt_time
from perfectly_bench.records.records import VARIANT_LABELS

#: The model's parameters in words.
NAMES = {
    "start": "fixed start-up",
    "per_worker": "start-up per worker",
    "round_trip": "round trip",
    "serial_fraction": "serial fraction",
    "contention": "contention",
}


def _backend_name(key: str) -> str:
    backend, _, method = key.partition(":")
    return f"{backend} ({method})" if method else backend


def _workload_name(workload: str) -> str:
    variant, _, method = workload.partition("/")
    return f"{VARIANT_LABELS.get(variant, variant)}, {method}"


def _parameters(b: dict[str, Any]) -> str:
    """Start-up and round trip in words, and what the run could not measure."""
    v = b["parameters"]
    start = "" if "start" in b["not_measured"] else f"{fmt_time(v['start'])} + "
    said = [
        f"start-up {start}{fmt_time(v['per_worker'])} per worker",
        f"{fmt_time(v['round_trip'])} per chunk's round trip",
    ]
    unknown = sorted({NAMES[n.split(":")[0]] for n in b["not_measured"]})
    line = f"{_backend_name(b['backend'])}: " + ", ".join(said)
    if unknown:
        line += f" (not measurable from this run, taken as 0: {', '.join(unknown)})"
    return line


def _error(b: dict[str, Any]) -> str:
    checked = b["held_out"]
    if not checked:
        return "held out: no point could be predicted without itself (too few points)"
    worst = max(checked, key=lambda c: c["error"])
    return (
        f"held out: {len(checked)} of its {b['points']} points, each predicted by a fit "
        f"without it, off by {b['held_out_median_error']:.0%} (median), "
        f"worst {worst['error']:.0%} ({worst['id']})"
    )


def _workload_lines(b: dict[str, Any], workload: str, workers: list[int]) -> list[str]:
    v = b["parameters"]
    pred = {p["workers"]: p for p in b["predictions"] if p["workload"] == workload}
    cross = {c["workers"]: c["size"] for c in b["crossover"] if c["workload"] == workload}
    count = next(iter(pred.values()))["count"]
    sigma = v.get(f"serial_fraction:{workload}", 0.0)
    kappa = f"contention:{workload}"
    shape = f"σ {sigma:.2f}" + ("" if kappa in b["not_measured"] else f", κ {v[kappa]:.3f}")
    cells, seen, pays = [], [], []
    for w in workers:
        cells.append(fmt_ratio(pred[w]["speedup"]))
        measured = pred[w]["measured"]
        seen.append("-" if measured is None else fmt_ratio(measured))
        size = cross.get(w, "")
        pays.append("never" if size is None else fmt_approx(size) if size else "")
    lines = [
        f"  {_workload_name(workload)} on [1, {fmt_count(count)}]: {shape}",
        f"    {'model':>18} " + " ".join(f"{c:>7}" for c in cells),
        f"    {'measured':>18} " + " ".join(f"{c:>7}" for c in seen),
    ]
    if cross:
        lines.append(f"    {'beats serial from':>18} " + " ".join(f"{c:>7}" for c in pays))
    return lines


def describe(model: dict[str, Any] | None) -> list[str]:
    """The model section: formula, then per backend its parameters, predicted speedups
    beside the measured ones, where it starts to beat serial, and its held-out error."""
    if not model or not (model["backends"] or model["skipped"]):
        return []
    title = "Model: what more workers would give (fitted to this run's points)"
    lines = ["", title, "=" * len(title), f"  {model['formula']}"]
    lines.append(
        "  W: the serial time of the same work; p workers, q of them at once; σ: serial "
        "fraction (above 1: the workers slow each other down); κ: contention"
    )
    for b in model["backends"]:
        workers = sorted({p["workers"] for p in b["predictions"]})
        lines += ["", _parameters(b)]
        if workers:
            lines.append(f"    {'workers':>18} " + " ".join(f"{w:>7}" for w in workers))
        else:
            lines.append("  no prediction: no serial fraction could be measured (one core)")
        for workload in dict.fromkeys(p["workload"] for p in b["predictions"]):
            lines += _workload_lines(b, workload, workers)
        lines.append(f"  {_error(b)}")
    for key, why in model["skipped"].items():
        lines.append(f"{_backend_name(key)}: no model ({why})")
    lines += [
        "",
        f"  (speedup on the range measured, with one core per worker; 'measured' only where "
        f"this machine has the cores; 'beats serial from' is a range size; {model['caveat']})",
    ]
    return lines
