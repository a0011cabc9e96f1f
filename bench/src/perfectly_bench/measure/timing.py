"""Timing done the way pyperf does it, adapted to jobs that start their own workers.

* Every run is one whole job, timed to completion with ``time.perf_counter`` around
  the call: a ``search()`` starts its workers, divides the range among them (never
  duplicating work), merges, stops its workers and verifies Σσ before it returns. So
  for process backends each run starts fresh processes, and start-up is counted. Worker
  interpreters, which a finished search keeps for the next one, are closed inside the
  timed span (``close_idle_interpreters``, counted as shutdown), so that each run makes
  its own, as a process backend's does, and pays for closing them.
* Around each run (outside the timed span) :mod:`.noise` reads the CPU time of this
  process and its children, CPU steal and other work: a run disturbed by other work is
  run again, at most the policy's ``reruns`` times per scenario (see :mod:`.rigor`).
* A group's scenarios are run in turn within each *round*, and the first scenario of
  each round rotates, so that a drift in machine load hits every contender alike.
* The first ``warmup`` rounds are run and thrown away (their times are kept in the
  results, marked as warm-ups); the next ``repeat`` rounds are the values, and more
  rounds follow for the scenarios whose median is not yet known within the policy's
  bound (with the group's serial run, their reference), up to ``max_rounds``.

A progress line goes to stderr; Ctrl-C ends the current run (``search()`` stops its
workers), and what was measured up to then is kept.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

from perfectly import SearchResult, search
from perfectly.parallel import close_idle_interpreters
from perfectly_bench.measure import baselines, machine, noise
from perfectly_bench.records.records import BASELINE_BACKENDS, Measurement, Scenario, TimedRun
from perfectly_bench.scenarios.matrix import VARIANT_ARGS, Group
from perfectly_bench.scenarios.rigor import Policy

T = TypeVar("T")


def _timed(call: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of ``call()``, ``time.perf_counter`` around it."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def run_once(scenario: Scenario) -> TimedRun:
    """Run ``scenario`` once: its time, and what else the machine was doing meanwhile."""
    s = scenario
    before = noise.Snapshot.now()
    if s.backend in BASELINE_BACKENDS:
        wall, _ = _timed(lambda: baselines.run(s.backend, s.method, s.lo, s.hi, s.workers))
        run = TimedRun(wall, 0.0, 0.0, (), (), 0, None)
    else:
        wall, result = _timed(lambda: _search(s))
        run = TimedRun.of_search(wall, result)
    seen = noise.judge(before, noise.Snapshot.now(), wall)
    return dataclasses.replace(
        run, cpu=seen.cpu, steal=seen.steal, others=seen.others, disturbed=seen.reasons
    )


def _search(s: Scenario) -> SearchResult:
    """The scenario's search, its worker interpreters (if any) closed after it, which
    counts in its ``shutdown``."""
    result = search(
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
    if s.backend == "interpreters":
        closing, _ = _timed(close_idle_interpreters)
        result = dataclasses.replace(result, shutdown=result.shutdown + closing)
    return result


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


def is_reference(s: Scenario) -> bool:
    """Whether ``s`` is its group's serial reference (see :func:`.analysis.records`)."""
    return s.backend == "serial" and s.chunk_size is None


class Runner:
    """Runs groups of scenarios; keeps every measurement, even after Ctrl-C."""

    def __init__(self, policy: Policy, progress: Progress) -> None:
        self.policy = policy
        self.progress = progress
        self.measurements: list[Measurement] = []
        self._warm: set[str] = set()

    def runs_for(self, group: Group) -> int:
        """How many runs a group takes at least (more rounds and re-runs may follow)."""
        return (self.policy.warmup + self.policy.repeat) * len(group.scenarios)

    def run_group(
        self, group: Group, run: Callable[[Scenario], TimedRun] | None = None
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
        before = machine.state()
        try:
            self._rounds(group.title, mine, run)
        finally:
            conditions = machine.conditions(before, machine.state())
            p = self.policy
            for m in mine:
                m.conditions = conditions
                m.capped = len(m.runs) >= p.max_rounds and not p.settled(m.values)
        return mine

    def _rounds(
        self, title: str, mine: list[Measurement], run: Callable[[Scenario], TimedRun]
    ) -> None:
        active, r = mine, 0
        while active:
            for k in range(len(active)):
                m = active[(r + k) % len(active)]
                self._one(title, m, run, r)
            r += 1
            active = self._pending(mine, r)
            if r >= self.policy.warmup + self.policy.repeat:  # a round beyond the minimum
                self.progress.total += len(active)

    def _pending(self, mine: list[Measurement], rounds: int) -> list[Measurement]:
        """The scenarios that take part in round ``rounds``: all of them until the
        minimum is done; then those whose median is not yet within the bound, with the
        serial reference of the group, until the cap."""
        p = self.policy
        if rounds < p.warmup + p.repeat:
            return mine
        if rounds >= p.warmup + p.max_rounds:
            return []
        unsettled = [m for m in mine if not p.settled(m.values)]
        serial = [m for m in mine if is_reference(m.scenario)]
        if unsettled and serial and serial[0] not in unsettled:
            unsettled.insert(0, serial[0])
        return unsettled

    def _one(self, title: str, m: Measurement, run: Callable[[Scenario], TimedRun], r: int) -> None:
        """Round ``r`` of ``m``: a measured run is re-run while disturbed, within budget."""
        p = self.policy
        label = f"warm-up {r + 1}/{p.warmup}" if r < p.warmup else f"round {r - p.warmup + 1}"
        self.progress.step(f"{title} · {m.scenario.contender} · {label}")
        result = run(m.scenario)
        if r < p.warmup:
            m.warmups.append(result.wall)
            return
        while result.disturbed and len(m.rejected) < p.reruns:
            m.rejected.append(dataclasses.replace(result, round=r - p.warmup))
            self.progress.total += 1
            self.progress.step(f"{title} · {m.scenario.contender} · {label}, re-run (disturbed)")
            result = run(m.scenario)
        m.runs.append(dataclasses.replace(result, round=r - p.warmup))
