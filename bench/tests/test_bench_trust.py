"""A benchmark verdict you can trust: intervals, adaptive rounds, disturbed runs.

The bootstrap intervals are checked against an exact enumeration of every resample of
a small case and against ``scipy.stats.bootstrap``; the adaptive rounds and re-runs are
driven with synthetic timings through the runner (nothing is timed); CPU time of child
processes is checked against what the child itself measured; and a real short bench run
is disturbed on purpose by busy-loop processes, one per CPU.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from perfectly_bench import cli, engine
from perfectly_bench.analyse import analysis
from perfectly_bench.common import stats
from perfectly_bench.measure import noise
from perfectly_bench.measure.machine import machine_info
from perfectly_bench.measure.timing import Progress, Runner
from perfectly_bench.records import results
from perfectly_bench.records.records import Scenario, TimedRun
from perfectly_bench.report import table, verdict
from perfectly_bench.scenarios import rigor
from perfectly_bench.scenarios.matrix import Group

from perfectly._validate import available_cpus

LINUX_PROC = Path("/proc/stat").exists()
FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"
pytestmark = pytest.mark.filterwarnings(FORK_WARNING)


# --------------------------------------------------------------------------------------
# Bootstrap intervals against independent computations
# --------------------------------------------------------------------------------------


def _exact_quantile(sorted_values: list[float], p: float) -> float:
    """The p-quantile of the discrete distribution putting equal weight on each value."""
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


def test_speedup_interval_matches_every_resample_of_a_small_paired_case():
    """Five paired rounds have 5**5 = 3125 equally likely resamples of whole rounds: the
    exact bootstrap distribution of median(serial) / median(contender), enumerated here.
    The interval's ends must sit at its 2.5 % and 97.5 % points (up to the Monte Carlo
    error of 20,000 draws, well inside ±1 % of probability)."""
    serial = [1.00, 1.30, 0.90, 1.10, 1.60]
    contender = [0.50, 0.80, 0.40, 0.70, 0.55]
    ratios = sorted(
        statistics.median(serial[i] for i in pick) / statistics.median(contender[i] for i in pick)
        for pick in itertools.product(range(5), repeat=5)
    )
    low, high = analysis.speedup_interval(serial, contender)
    assert _exact_quantile(ratios, 0.015) <= low <= _exact_quantile(ratios, 0.035)
    assert _exact_quantile(ratios, 0.965) <= high <= _exact_quantile(ratios, 0.985)
    # paired: the rounds' common drift cancels, so the interval is narrower than the
    # one of the same values resampled independently (enumerated the same way)
    independent = sorted(
        statistics.median(serial[i] for i in a) / statistics.median(contender[j] for j in b)
        for a in itertools.product(range(5), repeat=5)
        for b in itertools.product(range(5), repeat=3)
    )
    assert high - low < _exact_quantile(independent, 0.975) - _exact_quantile(independent, 0.025)


def test_a_single_round_or_equal_rounds_give_a_point_interval():
    assert analysis.speedup_interval([2.0], [1.0]) == (2.0, 2.0)
    assert analysis.speedup_interval([3.0, 3.0, 3.0], [1.5, 1.5, 1.5]) == (2.0, 2.0)
    assert stats.median_interval([0.25] * 4) == (0.25, 0.25)


def test_intervals_are_reproducible_from_the_values_alone():
    rng = np.random.default_rng(7)
    base, values = list(rng.lognormal(0, 0.1, 8)), list(rng.lognormal(-0.5, 0.1, 8))
    assert analysis.speedup_interval(base, values) == analysis.speedup_interval(base, values)
    assert stats.median_interval(values) == stats.median_interval(list(values))


@pytest.mark.parametrize("paired", [True, False])
def test_speedup_interval_agrees_with_scipy_bootstrap(paired):
    """scipy's percentile bootstrap (its own resampling and random numbers) on 30 rounds."""
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2024)
    serial = rng.lognormal(0.0, 0.08, 30)
    contender = serial / 1.8 * rng.lognormal(0.0, 0.05, 30) if paired else None
    if contender is None:
        contender = rng.lognormal(np.log(1 / 1.8), 0.08, 24)

    def ratio(a, b, axis=-1):
        return np.median(a, axis=axis) / np.median(b, axis=axis)

    theirs = scipy_stats.bootstrap(
        (serial, contender),
        ratio,
        paired=paired,
        vectorized=True,
        n_resamples=20_000,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(1),
    ).confidence_interval
    low, high = analysis.speedup_interval(list(serial), list(contender))
    assert low == pytest.approx(theirs.low, rel=0.01)
    assert high == pytest.approx(theirs.high, rel=0.01)
    assert low < 1.8 < high


def test_median_interval_agrees_with_scipy_bootstrap():
    scipy_stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(3).lognormal(-1.0, 0.1, 25)
    theirs = scipy_stats.bootstrap(
        (values,),
        np.median,
        n_resamples=20_000,
        method="percentile",
        random_state=np.random.default_rng(5),
    ).confidence_interval
    low, high = stats.median_interval(list(values))
    assert low == pytest.approx(theirs.low, rel=0.01)
    assert high == pytest.approx(theirs.high, rel=0.01)


@pytest.mark.parametrize(
    "bad", [[], [1.0, -1.0], [0.0], [float("nan")], [float("inf")], [[1.0, 2.0]]]
)
def test_intervals_reject_what_is_not_timings(bad):
    with pytest.raises(ValueError, match="seconds"):
        analysis.speedup_interval(bad, [1.0])
    with pytest.raises(ValueError, match="seconds"):
        analysis.speedup_interval([1.0], bad)
    with pytest.raises(ValueError, match="level"):
        analysis.speedup_interval([1.0], [1.0], level=1.5)


# --------------------------------------------------------------------------------------
# Adaptive rounds and re-runs, driven with synthetic timings through the runner
# --------------------------------------------------------------------------------------


def _group(*backends: str) -> Group:
    scenarios = [
        Scenario(
            "scaling", "compiled-nogil", b, 1 if b == "serial" else 2, "sieve", "dynamic", 1, 99
        )
        for b in backends
    ]
    return Group("scaling", "synthetic", tuple(scenarios))


class Synthetic:
    """A ``run`` for the runner: each backend's next time from its list (cycled), and
    disturbed while ``disturb`` says so for that backend's call number."""

    def __init__(self, times: dict[str, list[float]], disturb=lambda backend, call: False):
        self.times, self.disturb = times, disturb
        self.calls: dict[str, int] = {b: 0 for b in times}

    def __call__(self, scenario: Scenario) -> TimedRun:
        b = scenario.backend
        n = self.calls[b]
        self.calls[b] += 1
        wall = self.times[b][n % len(self.times[b])]
        why = ("other work took 60% of the CPUs",) if self.disturb(b, n) else ()
        return TimedRun(wall, 0.0, 0.0, (wall,), (1,), 1, None, disturbed=why)


POLICY = rigor.Policy("test", repeat=4, warmup=1, bound=0.05, max_rounds=10, reruns=2)


def _runner(policy=POLICY) -> Runner:
    return Runner(policy, Progress(0, enabled=False))


def test_steady_timings_stop_at_the_minimum_rounds():
    fake = Synthetic({"serial": [1.0], "threads": [0.5]})
    serial, threads = _runner().run_group(_group("serial", "threads"), fake)
    assert len(serial.runs) == len(threads.runs) == POLICY.repeat
    assert len(serial.warmups) == POLICY.warmup
    assert not serial.capped and not threads.capped
    assert [r.round for r in threads.runs] == [0, 1, 2, 3]


def test_noisy_timings_run_to_the_cap_and_are_reported():
    """Times alternating 1 and 2 s never give a median within ±5 %: the noisy contender
    and its serial reference go to the cap; the steady one stops at the minimum."""
    fake = Synthetic({"serial": [1.0, 1.02], "threads": [0.5], "processes": [0.5, 1.0]})
    group = _group("serial", "threads", "processes")
    serial, threads, procs = _runner().run_group(group, fake)
    assert len(procs.runs) == POLICY.max_rounds and procs.capped
    assert len(serial.runs) == POLICY.max_rounds and not serial.capped  # kept for the pairs
    assert len(threads.runs) == POLICY.repeat and not threads.capped
    rows = analysis.records([serial, threads, procs])
    assert analysis.noise(rows)["capped"] == [procs.scenario.id]
    # the speedup pairs the rounds both ran: every round of the contender
    (row,) = [r for r in rows if r.scenario.backend == "processes"]
    paired = analysis._paired(serial, procs)
    assert len(paired[0]) == len(paired[1]) == POLICY.max_rounds
    assert row.speedup_interval == analysis.speedup_interval(*paired)


def test_timings_that_settle_stop_as_soon_as_the_bound_is_met():
    """Noisy at first, then steady: the rounds stop at the first count whose median is
    known within the bound (the rule, applied here by hand to the prefixes)."""
    noisy = [1.0, 1.6, 0.7, 1.3, 1.0, 1.0, 1.0, 1.0, 1.01, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    fake = Synthetic({"serial": [1.0], "threads": [9.0, *noisy]})  # 9.0: the warm-up
    _, threads = _runner(rigor.Policy("t", 4, 1, 0.05, 15, 0)).run_group(
        _group("serial", "threads"), fake
    )
    expected = next(k for k in range(4, 16) if stats.relative_width(noisy[:k]) <= 0.05 or k == 15)
    assert 4 < expected < 15  # the case exercises the adaptive rounds
    assert threads.values == noisy[:expected] and not threads.capped


def test_fixed_repeat_means_exactly_that_many_rounds():
    policy = rigor.policy(None, quick=False, repeat=3)
    assert policy.max_rounds == policy.repeat == 3
    fake = Synthetic({"serial": [1.0, 2.0], "threads": [0.5, 1.0]})
    serial, threads = _runner(policy).run_group(_group("serial", "threads"), fake)
    assert len(serial.runs) == len(threads.runs) == 3 and serial.capped and threads.capped


@pytest.mark.parametrize(
    ("policy", "says"),
    [
        (rigor.policy(None, quick=False, repeat=3), "ran the 3 rounds asked for"),
        (POLICY, "reached the round cap"),
    ],
)
def test_the_caveat_on_unsettled_medians_says_why_the_rounds_stopped(policy, says):
    """Times alternating 1 and 2 s never settle: with --repeat the rounds stop because
    that many were asked for, not at a cap, and the verdict's caveat says which."""
    fake = Synthetic({"serial": [1.0, 2.0], "threads": [0.5, 1.0]})
    rows = analysis.records(_runner(policy).run_group(_group("serial", "threads"), fake))
    doc = results.Results(
        created=results.now(),
        complete=True,
        machine=machine_info(),
        parameters={"policy": policy.to_json()},
        records=rows,
        derived=analysis.derive(rows, 2),
    )
    (line,) = [c for c in verdict._noise_caveats(doc) if "(marked '~')" in c]
    assert says in line, line


def test_disturbed_runs_are_rerun_within_the_budget_and_kept_apart():
    """The first two threads runs are disturbed: both are re-run (budget 2) and kept in
    ``rejected``; later disturbed runs, past the budget, stay, marked disturbed."""
    fake = Synthetic(
        {"serial": [1.0], "threads": [0.5]},
        disturb=lambda b, n: b == "threads" and n in (1, 2, 5, 6),  # call 0 is the warm-up
    )
    serial, threads = _runner().run_group(_group("serial", "threads"), fake)
    assert len(threads.rejected) == POLICY.reruns
    assert all(r.disturbed for r in threads.rejected)
    assert [r.round for r in threads.rejected] == [0, 0]
    assert len(threads.runs) == POLICY.repeat
    assert sum(bool(r.disturbed) for r in threads.runs) == 2
    assert not serial.rejected
    rows = analysis.records([serial, threads])
    summary = analysis.noise(rows)
    assert summary["reruns"] == 2 and summary["disturbed"] == 2
    assert summary["rerun_scenarios"] == [threads.scenario.id]


def test_presets_order_their_effort():
    fast, default, rigorous = (rigor.PRESETS[n] for n in ("fast", "default", "rigorous"))
    assert fast.repeat < default.repeat < rigorous.repeat
    assert fast.max_rounds < default.max_rounds < rigorous.max_rounds
    assert fast.bound > default.bound > rigorous.bound
    parser = cli.run_parser("bench")
    sizes = ["--size", "sieve=2000,trial=500,python-sieve=200,python-trial=100"]
    for flag, name in (("--fast", "fast"), ("--rigorous", "rigorous")):
        params = cli.params_from(parser.parse_args([*sizes, flag]))
        assert (params.repeat, params.warmup) == (
            rigor.PRESETS[name].repeat,
            rigor.PRESETS[name].warmup,
        )
    assert "--fast" in parser.format_help() and "--rigorous" in parser.format_help()


def test_fast_and_rigorous_together_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.run_parser("bench").parse_args(["--fast", "--rigorous"])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------
# CPU time of child processes, against what the child measured itself
# --------------------------------------------------------------------------------------


def _burn(seconds: float, conn) -> None:
    while time.process_time() < seconds:
        pass
    conn.send(time.process_time())
    conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="child CPU time is not seen on Windows")
@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_cpu_time_counts_child_processes(method):
    """A child (a grandchild under forkserver) burns CPU and reports its own CPU time:
    the snapshots around it must count that much, not the wall time it took."""
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # start the server first: its own start-up is not the child's
        warm = ctx.Process(target=time.sleep, args=(0,))
        warm.start()
        warm.join()
    before = noise.Snapshot.now()
    mine, theirs = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_burn, args=(0.3, theirs))
    child.start()
    theirs.close()
    reported = mine.recv()
    child.join()
    seen = noise.cpu_seconds(before, noise.Snapshot.now())
    assert reported >= 0.3
    # the child's interpreter start-up (spawn: imports) is its CPU time too
    assert reported - 0.02 <= seen <= reported + 1.0


# --------------------------------------------------------------------------------------
# A real bench run, disturbed on purpose
# --------------------------------------------------------------------------------------


#: Starts a busy loop in a process of its own and exits: the loop is then no child of the
#: benchmark's process (whose children's CPU time counts as the benchmark's own), but
#: other work, as a job in another terminal would be.
LAUNCH_A_LOOP = (
    "import subprocess, sys; "
    "loop = subprocess.Popen([sys.executable, '-c', 'while True: pass'], start_new_session=True, "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(loop.pid)"
)


def _busy_loops(count: int) -> list[int]:
    """The pids of ``count`` processes spinning at normal priority, not children of this
    one, each seen to be on a CPU."""
    pids = [
        int(subprocess.run([sys.executable, "-c", LAUNCH_A_LOOP], capture_output=True,
                           text=True, check=True, timeout=60).stdout)
        for _ in range(count)
    ]  # fmt: skip
    for pid in pids:  # wait until each has used some CPU: it is running, not starting
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[11]) + int(fields[12]) >= 5:  # utime + stime, clock ticks
                break
            time.sleep(0.02)
    return pids


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(not LINUX_PROC, reason="other work is seen through /proc/stat (Linux)")
def test_busy_loops_started_during_a_run_are_detected_and_name_no_winner(tmp_path):
    """One busy loop per CPU starts after the first round of a real bench run. Every run
    made while they spin must be found disturbed (each takes at least a third of the
    CPUs away, the limit is a quarter), each scenario's first such run is re-run, and
    the verdict names no winner between threads and processes.

    Not flaky under outside load: more load only makes more runs disturbed, and every
    assertion holds the more so; the runs are long enough (≥ 0.2 s on 2 CPUs, at 2.4 ns a
    number serial on a fast machine; MIN_TICKS needs 0.1 s) for
    /proc/stat to judge."""
    cpus = available_cpus()
    argv = [
        "--sections", "scaling", "--variants", "compiled-nogil", "--methods", "sieve",
        "--backends", "serial,threads,processes", "--workers", str(cpus),
        "--size", "sieve=100000000", "--start-methods", "fork",
        "--no-plots", "--no-progress", "--output", str(tmp_path),
    ]  # fmt: skip
    if "fork" not in multiprocessing.get_all_start_methods():
        argv[argv.index("fork")] = multiprocessing.get_start_method()
    params = cli.params_from(cli.run_parser("bench").parse_args(argv))
    policy = rigor.Policy("test", repeat=3, warmup=0, bound=0.05, max_rounds=3, reruns=1)
    loops: list[int] = []
    during: list[TimedRun] = []
    calls = 0

    def run_one(scenario: Scenario) -> TimedRun:
        nonlocal calls, loops
        calls += 1
        if calls == 4:  # the first round (3 scenarios) is done: disturb the rest
            loops = _busy_loops(cpus)
        from perfectly_bench.measure import timing

        result = timing.run_once(scenario)
        if loops:
            during.append(result)
        return result

    try:
        done, path, status = engine.run(
            params, output=tmp_path, argv=argv, out=io.StringIO(), policy=policy, run_one=run_one
        )
    finally:
        for pid in loops:
            os.kill(pid, signal.SIGKILL)
    assert status == 0 and loops and len(during) >= 6
    assert all(r.disturbed for r in during), [(r.wall, r.cpu, r.others) for r in during]
    assert all("other work took" in " ".join(r.disturbed) for r in during)
    doc = json.loads(path.read_text())
    assert results.problems(doc) == []
    assert doc["derived"]["noise"]["reruns"] == 3  # one per scenario: the budget
    for sc in doc["scenarios"]:
        assert len(sc["rejected"]) == 1 and sc["rejected"][0]["disturbed"]
        assert sum(bool(r["disturbed"]) for r in sc["runs"]) >= 2  # rounds 2 and 3
    (line,) = [v for v in done.verdict if v.startswith("compiled nogil (")]
    assert "inconclusive on this machine right now" in line, line
    assert "were disturbed by other work" in line, line
    assert " win" not in line and "faster" not in line
    header = table.table(done)
    assert re.search(r"\d+ disturbed runs? re-run", header) and "other work took" in header


# --------------------------------------------------------------------------------------
# The results file: version 3's fields, and version 2 still read
# --------------------------------------------------------------------------------------


def _written(tmp_path) -> tuple[dict, Path]:
    fake = Synthetic({"serial": [1.0, 1.1], "threads": [0.5, 0.52]}, lambda b, n: n == 2)
    runner = _runner()
    rows = analysis.records(runner.run_group(_group("serial", "threads"), fake))
    done = results.Results(
        created=results.now(),
        complete=True,
        machine=json.loads(json.dumps(machine_info())),
        parameters={
            **{key: [] for key in ("variants", "backends", "workers", "methods", "argv")},
            **{key: [] for key in ("schedules", "start_methods", "sections")},
            **{"sizes": {}, "repeat": 4, "warmup": 1, "baselines": False, "quick": False},
            **{"cpus": 2, "policy": POLICY.to_json()},
        },
        records=rows,
        derived=analysis.derive(rows, 2),
    )
    path = tmp_path / "results.json"
    results.write(done, path)
    return json.loads(path.read_text()), path


def test_version_3_fields_are_written_and_read_back(tmp_path):
    doc, path = _written(tmp_path)
    assert doc["schema"] == "perfectly-bench/3"
    assert doc["machine"]["cpu_time_covers"]
    assert doc["parameters"]["policy"]["bound"] == POLICY.bound
    serial, threads = doc["scenarios"]
    assert serial["speedup_interval"] is None  # the reference itself
    low, high = threads["speedup_interval"]
    assert low <= threads["speedup"] <= high
    assert len(threads["median_interval"]) == 2
    assert {"round", "cpu", "cpu_ratio", "steal", "others", "disturbed"} <= set(threads["runs"][0])
    assert len(threads["rejected"]) == 1 and threads["rejected"][0]["disturbed"]
    assert set(doc["derived"]["noise"]) >= {"reruns", "disturbed", "capped", "others", "steal"}
    loaded = results.load(path)
    assert json.dumps(loaded.to_json()) == json.dumps(results.Results.from_json(doc).to_json())
    (t,) = [r for r in loaded.records if r.scenario.backend == "threads"]
    assert t.speedup_interval == (low, high) and len(t.measurement.rejected) == 1


def test_version_2_files_are_still_read(tmp_path):
    doc, _ = _written(tmp_path)
    old = {**doc, "schema": "perfectly-bench/2"}
    old["derived"] = {k: v for k, v in doc["derived"].items() if k != "noise"}
    old["parameters"] = {k: v for k, v in doc["parameters"].items() if k != "policy"}
    for sc in old["scenarios"]:
        for key in ("rejected", "conditions", "capped", "speedup_interval", "median_interval"):
            del sc[key]
        for run in sc["runs"]:
            for key in ("round", "cpu", "cpu_ratio", "steal", "others", "disturbed"):
                del run[key]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(old))
    loaded = results.load(path)
    assert all(r.speedup_interval is None for r in loaded.records)
    text = table.render(loaded)
    assert "threads × 2" in text and "while it ran" not in text  # nothing claimed


def test_speedup_and_its_interval_come_from_the_same_rounds():
    """The serial reference runs to the cap for a noisy contender, and the machine got
    twice as slow after round 3: the steady contender (4 rounds) is compared with the
    serial rounds it ran beside (speedup 2), not with the serial median over all ten
    (which would say 4, outside its own interval)."""
    serial = [1.0, 1.0, 1.0, 1.0, 1.0, *[2.0] * 6]  # a warm-up, then ten rounds
    fake = Synthetic({"serial": serial, "threads": [0.5], "processes": [0.5, 1.0]})
    rows = analysis.records(_runner().run_group(_group("serial", "threads", "processes"), fake))
    (threads,) = [r for r in rows if r.scenario.backend == "threads"]
    assert len(threads.measurement.runs) == POLICY.repeat
    assert threads.speedup == pytest.approx(2.0)
    assert threads.speedup_interval == pytest.approx((2.0, 2.0))
    for row in rows:
        if row.speedup_interval is not None:
            low, high = row.speedup_interval
            assert low <= row.speedup <= high, row.scenario.id


@pytest.mark.parametrize("name", sorted(rigor.PRESETS))
def test_every_preset_takes_rounds_enough_to_name_a_winner_without_scipy(name):
    """--quick took 3 rounds, and without SciPy the exact permutation test on 3 against 3
    cannot go below p = 0.1: every line read "inconclusive … too few runs" (2026-12-05)."""
    rounds = rigor.PRESETS[name].repeat
    assert rounds >= rigor.FEWEST_ROUNDS
    apart = stats.permutation_test([1.0 + i / 100 for i in range(rounds)], [2.0] * rounds)
    assert apart.testable and apart.significant, apart


def test_costs_at_or_below_zero_are_below_resolution_not_results():
    """ "Sending a chunk: −27.0 µs" and "threads 0.00 µs" were printed as results."""
    derived = {
        "overheads": [
            {"backend": "threads", "start_method": None, "workers": 2, "cost": -3e-6},
            {"backend": "processes", "start_method": "fork", "workers": 2, "cost": 0.019},
        ],
        "messages": [
            {"backend": "serial", "start_method": None, "per_chunk": 5e-5, "message": 0.0},
            {"backend": "processes", "start_method": "fork", "per_chunk": 1e-4, "message": -27e-6},
        ],
    }
    start, send = verdict._overhead_verdict(derived, 2)
    assert "threads below this run's resolution" in start and "19.0 ms" in start
    assert "processes (fork) below this run's resolution" in send
    assert "-" not in start + send and "−" not in start + send and "0.00" not in start


@pytest.fixture(scope="module")
def quick_doc(tmp_path_factory):
    """A real, tiny --quick run's results document."""
    from perfectly_bench.cli import main

    out = tmp_path_factory.mktemp("quick")
    argv = ["--quick", "--size", "sieve=20000,trial=3000,python-sieve=400,python-trial=300"]
    flags = ["--repeat", "2", "--warmup", "0", "--no-plots", "--no-progress"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main([*argv, *flags, "--output", str(out)]) == 0
    (path,) = out.glob("*/results.json")
    return json.loads(path.read_text())


def _python_threads(doc, *, disturbed, startup_cost):
    """The run with its kept runs marked (un)disturbed and the measured start-up set:
    what the verdict's reasons must follow from; and its pure-Python threads record."""
    doc = json.loads(json.dumps(doc))
    for scenario in doc["scenarios"]:
        for run in scenario["runs"]:
            run["disturbed"] = ["other work"] if disturbed else []
    for entry in doc["derived"]["overheads"]:
        entry["cost"] = startup_cost
    done = results.Results.from_json(doc)
    rows = analysis.main_rows(done.records)
    return done, analysis.pick(rows, variant="python", backend="threads", workers=done.cpus)


def test_no_speedup_is_blamed_on_start_up_only_where_the_numbers_say_so(quick_doc):
    """Under load it said "the range is too small for the start-up" of 0.25 s of work
    against 24 ms of start-up, with other work at 80 % of the CPUs (2026-12-05)."""
    done, threads = _python_threads(quick_doc, disturbed=True, startup_cost=1e-9)
    assert "disturbed by other work" in verdict._why_not_faster(done, threads)
    done, threads = _python_threads(quick_doc, disturbed=False, startup_cost=1e-9)
    assert "far more than starting the workers" in verdict._why_not_faster(done, threads)
    done, threads = _python_threads(quick_doc, disturbed=False, startup_cost=1.0)
    assert "too small for the start-up" in verdict._why_not_faster(done, threads)


def test_plot_titles_say_what_was_measured(quick_doc):
    """speedup.png said "median of 3 runs" when scenarios ran 3-15 rounds, and busy.png an
    imbalance other than the table's (2026-12-05)."""
    pytest.importorskip("matplotlib")
    from perfectly_bench.report import plots

    done = results.Results.from_json(json.loads(json.dumps(quick_doc)))
    fig = plots.speedup_figure(done)
    title = fig._suptitle.get_text()
    scaling = [r for r in done.records if r.scenario.section == "scaling" and r.speedup]
    counts = sorted({len(r.values) for r in scaling})
    rounds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    assert f"median of {rounds} rounds" in title, title
    assert f"at {done.cpus} workers" in title  # --quick: one worker count
    busy = plots.busy_figure(done)
    if busy is not None:
        labels = [t.get_text() for ax in busy.axes for t in ax.get_legend().get_texts()]
        trial = [
            r
            for r in done.records
            if r.scenario.section == "scaling" and r.scenario.method == "trial"
        ]
        shown = {f"{r.imbalance:.2f}" for r in trial if r.imbalance is not None}
        assert labels and all(
            any(f"imbalance {v} (median of runs)" in t for v in shown) for t in labels
        )


@pytest.mark.parametrize("disturbed", [False, True])
def test_a_comparison_across_interpreters_carries_their_disturbance(quick_doc, disturbed, tmp_path):
    """--python runs the interpreters one after the other; load fell from 8.5 to 3.8
    between the halves and the headline named the faster interpreter with no caveat."""
    import dataclasses

    from perfectly_bench import pythons
    from perfectly_bench.report import across

    here = pythons.probe(sys.executable)
    halves = []
    for label, marked in (("3.11", False), ("3.13", disturbed)):
        doc = json.loads(json.dumps(quick_doc))
        for scenario in doc["scenarios"]:
            for run in scenario["runs"]:
                run["disturbed"] = ["other work took 80 %"] if marked else []
        halves.append((dataclasses.replace(here, label=label), results.Results.from_json(doc)))
    first = halves[0][1]
    base = results.Results(
        "2026-12-05T00:00:00+00:00", True, first.machine, first.parameters, [], {}
    )
    merged, _ = pythons.merge(halves, base)
    if importlib.util.find_spec("matplotlib") is not None:  # the plot draws either way
        assert across.draw(merged, tmp_path) == ["interpreters.png"]
        assert (tmp_path / "interpreters.png").stat().st_size > 0
    caveat = across._halves_caveat(merged)
    if disturbed:
        assert "ran one after the other" in caveat and "100% of 3.13's" in caveat
        assert "0% of 3.11's" in caveat
    else:
        assert caveat == ""


def test_the_threads_or_processes_plot_shows_the_verdict_and_disturbance(quick_doc):
    """threads-or-processes.png did not show that a run was disturbed or inconclusive."""
    pytest.importorskip("matplotlib")
    from perfectly_bench.report import plots

    done, _ = _python_threads(quick_doc, disturbed=True, startup_cost=1e-3)
    fig = plots.verdict_figure(done)
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    assert any(t == "pure Python\ninconclusive" for t in ticks), ticks
    hatched = [p for ax in fig.axes for p in ax.patches if p.get_hatch()]
    assert hatched, "disturbed bars are hatched"
    assert "hatched: most runs disturbed" in fig._suptitle.get_text()
    done, _ = _python_threads(quick_doc, disturbed=False, startup_cost=1e-3)
    fig = plots.verdict_figure(done)
    assert not [p for ax in fig.axes for p in ax.patches if p.get_hatch()]
