/* looplive_compat.h - an existing C program under `looplive run` with a
 * one-line build change: its malloc, rand and time answered from the block.
 *
 * Force-include this header into every file of the application library.
 * Then malloc and friends allocate from a general-purpose heap that lives in
 * an arena of the block ("ll.heap", created on first use), and rand and the
 * clocks read state kept in that arena and the loop's frame and dt. So
 * snapshots, restores, rewinds, recordings and saved states hold the heap,
 * and a recording replays exactly (`looplive replay --check`,
 * `--determinism`). The program's logic files stay unchanged:
 *
 *     cc -shared -fPIC -fpatchable-function-entry=14 -I/usr/local/include \
 *        -include looplive_compat.h -o game.so game.c board.c glue.c
 *
 * where glue.c holds the ll_app table: update() calls the program's step.
 *
 * What it covers: malloc, calloc, realloc, reallocarray, free,
 * aligned_alloc, posix_memalign, memalign, malloc_usable_size, strdup,
 * strndup; rand, srand, random, srandom; time, clock, clock_gettime,
 * gettimeofday. They are renamed by macros (`malloc` becomes
 * ll_compat_malloc), which is what reaches code in a library loaded with
 * dlopen, whose references to malloc would bind to the C library's.
 *
 * The heap: 16-byte aligned chunks with 16-byte headers; exact free lists
 * for chunks up to 1 KiB (a freed small chunk is reused as is), and above
 * that two-level segregated free lists with immediate coalescing of
 * neighbours; both O(1). When no list fits, the small chunks kept aside are
 * coalesced back first, then the heap grows at its top (a push on its
 * arena); freeing the top chunk gives the space back to the arena. Its
 * size: all the block has left when created, or LL_COMPAT_HEAP_SIZE if
 * defined before this header, or create the arena yourself in init
 * (ll_arena_create(block, LL_COMPAT_HEAP_ARENA, size, &err)). Being an
 * arena, it puts the arena table at the block's start: keep the root of
 * the state in a global, a malloc'd struct or an arena, not at
 * block->base. A full heap:
 * malloc returns NULL with errno ENOMEM, the block's full hook runs (the
 * host shows "arena 'll.heap' is full ..." on its overlay) and
 * ll_compat_error_get says which arena is full and what to do.
 *
 * The clocks: frame * dt since the state started, over a wall clock read
 * once when the heap was created (kept in the block); each read within
 * update moves it on by one microsecond, so a program that waits for the
 * clock to move goes on.
 * rand and random share one generator in the block, seeded 1 until srand.
 *
 * Outside a call into the application (a constructor, a thread it
 * started) there is no current block: malloc, rand and the clocks are the
 * C library's, and free drops a pointer into the last block seen. In a
 * call, a pointer the heap did not make (getline's, a file built without
 * the header) goes to the C library's free, and realloc moves it into the
 * heap. In render (which must not change the block) malloc is the C
 * library's and rand draws from a copy of the generator; freeing heap
 * memory there changes the block.
 * A double free aborts (a crash rolled back, under `looplive run`).
 *
 * Not covered (keep these out of the state, or out of the program):
 * threads (the heap is not locked: allocate from the thread that update
 * runs on), file writes and reads, sockets, signals, getline, asprintf,
 * scanf's %m and other C library functions that allocate internally (their
 * memory is the C library's: free it with free as usual, but it is not in
 * the block), rand_r and drand48, sleeping and blocking reads, and C++ (the
 * C++ headers undo the renames; new and delete are not covered).
 *
 * Define LL_COMPAT_KEEP_LIBC before including it to get the declarations
 * without the renames. Compiles as C11 and later and as C++17 and later.
 */
#ifndef LOOPLIVE_COMPAT_H
#define LOOPLIVE_COMPAT_H

/* No system header here, not even through looplive_app.h (its <stdint.h>
 * reads the C library's features.h): one included before the program's
 * own feature macros (_GNU_SOURCE or _POSIX_C_SOURCE at the top of a file)
 * would freeze them, and asprintf or fileno would be undeclared. Sizes are
 * the compiler's own types, the block and the error are named by their
 * struct tags (include looplive_app.h to use them). The
 * types are Linux's on x86_64 and aarch64 (checked when the library is
 * built): time_t and clock_t are long, clockid_t is int. A header that
 * declares a renamed function after this one declares the same thing. */
struct timespec;
struct timeval;
struct ll_block;
struct ll_error;

#ifdef __cplusplus
extern "C" {
#endif

/* The name of the heap's arena in the block's table. */
#define LL_COMPAT_HEAP_ARENA "ll.heap"

/* The block of the call into the application in progress (init, update,
 * migrate, render, audio), or NULL outside one. The host, the loop and
 * `looplive replay` set it around every call (ll_app_call_run). */
struct ll_block *ll_app_block_get(void);

/* The capacity the heap's arena gets when it is created, in this process:
 * 0 (the default) takes all that is left in the block. Defining
 * LL_COMPAT_HEAP_SIZE before this header calls it when the library loads. */
void ll_compat_heap_size_set(__UINT64_TYPE__ bytes);

/* The last error of the compatibility layer in this thread (a full heap,
 * a heap that could not be created) since the current or last call into
 * the application began, or NULL when there was none. A call that faults
 * after one (malloc returned NULL) has it added to its fault report. */
const struct ll_error *ll_compat_error_get(void);

/* ---- the heap's figures --------------------------------------------- */

typedef struct ll_heap_stats {
    __UINT64_TYPE__ capacity;     /* bytes of the heap's arena */
    __UINT64_TYPE__ extent;       /* bytes of the arena the heap spans now */
    __UINT64_TYPE__ high_water;   /* the largest extent ever (the arena's high water) */
    __UINT64_TYPE__ in_use;       /* bytes of live allocations, with their headers */
    __UINT64_TYPE__ peak_in_use;  /* the largest in_use ever */
    __UINT64_TYPE__ free_bytes;   /* bytes inside the extent not in use */
    __UINT64_TYPE__ largest_free; /* the largest free chunk: what one malloc could
                              get without growing the heap */
    __UINT64_TYPE__ allocations;  /* live allocations */
    double fragmentation;         /* 1 - largest_free / free_bytes: 0 when the free
                                     memory is one piece (or there is none) */
} ll_heap_stats;

/* Fills out with the figures of the block's heap. Fails when the block has
 * no heap arena or the arena does not hold a heap. */
int ll_block_heap_stats_get(const struct ll_block *block, ll_heap_stats *out, struct ll_error *err);

/* Walks the block's heap and checks every chunk header, the free lists and
 * the counts; returns 0, or -1 with err naming the first inconsistency. */
int ll_block_heap_check(const struct ll_block *block, struct ll_error *err);

/* ---- the replacements (named after the functions they replace) ------- */

void *ll_compat_malloc(__SIZE_TYPE__ size);
void *ll_compat_calloc(__SIZE_TYPE__ count, __SIZE_TYPE__ size);
void *ll_compat_realloc(void *ptr, __SIZE_TYPE__ size);
void *ll_compat_reallocarray(void *ptr, __SIZE_TYPE__ count, __SIZE_TYPE__ size);
void ll_compat_free(void *ptr);
void *ll_compat_aligned_alloc(__SIZE_TYPE__ align, __SIZE_TYPE__ size);
int ll_compat_posix_memalign(void **out, __SIZE_TYPE__ align, __SIZE_TYPE__ size);
void *ll_compat_memalign(__SIZE_TYPE__ align, __SIZE_TYPE__ size);
__SIZE_TYPE__ ll_compat_malloc_usable_size(void *ptr);
char *ll_compat_strdup(const char *s);
char *ll_compat_strndup(const char *s, __SIZE_TYPE__ n);
int ll_compat_rand(void);
void ll_compat_srand(unsigned seed);
long ll_compat_random(void);
void ll_compat_srandom(unsigned seed);
long ll_compat_time(long *out);
long ll_compat_clock(void);
int ll_compat_clock_gettime(int clock, struct timespec *out);
int ll_compat_gettimeofday(struct timeval *out, void *tz);

#ifdef __cplusplus
}
#endif

#endif /* LOOPLIVE_COMPAT_H */

/* The renames, apart: looplive.h includes the declarations only, and a
 * later include of this header still renames. */
#if !defined(LL_COMPAT_KEEP_LIBC) && !defined(__cplusplus) && !defined(LOOPLIVE_COMPAT_RENAMES)
#define LOOPLIVE_COMPAT_RENAMES
#ifdef LL_COMPAT_HEAP_SIZE
__attribute__((constructor)) static void ll_compat_configure_(void)
{
    ll_compat_heap_size_set((__UINT64_TYPE__)(LL_COMPAT_HEAP_SIZE));
}
#endif
/* Object-like: a function pointer taken to malloc is the block's too. */
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef strdup
#undef strndup
#define malloc             ll_compat_malloc
#define calloc             ll_compat_calloc
#define realloc            ll_compat_realloc
#define reallocarray       ll_compat_reallocarray
#define free               ll_compat_free
#define aligned_alloc      ll_compat_aligned_alloc
#define posix_memalign     ll_compat_posix_memalign
#define memalign           ll_compat_memalign
#define malloc_usable_size ll_compat_malloc_usable_size
#define strdup             ll_compat_strdup
#define strndup            ll_compat_strndup
#define rand               ll_compat_rand
#define srand              ll_compat_srand
#define random             ll_compat_random
#define srandom            ll_compat_srandom
#define time               ll_compat_time
#define clock              ll_compat_clock
#define clock_gettime      ll_compat_clock_gettime
#define gettimeofday       ll_compat_gettimeofday
#endif
