/* test_snapshot_memory.c - what a snapshot holds in memory: exactly its
 * pages, merged pages moved and the rest freed; restores and loads that
 * cross an arena layout change; one page enumeration that counts swapped
 * pages. */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/uio.h>

#include "loop/loop.h"
#include "snapshot/helpers.h"

#define MIB (1ull << 20)

static uint64_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

Test(snapshot_memory, window_over_a_held_snapshot_does_not_grow)
{
    /* A slot holds an old snapshot while a rewind window of WINDOW takes one
     * per frame and drops its oldest into the slot's. The slot's snapshot
     * can hold at most every page of the block once; the window holds at
     * most WINDOW frames of PER_FRAME pages. */
    enum { PAGES = 512, WINDOW = 60, PER_FRAME = 16, FRAMES = 2000 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    for (uint64_t p = 0; p < PAGES; p++) fill_page(b.base, p, 1);
    ll_snap *held = ll_snap_take(&b, &err);
    cr_assert_not_null(held, "%s", err.msg);
    ll_snap *ring[WINDOW] = {0};
    uint64_t bound = (PAGES + (WINDOW + 1) * PER_FRAME) * 4096ull + 4 * MIB, start = 0;
    for (uint64_t f = 1; f <= FRAMES; f++) {
        for (uint64_t i = 0; i < PER_FRAME; i++) fill_page(b.base, (f * PER_FRAME + i) % PAGES, f);
        if (ring[f % WINDOW]) ll_snap_drop(&b, ring[f % WINDOW]);
        ring[f % WINDOW] = ll_snap_take(&b, &err);
        cr_assert_not_null(ring[f % WINDOW], "%s", err.msg);
        if (f == 1) start = heap_in_use();
        if (f % 250 == 0)
            cr_assert_leq(heap_in_use() - start, bound,
                          "frame %llu: the heap grew %llu KiB, more than the %llu KiB the "
                          "window and the held snapshot can need",
                          (unsigned long long)f, (unsigned long long)(heap_in_use() - start) >> 10,
                          (unsigned long long)bound >> 10);
    }
    /* The held snapshot still restores the bytes it was taken with. */
    cr_assert_eq(ll_snap_restore(&b, held, &err), 0, "%s", err.msg);
    uint8_t *want = malloc(PAGES * 4096);
    for (uint64_t p = 0; p < PAGES; p++) fill_page(want, p, 1);
    cr_assert_eq(memcmp(b.base, want, PAGES * 4096), 0);
    free(want);
    ll_snap_end(&b);
    ll_block_release(&b);
}

/* Whether the byte at p can be read (a guard page cannot), without faulting. */
static int readable(const void *p)
{
    char c;
    struct iovec local = {&c, 1}, remote = {(void *)p, 1};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
}

/* The first guard page of the block's table, or -1. */
static int64_t first_guard(const ll_block *b)
{
    for (uint64_t off = 0; off < b->size; off += 4096)
        if (!strcmp(ll_block_owner_get(b, off), "guard page")) return (int64_t)off;
    return -1;
}

Test(snapshot_memory, restore_across_a_layout_change_writes_no_guard_page)
{
    enum { PAGES = 64 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    ll_snap *empty = ll_snap_take(&b, &err);
    cr_assert_not_null(empty, "%s", err.msg);
    /* Layout 1: an unguarded arena, written twice with a take between. */
    ll_arena *a = ll_arena_create(&b, "a", 8 * 4096, &err, .guard = -1);
    cr_assert_not_null(a, "%s", err.msg);
    memset(a->begin, 1, a->capacity);
    ll_snap *old = ll_snap_take(&b, &err);
    cr_assert_not_null(old, "%s", err.msg);
    uint8_t *data = a->begin;
    memset(data, 2, 8 * 4096);
    cr_assert_not_null(ll_snap_take(&b, &err), "%s", err.msg);
    /* Layout 2: from empty again, a guarded arena; its guards lie where
     * layout 1 held data. */
    cr_assert_eq(ll_snap_restore(&b, empty, &err), 0, "%s", err.msg);
    cr_assert_not_null(ll_arena_create(&b, "b", 4096, &err, .guard = 1), "%s", err.msg);
    int64_t guard = first_guard(&b);
    cr_assert(guard >= 0 && b.base + guard >= data && b.base + guard < data + 8 * 4096,
              "a guard page over layout 1's data");
    cr_assert_not(readable(b.base + guard));
    ll_snap *now = ll_snap_take(&b, &err);
    cr_assert_not_null(now, "%s", err.msg);

    cr_assert_eq(ll_snap_restore(&b, old, &err), 0, "%s", err.msg);
    for (uint64_t i = 0; i < 8 * 4096; i++)
        cr_assert_eq(data[i], 1, "byte %llu", (unsigned long long)i);
    cr_assert(readable(b.base + guard), "layout 1 has no guard there");
    cr_assert_not_null(ll_block_arena_find(&b, "a"));

    cr_assert_eq(ll_snap_restore(&b, now, &err), 0, "%s", err.msg);
    cr_assert_not(readable(b.base + guard), "layout 2's table came back and armed its guard");
    cr_assert_not_null(ll_block_arena_find(&b, "b"));
    ll_snap_end(&b);
    ll_block_release(&b);
}

/* Writes a recording of a block laid out with guard (1) or without (-1),
 * arena "a" filled with 0x5a, at base; returns the page of a's first byte. */
static uint64_t record_layout(void *base, int guard, const char *path)
{
    ll_block b;
    ll_error err;
    reserve_at(&b, base, 64 * 4096);
    ll_arena *a = ll_arena_create(&b, "a", 8 * 4096, &err, .guard = guard);
    cr_assert_not_null(a, "%s", err.msg);
    memset(a->begin, 0x5a, a->capacity);
    uint64_t at = (uint64_t)(a->begin - b.base);
    loop_rec_info info = {.layout_version = 1, .input_size = 4, .fps = 60};
    uint32_t input = 0;
    cr_assert_eq(loop_rec_write(path, &b, NULL, &info, (const uint8_t *)&input, NULL, 0, &err), 0,
                 "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
    return at;
}

/* Loads path into a block at base laid out with guard; checks arena a. */
static void load_into_layout(void *base, int guard, const char *path, uint64_t a_at)
{
    ll_block b;
    ll_error err;
    reserve_at(&b, base, 64 * 4096);
    cr_assert_not_null(ll_arena_create(&b, "x", 4096, &err, .guard = guard), "%s", err.msg);
    cr_assert_not_null(ll_arena_create(&b, "y", 4096, &err, .guard = guard), "%s", err.msg);
    loop_rec rec;
    cr_assert_eq(loop_rec_open(&rec, path, &err), 0, "%s", err.msg);
    cr_assert_eq(loop_rec_check(&rec, &b, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(loop_rec_apply(&rec, &b, &err), 0, "%s", err.msg);
    loop_rec_close(&rec);
    ll_arena *a = ll_block_arena_find(&b, "a");
    cr_assert_not_null(a, "the recording's table came back");
    cr_assert_eq((uint64_t)(a->begin - b.base), a_at);
    for (uint64_t i = 0; i < a->capacity; i++) cr_assert_eq(a->begin[i], 0x5a);
    cr_assert_null(ll_block_arena_find(&b, "x"));
    /* The guards are the recording's: after a, exactly when it had one. */
    cr_assert_eq(readable(a->begin + a->capacity), a->guard_size == 0);
    cr_assert_eq(a->guard_size != 0, guard < 0, "the test loads across layouts");
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(snapshot_memory, recording_without_guards_loads_into_a_guarded_block)
{
    char dir[] = "/tmp/looplive-test-snapmem-XXXXXX", path[64];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.llrec", dir);
    void *base = free_base(64 * 4096);
    uint64_t at = record_layout(base, -1, path); /* a release build's layout */
    load_into_layout(base, 1, path, at);         /* loaded by a debug build */
    unlink(path);
    rmdir(dir);
}

Test(snapshot_memory, recording_with_guards_arms_them_when_loaded)
{
    char dir[] = "/tmp/looplive-test-snapmem-XXXXXX", path[64];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.llrec", dir);
    void *base = free_base(64 * 4096);
    uint64_t at = record_layout(base, 1, path);
    load_into_layout(base, -1, path, at);
    unlink(path);
    rmdir(dir);
}

Test(snapshot_memory, restore_and_load_say_when_the_block_is_not_mapped_whole)
{
    char dir[] = "/tmp/looplive-test-snapmem-XXXXXX", path[64];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.llrec", dir);
    void *base = free_base(64 * 4096);
    record_layout(base, -1, path);
    ll_block b;
    ll_error err;
    reserve_at(&b, base, 64 * 4096);
    cr_assert_not_null(ll_arena_create(&b, "g", 4096, &err, .guard = 1), "%s", err.msg);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    cr_assert_eq(munmap(b.base + 32 * 4096, 4096), 0);
    cr_assert_eq(ll_snap_restore(&b, s, &err), -1);
    cr_assert(strstr(err.msg, "cannot make the block writable to restore it: ") &&
                  strstr(err.msg, "(try: keep the block mapped whole"),
              "%s", err.msg);
    loop_rec rec;
    cr_assert_eq(loop_rec_open(&rec, path, &err), 0, "%s", err.msg);
    cr_assert_eq(loop_rec_apply(&rec, &b, &err), -1);
    loop_rec_close(&rec);
    cr_assert(strstr(err.msg, "cannot make the block writable to load a recording: ") &&
                  strstr(err.msg, "(try: keep the block mapped whole"),
              "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
    unlink(path);
    rmdir(dir);
}

static int count_pages(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)off;
    (void)bytes;
    ++*(uint64_t *)ctx;
    return 0;
}

static int stop_at_second(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)bytes;
    return ++*(uint64_t *)ctx == 2 ? (int)(off / 4096) : 0;
}

Test(snapshot_memory, pages_lists_data_of_the_block_and_of_a_snapshot)
{
    ll_block b;
    ll_error err;
    reserve(&b, 64 * 4096);
    uint64_t n = 0;
    cr_assert_eq(ll_snap_pages_visit(&b, NULL, count_pages, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 0, "an untouched block holds nothing");
    volatile uint8_t sink = b.base[9 * 4096]; /* a read page is no data */
    (void)sink;
    fill_page(b.base, 3, 1);
    fill_page(b.base, 7, 1);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    fill_page(b.base, 20, 1);
    memset(b.base + 3 * 4096, 0, 4096); /* zeros again: not listed */
    n = 0;
    cr_assert_eq(ll_snap_pages_visit(&b, NULL, count_pages, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2, "pages 7 (baseline) and 20 (written)");
    n = 0;
    cr_assert_eq(ll_snap_pages_visit(&b, s, count_pages, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2, "the snapshot holds pages 3 and 7");
    n = 0;
    cr_assert_eq(ll_snap_pages_visit(&b, NULL, stop_at_second, &n, &err), 20,
                 "fn's value stops it");
    cr_assert_eq(ll_snap_pages_visit(&b, NULL, NULL, NULL, &err), -1);
    cr_assert_str_eq(err.msg, "no block or no page function (NULL)");
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(snapshot_memory, merges_move_whole_slabs_and_copy_the_rest)
{
    enum { PAGES = 16 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    uint8_t *want[4];
    ll_snap *s[4];
    /* Each step writes pages the snapshot before may or may not hold. */
    static const int writes[4][3] = {{0, 1, 2}, {0, 1, -1}, {1, 2, -1}, {5, 6, -1}};
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 3 && writes[k][i] >= 0; i++)
            fill_page(b.base, (uint64_t)writes[k][i], (uint64_t)k + 10);
        s[k] = ll_snap_take(&b, &err);
        cr_assert_not_null(s[k], "%s", err.msg);
        want[k] = malloc(b.size);
        memcpy(want[k], b.base, b.size);
    }
    fill_page(b.base, 9, 99);
    /* s[1] holds pages 1 and 2; s[0] holds 1: page 2 is copied over. Then
     * s[2] holds 5 and 6, which s[0] lacks: its slab moves whole. */
    ll_snap_drop(&b, s[1]);
    ll_snap_drop(&b, s[2]);
    for (int k = 3; k >= 0; k -= 3) {
        cr_assert_eq(ll_snap_restore(&b, s[k], &err), 0, "%s", err.msg);
        cr_assert_eq(memcmp(b.base, want[k], b.size), 0, "snapshot %d", k);
    }
    cr_assert_eq(ll_snap_restore(&b, s[3], &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want[3], b.size), 0);
    for (int k = 0; k < 4; k++) free(want[k]);
    ll_snap_end(&b);
    ll_block_release(&b);
}

/* ---- the same through the loop, as an application sees it ---- */

static void arena_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)input;
    (void)dt;
    ll_arena *a = ll_block_arena_find(block, "a");
    if (a) a->begin[(frame % 8) * 4096 + frame % 64] += 1;
}

static const ll_app arena_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 4,
    .layout_version = 3,
    .block_size = 64 * 4096,
    .name = "arenas",
    .update = arena_update,
};

/* A block at base with arena "a" (8 pages) placed with or without guards,
 * after an arena "x" of 2 pages when shift (another layout). */
static void arena_block(ll_block *b, void *base, int guard, int shift)
{
    ll_error err;
    reserve_at(b, base, 64 * 4096);
    if (shift) cr_assert_not_null(ll_arena_create(b, "x", 2 * 4096, &err, .guard = guard));
    cr_assert_not_null(ll_arena_create(b, "a", 8 * 4096, &err, .guard = guard), "%s", err.msg);
}

Test(snapshot_memory, loop_loads_a_recording_of_another_guard_layout)
{
    char dir[] = "/tmp/looplive-test-snapmem-XXXXXX", path[64];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.llrec", dir);
    void *base = free_base(64 * 4096);
    ll_block b;
    ll_error err;
    /* A release build (no guards) records 20 frames. */
    arena_block(&b, base, -1, 0);
    ll_loop *loop = ll_loop_create(&b, &err, .app = &arena_app);
    cr_assert(loop, "%s", err.msg);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    uint64_t end = ll_loop_hash_get(loop);
    cr_assert_eq(ll_loop_save(loop, 0, path, &err), 0, "%s", err.msg);
    ll_loop_destroy(loop);
    ll_snap_end(&b);
    ll_block_release(&b);
    /* A debug build (guards, another layout) loads and plays it. */
    arena_block(&b, base, 1, 1);
    cr_assert(first_guard(&b) >= 0);
    loop = ll_loop_create(&b, &err, .app = &arena_app);
    cr_assert(loop, "%s", err.msg);
    cr_assert_eq(ll_loop_load(loop, 0, path, &err), 0, "%s", err.msg);
    cr_assert_eq(first_guard(&b), -1, "the recording's table came back: no guards");
    cr_assert_null(ll_block_arena_find(&b, "x"));
    for (uint64_t off = 0; off < b.size; off += 4096)
        cr_assert(readable(b.base + off), "no guard of the old layout left at 0x%llx",
                  (unsigned long long)off);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), end, "the recording replays to the same state");
    ll_loop_destroy(loop);
    ll_snap_end(&b);
    ll_block_release(&b);
    unlink(path);
    rmdir(dir);
}

/* ---- the threading contract (looplive.h): a reader during takes ---- */

typedef struct reader {
    const volatile uint64_t *word;
    uint64_t want;
    volatile int stop;
    volatile uint64_t reads;
    uint64_t wrong;
} reader;

static void *read_loop(void *arg)
{
    reader *r = arg;
    while (!r->stop) {
        r->wrong += *r->word != r->want;
        r->reads++;
    }
    return NULL;
}

Test(snapshot_memory, a_reader_sees_unchanged_bytes_during_takes)
{
    enum { PAGES = 256 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    uint64_t *word = (uint64_t *)(b.base + 5 * 4096 + 64);
    *word = 0x1234567890abcdefull;
    reader r = {.word = word, .want = *word};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, read_loop, &r), 0);
    while (!r.reads) sched_yield(); /* reading before the first take */
    ll_snap *ring[8] = {0};
    /* The first take moves the block onto a memfd; later ones commit page
     * 5 again now and then and drop its private copy each time. */
    for (uint64_t i = 0; i < 400; i++) {
        fill_page(b.base, 10 + i % 100, i);
        if (i % 7 == 0) *word = r.want; /* written again, same bytes */
        ll_snap_drop(&b, ring[i % 8]);
        ring[i % 8] = ll_snap_take(&b, &err);
        cr_assert_not_null(ring[i % 8], "%s", err.msg);
    }
    r.stop = 1;
    pthread_join(t, NULL);
    cr_assert_gt(r.reads, 0);
    cr_assert_eq(r.wrong, 0, "%llu of %llu reads saw other bytes", (unsigned long long)r.wrong,
                 (unsigned long long)r.reads);
    ll_snap_end(&b);
    ll_block_release(&b);
}
