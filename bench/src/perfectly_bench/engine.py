"""One benchmark run, start to finish: size, measure, derive, write, report.

Sections run in a fixed order (scaling, start methods, overheads, messages, crossover,
kernels, baselines); the numba baseline goes last because its thread pool stays up
afterwards.
Ctrl-C stops the run cleanly: the results file, table and verdict cover what was
measured, the file says ``"complete": false``, and the exit status is 130.
"""

from __future__ import annotations

import dataclasses
import datetime
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from perfectly import VerificationError
from perfectly_bench.analyse import analysis
from perfectly_bench.measure import baselines, machine
from perfectly_bench.measure.timing import Progress, Runner
from perfectly_bench.records import pyperf_json, results
from perfectly_bench.records.records import Scenario, TimedRun
from perfectly_bench.records.results import Results
from perfectly_bench.report import html, plots, table, verdict
from perfectly_bench.scenarios import rigor
from perfectly_bench.scenarios.matrix import (
    Group,
    Params,
    baseline_group,
    crossover_group,
    kernel_groups,
    message_groups,
    overhead_groups,
    scaling_groups,
    start_method_groups,
)
from perfectly_bench.scenarios.rigor import Policy

INTERRUPTED = 130


def planned_groups(params: Params) -> list[Group]:
    """The fixed groups of a run before the crossover, in the order they run."""
    builders = {
        "scaling": scaling_groups,
        "start-methods": start_method_groups,
        "overhead": overhead_groups,
        "messages": message_groups,
    }
    groups: list[Group] = []
    for section, build in builders.items():
        if section in params.sections:
            groups += build(params)
    return groups


def baseline_groups(params: Params) -> list[Group]:
    """The kernels and baselines sections (with --baselines), in the order they run:
    numba's parallel baseline last, because its thread pool stays up afterwards."""
    if not params.baselines:
        return []
    available = baselines.available()
    groups = kernel_groups(params, available) if "kernels" in params.sections else []
    if "baselines" in params.sections:
        base = baseline_group(params, available, baselines.numba_threads())
        groups += [base] if base else []
    return groups


def check_output(output: Path) -> None:
    """Try the results folder now (made, a scratch file written, and what was made for the
    try removed again), so that a run whose results could not be written stops before it
    measures; ``ValueError`` says why."""
    made = []
    try:
        for folder in [*reversed(output.parents), output]:
            if not folder.exists():
                folder.mkdir()
                made.append(folder)
        with tempfile.TemporaryFile(dir=output):
            pass
    except OSError as exc:
        raise ValueError(
            f"--output {output}: results cannot be written there ({exc.strerror or exc})"
        ) from None
    finally:
        for folder in reversed(made):
            folder.rmdir()


def run_directory(output: Path) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = output / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = output / f"{stamp}-{suffix}"
    return path


def _crossover(
    runner: Runner,
    params: Params,
    sizes: tuple[int, ...],
    run_one: Callable[[Scenario], TimedRun] | None = None,
) -> None:
    """The crossover groups, each size skipping the contenders already settled."""
    planned = [crossover_group(params, size) for size in sizes]
    for i, size in enumerate(sizes):
        rows = analysis.records(runner.measurements)
        skip = analysis.crossover_skip(rows, size, final=i >= len(sizes) - 2)
        group = crossover_group(params, size, skip)
        runner.progress.total -= runner.runs_for(planned[i]) - runner.runs_for(group)
        if len(group.scenarios) == 1:  # every contender has settled: no need for serial
            runner.progress.total -= runner.runs_for(group)
            continue
        runner.run_group(group, run_one)


def default_policy(params: Params) -> Policy:
    """--quick's policy or the default one, with the rounds and warm-ups of ``params``."""
    chosen = rigor.policy(None, params.quick)
    rounds = max(chosen.max_rounds, params.repeat)
    return dataclasses.replace(
        chosen, repeat=params.repeat, warmup=params.warmup, max_rounds=rounds
    )


def measure(
    params: Params,
    progress: bool,
    policy: Policy | None = None,
    run_one: Callable[[Scenario], TimedRun] | None = None,
) -> tuple[Runner, str | None]:
    """Run every group of ``params``, each scenario by ``run_one`` (default
    :func:`.timing.run_once`): (the runner with its measurements, None if every group
    ran, else why it stopped: Ctrl-C, or a contender whose answer failed its check)."""
    groups = planned_groups(params)
    crossover = params.crossover_sizes if "crossover" in params.sections else ()
    extra = [crossover_group(params, size) for size in crossover]
    later = baseline_groups(params)
    runner = Runner(policy or default_policy(params), Progress(0, enabled=progress))
    runner.progress.total = sum(runner.runs_for(g) for g in [*groups, *extra, *later])
    try:
        for group in groups:
            runner.run_group(group, run_one)
        _crossover(runner, params, crossover, run_one)
        for group in later:
            runner.run_group(group, run_one)
    except KeyboardInterrupt:
        return runner, "interrupted"
    except VerificationError as exc:  # a wrong answer ends the run, never a timing of it
        return runner, f"stopped: {exc}"
    finally:
        runner.progress.close()
    return runner, None


def run(
    params: Params,
    *,
    output: Path,
    argv: list[str],
    draw_plots: bool = True,
    progress: bool = True,
    out: TextIO | None = None,
    policy: Policy | None = None,
    run_one: Callable[[Scenario], TimedRun] | None = None,
) -> tuple[Results, Path, int]:
    """Measure ``params`` (rounds and re-runs as ``policy`` says, each run by ``run_one``:
    see :func:`measure`); write results.json, the plots and report.html under a new
    directory in ``output``; print the table and verdict to ``out``. Returns (results,
    path, status).
    """
    out = sys.stdout if out is None else out
    policy = policy or default_policy(params)
    created, about, start = results.now(), machine.machine_info(), machine.state()
    runner, stopped = measure(params, progress, policy, run_one)
    complete = stopped is None
    rows = analysis.records(runner.measurements)
    seen = machine.conditions(start, machine.state())
    about.update(load_average_end=seen["load_after"], steal=seen["steal"])
    done = Results(
        created=created,
        complete=complete,
        machine=about,
        parameters={**params.to_json(), "policy": policy.to_json(), "argv": list(argv)},
        records=rows,
        derived=analysis.derive(rows, params.cpus),
    )
    done.verdict = verdict.verdict(done)
    directory = run_directory(output)
    directory.mkdir(parents=True)
    if draw_plots and plots.available() and rows:
        done.plots = plots.draw(done, directory)
    path = directory / "results.json"
    results.write(done, path)
    measurements = pyperf_json.write(done, directory / pyperf_json.FILENAME)
    page = html.write(done, directory)
    if stopped is not None:
        print(f"{stopped}: writing what was measured", file=sys.stderr)
    _print(done, path, page, measurements, draw_plots, out)
    status = 0 if complete else INTERRUPTED if stopped == "interrupted" else 1
    return done, path, status


def _print(
    done: Results,
    path: Path,
    page: Path,
    measurements: Path | None,
    draw_plots: bool,
    out: TextIO,
) -> None:
    print(table.render(done), file=out)
    print(f"\nresults: {path}", file=out)
    for name in done.plots:
        print(f"plot:    {path.parent / name}", file=out)
    print(f"report:  {page}", file=out)
    if measurements is not None:
        print(f"pyperf:  {measurements}", file=out)
    if done.parameters["baselines"] and (why := baselines.missing()):
        print(f"numba:   skipped, {why}", file=out)
    if draw_plots and not plots.available():
        print(
            "plots:   none (matplotlib is not installed: pip install matplotlib; "
            "perfectly-bench depends on it)",
            file=out,
        )
