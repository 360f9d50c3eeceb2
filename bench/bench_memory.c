/* bench_memory.c - group `memory`: arena pushes against malloc, and the cost
 * of reserving a 64 GiB block. */
#include "bench.h"

#include <stdlib.h>

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

int bench_memory(void)
{
    return bench_push() || bench_reserve();
}
