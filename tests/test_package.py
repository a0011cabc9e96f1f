"""What a newcomer gets: the license and metadata of the installed package, the README's
Python examples as doctests, and its Quick start, run as written in a fresh virtual
environment.

The Quick start test builds the package (about a minute): it is marked ``install``, and
cibuildwheel's test command leaves it out (every wheel would build it again).
"""

from __future__ import annotations

import doctest
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PERFECT_NUMBERS

import perfectly

ROOT = Path(__file__).resolve().parent.parent

# Known sequences, not this program's output: the perfect numbers (OEIS A000396) and the
# multiply-perfect numbers with k = σ(n)/n ≥ 3 (OEIS A007539, k from A054030) below 3e7.
PERFECT = [p for p in PERFECT_NUMBERS if p < 3 * 10**7]
MULTIPLY_PERFECT = [
    (120, 3),
    (672, 3),
    (30240, 4),
    (32760, 4),
    (523776, 3),
    (2178540, 4),
    (23569920, 4),
]
# Left behind when the checkout is copied: what a build or a test run leaves in it.
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(
    ".git", "build", "dist", "wheelhouse", "bench-results", "*.egg-info", "__pycache__",
    ".*_cache", ".hypothesis", ".venv*", "*.so", "*.pyd", "_kernel.c",
)  # fmt: skip


def _console_blocks(section: str) -> list[str]:
    """The ```console blocks of the README section headed ``section``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    body = readme.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```console\n(.*?)```", body, re.S)]


def _sum_sigma(x: int) -> int:
    """Σ σ(n) for n ≤ x = Σ_{d ≤ x} d·⌊x/d⌋, grouping the d with equal ⌊x/d⌋."""
    total, d = 0, 1
    while d <= x:
        q = x // d
        last = x // q
        total += q * (d + last) * (last - d + 1) // 2
        d = last + 1
    return total


def test_sum_sigma_oracle_by_brute_force():
    assert [_sum_sigma(x) for x in range(1, 9)] == [1, 4, 8, 15, 21, 33, 41, 56]
    x = 5000
    assert _sum_sigma(x) == sum(d * (x // d) for d in range(1, x + 1))


def test_license_ships_with_the_package():
    dist = importlib.metadata.distribution("perfectly")
    assert dist.metadata["License-Expression"] == "MIT"
    licenses = [f for f in dist.files or () if f.name == "LICENSE"]
    assert len(licenses) == 1, dist.files
    text = licenses[0].read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 perfectly developers\n")
    if (ROOT / "LICENSE").exists():  # a checkout or an sdist: the same file
        assert text == (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_the_library_ships_no_benchmark():
    """The benchmark and the race demo are perfectly-bench (bench/): ``pip install .``
    installs neither, nor the numba port of the sieve, and neither the library nor its
    tests need matplotlib, numba or scipy."""
    dist = importlib.metadata.distribution("perfectly")
    files = [str(f) for f in dist.files or ()]
    shipped = [f for f in files if re.search(r"(^|/)(benchmark|race|_numba_kernels)(/|\.py)", f)]
    assert shipped == []
    needs = [r for r in dist.requires or () if "extra ==" not in r or 'extra == "test"' in r]
    assert not [r for r in needs if re.match(r"(matplotlib|numba|scipy)\b", r)], needs


@pytest.mark.skipif(sys.platform == "win32", reason="an example uses start_method='fork'")
@pytest.mark.skipif(
    perfectly.build_info()["core"] != "compiled", reason="ranges sized for the compiled kernel"
)
def test_readme_python_examples_are_true():
    """Every ``>>>`` example of the README gives the output shown (timings are shown as
    checks, never as values)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 3
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md", None, 0)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.write)
    assert result.attempted >= 15
    assert result.failed == 0, report.getvalue()


def test_ci_runs_the_readme_test_command():
    ci = ROOT / ".ci" / "run"
    if not ci.exists():
        pytest.skip("not a checkout (an sdist has no .ci/run)")
    _install_and_search, install_and_test = _console_blocks("Quick start")
    assert install_and_test == 'python -m pip install ".[test]" && python -m pytest tests'
    assert install_and_test in ci.read_text(encoding="utf-8").splitlines()


@pytest.mark.install
@pytest.mark.timeout(1200)
def test_quick_start_in_a_fresh_venv(tmp_path):
    """The Quick start's first command, as written, in a fresh venv (no system site
    packages) with only what that command installs."""
    command = _console_blocks("Quick start")[0]
    assert command.startswith("python -m pip install . && python -m perfectly search ")
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=NOT_IN_A_CHECKOUT)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFECTLY_", "PYTHON"))}
    env |= {"PATH": os.pathsep.join([str(bin_dir), env["PATH"]]), "VIRTUAL_ENV": str(venv)}
    proc = subprocess.run(
        command, shell=True, cwd=checkout, env=env, capture_output=True, text=True, timeout=1100
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    hi = int(re.search(r"search 1 ([\d_]+)$", command)[1].replace("_", ""))
    assert f"census of [1, {hi}): {hi - 1:,} numbers in " in out
    assert re.search(r"^  perfect: +(.*)$", out, re.M)[1] == ", ".join(map(str, PERFECT))
    multi = ", ".join(f"{n} (k={k})" for n, k in MULTIPLY_PERFECT if n < hi)
    assert re.search(r"^  multiply-perfect: +(.*)$", out, re.M)[1] == multi
    sigma_sum = _sum_sigma(hi - 1)
    assert f"  sum of sigma:     {sigma_sum} (verified against the closed form)" in out
    # Only what the command installs: no test extras in the venv.
    listed = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "list"], env=env, capture_output=True, text=True
    ).stdout
    assert "perfectly" in listed and "pytest" not in listed and "sympy" not in listed


# OEIS A007539 (k = σ(n)/n ≥ 3) between 3e7 and 1e12.
MULTIPLY_PERFECT_TO_1E12 = [
    *MULTIPLY_PERFECT,
    (45532800, 4),
    (142990848, 4),
    (459818240, 3),
    (1379454720, 4),
    (1476304896, 3),
    (14182439040, 5),
    (31998395520, 5),
    (43861478400, 4),
    (51001180160, 3),
    (66433720320, 4),
    (153003540480, 4),
    (403031236608, 4),
    (518666803200, 5),
    (704575228896, 4),
]
PERFECT_TO_1E12 = [p for p in PERFECT_NUMBERS if p < 10**12]


def test_readme_census_of_1e12_is_true():
    """The README's census of [1, 1e12) (a 33-minute run, not repeated here) against the
    known sequences, σ by SymPy, and Σσ by the O(√x) closed form."""
    sympy = pytest.importorskip("sympy")
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("not a checkout or an sdist: no README.md")
    line = re.search(r"^\{\"lo\": 1, \"hi\": 1000000000000, .*\}$", readme.read_text("utf-8"), re.M)
    assert line is not None, "the README shows no census of [1, 1e12)"
    shown = json.loads(line[0])
    assert shown["verified"] is True and shown["count"] == 10**12 - 1
    assert shown["perfect"] == PERFECT_TO_1E12
    assert [tuple(pair) for pair in shown["multiply_perfect"]] == MULTIPLY_PERFECT_TO_1E12
    for n, k in MULTIPLY_PERFECT_TO_1E12:
        assert sympy.divisor_sigma(n) == k * n
    assert shown["abundant"] + shown["deficient"] + len(shown["perfect"]) == shown["count"]
    assert shown["sigma_sum"] == _sum_sigma(10**12 - 1)


# The next multiply-perfect numbers after 704575228896 (OEIS A046060, k = 5, and A027687,
# k = 4; k = 3 ends at 51001180160, A005820; k = 6 begins beyond 2**64, A046061) and the
# next perfect number (A000396): none lies in [1e12, 2e12).
NEXT_MULTIPLY_PERFECT = [(13661860101120, 5), (181742883469056, 4)]


def test_readme_census_of_1e12_to_2e12_is_true():
    """The README's census of [1e12, 2e12) (an hour, not repeated here): nothing perfect
    or multiply perfect, as the known sequences say, and Σσ by the O(√x) closed form."""
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("not a checkout or an sdist: no README.md")
    pattern = r"^\{\"lo\": 1000000000000, \"hi\": 2000000000000, .*\}$"
    line = re.search(pattern, readme.read_text("utf-8"), re.M)
    assert line is not None, "the README shows no census of [1e12, 2e12)"
    shown = json.loads(line[0])
    assert shown["verified"] is True and shown["count"] == 10**12
    assert min(n for n, _ in NEXT_MULTIPLY_PERFECT) > 2 * 10**12
    assert min(p for p in PERFECT_NUMBERS if p > 10**12) > 2 * 10**12
    assert shown["perfect"] == [] and shown["multiply_perfect"] == []
    assert shown["abundant"] + shown["deficient"] == shown["count"]
    assert shown["sigma_sum"] == _sum_sigma(2 * 10**12 - 1) - _sum_sigma(10**12 - 1)
