"""Command line: ``python -m perfectly sigma N``, ``… search LO HI`` and ``… bench``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from perfectly._cli_numbers import parse_int
from perfectly.arithmetic import aliquot, classify, sigma, sum_sigma
from perfectly.census import Census, census


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(text: str) -> int:
    try:
        return parse_int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfectly", description="Divisor sums and perfect numbers.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    one = commands.add_parser("sigma", help="σ(n), s(n) and the class of one number")
    one.add_argument("n", type=_integer, help="an integer ≥ 1 (e.g. 496, 2**61-1)")
    one.add_argument("--json", action="store_true", help="print JSON")
    search = commands.add_parser("search", help="census of the range [LO, HI)")
    search.add_argument("lo", type=_integer, help="first number (≥ 1)")
    search.add_argument("hi", type=_integer, help="end of the range, excluded (≤ 2**64)")
    search.add_argument("--method", choices=("sieve", "trial"), default="sieve")
    search.add_argument("--amicable", action="store_true", help="also find amicable pairs")
    search.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser(  # listed for --help; main() hands "bench …" to the engine first
        "bench", help="threads vs processes, measured (see: perfectly bench --help)"
    )
    return parser


def _print_sigma(n: int, as_json: bool) -> None:
    s = sigma(n)
    kind = classify(n).value
    if as_json:
        print(json.dumps({"n": n, "sigma": s, "aliquot": aliquot(n), "class": kind}))
    else:
        print(f"sigma({n}) = {s}\naliquot sum s({n}) = {s - n}\n{n} is {kind}")


def _print_census(result: Census, seconds: float, verified: bool, as_json: bool) -> None:
    if as_json:
        print(json.dumps({**result.to_dict(), "verified": verified, "seconds": seconds}))
        return
    multi = ", ".join(f"{n} (k={k})" for n, k in result.multiply_perfect) or "none"
    lines = [
        f"census of [{result.lo}, {result.hi}): {result.count:,} numbers in {seconds:.2f} s",
        f"  perfect:          {', '.join(map(str, result.perfect)) or 'none'}",
        f"  multiply-perfect: {multi}",
        f"  abundant:         {result.abundant:,}",
        f"  deficient:        {result.deficient:,}",
        f"  sum of sigma:     {result.sigma_sum} "
        f"({'verified' if verified else 'MISMATCH'} against the closed form)",
    ]
    if result.amicable is not None:
        pairs = ", ".join(f"({a}, {b})" for a, b in result.amicable) or "none"
        lines.append(f"  amicable pairs:   {pairs}")
    print("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["bench"]:
        from perfectly.benchmark import main as bench

        return bench(args_list[1:], prog="python -m perfectly bench")
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "sigma":
            _print_sigma(args.n, args.json)
            return 0
        start = time.perf_counter()
        result = census(args.lo, args.hi, method=args.method, amicable=args.amicable)
        seconds = time.perf_counter() - start
    except (TypeError, ValueError, OverflowError) as exc:
        parser.exit(2, f"perfectly: error: {exc}\n")
    expected = sum_sigma(result.hi - 1) - sum_sigma(result.lo - 1) if result.count else 0
    verified = expected == result.sigma_sum
    _print_census(result, seconds, verified, args.json)
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
