/* bench_compat.c - group `compat`: looplive_compat.h's malloc and free (the
 * heap in the block) against the C library's, on the same sequence of
 * requests in the same run. */
#include "bench.h"

#include <stdlib.h>

#define OPS  4000000 /* malloc + free pairs per run */
#define LIVE 1024    /* allocations live at once: each op replaces one */
#define RUNS 5
#define SEQ  8192

static uint32_t sizes[SEQ], slots[SEQ];
static void *live[LIVE];

/* Mostly small sizes (16..256), one in eight up to 4 KiB, one in 64 up
 * to 64 KiB: what a C program's lists, strings and buffers ask for; with
 * small_only, 16..256 only (the C library's thread cache's best case). */
static void make_sequence(int small_only)
{
    uint32_t x = 2463534242u;
    for (int i = 0; i < SEQ; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t kind = small_only ? 8 : x % 64;
        sizes[i] = kind == 0 ? 16 + x % 65536 : kind < 8 ? 16 + x % 4096 : 16 + x % 241;
        slots[i] = (x >> 7) % LIVE;
    }
}

typedef void *alloc_fn(size_t);
typedef void free_fn(void *);

/* ns per malloc + free pair, replacing a random live allocation each time. */
static double run(alloc_fn *alloc, free_fn *release)
{
    for (int i = 0; i < LIVE; i++) live[i] = alloc(sizes[i % SEQ]);
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < OPS; i++) {
        uint32_t s = slots[i % SEQ];
        release(live[s]);
        live[s] = alloc(sizes[i % SEQ]);
        *(volatile char *)live[s] = 1;
    }
    uint64_t t1 = bench_now_ns();
    for (int i = 0; i < LIVE; i++) release(live[i]);
    return (double)(t1 - t0) / OPS;
}

int bench_compat(void)
{
    ll_block block;
    ll_error err;
    if (ll_block_reserve(&block, &err, .size = 1ull << 30, .name = "bench-compat") != 0) {
        fprintf(stderr, "bench compat: %s\n", err.msg);
        return 1;
    }
    ll_app_call call = {&block, 0, 1.0 / 60, 0, NULL};
    ll_app_call prev = ll_app_call_set(&call);
    double compat[RUNS], libc[RUNS], ratio[RUNS], small[RUNS], small_libc[RUNS];
    for (int r = 0; r < RUNS; r++) {
        make_sequence(0);
        libc[r] = run(malloc, free);
        compat[r] = run(ll_compat_malloc, ll_compat_free);
        ratio[r] = compat[r] / libc[r];
        make_sequence(1);
        small_libc[r] = run(malloc, free);
        small[r] = run(ll_compat_malloc, ll_compat_free);
    }
    ll_heap_stats st;
    int ok =
        ll_block_heap_check(&block, &err) == 0 && ll_block_heap_stats_get(&block, &st, &err) == 0;
    ll_app_call_set(&prev);
    ll_block_release(&block);
    if (!ok) {
        fprintf(stderr, "bench compat: %s\n", err.msg);
        return 1;
    }
    bench_print("malloc_ns", bench_median(libc, RUNS), "ns");
    bench_print("compat_malloc_ns", bench_median(compat, RUNS), "ns");
    bench_print("compat_malloc_ratio", bench_median(ratio, RUNS), "x");
    bench_print("malloc_small_ns", bench_median(small_libc, RUNS), "ns");
    bench_print("compat_malloc_small_ns", bench_median(small, RUNS), "ns");
    bench_print("compat_heap_high_water_mib", (double)st.high_water / (1 << 20), "MiB");
    return 0;
}
