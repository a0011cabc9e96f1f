"""The scenario matrix: what one benchmark run measures, as plain data.

A *scenario* (:class:`.records.Scenario`) is one way of running one job: a variant (the
kernel and whether it holds the GIL), a backend (with its start method), a worker count,
a method, a schedule and a range. Scenarios come in *groups*: the contenders of one
group are run in turn within every round (see :mod:`.timing`), so that drifts in machine
load hit all of them alike, and a group's serial scenario is the reference for the
speedups of the others.

Sections of a run, each answering one question:

``scaling``
    variants × backends × workers, for each method (and static vs dynamic schedules
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
    compiled kernel (``--baselines``; each when installed), and the C yardstick on one
    thread and on as many OpenMP threads as the threads contenders (``--yardstick``):
    the parallel speedup a C loop reaches on this machine, beside this package's.
``kernels``
    one thread each, side by side: the compiled sieve against numba's ``@njit`` sieve
    and NumPy's on fixed ranges, the compiled trial loop against a numba ``@njit`` one
    (``--baselines``; numba when installed): ns per number and ratios. Then the cost
    curve: the compiled sieve's ns per number from 1e6 to 2**64, each point one chunk
    of a search there (its sieve's set-up included), beside the C yardstick's where one
    is given (``--yardstick PATH``) and its time affordable.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
from typing import Any

from perfectly import BACKENDS, PROCESS_BACKENDS, build_info
from perfectly.planning import default_chunk_size
from perfectly_bench.records.records import VARIANT_LABELS, Scenario
from perfectly_bench.scenarios.sizing import Sizes

#: The kernel variants the benchmark compares (``--variants``): the pure-Python kernel,
#: and the compiled one holding or releasing the GIL.
VARIANTS = ("python", "compiled-gil", "compiled-nogil")
#: ``search()`` arguments for each variant.
VARIANT_ARGS: dict[str, dict[str, Any]] = {
    "python": {"kernel": "python", "release_gil": True},
    "compiled-gil": {"kernel": "compiled", "release_gil": False},
    "compiled-nogil": {"kernel": "compiled", "release_gil": True},
}
#: The schedules the study compares (of ``_validate.SCHEDULES``); most groups use the first.
BENCH_SCHEDULES = ("dynamic", "static")
SECTIONS = (
    "scaling",
    "start-methods",
    "overhead",
    "messages",
    "crossover",
    "baselines",
    "kernels",
)
BASELINE_SECTIONS = ("baselines", "kernels")  # run only with --baselines
#: The kernels section's ranges per method, for a full run and for --quick.
KERNEL_RANGES = {
    "sieve": ((1, 10**8), (10**9, 11 * 10**8)),
    "trial": ((1, 2 * 10**5),),
}
QUICK_KERNEL_RANGES = {
    "sieve": ((1, 10**6), (10**9, 10**9 + 10**6)),
    "trial": ((1, 2 * 10**4),),
}
#: Where the cost curve is taken (the kernels section), for a full run and for --quick.
COST_MAGNITUDES = (10**6, 10**9, 10**12, 10**13, 10**15, 10**17, 2**61, 2**64)
QUICK_COST_MAGNITUDES = (10**6, 10**12, 10**15)
#: --quick's cost points: this many numbers each (a full run takes one search chunk).
QUICK_COST_WINDOW = 1 << 20
#: How the titles of the cost curve's groups start.
COST_TITLE = "sieve cost at"
#: The C yardstick joins a cost point up to this magnitude: from 1e15 on its Σσ is wrong
#: (checked against the closed form, as every baseline's is: 2.43e20 for [1e15, 1e15 + 1e6)
#: where the closed form gives 1.64e21), and it is slow there (≈ 350 ns per number).
YARDSTICK_UP_TO = 10**13


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
class Group:
    """Scenarios run in turn within each round; the serial one is the speedup reference."""

    section: str
    title: str
    scenarios: tuple[Scenario, ...]


@dataclasses.dataclass(frozen=True)
class Params:
    """Every dimension of one run, as the command line set it."""

    variants: tuple[str, ...]
    backends: tuple[str, ...]
    workers: tuple[int, ...]
    methods: tuple[str, ...]
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
    yardstick: str | None = None  # a built C yardstick (../shared/perf/sigma.c)

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["sizes"] = self.sizes.to_json()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def _order(values: tuple[str, ...], reference: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in reference if v in values)


def _primary_variant(params: Params) -> str:
    return "compiled-nogil" if "compiled-nogil" in params.variants else params.variants[-1]


def _default_method(params: Params) -> str:
    """The start method of the process backends outside the start-methods section: this
    platform's default, else forkserver (what ``search`` uses where it may not fork)."""
    for method in (default_start_method(), "forkserver"):
        if method in params.start_methods:
            return method
    return params.start_methods[0]


def compiled_available() -> bool:
    """Whether the compiled kernel can run here."""
    return bool(build_info()["core"] == "compiled")


def _overhead_variant() -> str:
    """The variant for the overhead sections, where one number of work is all there is."""
    return "compiled-nogil" if compiled_available() else "python"


def _contenders(
    params: Params, variant: str, method: str, schedules: tuple[str, ...], size: int
) -> list[Scenario]:
    """Serial (the reference, whether or not --backends names it), then every backend ×
    worker count × schedule; process backends with the default start method."""
    make = functools.partial(Scenario, "scaling", variant, method=method, lo=1, hi=size + 1)
    out = [make(backend="serial", workers=1, schedule=schedules[0])]
    for backend in _order(params.backends, BACKENDS):
        if backend == "serial":
            continue
        sm = _default_method(params) if backend in PROCESS_BACKENDS else None
        for schedule in schedules:
            for w in params.workers:
                out.append(make(backend=backend, workers=w, schedule=schedule, start_method=sm))
    return out


def scaling_groups(params: Params) -> list[Group]:
    """variants × backends × workers, per method; static against dynamic for ``trial``.

    The sieve costs about the same per number everywhere, so it is run with one schedule
    (dynamic). For ``trial``, whose cost grows like √n, the fastest variant's group holds
    every schedule side by side; the other variants run the first schedule only.
    """
    groups = []
    primary = _primary_variant(params)
    for method in params.methods:
        if method == "trial":
            schedules = params.schedules
        else:
            schedules = ("dynamic",) if "dynamic" in params.schedules else params.schedules[:1]
        for variant in params.variants:
            mine = schedules if variant == primary else schedules[:1]
            size = params.sizes.count(variant, method)
            title = f"{method}, {VARIANT_LABELS[variant]}, [1, {size:,}], {' and '.join(mine)}"
            title += " schedules" if len(mine) > 1 else " schedule"
            scenarios = _contenders(params, variant, method, mine, size)
            groups.append(Group("scaling", title, tuple(scenarios)))
    return groups


def _start_methods(params: Params, backend: str) -> tuple[str, ...]:
    """Every start method asked for; with --quick, the process pool gets only the default
    (its start-up costs what the processes backend's does)."""
    if params.quick and backend == "process-pool":
        return (_default_method(params),)
    return params.start_methods


def start_method_groups(params: Params) -> list[Group]:
    """Each process backend with each start method, at one worker per CPU."""
    backends = _order(params.backends, PROCESS_BACKENDS)
    if not backends:
        return []
    variant = _primary_variant(params)
    method = "sieve" if "sieve" in params.methods else params.methods[0]
    size = params.sizes.count(variant, method)
    make = functools.partial(
        Scenario, "start-methods", variant, method=method, schedule="dynamic", lo=1, hi=size + 1
    )
    scenarios = [make(backend="serial", workers=1)]
    if "threads" in params.backends:
        scenarios.append(make(backend="threads", workers=params.cpus))
    for backend in backends:
        for sm in _start_methods(params, backend):
            scenarios.append(make(backend=backend, workers=params.cpus, start_method=sm))
    title = f"{method}, {VARIANT_LABELS[variant]}, [1, {size:,}], every start method"
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
    make = functools.partial(
        Scenario, "overhead", _overhead_variant(), method="sieve", schedule="static", lo=1
    )
    scenarios = [make(backend="serial", workers=1, hi=2)]
    for backend in _order(params.backends, BACKENDS):
        if backend == "serial":
            continue
        methods: tuple[str | None, ...] = (
            _start_methods(params, backend) if backend in PROCESS_BACKENDS else (None,)
        )
        for sm in methods:
            for w in _overhead_workers(params):  # one number per worker
                scenarios.append(make(backend=backend, workers=w, hi=w + 1, start_method=sm))
    title = "start and stop workers, one number of work each"
    return [Group("overhead", title, tuple(scenarios))]


def message_groups(params: Params) -> list[Group]:
    """The same small range in few or many chunks: the cost of one more chunk's round trip."""
    chunks = params.message_chunks
    count = 64 * chunks  # 64 numbers per chunk when many: the kernel's work is negligible
    make = functools.partial(
        Scenario, "messages", _overhead_variant(), method="sieve", schedule="dynamic"
    )
    scenarios = []
    for backend in _order(params.backends, BACKENDS):
        n = 1 if backend == "serial" else params.cpus
        sm = _default_method(params) if backend in PROCESS_BACKENDS else None
        for size in (-(-count // n), count // chunks):
            scenarios.append(
                make(
                    backend=backend, workers=n, lo=1, hi=count + 1, start_method=sm, chunk_size=size
                )
            )
    if not scenarios:
        return []
    title = f"sieve, [1, {count:,}] in {params.cpus} or {chunks} chunks: the cost of a chunk"
    return [Group("messages", title, tuple(scenarios))]


def crossover_group(params: Params, size: int, skip: frozenset[str] = frozenset()) -> Group:
    """Serial against threads and processes (each start method) on [1, size].

    ``skip`` names contenders (their :attr:`~.records.Scenario.key`) that already beat
    serial at two sizes in a row and need not be measured on larger ranges.
    """
    variant = _primary_variant(params)
    make = functools.partial(
        Scenario, "crossover", variant, method="sieve", schedule="dynamic", lo=1, hi=size + 1
    )
    scenarios = [make(backend="serial", workers=1)]
    contenders = (
        [make(backend="threads", workers=params.cpus)] if "threads" in params.backends else []
    )
    contenders += [
        make(backend="processes", workers=params.cpus, start_method=sm)
        for sm in params.start_methods
    ]
    scenarios += [s for s in contenders if s.key not in skip]
    return Group("crossover", f"sieve, {VARIANT_LABELS[variant]}, [1, {size:,}]", tuple(scenarios))


def crossover_ladder(top: int) -> tuple[int, ...]:
    """Range sizes 1e3, 1e4, … up to ``top``, and ``top`` itself."""
    sizes = [10**k for k in range(3, 19) if 10**k <= top]
    if top not in sizes:
        sizes.append(top)
    return tuple(sizes)


def baseline_group(params: Params, available: tuple[str, ...], numba_threads: int) -> Group | None:
    """The compiled sieve beside NumPy's and numba's, on the same range; the C yardstick
    on 1 and on as many threads as the threads contenders, where one is given."""
    if not available:
        return None
    variant = _primary_variant(params)
    size = params.sizes.count(variant, "sieve")
    make = functools.partial(Scenario, "baselines", method="sieve", lo=1, hi=size + 1)
    scenarios = [make(variant, "serial", 1, schedule="dynamic")]
    threads = [w for w in params.workers if 1 < w <= params.cpus]
    scenarios += [make(variant, "threads", w, schedule="dynamic") for w in threads]
    if "numpy" in available:
        scenarios.append(make("numpy", "numpy", 1, schedule="blocks"))
    if "numba" in available:
        numba = [w for w in params.workers if w <= min(params.cpus, numba_threads)]
        scenarios += [make("numba", "numba", w, schedule="blocks") for w in numba]
    if "yardstick" in available:
        scenarios += [make("c", "yardstick", w, schedule="blocks") for w in (1, *threads)]
    beside = "NumPy, numba and the C yardstick" if "yardstick" in available else "NumPy and numba"
    return Group("baselines", f"sieve, [1, {size:,}], beside {beside}", tuple(scenarios))


def kernel_groups(params: Params, available: tuple[str, ...]) -> list[Group]:
    """One thread each: the compiled kernel against numba ``@njit`` (and NumPy for the
    sieve) on the same fixed range, for ratios of ns per number."""
    if not compiled_available():
        return []
    ranges = QUICK_KERNEL_RANGES if params.quick else KERNEL_RANGES
    groups = []
    for method in _order(params.methods, tuple(ranges)):
        for lo, hi in ranges[method]:
            make = functools.partial(Scenario, "kernels", method=method, workers=1, lo=lo, hi=hi)
            scenarios = [make("compiled-nogil", "serial", schedule="dynamic")]
            if "numba" in available:
                scenarios.append(make("numba", "numba-njit", schedule="blocks"))
            if "numpy" in available and method == "sieve":
                scenarios.append(make("numpy", "numpy", schedule="blocks"))
            title = f"{method}, one thread, [{lo:,}, {hi:,})"
            groups.append(Group("kernels", title, tuple(scenarios)))
    if "sieve" in params.methods:
        groups += cost_groups(params)
    return groups


def cost_window(at: int, quick: bool) -> tuple[int, int]:
    """The range of the cost point at ``at``: one chunk of a serial search there (--quick:
    QUICK_COST_WINDOW numbers), ending at 2**64 for the point at 2**64."""
    start = min(at, 2**64 - 2**40)  # a long range there, within 2**64: its chunk's size
    size = QUICK_COST_WINDOW if quick else default_chunk_size(start, start + 2**40, 1, "sieve")
    lo = min(at, 2**64 - size)
    return lo, lo + size


def cost_groups(params: Params) -> list[Group]:
    """The cost curve: the compiled sieve alone at each magnitude (and the C yardstick
    beside it where it is given and affordable)."""
    groups = []
    for at in QUICK_COST_MAGNITUDES if params.quick else COST_MAGNITUDES:
        lo, hi = cost_window(at, params.quick)
        make = functools.partial(Scenario, "kernels", method="sieve", workers=1, lo=lo, hi=hi)
        scenarios = [make("compiled-nogil", "serial", schedule="dynamic")]
        if params.yardstick and at <= YARDSTICK_UP_TO:
            scenarios.append(make("c", "yardstick", schedule="blocks"))
        title = f"{COST_TITLE} {magnitude(at)}, one thread, [{lo:,}, {hi:,})"
        groups.append(Group("kernels", title, tuple(scenarios)))
    return groups


def magnitude(n: int) -> str:
    """1e15, or 2**61 for powers of two above 2**60."""
    if n >= 2**60 and n & (n - 1) == 0:
        return f"2**{n.bit_length() - 1}"
    exponent = len(str(n)) - 1
    return f"1e{exponent}" if n == 10**exponent else f"{n:,}"
