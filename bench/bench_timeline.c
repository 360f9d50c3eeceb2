/* bench_timeline.c - group `timeline`: what a whole recording costs to
 * re-simulate after a reload (resim_36k_s: a 36,000-frame, ten-minute
 * bounce recording played with the previous build and the new one in
 * forked processes), and what the foreground loses per frame meanwhile
 * (resim_frame_overhead_us: its busy time per frame, paced at 60 fps and
 * playing the recording, with the re-simulation running minus without). */
#include "bench.h"
#include "base/base.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { RESIM_FRAMES = 36000, RESIM_RUNS = 3 };

typedef struct resim_bench {
    char dir[64], lib[128], src[PATH_MAX + 32];
    ll_block block;
    ll_module *module;
    ll_loop *loop;
} resim_bench;

static int copy_lib(const resim_bench *b)
{
    char cmd[2 * PATH_MAX + 300];
    snprintf(cmd, sizeof cmd, "cp %s %s/.next.so && mv %s/.next.so %s", b->src, b->dir, b->dir,
             b->lib);
    return system(cmd) == 0 ? 0 : -1;
}

/* bounce, loaded from a copy as a host would, its state initialised. */
static int resim_open(resim_bench *b, ll_error *err)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return ll_fail(err, ENOENT, "cannot find the bench binary");
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(b->src, sizeof b->src, "%s/examples/bounce.so", exe);
    snprintf(b->dir, sizeof b->dir, "/tmp/looplive-bench-resim-XXXXXX");
    if (access(b->src, R_OK) != 0 || !mkdtemp(b->dir))
        return ll_fail(err, ENOENT, "no %s or no temporary directory (run: make all)", b->src);
    snprintf(b->lib, sizeof b->lib, "%s/app.so", b->dir);
    if (copy_lib(b) != 0) return ll_fail(err, EIO, "cannot copy %s", b->src);
    if (ll_block_reserve(&b->block, err, .size = 1u << 20) != 0) return -1;
    static const char *names[] = {"looplive_app"};
    b->module = ll_module_open(b->lib, err, .symbols = names, .symbol_count = 1, .block = &b->block,
                               .no_watch = 1);
    if (!b->module) return -1;
    const ll_app *app = ((ll_app_get *)ll_module_symbol_get(b->module, 0))();
    if (ll_app_init_run(b->module, app, &b->block, NULL, err) != 0) return -1;
    b->loop = ll_loop_create(&b->block, err, .module = b->module, .fps = 60, .rewind_seconds = -1);
    return b->loop ? 0 : -1;
}

/* Ten minutes of play into slot 1: the paddle sweeps, a ball every ~1.6 s. */
static int resim_record(resim_bench *b, ll_error *err)
{
    if (ll_loop_record(b->loop, 1, err) != 0) return -1;
    for (int f = 0; f < RESIM_FRAMES; f++) {
        ll_platform_input in;
        memset(&in, 0, sizeof in);
        in.keys[(f / 300) % 2 ? 'a' : 'd'] = 1;
        in.pressed['w'] = f % 97 == 0;
        if (ll_loop_frame_run(b->loop, &in, err) < 0) return -1;
    }
    ll_loop_stop(b->loop);
    return ll_loop_play(b->loop, 1, err);
}

/* Busy time, in us, of paced frames (60 fps) playing the loop. With r:
 * the comparison starts in the first frame, is polled in each, and the
 * frames go on until it is over; without: `frames` frames. *ran: how many. */
static double paced_frames(resim_bench *b, ll_resim **r, uint64_t old, int frames, int *ran,
                           ll_error *err)
{
    uint64_t busy = 0, next = bench_now_ns(), period = 1000000000ull / 60;
    int f = 0;
    for (int over = 0; r ? !over : f < frames; f++) {
        uint64_t t0 = bench_now_ns();
        if (r && f == 0 && !(*r = ll_resim_start(b->loop, err, .slot = 1, .old_version = old)))
            return -1;
        if (ll_loop_frame_run(b->loop, NULL, err) < 0) return -1;
        if (r) over = ll_resim_poll(*r);
        busy += bench_now_ns() - t0;
        next += period;
        uint64_t now = bench_now_ns();
        if (next > now) {
            struct timespec ts = {(time_t)((next - now) / 1000000000ull),
                                  (long)((next - now) % 1000000000ull)};
            nanosleep(&ts, NULL);
        }
    }
    *ran = f;
    return (double)busy / 1000.0;
}

/* One comparison with the foreground paced beside it, then as many frames
 * without one: the difference per frame is what the foreground lost. */
static int resim_round(resim_bench *b, uint64_t old, double *seconds, double *overhead_us,
                       ll_error *err)
{
    ll_resim *r = NULL;
    int frames = 0, again = 0;
    double with_us = paced_frames(b, &r, old, 0, &frames, err);
    if (with_us < 0 || !r) return -1;
    ll_resim_status s;
    ll_resim_status_get(r, &s);
    ll_resim_destroy(r);
    if (s.failed || s.compared != RESIM_FRAMES || s.changed != 0)
        return ll_fail(err, EIO, "re-simulation: %llu compared, %llu changed: %s",
                       (unsigned long long)s.compared, (unsigned long long)s.changed, s.error);
    double without_us = paced_frames(b, NULL, old, frames, &again, err);
    if (without_us < 0) return -1;
    *seconds = (double)s.elapsed_ns / 1e9;
    *overhead_us = (with_us - without_us) / frames;
    return 0;
}

static int resim_bench_run(double *seconds, double *overhead_us, ll_error *err)
{
    resim_bench b;
    memset(&b, 0, sizeof b);
    int rc = resim_open(&b, err);
    if (rc == 0) rc = resim_record(&b, err);
    /* The same code built again: a new version whose every frame matches. */
    if (rc == 0 && (copy_lib(&b) != 0 || ll_module_reload(b.module, err) != 0)) rc = -1;
    double s[RESIM_RUNS], o[RESIM_RUNS];
    for (int i = 0; rc == 0 && i < RESIM_RUNS; i++) rc = resim_round(&b, 1, &s[i], &o[i], err);
    if (rc == 0) {
        *seconds = bench_median(s, RESIM_RUNS);
        *overhead_us = bench_median(o, RESIM_RUNS);
    }
    ll_loop_destroy(b.loop);
    ll_module_close(b.module);
    ll_snap_end(&b.block);
    ll_block_release(&b.block);
    unlink(b.lib);
    if (b.dir[0]) rmdir(b.dir);
    return rc;
}

int bench_timeline(void)
{
    ll_error err = {0};
    double seconds, overhead;
    if (resim_bench_run(&seconds, &overhead, &err) != 0) {
        fprintf(stderr, "bench timeline: %s\n", err.msg);
        return 1;
    }
    bench_print("resim_36k_s", seconds, "s");
    bench_print("resim_frame_overhead_us", overhead, "us");
    return 0;
}
