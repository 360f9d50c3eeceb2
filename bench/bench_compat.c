/* bench_compat.c - group `compat`: what porting a classic C program costs.
 * looplive_compat.h's malloc and free (the heap in the block) against the
 * C library's, on the same sequence of requests in the same run; and
 * globals_snapshot_us, what keeping a 1 MiB .bss with the block costs a
 * frame (below). */
#include "bench.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int compat_malloc(void)
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

/* ---- globals_snapshot_us ------------------------------------------------
 * The application's state is a 1 MiB .bss (bench/compat_module/globals.c,
 * 16 bytes written a frame); the frame through the loop with its globals
 * kept in the block (copied in and out around each call, a page at a time
 * where they differ, and snapshotted with it) against the same frame with
 * them not kept, in one run; the difference is what keeping them costs. */

enum { ROUNDS = 7, FRAMES = 200 };

static int lib_path(char *lib, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(lib, cap, "%s/bench/compat_globals.so", exe);
    if (access(lib, R_OK) == 0) return 0;
    fprintf(stderr, "looplive-bench: no module at %s (run: make bench)\n", lib);
    return -1;
}

/* The median microseconds of a frame, globals kept or not. */
static int frame_us(const char *lib, int keep, double *us)
{
    static const char *names[] = {"looplive_app"};
    ll_error err;
    ll_module *probe = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1);
    if (!probe) return fprintf(stderr, "bench compat: %s\n", err.msg), -1;
    ll_module_info info;
    ll_module_info_get(probe, &info);
    ll_module_close(probe);
    uint64_t room = keep ? info.globals_room : 0;
    ll_block block = {0};
    if (ll_block_reserve(&block, &err, .size = (1 << 20) + room) != 0)
        return fprintf(stderr, "bench compat: %s\n", err.msg), -1;
    ll_module *m = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1, .block = &block,
                                  .no_watch = 1, .globals_room = room);
    ll_loop *loop = m ? ll_loop_create(&block, &err, .module = m, .fps = 60) : NULL;
    int rc = loop ? 0 : -1;
    for (int i = 0; rc == 0 && i < 150; i++) rc = ll_loop_frame_run(loop, NULL, &err) == 1 ? 0 : -1;
    double rounds[ROUNDS];
    for (int r = 0; rc == 0 && r < ROUNDS; r++) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; rc == 0 && i < FRAMES; i++)
            rc = ll_loop_frame_run(loop, NULL, &err) == 1 ? 0 : -1;
        rounds[r] = (double)(bench_now_ns() - t0) / FRAMES / 1000;
    }
    if (rc != 0)
        fprintf(stderr, "bench compat: %s\n", err.msg);
    else
        *us = bench_median(rounds, ROUNDS);
    ll_loop_destroy(loop);
    ll_module_close(m);
    ll_snap_end(&block);
    ll_block_release(&block);
    return rc;
}

static int compat_globals(void)
{
    char lib[PATH_MAX + 32];
    double kept, not_kept;
    if (lib_path(lib, sizeof lib) != 0 || frame_us(lib, 0, &not_kept) != 0 ||
        frame_us(lib, 1, &kept) != 0)
        return 1;
    bench_print("globals_frame_us", kept, "us");
    bench_print("globals_frame_not_kept_us", not_kept, "us");
    bench_print("globals_snapshot_us", kept - not_kept, "us");
    return 0;
}

int bench_compat(void)
{
    int rc = compat_malloc();
    return compat_globals() || rc;
}
