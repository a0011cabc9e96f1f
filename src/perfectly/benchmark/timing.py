"""Timing done the way pyperf does it, adapted to jobs that start their own workers.

* Every run is one whole job, timed to completion with ``time.perf_counter`` around
  the call: a ``search()`` starts its workers, divides the range among them (never
  duplicating work), merges, stops its workers and verifies Σσ before it returns. So
  for process backends each run starts fresh processes, and start-up is counted.
* A group's scenarios are run in turn within each *round*, and the first scenario of
  each round rotates, so that a drift in machine load hits every contender alike.
* The first ``warmup`` rounds are run and thrown away (their times are kept in the
  results, marked as warm-ups); the next ``repeat`` rounds are the values.

A progress line goes to stderr; Ctrl-C ends the current run (``search()`` stops its
workers), and what was measured up to then is kept.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

from perfectly import search
from perfectly.benchmark import baselines
from perfectly.benchmark.matrix import VARIANT_ARGS, Group
from perfectly.benchmark.records import BASELINE_BACKENDS, Measurement, Run, Scenario

T = TypeVar("T")


def _timed(call: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of ``call()``, ``time.perf_counter`` around it."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def run_once(scenario: Scenario) -> Run:
    """Run ``scenario`` once and time it."""
    s = scenario
    if s.backend in BASELINE_BACKENDS:
        wall, _ = _timed(lambda: baselines.run(s.backend, s.method, s.lo, s.hi, s.workers))
        return Run(wall, 0.0, 0.0, (), (), 0, None)
    wall, result = _timed(
        lambda: search(
            s.lo,
            s.hi,
            backend=s.backend,
            workers=s.workers,
            method=s.method,
            schedule=s.schedule,
            chunk_size=s.chunk_size,
            start_method=s.start_method,
            **VARIANT_ARGS[s.variant],
        )
    )
    return Run.of_search(wall, result)


class Progress:
    """One line on stderr: which scenario, how many runs done and left.

    On a terminal the line is rewritten in place; otherwise one line per group is
    printed, so that logs stay readable.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()
        self._width = 0

    def group(self, title: str) -> None:
        if self.enabled and not self.tty:
            left = self.total - self.done
            print(f"[{self.done}/{self.total} runs, {left} left] {title}", file=self.stream)
            self.stream.flush()

    def step(self, what: str) -> None:
        if self.enabled and self.tty:
            elapsed = time.perf_counter() - self.started
            line = f"[{self.done + 1}/{self.total} runs, {elapsed:4.0f} s] {what}"
            line = line[:119]
            pad = max(0, self._width - len(line))
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
            self._width = len(line)
        self.done += 1

    def close(self) -> None:
        if self.enabled and self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


class Runner:
    """Runs groups of scenarios; keeps every measurement, even after Ctrl-C."""

    def __init__(self, warmup: int, repeat: int, progress: Progress) -> None:
        self.warmup = warmup
        self.repeat = repeat
        self.progress = progress
        self.measurements: list[Measurement] = []
        self._warm: set[str] = set()

    def runs_for(self, group: Group) -> int:
        """How many runs a group takes."""
        return (self.warmup + self.repeat) * len(group.scenarios)

    def run_group(
        self, group: Group, run: Callable[[Scenario], Run] | None = None
    ) -> list[Measurement]:
        """Every round of ``group`` (each scenario run by ``run``, default :func:`run_once`)."""
        run = run_once if run is None else run
        for name in {s.backend for s in group.scenarios} & set(BASELINE_BACKENDS):
            if name not in self._warm:  # numba compiles here, outside any timing
                baselines.warm_up(name)
                self._warm.add(name)
        mine = [Measurement(s, group.title) for s in group.scenarios]
        self.measurements += mine
        self.progress.group(group.title)
        rounds = self.warmup + self.repeat
        count = len(mine)
        for r in range(rounds):
            for k in range(count):
                m = mine[(r + k) % count]
                if r < self.warmup:
                    label = f"warm-up {r + 1}/{self.warmup}"
                else:
                    label = f"round {r - self.warmup + 1}/{self.repeat}"
                self.progress.step(f"{group.title} · {m.scenario.contender} · {label}")
                result = run(m.scenario)
                if r < self.warmup:
                    m.warmups.append(result.wall)
                else:
                    m.runs.append(result)
        return mine
