"""The baseline: every chunk in the calling thread, one after the other."""

from __future__ import annotations

from collections.abc import Generator

from perfectly._work import ChunkResult, Task, run_task
from perfectly.backends._base import RunContext, chunk_error


def run_serial(ctx: RunContext) -> Generator[ChunkResult, None, None]:
    """Run each chunk in turn; Ctrl-C and the deadline act between chunks."""
    for chunk in ctx.chunks:
        ctx.check_deadline()
        try:
            result = run_task(ctx.job, Task(chunk), worker=0)
        except Exception as exc:
            raise chunk_error(chunk, f"{type(exc).__name__}: {exc}") from exc
        yield result
