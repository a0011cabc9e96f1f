"""Shared fixtures, constants and helpers for the perfectly test suite.

Fixtures: ``kernels`` and a ``brute`` namespace of independent brute-force helpers.
Constants and helpers that test modules import (``from conftest import …``): the
backend groupings, ``COMPILED``, ``run_cli`` and the /proc helpers that find worker
processes. Nothing in this file changes pytest's behaviour globally apart from
registering the ``slow`` marker so it is not an unknown mark, and pointing
``PERFECTLY_JOURNAL_KEY`` at a key of the session's own (so that no test reads or makes
the user's journal key).

The brute-force helpers never call into ``perfectly``: they compute divisor
sums with plain divisor loops / additive numpy sieves so the package can be
checked against them.
"""

from __future__ import annotations

import contextlib
import functools
import math
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

import perfectly

#: The journal key of this test session (children inherit it): never the user's own.
JOURNAL_KEY = os.path.join(tempfile.mkdtemp(prefix="perfectly-tests-"), "journal.key")
os.environ["PERFECTLY_JOURNAL_KEY"] = JOURNAL_KEY
#: Whether the compiled kernel is the active one.
COMPILED = perfectly.build_info()["core"] == "compiled"
START_METHODS = tuple(multiprocessing.get_all_start_methods())
#: The backends that run on this machine alone, by what they start.
THREAD_BACKENDS = ("serial", "threads", "_thread", "thread-pool")
PROCESS_BACKENDS = ("processes", "process-pool")
LOCAL_BACKENDS = THREAD_BACKENDS + PROCESS_BACKENDS
#: The environment for a child Python: this very ``perfectly``.
CHILD_ENV = dict(os.environ)
CHILD_ENV["PYTHONPATH"] = os.pathsep.join(
    p
    for p in (str(Path(perfectly.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH"))
    if p
)
CLI = [sys.executable, "-m", "perfectly"]
#: OEIS A000396: the perfect numbers below 2**64 (eight, all even; no odd one is known).
PERFECT_NUMBERS = (6, 28, 496, 8128, 33550336, 8589869056, 137438691328, 2305843008139952128)
#: OEIS A063990 / A002025-A002046: the 13 amicable pairs with a < 10**5.
AMICABLE_BELOW_1E5 = (
    (220, 284),
    (1184, 1210),
    (2620, 2924),
    (5020, 5564),
    (6232, 6368),
    (10744, 10856),
    (12285, 14595),
    (17296, 18416),
    (63020, 76084),
    (66928, 66992),
    (67095, 71145),
    (69615, 87633),
    (79750, 88730),
)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slower tests (a few seconds); still run by default")
    # The Ctrl-C tests send SIGINT to child Pythons, as a terminal would. A suite started
    # with SIGINT ignored (`command &` in a script without job control does that) passes
    # the ignoring on to every child, which then never sees the Ctrl-C; a handler here
    # is reset to the default at each child's exec, so the children get Ctrl-C again.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# --------------------------------------------------------------------------
# Independent brute-force helpers
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _sigma_table(limit: int) -> np.ndarray:
    """sigma(n) for 0 <= n <= limit (entry 0 is 0), as int64.

    Divisor-pair sieve: every n = d*k with d <= k contributes d + k (or just d
    when d == k).  Looping over d <= sqrt(limit) keeps it vectorised.
    """
    s = np.zeros(limit + 1, dtype=np.int64)
    for d in range(1, math.isqrt(limit) + 1):
        k = np.arange(d, limit // d + 1, dtype=np.int64)
        s[d * k] += d + k
        s[d * d] -= d  # the square term d*d was counted twice
    s.flags.writeable = False
    return s


def sigma_table(limit: int) -> np.ndarray:
    """Read-only int64 array t with t[n] == sigma(n) for n <= limit."""
    return _sigma_table(int(limit))


def sigma_loop(n: int) -> int:
    """sigma(n) by the textbook divisor loop up to sqrt(n) (pure Python)."""
    total = 0
    r = math.isqrt(n)
    for d in range(1, r + 1):
        if n % d == 0:
            total += d
            e = n // d
            if e != d:
                total += e
    return total


def sigma_numpy(n: int) -> int:
    """sigma(n) for n < 2**62 by a vectorised divisor loop up to sqrt(n)."""
    n = int(n)
    r = math.isqrt(n)
    d = np.arange(1, r + 1, dtype=np.int64)
    divs = d[(np.int64(n) % d) == 0]
    total = sum(int(x) for x in divs) + sum(n // int(x) for x in divs)
    if r * r == n:
        total -= r
    return total


def sigma_window(lo: int, hi: int) -> list[int]:
    """[sigma(n) for n in range(lo, hi)] by brute force; exact Python ints.

    Every n = d*c with d <= c contributes d + c (just d when d == c).  Small
    divisors d < width are handled one d at a time (many multiples each); the
    divisors d >= width have at most one multiple in the window and are
    handled in vectorised chunks.  Requires hi < 2**62.
    """
    lo, hi = int(lo), int(hi)
    assert 1 <= lo <= hi < 2**62
    width = hi - lo
    if width == 0:
        return []
    r = math.isqrt(hi - 1)
    acc = np.zeros(width, dtype=np.int64)
    small = min(r, width - 1)
    for d in range(1, small + 1):
        start = max(lo, d * d)
        first = -(-start // d) * d
        if first >= hi:
            continue
        m = np.arange(first, hi, d, dtype=np.int64)
        cof = m // d
        acc[m - lo] += d + cof
        if lo <= d * d < hi:
            acc[d * d - lo] -= d
    chunk = 1 << 20
    for d0 in range(small + 1, r + 1, chunk):
        d = np.arange(d0, min(r, d0 + chunk - 1) + 1, dtype=np.int64)
        m = -(-np.int64(lo) // d) * d
        cof = m // d
        keep = (m < hi) & (cof >= d)
        d, m, cof = d[keep], m[keep], cof[keep]
        val = np.where(cof == d, d, d + cof)
        np.add.at(acc, m - lo, val)
    return [int(x) for x in acc]


@pytest.fixture(scope="session")
def brute():
    """Namespace of independent brute-force helpers (no perfectly imports)."""
    return types.SimpleNamespace(
        sigma_table=sigma_table,
        sigma_loop=sigma_loop,
        sigma_numpy=sigma_numpy,
        sigma_window=sigma_window,
        census=brute_census,
    )


# --------------------------------------------------------------------------
# Kernel modules
# --------------------------------------------------------------------------


@pytest.fixture(params=["perfectly._kernel", "perfectly._reference"])
def kernels(request):
    """Each kernel module in turn; the compiled one is skipped if unavailable."""
    return pytest.importorskip(request.param)


def brute_census(lo: int, hi: int, amicable: bool = False) -> dict:
    """The census of [lo, hi) (``Census`` fields as plain data) from the σ table."""
    limit = max(hi, 2)
    table = sigma_table(limit)

    def sig(m: int) -> int:
        return int(table[m]) if m <= limit else sigma_loop(m)

    n = np.arange(lo, hi, dtype=np.int64)
    s = np.asarray(table[lo:hi], dtype=np.int64)
    mask = (s % n == 0) & (s // n >= 3)
    pairs = None
    if amicable:
        pairs = []
        for a in range(lo, hi):
            b = sig(a) - a
            if b > a and sig(b) - b == a:
                pairs.append((a, b))
        pairs = tuple(pairs)
    return dict(
        lo=lo,
        hi=hi,
        sigma_sum=sum(int(x) for x in s),
        abundant=int(np.count_nonzero(s > 2 * n)),
        deficient=int(np.count_nonzero(s < 2 * n)),
        perfect=tuple(int(x) for x in n[s == 2 * n]),
        multiply_perfect=tuple(
            (int(x), int(k)) for x, k in zip(n[mask], s[mask] // n[mask], strict=True)
        ),
        amicable=pairs,
    )


# --------------------------------------------------------------------------
# Child processes: the CLI, and finding workers through /proc
# --------------------------------------------------------------------------


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m perfectly ARGS`` in a child Python, output captured as text."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=CHILD_ENV
    )


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children_of(ppid: int) -> dict[int, str]:
    """Live (non-zombie) processes whose parent is ``ppid``: pid -> start time."""
    found = {}
    for entry in os.listdir("/proc"):
        fields = proc_stat(int(entry)) if entry.isdigit() else None
        if fields is not None and int(fields[1]) == ppid and fields[0] not in "ZX":
            found[int(entry)] = fields[19]
    return found


def still_running(pid: int, start: str) -> bool:
    """Whether the process ``pid`` that started at ``start`` still runs (zombies don't)."""
    fields = proc_stat(pid)
    return fields is not None and fields[19] == start and fields[0] not in "ZX"


def end_process(proc: subprocess.Popen) -> None:
    """Kill ``proc`` if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@contextlib.contextmanager
def started_child(code: str, *args: str, options: tuple[str, ...] = (), env=None, wait=40.0):
    """A child Python running ``code`` (with ``args``), once it printed ``started``: yields
    (the process, its child processes as pid -> start time). On the way out the child and
    whatever it started are killed if still running."""
    proc = subprocess.Popen(
        [sys.executable, *options, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=CHILD_ENV if env is None else env,
    )
    kids: dict[int, str] = {}
    try:
        ready, _, _ = select.select([proc.stdout], [], [], wait)
        line = proc.stdout.readline() if ready else b""
        if line.strip() != b"started":
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"the child did not start: {line!r} {err.decode(errors='replace')[-2000:]}")
        kids = children_of(proc.pid)
        yield proc, kids
    finally:
        end_process(proc)
        proc.stdout.close()
        proc.stderr.close()
        for pid, start in kids.items():
            if still_running(pid, start):
                os.kill(pid, signal.SIGKILL)


def worker_threads() -> list[threading.Thread]:
    """This process's live worker threads (named ``perfectly-worker-N``)."""
    return [
        t for t in threading.enumerate() if t.name.startswith("perfectly-worker") and t.is_alive()
    ]


def wait_for(predicate, timeout: float) -> bool:
    """Whether ``predicate()`` became true within ``timeout`` s (polled every 50 ms)."""
    end = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


# --------------------------------------------------------------------------
# Fresh interpreters (appended for tests/test_cli.py and tests/test_fallback.py)
# --------------------------------------------------------------------------


def run_python(*args: str, cwd=None, timeout: float = 120, **env: str | None):
    """``python *args`` in a fresh interpreter, as a user would start it.

    The environment is this one, with ``env`` on top
    (a value of None removes that variable; ``PERFECTLY_NO_EXTENSIONS`` is kept unless
    removed, so that a pure-Python install runs its suite as the README says). ``cwd``
    should be a directory outside the source tree, so that the installed package is
    imported.
    """

    environ = dict(os.environ)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    command = [sys.executable, *args]
    return subprocess.run(
        command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout
    )
