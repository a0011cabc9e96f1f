"""Was a run disturbed by other work? CPU time, CPU steal and other work, per run.

Around every timed run (outside the timed span) two snapshots are taken:

* **CPU time of this process and its child processes**: ``time.process_time()`` (every
  thread of this process), plus ``resource.getrusage(RUSAGE_CHILDREN)`` (children that
  have exited and been reaped: every ``search()`` joins its worker processes before it
  returns), plus, on Linux, the CPU time of the children still alive and of *their*
  reaped children from ``/proc/<pid>/stat`` (a forkserver is a long-lived child, and it
  reaps the workers it forks). Where ``resource`` is missing (Windows) only this
  process's own time is known: :data:`CPU_TIME_COVERS` says which.
* **The CPUs this process may run on**, from ``/proc/stat`` (Linux; elsewhere None):
  time spent busy (niced or not), stolen by the hypervisor, and in all.

A run is *disturbed* when, during it, the hypervisor stole more than
:data:`STEAL_LIMIT` of the CPUs' time, or other work (the CPUs' busy time less this
run's own CPU time) took more than :data:`OTHERS_LIMIT` of it. Niced work counts too: with
Linux's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``), a job at
``nice 19`` started from another session still takes a full share of the CPUs. Runs
shorter than :data:`MIN_TICKS` clock ticks of the CPUs are too short for ``/proc/stat``
to tell and are not judged. Without ``/proc/stat`` the one sign left is a run that got
less than :data:`RATIO_LIMIT` CPU-seconds per second of wall time (it waited for a CPU).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

STEAL_LIMIT = 0.10  # share of the CPUs' time stolen by the hypervisor
OTHERS_LIMIT = 0.25  # share of the CPUs' time taken by other work at normal priority
RATIO_LIMIT = 0.5  # CPU-seconds per wall-second, where /proc/stat is missing
MIN_TICKS = 20  # clock ticks of the CPUs below which /proc/stat cannot tell
PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CPU_TIME_COVERS = (
    "this process, its reaped child processes and (from /proc) its live ones"
    if PROC.joinpath("self", "stat").exists() and resource is not None
    else "this process and its reaped child processes"
    if resource is not None
    else "this process only (its child processes are not seen here)"
)


@dataclasses.dataclass(frozen=True)
class CpuTicks:
    """``/proc/stat`` clock ticks summed over the CPUs this process may use."""

    busy: int  # user, system, irq and softirq: work at normal priority (guests included)
    nice: int  # niced work
    steal: int  # taken by the hypervisor
    total: int  # every state, idle included


def cpu_ticks() -> CpuTicks | None:
    """The CPUs' tick counters now, or None where ``/proc/stat`` is missing."""
    try:
        lines = PROC.joinpath("stat").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    mine = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    sums = [0] * 8
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        if mine is None or int(name[3:]) in mine:
            sums = [a + int(b) for a, b in zip(sums, fields[:8], strict=True)]
    user, nice, system, _idle, _iowait, irq, softirq, steal = sums
    return CpuTicks(user + system + irq + softirq, nice, steal, sum(sums))


def _children_ticks() -> dict[int, int]:
    """Live child processes: pid → their CPU ticks and their reaped children's."""
    out: dict[int, int] = {}
    try:
        tasks = list(PROC.joinpath("self", "task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            pids = task.joinpath("children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                stat = PROC.joinpath(pid, "stat").read_text()
            except OSError:  # exited since
                continue
            fields = stat.rsplit(")", 1)[1].split()  # after the command name, field 3 on
            out[int(pid)] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return out


def _reaped_seconds() -> float:
    if resource is None:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What the counters said at one moment."""

    process: float  # seconds
    reaped: float  # seconds
    children: dict[int, int]  # live children's ticks
    cpus: CpuTicks | None

    @classmethod
    def now(cls) -> Snapshot:
        return cls(time.process_time(), _reaped_seconds(), _children_ticks(), cpu_ticks())


def cpu_seconds(before: Snapshot, after: Snapshot) -> float:
    """CPU time this process and its children used between two snapshots.

    A child alive at both counts its growth; one born since counts all of it; one that
    exited since was reaped, so its whole life is in the reaped time, and what it had
    used before the first snapshot is taken off again.
    """
    ticks = sum(t - before.children.get(pid, 0) for pid, t in after.children.items())
    ticks -= sum(t for pid, t in before.children.items() if pid not in after.children)
    own = after.process - before.process
    return max(0.0, own + after.reaped - before.reaped + ticks / TICK)


@dataclasses.dataclass(frozen=True)
class Disturbance:
    """How much of the CPUs' time went elsewhere during a run, and the verdict on it."""

    cpu: float  # seconds of CPU this run used (process and children)
    steal: float | None  # share of the CPUs' time stolen (None: unknown here)
    others: float | None  # share taken by other work
    reasons: tuple[str, ...]  # empty: not disturbed


def judge(before: Snapshot, after: Snapshot, wall: float) -> Disturbance:
    """Whether the run between ``before`` and ``after`` (``wall`` seconds) was disturbed."""
    cpu = cpu_seconds(before, after)
    if before.cpus is None or after.cpus is None:
        ratio = cpu / wall if wall > 0 else 0.0
        waited = resource is not None and wall > 0 and ratio < RATIO_LIMIT
        why = f"it got {ratio:.2f} CPU-seconds per second (it waited for a CPU)"
        return Disturbance(cpu, None, None, (why,) if waited else ())
    a, b = before.cpus, after.cpus
    total = b.total - a.total
    if total <= 0:
        return Disturbance(cpu, None, None, ())
    busy = b.busy - a.busy + b.nice - a.nice
    steal = (b.steal - a.steal) / total
    others = max(0.0, busy / TICK - cpu) / (total / TICK)
    if total < MIN_TICKS:
        return Disturbance(cpu, steal, others, ())
    reasons: list[str] = []
    if steal > STEAL_LIMIT:
        reasons.append(f"the hypervisor took {steal:.0%} of the CPUs (steal)")
    if others > OTHERS_LIMIT:
        reasons.append(f"other work took {others:.0%} of the CPUs")
    return Disturbance(cpu, steal, others, tuple(reasons))
