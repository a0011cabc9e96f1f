"""A chunk as a series of kernel calls of about ``SUB_CALL`` seconds each.

Every backend's worker runs a chunk through :func:`sweep`. It imports only the kernel
(no dataclasses, no ``typing``), because a worker interpreter imports its modules afresh
at every start: what this module pulls in is paid again by every worker interpreter.
"""

from __future__ import annotations

import math
import time

from perfectly._core import kernel_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

#: Seconds of work a worker aims for per kernel call: a chunk runs as a series of calls
#: sized to take about this long, with a look at ``stop`` between them, so a cancelled
#: thread worker stops within about one call (a compiled call cannot be interrupted).
#: 0.1 s: a call costs ≈ 50 µs in Python, 0.05 % of it (the sieve's set-up is paid once
#: per chunk, not per call: the calls share one ``Sweep``); and a timeout or Ctrl-C still
#: stops every thread worker well within its 2 s (one call, even at 5× load).
#: A call is sized by the CPU time of its thread, not by the clock: on a busy machine a
#: thread waiting for a CPU would read as a slow call, and the size would collapse
#: (measured: with two busy loops on 2 CPUs, sizes shrank to a few numbers and a search
#: of [1, 4e7) took 13 s instead of 0.1 s). A size also halves at most per call.
SUB_CALL = 0.1
#: Sub-call sizes learned so far in this process (or worker interpreter), by (method,
#: kernel): the last size and the n where it ran, so that a worker's next chunk starts near
#: the right size instead of ramping up from 1 again (the ramp costs a call's set-up per step).
_learned: dict[tuple[str, str], tuple[int, int]] = {}


class Cancelled(Exception):
    """Raised in a worker whose run was stopped (cancelled, or past its deadline)."""


def sweep(
    kernel: str,
    method: str,
    amicable: bool,
    release_gil: bool,
    lo: int,
    hi: int,
    stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[int, int, Any, Any]]:
    """The kernel's ``(lo, hi, summary, pairs)`` for consecutive pieces of [lo, hi), from
    calls on one ``Sweep`` (the sieve's state is kept from call to call, so its set-up is
    paid once per chunk; the calls are sized as they go, as the cost per number grows with
    n); ``Cancelled`` as soon as ``stop()`` says so between two calls."""
    state = kernel_module(kernel).Sweep(lo, hi, method, amicable=amicable)
    size = first_size(_learned.get((method, kernel)), lo)
    while state.position < hi:
        if stop is not None and stop():
            raise Cancelled(f"stopped at {state.position}")
        segments, began = state.segments, time.thread_time()
        piece = state.summarize(size, release_gil)
        growth = SUB_CALL / max(time.thread_time() - began, 1e-6)
        # a short last call says little about the next size, and one that paid a
        # set-up is slower than the calls after it: it may only make the next larger
        if piece[1] - piece[0] == size and (state.segments == segments or growth > 1):
            size = max(1, int(size * min(4.0, max(0.5, growth))))
            _learned[method, kernel] = (size, piece[1])
        yield piece


def first_size(learned: tuple[int, int] | None, lo: int) -> int:
    """The size of a chunk's first kernel call at ``lo``: 1 (then ×4 a call) with nothing
    learned, else the learned size, scaled by √(at / lo) when ``lo`` lies above where it
    was learned, as the cost per number grows at most like √n (trial division)."""
    if learned is None:
        return 1
    size, at = learned
    if lo > at:
        size = int(size * math.sqrt(at / lo))
    return max(1, size)
