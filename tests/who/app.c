/* app.c - the application of the who-wrote tests: its state is one struct
 * at the start of arena "world"; every frame writes the frame counter (the
 * same page as the planted value, so that page tracking must tell the
 * writes apart), and frame PLANT_FRAME writes 42 to score (offset 0x10)
 * in plant_score, on the line marked PLANTED. Built with -g (lines) and
 * without (symbol + offset). */
#include "looplive_app.h"

#include <string.h>

#define PLANT_FRAME 120

typedef struct world {
    uint64_t frames;  /* 0x00: written every frame */
    uint32_t counter; /* 0x08: written every frame */
    uint32_t spare;   /* 0x0c */
    uint32_t score;   /* 0x10: written at PLANT_FRAME only */
    uint32_t tail;    /* 0x14: written on every 50th frame */
} world;

typedef struct who_input {
    uint8_t unused[4];
} who_input;

static world *world_of(ll_block *block)
{
    return (world *)(void *)ll_block_arena_find(block, "world")->begin;
}

static int who_init(ll_block *block)
{
    ll_error err;
    ll_arena *a = ll_arena_create(block, "world", 64 << 10, &err, .guard = -1);
    if (!a) return -1;
    world *w = (world *)ll_arena_push(a, sizeof(world), .zero = 1);
    w->score = 7;
    return 0;
}

__attribute__((noinline)) void plant_score(world *w, uint32_t value);
void plant_score(world *w, uint32_t value)
{
    w->score = value; /* PLANTED */
}

static void who_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    world *w = world_of(block);
    w->frames = frame + 1;
    w->counter += 3;
    if (frame == PLANT_FRAME) plant_score(w, 42);
    if (frame % 50 == 49) w->tail = (uint32_t)frame;
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(who_input),
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "whoapp",
    .init = who_init,
    .update = who_update,
};

const ll_app *looplive_app(void)
{
    return &app;
}
