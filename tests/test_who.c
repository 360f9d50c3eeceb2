/* test_who.c - who wrote this value: ll_loop_writes_find on an application
 * run in process (no module), by hardware breakpoint and by page tracking
 * (LOOPLIVE_WATCH=page), its errors, the write watch underneath (one at
 * a time), and ll_module_line_find naming the writer by function and line
 * (this file is built with -g). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/watch.h"
#include "looplive.h"

#define PLANT_FRAME 30

typedef struct who_input {
    uint8_t unused;
} who_input;

__attribute__((noinline)) void who_plant(ll_block *block);
void who_plant(ll_block *block)
{
    uint8_t *state = ll_block_arena_find(block, "state")->begin;
    *(volatile uint32_t *)(state + 0x100) = 0xabcd; /* PLANTED */
}

static void who_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    (void)input, (void)dt;
    ll_block_arena_find(block, "state")->begin[0x80] = (uint8_t)frame; /* the same page */
    if (frame == PLANT_FRAME) who_plant(block);
}

static void who_translate(const ll_platform_input *p, void *out)
{
    (void)p;
    memset(out, 0, sizeof(who_input));
}

static const ll_app who_app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(who_input),
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "who",
    .translate = who_translate,
    .update = who_update,
};

static ll_block block;
static ll_loop *loop;
static ll_error err;
static ll_loop_writes w;
static uint64_t state_at; /* arena "state" from the block's base */

static void setup(void)
{
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    ll_arena *state = ll_arena_create(&block, "state", 64 << 10, &err, .guard = 1);
    cr_assert(state, "%s", err.msg);
    state_at = (uint64_t)(state->begin - block.base);
    loop = ll_loop_create(&block, &err, .app = &who_app, .fps = 60);
    cr_assert(loop, "%s", err.msg);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 50; i++)
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    ll_loop_stop(loop);
}

static void teardown(void)
{
    unsetenv("LOOPLIVE_WATCH");
    ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
}

static int planted_line(void)
{
    FILE *f = fopen(__FILE__, "r");
    char line[256];
    int n = 0, found = 0;
    while (f && fgets(line, sizeof line, f) && !found)
        if (++n, strstr(line, "/* PLANTED */") && !strstr(line, "strstr")) found = n;
    if (f) fclose(f);
    return found;
}

static void check_planted(const char *how)
{
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x100, 4, 45, &w, &err), 0, "%s", err.msg);
    cr_assert(w.found);
    cr_assert_eq(w.frame, PLANT_FRAME);
    cr_assert_str_eq(w.how, how);
    cr_assert_eq(w.count, 1, "%u writes", w.count);
    uint32_t before, after;
    memcpy(&before, w.writes[0].before, 4);
    memcpy(&after, w.writes[0].after, 4);
    cr_assert_eq(before, 0);
    cr_assert_eq(after, 0xabcd);
    ll_code_line at;
    uint64_t pc = w.writes[0].pc - (uint64_t)w.writes[0].pc_after;
    cr_assert_eq(ll_module_line_find(NULL, pc, &at, &err), 0, "%s", err.msg);
    cr_assert_str_eq(at.function, "who_plant", "in %s: %s", at.object, at.no_line);
    cr_assert(strstr(at.file, "test_who.c"), "file %s", at.file);
    cr_assert_eq(at.line, planted_line(), "line %d (%s)", at.line, at.no_line);
}

TestSuite(who, .init = setup, .fini = teardown);

Test(who, breakpoint_or_page_names_the_planted_write)
{
    ll_loop_writes_find(loop, 0, state_at + 0x100, 4, 45, &w, &err);
    check_planted(w.refused[0] ? "page" : "breakpoint");
}

Test(who, page_tracking_names_the_planted_write)
{
    setenv("LOOPLIVE_WATCH", "page", 1);
    check_planted("page");
    cr_assert(strstr(w.refused, "LOOPLIVE_WATCH=page"), "%s", w.refused);
    /* the page is writable again */
    block.base[state_at + 0x100] = 1;
}

Test(who, a_counter_is_changed_by_the_frame_asked)
{
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x80, 1, 17, &w, &err), 0, "%s", err.msg);
    cr_assert_eq(w.frame, 17);
    cr_assert_eq(w.count, 1);
    cr_assert_eq(w.writes[0].after[0], 17);
}

Test(who, bytes_nothing_changed)
{
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x2000, 8, 49, &w, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(w.found, 0);
    cr_assert_eq(w.count, 0);
}

Test(who, errors)
{
    cr_assert_eq(ll_loop_writes_find(loop, 3, 0x100, 4, 1, &w, &err), -1);
    cr_assert(strstr(err.msg, "slot 3 holds no recording"), "%s", err.msg);
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x100, 4, 50, &w, &err), -1);
    cr_assert(strstr(err.msg, "frame 50 is past the recording's 50 frames (try: 0 to 49)"), "%s",
              err.msg);
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x100, 65, 1, &w, &err), -1);
    cr_assert(strstr(err.msg, "cannot watch 65 bytes: 1 to 64 at a time"), "%s", err.msg);
    cr_assert_eq(ll_loop_writes_find(loop, 0, (1 << 20) - 2, 4, 1, &w, &err), -1);
    cr_assert(strstr(err.msg, "are outside the block"), "%s", err.msg);
}

Test(who, breakpoint_forbidden_fallback_is_an_error_where_refused)
{
    setenv("LOOPLIVE_WATCH", "breakpoint", 1);
    int rc = ll_loop_writes_find(loop, 0, state_at + 0x100, 4, 45, &w, &err);
    if (rc != 0) /* the kernel refuses breakpoints here */
        cr_assert(strstr(err.msg, "LOOPLIVE_WATCH=breakpoint forbids page tracking"), "%s",
                  err.msg);
    else
        cr_assert_str_eq(w.how, "breakpoint");
}

Test(who, a_range_past_four_breakpoints_is_watched_by_page)
{
    /* 0x101..0x121: 1+2+4+8+8+8+1 pieces, more than the CPU's four */
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x101, 32, 45, &w, &err), 0, "%s",
                 err.msg);
    cr_assert_str_eq(w.how, "page");
    cr_assert(w.refused[0]);
    cr_assert_eq(w.frame, PLANT_FRAME);
}

Test(who, line_find_without_code)
{
    ll_code_line at;
    static int data;
    cr_assert_eq(ll_module_line_find(NULL, 8, &at, &err), -1);
    cr_assert(strstr(err.msg, "0x8 is in no loaded object"), "%s", err.msg);
    /* A data address of a loaded object: no function, no line, and why. */
    cr_assert_eq(ll_module_line_find(NULL, (uint64_t)(uintptr_t)&data, &at, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(at.line, 0);
    cr_assert(at.no_line[0]);
}

Test(who, bytes_in_a_guard_page)
{
    const ll_arena *a = ll_block_arena_find(&block, "state");
    uint64_t guard = state_at + a->capacity;
    cr_assert_eq(ll_loop_writes_find(loop, 0, guard, 4, 45, &w, &err), -1);
    cr_assert(strstr(err.msg, "are in a guard page: nothing writes there (try: an offset inside an "
                              "arena)"),
              "%s", err.msg);
}

Test(who, breakpoint_forbidden_past_four_pieces)
{
    setenv("LOOPLIVE_WATCH", "breakpoint", 1);
    cr_assert_eq(ll_loop_writes_find(loop, 0, state_at + 0x101, 32, 45, &w, &err), -1);
    cr_assert(strstr(err.msg, "32 bytes at 0x"), "%s", err.msg);
    cr_assert(strstr(err.msg, "need more than 4 aligned breakpoints (LOOPLIVE_WATCH=breakpoint "
                              "forbids page tracking)"),
              "%s", err.msg);
}

Test(who, one_watch_at_a_time)
{
    static watch a, b;
    static uint64_t x, y;
    cr_assert_eq(watch_arm(&a, (uint64_t)(uintptr_t)&x, 8, &err), 0, "%s", err.msg);
    cr_assert_eq(watch_arm(&b, (uint64_t)(uintptr_t)&y, 8, &err), -1);
    cr_assert(strstr(err.msg, "a watch is armed already"), "%s", err.msg);
    *(volatile uint64_t *)&x = 5;
    watch_disarm(&b); /* not armed: nothing */
    watch_disarm(&a);
    cr_assert_eq(a.count, 1);
    cr_assert_eq(a.log[0].after[0], 5);
    cr_assert_eq(watch_arm(&b, (uint64_t)(uintptr_t)&y, 0, &err), -1);
    cr_assert(strstr(err.msg, "cannot watch 0 bytes: 1 to 64 at a time"), "%s", err.msg);
    cr_assert_str_eq(watch_how_name(WATCH_NONE), "none");
}
