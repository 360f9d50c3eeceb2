/* globals.c - the application of globals_snapshot_us: its state is a 1 MiB
 * .bss array, of which each frame writes 16 bytes (on up to 16 pages), as a
 * classic C program keeping its world in globals would. */
#include "looplive_app.h"

static unsigned char world[1 << 20];

static void update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)block, (void)input, (void)dt;
    for (uint64_t i = 0; i < 16; i++) world[(frame * 16 + i) * 65599 % sizeof world] += 1;
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 8,
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "bench_globals",
    .update = update,
};

const ll_app *looplive_app(void)
{
    return &app;
}
