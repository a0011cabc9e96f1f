"""On a free-threaded CPython, importing perfectly leaves the GIL disabled.

The extension is built with ``freethreading_compatible=True`` (setup.py), which
declares ``Py_mod_gil = Py_MOD_GIL_NOT_USED``. Without it, a free-threaded
interpreter re-enables the GIL when the module is imported, with a RuntimeWarning.
The check runs in a fresh interpreter with ``PYTHON_GIL`` removed from the
environment: ``PYTHON_GIL=0`` would keep the GIL off whatever the module declares,
and so would prove nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig

import pytest
from conftest import PERFECT_NUMBERS

import perfectly

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

CHECK = """
import json, sys
import perfectly, perfectly._kernel
print(json.dumps({"gil": sys._is_gil_enabled(), "core": perfectly.build_info()["core"]}))
"""


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded (3.13t/3.14t) CPython")
def test_import_keeps_gil_disabled(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PERFECTLY_NO_EXTENSIONS")
    }
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", CHECK],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"gil": False, "core": "compiled"}


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded (3.13t/3.14t) CPython")
def test_build_info_reports_free_threading():
    info = perfectly.build_info()
    assert info["free_threaded_build"] is True
    assert info["gil_enabled"] == sys._is_gil_enabled()


# --------------------------------------------------------------------------------------
# Another interpreter that is free-threaded: PERFECTLY_FT_PYTHON (e.g. a 3.13t venv)
# --------------------------------------------------------------------------------------

FT_PYTHON = os.environ.get("PERFECTLY_FT_PYTHON")
#: Below this speedup of the compiled kernel's threads, the machine is not giving the
#: test two CPUs (other work), and no parallel speedup can be asked of pure Python.
CONTROL_SPEEDUP = 1.3

THREADS_AGAINST_SERIAL = """
import json, statistics, sys, time
import perfectly
gil_after_import = sys._is_gil_enabled()

def timed(backend, hi, kernel="python"):
    started = time.perf_counter()
    result = perfectly.search(1, hi, backend=backend, workers=2, kernel=kernel)
    return time.perf_counter() - started, result.census

def sized(seconds, kernel, hi):
    took, _ = timed("serial", hi, kernel)
    while took < seconds / 4:
        hi *= 2
        took, _ = timed("serial", hi, kernel)
    return int(hi * seconds / took)

def median_ratio(hi, kernel, rounds, censuses):
    serial, threads = [], []
    for _ in range(rounds):  # alternated, so that a change in load hits both alike
        for backend, times in (("serial", serial), ("threads", threads)):
            took, census = timed(backend, hi, kernel)
            times.append(took)
            censuses.append(census)
    return serial, threads

# The control: the compiled kernel releases the GIL on every build, so its threads x 2
# beat serial whenever the machine gives this process two CPUs.
control = median_ratio(sized(0.5, "compiled", 10**6), "compiled", 3, [])
hi = sized(1.0, "python", 20_000)  # about one second of serial work
censuses = []
serial, threads = median_ratio(hi, "python", 3, censuses)
print(json.dumps({
    "control": statistics.median(control[0]) / statistics.median(control[1]),
    "gil_after_import": gil_after_import,
    "gil_at_end": sys._is_gil_enabled(),
    "hi": hi,
    "serial": serial,
    "threads": threads,
    "identical": all(c == censuses[0] for c in censuses),
    "perfect": list(censuses[0].perfect),
}))
"""


def _ft_python_problem() -> str | None:
    """Why PERFECTLY_FT_PYTHON cannot run the test (None when it can)."""
    if not FT_PYTHON:
        return "set PERFECTLY_FT_PYTHON to a free-threaded Python with perfectly installed"
    code = "import sysconfig, perfectly; print(sysconfig.get_config_var('Py_GIL_DISABLED'))"
    try:
        proc = subprocess.run(
            [FT_PYTHON, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as exc:
        return f"PERFECTLY_FT_PYTHON={FT_PYTHON} does not run: {exc}"
    if proc.returncode != 0:
        return f"PERFECTLY_FT_PYTHON={FT_PYTHON} cannot import perfectly"
    if proc.stdout.strip() != "1":
        return f"PERFECTLY_FT_PYTHON={FT_PYTHON} is not a free-threaded build"
    return None


FT_PROBLEM = _ft_python_problem()


@pytest.mark.skipif(FT_PROBLEM is not None, reason=str(FT_PROBLEM))
def test_pure_python_threads_beat_serial_with_the_gil_off(tmp_path):
    """On a free-threaded Python, importing perfectly leaves the GIL off; two threads
    running the pure-Python kernel on about a second of work beat serial (medians of
    three alternated runs); every census is identical and has the known perfect numbers.

    Whether the machine gives the test two CPUs at all is measured in the same run, by a
    control that scales on every build (the compiled kernel's threads); when it does not
    (other work: with the kernel's autogroup scheduling even a nice-19 job in another
    session takes its share), the speedup is skipped with the figures, never asserted
    against a machine that cannot show it."""
    assert FT_PYTHON is not None
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PERFECTLY_NO_EXTENSIONS")
    }
    proc = subprocess.run(
        [FT_PYTHON, "-W", "error::RuntimeWarning", "-c", THREADS_AGAINST_SERIAL],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["gil_after_import"] is False and got["gil_at_end"] is False
    assert got["identical"] is True
    assert got["perfect"] == [p for p in PERFECT_NUMBERS if p < got["hi"]]
    if got["control"] < CONTROL_SPEEDUP:
        pytest.skip(
            f"no second CPU for this test right now: the compiled kernel's threads × 2 reached "
            f"only {got['control']:.2f}× over serial (load average {os.getloadavg()[0]:.1f}); "
            f"pure Python: serial {got['serial']}, threads × 2 {got['threads']} s"
        )
    serial, threads = sorted(got["serial"])[1], sorted(got["threads"])[1]
    assert threads < serial, f"threads × 2 {got['threads']} against serial {got['serial']}"
