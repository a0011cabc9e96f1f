"""Cross-compile perfectly's kernel for another Linux platform, with that platform's flags.

    python tools/cross_compile.py SYSROOT COMPILER OUTDIR [--flag FLAG ...]

SYSROOT holds the target's Python (unpacked Debian packages: its ``_sysconfigdata`` and
headers); COMPILER is the cross compiler (e.g. ``aarch64-linux-gnu-gcc-12``); each
``--flag`` goes to every compiler call (e.g. ``--sysroot=...`` for the C library). The C
comes from this checkout's ``setup.py`` (``extensions()``: the same Cython directives,
macros and options as a real build), and the flags a ``pip install`` on the target would
add come from the target Python's own ``_sysconfigdata``: the same compile and link lines
setuptools runs there. Prints the path of the extension module it wrote. Used by
``tools/arm64_check.sh``.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import runpy
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_config(sysroot: str) -> dict[str, str]:
    """The target Python's ``sysconfig`` variables, read from its ``_sysconfigdata``."""
    found = glob.glob(os.path.join(sysroot, "usr/lib/python3*/_sysconfigdata__linux_*.py"))
    if len(found) != 1:
        sys.exit(f"cross_compile: expected one _sysconfigdata under {sysroot}, found {found}")
    config: dict[str, str] = runpy.run_path(found[0])["build_time_vars"]
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sysroot")
    parser.add_argument("compiler")
    parser.add_argument("outdir")
    parser.add_argument("--flag", action="append", default=[], dest="flags")
    args = parser.parse_args()
    sysroot = os.path.abspath(args.sysroot)
    config = target_config(sysroot)

    os.chdir(ROOT)  # setup.py names its sources relative to the checkout
    sys.path.insert(0, ROOT)
    import setup

    with contextlib.redirect_stdout(sys.stderr):  # stdout: only the module's path
        (extension,) = setup.extensions()  # cythonizes: sources are now the generated C
    (source,) = extension.sources
    os.makedirs(args.outdir, exist_ok=True)
    name = extension.name.rpartition(".")[2]
    obj = os.path.join(args.outdir, name + ".o")
    module = os.path.join(args.outdir, name + config["EXT_SUFFIX"])
    include = [os.path.join(sysroot, config["INCLUDEPY"].lstrip("/"))]
    include.append(os.path.join(sysroot, "usr/include"))  # Debian's multiarch pyconfig.h
    include += extension.include_dirs
    compile_line = [
        args.compiler,
        *args.flags,
        *shlex.split(config["CFLAGS"]),
        *shlex.split(config["CCSHARED"]),
        *(f"-D{key}={value}" for key, value in extension.define_macros),
        *(f"-I{path}" for path in include),
        *extension.extra_compile_args,
        "-c",
        source,
        "-o",
        obj,
    ]
    linker = shlex.split(config["LDSHARED"])[1:]  # the target's compiler name, then flags
    link_line = [args.compiler, *args.flags, *linker, obj, "-o", module]
    for line in (compile_line, link_line):
        print("+", shlex.join(line), file=sys.stderr)
        subprocess.run(line, check=True)
    print(module)


if __name__ == "__main__":
    main()
