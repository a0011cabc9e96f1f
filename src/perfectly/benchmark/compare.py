"""``bench compare A.json B.json``: per scenario, B against A, and whether it is significant.

Scenarios are matched by id. For each pair the line gives both medians, the ratio B/A
("1.23× slower" or "1.10× faster"), and the verdict of a two-sample test on the two
sets of timings (Welch's t-test with scipy, else a permutation test; see
:mod:`.stats`): "not significant" when p ≥ 0.05, as pyperf says it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from perfectly.benchmark import results
from perfectly.benchmark.report import fmt_time
from perfectly.benchmark.stats import ALPHA, Significance, two_sample


@dataclasses.dataclass(frozen=True)
class Row:
    """One scenario in both files."""

    id: str
    label: str
    median_a: float
    median_b: float
    significance: Significance
    same_range: bool

    @property
    def ratio(self) -> float:
        """B's median / A's median: above 1 means B is slower."""
        return self.median_b / self.median_a

    @property
    def change(self) -> str:
        if self.ratio >= 1:
            return f"{self.ratio:.2f}× slower"
        return f"{1 / self.ratio:.2f}× faster"

    @property
    def verdict(self) -> str:
        p = self.significance.pvalue
        if p is None:
            return "too few values to test"
        if not self.significance.significant:
            return f"not significant (p = {p:.2f})"
        return "significant (p < 0.001)" if p < 0.001 else f"significant (p = {p:.3f})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "median_a": self.median_a,
            "median_b": self.median_b,
            "ratio": self.ratio,
            "pvalue": self.significance.pvalue,
            "significant": self.significance.significant,
            "test": self.significance.test,
            "same_range": self.same_range,
        }


def compare_docs(
    a: dict[str, Any], b: dict[str, Any], *, use_scipy: bool = True
) -> tuple[list[Row], list[str], list[str]]:
    """Rows for the scenarios in both documents, and the ids found in only one."""
    in_a = {r["id"]: r for r in a["scenarios"]}
    in_b = {r["id"]: r for r in b["scenarios"]}
    rows = []
    for key, ra in in_a.items():
        rb = in_b.get(key)
        if rb is None:
            continue
        rows.append(
            Row(
                id=key,
                label=f"{ra['group']}: {ra['label']}",
                median_a=float(ra["stats"]["median"]),
                median_b=float(rb["stats"]["median"]),
                significance=two_sample(ra["values"], rb["values"], use_scipy=use_scipy),
                same_range=(ra["lo"], ra["hi"]) == (rb["lo"], rb["hi"]),
            )
        )
    only_a = [k for k in in_a if k not in in_b]
    only_b = [k for k in in_b if k not in in_a]
    return rows, only_a, only_b


def _describe(path: str, doc: dict[str, Any]) -> str:
    m = doc["machine"]
    return (
        f"{path}: {doc['created']}, {m['cpu_model']} ({m['cpus_available']} CPUs), "
        f"{m['python_implementation']} {m['python_version']}"
    )


def render(
    path_a: str, a: dict[str, Any], path_b: str, b: dict[str, Any], *, use_scipy: bool = True
) -> str:
    """The comparison as text."""
    rows, only_a, only_b = compare_docs(a, b, use_scipy=use_scipy)
    lines = [f"A = {_describe(path_a, a)}", f"B = {_describe(path_b, b)}"]
    if not rows:
        lines.append("no scenario is in both files")
        return "\n".join(lines)
    tests = sorted({r.significance.test for r in rows if r.significance.pvalue is not None})
    lines.append(f"test: {', '.join(tests) or 'none'}; significant when p < {ALPHA}")
    lines.append("")
    group = None
    for r in rows:
        head, _, label = r.label.partition(": ")
        if head != group:
            lines.append(head)
            group = head
        warn = "" if r.same_range else "  (ranges differ: fix them with --size)"
        lines.append(
            f"  {label:34} {fmt_time(r.median_a):>9} -> {fmt_time(r.median_b):>9}  "
            f"{r.change:>13}  {r.verdict}{warn}"
        )
    slower = sum(r.significance.significant and r.ratio > 1 for r in rows)
    faster = sum(r.significance.significant and r.ratio < 1 for r in rows)
    lines.append("")
    lines.append(
        f"{len(rows)} scenarios in both: {faster} significantly faster in B, {slower} "
        f"significantly slower, {len(rows) - faster - slower} not significantly different"
    )
    if only_a or only_b:
        lines.append(f"only in A: {len(only_a)} scenarios; only in B: {len(only_b)}")
    return "\n".join(lines)


def main(path_a: str, path_b: str) -> str:
    """Load, validate and compare two results files."""
    a = results.load(Path(path_a))
    b = results.load(Path(path_b))
    return render(path_a, a, path_b, b)
