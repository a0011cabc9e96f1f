# C-level declarations of perfectly._kernel: its structs, error codes and nogil routines,
# and every C header it uses (in _c/, on the include path: setup.py). Cython reads this
# file when it compiles _kernel.pyx beside it. Nothing cimports it and the wheel does not
# ship it: it is not an API for other Cython code.
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "_portable.h" nogil:
    uint64_t pf_mulhi(uint64_t a, uint64_t b)
    int pf_ctz64(uint64_t x)
    int PERFECTLY_MARCH_NATIVE  # how the extension was compiled (setup.py's macros)
    int PERFECTLY_DEBUG

# The process-wide lock of the prime tables, shared by every interpreter (_process_lock.h).
cdef extern from "_process_lock.h" nogil:
    void pf_lock()
    void pf_unlock()

# Σσ in closed form, in C (_divisor_summatory.h).
cdef extern from "_divisor_summatory.h" nogil:
    int pf_sum_sigma(uint64_t x, uint64_t* hi, uint64_t* lo)

# The sieve, its types and the per-CPU builds of its hot loops (_sieve.h).
cdef extern from "_sieve.h" nogil:
    enum:
        BLOCK "PF_BLOCK"           # numbers per sieve block
        LOG_BLOCK "PF_LOG_BLOCK"
        MAX_FOUND "PF_MAX_FOUND"   # perfect and multiply-perfect numbers one summary holds
        ERR_NOMEM "PF_ERR_NOMEM"   # error codes of the nogil routines, turned into
        ERR_OVERFLOW "PF_ERR_OVERFLOW"  # exceptions once the GIL is back
        ERR_TOO_MANY "PF_ERR_TOO_MANY"
    const uint64_t WIDE "PF_WIDE"  # from here on σ(n) may need more than 64 bits

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

    # A factor sieve of [lo, lo + count): the state it keeps from block to block.
    ctypedef struct pf_large:
        size_t buckets           # buckets (8 KiB each) allocated for the large primes
        size_t primes            # large primes set up

    ctypedef struct Sieve "pf_sieve":
        uint64_t lo
        uint64_t count
        uint64_t next_block
        Cell* cells
        uint32_t* aux
        pf_large large
        bint ready               # every prime ≤ √hi is placed: blocks may be sieved

    ctypedef void (*pf_firsts_fn)(uint64_t lo, const uint32_t* ps, uint64_t* out,
                                  size_t n) noexcept nogil

    ctypedef struct pf_target:
        const char* name
        int (*block)(Sieve* sv) noexcept nogil
        int (*fold)(Summary* S, uint64_t start, size_t length, const Cell* cells) noexcept nogil
        int (*fold_wide)(Summary* S, uint64_t start, size_t length, const Cell* cells,
                         const uint32_t* aux) noexcept nogil
        uint64_t (*trial)(uint64_t n) noexcept nogil
        pf_firsts_fn firsts

    uint64_t pf_inv64(uint64_t a)
    uint64_t pf_isqrt(uint64_t x)
    u128 pf_wide_sigma_of "pf_wide_sigma_of"(uint64_t n, const Cell* c, uint32_t aux)
    void pf_init_tables()
    int pf_sieve_open(Sieve* sv, uint64_t lo, uint64_t count)
    int pf_sieve_setup(Sieve* sv, pf_firsts_fn firsts, size_t batches)
    void pf_sieve_close(Sieve* sv)
    size_t pf_sieve_bytes(const Sieve* sv)
    int pf_targets(pf_target* out)

# The process-wide store of the sieving primes (_primes.h).
cdef extern from "_primes.h" nogil:
    long long pf_primes_ensure(uint64_t limit)
    int pf_primes_extend(uint64_t limit, uint32_t most)
    size_t pf_primes_bytes()
    uint64_t pf_primes_reach()

# Pairs (a, b) found by the amicable job; grown with realloc.
ctypedef struct Pairs:
    uint64_t* ab
    Py_ssize_t n
    Py_ssize_t cap

cdef u128 sigma_u128(uint64_t n) noexcept nogil
cdef bint is_prime64(uint64_t n) noexcept nogil
cdef u128 sum_sigma_u128(uint64_t x) noexcept nogil
