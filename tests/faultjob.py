"""Test-only fault injection: a ``Job`` subclass that faults on one chunk.

Nothing in the installed package reads it, or anything from the environment, to inject
faults: the tests put it in place of ``Job`` in ``perfectly.search`` (:func:`inject`),
and it travels to every worker inside the pickled task (this module is importable
there: worker processes get the parent's ``sys.path``; a child Python gets this
directory on ``PYTHONPATH``).

Kinds: "raise", "exit" (SystemExit), "raise-unpicklable", "kill" (SIGKILL on the first
attempt only) and "kill-always", on the chunk that starts at ``at``. Each fault first
appends a line "KIND AT ATTEMPT" to ``log``; the attempt is the number of earlier lines
for the chunk.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import signal
import tempfile
from typing import Any

from perfectly.parallel import Job

HERE = os.path.dirname(os.path.abspath(__file__))


class InjectedFault(RuntimeError):
    """Raised by the test-only fault job."""


class Unpicklable(RuntimeError):
    def __reduce__(self) -> Any:
        raise TypeError("this exception cannot be pickled")


@dataclasses.dataclass(frozen=True)
class FaultyJob(Job):
    kind: str = "raise"
    at: int = 0
    log: str = ""

    def summarize(self, chunk, stop=None):
        if chunk.lo == self.at:
            self._fault()
        return super().summarize(chunk, stop)

    def _fault(self):
        with open(self.log, "a+") as f:
            f.seek(0)
            attempt = sum(1 for line in f if line.split()[:2] == [self.kind, str(self.at)])
            f.write(f"{self.kind} {self.at} {attempt}\n")
        if self.kind == "raise":
            raise InjectedFault(f"injected fault in chunk starting at {self.at}")
        if self.kind == "exit":
            raise SystemExit(f"injected exit in chunk starting at {self.at}")
        if self.kind == "raise-unpicklable":
            raise Unpicklable(f"injected unpicklable fault in chunk starting at {self.at}")
        if self.kind == "kill-always" or (self.kind == "kill" and attempt == 0):
            os.kill(os.getpid(), signal.SIGKILL)


def faulty(spec: str, log: str | os.PathLike[str] | None = None) -> functools.partial:
    """A stand-in for ``Job`` that makes FaultyJobs for ``spec`` ("KIND@LO")."""
    kind, _, at = spec.partition("@")
    if log is None:
        fd, log = tempfile.mkstemp(prefix="faults-", suffix=".log")
        os.close(fd)
    return functools.partial(FaultyJob, kind=kind, at=int(at), log=os.fspath(log))


def inject(monkeypatch, spec: str, log: str | os.PathLike[str] | None = None) -> None:
    """Make every search in this test fault as ``spec`` says."""
    module = importlib.import_module("perfectly.search")
    monkeypatch.setattr(module, "Job", faulty(spec, log))
