/* bench_loop.c - group `loop`: what recording adds per frame, what the
 * rewind window (snapshot + changed pages + hash per frame) costs, and the
 * same frame with the application loaded as a module (crash protection). */
#include "bench.h"
#include "loop/loop.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROUNDS = 7 };

/* ---- record_frame_ns: appending one 64-byte input ----------------------- */

static double record_round(void)
{
    enum { FRAMES = 100000 };
    uint8_t input[64], *inputs = NULL;
    uint64_t count = 0, cap = 0;
    memset(input, 0x5a, sizeof input);
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < FRAMES; i++) {
        input[0] = (uint8_t)i;
        loop_inputs_append(&inputs, &count, &cap, input, sizeof input);
    }
    double ns = (double)(bench_now_ns() - t0) / FRAMES;
    free(inputs);
    return ns;
}

/* ---- rewind_frame_us: 64 KiB written per frame ---------------------------- */

typedef struct bench_input {
    uint8_t bytes[64];
} bench_input;

static uint64_t bench_pages_resident;

/* Writes 16 pages (64 KiB) inside the resident part, a different run each
 * frame, as an application touching its working set would. */
static void bench_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    uint64_t ps = block->page_size;
    for (uint64_t i = 0; i < 16; i++) {
        uint64_t page = (frame * 16 + i) * 7919 % bench_pages_resident;
        block->base[page * ps + (frame % ps)] = (uint8_t)(frame + i + 1);
    }
}

static void bench_translate(const ll_platform_input *p, void *out)
{
    memset(out, 0, sizeof(bench_input));
}

static const ll_app bench_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(bench_input),
    .layout_version = 1,
    .block_size = 1ull << 30,
    .name = "bench",
    .translate = bench_translate,
    .update = bench_update,
};

static void count_page(uint64_t offset, void *ctx)
{
    (void)offset;
    ++*(uint64_t *)ctx;
}

/* The same writes with only the snapshot layer's share of a frame: list the
 * pages written and take a snapshot (one walk), drop the one that left the
 * window. */
static double snapshot_only_round(ll_block *block, ll_snap **ring, uint64_t *frame)
{
    enum { FRAMES = 120 };
    ll_error err;
    uint64_t pages = 0, t0 = bench_now_ns();
    for (int i = 0; i < FRAMES; i++, (*frame)++) {
        bench_update(block, NULL, *frame, 0);
        ll_snap_drop(block, ring[*frame % 120]);
        ring[*frame % 120] = ll_snap_take_visit(block, count_page, &pages, &err);
    }
    return (double)(bench_now_ns() - t0) / FRAMES / 1000;
}

static int rewind_bench(double *frame_us, double *rewind_us, double *snap_us)
{
    ll_error err;
    ll_block block = {0};
    if (ll_block_reserve(&block, &err, .size = 1ull << 30) != 0) {
        fprintf(stderr, "bench loop: %s\n", err.msg);
        return -1;
    }
    bench_pages_resident = (100ull << 20) / block.page_size;
    for (uint64_t p = 0; p < bench_pages_resident; p++) block.base[p * block.page_size] = 1;
    ll_loop *loop = ll_loop_create(&block, &err, .app = &bench_app, .fps = 60);
    if (!loop) {
        fprintf(stderr, "bench loop: %s\n", err.msg);
        ll_block_release(&block);
        return -1;
    }
    for (int i = 0; i < 150; i++) ll_loop_frame_run(loop, NULL, &err); /* fill the window */
    double rounds[ROUNDS], back[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        enum { FRAMES = 120 };
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < FRAMES; i++) ll_loop_frame_run(loop, NULL, &err);
        rounds[r] = (double)(bench_now_ns() - t0) / FRAMES / 1000;
        t0 = bench_now_ns();
        ll_loop_rewind(loop, 60, &err); /* one second back: 60 x 64 KiB */
        back[r] = (double)(bench_now_ns() - t0) / 1000;
    }
    *frame_us = bench_median(rounds, ROUNDS);
    *rewind_us = bench_median(back, ROUNDS);
    ll_loop_destroy(loop);
    loop = NULL;
    static ll_snap *ring[120];
    uint64_t frame = 1000000;
    double snap[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) snap[r] = snapshot_only_round(&block, ring, &frame);
    for (int i = 0; i < 120; i++) ll_snap_drop(&block, ring[i]);
    *snap_us = bench_median(snap, ROUNDS);
    printf("# loop: 1 GiB block, %llu MiB resident, tracker %s, RSS %llu MiB\n",
           (unsigned long long)(bench_pages_resident * block.page_size >> 20),
           ll_snap_mechanism_get(&block), (unsigned long long)(bench_rss_kib() >> 10));
    ll_snap_end(&block);
    ll_block_release(&block);
    return 0;
}

/* ---- loop_frame_module_us: the same frame through a module ---------------- */

/* The frame of rewind_frame_us with update in a module (bench/loop_module,
 * built beside the bench binary) under ll_module_protect: rewind window on,
 * hash on, 64 KiB written, 1 GiB block, 100 MiB resident and mapped (each
 * page table walk covers it). */
static int module_bench(double *frame_us)
{
    char exe[PATH_MAX], lib[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(lib, sizeof lib, "%s/bench/loop_app.so", exe);
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "looplive-bench: no module at %s (run: make all)\n", lib);
        return -1;
    }
    ll_error err;
    ll_block block = {0};
    if (ll_block_reserve(&block, &err, .size = 1ull << 30) != 0) {
        fprintf(stderr, "bench loop: %s\n", err.msg);
        return -1;
    }
    for (uint64_t p = 0; p < (100ull << 20) / block.page_size; p++)
        block.base[p * block.page_size] = 1;
    static const char *names[] = {"looplive_app"};
    ll_module *m = ll_module_open(lib, &err, .symbols = names, .symbol_count = 1, .block = &block);
    ll_loop *loop = m ? ll_loop_create(&block, &err, .module = m, .fps = 60) : NULL;
    int rc = -1;
    if (loop) {
        /* The loop's first snapshot moved the written pages into the memfd
         * and unmapped them: read them back so that the 100 MiB stay mapped,
         * as for an application that reads its whole state every frame. */
        for (uint64_t p = 0; p < (100ull << 20) / block.page_size; p++)
            (void)*(volatile uint8_t *)(block.base + p * block.page_size);
        for (int i = 0; i < 150; i++) ll_loop_frame_run(loop, NULL, &err); /* fill the window */
        double rounds[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            enum { FRAMES = 120 };
            uint64_t t0 = bench_now_ns();
            for (int i = 0; i < FRAMES; i++) ll_loop_frame_run(loop, NULL, &err);
            rounds[r] = (double)(bench_now_ns() - t0) / FRAMES / 1000;
        }
        *frame_us = bench_median(rounds, ROUNDS);
        rc = ll_loop_status_get(loop).frame == 150 + ROUNDS * 120 ? 0 : -1;
        if (rc != 0) fprintf(stderr, "bench loop: frames failed: %s\n", err.msg);
    } else {
        fprintf(stderr, "bench loop: %s\n", err.msg);
    }
    ll_loop_destroy(loop);
    ll_module_close(m);
    ll_block_release(&block);
    return rc;
}

int bench_loop(void)
{
    double rec[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) rec[r] = record_round();
    bench_print("record_frame_ns", bench_median(rec, ROUNDS), "ns");
    double frame_us, rewind_us, snap_us;
    if (rewind_bench(&frame_us, &rewind_us, &snap_us) != 0) return 1;
    double module_us;
    if (module_bench(&module_us) != 0) return 1;
    bench_print("rewind_frame_us", frame_us, "us");
    bench_print("loop_frame_module_us", module_us, "us");
    bench_print("rewind_frame_snapshot_only_us", snap_us, "us");
    bench_print("rewind_jump_60_frames_us", rewind_us, "us");
    return 0;
}
