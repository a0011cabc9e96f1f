# Type stub for the compiled extension perfectly._kernel (_kernel.pyx beside it).
from typing import Any

import numpy as np
import numpy.typing as npt

BUILD_FLAGS: dict[str, bool]
CPU_TARGETS: tuple[str, ...]  # builds of the hot loops this CPU runs, baseline first
CPU_TARGET: str  # the one in use (PERFECTLY_CPU_TARGET may choose another of them)

def sigma(n: int) -> int: ...
def is_prime(n: int) -> bool: ...

PATHS: tuple[str, ...]  # how a sweep may go: "auto", or "sieve" / "factor" forced

Summary = tuple[int, int, int, list[tuple[int, int]]]  # Σσ, abundant, deficient, found

def fill_sigma(
    lo: int,
    out: npt.NDArray[np.uint64] | Any,
    method: str = "sieve",
    aliquot: bool = False,
    release_gil: bool = True,
    path: str = "auto",
) -> None: ...
def summarize(
    lo: int, hi: int, method: str = "sieve", release_gil: bool = True, path: str = "auto"
) -> Summary: ...
def amicable(
    lo: int, hi: int, release_gil: bool = True, path: str = "auto"
) -> list[tuple[int, int]]: ...

class Sweep:
    lo: int
    hi: int
    amicable: bool
    def __init__(
        self, lo: int, hi: int, method: str = "sieve", *, amicable: bool = False, path: str = "auto"
    ) -> None: ...
    @property
    def position(self) -> int: ...
    @property
    def segments(self) -> int: ...
    @property
    def memory(self) -> int: ...
    def summarize(
        self, count: int, release_gil: bool = True
    ) -> tuple[int, int, Summary, list[tuple[int, int]] | None]: ...
    def fill(
        self, out: npt.NDArray[np.uint64] | Any, aliquot: bool = False, release_gil: bool = True
    ) -> None: ...

def sieving_primes(upto: int = 0) -> dict[str, int]: ...
def _segment_length(lo: int, count: int) -> int: ...
def _sieves(lo: int, count: int) -> bool: ...
def sum_sigma(x: int) -> int: ...
def _sum_sigma_sqrt(x: int) -> int: ...
