"""Journaled searches: finished chunks recorded in SQLite, so a killed run can resume.

One transaction per chunk, in WAL mode: a process killed at any instant leaves every
finished chunk recorded once and no half-written one. The journal holds plain data
(integers as decimal text, lists as JSON), never pickles. A journal is trusted only if
it is exactly ours: the path is a path (never parsed as an SQLite URI), an existing
file is first read read-only with ``trusted_schema=OFF``, and its schema must be
exactly the two tables this module creates (no trigger, no view, nothing else), so
opening someone else's journal runs no code. Creation and the parameter check happen
in one exclusive transaction, so two runs starting on one new journal at once either
agree on its parameters (and both record the same chunks) or the second is refused.
Each row is signed with this user's journal key (:mod:`perfectly._journal_key`): a row
altered after it was written, in the file or in its ``-wal`` file, is refused when read
back, and each resumed chunk is also checked for consistency by the search
(:func:`check_part`). A journal made with other parameters, by another format, corrupt
or not SQLite at all is refused with ``JournalError`` naming the file, and the file is
left untouched.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from perfectly import _journal_key
from perfectly._validate import check_journal_path
from perfectly.census import Census
from perfectly.parallel import ChunkResult
from perfectly.planning import Chunk

FORMAT = 2
#: Seconds a run waits for another run's transaction on the same journal.
BUSY_TIMEOUT = 30.0
_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks (idx INTEGER PRIMARY KEY, lo TEXT, hi TEXT,"
    " sigma_sum TEXT, abundant TEXT, deficient TEXT, found TEXT, amicable TEXT,"
    " worker INTEGER, busy REAL, mac TEXT)",
)
#: The chunks table of format 1, whose rows were not signed: recognised, to say so.
_FORMAT1_CHUNKS = (
    "CREATE TABLE chunks (idx INTEGER PRIMARY KEY, lo TEXT, hi TEXT,"
    " sigma_sum TEXT, abundant TEXT, deficient TEXT, found TEXT, amicable TEXT,"
    " worker INTEGER, busy REAL)"
)
_SCHEMA_SQL = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"


class JournalError(RuntimeError):
    """The journal file cannot be used for this search.

    Raised by ``search(..., journal=FILE)`` (and the command line's ``--journal``) for a
    journal made with other arguments, a file that is not a journal or is corrupt, a row
    whose signature does not match, or a journal that cannot be written where it must
    be; the message names the file. The file is left as it was.

    Examples
    --------
    >>> import pathlib, tempfile, perfectly
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "notes.sqlite")
    ...     _ = path.write_text("not a journal")
    ...     try:
    ...         perfectly.search(1, 1000, backend="serial", journal=path)
    ...     except perfectly.JournalError as error:
    ...         print(type(error).__name__)
    JournalError
    """


def _our_schema() -> list[tuple[Any, ...]]:
    """``sqlite_master`` as our tables make it (read from a scratch in-memory database)."""
    db = sqlite3.connect(":memory:")
    try:
        for sql in _TABLES:
            db.execute(sql)
        return db.execute(_SCHEMA_SQL).fetchall()
    finally:
        db.close()


SCHEMA = _our_schema()


def _read_only(path: str) -> sqlite3.Connection:
    """A read-only connection; the path is quoted, so "?" and "#" stay part of the name."""
    db = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    db.execute("PRAGMA trusted_schema=OFF")
    return db


def _read_write(path: str) -> sqlite3.Connection:
    """A read-write connection (autocommit), ``trusted_schema`` off like the read-only one."""
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    db.execute("PRAGMA trusted_schema=OFF")
    return db


#: SQLite's answers when a read-only connection meets a journal that a killed run left
#: needing recovery: a hot rollback journal (the run died changing the journal mode) or
#: a WAL index to rebuild. A read-write connection recovers it as it opens.
_NEEDS_RECOVERY = ("SQLITE_READONLY_ROLLBACK", "SQLITE_READONLY_RECOVERY")


def _cannot_write(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says this process may not write the file or its directory."""
    name = getattr(exc, "sqlite_errorname", "")  # Python ≥ 3.11; else its message
    if name:
        return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"))
    return "readonly database" in str(exc) or "unable to open" in str(exc)


def _needs_recovery(exc: sqlite3.Error) -> bool:
    """Whether a read-only connection failed with ``exc`` because the file needs recovery."""
    name = getattr(exc, "sqlite_errorname", "")  # Python ≥ 3.11; else its message
    return name in _NEEDS_RECOVERY or (not name and "readonly database" in str(exc))


def _error(path: str, problem: str) -> JournalError:
    return JournalError(f"journal {path!r} {problem}")


def _checked_meta(path: str, db: sqlite3.Connection) -> dict[str, str] | None:
    """The meta table of the journal ``db`` if its schema is exactly ours; None if the
    database has no tables yet (its creation was cut short, or the file is empty)."""
    schema = db.execute(_SCHEMA_SQL).fetchall()
    if not schema:
        return None
    if schema != SCHEMA:
        if _FORMAT1_CHUNKS in {row[3] for row in schema}:
            raise _error(
                path,
                "was written by an older perfectly (journal format 1, whose rows are not "
                "signed), so its chunks cannot be checked: use another file",
            )
        ours = {row[1] for row in SCHEMA}
        extra = [f"{row[0]} {row[1]!r}" for row in schema if row not in SCHEMA]
        missing = sorted(ours - {row[1] for row in schema})
        raise _error(
            path,
            "is an SQLite file, but not a perfectly journal "
            f"(unexpected: {', '.join(extra) or 'none'}; missing: {', '.join(missing) or 'none'})",
        )
    (check,) = db.execute("PRAGMA quick_check").fetchone()
    if check != "ok":
        raise _error(path, f"is corrupt: {check}")
    return dict(db.execute("SELECT key, value FROM meta").fetchall())


def _unreadable(path: str, exc: sqlite3.Error) -> str:
    """Why a read-only connection could not read the file at ``path``."""
    if _cannot_write(exc):  # not the file's content: what this user may do
        return (
            f"cannot be opened: {exc} (may this user read it? A journal that a killed run "
            f"left in WAL mode also needs its -shm file, or leave to create it in "
            f"{os.path.dirname(path)!r})"
        )
    return f"is not a perfectly journal (or is corrupt): {exc}"


def _look(path: str, connect: Callable[[str], sqlite3.Connection]) -> dict[str, str] | None:
    db = connect(path)
    try:
        return _checked_meta(path, db)
    finally:
        db.close()


def read_meta(path: str | os.PathLike[str]) -> dict[str, str] | None:
    """The meta table of the journal at ``path``, read read-only; None if there is no
    journal there yet. ``JournalError`` for a file that is not exactly a journal.

    A journal that needs recovery after a killed run (``_NEEDS_RECOVERY``) is opened
    read-write instead, so that SQLite recovers it, and gets the same check."""
    path = check_journal_path(path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    try:
        return _look(path, _read_only)
    except sqlite3.Error as exc:
        if not _needs_recovery(exc):
            raise _error(path, _unreadable(path, exc)) from exc
        recovery = exc
    try:
        return _look(path, _read_write)
    except sqlite3.Error as exc:
        raise _error(
            path, f"needs recovery after a killed run ({recovery}), which failed: {exc}"
        ) from exc


def _params(path: str, meta: dict[str, str]) -> dict[str, Any]:
    try:
        version = int(meta.get("format", "0"))
        params = json.loads(meta.get("params", "{}"))
    except ValueError as exc:
        raise _error(path, f"has an unreadable meta table: {exc}") from exc
    if version != FORMAT:
        raise _error(path, f"has format {version}; this version reads {FORMAT}")
    if not isinstance(params, dict):
        raise _error(path, "has unreadable parameters")
    return params


def stored_params(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The search parameters a journal was made with, or None if there is none yet."""
    meta = read_meta(path)
    return None if meta is None else _params(check_journal_path(path), meta)


class Journal:
    """An open journal for one search's parameters."""

    def __init__(self, path: str | os.PathLike[str], params: dict[str, Any]) -> None:
        self.path = check_journal_path(path)
        self.params = params
        meta = read_meta(self.path)
        self._compare(meta)  # refused files are never opened for writing
        try:
            self._key = _journal_key.load_key()
        except _journal_key.JournalKeyError as exc:
            raise JournalError(str(exc)) from exc
        #: Why this journal cannot be written, or None: a whole journal this process may
        #: only read (a read-only file or directory) is still resumed from.
        self.read_only: str | None = None
        try:
            self._db = self._open_for_writing()
        except JournalError as exc:
            cause = exc.__cause__
            if meta is None or not (isinstance(cause, sqlite3.Error) and _cannot_write(cause)):
                raise
            self.read_only = str(cause)
            self._db = _read_only(self.path)

    def _open_for_writing(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)
        except sqlite3.Error as exc:
            folder = os.path.dirname(self.path)
            raise _error(
                self.path, f"cannot be created: {exc} (may this user write to {folder!r}?)"
            ) from exc
        try:
            self._create_or_join(db)
        except BaseException:
            db.close()
            raise
        return db

    def _create_or_join(self, db: sqlite3.Connection) -> None:
        """``_create``, tried again while another run holds a lock SQLite does not wait
        for (changing the journal mode, say), for up to ``BUSY_TIMEOUT`` s."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                return self._create(db)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise _error(self.path, f"cannot be written: {exc}") from exc
            except sqlite3.Error as exc:
                raise _error(self.path, f"cannot be written: {exc}") from exc
            time.sleep(0.05)

    def _create(self, db: sqlite3.Connection) -> None:
        """Create the tables, or check them and the parameters, in one exclusive
        transaction: a concurrent run sees either nothing or a whole journal."""
        db.execute("PRAGMA trusted_schema=OFF")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        with db:
            db.execute("BEGIN EXCLUSIVE")
            meta = _checked_meta(self.path, db)
            if meta is None:
                for sql in _TABLES:
                    db.execute(sql)
                db.execute(
                    "INSERT INTO meta VALUES ('format', ?), ('params', ?)",
                    (str(FORMAT), json.dumps(self.params, sort_keys=True)),
                )
            else:
                self._compare(meta)

    def _compare(self, meta: dict[str, str] | None) -> None:
        """Refuse a journal made with other parameters (None: no journal yet)."""
        if meta is None:
            return
        theirs = _params(self.path, meta)
        if theirs != self.params:
            diff = {k: (theirs.get(k), v) for k, v in self.params.items() if theirs.get(k) != v}
            raise _error(
                self.path,
                f"was made with other parameters (journal, now): {diff}; "
                "use another file or the same arguments",
            )

    def finished(self) -> Iterator[ChunkResult]:
        """The chunks this journal holds, in index order (their consistency is the
        caller's to check: see :func:`perfectly.census.check_part`)."""
        cursor: sqlite3.Cursor | None = None
        while True:  # a batch at a time: memory O(1) however many chunks there are
            try:
                if cursor is None:
                    cursor = self._db.execute("SELECT * FROM chunks ORDER BY idx")
                rows = cursor.fetchmany(1024)
            except sqlite3.Error as exc:
                raise _error(self.path, f"cannot be read: {exc}") from exc
            if not rows:
                return
            for row in rows:
                yield self._parse(row)

    def _parse(self, row: tuple[Any, ...]) -> ChunkResult:
        *values, mac = row
        if not _journal_key.valid(self._key, self.params, tuple(values), mac):
            raise _error(
                self.path,
                f"holds chunk row {row[:3]} changed since it was written (its signature "
                f"does not match, under the journal key {_journal_key.key_path()!r}; a "
                "journal written by another user or machine needs that one's key file)",
            )
        if (row[7] is None) == bool(self.params.get("amicable")):
            raise _error(self.path, f"holds chunk row {row[:3]} without its amicable pairs")
        try:
            idx, lo, hi, total, abundant, deficient, found, pairs, worker, busy = values
            census = Census.from_summary(
                int(lo),
                int(hi),
                (int(total), int(abundant), int(deficient), json.loads(found)),
                None if pairs is None else json.loads(pairs),
            )
            return ChunkResult(Chunk(int(idx), int(lo), int(hi)), census, int(worker), float(busy))
        except (TypeError, ValueError) as exc:
            raise _error(self.path, f"holds an unreadable chunk row {row[:3]}: {exc}") from exc

    def record(self, result: ChunkResult) -> None:
        """Record one finished chunk, in one transaction. A chunk already there (a
        concurrent run with the same parameters recorded it) is kept as it is."""
        if self.read_only is not None:
            raise _error(self.path, f"cannot be written: {self.read_only}")
        c, census = result.chunk, result.census
        pairs = None if census.amicable is None else json.dumps(census.amicable)
        values = (
            c.index,
            str(c.lo),
            str(c.hi),
            str(census.sigma_sum),
            str(census.abundant),
            str(census.deficient),
            json.dumps(census.found),
            pairs,
            result.worker,
            float(result.busy),
        )
        mac = _journal_key.sign(self._key, self.params, values)
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (idx) DO NOTHING",
                    (*values, mac),
                )
        except sqlite3.Error as exc:  # a full disk, say: what was recorded stays recorded
            raise _error(
                self.path,
                f"cannot be written: {exc} (the chunks recorded before are kept: make room "
                "and run the same command again to resume)",
            ) from exc

    def close(self) -> None:
        """Close; the journal goes back to one file (rollback mode) unless another run
        has it open, so that a later read-only look at it leaves no -wal/-shm files."""
        if self.read_only is not None:
            self._db.close()
            return
        try:
            self._db.execute("PRAGMA busy_timeout=0")
            self._db.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            pass  # another run has it open: it stays in WAL mode, and that run is fine
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
