"""Command-line pieces shared by ``bench`` and ``race``: a parser whose errors are one
line with exit status 2, and argument types that say what they expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from perfectly_bench.common.formatting import counted


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def at_least(minimum: int) -> Callable[[str], int]:
    """An argument type: an integer ≥ ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum}, got {value}")
        return value

    return parse


def add_presets(parser: argparse.ArgumentParser) -> None:
    """--fast and --rigorous (one or neither): how many rounds, how tight a bound."""
    from perfectly_bench.scenarios.rigor import PRESETS

    def describe(name: str) -> str:
        p = PRESETS[name]
        return (
            f"{p.repeat} to {p.max_rounds} rounds per scenario, until the median's 95 %% "
            f"interval is within ±{p.bound * 100:.0f}%%; {counted(p.warmup, 'warm-up')}; up to "
            f"{counted(p.reruns, 'disturbed run')} re-run per scenario"
        )

    presets = parser.add_mutually_exclusive_group()
    presets.add_argument(
        "--fast",
        dest="preset",
        action="store_const",
        const="fast",
        help=f"fewer rounds, a looser bound: {describe('fast')}",
    )
    presets.add_argument(
        "--rigorous",
        dest="preset",
        action="store_const",
        const="rigorous",
        help=f"more rounds, a tighter bound: {describe('rigorous')} (default: "
        f"{describe('default')}; --quick: {describe('quick')})",
    )


def add_python_flag(add: Callable[..., Any]) -> None:
    """``--python PATH`` (repeatable): the same run under other interpreters, merged."""
    add(
        "--python",
        action="append",
        metavar="PATH",
        default=[],
        help="also run under the Python at PATH (repeatable; perfectly of this version must "
        "be installed there), and merge: one results file, table and verdict with the "
        "interpreter as a dimension. The running interpreter comes first; the ranges are "
        "sized here once; default backends then: serial, threads, interpreters (where "
        "supported), processes",
    )
