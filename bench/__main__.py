"""``python -m bench [options]``, ``python -m bench compare A B``, ``… report A``, ``… race``.

See ``python -m bench --help``. The ``__main__`` guard matters: with the ``spawn`` and
``forkserver`` start methods, worker processes import this module again.
"""

import sys
from pathlib import Path

try:
    from perfectly_bench import main
except ImportError:  # not installed: the checkout's own
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
    from perfectly_bench import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m bench"))
