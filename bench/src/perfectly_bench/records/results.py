"""The results file: versioned JSON, with the machine and the exact parameters.

Schema ``perfectly-bench/3`` (a top-level object)::

    schema      "perfectly-bench/3"
    created     ISO 8601 time the run started (UTC)
    complete    false when the run was interrupted (what was measured is still here)
    machine     cpu_model, cpu_count, cpus_available, os, platform, machine,
                python_version, python_implementation, gil_enabled, free_threaded_build,
                package_version, build (perfectly.build_info()), start_methods,
                default_start_method, libraries (versions of numpy, numba, scipy, …),
                load_average_start and load_average_end (1-minute load average, or null),
                steal (share of the CPUs' time stolen during the run, or null),
                cpu_time_covers (what each run's cpu counts: see :mod:`.noise`)
    parameters  every dimension of the run (variants, backends, workers, methods,
                schedules, start_methods, sections, sizes, repeat, warmup, …), argv,
                and policy (preset name, repeat, warmup, bound, max_rounds, reruns:
                see :mod:`.rigor`)
    scenarios   one record per scenario measured (see SCENARIO_FIELDS): its identity,
                values (seconds), warmups, runs (per-run startup, shutdown, worker
                busy times and chunks), stats (n, median, mean, stdev, min, max, q1, q3,
                iqr, spread, unstable), and derived figures: speedup and efficiency
                against the group's serial reference, imbalance, ns_per_number.
                Version 3 adds: per run round, cpu (seconds of the process and its
                children), cpu_ratio, steal, others (share of the CPUs taken by other
                work) and disturbed (reasons; empty if not); per scenario rejected
                (disturbed runs that were re-run), conditions (load_before, load_after,
                steal of its group), capped, median_interval and speedup_interval (95 %
                bootstrap intervals)
    derived     overheads, messages, crossover, comparisons (the two-sample tests the
                verdict quotes), unstable (see :mod:`.analysis`), model (the fitted
                model of each backend, its held-out errors and predictions; see
                :mod:`.model`; null in files of versions 1 and 2)
    verdict     the plain-language conclusions, one string per line
    plots       file names of the PNG plots written next to this file
    pythons     in a run across interpreters (``--python``), one object per interpreter:
                label (``3.13t``), executable, and that interpreter's own machine fields
                (python_version, python_implementation, free_threaded_build,
                gil_enabled, …); each scenario's ``python`` names its label (else null)

Version 2 lacks ``pythons``, the scenarios' ``python``, ``model`` and the noise fields, read
as ``[]``, null or empty; version 1 also differs in names: ``kernel``/``kernels`` for
``variant``/``variants``, ``algorithm``/``algorithms`` for ``method``/``methods``, and has
no ``comparisons``. Both are read by upgrading them to version 3 (:func:`upgrade`).
:func:`problems` is the one check of a document against the schema; :class:`Results` is
the document, typed.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import stat
from pathlib import Path
from typing import Any

from perfectly_bench.records.records import Record

SCHEMA = "perfectly-bench/3"
SCHEMA_V2 = "perfectly-bench/2"
SCHEMA_V1 = "perfectly-bench/1"
#: Version 1 names and their version 2 names, in scenarios and in parameters.
V1_RENAMES = {"kernel": "variant", "algorithm": "method"}
V1_PARAMETER_RENAMES = {"kernels": "variants", "algorithms": "methods"}

Kind = type | tuple[type, ...]
NUMBER = (int, float)
OPTIONAL_NUMBER = (int, float, type(None))
TOP_FIELDS: dict[str, Kind] = {
    "schema": str,
    "created": str,
    "complete": bool,
    "machine": dict,
    "parameters": dict,
    "scenarios": list,
    "derived": dict,
    "verdict": list,
    "plots": list,
    "pythons": list,
}
MACHINE_FIELDS: dict[str, Kind] = {
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
    "load_average_start": OPTIONAL_NUMBER,
}
PARAMETER_FIELDS: dict[str, Kind] = {
    "variants": list,
    "backends": list,
    "workers": list,
    "methods": list,
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
SCENARIO_FIELDS: dict[str, Kind] = {
    "id": str,
    "section": str,
    "group": str,
    "label": str,
    "variant": str,
    "backend": str,
    "start_method": (str, type(None)),
    "workers": int,
    "method": str,
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
    "python": (str, type(None)),
}
STATS_FIELDS = ("n", "median", "mean", "stdev", "min", "max", "q1", "q3", "iqr", "spread")
RUN_FIELDS: dict[str, Kind] = {
    "wall": NUMBER,
    "startup": NUMBER,
    "shutdown": NUMBER,
    "worker_busy": list,
    "worker_chunks": list,
    "chunks": int,
    "imbalance": NUMBER,
}
DERIVED_FIELDS: dict[str, Kind] = {
    "overheads": list,
    "messages": list,
    "crossover": list,
    "comparisons": list,
    "unstable": int,
    "model": (dict, type(None)),
}


class SchemaError(ValueError):
    """A results document does not follow the schema."""


def now() -> str:
    """The current time, ISO 8601, UTC."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _renamed(obj: Any, names: dict[str, str]) -> Any:
    if not isinstance(obj, dict):
        return obj
    return {names.get(k, k): v for k, v in obj.items()}


def _upgrade_v1(doc: dict[str, Any]) -> dict[str, Any]:
    out = {**doc, "schema": SCHEMA_V2}
    out["parameters"] = _renamed(doc.get("parameters"), V1_PARAMETER_RENAMES)
    if isinstance(doc.get("scenarios"), list):
        out["scenarios"] = [_renamed(sc, V1_RENAMES) for sc in doc["scenarios"]]
    if isinstance(doc.get("derived"), dict):
        out["derived"] = {"comparisons": [], **doc["derived"]}
    return out


def _upgrade_v2(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"pythons": [], **doc, "schema": SCHEMA}
    if isinstance(doc.get("scenarios"), list):
        out["scenarios"] = [
            {"python": None, **sc} if isinstance(sc, dict) else sc for sc in doc["scenarios"]
        ]
    if isinstance(doc.get("derived"), dict):
        out["derived"] = {"model": None, **doc["derived"]}
    return out


def upgrade(doc: Any) -> Any:
    """A version 1 or 2 document in version 3's shape (anything else unchanged)."""
    if isinstance(doc, dict) and doc.get("schema") == SCHEMA_V1:
        doc = _upgrade_v1(doc)
    if isinstance(doc, dict) and doc.get("schema") == SCHEMA_V2:
        doc = _upgrade_v2(doc)
    return doc


def _check(where: str, obj: Any, fields: dict[str, Kind], problems: list[str]) -> None:
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


def _scenario_problems(where: str, sc: Any, found: list[str]) -> None:
    _check(where, sc, SCENARIO_FIELDS, found)
    if not isinstance(sc, dict) or any(f not in sc for f in ("values", "runs")):
        return
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


def problems(doc: Any) -> list[str]:
    """Every way ``doc`` departs from the schema (an empty list if none); a version 1 or
    2 document is checked in its upgraded shape."""
    found: list[str] = []
    doc = upgrade(doc)
    if isinstance(doc, dict) and doc.get("schema") != SCHEMA:
        expected = f"{SCHEMA!r}, {SCHEMA_V2!r} or {SCHEMA_V1!r}"
        return [f"schema is {doc.get('schema')!r}, expected {expected}"]
    _check("document", doc, TOP_FIELDS, found)
    if found:
        return found
    _check("machine", doc["machine"], MACHINE_FIELDS, found)
    _check("parameters", doc["parameters"], PARAMETER_FIELDS, found)
    _check("derived", doc["derived"], DERIVED_FIELDS, found)
    ids = set()
    for i, sc in enumerate(doc["scenarios"]):
        _scenario_problems(f"scenarios[{i}]", sc, found)
        if isinstance(sc, dict) and isinstance(sc.get("id"), str):
            if sc["id"] in ids:
                found.append(f"scenarios[{i}]: duplicate id {sc['id']!r}")
            ids.add(sc["id"])
    for i, sc in enumerate(doc["scenarios"]):
        if isinstance(sc, dict) and sc.get("reference") not in (None, *ids):
            found.append(f"scenarios[{i}]: reference {sc['reference']!r} is not a scenario")
    if not all(isinstance(line, str) for line in doc["verdict"]):
        found.append("verdict: expected strings")
    return found


@dataclasses.dataclass
class Results:
    """A results document, typed: the records are :class:`~.records.Record` objects;
    ``machine``, ``parameters`` and ``derived`` stay the JSON objects described above."""

    created: str
    complete: bool
    machine: dict[str, Any]
    parameters: dict[str, Any]
    records: list[Record]
    derived: dict[str, Any]
    verdict: list[str] = dataclasses.field(default_factory=list)
    plots: list[str] = dataclasses.field(default_factory=list)
    pythons: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def cpus(self) -> int:
        return int(self.parameters["cpus"])

    def comparison(self, a: Record, b: Record) -> dict[str, Any] | None:
        """The stored two-sample test of ``a`` against ``b`` (either order), if any."""
        for c in self.derived["comparisons"]:
            if {c["a"], c["b"]} == {a.id, b.id}:
                return dict(c)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "created": self.created,
            "complete": self.complete,
            "machine": self.machine,
            "parameters": self.parameters,
            "scenarios": [r.to_json() for r in self.records],
            "derived": self.derived,
            "verdict": list(self.verdict),
            "plots": list(self.plots),
            "pythons": list(self.pythons),
        }

    @classmethod
    def from_json(cls, doc: Any) -> Results:
        """The document ``doc`` (version 1, 2 or 3); ``SchemaError`` listing its problems."""
        found = problems(doc)
        if found:
            shown = "; ".join(found[:5]) + (
                f"; and {len(found) - 5} more" if len(found) > 5 else ""
            )
            raise SchemaError(f"not a {SCHEMA} document: {shown}")
        doc = upgrade(doc)
        return cls(
            created=doc["created"],
            complete=doc["complete"],
            machine=doc["machine"],
            parameters=doc["parameters"],
            records=[Record.from_json(sc) for sc in doc["scenarios"]],
            derived=doc["derived"],
            verdict=list(doc["verdict"]),
            plots=list(doc["plots"]),
            pythons=list(doc["pythons"]),
        )


def write(results: Results, path: Path) -> None:
    """Write ``results`` as indented JSON (atomically: a partial file is never left)."""
    doc = results.to_json()
    found = problems(doc)
    if found:  # a bug in this package, not bad input
        raise SchemaError(f"refusing to write an invalid document: {'; '.join(found[:5])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


#: The largest results file read (a run of the whole matrix writes well under 1 MiB):
#: a device, a pipe or a huge file is refused, not read into memory without bound.
MAX_BYTES = 64 << 20


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a results file holds")


def load(path: str | Path) -> Results:
    """Read and check a results file: a regular file of at most ``MAX_BYTES``, strict
    JSON (no NaN or Infinity), not nested deeper than Python can parse."""
    try:
        with open(path, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ValueError("not a regular file")
            data = file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES >> 20} MiB")
        doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (OSError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise SchemaError(f"{path}: cannot read a results file ({why})") from None
    try:
        return Results.from_json(doc)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from None
