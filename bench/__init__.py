"""``python -m bench``, from a checkout of perfectly: the benchmark (perfectly-bench).

This folder is the perfectly-bench distribution (``bench/pyproject.toml``, the code in
``bench/src/perfectly_bench``) and, as a package, the checkout's short way to run it:
``python -m bench``, ``python -m bench compare A.json B.json``, ``python -m bench report
A.json`` and ``python -m bench race``, with results under ``bench-results/``
(git-ignored). It runs the installed perfectly-bench (``python -m pip install . ./bench``),
else the one in this folder.
"""
