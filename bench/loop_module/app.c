/* app.c - the application the loop group drives as a module
 * (loop_frame_module_us): each frame writes 16 pages (64 KiB) inside the
 * first 100 MiB of the block, a different run each frame, like the built-in
 * application of rewind_frame_us. */
#include "looplive_app.h"

#include <string.h>

#define RESIDENT (100ull << 20)

static void app_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    uint64_t ps = block->page_size, pages = RESIDENT / ps;
    for (uint64_t i = 0; i < 16; i++) {
        uint64_t page = (frame * 16 + i) * 7919 % pages;
        block->base[page * ps + (frame % ps)] = (uint8_t)(frame + i + 1);
    }
}

static void app_translate(const ll_platform_input *p, void *out)
{
    memset(out, 0, 64);
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 64,
    .layout_version = 1,
    .block_size = 1ull << 30,
    .name = "bench-module",
    .translate = app_translate,
    .update = app_update,
};

const ll_app *looplive_app(void)
{
    return &app;
}
