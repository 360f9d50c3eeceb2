/* bench_capture.c - the `capture` group: a 640x360 picture to PNG
 * (capture_png_ms), and `looplive replay` of the pong demo recording (600
 * frames at 60 fps) with --video to an .mp4 (replay_video_fps) beside the
 * same replay without pictures (replay_fps), run in turns. The target: a
 * clip made at least 10 times faster than real time, 600 frames in 1 s. */
#include "bench.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROUNDS = 3, PNG_WRITES = 30 };

/* A pong frame, as the application draws it: a field, a net, paddles, a ball. */
static void pong_like(uint32_t *px, int w, int h)
{
    for (int i = 0; i < w * h; i++) px[i] = 0xff102030;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (x >= w / 2 - 1 && x <= w / 2 && y % 24 < 12) px[y * w + x] = 0xff405060;
            if ((x >= 16 && x < 24 && y >= 100 && y < 160) || (x >= 616 && x < 624 && y >= 200))
                px[y * w + x] = 0xff40c0ff;
            if (x >= 300 && x < 308 && y >= 170 && y < 178) px[y * w + x] = 0xffffd020;
        }
}

static double png_round(const char *dir, const uint32_t *px)
{
    char path[PATH_MAX];
    ll_error err;
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < PNG_WRITES; i++) {
        snprintf(path, sizeof path, "%s/frame-%06d.png", dir, i);
        if (ll_png_write(path, px, 640, 360, &err) != 0) {
            fprintf(stderr, "looplive-bench: %s\n", err.msg);
            return -1;
        }
    }
    return (double)(bench_now_ns() - t0) / 1e6 / PNG_WRITES;
}

/* The command and the application beside the bench binary (build/). */
static int build_dir(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = 0;
    snprintf(out, cap, "%s", exe);
    return 0;
}

/* Frames per second of one replay of the 600 frames, with extra options. */
static double replay_round(const char *build, const char *extra)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "%s/looplive replay -q --module %s/examples/pong.so --recording "
             "examples/pong/demo.llrec --platform sdl %s >/dev/null",
             build, build, extra);
    uint64_t t0 = bench_now_ns();
    if (system(cmd) != 0) {
        fprintf(stderr, "looplive-bench: failed: %s\n", cmd);
        return -1;
    }
    return 600 / ((double)(bench_now_ns() - t0) / 1e9);
}

int bench_capture(void)
{
    char dir[] = "/tmp/looplive-bench-capture-XXXXXX", build[PATH_MAX], video[64 + PATH_MAX];
    if (!mkdtemp(dir) || build_dir(build, sizeof build) != 0) return 1;
    if (access("examples/pong/demo.llrec", R_OK) != 0) {
        fprintf(stderr, "looplive-bench: capture: run from the repository (make bench)\n");
        return 1;
    }
    static uint32_t px[640 * 360];
    pong_like(px, 640, 360);
    snprintf(video, sizeof video, "--video %s/pong.mp4", dir);
    double png[ROUNDS], plain[ROUNDS], clip[ROUNDS];
    int rc = 0;
    for (int r = 0; r < ROUNDS && rc == 0; r++) {
        png[r] = png_round(dir, px);
        plain[r] = replay_round(build, "");
        clip[r] = replay_round(build, video);
        if (png[r] < 0 || plain[r] < 0 || clip[r] < 0) rc = 1;
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) rc = 1;
    if (rc) return rc;
    bench_print("capture_png_ms", bench_median(png, ROUNDS), "ms");
    bench_print("replay_fps", bench_median(plain, ROUNDS), "frames/s");
    bench_print("replay_video_fps", bench_median(clip, ROUNDS), "frames/s");
    return 0;
}
