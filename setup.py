"""Build the Cython kernel ``perfectly._kernel``.

Directives are set once here. ``PERFECTLY_CYTHON_DEBUG=1`` turns bounds and
wraparound checks back on (and drops optimisation) for debugging;
``PERFECTLY_MARCH_NATIVE=1`` tunes a local build for this CPU (never for wheels).

``PERFECTLY_NO_EXTENSIONS=1`` at build time builds no extension at all: a
pure-Python install for machines with no C compiler, which runs on the
``perfectly._reference`` kernel. It is an explicit opt-in: without it, a failed
compile fails the build, loudly, rather than quietly installing the slow kernel.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

#: Written into a pure-Python build, so that the installed package knows the compiled
#: kernel is missing by choice and does not warn at every import (perfectly._core).
PURE_MARKER = "BUILT_WITHOUT_EXTENSIONS"

DEBUG = os.environ.get("PERFECTLY_CYTHON_DEBUG") == "1"
NATIVE = os.environ.get("PERFECTLY_MARCH_NATIVE") == "1"
NO_EXTENSIONS = os.environ.get("PERFECTLY_NO_EXTENSIONS") == "1"

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "freethreading_compatible": True,
    # Importable in subinterpreters with their own GIL (PEP 684): multi-phase init and
    # per-interpreter module state; the process-wide C tables are built once under a
    # lock (_kernel.pyx, _init_once).
    "subinterpreters_compatible": "own_gil",
    "embedsignature": True,
}

if sys.platform == "win32":
    compile_args = ["/O2"]
else:
    # -g0: no debug info in release builds (Python's own CFLAGS usually carry -g), which
    # makes the extension, and so every wheel, about five times smaller.
    compile_args = ["-O0", "-g"] if DEBUG else ["-O3", "-funroll-loops", "-g0"]
    if NATIVE:
        compile_args.append("-march=native")


def extensions() -> list[Extension]:
    """The Cython extension, or none when ``PERFECTLY_NO_EXTENSIONS=1``."""
    if NO_EXTENSIONS:
        print(
            "perfectly: PERFECTLY_NO_EXTENSIONS=1, building without the compiled kernel "
            "(pure Python; import perfectly will use perfectly._reference)",
            file=sys.stderr,
        )
        return []
    from Cython.Build import cythonize

    extension = Extension(
        "perfectly._kernel",
        sources=["src/perfectly/_kernel.pyx"],
        include_dirs=["src/perfectly/_c"],  # the kernel's C headers
        extra_compile_args=compile_args,
        define_macros=[
            ("PERFECTLY_MARCH_NATIVE", "1" if NATIVE else "0"),
            ("PERFECTLY_DEBUG", "1" if DEBUG else "0"),
            # Per-interpreter module state: without it Cython does not declare the module
            # safe for subinterpreters ("subinterpreters_compatible" in the directives).
            ("CYTHON_USE_MODULE_STATE", "1"),
            # Extension types (Sweep) made from a spec, one per interpreter: a static type
            # is shared by every interpreter that imports the module, and the second one's
            # import writes into its dict (free() of the first one's objects: an abort).
            ("CYTHON_USE_TYPE_SPECS", "1"),
        ],
        depends=[
            f"src/perfectly/_c/{h}"
            for h in (
                "_portable.h",
                "_process_lock.h",
                "_primes.h",
                "_sieve.h",
                "_sieve_block.h",
                "_sieve_kernels.h",
                "_divisor_summatory.h",
            )
        ],
    )
    return cythonize([extension], include_path=["src"], compiler_directives=directives)


class BuildPy(build_py):
    """The package's Python files, with ``PURE_MARKER`` when built without extensions."""

    def run(self) -> None:
        super().run()
        marker = os.path.join(self.build_lib, "perfectly", PURE_MARKER)
        if not NO_EXTENSIONS:  # a build folder reused after a pure build
            if os.path.exists(marker):
                os.remove(marker)
        else:
            with open(marker, "w", encoding="utf-8") as file:
                file.write("built with PERFECTLY_NO_EXTENSIONS=1: no compiled kernel\n")


if __name__ == "__main__":  # (importable: tools/cross_compile.py reads extensions())
    setup(ext_modules=extensions(), cmdclass={"build_py": BuildPy})
