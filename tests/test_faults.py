"""Faults in a parallel search: a chunk that raises, a worker killed mid-run, a
timeout, Ctrl-C, a parent killed from outside. Each must end promptly, with the
documented error (or, after a retry, the exact census), and leave no worker behind.

Faults are injected by the tests alone (``faultjob.inject``: a ``Job`` subclass put in
place of ``Job`` in ``perfectly.search``; nothing in the package reads a fault from the
environment): "raise@LO", "raise-unpicklable@LO", "kill@LO" (first attempt only) or
"kill-always@LO" act on the chunk that starts at LO, and log each attempt to a file.
With ``schedule="dynamic"`` and an explicit ``chunk_size``, chunk i of [LO_, HI_)
starts at LO_ + i * CHUNK. Process backends use fork and spawn.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import (
    CHILD_ENV,
    PROCESS_BACKENDS,
    START_METHODS,
    THREAD_BACKENDS,
    children_of,
    cmdline,
    started_child,
    still_running,
    wait_for,
    worker_threads,
)
from faultjob import HERE, InjectedFault, inject

import perfectly
from perfectly.parallel import WorkerError

pytestmark = pytest.mark.timeout(60)

KILL_START_METHODS = tuple(m for m in ("fork", "spawn") if m in START_METHODS)

LO_, HI_, CHUNK = 1, 20_000, 1000
BAD = 5  # the chunk that faults: [5001, 6001)
BAD_LO, BAD_HI = LO_ + BAD * CHUNK, LO_ + (BAD + 1) * CHUNK
BOUND = 20.0  # seconds: every fault must be dealt with well within this
GRACE = 3.0  # seconds for workers to disappear after the search returned or raised


def _backend_params(start_methods=KILL_START_METHODS):
    params = [pytest.param(b, None, id=b) for b in THREAD_BACKENDS]
    for backend in PROCESS_BACKENDS:
        for method in (m for m in start_methods if m in START_METHODS):
            params.append(pytest.param(backend, method, id=f"{backend}-{method}"))
    return params


PROCESS_PARAMS = [
    pytest.param(b, m, id=f"{b}-{m}") for b in PROCESS_BACKENDS for m in KILL_START_METHODS
]


# --------------------------------------------------------------------------
# Helpers: threads, processes, /proc
# --------------------------------------------------------------------------


def os_thread_count() -> int:
    """Threads of this process as the kernel sees them (``_thread`` ones included)."""
    return len(os.listdir("/proc/self/task"))


def _helper_process(pid: int) -> bool:
    """multiprocessing's long-lived helpers: the forkserver and the resource tracker."""
    line = cmdline(pid)
    return "forkserver" in line or "resource_tracker" in line


def stray_children(before: dict[int, str]) -> dict[int, str]:
    """Children of this process started since ``before``, helpers excepted."""
    return {
        pid: start
        for pid, start in children_of(os.getpid()).items()
        if pid not in before and not _helper_process(pid)
    }


def assert_no_workers_left(before_children, before_threads=None):
    """No worker thread, no multiprocessing child, no new OS child, within GRACE s."""
    assert wait_for(lambda: not worker_threads(), GRACE), worker_threads()
    assert wait_for(lambda: not multiprocessing.active_children(), GRACE), (
        multiprocessing.active_children()
    )
    assert wait_for(lambda: not stray_children(before_children), GRACE), stray_children(
        before_children
    )
    if before_threads is not None:
        assert wait_for(lambda: os_thread_count() <= before_threads, GRACE), (
            f"{os_thread_count()} OS threads, {before_threads} before the search"
        )


@pytest.fixture
def clean():
    """Record this process's children and threads before a test; check them after."""
    state = {"children": children_of(os.getpid()), "threads": os_thread_count()}
    yield state
    assert_no_workers_left(state["children"])


def child_env(**extra) -> dict[str, str]:
    """An environment for a child Python that imports this very ``perfectly``."""
    return {**CHILD_ENV, **extra}


def search_with_fault(monkeypatch, spec, backend, start_method, log=None, **kwargs):
    inject(monkeypatch, spec, log)
    options = {"workers": 2, "schedule": "dynamic", "chunk_size": CHUNK}
    options.update(kwargs)
    return perfectly.search(LO_, HI_, backend=backend, start_method=start_method, **options)


# --------------------------------------------------------------------------
# A chunk that raises
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("backend", "start_method"), _backend_params())
def test_chunk_raises(monkeypatch, tmp_path, clean, backend, start_method):
    """ChunkError names the chunk, chains the original exception, and the chunk that
    raised ran once, with retries=1 (a raise is not a lost worker)."""
    log = tmp_path / "faults.log"
    began = time.perf_counter()
    with pytest.raises(perfectly.ChunkError) as info:
        search_with_fault(monkeypatch, f"raise@{BAD_LO}", backend, start_method, log, retries=1)
    elapsed = time.perf_counter() - began
    message = str(info.value)
    assert f"[{BAD_LO}, {BAD_HI})" in message
    assert "InjectedFault" in message
    assert type(info.value.__cause__) is InjectedFault
    assert str(info.value.__cause__) == f"injected fault in chunk starting at {BAD_LO}"
    assert log.read_text().splitlines() == [f"raise {BAD_LO} 0"]
    assert elapsed < BOUND
    assert_no_workers_left(clean["children"], clean["threads"])


@pytest.mark.parametrize(("backend", "start_method"), _backend_params(("fork",)))
def test_chunk_that_exits(monkeypatch, tmp_path, clean, backend, start_method):
    """A chunk raising SystemExit (not an Exception) is a chunk that raised, on every
    backend: ChunkError chained to it, run once, promptly. A thread worker that let it
    through would die without a word, and its run would wait for it forever."""
    log = tmp_path / "faults.log"
    began = time.perf_counter()
    with pytest.raises(perfectly.ChunkError, match=r"SystemExit") as info:
        search_with_fault(monkeypatch, f"exit@{BAD_LO}", backend, start_method, log, retries=1)
    assert time.perf_counter() - began < BOUND
    assert f"[{BAD_LO}, {BAD_HI})" in str(info.value)
    assert type(info.value.__cause__) is SystemExit
    assert log.read_text().splitlines() == [f"exit {BAD_LO} 0"]
    assert_no_workers_left(clean["children"], clean["threads"])


@pytest.mark.parametrize(("backend", "start_method"), _backend_params(("fork",)))
def test_unpicklable_error_comes_back_as_text(monkeypatch, clean, backend, start_method):
    """An exception that cannot be pickled: a process sends its type and text instead."""
    with pytest.raises(perfectly.ChunkError, match="Unpicklable") as info:
        search_with_fault(monkeypatch, f"raise-unpicklable@{BAD_LO}", backend, start_method)
    cause = info.value.__cause__
    if backend in PROCESS_BACKENDS:
        assert type(cause) is WorkerError, (repr(cause), str(cause.__cause__)[-3000:])
        assert str(cause).startswith("Unpicklable: injected unpicklable fault")
    else:
        assert type(cause).__name__ == "Unpicklable"
    assert_no_workers_left(clean["children"], clean["threads"])


@pytest.mark.parametrize(("backend", "start_method"), _backend_params(("fork",)))
def test_chunk_raises_static(monkeypatch, clean, backend, start_method):
    """Static blocks of [1, 20001) on 2 workers: the second starts at 10001 (the serial
    backend has one worker, so one block)."""
    start = 1 if backend == "serial" else 10_001
    inject(monkeypatch, f"raise@{start}")
    with pytest.raises(perfectly.ChunkError, match=rf"\[{start}, 20001\).*InjectedFault"):
        perfectly.search(
            1, 20_001, backend=backend, workers=2, schedule="static", start_method=start_method
        )
    assert_no_workers_left(clean["children"], clean["threads"])


@pytest.mark.parametrize("backend", [*THREAD_BACKENDS, *PROCESS_BACKENDS])
def test_chunk_raises_in_a_fresh_interpreter(backend):
    """The same, in a new Python where nothing else was imported before the search."""
    code = (
        "import sys, perfectly, faultjob, perfectly.search\n"
        f"sys.modules['perfectly.search'].Job = faultjob.faulty('raise@{BAD_LO}')\n"
        "try:\n"
        f"    perfectly.search({LO_}, {HI_}, backend=sys.argv[1], workers=2,\n"
        f"                     schedule='dynamic', chunk_size={CHUNK})\n"
        "except perfectly.ChunkError as exc:\n"
        "    print('ChunkError:', exc)\n"
        "    sys.exit(0)\n"
        "except BaseException as exc:\n"
        "    print('WRONG', type(exc).__name__, exc)\n"
        "    sys.exit(3)\n"
        "print('NO ERROR')\n"
        "sys.exit(4)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, backend],
        capture_output=True,
        text=True,
        timeout=40,
        env=child_env(PYTHONPATH=os.pathsep.join((HERE, CHILD_ENV["PYTHONPATH"]))),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"[{BAD_LO}, {BAD_HI})" in proc.stdout and "InjectedFault" in proc.stdout


def test_progress_that_raises_stops_the_workers(clean):
    """An exception from the progress callback propagates and stops every worker."""

    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop

    for backend in ("threads", "_thread", "processes", "thread-pool", "process-pool"):
        began = time.perf_counter()
        with pytest.raises(Stop):
            perfectly.search(1, 10**11, backend=backend, workers=2, progress=progress)
        assert time.perf_counter() - began < BOUND
        assert_no_workers_left(clean["children"], clean["threads"])


# --------------------------------------------------------------------------
# A worker killed mid-run
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("backend", "start_method"), PROCESS_PARAMS)
def test_killed_worker_is_retried(brute, monkeypatch, clean, backend, start_method):
    """``kill@LO`` with retries=1: the chunk runs again on a fresh worker, exactly.

    Repeated with fork (cheap) because the outcome may depend on timing.
    """
    table = brute.sigma_table(HI_)
    expected_sum = sum(int(x) for x in table[LO_:HI_])
    serial = perfectly.census(LO_, HI_, amicable=True)
    assert serial.sigma_sum == expected_sum
    assert serial.perfect == (6, 28, 496, 8128) and (220, 284) in serial.amicable
    failures = []
    for _ in range(5 if start_method == "fork" else 1):
        began = time.perf_counter()
        try:
            result = search_with_fault(
                monkeypatch, f"kill@{BAD_LO}", backend, start_method, retries=1, amicable=True
            )
        except perfectly.WorkerLostError as exc:
            result = None
            failures.append(f"WorkerLostError: {exc}")
        assert time.perf_counter() - began < BOUND
        assert_no_workers_left(clean["children"])
        if result is None:
            continue
        assert result.census == serial
        assert result.verified is True
        assert result.retried >= 1
        assert result.start_method == start_method
        assert sum(result.worker_chunks) == result.chunks == -(-(HI_ - LO_) // CHUNK)
        assert len(result.worker_busy) <= result.workers
        assert result.imbalance >= 1.0
    assert not failures, failures


@pytest.mark.parametrize(("backend", "start_method"), PROCESS_PARAMS)
@pytest.mark.parametrize(("kind", "retries"), [("kill-always", 1), ("kill", 0)])
def test_worker_lost_more_often_than_retries_allow(
    monkeypatch, tmp_path, clean, backend, start_method, kind, retries
):
    """Killed on every try (or once, with no retries): WorkerLostError after retries + 1
    tries of the chunk."""
    log = tmp_path / "faults.log"
    began = time.perf_counter()
    with pytest.raises(perfectly.WorkerLostError, match=f"retries={retries}"):
        search_with_fault(
            monkeypatch, f"{kind}@{BAD_LO}", backend, start_method, log, retries=retries
        )
    assert time.perf_counter() - began < BOUND
    tries = [f"{kind} {BAD_LO} {attempt}" for attempt in range(retries + 1)]
    assert log.read_text().splitlines() == tries
    assert_no_workers_left(clean["children"])


# --------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [*THREAD_BACKENDS, *PROCESS_BACKENDS])
def test_timeout_python_trial(clean, backend):
    began = time.perf_counter()
    with pytest.raises(TimeoutError, match="timeout"):
        perfectly.search(
            1, 3_000_000, backend=backend, workers=2, kernel="python", method="trial", timeout=0.5
        )
    elapsed = time.perf_counter() - began
    assert 0.4 < elapsed < 5.0, elapsed  # "within about 3 s", with room for a busy machine
    assert_no_workers_left(clean["children"], clean["threads"])


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_timeout_while_one_long_chunk_runs(clean, backend):
    """The deadline is kept while the loop waits, not only between chunks: one chunk of
    several seconds (pure-Python trial division) is stopped at the deadline."""
    began = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=0\.5"):
        perfectly.search(
            2**40,
            2**40 + 200_000,
            backend=backend,
            workers=1,
            kernel="python",
            method="trial",
            chunk_size=200_000,
            timeout=0.5,
        )
    assert time.perf_counter() - began < 2.5
    assert_no_workers_left(clean["children"], clean["threads"])


@pytest.mark.parametrize("backend", ["threads", "_thread", "processes", "process-pool"])
def test_timeout_compiled_sieve(clean, backend):
    began = time.perf_counter()
    with pytest.raises(TimeoutError):
        perfectly.search(1, 10**12, backend=backend, workers=2, timeout=0.5)
    assert time.perf_counter() - began < 5.0
    assert_no_workers_left(clean["children"], clean["threads"])


# --------------------------------------------------------------------------
# Ctrl-C, and a parent killed from outside (child Pythons)
# --------------------------------------------------------------------------

LONG_SEARCH = """
import sys, perfectly
said = []
def progress(done, total):
    if not said:
        said.append(True)
        print("started", flush=True)
start_method = None if sys.argv[2] == "default" else sys.argv[2]
perfectly.search(1, 10**11, backend=sys.argv[1], workers=2, start_method=start_method,
                 progress=progress)
print("finished", flush=True)
"""


def long_search(backend, start_method, *python_options):
    """A child Python running a long search, once it has started: (process, its children)."""
    args = (backend, start_method or "default")
    return started_child(LONG_SEARCH, *args, options=python_options, env=child_env())


def assert_gone(kids):
    """The processes ``kids`` (pid -> start time) exit within 5 s."""
    gone = wait_for(lambda: not any(still_running(p, s) for p, s in kids.items()), 5.0)
    assert gone, {p: cmdline(p) for p, s in kids.items() if still_running(p, s)}


CTRL_C_CASES = [
    pytest.param("processes", None, id="processes"),
    pytest.param("process-pool", None, id="process-pool"),
    pytest.param("threads", None, id="threads"),
    pytest.param("_thread", None, id="_thread"),
]
if "spawn" in START_METHODS:
    CTRL_C_CASES.append(pytest.param("processes", "spawn", id="processes-spawn"))


@pytest.mark.parametrize(("backend", "start_method"), CTRL_C_CASES)
def test_ctrl_c(backend, start_method):
    with long_search(backend, start_method, "-W", "error") as (proc, kids):
        if backend in PROCESS_BACKENDS:
            assert len(kids) >= 2, kids  # the two workers, at least
        began = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("the search did not stop within 10 s of Ctrl-C")
        elapsed = time.perf_counter() - began
        err = proc.stderr.read().decode(errors="replace")
        out = proc.stdout.read().decode(errors="replace")
        assert elapsed < 5.0, elapsed
        assert proc.returncode != 0
        assert "finished" not in out
        assert "KeyboardInterrupt" in err, err[-2000:]
        assert "leaked" not in err and "resource_tracker" not in err, err[-2000:]
        assert_gone(kids)


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_parent_killed_leaves_no_orphans(backend):
    """SIGKILL the searching process: its worker processes must exit on their own."""
    with long_search(backend, None) as (proc, kids):
        assert len(kids) >= 2, kids
        proc.kill()
        proc.wait(timeout=10)
        assert_gone(kids)


# --------------------------------------------------------------------------
# multiprocessing's resource tracker
# --------------------------------------------------------------------------


@pytest.mark.parametrize("start_method", [m for m in ("spawn", "forkserver") if m in START_METHODS])
def test_no_resource_tracker_warnings(start_method):
    code = (
        "import sys, perfectly\n"
        "for backend in ('processes', 'process-pool'):\n"
        "    r = perfectly.search(1, 20000, backend=backend, workers=2, amicable=True,\n"
        "                         start_method=sys.argv[1])\n"
        "    assert r.verified and r.census.perfect == (6, 28, 496, 8128), r\n"
        "    assert (220, 284) in r.census.amicable, r\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, start_method],
        capture_output=True,
        text=True,
        timeout=50,
        env=child_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"
    for word in ("resource_tracker", "leaked", "Warning"):
        assert word not in proc.stderr, proc.stderr[-3000:]
