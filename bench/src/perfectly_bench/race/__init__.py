"""``python -m perfectly race``: race conditions and synchronising threads, made measurable.

Workers run the kernel on their chunks of a range and add each chunk's count of numbers
to one shared tally, so the right total is known: the size of the range. The tally is
a plain attribute shared by threads, or a ``multiprocessing.Value`` shared by processes,
updated with a read-modify-write, with and without a ``Lock``. Unlocked variants are
repeated until updates are lost or ``attempts`` is reached; locked ones are run as often,
so that their times compare like for like, and must always be exact.

Honesty about threads: on CPython with a GIL, ``tally.count += n`` is rarely interrupted
between its read and its write, so lost updates are rare, not absent, which is worse:
they pass tests. To make them show, every variant here yields (``time.sleep(0)``)
between the read and the write, the locked ones inside the lock. Processes run truly in
parallel and need no such help, but get it too, so that the variants stay comparable.

The deadlock demo takes two locks in opposite orders in two threads. Every acquire of
the second lock has a timeout, so the deadlock is *detected* (both threads give up, each
holding what the other needs), never waited out; then the same threads, taking the locks
in one global order, finish.

A demonstration, not a benchmark (``python -m bench race`` is an alias for it):
:mod:`.lost_updates` runs the tally variants, :mod:`.deadlock` the lock-ordering demo,
:mod:`.cli` prints them.
"""

from perfectly_bench.race.cli import main, render
from perfectly_bench.race.lost_updates import RaceResult, Variant, run_race

__all__ = ["RaceResult", "Variant", "main", "render", "run_race"]
