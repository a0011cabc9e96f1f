"""Command line: ``python -m perfectly sigma N``, ``… search LO HI`` and ``… bench``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from perfectly import __version__
from perfectly._cli_numbers import parse_int
from perfectly._validate import BACKENDS, KERNELS, METHODS, SCHEDULES, START_METHODS
from perfectly.arithmetic import classify, sigma
from perfectly.census import Census
from perfectly.estimate import Estimate, describe, duration, estimate
from perfectly.journal import JournalError
from perfectly.search import SearchResult, search


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(text: str) -> int:
    try:
        return parse_int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _at_least_one(rule: str, *also: int) -> Callable[[str], int]:
    """An argparse type: an integer ≥ 1 (or one of ``also``), refused in CLI terms."""

    def convert(text: str) -> int:
        value = _integer(text)
        if value < 1 and value not in also:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return convert


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfectly", description="Divisor sums and perfect numbers.")
    parser.add_argument("--version", action="version", version=f"perfectly {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    one = commands.add_parser("sigma", help="σ(n), s(n) and the class of one number")
    one.add_argument("n", type=_integer, help="an integer ≥ 1 (e.g. 496, 2**61-1)")
    one.add_argument("--json", action="store_true", help="print JSON")
    search = commands.add_parser("search", help="census of the range [LO, HI)")
    search.add_argument("lo", type=_integer, help="first number (≥ 1)")
    search.add_argument("hi", type=_integer, help="end of the range, excluded (≤ 2**64)")
    search.add_argument(
        "--method",
        choices=METHODS,
        default="sieve",
        help="sieve (default): factor whole blocks; trial: divisor pairs up to √n, one by one",
    )
    search.add_argument("--kernel", choices=KERNELS, default=None, help="default: the active one")
    search.add_argument("--amicable", action="store_true", help="also find amicable pairs")
    search.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        default="threads",
        help="default: threads; interpreters needs Python 3.14+, or 3.13 with "
        "interpreters-pep-734 (.[interpreters]); dask needs dask[distributed] (.[dask])",
    )
    workers = _at_least_one("≥ 1, or -1 for every CPU", -1)
    search.add_argument("--workers", type=workers, default=None, help="default: all CPUs")
    search.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="dynamic",
        help="dynamic (default): chunks to whichever worker is free; static: one block per "
        "worker; guided: chunks that shrink as the range runs out",
    )
    search.add_argument(
        "--chunk-size",
        type=_at_least_one("≥ 1"),
        default=None,
        metavar="N",
        help="numbers per chunk (default: planned by cost, 2**24 below 2**44, more above)",
    )
    search.add_argument(
        "--start-method",
        choices=START_METHODS,
        default=None,
        help="how process workers start (default: the platform's; forkserver while worker "
        "interpreters run)",
    )
    search.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler")
    search.add_argument(
        "--trust-scheduler",
        action="store_true",
        help="allow a plain tcp:// scheduler off loopback (it can run code in this process)",
    )
    search.add_argument("--journal", default=None, metavar="FILE", help="resumable SQLite log")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (drawn only when stderr is a terminal)",
    )
    search.add_argument(
        "--estimate",
        action="store_true",
        help="only say how long the search would take here (timed at a few points)",
    )
    commands.add_parser(  # listed for --help; main() hands "bench …" to the engine first
        "bench", help="threads vs processes, measured (see: perfectly bench --help)"
    )
    commands.add_parser("race", help="lost updates and a deadlock, shown (see: race --help)")
    return parser


def _print_sigma(n: int, as_json: bool) -> int:
    try:
        s = sigma(n)
        kind = classify(n).value
    except KeyboardInterrupt:  # a big n with large prime factors can take forever
        print(f"perfectly: interrupted while factoring {n}", file=sys.stderr)
        return 130
    if as_json:
        print(json.dumps({"n": n, "sigma": s, "aliquot": s - n, "class": kind}))
    else:
        print(f"sigma({n}) = {s}\naliquot sum s({n}) = {s - n}\n{n} is {kind}")
    return 0


def _print_census(result: SearchResult, as_json: bool) -> None:
    census: Census = result.census
    if as_json:
        print(json.dumps({**census.to_dict(), **_run_facts(result)}))
        return
    multi = ", ".join(f"{n} (k={k})" for n, k in census.multiply_perfect) or "none"
    how = f"{result.backend}, {result.workers} worker{'s' * (result.workers > 1)}"
    if result.resumed:  # the time is that of the numbers computed, not of those read back
        computed = census.count - result.resumed_numbers
        how += f"; {result.resumed_numbers:,} read back from the journal, {computed:,} computed"
    lines = [
        f"census of [{census.lo}, {census.hi}): {census.count:,} numbers in "
        f"{result.wall:.2f} s ({how})",
        f"  perfect:          {', '.join(map(str, census.perfect)) or 'none'}",
        f"  multiply-perfect: {multi}",
        f"  abundant:         {census.abundant:,}",
        f"  deficient:        {census.deficient:,}",
        f"  sum of sigma:     {census.sigma_sum} (verified against the closed form)",
    ]
    if census.amicable is not None:
        pairs = ", ".join(f"({a}, {b})" for a, b in census.amicable) or "none"
        lines.append(f"  amicable pairs:   {pairs}")
    if result.resumed:
        lines.append(f"  resumed:          {result.resumed} of {result.chunks} chunks journaled")
    print("\n".join(lines))


def _run_facts(result: SearchResult) -> dict[str, object]:
    return {
        "verified": result.verified,
        "seconds": round(result.wall, 4),
        "backend": result.backend,
        "workers": result.workers,
        "chunks": result.chunks,
        "resumed": result.resumed,
    }


#: Ranges from this many numbers on get a progress bar by estimated work (timed first,
#: in a second or two), not by numbers: their cost per number changes as they go.
ESTIMATED_BAR = 1 << 32


class _Progress:
    """A tqdm bar on stderr when it is a terminal; nothing otherwise.

    With an :class:`~perfectly.estimate.Estimate`, the bar fills by estimated work and its
    ETA is the work left at the rate measured since the first report (which may carry
    chunks read back from a journal, done in no time): honest where the cost per number
    grows along the range, and after a resume.
    """

    def __init__(
        self, lo: int, hi: int, planned: Estimate | None = None, *, shown: bool = True
    ) -> None:
        self.bar: Any = None
        self.lo, self.hi, self.done = lo, hi, 0
        self.planned = planned
        self.since: tuple[float, float] | None = None  # (clock, work) at the first report
        if not (shown and sys.stderr.isatty()):
            return
        from tqdm import tqdm

        if planned is None:
            self.bar = tqdm(total=hi - lo, unit="n", unit_scale=True, file=sys.stderr)
        else:
            self.bar = tqdm(
                total=round(planned.work, 3),
                file=sys.stderr,
                bar_format="{percentage:3.0f}%|{bar}| {postfix}",
                postfix=f"0 of {hi - lo:,} numbers",
            )

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        if self.bar is None:
            return
        if self.planned is None:
            if self.since is None:  # the first report is the baseline: it may carry chunks
                self.since = (time.monotonic(), done)  # read back from a journal at once
                bar = self.bar
                bar.initial = bar.n = bar.last_print_n = done
                bar.start_t = bar.last_print_t = bar._time()
                bar.refresh()
                return
            self.bar.update(done - self.bar.n)
            return
        work, now = self.planned.work_before(self.lo + done), time.monotonic()
        eta = "ETA when the next chunk is in"
        if self.since is None:
            self.since = (now, work)
        elif work > self.since[1]:
            rate = (work - self.since[1]) / (now - self.since[0])
            eta = f"ETA {_clock(max(0.0, self.planned.work - work) / rate)}"
        self.bar.n = min(work, self.planned.work)
        self.bar.set_postfix_str(f"{done:,} of {total:,} numbers, {eta}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _clock(seconds: float) -> str:
    """h:mm:ss"""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        status = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # here, so that a closed pipe is caught below
        return status
    except BrokenPipeError:  # e.g. `perfectly bench report FILE | head`: a reader that left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 1


def _hand_over(command: str, rest: list[str]) -> int:
    """``bench`` and ``race`` belong to the perfectly-bench distribution, which registers
    them as entry points of the group ``perfectly.commands`` (the library never imports it
    by name): run the command where it is installed, else say in one line what to
    install (exit status 2)."""
    from importlib.metadata import entry_points

    try:
        (found,) = [e for e in entry_points(group="perfectly.commands") if e.name == command]
        run = found.load()
    except (ValueError, ImportError):  # none (or several) registered; or a broken install
        print(
            f"perfectly: {command}: the benchmark and the race demo are the perfectly-bench "
            "distribution, not installed here: from a checkout of perfectly, "
            "python -m pip install . ./bench",
            file=sys.stderr,
        )
        return 2
    status: int = run(rest, prog=f"python -m perfectly {command}")
    return status


def _run(args_list: list[str]) -> int:
    if args_list[:1] in (["bench"], ["race"]):
        return _hand_over(args_list[0], args_list[1:])
    parser = _build_parser()
    if not args_list:  # a bare `perfectly`: the usage with its commands, as argparse exits
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(args_list)
    try:
        if args.command == "sigma":
            return _print_sigma(args.n, args.json)
        return _search(args)
    except BrokenPipeError:
        raise  # an OSError like ConnectionError, but main's to handle
    except (
        TypeError,
        ValueError,
        OverflowError,
        ImportError,
        ConnectionError,
        JournalError,
    ) as exc:
        parser.exit(2, f"perfectly: error: {exc}\n")  # a bad --journal is a bad argument too
    except (RuntimeError, ArithmeticError, TimeoutError) as exc:
        parser.exit(1, f"perfectly: error: {exc}\n")


# Options of `search` that perfectly.estimate() takes as they are.
_ESTIMATE_OPTIONS = ("backend", "workers", "method", "schedule", "chunk_size")

# Options of `search` handed to perfectly.search() as they are.
_SEARCH_OPTIONS = (
    "backend",
    "workers",
    "method",
    "schedule",
    "chunk_size",
    "start_method",
    "journal",
    "amicable",
)


#: Seconds from which a search on a terminal first says how long it will take, and why.
LONG_SEARCH = 600.0


def _long_search_note(planned: Estimate, journal: str | None) -> str:
    """What a long search will cost, and what it adds to what is known."""
    keep = "" if journal else " (add --journal FILE to make it resumable)"
    return (
        f"perfectly: this takes about {duration(planned.seconds)} here{keep}. The even "
        "perfect numbers are known without it: 2**(p-1) * (2**p - 1) for each Mersenne "
        "prime 2**p - 1 (Euclid-Euler); what the search adds is the proof that the range "
        "holds no other perfect number, odd ones included, and its census."
    )


def _dask_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """``backend_options`` from ``--scheduler`` and ``--trust-scheduler``."""
    if args.trust_scheduler and args.scheduler is None:
        raise ValueError("--trust-scheduler applies to --scheduler ADDRESS only")
    if args.scheduler is None:
        return None
    return {"scheduler": args.scheduler, "trust_scheduler": args.trust_scheduler}


def _search(args: argparse.Namespace) -> int:
    progress: _Progress | None = None
    try:
        planned = None
        bar = sys.stderr.isatty() and not args.no_progress
        if args.estimate or (bar and args.hi - args.lo >= ESTIMATED_BAR):
            planned = estimate(
                args.lo,
                args.hi,
                kernel=args.kernel,
                **{name: getattr(args, name) for name in _ESTIMATE_OPTIONS},
            )
        if args.estimate:
            assert planned is not None
            print(json.dumps(planned.to_dict()) if args.json else describe(planned))
            return 0
        if planned is not None and planned.seconds >= LONG_SEARCH:
            print(_long_search_note(planned, args.journal), file=sys.stderr)
        progress = _Progress(args.lo, max(args.lo, args.hi), planned, shown=not args.no_progress)
        result = search(
            args.lo,
            args.hi,
            kernel=args.kernel,  # None: the active kernel
            backend_options=_dask_options(args),
            progress=progress,
            **{name: getattr(args, name) for name in _SEARCH_OPTIONS},
        )
    except KeyboardInterrupt:  # while estimating, setting up the bar or searching
        if progress is None:
            print("perfectly: interrupted before the search started", file=sys.stderr)
            return 130
        progress.close()
        where = f"interrupted after {progress.done:,} of {args.hi - args.lo:,} numbers"
        hint = (
            f"; run the same command again to resume from {args.journal}"
            if args.journal
            else "; add --journal FILE to make a search resumable"
        )
        print(f"perfectly: {where}{hint}", file=sys.stderr)
        return 130
    progress.close()
    _print_census(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
