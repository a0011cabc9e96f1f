"""Command-line pieces shared by ``bench`` and ``race``: a parser whose errors are one
line with exit status 2, and argument types that say what they expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn


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
