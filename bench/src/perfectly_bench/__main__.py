"""``python -m perfectly_bench``: the benchmark's command line (see ``--help``). The
``__main__`` guard matters: with the ``spawn`` and ``forkserver`` start methods, worker
processes import this module again."""

import sys

from perfectly_bench import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m perfectly_bench"))
