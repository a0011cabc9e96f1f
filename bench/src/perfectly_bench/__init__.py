"""perfectly-bench: threads or processes? Measured on this machine, over perfectly's kernel.

The benchmark of the ``perfectly`` package, as a distribution of its own (the library
ships none of it), laid out by stage; each stage imports only the stages above it in
this list, and the library only through its public API:

* :mod:`.common` — how numbers read, and the summary statistics of timings;
* :mod:`.records` — the typed records of a run, and the versioned results file
  (``perfectly-bench/3``; versions 1 and 2 still read);
* :mod:`.scenarios` — the scenario matrix, the range sizes, the presets;
* :mod:`.measure` — timing, the noise of each run, the machine, the baselines;
* :mod:`.analyse` — derived figures with intervals, and the model fitted to them;
* :mod:`.report` — the table, the verdict, ``compare``, the plots;
* :mod:`.engine`, :mod:`.pythons` and :mod:`.cli` — a whole run, a run across several
  Python interpreters, and the command line (``python -m perfectly_bench``, the
  ``perfectly-bench`` command, ``python -m bench`` from a checkout, and
  ``python -m perfectly bench``);
* :mod:`.race` — the race-condition and deadlock demo (``python -m perfectly race``).
"""

from perfectly_bench.cli import main

__all__ = ["main"]
