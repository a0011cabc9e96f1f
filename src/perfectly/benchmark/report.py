"""The terminal table and the plain-language verdict, both made from a results document.

Everything here reads the JSON document (as written, or loaded back), so a report can
be made again from a file without measuring anything.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from perfectly.benchmark.matrix import BACKEND_LABELS, KERNEL_LABELS
from perfectly.benchmark.stats import UNSTABLE, two_sample

Record = dict[str, Any]


def fmt_time(seconds: float) -> str:
    """``1.23 s``, ``45.6 ms``, ``789 µs``: three significant figures, a fitting unit."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale or unit == "µs":
            value = seconds / scale
            digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            return f"{value:.{digits}f} {unit}"
    raise AssertionError("unreachable")


def fmt_count(n: int) -> str:
    """1,000,000 as ``1e6``, 3,000,000 as ``3e6``, other numbers with thousands commas."""
    if n >= 10_000:
        exponent = len(str(n)) - 1
        mantissa, rest = divmod(n, 10**exponent)
        if rest == 0:
            return f"{mantissa}e{exponent}"
    return f"{n:,}"


def _groups(doc: dict[str, Any]) -> dict[tuple[str, str], list[Record]]:
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in doc["scenarios"]:
        groups[(r["section"], r["group"])].append(r)
    return groups


SECTION_TITLES = {
    "scaling": "Scaling: speedup over serial (same kernel, algorithm and range)",
    "start-methods": "Start methods: process backends at one worker per CPU",
    "overhead": "Overhead: start and stop workers, one number of work each",
    "messages": "Messages: the same range in few or many chunks",
    "crossover": "Crossover: from which range size do parallel workers pay?",
    "baselines": "Baselines: the compiled kernel beside NumPy and numba",
}


def machine_line(doc: dict[str, Any]) -> str:
    """Where and when the numbers were measured, in two lines."""
    m = doc["machine"]
    gil = "GIL enabled" if m["gil_enabled"] else "GIL disabled"
    loads = [m.get("load_average_start"), m.get("load_average_end")]
    load = (
        f"load average {loads[0]} at the start, {loads[1]} at the end"
        if None not in loads
        else "load average unknown"
    )
    return (
        f"perfectly {m['package_version']} ({m['build']['core']} core), "
        f"{m['python_implementation']} {m['python_version']} ({gil}), {m['os']}\n"
        f"{m['cpu_model']}, {m['cpus_available']} CPUs; {load}; started {doc['created']}"
    )


def table(doc: dict[str, Any]) -> str:
    """The results as text tables, one per group, in the order they were measured."""
    lines: list[str] = ["", machine_line(doc)]
    section = None
    crossover: list[Record] = []
    for (sec, title), records in _groups(doc).items():
        if sec == "crossover":
            crossover += records
            continue
        if sec != section:
            lines += ["", SECTION_TITLES.get(sec, sec), "=" * len(SECTION_TITLES.get(sec, sec))]
            section = sec
        lines += ["", title]
        lines += _group_table(records, costs=sec in ("overhead", "messages"))
        if sec == "overhead" and any(r["backend"].endswith("-pool") for r in records):
            lines.append(
                "  (a pool starts its workers on the first task: its start-up is in the median,"
                " not in 'start')"
            )
    if crossover:
        lines += ["", SECTION_TITLES["crossover"], "=" * len(SECTION_TITLES["crossover"])]
        lines += _crossover_table(crossover)
    lines.append("")
    lines.append(
        f"times: median of {doc['parameters']['repeat']} runs after "
        f"{doc['parameters']['warmup']} warm-up(s); '!' marks a spread (std dev / mean) "
        f"over {UNSTABLE:.0%}"
    )
    return "\n".join(lines[1:] if lines and lines[0] == "" else lines)


def _group_table(records: list[Record], costs: bool) -> list[str]:
    if costs:
        head = f"  {'contender':32} {'median':>9} {'mean ± std dev':>21} {'min':>9} {'IQR':>9}"
        head += f" {'start':>9} {'stop':>9}"
    else:
        head = f"  {'contender':32} {'median':>9} {'mean ± std dev':>21} {'min':>9} {'IQR':>9}"
        head += f" {'speedup':>8} {'effic.':>6} {'imbal.':>6}"
    out = [head]
    for r in records:
        st = r["stats"]
        mean = f"{fmt_time(st['mean'])} ± {fmt_time(st['stdev'])}"
        row = f"  {r['label']:32} {fmt_time(st['median']):>9} {mean:>21} {fmt_time(st['min']):>9}"
        row += f" {fmt_time(st['iqr']):>9}"
        if costs:
            row += f" {fmt_time(r['startup']):>9} {fmt_time(r['shutdown']):>9}"
        else:
            speedup = f"{r['speedup']:.2f}×" if r["speedup"] is not None else ""
            eff = f"{r['efficiency']:.2f}" if r["efficiency"] is not None else ""
            imbal = f"{r['imbalance']:.2f}" if r["imbalance"] is not None else ""
            row += f" {speedup:>8} {eff:>6} {imbal:>6}"
        if st["unstable"]:
            row += f"  ! ±{st['spread']:.0%}"
        out.append(row)
    return out


def _crossover_table(records: list[Record]) -> list[str]:
    by_size: dict[int, dict[str, Record]] = defaultdict(dict)
    columns: list[str] = []
    for r in records:
        by_size[r["hi"] - r["lo"]][r["label"]] = r
        if r["backend"] != "serial" and r["label"] not in columns:
            columns.append(r["label"])
    width = max([len(c) for c in columns] + [10])
    out = [f"  {'numbers':>10} {'serial':>10} " + " ".join(f"{c:>{width}}" for c in columns)]
    for size in sorted(by_size):
        row = by_size[size]
        serial = next((r for r in row.values() if r["backend"] == "serial"), None)
        cells = []
        for c in columns:
            cell = row.get(c)
            cells.append(f"{cell['speedup']:.2f}×" if cell and cell["speedup"] is not None else "")
        base = fmt_time(serial["stats"]["median"]) if serial else ""
        out.append(
            f"  {fmt_count(size):>10} {base:>10} " + " ".join(f"{c:>{width}}" for c in cells)
        )
    out.append("  (cells: speedup over serial at that size; > 1.00× means the workers paid)")
    return out


def render(doc: dict[str, Any]) -> str:
    """The table, then the verdict stored in the document."""
    lines = [table(doc), "", "Verdict", "-------"]
    lines += [f"* {line}" for line in doc["verdict"]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Verdict
# ---------------------------------------------------------------------------------------


def _pick(records: list[Record], **want: Any) -> Record | None:
    for r in records:
        if all(r.get(k) == v for k, v in want.items()):
            return r
    return None


def _versus(a: Record, b: Record, name_a: str, name_b: str, verb: str = "win") -> tuple[str, int]:
    """(``threads win by 4 %`` or ``a tie (…)``, and which won: 0 a, 1 b, -1 neither).

    The two-sample test decides; a difference it does not find significant is a tie.
    """
    ta, tb = a["stats"]["median"], b["stats"]["median"]
    test = two_sample(a["values"], b["values"])
    if test.pvalue is None or not test.testable:
        return f"too few runs to tell {name_a} and {name_b} apart ({test.test})", -1
    if not test.significant:
        diff = abs(ta / tb - 1)
        return f"a tie: the {diff:.0%} difference is not significant ({_p(test.pvalue)})", -1
    winner, ratio = (0, tb / ta) if ta < tb else (1, ta / tb)
    name = (name_a, name_b)[winner]
    if ratio < 2:
        return f"{name} {verb} by {ratio - 1:.0%} ({_p(test.pvalue)})", winner
    return f"{name} {verb}, {ratio:.1f}× faster ({_p(test.pvalue)})", winner


def _p(pvalue: float) -> str:
    return "p < 0.001" if pvalue < 0.001 else f"p = {pvalue:.2g}"


def _x(r: Record | None) -> str:
    return f"{r['speedup']:.2f}×" if r and r["speedup"] is not None else "n/a"


def fmt_approx(n: float) -> str:
    """Two significant figures: 240000 as ``2.4e5``, 3000 as ``3,000``."""
    if n < 10_000:
        return f"{int(float(f'{n:.2g}')):,}"
    mantissa, _, exponent = f"{n:.2g}".partition("e")
    return f"{mantissa}e{int(exponent)}"


def _kernel_line(kernel: str, algorithm: str, cpus: int, rows: list[Record]) -> str | None:
    threads = _pick(rows, backend="threads", workers=cpus)
    procs = _pick(rows, backend="processes", workers=cpus)
    if not (threads or procs):
        return None
    gil_bound = kernel != "compiled-nogil"
    parts = []
    if threads:
        note = ""
        if gil_bound and threads["speedup"] is not None and threads["speedup"] < 1.2:
            note = " — the GIL serialises them"
        parts.append(f"threads {_x(threads)}{note}")
    if procs:
        parts.append(f"processes ({procs['start_method']}) {_x(procs)}")
    line = f"{KERNEL_LABELS[kernel]} ({algorithm}, {cpus} workers): " + ", ".join(parts)
    if threads and procs:
        text, winner = _versus(threads, procs, "threads", "processes")
        reason = ""
        if winner == 0:
            reason = " (no start-up, no pickling)"
        elif winner == 1:
            reason = (
                " (each process has its own GIL)"
                if gil_bound
                else " (start-up and messages paid for)"
            )
        line += f" — {text}{reason}"
    best = max((r["speedup"] or 0.0 for r in (threads, procs) if r), default=0.0)
    if best < 1:
        line += "; no parallel run beat serial here: the range is too small for the start-up"
    return line + "."


def verdict(doc: dict[str, Any]) -> list[str]:
    """Plain-language conclusions, each computed from the measured numbers."""
    records = doc["scenarios"]
    cpus = int(doc["parameters"]["cpus"])
    lines: list[str] = []
    scaling = [r for r in records if r["section"] == "scaling"]
    algorithm = "sieve" if any(r["algorithm"] == "sieve" for r in scaling) else "trial"
    main = [r for r in scaling if r["algorithm"] == algorithm and r["schedule"] == "dynamic"]
    if not main:
        main = [r for r in scaling if r["algorithm"] == algorithm]
    for kernel in ("compiled-nogil", "compiled-gil", "python"):
        line = _kernel_line(kernel, algorithm, cpus, [r for r in main if r["kernel"] == kernel])
        if line:
            lines.append(line)
    gil = _pick(main, kernel="compiled-gil", backend="threads", workers=cpus)
    nogil = _pick(main, kernel="compiled-nogil", backend="threads", workers=cpus)
    if gil and nogil:
        lines.append(
            f"What releasing the GIL buys: the same compiled loop under threads × {cpus} "
            f"goes from {_x(gil)} (GIL held) to {_x(nogil)} (GIL released)."
        )
    lines += _schedule_verdict(scaling, cpus)
    lines += _oversubscription_verdict(main, cpus)
    lines += _startmethod_verdict(records, cpus)
    lines += _overhead_verdict(doc, cpus)
    lines += _crossover_verdict(doc)
    lines += _baseline_verdict(records, cpus)
    load = doc["machine"].get("load_average_start")
    if load is not None and load > 0.5 * cpus:
        lines.append(
            f"Other work was running: the load average was {load:.1f} on {cpus} CPUs when the "
            "run began, so parallel speedups are understated; compare with a run on a quiet "
            "machine."
        )
    unstable = sum(bool(r["stats"]["unstable"]) for r in records)
    if unstable:
        lines.append(
            f"{unstable} of {len(records)} results have a spread over {UNSTABLE:.0%} (marked "
            "'!'): the machine was busy; rerun with more --repeat before trusting a close call."
        )
    if not doc["complete"]:
        lines.append("The run was interrupted: these lines cover only what was measured.")
    return lines


def _schedule_verdict(scaling: list[Record], cpus: int) -> list[str]:
    trial = [r for r in scaling if r["algorithm"] == "trial"]
    out = []
    for backend in ("threads", "processes"):
        static = _pick(trial, schedule="static", backend=backend, workers=cpus)
        if static is None:
            continue
        dynamic = _pick(
            trial, schedule="dynamic", backend=backend, workers=cpus, kernel=static["kernel"]
        )
        if dynamic is None:
            continue
        text, _ = _versus(dynamic, static, "dynamic", "static", verb="wins")
        out.append(
            f"trial (cost grows like √n), {backend} × {cpus}: static blocks leave the workers "
            f"{static['imbalance']:.2f}× out of balance (max/mean busy time), dynamic chunks "
            f"{dynamic['imbalance']:.2f}×; speedup {_x(static)} → {_x(dynamic)} — {text}."
        )
    return out


def _oversubscription_verdict(main: list[Record], cpus: int) -> list[str]:
    out = []
    for backend in ("threads", "processes"):
        fit = _pick(main, backend=backend, workers=cpus, kernel="compiled-nogil")
        over = _pick(main, backend=backend, workers=2 * cpus, kernel="compiled-nogil")
        if fit and over:
            out.append(
                f"Oversubscribed ({2 * cpus} {backend} on {cpus} CPUs): {_x(over)} against "
                f"{_x(fit)} at {cpus} — more workers than CPUs buys nothing for CPU-bound work."
            )
    return out


def _startmethod_verdict(records: list[Record], cpus: int) -> list[str]:
    rows = [r for r in records if r["section"] == "start-methods" and r["backend"] != "serial"]
    if not rows:
        return []
    parts = [f"{r['label'].replace(f' × {cpus}', '')} {_x(r)}" for r in rows]
    return [f"Start methods ({cpus} workers, whole job): " + ", ".join(parts) + "."]


def _overhead_verdict(doc: dict[str, Any], cpus: int) -> list[str]:
    rows = [o for o in doc["derived"]["overheads"] if o["workers"] == cpus]
    if not rows:
        return []
    parts = []
    for o in rows:
        name = BACKEND_LABELS.get(o["backend"], o["backend"])
        if o["start_method"]:
            name += f" ({o['start_method']})"
        parts.append(f"{name} {fmt_time(max(o['cost'], 0.0))}")
    out = [f"Starting and stopping {cpus} workers (one number each): " + ", ".join(parts) + "."]
    messages = doc["derived"]["messages"]
    if messages:
        parts = [
            f"{BACKEND_LABELS.get(m['backend'], m['backend'])}"
            + (f" ({m['start_method']})" if m["start_method"] else "")
            + f" {fmt_time(m['message'])}"
            for m in messages
            if m["backend"] != "serial"
        ]
        serial = next((m for m in messages if m["backend"] == "serial"), None)
        tail = (
            f" on top of the kernel's own {fmt_time(serial['per_chunk'])} per call"
            if serial
            else ""
        )
        if parts:
            out.append(
                "Sending a chunk out and its summary back costs " + ", ".join(parts) + tail + "."
            )
    return out


def _crossover_verdict(doc: dict[str, Any]) -> list[str]:
    out = []
    for c in doc["derived"]["crossover"]:
        name = BACKEND_LABELS.get(c["backend"], c["backend"])
        if c["start_method"]:
            name += f" ({c['start_method']})"
        name += f" × {c['workers']}"
        if c["measured"] is not None and c["measured"] == c["sizes"][0]:
            out.append(f"{name} already at {fmt_count(c['measured'])} numbers, the smallest tried")
        elif c["measured"] is not None:
            i = c["sizes"].index(c["measured"])
            won = f"lost at {fmt_count(c['sizes'][i - 1])}, won from {fmt_count(c['measured'])} on"
            where = f"from about {fmt_approx(c['estimate'])}" if c["estimate"] else "in between"
            out.append(f"{name} {where} ({won})")
        else:
            guess = f", about {fmt_approx(c['estimate'])} by extrapolation" if c["estimate"] else ""
            out.append(f"{name} not up to {fmt_count(max(c['sizes']))} numbers{guess}")
    if not out:
        return []
    return ["Where workers start to beat serial (compiled sieve): " + "; ".join(out) + "."]


def _baseline_verdict(records: list[Record], cpus: int) -> list[str]:
    rows = [r for r in records if r["section"] == "baselines"]
    numpy = _pick(rows, backend="numpy")
    numba = _pick(rows, backend="numba", workers=cpus) or _pick(rows, backend="numba")
    threads = _pick(rows, backend="threads", workers=cpus)
    parts = []
    if numba:
        parts.append(
            f"numba @njit(parallel=True) × {numba['workers']} {_x(numba)} "
            f"({fmt_time(numba['stats']['median'])})"
        )
    if threads:
        parts.append(
            f"this package's threads × {cpus} {_x(threads)} "
            f"({fmt_time(threads['stats']['median'])})"
        )
    if numpy:
        parts.append(f"NumPy vectorised {_x(numpy)} ({fmt_time(numpy['stats']['median'])})")
    if not parts:
        return []
    return ["Baselines, speedup over the compiled kernel's serial run: " + "; ".join(parts) + "."]
