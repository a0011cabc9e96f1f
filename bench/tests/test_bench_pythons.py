"""``python -m bench --python PATH``: the same matrix under several interpreters, merged.

The merge of a real run needs a second interpreter with this perfectly installed:
``PERFECTLY_OTHER_PYTHON`` names it (``.ci/run`` sets it to its CPython 3.12/3.13 venv);
without it that test is skipped with the reason. Bad ``--python`` paths, the merge of
stored documents and the reading of version 2 files need nothing else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import stored_scenario, synthetic_parameters
from perfectly_bench import main, pythons
from perfectly_bench.measure.machine import machine_info
from perfectly_bench.records import results

import perfectly

OTHER = os.environ.get("PERFECTLY_OTHER_PYTHON")
TINY = ["--size", "sieve=20000,python-sieve=3000"]  # only the ranges the run uses


def run_main(*argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the benchmark's command line, run here."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exc:
            status = int(exc.code or 0)
    return status, out.getvalue(), err.getvalue()


def _script(path: Path, text: str, mode: int = 0o755) -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def _old_python() -> str | None:
    """A Python older than 3.10 on this machine (pyenv has several), if any."""
    home = Path.home() / ".pyenv" / "versions"
    for version in ("3.9", "3.8", "3.7", "2.7"):
        for found in sorted(home.glob(f"{version}.*/bin/python")):
            return str(found)
    return None


def _bare_python() -> str | None:
    """A Python ≥ 3.10 without perfectly installed (a pyenv one), if any."""
    home = Path.home() / ".pyenv" / "versions"
    for found in sorted(home.glob("3.1[0-9].*/bin/python3")):
        probe = subprocess.run(
            [str(found), "-c", "import perfectly"], capture_output=True, check=False
        )
        if probe.returncode != 0:
            return str(found)
    return None


def _fake_python(tmp_path: Path, version: str, bench: bool = True) -> str:
    """An executable that answers the probe as a Python with perfectly ``version`` (and
    perfectly-bench, when ``bench``) would."""
    info = {
        "version": [3, 12, 1],
        "implementation": "cpython",
        "executable": "fake",
        "prefix": str(tmp_path),
        "free_threaded_build": False,
        "perfectly": version,
        "perfectly_bench": bench,
        "gil_enabled": True,
    }
    name = "python3" if bench else "python3-without-bench"
    return _script(tmp_path / name, f"#!/bin/sh\necho '{json.dumps(info)}'\n")


def _bad_paths(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name: (path, what the one line must say)."""
    cases = {
        "missing": (str(tmp_path / "nope" / "python3"), "no such file"),
        "directory": (str(tmp_path), "not an executable file"),
        "not executable": (_script(tmp_path / "plain", "x", 0o644), "not an executable file"),
        "not a Python": (shutil.which("true") or "/bin/true", "not a Python interpreter"),
        # a program that floods its output (9 GiB in 20 s were read, 2026-12-05)
        "flood": (_script(tmp_path / "yes", "#!/bin/sh\nexec yes\n"), "not a Python interpreter"),
        "other version": (
            _fake_python(tmp_path, "0.0.1"),
            f"perfectly 0.0.1 is installed there, not {perfectly.__version__}; install it with: ",
        ),
        "no perfectly-bench": (
            _fake_python(tmp_path, perfectly.__version__, bench=False),
            "perfectly-bench is not importable there; install it with: ",
        ),
    }
    if old := _old_python():
        cases["too old"] = (old, "perfectly needs Python 3.10 or newer")
    if bare := _bare_python():
        cases["no perfectly"] = (
            bare,
            f"perfectly is not importable there; install it with: {bare} -m pip install ",
        )
    return cases


def test_bad_python_paths_exit_2_with_one_line(tmp_path):
    cases = _bad_paths(tmp_path)
    assert {"missing", "directory", "not executable", "not a Python", "other version"} <= set(cases)
    for name, (path, message) in cases.items():
        status, out, err = run_main("--python", path, "--quick", "--output", str(tmp_path / "o"))
        assert status == 2, (name, err)
        assert out == "", name
        assert err.count("\n") == 1 and err.endswith("\n"), (name, err)
        assert f"--python {path}: " in err and message in err, (name, err)
        assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing was measured


def _v2_document() -> dict:
    """A small perfectly-bench/2 document, with version 2's fields only."""
    machine = json.loads(json.dumps(machine_info()))
    machine["load_average_end"] = machine["load_average_start"]
    scenario = stored_scenario(2)
    parameters = {
        **synthetic_parameters(),
        "variants": ["compiled-nogil"],
        "repeat": 3,
        "quick": True,
    }
    return {
        "schema": "perfectly-bench/2",
        "created": "2026-12-01T10:00:00+00:00",
        "complete": True,
        "machine": machine,
        "parameters": parameters,
        "scenarios": [scenario],
        "derived": {
            "overheads": [],
            "messages": [],
            "crossover": [],
            "comparisons": [],
            "unstable": 1,
        },
        "verdict": ["a stored verdict line from version 2."],
        "plots": [],
    }


def test_version_2_files_are_read_by_report_and_compare(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    doc = _v2_document()
    a.write_text(json.dumps(doc))
    slower = json.loads(json.dumps(doc))
    slower["scenarios"][0]["values"] = [2 * v for v in doc["scenarios"][0]["values"]]
    for run in slower["scenarios"][0]["runs"]:
        run["wall"] *= 2
    b.write_text(json.dumps(slower))
    loaded = results.load(a)
    assert loaded.pythons == [] and loaded.records[0].scenario.python is None
    assert loaded.records[0].id == doc["scenarios"][0]["id"]  # ids of one interpreter unchanged
    status, out, _ = run_main("report", str(a))
    assert status == 0 and "a stored verdict line from version 2." in out
    status, out, _ = run_main("compare", str(a), str(b))
    assert status == 0 and "2.00× slower" in out and "threads × 2" in out


def test_merge_keeps_each_interpreter_apart(tmp_path):
    """Two stored documents merged: ids, groups and references carry the interpreter,
    derived entries are tagged, and the document written is read back as it was."""
    here = pythons.probe(sys.executable)
    one = results.Results.from_json(_v2_document())
    two = results.Results.from_json(_v2_document())
    two.verdict = ["the second one's line."]
    a, b = (dataclasses.replace(here, label=label) for label in ("3.11", "3.13t"))
    base = results.Results("2026-12-02T00:00:00+00:00", True, one.machine, one.parameters, [], {})
    merged, own = pythons.merge([(a, one), (b, two)], base)
    ids = [r.id for r in merged.records]
    assert ids == [
        "3.11/scaling/sieve-dynamic/compiled-nogil/threads/w2",
        "3.13t/scaling/sieve-dynamic/compiled-nogil/threads/w2",
    ]
    assert [r.scenario.python for r in merged.records] == ["3.11", "3.13t"]
    assert [r.group for r in merged.records][1].startswith("3.13t: sieve")
    assert [p["label"] for p in merged.pythons] == ["3.11", "3.13t"]
    assert merged.derived["unstable"] == 2
    assert own == {
        "3.11": ["a stored verdict line from version 2."],
        "3.13t": ["the second one's line."],
    }
    path = tmp_path / "merged.json"
    results.write(merged, path)
    assert json.loads(path.read_text())["schema"] == "perfectly-bench/3"
    assert results.load(path).to_json() == merged.to_json()


def _version_of(python: str) -> dict:
    """What ``python`` says of itself, asked directly (not through the benchmark)."""
    code = (
        "import json, platform, sys, sysconfig; print(json.dumps({'version': "
        "platform.python_version(), 'ft': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


@pytest.mark.skipif(
    not OTHER,
    reason="set PERFECTLY_OTHER_PYTHON to a second Python (3.12/3.13) with this perfectly "
    "installed (.ci/run does)",
)
def test_two_interpreters_merge_into_one_file_table_and_verdict(tmp_path):
    assert OTHER is not None
    out = tmp_path / "out"
    argv = ["--python", OTHER, "--quick", *TINY, "--repeat", "2", "--warmup", "0"]
    argv += ["--workers", "2", "--variants", "python,compiled-nogil", "--methods", "sieve"]
    argv += ["--sections", "scaling", "--output", str(out), "--no-progress"]
    status, text, err = run_main(*argv)
    assert status == 0, err
    (path,) = out.glob("*/results.json")
    doc = json.loads(path.read_text())
    assert doc["schema"] == "perfectly-bench/3" and doc["complete"] is True
    assert results.problems(doc) == []
    mine, other = _version_of(sys.executable), _version_of(OTHER)
    versions = [(p["python_version"], p["free_threaded_build"]) for p in doc["pythons"]]
    assert versions == [(mine["version"], mine["ft"]), (other["version"], other["ft"])]
    labels = [p["label"] for p in doc["pythons"]]
    assert len(set(labels)) == 2 and all(p["gil_enabled"] is True for p in doc["pythons"])
    by_label = {label: [s for s in doc["scenarios"] if s["python"] == label] for label in labels}
    ranges = [{(s["variant"], s["lo"], s["hi"]) for s in rows} for rows in by_label.values()]
    assert ranges[0] == ranges[1]  # the same ranges everywhere: times compare
    for label, rows in by_label.items():
        backends = {s["backend"] for s in rows}
        assert {"serial", "threads", "processes"} <= backends, label
        assert all(s["id"].startswith(f"{label}/") for s in rows)
        refs = {s["reference"] for s in rows} - {None}
        assert refs and all(
            r.startswith(f"{label}/serial") or r.startswith(f"{label}/") for r in refs
        )
        for s in rows:  # speedups are against the same interpreter's serial run
            ref = next(x for x in rows if x["id"] == s["reference"]) if s["reference"] else None
            if ref:
                expected = ref["stats"]["median"] / s["stats"]["median"]
                assert s["speedup"] == pytest.approx(expected)
    for label, python in zip(labels, (sys.executable, OTHER), strict=True):
        probe = pythons.probe(python)
        has = any(s["backend"] == "interpreters" for s in by_label[label])
        assert has == (probe.supports("interpreters") is None), label
    methods = {}  # a Python that ran worker interpreters did not fork afterwards
    for label, rows in by_label.items():
        (methods[label],) = {s["start_method"] for s in rows if s["backend"] == "processes"}
        if any(s["backend"] == "interpreters" for s in rows):
            assert methods[label] != "fork", label
    assert "Interpreters: the same ranges under each Python" in text
    table = text.split("Verdict")[0]
    assert all(f"{label} (GIL)" in table for label in labels)
    cross = [line for line in doc["verdict"] if line.startswith("pure Python, 2 workers:")]
    assert len(cross) == 1 and all(f"on {label} (GIL)" in cross[0] for label in labels)
    if len(set(methods.values())) == 1:
        assert f"processes ({methods[labels[0]]}) " in cross[0]
    else:  # each interpreter's processes named by the start method they ran with
        assert all(f"× ({methods[label]}) on {label} (GIL)" in cross[0] for label in labels)
    assert all(any(line.startswith(f"[{label}] ") for line in doc["verdict"]) for label in labels)
    assert (path.parent / "interpreters.png").is_file() or "plots:" in text
    status, again, _ = run_main("report", str(path))
    assert status == 0 and again.strip() == text.split("\nresults:")[0].strip()


def _interpreters_support() -> dict[str, str | None]:
    """Each interpreter at hand (this one, PERFECTLY_OTHER_PYTHON): why it cannot run
    the interpreters backend, or None when it can."""
    paths = [sys.executable] + ([OTHER] if OTHER else [])
    return {path: pythons.probe(path).supports("interpreters") for path in paths}


def test_the_interpreters_backend_runs_where_an_interpreter_has_it(tmp_path):
    support = _interpreters_support()
    if all(why is not None for why in support.values()):
        pytest.skip(f"no interpreter here runs backend='interpreters': {support}")
    out = tmp_path / "out"
    argv = [f"--python={OTHER or sys.executable}"]  # this one alone: merged with itself
    argv += ["--quick", *TINY, "--repeat", "2", "--warmup", "0", "--workers", "2"]
    argv += ["--variants", "python", "--methods", "sieve", "--sections", "scaling"]
    argv += ["--backends", "serial,interpreters", "--output", str(out), "--no-progress"]
    status, _, err = run_main(*argv)
    assert status == 0, err
    (path,) = out.glob("*/results.json")
    doc = json.loads(path.read_text())
    for python, (exe, why) in zip(doc["pythons"], support.items(), strict=True):
        rows = [s for s in doc["scenarios"] if s["python"] == python["label"]]
        has = any(s["backend"] == "interpreters" and s["workers"] == 2 for s in rows)
        assert has == (why is None), (exe, why)
        if why is not None:
            assert f"note: {python['label']}: no interpreters backend" in err
    assert any(
        line.startswith("pure Python, 2 workers: subinterpreters ") for line in doc["verdict"]
    )


@pytest.mark.parametrize("gil", [True, False])
def test_the_verdict_blames_the_gil_only_where_it_is_on(gil):
    """Pure-Python threads at 0.9× are 'serialised by the GIL' on a GIL build; on a
    free-threaded run with the GIL off the verdict must not say so."""
    doc = _v2_document()
    doc["machine"]["gil_enabled"] = gil
    scenario = doc["scenarios"][0]
    scenario.update(variant="python", speedup=0.9, id="scaling/sieve-dynamic/python/threads/w2")
    from perfectly_bench.report import verdict

    lines = verdict.verdict(results.Results.from_json(doc))
    (line,) = [line for line in lines if line.startswith("pure Python (sieve, 2 workers)")]
    assert "threads 0.90×" in line
    assert ("the GIL serialises them" in line) == gil
