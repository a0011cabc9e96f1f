"""What every figure of the benchmark shares: one colour and line style per backend, the
order of backends, the blank figure, and one legend outside the axes.

matplotlib (a dependency of perfectly-bench) is imported only when a figure is made, so
that a run with ``--no-plots`` never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: One colour per backend, the same in every figure, none two alike.
COLOURS = {
    "serial": "tab:gray",
    "threads": "tab:blue",
    "_thread": "tab:purple",
    "thread-pool": "tab:cyan",
    "processes": "tab:red",
    "process-pool": "tab:orange",
    "dask": "tab:brown",
    "interpreters": "tab:pink",
    "numpy": "tab:olive",
    "numba": "tab:green",
    "numba-njit": "darkgreen",
    "yardstick": "black",
}
#: Line style and marker: threads solid, processes dashed, so print in grey still reads.
MARKS = {"processes": ("--", "o"), "process-pool": ("--", "s"), "thread-pool": ("-", "s")}
#: The order of backends in every figure (rows, bars, legends).
ORDER = tuple(COLOURS)


def colour(backend: str) -> str:
    """The backend's colour (black for one this module does not know)."""
    return COLOURS.get(backend, "black")


def rank(backend: str) -> int:
    """The backend's place in :data:`ORDER` (unknown ones last)."""
    return ORDER.index(backend) if backend in ORDER else len(ORDER)


def figure(width: float, height: float) -> Any:
    """A blank figure on the Agg canvas (no display), laid out by matplotlib."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def legend_outside(fig: Any, axes: Sequence[Any], where: str = "upper") -> None:
    """One legend for the figure, right of the panels (at their top, or their middle
    when ``where`` is ``"center"``, clear of a long title), each label once."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc=f"outside right {where}", fontsize=8)
