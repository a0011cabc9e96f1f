"""Dask: chunks as tasks on a ``distributed`` cluster, for more than one machine.

With no scheduler an embedded ``LocalCluster`` (``workers`` processes, one thread each,
on loopback, dashboard off) is started and closed by the run; with a scheduler
address or a ``Client`` the run uses that cluster and leaves it running. Chunks go
out with ``client.submit(..., retries=…, pure=False)``, at most ``4 × workers`` at a
time, and come back through ``as_completed``. A worker lost mid-run costs only time:
the scheduler runs its chunks elsewhere. A scheduler's TCP port is unauthenticated
unless TLS is configured: pass a ``distributed.Security`` as ``security``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator
from typing import Any

from perfectly._work import ChunkResult, Job, Task, run_task
from perfectly.backends._base import RunContext, chunk_error

CONNECT_TIMEOUT = "5s"


def _dask_task(job: Job, task: Task) -> ChunkResult:
    from distributed import get_worker

    return run_task(job, task, worker=hash(get_worker().address))


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            'backend="dask" needs dask.distributed: pip install "perfectly[dask]"'
        ) from exc
    return distributed


def _connect(ctx: RunContext, distributed: Any) -> tuple[Any, Any]:
    """(client, cluster we own or None)."""
    scheduler = ctx.scheduler
    if isinstance(scheduler, distributed.Client):
        return scheduler, None
    if scheduler is not None:
        try:
            client = distributed.Client(
                scheduler, timeout=CONNECT_TIMEOUT, security=ctx.security, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at scheduler={scheduler!r}: {exc}"
            ) from exc
        return client, None
    cluster = distributed.LocalCluster(
        n_workers=ctx.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        security=ctx.security,
    )
    return distributed.Client(cluster, set_as_default=False), cluster


def run_dask(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run the chunks as tasks on a Dask cluster."""
    distributed = _import_distributed()
    start = time.perf_counter()
    client, cluster = _connect(ctx, distributed)
    ctx.stats.startup = time.perf_counter() - start
    slot_of: dict[int, int] = {}
    pending = distributed.as_completed(loop=client.loop)
    futures: dict[Any, Task] = {}
    limit = 4 * ctx.workers

    def submit_next() -> bool:
        chunk = next(ctx.chunks, None)
        if chunk is None:
            return False
        task = Task(chunk)
        future = client.submit(_dask_task, ctx.job, task, retries=ctx.retries, pure=False)
        futures[future] = task
        pending.add(future)
        return True

    try:
        while len(futures) < limit and submit_next():
            pass
        while futures:
            future = next(pending)
            task = futures.pop(future)
            try:
                result = future.result()
            except Exception as exc:
                raise chunk_error(task.chunk, f"{type(exc).__name__}: {exc}") from exc
            submit_next()
            slot = slot_of.setdefault(result.worker, len(slot_of))
            yield dataclasses.replace(result, worker=slot)
            ctx.check_deadline()
    finally:
        start = time.perf_counter()
        for future in futures:
            future.cancel()
        if cluster is not None:
            client.close()
            cluster.close()
        elif ctx.scheduler is not client:
            client.close()
        ctx.stats.shutdown = time.perf_counter() - start
