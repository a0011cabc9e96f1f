"""One benchmark across several Python interpreters: ``python -m bench --python PATH``.

Each interpreter runs the same matrix in a subprocess (``PATH -m perfectly bench``),
on the same ranges, sized once on the running interpreter so that times compare across
interpreters; this one merges their results into one document, with the interpreter as
a dimension (:attr:`.records.Scenario.python`, :attr:`.results.Results.pythons`).

The running interpreter always takes part, first; each ``--python`` adds one. An
interpreter is checked before anything is measured: it must run, be Python ≥ 3.10 and
have this version of perfectly installed, else the command says so in one line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfectly import __version__
from perfectly_bench.analyse import analysis, model
from perfectly_bench.measure.children import run_bounded
from perfectly_bench.records.records import Scenario
from perfectly_bench.records.results import Results, now

#: The default contenders across interpreters: the four ways to run Python in parallel.
FOUR_WAYS = ("serial", "threads", "interpreters", "processes")
#: What an interpreter reports about itself (also on Python 2, to say it is too old).
PROBE = r"""
import json, platform, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", None)
out = {"version": list(sys.version_info[:3]),
       "implementation": platform.python_implementation().lower(),
       "executable": sys.executable, "prefix": sys.prefix,
       "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED"))}
try:
    import perfectly
    from perfectly import BACKENDS
except Exception as exc:
    out.update(perfectly=None, error="%s: %s" % (type(exc).__name__, exc))
else:
    out.update(perfectly=perfectly.__version__, backends=list(BACKENDS),
               core=perfectly.build_info()["core"], interpreters="no such backend here")
    if "interpreters" in BACKENDS:
        try:
            perfectly.search(1, 64, backend="interpreters", workers=1, timeout=60)
            out["interpreters"] = None
        except Exception as exc:
            out["interpreters"] = "%s: %s" % (type(exc).__name__, exc)
try:
    import perfectly_bench.cli
    out["perfectly_bench"] = True
except Exception:
    out["perfectly_bench"] = False
out["gil_enabled"] = bool(gil()) if gil is not None else True
print(json.dumps(out))
"""
PROBE_TIMEOUT = 120.0


class PythonError(ValueError):
    """An interpreter given to ``--python`` cannot run the benchmark (one-line message)."""


@dataclasses.dataclass(frozen=True)
class Python:
    """An interpreter that can run the benchmark, as it described itself."""

    path: str
    info: dict[str, Any]
    label: str = ""

    @property
    def version(self) -> tuple[int, ...]:
        return tuple(self.info["version"])

    @property
    def free_threaded(self) -> bool:
        return bool(self.info["free_threaded_build"])

    def base_label(self) -> str:
        """``3.13``, ``3.13t`` (free-threaded build), ``pypy3.10``."""
        impl = self.info["implementation"]
        prefix = "" if impl == "cpython" else impl
        return f"{prefix}{self.version[0]}.{self.version[1]}{'t' if self.free_threaded else ''}"

    def supports(self, backend: str) -> str | None:
        """None if ``backend`` runs here, else why not."""
        if backend not in self.info.get("backends", ()):
            return "no such backend in perfectly there"
        if backend == "interpreters":
            return self.info.get("interpreters")
        return None


def install_hint(path: str) -> str:
    """How to put this perfectly and perfectly-bench into the interpreter at ``path``:
    pip, from this checkout when run from one, else from the package index."""
    here = Path.cwd()
    pyproject = here / "pyproject.toml"
    from_checkout = pyproject.is_file() and 'name = "perfectly"' in pyproject.read_text("utf-8")
    if from_checkout:
        return f"{path} -m pip install {here} {here / 'bench'}"
    return f"{path} -m pip install 'perfectly=={__version__}' 'perfectly-bench=={__version__}'"


def probe(path: str) -> Python:
    """Run the interpreter at ``path`` once and check it; ``PythonError`` says why not."""
    where = f"--python {path}"
    if not os.path.exists(path):
        raise PythonError(f"{where}: no such file")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise PythonError(f"{where}: not an executable file")
    try:
        _, stdout = run_bounded([path, "-c", PROBE], timeout=PROBE_TIMEOUT)
        info = json.loads(stdout.strip().splitlines()[-1])
        version = tuple(info["version"])
    except (OSError, ValueError, IndexError, KeyError, TypeError, subprocess.SubprocessError):
        raise PythonError(f"{where}: not a Python interpreter (it did not run a probe)") from None
    if version < (3, 10):
        shown = ".".join(map(str, version))
        raise PythonError(f"{where}: Python {shown}, but perfectly needs Python 3.10 or newer")
    if info["perfectly"] != __version__:
        found = (
            "perfectly is not importable there"
            if info["perfectly"] is None
            else f"perfectly {info['perfectly']} is installed there, not {__version__}"
        )
        raise PythonError(f"{where}: {found}; install it with: {install_hint(path)}")
    if not info.get("perfectly_bench"):
        found = "perfectly-bench is not importable there"
        raise PythonError(f"{where}: {found}; install it with: {install_hint(path)}")
    return Python(path, info)


def interpreters(paths: list[str]) -> list[Python]:
    """The running interpreter, then those at ``paths``, checked, each once (the same
    environment named twice counts once), with unique labels."""
    found = [probe(sys.executable)]
    for path in paths:
        python = probe(path)
        if all(p.info["prefix"] != python.info["prefix"] for p in found):
            found.append(python)
    out: list[Python] = []
    for p in found:
        label = base = p.base_label()
        n = 1
        while any(q.label == label for q in out):
            n += 1
            label = f"{base}-{n}"
        out.append(dataclasses.replace(p, label=label))
    return out


def child_backends(python: Python, backends: tuple[str, ...]) -> tuple[str, ...]:
    """``backends`` less those that cannot run under ``python`` (a note for each)."""
    kept = []
    for backend in backends:
        why = python.supports(backend)
        if why is None:
            kept.append(backend)
        else:
            print(f"note: {python.label}: no {backend} backend ({why})", file=sys.stderr)
    return tuple(kept)


def run_one(python: Python, argv: list[str], output: Path) -> tuple[Path | None, int]:
    """Run the benchmark under ``python`` with ``argv``, results under ``output``:
    (its results.json, if written, and its exit status). Ctrl-C reaches the child too;
    its partial results are waited for."""
    command = [python.path, "-m", "perfectly_bench", *argv, "--output", str(output)]
    print(f"{python.label}: {python.path}", file=sys.stderr)
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as child:
        try:
            status = child.wait()
        except KeyboardInterrupt:
            status = child.wait(timeout=60)
    written = sorted(output.glob("*/results.json"))
    return (written[-1] if written else None), status


def child_argv(params: Any, backends: tuple[str, ...], python: Python) -> list[str]:
    """The command line that makes ``python`` run ``params`` on the same ranges."""
    variants = tuple(
        v for v in params.variants if v == "python" or python.info["core"] == "compiled"
    )
    sizes = params.sizes.to_json()
    keys = ("sieve", "trial", "python-sieve", "python-trial")
    size = ",".join(f"{k}={sizes[k]}" for k in keys if sizes[k])  # 0: not used in this run
    argv = [
        *("--variants", ",".join(variants), "--backends", ",".join(backends)),
        *("--workers", ",".join(map(str, params.workers)), "--methods", ",".join(params.methods)),
        *("--schedules", ",".join(params.schedules), "--sections", ",".join(params.sections)),
        *("--start-methods", ",".join(params.start_methods), "--size", size),
        *("--repeat", str(params.repeat), "--warmup", str(params.warmup), "--no-plots"),
    ]
    return argv + ["--quick"] * params.quick + ["--baselines"] * params.baselines


def wanted_backends(given: tuple[str, ...] | None) -> tuple[tuple[str, ...], bool]:
    """(the backends the running interpreter checks, whether interpreters was asked for):
    the four ways by default; ``interpreters`` is checked by each interpreter itself."""
    chosen = FOUR_WAYS if given is None else given
    return tuple(b for b in chosen if b != "interpreters"), "interpreters" in chosen


def measure(
    pythons: list[Python], params: Any, with_interpreters: bool, work: Path, progress: bool
) -> tuple[list[tuple[Python, Path]], int]:
    """Run ``params`` under each interpreter in turn, results under ``work``:
    (interpreter, results file) for each that wrote one, and the worst exit status
    (130 once interrupted, and the interpreters after it do not run)."""
    done: list[tuple[Python, Path]] = []
    status = 0
    asked = params.backends + ("interpreters",) * with_interpreters
    for python in pythons:
        argv = child_argv(params, child_backends(python, asked), python)
        argv += ["--no-progress"] * (not progress)
        path, code = run_one(python, argv, work / python.label)
        if path is not None:
            done.append((python, path))
        status = max(status, code)
        if code == 130:
            break
    return done, status


def _relabelled(scenario: dict[str, Any], label: str) -> dict[str, Any]:
    out = {**scenario, "python": label, "group": f"{label}: {scenario['group']}"}
    out["id"] = Scenario.from_json(out).id
    return out


def _remapped(entry: Any, ids: dict[str, str], label: str) -> Any:
    """A derived entry of one interpreter's run, its scenario ids renamed, tagged."""
    if not isinstance(entry, dict):
        return entry
    return {
        **{k: ids.get(v, v) if isinstance(v, str) else v for k, v in entry.items()},
        "python": label,
    }


def _merge_derived(
    into: dict[str, Any], derived: dict[str, Any], ids: dict[str, str], label: str
) -> None:
    """Lists concatenated (each entry tagged with its interpreter), counts added."""
    for key, value in derived.items():
        if isinstance(value, list):
            into.setdefault(key, []).extend(_remapped(e, ids, label) for e in value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            into[key] = into.get(key, 0) + value
        else:
            into.setdefault(key, value)


def merge(
    runs: list[tuple[Python, Results]], base: Results
) -> tuple[Results, dict[str, list[str]]]:
    """One document from each interpreter's results: ``base`` gives the machine, the
    parameters and the time; returns it and each interpreter's own verdict lines."""
    scenarios: list[dict[str, Any]] = []
    derived: dict[str, Any] = {}
    pythons, verdicts = [], {}
    for python, done in runs:
        doc = done.to_json()
        moved = [_relabelled(sc, python.label) for sc in doc["scenarios"]]
        ids = {old["id"]: new["id"] for old, new in zip(doc["scenarios"], moved, strict=True)}
        for sc in moved:
            sc["reference"] = ids.get(sc["reference"], sc["reference"])
        scenarios += moved
        _merge_derived(derived, doc["derived"], ids, python.label)
        build = {"free_threaded_build": python.free_threaded}
        pythons.append({"label": python.label, "executable": python.path, **build, **done.machine})
        verdicts[python.label] = list(done.verdict)
    doc = {**base.to_json(), "scenarios": scenarios, "derived": derived, "pythons": pythons}
    doc["complete"] = base.complete and all(done.complete for _, done in runs)
    merged = Results.from_json(doc)
    # What sums up all the runs is made again from all of them, not taken from the first.
    merged.derived["model"] = model.derive(merged.records, merged.cpus)
    merged.derived["noise"] = analysis.noise(merged.records)
    return merged, verdicts


def _base(params: Any, argv: list[str], asked: tuple[str, ...]) -> Results:
    """The merged document before the interpreters' records go in: the time, the
    machine (with the running interpreter; each one's own is in ``pythons``) and load
    as the run starts."""
    from perfectly_bench.measure.machine import machine_info

    parameters = {**params.to_json(), "backends": list(asked), "argv": list(argv)}
    return Results(now(), True, machine_info(), parameters, [], {})


def main(args: Any, argv: list[str], parser: Any, params_from: Callable[[Any], Any]) -> int:
    """``python -m bench … --python PATH …``: measure under each interpreter, merge,
    write one results file, its plots (each interpreter's in a folder of its own) and
    report.html, print one table and verdict. ``params_from`` turns the command line's
    arguments into the run's parameters (the command line's own, passed in so that this
    module does not import it)."""
    from perfectly_bench import engine
    from perfectly_bench.measure import machine
    from perfectly_bench.records import pyperf_json, results
    from perfectly_bench.report import across, html, plots, table

    backends, with_interpreters = wanted_backends(args.backends)
    args.backends = backends
    try:
        pythons = interpreters(list(args.python))
        params = params_from(args)  # sizes the ranges once, here
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    asked = params.backends + ("interpreters",) * with_interpreters
    base = _base(params, argv, asked)
    with tempfile.TemporaryDirectory(prefix="perfectly-bench-") as work:
        written, status = measure(
            pythons, params, with_interpreters, Path(work), progress=not args.no_progress
        )
        runs = [(python, results.load(path)) for python, path in written]
    if not runs:
        print(f"{parser.prog}: no interpreter wrote any results", file=sys.stderr)
        return status or 1
    base.complete = len(runs) == len(pythons)
    base.machine["load_average_end"] = machine.load_average()
    done, verdicts = merge(runs, base)
    done.verdict = across.verdict(done, verdicts)
    directory = engine.run_directory(Path(args.output))
    directory.mkdir(parents=True)
    if not args.no_plots and plots.available():
        for python, own in runs:
            (directory / python.label).mkdir()
            drawn = plots.draw(own, directory / python.label)
            done.plots += [f"{python.label}/{name}" for name in drawn]
        done.plots += across.draw(done, directory)
    path = directory / "results.json"
    results.write(done, path)
    measurements = pyperf_json.write(done, directory / pyperf_json.FILENAME)
    page = html.write(done, directory)
    print(table.render(done))
    print(f"\nresults: {path}")
    for name in done.plots:
        print(f"plot:    {directory / name}")
    print(f"report:  {page}")
    if measurements is not None:
        print(f"pyperf:  {measurements}")
    return status
