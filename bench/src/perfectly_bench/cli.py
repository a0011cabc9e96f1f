"""The benchmark's command line: run (the default), ``compare``, ``report`` and ``race``.

Reached as ``python -m bench …`` from a checkout, or ``python -m perfectly bench …``
from an installed package. A bad command line prints one line on stderr and exits 2.
``report FILE --html`` also writes report.html beside FILE (:mod:`.report.html`).
``race`` is an alias of ``python -m perfectly race`` (:mod:`perfectly_bench.race`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from perfectly import (
    BACKENDS,
    MAX_WORKERS,
    METHODS,
    PROCESS_BACKENDS,
    START_METHODS,
    available_cpus,
)
from perfectly_bench.arguments import OneLineParser, add_presets, add_python_flag, at_least
from perfectly_bench.measure import baselines
from perfectly_bench.scenarios import rigor, sizing
from perfectly_bench.scenarios.matrix import (
    BASELINE_SECTIONS,
    BENCH_SCHEDULES,
    SECTIONS,
    VARIANTS,
    Params,
    compiled_available,
    crossover_ladder,
    default_workers,
)

DEFAULT_OUTPUT = "bench-results"
#: Backends that need an optional package: they run only when --backends names them.
OPTIONAL_BACKENDS = {
    "dask": (
        "distributed",
        "pip install 'dask[distributed]' (in a checkout: pip install '.[dask]')",
    ),
    "interpreters": (
        "concurrent.interpreters" if sys.version_info >= (3, 14) else "interpreters_backport",
        "Python 3.14+, or on 3.13 pip install interpreters-pep-734 (in a checkout: "
        "pip install '.[interpreters]')",
    ),
}
#: The default --backends: every backend that runs without optional packages.
DEFAULT_BACKENDS = tuple(b for b in BACKENDS if b not in OPTIONAL_BACKENDS)
#: --quick measures the contenders that carry the lesson, one worker per CPU, on ranges as
#: big as the full run's: fewer contenders rather than ranges too small for the answer.
QUICK_BACKENDS = ("serial", "threads", "processes")
#: Old flag names still accepted, with a note on stderr.
DEPRECATED_FLAGS = {"--algorithms": "--methods", "--kernels": "--variants"}


class _Deprecated(argparse.Action):
    """Stores like its new name, and keeps the old name for a note once the flags pass."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.deprecated = [*getattr(namespace, "deprecated", []), str(option)]


def _program(path: str) -> str:
    """A program this user may run, as an absolute path (--yardstick)."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise argparse.ArgumentTypeError(f"{path!r} is not an executable file")
    return os.path.abspath(path)


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _workers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(item) for item in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers such as 1,2,4, got {text!r}") from None
    if not values or any(not 1 <= v <= MAX_WORKERS for v in values):
        raise argparse.ArgumentTypeError(
            f"worker counts must be from 1 to {MAX_WORKERS}, got {text!r}"
        )
    return tuple(sorted(set(values)))


def _size(text: str) -> sizing.SizeSpec:
    try:
        return sizing.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--size: ")) from None


def _choices(add: Callable[..., Any], cpus: int) -> None:
    """The flags that choose the scenarios of a run."""
    add("--variants", type=_csv, help=f"comma-separated, from {', '.join(VARIANTS)} (default: all)")
    add("--kernels", type=_csv, dest="variants", action=_Deprecated, help=argparse.SUPPRESS)
    add(
        "--backends",
        type=_csv,
        help=f"comma-separated, from {', '.join(BACKENDS)} "
        f"(default: {', '.join(DEFAULT_BACKENDS)}; --quick: {', '.join(QUICK_BACKENDS)}; "
        "add dask or interpreters by naming them)",
    )
    ladder = ",".join(map(str, default_workers(cpus)))
    add(
        "--workers",
        type=_workers,
        help=f"worker counts, e.g. 1,2,4 (default here: {ladder}; --quick: {cpus})",
    )
    add("--methods", type=_csv, help=f"comma-separated, from {', '.join(METHODS)} (default: all)")
    add("--algorithms", type=_csv, dest="methods", action=_Deprecated, help=argparse.SUPPRESS)
    add(
        "--schedules",
        type=_csv,
        help=f"for trial: from {', '.join(BENCH_SCHEDULES)} (default: both)",
    )
    add(
        "--start-methods",
        type=_csv,
        help=f"for the process backends, from {', '.join(START_METHODS)} (default: all)",
    )
    add("--sections", type=_csv, help=f"comma-separated, from {', '.join(SECTIONS)} (default: all)")


def run_parser(prog: str) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=prog,
        description="Threads or processes? Measure it on this machine. Subcommands: "
        f"'{prog} compare A.json B.json', '{prog} report A.json', '{prog} race'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "--size forms: '0.5s' (calibrate each range to about 0.5 s of serial work), "
            "'1e7' (the compiled sieve on [1, 1e7], other ranges calibrated to take as "
            "long), 'sieve=1e7,trial=2e5,python-sieve=1e5,python-trial=2e4' (as given).\n"
            f"sections: {', '.join(SECTIONS)} ({' and '.join(BASELINE_SECTIONS)} only "
            "with --baselines)."
        ),
    )
    add = parser.add_argument
    _choices(add, available_cpus())
    add("--size", type=_size, help="range sizes: see below (default, --quick too: 0.25s)")
    add(
        "--repeat",
        type=at_least(1),
        help="exactly this many measured runs per scenario, no adaptive rounds "
        "(default: 5 to 15 rounds, until each median is known within ±5%%; see --rigorous)",
    )
    add("--warmup", type=at_least(0), help="warm-up runs per scenario, not counted (default 1)")
    add(
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"directory for results (default {DEFAULT_OUTPUT}/)",
    )
    add("--no-plots", action="store_true", help="do not draw PNG plots")
    add(
        "--quick",
        action="store_true",
        help="under a minute: serial, threads and processes at one worker per CPU, 4 to 6 rounds",
    )
    add(
        "--baselines",
        action="store_true",
        help="also NumPy and numba (when installed): the kernels and baselines sections",
    )
    add(
        "--yardstick",
        type=_program,
        metavar="PATH",
        help="a build of the C yardstick (../shared/perf/sigma.c): its points join the "
        "kernels section's cost curve, and it runs on 1 and on the threads' worker counts "
        "in the baselines section (with --baselines)",
    )
    add("--no-progress", action="store_true", help="no progress line on stderr")
    add_presets(parser)
    add_python_flag(add)
    return parser


def _checked(
    values: tuple[str, ...] | None, default: tuple[str, ...], flag: str, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    """``values`` (or ``default``) in ``allowed``'s order; ``ValueError`` naming ``flag``."""
    chosen = default if values is None else values
    if not chosen:
        raise ValueError(f"{flag} needs at least one value")
    for value in chosen:
        if value not in allowed:
            raise ValueError(f"{flag} must be one of {allowed}, got {value!r}")
    return tuple(v for v in allowed if v in chosen)


def check_installed(backends: tuple[str, ...]) -> None:
    """A ``ValueError`` naming the first backend whose optional package is missing."""
    for backend in backends:
        if backend in OPTIONAL_BACKENDS:
            module, hint = OPTIONAL_BACKENDS[backend]
            if importlib.util.find_spec(module) is None:
                raise ValueError(f"--backends: {backend} needs {module}, not installed ({hint})")


def _variants(values: tuple[str, ...] | None) -> tuple[str, ...]:
    compiled = compiled_available()
    variants = _checked(values, VARIANTS if compiled else ("python",), "--variants", VARIANTS)
    if not compiled and variants != ("python",):
        raise ValueError("--variants: the compiled kernel is not available here; use python")
    return variants


def _start_methods(values: tuple[str, ...] | None, backends: tuple[str, ...]) -> tuple[str, ...]:
    """The start methods to measure: all but ``fork`` in a run that also runs worker
    interpreters, since ``search`` refuses to fork a process where they have run (a note
    says so; ``ValueError`` where ``fork`` was all that was asked for)."""
    chosen = _checked(values, START_METHODS, "--start-methods", START_METHODS)
    forks = "fork" in chosen and "interpreters" in backends
    if not forks or not set(backends) & set(PROCESS_BACKENDS):
        return chosen
    kept = tuple(m for m in chosen if m != "fork")
    if not kept:
        raise ValueError(
            "--start-methods: fork cannot be measured in a run with --backends interpreters "
            "(CPython does not support fork() after subinterpreters); add spawn or forkserver"
        )
    print(
        "note: fork is not measured in this run: it runs worker interpreters, and CPython does "
        "not support fork() after subinterpreters (leave interpreters out to measure fork)",
        file=sys.stderr,
    )
    return kept


def params_from(args: argparse.Namespace) -> Params:
    """Checked parameters from parsed arguments; ``ValueError`` naming a bad flag."""
    cpus = available_cpus()
    variants = _variants(args.variants)
    quick = bool(args.quick)
    default_backends = QUICK_BACKENDS if quick else DEFAULT_BACKENDS
    backends = _checked(args.backends, default_backends, "--backends", BACKENDS)
    check_installed(backends)
    methods = _checked(args.methods, METHODS, "--methods", METHODS)
    spec = args.size or sizing.SizeSpec(target=sizing.default_target(cpus))
    keys = {f"python-{m}" if v == "python" else m for v in variants for m in methods}
    keys.add("python-sieve" if variants == ("python",) else "sieve")  # other sections
    sizes = sizing.resolve(spec, tuple(sorted(keys)))
    primary = "compiled-nogil" if "compiled-nogil" in variants else variants[-1]
    top = sizes.count(primary, "sieve") or sizes.count(primary, methods[0])
    chosen = rigor.policy(getattr(args, "preset", None), quick, args.repeat, args.warmup)
    return Params(
        variants=variants,
        backends=backends,
        workers=args.workers or ((cpus,) if quick else default_workers(cpus)),
        methods=methods,
        schedules=_checked(args.schedules, BENCH_SCHEDULES, "--schedules", BENCH_SCHEDULES),
        start_methods=_start_methods(args.start_methods, backends),
        sections=_checked(args.sections, SECTIONS, "--sections", SECTIONS),
        sizes=sizes,
        repeat=chosen.repeat,
        warmup=chosen.warmup,
        baselines=bool(args.baselines),
        quick=quick,
        cpus=cpus,
        crossover_sizes=crossover_ladder(max(top, 1000)),
        message_chunks=128 if quick else 256,
        yardstick=args.yardstick,
    )


def _run(argv: list[str], prog: str) -> int:
    from perfectly_bench import engine

    parser = run_parser(prog)
    args = parser.parse_args(argv)
    try:
        engine.check_output(Path(args.output))
    except ValueError as exc:
        parser.error(str(exc))
    if args.python:
        from perfectly_bench import pythons

        return pythons.main(args, argv, parser, params_from)
    try:
        params = params_from(args)  # calibrates the range sizes: a second or two
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted before anything was measured", file=sys.stderr)
        return engine.INTERRUPTED
    for old in getattr(args, "deprecated", []):
        print(f"{prog}: note: {old} is deprecated, use {DEPRECATED_FLAGS[old]}", file=sys.stderr)
    baselines.yardstick = params.yardstick
    _, _, status = engine.run(
        params,
        policy=rigor.policy(args.preset, params.quick, args.repeat, args.warmup),
        output=Path(args.output),
        argv=argv,
        draw_plots=not args.no_plots,
        progress=not args.no_progress,
    )
    return status


def _compare(argv: list[str], prog: str) -> int:
    from perfectly_bench.records import results
    from perfectly_bench.report import compare

    parser = OneLineParser(
        prog=f"{prog} compare",
        description="Compare two results files, scenario by scenario, with a significance test.",
    )
    parser.add_argument("a", help="the baseline results.json")
    parser.add_argument("b", help="the results.json to compare with it")
    parser.add_argument("--no-scipy", action="store_true", help="use the permutation test")
    args = parser.parse_args(argv)
    with _readable(parser, args.a, args.b):
        a, b = results.load(args.a), results.load(args.b)
        text = compare.render(args.a, a, args.b, b, use_scipy=not args.no_scipy)
    print(text)
    return 0


def _report(argv: list[str], prog: str) -> int:
    from perfectly_bench.records import results
    from perfectly_bench.report import html, table

    parser = OneLineParser(
        prog=f"{prog} report",
        description="Print the table and verdict of a results file again (nothing is measured).",
    )
    parser.add_argument("file", help="a results.json")
    parser.add_argument(
        "--html",
        action="store_true",
        help=f"also write {html.NAME} next to FILE (the report with its plots embedded) "
        "and print its path",
    )
    args = parser.parse_args(argv)
    folder = Path(args.file).parent
    with _readable(parser, args.file):
        done = results.load(args.file)
        text = table.render(done)
        try:
            written = html.write(done, folder) if args.html else None
        except OSError as exc:
            parser.error(f"{folder / html.NAME}: cannot be written ({exc.strerror or exc})")
    print(text)
    if written is not None:
        print(f"\nreport:  {written}")
    return 0


#: What a results file that passes the schema's checks but was edited (a number where a
#: list was, a key removed deep in the derived figures) raises when it is rendered. A file
#: this version wrote never does: the tests render every kind it writes.
_MALFORMED = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)


@contextlib.contextmanager
def _readable(parser: argparse.ArgumentParser, *files: str) -> Iterator[None]:
    """Turn an unreadable or malformed results file into one line and exit status 2."""
    from perfectly_bench.records import results

    try:
        yield
    except results.SchemaError as exc:
        parser.error(str(exc))
    except _MALFORMED as exc:
        names = " or ".join(files)
        parser.error(
            f"{names}: not a results file this version can read "
            f"({type(exc).__name__}: {exc}; edited, or written by another version?)"
        )


def _race(argv: list[str], prog: str) -> int:
    from perfectly_bench import race

    return race.main(argv, prog=f"{prog} race")


COMMANDS = {"compare": _compare, "report": _report, "race": _race, "run": _run}


def main(argv: Sequence[str] | None = None, prog: str = "python -m bench") -> int:
    """Run the benchmark command line; returns the exit status.

    A reader that stops early (``… report FILE | head``) ends the output quietly, as
    the ``signal`` module's documentation recommends for SIGPIPE.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    command = COMMANDS.get(args[0]) if args else None
    try:
        status = command(args[1:], prog) if command else _run(args, prog)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at devnull so that it cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


def console() -> int:
    """The ``perfectly-bench`` command (an entry point of the perfectly-bench distribution)."""
    return main(prog="perfectly-bench")
