"""The measurements of a run in pyperf's JSON format, so that pyperf's own commands read
them: ``python -m pyperf stats pyperf.json``, ``hist`` and ``compare_to old.json
new.json``.

The file is written by pyperf's library (:class:`pyperf.Run`, :class:`pyperf.Benchmark`,
:class:`pyperf.BenchmarkSuite` and its ``dump``), not by hand: one benchmark per measured
scenario, named by its id; one pyperf run per kept timed run, its one value the run's
wall time in seconds. The runs that were disturbed and re-run (a scenario's
``rejected``) are left out, as in the statistics of ``results.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfectly_bench.records.records import Record
from perfectly_bench.records.results import Results

__all__ = ["FILENAME", "benchmark_metadata", "write"]

#: The file's name, beside ``results.json`` in a run's directory.
FILENAME = "pyperf.json"

MISSING = "writing pyperf.json needs pyperf: python -m pip install 'pyperf>=2.6'"

#: pyperf's names for the machine facts ``results.json`` holds under other names (or
#: the same): results.machine key -> pyperf metadata key.
MACHINE_METADATA = {
    "cpu_count": "cpu_count",
    "cpu_model": "cpu_model_name",
    "hostname": "hostname",
    "platform": "platform",
    "python_implementation": "python_implementation",
    "python_version": "python_version",
}


def _usable(value: Any) -> bool:
    """Whether pyperf takes ``value`` as metadata: a number, or a non-empty one-line str."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return bool(value.strip()) and "\n" not in value and "\r" not in value
    return isinstance(value, (int, float))


def benchmark_metadata(results: Results, record: Record) -> dict[str, Any]:
    """The metadata of ``record``'s pyperf benchmark: its name, unit and loops, the
    machine facts pyperf knows (from ``results.machine``, or in a run across
    interpreters from that interpreter's entry of ``results.pythons``) and
    ``perfectly_version``. Nothing is measured again here."""
    machine = dict(results.machine)
    if record.scenario.python is not None:
        for python in results.pythons:
            if python.get("label") == record.scenario.python:
                machine.update(python)
    metadata: dict[str, Any] = {"name": record.id, "unit": "second", "loops": 1}
    for ours, theirs in MACHINE_METADATA.items():
        if _usable(machine.get(ours)):
            metadata[theirs] = machine[ours]
    if isinstance(metadata.get("python_implementation"), str):
        # pyperf writes sys.implementation.name ("cpython"); ours is "CPython"
        metadata["python_implementation"] = metadata["python_implementation"].lower()
    if _usable(machine.get("package_version")):
        metadata["perfectly_version"] = machine["package_version"]
    return metadata


def write(results: Results, path: Path) -> Path | None:
    """Write the measurements of ``results`` to ``path`` as a pyperf ``BenchmarkSuite``
    (atomically: a partial file is never left); a run writes it as ``pyperf.json``
    beside its ``results.json`` (:data:`FILENAME`).

    One benchmark per measured scenario, named by its id, in the order of
    ``results.records``; its values are the wall times, in seconds, of the scenario's
    kept runs (``results.json``'s ``values``), one pyperf run each, with ``loops`` 1.
    Returns ``path``, or None when no scenario was measured (pyperf's format holds no
    empty suite: nothing is written). ``ImportError`` if pyperf is not installed.
    """
    try:
        import pyperf
    except ImportError:
        raise ImportError(MISSING) from None
    benchmarks = []
    for record in results.records:
        metadata = benchmark_metadata(results, record)
        # No warmups: pyperf's warmups belong to one run (the values a worker computes
        # before that run's own values, in the same worker), whereas ours belong to the
        # scenario: whole rounds run before its first timed round, interleaved with the
        # group's other scenarios. Given to one run they would read as that run's alone
        # (pyperf would report a fraction of a warm-up per run); they stay in
        # results.json, marked as warm-ups.
        runs = [
            pyperf.Run([value], metadata=metadata, collect_metadata=False)
            for value in record.values
        ]
        benchmarks.append(pyperf.Benchmark(runs))
    if not benchmarks:
        return None
    suite = pyperf.BenchmarkSuite(benchmarks)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    suite.dump(str(tmp), replace=True)
    tmp.replace(path)
    return path
