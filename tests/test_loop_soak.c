/* test_loop_soak.c - 100,000 frames with two slots held, the rewind window
 * on and a loop playing: heap (mallinfo2) and RSS stay within what the
 * window and the slots can need, checked every 10,000 frames. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "looplive.h"

/* AddressSanitizer replaces malloc (mallinfo2 then says nothing) and keeps
 * freed memory in quarantine (RSS grows by design): no figures to check. */
#if defined(__SANITIZE_ADDRESS__)
#define SOAK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_SANITIZED 1
#endif
#endif

enum {
    PAGE = 4096,
    PAGES = 1024,     /* a 4 MiB block */
    PER_FRAME = 16,   /* pages written each frame */
    FPS = 60,         /* with the default 2 s window: 120 frames */
    WINDOW = 2 * FPS, /* frames */
    FRAMES = 100000,
    CHECK = 10000,
};

typedef struct soak_input {
    uint32_t step;
} soak_input;

/* Writes PER_FRAME pages chosen by a counter in page 0 and the input. */
static void update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)frame;
    (void)dt;
    const soak_input *in = input;
    uint64_t *counter = (uint64_t *)block->base;
    *counter += in->step;
    for (uint64_t i = 0; i < PER_FRAME; i++) {
        uint64_t p = 1 + (*counter * PER_FRAME + i * 61) % (PAGES - 1);
        block->base[p * PAGE + i] = (uint8_t)*counter;
    }
}

static void translate(const ll_platform_input *p, void *out)
{
    ((soak_input *)out)->step = (uint32_t)p->mouse_x;
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(soak_input),
    .layout_version = 1,
    .block_size = PAGES * PAGE,
    .name = "soak",
    .translate = translate,
    .update = update,
};

static uint64_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    cr_assert(f && fscanf(f, "%llu %llu", &size, &resident) == 2);
    fclose(f);
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void frames(ll_loop *loop, uint64_t n, uint64_t *done)
{
    ll_error err;
    for (uint64_t i = 0; i < n; i++, ++*done) {
        ll_platform_input in = {.mouse_x = 1 + (int32_t)(*done % 3)};
        cr_assert_eq(ll_loop_frame_run(loop, &in, &err), 1, "frame %llu: %s",
                     (unsigned long long)*done, err.msg);
    }
}

Test(loop_soak, heap_and_rss_stay_bounded_over_100000_frames, .timeout = 120)
{
#ifdef SOAK_SANITIZED
    cr_skip_test("built with AddressSanitizer: its malloc has no mallinfo2 figures and its "
                 "quarantine grows RSS by design");
#endif
    ll_block block;
    ll_error err;
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = PAGES * PAGE), 0, "%s", err.msg);
    ll_loop *loop = ll_loop_create(&block, &err, .app = &app, .fps = FPS);
    cr_assert(loop, "%s", err.msg);
    uint64_t done = 0;
    frames(loop, 2 * WINDOW, &done); /* the window fills */
    /* Two slots held: 300 and 200 frames recorded. */
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    frames(loop, 300, &done);
    cr_assert_eq(ll_loop_record(loop, 1, &err), 0, "%s", err.msg);
    frames(loop, 200, &done);
    ll_loop_stop(loop);
    frames(loop, 2 * WINDOW, &done);
    uint64_t heap0 = heap_bytes(), rss0 = rss_bytes();
    /* What may still grow from here: the window holds WINDOW frames of
     * PER_FRAME pages; each slot's start snapshot at most one copy of every
     * page of the block; the block's private pages and its memfd at most
     * the block again; plus a fixed allowance for bookkeeping. */
    uint64_t window = (uint64_t)WINDOW * PER_FRAME * PAGE;
    uint64_t slots = 2ull * PAGES * PAGE, block_bytes = 2ull * PAGES * PAGE;
    uint64_t slack = 8ull << 20;
    uint64_t heap_bound = window + slots + slack, rss_bound = heap_bound + block_bytes;
    /* Phases of CHECK frames: live with the slots held, then slot 0 playing,
     * live again, then slot 1 playing. */
    for (uint64_t phase = 0; phase < FRAMES / CHECK; phase++) {
        if (phase % 2 == 0)
            ll_loop_stop(loop);
        else
            cr_assert_eq(ll_loop_play(loop, (int)(phase / 2 % 2), &err), 0, "%s", err.msg);
        frames(loop, CHECK, &done);
        uint64_t heap = heap_bytes(), rss = rss_bytes();
        cr_log_info("after %llu frames: heap %+lld KiB, RSS %+lld KiB (bounds %llu, %llu KiB)",
                    (unsigned long long)(phase + 1) * CHECK,
                    ((long long)heap - (long long)heap0) / 1024,
                    ((long long)rss - (long long)rss0) / 1024,
                    (unsigned long long)heap_bound / 1024, (unsigned long long)rss_bound / 1024);
        cr_assert_leq(heap, heap0 + heap_bound, "after %llu frames: heap grew %llu KiB",
                      (unsigned long long)(phase + 1) * CHECK,
                      (unsigned long long)(heap - heap0) / 1024);
        cr_assert_leq(rss, rss0 + rss_bound, "after %llu frames: RSS grew %llu KiB",
                      (unsigned long long)(phase + 1) * CHECK,
                      (unsigned long long)(rss - rss0) / 1024);
    }
    cr_assert_eq(ll_loop_slot_frames_get(loop, 0), 300);
    cr_assert_eq(ll_loop_slot_frames_get(loop, 1), 200);
    ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
}
