"""search(..., backend="dask"): a Client, an address, an embedded cluster, a lost worker.

One ``LocalCluster`` of two single-threaded worker processes serves the whole module
(starting one costs about 2 s). Every result is compared with the serial ``census``
(itself checked against brute force elsewhere) and, for small ranges, with the
``brute`` fixture directly.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import subprocess
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

from conftest import children_of, cmdline  # noqa: E402
from faultjob import InjectedFault, inject  # noqa: E402

from perfectly import Census, ChunkError, census, search  # noqa: E402
from perfectly.parallel import DaskExecutor, Job, Run, WorkerError  # noqa: E402
from perfectly.planning import plan  # noqa: E402

pytestmark = [
    pytest.mark.timeout(120),
]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # The scheduler's HTTP server on a free loopback port: with dashboard_address=None
        # it still takes 8787, and where another cluster holds that it moves and warns.
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def _dask(scheduler, lo, hi, **kwargs):
    """``search`` on the Dask cluster of ``scheduler`` (a client or an address)."""
    return search(lo, hi, backend="dask", backend_options={"scheduler": scheduler}, **kwargs)


def _assert_usable(client):
    """The run left the cluster running: two workers, and it still runs tasks."""
    assert client.status == "running"
    client.wait_for_workers(2, timeout=60)
    # asked of the scheduler now: scheduler_info() is the client's copy, refreshed every
    # few seconds, and at load 10 it still said 0 workers after they were back
    assert len(client.nthreads()) == 2
    assert client.submit(sum, [1, 2, 3], pure=False).result(timeout=30) == 6


@pytest.mark.parametrize(
    "lo,hi,chunk_size,amicable",
    [
        (1, 10_000, 500, False),  # 6, 28, 496, 8128
        (1, 10_000, None, True),  # 220/284, 1184/1210, 2620/2924, 5020/5564, 6232/6368
        (8_000, 8_200, 7, True),  # 8128 inside a small chunk
        (1, 300_001, 40_000, True),
        (10**6, 3 * 10**6, None, False),
        (2**40, 2**40 + 50_000, 3_000, False),
        # the closed-form check costs O(√hi): far larger hi make every search slow
        (2**46 - 3_000, 2**46, 100, True),
        (5, 5, None, True),  # empty
    ],
)
def test_dask_client_matches_census(client, lo, hi, chunk_size, amicable):
    result = _dask(client, lo, hi, workers=2, chunk_size=chunk_size, amicable=amicable)
    assert result.verified
    assert result.backend == "dask"
    assert result.census == census(lo, hi, amicable=amicable)
    assert sum(result.worker_chunks) == result.chunks
    _assert_usable(client)


def test_dask_small_ranges_against_brute(client, brute):
    result = _dask(client, 1, 20_000, chunk_size=1_500, amicable=True)
    want = brute.census(1, 20_000, amicable=True)
    assert result.census.perfect == (6, 28, 496, 8128) == want["perfect"]
    assert result.census.sigma_sum == want["sigma_sum"]
    assert result.census.amicable == want["amicable"]
    assert result.census.amicable[:2] == ((220, 284), (1184, 1210))


def test_dask_scheduler_address(cluster, client):
    address = cluster.scheduler_address
    assert isinstance(address, str) and address.startswith("tcp://127.0.0.1:")
    result = _dask(address, 1, 2_000_001, workers=2, chunk_size=100_000)
    assert result.census == census(1, 2_000_001)
    assert result.chunks == 20
    _assert_usable(client)


def test_dask_schedules(client):
    want = census(1, 1_000_000, amicable=True)
    for schedule in ("static", "dynamic", "guided"):
        got = _dask(client, 1, 1_000_000, workers=2, schedule=schedule, amicable=True)
        assert got.census == want, schedule
    _assert_usable(client)


def _child_pids():
    """Live children of this process, but multiprocessing's resource tracker: a
    per-interpreter singleton that lives as long as this process does, not something
    a run leaves behind."""
    kids = children_of(os.getpid())
    return {pid for pid in kids if "resource_tracker" not in cmdline(pid)}


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_dask_embedded_cluster_leaves_nothing(client):
    multiprocessing.active_children()  # reap what has already ended
    before = _child_pids()
    result = search(1, 3_000_001, backend="dask", workers=2, chunk_size=250_000, amicable=True)
    assert result.census == census(1, 3_000_001, amicable=True)
    assert result.workers == 2
    assert 1 <= len(result.worker_chunks) <= 2  # the embedded cluster's workers
    deadline = time.monotonic() + 15
    while True:
        multiprocessing.active_children()
        left = _child_pids() - before
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not left, f"processes left running by the embedded LocalCluster: {sorted(left)}"
    _assert_usable(client)  # and the module's cluster was not disturbed


def test_dask_worker_killed_mid_run(client):
    client.wait_for_workers(2, timeout=60)
    pids = client.run(os.getpid)
    assert len(pids) == 2
    victim = sorted(pids.values())[0]
    lo, hi = 1, 120_000_001
    started, far_enough = threading.Event(), threading.Event()
    seen = []  # numbers done, per finished chunk
    box = {}

    def progress(done, total):
        seen.append(done)
        started.set()
        if done >= total // 4:
            far_enough.set()

    def run():
        try:
            box["result"] = _dask(
                client, lo, hi, workers=2, chunk_size=1_000_000, progress=progress
            )
        except BaseException as exc:  # reported by the main thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(60), box
    far_enough.wait(0.5)  # about 0.5 s in, or a quarter of the way on a fast machine
    os.kill(victim, signal.SIGKILL)
    at_kill = seen[-1]
    assert at_kill < hi - lo, "the run ended before the worker was killed"
    thread.join(120)
    assert not thread.is_alive()
    assert "error" not in box, box.get("error")
    result = box["result"]
    assert result.verified
    assert result.chunks == 120
    assert result.census == census(lo, hi)
    # the nanny replaces the killed worker; the cluster keeps working
    _assert_usable(client)
    assert victim not in client.run(os.getpid).values()


@pytest.mark.timeout(60)
def test_dask_bad_scheduler_address():
    address = "tcp://127.0.0.1:1"
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=re.escape(address)):
        search(1, 1_000, backend="dask", backend_options={"scheduler": address})
    assert time.monotonic() - start < 15


@pytest.mark.parametrize("backend", ["serial", "threads", "_thread", "processes", "process-pool"])
@pytest.mark.parametrize("name", ["scheduler", "security"])
def test_dask_options_refused_elsewhere(backend, name):
    value = "tcp://127.0.0.1:8786" if name == "scheduler" else object()
    with pytest.raises(ValueError, match=name) as info:
        search(1, 100, backend=backend, backend_options={name: value})
    assert repr(backend) in str(info.value)


def test_dask_worker_ids_are_slots(client):
    """Results name workers 0 … n-1 (not hashes of addresses), and the executor leaves a
    given client running."""
    job = Job(method="sieve", kernel="python", release_gil=True, amicable=False)
    chunks = plan(1, 20_001, schedule="dynamic", workers=2, chunk_size=1_000, method="sieve")
    with Run(DaskExecutor(2, scheduler=client), job, chunks) as run:
        results = list(run)
    assert sorted(r.chunk.index for r in results) == list(range(20))
    assert {r.worker for r in results} <= {0, 1}
    assert set(run.busy) <= {0, 1} and sum(run.done.values()) == 20
    assert Census.merge(r.census for r in results) == census(1, 20_001)
    _assert_usable(client)


def test_dask_deadline_while_a_chunk_runs(client):
    """The deadline is kept while waiting for a long chunk (about 4 s of pure-Python
    trial division), not only when a chunk finishes."""
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="timeout"):
        _dask(
            client,
            10**6,
            10**6 + 120_000,
            workers=2,
            kernel="python",
            method="trial",
            chunk_size=120_000,
            timeout=0.5,
        )
    assert time.monotonic() - began < 2.5
    _assert_usable(client)


def test_dask_does_not_rerun_a_chunk_that_raised(monkeypatch, tmp_path):
    """An embedded cluster (the fault job travels in the pickled task): the chunk that
    raises runs once, and its ChunkError chains the original exception."""
    log = tmp_path / "faults.log"
    inject(monkeypatch, "raise@5001", log)
    with pytest.raises(ChunkError, match=r"\[5001, 6001\)") as info:
        search(1, 20_001, backend="dask", workers=1, chunk_size=1_000, retries=3)
    assert type(info.value.__cause__) is InjectedFault
    assert log.read_text().splitlines() == ["raise 5001 0"]


def test_dask_chunk_that_exits(monkeypatch, tmp_path, client):
    """A chunk raising SystemExit fails the run with its text; raised inside the Dask
    task it would take the worker down with it (and be retried as a lost worker)."""
    log = tmp_path / "faults.log"
    inject(monkeypatch, "exit@5001", log)
    with pytest.raises(ChunkError, match=r"\[5001, 6001\)") as info:
        _dask(client, 1, 20_001, chunk_size=1_000, retries=3)
    assert type(info.value.__cause__) is WorkerError
    assert str(info.value.__cause__) == "SystemExit: injected exit in chunk starting at 5001"
    assert log.read_text().splitlines() == ["exit 5001 0"]
    _assert_usable(client)


def _ctrl_c_before_sync_starts(loop) -> None:
    """Ctrl-C in ``distributed.utils.sync`` before its coroutine got to run, as when it
    lands while the event loop is busy: sync() raises KeyboardInterrupt and queues its
    ``cancel`` callback, which runs before the coroutine assigned its future."""
    from distributed.utils import sync

    async def nothing() -> None:
        return None

    release = threading.Event()
    loop.add_callback(release.wait)  # the loop thread is busy until released
    main = threading.get_ident()
    threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        sync(loop, nothing)
    release.set()
    time.sleep(0.3)  # the loop runs the coroutine's first step, then cancel


def test_ctrl_c_inside_distributed_sync_logs_no_traceback(caplog):
    """distributed 2026.8.0's sync() logs a NameError traceback through Tornado when
    Ctrl-C lands before its coroutine started (a race the Ctrl-C test of the command line
    met in CI); the Dask backend drops exactly that record, so Ctrl-C prints one line."""
    from distributed.utils import LoopRunner

    from perfectly.parallel import dask as dask_backend

    log = logging.getLogger("tornado.application")
    installed = [f for f in log.filters if isinstance(f, dask_backend._SyncCancelRace)]
    for f in installed:  # an earlier Dask run in this process installed it
        log.removeFilter(f)
    runner = LoopRunner(asynchronous=False)
    runner.start()
    try:
        with caplog.at_level(logging.ERROR, logger="tornado.application"):
            _ctrl_c_before_sync_starts(runner.loop)
            if not any("'future'" in r.getMessage() + str(r.exc_info) for r in caplog.records):
                pytest.skip("this distributed does not have the race (nothing was logged)")
            caplog.clear()
            dask_backend._drop_sync_cancel_race()
            _ctrl_c_before_sync_starts(runner.loop)
            assert caplog.records == []
    finally:
        runner.stop()
        if installed:
            dask_backend._drop_sync_cancel_race()


# --- a scheduler is trusted: it can run code in the client (2026-12-05 report) -------


@pytest.mark.parametrize(
    "address",
    ["tcp://192.0.2.1:8786", "192.0.2.1:8786", "ws://192.0.2.1:8786", "tcp://[2001:db8::1]:8786"],
)
def test_a_plain_scheduler_off_loopback_is_refused_before_connecting(address):
    started = time.monotonic()
    with pytest.raises(ValueError, match="trust_scheduler=True"):
        search(1, 1000, backend="dask", backend_options={"scheduler": address})
    assert time.monotonic() - started < 2  # refused, not tried (192.0.2.1 would time out)


def test_the_cli_refuses_it_in_one_line_and_names_the_flag():
    from conftest import run_cli

    done = run_cli("search", "1", "1e5", "--backend", "dask", "--scheduler", "tcp://192.0.2.1:8786")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--trust-scheduler" in done.stderr
    alone = run_cli("search", "1", "1e5", "--trust-scheduler")
    assert alone.returncode == 2 and "applies to --scheduler" in alone.stderr


def test_trust_scheduler_must_be_a_bool():
    with pytest.raises(TypeError, match="trust_scheduler"):
        search(
            1,
            1000,
            backend="dask",
            backend_options={"scheduler": "tcp://localhost:1", "trust_scheduler": 1},
        )


def test_loopback_and_trusted_addresses_are_tried(cluster):
    address = cluster.scheduler_address.replace("127.0.0.1", "localhost")
    assert search(1, 10_000, backend="dask", backend_options={"scheduler": address}).verified
    with pytest.raises(ConnectionError):  # trusted: tried, and nothing listens there
        search(
            1,
            1000,
            backend="dask",
            backend_options={"scheduler": "tcp://127.0.0.1:1", "trust_scheduler": True},
        )


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
@pytest.mark.timeout(240)
def test_an_embedded_worker_killed_with_retries_0_stops_the_run_and_leaves_nothing():
    """The run's error comes at once (the embedded cluster allows no failures), and no
    process of the cluster outlives it (a pass counted one, 2026-12-05)."""
    from perfectly import WorkerLostError

    multiprocessing.active_children()
    before = _child_pids()
    box = {}
    running = threading.Event()  # set by the first chunk that finishes

    def run():
        try:
            search(1, 3 * 10**10, backend="dask", workers=2, retries=0, progress=note)
        except BaseException as exc:
            box["error"] = exc

    def note(done, total):
        running.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # the cluster is up and chunks run: killing a worker while its nanny still starts
    # it is another failure (distributed's "Nanny failed to start", seen at load 10)
    assert running.wait(90), f"no chunk finished in 90 s: {box}"
    workers = {p for p in _child_pids() - before if "spawn_main" in cmdline(p)}
    assert len(workers) == 2, "the embedded cluster has not 2 worker processes"
    os.kill(min(workers), signal.SIGKILL)
    killed = time.monotonic()
    thread.join(60)
    assert not thread.is_alive()
    assert isinstance(box.get("error"), WorkerLostError), box
    assert time.monotonic() - killed < 30
    deadline = time.monotonic() + 15
    while (left := _child_pids() - before) and time.monotonic() < deadline:
        multiprocessing.active_children()
        time.sleep(0.1)
    assert not left, f"left running: {[cmdline(p) for p in left]}"


@pytest.mark.timeout(120)
def test_a_timeout_with_long_chunks_stops_the_embedded_cluster_at_once():
    """A Dask task cannot be interrupted, and a graceful close waited for the running
    chunk: timeout=3 ended after 7 s with chunks of about 10 s (2026-12-05). Chunks of
    about 100 s here (10 min at load 10), so that waiting for one cannot pass for
    stopping at once, which took 3.9 s after the timeout at load 10 (0.5 s quiet)."""
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        search(1, 2 * 10**11, backend="dask", workers=2, chunk_size=2 * 10**10, timeout=3)
    assert time.monotonic() - started < 3 + 15.0


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
@pytest.mark.timeout(180)
@pytest.mark.parametrize("delay", [0.0, 0.3, 0.6, 1.0])
def test_ctrl_c_while_the_embedded_cluster_starts_is_one_line(delay):
    """It printed 29-128 traceback lines in 8 of 16 tries (Dask's exit hook met the
    half-made cluster); Ctrl-C is held back while the cluster starts now. Sent ``delay``
    s after the cluster's first process appears (its workers take longer than that to
    be ready), not after a fixed time: at load 10 a fixed 0.4 s landed while the child
    Python was still starting, before any of perfectly ran."""
    from conftest import CHILD_ENV, CLI, children_of

    proc = subprocess.Popen(
        [*CLI, "search", "1", "1e9", "--backend", "dask", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CHILD_ENV,
    )
    deadline = time.monotonic() + 90
    while not children_of(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perfectly: interrupted"), err
