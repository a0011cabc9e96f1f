/* One lock for the whole process, initialised statically (before any interpreter runs).

   perfectly._kernel may be imported by several interpreters of one process, each with its
   own GIL (PEP 684), at the same time: its import-time tables are process-wide C data, so
   they are built under this lock by the first importer and only read afterwards. A static
   pthread mutex (POSIX) or slim reader/writer lock (Windows Vista and later, MSVC and
   MinGW alike) needs no initialisation call that could itself race. pf_pause gives the
   CPU up for a moment, to a thread whose work the caller waits for. */
#ifndef PERFECTLY_PROCESS_LOCK_H
#define PERFECTLY_PROCESS_LOCK_H

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
static SRWLOCK pf_process_lock = SRWLOCK_INIT;
static void pf_lock(void) { AcquireSRWLockExclusive(&pf_process_lock); }
static void pf_unlock(void) { ReleaseSRWLockExclusive(&pf_process_lock); }
static void pf_pause(void) { SwitchToThread(); }
#else
#include <pthread.h>
#include <time.h>
static pthread_mutex_t pf_process_lock = PTHREAD_MUTEX_INITIALIZER;
static void pf_lock(void) { pthread_mutex_lock(&pf_process_lock); }
static void pf_unlock(void) { pthread_mutex_unlock(&pf_process_lock); }
static void pf_pause(void) { /* 50 µs: a thread waiting for another's work lets it run */
    struct timespec t = {0, 50000};
    nanosleep(&t, NULL);
}
#endif

#endif
