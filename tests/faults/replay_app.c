/* replay_app.c - applications that make `looplive replay` fail, one per
 * build (mk/errtests.mk): FAULT_init_fails returns -1 from init,
 * FAULT_no_update has no update function, FAULT_rerun_crash faults when a
 * frame it has already run is run again (as the determinism check does),
 * FAULT_render_crash faults in render (as `replay --frames` calls it). */
#include "looplive_app.h"

#include <stdint.h>

static int app_init(ll_block *block)
{
#ifdef FAULT_init_fails
    (void)block;
    return -1;
#else
    block->base[0] = 1;
    return 0;
#endif
}

#ifndef FAULT_no_update
LL_NOT_STATE static uint64_t frames_run; /* not state: survives a rewind */

static void app_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)input, (void)dt;
#ifdef FAULT_rerun_crash
    /* An unmapped low address, not NULL: UBSan would trap a NULL store
     * before it faults. (Read from a volatile so the compiler cannot see
     * the address.) */
    static volatile uintptr_t unmapped = 16;
    if (frame < frames_run) *(volatile int *)unmapped = 1;
#endif
    frames_run = frame + 1;
    block->base[1] = (uint8_t)frame;
}
#endif

#ifdef FAULT_render_crash
static void app_render(const ll_block *block, ll_canvas *canvas)
{
    (void)block, (void)canvas;
    static volatile uintptr_t unmapped = 16;
    *(volatile int *)unmapped = 1;
}
#endif

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 8,
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "faultapp",
    .init = app_init,
#ifndef FAULT_no_update
    .update = app_update,
#endif
#ifdef FAULT_render_crash
    .render = app_render,
#endif
};

const ll_app *looplive_app(void)
{
    return &app;
}
