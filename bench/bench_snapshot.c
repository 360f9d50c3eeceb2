/* bench_snapshot.c - `looplive-bench snapshot`: a 1 GiB block with 100 MiB
 * resident and 1 MiB written (256 scattered pages) between snapshot and
 * restore, against a memcpy of the whole block (the Handmade Hero way); a
 * saved 1 GiB state resumed in a new process, against read() of the file;
 * and the loop layer's per-frame pattern (64 KiB written, 120 live). */
#include "bench.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIB      (1ull << 30)
#define MIB      (1ull << 20)
#define PAGE     4096ull
#define RESIDENT (100 * MIB)
#define REPS     15
#define RESUMES  7

static double ms_since(uint64_t t0)
{
    return (double)(bench_now_ns() - t0) / 1e6;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Writes `pages` scattered pages of the resident part. */
static void scatter(uint8_t *base, int pages, uint64_t *seed)
{
    for (int i = 0; i < pages; i++) {
        uint64_t p = rng(seed) % (RESIDENT / PAGE);
        memset(base + p * PAGE, (int)(rng(seed) & 0xff), 64);
    }
}

/* Memory the block and its snapshots hold: private pages and heap (RssAnon)
 * plus the baseline memfd's pages. */
static double held_mib(const ll_block *b)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "RssAnon:", 8)) kib = strtod(line + 8, NULL);
    if (f) fclose(f);
    struct stat st;
    double memfd = b->fd >= 0 && fstat(b->fd, &st) == 0 ? (double)st.st_blocks * 512 : 0;
    return kib / 1024 + memfd / (double)MIB;
}

/* The resume side, forked before the block exists so that its address is
 * free here: for each path read from `in`, reserve, load, touch the first
 * page; write the times back. */
static void resume_child(void *base, int in, int out)
{
    char path[512];
    ssize_t n = read(in, path, sizeof path - 1);
    if (n <= 0) _exit(0);
    path[n] = 0;
    double t[RESUMES];
    for (int i = 0; i < RESUMES; i++) {
        uint64_t t0 = bench_now_ns();
        ll_block b;
        ll_error err;
        if (ll_block_reserve(&b, &err, .base = base, .size = GIB) != 0 ||
            ll_snap_load(&b, path, &err) != 0) {
            fprintf(stderr, "resume: %s\n", err.msg);
            _exit(1);
        }
        volatile uint8_t first = b.base[0];
        (void)first;
        t[i] = ms_since(t0);
        ll_snap_end(&b);
        ll_block_release(&b);
    }
    double m = bench_median(t, RESUMES);
    if (write(out, &m, sizeof m) != sizeof m) _exit(1);
    _exit(0);
}

static void *free_base(void)
{
    void *p =
        mmap(NULL, GIB + 4 * MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    munmap(p, GIB + 4 * MIB);
    return (void *)(((uintptr_t)p + 2 * MIB) & ~(uintptr_t)(2 * MIB - 1));
}

/* First take of a fully dirty 100 MiB (the block moves from private pages
 * into the baseline), then steady-state restore and take. */
static int bench_take_restore(ll_block *b, double *restore_ms)
{
    ll_error err;
    double t[REPS], held0 = 0;
    ll_snap *s = NULL;
    for (int i = 0; i < 3; i++) {
        ll_snap_drop(b, s);
        for (uint64_t o = 0; o < RESIDENT; o += PAGE) b->base[o] = (uint8_t)(i + 1);
        if (i == 0) held0 = held_mib(b); /* the state alone, no snapshot */
        uint64_t t0 = bench_now_ns();
        s = ll_snap_take(b, &err);
        t[i] = ms_since(t0);
        if (!s) return fprintf(stderr, "take: %s\n", err.msg), -1;
    }
    bench_print("snapshot_first_ms", bench_median(t, 3), "ms");
    /* Side by side: the 100 MiB resident in the baseline but not mapped (a
     * program that has not read it since the take): only the written pages
     * are in the page tables the scan walks. */
    uint64_t seed = 42;
    for (int i = 0; i < REPS; i++) {
        scatter(b->base, 256, &seed);
        uint64_t t0 = bench_now_ns();
        if (ll_snap_restore(b, s, &err) != 0) return fprintf(stderr, "restore: %s\n", err.msg), -1;
        t[i] = ms_since(t0);
    }
    bench_print("restore_unmapped_ms", bench_median(t, REPS), "ms");
    /* Resident: a program reads its state, so every page is mapped again
     * and each scan walks 25600 page table entries. */
    volatile uint8_t sink = 0;
    for (uint64_t o = 0; o < RESIDENT; o += PAGE) sink += b->base[o];
    (void)sink;
    for (int i = 0; i < REPS; i++) {
        scatter(b->base, 256, &seed);
        uint64_t t0 = bench_now_ns();
        if (ll_snap_restore(b, s, &err) != 0) return fprintf(stderr, "restore: %s\n", err.msg), -1;
        t[i] = ms_since(t0);
    }
    *restore_ms = bench_median(t, REPS);
    bench_print("restore_ms", *restore_ms, "ms");
    /* take with an older snapshot live, so the undo delta is recorded. */
    for (int i = 0; i < REPS; i++) {
        scatter(b->base, 256, &seed);
        uint64_t t0 = bench_now_ns();
        ll_snap *n = ll_snap_take(b, &err);
        t[i] = ms_since(t0);
        if (!n) return fprintf(stderr, "take: %s\n", err.msg), -1;
        if (i + 1 < REPS) ll_snap_drop(b, n);
    }
    bench_print("snapshot_ms", bench_median(t, REPS), "ms");
    /* What the block and the snapshots hold beyond the state itself (the
     * 100 MiB resident): the undo deltas and page tables. */
    bench_print("snapshot_rss_mib", held_mib(b) - (double)RESIDENT / MIB, "MiB");
    bench_print("state_alone_mib", held0, "MiB");
    return 0;
}

/* The loop layer's frame: changed + take (one walk: ll_snap_take_visit)
 * + drop the oldest of 120. */
static void visit(uint64_t off, void *ctx)
{
    (*(uint64_t *)ctx)++;
}

static int bench_frames(ll_block *b)
{
    enum { WINDOW = 120, FRAMES = 360 };
    ll_snap *ring[WINDOW] = {0};
    double t[FRAMES];
    uint64_t seed = 7, pages = 0;
    ll_error err;
    for (int f = 0; f < FRAMES; f++) {
        scatter(b->base, 16, &seed);
        uint64_t t0 = bench_now_ns();
        if (ring[f % WINDOW]) ll_snap_drop(b, ring[f % WINDOW]);
        ring[f % WINDOW] = ll_snap_take_visit(b, visit, &pages, &err);
        t[f] = ms_since(t0) * 1000;
        if (!ring[f % WINDOW]) return fprintf(stderr, "take: %s\n", err.msg), -1;
    }
    bench_print("frame_snapshot_us", bench_median(t + WINDOW, FRAMES - WINDOW), "us");
    for (int i = 0; i < WINDOW; i++) ll_snap_drop(b, ring[i]);
    return 0;
}

/* Handmade Hero's restore: memcpy of the whole block from a full copy. */
static double full_copy_ms(uint8_t **scratch)
{
    uint8_t *src = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *dst = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (src == MAP_FAILED || dst == MAP_FAILED) return -1;
    memset(src, 1, GIB);
    memset(dst, 2, GIB);
    double t[5];
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = bench_now_ns();
        memcpy(dst, src, GIB);
        t[i] = ms_since(t0);
    }
    munmap(src, GIB);
    *scratch = dst;
    return bench_median(t, 5);
}

static double read_file_ms(const char *path, uint8_t *buf)
{
    double t[5];
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = bench_now_ns();
        int fd = open(path, O_RDONLY);
        uint64_t done = 0;
        for (ssize_t n; done < GIB && (n = read(fd, buf + done, GIB - done)) > 0;)
            done += (uint64_t)n;
        close(fd);
        t[i] = ms_since(t0);
    }
    return bench_median(t, 5);
}

int bench_snapshot(void)
{
    void *base = free_base();
    int to_child[2], from_child[2];
    if (!base || pipe(to_child) || pipe(from_child)) return 1;
    pid_t pid = fork();
    if (pid == 0) resume_child(base, to_child[0], from_child[1]);
    ll_block b;
    ll_error err;
    if (ll_block_reserve(&b, &err, .base = base, .size = GIB) != 0) {
        fprintf(stderr, "bench snapshot: %s\n", err.msg);
        return 1;
    }
    printf("# snapshot mechanism: %s baseline memfd + MADV_DONTNEED\n", ll_snap_mechanism_get(&b));
    double restore_ms = 0;
    int rc = bench_take_restore(&b, &restore_ms);
    if (rc == 0) rc = bench_frames(&b);

    char path[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/looplive-bench-%d.llsnap", tmp ? tmp : "/tmp", (int)getpid());
    uint64_t t0 = bench_now_ns();
    if (rc == 0 && ll_snap_save(&b, path, &err) != 0) {
        fprintf(stderr, "save: %s\n", err.msg);
        rc = -1;
    }
    if (rc == 0) bench_print("save_100m_ms", ms_since(t0), "ms");
    ll_snap_end(&b);
    ll_block_release(&b);

    double resume = -1;
    if (rc == 0 && write(to_child[1], path, strlen(path)) == (ssize_t)strlen(path) &&
        read(from_child[0], &resume, sizeof resume) == sizeof resume)
        bench_print("resume_1g_ms", resume, "ms");
    close(to_child[1]);
    waitpid(pid, NULL, 0);

    uint8_t *scratch = NULL;
    double copy = full_copy_ms(&scratch);
    bench_print("restore_full_copy_ms", copy, "ms");
    bench_print("restore_ratio", copy / restore_ms, "x");
    if (rc == 0 && scratch) bench_print("read_1g_ms", read_file_ms(path, scratch), "ms");
    if (scratch) munmap(scratch, GIB);
    unlink(path);
    return rc != 0 || resume < 0;
}
