"""``python -m perfectly_bench.race``: the same as ``python -m perfectly race``.

The ``__main__`` guard matters: with the ``spawn`` and ``forkserver`` start methods,
worker processes import the main module again.
"""

import sys

from perfectly_bench.race import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m perfectly_bench.race"))
