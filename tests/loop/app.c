/* app.c - a tiny application for the loop tests, built in versions:
 * VERSION 1 adds the input to a counter, VERSION 2 adds twice the input
 * (same layout: a reload changes behaviour, not state), NONDET keeps its
 * state in two arenas and a counter outside the block (so running a frame
 * twice differs, in arena "scratch"), CRASH faults on an input of 99 after
 * it has written the block, STACK_ADDRESS keeps the address of a local in
 * the block and STACK_UNINIT copies a byte of stack it never wrote (the
 * determinism check must catch both), PRINTS writes a line per frame to
 * standard output (which must not reach replay's hashes), BAD_TABLE faults
 * in looplive_app() itself. CHANGE_FROM=N behaves as version 1 until frame
 * N and adds one more from there; BIG_INPUT takes 16-byte inputs and
 * LAYOUT8 has layout version 8 (builds a recording cannot be replayed
 * with); CRASH_AT=N faults in frame N, CRASH_FROM=N in
 * every frame from N on; NO_EFFECT is version 1 with code
 * that changes no state (re-simulation must find the first change, or none);
 * ARENAS keeps the counter in arena "counters" (with CHANGE_FROM: the
 * bytes two builds differ in lie in an arena). */
#include "looplive_app.h"

#include <stdio.h>
#include <string.h>

#ifndef VERSION
#define VERSION 1
#endif

typedef struct app_input {
    int32_t add;
    uint32_t page; /* also write this page of the block */
} app_input;

#ifdef NONDET
LL_NOT_STATE static uint32_t outside; /* not state: not deterministic */
#endif

#if defined(NONDET) || defined(ARENAS)
/* These versions keep their state in arenas, so that the determinism
 * report and the side by side of two builds name the arena of a byte. */
static int app_init(ll_block *block)
{
    ll_error err;
    if (!ll_arena_create(block, "counters", 64 << 10, &err, .guard = -1)) return -1;
    if (!ll_arena_create(block, "scratch", 64 << 10, &err, .guard = -1)) return -1;
    return 0;
}
#else
static int app_init(ll_block *block)
{
    memset(block->base, 0, 64);
    return 0;
}
#endif

static void app_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    const app_input *in = input;
#if defined(NONDET) || defined(ARENAS)
    uint64_t *counter = (uint64_t *)ll_block_arena_find(block, "counters")->begin;
#else
    uint64_t *counter = (uint64_t *)block->base;
#endif
    *counter += (uint64_t)(int64_t)in->add * VERSION;
    uint64_t pages = block->size / block->page_size;
#ifdef CHANGE_FROM
    if (frame >= CHANGE_FROM) *counter += 1;
#endif
#ifdef CRASH_AT
    if (frame == CRASH_AT) *(volatile int *)(uintptr_t)(16 + in->page) = 1;
#endif
#ifdef CRASH_FROM
    if (frame >= CRASH_FROM) *(volatile int *)(uintptr_t)(16 + in->page) = 1;
#endif
#ifdef NONDET
    ll_block_arena_find(block, "scratch")->begin[100] = (uint8_t)++outside;
#endif
#if defined(NONDET) || defined(ARENAS)
    /* A code pointer in the state: its value differs between builds while
     * meaning the same function (the side by side must not call it a
     * difference). */
    void (*self)(ll_block *, const void *, uint64_t, double) = app_update;
    memcpy(ll_block_arena_find(block, "scratch")->begin + 8, &self, sizeof self);
#endif
#ifdef NO_EFFECT
    volatile uint64_t unused = *counter * 3;
    (void)unused;
#endif
#ifdef CRASH
    /* An unmapped low address, not NULL: UBSan would trap a NULL store before
     * it faults, and the test is about the fault. */
    if (in->add == 99) *(volatile int *)(uintptr_t)(in->page + 16) = 1;
#endif
#ifdef PRINTS
    printf("app_prints: frame %llu\n", (unsigned long long)frame);
#endif
#ifdef STACK_ADDRESS
    volatile int local = 0;
    memcpy(block->base + 512, (const void *)&(const volatile int *){&local}, sizeof(void *));
#endif
#ifdef STACK_UNINIT
    /* Below this frame: stack no call of this frame has written. */
    block->base[600] = *((volatile const uint8_t *)__builtin_frame_address(0) - 2048);
#endif
#if !defined(NONDET) && !defined(ARENAS)
    block->base[(in->page % pages) * block->page_size + 8 + frame % 64] = (uint8_t)(frame + 1);
#else
    (void)pages;
#endif
}

/* The counter as text, for the host's tests (the pictures of two builds). */
static void app_render(const ll_block *block, ll_canvas *canvas)
{
    char text[64];
    int n = snprintf(text, sizeof text, "counter=%llu",
                     (unsigned long long)*(const uint64_t *)(const void *)block->base);
    if (canvas->cells && n > 0 && n < canvas->width) memcpy(canvas->cells, text, (size_t)n);
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
#ifdef BIG_INPUT
    .input_size = 2 * sizeof(app_input),
#else
    .input_size = sizeof(app_input),
#endif
#ifdef LAYOUT8
    .layout_version = 8,
#else
    .layout_version = 7,
#endif
    .block_size = 1 << 20,
    .name = "testapp",
    .init = app_init,
    .update = app_update,
    .render = app_render,
};

#ifdef BAD_TABLE
volatile uintptr_t bad_table = 16; /* not NULL: UBSan would stop first */
#endif

const ll_app *looplive_app(void)
{
#ifdef BAD_TABLE
    if (*(volatile const uint32_t *)bad_table) return NULL; /* faults in the first call */
#endif
    return &app;
}
