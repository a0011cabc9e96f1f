"""What the numbers depend on: the CPU, OS, Python, GIL, package build, and what the
machine was doing: load average and CPU steal (``/proc/stat``; None elsewhere)."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
from importlib import metadata
from typing import Any

from perfectly import START_METHODS, available_cpus, build_info
from perfectly_bench.measure.noise import CPU_TIME_COVERS, CpuTicks, cpu_ticks


def cpu_model() -> str:
    """The CPU's model name, as the OS reports it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("numpy", "numba", "scipy", "matplotlib", "Cython"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def load_average() -> float | None:
    """The 1-minute load average (runnable processes), where the OS reports one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def state() -> tuple[float | None, CpuTicks | None]:
    """The load average and the CPUs' tick counters now (either None where unknown)."""
    return load_average(), cpu_ticks()


def conditions(
    before: tuple[float | None, CpuTicks | None], after: tuple[float | None, CpuTicks | None]
) -> dict[str, Any]:
    """What the machine was doing between two :func:`state` readings: the load average
    at each end, and the share of the CPUs' time stolen by the hypervisor in between."""
    (load_before, a), (load_after, b) = before, after
    steal = None
    if a is not None and b is not None and b.total > a.total:
        steal = round((b.steal - a.steal) / (b.total - a.total), 4)
    return {"load_before": load_before, "load_after": load_after, "steal": steal}


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: CPU, OS, Python, GIL, package build, start methods."""
    from perfectly import __version__

    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "cpus_available": available_cpus(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": " ".join(platform.python_build()),
        "gil_enabled": bool(gil()) if gil is not None else True,
        "package_version": __version__,
        "build": build_info(),
        "start_methods": list(START_METHODS),
        "default_start_method": multiprocessing.get_context().get_start_method(),
        "libraries": _library_versions(),
        "load_average_start": load_average(),
        "cpu_time_covers": CPU_TIME_COVERS,
    }
