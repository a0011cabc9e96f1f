"""backend="interpreters": subinterpreters with their own GIL, in this process.

Where this Python has no subinterpreters with their own GIL (3.10-3.12, or 3.13 without the
PEP 734 backport) only the error that says what is needed is tested; .ci/run runs the
rest under a CPython 3.13 with ``perfectly[interpreters,dask]`` installed.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import CHILD_ENV, COMPILED, run_cli, run_python, started_child, wait_for
from faultjob import HERE, InjectedFault, inject

import perfectly
from perfectly import Census, ChunkError
from perfectly.parallel import WorkerError
from perfectly.parallel.interpreters import interpreters_module

try:
    interpreters_module()
    MISSING = ""
except ImportError as exc:
    MISSING = str(exc)

needs_interpreters = pytest.mark.skipif(bool(MISSING), reason=MISSING)
KERNELS = [
    pytest.param(
        "compiled", marks=pytest.mark.skipif(not COMPILED, reason="no compiled kernel here")
    ),
    "python",
]
SIZES = {"compiled": (1, 400_001, 25_000), "python": (1, 40_001, 2_500)}  # lo, hi, chunk


def interpreter_ids() -> list[int]:
    """The ids of every interpreter of this process, the main one included."""
    if sys.version_info >= (3, 14):
        from concurrent import interpreters
    else:
        from interpreters_backport import interpreters
    return [i.id for i in interpreters.list_all()]


def idle_ids() -> set[int]:
    """The ids of the idle worker interpreters kept for the next search."""
    from perfectly.parallel import interpreters as backend

    return {worker.interpreter.id for worker in backend._idle}


@contextlib.contextmanager
def nothing_left(kept: bool = True):
    """The block leaves no thread and no interpreter running (within 2 s of its end): the
    interpreters it leaves are idle, kept for the next search (at most one per CPU), and
    none at all where it failed (``kept=False``)."""
    threads, before = threading.active_count(), set(interpreter_ids())
    yield
    assert wait_for(lambda: threading.active_count() <= threads, 2.0), threading.enumerate()
    after, idle = set(interpreter_ids()), idle_ids()
    assert after <= before | (idle if kept else set()), (before, after, idle)
    assert idle <= after and len(idle) <= perfectly.available_cpus()
    module = interpreters_module()
    assert not any(i.is_running() for i in module.list_all() if i.id in idle)


def test_missing_support_is_a_clear_error():
    if not MISSING:
        pytest.skip("this Python has subinterpreters with their own GIL")
    assert "interpreters-pep-734" in MISSING and ".[interpreters]" in MISSING and "3.14" in MISSING
    with pytest.raises(ImportError, match=r"interpreters-pep-734"):
        perfectly.search(1, 100, backend="interpreters", workers=2)
    done = run_cli("search", "1", "100", "--backend", "interpreters")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "interpreters-pep-734" in done.stderr


@needs_interpreters
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_census_matches_brute_force_and_serial(brute, kernel, workers):
    lo, hi, chunk = SIZES[kernel]
    expected = Census(**brute.census(lo, hi))
    serial = perfectly.search(lo, hi, backend="serial", kernel=kernel).census
    assert serial == expected, "the serial census disagrees with brute force"
    with nothing_left():
        result = perfectly.search(
            lo, hi, backend="interpreters", workers=workers, kernel=kernel, chunk_size=chunk
        )
    assert result.census == expected
    assert result.backend == "interpreters" and result.workers == workers


@needs_interpreters
@pytest.mark.parametrize("schedule", ["static", "guided"])
def test_schedules_and_amicable_pairs(brute, schedule):
    expected = Census(**brute.census(1, 20_001, amicable=True))
    with nothing_left():
        result = perfectly.search(
            1, 20_001, backend="interpreters", workers=2, schedule=schedule, amicable=True
        )
    assert result.census == expected


@needs_interpreters
@pytest.mark.parametrize(
    ("kind", "error"),
    [("raise", InjectedFault), ("raise-unpicklable", WorkerError), ("exit", SystemExit)],
)
def test_a_raising_chunk_is_named_with_its_cause(monkeypatch, kind, error):
    inject(monkeypatch, f"{kind}@20001")
    with nothing_left(kept=False), pytest.raises(ChunkError, match=r"\[20001, 30001\)") as info:
        perfectly.search(1, 100_001, backend="interpreters", workers=2, chunk_size=10_000)
    assert isinstance(info.value.__cause__, error)
    assert "injected" in str(info.value.__cause__)


_KEPT = """if True:
    import perfectly
    from perfectly.parallel import close_idle_interpreters
    from perfectly.parallel.interpreters import interpreters_module

    def rss():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) // 1024

    def ids():
        return sorted(i.id for i in interpreters_module().list_all())

    TWO_CHUNKS = dict(backend="interpreters", workers=2, chunk_size=5_000)  # 2 workers
    for _ in range(5):
        perfectly.search(1, 10_000, **TWO_CHUNKS)
    before, kept = rss(), ids()
    for _ in range(40):
        assert perfectly.search(1, 10_000, **TWO_CHUNKS).verified
    grown = rss() - before
    assert ids() == kept and len(kept) == 3, (ids(), kept)  # the main one and 2 kept
    assert close_idle_interpreters() == 2 and ids() == [kept[0]]
    perfectly.search(1, 10_000, **TWO_CHUNKS)  # kept until exit
    print(grown)
"""


@needs_interpreters
@pytest.mark.skipif(not COMPILED or not sys.platform.startswith("linux"), reason="Linux, compiled")
def test_worker_interpreters_are_kept_for_the_next_search():
    """45 searches on 2 worker interpreters in a fresh process (with 2 CPUs or more) run
    on the same two, kept idle between searches: the process grows by less than 40 MB over
    the last 40 (each new interpreter that closes leaks about 2 MB upstream: 172 MiB over
    40 searches before). close_idle_interpreters() closes them, and those of the last
    search are closed at exit without a warning (-W error)."""
    if perfectly.available_cpus() < 2:
        pytest.skip("one CPU: one interpreter is kept, the other made afresh each time")
    done = run_python("-W", "error", "-c", _KEPT, PYTHONPATH=CHILD_ENV["PYTHONPATH"])
    assert done.returncode == 0 and done.stderr == "", done.stderr[-3000:]
    assert int(done.stdout) < 40, f"{done.stdout.strip()} MiB more after 40 searches"


_FORK_AFTER = """if True:
    import os, perfectly
    from perfectly.parallel import interpreters
    done = perfectly.search(1, 100_000, backend="interpreters", workers=2)
    assert interpreters._idle, "nothing kept"
    pid = os.fork()  # as multiprocessing's fork does: the kept interpreters close first
    if pid == 0:
        os._exit(0 if perfectly.census(1, 100_000) == done.census else 3)
    assert not interpreters._idle
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    assert perfectly.search(1, 100_000, backend="interpreters", workers=2).verified
"""


@needs_interpreters
@pytest.mark.skipif(not COMPILED or not hasattr(os, "fork"), reason="needs fork, compiled")
def test_a_fork_after_a_search_closes_the_kept_interpreters_first():
    """A child forked while kept worker interpreters lived crashed as soon as it ran the
    kernel (SIGSEGV on 3.14.10, "PyThreadState_Get" on 3.13.18): they close before any
    fork, and the child computes."""
    warnings = "error::RuntimeWarning"
    done = run_python("-W", warnings, "-c", _FORK_AFTER, PYTHONPATH=CHILD_ENV["PYTHONPATH"])
    assert done.returncode == 0 and done.stdout.strip() == "0", (done.stdout, done.stderr)


@needs_interpreters
def test_only_the_interpreters_of_a_run_that_finished_cleanly_are_kept(monkeypatch):
    """A run that raised closes its interpreters; so does one whose job was pickled (it
    may have imported the caller's modules); one that finished keeps them, and the next
    search runs on them. (Two chunks, so that each worker runs one: a worker that ran no
    pickled job is kept.)"""
    from perfectly.parallel import close_idle_interpreters

    close_idle_interpreters()
    two_chunks = {"backend": "interpreters", "workers": 2, "chunk_size": 10_000}
    perfectly.search(1, 20_001, **two_chunks)
    kept = idle_ids()
    assert len(kept) == min(2, perfectly.available_cpus())
    perfectly.search(1, 20_001, **two_chunks)
    assert idle_ids() == kept
    inject(monkeypatch, "raise@999999999")  # a Job subclass (pickled) that never raises
    perfectly.search(1, 20_001, **two_chunks)
    assert idle_ids() == set()
    assert close_idle_interpreters() == 0


@needs_interpreters
def test_a_job_the_workers_cannot_import_fails_instead_of_hanging(monkeypatch, tmp_path):
    """The backport hangs when a worker cannot unpickle the function it is sent; here the
    module of the job is gone from the path once the workers start: a ChunkError."""
    (tmp_path / "ghostjob.py").write_text(
        "import dataclasses\nfrom perfectly.parallel import Job\n\n"
        "@dataclasses.dataclass(frozen=True)\nclass GhostJob(Job):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ghost = importlib.import_module("ghostjob")
    monkeypatch.setattr(importlib.import_module("perfectly.search"), "Job", ghost.GhostJob)
    sys.path.remove(str(tmp_path))
    began = time.perf_counter()
    with nothing_left(kept=False), pytest.raises(ChunkError, match="ghostjob"):
        perfectly.search(1, 10_001, backend="interpreters", workers=2)
    assert time.perf_counter() - began < 30


@needs_interpreters
def test_timeout_stops_every_worker():
    began = time.perf_counter()
    with nothing_left(kept=False), pytest.raises(TimeoutError):
        perfectly.search(1, 10**9, backend="interpreters", workers=2, kernel="python", timeout=1)
    assert time.perf_counter() - began < 1 + 2.0 + 1.0  # the timeout, 2 s to stop, start-up


LONG_SEARCH = """
import perfectly
said = []
def progress(done, total):
    if not said:
        said.append(True)
        print("started", flush=True)
perfectly.search(1, 10**11, backend="interpreters", workers=2, kernel="python",
                 chunk_size=20_000, progress=progress)
print("finished", flush=True)
"""


@needs_interpreters
def test_ctrl_c_in_a_child_stops_within_2_s():
    env = {**CHILD_ENV, "PYTHONPATH": CHILD_ENV["PYTHONPATH"] + ":" + HERE}
    with started_child(LONG_SEARCH, options=("-W", "error"), env=env, wait=60) as (proc, _):
        time.sleep(0.5)  # both workers are in a chunk
        began = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        elapsed = time.perf_counter() - began
        err = proc.stderr.read().decode(errors="replace")
        assert elapsed < 2.0, elapsed
        assert proc.returncode != 0 and "KeyboardInterrupt" in err, err[-2000:]
        assert b"finished" not in proc.stdout.read()


FIRST_IMPORTS = """
import sqlite3, sys, threading
if sys.version_info >= (3, 14):
    from concurrent import interpreters
else:
    from interpreters_backport import interpreters
CODE = '''
from perfectly import _kernel
assert _kernel.sigma(2**61 - 1) == 2**61
assert [n for n, k in _kernel.summarize(1, 10**6)[3]] == [
    6, 28, 120, 496, 672, 8128, 30240, 32760, 523776]
'''
workers = [interpreters.create() for _ in range(6)]
errors = []
def run(interp):
    try:
        interp.exec(CODE)
    except Exception as exc:
        errors.append(exc)
threads = [threading.Thread(target=run, args=(w,)) for w in workers]
for t in threads:
    t.start()
for t in threads:
    t.join()
for w in workers:
    w.close()
assert not errors, errors
assert "perfectly._kernel" not in sys.modules
print("ok")
"""


@needs_interpreters
@pytest.mark.skipif(not COMPILED, reason="no compiled kernel here")
def test_first_imports_of_the_compiled_kernel_at_once_in_six_interpreters():
    """The first import of the compiled kernel may happen in several interpreters with
    their own GIL at once (and never in the main one): each gets a working kernel. (This
    checks the results, not the lock itself: racing builds of identical tables would pass
    too; a thread sanitizer would see them.) sqlite3 is imported first: on CPython 3.13.0
    its own first import in several such interpreters at once crashes the process."""
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", FIRST_IMPORTS],
            capture_output=True,
            text=True,
            timeout=120,
            env=CHILD_ENV,
        )
        assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


# --- fork and subinterpreters: never at once (a process crash, 2026-12-05) -------------

_MIX = """
import json, sys, threading, time, perfectly
backends, seconds, start_method = sys.argv[1].split(","), float(sys.argv[2]), sys.argv[3]
want = perfectly.census(1, 200_000)
runs, errors, methods = dict.fromkeys(backends, 0), [], set()
stop = time.monotonic() + seconds

def loop(backend):
    options = {}
    if backend in perfectly.parallel.PROCESS_BACKENDS and start_method != "default":
        options["start_method"] = start_method
    while time.monotonic() < stop:
        try:
            result = perfectly.search(1, 200_000, backend=backend, workers=2, **options)
        except RuntimeError as exc:
            errors.append(str(exc))
            time.sleep(0.01)
            continue
        assert result.census == want and result.verified
        methods.add(str(result.start_method))
        runs[backend] += 1
        time.sleep(0.05)  # a turn for a thread whose searches are refused meanwhile

if __name__ == "__main__":
    threads = [threading.Thread(target=loop, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps([runs, sorted(methods), len(errors), sorted(set(errors))[:1]]))
"""


def _mix(tmp_path, backends, seconds, start_method="default"):
    """Run searches on ``backends`` at once, each looping in a thread of a child process
    (a crash takes only the child): (exit status, runs, start methods, errors, stderr)."""
    script = tmp_path / "mix.py"  # a file: forkserver and spawn import the main module
    script.write_text(_MIX)
    done = subprocess.run(
        # -X faulthandler: a crash prints every thread's Python stack (CI keeps stderr).
        [
            sys.executable,
            "-X",
            "faulthandler",
            str(script),
            ",".join(backends),
            str(seconds),
            start_method,
        ],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        cwd=tmp_path,
    )
    if done.returncode != 0:
        return done.returncode, {}, [], 0, [], done.stderr
    runs, methods, count, errors = json.loads(done.stdout.strip().splitlines()[-1])
    return 0, runs, methods, count, errors, done.stderr


@needs_interpreters
@pytest.mark.parametrize(("other", "seconds"), [("processes", 60), ("process-pool", 15)])
def test_interpreters_beside_forked_processes_never_crash_the_process(tmp_path, other, seconds):
    """Interpreters in one thread, process workers in another: every search exact, none
    refused, and the process alive; worker processes start by forkserver while worker
    interpreters live (fork where it is the default and none live)."""
    mixed = ["interpreters", other]
    status, runs, methods, refused, errors, stderr = _mix(tmp_path, mixed, seconds)
    assert status == 0, stderr[-3000:]
    assert refused == 0 and min(runs.values()) > 0, (runs, errors)
    assert set(methods) <= {"None", "fork", "forkserver", "spawn"}


@needs_interpreters
def test_an_explicit_fork_beside_interpreters_is_refused_not_a_crash(tmp_path):
    status, runs, _, refused, errors, stderr = _mix(
        tmp_path, ["interpreters", "processes"], 10, start_method="fork"
    )
    assert status == 0, stderr[-3000:]
    assert runs["interpreters"] > 0 and refused > 0
    assert "start_method='fork' cannot start worker processes in a process where" in (errors[0])


@needs_interpreters
def test_interpreters_beside_dask_never_crash_the_process(tmp_path):
    """On 3.13 (the backport) the two together corrupted memory, so there the second to
    start is refused with a RuntimeError; from 3.14 both run."""
    pytest.importorskip("distributed")
    status, runs, _, refused, errors, stderr = _mix(tmp_path, ["interpreters", "dask"], 20)
    assert status == 0, stderr[-3000:]
    assert runs["interpreters"] > 0
    if sys.version_info < (3, 14):
        assert refused > 0 and "the two together crashed CPython 3.13" in errors[0]
    else:
        assert refused == 0 and runs["dask"] > 0


@needs_interpreters
def test_a_dask_start_closes_the_kept_interpreters_where_the_two_never_mix():
    """On 3.13 (the backport) worker interpreters and Dask never run at once: a Dask
    executor that starts closes the kept ones first; from 3.14 they stay."""
    from perfectly.parallel import _mixing

    perfectly.search(1, 20_001, backend="interpreters", workers=2)
    kept = idle_ids()
    assert kept
    _mixing.dask_starting()  # what DaskExecutor.start() calls first
    try:
        assert idle_ids() == (set() if sys.version_info < (3, 14) else kept)
    finally:
        _mixing.dask_stopped()


@needs_interpreters
@pytest.mark.skipif(not COMPILED, reason="needs the compiled kernel in this interpreter")
def test_a_worker_without_this_kernel_is_made_again_once(monkeypatch, brute):
    """A worker interpreter that falls back to the pure-Python kernel while this one runs
    the compiled kernel (3.14.10 refused _kernel now and then in a fresh interpreter) is
    replaced by a new one; twice in a row is a clear RuntimeError, not a slow run.
    ``PERFECTLY_NO_EXTENSIONS=1`` in the shared environment makes workers fall back."""
    from perfectly.parallel.interpreters import InterpreterExecutor, close_idle_interpreters

    close_idle_interpreters()  # kept ones have their kernel already: fresh ones only
    made = InterpreterExecutor._new_pool
    pools = []

    def first_falls_back(self):
        if not pools:
            monkeypatch.setenv("PERFECTLY_NO_EXTENSIONS", "1")
        else:
            monkeypatch.delenv("PERFECTLY_NO_EXTENSIONS", raising=False)
        pools.append(made(self))
        return pools[-1]

    monkeypatch.setattr(InterpreterExecutor, "_new_pool", first_falls_back)
    with nothing_left():
        result = perfectly.search(1, 20_001, backend="interpreters", workers=2)
    assert result.census == Census(**brute.census(1, 20_001))
    assert [kernels[0].split(" ")[0] for kernels in pools] == ["python", "compiled"]

    monkeypatch.setattr(InterpreterExecutor, "_new_pool", made)
    close_idle_interpreters()
    monkeypatch.setenv("PERFECTLY_NO_EXTENSIONS", "1")
    refused = pytest.raises(RuntimeError, match="has no compiled kernel: python")
    with nothing_left(kept=False), refused:
        perfectly.search(1, 20_001, backend="interpreters", workers=2)
