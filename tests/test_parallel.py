"""The executors of ``perfectly.parallel`` used directly, and the one loop (``Run``)
that drives them: the ``concurrent.futures`` shape (``max_workers``, context manager,
``shutdown``, ``mp_context``), worker ids 0 … n-1, and a clean shutdown."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from conftest import LOCAL_BACKENDS, PROCESS_BACKENDS, START_METHODS, wait_for, worker_threads

import perfectly
from perfectly import Census, parallel
from perfectly._validate import available_cpus
from perfectly.parallel import Job, Run, Task
from perfectly.planning import Chunk, plan

pytestmark = pytest.mark.timeout(60)

JOB = Job(method="sieve", kernel="python", release_gil=True, amicable=True)
FORK = "fork" if "fork" in START_METHODS else None


def _executor(backend, workers):
    return parallel.make_executor(
        backend, workers, start_method=FORK if backend in PROCESS_BACKENDS else None
    )


def _nothing_left():
    assert wait_for(lambda: not worker_threads(), 3.0), worker_threads()
    assert wait_for(lambda: not multiprocessing.active_children(), 3.0)


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_executor_as_a_context_manager(brute, backend):
    """Submit, wait for the message, leave the ``with``: every worker is gone, and a
    shut-down executor cannot start again."""
    with _executor(backend, 2) as executor:
        executor.submit(0, Task(JOB, Chunk(7, 200, 1300)))
        events = []
        end = time.monotonic() + 30
        while not events and time.monotonic() < end:
            events = executor.wait(0.05)
    assert len(events) == 1
    (finished,) = events
    assert isinstance(finished, parallel._task.Finished) and finished.slot == 0
    assert finished.result.chunk == Chunk(7, 200, 1300)
    assert finished.result.census == Census(**brute.census(200, 1300, amicable=True))
    _nothing_left()
    executor.shutdown()  # again: nothing happens
    with pytest.raises(RuntimeError, match="shutdown"):
        executor.start()


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_cancel_stops_a_running_chunk(backend):
    """``shutdown(cancel=True)`` ends worker processes in the middle of a long chunk."""
    executor = _executor(backend, 1)
    executor.start()
    executor.submit(0, Task(JOB, Chunk(0, 2**40, 2**40 + 10**6)))
    time.sleep(0.2)
    began = time.monotonic()
    executor.shutdown(cancel=True)
    assert time.monotonic() - began < 3.0
    _nothing_left()


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
@pytest.mark.parametrize("schedule", ["static", "dynamic"])
def test_worker_ids_are_slots(backend, schedule):
    """Whatever a worker calls itself, results and busy times name workers 0 … n-1."""
    executor = _executor(backend, 3)
    n = executor.max_workers  # 1 for serial
    assert n == (1 if backend == "serial" else 3)
    chunks = plan(1, 30_001, schedule=schedule, workers=n, chunk_size=1_000, method="sieve")
    with Run(executor, JOB, chunks, pinned=chunks.pinned) as run:
        results = list(run)
    assert sorted(r.chunk.index for r in results) == list(range(len(list(chunks))))
    assert {r.worker for r in results} <= set(range(n))
    assert set(run.busy) == set(run.done) <= set(range(n))
    assert sum(run.done.values()) == len(results)
    if schedule == "static" and backend not in ("thread-pool", "process-pool"):
        assert sorted(run.done.items()) == [(w, 1) for w in range(n)]  # one block each
    _nothing_left()


@pytest.mark.parametrize("backend", [b for b in LOCAL_BACKENDS if not b.endswith("-pool")])
def test_as_many_chunks_as_workers_go_one_to_each(backend):
    """Dynamic chunks are dealt round by round: with one chunk per worker each gets one
    (dealt depth first, both of two chunks went to the first worker and the second idled).
    The concurrent.futures pools share one queue, so they are not about slots."""
    executor = _executor(backend, 3)
    n = executor.max_workers
    chunks = plan(1, n * 3_000 + 1, schedule="dynamic", workers=n, chunk_size=3_000, method="sieve")
    assert len(list(chunks)) == n
    with Run(executor, JOB, chunks) as run:
        results = list(run)
    assert len(results) == n
    assert sorted(run.done.items()) == [(w, 1) for w in range(n)]
    _nothing_left()


@pytest.mark.parametrize("name", sorted(parallel.EXECUTORS))
def test_max_workers(name):
    cls = parallel.EXECUTORS[name]
    expected = 1 if name == "serial" else available_cpus()
    assert cls().max_workers == cls(None).max_workers == cls(-1).max_workers == expected
    with pytest.raises(ValueError, match="workers"):
        cls(0)
    with pytest.raises(TypeError, match="workers"):
        cls(True)


@pytest.mark.parametrize("backend", ["nope", "thread", "", "Threads"])
def test_make_executor_names_an_unknown_backend(backend):
    with pytest.raises(ValueError, match=r"backend must be one of serial, threads, .*; got"):
        parallel.make_executor(backend, 2)


@pytest.mark.parametrize("start_method", START_METHODS)
@pytest.mark.parametrize("name", ["processes", "process-pool"])
def test_explicit_mp_context(name, start_method):
    context = multiprocessing.get_context(start_method)
    executor = parallel.EXECUTORS[name](2, mp_context=context)
    assert executor.start_method == start_method
    executor.shutdown()  # never started: nothing to stop


def _search_inside(backend):
    try:
        return str(perfectly.search(1, 10_000, backend=backend, workers=2).verified)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_process_backends_inside_a_daemonic_pool_worker_say_what_to_do():
    """It ended in a bare "AssertionError: daemonic processes are not allowed to have
    children" (2026-12-05)."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        for backend in ("processes", "process-pool"):
            said = pool.apply(_search_inside, (backend,))
            assert said.startswith("RuntimeError") and "backend='threads' inside it" in said
        assert pool.apply(_search_inside, ("threads",)) == "True"


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_submit_needs_a_started_executor_and_a_slot_of_it(backend):
    """Before start() and after shutdown() every backend says so (they once raised
    IndexError, KeyError, AssertionError or ran the task, each its own way); a slot
    outside 0 … max_workers - 1 is named."""
    task = Task(JOB, Chunk(0, 1, 100))
    executor = _executor(backend, 1)
    with pytest.raises(RuntimeError, match=r"start\(\) the executor before submit\(\)"):
        executor.submit(0, task)
    with executor:
        with pytest.raises(ValueError, match=r"slot must be in 0 … 0, got 1"):
            executor.submit(1, task)
        with pytest.raises(TypeError, match="slot must be an int, got str"):
            executor.submit("0", task)
    with pytest.raises(RuntimeError, match="after its shutdown"):
        executor.submit(0, task)
    _nothing_left()


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_make_executor_refuses_a_start_method_it_would_not_use(backend):
    if backend in PROCESS_BACKENDS:
        with pytest.raises(ValueError, match="start_method must be one of"):
            parallel.make_executor(backend, 1, start_method="vfork")
        return
    with pytest.raises(ValueError, match=f"start_method only applies to .*, not '{backend}'"):
        parallel.make_executor(backend, 1, start_method=START_METHODS[0])


class _SecondWorkerFails(parallel.ProcessExecutor):
    """A process executor whose second worker cannot start (as when the system is out
    of processes): the first one really starts."""

    def _start_worker(self, slot):
        if slot == 1:
            raise OSError("no second worker today")
        super()._start_worker(slot)


class _SecondThreadFails(parallel.ThreadExecutor):
    def _launch(self, slot, tasks):
        if slot == 1:
            raise RuntimeError("can't start new thread")
        return super()._launch(slot, tasks)


@pytest.mark.parametrize("cls", [_SecondWorkerFails, _SecondThreadFails])
def test_a_failed_start_stops_the_workers_it_started(cls):
    """start() raises what the backend met, and leaves no worker of the first slot
    running: the executor is shut down, not half started."""
    kwargs = (
        {"mp_context": multiprocessing.get_context(FORK)}
        if FORK and cls is _SecondWorkerFails
        else {}
    )
    executor = cls(2, **kwargs)
    with pytest.raises((OSError, RuntimeError), match=r"no second worker today|new thread"):
        executor.start()
    _nothing_left()
    with pytest.raises(RuntimeError, match="after its shutdown"):
        executor.start()
    with pytest.raises(RuntimeError, match="after its shutdown"):
        executor.submit(0, Task(JOB, Chunk(0, 1, 100)))
