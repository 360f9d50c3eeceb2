/* test_loop_fault.c - a build that ran good frames of a playing loop and
 * then faults at one of them: the loop pauses at that frame instead of
 * faulting there on every pass, and goes on after a new build or a skip.
 * Also: the first call into a new build (looplive_app) is protected. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "looplive.h"

static ll_block block;
static ll_loop *loop;
static ll_module *mod;
static ll_error err;
static char dir[64], lib[128];

static const char *const symbols[] = {"looplive_app"};

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b ? b : "build";
}

/* Puts build `name` (tests/loop/NAME.so) in place by rename. */
static void install(const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp %s/tests/loop/%s.so %s.new && mv %s.new %s", build_dir(), name,
             lib, lib, lib);
    cr_assert_eq(system(cmd), 0);
}

static void setup(void)
{
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    snprintf(dir, sizeof dir, "/tmp/looplive-test-loopfault-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    install("app_v1");
    mod = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block);
    cr_assert(mod, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .module = mod);
    cr_assert(loop, "%s", err.msg);
}

static void teardown(void)
{
    ll_loop_destroy(loop);
    ll_module_close(mod);
    ll_snap_end(&block);
    ll_block_release(&block);
    unlink(lib);
    rmdir(dir);
}

TestSuite(loop_fault, .init = setup, .fini = teardown);

static uint64_t counter(void)
{
    return *(uint64_t *)block.base;
}

static void frame_with(int32_t add)
{
    ll_platform_input p = {0};
    memcpy(p.keys, &add, sizeof add); /* app.c has no translate */
    cr_assert_eq(ll_loop_frame(loop, &p, &err), 1, "%s", err.msg);
}

/* Slot 0 holds inputs 1, 2, 99, 4, 5 recorded with version 1 (which does
 * not fault on 99); then the build that faults on 99 loads and plays two
 * good frames. Returns the faults counted so far. */
static uint64_t pause_at_the_faulting_frame(void)
{
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    int32_t inputs[] = {1, 2, 99, 4, 5};
    for (int i = 0; i < 5; i++) frame_with(inputs[i]);
    install("app_crash");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(counter(), 3);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1, "input 99 faults");
    cr_assert(strstr(err.msg, "no earlier good version to roll back to"), "%s", err.msg);
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert(st.paused && st.fault_paused, "paused at the fault");
    cr_assert_eq(st.play_pos, 2, "at the faulting frame");
    ll_module_info info;
    ll_module_query(mod, &info);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ll_loop_frame(loop, NULL, &err), 0, "no frame runs, no fault repeats");
    ll_module_info later;
    ll_module_query(mod, &later);
    cr_assert_eq(later.faults, info.faults, "the fault did not repeat");
    cr_assert_eq(counter(), 3, "the block is as the last good frame left it");
    return later.faults;
}

Test(loop_fault, a_new_build_resumes_at_the_frame)
{
    uint64_t faults = pause_at_the_faulting_frame();
    install("app_v2");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(counter(), 3 + 2 * 99, "version 2 ran the frame");
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert(!st.paused && !st.fault_paused);
    cr_assert_eq(st.play_pos, 3);
    ll_module_info info;
    ll_module_query(mod, &info);
    cr_assert_eq(info.faults, faults);
}

Test(loop_fault, skipping_passes_the_frame_and_plays_on)
{
    pause_at_the_faulting_frame();
    cr_assert_eq(ll_loop_skip(loop, &err), 0, "%s", err.msg);
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert(!st.paused && !st.fault_paused);
    cr_assert_eq(st.play_pos, 3);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(counter(), 3 + 4, "frame 2 was passed over, frame 3 ran");
    /* The next pass faults at the same frame and pauses again. */
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg); /* wraps: frame 0 */
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1);
    cr_assert(ll_loop_status_get(loop).fault_paused);
}

Test(loop_fault, a_user_pause_is_not_ended_by_a_build)
{
    pause_at_the_faulting_frame();
    ll_loop_pause(loop, 1); /* the user takes over the pause */
    install("app_v2");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 0);
    cr_assert(ll_loop_status_get(loop).paused);
}

/* Live input changes from frame to frame: a fault does not pause. */
Test(loop_fault, live_frames_do_not_pause)
{
    install("app_crash");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    frame_with(1);
    ll_platform_input p = {0};
    int32_t bad = 99;
    memcpy(p.keys, &bad, sizeof bad);
    cr_assert_eq(ll_loop_frame(loop, &p, &err), -1);
    cr_assert(!ll_loop_status_get(loop).paused);
    frame_with(2);
    cr_assert_eq(counter(), 3);
}

/* looplive_app() is the first call into a new build: a fault there is
 * caught and rolled back like one in update. */
Test(loop_fault, the_first_call_into_a_new_build_is_protected)
{
    frame_with(1);
    install("app_bad_table");
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
    ll_platform_input p = {0};
    cr_assert_eq(ll_loop_frame(loop, &p, &err), -1);
    cr_assert(strstr(err.msg, "SIGSEGV (Segmentation fault) at address 0x10 in looplive_app+0x"),
              "%s", err.msg);
    cr_assert(strstr(err.msg, "(app.so version 2)"), "%s", err.msg);
    cr_assert(strstr(err.msg, "rolled back to version 1"), "%s", err.msg);
    frame_with(2);
    cr_assert_eq(counter(), 3, "version 1 runs on");
}

/* Moving the loop elsewhere ends a fault's pause: back to live input runs. */
Test(loop_fault, stopping_the_loop_ends_the_pause)
{
    pause_at_the_faulting_frame();
    ll_loop_stop(loop);
    cr_assert(!ll_loop_status_get(loop).paused);
    frame_with(1);
    cr_assert_eq(counter(), 4);
}

Test(loop_fault, a_rewind_ends_the_pause)
{
    pause_at_the_faulting_frame();
    cr_assert_eq(ll_loop_rewind(loop, 1, &err), 0, "%s", err.msg);
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert(!st.paused && !st.fault_paused);
    cr_assert_eq(st.play_pos, 1);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1, "and the frame faults again");
    cr_assert(ll_loop_status_get(loop).fault_paused);
}
