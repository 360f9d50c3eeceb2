/* test_compat.c - looplive_compat.h: the heap in the block against a
 * reference model, fragmentation, realloc growth, alignment, exhaustion and
 * its messages, heaps brought back by snapshots and saved files, rand and
 * the clocks answered from the block and the call, and the call in
 * progress set by ll_app_call_run. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "looplive.h"

#define MIB (1ull << 20)

static ll_block block;
static ll_error err;
static ll_app_call saved_call;

static void enter_frame(uint64_t frame)
{
    ll_app_call call = {&block, frame, 1.0 / 60, 0};
    ll_app_call_set(&call);
}

static void setup(void)
{
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 64 * MIB, .name = "compat-test"), 0, "%s",
                 err.msg);
    ll_compat_heap_size_set(0);
    saved_call = ll_app_call_set(NULL);
    enter_frame(0);
}

static void teardown(void)
{
    ll_app_call_set(&saved_call);
    ll_compat_heap_size_set(0);
    ll_block_release(&block);
}

TestSuite(compat, .init = setup, .fini = teardown);

static void heap_ok(void)
{
    cr_assert_eq(ll_block_heap_check(&block, &err), 0, "%s", err.msg);
}

static int in_block(const void *p)
{
    return (const uint8_t *)p >= block.base && (const uint8_t *)p < block.base + block.size;
}

/* ---- the reference model ---------------------------------------------- */

typedef struct model {
    uint8_t *p;
    size_t size;
    uint8_t fill;
} model;

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t random_size(void)
{
    uint64_t r = next_rand() % 100;
    if (r < 70) return (size_t)(next_rand() % 256);
    if (r < 95) return (size_t)(next_rand() % 8192);
    return (size_t)(next_rand() % (512 * 1024));
}

static void fill(model *m)
{
    memset(m->p, m->fill, m->size);
}

static void verify(const model *m)
{
    for (size_t i = 0; i < m->size; i++)
        if (m->p[i] != m->fill)
            cr_assert_fail("byte %zu of a %zu-byte allocation changed", i, m->size);
}

Test(compat, random_operations_match_a_reference_model)
{
    enum { SLOTS = 512, OPS = 20000 };
    static model live[SLOTS];
    memset(live, 0, sizeof live);
    for (int op = 0; op < OPS; op++) {
        model *m = &live[next_rand() % SLOTS];
        uint64_t kind = next_rand() % 10;
        if (m->p) verify(m);
        if (m->p && kind < 4) {
            ll_compat_free(m->p);
            m->p = NULL;
        } else if (m->p && kind < 7) {
            size_t size = random_size();
            uint8_t *p = ll_compat_realloc(m->p, size);
            cr_assert(p != NULL || size == 0);
            m->p = p;
            m->size = size < m->size ? size : m->size; /* what must be kept */
            verify(m);
            m->size = size;
            m->fill = (uint8_t)next_rand();
            fill(m);
        } else if (!m->p) {
            m->size = random_size();
            if (kind == 7) {
                m->p = ll_compat_calloc(1, m->size);
                m->fill = 0;
                verify(m);
            } else if (kind == 8) {
                size_t align = (size_t)16 << (next_rand() % 8);
                m->p = ll_compat_aligned_alloc(align, m->size);
                cr_assert_eq((uintptr_t)m->p % align, 0, "aligned to %zu", align);
            } else {
                m->p = ll_compat_malloc(m->size);
            }
            cr_assert_not_null(m->p, "%s", ll_compat_error_get() ? ll_compat_error_get()->msg : "");
            cr_assert(in_block(m->p), "the allocation is in the block");
            cr_assert_eq((uintptr_t)m->p % 16, 0);
            cr_assert_geq(ll_compat_malloc_usable_size(m->p), m->size);
            m->fill = (uint8_t)next_rand();
            fill(m);
        }
        if (op % 1000 == 0) heap_ok();
    }
    heap_ok();
    size_t count = 0;
    for (int i = 0; i < SLOTS; i++)
        if (live[i].p) {
            verify(&live[i]);
            count++;
        }
    ll_heap_stats st;
    cr_assert_eq(ll_block_heap_stats_get(&block, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.allocations, count);
    for (int i = 0; i < SLOTS; i++) ll_compat_free(live[i].p);
    heap_ok();
    cr_assert_eq(ll_block_heap_stats_get(&block, &st, &err), 0);
    cr_assert_eq(st.allocations, 0);
    cr_assert_eq(st.in_use, 0);
    cr_assert_gt(st.peak_in_use, 0);
    cr_assert_gt(st.high_water, st.extent, "the top was given back to the arena");
}

Test(compat, fragmentation_and_the_high_water_mark_are_reported)
{
    void *p[200];
    for (int i = 0; i < 200; i++) p[i] = ll_compat_malloc(2000);
    ll_heap_stats st;
    cr_assert_eq(ll_block_heap_stats_get(&block, &st, &err), 0, "%s", err.msg);
    cr_assert_eq(st.allocations, 200);
    cr_assert_float_eq(st.fragmentation, 0.0, 1e-9, "no hole yet");
    for (int i = 0; i < 199; i += 2) ll_compat_free(p[i]);
    heap_ok();
    cr_assert_eq(ll_block_heap_stats_get(&block, &st, &err), 0);
    cr_assert_eq(st.largest_free, 2016, "holes of one chunk each");
    cr_assert_gt(st.fragmentation, 0.95, "100 holes: %f", st.fragmentation);
    uint64_t high = st.high_water;
    for (int i = 1; i < 200; i += 2) ll_compat_free(p[i]);
    heap_ok();
    cr_assert_eq(ll_block_heap_stats_get(&block, &st, &err), 0);
    cr_assert_float_eq(st.fragmentation, 0.0, 1e-9);
    cr_assert_eq(st.high_water, high);
    cr_assert_eq(st.free_bytes, 0, "everything went back to the arena");
}

Test(compat, small_chunks_kept_aside_are_merged_before_the_heap_grows)
{
    void *p[64];
    for (int i = 0; i < 64; i++) p[i] = ll_compat_malloc(1000);
    void *guard = ll_compat_malloc(16); /* keeps them off the top */
    for (int i = 0; i < 64; i++) ll_compat_free(p[i]);
    ll_heap_stats before, after;
    ll_block_heap_stats_get(&block, &before, &err);
    void *big = ll_compat_malloc(60000);
    ll_block_heap_stats_get(&block, &after, &err);
    cr_assert_eq(after.extent, before.extent, "served from the merged small chunks");
    cr_assert_eq((uint8_t *)big, (uint8_t *)p[0]);
    heap_ok();
    ll_compat_free(big);
    ll_compat_free(guard);
    heap_ok();
}

Test(compat, realloc_grows_in_place_at_the_top_and_keeps_the_bytes)
{
    uint8_t *p = ll_compat_malloc(4000);
    for (int i = 0; i < 4000; i++) p[i] = (uint8_t)i;
    size_t size = 4000;
    for (int step = 0; step < 12; step++) {
        size *= 2;
        uint8_t *q = ll_compat_realloc(p, size);
        cr_assert_eq(q, p, "the top chunk grows where it is");
        p = q;
    }
    for (int i = 0; i < 4000; i++) cr_assert_eq(p[i], (uint8_t)i);
    uint8_t *small = ll_compat_realloc(p, 100);
    cr_assert_eq(small, p, "shrinking keeps the pointer");
    heap_ok();
    /* Behind another allocation it moves, keeping its bytes. */
    uint8_t *a = ll_compat_malloc(3000), *b = ll_compat_malloc(10);
    memset(a, 7, 3000);
    uint8_t *a2 = ll_compat_realloc(a, 30000);
    for (int i = 0; i < 3000; i++) cr_assert_eq(a2[i], 7);
    ll_compat_free(b);
    ll_compat_free(a2);
    ll_compat_free(small);
    heap_ok();
}

Test(compat, alignment)
{
    void *p;
    for (size_t align = 8; align <= 65536; align *= 2) {
        cr_assert_eq(ll_compat_posix_memalign(&p, align, 100), 0);
        cr_assert_eq((uintptr_t)p % align, 0);
        void *q = ll_compat_memalign(align, 5000);
        cr_assert_eq((uintptr_t)q % align, 0);
        ll_compat_free(p);
        heap_ok();
        ll_compat_free(q);
    }
    cr_assert_eq(ll_compat_posix_memalign(&p, 24, 100), EINVAL);
    errno = 0;
    cr_assert_null(ll_compat_aligned_alloc(3, 100));
    cr_assert_eq(errno, EINVAL);
    heap_ok();
}

Test(compat, reallocarray_checks_the_product)
{
    int *p = ll_compat_reallocarray(NULL, 10, sizeof(int));
    cr_assert(in_block(p));
    for (int i = 0; i < 10; i++) p[i] = i;
    p = ll_compat_reallocarray(p, 1000, sizeof(int));
    cr_assert_eq(p[9], 9);
    errno = 0;
    cr_assert_null(ll_compat_reallocarray(p, SIZE_MAX / 2, 4));
    cr_assert_eq(errno, ENOMEM);
    ll_compat_free(p);
    heap_ok();
}

Test(compat, strdup_and_strndup_copy_into_the_block)
{
    char *s = ll_compat_strdup("hello");
    char *t = ll_compat_strndup("looplive", 4);
    cr_assert(in_block(s) && in_block(t));
    cr_assert_str_eq(s, "hello");
    cr_assert_str_eq(t, "loop");
    ll_compat_free(s);
    ll_compat_free(t);
}

/* ---- exhaustion and the messages ---------------------------------------- */

static int hook_calls;
static int count_full(ll_arena *arena, uint64_t requested, uint64_t available, void *ctx)
{
    hook_calls++;
    return 0;
}

Test(compat, a_full_heap_returns_null_with_enomem_and_says_what_to_do)
{
    ll_compat_heap_size_set(256 * 1024);
    cr_assert_eq(ll_block_on_full_set(&block, count_full, NULL, &err), 0);
    int n = 0;
    errno = 0;
    while (ll_compat_malloc(10000)) n++;
    cr_assert_eq(errno, ENOMEM);
    cr_assert(n > 20 && n < 26, "%d allocations of 10000 B in 256 KiB", n);
    cr_assert_eq(hook_calls, 1, "the block's full hook heard of it");
    const ll_error *e = ll_compat_error_get();
    cr_assert_not_null(e);
    cr_assert_eq(e->code, ENOMEM);
    cr_assert(strstr(e->msg, "malloc of 9.77 KiB failed: arena 'll.heap' is full") == e->msg, "%s",
              e->msg);
    cr_assert(strstr(e->msg, "(try: a larger block_size in the ll_app, or #define "
                             "LL_COMPAT_HEAP_SIZE before including looplive_compat.h)"),
              "%s", e->msg);
    cr_assert_null(ll_compat_malloc(1ull << 63));
    cr_assert_str_eq(ll_compat_error_get()->msg,
                     "malloc of 8 EiB failed: arena 'll.heap' cannot hold 8 EiB (try: a "
                     "larger block_size in the ll_app, or #define LL_COMPAT_HEAP_SIZE before "
                     "including looplive_compat.h)");
    cr_assert_null(ll_compat_calloc(1ull << 40, 1ull << 40));
    heap_ok();
}

Test(compat, a_heap_that_cannot_be_created_says_why)
{
    cr_assert_not_null(ll_arena_create(&block, "everything", 0, &err, .guard = -1));
    errno = 0;
    cr_assert_null(ll_compat_malloc(10));
    cr_assert_eq(errno, ENOMEM);
    cr_assert(strstr(ll_compat_error_get()->msg, "cannot create the heap arena 'll.heap': ") ==
                  ll_compat_error_get()->msg,
              "%s", ll_compat_error_get()->msg);
    cr_assert(strstr(ll_compat_error_get()->msg, "(try: a larger block_size in the ll_app, or a "
                                                 "smaller LL_COMPAT_HEAP_SIZE)"));
}

Test(compat, state_at_the_base_is_not_overwritten)
{
    memcpy(block.base, "state", 5);
    cr_assert_null(ll_compat_malloc(10));
    cr_assert_str_eq(ll_compat_error_get()->msg,
                     "cannot create the heap arena 'll.heap': the block has no arena table and its "
                     "first bytes hold data (try: keep the state in an arena made by "
                     "ll_arena_create, not at block->base)");
    cr_assert_eq(memcmp(block.base, "state", 5), 0);
}

Test(compat, an_arena_used_by_other_code_is_refused)
{
    ll_arena *a = ll_arena_create(&block, LL_COMPAT_HEAP_ARENA, MIB, &err);
    cr_assert_not_null(ll_arena_push(a, 100));
    cr_assert_null(ll_compat_malloc(10));
    cr_assert_str_eq(ll_compat_error_get()->msg,
                     "arena 'll.heap' holds no heap: other code pushed to it (try: leave arena "
                     "'ll.heap' to looplive_compat.h)");
    cr_assert_eq(ll_block_heap_stats_get(&block, &(ll_heap_stats){0}, &err), -1);
}

Test(compat, a_push_behind_the_heaps_back_stops_its_growth)
{
    cr_assert_not_null(ll_compat_malloc(10));
    ll_arena *a = ll_block_arena_find(&block, LL_COMPAT_HEAP_ARENA);
    cr_assert_not_null(ll_arena_push(a, 48));
    cr_assert_null(ll_compat_malloc(100));
    cr_assert(strstr(ll_compat_error_get()->msg,
                     "the heap arena 'll.heap' was pushed to by other code: the heap cannot grow "
                     "(try: leave arena 'll.heap' to looplive_compat.h)"),
              "%s", ll_compat_error_get()->msg);
}

Test(compat, a_heap_of_another_version_is_refused)
{
    ll_compat_free(ll_compat_malloc(10));
    ll_arena *a = ll_block_arena_find(&block, LL_COMPAT_HEAP_ARENA);
    a->begin[8] = 9; /* the version */
    cr_assert_eq(ll_block_heap_stats_get(&block, &(ll_heap_stats){0}, &err), -1);
    cr_assert_str_eq(err.msg, "the heap in arena 'll.heap' is version 9, made for another block");
}

Test(compat, the_check_names_a_corrupted_chunk)
{
    uint8_t *p = ll_compat_malloc(100);
    ll_compat_malloc(100);
    memset(p + 100, 0xff, 40); /* past the end, over the next header */
    cr_assert_eq(ll_block_heap_check(&block, &err), -1);
    cr_assert(strstr(err.msg, "the heap in arena 'll.heap' is corrupted: ") == err.msg, "%s",
              err.msg);
    cr_assert(strstr(err.msg, "(try: look for a write past an allocation, or a free of a pointer "
                              "malloc did not return)"));
    ll_block no_heap = {0};
    cr_assert_eq(ll_block_heap_stats_get(&no_heap, &(ll_heap_stats){0}, &err), -1);
    cr_assert_str_eq(err.msg, "the block has no heap arena 'll.heap' (try: malloc from the "
                              "application built with -include looplive_compat.h first)");
}

Test(compat, a_double_free_of_a_small_chunk_aborts, .signal = SIGABRT)
{
    void *p = ll_compat_malloc(40);
    ll_compat_free(p);
    ll_compat_free(p);
}

Test(compat, a_double_free_of_a_large_chunk_aborts, .signal = SIGABRT)
{
    void *p = ll_compat_malloc(40000);
    ll_compat_malloc(10); /* keeps p off the top */
    ll_compat_free(p);
    ll_compat_free(p);
}

Test(compat, data_that_looks_like_the_mark_is_not_a_double_free)
{
    void **p = ll_compat_malloc(40);
    ll_compat_free(p);
    void **q = ll_compat_malloc(40); /* the same chunk */
    cr_assert_eq(q, p);
    q[1] = ll_block_arena_find(&block, LL_COMPAT_HEAP_ARENA)->begin; /* the mark: the heap */
    ll_compat_free(ll_compat_malloc(40)); /* another chunk of the size, kept aside */
    ll_compat_free(q);
    heap_ok();
}

/* ---- heaps brought back ------------------------------------------------ */

typedef struct node {
    struct node *next;
    char *name;
    int value;
} node;

static node *build_list(int n)
{
    node *head = NULL;
    for (int i = 0; i < n; i++) {
        node *k = ll_compat_malloc(sizeof *k);
        char name[32];
        snprintf(name, sizeof name, "node %d", i);
        k->name = ll_compat_strdup(name);
        k->value = ll_compat_rand();
        k->next = head;
        head = k;
    }
    return head;
}

static void list_digest(node *head, char *out, size_t cap)
{
    size_t len = 0;
    for (node *k = head; k; k = k->next)
        len += (size_t)snprintf(out + len, cap - len, "%s=%d;", k->name, k->value);
}

Test(compat, a_restored_heap_equals_the_saved_one)
{
    ll_arena *root = ll_arena_create(&block, "root", 4096, &err);
    node **head = ll_arena_push(root, sizeof *head, .zero = 1);
    *head = build_list(50);
    static char before[8192], after[8192];
    list_digest(*head, before, sizeof before);
    ll_heap_stats st0, st1;
    ll_block_heap_stats_get(&block, &st0, &err);
    ll_snap *snap = ll_snap_take(&block, &err);
    cr_assert_not_null(snap, "%s", err.msg);
    int first_draw = ll_compat_rand();
    for (node *k = *head; k; k = k->next) k->value = 0;
    ll_compat_free(ll_compat_malloc(100000));
    *head = build_list(20);
    ll_app_call_set(NULL);
    cr_assert_eq(ll_snap_restore(&block, snap, &err), 0, "%s", err.msg);
    enter_frame(0);
    heap_ok();
    list_digest(*head, after, sizeof after);
    cr_assert_str_eq(after, before);
    ll_block_heap_stats_get(&block, &st1, &err);
    cr_assert_eq(memcmp(&st0, &st1, sizeof st0), 0, "the same figures");
    cr_assert_eq(ll_compat_rand(), first_draw, "the generator came back too");
    /* The heap goes on from there. */
    *head = build_list(10);
    heap_ok();
    ll_snap_end(&block);
}

Test(compat, a_heap_saved_to_a_file_loads_into_another_block)
{
    ll_arena *root = ll_arena_create(&block, "root", 4096, &err);
    node **head = ll_arena_push(root, sizeof *head, .zero = 1);
    *head = build_list(40);
    static char before[8192], after[8192];
    list_digest(*head, before, sizeof before);
    int next_draw;
    {
        ll_snap *s = ll_snap_take(&block, &err);
        next_draw = ll_compat_rand();
        ll_snap_restore(&block, s, &err);
    }
    char path[] = "/tmp/ll-compat-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(ll_snap_save(&block, path, &err), 0, "%s", err.msg);
    uint8_t *base = block.base;
    ll_app_call_set(NULL);
    ll_snap_end(&block);
    ll_block_release(&block);
    cr_assert_eq(ll_block_reserve(&block, &err, .base = base, .size = 64 * MIB), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_load(&block, path, &err), 0, "%s", err.msg);
    unlink(path);
    enter_frame(0);
    heap_ok();
    head = (node **)ll_block_arena_find(&block, "root")->begin;
    list_digest(*head, after, sizeof after);
    cr_assert_str_eq(after, before);
    cr_assert_eq(ll_compat_rand(), next_draw);
    node *more = build_list(5);
    cr_assert(in_block(more));
    heap_ok();
    ll_snap_end(&block);
}

/* ---- rand, clocks and the call ------------------------------------------ */

Test(compat, rand_is_seeded_one_and_srand_repeats_a_sequence)
{
    int a[5], b[5];
    for (int i = 0; i < 5; i++) a[i] = ll_compat_rand();
    ll_compat_srand(1);
    for (int i = 0; i < 5; i++) b[i] = ll_compat_rand();
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    ll_compat_srandom(42);
    long r = ll_compat_random();
    ll_compat_srand(42);
    cr_assert_eq(ll_compat_rand(), (int)r, "one generator");
    cr_assert_geq(r, 0);
    cr_assert_leq(r, RAND_MAX);
}

Test(compat, clocks_follow_the_frame_and_dt)
{
    struct timespec t0, t1, m0, m1;
    ll_compat_clock_gettime(CLOCK_REALTIME, &t0);
    ll_compat_clock_gettime(CLOCK_MONOTONIC, &m0);
    long c0 = ll_compat_clock();
    time_t wall = time(NULL);
    cr_assert(t0.tv_sec >= wall - 5 && t0.tv_sec <= wall, "the start is the wall clock");
    enter_frame(120); /* two seconds later at 60 frames per second */
    ll_compat_clock_gettime(CLOCK_REALTIME, &t1);
    ll_compat_clock_gettime(CLOCK_MONOTONIC, &m1);
    cr_assert_eq(t1.tv_sec - t0.tv_sec, 2);
    cr_assert_eq(m1.tv_sec - m0.tv_sec, 2);
    cr_assert_eq(ll_compat_clock() - c0 > 19 * CLOCKS_PER_SEC / 10, 1);
    cr_assert_eq(ll_compat_time(NULL), t0.tv_sec + 2);
    struct timeval tv;
    cr_assert_eq(ll_compat_gettimeofday(&tv, NULL), 0);
    cr_assert_eq(tv.tv_sec, t0.tv_sec + 2);
    /* Within a frame, each read moves on by a microsecond. */
    ll_compat_clock_gettime(CLOCK_MONOTONIC, &m0);
    ll_compat_clock_gettime(CLOCK_MONOTONIC, &m1);
    cr_assert_eq((m1.tv_sec - m0.tv_sec) * 1000000000 + (m1.tv_nsec - m0.tv_nsec), 1000);
    /* A clock it does not answer is the C library's. */
    cr_assert_eq(ll_compat_clock_gettime(12345, &t1), -1);
    cr_assert_eq(errno, EINVAL);
}

Test(compat, outside_a_call_the_c_library_answers)
{
    ll_app_call_set(NULL);
    cr_assert_null(ll_app_block_get());
    void *p = ll_compat_malloc(100);
    cr_assert(!in_block(p));
    ll_compat_free(p);
    time_t wall = time(NULL);
    cr_assert_geq(ll_compat_time(NULL), wall);
    cr_assert_null(ll_block_arena_find(&block, LL_COMPAT_HEAP_ARENA), "no heap made");
}

Test(compat, pointers_of_the_c_library_are_freed_by_it)
{
    char *s = strdup("from the C library");
    char *moved = ll_compat_realloc(s, 100);
    cr_assert(in_block(moved), "realloc brings it into the block");
    cr_assert_str_eq(moved, "from the C library");
    ll_compat_free(strdup("freed by the C library")); /* ASan would catch a mistake */
    ll_compat_free(moved);
    heap_ok();
}

Test(compat, a_read_only_call_leaves_the_block_alone)
{
    ll_compat_srand(7);
    void *kept = ll_compat_malloc(10);
    ll_heap_stats st0, st1;
    ll_block_heap_stats_get(&block, &st0, &err);
    ll_app_call ro = {&block, 0, 1.0 / 60, 1};
    ll_app_call_set(&ro);
    void *p = ll_compat_malloc(100);
    cr_assert(!in_block(p), "render allocates from the C library");
    int draw = ll_compat_rand();
    ll_compat_free(p);
    enter_frame(0);
    ll_block_heap_stats_get(&block, &st1, &err);
    cr_assert_eq(memcmp(&st0, &st1, sizeof st0), 0);
    cr_assert_eq(ll_compat_rand(), draw, "the draw came from a copy");
    ll_compat_free(kept);
}

static ll_block *seen;
static void note_block(void *ctx)
{
    seen = ll_app_block_get();
    *(int *)ctx = ll_app_call_get().read_only;
}

Test(compat, the_call_is_current_only_during_ll_app_call_run)
{
    ll_app_call_set(NULL);
    int ro = 0;
    ll_app_call call = {&block, 3, 0.5, 1};
    cr_assert_eq(ll_app_call_run(NULL, &call, note_block, &ro, NULL, &err), 0);
    cr_assert_eq(seen, &block);
    cr_assert_eq(ro, 1);
    cr_assert_null(ll_app_block_get(), "put back after the call");
}

/* ---- the compat program re-simulated in the background -------------------- */

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b ? b : "build";
}

/* The re-simulation's child processes call update themselves: with the
 * block current there, an unchanged build gives the same heap, the same
 * draws and the same clocks, frame for frame. */
Test(compat_resim, an_unchanged_build_of_the_compat_program_changes_no_frame)
{
    ll_block b = {0};
    cr_assert_eq(ll_block_reserve(&b, &err, .size = 16 * MIB), 0, "%s", err.msg);
    char dir[] = "/tmp/ll-compat-resim-XXXXXX", lib[128], cmd[512];
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/game.so", dir);
    snprintf(cmd, sizeof cmd, "cp %s/tests/compat/game.so %s.new && mv %s.new %s", build_dir(), lib,
             lib, lib);
    cr_assert_eq(system(cmd), 0);
    static const char *const symbols[] = {"looplive_app"};
    ll_module *mod = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &b,
                                    .no_watch = 1);
    cr_assert(mod, "%s", err.msg);
    ll_loop *lp = ll_loop_create(&b, &err, .module = mod);
    cr_assert(lp, "%s", err.msg);
    const ll_app *app = ll_loop_app_get(lp, &err);
    cr_assert(app, "%s", err.msg);
    cr_assert_eq(ll_app_init_run(mod, app, &b, NULL, &err), 0, "%s", err.msg);
    ll_platform_input in = {0};
    for (int i = 0; i < 5; i++) cr_assert_eq(ll_loop_frame_run(lp, &in, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_record(lp, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 60; i++) {
        in.keys[' '] = i % 7 == 0;
        cr_assert_eq(ll_loop_frame_run(lp, &in, &err), 1, "%s", err.msg);
    }
    ll_loop_stop(lp);
    cr_assert_eq(system(cmd), 0); /* the same code as a second build */
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    ll_resim *r = ll_resim_start(lp, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    for (int i = 0; i < 10000 && !ll_resim_poll(r); i++) usleep(1000);
    ll_resim_status s;
    ll_resim_status_get(r, &s);
    cr_assert(s.done && !s.failed, "%s", s.error);
    cr_assert_eq(s.compared, 60);
    cr_assert_eq(s.changed, 0, "first changed at %lld", (long long)s.first_changed);
    ll_resim_destroy(r);
    ll_loop_destroy(lp);
    ll_module_close(mod);
    ll_snap_end(&b);
    ll_block_release(&b);
    unlink(lib);
    rmdir(dir);
}
