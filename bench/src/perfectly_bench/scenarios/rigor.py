"""How hard a run tries: rounds, the bound on each median's interval, re-runs.

A scenario gets at least ``repeat`` measured rounds, then more until the 95 %
confidence interval of its median lies within ``bound`` of the median (±5 % by
default) or ``max_rounds`` is reached (the scenario is then reported as *capped*). A run
disturbed by other work (see :mod:`.noise`) is run again, at most ``reruns`` times per
scenario; the disturbed runs are kept in the results, apart. The presets follow
pyperf's ``--fast`` and ``--rigorous``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from perfectly_bench.common.stats import relative_width


@dataclasses.dataclass(frozen=True)
class Policy:
    """Rounds, bound and re-runs of one run (one of :data:`PRESETS`, maybe adjusted)."""

    name: str
    repeat: int  # measured rounds at least
    warmup: int  # rounds run first and thrown away
    bound: float  # stop once the median's interval is within ± this share of it
    max_rounds: int  # measured rounds at most
    reruns: int  # disturbed runs re-run per scenario, at most

    def settled(self, values: Sequence[float]) -> bool:
        """Whether ``values`` are enough: the median's interval is within the bound."""
        return len(values) >= self.repeat and relative_width(values) <= self.bound

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: The fewest rounds of a preset: with 4 rounds each, the exact permutation test (what
#: decides a verdict without SciPy) can reach p = 2/70 ≈ 0.029 < ALPHA; with 3 it cannot
#: go below 2/20 = 0.1, so no verdict could name a winner.
FEWEST_ROUNDS = 4

PRESETS = {
    "fast": Policy("fast", repeat=4, warmup=1, bound=0.10, max_rounds=6, reruns=1),
    "default": Policy("default", repeat=5, warmup=1, bound=0.05, max_rounds=15, reruns=3),
    "rigorous": Policy("rigorous", repeat=10, warmup=2, bound=0.02, max_rounds=40, reruns=6),
    # --quick without a preset: its few scenarios, fewer rounds, a looser bound
    "quick": Policy("quick", repeat=4, warmup=1, bound=0.10, max_rounds=6, reruns=1),
}


def policy(
    preset: str | None, quick: bool, repeat: int | None = None, warmup: int | None = None
) -> Policy:
    """The preset's policy (else --quick's, else the default); ``repeat`` fixes the rounds
    at exactly that many (no adaptive rounds), ``warmup`` replaces the warm-ups."""
    chosen = PRESETS[preset or ("quick" if quick else "default")]
    if repeat is not None:
        chosen = dataclasses.replace(chosen, repeat=repeat, max_rounds=repeat)
    if warmup is not None:
        chosen = dataclasses.replace(chosen, warmup=warmup)
    return chosen
