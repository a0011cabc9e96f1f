"""The benchmark: ``python -m bench`` / ``python -m perfectly bench``, compare and race.

The smoke test runs the whole harness once with tiny ranges (a few seconds) and checks
the results file against the schema, that every requested scenario is there, that the
derived figures follow from the raw timings, and that the plots are real PNG files.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import stored_scenario, synthetic_parameters
from perfectly_bench import main, race
from perfectly_bench.analyse import analysis
from perfectly_bench.common import stats
from perfectly_bench.measure.machine import machine_info
from perfectly_bench.records import results
from perfectly_bench.records.records import Measurement, Record, Scenario, TimedRun
from perfectly_bench.records.results import Results
from perfectly_bench.report import compare, plots
from perfectly_bench.scenarios import sizing
from perfectly_bench.scenarios.matrix import COST_TITLE, QUICK_COST_MAGNITUDES, QUICK_COST_WINDOW

import perfectly
from perfectly._validate import available_cpus

ROOT = Path(__file__).resolve().parents[2]  # the checkout of perfectly
COMPILED = perfectly.build_info()["core"] == "compiled"
START = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
KERNELS = ("python", "compiled-gil", "compiled-nogil") if COMPILED else ("python",)
BACKENDS = ("serial", "threads", "_thread", "processes", "thread-pool", "process-pool")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Python 3.12+ warns when a process with threads forks; the harness forks on purpose.
FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"

pytestmark = pytest.mark.filterwarnings(FORK_WARNING)


def run_main(*argv: str) -> tuple[int, str]:
    """``main(argv)`` in this process: (exit status, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def quiet_run(output, repeat: int) -> list[str]:
    """Flags for a short run without warm-ups, plots or progress, written to ``output``."""
    flags = ["--repeat", str(repeat), "--warmup", "0", "--no-plots", "--no-progress"]
    return [*flags, "--output", str(output)]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One whole run with tiny ranges: (document, results path, stdout)."""
    out = tmp_path_factory.mktemp("bench")
    argv = [
        "--quick",
        "--size",
        "sieve=20000,trial=3000,python-sieve=400,python-trial=300",
        "--repeat",
        "2",
        "--warmup",
        "1",
        "--workers",
        "1,2",
        "--variants",
        ",".join(KERNELS),
        "--backends",
        ",".join(BACKENDS),
        "--methods",
        "sieve,trial",
        "--schedules",
        "dynamic,static",
        "--output",
        str(out),
        "--no-progress",
    ]
    if START:
        argv += ["--start-methods", START]
    status, text = run_main(*argv)
    assert status == 0, text
    (path,) = out.glob("*/results.json")
    return json.loads(path.read_text()), path, text


# --------------------------------------------------------------------------------------
# The smoke run
# --------------------------------------------------------------------------------------


PLOT_NAMES = {
    "threads-or-processes.png",
    "speedup.png",
    "breakdown.png",
    "busy.png",
    "model.png",
}


def _check_schema_by_hand(doc):
    """An independent, minimal check of perfectly-bench/3 (results.problems is the full one)."""
    assert doc["schema"] == "perfectly-bench/3"
    assert isinstance(doc["created"], str) and doc["complete"] is True
    m = doc["machine"]
    assert isinstance(m["cpu_model"], str) and m["cpu_model"]
    assert isinstance(m["cpu_count"], int) and m["cpu_count"] >= 1
    assert isinstance(m["gil_enabled"], bool)
    assert m["python_implementation"] and m["python_version"] == ".".join(
        map(str, sys.version_info[:3])
    )
    assert m["package_version"] == perfectly.__version__
    assert m["build"] == json.loads(json.dumps(perfectly.build_info()))
    assert set(m["start_methods"]) == set(multiprocessing.get_all_start_methods())
    p = doc["parameters"]
    assert p["repeat"] == 2 and p["warmup"] == 1 and p["workers"] == [1, 2]
    assert p["variants"] == list(KERNELS) and p["backends"] == list(BACKENDS)
    assert p["sizes"]["sieve"] == 20000 and p["sizes"]["python-trial"] == 300
    assert isinstance(p["argv"], list)
    assert isinstance(doc["verdict"], list) and doc["verdict"]
    assert all(isinstance(line, str) for line in doc["verdict"])
    for r in doc["scenarios"]:
        assert len(r["values"]) == len(r["runs"]) == 2, r["id"]
        assert len(r["warmups"]) == 1
        assert all(isinstance(v, float) and v > 0 for v in r["values"])
        for key in ("median", "mean", "stdev", "min", "max", "q1", "q3", "iqr", "spread"):
            assert isinstance(r["stats"][key], (int, float)), (r["id"], key)


def test_smoke_json_follows_the_schema(smoke):
    doc, _, _ = smoke
    _check_schema_by_hand(doc)
    assert results.problems(doc) == []
    assert len({r["id"] for r in doc["scenarios"]}) == len(doc["scenarios"])


def assert_every_scenario(doc, kernels, backends, workers, start):
    """Every scenario that these kernels, backends, worker counts and start method ask for
    is in ``doc`` (ids written out here, independently of the matrix code)."""
    ids = {r["id"] for r in doc["scenarios"]}
    sm = f":{start}" if start else ""
    default = multiprocessing.get_context().get_start_method()
    for kernel in kernels:
        for algorithm, schedule in (("sieve", "dynamic"), ("trial", "dynamic")):
            assert f"scaling/{algorithm}-{schedule}/{kernel}/serial/w1" in ids
            for backend in backends[1:]:
                for w in workers:
                    method = (start or default) if backend in ("processes", "process-pool") else ""
                    suffix = f":{method}" if method else ""
                    assert f"scaling/{algorithm}-{schedule}/{kernel}/{backend}{suffix}/w{w}" in ids
    primary = kernels[-1]
    for backend in backends[1:]:  # static vs dynamic for trial, on the fastest kernel
        method = f":{start or default}" if backend in ("processes", "process-pool") else ""
        assert f"scaling/trial-static/{primary}/{backend}{method}/w2" in ids
    for backend in backends[1:]:
        method = sm if backend in ("processes", "process-pool") else ""
        assert any(i.startswith("overhead/") and f"/{backend}{method}/" in i for i in ids)
        assert any(i.startswith("messages/") and f"/{backend}{method}/" in i for i in ids)
    assert any(i.startswith("start-methods/") and "/processes" in i for i in ids)
    assert any(i.startswith("crossover/") for i in ids)
    assert all(r["workers"] == 1 for r in doc["scenarios"] if r["backend"] == "serial")


def test_smoke_every_requested_scenario_is_present(smoke):
    assert_every_scenario(smoke[0], KERNELS, BACKENDS, (1, 2), START)


def test_smoke_derived_figures_follow_from_raw_timings(smoke):
    doc, _, _ = smoke
    by_id = {r["id"]: r for r in doc["scenarios"]}
    with_speedup = 0
    for r in doc["scenarios"]:
        values = r["values"]
        st = r["stats"]
        assert st["median"] == pytest.approx(statistics.median(values))
        assert st["mean"] == pytest.approx(statistics.fmean(values))
        assert st["stdev"] == pytest.approx(statistics.stdev(values))
        assert st["min"] == min(values) and st["max"] == max(values)
        assert st["iqr"] == pytest.approx(st["q3"] - st["q1"])
        assert st["spread"] == pytest.approx(st["stdev"] / st["mean"])
        assert st["unstable"] == (st["spread"] > 0.10)
        assert r["values"] == [run["wall"] for run in r["runs"]]
        assert r["ns_per_number"] == pytest.approx(st["median"] / (r["hi"] - r["lo"]) * 1e9)
        for run in r["runs"]:
            busy = [b for b in run["worker_busy"] if b > 0]
            if busy:
                assert run["imbalance"] == pytest.approx(max(busy) / statistics.fmean(busy))
            assert sum(run["worker_chunks"]) == run["chunks"]
        if r["imbalance"] is not None:
            assert r["imbalance"] == pytest.approx(
                statistics.median(run["imbalance"] for run in r["runs"])
            )
        if r["reference"] is not None:
            ref = by_id[r["reference"]]
            assert ref["backend"] == "serial" and ref["group"] == r["group"]
            assert (ref["variant"], ref["method"], ref["lo"], ref["hi"]) == (
                r["variant"],
                r["method"],
                r["lo"],
                r["hi"],
            )
            assert r["speedup"] == pytest.approx(ref["stats"]["median"] / st["median"])
            assert r["efficiency"] == pytest.approx(r["speedup"] / r["workers"])
            with_speedup += 1
        elif r["section"] == "scaling":
            pytest.fail(f"{r['id']} has no serial reference")
    assert with_speedup > 0
    overhead_serial = next(
        r for r in doc["scenarios"] if r["section"] == "overhead" and r["backend"] == "serial"
    )
    for o in doc["derived"]["overheads"]:
        r = by_id[o["id"]]
        assert r["hi"] - r["lo"] == r["workers"]  # one number per worker
        assert o["cost"] == pytest.approx(r["stats"]["median"] - overhead_serial["stats"]["median"])
    for c in doc["derived"]["crossover"]:
        assert c["wins"] == [s > 1 for s in c["speedups"]]


def test_smoke_plots_are_png_files(smoke):
    image = pytest.importorskip("matplotlib.image")  # in the test extra; optional elsewhere
    doc, path, _ = smoke
    assert set(doc["plots"]) == PLOT_NAMES
    for name in doc["plots"]:
        png = path.parent / name
        assert png.read_bytes()[:8] == PNG_MAGIC
        pixels = image.imread(png)
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100


def test_smoke_writes_measurements_that_pyperf_reads(smoke):
    """Beside results.json, pyperf.json: ``python -m pyperf stats`` reads it, with one
    benchmark per measured scenario, each with that scenario's kept wall times."""
    pyperf = pytest.importorskip("pyperf")  # a dependency of perfectly-bench
    doc, path, text = smoke
    measurements = path.parent / "pyperf.json"
    assert f"pyperf:  {measurements}" in text
    suite = pyperf.BenchmarkSuite.load(str(measurements))
    by_name = {b.get_name(): list(b.get_values()) for b in suite.get_benchmarks()}
    assert by_name == {s["id"]: s["values"] for s in doc["scenarios"] if s["values"]}
    proc = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", "-q", str(measurements)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert doc["scenarios"][0]["id"] in proc.stdout


def test_smoke_prints_table_and_verdict(smoke):
    """(Its size is pinned by its parameters, checked above; its wall time is not a test:
    it bounded it to 60 s, and beside ten busy loops it took 60.5 s.)"""
    doc, path, text = smoke
    assert "Scaling: speedup over serial" in text
    assert "mean ± std dev" in text and "speedup" in text
    assert "Verdict" in text
    for line in doc["verdict"]:
        assert line in text
    assert str(path) in text
    assert any("compiled nogil" in line or "pure Python" in line for line in doc["verdict"])


def test_report_prints_a_results_file_again(smoke):
    _, path, text = smoke
    status, again = run_main("report", str(path))
    assert status == 0
    assert again.strip() == text.split("\nresults: ")[0].strip()


def test_interrupt_keeps_what_was_measured(tmp_path, monkeypatch):
    from perfectly_bench.measure import timing

    calls = 0
    real = timing.run_once

    def flaky(scenario):
        nonlocal calls
        calls += 1
        if calls > 7:
            raise KeyboardInterrupt
        return real(scenario)

    monkeypatch.setattr(timing, "run_once", flaky)
    status, text = run_main(
        "--size",
        "sieve=5000",
        "--variants",
        KERNELS[-1],
        "--backends",
        "serial,threads",
        "--methods",
        "sieve",
        "--workers",
        "1,2",
        *quiet_run(tmp_path, repeat=3),
    )
    assert status == 130
    (path,) = tmp_path.glob("*/results.json")
    doc = results.load(path)
    assert doc.complete is False
    # seven runs: kept, or disturbed by other work and re-run (kept apart as rejected)
    assert sum(len(r.values) + len(r.measurement.rejected) for r in doc.records) == 7
    assert "interrupted" in doc.verdict[-1]
    assert str(path) in text


# --------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------


def _doc(values_by_id: dict[str, list[float]], hi: int = 1001) -> Results:
    measurements = []
    for name, values in values_by_id.items():
        scenario = Scenario("scaling", name, "threads", 2, "sieve", "dynamic", 1, hi)
        m = Measurement(scenario, f"synthetic {name}")
        m.runs = [TimedRun(v, 0.0, 0.0, (v / 2, v / 2), (1, 1), 2, None) for v in values]
        m.warmups = [values[0]]
        measurements.append(m)
    records = analysis.records(measurements)
    machine = machine_info()
    params = synthetic_parameters()
    return Results(
        created=results.now(),
        complete=True,
        machine=machine,
        parameters=params,
        records=records,
        derived=analysis.derive(records, 2),
    )


SLOW_A = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00]
SLOW_B = [1.50, 1.52, 1.49, 1.51, 1.48, 1.50]  # 1.5× slower: clearly significant
SAME_A = [1.00, 1.10, 0.90, 1.05, 0.95, 1.00]
SAME_B = [1.02, 0.92, 1.08, 0.97, 1.01, 0.99]  # the same, up to noise: not significant


@pytest.fixture
def two_files(tmp_path):
    a = _doc({"clear": SLOW_A, "noise": SAME_A, "only-a": SAME_A})
    b = _doc({"clear": SLOW_B, "noise": SAME_B})
    assert results.problems(a.to_json()) == results.problems(b.to_json()) == []
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    results.write(a, pa)
    results.write(b, pb)
    return pa, pb


@pytest.mark.parametrize("use_scipy", [False, True])
def test_compare_known_answer(two_files, use_scipy):
    if use_scipy:
        pytest.importorskip("scipy")
    pa, pb = two_files
    rows, only_a, only_b = compare.compare_docs(
        results.load(pa), results.load(pb), use_scipy=use_scipy
    )
    by_id = {r.id.split("/")[2]: r for r in rows}
    assert set(by_id) == {"clear", "noise"}
    assert only_a == ["scaling/sieve-dynamic/only-a/threads/w2"] and only_b == []
    clear, noise = by_id["clear"], by_id["noise"]
    assert clear.ratio == pytest.approx(1.5, rel=0.01)
    assert clear.significance.significant and clear.change == "1.50× slower"
    assert not noise.significance.significant
    assert noise.verdict.startswith("not significant")
    expected = "Welch" if use_scipy else "permutation test, exact"
    assert expected in clear.significance.test


def test_compare_command_line(two_files):
    pa, pb = two_files
    status, text = run_main("compare", str(pa), str(pb), "--no-scipy")
    assert status == 0
    lines = text.splitlines()
    clear = lines[lines.index("synthetic clear") + 1]
    assert "1.50× slower" in clear and "significant (p" in clear and "not significant" not in clear
    noise = lines[lines.index("synthetic noise") + 1]
    assert "not significant" in noise
    assert "permutation test" in text
    assert "1 significantly slower" in text


def test_compare_rejects_a_file_of_another_schema(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "pyperf/1"}))
    with pytest.raises(SystemExit) as info:
        main(["compare", str(bad), str(bad)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "perfectly-bench/1" in err


def test_an_output_that_cannot_be_written_stops_the_run_before_it_measures(tmp_path):
    """A bad --output let a --quick run measure for 60 s, then lose it in a traceback."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for output in (a_file, a_file / "under", Path("/proc/no-such-folder")):
        started = time.perf_counter()
        status, err = _exit_status_and_stderr(["--quick", "--output", str(output)])
        assert status == 2 and len(err.strip().splitlines()) == 1, err
        assert f"--output {output}: results cannot be written there" in err
        assert time.perf_counter() - started < 5  # nothing was measured


def _exit_status_and_stderr(argv):
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = main(argv)
    except SystemExit as exit:
        status = exit.code
    return status, err.getvalue()


def _places(doc):
    """The path of keys to every value in ``doc`` (the first item of each list)."""
    stack = [(doc, ())]
    while stack:
        node, where = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node[:1])
        for key, value in items:
            yield (*where, key)
            if isinstance(value, (dict, list)):
                stack.append((value, (*where, key)))


@pytest.mark.slow
def test_edited_results_files_give_one_line_never_a_traceback(smoke, tmp_path):
    """A key removed, or a value of another type, anywhere in a real file: ``report`` and
    ``compare`` print the report or one line with exit status 2 (they raised tracebacks
    from 17 such edits, 2026-12-05)."""
    import copy
    import random

    doc, path, _ = smoke
    places = list(_places(doc))
    cases = [(where, new) for where in places for new in (KeyError, None, "x", -1, {}, [1e308])]
    random.Random(0).shuffle(cases)
    edited = tmp_path / "edited.json"
    for where, new in cases[:80]:
        changed = copy.deepcopy(doc)
        node = changed
        for key in where[:-1]:
            node = node[key]
        if new is KeyError:
            del node[where[-1]]
        else:
            node[where[-1]] = new
        edited.write_text(json.dumps(changed))
        for argv in (["report", str(edited)], ["compare", str(path), str(edited)]):
            status, err = _exit_status_and_stderr(argv)
            assert status in (0, 2), (where, new, argv)
            assert status == 0 or len(err.strip().splitlines()) == 1, (where, new, err)


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, '{"schema": Infinity}', '{"schema": NaN}', "\xff\xfe"],
    ids=["deep", "infinity", "nan", "not-utf8"],
)
def test_malformed_json_gives_one_line(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content.encode("latin-1"))
    for argv in (["report", str(bad)], ["compare", str(bad), str(bad)]):
        status, err = _exit_status_and_stderr(argv)
        assert status == 2 and len(err.strip().splitlines()) == 1, err
        assert "cannot read a results file" in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_report_refuses_a_device_and_a_huge_file_without_reading_them(tmp_path):
    """``report /dev/zero`` grew to 4.2 GB in 8 s (2026-12-05)."""
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:  # sparse: no disk used
        file.truncate(results.MAX_BYTES + 1)
    for name, why in (("/dev/zero", "not a regular file"), (str(huge), "larger than 64 MiB")):
        status, err = _exit_status_and_stderr(["report", name])
        assert status == 2 and why in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(shutil.which("head") is None, reason="needs the head command")
def test_report_into_head_ends_quietly(tmp_path):
    """``report FILE | head -1``: a real pipe whose reader leaves early; the report is far
    longer than a pipe holds, so the writer meets a closed pipe. No traceback."""
    path = tmp_path / "long.json"
    results.write(_doc({f"s{i:04}": SAME_A for i in range(2000)}), path)
    head = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    report = subprocess.Popen(
        [sys.executable, "-m", "perfectly", "bench", "report", str(path)],
        stdout=head.stdin,
        stderr=subprocess.PIPE,
    )
    head.stdin.close()  # only head holds the pipe's reading end now
    _, err = report.communicate(timeout=120)
    first = head.stdout.read()
    head.stdout.close()
    head.wait(timeout=60)
    assert first.decode().startswith("perfectly ")
    assert err == b"", err.decode()
    assert report.returncode == 1  # the output was cut short, as the signal docs advise


def test_permutation_test_known_values():
    exact = stats.permutation_test([1, 2, 3, 4], [5, 6, 7, 8])
    assert exact.pvalue == pytest.approx(2 / 70) and exact.significant
    tiny = stats.permutation_test([1, 2, 3], [4, 5, 6])
    assert tiny.pvalue == pytest.approx(0.1) and not tiny.testable
    same = stats.permutation_test([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    assert same.pvalue == pytest.approx(1.0)
    sampled = stats.permutation_test([1.0] * 10 + [1.1], [2.0] * 11)
    assert "random splits" in sampled.test and sampled.significant


def test_summary_statistics():
    s = stats.summarize([1.0, 2.0, 3.0, 4.0, 10.0])
    assert (s.median, s.min, s.max, s.n) == (3.0, 1.0, 10.0, 5)
    assert s.mean == pytest.approx(4.0) and s.iqr == pytest.approx(2.0)
    assert s.unstable
    assert not stats.summarize([1.0, 1.01, 0.99]).unstable


# --------------------------------------------------------------------------------------
# race
# --------------------------------------------------------------------------------------


def test_race_locked_variants_are_exact_and_deadlock_is_detected():
    timeout = 0.2
    started = time.perf_counter()
    result = race.run_race(workers=2, chunks=30, chunk_size=100, attempts=2, timeout=timeout)
    assert time.perf_counter() - started < 30
    expected = 30 * 100
    names = {v.name for v in result.variants}
    assert any("threads" in n and "Lock" in n for n in names)
    assert any("processes" in n and "Lock" in n for n in names)
    for v in result.variants:
        assert v.expected == expected and 1 <= v.attempts <= 2
        assert all(0 < o <= expected for o in v.observed)
        if v.locked:
            assert v.exact and v.observed == [expected] * v.attempts
    d = result.deadlock
    assert d.detected and d.messages
    assert all("gave up on lock" in m for m in d.messages)
    assert d.seconds < timeout + 2.0  # detected by the timeouts, never waited out
    assert d.ordered_ok
    text = race.render(result)
    assert "expected" in text and "observed" in text and "detected" in text
    assert "time.sleep(0)" in text  # says how the lost updates were provoked
    assert json.loads(json.dumps(result.to_json()))["deadlock"]["detected"] is True


def test_race_command_line():
    argv = "race --chunks 10 --chunk-size 50 --attempts 1 --timeout 0.1 --threads-only --json"
    status, text = run_main(*argv.split())
    assert status == 0
    out = json.loads(text)
    assert {v["kind"] for v in out["variants"]} == {"threads"}
    assert out["deadlock"]["detected"] is True


# --------------------------------------------------------------------------------------
# Command line, sizes, baselines
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["--workers", "0"],
        ["--workers", "two"],
        ["--workers", "4097"],
        ["--kernels", "fortran"],
        ["--backends", "threads,mpi"],
        ["--algorithms", "sieve,magic"],
        ["--methods", "sieve,magic"],
        ["--variants", "fortran"],
        ["--methods", ""],
        ["--schedules", "guided"],
        ["--start-methods", "teleport"],
        ["--sections", "everything"],
        ["--size", "0s"],
        ["--size", "sieve=lots"],
        ["--size", "cubes=100"],
        ["--repeat", "0"],
        ["--warmup", "-1"],
        ["--yardstick", "/no/such/program"],
        ["compare", "only-one.json"],
        ["compare", "missing-a.json", "missing-b.json"],
        ["report"],
        ["report", "missing.json"],
        ["race", "--timeout", "-1"],
        ["race", "--workers", "1"],
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "bench", "--workers", "0"],
        [sys.executable, "-m", "perfectly", "bench", "--kernels", "nope"],
    ],
)
def test_entry_points_reject_bad_flags(command):
    if command[2] == "bench" and not (ROOT / "bench" / "__main__.py").exists():
        pytest.skip("not run from a checkout")
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_perfectly_bench_help_names_the_engine():
    proc = subprocess.run(
        [sys.executable, "-m", "perfectly", "bench", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert "--baselines" in proc.stdout and "--quick" in proc.stdout


def test_parse_size_forms():
    assert sizing.parse_size("0.5s") == sizing.SizeSpec(target=0.5)
    spec = sizing.parse_size("1e7")
    assert spec.fixed == (("sieve", 10**7),) and spec.match_sieve
    spec = sizing.parse_size("sieve=2**20, python-trial=2e4")
    assert dict(spec.fixed) == {"sieve": 2**20, "python-trial": 20_000}
    assert sizing.nice(123_456) == 100_000 and sizing.nice(2_600_000) == 2_000_000


@pytest.mark.skipif(not COMPILED, reason="calibrates the compiled kernel")
def test_calibrated_sizes_are_near_the_target():
    sizes = sizing.resolve(sizing.SizeSpec(target=0.02), ("sieve", "python-trial"))
    assert set(sizes.calibrated) == {"sieve", "python-trial"}
    assert sizes.trial == 0 and sizes.sieve >= 10_000 and sizes.python_trial >= 100
    seconds = min(
        _time(lambda: perfectly.search(1, sizes.sieve + 1, backend="serial")) for _ in range(3)
    )
    assert 0.002 < seconds < 0.2  # within 10× of the target on a busy machine


def _time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def test_numpy_baseline_agrees_with_the_kernel():
    from perfectly_bench.measure import baselines

    for lo, hi in ((1, 2), (1, 5000), (10_007, 30_011)):
        c = perfectly.census(lo, hi)
        total, abundant, deficient, perfect = baselines.run("numpy", "sieve", lo, hi, 1)
        assert (total, abundant, deficient, perfect) == (
            c.sigma_sum,
            c.abundant,
            c.deficient,
            len(c.perfect),
        )


def test_numba_baseline_agrees_with_the_kernel():
    pytest.importorskip("numba")
    from perfectly_bench.measure import baselines

    assert "numba" in baselines.available()
    for workers in (1, 2):
        c = perfectly.census(3, 70_001)
        total, abundant, deficient, perfect = baselines.run("numba", "sieve", 3, 70_001, workers)
        assert total == c.sigma_sum % 2**64
        assert (abundant, deficient, perfect) == (c.abundant, c.deficient, len(c.perfect))


NUMBA_BOTH_WAYS = """
import sys
import perfectly
from perfectly_bench.measure import _numba_kernels as nk
c = perfectly.census(1, 10**6)
for workers in ([None, 2] if sys.argv[1] == "one-thread-first" else [2, None]):
    assert nk.census(1, 10**6, workers) == (c.sigma_sum, c.abundant, c.deficient, 4), workers
"""


@pytest.mark.slow
def test_numba_one_thread_and_parallel_sieves_share_no_cache(tmp_path):
    """The one-thread and the parallel numba sieve are one function compiled twice; with
    numba's on-disk cache shared between processes, each must still run its own code
    (a third process used to load the other's and crash)."""
    pytest.importorskip("numba")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    for order in ("one-thread-first", "parallel-first", "one-thread-first", "parallel-first"):
        done = subprocess.run(
            [sys.executable, "-c", NUMBA_BOTH_WAYS, order],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, (order, done.returncode, done.stderr[-2000:])


def test_crossover_analysis_interpolates():
    def record(size, backend, seconds):
        scenario = Scenario(
            "crossover", "compiled-nogil", backend, 2, "sieve", "dynamic", 1, size + 1
        )
        m = Measurement(scenario, f"n{size}")
        m.runs = [TimedRun(seconds, 0.0, 0.0, (seconds,), (1,), 1, None)] * 3
        return m

    ms = []
    timings = {  # size: (serial, threads) seconds
        10**3: (1e-4, 1e-2),
        10**4: (1e-3, 1.05e-2),
        10**5: (1e-2, 1.5e-2),
        10**6: (1e-1, 6e-2),
        10**7: (1.0, 0.51),
    }
    for size, (serial, threads) in timings.items():
        ms += [record(size, "serial", serial), record(size, "threads", threads)]
    (c,) = analysis.crossovers(analysis.records(ms))
    assert c["measured"] == 10**6
    assert 10**5 < c["estimate"] < 10**6
    assert not math.isnan(c["speedups"][0])


# --------------------------------------------------------------------------------------
# The README's path: `pip install . ./bench` into a fresh venv, then `python -m bench`
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench_only_venv(tmp_path_factory):
    """A fresh venv (no system site packages) with only ``pip install <repo> <repo>/bench``,
    as the README says: perfectly and perfectly-bench (with matplotlib), and no dask,
    numba or scipy. Needs PyPI (build isolation)."""
    if not (ROOT / "pyproject.toml").exists() or not (ROOT / "bench" / "__main__.py").exists():
        pytest.skip("not run from a checkout")
    venv = tmp_path_factory.mktemp("bench-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    install = [str(python), "-m", "pip", "install", "--quiet", str(ROOT), str(ROOT / "bench")]
    proc = subprocess.run(install, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return python


def _in_venv(python, *argv, timeout=600):
    return subprocess.run(
        [str(python), *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
@pytest.mark.install
@pytest.mark.timeout(600)
def test_readme_path_dask_asked_without_dask_is_one_line(bench_only_venv):
    # first of the README-path tests: it pays for building the venv, which keeps each
    # test under the suite's faulthandler_timeout (120 s) on a busy 2-core machine
    for command in (("-m", "bench"), ("-m", "perfectly", "bench")):
        proc = _in_venv(bench_only_venv, *command, "--backends", "serial,dask", timeout=120)
        assert proc.returncode == 2
        assert proc.stdout == ""
        (line,) = proc.stderr.strip().splitlines()
        assert "dask" in line and "distributed" in line


@pytest.mark.slow
@pytest.mark.install
@pytest.mark.timeout(1800)
def test_readme_path_quick_run_with_only_the_bench_extra(bench_only_venv, tmp_path):
    """The README-path test: `python -m bench --quick` right after `pip install . ./bench`
    runs to the end with the default backends (no dask) and measures every default
    scenario. A plain --quick run: what a newcomer types."""
    python = bench_only_venv
    for module in ("dask", "distributed", "numba", "scipy"):
        probe = _in_venv(python, "-c", f"import {module}")
        assert probe.returncode != 0, f"{module} should not be installed by perfectly-bench"
    proc = _in_venv(python, "-m", "bench", "--quick", "--no-progress", "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    (path,) = tmp_path.glob("*/results.json")
    doc = json.loads(path.read_text())
    assert results.problems(doc) == []
    assert doc["complete"] is True
    default_backends = ["serial", "threads", "processes"]  # --quick's: those of the lesson
    assert doc["parameters"]["backends"] == default_backends
    assert doc["parameters"]["workers"] == [doc["machine"]["cpus_available"]]
    variants = doc["parameters"]["variants"]
    compiled = doc["machine"]["build"]["core"] == "compiled"
    assert variants == (["python", "compiled-gil", "compiled-nogil"] if compiled else ["python"])
    workers = tuple(doc["parameters"]["workers"])
    default = doc["machine"]["default_start_method"]
    assert_every_scenario(doc, tuple(variants), tuple(default_backends), workers, default)
    assert set(doc["plots"]) == PLOT_NAMES
    # Without SciPy the verdict's test is the exact permutation test: with --quick's 3
    # rounds it could never reach p < 0.05, and every line said "too few runs".
    (python_line,) = [v for v in doc["verdict"] if v.startswith("pure Python (")]
    assert "too few runs" not in python_line, python_line
    assert "processes win" in python_line or "inconclusive" in python_line, python_line


@pytest.mark.slow
@pytest.mark.install
@pytest.mark.timeout(600)
def test_readme_path_compare_without_scipy_uses_the_permutation_test(bench_only_venv, tmp_path):
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    results.write(_doc({"clear": SLOW_A}), pa)
    results.write(_doc({"clear": SLOW_B}), pb)
    proc = _in_venv(bench_only_venv, "-m", "bench", "compare", str(pa), str(pb), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "permutation test" in proc.stdout and "1.50× slower" in proc.stdout


# --------------------------------------------------------------------------------------
# Typed records and the schema versions
# --------------------------------------------------------------------------------------


def test_records_round_trip_through_json():
    scenario = Scenario(
        "scaling", "compiled-nogil", "processes", 2, "trial", "static", 1, 5001, "fork"
    )
    assert Scenario.from_json(json.loads(json.dumps(scenario.to_json()))) == scenario
    assert scenario.key == "processes:fork" and scenario.id.endswith("/processes:fork/w2")
    run = TimedRun(0.5, 0.01, 0.02, (0.2, 0.3), (3, 4), 7, "fork")
    back = TimedRun.from_json(json.loads(json.dumps(run.to_json())))
    assert back == run and back.imbalance == pytest.approx(0.3 / 0.25)
    m = Measurement(
        scenario, "a group", [0.7], [run, TimedRun(0.4, 0.0, 0.0, (0.2,), (1,), 1, None)]
    )
    assert Measurement.from_json(json.loads(json.dumps(m.to_json()))) == m
    record = Record(m, "processes (fork) × 2", "some/serial/id", 1.5)
    again = Record.from_json(json.loads(json.dumps(record.to_json())))
    assert again == record
    assert again.stats.median == pytest.approx(0.45) and again.efficiency == pytest.approx(0.75)
    assert again.median_run().wall == 0.4  # the lower middle one of two
    doc = _doc({"clear": SLOW_A, "noise": SAME_A})
    text = json.dumps(doc.to_json())
    assert Results.from_json(json.loads(text)) == doc
    assert json.dumps(Results.from_json(json.loads(text)).to_json()) == text


V1_SCENARIO = stored_scenario(1)


def _v1_file(tmp_path, name, values):
    """A small perfectly-bench/1 file, written here with version 1's names."""
    machine = json.loads(json.dumps(machine_info()))
    machine["load_average_end"] = machine["load_average_start"]
    params = {
        "kernels": ["compiled-nogil"],
        "backends": ["threads"],
        "workers": [2],
        "algorithms": ["sieve"],
        "schedules": ["dynamic"],
        "start_methods": [],
        "sections": ["scaling"],
        "sizes": {},
        "repeat": 3,
        "warmup": 1,
        "baselines": False,
        "quick": True,
        "cpus": 2,
        "argv": [],
    }
    scenario = {**V1_SCENARIO, "values": values}
    scenario["runs"] = [{**V1_SCENARIO["runs"][0], "wall": v} for v in values]
    doc = {
        "schema": "perfectly-bench/1",
        "created": "2026-11-24T22:51:26+00:00",
        "complete": True,
        "machine": machine,
        "parameters": params,
        "scenarios": [scenario],
        "derived": {"overheads": [], "messages": [], "crossover": [], "unstable": 1},
        "verdict": ["a stored verdict line from version 1."],
        "plots": [],
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_version_1_files_are_read_by_report_and_compare(tmp_path):
    a = _v1_file(tmp_path, "a.json", [0.002, 0.003, 0.004])
    b = _v1_file(tmp_path, "b.json", [0.004, 0.006, 0.008])
    loaded = results.load(a)
    (record,) = loaded.records
    assert record.scenario.variant == "compiled-nogil" and record.scenario.method == "sieve"
    assert loaded.parameters["variants"] == ["compiled-nogil"]
    assert loaded.parameters["methods"] == ["sieve"]
    status, text = run_main("report", str(a))
    assert status == 0
    assert "threads × 2" in text and "a stored verdict line from version 1." in text
    status, text = run_main("compare", str(a), str(b))
    assert status == 0
    assert "2.00× slower" in text and "threads × 2" in text


def test_version_3_is_what_is_written(two_files):
    pa, _ = two_files
    doc = json.loads(pa.read_text())
    assert doc["schema"] == "perfectly-bench/3"
    assert all("variant" in r and "method" in r for r in doc["scenarios"])
    assert not any("kernel" in r or "algorithm" in r for r in doc["scenarios"])
    assert isinstance(doc["derived"]["comparisons"], list)


def test_verdict_reads_the_stored_tests_and_runs_none(smoke):
    """The verdict quotes the tests analysis stored: change a stored p-value and the
    verdict changes with it (it would not, were the test run again)."""
    from perfectly_bench.report import verdict

    doc, path, _ = smoke
    done = results.load(path)
    comparisons = done.derived["comparisons"]
    assert comparisons, "threads against processes should have been tested"
    by_id = {r.id: r for r in done.records}
    for c in comparisons:
        again = stats.two_sample(by_id[c["a"]].values, by_id[c["b"]].values)
        assert c["pvalue"] == again.pvalue and c["test"] == again.test
    assert done.verdict == doc["verdict"] == verdict.verdict(done)
    for c in comparisons:
        c.update(pvalue=0.5, significant=False, floor=0.0)
    done.machine.update(load_average_start=0.0, load_average_end=0.0)  # a quiet machine
    quiet = verdict.verdict(done)
    ties = [
        line
        for line in verdict.verdict(done)
        if "inconclusive on this machine right now" in line and "p = 0.5" in line
    ]
    assert len(ties) == len(comparisons)
    # more runnable work than CPUs: no winner named between threads and processes
    done.machine.update(load_average_end=done.cpus + 1.5)  # the run's own load: no matter
    assert verdict.verdict(done) == quiet
    done.machine.update(load_average_start=done.cpus + 1.5, load_average_end=0.0)
    measured = done.derived["noise"]["others"] is not None
    if measured:  # each run's other work was measured: a loaded start alone says nothing
        assert verdict.verdict(done) == quiet
        done.derived["noise"]["others"] = None  # as where /proc/stat is missing
    for line in verdict.verdict(done):
        if "workers): threads" in line and "processes" in line:
            assert "inconclusive on this machine right now: the load average was" in line
            assert " win" not in line and "faster" not in line


# --------------------------------------------------------------------------------------
# Defaults, deprecated names, the kernels section, race's own command
# --------------------------------------------------------------------------------------


FIXED_SIZES = ["--size", "sieve=2000,trial=500,python-sieve=200,python-trial=100"]


def test_default_backends_need_no_optional_package():
    from perfectly_bench import cli

    params = cli.params_from(cli.run_parser("bench").parse_args(FIXED_SIZES))
    assert "dask" not in params.backends
    assert params.backends == (
        "serial",
        "threads",
        "_thread",
        "processes",
        "thread-pool",
        "process-pool",
    )
    assert "dask" in perfectly.BACKENDS  # still there, for those who name it
    quick = cli.params_from(cli.run_parser("bench").parse_args([*FIXED_SIZES, "--quick"]))
    assert quick.backends == ("serial", "threads", "processes")
    assert quick.workers == (available_cpus(),)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(not COMPILED, reason="the compiled-nogil lesson needs the compiled kernel")
def test_quick_run_teaches_the_full_runs_lesson_or_says_inconclusive(tmp_path):
    """The default --quick (ranges of about 0.25 s of serial work, so start-up cannot
    decide the answer): for pure Python processes beat threads, and for the compiled
    kernel without the GIL threads × CPUs reach 1.5× serial (on 2 or more CPUs) — or the
    verdict line says inconclusive; never the opposite verdict."""
    status, text = run_main("--quick", "--no-plots", "--no-progress", "--output", str(tmp_path))
    assert status == 0, text
    (path,) = tmp_path.glob("*/results.json")
    done = results.load(path)
    header = text.split("Scaling:")[0]
    for label in ("compiled sieve [1, ", "pure-Python sieve [1, "):
        # each range says its serial work and how it compares with the start-up measured in
        # this run ("≫" or "not ≫": a timing, so either may be right on a busy machine)
        (said,) = [row for row in header.splitlines() if label in row]
        assert "s of serial work" in said and f"starting {done.cpus} processes with" in said
    cpus = done.cpus
    main_rows = analysis.main_rows(done.records)

    def line(variant: str) -> str:
        label = {"python": "pure Python (", "compiled-nogil": "compiled nogil ("}[variant]
        (found,) = [v for v in done.verdict if v.startswith(label)]
        return found

    python = line("python")
    assert "threads win" not in python and "threads," not in python.split(" — ")[-1]
    threads = analysis.pick(main_rows, variant="python", backend="threads", workers=cpus)
    procs = analysis.pick(main_rows, variant="python", backend="processes", workers=cpus)
    assert threads and procs
    if "inconclusive" not in python:
        assert "processes win" in python or "processes," in python
        assert procs.median < threads.median
    nogil = analysis.pick(main_rows, variant="compiled-nogil", backend="threads", workers=cpus)
    assert nogil and nogil.speedup is not None
    if cpus >= 2 and "inconclusive" not in line("compiled-nogil"):
        assert nogil.speedup >= 1.5, line("compiled-nogil")


def test_deprecated_flag_names_still_work(tmp_path, capsys):
    from perfectly_bench import cli

    args = cli.run_parser("bench").parse_args(
        [*FIXED_SIZES, "--algorithms", "trial", "--kernels", "python"]
    )
    params = cli.params_from(args)
    assert params.methods == ("trial",) and params.variants == ("python",)
    old = ["--algorithms", "trial", "--kernels", "python", "--sections", "overhead"]
    status = main([*FIXED_SIZES, *old, "--backends", "serial", *quiet_run(tmp_path, repeat=1)])
    assert status == 0
    err = capsys.readouterr().err
    assert "--algorithms is deprecated, use --methods" in err
    assert "--kernels is deprecated, use --variants" in err


@pytest.mark.skipif(not COMPILED, reason="compares against the compiled kernel")
def test_kernels_section_side_by_side(tmp_path):
    status, text = run_main(
        "--quick",
        "--baselines",
        "--sections",
        "kernels",
        *quiet_run(tmp_path, repeat=2),
    )
    assert status == 0, text
    (path,) = tmp_path.glob("*/results.json")
    done = results.load(path)
    rows = [r for r in done.records if r.scenario.section == "kernels"]
    cost = {("sieve", lo, lo + QUICK_COST_WINDOW) for lo in QUICK_COST_MAGNITUDES}
    assert {(r.scenario.method, r.scenario.lo, r.scenario.hi) for r in rows} == {
        ("sieve", 1, 10**6),
        ("sieve", 10**9, 10**9 + 10**6),
        ("trial", 1, 2 * 10**4),
    } | cost
    curve = [r for r in rows if r.measurement.group.startswith(COST_TITLE)]
    assert sorted(r.scenario.lo for r in curve) == list(QUICK_COST_MAGNITUDES)
    assert all(r.scenario.backend == "serial" for r in curve)  # no yardstick was given
    assert "sieve cost at 1e15, one thread" in text
    backends = {(r.scenario.method, r.scenario.backend) for r in rows}
    assert ("sieve", "numpy") in backends and ("sieve", "serial") in backends
    assert all(r.scenario.workers == 1 and r.ns_per_number > 0 for r in rows)
    assert all(r.speedup is not None for r in rows)  # a ratio against the compiled run
    assert "Kernels: one thread each" in text and "ns/number" in text
    if importlib.util.find_spec("numba") is None:
        assert "numba is not installed" in text
    else:  # CI installs numba: the numba contenders must run, not be skipped
        assert {("sieve", "numba-njit"), ("trial", "numba-njit")} <= backends
        assert any(line.startswith("One thread each:") for line in done.verdict)


def fake_yardstick(tmp_path, error: int = 0, log=None):
    """A program that prints the C yardstick's census line (``MODE LO HI THREADS ...``)
    from perfectly's own census, Σσ off by ``error``; it appends its THREADS to ``log``.
    The real yardstick (../shared/perf/sigma.c) is not shipped."""
    fake = tmp_path / "sigma"
    record = f"open({str(log)!r}, 'a').write(sys.argv[4] + '\\n')\n" if log else ""
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys, perfectly\n"
        "lo, hi = int(sys.argv[2]), int(sys.argv[3])\n"
        f"{record}"
        "c = perfectly.census(lo, hi)\n"
        f"print(f'fact2 lo={{lo}} hi={{hi}} median=0.1s | count={{hi - lo}} '\n"
        f"      f'sum_sigma={{c.sigma_sum + {error}}} abundant={{c.abundant}} '\n"
        "      f'deficient={c.deficient} hash=0 perfect=' + ','.join(map(str, c.perfect)))\n"
    )
    fake.chmod(0o755)
    return fake


def yardstick_run(tmp_path, fake, *argv: str):
    """A --quick --baselines run with ``fake`` as the yardstick, 2 rounds: its results."""
    out = tmp_path / "out"
    flags = ["--quick", "--baselines", *argv, "--yardstick", str(fake)]
    status, text = run_main(*flags, *quiet_run(out, repeat=2))
    assert status == 0, text
    (path,) = out.glob("*/results.json")
    return results.load(path)


def test_cost_curve_with_the_yardstick(tmp_path):
    """--yardstick PATH: a program that prints the yardstick's census line (here a small
    script over perfectly's own census, as the real C yardstick is not shipped) joins the
    cost points up to 1e13; its Σσ is checked like every baseline's; cost.png is drawn."""
    fake = fake_yardstick(tmp_path)
    done = yardstick_run(tmp_path, fake, "--sections", "kernels", "--methods", "sieve")
    curve = [r for r in done.records if r.measurement.group.startswith(COST_TITLE)]
    stick = sorted(r.scenario.lo for r in curve if r.scenario.backend == "yardstick")
    assert stick == [lo for lo in QUICK_COST_MAGNITUDES if lo <= 10**13]
    assert done.parameters["yardstick"] == str(fake)
    if plots.available():
        assert plots.cost_figure(done) is not None


def test_baselines_run_the_yardstick_on_threads_beside_ours(tmp_path):
    """--yardstick in the baselines section: the yardstick runs on one thread and on as
    many OpenMP threads as each threads contender (its THREADS argument says so), and the
    verdict sets its parallel speedup over its own one-thread run beside the threads'."""
    log = tmp_path / "threads.log"
    fake = fake_yardstick(tmp_path, log=log)
    done = yardstick_run(tmp_path, fake, "--sections", "baselines", "--workers", "1,2")
    threads = sorted(r.scenario.workers for r in done.records if r.scenario.backend == "threads")
    stick = [r for r in done.records if r.scenario.backend == "yardstick"]
    assert sorted(r.scenario.workers for r in stick) == [1, *threads]
    assert sorted(map(int, log.read_text().split())) == sorted([1, *threads] * 2)  # 2 rounds
    assert {r.scenario.contender for r in stick} == {
        "C yardstick",
        *(f"C yardstick × {w}" for w in threads),
    }
    assert all(r.speedup is not None for r in stick)  # over the compiled kernel's serial run
    if done.cpus in threads:  # the verdict speaks of one thread per CPU
        (line,) = [v for v in done.verdict if v.startswith("Parallel speedup on")]
        assert f"on {done.cpus} threads" in line and "the C yardstick's OpenMP loop" in line


def test_numba_njit_baselines_agree_with_the_kernel():
    pytest.importorskip("numba")
    from perfectly_bench.measure import baselines

    for method, (lo, hi) in (
        ("sieve", (3, 70_001)),
        ("sieve", (10**9, 10**9 + 5000)),
        ("trial", (1, 3000)),
    ):
        c = perfectly.census(lo, hi)
        total, abundant, deficient, perfect = baselines.run("numba-njit", method, lo, hi, 1)
        assert total == c.sigma_sum % 2**64
        assert (abundant, deficient, perfect) == (c.abundant, c.deficient, len(c.perfect))


def test_compare_says_same_names_the_unmatched_and_shows_both_ranges(tmp_path):
    a = _doc({"steady": SAME_A, "only-a": SAME_A, "wider": SAME_A})
    b = _doc({"steady": SAME_A, "only-b": SAME_A})
    b_wide = _doc({"wider": SAME_B}, hi=2001)
    b.records += b_wide.records
    text = compare.render("a.json", a, "b.json", b)
    lines = text.splitlines()
    steady = lines[lines.index("synthetic steady") + 1]
    assert "same" in steady and "faster" not in steady and "slower" not in steady
    assert "1.00×" not in text
    assert "ranges differ: A [1, 1,001), B [1, 2,001)" in text
    wider = lines[lines.index("synthetic wider") + 1]
    assert "not compared" in wider and "slower" not in wider and "significant" not in wider
    assert text.count("1 not compared (different ranges") == 1  # and not counted as slower
    assert "0 significantly slower" in text
    assert "only in A (1):" in text and "scaling/sieve-dynamic/only-a/threads/w2" in text
    assert "only in B (1):" in text and "scaling/sieve-dynamic/only-b/threads/w2" in text


def test_race_has_its_own_command():
    argv = "race --chunks 10 --chunk-size 50 --attempts 1 --timeout 0.1 --threads-only --json"
    proc = subprocess.run(
        [sys.executable, "-m", "perfectly", *argv.split()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {v["kind"] for v in out["variants"]} == {"threads"}
    assert out["deadlock"]["detected"] is True
    bad = subprocess.run(
        [sys.executable, "-m", "perfectly", "race", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_race_chunks_with_the_planner():
    from perfectly.planning import plan

    result = race.run_race(
        workers=2, chunks=7, chunk_size=30, attempts=1, timeout=0.1, processes=False
    )
    chunks = list(plan(1, 211, schedule="dynamic", workers=1, chunk_size=30, method="sieve"))
    assert len(chunks) == result.chunks == 7
    assert all(v.expected == sum(c.count for c in chunks) for v in result.variants)


def test_range_header_says_much_more_than_start_up_only_when_it_is():
    """``≫`` needs the serial work to be at least 5× the measured start-up."""
    sizes = {"target_seconds": 0.25, "calibrated": ["sieve", "trial"], "sieve": 10**8, "trial": 7}
    fast = sizing.describe(sizes, ("2 processes with fork", 0.01))
    slow = sizing.describe(sizes, ("2 processes with spawn", 0.2))
    assert fast[0] == (
        "compiled sieve [1, 1e8]: about 0.25 s of serial work, "
        "≫ starting 2 processes with fork (10 ms, measured below)"
    )
    assert fast[1].startswith("compiled trial division [1, 7]: about 0.25 s of serial work, ≫")
    assert "not ≫: start-up weighs on the answer" in slow[0] and "(200 ms" in slow[0]
    assert sizing.describe({"sieve": 5000})[0].endswith(": as given by --size")


def test_a_wrong_baseline_stops_the_run_in_one_line(tmp_path, capsys):
    """A contender whose Σσ fails the closed form (here a yardstick that adds one) ends the
    run: what was measured is written, the reason is one line, the status is 1."""
    fake = fake_yardstick(tmp_path, error=1)
    argv = ["--quick", "--baselines", "--sections", "kernels", "--methods", "sieve"]
    status, _ = run_main(*argv, "--yardstick", str(fake), *quiet_run(tmp_path / "o", 1))
    assert status == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("stopped: yardstick baseline: Σσ over ["), err
    assert "writing what was measured" in err[-1]
    assert list((tmp_path / "o").glob("*/results.json"))


def test_counts_in_help_and_header_agree_with_their_nouns():
    """The help said "up to 1 disturbed runs" and "1 warm-up(s)" (2026-12-05)."""
    from perfectly_bench.common.formatting import counted

    assert [counted(n, "warm-up") for n in (0, 1, 2)] == ["0 warm-ups", "1 warm-up", "2 warm-ups"]
    err = io.StringIO()
    with contextlib.redirect_stdout(err), pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(err.getvalue().split())
    assert "warm-up(s)" not in shown and "up to 1 disturbed runs" not in shown
    assert "1 warm-up;" in shown and "up to 1 disturbed run re-run" in shown


def test_ranges_grow_with_the_machine():
    """0.25 s of serial work whatever the CPU count left each of 64 workers 4 ms, about
    what starting a forked worker costs (2026-12-05): at least 0.125 s per worker now."""
    assert sizing.default_target(1) == sizing.default_target(2) == 0.25
    assert sizing.default_target(16) == 2.0 and sizing.default_target(64) == 8.0
    sizes = {"sieve": 10**8, "target_seconds": 8.0, "calibrated": ["sieve"]}
    (line,) = sizing.describe(sizes, None, 64)
    assert "about 8 s of serial work (0.12 s per worker at 64)" in line


@pytest.mark.skipif(START != "fork", reason="fork is not a start method here")
def test_a_run_with_worker_interpreters_leaves_fork_out_and_says_so(capsys):
    """``search`` refuses to fork once worker interpreters have run in the process, so a
    bench run that measures both must not plan a fork scenario after them."""
    from perfectly_bench.cli import _start_methods

    every = multiprocessing.get_all_start_methods()
    both = ("serial", "interpreters", "processes")
    assert _start_methods(None, both) == tuple(m for m in every if m != "fork")
    assert "fork is not measured in this run" in capsys.readouterr().err
    assert _start_methods(("fork", "spawn"), both) == ("spawn",)
    assert _start_methods(None, ("serial", "processes")) == tuple(every)
    assert _start_methods(("fork",), ("serial", "interpreters")) == ("fork",)  # no processes
    with pytest.raises(ValueError, match="--start-methods: fork cannot be measured"):
        _start_methods(("fork",), both)


def test_ci_runs_the_readme_bench_test_command():
    """The README's test command for the benchmark is the one ``.ci/run`` runs."""
    readme, ci = ROOT / "README.md", ROOT / ".ci" / "run"
    if not (readme.exists() and ci.exists()):
        pytest.skip("not a checkout of perfectly")
    body = readme.read_text(encoding="utf-8").split("\n## The benchmark\n", 1)[1]
    commands = re.findall(r"```console\n(.*?)```", body.split("\n## ", 1)[0], re.S)
    test = 'python -m pip install "./bench[test]" && python -m pytest bench/tests'
    assert test in [c.strip() for c in commands]
    assert test in ci.read_text(encoding="utf-8").splitlines()
