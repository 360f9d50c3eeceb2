/* test_snapshot.c - take, restore, drop, changed: exact bytes back, with
 * both trackers, many live snapshots, anonymous blocks and fork. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "snapshot/helpers.h"
#include "lib/proc_self.h"

#define MIB (1ull << 20)

static void use_tracker(const char *name)
{
    if (name) setenv("LOOPLIVE_SNAP_TRACKER", name, 1);
}

Test(snapshot, restore_returns_exact_bytes)
{
    ll_block b;
    ll_error err;
    reserve(&b, 16 * MIB);
    for (uint64_t p = 0; p < 512; p++) fill_page(b.base, p, 1);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    for (int round = 0; round < 3; round++) {
        for (uint64_t p = 0; p < 4096; p += 7) fill_page(b.base, p, 100 + (uint64_t)round);
        b.base[b.size - 1] = 0x5a;
        cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
        cr_assert_eq(memcmp(b.base, want, b.size), 0, "round %d", round);
    }
    ll_snap_drop(&b, s);
    cr_assert_eq(ll_snap_count_get(&b), 0);
    ll_snap_end(&b);
    ll_block_release(&b);
    free(want);
}

typedef struct visits {
    uint64_t offsets[64];
    int n;
} visits;

static void record(uint64_t off, void *ctx)
{
    visits *v = ctx;
    if (v->n < 64) v->offsets[v->n] = off;
    v->n++;
}

static void changed_reports_written_pages(const char *tracker)
{
    use_tracker(tracker);
    ll_block b;
    ll_error err;
    reserve(&b, 8 * MIB);
    volatile uint8_t sink = b.base[5 * 4096]; /* a read is not a write */
    (void)sink;
    b.base[100 * 4096 + 9] = 1;
    b.base[3 * 4096] = 1;
    b.base[7 * 4096 + 4095] = 1;
    visits v = {0};
    cr_assert_eq(ll_snap_changed_visit(&b, record, &v, &err), 0, "%s", err.msg);
    cr_assert_eq(v.n, 3);
    cr_assert_eq(v.offsets[0], 3 * 4096);
    cr_assert_eq(v.offsets[1], 7 * 4096);
    cr_assert_eq(v.offsets[2], 100 * 4096);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    v.n = 0;
    cr_assert_eq(ll_snap_changed_visit(&b, record, &v, &err), 0);
    cr_assert_eq(v.n, 0, "nothing written since the take");
    cr_assert_eq(b.base[3 * 4096], 1, "the take keeps the bytes");
    b.base[42 * 4096] = 2;
    v.n = 0;
    cr_assert_eq(ll_snap_changed_visit(&b, record, &v, &err), 0);
    cr_assert_eq(v.n, 1);
    cr_assert_eq(v.offsets[0], 42 * 4096);
    /* take_visit reports the same pages, then takes. */
    b.base[43 * 4096] = 3;
    v.n = 0;
    ll_snap *t = ll_snap_take_visit(&b, record, &v, &err);
    cr_assert_not_null(t, "%s", err.msg);
    cr_assert_eq(v.n, 2);
    cr_assert_eq(v.offsets[0], 42 * 4096);
    cr_assert_eq(v.offsets[1], 43 * 4096);
    cr_assert_eq(ll_snap_count_get(&b), 2);
    b.base[42 * 4096] = 9;
    cr_assert_eq(ll_snap_restore(&b, t, &err), 0, "%s", err.msg);
    cr_assert_eq(b.base[42 * 4096], 2);
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(b.base[42 * 4096], 0);
    cr_assert_eq(b.base[43 * 4096], 0);
    ll_snap_end(&b);
    ll_block_release(&b);
}

/* A page only read maps the shared zero page; made a guard page after,
 * it must not fault the scan (the fallback checks such pages for zeros). */
static void read_then_guarded(const char *tracker)
{
    use_tracker(tracker);
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    volatile uint8_t sink = b.base[5 * 4096];
    (void)sink;
    b.base[6 * 4096] = 1;
    cr_assert_eq(mprotect(b.base + 5 * 4096, 4096, PROT_NONE), 0);
    visits v = {0};
    cr_assert_eq(ll_snap_changed_visit(&b, record, &v, &err), 0, "%s", err.msg);
    cr_assert_geq(v.n, 1);
    cr_assert_eq(v.offsets[v.n - 1], 6 * 4096, "the written page is listed");
    cr_assert_eq(mprotect(b.base + 5 * 4096, 4096, PROT_READ | PROT_WRITE), 0);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    b.base[6 * 4096] = 2;
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(b.base[6 * 4096], 1);
    cr_assert_eq(b.base[5 * 4096], 0);
    ll_block_release(&b);
}

Test(snapshot, read_then_guarded_pagemap_scan)
{
    read_then_guarded(NULL);
}

Test(snapshot, read_then_guarded_pagemap)
{
    read_then_guarded("pagemap");
}

Test(snapshot, changed_pagemap_scan)
{
    changed_reports_written_pages(NULL);
}

Test(snapshot, changed_pagemap)
{
    changed_reports_written_pages("pagemap");
}

Test(snapshot, mechanism_names_the_tracker)
{
    struct utsname u;
    uname(&u);
    int major = 0, minor = 0;
    sscanf(u.release, "%d.%d", &major, &minor);
    const char *m = ll_snap_mechanism_get(NULL);
    if (major > 6 || (major == 6 && minor >= 7))
        cr_assert_str_eq(m, "pagemap_scan");
    else
        cr_assert_str_eq(m, "pagemap");
}

Test(snapshot, mechanism_fallback_on_request)
{
    use_tracker("pagemap");
    ll_block b;
    reserve(&b, 4 * MIB);
    cr_assert_str_eq(ll_snap_mechanism_get(&b), "pagemap");
    ll_block_release(&b);
}

/* Random writes, takes, restores and drops against full copies. */
static void model_check(const char *tracker, uint64_t seed)
{
    use_tracker(tracker);
    enum { PAGES = 256, MAX_LIVE = 12, STEPS = 400 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    ll_snap *snaps[MAX_LIVE];
    uint8_t *copies[MAX_LIVE];
    int live = 0;
    uint64_t s = seed;
    for (int step = 0; step < STEPS; step++) {
        int op = (int)(rng_next(&s) % 10);
        if (op < 5) {
            int n = (int)(rng_next(&s) % 8);
            for (int i = 0; i < n; i++) {
                uint64_t p = rng_next(&s) % PAGES;
                if (rng_next(&s) % 4)
                    fill_page(b.base, p, rng_next(&s));
                else
                    memset(b.base + p * 4096, 0, 4096);
            }
        } else if (op < 7 && live < MAX_LIVE) {
            snaps[live] = ll_snap_take(&b, &err);
            cr_assert_not_null(snaps[live], "%s", err.msg);
            copies[live] = malloc(b.size);
            memcpy(copies[live], b.base, b.size);
            live++;
        } else if (op < 9 && live) {
            int k = (int)(rng_next(&s) % (uint64_t)live);
            cr_assert_eq(ll_snap_restore(&b, snaps[k], &err), 0, "%s", err.msg);
            cr_assert_eq(memcmp(b.base, copies[k], b.size), 0, "step %d: restore %d of %d", step, k,
                         live);
        } else if (live) {
            int k = (int)(rng_next(&s) % (uint64_t)live);
            ll_snap_drop(&b, snaps[k]);
            free(copies[k]);
            memmove(snaps + k, snaps + k + 1, (size_t)(live - k - 1) * sizeof *snaps);
            memmove(copies + k, copies + k + 1, (size_t)(live - k - 1) * sizeof *copies);
            live--;
        }
        cr_assert_eq(ll_snap_count_get(&b), (size_t)live);
    }
    for (int k = live - 1; k >= 0; k--) {
        cr_assert_eq(ll_snap_restore(&b, snaps[k], &err), 0, "%s", err.msg);
        cr_assert_eq(memcmp(b.base, copies[k], b.size), 0, "final restore %d", k);
        free(copies[k]);
    }
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(snapshot, model_pagemap_scan)
{
    for (uint64_t seed = 1; seed <= 4; seed++) model_check(NULL, seed);
}

Test(snapshot, model_pagemap)
{
    model_check("pagemap", 99);
}

Test(snapshot, rewind_window_drops_oldest)
{
    /* The loop layer's pattern: one take per frame, oldest dropped. */
    enum { WINDOW = 120, FRAMES = 300, PAGES = 1024 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    ll_snap *ring[WINDOW] = {0};
    uint64_t frame_of_page[PAGES] = {0};
    for (uint64_t f = 1; f <= FRAMES; f++) {
        for (int i = 0; i < 16; i++) {
            uint64_t p = (f * 37 + (uint64_t)i * 101) % PAGES;
            *(uint64_t *)(b.base + p * 4096) = f;
            frame_of_page[p] = f;
        }
        if (ring[f % WINDOW]) ll_snap_drop(&b, ring[f % WINDOW]);
        ring[f % WINDOW] = ll_snap_take(&b, &err);
        cr_assert_not_null(ring[f % WINDOW], "%s", err.msg);
    }
    cr_assert_eq(ll_snap_count_get(&b), WINDOW);
    /* Rewind to the oldest frame in the window: pages hold frames <= it. */
    uint64_t oldest = FRAMES - WINDOW + 1;
    cr_assert_eq(ll_snap_restore(&b, ring[oldest % WINDOW], &err), 0, "%s", err.msg);
    for (uint64_t p = 0; p < PAGES; p++)
        cr_assert_leq(*(uint64_t *)(b.base + p * 4096), oldest, "page %llu", (unsigned long long)p);
    cr_assert_eq(ll_snap_restore(&b, ring[FRAMES % WINDOW], &err), 0, "%s", err.msg);
    for (uint64_t p = 0; p < PAGES; p++)
        cr_assert_eq(*(uint64_t *)(b.base + p * 4096), frame_of_page[p]);
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(snapshot, anonymous_block_moves_onto_a_memfd)
{
    ll_block b;
    ll_error err;
    void *base = free_base(8 * MIB);
    cr_assert_eq(ll_block_reserve(&b, &err, .base = base, .size = 8 * MIB, .huge_pages = 1), 0,
                 "%s", err.msg);
    cr_assert_eq(b.fd, -1);
    for (uint64_t p = 0; p < 100; p++) fill_page(b.base, p, 3);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    cr_assert_geq(b.fd, 0, "the block now has a memfd baseline");
    cr_assert_eq(b.base, base);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    memset(b.base, 0xff, b.size);
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    ll_snap_end(&b);
    ll_block_release(&b);
    free(want);
}

Test(snapshot, fork_keeps_both_sides_apart)
{
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    for (uint64_t p = 0; p < 64; p++) fill_page(b.base, p, 5);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    int go[2], done[2];
    cr_assert_eq(pipe(go), 0);
    cr_assert_eq(pipe(done), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: write, take (copies the shared baseline), write, restore. */
        char c;
        if (read(go[0], &c, 1) != 1) _exit(10);
        for (uint64_t p = 0; p < 64; p++) fill_page(b.base, p, 6);
        ll_snap *t = ll_snap_take(&b, NULL);
        if (!t) _exit(11);
        memset(b.base, 7, 4096);
        if (ll_snap_restore(&b, s, NULL) != 0 || memcmp(b.base, want, b.size) != 0) _exit(12);
        if (write(done[1], "x", 1) != 1) _exit(13);
        /* Wait for the parent's take, then check it did not reach us. */
        if (read(go[0], &c, 1) != 1) _exit(14);
        if (memcmp(b.base, want, b.size) != 0) _exit(15);
        if (ll_snap_restore(&b, t, NULL) != 0 || b.base[0] == want[0]) _exit(16);
        _exit(0);
    }
    close(go[0]);
    close(done[1]);
    cr_assert_eq(write(go[1], "x", 1), 1);
    char c;
    cr_assert_eq(read(done[0], &c, 1), 1, "the child failed before its restore");
    cr_assert_eq(memcmp(b.base, want, b.size), 0, "the child's take changed the parent");
    memset(b.base + 10 * 4096, 9, 4096);
    ll_snap *t = ll_snap_take(&b, &err);
    cr_assert_not_null(t, "%s", err.msg);
    cr_assert_eq(write(go[1], "x", 1), 1);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    ll_snap_end(&b);
    ll_block_release(&b);
    free(want);
}

Test(snapshot, fork_before_first_use)
{
    /* The memfd exists before the fork, the snapshot state only after. */
    ll_block b;
    ll_error err;
    reserve(&b, 4 * MIB);
    fill_page(b.base, 0, 1);
    pid_t pid = fork();
    if (pid == 0) {
        fill_page(b.base, 100, 2); /* a page the parent never wrote */
        ll_snap *s = ll_snap_take(&b, NULL);
        if (!s) _exit(10);
        memset(b.base + 100 * 4096, 3, 4096);
        if (ll_snap_restore(&b, s, NULL) != 0 || b.base[100 * 4096] == 3) _exit(11);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    uint8_t zero[4096] = {0};
    cr_assert_eq(memcmp(b.base + 100 * 4096, zero, 4096), 0, "the child's take reached us");
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(snapshot, restore_errors)
{
    ll_block a, b;
    ll_error err;
    reserve(&a, 4 * MIB);
    reserve(&b, 4 * MIB);
    cr_assert_eq(ll_snap_restore(&a, NULL, &err), -1);
    cr_assert(strstr(err.msg, "no snapshot to restore (NULL)"), "%s", err.msg);
    ll_snap *s = ll_snap_take(&a, &err);
    cr_assert_eq(ll_snap_restore(&b, s, &err), -1);
    cr_assert(strstr(err.msg, "the block has no live snapshots"), "%s", err.msg);
    ll_snap *t = ll_snap_take(&b, &err);
    ll_snap *t2 = ll_snap_take(&b, &err);
    cr_assert_eq(ll_snap_restore(&b, s, &err), -1);
    cr_assert(strstr(err.msg, "this snapshot was dropped or belongs to another block"), "%s",
              err.msg);
    ll_snap_drop(&b, t);
    ll_snap_drop(&b, t2);
    ll_snap_drop(&b, NULL);
    ll_snap_end(&a);
    ll_snap_end(&b);
    ll_snap_end(&b);
    ll_block_release(&a);
    ll_block_release(&b);
}

Test(snapshot, state_errors)
{
    ll_error err;
    ll_block none = {.fd = -1};
    cr_assert_null(ll_snap_take(&none, &err));
    cr_assert(strstr(err.msg, "the block is not reserved"), "%s", err.msg);
    /* Never mapped: the size check comes before any use of the range. */
    ll_block huge = {.base = (uint8_t *)0x1000, .size = 1ull << 46, .page_size = 4096, .fd = -1};
    cr_assert_null(ll_snap_take(&huge, &err));
    cr_assert(strstr(err.msg, "more than 2^32 pages"), "%s", err.msg);
}

static int open_fd_count(void)
{
    int n = 0;
    char path[64];
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        n += access(path, F_OK) == 0;
    }
    return n;
}

Test(snapshot, release_frees_the_snapshots)
{
    int before = open_fd_count();
    ll_block b;
    ll_error err;
    reserve(&b, 8 * MIB);
    fill_page(b.base, 1, 1);
    cr_assert_not_null(ll_snap_take(&b, &err), "%s", err.msg);
    fill_page(b.base, 2, 2);
    cr_assert_not_null(ll_snap_take(&b, &err), "%s", err.msg);
    cr_assert_eq(ll_snap_count_get(&b), 2);
    cr_assert_gt(open_fd_count(), before, "the block and its tracker hold descriptors");
    void *base = b.base;
    ll_block_release(&b); /* no ll_snap_end: the release does it (ASan checks the leak) */
    cr_assert_eq(open_fd_count(), before, "every descriptor of the block and tracker is closed");
    /* The snapshot layer keeps its state itself, keyed by the block's base:
     * a new block at the same address starts with none. */
    cr_assert_eq(ll_block_reserve(&b, &err, .base = base, .size = 8 * MIB), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_count_get(&b), 0);
    cr_assert_not_null(ll_snap_take(&b, &err), "%s", err.msg);
    cr_assert_eq(ll_snap_count_get(&b), 1);
    ll_block_release(&b);
}

/* The state of at most 64 blocks at once: the 65th block's first take
 * fails with the message, and works once another block is released. */
Test(snapshot, more_blocks_than_the_table_holds)
{
    enum { N = 65 };
    static ll_block b[N];
    ll_error err;
    for (int i = 0; i < N; i++)
        cr_assert_eq(ll_block_reserve(&b[i], &err, .size = 64 * 1024), 0, "%s", err.msg);
    for (int i = 0; i < N - 1; i++) cr_assert_not_null(ll_snap_take(&b[i], &err), "%s", err.msg);
    cr_assert_null(ll_snap_take(&b[N - 1], &err));
    cr_assert_eq(err.code, ENOSPC);
    cr_assert_str_eq(err.msg, "cannot snapshot more than 64 blocks at once (try: ll_snap_end or "
                              "ll_block_release a block you no longer snapshot)");
    ll_snap_end(&b[0]);
    cr_assert_not_null(ll_snap_take(&b[N - 1], &err), "%s", err.msg);
    for (int i = 0; i < N; i++) ll_block_release(&b[i]);
}

Test(snapshot, first_take_moves_the_block_onto_a_named_memfd)
{
    ll_block b;
    ll_error err;
    void *base = free_base(8 * MIB);
    cr_assert_eq(ll_block_reserve(&b, &err, .base = base, .size = 8 * MIB, .name = "snap-named"), 0,
                 "%s", err.msg);
    cr_assert_eq(b.fd, -1);
    cr_assert(b.flags & LL_BLOCK_ANONYMOUS);
    cr_assert_not(maps_mention("/memfd:snap-named"));
    for (uint64_t p = 0; p < 64; p += 3) fill_page(b.base, p, 8);
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    char text[512];
    ll_block_describe_str(&b, text, sizeof text);
    cr_assert(strstr(text, ", anonymous, 0 arenas\n"), "%s", text);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert_not_null(s, "%s", err.msg);
    cr_assert_geq(b.fd, 0);
    cr_assert_not(b.flags & LL_BLOCK_ANONYMOUS);
    cr_assert_eq(b.base, base, "the block stays where it was");
    cr_assert(maps_mention("/memfd:snap-named"), "the memfd carries the block's name");
    ll_block_describe_str(&b, text, sizeof text);
    cr_assert(strstr(text, ", memfd:snap-named, 0 arenas\n"), "%s", text);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    memset(b.base, 0x11, b.size);
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0);
    ll_block_release(&b);
    cr_assert_not(maps_mention("/memfd:snap-named"), "release unmaps and closes the memfd");
    free(want);
}

/* Takes the first snapshot in a child under a resource limit (the tracker
 * is opened before the limit is set); returns the message. */
static void first_take_limited(int resource, rlim_t limit, char *out, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        ll_block b;
        ll_error err = {0};
        if (ll_block_reserve(&b, &err, .size = 16 * MIB) != 0) _exit(2);
        b.base[0] = 1;
        if (ll_snap_changed_visit(&b, record, &(visits){0}, &err) != 0) _exit(3);
        struct rlimit rl = {limit, limit};
        setrlimit(resource, &rl);
        ll_snap *s = ll_snap_take(&b, &err);
        const char *msg = s ? "taken" : err.msg;
        ssize_t n = write(fds[1], msg, strlen(msg));
        _exit(n >= 0 && b.fd == -1 && b.base[0] == 1 ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d: %s", status, out);
}

Test(snapshot, memfd_refusals_are_explained)
{
    char msg[1024];
    first_take_limited(RLIMIT_NOFILE, 0, msg, sizeof msg);
    cr_assert_str_eq(msg, "cannot create the memfd behind the block: Too many open files");
    first_take_limited(RLIMIT_FSIZE, MIB, msg, sizeof msg);
    cr_assert_str_eq(msg, "cannot size the memfd behind the block to 16 MiB: File too large");
}
