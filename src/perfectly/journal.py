"""Journaled searches: finished chunks recorded in SQLite, so a killed run can resume.

One transaction per chunk, in WAL mode: a process killed at any instant leaves every
finished chunk recorded once and no half-written one. The journal holds plain data
(integers as decimal text, lists as JSON), never pickles, so opening a journal made
by someone else runs no code. A journal made with other parameters, from a newer
format, corrupt or not SQLite at all is refused, and the file is left untouched.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from perfectly.census import Census
from perfectly.parallel import ChunkResult
from perfectly.planning import Chunk

FORMAT = 1


class JournalError(RuntimeError):
    """The journal file cannot be used for this search."""


def _query(path: str, sql: str) -> list[Any]:
    """Rows of a read-only query; ``JournalError`` if the file is not a database."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise JournalError(
            f"journal {path!r} is not a perfectly journal (or is corrupt): {exc}"
        ) from exc


def read_meta(path: str | os.PathLike[str]) -> dict[str, str] | None:
    """The meta table of the journal at ``path``; None if there is no journal there yet."""
    path = os.fspath(path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    tables = {name for (name,) in _query(path, "SELECT name FROM sqlite_master")}
    if not tables:
        return None
    if "meta" not in tables:
        raise JournalError(f"journal {path!r} is an SQLite file, but not a perfectly journal")
    return dict(_query(path, "SELECT key, value FROM meta"))


def stored_params(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The search parameters a journal was made with, or None if there is none yet."""
    meta = read_meta(path)
    return None if meta is None else dict(json.loads(meta.get("params", "{}")))


class Journal:
    """An open journal for one search's parameters."""

    def __init__(self, path: str | os.PathLike[str], params: dict[str, Any]) -> None:
        self.path = os.fspath(path)
        self.params = params
        if os.path.exists(self.path):
            self._check_existing()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS chunks (idx INTEGER PRIMARY KEY, lo TEXT, hi TEXT,"
                    " sigma_sum TEXT, abundant TEXT, deficient TEXT, found TEXT, amicable TEXT,"
                    " worker INTEGER, busy REAL)"
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('format', ?), ('params', ?)",
                    (str(FORMAT), json.dumps(params, sort_keys=True)),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path!r} cannot be written: {exc}") from exc

    def _check_existing(self) -> None:
        """Refuse, without writing to it, a file that is not this search's journal.

        An empty file, or an SQLite database with no tables, is a journal whose
        creation was cut short (the process was killed): it is taken as new.
        """
        meta = read_meta(self.path)
        if meta is None:
            return
        (check,) = _query(self.path, "PRAGMA quick_check")[0]
        if check != "ok":
            raise JournalError(f"journal {self.path!r} is corrupt: {check}")
        version = int(meta.get("format", "0"))
        if version != FORMAT:
            raise JournalError(
                f"journal {self.path!r} has format {version}; this version reads {FORMAT}"
            )
        theirs = json.loads(meta.get("params", "{}"))
        if theirs != self.params:
            diff = {k: (theirs.get(k), v) for k, v in self.params.items() if theirs.get(k) != v}
            raise JournalError(
                f"journal {self.path!r} was made with other parameters "
                f"(journal, now): {diff}; use another file or the same arguments"
            )

    def finished(self) -> Iterator[ChunkResult]:
        """The chunks this journal holds."""
        rows = self._db.execute("SELECT * FROM chunks ORDER BY idx").fetchall()
        for idx, lo, hi, total, abundant, deficient, found, pairs, worker, busy in rows:
            census = Census.from_summary(
                int(lo),
                int(hi),
                (int(total), int(abundant), int(deficient), json.loads(found)),
                None if pairs is None else json.loads(pairs),
            )
            yield ChunkResult(Chunk(int(idx), int(lo), int(hi)), census, int(worker), float(busy))

    def record(self, result: ChunkResult) -> None:
        """Record one finished chunk, in one transaction."""
        c, census = result.chunk, result.census
        pairs = None if census.amicable is None else json.dumps(census.amicable)
        with self._db:
            self._db.execute(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c.index,
                    str(c.lo),
                    str(c.hi),
                    str(census.sigma_sum),
                    str(census.abundant),
                    str(census.deficient),
                    json.dumps(census.found),
                    pairs,
                    result.worker,
                    result.busy,
                ),
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
