"""The benchmark's command line: run (the default), ``compare``, ``report`` and ``race``.

Reached as ``python -m bench …`` from a checkout, or ``python -m perfectly bench …``
from an installed package. A bad command line prints one line on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from perfectly._validate import BACKENDS, START_METHODS, available_cpus
from perfectly.benchmark import sizing
from perfectly.benchmark.matrix import (
    KERNELS,
    METHODS,
    SCHEDULES,
    SECTIONS,
    Params,
    check_choices,
    compiled_available,
    crossover_ladder,
    default_workers,
)

DEFAULT_OUTPUT = "bench-results"
#: Backends that need an optional package: they run only when --backends names them.
OPTIONAL_BACKENDS = {"dask": ("distributed", "pip install 'perfectly[dask]'")}
#: The default --backends: every backend that runs without optional packages.
DEFAULT_BACKENDS = tuple(b for b in BACKENDS if b not in OPTIONAL_BACKENDS)


def check_installed(backends: tuple[str, ...]) -> None:
    """A ``ValueError`` naming the first backend whose optional package is missing."""
    for backend in backends:
        if backend in OPTIONAL_BACKENDS:
            module, hint = OPTIONAL_BACKENDS[backend]
            if importlib.util.find_spec(module) is None:
                raise ValueError(f"--backends: {backend} needs {module}, not installed ({hint})")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _workers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(item) for item in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers such as 1,2,4, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"worker counts must be ≥ 1, got {text!r}")
    return tuple(sorted(set(values)))


def _positive(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum}, got {value}")
        return value

    return parse


def _size(text: str) -> sizing.SizeSpec:
    try:
        return sizing.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--size: ")) from None


def run_parser(prog: str) -> argparse.ArgumentParser:
    cpus = available_cpus()
    parser = _Parser(
        prog=prog,
        description="Threads or processes? Measure it on this machine. Subcommands: "
        f"'{prog} compare A.json B.json', '{prog} report A.json', '{prog} race'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "--size forms: '0.5s' (calibrate each range to about 0.5 s of serial work), "
            "'1e7' (the compiled sieve on [1, 1e7], other ranges calibrated to take as "
            "long), 'sieve=1e7,trial=2e5,python-sieve=1e5,python-trial=2e4' (as given).\n"
            f"sections: {', '.join(SECTIONS)} (baselines only with --baselines)."
        ),
    )
    add = parser.add_argument
    add("--kernels", type=_csv, help=f"comma-separated, from {', '.join(KERNELS)} (default: all)")
    add(
        "--backends",
        type=_csv,
        help=f"comma-separated, from {', '.join(BACKENDS)} "
        f"(default: {', '.join(DEFAULT_BACKENDS)}; add dask by naming it)",
    )
    ladder = ",".join(map(str, default_workers(cpus)))
    add("--workers", type=_workers, help=f"worker counts, e.g. 1,2,4 (default here: {ladder})")
    add("--algorithms", type=_csv, help="comma-separated, from sieve, trial (default: both)")
    add("--schedules", type=_csv, help="for trial: from dynamic, static (default: both)")
    add(
        "--start-methods",
        type=_csv,
        help=f"for the process backends, from {', '.join(START_METHODS)} (default: all)",
    )
    add("--sections", type=_csv, help=f"comma-separated, from {', '.join(SECTIONS)} (default: all)")
    add("--size", type=_size, help="range sizes: see below (default: 0.25s; --quick: 0.03s)")
    add("--repeat", type=_positive(1), help="measured runs per scenario (default 5; --quick 4)")
    add("--warmup", type=_positive(0), help="warm-up runs per scenario, not counted (default 1)")
    add(
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"directory for results (default {DEFAULT_OUTPUT}/)",
    )
    add("--no-plots", action="store_true", help="do not draw PNG plots")
    add("--quick", action="store_true", help="smaller ranges and fewer runs: under a minute")
    add("--baselines", action="store_true", help="also time NumPy and numba (when installed)")
    add("--no-progress", action="store_true", help="no progress line on stderr")
    return parser


def params_from(args: argparse.Namespace) -> Params:
    """Checked parameters from parsed arguments; ``ValueError`` naming a bad flag."""
    cpus = available_cpus()
    compiled = compiled_available()
    default_kernels = KERNELS if compiled else ("python",)
    kernels = args.kernels or default_kernels
    check_choices(kernels, KERNELS, "kernels")
    if not compiled and any(k != "python" for k in kernels):
        raise ValueError("--kernels: the compiled kernel is not available here; use python")
    backends = args.backends or DEFAULT_BACKENDS
    check_choices(backends, tuple(BACKENDS), "backends")
    check_installed(backends)
    algorithms = args.algorithms or METHODS
    check_choices(algorithms, METHODS, "algorithms")
    schedules = args.schedules or SCHEDULES
    check_choices(schedules, SCHEDULES, "schedules")
    start_methods = args.start_methods or START_METHODS
    check_choices(start_methods, START_METHODS, "start-methods")
    sections = args.sections or SECTIONS
    check_choices(sections, SECTIONS, "sections")
    quick = bool(args.quick)
    spec = args.size or sizing.SizeSpec(
        target=sizing.QUICK_TARGET if quick else sizing.DEFAULT_TARGET
    )
    keys = {f"python-{a}" if k == "python" else a for k in kernels for a in algorithms}
    keys.add("python-sieve" if kernels == ("python",) else "sieve")  # other sections
    sizes = sizing.resolve(spec, tuple(sorted(keys)))
    primary = "compiled-nogil" if "compiled-nogil" in kernels else kernels[-1]
    top = sizes.count(primary, "sieve") or sizes.count(primary, algorithms[0])
    return Params(
        kernels=tuple(k for k in KERNELS if k in kernels),
        backends=tuple(b for b in BACKENDS if b in backends),
        workers=args.workers or default_workers(cpus),
        algorithms=tuple(a for a in METHODS if a in algorithms),
        schedules=tuple(s for s in SCHEDULES if s in schedules),
        start_methods=tuple(m for m in START_METHODS if m in start_methods),
        sections=tuple(s for s in SECTIONS if s in sections),
        sizes=sizes,
        repeat=args.repeat or (4 if quick else 5),
        warmup=1 if args.warmup is None else args.warmup,
        baselines=bool(args.baselines),
        quick=quick,
        cpus=cpus,
        crossover_sizes=crossover_ladder(max(top, 1000)),
        message_chunks=128 if quick else 256,
    )


def _run(argv: list[str], prog: str) -> int:
    from perfectly.benchmark import engine

    parser = run_parser(prog)
    args = parser.parse_args(argv)
    try:
        params = params_from(args)  # calibrates the range sizes: a second or two
    except ValueError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted before anything was measured", file=sys.stderr)
        return engine.INTERRUPTED
    _, _, status = engine.run(
        params,
        output=Path(args.output),
        argv=argv,
        draw_plots=not args.no_plots,
        progress=not args.no_progress,
    )
    return status


def _compare(argv: list[str], prog: str) -> int:
    from perfectly.benchmark import compare, results

    parser = _Parser(
        prog=f"{prog} compare",
        description="Compare two results files, scenario by scenario, with a significance test.",
    )
    parser.add_argument("a", help="the baseline results.json")
    parser.add_argument("b", help="the results.json to compare with it")
    parser.add_argument("--no-scipy", action="store_true", help="use the permutation test")
    args = parser.parse_args(argv)
    try:
        a, b = results.load(args.a), results.load(args.b)
    except results.SchemaError as exc:
        parser.error(str(exc))
    print(compare.render(args.a, a, args.b, b, use_scipy=not args.no_scipy))
    return 0


def _report(argv: list[str], prog: str) -> int:
    from perfectly.benchmark import report, results

    parser = _Parser(
        prog=f"{prog} report",
        description="Print the table and verdict of a results file again (nothing is measured).",
    )
    parser.add_argument("file", help="a results.json")
    args = parser.parse_args(argv)
    try:
        doc = results.load(args.file)
    except results.SchemaError as exc:
        parser.error(str(exc))
    print(report.render(doc))
    return 0


def _race(argv: list[str], prog: str) -> int:
    from perfectly.benchmark import race

    parser = _Parser(
        prog=f"{prog} race",
        description="Lost updates with and without a Lock, and a deadlock detected by timeouts.",
    )
    parser.add_argument("--workers", type=_positive(2), default=2, help="threads/processes (≥ 2)")
    parser.add_argument("--chunks", type=_positive(1), default=400, help="chunks per try")
    parser.add_argument("--chunk-size", type=_positive(1), default=1000, help="numbers per chunk")
    parser.add_argument("--attempts", type=_positive(1), default=20, help="tries at most")
    parser.add_argument("--timeout", type=float, default=0.5, help="acquire timeout, seconds")
    parser.add_argument("--threads-only", action="store_true", help="skip the process variants")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if not 0 < args.timeout <= 60:
        parser.error(f"argument --timeout: must be in (0, 60] seconds, got {args.timeout}")
    result = race.run_race(
        workers=args.workers,
        chunks=args.chunks,
        chunk_size=args.chunk_size,
        attempts=args.attempts,
        timeout=args.timeout,
        processes=not args.threads_only,
    )
    print(json.dumps(result.to_dict(), indent=1) if args.json else race.render(result))
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "python -m bench") -> int:
    """Run the benchmark command line; returns the exit status.

    A reader that stops early (``… report FILE | head``) ends the output quietly, as
    the ``signal`` module's documentation recommends for SIGPIPE.
    """
    try:
        status = _dispatch(list(sys.argv[1:] if argv is None else argv), prog)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at devnull so that it cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


def _dispatch(args: list[str], prog: str) -> int:
    if args[:1] == ["compare"]:
        return _compare(args[1:], prog)
    if args[:1] == ["race"]:
        return _race(args[1:], prog)
    if args[:1] == ["report"]:
        return _report(args[1:], prog)
    if args[:1] == ["run"]:
        args = args[1:]
    return _run(args, prog)
