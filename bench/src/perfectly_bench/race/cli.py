"""The race demo's command line and text output: ``python -m perfectly race``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from perfectly_bench.arguments import OneLineParser, at_least
from perfectly_bench.common.formatting import fmt_time
from perfectly_bench.race.deadlock import Deadlock
from perfectly_bench.race.lost_updates import RaceResult, run_race


def render(result: RaceResult) -> str:
    """The race results as text."""
    lines = [
        f"{result.workers} workers add the count of each of {result.chunks} chunks "
        f"({result.chunk_size:,} numbers each, run through the kernel) to one shared tally",
        "",
        f"  {'variant':42} {'expected':>10} {'observed':>10} {'lost':>8} {'tries':>5} "
        f"{'time/try':>9}",
    ]
    for v in result.variants:
        worst = min(v.observed, default=0)
        lines.append(
            f"  {v.name:42} {v.expected:>10,} {worst:>10,} {v.lost:>8,} {v.attempts:>5} "
            f"{fmt_time(v.mean_seconds):>9}"
        )
    lines.append("")
    for v in result.variants:
        if v.locked:
            state = "exact in every try" if v.exact else "WRONG: a locked variant lost updates"
        elif not v.exact:
            tries = next(i for i, o in enumerate(v.observed) if o != v.expected) + 1
            state = f"lost {v.lost:,} in its worst try; first lost updates on try {tries}"
        else:
            state = (
                f"no lost updates seen in {v.attempts} tries — luck, not safety: "
                "the read-modify-write is still unguarded"
            )
        lines.append(f"  {v.name}: {state}")
    lines.append("")
    for kind in ("threads", "processes"):
        cost = result.lock_cost(kind)
        if cost is not None:
            lines.append(
                f"  the lock cost {kind} {fmt_time(cost)} per update in this job, waiting included"
            )
    lines.append(
        "  an uncontended acquire + release costs "
        + ", ".join(f"{fmt_time(v)} ({k})" for k, v in result.lock_overhead.items())
    )
    return "\n".join(lines + NOTE + _deadlock_lines(result.deadlock))


NOTE = [
    "",
    "  Note: the read-modify-write variants yield (time.sleep(0)) between reading and",
    "  writing the tally, the locked ones inside the lock: with a GIL, threads would",
    "  otherwise lose updates only rarely, not never. 'value += n' on a Value(lock=True)",
    "  has no such help: its get and its set are each locked, the pair is not.",
]


def _deadlock_lines(d: Deadlock) -> list[str]:
    lines = ["", "Lock-ordering deadlock (thread-1 takes A then B, thread-2 takes B then A):"]
    if d.detected:
        lines.append(
            f"  detected in {d.seconds:.2f} s by acquire(timeout={d.timeout:g}), never waited out:"
        )
        lines += [f"    {m}" for m in d.messages]
    else:
        lines.append("  not provoked this time (the threads did not interleave)")
    state = "finish" if d.ordered_ok else "still time out (unexpected)"
    lines.append(
        f"  with one lock order (A before B) the same two threads {state} in "
        f"{fmt_time(d.ordered_seconds)}"
    )
    return lines


def parser(prog: str) -> argparse.ArgumentParser:
    """The race demo's options."""
    out = OneLineParser(
        prog=prog,
        description="Lost updates with and without a Lock, and a deadlock detected by timeouts.",
    )
    add = out.add_argument
    add("--workers", type=at_least(2), default=2, help="threads/processes (≥ 2)")
    add("--chunks", type=at_least(1), default=400, help="chunks per try")
    add("--chunk-size", type=at_least(1), default=1000, help="numbers per chunk")
    add("--attempts", type=at_least(1), default=20, help="tries at most")
    add("--timeout", type=float, default=0.5, help="acquire timeout, seconds")
    add("--threads-only", action="store_true", help="skip the process variants")
    add("--json", action="store_true", help="print JSON")
    return out


def main(argv: Sequence[str] | None = None, prog: str = "python -m perfectly race") -> int:
    """Run the demo from a command line; returns the exit status."""
    p = parser(prog)
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not 0 < args.timeout <= 60:
        p.error(f"argument --timeout: must be in (0, 60] seconds, got {args.timeout}")
    result = run_race(
        workers=args.workers,
        chunks=args.chunks,
        chunk_size=args.chunk_size,
        attempts=args.attempts,
        timeout=args.timeout,
        processes=not args.threads_only,
    )
    print(json.dumps(result.to_json(), indent=1) if args.json else render(result))
    return 0
