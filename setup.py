"""Build the Cython kernel ``perfectly._kernel``.

Directives are set once here. ``PERFECTLY_CYTHON_DEBUG=1`` turns bounds and
wraparound checks back on (and drops optimisation) for debugging;
``PERFECTLY_MARCH_NATIVE=1`` tunes a local build for this CPU (never for wheels).
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("PERFECTLY_CYTHON_DEBUG") == "1"
NATIVE = os.environ.get("PERFECTLY_MARCH_NATIVE") == "1"

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "freethreading_compatible": True,
    "embedsignature": True,
}

if sys.platform == "win32":
    compile_args = ["/O2"]
else:
    compile_args = ["-O0", "-g"] if DEBUG else ["-O3", "-funroll-loops"]
    if NATIVE:
        compile_args.append("-march=native")

extension = Extension(
    "perfectly._kernel",
    sources=["cython/perfectly/_kernel.pyx"],
    include_dirs=["cython/perfectly"],
    extra_compile_args=compile_args,
    define_macros=[
        ("PERFECTLY_MARCH_NATIVE", "1" if NATIVE else "0"),
        ("PERFECTLY_DEBUG", "1" if DEBUG else "0"),
    ],
)

setup(ext_modules=cythonize([extension], include_path=["cython"], compiler_directives=directives))
