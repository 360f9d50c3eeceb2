/* base.h - internal helpers every layer uses: error filling, rounding. */
#ifndef LL_BASE_H
#define LL_BASE_H

#include "looplive.h"

#include <errno.h>

#define LL_KIB (1ull << 10)
#define LL_MIB (1ull << 20)
#define LL_GIB (1ull << 30)
#define LL_TIB (1ull << 40)

#define LL_ARRAY_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Fills err (when not NULL) with code and a printf-style message; returns -1
 * so that a failing path can `return ll_fail(err, EINVAL, "...")`. */
__attribute__((format(printf, 3, 4))) int ll_fail(ll_error *err, int code, const char *fmt, ...);

/* Rounds x up or down to a multiple of a (a power of two). */
static inline uint64_t ll_align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}
static inline uint64_t ll_align_down(uint64_t x, uint64_t a)
{
    return x & ~(a - 1);
}
static inline int ll_is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* Monotonic clock in nanoseconds. */
uint64_t ll_now_ns(void);

/* release.c: a layer keeps its own state about an object of a layer to its
 * left (the snapshot layer's about a block) in a table keyed by the object,
 * and registers here to hear that the object goes away; the owner calls
 * ll_released(key) as it releases it, knowing nothing of who listens. A
 * listener is registered once per process (again is a no-op); at most
 * LL_RELEASE_LISTENERS. Returns -1 when the table is full. */
#define LL_RELEASE_LISTENERS 8
typedef void ll_release_fn(const void *key);
int ll_release_listen(ll_release_fn *fn);
void ll_released(const void *key);

/* file.c: writing a file whole or not at all. ll_file_begin creates a new
 * temporary file next to path (its name in tmp) and returns its fd, or -1;
 * ll_file_commit syncs it, renames it over path and syncs the directory
 * (closing fd; the temporary file is gone on failure); ll_file_abort
 * closes and removes it. */
int ll_file_begin(const char *path, char *tmp, size_t cap, ll_error *err);
int ll_file_commit(int fd, const char *tmp, const char *path, ll_error *err);
void ll_file_abort(int fd, const char *tmp);

/* Writes len bytes at offset at, retrying short writes; -1 with errno set
 * on failure (0 bytes written counts as one). Async-signal-safe: pwrite
 * only, so a save after a fault can use it. */
int ll_file_pwrite_all(int fd, const void *buf, uint64_t len, uint64_t at);

#endif
