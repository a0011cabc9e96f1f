"""The pure-Python fallback: forced by ``PERFECTLY_NO_EXTENSIONS=1``, or taken with a
RuntimeWarning when the compiled kernel cannot be imported.

Kernel selection happens once, when ``perfectly`` is first imported, so each case
runs in a fresh interpreter (a subprocess started from an empty directory, so it
imports the installed package).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import run_python

# Values fixed by mathematics, not computed by either kernel.
EXPECTED = {
    "sigma_496": 992,
    "sigma_big": 618970019642690137449562112,  # σ(2**89 − 1), a Mersenne prime
    "sigma_range": [1, 3, 4, 7, 6, 12, 8, 15, 13, 18, 12, 28],
    "perfect": [6, 28, 496, 8128],
    "amicable": [[220, 284], [1184, 1210]],
    "sigma_sum": 8224494757,  # Σ σ(n), n < 100,000
}

PROBE = """
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import perfectly
info = perfectly.build_info()
census = perfectly.census(1, 100_000)
try:
    perfectly._core.kernel_module("compiled")
    compiled_error = None
except RuntimeError as exc:
    compiled_error = str(exc)
print(json.dumps({
    "core": info["core"],
    "reason": info["reason"],
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
    "compiled_error": compiled_error,
    "results": {
        "sigma_496": perfectly.sigma(496),
        "sigma_big": perfectly.sigma(2**89 - 1),
        "sigma_range": perfectly.sigma_range(1, 13).tolist(),
        "perfect": perfectly.perfect_numbers(1, 10_000),
        "amicable": [list(p) for p in perfectly.amicable_pairs(1, 2_000)],
        "sigma_sum": census.sigma_sum,
    },
}))
"""

# A meta-path hook that makes ``perfectly._kernel`` fail to import, as a broken or
# missing binary would (a wheel for the wrong platform, an undefined symbol, ...).
BLOCK_KERNEL = """
import importlib.abc, sys

class _BlockKernel(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "perfectly._kernel":
            raise ImportError("blocked by the test suite")
        return None

sys.meta_path.insert(0, _BlockKernel())
"""

HAVE_COMPILED = importlib.util.find_spec("perfectly._kernel") is not None


def _probe(tmp_path, *, no_extensions: str | None, block_kernel: bool = False, **env) -> dict:
    env["PERFECTLY_NO_EXTENSIONS"] = no_extensions  # None: not set
    code = (BLOCK_KERNEL if block_kernel else "") + PROBE
    proc = run_python("-c", textwrap.dedent(code), cwd=tmp_path, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _copy_without_extension(tmp_path) -> Path:
    """The installed package copied without its compiled kernel: a missing binary, as a
    pure-Python install or a wheel for another platform has it. Returns the directory to
    put on PYTHONPATH."""
    spec = importlib.util.find_spec("perfectly")
    assert spec is not None and spec.submodule_search_locations
    site = tmp_path / "site"
    shutil.copytree(
        spec.submodule_search_locations[0],
        site / "perfectly",
        # a missing binary, not a pure build: without the marker such a build leaves
        ignore=shutil.ignore_patterns(
            "_kernel*.so", "_kernel*.pyd", "__pycache__", "BUILT_WITHOUT_EXTENSIONS"
        ),
    )
    return site


def test_no_extensions_env_selects_python_kernel(tmp_path):
    out = _probe(tmp_path, no_extensions="1")
    assert out["core"] == "python"
    assert out["reason"] == "PERFECTLY_NO_EXTENSIONS=1"
    assert out["warnings"] == []  # asked for: no warning
    assert "not available" in out["compiled_error"]
    assert out["results"] == EXPECTED


def test_import_failure_falls_back_with_runtime_warning(tmp_path):
    # on a copy without the pure-build marker: an install built without the kernel on
    # purpose falls back quietly (test_a_pure_python_build_is_quiet_and_says_why)
    site = _copy_without_extension(tmp_path)
    out = _probe(tmp_path, no_extensions=None, block_kernel=True, PYTHONPATH=str(site))
    assert out["core"] == "python"
    assert out["reason"].startswith("import failed: blocked by the test suite")
    assert len(out["warnings"]) == 1
    category, message = out["warnings"][0]
    assert category == "RuntimeWarning"
    assert "compiled kernel is unavailable" in message
    assert "blocked by the test suite" in message
    assert out["results"] == EXPECTED


@pytest.mark.skipif(not HAVE_COMPILED, reason="this install has no compiled kernel")
@pytest.mark.parametrize("value", [None, "0", ""])
def test_compiled_kernel_used_unless_env_is_1(tmp_path, value):
    out = _probe(tmp_path, no_extensions=value)
    assert out["core"] == "compiled"
    assert out["reason"] == "compiled extension"
    assert out["warnings"] == []
    assert out["compiled_error"] is None
    assert out["results"] == EXPECTED


def test_missing_extension_warning_names_the_real_cause(tmp_path):
    # Not "partially initialized module ... (most likely due to a circular import)", which
    # `from perfectly import _kernel` said while perfectly was still being imported.
    site = _copy_without_extension(tmp_path)
    out = _probe(tmp_path, no_extensions=None, PYTHONPATH=str(site))
    assert out["core"] == "python"
    [(category, message)] = out["warnings"]
    assert category == "RuntimeWarning"
    assert "importing perfectly._kernel failed: ModuleNotFoundError: " in message
    assert "No module named 'perfectly._kernel'" in message
    assert "circular" not in message and "partially" not in message
    assert out["results"] == EXPECTED


def test_cli_search_without_the_extension(tmp_path):
    # `python -m perfectly search 1 1e5` on a pure-Python install, with no setting:
    # the CLI's default kernel is the active one.
    site = _copy_without_extension(tmp_path)
    proc = run_python(
        *("-m", "perfectly", "search", "1", "1e5", "--json"),
        cwd=tmp_path,
        PYTHONPATH=str(site),
        PERFECTLY_NO_EXTENSIONS=None,
    )
    assert proc.returncode == 0, proc.stderr
    assert "No module named 'perfectly._kernel'" in proc.stderr  # the RuntimeWarning
    data = json.loads(proc.stdout)
    assert data["perfect"] == EXPECTED["perfect"]
    assert data["sigma_sum"] == EXPECTED["sigma_sum"]
    assert data["verified"] is True


def test_a_pure_python_build_is_quiet_and_says_why(tmp_path):
    """An install built with PERFECTLY_NO_EXTENSIONS=1 warned "importing perfectly._kernel
    failed" at every import (2026-12-05): the build leaves a marker, and the choice is
    respected without the variable at run time."""
    site = _copy_without_extension(tmp_path)
    (site / "perfectly" / "BUILT_WITHOUT_EXTENSIONS").write_text("built without\n")
    out = _probe(tmp_path, no_extensions=None, PYTHONPATH=str(site))
    assert out["core"] == "python" and out["warnings"] == []
    assert out["reason"] == "built without the compiled kernel (PERFECTLY_NO_EXTENSIONS=1)"
    assert out["results"] == EXPECTED
