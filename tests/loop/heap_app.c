/* heap_app.c - an application that keeps a pointer out of the block in its
 * state, as a port that keeps the C library's malloc does: HEAP a small
 * malloc (the brk heap; sbrk under a sanitizer, whose malloc maps its own
 * memory), MMAP a large one (glibc maps it), STACK the address of a local.
 * update writes through the pointer and copies what it reads into the
 * block. The pointer is at +0x40 of arena "state". */
#include "looplive_app.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct heap_state {
    uint64_t frames;
    uint8_t pad[56];
    uint8_t *p; /* +0x40 */
    uint64_t seen;
} heap_state;

static heap_state *state_of(ll_block *block)
{
    return (heap_state *)ll_block_arena_find(block, "state")->begin;
}

static uint8_t *outside(void)
{
#if defined(MMAP)
    return calloc(1, 1 << 20);
#elif defined(STACK)
    volatile uint8_t local[64] = {0};
    uintptr_t at = (uintptr_t)local;
    __asm__ volatile("" : "+r"(at)); /* a stack address, gone after the call */
    return (uint8_t *)at;
#elif defined(__SANITIZE_ADDRESS__)
    return sbrk(4096);
#else
    return calloc(1, 64);
#endif
}

/* Not state: what a leak checker sees, and what unloading frees. */
LL_NOT_STATE static uint8_t *allocated;

__attribute__((destructor)) static void unload(void)
{
#if defined(MMAP) || (!defined(STACK) && !defined(__SANITIZE_ADDRESS__))
    free(allocated);
#endif
}

static int init(ll_block *block)
{
    ll_error err;
    if (!ll_arena_create(block, "state", 4096, &err, .guard = -1)) return -1;
    state_of(block)->p = allocated = outside();
    return 0;
}

static void update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)input, (void)dt;
    heap_state *s = state_of(block);
    s->frames++;
#ifndef STACK
    s->p[frame % 64] += 1;
    s->seen += s->p[frame % 64];
#endif
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 1,
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "heap",
    .init = init,
    .update = update,
};

const ll_app *looplive_app(void)
{
    return &app;
}
