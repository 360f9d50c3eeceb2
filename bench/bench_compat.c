/* bench_compat.c - group `compat`: what porting a classic C program costs
 * per frame. globals_snapshot_us: the application's state is a 1 MiB .bss
 * (bench/compat_module/globals.c, 16 bytes written a frame); the frame
 * through the loop with its globals kept in the block (copied in and out
 * around each call, a page at a time where they differ, and snapshotted
 * with it) against the same frame with them not kept, in one run; the
 * difference is what keeping them costs. */
#include "bench.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

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

int bench_compat(void)
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
