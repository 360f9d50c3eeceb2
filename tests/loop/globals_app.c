/* globals_app.c - a test application that keeps its state in globals, the
 * way a classic C program does: an initialised counter (.data), a zeroed
 * array (.bss), a static local and a pointer to a string literal, plus one
 * global in a section of its own (not state). Each frame copies what they
 * hold into the block's first bytes, for the tests to read. Variants: TIMES
 * multiplies the input (a reload changes behaviour, not layout); GROW makes
 * the counter 8 bytes (its size changed); LAYOUT sets the layout version;
 * MIGRATES gives a migrate function that sets the counter; C_HEAP keeps the
 * C library's malloc'd memory in a global (a pointer out of the block). */
#include "looplive_app.h"

#include <stdlib.h>
#include <string.h>

#ifndef TIMES
#define TIMES 1
#endif
#ifndef LAYOUT
#define LAYOUT 1
#endif

#ifdef GROW
long long counter = 100;
#else
int counter = 100;
#endif
static unsigned char big[1 << 16];
const char *label = "globals";
LL_NOT_STATE int outside_counter = 1;
#ifdef C_HEAP
char *title;
#endif

typedef struct globals_out {
    int64_t counter, calls;
    uint64_t big_sum;
    char label[16];
    int64_t outside;
} globals_out;

static int init(ll_block *block)
{
    memset(block->base, 0, sizeof(globals_out));
    return 0;
}

static void update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    static int calls;
    (void)dt;
    int32_t add;
    memcpy(&add, input, sizeof add);
    counter += add * TIMES;
    calls++;
    big[(frame * 4099) % sizeof big] += (unsigned char)(frame + 1);
    outside_counter++;
#ifdef C_HEAP
    if (!title) title = malloc(16);
#endif
    globals_out *o = (globals_out *)block->base;
    o->counter = counter;
    o->calls = calls;
    o->big_sum = 0;
    for (size_t i = 0; i < sizeof big; i++) o->big_sum += big[i];
    strncpy(o->label, label, sizeof o->label - 1);
    if (add == 0) o->outside = outside_counter; /* not state: only when asked */
    /* The block the application sees ends before the globals' room. */
    block->base[block->size - 1] = (uint8_t)frame;
}

#ifdef MIGRATES
static int migrate(ll_block *block, uint64_t from)
{
    (void)block;
    (void)from;
    counter += 400; /* from its initial value: 500 */
    return 0;
}
#endif

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(int32_t),
    .layout_version = LAYOUT,
    .block_size = 1 << 20,
    .name = "globals",
    .init = init,
    .update = update,
#ifdef MIGRATES
    .migrate = migrate,
#endif
};

const ll_app *looplive_app(void)
{
    return &app;
}
