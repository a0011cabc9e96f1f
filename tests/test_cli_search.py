"""``python -m perfectly search``: numbers, JSON, exit codes, the progress bar, Ctrl-C,
and SIGKILL at random moments followed by resumes from the journal.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import random
import re
import select
import signal
import sqlite3
import struct
import subprocess
import termios
import time

import pytest
from conftest import CHILD_ENV as ENV
from conftest import CLI, children_of, end_process, run_cli, still_running

import perfectly
from perfectly import census, sum_sigma
from perfectly.journal import Journal, read_meta

JSON_KEYS = {
    "lo",
    "hi",
    "count",
    "sigma_sum",
    "perfect",
    "abundant",
    "deficient",
    "multiply_perfect",
    "amicable",
    "verified",
    "seconds",
    "backend",
    "workers",
    "chunks",
    "resumed",
}
CENSUS_KEYS = ("sigma_sum", "perfect", "abundant", "deficient", "multiply_perfect")

# The kill/resume runs: 100 chunks of 1e6 numbers on two worker processes, about
# 3–4 s for a whole run on this (busy, 2-core) machine.
BIG_HI = 100_000_001
BIG_CHUNK = 1_000_000


def big_command(journal=None):
    command = [
        *CLI,
        "search",
        "1",
        str(BIG_HI),
        "--backend",
        "processes",
        "--workers",
        "2",
        "--chunk-size",
        str(BIG_CHUNK),
        "--json",
    ]
    return command if journal is None else [*command, "--journal", str(journal)]


@pytest.fixture(scope="module")
def big_census():
    return census(1, BIG_HI)


def _census_json(c):
    return {k: v for k, v in c.to_dict().items() if k in CENSUS_KEYS}


# --------------------------------------------------------------------------
# numbers on the command line
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,value",
    [
        ("30000000", 30_000_000),
        ("30_000_000", 30_000_000),
        ("3e7", 30_000_000),
        ("2**20", 2**20),
        ("2**20-1", 2**20 - 1),
        ("2**64", 2**64),
    ],
)
def test_numbers_accepted(text, value):
    proc = run_cli("search", text, text, "--json")  # an empty range: instant
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert data["lo"] == data["hi"] == value
    assert data["count"] == 0


def test_number_forms_as_hi(brute):
    proc = run_cli("search", "2**10", "3e5", "--json", "--backend", "serial")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["lo"], data["hi"]) == (1024, 300_000)
    assert data["sigma_sum"] == int(brute.sigma_table(300_000)[1024:300_000].sum())


@pytest.mark.parametrize("text", ["3.5", "1e-3", "abc", "2**", "", "1e", "0x10", "2**-1"])
def test_numbers_rejected(text):
    proc = run_cli("search", "1", text)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error" in lines[0]


@pytest.mark.parametrize(
    "args,status,words",
    [
        (["search", "10", "5"], 2, ["lo", "hi"]),
        (["search", "0", "5"], 2, ["lo"]),
        (["search", "1", "2**64+1"], 2, ["hi"]),
        (["search", "1", "10", "--backend", "nope"], 2, ["backend"]),
        (["search", "1", "10", "--workers", "0"], 2, ["workers"]),
        (["search", "1", "10", "--chunk-size", "0"], 2, ["chunk"]),
        (["search", "1", "2**62", "--method", "trial"], 2, ["trial"]),
        (["search", "1", "2**62", "--amicable"], 2, ["amicable"]),
        (["search", "1", "10", "--backend", "threads", "--scheduler", "tcp://x:1"], 2, ["dask"]),
        (["search", "1"], 2, ["hi"]),
        (["nope"], 2, []),
    ],
)
def test_bad_command_lines(args, status, words):
    proc = run_cli(*args)
    assert proc.returncode == status, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_journal_of_other_search_exit_2(tmp_path):
    path = tmp_path / "j.sqlite"
    first = run_cli("search", "1", "1e6", "--chunk-size", "100000", "--journal", str(path))
    assert first.returncode == 0, first.stderr
    before = path.read_bytes()
    proc = run_cli("search", "1", "1e6", "--chunk-size", "200000", "--journal", str(path))
    assert proc.returncode == 2  # a bad --journal is a bad argument (issue 13)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "chunk_size" in lines[0], proc.stderr
    assert path.read_bytes() == before


# --------------------------------------------------------------------------
# --json
# --------------------------------------------------------------------------


def test_json_schema(brute):
    proc = run_cli(
        "search", "1", "1e6", "--json", "--amicable", "--backend", "threads", "--workers", "2"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert set(data) == JSON_KEYS
    table = brute.sigma_table(10**6)
    assert (data["lo"], data["hi"], data["count"]) == (1, 10**6, 10**6 - 1)
    assert type(data["sigma_sum"]) is int
    assert data["sigma_sum"] == int(table[1 : 10**6].sum())
    assert data["perfect"] == [6, 28, 496, 8128]
    assert data["multiply_perfect"][:2] == [[120, 3], [672, 3]]
    assert all(isinstance(m, list) and len(m) == 2 for m in data["multiply_perfect"])
    assert data["amicable"][:2] == [[220, 284], [1184, 1210]]
    assert data["abundant"] + data["deficient"] + len(data["perfect"]) == data["count"]
    assert data["verified"] is True
    assert isinstance(data["seconds"], float) and data["seconds"] >= 0
    assert data["backend"] == "threads" and data["workers"] == 2
    assert isinstance(data["chunks"], int) and data["chunks"] >= 1
    assert data["resumed"] == 0
    want = census(1, 10**6, amicable=True)
    assert {k: data[k] for k in CENSUS_KEYS} == _census_json(want)
    assert data["amicable"] == want.to_dict()["amicable"]


def test_json_without_amicable_and_text_output():
    proc = run_cli("search", "1", "1e4", "--json", "--backend", "serial")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert set(data) == JSON_KEYS
    assert data["amicable"] is None
    assert data["workers"] == 1
    text = run_cli("search", "1", "1e4", "--backend", "serial")
    assert text.returncode == 0 and text.stderr == ""
    assert "8128" in text.stdout and "verified" in text.stdout


# --------------------------------------------------------------------------
# the progress bar: on a terminal only
# --------------------------------------------------------------------------

BAR_ARGS = ["search", "1", "3e7", "--backend", "threads", "--workers", "2", "--chunk-size", "1e6"]


def _read_all(fd, proc, timeout):
    """What the child wrote to the terminal ``fd`` until it ended; a test failure naming
    what it showed if it runs past ``timeout`` s (it is killed then)."""
    out = b""
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            continue  # the loop condition ends it at the deadline
        try:
            data = os.read(fd, 65536)
        except OSError as exc:  # EIO: the other side is closed
            if exc.errno != errno.EIO:
                raise
            break
        if not data:
            break
        out += data
    try:
        proc.wait(timeout=max(1, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        text = out.decode("utf-8", "replace")[-2000:]
        pytest.fail(f"the CLI did not finish within {timeout} s; it showed: {text}")
    return out.decode("utf-8", "replace")


def _on_a_terminal(args, stderr=None, timeout=50):
    """Run the CLI with stdout on a pseudo-terminal of 100 columns, and stderr too
    unless ``stderr`` says where it goes: (process, what the terminal showed); a test
    failure if it runs past ``timeout`` s."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.Popen(
            [*CLI, *args],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave if stderr is None else stderr,
            env=ENV,
        )
    finally:
        os.close(slave)
    try:
        return proc, _read_all(master, proc, timeout)
    finally:
        os.close(master)


@pytest.mark.timeout(60)
def test_progress_bar_on_a_terminal():
    proc, out = _on_a_terminal(BAR_ARGS)
    assert proc.returncode == 0, out
    assert "n/s" in out and "%|" in out, out
    assert "100%" in out, out
    assert "sum of sigma" in out  # the text report follows the bar


@pytest.mark.timeout(300)
def test_progress_bar_by_estimated_work_from_2_32_numbers():
    """A range of 2**32 numbers or more: the bar fills by the estimate's work and shows
    numbers done and an ETA (from the second report on) instead of numbers per second.
    (About 15 s on 2 quiet CPUs here: the time allowed is for a machine at load 10.)"""
    args = ["search", "1", str(2**32 + 1), "--backend", "threads", "--workers", "2"]
    proc, out = _on_a_terminal(args, timeout=240)
    assert proc.returncode == 0, out
    assert "of 4,294,967,296 numbers" in out, out
    assert "ETA 0:" in out, out
    assert "100%|" in out, out
    assert "n/s" not in out
    assert "sum of sigma" in out


@pytest.mark.timeout(120)
def test_a_resumed_search_counts_read_back_and_computed_work_apart(tmp_path):
    """With 3/4 of the work read back from a journal, the bar showed 165 Gn/s and an ETA
    far too short, and the summary "N numbers in t s" counted the read-back numbers
    as done in t (2026-12-05). The first report is the bar's baseline now."""
    journal = str(tmp_path / "j.sqlite")
    args = [*BAR_ARGS, "--backend", "serial", "--journal", journal]

    def stop_after(k):
        calls = []

        def progress(done, total):
            calls.append(done)
            if len(calls) >= k:
                raise KeyboardInterrupt

        return progress

    with pytest.raises(KeyboardInterrupt):  # 22 of 30 chunks into the journal
        perfectly.search(
            1,
            30_000_000,
            backend="serial",
            chunk_size=10**6,
            journal=journal,
            progress=stop_after(22),
        )
    proc, out = _on_a_terminal(args)
    assert proc.returncode == 0, out
    assert "; 22,000,000 read back from the journal, 7,999,999 computed)" in out, out
    scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    shown = [float(x) * scale[u] for x, u in re.findall(r"([0-9.]+)([kMGT]?)n/s", out)]
    (seconds,) = re.findall(r"numbers in ([0-9.]+) s", out)
    true_rate = 7_999_999 / float(seconds)  # at least: the wall time has more than chunks
    assert shown and max(shown) < 2.5 * true_rate, (shown, true_rate, out)


@pytest.mark.timeout(60)
def test_a_long_search_says_first_how_long_and_what_it_adds():
    """[1, 1e13) takes hours here: the terminal is told so, and that the even perfect
    numbers follow from the Mersenne primes, before the search starts."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*CLI, "search", "1", "1e13", "--workers", "2"],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=ENV,
        )
    finally:
        os.close(slave)
    try:
        seen, end = b"", time.monotonic() + 40
        while b"Euclid-Euler" not in seen and time.monotonic() < end:
            seen += os.read(master, 65536)
        proc.send_signal(signal.SIGINT)
        seen += _read_all(master, proc, 30).encode()
    finally:
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert re.search(r"this takes about \d+ h", text), text
    assert "Mersenne prime" in text and "odd ones included" in text and "--journal" in text
    assert proc.returncode == 130


@pytest.mark.timeout(60)
def test_no_progress_bar_on_a_terminal_with_no_progress():
    proc, out = _on_a_terminal([*BAR_ARGS, "--no-progress"])
    assert proc.returncode == 0, out
    assert "%|" not in out and "n/s" not in out, out
    assert "sum of sigma" in out


@pytest.mark.timeout(60)
def test_no_progress_bar_without_a_terminal():
    proc = subprocess.run(
        [*CLI, *BAR_ARGS, "--json"], capture_output=True, text=True, timeout=50, env=ENV
    )
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["count"] == 30_000_000 - 1


@pytest.mark.timeout(60)
def test_no_progress_bar_when_only_stdout_is_a_terminal():
    proc, out = _on_a_terminal([*BAR_ARGS, "--json"], stderr=subprocess.PIPE)
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == 0
    assert err == b""
    assert json.loads(out)["count"] == 30_000_000 - 1


# --------------------------------------------------------------------------
# Ctrl-C
# --------------------------------------------------------------------------


def _journal_rows(path):
    """Finished chunks in a journal a live run may be writing; 0 if not readable yet."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1)
        try:
            return db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _wait_for(predicate, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _interrupt(command, ready, timeout, settle=0.0):
    """Run ``command``; Ctrl-C once ``ready(proc)`` (and ``settle`` s more).

    Returns (exit status, stdout, stderr).
    """
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert _wait_for(lambda: ready(proc), proc, timeout), proc.communicate()
        time.sleep(settle)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        end_process(proc)
    return proc.returncode, out, err


@pytest.mark.timeout(90)
def test_ctrl_c_then_resume(tmp_path, big_census):
    path = tmp_path / "run.journal"
    status, out, err = _interrupt(big_command(path), lambda _: _journal_rows(path) >= 3, 60)
    assert status == 130, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "resume" in lines[0] and str(path) in lines[0], err
    assert "interrupted" in lines[0]
    done = _journal_rows(path)
    assert 3 <= done < 100
    again = subprocess.run(big_command(path), capture_output=True, text=True, timeout=60, env=ENV)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["resumed"] == done and data["chunks"] == 100 and data["verified"] is True
    assert {k: data[k] for k in CENSUS_KEYS} == _census_json(big_census)


@pytest.mark.timeout(60)
def test_ctrl_c_without_journal_suggests_one():
    command = [*CLI, "search", "1", "1e9", "--backend", "processes", "--workers", "2"]
    status, out, err = _interrupt(command, lambda p: len(children_of(p.pid)) >= 2, 30, 0.2)
    assert status == 130, err
    assert out == ""
    assert len(err.splitlines()) == 1 and "--journal" in err, err


# --------------------------------------------------------------------------
# SIGKILL at random moments, then resume
# --------------------------------------------------------------------------


def _check_journal(path, hi, chunk):
    """The journal a killed run left opens, and every chunk in it is right."""
    if not path.exists():
        return 0
    meta = read_meta(path)  # recovers a journal the kill left needing it (a hot journal)
    if meta is None:  # killed while creating it: the resume must start afresh
        return 0
    params = json.loads(meta["params"])
    journal = Journal(path, params)
    try:
        results = list(journal.finished())
    finally:
        journal.close()
    seen = set()
    for r in results:
        c, part = r.chunk, r.census
        assert c.index not in seen
        seen.add(c.index)
        assert c.lo == 1 + c.index * chunk and c.hi == min(c.lo + chunk, hi)
        assert (part.lo, part.hi) == (c.lo, c.hi)
        assert part.sigma_sum == sum_sigma(c.hi - 1) - sum_sigma(c.lo - 1), c
        assert part.abundant + part.deficient + len(part.perfect) == c.count
    return len(results)


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_sigkill_at_random_moments_then_resume(tmp_path, big_census):
    rng = random.Random(20_261_124)
    want = _census_json(big_census)

    # one whole run, unjournaled: the reference duration for the kill moments
    start = time.monotonic()
    whole = subprocess.run(big_command(), capture_output=True, text=True, timeout=120, env=ENV)
    duration = time.monotonic() - start
    assert whole.returncode == 0, whole.stderr
    assert {k: json.loads(whole.stdout)[k] for k in CENSUS_KEYS} == want

    kills, series, finished = 0, 0, 0
    orphans = []  # (pid, start time, when its parent was killed)
    history = []  # (series, kill delay, worker processes seen, chunks journaled)
    while kills < 12:
        series += 1
        path = tmp_path / f"series{series}.journal"
        while True:
            delay = rng.uniform(0.2, duration)
            log = tmp_path / f"run{series}-{kills}.log"
            with open(log, "w") as f:
                proc = subprocess.Popen(big_command(path), stdout=f, stderr=f, env=ENV)
            end = time.monotonic() + delay
            children = {}
            while time.monotonic() < end and proc.poll() is None:
                children.update(children_of(proc.pid))
                time.sleep(0.01)
            if proc.poll() is not None:  # finished before its kill moment
                assert proc.returncode == 0, log.read_text()
                data = json.loads(log.read_text())
                assert {k: data[k] for k in CENSUS_KEYS} == want
                assert data["chunks"] == 100 and data["verified"] is True
                finished += 1
                break
            children.update(children_of(proc.pid))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed_at = time.monotonic()
            kills += 1
            orphans += [(pid, started, killed_at) for pid, started in children.items()]
            done = _check_journal(path, BIG_HI, BIG_CHUNK)  # all 100 if killed while printing
            history.append((series, round(delay, 2), len(children), done))
            # worker processes whose parent died must exit on their own
            for pid, started, when in orphans:
                if time.monotonic() - when > 10:
                    assert not still_running(pid, started), (
                        f"worker {pid} still runs {time.monotonic() - when:.1f} s "
                        "after its parent CLI was SIGKILLed"
                    )
            if kills >= 12:
                break
        if kills >= 12 and finished < series:
            # let the last series finish
            done = _check_journal(path, BIG_HI, BIG_CHUNK)
            final = subprocess.run(
                big_command(path), capture_output=True, text=True, timeout=120, env=ENV
            )
            assert final.returncode == 0, final.stderr
            data = json.loads(final.stdout)
            assert {k: data[k] for k in CENSUS_KEYS} == want
            assert data["chunks"] == 100 and data["verified"] is True
            assert data["resumed"] == done
            assert _check_journal(path, BIG_HI, BIG_CHUNK) == 100
            finished += 1

    print(f"whole run {duration:.2f} s; kills (series, delay, workers, chunks): {history}")
    assert kills >= 10
    assert finished == series
    assert orphans, "no worker process was ever seen (kill moments all too early?)"
    end = max(when for _, _, when in orphans) + 10
    while time.monotonic() < end and any(still_running(p, s) for p, s, _ in orphans):
        time.sleep(0.1)
    left = [p for p, s, _ in orphans if still_running(p, s)]
    assert not left, f"worker processes left running after their parent was SIGKILLed: {left}"
