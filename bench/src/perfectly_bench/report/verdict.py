"""The plain-language verdict: a few lines, each computed from the measured numbers.

One place, :func:`_versus`, decides whether a comparison names a winner. It says
"inconclusive on this machine right now", with every reason that applies, when the
load average at the start exceeded half the CPUs (only where other work cannot be
measured run by run), when half or more of the runs of
either contender (or of their serial reference) were disturbed by other work, when
the 95 % confidence intervals of their speedups overlap, or when the two-sample test
that :mod:`.analysis` ran (once, stored as ``derived.comparisons``) finds no
significant difference. Nothing here tests anything again.
"""

from __future__ import annotations

from typing import Any

from perfectly_bench.analyse.analysis import (
    VERDICT_VARIANTS,
    disturbed_share,
    main_rows,
    pick,
    speedup_interval,
)
from perfectly_bench.common.formatting import (
    fmt_approx,
    fmt_count,
    fmt_interval,
    fmt_p,
    fmt_ratio,
    fmt_time,
)
from perfectly_bench.common.stats import UNSTABLE, Significance
from perfectly_bench.records.records import BACKEND_LABELS, VARIANT_LABELS, Record
from perfectly_bench.records.results import Results


def _x(r: Record | None) -> str:
    """A speedup with its 95 % interval: ``1.87× [1.80–1.93]``."""
    if r is None or r.speedup_interval is None:
        return fmt_ratio(r.speedup if r else None)
    return f"{fmt_ratio(r.speedup)} {fmt_interval(r.speedup_interval)}"


def _versus(
    results: Results, a: Record, b: Record, names: tuple[str, str], verb: str = "win"
) -> tuple[str, int]:
    """(``threads win by 4 %`` or ``inconclusive …``, and which won: 0 a, 1 b, -1 neither)."""
    stored = results.comparison(a, b)
    if stored is None:
        return f"{names[0]} and {names[1]} were not compared", -1
    test = Significance.from_json(stored)
    reasons = _doubts(results, a, b)
    ta, tb = a.median, b.median
    if test.pvalue is None or not test.testable:
        reasons.append(f"too few runs to tell {names[0]} and {names[1]} apart ({test.test})")
        return "inconclusive on this machine right now: " + "; ".join(reasons), -1
    if not test.significant:
        reasons.append(
            f"the {abs(ta / tb - 1):.0%} difference is not significant ({fmt_p(test.pvalue)})"
        )
    if reasons:
        return "inconclusive on this machine right now: " + "; ".join(reasons), -1
    winner, ratio = (0, tb / ta) if ta < tb else (1, ta / tb)
    if ratio < 2:
        return f"{names[winner]} {verb} by {ratio - 1:.0%} ({fmt_p(test.pvalue)})", winner
    return f"{names[winner]} {verb}, {ratio:.1f}× faster ({fmt_p(test.pvalue)})", winner


def outcome(results: Results, threads: Record, processes: Record) -> str:
    """The verdict between threads and processes in two words: "threads win",
    "processes win" or "inconclusive" (as :func:`verdict` decides it, with its doubts)."""
    _, winner = _versus(results, threads, processes, ("threads", "processes"))
    return {0: "threads win", 1: "processes win"}.get(winner, "inconclusive")


def _doubts(results: Results, a: Record, b: Record) -> list[str]:
    """Why the machine's state forbids naming a winner between ``a`` and ``b``."""
    out = []
    if busy := _overloaded(results):
        out.append(busy)
    by_id = {r.id: r for r in results.records}
    involved = [a, b, *(by_id[r.reference] for r in (a, b) if r.reference in by_id)]
    disturbed = {r.label: r for r in involved if disturbed_share(r) >= 0.5}
    if disturbed:
        out.append(f"most runs of {', '.join(disturbed)} were disturbed by other work")
    ia, ib = a.speedup_interval, b.speedup_interval
    if ia and ib and ia[0] <= ib[1] and ib[0] <= ia[1]:
        out.append(
            f"their speedups' 95 % intervals overlap ({fmt_interval(ia)} and {fmt_interval(ib)})"
        )
    return out


def _variant_line(results: Results, variant: str, rows: list[Record]) -> str | None:
    cpus = results.cpus
    threads = pick(rows, backend="threads", workers=cpus)
    procs = pick(rows, backend="processes", workers=cpus)
    if not (threads or procs):
        return None
    # on a free-threaded build with the GIL off, no variant is held back by it
    gil_bound = variant != "compiled-nogil" and bool(results.machine.get("gil_enabled", True))
    parts = []
    if threads:
        note = ""
        if gil_bound and threads.speedup is not None and threads.speedup < 1.2:
            note = " — the GIL serialises them"
        parts.append(f"threads {_x(threads)}{note}")
    if procs:
        parts.append(f"processes ({procs.scenario.start_method}) {_x(procs)}")
    method = rows[0].scenario.method
    line = f"{VARIANT_LABELS[variant]} ({method}, {cpus} workers): " + ", ".join(parts)
    best = max((r.speedup or 0.0 for r in (threads, procs) if r), default=0.0)
    if threads and procs:
        text, winner = _versus(results, threads, procs, ("threads", "processes"))
        if winner >= 0 and cpus >= 2 and best < NO_SPEEDUP:  # a race between non-runners
            text, winner = (
                "inconclusive on this machine right now: no parallel run reached "
                f"{NO_SPEEDUP}× serial on {cpus} CPUs" + _why_not_faster(results, threads, procs),
                -1,
            )
        reasons = {
            0: " (no start-up, no pickling)",
            1: " (each process has its own GIL)"
            if gil_bound
            else " (start-up and messages paid for)",
        }
        line += f" — {text}{reasons.get(winner, '')}"
    if best < 1 and not _overloaded(results) and "no parallel run reached" not in line:
        line += "; no parallel run beat serial here" + _why_not_faster(results, threads, procs)
    return line + "."


#: Below this best speedup on 2 or more CPUs nothing scaled, and the verdict names no
#: winner between threads and processes (a CI run gave compiled nogil threads 1.04× and
#: processes 0.93× on 2 CPUs, and the verdict said "threads win by 12 %").
NO_SPEEDUP = 1.2


def _why_not_faster(results: Results, *runs: Record | None) -> str:
    """Why no parallel run beat serial, as the measurements say: disturbed runs; or serial
    work far above the workers' start-up (so not the start-up); or a range too small."""
    ran = [r for r in runs if r is not None]
    if any(disturbed_share(r) >= 0.5 for r in ran):
        return ", and most of their runs were disturbed by other work on the machine"
    by_id = {r.id: r for r in results.records}
    serial = [by_id[r.reference].median for r in ran if r.reference in by_id]
    startup = [
        o["cost"]
        for o in results.derived.get("overheads", [])
        if o["workers"] == results.cpus and o["backend"] in {r.scenario.backend for r in ran}
    ]
    if serial and startup and min(serial) > 10 * max(max(startup), 0.0):
        return (
            f", though its {fmt_time(min(serial))} of serial work is far more than starting "
            f"the workers ({fmt_time(max(startup))}): the CPUs were not all free for them"
        )
    return ": the range is too small for the start-up"


def _overloaded(results: Results) -> str | None:
    """Why the workers did not have the CPUs to themselves, if the load average said so.

    The load average is the sign only where other work could not be measured run by run
    (no ``/proc/stat``): it lags by a minute and counts the benchmark's own work of just
    before, so that a second run right after a first would always read as loaded. Where
    each run's other work was measured, the disturbed runs say it instead. Only the load
    at the start counts: by the end, the benchmark's own workers have raised it.
    """
    if (results.derived.get("noise") or {}).get("others") is not None:
        return None
    load, cpus = results.machine.get("load_average_start"), results.cpus
    if load is None or load <= 0.5 * cpus:
        return None
    return f"the load average was {load:.1f} on {cpus} CPUs when the run began (other work)"


def verdict(results: Results) -> list[str]:
    """Plain-language conclusions, each computed from the measured numbers."""
    records, cpus = results.records, results.cpus
    main = main_rows(records)
    lines: list[str] = []
    for variant in VERDICT_VARIANTS:
        line = _variant_line(results, variant, [r for r in main if r.scenario.variant == variant])
        if line:
            lines.append(line)
    gil = pick(main, variant="compiled-gil", backend="threads", workers=cpus)
    nogil = pick(main, variant="compiled-nogil", backend="threads", workers=cpus)
    if gil and nogil:
        line = (
            f"What releasing the GIL buys: the same compiled loop under threads × {cpus} "
            f"goes from {_x(gil)} (GIL held) to {_x(nogil)} (GIL released)"
        )
        if (nogil.speedup or 0.0) < 1.1 * (gil.speedup or 0.0) and cpus > 1:
            line += (
                ", no gain here: most runs were disturbed by other work"
                if max(disturbed_share(gil), disturbed_share(nogil)) >= 0.5
                else ", no gain here: the workers did not have the CPUs to themselves"
            )
        lines.append(line + ".")
    lines += _schedule_verdict(results)
    lines += _oversubscription_verdict(main, cpus)
    lines += _startmethod_verdict(records, cpus)
    lines += _overhead_verdict(results.derived, cpus)
    lines += _crossover_verdict(results.derived)
    lines += _baseline_verdict(records, cpus)
    lines += _kernels_verdict(records)
    return lines + _caveats(results)


def _caveats(results: Results) -> list[str]:
    out = []
    if busy := _overloaded(results):
        out.append(
            f"Other work was running: {busy.removesuffix(' (other work)')}, so parallel "
            "speedups are understated; compare with a run on a quiet machine."
        )
    unstable = sum(r.stats.unstable for r in results.records)
    if unstable:
        out.append(
            f"{unstable} of {len(results.records)} results have a spread over {UNSTABLE:.0%} "
            "(marked '!'): the machine was busy; rerun with --rigorous (more rounds) before "
            "trusting a close call."
        )
    out += _noise_caveats(results)
    if not results.complete:
        out.append("The run was interrupted: these lines cover only what was measured.")
    return out


def _noise_caveats(results: Results) -> list[str]:
    """Re-runs, runs still disturbed and scenarios whose rounds hit the cap."""
    noise = results.derived.get("noise")
    if not noise:
        return []
    out = []
    if noise["reruns"] or noise["disturbed"]:
        out.append(
            f"Other work disturbed the machine: {noise['reruns']} run(s) were re-run, and "
            f"{noise['disturbed']} of the {noise['runs']} runs kept were still disturbed "
            f"(in {len(noise['disturbed_scenarios'])} scenarios); a comparison where half "
            "or more of the runs were disturbed names no winner."
        )
    if noise["capped"]:
        policy = results.parameters.get("policy", {})
        within = f"±{policy['bound']:.0%}" if policy.get("bound") else "the bound"
        if policy.get("repeat") and policy.get("repeat") == policy.get("max_rounds"):
            out.append(  # --repeat N: exactly the rounds asked for, no cap was reached
                f"{len(noise['capped'])} scenario(s) ran the {policy['repeat']} rounds asked "
                f"for without their median being known within {within} (marked '~'): more "
                "rounds (a larger --repeat, or none) would narrow it."
            )
        else:
            out.append(
                f"{len(noise['capped'])} scenario(s) reached the round cap before their median "
                f"was known within {within} (marked '~'): --rigorous takes more rounds."
            )
    return out


def _schedule_verdict(results: Results) -> list[str]:
    out = []
    for dynamic, static in _schedule_pairs(results):
        backend, cpus = static.scenario.backend, results.cpus
        text, _ = _versus(results, dynamic, static, ("dynamic", "static"), verb="wins")
        out.append(
            f"trial (cost grows like √n), {backend} × {cpus}: static blocks leave the workers "
            f"{static.imbalance:.2f}× out of balance (max/mean busy time), dynamic chunks "
            f"{dynamic.imbalance:.2f}×; speedup {_x(static)} → {_x(dynamic)} — {text}."
        )
    return out


def _schedule_pairs(results: Results) -> list[tuple[Record, Record]]:
    """The stored comparisons of one backend's dynamic chunks against its static blocks."""
    by_id = {r.id: r for r in results.records}
    pairs = [(by_id.get(c["a"]), by_id.get(c["b"])) for c in results.derived["comparisons"]]
    return [
        (a, b)
        for a, b in pairs
        if a
        and b
        and (a.scenario.schedule, b.scenario.schedule) == ("dynamic", "static")
        and a.scenario.backend == b.scenario.backend
    ]


def _oversubscription_verdict(main: list[Record], cpus: int) -> list[str]:
    out = []
    for backend in ("threads", "processes"):
        fit = pick(main, backend=backend, workers=cpus, variant="compiled-nogil")
        over = pick(main, backend=backend, workers=2 * cpus, variant="compiled-nogil")
        if fit and over:
            out.append(
                f"Oversubscribed ({2 * cpus} {backend} on {cpus} CPUs): {_x(over)} against "
                f"{_x(fit)} at {cpus} — more workers than CPUs buys nothing for CPU-bound work."
            )
    return out


def _startmethod_verdict(records: list[Record], cpus: int) -> list[str]:
    rows = [
        r
        for r in records
        if r.scenario.section == "start-methods" and r.scenario.backend != "serial"
    ]
    if not rows:
        return []
    parts = [f"{r.label.replace(f' × {cpus}', '')} {_x(r)}" for r in rows]
    return [f"Start methods ({cpus} workers, whole job): " + ", ".join(parts) + "."]


def _name(entry: dict[str, Any]) -> str:
    """A derived entry's contender: ``processes (fork)``."""
    name = str(BACKEND_LABELS.get(entry["backend"], entry["backend"]))
    return name + (f" ({entry['start_method']})" if entry["start_method"] else "")


def _overhead_verdict(derived: dict[str, Any], cpus: int) -> list[str]:
    rows = [o for o in derived["overheads"] if o["workers"] == cpus]
    if not rows:
        return []
    parts = [f"{_name(o)} {_cost(o['cost'])}" for o in rows]
    out = [f"Starting and stopping {cpus} workers (one number each): " + ", ".join(parts) + "."]
    messages = derived["messages"]
    parts = [f"{_name(m)} {_cost(m['message'])}" for m in messages if m["backend"] != "serial"]
    serial = next((m for m in messages if m["backend"] == "serial"), None)
    tail = f" on top of the kernel's own {fmt_time(serial['per_chunk'])} per call" if serial else ""
    if parts:
        out.append(
            "Sending a chunk out and its summary back costs " + ", ".join(parts) + tail + "."
        )
    return out


def _cost(seconds: float) -> str:
    """A cost measured as a difference of two medians; zero or less is below what the
    run can resolve (the noise of the two), not a result."""
    return fmt_time(seconds) if seconds > 0 else "below this run's resolution"


def _crossover_verdict(derived: dict[str, Any]) -> list[str]:
    out = []
    for c in derived["crossover"]:
        name = f"{_name(c)} × {c['workers']}"
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
    rows = [r for r in records if r.scenario.section == "baselines"]
    numpy = pick(rows, backend="numpy")
    numba = pick(rows, backend="numba", workers=cpus) or pick(rows, backend="numba")
    threads = pick(rows, backend="threads", workers=cpus)
    parts = []
    if numba:
        parts.append(
            f"numba @njit(parallel=True) × {numba.scenario.workers} {_x(numba)} "
            f"({fmt_time(numba.median)})"
        )
    if threads:
        parts.append(f"this package's threads × {cpus} {_x(threads)} ({fmt_time(threads.median)})")
    if numpy:
        parts.append(f"NumPy vectorised {_x(numpy)} ({fmt_time(numpy.median)})")
    if not parts:
        return []
    out = ["Baselines, speedup over the compiled kernel's serial run: " + "; ".join(parts) + "."]
    return out + _yardstick_scaling(rows, threads, cpus)


def _yardstick_scaling(rows: list[Record], threads: Record | None, cpus: int) -> list[str]:
    """This package's threads against the C yardstick's OpenMP loop, each over its own
    one-thread run: how much of the machine's parallel speedup Python's threads keep."""
    one, many = (
        pick(rows, backend="yardstick", workers=1),
        pick(rows, backend="yardstick", workers=cpus),
    )
    if threads is None or one is None or many is None:
        return []
    scaling = one.median / many.median
    low, high = speedup_interval(one.values, many.values)
    return [
        f"Parallel speedup on {cpus} threads, each over its own one-thread run: this "
        f"package's threads {_x(threads)}, the C yardstick's OpenMP loop "
        f"{fmt_ratio(scaling)} {fmt_interval((low, high))}."
    ]


def _kernels_verdict(records: list[Record]) -> list[str]:
    out = []
    for r in records:
        s = r.scenario
        if s.section == "kernels" and s.backend != "serial" and r.speedup and r.ns_per_number:
            out.append(
                f"{r.label} {r.ns_per_number:.2f} ns/number ({1 / r.speedup:.2f}× the compiled "
                f"kernel's time), {s.method} [{s.lo:,}, {s.hi:,})"
            )
    if not out:
        return []
    return ["One thread each: " + "; ".join(out) + "."]
