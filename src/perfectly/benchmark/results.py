"""The results file: versioned JSON, with the machine and the exact parameters.

Schema ``perfectly-bench/1`` (a top-level object)::

    schema      "perfectly-bench/1"
    created     ISO 8601 time the run started (UTC)
    complete    false when the run was interrupted (what was measured is still here)
    machine     cpu_model, cpu_count, cpus_available, os, platform, machine,
                python_version, python_implementation, gil_enabled, free_threaded_build,
                package_version, build (perfectly.build_info()), start_methods,
                default_start_method, libraries (versions of numpy, numba, scipy, …),
                load_average_start and load_average_end (1-minute load average, or null)
    parameters  every dimension of the run (kernels, backends, workers, algorithms,
                schedules, start_methods, sections, sizes, repeat, warmup, …) and argv
    scenarios   one record per scenario measured (see SCENARIO_FIELDS): its identity,
                values (seconds), warmups, runs (per-run startup, shutdown, worker
                busy times and chunks), stats (n, median, mean, stdev, min, max, q1, q3,
                iqr, spread, unstable), and derived figures: speedup and efficiency
                against the group's serial reference, imbalance, ns_per_number
    derived     overheads, messages, crossover, unstable (see :mod:`.analysis`)
    verdict     the plain-language conclusions, one string per line
    plots       file names of the PNG plots written next to this file

:func:`validate` checks a document against this by hand and lists every problem.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from perfectly._core import build_info
from perfectly._validate import START_METHODS, available_cpus

SCHEMA = "perfectly-bench/1"

TOP_FIELDS: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "created": str,
    "complete": bool,
    "machine": dict,
    "parameters": dict,
    "scenarios": list,
    "derived": dict,
    "verdict": list,
    "plots": list,
}
MACHINE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "cpu_model": str,
    "cpu_count": int,
    "cpus_available": int,
    "os": str,
    "platform": str,
    "python_version": str,
    "python_implementation": str,
    "gil_enabled": bool,
    "package_version": str,
    "build": dict,
    "start_methods": list,
    "default_start_method": str,
    "libraries": dict,
    "load_average_start": (int, float, type(None)),
}
PARAMETER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kernels": list,
    "backends": list,
    "workers": list,
    "algorithms": list,
    "schedules": list,
    "start_methods": list,
    "sections": list,
    "sizes": dict,
    "repeat": int,
    "warmup": int,
    "baselines": bool,
    "quick": bool,
    "cpus": int,
    "argv": list,
}
NUMBER = (int, float)
OPTIONAL_NUMBER = (int, float, type(None))
SCENARIO_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "section": str,
    "group": str,
    "label": str,
    "kernel": str,
    "backend": str,
    "start_method": (str, type(None)),
    "workers": int,
    "algorithm": str,
    "schedule": str,
    "lo": int,
    "hi": int,
    "chunk_size": (int, type(None)),
    "values": list,
    "warmups": list,
    "runs": list,
    "stats": dict,
    "ns_per_number": OPTIONAL_NUMBER,
    "imbalance": OPTIONAL_NUMBER,
    "startup": NUMBER,
    "shutdown": NUMBER,
    "reference": (str, type(None)),
    "speedup": OPTIONAL_NUMBER,
    "efficiency": OPTIONAL_NUMBER,
}
STATS_FIELDS = ("n", "median", "mean", "stdev", "min", "max", "q1", "q3", "iqr", "spread")
RUN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "wall": NUMBER,
    "startup": NUMBER,
    "shutdown": NUMBER,
    "worker_busy": list,
    "worker_chunks": list,
    "chunks": int,
    "imbalance": NUMBER,
}


class SchemaError(ValueError):
    """A results document does not follow ``perfectly-bench/1``."""


def cpu_model() -> str:
    """The CPU's model name, as the OS reports it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("numpy", "numba", "scipy", "matplotlib", "Cython"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def load_average() -> float | None:
    """The 1-minute load average (runnable processes), where the OS reports one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: CPU, OS, Python, GIL, package build, start methods."""
    from perfectly import __version__

    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "cpus_available": available_cpus(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": " ".join(platform.python_build()),
        "gil_enabled": bool(gil()) if gil is not None else True,
        "package_version": __version__,
        "build": build_info(),
        "start_methods": list(START_METHODS),
        "default_start_method": multiprocessing.get_context().get_start_method(),
        "libraries": _library_versions(),
        "load_average_start": load_average(),
    }


def now() -> str:
    """The current time, ISO 8601, UTC."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def document(
    *,
    created: str,
    complete: bool,
    machine: dict[str, Any],
    parameters: dict[str, Any],
    scenarios: list[dict[str, Any]],
    derived: dict[str, Any],
    verdict: list[str],
    plots: list[str],
) -> dict[str, Any]:
    """A ``perfectly-bench/1`` document."""
    return {
        "schema": SCHEMA,
        "created": created,
        "complete": complete,
        "machine": machine,
        "parameters": parameters,
        "scenarios": scenarios,
        "derived": derived,
        "verdict": verdict,
        "plots": plots,
    }


def _check(
    where: str, obj: Any, fields: dict[str, type | tuple[type, ...]], problems: list[str]
) -> None:
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected an object")
        return
    for name, kind in fields.items():
        if name not in obj:
            problems.append(f"{where}: missing {name!r}")
        elif isinstance(obj[name], bool) and kind in (int, NUMBER, OPTIONAL_NUMBER):
            problems.append(f"{where}.{name}: expected a number, got a bool")
        elif not isinstance(obj[name], kind):
            problems.append(f"{where}.{name}: unexpected type {type(obj[name]).__name__}")


def problems(doc: Any) -> list[str]:
    """Every way ``doc`` departs from ``perfectly-bench/1`` (an empty list if none)."""
    found: list[str] = []
    _check("document", doc, TOP_FIELDS, found)
    if found:
        return found
    if doc["schema"] != SCHEMA:
        return [f"schema is {doc['schema']!r}, expected {SCHEMA!r}"]
    _check("machine", doc["machine"], MACHINE_FIELDS, found)
    _check("parameters", doc["parameters"], PARAMETER_FIELDS, found)
    ids = set()
    for i, sc in enumerate(doc["scenarios"]):
        where = f"scenarios[{i}]"
        _check(where, sc, SCENARIO_FIELDS, found)
        if not isinstance(sc, dict) or any(f not in sc for f in ("id", "values", "runs")):
            continue
        if sc["id"] in ids:
            found.append(f"{where}: duplicate id {sc['id']!r}")
        ids.add(sc["id"])
        values, runs = sc["values"], sc["runs"]
        if not values or not all(isinstance(v, NUMBER) and v > 0 for v in values):
            found.append(f"{where}.values: expected positive numbers")
        if isinstance(runs, list) and len(runs) != len(values):
            found.append(f"{where}: {len(runs)} runs for {len(values)} values")
        for j, run in enumerate(runs if isinstance(runs, list) else []):
            _check(f"{where}.runs[{j}]", run, RUN_FIELDS, found)
        stats = sc.get("stats")
        if isinstance(stats, dict):
            for name in STATS_FIELDS:
                if not isinstance(stats.get(name), NUMBER):
                    found.append(f"{where}.stats: missing or bad {name!r}")
            if not isinstance(stats.get("unstable"), bool):
                found.append(f"{where}.stats: missing or bad 'unstable'")
        if isinstance(sc.get("lo"), int) and isinstance(sc.get("hi"), int) and sc["lo"] > sc["hi"]:
            found.append(f"{where}: lo > hi")
    for i, sc in enumerate(doc["scenarios"]):
        if isinstance(sc, dict) and sc.get("reference") not in (None, *ids):
            found.append(f"scenarios[{i}]: reference {sc['reference']!r} is not a scenario")
    if not all(isinstance(line, str) for line in doc["verdict"]):
        found.append("verdict: expected strings")
    return found


def validate(doc: Any) -> dict[str, Any]:
    """``doc`` itself if it follows the schema; else ``SchemaError`` listing the problems."""
    found = problems(doc)
    if found:
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        raise SchemaError(f"not a {SCHEMA} document: {shown}")
    assert isinstance(doc, dict)
    return doc


def write(doc: dict[str, Any], path: Path) -> None:
    """Write ``doc`` as indented JSON (atomically: a partial file is never left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def load(path: str | Path) -> dict[str, Any]:
    """Read and validate a results file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"{path}: cannot read a results file ({exc})") from None
    try:
        return validate(doc)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from None
