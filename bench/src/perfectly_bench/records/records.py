"""The typed records of a run: what was run (:class:`Scenario`), each timed run
(:class:`TimedRun`), every run of a scenario (:class:`Measurement`) and a measured scenario
with its derived figures (:class:`Record`).

Each has ``to_json`` (plain JSON types) and ``from_json`` (the inverse, for input that
:mod:`.results` has checked against the schema: that is done there, once).
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
from typing import Any

from perfectly import SearchResult
from perfectly_bench.common.stats import Summary, median_interval, summarize


def imbalance(worker_busy: list[float] | tuple[float, ...]) -> float:
    """max / mean of the busy time of the workers that did any work (1.0: none, or
    even): the measure ``SearchResult.imbalance`` gives for a search."""
    busy = [b for b in worker_busy if b > 0] or [0.0]
    mean = sum(busy) / len(busy)
    return max(busy) / mean if mean > 0 else 1.0


#: How a person names each variant (kernel and GIL policy) and baseline in a table.
VARIANT_LABELS = {
    "python": "pure Python",
    "compiled-gil": "compiled, GIL held",
    "compiled-nogil": "compiled nogil",
    "numpy": "NumPy",
    "numba": "numba",
    "c": "C",
}
BACKEND_LABELS = {"numba": "numba prange", "numba-njit": "numba @njit", "yardstick": "C yardstick"}
#: Backends that are not ``search()`` backends: baselines written without this package.
BASELINE_BACKENDS = ("numpy", "numba", "numba-njit", "yardstick")
#: One thread (the yardstick unless given more): no "× workers" in the label.
SINGLE = ("serial", "numpy", "numba-njit", "yardstick")


def contender_key(backend: str, start_method: str | None) -> str:
    """``backend`` or ``backend:start_method``: a contender's name across sizes."""
    return backend + (f":{start_method}" if start_method else "")


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One way of running one job."""

    section: str
    variant: str
    backend: str
    workers: int
    method: str
    schedule: str
    lo: int
    hi: int
    start_method: str | None = None
    chunk_size: int | None = None
    python: str | None = None  # the interpreter's label in a run across several (3.13t)

    @property
    def count(self) -> int:
        """How many numbers the job covers."""
        return self.hi - self.lo

    @property
    def key(self) -> str:
        """The contender, the same at every size: ``processes:fork``, ``threads``."""
        return contender_key(self.backend, self.start_method)

    @property
    def chunks(self) -> int | None:
        """How many chunks a fixed chunk size cuts the range into (None if not fixed)."""
        return None if self.chunk_size is None else -(-self.count // self.chunk_size)

    @property
    def id(self) -> str:
        """A stable name, the same in every run whatever the range (except crossover
        and kernels, whose ranges are part of what is measured); in a run across
        interpreters it starts with the interpreter's label."""
        parts = [self.python] if self.python else []
        parts += [self.section, f"{self.method}-{self.schedule}", self.variant, self.key]
        parts.append(f"w{self.workers}")
        if self.chunks is not None:
            parts.append(f"chunks{self.chunks}")
        if self.section == "crossover":
            parts.append(f"n{self.count}")
        if self.section == "kernels":
            parts.append(f"{self.lo}-{self.hi}")
        return "/".join(parts)

    @property
    def contender(self) -> str:
        """The backend as a person would name it: ``processes (fork) × 2``."""
        name = BACKEND_LABELS.get(self.backend, self.backend)
        if self.start_method:
            name += f" ({self.start_method})"
        if self.backend not in SINGLE or self.workers > 1:
            name += f" × {self.workers}"
        if self.chunks is not None:
            name += f", {self.chunks} chunk{'s' if self.chunks != 1 else ''}"
        return name

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class TimedRun:
    """One timed run of a scenario."""

    wall: float  # seconds, perf_counter around the whole call
    startup: float  # seconds starting workers, as the backend measured it
    shutdown: float  # seconds stopping them
    worker_busy: tuple[float, ...]  # seconds of kernel work per worker
    worker_chunks: tuple[int, ...]
    chunks: int
    start_method: str | None
    # What the machine was doing (see .noise): None where unknown.
    round: int | None = None  # the round it belongs to (pairs it with its serial run)
    cpu: float | None = None  # seconds of CPU of the process and its child processes
    steal: float | None = None  # share of the CPUs' time stolen by the hypervisor
    others: float | None = None  # share taken by other work at normal priority
    disturbed: tuple[str, ...] = ()  # why it counts as disturbed (empty: it does not)

    @classmethod
    def of_search(cls, wall: float, result: SearchResult) -> TimedRun:
        """The run of one ``search()`` that took ``wall`` seconds and returned ``result``."""
        return cls(
            wall=wall,
            startup=result.startup,
            shutdown=result.shutdown,
            worker_busy=result.worker_busy,
            worker_chunks=result.worker_chunks,
            chunks=result.chunks,
            start_method=result.start_method,
        )

    @property
    def imbalance(self) -> float:
        """max / mean of the workers' busy time (1.0 is a perfect balance)."""
        return imbalance(self.worker_busy)

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(worker_busy=list(self.worker_busy), worker_chunks=list(self.worker_chunks))
        out.update(imbalance=self.imbalance, disturbed=list(self.disturbed))
        out["cpu_ratio"] = None if self.cpu is None else self.cpu / self.wall
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TimedRun:
        return cls(
            wall=data["wall"],
            startup=data["startup"],
            shutdown=data["shutdown"],
            worker_busy=tuple(data["worker_busy"]),
            worker_chunks=tuple(data["worker_chunks"]),
            chunks=data["chunks"],
            start_method=data.get("start_method"),
            round=data.get("round"),
            cpu=data.get("cpu"),
            steal=data.get("steal"),
            others=data.get("others"),
            disturbed=tuple(data.get("disturbed", ())),
        )


@dataclasses.dataclass
class Measurement:
    """Every run of one scenario (filled in by the runner as the runs happen)."""

    scenario: Scenario
    group: str
    warmups: list[float] = dataclasses.field(default_factory=list)
    runs: list[TimedRun] = dataclasses.field(default_factory=list)
    rejected: list[TimedRun] = dataclasses.field(default_factory=list)  # disturbed, so re-run
    conditions: dict[str, Any] = dataclasses.field(default_factory=dict)  # load, steal
    capped: bool = False  # the rounds stopped at their cap, not at the bound

    @property
    def values(self) -> list[float]:
        return [run.wall for run in self.runs]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.scenario.to_json(),
            "group": self.group,
            "values": self.values,
            "warmups": list(self.warmups),
            "runs": [run.to_json() for run in self.runs],
            "rejected": [run.to_json() for run in self.rejected],
            "conditions": dict(self.conditions),
            "capped": self.capped,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        runs = [TimedRun.from_json(r) for r in data["runs"]]
        rejected = [TimedRun.from_json(r) for r in data.get("rejected", ())]
        return cls(
            Scenario.from_json(data),
            data["group"],
            list(data["warmups"]),
            runs,
            rejected,
            dict(data.get("conditions", {})),
            bool(data.get("capped", False)),
        )


@dataclasses.dataclass(frozen=True)
class Record:
    """A measured scenario (at least one run), with its label and its speedup over the
    group's serial reference (``reference`` names it; None where there is none)."""

    measurement: Measurement
    label: str
    reference: str | None = None
    speedup: float | None = None
    speedup_interval: tuple[float, float] | None = None  # 95 % bootstrap interval

    @property
    def scenario(self) -> Scenario:
        return self.measurement.scenario

    @property
    def id(self) -> str:
        return self.scenario.id

    @property
    def group(self) -> str:
        return self.measurement.group

    @property
    def runs(self) -> list[TimedRun]:
        return self.measurement.runs

    @property
    def values(self) -> list[float]:
        return self.measurement.values

    @functools.cached_property
    def stats(self) -> Summary:
        return summarize(self.values)

    @property
    def median(self) -> float:
        return self.stats.median

    @property
    def efficiency(self) -> float | None:
        return None if self.speedup is None else self.speedup / self.scenario.workers

    @property
    def kernels_label(self) -> str:
        """How the kernels section names this contender (its serial one is the kernel)."""
        return "compiled kernel" if self.scenario.backend == "serial" else self.label

    @property
    def ns_per_number(self) -> float | None:
        count = self.scenario.count
        return self.stats.median / count * 1e9 if count else None

    @property
    def imbalance(self) -> float | None:
        """Median over the runs; None for baselines, which report no workers."""
        if self.scenario.backend in BASELINE_BACKENDS:
            return None
        return statistics.median(r.imbalance for r in self.runs)

    @property
    def startup(self) -> float:
        return statistics.median(r.startup for r in self.runs)

    @property
    def shutdown(self) -> float:
        return statistics.median(r.shutdown for r in self.runs)

    def median_run(self) -> TimedRun:
        """The run whose time is the median (the lower middle one for an even count)."""
        ordered = sorted(self.runs, key=lambda run: run.wall)
        return ordered[(len(ordered) - 1) // 2]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.measurement.to_json(),
            "label": self.label,
            "stats": self.stats.to_json(),
            "ns_per_number": self.ns_per_number,
            "imbalance": self.imbalance,
            "startup": self.startup,
            "shutdown": self.shutdown,
            "reference": self.reference,
            "speedup": self.speedup,
            "speedup_interval": None if self.speedup_interval is None else [*self.speedup_interval],
            "median_interval": list(median_interval(self.values)),
            "efficiency": self.efficiency,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        measurement = Measurement.from_json(data)
        interval = data.get("speedup_interval")
        interval = None if interval is None else (interval[0], interval[1])
        return cls(measurement, data["label"], data["reference"], data["speedup"], interval)
