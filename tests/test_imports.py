"""What importing perfectly loads, and what a worker loads.

Every worker interpreter imports its modules afresh, and a forkserver worker imports
whatever its server lacks, so these are start-up costs paid per worker: the tests run a
fresh child Python each and look at ``sys.modules``.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys

import pytest
from conftest import CHILD_ENV

#: Modules a worker interpreter never needs (each costs it milliseconds to import).
NOT_IN_A_WORKER = (
    "concurrent.futures",
    "multiprocessing",
    "numpy",
    "sqlite3",
    "perfectly.parallel.processes",
    "perfectly.parallel.pools",
    "perfectly.parallel.dask",
    "perfectly.parallel.interpreters",
    "perfectly.journal",
    "perfectly.ranges",
)


def _child(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], env=CHILD_ENV, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_interpreter_imports_only_the_kernel_and_the_task():
    """What ``backend="interpreters"`` makes each worker import (its ``_READY`` probe)."""
    loaded = _child(
        "import json, sys, perfectly.parallel._in_interpreter as w; w.worker_kernel(); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    assert isinstance(loaded, list)
    assert "perfectly._kernel" in loaded or "perfectly._reference" in loaded
    assert not [name for name in NOT_IN_A_WORKER if name in loaded]


def test_lazy_names_resolve_and_submodules_do_not_shadow_them():
    """Every public name resolves; ``census``, ``estimate`` and ``search`` stay the
    functions after their modules are imported by name."""
    kinds = _child(
        "import json, perfectly, perfectly.census, perfectly.search, perfectly.estimate\n"
        "import perfectly.parallel as p\n"
        "names = {n: type(getattr(perfectly, n)).__name__ for n in perfectly.__all__}\n"
        "names.update({'parallel.' + n: type(getattr(p, n)).__name__ for n in p.__all__})\n"
        "print(json.dumps(names))"
    )
    assert isinstance(kinds, dict)
    assert kinds["census"] == kinds["search"] == kinds["estimate"] == "function"
    assert kinds["parallel.EXECUTORS"] == "dict"
    assert "module" not in kinds.values()


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver here"
)
@pytest.mark.parametrize("backend", ["processes", "process-pool"])
def test_a_forkserver_preloads_the_workers_modules_beside_the_users(backend, tmp_path):
    """Before a process backend starts a forkserver, its worker modules join the preload
    list (what was there stays), and the workers find them imported."""
    script = tmp_path / "main.py"  # a file: the forkserver imports __main__ by path
    script.write_text(
        "import json, multiprocessing, sys\n"
        "from multiprocessing import forkserver\n"
        "import perfectly\n"
        "from perfectly.parallel._forkserver import WORKER_MODULES\n"
        "def loaded(_):\n"
        "    return [m for m in WORKER_MODULES if m in sys.modules]\n"
        "if __name__ == '__main__':\n"
        "    multiprocessing.set_forkserver_preload(['__main__', 'json'])\n"
        f"    r = perfectly.search(1, 10**4, backend={backend!r}, workers=2,\n"
        "                         start_method='forkserver')\n"
        "    assert r.verified and r.start_method == 'forkserver'\n"
        "    ctx = multiprocessing.get_context('forkserver')\n"
        "    with ctx.Pool(1) as pool:\n"
        "        in_worker = pool.map(loaded, [0])[0]\n"
        "    print(json.dumps([forkserver._forkserver._preload_modules, in_worker]))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    preload, in_worker = json.loads(done.stdout.strip().splitlines()[-1])
    from perfectly.parallel._forkserver import WORKER_MODULES

    assert preload == ["__main__", "json", *WORKER_MODULES]
    assert in_worker == list(WORKER_MODULES)
