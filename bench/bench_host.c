/* bench_host.c - what the host costs per frame, apart from the application.
 *
 * frame_overhead_us: a headless host recording (slot 1, `l`), per frame,
 * minus the application's own update and render measured by calling them
 * directly on a plain buffer the same number of times. What remains is the
 * host: polling for builds and reloads, keys, the loop layer's recording,
 * rewind window and state hash, crash protection around update and render,
 * clearing the canvas, the status line. Target: at most 50.
 * host_layer_only_us: the part of it spent in the host layer's own code
 * (everything but the loop layer's frame and the calls into the
 * application, which run under crash protection with a snapshot).
 * Applications: the test application (tests/host_app.c: a counter, one
 * page written per frame) and the bounce demo (two pages per frame). */
#include "bench.h"
#include "host/host.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 600
#define RUNS   7

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b && *b ? b : "build";
}

/* The application's own cost per frame: update and render on a plain
 * buffer, no host around them. */
static double app_only_us(const char *lib)
{
    void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    ll_app_get *get = dl ? (ll_app_get *)dlsym(dl, "looplive_app") : NULL;
    if (!get) return -1;
    const ll_app *app = get();
    ll_block block = {.size = app->block_size, .page_size = ll_page_size_get(), .fd = -1};
    block.base = aligned_alloc(4096, app->block_size);
    memset(block.base, 0, app->block_size);
    char cells[80 * 22];
    uint8_t colors[80 * 22];
    ll_canvas canvas = {.width = 80, .height = 22, .cells = cells, .colors = colors};
    ll_platform_input none = {0};
    uint8_t input[256] = {0};
    if (app->init) app->init(&block);
    if (app->translate) app->translate(&none, input);
    uint64_t t0 = bench_now_ns();
    for (int f = 0; f < FRAMES; f++) {
        app->update(&block, input, (uint64_t)f, 1.0 / 60);
        if (app->render) app->render(&block, &canvas);
    }
    double us = (double)(bench_now_ns() - t0) / 1e3 / FRAMES;
    free(block.base);
    dlclose(dl);
    return us;
}

/* The host layer's own code per frame (not the loop layer's frame, not the
 * calls into the application), from the host's status. */
static double host_layer_runs[RUNS];
static int host_layer_count;

/* One host run of FRAMES frames, recording from the first; per frame. */
static double host_frame_us(const char *lib)
{
    ll_error err;
    ll_host *h = ll_host_open(lib, &err, .headless = 1);
    if (!h) {
        fprintf(stderr, "bench host: %s\n", err.msg);
        return -1;
    }
    ll_host_press(h, LL_KEY_ALT | 'l');
    ll_host_frame_run(h);
    ll_host_status s0, s;
    ll_host_status_get(h, &s0);
    uint64_t t0 = bench_now_ns();
    for (int f = 0; f < FRAMES; f++) ll_host_frame_run(h);
    double us = (double)(bench_now_ns() - t0) / 1e3 / FRAMES;
    ll_host_status_get(h, &s);
    if (host_layer_count < RUNS)
        host_layer_runs[host_layer_count++] = (double)(s.host_ns - s0.host_ns) / 1e3 / FRAMES;
    ll_host_close(h);
    return s.recording ? us : -1;
}

static int overhead(const char *name, const char *lib, double *out)
{
    double host[RUNS], app[RUNS];
    for (int r = 0; r < RUNS; r++) {
        host[r] = host_frame_us(lib);
        app[r] = app_only_us(lib);
        if (host[r] < 0 || app[r] < 0) {
            fprintf(stderr, "bench host: cannot run %s (make all builds it)\n", lib);
            return -1;
        }
    }
    double h = bench_median(host, RUNS), a = bench_median(app, RUNS);
    char label[64];
    snprintf(label, sizeof label, "frame_total_%s_us", name);
    bench_print(label, h, "us");
    snprintf(label, sizeof label, "app_only_%s_us", name);
    bench_print(label, a, "us");
    *out = h - a;
    return 0;
}

static void bench_term_render(void)
{
    static char cells[80 * 22], out[80 * 22 * 12 + 4096];
    static uint8_t colors[80 * 22];
    for (int i = 0; i < 80 * 22; i++) cells[i] = (char)('a' + i % 26), colors[i] = (uint8_t)(i % 7);
    ll_canvas c = {.width = 80, .height = 22, .cells = cells, .colors = colors};
    double runs[RUNS];
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = bench_now_ns();
        for (int f = 0; f < FRAMES; f++)
            host_term_render(&c, "60 fps | frame 1 | LIVE 1\n? keys", NULL, 80, 24, out,
                             sizeof out);
        runs[r] = (double)(bench_now_ns() - t0) / 1e3 / FRAMES;
    }
    bench_print("term_render_80x22_us", bench_median(runs, RUNS), "us");
}

int bench_host(void)
{
    char app[512], bounce[512];
    snprintf(app, sizeof app, "%s/tests/host_app.so", build_dir());
    snprintf(bounce, sizeof bounce, "%s/examples/bounce.so", build_dir());
    double small, demo;
    if (overhead("host_app", app, &small) != 0) return 1;
    bench_print("host_layer_only_us", bench_median(host_layer_runs, RUNS), "us");
    if (overhead("bounce", bounce, &demo) != 0) return 1;
    bench_print("frame_overhead_bounce_us", demo, "us");
    bench_print("frame_overhead_us", small, "us");
    bench_term_render();
    return 0;
}
