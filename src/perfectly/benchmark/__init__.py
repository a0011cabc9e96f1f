"""The threads-vs-processes benchmark engine: ``python -m perfectly bench``.

One module per concept; data flows down this list:

* :mod:`.sizing` — range sizes, calibrated to this machine or given;
* :mod:`.records` — the typed records: scenario, run, measurement, measured record;
* :mod:`.matrix` — the scenarios and groups of a run (variants × backends × workers × …);
* :mod:`.timing` — warm-ups, repeats, alternation, one timed run per call;
* :mod:`.stats` — median, mean ± std dev, IQR, spread; the two-sample test;
* :mod:`.analysis` — speedup, efficiency, imbalance, overheads, crossover, the tests
  the verdict quotes (computed once);
* :mod:`.machine` and :mod:`.results` — what the machine was; the versioned JSON
  document (``perfectly-bench/3``, versions 1 and 2 still read), checked in one place;
* :mod:`.formatting`, :mod:`.table` and :mod:`.verdict` — how numbers read, the
  terminal tables and the plain-language verdict;
* :mod:`.plots` — PNG plots (matplotlib, Agg);
* :mod:`.compare` — two results files, scenario by scenario, with significance;
* :mod:`.baselines` — NumPy and numba versions of the kernels (``--baselines``);
* :mod:`.engine` and :mod:`.cli` — a whole run, and the command line.

The race demo that once lived here is :mod:`perfectly.race` (``bench race`` is an alias).
"""

from perfectly.benchmark.cli import main

__all__ = ["main"]
