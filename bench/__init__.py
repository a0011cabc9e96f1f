"""``python -m bench``: threads or processes? Measured on this machine.

The engine, the scenario matrix, the NumPy/numba baselines and the single-thread kernel
comparison (``--baselines``) included, lives in the package (:mod:`perfectly.benchmark`),
so that ``python -m perfectly bench`` runs the same matrix for anyone who installed the
package. This directory is the repository's entry point to it: ``python -m bench``,
``python -m bench compare A.json B.json``, ``python -m bench report A.json`` and
``python -m bench race`` (an alias of ``python -m perfectly race``), with results under
``bench-results/`` (git-ignored).
"""
