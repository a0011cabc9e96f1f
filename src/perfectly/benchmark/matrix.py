"""The scenario matrix: what one benchmark run measures, as plain data.

A *scenario* is one way of running one job: a kernel, a backend (with its start method),
a worker count, an algorithm, a schedule and a range. Scenarios come in *groups*: the
contenders of one group are run in turn within every round (see :mod:`.timing`), so that
drifts in machine load hit all of them alike, and a group's serial scenario is the
reference for the speedups of the others.

Sections of a run, each answering one question:

``scaling``
    kernels × backends × workers, for each algorithm (and static vs dynamic schedules
    for ``trial``): speedup over serial, parallel efficiency, load imbalance.
``start-methods``
    the process backends with every start method, at one worker per CPU.
``overhead``
    starting and stopping workers with one number of work per worker, per backend,
    start method and worker count.
``messages``
    what one more chunk costs, per backend: the same range cut into few or many chunks.
``crossover``
    serial against processes (each start method) and threads on growing ranges: the
    size from which parallel workers start to pay.
``baselines``
    NumPy's vectorised sieve and numba's ``@njit(parallel=True)`` sieve beside the
    compiled kernel (``--baselines``; each when installed).
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
from typing import Any

from perfectly._core import build_info
from perfectly._validate import BACKENDS, PROCESS_BACKENDS
from perfectly.benchmark.sizing import Sizes

KERNELS = ("python", "compiled-gil", "compiled-nogil")
KERNEL_LABELS = {
    "python": "pure Python",
    "compiled-gil": "compiled, GIL held",
    "compiled-nogil": "compiled nogil",
    "numpy": "NumPy",
    "numba": "numba",
}
#: ``search()`` arguments for each kernel name.
KERNEL_ARGS: dict[str, dict[str, Any]] = {
    "python": {"kernel": "python", "release_gil": True},
    "compiled-gil": {"kernel": "compiled", "release_gil": False},
    "compiled-nogil": {"kernel": "compiled", "release_gil": True},
}
METHODS = ("sieve", "trial")
SCHEDULES = ("dynamic", "static")
SECTIONS = ("scaling", "start-methods", "overhead", "messages", "crossover", "baselines")
THREAD_BACKENDS = ("threads", "_thread", "thread-pool")
BASELINE_BACKENDS = ("numpy", "numba")
BACKEND_LABELS = {
    "serial": "serial",
    "threads": "threads",
    "_thread": "_thread",
    "thread-pool": "thread-pool",
    "processes": "processes",
    "process-pool": "process-pool",
    "numpy": "numpy",
    "numba": "numba prange",
}


def default_start_method() -> str:
    """The start method ``multiprocessing`` uses here when none is named."""
    return str(multiprocessing.get_context().get_start_method())


def default_workers(cpus: int) -> tuple[int, ...]:
    """1, 2, 4, … up to the CPU count, the CPU count itself, and 2× it (oversubscribed)."""
    ladder = {cpus, 2 * cpus}
    w = 1
    while w < cpus:
        ladder.add(w)
        w *= 2
    return tuple(sorted(ladder))


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One way of running one job."""

    section: str
    kernel: str
    backend: str
    workers: int
    algorithm: str
    schedule: str
    lo: int
    hi: int
    start_method: str | None = None
    chunk_size: int | None = None

    @property
    def count(self) -> int:
        """How many numbers the job covers."""
        return self.hi - self.lo

    @property
    def id(self) -> str:
        """A stable name, the same in every run whatever the range (except crossover)."""
        parts = [self.section, f"{self.algorithm}-{self.schedule}", self.kernel]
        parts.append(self.backend + (f":{self.start_method}" if self.start_method else ""))
        parts.append(f"w{self.workers}")
        if self.chunk_size is not None:
            parts.append(f"chunks{-(-self.count // self.chunk_size)}")
        if self.section == "crossover":
            parts.append(f"n{self.count}")
        return "/".join(parts)

    @property
    def contender(self) -> str:
        """The backend as a person would name it: ``processes (fork) × 2``."""
        name = BACKEND_LABELS.get(self.backend, self.backend)
        if self.start_method:
            name += f" ({self.start_method})"
        if self.backend != "serial" and self.backend != "numpy":
            name += f" × {self.workers}"
        if self.chunk_size is not None:
            chunks = -(-self.count // self.chunk_size)
            name += f", {chunks} chunk{'s' if chunks != 1 else ''}"
        return name

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class Group:
    """Scenarios run in turn within each round; the serial one is the speedup reference."""

    section: str
    title: str
    scenarios: tuple[Scenario, ...]


@dataclasses.dataclass(frozen=True)
class Params:
    """Every dimension of one run, as the command line set it."""

    kernels: tuple[str, ...]
    backends: tuple[str, ...]
    workers: tuple[int, ...]
    algorithms: tuple[str, ...]
    schedules: tuple[str, ...]
    start_methods: tuple[str, ...]
    sections: tuple[str, ...]
    sizes: Sizes
    repeat: int
    warmup: int
    baselines: bool
    quick: bool
    cpus: int
    crossover_sizes: tuple[int, ...]
    message_chunks: int

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["sizes"] = self.sizes.to_dict()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def check_choices(values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    """A ``ValueError`` naming ``what`` when a value is not allowed or none is given."""
    if not values:
        raise ValueError(f"--{what} needs at least one value")
    for value in values:
        if value not in allowed:
            raise ValueError(f"--{what}: unknown value {value!r}; choose from {', '.join(allowed)}")


def _order(values: tuple[str, ...], reference: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in reference if v in values)


def _primary_kernel(params: Params) -> str:
    return "compiled-nogil" if "compiled-nogil" in params.kernels else params.kernels[-1]


def compiled_available() -> bool:
    """Whether the compiled kernel can run here."""
    return bool(build_info()["core"] == "compiled")


def _overhead_kernel() -> str:
    """The kernel for the overhead sections, where one number of work is all there is."""
    return "compiled-nogil" if compiled_available() else "python"


def _contenders(
    params: Params, kernel: str, algorithm: str, schedules: tuple[str, ...], lo: int, hi: int
) -> list[Scenario]:
    """Serial (the reference, whether or not --backends names it), then every backend ×
    worker count × schedule; process backends with the default start method."""
    default = default_start_method()
    method = default if default in params.start_methods else params.start_methods[0]
    out = [Scenario("scaling", kernel, "serial", 1, algorithm, schedules[0], lo, hi)]
    for backend in _order(params.backends, tuple(BACKENDS)):
        if backend == "serial":
            continue
        sm = method if backend in PROCESS_BACKENDS else None
        for schedule in schedules:
            for workers in params.workers:
                out.append(
                    Scenario("scaling", kernel, backend, workers, algorithm, schedule, lo, hi, sm)
                )
    return out


def scaling_groups(params: Params) -> list[Group]:
    """kernels × backends × workers, per algorithm; static against dynamic for ``trial``.

    The sieve costs about the same per number everywhere, so it is run with one schedule
    (dynamic). For ``trial``, whose cost grows like √n, the fastest kernel's group holds
    both schedules side by side; the other kernels run the first schedule only.
    """
    groups = []
    primary = _primary_kernel(params)
    for algorithm in params.algorithms:
        if algorithm == "trial":
            schedules = params.schedules
        else:
            schedules = ("dynamic",) if "dynamic" in params.schedules else params.schedules[:1]
        for kernel in params.kernels:
            mine = schedules if kernel == primary else schedules[:1]
            size = params.sizes.count(kernel, algorithm)
            title = f"{algorithm}, {KERNEL_LABELS[kernel]}, [1, {size:,}], {' and '.join(mine)}"
            title += " schedules" if len(mine) > 1 else " schedule"
            scenarios = _contenders(params, kernel, algorithm, mine, 1, size + 1)
            groups.append(Group("scaling", title, tuple(scenarios)))
    return groups


def _start_methods(params: Params, backend: str) -> tuple[str, ...]:
    """Every start method asked for; with --quick, the process pool gets only the default
    (its start-up costs what the processes backend's does)."""
    if params.quick and backend == "process-pool":
        default = default_start_method()
        return (default,) if default in params.start_methods else params.start_methods[:1]
    return params.start_methods


def start_method_groups(params: Params) -> list[Group]:
    """Each process backend with each start method, at one worker per CPU."""
    backends = _order(params.backends, PROCESS_BACKENDS)
    if not backends:
        return []
    kernel = _primary_kernel(params)
    algorithm = "sieve" if "sieve" in params.algorithms else params.algorithms[0]
    size = params.sizes.count(kernel, algorithm)
    workers = params.cpus
    scenarios = [Scenario("start-methods", kernel, "serial", 1, algorithm, "dynamic", 1, size + 1)]
    if "threads" in params.backends:
        scenarios.append(
            Scenario("start-methods", kernel, "threads", workers, algorithm, "dynamic", 1, size + 1)
        )
    for backend in backends:
        for method in _start_methods(params, backend):
            scenarios.append(
                Scenario(
                    "start-methods",
                    kernel,
                    backend,
                    workers,
                    algorithm,
                    "dynamic",
                    1,
                    size + 1,
                    method,
                )
            )
    title = f"{algorithm}, {KERNEL_LABELS[kernel]}, [1, {size:,}], every start method"
    return [Group("start-methods", title, tuple(scenarios))]


def _overhead_workers(params: Params) -> tuple[int, ...]:
    """1 and one per CPU (those of them that --workers asked for), else the smallest;
    with --quick, one per CPU only."""
    chosen = tuple(w for w in params.workers if w in (1, params.cpus))
    if params.quick:
        chosen = chosen[-1:]
    return chosen or params.workers[:1]


def overhead_groups(params: Params) -> list[Group]:
    """Start and stop workers that each get one number to do."""
    kernel = _overhead_kernel()
    scenarios = [Scenario("overhead", kernel, "serial", 1, "sieve", "static", 1, 2)]
    for backend in _order(params.backends, tuple(BACKENDS)):
        if backend == "serial":
            continue
        methods: tuple[str | None, ...] = (
            _start_methods(params, backend) if backend in PROCESS_BACKENDS else (None,)
        )
        for method in methods:
            for workers in _overhead_workers(params):
                count = workers  # one number per worker
                scenarios.append(
                    Scenario(
                        "overhead",
                        kernel,
                        backend,
                        workers,
                        "sieve",
                        "static",
                        1,
                        count + 1,
                        method,
                    )
                )
    title = "start and stop workers, one number of work each"
    return [Group("overhead", title, tuple(scenarios))]


def message_groups(params: Params) -> list[Group]:
    """The same small range in few or many chunks: the cost of one more chunk's round trip."""
    kernel = _overhead_kernel()
    chunks = params.message_chunks
    count = 64 * chunks  # 64 numbers per chunk when many: the kernel's work is negligible
    workers = params.cpus
    default = default_start_method()
    method = default if default in params.start_methods else params.start_methods[0]
    scenarios = []
    for backend in _order(params.backends, tuple(BACKENDS)):
        n = 1 if backend == "serial" else workers
        sm = method if backend in PROCESS_BACKENDS else None
        for size in (-(-count // n), count // chunks):
            scenarios.append(
                Scenario("messages", kernel, backend, n, "sieve", "dynamic", 1, count + 1, sm, size)
            )
    if not scenarios:
        return []
    title = f"sieve, [1, {count:,}] in {workers} or {chunks} chunks: the cost of a chunk"
    return [Group("messages", title, tuple(scenarios))]


def crossover_group(params: Params, size: int, skip: frozenset[str] = frozenset()) -> Group:
    """Serial against threads and processes (each start method) on [1, size].

    ``skip`` names contenders (``backend`` or ``backend:start_method``) that already beat
    serial at two sizes in a row and need not be measured on larger ranges.
    """
    kernel = _primary_kernel(params)
    workers = params.cpus
    make = functools.partial(Scenario, "crossover", kernel, algorithm="sieve", lo=1, hi=size + 1)
    scenarios = [make(backend="serial", workers=1, schedule="dynamic")]
    if "threads" in params.backends and "threads" not in skip:
        scenarios.append(make(backend="threads", workers=workers, schedule="dynamic"))
    for method in params.start_methods:
        if f"processes:{method}" not in skip:
            scenarios.append(
                make(backend="processes", workers=workers, schedule="dynamic", start_method=method)
            )
    return Group("crossover", f"sieve, {KERNEL_LABELS[kernel]}, [1, {size:,}]", tuple(scenarios))


def crossover_ladder(top: int) -> tuple[int, ...]:
    """Range sizes 1e3, 1e4, … up to ``top``, and ``top`` itself."""
    sizes = [10**k for k in range(3, 19) if 10**k <= top]
    if top not in sizes:
        sizes.append(top)
    return tuple(sizes)


def baseline_group(params: Params, available: tuple[str, ...], numba_threads: int) -> Group | None:
    """The compiled sieve beside NumPy's and numba's, on the same range."""
    if not available:
        return None
    kernel = _primary_kernel(params)
    size = params.sizes.count(kernel, "sieve")
    lo, hi = 1, size + 1
    scenarios = [Scenario("baselines", kernel, "serial", 1, "sieve", "dynamic", lo, hi)]
    threads = [w for w in params.workers if w <= params.cpus]
    scenarios += [
        Scenario("baselines", kernel, "threads", w, "sieve", "dynamic", lo, hi)
        for w in threads
        if w > 1
    ]
    if "numpy" in available:
        scenarios.append(Scenario("baselines", "numpy", "numpy", 1, "sieve", "blocks", lo, hi))
    if "numba" in available:
        scenarios += [
            Scenario("baselines", "numba", "numba", w, "sieve", "blocks", lo, hi)
            for w in threads
            if w <= numba_threads
        ]
    return Group("baselines", f"sieve, [1, {size:,}], beside NumPy and numba", tuple(scenarios))
