/* test_snapshot_swap.c - a written page swapped out still counts: the state
 * hash, a recording and a take/restore all see it. Needs a swap file: the
 * test enables one of its own when it runs as root and the machine allows
 * it (and removes it after), and says why it skips otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>

#include "loop/loop.h"
#include "snapshot/helpers.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

enum { PAGES = 256, SWAP_MIB = 16 };

static char swap_path[64];
static int swap_lock = -1;

/* Swap is machine-wide: a swapoff pulls every page back in, another
 * test's included. Tests that use swap take turns through one lock file
 * (a fixed name on purpose: it must be the same for every run). */
static void swap_lock_take(void)
{
    swap_lock = open("/var/tmp/looplive-test-swap.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (swap_lock >= 0) flock(swap_lock, LOCK_EX);
}

/* Enables a swap file of SWAP_MIB; NULL when it could, else why not. */
static const char *swap_enable(void)
{
    if (geteuid() != 0) return "not root: cannot enable a swap file";
    swap_lock_take();
    snprintf(swap_path, sizeof swap_path, "/var/tmp/looplive-swap-XXXXXX");
    int fd = mkstemp(swap_path);
    if (fd < 0) {
        swap_path[0] = 0;
        return "cannot create a swap file in /var/tmp";
    }
    static char zeros[1 << 20];
    int ok = fchmod(fd, 0600) == 0;
    /* Written, not fallocated: some filesystems refuse swap on unwritten
     * extents. */
    for (int i = 0; ok && i < SWAP_MIB; i++) ok = write(fd, zeros, sizeof zeros) == sizeof zeros;
    ok = ok && fsync(fd) == 0;
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "mkswap %s >/dev/null 2>&1", swap_path);
    if (!ok || system(cmd) != 0) {
        unlink(swap_path);
        swap_path[0] = 0;
        return "cannot write or mkswap a swap file in /var/tmp (is mkswap installed?)";
    }
    if (swapon(swap_path, 0) != 0) {
        unlink(swap_path);
        swap_path[0] = 0;
        return "swapon refused (a container without CAP_SYS_ADMIN, or a filesystem without "
               "swap file support)";
    }
    return NULL;
}

static void swap_disable(void)
{
    if (swap_path[0]) {
        swapoff(swap_path);
        unlink(swap_path);
        swap_path[0] = 0;
    }
    if (swap_lock >= 0) close(swap_lock);
    swap_lock = -1;
}

/* Whether the page at p is swapped out now (/proc/self/pagemap bit 62). */
static int swapped(const void *p)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t e = 0;
    ssize_t n = pread(fd, &e, 8, (off_t)((uintptr_t)p / 4096 * 8));
    close(fd);
    return n == 8 && (e >> 62 & 1);
}

/* Pushes the page at p out to swap and checks that it went. */
static void page_out(void *p)
{
    int rc = 0;
    /* A page still under writeback from its last trip out is skipped by
     * reclaim: try again for up to a second. */
    for (int tries = 0; tries < 200 && !swapped(p); tries++) {
        if (tries) usleep(5000);
        rc = madvise(p, 4096, MADV_PAGEOUT);
    }
    cr_assert(swapped(p), "MADV_PAGEOUT left the page at %p in memory (madvise: %s)", p,
              rc ? strerror(errno) : "no error");
}

/* Swap used by the mapping that starts at base (/proc/self/smaps), in KiB:
 * for the block's baseline (memfd) pages it is the only sign they are out,
 * since a file page reclaimed leaves no entry in /proc/self/pagemap. */
static long mapping_swap_kib(const void *base)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512], want[32];
    snprintf(want, sizeof want, "%lx-", (unsigned long)(uintptr_t)base);
    long kib = -1;
    int in = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' '))
            in = strncmp(line, want, strlen(want)) == 0;
        if (in && sscanf(line, "Swap: %ld kB", &kib) == 1) break;
    }
    if (f) fclose(f);
    return kib;
}

/* Pushes the block's baseline (memfd) page at p out to swap. */
static void baseline_page_out(const ll_block *b, uint8_t *p)
{
    for (int tries = 0; tries < 200 && mapping_swap_kib(b->base) <= 0; tries++) {
        volatile uint8_t sink = *p; /* mapped, so that MADV_PAGEOUT finds it */
        (void)sink;
        if (tries) usleep(5000);
        madvise(p, 4096, MADV_PAGEOUT);
    }
    cr_assert_gt(mapping_swap_kib(b->base), 0, "MADV_PAGEOUT left the baseline page in memory");
}

static int count_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)bytes;
    uint64_t *found = ctx;
    found[0]++;
    if (off == 9 * 4096) found[1] = 1;
    return 0;
}

/* Whether a recording of the block now holds page 9 with these bytes. */
static int record_holds(ll_block *b, const uint8_t *want)
{
    ll_error err;
    char dir[] = "/tmp/looplive-test-swap-XXXXXX", path[64];
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.llrec", dir);
    loop_rec_info info = {.layout_version = 1, .input_size = 4, .fps = 60};
    uint32_t input = 0;
    cr_assert_eq(loop_rec_write(path, b, NULL, &info, (const uint8_t *)&input, NULL, 0, &err), 0,
                 "%s", err.msg);
    loop_rec rec;
    cr_assert_eq(loop_rec_open(&rec, path, &err), 0, "%s", err.msg);
    int held = 0;
    for (uint64_t i = 0; i < rec.info.pages; i++) {
        const uint8_t *entry = rec.pages + i * (8 + 4096);
        uint64_t off;
        memcpy(&off, entry, 8);
        if (off == 9 * 4096) held = memcmp(entry + 8, want, 4096) == 0;
    }
    loop_rec_close(&rec);
    unlink(path);
    rmdir(dir);
    return held;
}

static void swapped_page_counts(ll_block *b)
{
    ll_error err;
    uint8_t *page = b->base + 9 * 4096;
    fill_page(b->base, 9, 42);
    uint8_t want[4096];
    memcpy(want, page, 4096);
    page_out(page);

    /* The enumeration lists it. */
    uint64_t found[2] = {0, 0};
    cr_assert_eq(ll_snap_pages_visit(b, NULL, count_page, found, &err), 0, "%s", err.msg);
    cr_assert(found[1], "ll_snap_pages_visit lists the swapped-out page");

    /* The state hash counts it. */
    page_out(page);
    loop_hash h;
    cr_assert_eq(loop_hash_init(&h, b, &err), 0, "%s", err.msg);
    cr_assert_eq(loop_hash_all(&h, b, &err), 0, "%s", err.msg);
    cr_assert_eq(h.page_hash[9], loop_hash_contribution(&h, want, 9), "the hash counts it");
    loop_hash_free(&h);

    /* A recording holds it. */
    page_out(page);
    cr_assert(record_holds(b, want), "the recording holds the swapped-out page and its bytes");

    /* A take keeps it and a restore brings it back; a restore also drops
     * it when it was written after the snapshot. */
    page_out(page);
    ll_snap *with = ll_snap_take(b, &err);
    cr_assert_not_null(with, "%s", err.msg);
    memset(page, 7, 4096);
    page_out(page);
    cr_assert_eq(ll_snap_restore(b, with, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(page, want, 4096), 0, "the take kept it, the restore brought it back");

    /* The same page in the baseline (the memfd) swapped out: listed,
     * hashed, recorded. */
    baseline_page_out(b, page);
    found[0] = found[1] = 0;
    cr_assert_eq(ll_snap_pages_visit(b, NULL, count_page, found, &err), 0, "%s", err.msg);
    cr_assert(found[1], "ll_snap_pages_visit lists the swapped-out baseline page");
    baseline_page_out(b, page);
    cr_assert_eq(loop_hash_init(&h, b, &err), 0, "%s", err.msg);
    cr_assert_eq(loop_hash_all(&h, b, &err), 0, "%s", err.msg);
    cr_assert_eq(h.page_hash[9], loop_hash_contribution(&h, want, 9), "the hash counts it");
    loop_hash_free(&h);
    baseline_page_out(b, page);
    cr_assert(record_holds(b, want), "the recording holds the swapped-out baseline page");
}

static void run(const char *tracker)
{
    const char *why = swap_enable();
    if (why) cr_skip_test("no swap to test with: %s", why);
    setenv("LOOPLIVE_SNAP_TRACKER", tracker, 1);
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    for (uint64_t p = 0; p < 8; p++) fill_page(b.base, p, 1);
    ll_snap *first = ll_snap_take(&b, &err);
    cr_assert_not_null(first, "%s", err.msg);
    swapped_page_counts(&b);
    cr_assert_eq(ll_snap_restore(&b, first, &err), 0, "%s", err.msg);
    for (uint64_t i = 0; i < 4096; i++) cr_assert_eq(b.base[9 * 4096 + i], 0);
    ll_snap_end(&b);
    ll_block_release(&b);
}

/* The swap file goes away even when an assertion ends the test early. */
TestSuite(snapshot_swap, .fini = swap_disable);

Test(snapshot_swap, swapped_page_counts_pagemap_scan)
{
    run("pagemap_scan");
}

Test(snapshot_swap, swapped_page_counts_pagemap)
{
    run("pagemap");
}
