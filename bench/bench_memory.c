/* bench_memory.c - group `memory`: arena pushes against malloc, the cost
 * of reserving a 64 GiB block, and the first write into a fresh block
 * (anonymous) against the same into a memfd mapped MAP_PRIVATE. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUSHES     10000000 /* per run */
#define BATCH      1000     /* allocations live at once, then freed together */
#define RUNS       5
#define SIZE_COUNT 4096

static uint32_t sizes[SIZE_COUNT];
static void *live[BATCH];

/* Sizes 16..256, the same sequence for both allocators. */
static void make_sizes(void)
{
    uint32_t x = 2463534242u;
    for (int i = 0; i < SIZE_COUNT; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sizes[i] = 16 + x % 241;
    }
}

/* Per-frame use: push a batch in a temporary scope, touch each, drop all. */
static double arena_run(ll_arena *arena)
{
    uint64_t t0 = bench_now_ns();
    for (int done = 0; done < PUSHES; done += BATCH) {
        ll_arena_temp temp = ll_arena_temp_begin(arena);
        for (int i = 0; i < BATCH; i++) {
            uint64_t *p = ll_arena_push(arena, sizes[(done + i) % SIZE_COUNT]);
            *p = (uint64_t)i;
            live[i] = p;
        }
        ll_arena_temp_end(temp);
    }
    return (double)(bench_now_ns() - t0) / PUSHES;
}

/* The same with malloc and free. */
static double malloc_run(void)
{
    uint64_t t0 = bench_now_ns();
    for (int done = 0; done < PUSHES; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            uint64_t *p = malloc(sizes[(done + i) % SIZE_COUNT]);
            *p = (uint64_t)i;
            live[i] = p;
        }
        for (int i = 0; i < BATCH; i++) free(live[i]);
    }
    return (double)(bench_now_ns() - t0) / PUSHES;
}

static int bench_push(void)
{
    ll_error err;
    ll_block block;
    if (ll_block_reserve(&block, &err, .size = 64ull << 20) != 0) {
        fprintf(stderr, "bench memory: %s\n", err.msg);
        return 1;
    }
    ll_arena *arena = ll_arena_create(&block, "bench", 0, &err);
    if (!arena) {
        fprintf(stderr, "bench memory: %s\n", err.msg);
        ll_block_release(&block);
        return 1;
    }
    make_sizes();
    double push_ns[RUNS], malloc_ns[RUNS], ratio[RUNS];
    for (int r = 0; r < RUNS; r++) {
        push_ns[r] = arena_run(arena);
        malloc_ns[r] = malloc_run();
        ratio[r] = malloc_ns[r] / push_ns[r];
    }
    bench_print("arena_push_ns", bench_median(push_ns, RUNS), "ns");
    bench_print("malloc_ns", bench_median(malloc_ns, RUNS), "ns");
    bench_print("push_vs_malloc_ratio", bench_median(ratio, RUNS), "x");
    ll_block_release(&block);
    return 0;
}

static int bench_reserve(void)
{
    enum { REPS = 21 };
    double us[REPS], rss[REPS];
    for (int r = 0; r < REPS; r++) {
        ll_error err;
        ll_block block;
        uint64_t rss0 = bench_rss_kib();
        uint64_t t0 = bench_now_ns();
        if (ll_block_reserve(&block, &err, .size = 64ull << 30) != 0) {
            fprintf(stderr, "bench memory: %s\n", err.msg);
            return 1;
        }
        uint64_t t1 = bench_now_ns();
        uint64_t rss1 = bench_rss_kib();
        us[r] = (double)(t1 - t0) / 1000.0;
        rss[r] = rss1 > rss0 ? (double)(rss1 - rss0) : 0;
        ll_block_release(&block);
    }
    bench_print("reserve_64g_us", bench_median(us, REPS), "us");
    bench_print("reserve_64g_rss_kib", bench_median(rss, REPS), "KiB");
    return 0;
}

enum { FIRST_WRITE = 100 << 20, FIRST_REPS = 5 };

typedef struct first_write {
    double ms, mib; /* time of the memset; memory it allocated */
} first_write;

/* Writes FIRST_WRITE bytes into a fresh block from ll_block_reserve. */
static int first_write_block(first_write *out)
{
    ll_error err;
    ll_block block;
    if (ll_block_reserve(&block, &err, .size = FIRST_WRITE) != 0) {
        fprintf(stderr, "bench memory: %s\n", err.msg);
        return 1;
    }
    uint64_t rss0 = bench_rss_kib(), t0 = bench_now_ns();
    memset(block.base, 0x5a, FIRST_WRITE);
    uint64_t t1 = bench_now_ns(), rss1 = bench_rss_kib();
    out->ms = (double)(t1 - t0) / 1e6;
    out->mib = (double)(rss1 - rss0) / 1024.0;
    ll_block_release(&block);
    return 0;
}

/* The same into a memfd mapped MAP_PRIVATE (the block's backing before):
 * each first write allocates the shmem page behind the hole, then copies it
 * into a private page. Memory: the private copies (in RSS) plus the memfd. */
static int first_write_memfd(first_write *out)
{
    int fd = memfd_create("bench-first-write", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, FIRST_WRITE) != 0) {
        perror("bench memory: memfd");
        if (fd >= 0) close(fd);
        return 1;
    }
    uint8_t *p =
        mmap(NULL, FIRST_WRITE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        perror("bench memory: mmap");
        close(fd);
        return 1;
    }
    uint64_t rss0 = bench_rss_kib(), t0 = bench_now_ns();
    memset(p, 0x5a, FIRST_WRITE);
    uint64_t t1 = bench_now_ns(), rss1 = bench_rss_kib();
    struct stat st;
    double file_kib = fstat(fd, &st) == 0 ? (double)st.st_blocks * 512 / 1024 : 0;
    out->ms = (double)(t1 - t0) / 1e6;
    out->mib = ((double)(rss1 - rss0) + file_kib) / 1024.0;
    munmap(p, FIRST_WRITE);
    close(fd);
    return 0;
}

static int bench_first_write(void)
{
    double ms[FIRST_REPS], mib[FIRST_REPS], fd_ms[FIRST_REPS], fd_mib[FIRST_REPS];
    for (int r = 0; r < FIRST_REPS; r++) {
        first_write a, b;
        if (first_write_block(&a) || first_write_memfd(&b)) return 1;
        ms[r] = a.ms, mib[r] = a.mib, fd_ms[r] = b.ms, fd_mib[r] = b.mib;
    }
    bench_print("first_write_100m_ms", bench_median(ms, FIRST_REPS), "ms");
    bench_print("first_write_100m_memfd_ms", bench_median(fd_ms, FIRST_REPS), "ms");
    bench_print("first_write_100m_mib", bench_median(mib, FIRST_REPS), "MiB");
    bench_print("first_write_100m_memfd_mib", bench_median(fd_mib, FIRST_REPS), "MiB");
    return 0;
}

int bench_memory(void)
{
    return bench_push() || bench_reserve() || bench_first_write();
}
