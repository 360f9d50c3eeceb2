/* bench_timeline.c - group `timeline`: a 10-minute (36,000-frame) bounce
 * recording, made here from generated input through examples/bounce as a
 * module (built beside the bench binary, build/examples/bounce.so), then
 * random seeks through its timeline (timeline_seek_ms; side by side, a
 * replay from the start to a random frame), and the memory its keyframes
 * hold (timeline_mib, with the state's size). */
#include "bench.h"
#include "base/base.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
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
    return 0;
}
