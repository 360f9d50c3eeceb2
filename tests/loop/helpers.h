/* helpers.h - the test application the loop suites drive in process: a
 * counter at the block's base plus one byte written per frame on a page the
 * input chooses (so every frame writes a page the hash must pick up). */
#ifndef LL_TEST_LOOP_HELPERS_H
#define LL_TEST_LOOP_HELPERS_H

#include <criterion/criterion.h>

#include "loop/loop.h"
#include "looplive.h"

typedef struct app_input {
    int32_t add;
    uint32_t page; /* also write this page of the block */
} app_input;

/* The mouse stands in for the input: x is added, y chooses the page. */
static inline void app_translate(const ll_platform_input *p, void *out)
{
    app_input *in = out;
    in->add = p->mouse_x;
    in->page = (uint32_t)p->mouse_y;
}

/* One frame: adds times * add to the counter and writes the frame's byte. */
static inline void app_step(ll_block *block, const void *input, uint64_t frame, int times)
{
    const app_input *in = input;
    uint64_t *counter = (uint64_t *)block->base;
    *counter += (uint64_t)(int64_t)in->add * (uint64_t)times;
    uint64_t pages = block->size / block->page_size;
    block->base[(in->page % pages) * block->page_size + 8 + frame % 64] = (uint8_t)(frame + 1);
}

/* Version 1 of update: adds the input once. */
static inline void app_update_v1(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)dt;
    app_step(block, input, frame, 1);
}

/* The application table around an update function. */
#define TEST_APP(update_fn)                                                                        \
    {                                                                                              \
        .api_version = LL_APP_API_VERSION, .input_size = sizeof(app_input), .layout_version = 7,   \
        .block_size = 1 << 20, .name = "test", .translate = app_translate, .update = (update_fn),  \
    }

/* The state hash of block computed from scratch, independently of any
 * loop's table. */
static inline uint64_t block_full_hash(const ll_block *block)
{
    loop_hash h;
    ll_error err;
    cr_assert_eq(loop_hash_init(&h, block, &err), 0, "%s", err.msg);
    for (uint64_t i = 0; i < h.pages; i++)
        h.total += loop_hash_contribution(&h, block->base + i * h.page_size, i);
    uint64_t total = h.total;
    loop_hash_free(&h);
    return total;
}

#endif
