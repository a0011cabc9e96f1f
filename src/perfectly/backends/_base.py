"""What every backend is given, what it gives back, and the errors it raises."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from perfectly._work import ChunkResult, Job
from perfectly.planning import Chunk


class ChunkError(RuntimeError):
    """A chunk raised: the search stopped, and nothing it started is left running."""


class WorkerLostError(RuntimeError):
    """A worker died (killed from outside) more often than ``retries`` allows."""


@dataclasses.dataclass
class RunStats:
    """How a run went, filled in by the backend."""

    startup: float = 0.0  # seconds spent starting workers
    shutdown: float = 0.0  # seconds spent stopping them
    retried: int = 0  # chunks re-run after their worker died
    start_method: str | None = None


@dataclasses.dataclass
class RunContext:
    """One search as a backend sees it: run ``chunks`` of ``job`` on ``workers``."""

    job: Job
    chunks: Iterator[Chunk]
    workers: int
    static: bool  # chunk i belongs to worker i (schedule="static")
    retries: int
    deadline: float | None  # time.perf_counter() value, or None
    timeout: float | None
    start_method: str | None
    scheduler: Any = None  # dask: an address, a distributed.Client, or None
    security: Any = None  # dask: a distributed.Security for TLS, or None
    stats: RunStats = dataclasses.field(default_factory=RunStats)

    def check_deadline(self) -> None:
        """Raise ``TimeoutError`` once the deadline has passed."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise TimeoutError(f"the search did not finish within timeout={self.timeout} s")


#: A backend: runs a context's chunks and yields each chunk's result as it arrives.
Backend = Callable[[RunContext], Generator[ChunkResult, None, None]]


def chunk_error(chunk: Chunk, text: str) -> ChunkError:
    """The error for a chunk that raised ``text`` ("Type: message")."""
    return ChunkError(f"chunk {chunk.index} [{chunk.lo}, {chunk.hi}) failed: {text}")
