"""``bench compare A.json B.json``: per scenario, B against A, and whether it is significant.

Scenarios are matched by id. For each pair the line gives both medians, the ratio B/A
("1.23× slower", "1.10× faster", or "same" when it rounds to 1.00), and the verdict of
a two-sample test on the two sets of timings (Welch's t-test with scipy, else a
permutation test; see :mod:`.stats`): "not significant" when p ≥ 0.05, as pyperf says
it. A scenario whose range differs between the files (auto-sizing chose another size)
is shown but not compared or counted: its times are of different work. Both files are
read whatever their schema version.
"""

from __future__ import annotations

import dataclasses

from perfectly_bench.common.formatting import fmt_time
from perfectly_bench.common.stats import ALPHA, Significance, two_sample
from perfectly_bench.records.records import Record
from perfectly_bench.records.results import Results


@dataclasses.dataclass(frozen=True)
class Row:
    """One scenario in both files."""

    a: Record
    b: Record
    significance: Significance

    @property
    def id(self) -> str:
        return self.a.id

    @property
    def ratio(self) -> float:
        """B's median / A's median: above 1 means B is slower."""
        return self.b.median / self.a.median

    @property
    def same_range(self) -> bool:
        sa, sb = self.a.scenario, self.b.scenario
        return (sa.lo, sa.hi) == (sb.lo, sb.hi)

    @property
    def change(self) -> str:
        if not self.same_range:
            return "not compared"
        if f"{self.ratio:.2f}" == "1.00":
            return "same"
        if self.ratio > 1:
            return f"{self.ratio:.2f}× slower"
        return f"{1 / self.ratio:.2f}× faster"

    @property
    def verdict(self) -> str:
        if not self.same_range:
            return "different ranges: times of different work"
        p = self.significance.pvalue
        if p is None:
            return "too few values to test"
        if not self.significance.significant:
            return f"not significant (p = {p:.2f})"
        return "significant (p < 0.001)" if p < 0.001 else f"significant (p = {p:.3f})"

    @property
    def range_note(self) -> str:
        """Empty when both ran on the same range; else both ranges."""
        if self.same_range:
            return ""
        sa, sb = self.a.scenario, self.b.scenario
        return (
            f"  (ranges differ: A [{sa.lo:,}, {sa.hi:,}), B [{sb.lo:,}, {sb.hi:,}); "
            "fix them with --size)"
        )


def compare_docs(
    a: Results, b: Results, *, use_scipy: bool = True
) -> tuple[list[Row], list[str], list[str]]:
    """Rows for the scenarios in both documents, and the ids found in only one."""
    in_a = {r.id: r for r in a.records}
    in_b = {r.id: r for r in b.records}
    rows = [
        Row(ra, in_b[key], two_sample(ra.values, in_b[key].values, use_scipy=use_scipy))
        for key, ra in in_a.items()
        if key in in_b
    ]
    only_a = [k for k in in_a if k not in in_b]
    only_b = [k for k in in_b if k not in in_a]
    return rows, only_a, only_b


def _describe(path: str, results: Results) -> str:
    m = results.machine
    return (
        f"{path}: {results.created}, {m['cpu_model']} ({m['cpus_available']} CPUs), "
        f"{m['python_implementation']} {m['python_version']}"
    )


def _only(which: str, ids: list[str]) -> list[str]:
    if not ids:
        return []
    return [f"only in {which} ({len(ids)}):"] + [f"  {i}" for i in ids]


def render(path_a: str, a: Results, path_b: str, b: Results, *, use_scipy: bool = True) -> str:
    """The comparison as text."""
    rows, only_a, only_b = compare_docs(a, b, use_scipy=use_scipy)
    lines = [f"A = {_describe(path_a, a)}", f"B = {_describe(path_b, b)}"]
    if not rows:
        lines.append("no scenario is in both files")
        return "\n".join(lines + _only("A", only_a) + _only("B", only_b))
    tests = sorted({r.significance.test for r in rows if r.significance.pvalue is not None})
    lines.append(f"test: {', '.join(tests) or 'none'}; significant when p < {ALPHA}")
    lines.append("")
    group = None
    for r in rows:
        if r.a.group != group:
            lines.append(r.a.group)
            group = r.a.group
        lines.append(
            f"  {r.a.label:34} {fmt_time(r.a.median):>9} -> {fmt_time(r.b.median):>9}  "
            f"{r.change:>13}  {r.verdict}{r.range_note}"
        )
    alike = [r for r in rows if r.same_range]  # pyperf's compare_to refuses the others
    slower = sum(r.significance.significant and r.ratio > 1 for r in alike)
    faster = sum(r.significance.significant and r.ratio < 1 for r in alike)
    unlike = len(rows) - len(alike)
    lines.append("")
    lines.append(
        f"{len(rows)} scenarios in both: {faster} significantly faster in B, {slower} "
        f"significantly slower, {len(alike) - faster - slower} not significantly different"
        + (f", {unlike} not compared (different ranges: fix them with --size)" if unlike else "")
    )
    return "\n".join(lines + _only("A", only_a) + _only("B", only_b))
