# C-level declarations of perfectly._kernel: its structs, error codes and nogil routines.
# Cython reads this file when it compiles _kernel.pyx beside it. Nothing cimports it and
# the wheel does not ship it: it is not an API for other Cython code.
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "_portable.h" nogil:
    uint64_t pf_mulhi(uint64_t a, uint64_t b)
    int pf_ctz64(uint64_t x)

# The sieve, its types and the per-CPU builds of its hot loops (_sieve.h).
cdef extern from "_sieve.h" nogil:
    enum:
        BLOCK "PF_BLOCK"           # numbers per sieve block
        LOG_BLOCK "PF_LOG_BLOCK"
        MAX_FOUND "PF_MAX_FOUND"   # perfect and multiply-perfect numbers one summary holds
        ERR_NOMEM "PF_ERR_NOMEM"   # error codes of the nogil routines, turned into
        ERR_OVERFLOW "PF_ERR_OVERFLOW"  # exceptions once the GIL is back
        ERR_TOO_MANY "PF_ERR_TOO_MANY"
    const uint64_t ROUGH "PF_ROUGH"  # above this a sieve cofactor may be composite

    # An unsigned 128-bit integer: exact sums and products of σ values.
    ctypedef struct u128 "pf_u128":
        uint64_t hi
        uint64_t lo

    # One number of a sieve block: the part not yet factored, and σ of the part that was.
    ctypedef struct Cell "pf_cell":
        uint64_t rem
        uint64_t sig

    # What a chunk folds into: exact Σσ, class counts, and the n with σ(n) = k·n, k ≥ 2.
    ctypedef struct Summary "pf_summary":
        u128 total
        uint64_t abundant
        uint64_t deficient
        Py_ssize_t nfound
        uint64_t found_n[MAX_FOUND]
        uint64_t found_k[MAX_FOUND]

    ctypedef struct Sieve "pf_sieve":
        uint64_t count
        bint rough
        Cell* cells

    ctypedef uint64_t (*pf_rough_fn)(uint64_t) noexcept nogil

    ctypedef struct pf_target:
        const char* name
        void (*block)(Sieve* sv, uint64_t b) noexcept nogil
        int (*fold)(Summary* S, uint64_t start, size_t length, const Cell* cells,
                    int rough, pf_rough_fn rough_sigma) noexcept nogil
        uint64_t (*trial)(uint64_t n) noexcept nogil

    uint64_t pf_inv64(uint64_t a)
    void pf_init_tables()
    int pf_sieve_open(Sieve* sv, uint64_t lo, uint64_t count, const uint32_t* primes,
                      const uint64_t* inverses, size_t nprimes, int rough)
    void pf_sieve_close(Sieve* sv)
    int pf_targets(pf_target* out)

# Pairs (a, b) found by the amicable job; grown with realloc.
ctypedef struct Pairs:
    uint64_t* ab
    Py_ssize_t n
    Py_ssize_t cap

cdef u128 sigma_u128(uint64_t n) noexcept nogil
cdef bint is_prime64(uint64_t n) noexcept nogil
cdef int fill_range(uint64_t lo, uint64_t count, uint64_t* out, bint trial,
                    bint aliquot, uint64_t* bad) noexcept nogil
cdef int summarize_range(uint64_t lo, uint64_t count, bint trial,
                         Summary* out) noexcept nogil
cdef int amicable_range(uint64_t lo, uint64_t count, Pairs* out) noexcept nogil
cdef u128 sum_sigma_u128(uint64_t x) noexcept nogil
