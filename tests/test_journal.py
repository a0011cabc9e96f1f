"""Journaled searches: record, resume, and refuse journals that are not this search's.

Expected values come from the ``brute`` fixture where that is cheap, otherwise from
the serial ``perfectly.census`` (checked against brute force by other tests).
"""

from __future__ import annotations

import concurrent.futures
import decimal
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from faultjob import inject

import perfectly
from perfectly import census, search
from perfectly.journal import JournalError

pytestmark = pytest.mark.timeout(120)

LO, HI, CHUNK = 1, 2_000_001, 100_000  # 20 chunks


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _rows(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT * FROM chunks ORDER BY idx").fetchall()
    finally:
        db.close()


class _StopAfter:
    """A progress callback that raises KeyboardInterrupt at its k-th call."""

    def __init__(self, k):
        self.k, self.calls = k, 0

    def __call__(self, done, total):
        self.calls += 1
        if self.calls >= self.k:
            raise KeyboardInterrupt


class _Count:
    def __init__(self):
        self.calls = 0

    def __call__(self, done, total):
        self.calls += 1


@pytest.fixture(scope="module")
def want():
    return census(LO, HI)


@pytest.fixture(scope="module")
def want_amicable():
    return census(LO, HI, amicable=True)


def test_want_against_brute(brute, want, want_amicable):
    table = brute.sigma_table(HI)
    assert want.sigma_sum == int(table[LO:HI].sum())
    assert want.perfect == (6, 28, 496, 8128)
    assert want_amicable.amicable[:3] == ((220, 284), (1184, 1210), (2620, 2924))


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_same_result_with_and_without_journal(tmp_path, backend, want):
    plain = search(LO, HI, backend=backend, workers=2, chunk_size=CHUNK)
    path = tmp_path / "j.sqlite"
    logged = search(LO, HI, backend=backend, workers=2, chunk_size=CHUNK, journal=path)
    assert plain.census == logged.census == want
    assert logged.verified and logged.resumed == 0 and logged.chunks == 20
    rows = _rows(path)
    assert [r[0] for r in rows] == list(range(20))


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_rerun_takes_everything_from_the_journal(tmp_path, monkeypatch, backend, want):
    path = tmp_path / "j.sqlite"
    first = search(LO, HI, backend=backend, workers=2, chunk_size=CHUNK, journal=path)
    rows = _rows(path)
    # a chunk that ran again would now raise (the tests' fault job)
    inject(monkeypatch, f"raise@{LO}")
    counter = _Count()
    second = search(
        LO, HI, backend=backend, workers=2, chunk_size=CHUNK, journal=path, progress=counter
    )
    assert second.census == first.census == want
    assert second.verified
    assert second.resumed == second.chunks == 20
    assert counter.calls == 0  # progress is called once per chunk run: none ran
    assert _rows(path) == rows


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
@pytest.mark.parametrize("k", [1, 7])
def test_interrupted_then_resumed(tmp_path, backend, k, want_amicable):
    path = tmp_path / "j.sqlite"
    args = dict(backend=backend, workers=2, chunk_size=CHUNK, journal=path, amicable=True)
    with pytest.raises(KeyboardInterrupt):
        search(LO, HI, progress=_StopAfter(k), **args)
    assert len(_rows(path)) == k  # recorded before progress is told
    # interrupted a second time, later on
    with pytest.raises(KeyboardInterrupt):
        search(LO, HI, progress=_StopAfter(5), **args)
    assert len(_rows(path)) == k + 5
    counter = _Count()
    result = search(LO, HI, progress=counter, **args)
    assert result.resumed == k + 5
    assert counter.calls == 20 - k - 5
    assert result.chunks == 20
    assert result.census == want_amicable
    assert result.verified


def _make_journal(path, **kw):
    args = dict(backend="serial", chunk_size=50_000, method="sieve", amicable=False)
    args.update(kw)
    return search(1, 1_000_001, journal=path, **args)


def _assert_untouched(path, digest, listing):
    assert _sha(path) == digest
    # nothing was written next to it either (a read-only look may leave an empty
    # write-ahead log and its index, but no data)
    for extra in set(os.listdir(path.parent)) - listing:
        assert extra in {path.name + "-wal", path.name + "-shm"}, extra
        if extra.endswith("-wal"):
            assert os.path.getsize(path.parent / extra) == 0


@pytest.mark.parametrize(
    "change,name",
    [
        (dict(chunk_size=60_000), "chunk_size"),
        (dict(hi=1_000_002), "hi"),
        (dict(lo=2), "lo"),
        (dict(method="trial"), "method"),
        (dict(amicable=True), "amicable"),
        (dict(schedule="guided"), "schedule"),
    ],
)
def test_other_parameters_refused(tmp_path, change, name):
    path = tmp_path / "j.sqlite"
    _make_journal(path)
    digest, listing = _sha(path), set(os.listdir(tmp_path))
    args = dict(backend="serial", chunk_size=50_000, method="sieve", amicable=False)
    lo, hi = change.pop("lo", 1), change.pop("hi", 1_000_001)
    args.update(change)
    with pytest.raises(JournalError, match=f"'{name}'") as info:
        search(lo, hi, journal=path, **args)
    assert str(path) in str(info.value)
    _assert_untouched(path, digest, listing)
    # and the journal still works with its own parameters
    again = _make_journal(path)
    assert again.resumed == again.chunks == 20


def test_truncated_journal_refused(tmp_path):
    real = tmp_path / "real.sqlite"
    _make_journal(real, chunk_size=2_000)  # 500 chunks: many pages
    broken = tmp_path / "broken.sqlite"
    shutil.copy(real, broken)
    with open(broken, "r+b") as f:
        f.truncate(os.path.getsize(broken) // 2)
    _assert_refused(broken, r"broken\.sqlite", chunk_size=2_000)


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database\n" * 200,
        bytes(range(256)) * 64,
        b"SQLite format 3\x00" + b"\xff" * 4000,
    ],
)
def test_non_sqlite_file_refused(tmp_path, content):
    path = tmp_path / "j.sqlite"
    path.write_bytes(content)
    listing = set(os.listdir(tmp_path))
    with pytest.raises(JournalError):
        _make_journal(path)
    assert path.read_bytes() == content
    _assert_untouched(path, _sha(path), listing)


def _write(path, *statements):
    """Run SQL ``statements`` on the database at ``path``, and commit."""
    db = sqlite3.connect(path)
    try:
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()


def _assert_refused(path, match, **kw):
    """A search with the journal at ``path`` is refused, and the file left untouched."""
    digest, listing = _sha(path), set(os.listdir(path.parent))
    with pytest.raises(JournalError, match=match):
        _make_journal(path, **kw)
    _assert_untouched(path, digest, listing)


def test_other_sqlite_database_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    _write(path, "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('hello')")
    _assert_refused(path, "not a perfectly journal")


def test_newer_format_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    _make_journal(path)
    _write(path, "UPDATE meta SET value='99' WHERE key='format'")
    _assert_refused(path, "99")


def _edit(path, *statements):
    db = sqlite3.connect(path)
    for sql in statements:
        db.execute(sql)
    db.commit()
    db.close()


def _refused_as_changed(path, **kw):
    with pytest.raises(JournalError, match="changed since it was written"):
        _make_journal(path, **kw)


def test_tampered_sigma_is_not_returned(tmp_path):
    path = tmp_path / "j.sqlite"
    _make_journal(path)
    _edit(path, "UPDATE chunks SET sigma_sum = sigma_sum + 1 WHERE idx = 3")
    _refused_as_changed(path)


# The hand edits of the attacker's report (2026-12-05), each of which verified before rows
# were signed: the class split moved, a multiply-perfect number dropped, every abundant
# number called deficient, the amicable pairs blanked.
HAND_EDITS = {
    "split": ["UPDATE chunks SET abundant = abundant - 5, deficient = deficient + 5 WHERE idx = 3"],
    "found": ["UPDATE chunks SET found = '[[6,2],[28,2],[496,2],[8128,2]]' WHERE idx = 0"],
    "all-deficient": ["UPDATE chunks SET deficient = deficient + abundant, abundant = 0"],
    "amicable": ["UPDATE chunks SET amicable = NULL"],
    "worker": ["UPDATE chunks SET worker = 7 WHERE idx = 1"],
}


@pytest.mark.parametrize("edit", sorted(HAND_EDITS))
def test_hand_edited_rows_are_refused(tmp_path, edit):
    path = tmp_path / "j.sqlite"
    expected = _make_journal(path, amicable=True).census
    _edit(path, *HAND_EDITS[edit])
    _refused_as_changed(path, amicable=True)
    path.unlink()  # and a fresh run gives the true census again
    assert _make_journal(path, amicable=True).census == expected


def test_an_edit_in_the_wal_file_alone_is_refused(tmp_path):
    path = tmp_path / "j.sqlite"
    _make_journal(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("UPDATE chunks SET abundant = abundant - 5, deficient = deficient + 5 WHERE idx = 3")
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("j.sqlite", "j.sqlite-wal"):  # the edit lives in the -wal file only
        shutil.copyfile(tmp_path / name, copy / name)
    db.close()
    _refused_as_changed(copy / "j.sqlite")


def test_a_row_from_a_journal_of_other_parameters_is_refused(tmp_path):
    source, target = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    search(1, 2_000_001, backend="serial", chunk_size=50_000, journal=source)
    _make_journal(target)
    db = sqlite3.connect(target)
    db.execute("ATTACH DATABASE ? AS other", (str(source),))
    db.execute("DELETE FROM chunks WHERE idx = 2")
    db.execute("INSERT INTO chunks SELECT * FROM other.chunks WHERE idx = 2")
    db.commit()
    db.close()
    _refused_as_changed(target)


def _resign(path):
    """Sign every row again with this session's key: what only a key holder can do."""
    from perfectly import _journal_key

    key = _journal_key.load_key()
    db = sqlite3.connect(path)
    params = json.loads(db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()[0])
    for *values, _ in db.execute("SELECT * FROM chunks").fetchall():
        mac = _journal_key.sign(key, params, tuple(values))
        db.execute("UPDATE chunks SET mac = ? WHERE idx = ?", (mac, values[0]))
    db.commit()
    db.close()


def test_a_wrong_sigma_signed_with_the_key_fails_the_closed_form(tmp_path):
    path = tmp_path / "j.sqlite"
    _make_journal(path)
    _edit(path, "UPDATE chunks SET sigma_sum = sigma_sum + 1 WHERE idx = 3")
    _resign(path)
    with pytest.raises(perfectly.VerificationError, match="closed form"):
        _make_journal(path)


def test_a_journal_signed_with_another_key_is_refused_naming_the_key(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite"
    _make_journal(path)
    other = tmp_path / "other.key"
    monkeypatch.setenv("PERFECTLY_JOURNAL_KEY", str(other))
    with pytest.raises(JournalError, match=re.escape(str(other))):
        _make_journal(path)
    assert other.exists()  # a new key was made for this "user"


def test_the_key_is_private_and_made_once(tmp_path, monkeypatch):
    from perfectly import _journal_key

    path = tmp_path / "config" / "perfectly" / "journal.key"
    monkeypatch.setenv("PERFECTLY_JOURNAL_KEY", str(path))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:  # made at once by eight runs
        keys = set(pool.map(lambda _: _journal_key.load_key(), range(8)))
    assert len(keys) == 1 and len(keys.pop()) == 32
    assert os.listdir(path.parent) == ["journal.key"]  # no temporary file left
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", ["", "not hex" * 10, "ab" * 31, "zz" * 32])
def test_a_bad_key_file_is_refused_naming_it(tmp_path, monkeypatch, content):
    key = tmp_path / "journal.key"
    key.write_text(content)
    monkeypatch.setenv("PERFECTLY_JOURNAL_KEY", str(key))
    with pytest.raises(JournalError, match="is not a perfectly key"):
        _make_journal(tmp_path / "j.sqlite")
    assert key.read_text() == content
    assert not (tmp_path / "j.sqlite").exists()  # refused before the journal was made


def test_a_format_1_journal_is_refused_as_older(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE chunks (idx INTEGER PRIMARY KEY, lo TEXT, hi TEXT,"
        " sigma_sum TEXT, abundant TEXT, deficient TEXT, found TEXT, amicable TEXT,"
        " worker INTEGER, busy REAL)"
    )
    db.execute("INSERT INTO meta VALUES ('format', '1'), ('params', '{}')")
    db.commit()
    db.close()
    digest = _sha(path)
    with pytest.raises(JournalError, match=r"older perfectly \(journal format 1"):
        _make_journal(path)
    assert _sha(path) == digest


def _is_decimal(text):
    return isinstance(text, str) and text.isascii() and text.isdigit()


def test_journal_holds_plain_data_only(tmp_path):
    path = tmp_path / "j.sqlite"
    result = search(
        1, 300_001, backend="threads", workers=2, chunk_size=30_000, amicable=True, journal=path
    )
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert sorted(tables) == ["chunks", "meta"]
        for table in tables:
            for _, column, declared, *_ in db.execute(f"PRAGMA table_info({table})"):
                assert declared in {"TEXT", "INTEGER", "REAL"}, (table, column, declared)
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                kinds = {k for (k,) in db.execute(f"SELECT DISTINCT typeof({column}) FROM {table}")}
                assert kinds <= {"text", "integer", "real", "null"}, (table, column, kinds)
        meta = dict(db.execute("SELECT key, value FROM meta"))
        rows = db.execute(
            "SELECT idx, lo, hi, sigma_sum, abundant, deficient, found, amicable, worker, busy"
            " FROM chunks ORDER BY idx"
        ).fetchall()
    finally:
        db.close()
    assert set(meta) == {"format", "params"}
    assert _is_decimal(meta["format"])
    params = json.loads(meta["params"])
    assert isinstance(params, dict)
    assert params["lo"] == "1" and params["hi"] == "300001"
    assert len(rows) == result.chunks == 10
    total = abundant = deficient = 0
    found, pairs = [], []
    for idx, lo, hi, s, a, d, f, p, worker, busy in rows:
        assert isinstance(idx, int) and isinstance(worker, int) and isinstance(busy, float)
        for text in (lo, hi, s, a, d):
            assert _is_decimal(text), text
            decimal.Decimal(text)
        assert int(lo) == 1 + 30_000 * idx and int(hi) == int(lo) + 30_000
        total += int(s)
        abundant += int(a)
        deficient += int(d)
        found += [tuple(x) for x in json.loads(f)]
        pairs += [tuple(x) for x in json.loads(p)]
    want = census(1, 300_001, amicable=True)
    assert total == want.sigma_sum
    assert (abundant, deficient) == (want.abundant, want.deficient)
    assert sorted(n for n, k in found if k == 2) == list(want.perfect)
    assert sorted(pairs) == list(want.amicable)


def test_sigma_sum_beyond_64_bits_stored_exactly(tmp_path):
    # Σσ over [2**54, 2**54 + 4000) ≈ 1.2e20, and each 2000-number chunk ≈ 6e19 > 2**64.
    # (Near 2**60 the run's closed-form check alone would cost seconds: O(√hi).)
    lo, hi, size = 2**54, 2**54 + 4_000, 2_000
    path = tmp_path / "j.sqlite"
    result = search(lo, hi, backend="serial", chunk_size=size, journal=path)
    want = census(lo, hi)
    assert result.census == want
    assert want.sigma_sum > 2**65
    rows = _rows(path)
    assert len(rows) == 2
    for _, c_lo, c_hi, text, *_ in rows:
        part = census(int(c_lo), int(c_hi)).sigma_sum
        assert part > 2**64
        assert text == str(part)
    assert sum(int(r[3]) for r in rows) == want.sigma_sum
    again = search(lo, hi, backend="serial", chunk_size=size, journal=path)
    assert again.resumed == 2 and again.census == want


# A run SIGKILLed while it creates its journal: between sqlite3.connect (which makes
# the file) and the commit of the journal's tables.
_KILLED_WHILE_CREATING = textwrap.dedent(
    """
    import os, signal, sqlite3, sys
    import perfectly, perfectly.journal as journal

    class Dies:
        def __init__(self, db):
            self.db = db
        def execute(self, sql, *args):
            if sql.startswith(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)
            return self.db.execute(sql, *args)
        def __enter__(self):
            return self.db.__enter__()
        def __exit__(self, *exc):
            return self.db.__exit__(*exc)
        def __getattr__(self, name):
            return getattr(self.db, name)

    class Module:
        Error = sqlite3.Error
        @staticmethod
        def connect(*args, **kw):
            return Dies(sqlite3.connect(*args, **kw))

    journal.sqlite3 = Module
    perfectly.search(1, 1_000_001, backend="serial", chunk_size=50_000, journal=sys.argv[1])
    """
)


@pytest.mark.parametrize("at", ["PRAGMA journal_mode", "BEGIN EXCLUSIVE", "INSERT INTO meta"])
def test_killed_while_creating_journal_can_resume(tmp_path, at):
    path = tmp_path / "j.sqlite"
    src = os.path.dirname(os.path.dirname(perfectly.__file__))  # the package under test
    env = dict(os.environ, PYTHONPATH=src)
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_CREATING, str(path), at],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == -9, proc.stderr
    assert path.exists()
    result = _make_journal(path)
    assert result.census == census(1, 1_000_001)


# --------------------------------------------------------------------------
# Journals this process may read but not write, and journals a killed run left
# needing recovery (issue 13, items 9 and the read-only first look)
# --------------------------------------------------------------------------

SMALL = ("1", "200001", "--backend", "serial", "--chunk-size", "50000")  # 4 chunks


def _unprivileged():
    """A command prefix for a child that obeys file permissions. Root ignores them, so
    as root ``setpriv`` drops every capability (uid 0 then obeys the mode bits like
    anyone); another user needs nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a directory read-only to us")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"]


def _run_unprivileged(*args):
    from conftest import CHILD_ENV, CLI

    return subprocess.run(
        [*_unprivileged(), *CLI, *args], capture_output=True, text=True, timeout=60, env=CHILD_ENV
    )


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory, made read-only (mode 555) once the test has filled it."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def _seal(folder):
    folder.chmod(0o555)
    probe = subprocess.run(
        [
            *_unprivileged(),
            sys.executable,
            "-c",
            "import sys; open(sys.argv[1], 'w')",
            str(folder / "p"),
        ],
        capture_output=True,
    )
    if probe.returncode == 0:
        pytest.skip("this file system lets us write to a read-only directory")


def _search_json(*args):
    proc = _run_unprivileged("search", *SMALL, "--json", *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("file_mode", [0o644, 0o444], ids=["file-rw", "file-ro"])
def test_whole_journal_in_read_only_directory_is_resumed(read_only_dir, file_mode):
    path = read_only_dir / "j.sqlite"
    first = search(1, 200_001, backend="serial", chunk_size=50_000, journal=path)
    path.chmod(file_mode)
    _seal(read_only_dir)
    out = _search_json("--journal", str(path))
    assert out["resumed"] == out["chunks"] == 4 and out["verified"]
    assert {k: out[k] for k in first.census.to_dict()} == first.census.to_dict()
    assert first.census == census(1, 200_001)
    assert sorted(os.listdir(read_only_dir)) == ["j.sqlite"]


def test_part_journal_in_read_only_directory_is_a_clear_error(read_only_dir):
    path = read_only_dir / "j.sqlite"
    search(1, 200_001, backend="serial", chunk_size=50_000, journal=path)
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM chunks WHERE idx = 3")
    db.close()
    _seal(read_only_dir)
    proc = _run_unprivileged("search", *SMALL, "--journal", str(path))
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], proc.stderr
    assert "cannot be written" in lines[0] and "3 finished chunks" in lines[0], lines[0]
    assert "corrupt" not in lines[0]


def test_new_journal_in_read_only_directory_is_a_clear_error(read_only_dir):
    _seal(read_only_dir)
    path = read_only_dir / "new.sqlite"
    proc = _run_unprivileged("search", *SMALL, "--journal", str(path))
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "cannot be created" in lines[0], lines
    assert os.listdir(read_only_dir) == []


# A journaled search SIGKILLed right after its last chunk was recorded: the journal is
# whole, but still in WAL mode, with its -wal and -shm files.
_KILLED_AFTER_LAST_CHUNK = """
import os, signal, sys, perfectly
def progress(done, total):
    if done == total:
        os.kill(os.getpid(), signal.SIGKILL)
perfectly.search(1, 200_001, backend="serial", chunk_size=50_000, journal=sys.argv[1],
                 progress=progress)
"""


@pytest.mark.parametrize("shm", ["kept", "removed"])
def test_killed_wal_journal_in_read_only_directory_is_resumed(read_only_dir, shm):
    from conftest import CHILD_ENV

    path = read_only_dir / "j.sqlite"
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_AFTER_LAST_CHUNK, str(path)], env=CHILD_ENV, timeout=60
    )
    assert proc.returncode == -9
    assert (read_only_dir / "j.sqlite-wal").exists()
    if shm == "removed":
        (read_only_dir / "j.sqlite-shm").unlink()
    _seal(read_only_dir)
    if shm == "kept":  # SQLite reads it in place (and may not write it back to one file)
        out = _search_json("--journal", str(path))
        assert out["resumed"] == out["chunks"] == 4 and out["verified"]
        assert out["sigma_sum"] == census(1, 200_001).sigma_sum
        return
    # SQLite cannot open a WAL journal without its -shm where it may not create one:
    # a clear error, never "corrupt"
    proc = _run_unprivileged("search", *SMALL, "--journal", str(path))
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "-shm" in lines[0], lines
    assert "corrupt" not in lines[0]


# A run SIGKILLed inside a write transaction that had already spilled pages into the
# file: a hot rollback journal is left, which a read-only connection may not roll back
# (SQLITE_READONLY_ROLLBACK). Our journals meet this when a run dies while it changes
# the journal mode (opening: to WAL; closing: back to a single file).
_KILLED_WITH_A_HOT_JOURNAL = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size=10")
db.execute("BEGIN IMMEDIATE")
db.execute("DELETE FROM chunks")
db.executemany("INSERT INTO meta VALUES (?, ?)", ((f"k{i}", "x" * 1000) for i in range(200)))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_hot_journal_left_by_a_killed_run_is_recovered(tmp_path):
    path = tmp_path / "j.sqlite"
    first = search(1, 200_001, backend="serial", chunk_size=50_000, journal=path)
    proc = subprocess.run([sys.executable, "-c", _KILLED_WITH_A_HOT_JOURNAL, str(path)], timeout=60)
    assert proc.returncode == -9 and (tmp_path / "j.sqlite-journal").exists()
    again = search(1, 200_001, backend="serial", chunk_size=50_000, journal=path)
    assert again.resumed == again.chunks == 4
    assert again.census == first.census == census(1, 200_001)
    assert not (tmp_path / "j.sqlite-journal").exists()


def test_hot_journal_that_cannot_be_recovered_is_a_clear_error(read_only_dir):
    path = read_only_dir / "j.sqlite"
    search(1, 200_001, backend="serial", chunk_size=50_000, journal=path)
    proc = subprocess.run([sys.executable, "-c", _KILLED_WITH_A_HOT_JOURNAL, str(path)], timeout=60)
    assert proc.returncode == -9
    _seal(read_only_dir)  # the hot journal cannot be rolled back, nor deleted
    proc = _run_unprivileged("search", *SMALL, "--journal", str(path))
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "recovery" in lines[0], lines


# A child that opens a journal, records three chunks and closes it, over and over: every
# open and close changes the journal mode (to WAL and back), the moments where a kill
# leaves a hot rollback journal.
_OPEN_RECORD_CLOSE = """
import sys
from perfectly.census import Census
from perfectly.journal import Journal
from perfectly.parallel import ChunkResult
from perfectly.planning import Chunk
i = 0
print("ready", flush=True)
while True:
    with Journal(sys.argv[1], {"test": 1}) as book:
        for _ in range(3):
            part = Census.from_summary(i + 1, i + 2, (1, 0, 1, []))
            book.record(ChunkResult(Chunk(i, i + 1, i + 2), part, 0, 0.0))
            i += 1
"""


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_while_opening_and_closing_journals(tmp_path):
    """30 SIGKILLs at random moments: every journal left is read and joined, and holds
    chunks 0 … n-1 exactly once. Before the read-write fallback, about one kill in
    three left a hot journal that was refused as corrupt."""
    from conftest import CHILD_ENV

    from perfectly.journal import Journal, read_meta

    rng = random.Random(13)
    hot = 0
    for trial in range(30):
        path = tmp_path / f"j{trial}.sqlite"
        proc = subprocess.Popen(
            [sys.executable, "-c", _OPEN_RECORD_CLOSE, str(path)],
            stdout=subprocess.PIPE,
            env=CHILD_ENV,
        )
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.2))
        proc.kill()
        proc.wait()
        proc.stdout.close()
        hot += (tmp_path / f"j{trial}.sqlite-journal").exists()
        read_meta(path)  # None if it died creating the tables; never an error
        with Journal(path, {"test": 1}) as book:
            indices = [r.chunk.index for r in book.finished()]
        assert indices == list(range(len(indices))), indices
    print(f"30 kills, {hot} left a hot rollback journal")


def test_search_without_a_journal_never_imports_sqlite3(tmp_path):
    # Worker interpreters import perfectly; sqlite3 comes only with a journal (on CPython
    # 3.13.0 its first import in several own-GIL interpreters at once crashes the process).
    code = (
        "import sys, perfectly\n"
        "perfectly.search(1, 10_000, backend='threads', workers=2)\n"
        "assert 'sqlite3' not in sys.modules, 'sqlite3 imported without a journal'\n"
        "perfectly.search(1, 10_000, journal=sys.argv[1])\n"
        "assert 'sqlite3' in sys.modules\n"
    )
    journal = str(tmp_path / "run.sqlite")
    done = subprocess.run([sys.executable, "-c", code, journal], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs POSIX resource limits")
def test_a_full_disk_while_journaling_is_one_line_and_resumes(tmp_path):
    """A journal that cannot grow (a file-size limit stands in for a full disk) ends the
    run with one line naming the journal; the chunks recorded before resume."""
    from conftest import CHILD_ENV

    path = tmp_path / "j.sqlite"
    limited = textwrap.dedent(
        """
        import resource, runpy, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.RLIM_INFINITY))
        sys.argv = ["perfectly", *sys.argv[1:]]
        runpy.run_module("perfectly", run_name="__main__")
        """
    )
    argv = ["search", "1", "2e6", "--backend", "serial", "--chunk-size", "1000", "--journal"]
    full = subprocess.run(
        [sys.executable, "-c", limited, *argv, str(path)],
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert full.returncode == 2, full.stderr
    assert full.stderr.count("\n") == 1 and "cannot be written" in full.stderr
    assert str(path) in full.stderr and "Traceback" not in full.stderr
    resumed = search(1, 2_000_000, backend="serial", chunk_size=1000, journal=path)
    assert 0 < resumed.resumed < 2000 and resumed.census == census(1, 2_000_000)
