"""pyperf.json: a run's measurements in pyperf's format, read back by pyperf itself as a
user would (``python -m pyperf stats``, ``hist``, ``compare_to``, and
``pyperf.BenchmarkSuite.load``)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import synthetic_parameters
from perfectly_bench import main
from perfectly_bench.analyse import analysis
from perfectly_bench.measure.machine import machine_info
from perfectly_bench.records import pyperf_json, results
from perfectly_bench.records.records import Measurement, Scenario, TimedRun
from perfectly_bench.records.results import Results

import perfectly

pyperf = pytest.importorskip("pyperf")

COMPILED = perfectly.build_info()["core"] == "compiled"
VARIANTS = ("python", "compiled-gil", "compiled-nogil") if COMPILED else ("python",)


def pyperf_command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m pyperf ARGS``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pyperf", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A real run with tiny ranges (about a second), and its pyperf file: (the
    results document as plain JSON, the path of pyperf.json)."""
    out = tmp_path_factory.mktemp("run")
    argv = [
        "--quick",
        "--size",
        "sieve=20000,trial=3000,python-sieve=400,python-trial=300",
        "--repeat",
        "3",
        "--warmup",
        "1",
        "--workers",
        "2",
        "--variants",
        ",".join(VARIANTS),
        "--backends",
        "serial,threads",
        "--methods",
        "sieve",
        "--sections",
        "scaling",
        "--no-plots",
        "--no-progress",
        "--output",
        str(out),
    ]
    with contextlib.redirect_stdout(io.StringIO()) as text:
        status = main(argv)
    assert status == 0, text.getvalue()
    (path,) = out.glob("*/results.json")
    written = pyperf_json.write(results.load(path), path.parent / pyperf_json.FILENAME)
    assert written == path.parent / "pyperf.json"
    return json.loads(path.read_text(encoding="utf-8")), written


def test_stats_names_every_scenario(tiny):
    doc, path = tiny
    done = pyperf_command("stats", path)
    assert done.returncode == 0, done.stderr
    ids = [sc["id"] for sc in doc["scenarios"]]
    assert len(ids) == 2 * len(VARIANTS)
    for name in ids:
        assert f"\n{name}\n" in done.stdout
    assert f"Number of benchmarks: {len(ids)}" in done.stdout


def test_hist(tiny):
    doc, path = tiny
    done = pyperf_command("hist", path)
    assert done.returncode == 0, done.stderr
    assert all(sc["id"] in done.stdout for sc in doc["scenarios"])


def test_load_gives_the_kept_runs_in_seconds(tiny):
    doc, path = tiny
    suite = pyperf.BenchmarkSuite.load(str(path))
    assert suite.get_benchmark_names() == [sc["id"] for sc in doc["scenarios"]]
    for sc in doc["scenarios"]:
        bench = suite.get_benchmark(sc["id"])
        walls = [run["wall"] for run in sc["runs"]]
        assert list(bench.get_values()) == walls
        assert bench.get_nrun() == len(walls)  # one pyperf run per timed run
        assert bench.get_unit() == "second"
        assert bench.get_loops() == 1
        for run in bench.get_runs():
            assert run.warmups == ()  # ours are not per run: see pyperf_json.write
        meta = bench.get_metadata()
        machine = doc["machine"]
        assert meta["name"] == sc["id"]
        assert meta["cpu_count"] == machine["cpu_count"]
        assert meta["python_version"] == machine["python_version"]
        assert meta["platform"] == machine["platform"]
        assert meta["perfectly_version"] == machine["package_version"] == perfectly.__version__
        assert meta.get("hostname") == machine.get("hostname")  # never looked up here


# --------------------------------------------------------------------------------------
# Documents made here, with known values
# --------------------------------------------------------------------------------------


def _doc(values_by_id: dict[str, list[float]], rejected: float | None = None) -> Results:
    """A results document of threads scenarios named ``values_by_id``'s keys, each with
    those wall times; with ``rejected``, each also has a disturbed run of that time."""
    measurements = []
    for name, values in values_by_id.items():
        scenario = Scenario("scaling", name, "threads", 2, "sieve", "dynamic", 1, 1001)
        m = Measurement(scenario, f"synthetic {name}")
        m.runs = [TimedRun(v, 0.0, 0.0, (v / 2, v / 2), (1, 1), 2, None) for v in values]
        m.warmups = [2 * values[0]]
        if rejected is not None:
            m.rejected = [
                TimedRun(rejected, 0.0, 0.0, (0.1, 0.1), (1, 1), 2, None, disturbed=("load",))
            ]
        measurements.append(m)
    records = analysis.records(measurements)
    params = synthetic_parameters()
    return Results(
        created=results.now(),
        complete=True,
        machine=machine_info(),
        parameters=params,
        records=records,
        derived=analysis.derive(records, 2),
    )


SLOW_A = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00]
SLOW_B = [1.50, 1.52, 1.49, 1.51, 1.48, 1.50]  # 1.5× slower: clearly significant
SAME_A = [1.00, 1.10, 0.90, 1.05, 0.95, 1.00]
SAME_B = [1.02, 0.92, 1.08, 0.97, 1.01, 0.99]  # the same, up to noise: not significant


def test_compare_to_shows_the_difference(tmp_path):
    a = _doc({"clear": SLOW_A, "noise": SAME_A, "only-a": SAME_A})
    b = _doc({"clear": SLOW_B, "noise": SAME_B})
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pyperf_json.write(a, pa)
    pyperf_json.write(b, pb)
    ratio = statistics.mean(SLOW_B) / statistics.mean(SLOW_A)
    clear = "scaling/sieve-dynamic/clear/threads/w2"
    noise = "scaling/sieve-dynamic/noise/threads/w2"

    forward = pyperf_command("compare_to", pa, pb)
    assert forward.returncode == 0, forward.stderr
    (line,) = [line for line in forward.stdout.splitlines() if line.startswith(clear)]
    assert line.endswith(f"{ratio:.2f}x slower"), forward.stdout
    assert "1.50x slower" in line
    (hidden,) = [line for line in forward.stdout.splitlines() if "not significant" in line]
    assert noise in hidden
    (ignored,) = [line for line in forward.stdout.splitlines() if "Ignored" in line]
    assert "only-a" in ignored  # in a.json only: pyperf says so

    backward = pyperf_command("compare_to", pb, pa)
    assert backward.returncode == 0, backward.stderr
    (line,) = [line for line in backward.stdout.splitlines() if line.startswith(clear)]
    assert line.endswith(f"{ratio:.2f}x faster"), backward.stdout


def test_disturbed_runs_and_warmups_are_left_out(tmp_path):
    doc = _doc({"kept": SLOW_A}, rejected=9.0)
    assert doc.records[0].measurement.rejected  # the document does hold a disturbed run
    path = pyperf_json.write(doc, tmp_path / "pyperf.json")
    assert path is not None
    (bench,) = pyperf.BenchmarkSuite.load(str(path))
    assert list(bench.get_values()) == SLOW_A
    assert 9.0 not in bench.get_values() and 2 * SLOW_A[0] not in bench.get_values()
    assert json.loads(path.read_text())["version"] == "1.0"  # pyperf's own format


def test_one_value_and_stats(tmp_path):
    """An interrupted run can leave a scenario with one run: pyperf still reads it."""
    path = pyperf_json.write(_doc({"one": [0.25]}), tmp_path / "one.json")
    assert path is not None
    done = pyperf_command("stats", path)
    assert done.returncode == 0, done.stderr
    assert "250 ms" in done.stdout


def test_interpreter_of_each_scenario(tmp_path):
    """In a run across interpreters, each benchmark has its own interpreter's facts."""
    doc = _doc({"x": SAME_A})
    doc.machine["hostname"] = "bench-host"
    record = doc.records[0]
    scenario = record.measurement.scenario
    record.measurement.scenario = dataclasses.replace(scenario, python="3.13t")
    doc.pythons = [{"label": "3.13t", "python_version": "3.13.9", "platform": "elsewhere"}]
    path = pyperf_json.write(doc, tmp_path / "p.json")
    assert path is not None
    (bench,) = pyperf.BenchmarkSuite.load(str(path))
    meta = bench.get_metadata()
    assert bench.get_name() == "3.13t/scaling/sieve-dynamic/x/threads/w2"
    assert meta["python_version"] == "3.13.9"
    assert meta["platform"] == "elsewhere"
    assert meta["hostname"] == "bench-host"
    assert meta["cpu_count"] == doc.machine["cpu_count"]


def test_nothing_measured_writes_nothing(tmp_path):
    doc = _doc({"x": SAME_A})
    doc.records = []
    assert pyperf_json.write(doc, tmp_path / "pyperf.json") is None
    assert not (tmp_path / "pyperf.json").exists()


def test_without_pyperf(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyperf", None)  # import pyperf now fails
    with pytest.raises(ImportError, match=r"pip install 'pyperf>=2\.6'") as caught:
        pyperf_json.write(_doc({"x": SAME_A}), tmp_path / "pyperf.json")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "pyperf.json").exists()
