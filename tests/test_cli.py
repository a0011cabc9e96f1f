"""Command line interface: python -m perfectly ..."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy


def run_cli(*args: str, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "perfectly", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _tokens(text: str) -> set[str]:
    """Integer tokens in text, with digit-group separators (1,234 / 1_234) removed."""
    text = re.sub(r"(?<=\d)[,_](?=\d{3})", "", text)
    return set(re.findall(r"\d+", text))


@pytest.mark.parametrize(
    "arg,n",
    [
        ("28", 28),
        ("1", 1),
        ("30000000", 30_000_000),
        ("30_000_000", 30_000_000),
        ("3e7", 30_000_000),
        ("2**40", 2**40),
        ("18446744073709551557", 18446744073709551557),
        ("18446744073709551615", 2**64 - 1),
        ("2**70", 2**70),
    ],
)
def test_cli_sigma(arg, n):
    proc = run_cli("sigma", arg)
    assert proc.returncode == 0, proc.stderr
    want = sympy.divisor_sigma(n)
    assert str(want) in _tokens(proc.stdout), proc.stdout


def _brute_census(brute, lo, hi):
    table = brute.sigma_table(10**6)
    n = np.arange(lo, hi, dtype=np.int64)
    s = table[lo:hi]
    mult = (s % n == 0) & (s // n >= 3)
    return dict(
        lo=lo,
        hi=hi,
        sigma_sum=int(s.sum()),
        abundant=int(np.count_nonzero(s > 2 * n)),
        deficient=int(np.count_nonzero(s < 2 * n)),
        perfect=[int(x) for x in n[s == 2 * n]],
        multiply_perfect=[[int(a), int(b)] for a, b in zip(n[mult], (s // n)[mult], strict=True)],
    )


@pytest.mark.parametrize(
    "lo_arg,hi_arg,lo,hi",
    [
        ("1", "20001", 1, 20_001),
        ("100", "1e5", 100, 100_000),
        ("2**10", "600_000", 1024, 600_000),
        ("5", "5", 5, 5),
    ],
)
def test_cli_search_json(brute, lo_arg, hi_arg, lo, hi):
    proc = run_cli("search", lo_arg, hi_arg, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    want = _brute_census(brute, lo, hi)
    for key, value in want.items():
        got = data[key]
        if key == "multiply_perfect":
            got = [list(x) for x in got]
        assert got == value, key


def test_cli_search_readable(brute):
    proc = run_cli("search", "1", "10_000")
    assert proc.returncode == 0, proc.stderr
    want = _brute_census(brute, 1, 10_000)
    tokens = _tokens(proc.stdout)
    for n in want["perfect"]:
        assert str(n) in tokens
    assert "120" in tokens and "672" in tokens  # the 3-perfect numbers
    assert str(want["sigma_sum"]) in tokens
    assert str(want["abundant"]) in tokens
    assert str(want["deficient"]) in tokens
    with pytest.raises(json.JSONDecodeError):  # readable text, not JSON
        json.loads(proc.stdout)


BAD = [
    (("sigma", "abc"), ["abc", "n"]),
    (("sigma", "3.5"), ["3.5", "n"]),
    (("sigma", "1e-3"), ["1e-3", "n"]),
    (("sigma", "2**0.5"), ["2**0.5", "n"]),
    (("sigma", "0"), ["0", "n"]),
    (("sigma", "-5"), ["-5", "n"]),
    (("sigma",), ["n", "required", "argument"]),
    (("sigma", "1", "2"), ["2", "unrecognized", "argument"]),
    (("search", "10", "5"), ["lo", "hi"]),
    (("search", "1"), ["hi", "required", "argument"]),
    (("search",), ["lo", "required", "argument"]),
    (("search", "1", "abc"), ["abc", "hi"]),
    (("search", "x1", "10"), ["x1", "lo"]),
    (("search", "0", "10"), ["lo", "0"]),
    (("search", "-3", "10"), ["lo", "-3"]),
    (("search", "1", "2**65"), ["hi", "2**65"]),
    (("search", "1.5", "10"), ["lo", "1.5"]),
    (("search", "1", "10", "--json", "--bogus"), ["bogus", "unrecognized"]),
    (("frobnicate", "3"), ["frobnicate", "choice", "command"]),
]


@pytest.mark.parametrize("args,mentions", BAD, ids=[" ".join(a) or "none" for a, _ in BAD])
def test_cli_bad_arguments(args, mentions):
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    msg = lines[0].lower()
    assert any(_mentions(msg, m.lower()) for m in mentions), msg


def _mentions(msg: str, word: str) -> bool:
    if word.isalnum():
        return re.search(rf"\b{re.escape(word)}\b", msg) is not None
    return word in msg
