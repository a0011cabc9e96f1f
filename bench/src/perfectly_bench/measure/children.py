"""Child programs the benchmark runs for an answer (an interpreter's probe, the C
yardstick), read with a bound: a child that floods its output or never ends is stopped,
not read into memory without limit or waited for forever."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Sequence

#: The most output read from a child for an answer (a probe prints one line).
OUTPUT_LIMIT = 1 << 20


class OutputTooLong(subprocess.SubprocessError):
    """The child wrote more than the limit; it was stopped."""


def run_bounded(
    command: Sequence[str], *, timeout: float, limit: int = OUTPUT_LIMIT
) -> tuple[int, str]:
    """Run ``command`` and return (its exit status, its standard output as text); its
    standard error is discarded. ``OutputTooLong`` past ``limit`` bytes and
    ``subprocess.TimeoutExpired`` past ``timeout`` seconds, the child killed either way."""
    timed_out = threading.Event()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as child:

        def expire() -> None:
            timed_out.set()
            child.kill()

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            assert child.stdout is not None
            out = bytearray()
            while block := os.read(child.stdout.fileno(), 1 << 16):
                out += block
                if len(out) > limit:
                    child.kill()
                    raise OutputTooLong(f"{command[0]} wrote more than {limit:,} bytes")
            status = child.wait()
        finally:
            timer.cancel()
    if timed_out.is_set():
        raise subprocess.TimeoutExpired(list(command), timeout)
    return status, out.decode("utf-8", errors="replace")
