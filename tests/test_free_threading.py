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
