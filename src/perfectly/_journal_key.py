"""The key that signs a journal's rows: one secret per user, kept outside every journal.

A journal row is the census of one chunk; resuming takes it instead of computing it.
Each row carries an HMAC-SHA256 of its values and of the search's parameters under this
key, so a row altered after it was written (in the file, in its ``-wal`` file, or
copied from a journal of other parameters) is refused on resume. The key is 32 random
bytes, written once (hex, mode 0600) to ``$PERFECTLY_JOURNAL_KEY`` if set, else
``perfectly/journal.key`` in the user's configuration folder (``$XDG_CONFIG_HOME`` or
``~/.config``; ``%APPDATA%`` on Windows). Whoever can read the key can sign rows: it is
as private as the user's other secrets. A journal resumed by another user or machine
needs the same key file.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
from typing import Any

#: The environment variable that names the key file, overriding the default place.
ENV = "PERFECTLY_JOURNAL_KEY"
_HEX_DIGITS = 64


class JournalKeyError(RuntimeError):
    """The journal key file cannot be read or made (``perfectly.journal`` raises it as a
    ``JournalError``)."""


def key_path() -> str:
    """Where the journal key is (or will be) kept."""
    chosen = os.environ.get(ENV)
    if chosen:
        return os.path.abspath(chosen)
    if os.name == "nt":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "perfectly", "journal.key")


def load_key(path: str | None = None) -> bytes:
    """This user's journal key, made on first use; ``JournalKeyError`` naming the file."""
    path = key_path() if path is None else path
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise JournalKeyError(f"journal key {path!r} cannot be read: {exc}") from exc
    try:
        _create(path)
        return _read(path)
    except OSError as exc:
        raise JournalKeyError(
            f"journal key {path!r} cannot be made: {exc} (set {ENV} to a file this user may write)"
        ) from exc


def _read(path: str) -> bytes:
    with open(path, encoding="ascii", errors="replace") as file:
        text = file.read(_HEX_DIGITS + 2).strip()
    try:
        if len(text) != _HEX_DIGITS:
            raise ValueError(f"{len(text)} characters")
        return bytes.fromhex(text)
    except ValueError as exc:
        raise JournalKeyError(
            f"journal key {path!r} is not a perfectly key ({_HEX_DIGITS} hex digits): {exc}"
        ) from exc


def _create(path: str) -> None:
    """Write a new key to ``path`` unless one is there: written whole to a temporary file,
    then linked into place, so that two runs making it at once agree on one key."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".journal-key-")
    try:
        with os.fdopen(handle, "w", encoding="ascii") as file:  # mkstemp makes it 0600
            file.write(os.urandom(_HEX_DIGITS // 2).hex() + "\n")
        with contextlib.suppress(FileExistsError):  # another run made it first: theirs it is
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def sign(key: bytes, params: dict[str, Any], row: tuple[Any, ...]) -> str:
    """The HMAC-SHA256 (hex) of a journal row's values under ``key``, bound to the
    search's parameters, so that it holds only for this row of this search."""
    message = json.dumps([params, list(row)], sort_keys=True, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def valid(key: bytes, params: dict[str, Any], row: tuple[Any, ...], mac: object) -> bool:
    """Whether ``mac`` is the signature of ``row`` (compared in constant time)."""
    return isinstance(mac, str) and hmac.compare_digest(mac, sign(key, params, row))
