"""Which kernel is active: the compiled extension, or the pure-Python fallback.

The extension is used when it imports; ``PERFECTLY_NO_EXTENSIONS=1`` forces the
fallback; ``PERFECTLY_CPU_TARGET`` forces one build of the compiled kernel, and is an
``ImportError`` where that cannot load. Falling back because the extension is missing
warns once, at import, unless the install was built without it on purpose
(``PERFECTLY_NO_EXTENSIONS=1`` at build time leaves ``BUILT_WITHOUT_EXTENSIONS`` in the
package: see setup.py).

Every worker interpreter imports this module afresh at each start, so it imports
``warnings`` and ``sysconfig`` only where they are used.
"""

from __future__ import annotations

import importlib
import os
import sys

from perfectly import _reference
from perfectly._validate import KERNELS

TYPE_CHECKING = False  # not typing's: worker interpreters import this module afresh
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

#: The file a pure-Python build leaves in the package (setup.py writes it).
PURE_MARKER = "BUILT_WITHOUT_EXTENSIONS"


def _load() -> tuple[ModuleType, str]:
    if os.environ.get("PERFECTLY_NO_EXTENSIONS") == "1":
        return _reference, "PERFECTLY_NO_EXTENSIONS=1"
    try:
        # Not `from perfectly import _kernel`: while perfectly is still initialising, a
        # missing module makes that say "partially initialized module ... circular import".
        _kernel = importlib.import_module("perfectly._kernel")
    except ImportError as exc:
        if os.environ.get("PERFECTLY_CPU_TARGET"):  # a test switch: never a quiet fallback
            raise ImportError(
                f"PERFECTLY_CPU_TARGET={os.environ['PERFECTLY_CPU_TARGET']!r} is set, and the "
                f"compiled kernel did not import: {exc}"
            ) from exc
        if os.path.exists(os.path.join(os.path.dirname(__file__), PURE_MARKER)):
            return _reference, "built without the compiled kernel (PERFECTLY_NO_EXTENSIONS=1)"
        import warnings

        warnings.warn(
            "perfectly: the compiled kernel is unavailable (importing perfectly._kernel "
            f"failed: {type(exc).__name__}: {exc}); using the much slower pure-Python kernel",
            RuntimeWarning,
            stacklevel=3,
        )
        return _reference, f"import failed: {exc}"
    return _kernel, "compiled extension"


kernel, _reason = _load()


def kernel_module(name: str | None) -> ModuleType:
    """The kernel module for ``name`` ("compiled", "python", or None for the active one)."""
    if name is None:
        return kernel
    if name == "python":
        return _reference
    if name == "compiled":
        if kernel is _reference:
            raise RuntimeError(f"the compiled kernel is not available here ({_reason})")
        return kernel
    if not isinstance(name, str):  # the same errors as search's check (_validate)
        raise TypeError(f"kernel must be a str, one of {KERNELS}, not {type(name).__name__}")
    raise ValueError(f"kernel must be one of {KERNELS} or None, got {name!r}")


def kernel_name(name: str | None) -> str:
    """The kernel ``name`` stands for, None meaning the active one; errors as ``kernel_module``."""
    return "python" if kernel_module(name) is _reference else "compiled"


def build_info() -> dict[str, Any]:
    """Which core is active and how it was built, for bug reports and benchmark metadata.

    Returns
    -------
    dict
        Plain JSON data, with the keys:

        - ``core``: ``"compiled"`` or ``"python"``, the kernel in use;
        - ``reason``: why, e.g. ``"compiled extension"`` or why the fallback is used;
        - ``module``: the file of the kernel module;
        - ``python``, ``implementation``: the interpreter's version and name;
        - ``free_threaded_build``, ``gil_enabled``: whether this is a free-threaded
          build of Python, and whether the GIL is on now;
        - ``compiler_flags``: the compiled kernel's build options (``march_native``,
          ``debug``), or None for the pure-Python one;
        - ``cpu_target``: the build of the compiled kernel's hot loops this CPU runs
          (e.g. ``"x86-64-avx512"``), or None.

    Examples
    --------
    >>> import perfectly
    >>> info = perfectly.build_info()
    >>> info["core"] in perfectly.KERNELS
    True
    >>> sorted(info)
    ['compiler_flags', 'core', 'cpu_target', 'free_threaded_build', 'gil_enabled',
     'implementation', 'module', 'python', 'reason']
    """
    import sysconfig

    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "core": "python" if kernel is _reference else "compiled",
        "reason": _reason,
        "module": getattr(kernel, "__file__", None),
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil() if gil is not None else True,
        "compiler_flags": getattr(kernel, "BUILD_FLAGS", None),
        "cpu_target": getattr(kernel, "CPU_TARGET", None),
    }
