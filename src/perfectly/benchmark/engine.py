"""One benchmark run, start to finish: size, measure, derive, write, report.

Sections run in a fixed order (scaling, start methods, overheads, messages, crossover,
baselines); the numba baseline goes last because its thread pool stays up afterwards.
Ctrl-C stops the run cleanly: the results file, table and verdict cover what was
measured, the file says ``"complete": false``, and the exit status is 130.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any, TextIO

from perfectly.benchmark import analysis, baselines, plots, report, results
from perfectly.benchmark.matrix import (
    Group,
    Params,
    baseline_group,
    crossover_group,
    message_groups,
    overhead_groups,
    scaling_groups,
    start_method_groups,
)
from perfectly.benchmark.timing import Progress, Runner

INTERRUPTED = 130


def planned_groups(params: Params) -> list[Group]:
    """The fixed groups of a run, in the order they run (crossover is adaptive)."""
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


def _run_directory(output: Path) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = output / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = output / f"{stamp}-{suffix}"
    return path


def run(
    params: Params,
    *,
    output: Path,
    argv: list[str],
    draw_plots: bool = True,
    progress: bool = True,
    out: TextIO | None = None,
) -> tuple[dict[str, Any], Path, int]:
    """Measure ``params``; write results.json (and plots) under a new directory in
    ``output``; print the table and verdict to ``out``. Returns (document, path, status).
    """
    out = sys.stdout if out is None else out
    created = results.now()
    machine = results.machine_info()
    groups = planned_groups(params)
    crossover = params.crossover_sizes if "crossover" in params.sections else ()
    extra = [crossover_group(params, size) for size in crossover]
    base = None
    if params.baselines and "baselines" in params.sections:
        base = baseline_group(params, baselines.available(), baselines.numba_threads())
    runner = Runner(params.warmup, params.repeat, Progress(0, enabled=progress))
    total = sum(runner.runs_for(g) for g in [*groups, *extra, *([base] if base else [])])
    runner.progress.total = total
    complete = True
    try:
        for group in groups:
            runner.run_group(group)
        for i, size in enumerate(crossover):
            records = analysis.scenario_records(runner.measurements)
            skip = analysis.crossover_skip(records, size, final=i >= len(crossover) - 2)
            group = crossover_group(params, size, skip)
            runner.progress.total -= runner.runs_for(extra[i]) - runner.runs_for(group)
            if len(group.scenarios) == 1:  # every contender has settled: no need for serial
                runner.progress.total -= runner.runs_for(group)
                continue
            runner.run_group(group)
        if base is not None:
            runner.run_group(base)
    except KeyboardInterrupt:
        complete = False
    finally:
        runner.progress.close()
    records = analysis.scenario_records(runner.measurements)
    machine["load_average_end"] = results.load_average()
    doc = results.document(
        created=created,
        complete=complete,
        machine=machine,
        parameters={**params.to_dict(), "argv": list(argv)},
        scenarios=records,
        derived=analysis.derive(records),
        verdict=[],
        plots=[],
    )
    doc["verdict"] = report.verdict(doc)
    directory = _run_directory(output)
    directory.mkdir(parents=True)
    if draw_plots and plots.available() and records:
        doc["plots"] = plots.draw(doc, directory)
    path = directory / "results.json"
    results.write(results.validate(doc), path)
    if not complete:
        print("interrupted: writing what was measured", file=sys.stderr)
    print(report.render(doc), file=out)
    print(f"\nresults: {path}", file=out)
    for name in doc["plots"]:
        print(f"plot:    {directory / name}", file=out)
    if draw_plots and not plots.available():
        print(
            "plots:   none (matplotlib is not installed: pip install 'perfectly[bench]')", file=out
        )
    return doc, path, 0 if complete else INTERRUPTED
