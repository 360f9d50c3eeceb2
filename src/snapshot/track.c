/* track.c - which pages of the block were written since the last take: the
 * present pages that are not file pages (private copy-on-write copies).
 * PAGEMAP_SCAN (6.7+) walks only populated page tables and returns ranges;
 * /proc/self/pagemap (any kernel) returns one entry per page. */
#include "snapshot/snapshot.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The kernel headers here are 6.1: declare PAGEMAP_SCAN's ABI by hand. */
typedef struct pm_page_region {
    uint64_t start, end, categories;
} pm_page_region;

typedef struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
} pm_scan_arg;

#define PM_PAGEMAP_SCAN    _IOWR('f', 16, pm_scan_arg)
#define PM_PAGE_IS_FILE    (1ull << 2)
#define PM_PAGE_IS_PRESENT (1ull << 3)
#define PM_PAGE_IS_SWAPPED (1ull << 4)
#define PM_PAGE_IS_PFNZERO (1ull << 5)
#define PM_VEC_LEN         1024
#define PAGEMAP_BATCH      8192 /* entries per pread of /proc/self/pagemap */
#define PAGEMAP_PRESENT    (1ull << 63)
#define PAGEMAP_SWAPPED    (1ull << 62)
#define PAGEMAP_FILE       (1ull << 61)
#define PAGEMAP_EXCLUSIVE  (1ull << 56)

static int scan_ioctl(int fd, uint64_t start, uint64_t end, pm_page_region *vec, uint64_t *walk_end)
{
    /* Present or swapped, and neither a file page nor the shared zero page. */
    pm_scan_arg a = {
        .size = sizeof a,
        .start = start,
        .end = end,
        .vec = (uint64_t)(uintptr_t)vec,
        .vec_len = PM_VEC_LEN,
        .category_inverted = PM_PAGE_IS_FILE | PM_PAGE_IS_PFNZERO,
        .category_mask = PM_PAGE_IS_FILE | PM_PAGE_IS_PFNZERO,
        .category_anyof_mask = PM_PAGE_IS_PRESENT | PM_PAGE_IS_SWAPPED,
        .return_mask = PM_PAGE_IS_PRESENT | PM_PAGE_IS_SWAPPED,
    };
    int n = ioctl(fd, PM_PAGEMAP_SCAN, &a);
    if (walk_end) *walk_end = a.walk_end;
    return n;
}

int track_detect(void)
{
    static int tracker;
    if (tracker) return tracker;
    const char *want = getenv("LOOPLIVE_SNAP_TRACKER");
    if (want && strcmp(want, "pagemap") == 0) return tracker = TRACK_PAGEMAP;
    static uint8_t probe[1];
    pm_page_region vec[PM_VEC_LEN];
    uint64_t page = ll_page_size_get();
    uint64_t start = ll_align_down((uint64_t)(uintptr_t)probe, page);
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    tracker = TRACK_PAGEMAP;
    if (fd >= 0 && scan_ioctl(fd, start, start + page, vec, NULL) >= 0)
        tracker = TRACK_PAGEMAP_SCAN;
    if (fd >= 0) close(fd);
    return tracker;
}

const char *track_name(int tracker)
{
    return tracker == TRACK_PAGEMAP_SCAN ? "pagemap_scan" : "pagemap";
}

int track_open(snap_state *st, ll_error *err)
{
    track_close(st);
    st->pid = getpid();
    st->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (st->pagemap_fd < 0)
        return ll_fail(err, errno,
                       "cannot open /proc/self/pagemap to find the written pages: %s (is /proc "
                       "mounted?)",
                       strerror(errno));
    st->pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    if (!st->scan_buf) {
        size_t bytes = st->tracker == TRACK_PAGEMAP_SCAN ? PM_VEC_LEN * sizeof(pm_page_region)
                                                         : PAGEMAP_BATCH * sizeof(uint64_t);
        st->scan_buf = malloc(bytes);
        if (!st->scan_buf) return ll_fail(err, ENOMEM, "out of memory for the page scan buffer");
    }
    return 0;
}

void track_close(snap_state *st)
{
    if (st->pagemap_fd >= 0) close(st->pagemap_fd);
    if (st->pidfd >= 0) close(st->pidfd);
    st->pagemap_fd = st->pidfd = -1;
}

static int push_run(snap_state *st, uint64_t off, uint64_t len)
{
    if (st->run_count && st->runs[st->run_count - 1].off + st->runs[st->run_count - 1].len == off) {
        st->runs[st->run_count - 1].len += len;
        return 0;
    }
    if (st->run_count == st->run_cap) {
        size_t cap = st->run_cap ? st->run_cap * 2 : 256;
        snap_run *runs = realloc(st->runs, cap * sizeof *runs);
        if (!runs) return -1;
        st->runs = runs;
        st->run_cap = cap;
    }
    st->runs[st->run_count++] = (snap_run){off, len};
    return 0;
}

static int scan_pagemap_scan(snap_state *st, const ll_block *block, ll_error *err)
{
    uint64_t base = (uint64_t)(uintptr_t)block->base, end = base + block->size;
    pm_page_region *vec = st->scan_buf;
    for (uint64_t at = base; at < end;) {
        uint64_t walk_end = end;
        int n = scan_ioctl(st->pagemap_fd, at, end, vec, &walk_end);
        if (n < 0) return ll_fail(err, errno, "PAGEMAP_SCAN of the block: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            if (push_run(st, vec[i].start - base, vec[i].end - vec[i].start) != 0)
                return ll_fail(err, ENOMEM, "out of memory for the written-page list");
        if (walk_end <= at) break;
        at = walk_end;
    }
    return 0;
}

/* An anonymous block maps the shared zero page where it was only read; the
 * pagemap file hides PFNs from us, but such a page is never exclusively
 * mapped and holds zeros, which is what the missing baseline holds too. The
 * page may have become a guard page (PROT_NONE) since: read it through
 * process_vm_readv, which fails there instead of faulting, and count a page
 * that cannot be read as written. */
static int shared_zero(const ll_block *block, uint64_t off)
{
    static __thread uint64_t buf[8192];
    if (block->page_size > sizeof buf) return 0;
    struct iovec local = {buf, block->page_size};
    struct iovec remote = {block->base + off, block->page_size};
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)block->page_size) return 0;
    for (uint64_t i = 0; i < block->page_size / 8; i++)
        if (buf[i]) return 0;
    return 1;
}

static int scan_pagemap(snap_state *st, const ll_block *block, ll_error *err)
{
    uint64_t page = block->page_size, pages = block->size / page;
    uint64_t first = (uint64_t)(uintptr_t)block->base / page;
    uint64_t *entries = st->scan_buf;
    for (uint64_t i = 0; i < pages; i += PAGEMAP_BATCH) {
        uint64_t n = pages - i < PAGEMAP_BATCH ? pages - i : PAGEMAP_BATCH;
        ssize_t got = pread(st->pagemap_fd, entries, n * 8, (off_t)((first + i) * 8));
        if (got != (ssize_t)(n * 8))
            return ll_fail(err, got < 0 ? errno : EIO, "reading /proc/self/pagemap: %s",
                           got < 0 ? strerror(errno) : "short read");
        for (uint64_t j = 0; j < n; j++) {
            uint64_t e = entries[j];
            if (!(e & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED)) || (e & PAGEMAP_FILE)) continue;
            if (st->base_fd < 0 && !(e & PAGEMAP_EXCLUSIVE) && shared_zero(block, (i + j) * page))
                continue;
            if (push_run(st, (i + j) * page, page) != 0)
                return ll_fail(err, ENOMEM, "out of memory for the written-page list");
        }
    }
    return 0;
}

int track_scan(snap_state *st, const ll_block *block, ll_error *err)
{
    if (st->pid != getpid() && track_open(st, err) != 0) return -1;
    st->run_count = 0;
    if (st->tracker == TRACK_PAGEMAP_SCAN) return scan_pagemap_scan(st, block, err);
    return scan_pagemap(st, block, err);
}

static int drop_each(snap_state *st, const ll_block *block, ll_error *err)
{
    for (size_t i = 0; i < st->run_count; i++)
        if (madvise(block->base + st->runs[i].off, st->runs[i].len, MADV_DONTNEED) != 0)
            return ll_fail(err, errno, "MADV_DONTNEED of the written pages: %s", strerror(errno));
    return 0;
}

int track_drop(snap_state *st, const ll_block *block, ll_error *err)
{
    /* process_madvise on our own pidfd (MADV_DONTNEED allowed since 6.x)
     * drops up to 1024 ranges per system call instead of one. */
    enum { IOV_MAX_RANGES = 1024 };
    struct iovec iov[IOV_MAX_RANGES];
    size_t i = 0;
    while (st->pidfd >= 0 && i < st->run_count) {
        size_t n = 0;
        uint64_t bytes = 0;
        for (; n < IOV_MAX_RANGES && i + n < st->run_count; n++) {
            iov[n].iov_base = block->base + st->runs[i + n].off;
            iov[n].iov_len = st->runs[i + n].len;
            bytes += st->runs[i + n].len;
        }
        long done = syscall(SYS_process_madvise, st->pidfd, iov, n, MADV_DONTNEED, 0);
        if (done != (long)bytes) {
            /* Not supported here (or partial): madvise each range from i. */
            close(st->pidfd);
            st->pidfd = -1;
            break;
        }
        i += n;
    }
    if (i == st->run_count) return 0;
    snap_run *runs = st->runs;
    size_t count = st->run_count;
    st->runs += i;
    st->run_count -= i;
    int rc = drop_each(st, block, err);
    st->runs = runs;
    st->run_count = count;
    return rc;
}
