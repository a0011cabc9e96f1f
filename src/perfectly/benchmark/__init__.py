"""The threads-vs-processes benchmark engine: ``python -m perfectly bench``.

One module per concept; data flows down this list:

* :mod:`.sizing` — range sizes, calibrated to this machine or given;
* :mod:`.matrix` — the scenarios and groups of a run (kernels × backends × workers × …);
* :mod:`.timing` — warm-ups, repeats, alternation, one timed run per call;
* :mod:`.stats` — median, mean ± std dev, IQR, spread; the two-sample test;
* :mod:`.analysis` — speedup, efficiency, imbalance, overheads, crossover;
* :mod:`.results` — the versioned JSON document (``perfectly-bench/1``) and its check;
* :mod:`.report` — the terminal table and the plain-language verdict;
* :mod:`.plots` — PNG plots (matplotlib, Agg);
* :mod:`.compare` — two results files, scenario by scenario, with significance;
* :mod:`.race` — lost updates with and without a Lock, and a detected deadlock;
* :mod:`.baselines` — NumPy and numba versions of the sieve (``--baselines``);
* :mod:`.engine` and :mod:`.cli` — a whole run, and the command line.
"""

from perfectly.benchmark.cli import main

__all__ = ["main"]
