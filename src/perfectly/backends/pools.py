"""``concurrent.futures`` pools, for comparison with the hand-written backends.

The pool's own queue does the scheduling: ``static`` submits one block per worker,
the others submit chunks as workers free up (at most ``2 × workers`` in flight). A
process pool broken by a killed worker is replaced, and its unfinished chunks are
submitted again; the pool does not say which chunk killed it, so each of them counts
a try, up to ``retries``. Pool processes watch their parent and exit if it dies.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures.process import BrokenProcessPool

from perfectly._work import PARENT_CHECK, ChunkResult, Job, Task, run_task
from perfectly.backends._base import RunContext, WorkerLostError, chunk_error


def _pool_task(job: Job, task: Task) -> ChunkResult:
    """Run a task in a pool worker; the worker is named by its process and thread."""
    return run_task(job, task, worker=hash((os.getpid(), threading.get_ident())))


def _watch_parent() -> None:
    """Pool-process initializer: exit when the parent dies (the pool would wait forever)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        while parent.is_alive():
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, name="perfectly-parent-watch", daemon=True).start()


def _run_pool(
    ctx: RunContext, make_pool: Callable[[], cf.Executor]
) -> Generator[ChunkResult, None, None]:
    start = time.perf_counter()
    pool = make_pool()
    ctx.stats.startup = time.perf_counter() - start
    pending: list[Task] = []
    in_flight: dict[cf.Future[ChunkResult], Task] = {}
    limit = ctx.workers if ctx.static else 2 * ctx.workers
    finished = False
    slot_of: dict[int, int] = {}  # pool worker identity -> 0, 1, 2, ...
    try:
        while True:
            while len(in_flight) < limit:
                task = pending.pop() if pending else next((Task(c) for c in ctx.chunks), None)
                if task is None:
                    break
                in_flight[pool.submit(_pool_task, ctx.job, task)] = task
            if not in_flight:
                finished = True
                return
            done, _ = cf.wait(in_flight, timeout=0.05, return_when=cf.FIRST_COMPLETED)
            lost: list[Task] = []
            for future in done:
                task = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append(task)
                    continue
                except Exception as exc:
                    raise chunk_error(task.chunk, f"{type(exc).__name__}: {exc}") from exc
                slot = slot_of.setdefault(result.worker, len(slot_of) % ctx.workers)
                yield dataclasses.replace(result, worker=slot)
            if lost:
                lost += in_flight.values()
                in_flight.clear()
                for task in lost:
                    if task.attempt >= ctx.retries:
                        raise WorkerLostError(
                            f"a pool worker died while chunk {task.chunk.index} "
                            f"[{task.chunk.lo}, {task.chunk.hi}) was in the pool, on attempt "
                            f"{task.attempt + 1}, and retries={ctx.retries} allows no more"
                        )
                    pending.append(Task(task.chunk, task.attempt + 1))
                ctx.stats.retried += len(lost)
                pool.shutdown(wait=False, cancel_futures=True)
                pool = make_pool()
            ctx.check_deadline()
    finally:
        start = time.perf_counter()
        _shutdown(pool, graceful=finished)
        ctx.stats.shutdown = time.perf_counter() - start


def _shutdown(pool: cf.Executor, graceful: bool) -> None:
    if not graceful and isinstance(pool, cf.ProcessPoolExecutor):
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()  # no public way to stop a running task
    pool.shutdown(wait=True, cancel_futures=True)


def run_thread_pool(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks on a ``ThreadPoolExecutor``."""
    return _run_pool(ctx, lambda: cf.ThreadPoolExecutor(max_workers=ctx.workers))


def run_process_pool(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks on a ``ProcessPoolExecutor`` with an explicit start method."""
    context = multiprocessing.get_context(ctx.start_method)
    ctx.stats.start_method = context.get_start_method()
    return _run_pool(
        ctx,
        lambda: cf.ProcessPoolExecutor(
            max_workers=ctx.workers, mp_context=context, initializer=_watch_parent
        ),
    )
