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
    "dataclasses",
    "multiprocessing",
    "numpy",
    "pickle",
    "sqlite3",
    "typing",
    "perfectly.census",
    "perfectly.search",
    "perfectly.parallel._task",
    "perfectly.parallel.processes",
    "perfectly.parallel.pools",
    "perfectly.parallel.dask",
    "perfectly.parallel.interpreters",
    "perfectly.journal",
    "perfectly.ranges",
)
#: What a worker's start-up code and its first call load; printed as JSON.
WORKER_START = """
import json, os, sys, tempfile
before = set(sys.modules)
exec(SETUP)
with tempfile.TemporaryFile(buffering=0) as out:
    worker.ready(out.fileno())
    out.seek(0)
    kernel = out.read().decode()
print(json.dumps([kernel, sorted(set(sys.modules) - before)]))
"""


def _child(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], env=CHILD_ENV, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check_worker_imports(kernel: str, loaded: list[str]) -> None:
    assert kernel.partition(" ")[0] in ("compiled", "python")
    assert [name for name in NOT_IN_A_WORKER if name in loaded] == []
    ours = {name for name in loaded if name.startswith("perfectly")}
    kernels = {"perfectly._kernel", "perfectly._reference", "perfectly._divisor_summatory"}
    assert ours - kernels == {
        "perfectly",
        "perfectly._core",
        "perfectly._validate",
        "perfectly.parallel",
        "perfectly.parallel._calls",
        "perfectly.parallel._in_interpreter",
    }


def test_a_worker_interpreter_imports_only_the_kernel_and_its_loop():
    """What ``backend="interpreters"`` makes each worker import: its start-up code and
    its ``ready`` call, run in a fresh Python (every Python has one)."""
    from perfectly.parallel.interpreters import setup_code

    kernel, loaded = _child(f"SETUP = {setup_code()!r}\n{WORKER_START}")  # type: ignore[misc]
    _check_worker_imports(kernel, loaded)


def test_a_real_worker_interpreter_imports_only_the_kernel_and_its_loop(tmp_path):
    """The same in a worker interpreter, made as the executor makes them."""
    from perfectly.parallel.interpreters import interpreters_module, setup_code

    try:
        interpreters = interpreters_module()
    except ImportError as exc:
        pytest.skip(str(exc))
    report = tmp_path / "report.json"
    worker = interpreters.create()
    try:
        worker.exec(
            f"SETUP = {setup_code()!r}\n"
            + WORKER_START.replace("print(", f"open({str(report)!r}, 'w').write(")
        )
    finally:
        worker.close()
    kernel, loaded = json.loads(report.read_text())
    _check_worker_imports(kernel, loaded)


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


@pytest.mark.parametrize(
    ("backend", "needs"),
    [("serial", "perfectly.parallel.serial"), ("threads", "perfectly.parallel.threads")],
)
def test_a_search_imports_only_its_own_backend(backend, needs):
    """A serial or threads search loads neither the other backends nor what they use
    (multiprocessing, concurrent.futures: about 20 ms, four times a small search)."""
    loaded = _child(
        "import json, sys, perfectly\n"
        f"r = perfectly.search(1, 10**4, backend={backend!r}, workers=2)\n"
        "assert r.verified\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    assert isinstance(loaded, list) and needs in loaded
    others = {"multiprocessing", "concurrent.futures"} | {
        f"perfectly.parallel.{m}"
        for m in ("serial", "threads", "processes", "pools", "interpreters", "dask")
    }
    assert sorted(others.intersection(loaded) - {needs}) == []


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
