/* bench_timeline.c - group `timeline`: a 10-minute (36,000-frame) bounce
 * recording, made here from generated input through examples/bounce as a
 * module (built beside the bench binary, build/examples/bounce.so), then
 * random seeks through its timeline (timeline_seek_ms; side by side, a
 * replay from the start to a random frame), and the memory its keyframes
 * hold (timeline_mib, with the state's size). Then what a whole recording
 * costs to re-simulate after a reload (resim_36k_s: a 36,000-frame bounce
 * recording played with the previous build and the new one in forked
 * processes), and what the foreground loses per frame meanwhile
 * (resim_frame_overhead_us: its busy time per frame, paced at 60 fps and
 * playing the recording, with the re-simulation running minus without).
 *
 * who_wrote_s: `looplive replay --who-wrote` on the bounce score as of the
 * last frame of a recording of the same length (made by the command from a
 * script), the whole command (load, one replay comparing the bytes after
 * each frame, a seek back to the last frame that changed them, that frame
 * under hardware write breakpoints, libdw naming the writes); target <= 2 s.
 * Side by side: the plain replay of the same recording (who_wrote_replay_s)
 * and the command with page tracking forced (who_wrote_page_s). Median of 3
 * each. */
#include "bench.h"
#include "base/base.h"

#include "../examples/bounce/bounce.h"

#include <libgen.h>
#include <stddef.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BOUNCE_FRAMES = 36000, SEEKS = 60, ROUNDS = 3 };

/* Held keys that change every 20 to 100 frames, launches now and then: a
 * player's ten minutes. Deterministic (a fixed LCG). */
static ll_platform_input bench_bounce_input(uint64_t frame)
{
    static const int held[] = {0, LL_KEY_LEFT, LL_KEY_RIGHT, 0, 'a', 'd'};
    ll_platform_input in = {0};
    uint64_t span = frame / 60, x = span * 6364136223846793005ull + 1442695040888963407ull;
    int key = held[(x >> 33) % 6];
    if (key) in.keys[key] = 1;
    if (frame % 60 == 0 && (x >> 40) % 3 == 0) in.pressed[' '] = in.keys[' '] = 1;
    return in;
}

int bench_bounce_session(bench_bounce *b, ll_error *err)
{
    char exe[PATH_MAX], lib[PATH_MAX + 32];
    memset(b, 0, sizeof *b);
    b->block.fd = -1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return ll_fail(err, EIO, "cannot find the bench binary");
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(lib, sizeof lib, "%s/examples/bounce.so", exe);
    if (access(lib, R_OK) != 0) return ll_fail(err, ENOENT, "no bounce at %s (run: make all)", lib);
    static const char *names[] = {"looplive_app"};
    ll_module *probe = ll_module_open(lib, err, .symbols = names, .symbol_count = 1);
    if (!probe) return -1;
    const ll_app *app = ((ll_app_get *)ll_module_symbol_get(probe, 0))();
    uint64_t size = app ? app->block_size : 0;
    ll_module_close(probe);
    if (!size || ll_block_reserve(&b->block, err, .size = size) != 0) return -1;
    b->module = ll_module_open(lib, err, .symbols = names, .symbol_count = 1, .block = &b->block);
    if (!b->module) return -1;
    app = ((ll_app_get *)ll_module_symbol_get(b->module, 0))();
    if (ll_app_init_run(b->module, app, &b->block, NULL, err) != 0) return -1;
    b->loop = ll_loop_create(&b->block, err, .module = b->module, .fps = 60);
    return b->loop ? 0 : -1;
}

int bench_bounce_record(bench_bounce *b, int slot, uint64_t frames, ll_error *err)
{
    if (ll_loop_record(b->loop, slot, err) != 0) return -1;
    for (uint64_t f = 0; f < frames; f++) {
        ll_platform_input in = bench_bounce_input(f);
        if (ll_loop_frame_run(b->loop, &in, err) != 1) return -1;
    }
    return ll_loop_play(b->loop, slot, err);
}

void bench_bounce_end(bench_bounce *b)
{
    ll_loop_destroy(b->loop);
    ll_module_close(b->module);
    ll_snap_end(&b->block);
    ll_block_release(&b->block);
}

static int count_page(uint64_t offset, const uint8_t *bytes, void *ctx)
{
    ++*(uint64_t *)ctx;
    return 0;
}

/* One round: SEEKS seeks to random frames; the median seek in ms. */
static int seek_round(bench_bounce *b, uint64_t *seed, double *median_ms, double *max_ms,
                      ll_error *err)
{
    double ms[SEEKS];
    *max_ms = 0;
    for (int i = 0; i < SEEKS; i++) {
        *seed = *seed * 6364136223846793005ull + 1;
        uint64_t to = (*seed >> 33) % (BOUNCE_FRAMES + 1);
        uint64_t t0 = bench_now_ns();
        if (ll_loop_timeline_seek(b->loop, 0, to, err) != 0) return -1;
        ms[i] = (double)(bench_now_ns() - t0) / 1e6;
        if (ms[i] > *max_ms) *max_ms = ms[i];
    }
    *median_ms = bench_median(ms, SEEKS);
    return 0;
}

/* The same, side by side, without the timeline: play from the start and
 * run every frame up to a random one (what reaching a frame cost before). */
static int replay_round(bench_bounce *b, uint64_t *seed, double *median_ms, ll_error *err)
{
    enum { REPLAYS = 5 };
    double ms[REPLAYS];
    for (int i = 0; i < REPLAYS; i++) {
        *seed = *seed * 6364136223846793005ull + 1;
        uint64_t to = (*seed >> 33) % (BOUNCE_FRAMES + 1);
        uint64_t t0 = bench_now_ns();
        if (ll_loop_play(b->loop, 0, err) != 0) return -1;
        for (uint64_t f = 0; f < to; f++)
            if (ll_loop_frame_run(b->loop, NULL, err) != 1) return -1;
        ms[i] = (double)(bench_now_ns() - t0) / 1e6;
    }
    *median_ms = bench_median(ms, REPLAYS);
    return 0;
}

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

/* resim_36k_s and resim_frame_overhead_us (issue 16's re-simulation). */
static int bench_resim(void)
{
    ll_error err = {0};
    double seconds, overhead;
    if (resim_bench_run(&seconds, &overhead, &err) != 0) {
        fprintf(stderr, "bench timeline: resim: %s\n", err.msg);
        return 1;
    }
    bench_print("resim_36k_s", seconds, "s");
    bench_print("resim_frame_overhead_us", overhead, "us");
    return 0;
}

/* ---- who_wrote_s ---------------------------------------------------------- */

enum { WHO_RUNS = 3, WHO_FRAMES = 36000 };

/* Runs argv with stdout and stderr to /dev/null; seconds, or -1. */
static double run_s(char *const argv[])
{
    uint64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    return (double)(bench_now_ns() - t0) / 1e9;
}

/* Ten minutes of play: a ball launched now and then, the paddle moving. */
static int write_script(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    uint64_t frames = 0;
    for (int i = 0; frames < WHO_FRAMES; i++) {
        int n = 40 + i * 37 % 80;
        if (frames + (uint64_t)n + 1 > WHO_FRAMES) n = (int)(WHO_FRAMES - frames - 1);
        fprintf(f, "%d %s\n1 %s\n", n, i % 2 ? "left" : "right", i % 9 == 0 ? "c" : "space");
        frames += (uint64_t)n + 1;
    }
    return fclose(f);
}

static double median_of(char *const argv[], const char *page)
{
    double t[WHO_RUNS];
    if (page) setenv("LOOPLIVE_WATCH", page, 1);
    for (int i = 0; i < WHO_RUNS; i++)
        if ((t[i] = run_s(argv)) < 0) break;
    unsetenv("LOOPLIVE_WATCH");
    for (int i = 0; i < WHO_RUNS; i++)
        if (t[i] < 0) return -1;
    return bench_median(t, WHO_RUNS);
}

static int who_wrote(void)
{
    char self[4096], cli[4200], bounce[4200], dir[] = "/tmp/looplive-bench-who-XXXXXX";
    char script[4200], rec[4200], target[64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !mkdtemp(dir)) return 1;
    self[n] = 0;
    const char *build = dirname(self);
    snprintf(cli, sizeof cli, "%s/looplive", build);
    snprintf(bounce, sizeof bounce, "%s/examples/bounce.so", build);
    snprintf(script, sizeof script, "%s/ten-minutes.script", dir);
    snprintf(rec, sizeof rec, "%s/ten-minutes.llrec", dir);
    snprintf(target, sizeof target, "block+%zu:4", offsetof(bounce_state, score));
    char *make[] = {cli,    "replay",   "--module", bounce, "--script",
                    script, "--output", rec,        "-q",   NULL};
    char *plain[] = {cli, "replay", "--module", bounce, "--recording", rec, "-q", NULL};
    char *who[] = {cli, "replay",      "--module", bounce, "--recording",
                   rec, "--who-wrote", target,     NULL};
    int rc = 1;
    double t_who = -1, t_plain = -1, t_page = -1;
    if (write_script(script) == 0 && run_s(make) >= 0) {
        t_who = median_of(who, NULL);
        t_plain = median_of(plain, NULL);
        t_page = median_of(who, "page");
        rc = t_who < 0 || t_plain < 0 || t_page < 0;
    }
    if (rc)
        fprintf(stderr, "bench timeline: who-wrote on a %d-frame recording failed\n", WHO_FRAMES);
    else {
        bench_print("who_wrote_s", t_who, "s");
        bench_print("who_wrote_replay_s", t_plain, "s");
        bench_print("who_wrote_page_s", t_page, "s");
    }
    unlink(script);
    unlink(rec);
    rmdir(dir);
    return rc;
}

int bench_timeline(void)
{
    ll_error err;
    bench_bounce b;
    uint64_t t0 = bench_now_ns();
    if (bench_bounce_session(&b, &err) != 0 || bench_bounce_record(&b, 0, BOUNCE_FRAMES, &err)) {
        fprintf(stderr, "bench timeline: %s\n", err.msg);
        bench_bounce_end(&b);
        return 1;
    }
    double record_s = (double)(bench_now_ns() - t0) / 1e9;
    double med[ROUNDS], worst[ROUNDS];
    uint64_t seed = 42;
    for (int r = 0; r < ROUNDS; r++)
        if (seek_round(&b, &seed, &med[r], &worst[r], &err) != 0) {
            fprintf(stderr, "bench timeline: seek: %s\n", err.msg);
            bench_bounce_end(&b);
            return 1;
        }
    double replay_ms;
    if (replay_round(&b, &seed, &replay_ms, &err) != 0) {
        fprintf(stderr, "bench timeline: replay: %s\n", err.msg);
        bench_bounce_end(&b);
        return 1;
    }
    ll_loop_timeline t;
    uint64_t pages = 0;
    ll_loop_timeline_get(b.loop, 0, &t);
    ll_snap_pages_visit(&b.block, NULL, count_page, &pages, NULL);
    bench_print("timeline_record_36k_s", record_s, "s");
    bench_print("timeline_seek_ms", bench_median(med, ROUNDS), "ms");
    bench_print("timeline_seek_max_ms", bench_median(worst, ROUNDS), "ms");
    bench_print("timeline_replay_to_frame_ms", replay_ms, "ms");
    bench_print("timeline_mib", (double)t.bytes / (1 << 20), "MiB");
    bench_print("timeline_keyframes", (double)t.keyframes, "keyframes");
    bench_print("timeline_state_kib", (double)(pages * b.block.page_size) / 1024, "KiB");
    bench_bounce_end(&b);
    int rc = bench_resim();
    return who_wrote() || rc;
}
