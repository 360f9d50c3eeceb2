/* test_loop_oom.c - the loop reports running out of memory for the rewind
 * window instead of forgetting it silently. realloc is wrapped at link time
 * (-Wl,--wrap=realloc, mk/loop.mk) so that one chosen size fails. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "looplive.h"

void *__real_realloc(void *ptr, size_t size);
void *__wrap_realloc(void *ptr, size_t size);

static size_t fail_size; /* a realloc of exactly this many bytes fails, */
static int fail_skip;    /* after this many of that size went through */

void *__wrap_realloc(void *ptr, size_t size)
{
    if (fail_size && size == fail_size && fail_skip-- <= 0) return NULL;
    return __real_realloc(ptr, size);
}

enum { OOM_PAGES = 37 }; /* an odd count: no growth-by-doubling asks for it */

typedef struct oom_input {
    uint32_t pages; /* write pages 1..pages this frame */
} oom_input;

static void oom_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)dt;
    const oom_input *in = input;
    for (uint32_t p = 1; p <= in->pages; p++) block->base[p * block->page_size] = (uint8_t)frame;
}

static void oom_translate(const ll_platform_input *p, void *out)
{
    ((oom_input *)out)->pages = (uint32_t)p->mouse_x;
}

static const ll_app oom_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(oom_input),
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "oom",
    .translate = oom_translate,
    .update = oom_update,
};

/* Runs three frames writing one page, then one writing OOM_PAGES pages
 * during which the (skip+1)th realloc of the page list's size fails, and
 * checks the error; the loop must run on afterwards. */
static void frame_fails_with(int skip, const char *want)
{
    ll_block block;
    ll_error err;
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    ll_loop *loop = ll_loop_create(&block, &err, .app = &oom_app, .fps = 10);
    cr_assert_not_null(loop, "%s", err.msg);
    ll_platform_input in = {.mouse_x = 1};
    for (int i = 0; i < 3; i++) cr_assert_eq(ll_loop_frame_run(loop, &in, &err), 1, "%s", err.msg);
    in.mouse_x = OOM_PAGES;
    fail_size = OOM_PAGES * sizeof(uint64_t);
    fail_skip = skip;
    cr_assert_eq(ll_loop_frame_run(loop, &in, &err), -1, "the lost memory is reported");
    fail_size = 0;
    cr_assert_eq(err.code, ENOMEM);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    /* The loop runs on, and the window fills again from here. */
    in.mouse_x = 1;
    cr_assert_eq(ll_loop_frame_run(loop, &in, &err), 1, "%s", err.msg);
    ll_loop_destroy(loop);
    ll_block_release(&block);
}

/* The frame's own page list (kept for --determinism) is the first such realloc. */
Test(loop_oom, page_list_out_of_memory_is_reported)
{
    frame_fails_with(0, "out of memory after frame 3: its page list for the determinism check "
                        "was not kept (try: a smaller block or fewer pages written per frame)");
}

/* The rewind window's entry is the second. */
Test(loop_oom, rewind_window_out_of_memory_is_reported)
{
    frame_fails_with(1, "out of memory after frame 3: the rewind window was cleared (try: a "
                        "shorter .rewind_seconds)");
}
