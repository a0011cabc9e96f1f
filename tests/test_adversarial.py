"""Adversarial checks (issue 13): "verified" means exact, whatever the journal, the
input or the timing. Crafted journals come from a generator below; concurrent runs
are real processes and threads.

Expected values come from the serial ``census`` (checked against brute force in
test_journal and elsewhere) and from brute force where cheap.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback

import pytest
from conftest import CHILD_ENV, CLI, run_cli, wait_for
from conftest import PROCESS_BACKENDS as PROCESS
from faultjob import inject

import perfectly
from perfectly import census, search
from perfectly.census import Census, check_part
from perfectly.journal import JournalError

pytestmark = pytest.mark.timeout(120)

LO, HI, CHUNK = 1, 1_000_001, 50_000  # 20 chunks
ARGS = dict(backend="serial", chunk_size=CHUNK, amicable=True)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dump(path):
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


@pytest.fixture(scope="module")
def want():
    return census(LO, HI, amicable=True)


@pytest.fixture(scope="module")
def base_journal(tmp_path_factory, want):
    path = tmp_path_factory.mktemp("base") / "base.sqlite"
    assert search(LO, HI, journal=path, **ARGS).census == want
    return path


# --------------------------------------------------------------------------
# Paths are paths, never SQLite URIs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["j?1.sqlite", "j#1.sqlite", "j%3F.sqlite", "file:j.sqlite"])
def test_journal_path_is_not_a_uri(tmp_path, monkeypatch, want, name):
    monkeypatch.chdir(tmp_path)
    first = search(LO, HI, journal=name, backend="serial", chunk_size=CHUNK)
    assert first.census.sigma_sum == want.sigma_sum
    assert os.listdir(tmp_path) == [name] or set(os.listdir(tmp_path)) <= {
        name,
        name + "-wal",
        name + "-shm",
    }
    # the same journal with other parameters is recognised, and refused
    with pytest.raises(JournalError, match="amicable"):
        search(LO, HI, journal=name, **ARGS)
    again = search(LO, HI, journal=tmp_path / name, backend="serial", chunk_size=CHUNK)
    assert again.resumed == again.chunks == 20
    assert again.census == first.census


@pytest.mark.parametrize("flags", ["1", "0"])
def test_refused_journal_gets_no_side_files(tmp_path, flags):
    """A finished journal refused for its parameters: nothing is written next to it."""
    path = tmp_path / "j.sqlite"
    search(1, 200_001, backend="threads", chunk_size=CHUNK, amicable=flags == "1", journal=path)
    listing, digest = sorted(os.listdir(tmp_path)), _sha(path)
    assert listing == ["j.sqlite"]
    with pytest.raises(JournalError, match="other parameters"):
        search(1, 200_001, backend="threads", chunk_size=CHUNK, amicable=flags != "1", journal=path)
    assert sorted(os.listdir(tmp_path)) == listing and _sha(path) == digest


@pytest.mark.parametrize("bad", ["", ":memory:"])
def test_journal_that_saves_nothing_is_refused(bad):
    with pytest.raises(ValueError, match="journal"):
        search(1, 100, journal=bad)


@pytest.mark.parametrize("bad", [b"j.sqlite", 3, 1.5])
def test_journal_of_wrong_type_is_refused(bad):
    with pytest.raises(TypeError, match="journal"):
        search(1, 100, journal=bad)


# --------------------------------------------------------------------------
# Crafted journals: every one is refused (or, for Σσ, fails verification)
# --------------------------------------------------------------------------


def crafted_journals():
    """(name, SQL statements, the error expected) turning a good journal into a bad one.

    Chunk 0 is [1, 50001): it holds 6, 28, 496, 8128, 120 (k=3) ... and (220, 284).
    """
    yield (
        "extra perfect",
        [
            "UPDATE chunks SET found='[[6,2],[28,2],[496,2],[8128,2],"
            "[30240,4],[32760,4],[999999,2]]' WHERE idx=19"
        ],
        JournalError,
    )
    yield (
        "fake perfect in range",
        [
            "UPDATE chunks SET found='[[6,2],[28,2],[30,2],[120,3],[496,2],[672,3],[8128,2],"
            "[30240,4],[32760,4]]', deficient=CAST(deficient - 1 AS TEXT) WHERE idx=0"
        ],
        JournalError,
    )
    yield (
        "counts do not add up",
        ["UPDATE chunks SET abundant=CAST(abundant + 1 AS TEXT) WHERE idx=4"],
        JournalError,
    )
    yield (
        "negative count",
        [
            "UPDATE chunks SET abundant='-1', deficient=CAST(deficient + abundant + 1 AS TEXT)"
            " WHERE idx=4"
        ],
        JournalError,
    )
    yield (
        "perfect listed twice",
        [
            "UPDATE chunks SET found='[[6,2],[6,2],[28,2],[120,3],[496,2],[672,3],[8128,2],"
            "[30240,4],[32760,4]]', deficient=CAST(deficient - 1 AS TEXT) WHERE idx=0"
        ],
        JournalError,
    )
    yield (
        "fake amicable pair",
        [
            "UPDATE chunks SET amicable='[[220,284],[1184,1210],[2620,2924],[5020,5564],"
            "[6232,6368],[10744,10856],[12285,14595],[17296,18416],[20000,20001]]' WHERE idx=0"
        ],
        JournalError,
    )
    yield (
        "pair outside its chunk",
        ["UPDATE chunks SET amicable='[[220,284]]' WHERE idx=3"],
        JournalError,
    )
    yield "chunk moved", ["UPDATE chunks SET lo='2', hi='50002' WHERE idx=0"], JournalError
    yield (
        "chunk under another index",
        [
            "DELETE FROM chunks WHERE idx=5",
            "UPDATE chunks SET idx=5 WHERE idx=6",
        ],
        JournalError,
    )
    yield (
        "sigma sum changed",
        ["UPDATE chunks SET sigma_sum=CAST(sigma_sum + 1 AS TEXT) WHERE idx=7"],
        JournalError,  # its signature no longer matches (the closed form would catch it too)
    )
    yield "not JSON", ["UPDATE chunks SET found='nope' WHERE idx=2"], JournalError
    yield "not a number", ["UPDATE chunks SET abundant='lots' WHERE idx=2"], JournalError
    yield "params not a dict", ["UPDATE meta SET value='[1]' WHERE key='params'"], JournalError
    yield "format not a number", ["UPDATE meta SET value='one' WHERE key='format'"], JournalError
    yield (
        "trigger",
        ["CREATE TRIGGER t AFTER INSERT ON chunks BEGIN UPDATE chunks SET sigma_sum='0'; END"],
        JournalError,
    )
    yield "view", ["CREATE VIEW v AS SELECT 1"], JournalError
    yield "index", ["CREATE INDEX i ON chunks (lo)"], JournalError
    yield "extra table", ["CREATE TABLE notes (body TEXT)"], JournalError
    yield (
        "recursive view for chunks",
        [
            "ALTER TABLE chunks RENAME TO old",
            "CREATE VIEW chunks AS WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r)"
            " SELECT i, '1', '2', '1', '0', '1', '[]', NULL, 0, 0.0 FROM r",
        ],
        JournalError,
    )
    yield "other column", ["ALTER TABLE chunks ADD COLUMN note TEXT"], JournalError


CRAFTED = list(crafted_journals())


@pytest.mark.parametrize(("sql", "error"), [c[1:] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_crafted_journal_is_never_trusted(tmp_path, base_journal, sql, error):
    path = tmp_path / "j.sqlite"
    shutil.copy(base_journal, path)
    db = sqlite3.connect(path)
    for statement in sql:
        db.execute(statement)
    db.commit()
    db.close()
    digest, listing, dump = _sha(path), sorted(os.listdir(tmp_path)), _dump(path)
    began = time.monotonic()
    with pytest.raises(error) as info:
        search(LO, HI, journal=path, **ARGS)
    assert time.monotonic() - began < 30
    if error is JournalError:
        assert str(path) in str(info.value)
    if error is JournalError:
        assert sorted(os.listdir(tmp_path)) == listing  # nothing left next to it
    if "UPDATE chunks" not in str(sql) and "DELETE" not in str(sql):
        assert _sha(path) == digest  # refused before it was opened for writing
    assert _dump(path) == dump  # a chunk refused at resume: its data untouched


def test_journal_checks_count(base_journal):
    assert len(CRAFTED) >= 20


def test_check_part_catches_what_the_census_claims(want):
    """The checks ``verified`` runs on a result beyond Σσ (independent σ by factoring)."""
    check_part(want, perfectly.sigma)
    bad = [
        Census(1, 10, 87, 1, 8, (6,), ()),  # 1 + 8 + 1 ≠ 9 numbers
        Census(1, 10, 87, 0, 8, (7,), ()),  # 7 is not perfect
        Census(1, 10, 87, 0, 8, (28,), ()),  # 28 is outside [1, 10)
        Census(100, 200, 0, 0, 99, (), ((120, 4),)),  # σ(120) = 3·120
        Census(200, 300, 0, 0, 100, (), (), ((220, 285),)),
        Census(200, 300, 0, 0, 100, (), (), ((220, 284), (220, 284))),
    ]
    for part in bad:
        with pytest.raises(ValueError):
            check_part(part, perfectly.sigma)


# --------------------------------------------------------------------------
# Concurrent runs on one new journal: real processes
# --------------------------------------------------------------------------

_RUN = """
import sys, time, perfectly
from perfectly.journal import JournalError
start = float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
try:
    r = perfectly.search(1, 2_000_001, backend="threads", workers=1, chunk_size=100_000,
                         amicable=sys.argv[2] == "1", journal=sys.argv[1])
except JournalError as exc:
    print("refused", exc)
    sys.exit(0)
print("ok", r.census.sigma_sum, len(r.census.amicable or ()), r.census.perfect)
"""


def _start_two(path, amicable_flags):
    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RUN, str(path), flag, repr(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=CHILD_ENV,
        )
        for flag in amicable_flags
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err[-3000:]
        assert err == "", err[-3000:]
        outs.append(out.strip())
    return outs


@pytest.fixture(scope="module")
def want_2m():
    return census(1, 2_000_001, amicable=True)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(2))
def test_two_identical_runs_at_once_both_exact(tmp_path, want_2m, trial):
    path = tmp_path / "j.sqlite"
    outs = _start_two(path, ["1", "1"])
    line = f"ok {want_2m.sigma_sum} {len(want_2m.amicable)} {want_2m.perfect}"
    assert outs == [line, line]
    again = search(1, 2_000_001, backend="serial", chunk_size=100_000, amicable=True, journal=path)
    assert again.resumed == again.chunks == 20
    assert again.census == want_2m


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(2))
def test_two_different_runs_at_once_one_refused(tmp_path, want_2m, trial):
    path = tmp_path / "j.sqlite"
    outs = _start_two(path, ["1", "0"])
    refused = [o for o in outs if o.startswith("refused")]
    assert len(refused) == 1, outs
    assert "other parameters" in refused[0] and str(path) in refused[0]
    winner = outs.index(next(o for o in outs if o.startswith("ok")))
    amicable = winner == 0
    result = search(
        1, 2_000_001, backend="serial", chunk_size=100_000, amicable=amicable, journal=path
    )
    assert result.resumed == result.chunks == 20
    if amicable:
        assert result.census == want_2m
    else:
        assert result.census.sigma_sum == want_2m.sigma_sum
        assert result.census.amicable is None


# --------------------------------------------------------------------------
# No fault hook in the installed package
# --------------------------------------------------------------------------


def test_no_fault_hook_in_the_environment():
    env = dict(CHILD_ENV, PERFECTLY_TEST_FAULT="kill@1", PERFECTLY_TEST_FAULT_LOG="/dev/null")
    for backend in ("serial", "processes"):
        proc = subprocess.run(
            [sys.executable, "-m", "perfectly", "search", "1", "100", "--backend", backend],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
        assert "6, 28" in proc.stdout


# --------------------------------------------------------------------------
# Bounded memory before the first error, whatever the input
# --------------------------------------------------------------------------

_MEMORY = """
import itertools, resource, sys, time, tracemalloc
import numpy as np
import perfectly
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a runaway fails, not the CI
BAD = {
    "workers": [2**64, 2**63, 10**9, np.int64(10**9), 0, -2, -1.0, 2.0, "7", np.float64(2)],
    "chunk_size": [0, -1, -(2**70), 2.0, "7", np.float64(3), True],
    "retries": [-1, -(2**64), 2.0, "7", None, True],
    "timeout": [0, -1, "7", np.float64("nan"), True, np.int64(-3), [1]],
    "schedule": ["x", None, 3], "backend": ["x", None, 3], "method": ["x", None, 3],
    "kernel": ["x", 3], "start_method": ["x", 3], "amicable": ["no", 1, None],
    "journal": ["", ":memory:", 3, b"x"], "backend_options": [3, {"x": 1}],
}
LOS = [0, 1, 2**63, 2**64, -5, 1.5, np.int64(-1)]
RANGES = list(itertools.product(LOS, [2**64 + 1, 0, "x", 2**80, np.float64(9)]))
cases = []
for name, values in BAD.items():
    for value, (lo, hi) in itertools.product(values, [(1, 2**64), (1, 100), (2**64, 2**64)]):
        cases.append(("search", (lo, hi), {name: value}))
RANGE_FUNCTIONS = ("census", "sigma_range", "aliquot_range", "perfect_numbers",
                   "multiply_perfect", "amicable_pairs", "estimate")
for lo, hi in RANGES:
    cases.append(("search", (lo, hi), {}))
    for fn in RANGE_FUNCTIONS:
        cases.append((fn, (lo, hi), {}))
# good ranges, bad keywords: each function's own (hi = 2**64 would be hours of work)
KEYWORDS = {
    "census": {"method": ["x", None, 3], "amicable": ["no", 1, None], "kernel": ["x", 3]},
    "sigma_range": {"method": ["x", None, 3], "kernel": ["x", 3]},
    "aliquot_range": {"method": ["x", None, 3], "kernel": ["x", 3]},
    "perfect_numbers": {"method": ["x", None, 3]},
    "multiply_perfect": {"method": ["x", None, 3]},
    "search": {"release_gil": ["no", 1, None], "progress": [3, "x"]},
    "estimate": {name: BAD[name] for name in
                 ("workers", "chunk_size", "schedule", "backend", "method", "kernel")},
}
for fn, keywords in KEYWORDS.items():
    for name, values in keywords.items():
        for value, (lo, hi) in itertools.product(values, [(1, 2**64), (1, 100)]):
            cases.append((fn, (lo, hi), {name: value}))
SINGLE = [-1, -(2**70), 1.5, "7", None, np.float64(3), [1], True, np.int64(-2)]
for fn in ("sigma", "aliquot", "classify", "is_perfect"):
    cases += [(fn, (n,), {}) for n in [0, *SINGLE]]
cases += [("sum_sigma", (x,), {}) for x in [2**64, 2**80, *SINGLE]]
cases += [("parse_int", (text,), {}) for text in ["", "x", "1.5", "1e-3", "2**2000", "9" * 400,
                                                  "1+" * 9 + "1", "10**10**10", 3, None, b"7"]]
assert {fn for fn, _, _ in cases} == {
    name for name in perfectly.__all__ if callable(getattr(perfectly, name))
    and name[0].islower() and name not in ("build_info", "available_cpus")  # no arguments
}, "every public function is tried"
tried = typed = 0
worst = 0
for fn, args, kwargs in cases:
    tracemalloc.start()
    began = time.monotonic()
    try:
        getattr(perfectly, fn)(*args, **kwargs)
    except (TypeError, ValueError, OverflowError, TimeoutError):
        typed += 1
    except BaseException as exc:
        print("UNTYPED", fn, args, kwargs, repr(exc))
    else:
        print("NO ERROR", fn, args, kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tried += 1
    worst = max(worst, peak)
    if peak > 20 << 20 or time.monotonic() - began > 10:
        print("UNBOUNDED", fn, args, kwargs, peak, time.monotonic() - began)
print("tried", tried, "typed", typed, "worst", worst)
"""


@pytest.mark.slow
def test_bounded_memory_before_the_first_error():
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY], capture_output=True, text=True, timeout=110, env=CHILD_ENV
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("tried"), proc.stdout[-3000:]
    _, tried, _, typed, _, worst = lines[-1].split()
    assert int(tried) == int(typed) >= 200, proc.stdout[-3000:]
    assert len(lines) == 1, proc.stdout[-3000:]
    assert int(worst) < 20 << 20


# --------------------------------------------------------------------------
# search() from many threads at once, on every local backend
# --------------------------------------------------------------------------

CONCURRENT_RUNS = {"processes": 30, "process-pool": 8}  # per thread; 4 for the others


def _hammer(backends, runs, want, **options):
    """8 threads, each running ``runs`` searches; the errors, and how many ran."""
    errors, done = [], []

    def loop(i):
        for _ in range(runs):
            backend = backends[i % len(backends)]
            try:
                r = search(1, 20_001, backend=backend, workers=2, chunk_size=2_000, **options)
                assert r.census == want and r.verified, backend
            except Exception as exc:  # collected: every thread keeps going
                errors.append(f"{backend}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            done.append(backend)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert not any(t.is_alive() for t in threads), "a search hung"
    return errors, len(done)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["serial", "threads", "_thread", "thread-pool", *PROCESS])
def test_search_from_many_threads(backend):
    want = census(1, 20_001)
    runs = CONCURRENT_RUNS.get(backend, 4)
    errors, done = _hammer([backend], runs, want)
    assert not errors, errors[:5]
    assert done == 8 * runs


@pytest.mark.slow
def test_search_from_many_threads_mixed_backends():
    want = census(1, 20_001)
    errors, done = _hammer(["processes", "thread-pool", "processes", "process-pool"], 8, want)
    assert not errors, errors[:5]
    assert done == 64


@pytest.fixture(scope="module")
def dask_client():
    """One loopback Dask cluster of 2 worker processes, shared by the tests that need
    many searches on it (an embedded cluster per search would take seconds each)."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port, never 8787 (see test_dask.py)
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.mark.slow
def test_search_from_many_threads_dask(dask_client):
    want = census(1, 20_001)
    errors, done = _hammer(["dask"], 3, want, backend_options={"scheduler": dask_client})
    assert not errors, errors[:5]
    assert done == 24


# --------------------------------------------------------------------------
# Timeouts with long chunks: the deadline is kept, and workers stop
# --------------------------------------------------------------------------


def _worker_threads():
    return [t for t in threading.enumerate() if t.name.startswith("perfectly-worker")]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["serial", "threads", "_thread", "thread-pool", *PROCESS])
def test_timeout_with_long_chunks(backend):
    """Chunks of 2**30 numbers (seconds each): TimeoutError within 1 s of the deadline,
    and nothing left computing: no worker thread, no OS thread more than before."""
    threads_before = len(os.listdir("/proc/self/task"))
    began = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=0\.5"):
        search(1, 2**33, backend=backend, workers=2, chunk_size=2**30, timeout=0.5)
    raised = time.perf_counter() - began
    assert raised < 1.5, raised
    end = time.monotonic() + 1.0
    while time.monotonic() < end and (
        _worker_threads() or len(os.listdir("/proc/self/task")) > threads_before
    ):
        time.sleep(0.02)
    assert not _worker_threads()
    assert len(os.listdir("/proc/self/task")) <= threads_before


@pytest.mark.slow
def test_timeout_with_long_chunks_dask(dask_client):
    """On a cluster passed in (no start-up inside the deadline): TimeoutError within 1 s
    of it, and the cluster is still usable (its running chunks are not stopped)."""
    began = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=0\.5"):
        search(
            1,
            2**33,
            backend="dask",
            chunk_size=2**30,
            timeout=0.5,
            backend_options={"scheduler": dask_client},
        )
    assert time.perf_counter() - began < 1.5
    assert dask_client.submit(sum, [1, 2, 3], pure=False).result(timeout=60) == 6


# --------------------------------------------------------------------------
# Verification (the closed form of Σσ, ~1 s at 2**64) is inside the deadline
# --------------------------------------------------------------------------

TOP = (2**64 - 1000, 2**64)  # a short run, a long closed form (two sum_sigma calls near 2**64)


def _verify_threads():
    return [t for t in threading.enumerate() if t.name == "perfectly-verify"]


@pytest.fixture
def top_journal(tmp_path):
    """A journal holding every chunk of TOP, and the census its run returned."""
    path = tmp_path / "top.sqlite"
    first = search(*TOP, backend="serial", journal=path)
    assert first.verified and first.resumed == 0
    return path, first


@pytest.mark.slow
def test_timeout_covers_verification(top_journal):
    """Every chunk journaled: all that is left is verification, and timeout=0.2 s cuts
    it with a TimeoutError that says so; the chunks stay journaled, and the closed
    form's thread ends with its current call (it starts no second one)."""
    path, first = top_journal
    began = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=0\.2 s: every chunk ran, but verification"):
        search(*TOP, backend="serial", journal=path, timeout=0.2)
    assert time.perf_counter() - began < 0.7
    assert wait_for(lambda: not _verify_threads(), 10)
    again = search(*TOP, backend="serial", journal=path)
    assert again.resumed == again.chunks == first.chunks and again.census == first.census


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_timeout_near_2_64_is_kept(backend):
    """search(2**64 - 1000, 2**64, timeout=0.5): TimeoutError (from the run or from
    verification) within 1 s of the deadline, never a result 2 s late."""
    began = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"timeout=0\.5"):
        search(*TOP, backend=backend, workers=2, timeout=0.5)
    assert time.perf_counter() - began < 1.5


_SEARCH_THEN_CTRL_C = """
import sys, time, perfectly
print("searching", flush=True)
try:
    perfectly.search(%d, %d, backend="serial", journal=sys.argv[1])
except KeyboardInterrupt:
    print("interrupted at", time.monotonic(), flush=True)  # one clock for all processes
    sys.exit(130)
print("finished", flush=True)
"""


@pytest.mark.slow
def test_ctrl_c_during_verification(top_journal):
    """Ctrl-C while only verification is left: KeyboardInterrupt at once (not after the
    closed form's call), the journal keeps every chunk, and a rerun resumes them all
    and returns the same verified census. Without a journal the result is gone."""
    path, first = top_journal
    rows = _dump(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SEARCH_THEN_CTRL_C % TOP, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CHILD_ENV,
    )
    try:
        assert proc.stdout.readline() == "searching\n"
        time.sleep(0.15)  # the journal is read; the closed form has ~1 s to go
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and out.startswith("interrupted at "), (out, err)
    took = float(out.split()[-1]) - sent  # from SIGINT to KeyboardInterrupt, exit aside
    assert took < 0.3, took
    assert _dump(path) == rows  # every chunk still there, nothing else
    again = search(*TOP, backend="serial", journal=path)
    assert again.resumed == again.chunks == first.chunks and again.census == first.census


# --------------------------------------------------------------------------
# The command line: a bad --journal is a bad argument (one line, status 2)
# --------------------------------------------------------------------------


def test_cli_bad_journal_exits_2_naming_the_file(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database\n" * 100)
    other = tmp_path / "other.sqlite"
    assert run_cli("search", "1", "1e5", "--journal", str(other)).returncode == 0
    cases = [
        (garbage, []),
        (other, ["--amicable"]),
        (tmp_path / "no-such-dir" / "j.sqlite", []),
        (tmp_path, []),  # a directory
    ]
    for path, extra in cases:
        proc = run_cli("search", "1", "1e5", "--journal", str(path), *extra)
        assert proc.returncode == 2, (path, proc.returncode, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], proc.stderr[-2000:]
    assert not (tmp_path / "no-such-dir").exists()
    for bad in ("", ":memory:"):
        proc = run_cli("search", "1", "100", "--journal", bad)
        assert proc.returncode == 2 and "journal" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------
# Dask: no HTTP server on 8787, an unreachable scheduler fails at once
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_dask_embedded_cluster_leaves_8787_alone():
    """With 8787 taken, distributed would move its HTTP server and warn (an error here):
    the embedded cluster uses a free loopback port from the start."""
    pytest.importorskip("distributed")
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
    except OSError:
        holder.close()
        pytest.skip("8787 is in use by someone else")
    holder.listen()
    try:
        r = search(1, 20_001, backend="dask", workers=1, chunk_size=5_000)
    finally:
        holder.close()
    assert r.census == census(1, 20_001) and r.verified


def test_cli_unreachable_dask_scheduler_fails_at_once():
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    began = time.monotonic()
    proc = run_cli(
        "search", "1", "100", "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"
    )
    assert time.monotonic() - began < 4.0
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "scheduler" in lines[0], proc.stderr[-2000:]


class _NotAScheduler:
    """A loopback TCP listener that accepts and then stays silent, or answers garbage."""

    def __init__(self, reply=b""):
        self.reply, self.conns = reply, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)  # accept() wakes up to see whether it was closed
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            if self.reply:
                conn.sendall(self.reply)
            self.conns.append(conn)

    def close(self):
        self.closed.set()
        self.thread.join(5)
        self.sock.close()
        for conn in self.conns:
            conn.close()


_BAD_SCHEDULER_THEN_WAIT = """
import sys, time, perfectly
try:
    perfectly.search(1, 100, backend="dask", backend_options={"scheduler": sys.argv[1]})
except ConnectionError as exc:
    print("ConnectionError", flush=True)
time.sleep(12)  # distributed's Client.__del__ used to print a traceback 10 s later
"""


@pytest.mark.slow
@pytest.mark.parametrize("reply", [b"", b"HTTP/1.0 200 OK\r\n\r\n" * 64], ids=["silent", "garbage"])
def test_dask_port_that_is_not_a_scheduler(reply):
    """Something listens, but it is no Dask scheduler: ConnectionError within about
    CONNECT_TIMEOUT (distributed waits for its handshake forever, and a garbage answer
    made it try to allocate exabytes), one line from the CLI, nothing printed later."""
    pytest.importorskip("distributed")
    server = _NotAScheduler(reply)
    try:
        began = time.monotonic()
        with pytest.raises(ConnectionError, match="scheduler="):
            search(1, 100, backend="dask", backend_options={"scheduler": server.address})
        assert time.monotonic() - began < 8
        proc = run_cli("search", "1", "100", "--backend", "dask", "--scheduler", server.address)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr[-3000:]
        proc = subprocess.run(
            [sys.executable, "-c", _BAD_SCHEDULER_THEN_WAIT, server.address],
            capture_output=True,
            text=True,
            timeout=60,
            env=CHILD_ENV,
        )
    finally:
        server.close()
    assert proc.returncode == 0 and proc.stdout == "ConnectionError\n", proc.stderr[-3000:]
    assert proc.stderr == "", proc.stderr[-3000:]


# --------------------------------------------------------------------------
# σ of a huge number with only large prime factors: a bounded, clear error
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_sigma_of_a_hard_semiprime_is_bounded():
    """The factoring gives up after a bounded amount of work: bounded in CPU time (8 s
    here), which a busy machine does not stretch as it stretches the wall time."""
    began = time.process_time()
    with pytest.raises(OverflowError, match=r"n = 340282366920938463463374607431768211457"):
        perfectly.sigma(2**128 + 1)  # 59649589127497217 × 5704689200685129054721
    assert time.process_time() - began < 40
    p, q = 1099511627791, 1099511627689  # primes near 2**40: still found
    assert perfectly.sigma(p * q) == (p + 1) * (q + 1)
    proc = run_cli("sigma", "2**128+1")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("retries", [0, 1])
def test_dask_honours_retries(monkeypatch, tmp_path, retries):
    """A worker killed in chunk [5001, 6001) (its first try only) of an embedded cluster:
    retries=0 is WorkerLostError after one try; retries=1 reruns it (and any other task
    the dead worker held) once, exactly."""
    pytest.importorskip("distributed")
    log = tmp_path / "faults.log"
    inject(monkeypatch, "kill@5001", log)
    args = dict(backend="dask", workers=2, chunk_size=1_000, retries=retries)
    if retries == 0:
        with pytest.raises(perfectly.WorkerLostError, match="retries=0"):
            search(1, 20_001, **args)
    else:
        r = search(1, 20_001, **args)
        assert r.census == census(1, 20_001) and r.verified and r.retried >= 1
    tries = log.read_text().splitlines()
    assert tries == [f"kill 5001 {attempt}" for attempt in range(retries + 1)][: 1 + retries]


@pytest.mark.slow
def test_dask_ctrl_c_prints_one_line():
    """Ctrl-C at a terminal reaches the whole process group, Dask's workers too: the run
    ends with status 130, one line on stderr, and no process of the group left."""
    pytest.importorskip("distributed")
    proc = subprocess.Popen(
        [*CLI, "search", "1", "1e11", "--backend", "dask", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=CHILD_ENV,
        start_new_session=True,
    )
    try:
        time.sleep(6)  # the cluster is up and chunks are running
        assert proc.poll() is None, proc.stderr.read()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err[-3000:]
    assert wait_for(lambda: not _group_alive(proc.pid), 10)


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
