/* compat.c - the call into the application in progress, and the C
 * library's malloc, rand and clocks answered from it (looplive_compat.h).
 *
 * The call is thread state set by ll_app_call_run around every call into
 * the application; its heap is looked up once per call (a restore between
 * calls may have replaced the block's contents) and kept here. */
#include "memory/heap.h"
#include "memory/memory.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

_Static_assert(sizeof(time_t) == sizeof(long) && (time_t)-1 < 0, "time_t is long");
_Static_assert(sizeof(clock_t) == sizeof(long) && (clock_t)-1 < 0, "clock_t is long");
_Static_assert(sizeof(clockid_t) == sizeof(int), "clockid_t is int");

typedef struct compat_thread {
    ll_app_call call;
    heap *heap;      /* the call's heap once looked up; NULL in read-only calls */
    int ro_rand_set; /* a read-only call drew from a copy of the generator */
    uint64_t ro_rand;
    ll_error err; /* the last error, code 0 when none */
} compat_thread;

static __thread compat_thread cur;

/* Where the last heap was found: a free outside any call of a pointer in
 * that block is dropped, never handed to the C library. */
static const uint8_t *known_base;
static uint64_t known_size;
static uint64_t heap_size_default;

ll_app_call ll_app_call_set(const ll_app_call *call)
{
    ll_app_call prev = cur.call;
    if (call && call->block && !prev.block) cur.err.code = 0; /* a call begins: no error yet */
    cur.call = call ? *call : (ll_app_call){0};
    cur.heap = NULL;
    cur.ro_rand_set = 0;
    return prev;
}

ll_app_call ll_app_call_get(void)
{
    return cur.call;
}

ll_block *ll_app_block_get(void)
{
    return cur.call.block;
}

void ll_compat_heap_size_set(uint64_t bytes)
{
    heap_size_default = bytes;
}

const ll_error *ll_compat_error_get(void)
{
    return cur.err.code ? &cur.err : NULL;
}

/* ---- finding the heap ---------------------------------------------------- */

static int first_bytes_zero(const ll_block *b)
{
    for (uint64_t i = 0; i < LL_BLOCK_TABLE_BYTES && i < b->size; i++)
        if (b->base[i]) return 0;
    return 1;
}

static ll_arena *heap_arena_create(ll_block *b)
{
    ll_error e;
    if (!memory_header_of(b) && !first_bytes_zero(b)) {
        ll_fail(&cur.err, EINVAL,
                "cannot create the heap arena '%s': the block has no arena table and its "
                "first bytes hold data (try: keep the state in an arena made by "
                "ll_arena_create, not at block->base)",
                LL_COMPAT_HEAP_ARENA);
        return NULL;
    }
    ll_arena *a = ll_arena_create(b, LL_COMPAT_HEAP_ARENA, heap_size_default, &e, .guard = 1);
    if (!a)
        ll_fail(&cur.err, e.code,
                "cannot create the heap arena '%s': %s (try: a larger block_size in the ll_app, "
                "or a smaller LL_COMPAT_HEAP_SIZE)",
                LL_COMPAT_HEAP_ARENA, e.msg);
    return a;
}

/* A fresh heap's generator and clocks: seeded as srand(1), the wall clock
 * read once. */
static void extra_init(heap *h)
{
    heap_extra *x = heap_extra_get(h);
    if (x->epoch_ns) return;
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    x->rand_state = 1;
    x->epoch_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
    x->mono_ns = (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec;
}

/* The block's heap, made when create and the call may write the block. */
static heap *heap_find(int create)
{
    ll_block *b = cur.call.block;
    if (!b) return NULL;
    ll_arena *a = ll_block_arena_find(b, LL_COMPAT_HEAP_ARENA);
    if (!a && (!create || cur.call.read_only || !(a = heap_arena_create(b)))) return NULL;
    if (a->used == 0 && cur.call.read_only) return NULL;
    ll_error e;
    heap *h = heap_open(a, &e);
    if (!h) {
        cur.err = e;
        return NULL;
    }
    extra_init(h);
    known_base = b->base;
    known_size = b->size;
    if (!cur.call.read_only) cur.heap = h;
    return h;
}

static inline heap *heap_get(void)
{
    heap *h = cur.heap;
    if (__builtin_expect(h != NULL, 1)) return h;
    return cur.call.read_only ? NULL : heap_find(1);
}

/* ---- malloc and friends ----------------------------------------------- */

/* A NULL from the heap: names the arena and what to do. */
static void *alloc_failed(const char *what, uint64_t n, const ll_error *e)
{
    char a[32];
    ll_fail(&cur.err, ENOMEM,
            "%s of %s failed: %s (try: a larger block_size in the ll_app, or #define "
            "LL_COMPAT_HEAP_SIZE before including looplive_compat.h)",
            what, ll_size_format(n, a, sizeof a), e->msg);
    errno = ENOMEM;
    return NULL;
}

/* No heap: the C library's outside a call and in read-only calls; NULL
 * when the heap could not be made. */
static int use_libc(void)
{
    if (!cur.call.block || cur.call.read_only) return 1;
    errno = ENOMEM;
    return 0;
}

void *ll_compat_malloc(size_t size)
{
    heap *h = heap_get();
    if (__builtin_expect(!h, 0)) return use_libc() ? malloc(size) : NULL;
    ll_error e;
    void *p = heap_alloc(h, size, &e);
    return p ? p : alloc_failed("malloc", size, &e);
}

void *ll_compat_calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = ll_compat_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

static int foreign(heap *h, const void *ptr)
{
    return !h || !heap_owns(h, ptr);
}

/* ptr did not come from the call's heap: the block's heap when the call
 * is read-only, nothing outside a call for a pointer into the last block
 * seen, else the C library's. */
static void free_slow(void *ptr)
{
    heap *h = cur.call.block ? heap_find(0) : NULL;
    if (h && heap_owns(h, ptr)) {
        heap_free(h, ptr);
        return;
    }
    const uint8_t *p = ptr;
    if (!cur.call.block && known_base && p >= known_base && p < known_base + known_size) return;
    free(ptr);
}

void ll_compat_free(void *ptr)
{
    if (!ptr) return;
    heap *h = cur.heap;
    if (__builtin_expect(h && heap_owns(h, ptr), 1)) {
        heap_free(h, ptr);
        return;
    }
    free_slow(ptr);
}

void *ll_compat_realloc(void *ptr, size_t size)
{
    if (!ptr) return ll_compat_malloc(size);
    heap *h = cur.call.read_only ? heap_find(0) : heap_get();
    if (foreign(h, ptr)) {
        if (!cur.call.block || cur.call.read_only) return realloc(ptr, size);
        if (!h) return NULL;
        /* The C library's memory (strdup of a file not force-included)
         * moves into the block. */
        void *p = ll_compat_malloc(size);
        if (!p) return NULL;
        size_t old = malloc_usable_size(ptr);
        memcpy(p, ptr, old < size ? old : size);
        free(ptr);
        return p;
    }
    ll_error e;
    void *p = heap_realloc(h, ptr, size, &e);
    return p ? p : alloc_failed("realloc", size, &e);
}

void *ll_compat_reallocarray(void *ptr, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return ll_compat_realloc(ptr, n);
}

int ll_compat_posix_memalign(void **out, size_t align, size_t size)
{
    if (!align || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
    heap *h = heap_get();
    if (!h) return use_libc() ? posix_memalign(out, align, size) : ENOMEM;
    ll_error e;
    void *p = heap_alloc_aligned(h, align, size, &e);
    if (!p) {
        alloc_failed("posix_memalign", size, &e);
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *ll_compat_memalign(size_t align, size_t size)
{
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    heap *h = heap_get();
    if (!h) return use_libc() ? aligned_alloc(align, size) : NULL;
    ll_error e;
    void *p = heap_alloc_aligned(h, align, size, &e);
    return p ? p : alloc_failed("aligned_alloc", size, &e);
}

void *ll_compat_aligned_alloc(size_t align, size_t size)
{
    return ll_compat_memalign(align, size);
}

size_t ll_compat_malloc_usable_size(void *ptr)
{
    if (!ptr) return 0;
    heap *h = cur.call.block ? heap_find(0) : NULL;
    if (h && heap_owns(h, ptr)) return (size_t)heap_usable(ptr);
    return malloc_usable_size(ptr);
}

char *ll_compat_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ll_compat_malloc(len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *ll_compat_strdup(const char *s)
{
    return ll_compat_strndup(s, (size_t)-1);
}

/* The block's heap for the figures and the check, or NULL with err. */
static heap *heap_of(const ll_block *block, ll_error *err)
{
    ll_arena *a = ll_block_arena_find(block, LL_COMPAT_HEAP_ARENA);
    if (!a) {
        ll_fail(err, ENOENT,
                "the block has no heap arena '%s' (try: malloc from the application built with "
                "-include looplive_compat.h first)",
                LL_COMPAT_HEAP_ARENA);
        return NULL;
    }
    return heap_open(a, err);
}

int ll_block_heap_stats_get(const ll_block *block, ll_heap_stats *out, ll_error *err)
{
    heap *h = heap_of(block, err);
    if (!h) return -1;
    heap_stats_get(h, out);
    return 0;
}

int ll_block_heap_check(const ll_block *block, ll_error *err)
{
    heap *h = heap_of(block, err);
    return h ? heap_check(h, err) : -1;
}
/* ---- rand ---------------------------------------------------------------- */

/* A 64-bit linear congruential generator; the high bits are the draw. */
static uint64_t *rand_state(void)
{
    if (cur.call.read_only) {
        if (!cur.ro_rand_set) {
            heap *h = heap_find(0);
            cur.ro_rand = h ? heap_extra_get(h)->rand_state : 1u;
            cur.ro_rand_set = 1;
        }
        return &cur.ro_rand;
    }
    heap *h = heap_get();
    return h ? &heap_extra_get(h)->rand_state : NULL;
}

static uint32_t draw(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

int ll_compat_rand(void)
{
    uint64_t *s = cur.call.block ? rand_state() : NULL;
    return s ? (int)draw(s) : rand();
}

long ll_compat_random(void)
{
    uint64_t *s = cur.call.block ? rand_state() : NULL;
    return s ? (long)draw(s) : random();
}

void ll_compat_srand(unsigned seed)
{
    uint64_t *s = cur.call.block ? rand_state() : NULL;
    if (s)
        *s = seed;
    else
        srand(seed);
}

void ll_compat_srandom(unsigned seed)
{
    uint64_t *s = cur.call.block ? rand_state() : NULL;
    if (s)
        *s = seed;
    else
        srandom(seed);
}

/* ---- clocks ----------------------------------------------------------- */

/* Nanoseconds since the state started: the frame's time, and 1 us more
 * for each read within an update that writes the block. */
static uint64_t since_start_ns(heap_extra **x)
{
    double f = (double)cur.call.frame * cur.call.dt * 1e9;
    uint64_t t = f > 0 ? (uint64_t)(f + 0.5) : 0;
    heap *h = cur.call.read_only ? heap_find(0) : heap_get();
    *x = h ? heap_extra_get(h) : NULL;
    if (!*x) return t;
    if (cur.call.read_only) return t > (*x)->last_ns ? t : (*x)->last_ns;
    if (t <= (*x)->last_ns) t = (*x)->last_ns + 1000;
    (*x)->last_ns = t;
    return t;
}

/* The time of clock id, or -1 for a clock answered by the C library. */
static int clock_ns(int id, uint64_t *out)
{
    heap_extra *x;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        *out = since_start_ns(&x);
        *out += x ? x->epoch_ns : 0;
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *out = since_start_ns(&x);
        *out += x ? x->mono_ns : 0;
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
        *out = since_start_ns(&x);
        return 0;
    default:
        return -1;
    }
}

int ll_compat_clock_gettime(int id, struct timespec *out)
{
    uint64_t ns;
    if (!cur.call.block || clock_ns(id, &ns) != 0) return clock_gettime((clockid_t)id, out);
    out->tv_sec = (time_t)(ns / 1000000000u);
    out->tv_nsec = (long)(ns % 1000000000u);
    return 0;
}

long ll_compat_time(long *out)
{
    struct timespec ts;
    ll_compat_clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}

long ll_compat_clock(void)
{
    struct timespec ts;
    if (!cur.call.block) return clock();
    ll_compat_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * CLOCKS_PER_SEC + ts.tv_nsec / (1000000000 / CLOCKS_PER_SEC);
}

int ll_compat_gettimeofday(struct timeval *out, void *tz)
{
    struct timespec ts;
    if (!cur.call.block) return gettimeofday(out, tz);
    ll_compat_clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = (struct timeval){ts.tv_sec, ts.tv_nsec / 1000};
    if (tz) memset(tz, 0, 2 * sizeof(int)); /* struct timezone, as glibc leaves it */
    return 0;
}
