# C-level declarations of perfectly._kernel: its structs, error codes and nogil routines.
# Cython reads this file when it compiles _kernel.pyx beside it. Nothing cimports it and
# the wheel does not ship it: it is not an API for other Cython code.
from libc.stdint cimport uint64_t

cdef extern from "_portable.h" nogil:
    uint64_t pf_mulhi(uint64_t a, uint64_t b)
    int pf_ctz64(uint64_t x)

# An unsigned 128-bit integer: exact sums and products of σ values.
ctypedef struct u128:
    uint64_t hi
    uint64_t lo

# One number of a sieve block: the part not yet factored, and σ of the part that was.
ctypedef struct Cell:
    uint64_t rem
    uint64_t sig

cdef enum:
    MAX_FOUND = 256  # perfect and multiply-perfect numbers one summary can hold

# What a chunk folds into: exact Σσ, class counts, and the n with σ(n) = k·n, k ≥ 2.
ctypedef struct Summary:
    u128 total
    uint64_t abundant
    uint64_t deficient
    Py_ssize_t nfound
    uint64_t found_n[MAX_FOUND]
    uint64_t found_k[MAX_FOUND]

# Pairs (a, b) found by the amicable job; grown with realloc.
ctypedef struct Pairs:
    uint64_t* ab
    Py_ssize_t n
    Py_ssize_t cap

# Error codes of the nogil routines; turned into exceptions once the GIL is back.
cdef enum:
    ERR_NOMEM = -1
    ERR_OVERFLOW = -2
    ERR_TOO_MANY = -3

cdef u128 sigma_u128(uint64_t n) noexcept nogil
cdef bint is_prime64(uint64_t n) noexcept nogil
cdef int fill_range(uint64_t lo, uint64_t count, uint64_t* out, bint trial,
                    bint aliquot, uint64_t* bad) noexcept nogil
cdef int summarize_range(uint64_t lo, uint64_t count, bint trial,
                         Summary* out) noexcept nogil
cdef int amicable_range(uint64_t lo, uint64_t count, Pairs* out) noexcept nogil
cdef u128 sum_sigma_u128(uint64_t x) noexcept nogil
