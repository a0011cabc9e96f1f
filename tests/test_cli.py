"""Command line interface: python -m perfectly ..."""

from __future__ import annotations

import importlib.metadata
import json
import re
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy
from conftest import run_python
from hypothesis import example, given
from hypothesis import strategies as st

import perfectly
from perfectly._cli_numbers import LIMIT, parse_int

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 60, **env: str):
    return run_python("-m", "perfectly", *args, timeout=timeout, **env)


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
        ("2**129", 2**129),
        (str(2**200), 2**200),  # the same rule for digits and powers
        ("2**1023", 2**1023),  # the largest power of two the command line takes
        ("1e100", 10**100),  # exact, though written with an exponent
        ("1.5e3", 1500),
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
    (("sigma", "2**1024"), ["2**1024", "too large"]),
    (("sigma", str(2**1024)), ["too large"]),
    (("sigma", "1e309"), ["1e309", "too large"]),
    (("sigma", "1_0_0_"), ["1_0_0_"]),  # underscores only between digits
    (("sigma", "1__0"), ["1__0"]),
    (("sigma", "\u0661\u0662"), ["\u0661\u0662"]),  # Arabic-Indic 12: int() takes it
    (("sigma", "\u096a\u096b"), ["\u096a\u096b"]),  # Devanagari 45
    (("search", "1", "10", "--workers", "0"), ["≥ 1, or -1 for every cpu, got 0"]),
    (("search", "1", "10", "--workers", "-2"), ["≥ 1, or -1 for every cpu, got -2"]),
    (("search", "1", "10", "--chunk-size", "0"), ["--chunk-size: must be ≥ 1, got 0"]),
    (("search", "1", "10", "--kernel", "gpu"), ["--kernel", "gpu"]),
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


def test_workers_error_in_cli_terms():
    proc = run_cli("search", "1", "10", "--workers", "0")
    assert proc.returncode == 2
    assert "argument --workers: must be ≥ 1, or -1 for every CPU, got 0" in proc.stderr
    assert "None" not in proc.stderr


def test_version_is_the_package_version():
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version, "no version in pyproject.toml"
    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"perfectly {version[1]}\n"
    assert perfectly.__version__ == version[1]
    assert importlib.metadata.version("perfectly") == version[1]


@pytest.mark.parametrize("command", ["bench", "race"])
def test_bench_and_race_without_perfectly_bench_say_what_to_install(command):
    """The benchmark and the race demo are the perfectly-bench distribution: where it is
    not installed (an import of it fails here), one line says what to install."""
    code = (
        "import sys; sys.modules['perfectly_bench'] = None\n"  # `import perfectly_bench` fails
        "from perfectly.__main__ import main\n"
        f"sys.exit(main([{command!r}, '--help']))"
    )
    proc = run_python("-c", code, cwd=Path(__file__).parent)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"perfectly: {command}: ") and "perfectly-bench" in line
    assert "pip install . ./bench" in line


def test_bare_command_prints_usage_with_the_commands():
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("usage: perfectly")
    for command in ("sigma", "search", "bench"):
        assert re.search(rf"^\s+{command}\s+\S", proc.stderr, re.M), command  # with its help


@pytest.mark.parametrize(
    "args,env",
    [
        (("--kernel", "python"), {}),
        ((), {"PERFECTLY_NO_EXTENSIONS": "1"}),  # the default is the active kernel
        (("--kernel", "python", "--backend", "processes", "--workers", "2"), {}),
    ],
    ids=["--kernel-python", "fallback-default", "python-processes"],
)
def test_search_on_the_python_kernel(brute, args, env):
    proc = run_cli("search", "1", "1e6", "--json", *args, timeout=120, **env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    data["multiply_perfect"] = [list(x) for x in data["multiply_perfect"]]
    assert {k: data[k] for k in CENSUS} == _brute_census(brute, 1, 10**6)


def test_compiled_kernel_refused_on_the_fallback():
    proc = run_cli("search", "1", "1e3", "--kernel", "compiled", PERFECTLY_NO_EXTENSIONS="1")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "perfectly: error: the compiled kernel is not available here (PERFECTLY_NO_EXTENSIONS=1)"
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX signals")
def test_ctrl_c_during_sigma_is_one_line_and_status_130(tmp_path):
    # Two 100-bit prime factors: far beyond Pollard-Brent, so sigma runs until interrupted.
    n = sympy.nextprime(2**100) * sympy.nextprime(2**101)
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfectly", "sigma", str(n)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)  # past the imports, into the factorisation
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert out == ""
    assert err == f"perfectly: interrupted while factoring {n}\n"


@pytest.mark.skipif(sys.platform == "win32", reason="a closed pipe is EPIPE on POSIX")
def test_reader_gone_is_no_traceback(tmp_path):
    # `perfectly ... | head`: the reader closes the pipe before the output is written.
    with subprocess.Popen(
        [sys.executable, "-m", "perfectly", "sigma", "28"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 1, err
    assert err == ""


CENSUS = ("lo", "hi", "sigma_sum", "abundant", "deficient", "perfect", "multiply_perfect")

# ------------------------------------------------------------------ the number parser
# Oracles: Python's own int() for digits and underscores, Fraction for decimal notation,
# Python arithmetic for powers.


def _outcome(text: str) -> int | str:
    try:
        return parse_int(text)
    except ValueError as exc:
        return "too large" if "too large" in str(exc) else "refused"


@given(st.text(alphabet="0123456789_", min_size=1, max_size=300))
@example("1_0_0_")
@example("_100")
@example("1__00")
def test_underscores_as_python_places_them(text):
    try:
        want: int | str = int(text)  # under 301 digits: below LIMIT
    except ValueError:
        want = "refused"
    assert _outcome(text) == want


@given(st.text(st.characters(categories=["Nd"], exclude_characters="0123456789"), min_size=1))
@example("\u0661\u0662")  # Arabic-Indic
@example("\u096a\u096b")  # Devanagari
def test_non_ascii_digits_refused(text):
    int(text)  # Python takes them; the command line does not
    assert _outcome(text) == "refused"


@given(
    sign=st.sampled_from(["", "+", "-"]),
    whole=st.integers(0, 10**40),
    fraction=st.one_of(st.none(), st.integers(0, 10**20)),
    exponent=st.one_of(st.none(), st.integers(-60, 400)),
)
@example(sign="", whole=1, fraction=None, exponent=100)
@example(sign="", whole=1, fraction=None, exponent=308)
@example(sign="", whole=1, fraction=None, exponent=309)
@example(sign="-", whole=17976, fraction=9, exponent=304)
def test_decimal_notation_exact_values_only(sign, whole, fraction, exponent):
    text = f"{sign}{whole}" + ("" if fraction is None else f".{fraction}")
    text += "" if exponent is None else f"e{exponent}"
    value = Fraction(text)
    if value.denominator != 1:
        want: int | str = "refused"
    else:
        want = int(value) if abs(value) < LIMIT else "too large"
    assert _outcome(text) == want
    assert _outcome(f"{whole:_}" + text[len(f"{sign}{whole}") :]) == _outcome(text.lstrip("+-"))


@given(
    base=st.integers(0, 10**6),
    exponent=st.integers(0, 2000),
    sign=st.sampled_from(["+", "-"]),
    offset=st.one_of(st.none(), st.integers(0, 2**1030)),
)
@example(base=2, exponent=1024, sign="-", offset=1)
@example(base=2, exponent=1024, sign="-", offset=0)
@example(base=0, exponent=0, sign="+", offset=None)
def test_power_notation(base, exponent, sign, offset):
    text = f"{base}**{exponent}" + ("" if offset is None else f"{sign}{offset}")
    value = base**exponent + (0 if offset is None else int(f"{sign}{offset}"))
    want = value if abs(value) < LIMIT and (offset or 0) < LIMIT else "too large"
    assert _outcome(text) == want


@pytest.mark.parametrize("k", [1, 129, 200, 1023, 1024, 1025, 3000])
def test_one_limit_for_every_notation(k):
    n = 2**k
    ten = 10 ** min(k, 400)
    want = n if n < LIMIT else "too large"
    assert _outcome(f"2**{k}") == want
    assert _outcome(f"{n}e0") == want
    assert _outcome(f"{n}.0") == want
    assert _outcome(f"{n:_}") == want
    want_ten = ten if ten < LIMIT else "too large"
    assert _outcome(f"10**{min(k, 400)}") == want_ten
    assert _outcome(f"1e{min(k, 400)}") == want_ten


@pytest.mark.parametrize("text", ["10**10**10", "1e999999999999999999999999", "9" * 5000])
def test_huge_texts_refused_quickly(text):
    start = time.perf_counter()
    assert _outcome(text) in ("too large", "refused")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("n", [1, 6, 12, 945, 2**61 - 1, 2**89 - 1, 10**100])
def test_cli_sigma_json(n):
    proc = run_cli("sigma", str(n), "--json")
    assert proc.returncode == 0, proc.stderr
    s = int(sympy.divisor_sigma(n))
    kind = "perfect" if s == 2 * n else "abundant" if s > 2 * n else "deficient"
    assert json.loads(proc.stdout) == {"n": n, "sigma": s, "aliquot": s - n, "class": kind}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e15+4e6", 10**15 + 4 * 10**6),
        ("2**64-1e9", 2**64 - 10**9),
        ("2**64 - 10**9", 2**64 - 10**9),
        ("1e12 + 2**20 - 1", 10**12 + 2**20 - 1),
        ("-2**3+1", -7),
        ("1.5e3+5", 1505),
    ],
)
def test_a_number_may_be_a_sum_of_terms(text, value):
    """`1e15+4e6` was refused though `2**61-1` was accepted (2026-12-05)."""
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["1+", "+", "1++1", "1+1.5", "1" + "+1" * 8, "2**-1", "1e3e3"])
def test_a_sum_with_a_bad_term_is_refused(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_int(text)


def test_the_cli_takes_a_window_at_2_64_as_it_is_written():
    proc = run_cli("search", "2**64-1e3", "2**64", "--json", "--backend", "serial")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["lo"], data["hi"], data["verified"]) == (2**64 - 1000, 2**64, True)
