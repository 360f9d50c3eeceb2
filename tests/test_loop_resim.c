/* test_loop_resim.c - re-simulating a recording with the previous build and
 * the build in use in forked processes: a change from frame 210 is found
 * there and nowhere before, a change with no effect finds none, a crash in
 * the background is reported while the loop's own frames go on, a saved
 * recording file is compared like a slot, an earlier comparison's hashes
 * stand in for the old build, and what cannot be compared says why. */
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

static void load(const char *name)
{
    install(name);
    cr_assert_eq(ll_module_reload(mod, &err), 0, "%s", err.msg);
}

static void setup(void)
{
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    snprintf(dir, sizeof dir, "/tmp/looplive-test-resim-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(lib, sizeof lib, "%s/app.so", dir);
    install("app_v1");
    mod = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block,
                         .no_watch = 1);
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

TestSuite(loop_resim, .init = setup, .fini = teardown);

static void frame_with(int32_t add, uint32_t page)
{
    ll_platform_input p = {0};
    memcpy(p.keys, &add, sizeof add); /* app.c has no translate: the input is the bytes */
    memcpy(p.keys + 4, &page, sizeof page);
    cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
}

/* Five live frames, then `frames` recorded into slot 0 (frame numbers 5
 * on), input 99 at index crash_at (none when past the end). */
static void record(uint64_t frames, uint64_t crash_at)
{
    for (int i = 0; i < 5; i++) frame_with(1, 0);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    for (uint64_t i = 0; i < frames; i++) frame_with(i == crash_at ? 99 : 1, (uint32_t)(i % 5));
    ll_loop_stop(loop);
}

/* Polls until the comparison is over, running a live frame of the loop
 * between polls (the foreground goes on); 10 s at most. */
static ll_resim_status finish(ll_resim *r, uint64_t *foreground_frames)
{
    for (int i = 0; i < 10000 && !ll_resim_poll(r); i++) {
        frame_with(1, 0);
        if (foreground_frames) ++*foreground_frames;
        usleep(1000);
    }
    ll_resim_status s;
    ll_resim_status_get(r, &s);
    cr_assert(s.done, "not done after 10 s: %llu compared", (unsigned long long)s.compared);
    return s;
}

Test(loop_resim, a_change_from_frame_210_is_found_there_and_not_before)
{
    record(300, UINT64_MAX);
    load("app_change210");
    ll_resim *r = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    uint64_t fg = 0;
    ll_resim_status s = finish(r, &fg);
    cr_assert_not(s.failed, "%s", s.error);
    cr_assert_eq(s.frames, 300);
    cr_assert_eq(s.start_frame, 5);
    cr_assert_eq(s.compared, 300);
    cr_assert_eq(s.old_version, 1);
    cr_assert_eq(s.new_version, 2);
    cr_assert_eq(s.start_frame + (uint64_t)s.first_changed, 210, "first changed at frame %lld",
                 (long long)(s.start_frame + (uint64_t)s.first_changed));
    cr_assert_eq(s.changed, 300 - 205); /* the counter stays off from there */
    const uint8_t *marks = ll_resim_marks_get(r);
    for (uint64_t i = 0; i < 300; i++)
        cr_assert_eq(marks[i], i < 205 ? LL_RESIM_SAME : LL_RESIM_CHANGED, "frame %llu",
                     (unsigned long long)(5 + i));
    ll_resim_destroy(r);
}

Test(loop_resim, a_change_with_no_effect_changes_no_frame)
{
    record(300, UINT64_MAX);
    load("app_no_effect");
    ll_resim *r = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    ll_resim_status s = finish(r, NULL);
    cr_assert_not(s.failed, "%s", s.error);
    cr_assert_eq(s.compared, 300);
    cr_assert_eq(s.changed, 0);
    cr_assert_eq(s.first_changed, -1);
    ll_resim_destroy(r);
}

Test(loop_resim, a_crash_in_the_background_is_reported_and_the_loop_goes_on)
{
    record(120, 50);
    load("app_crash"); /* faults on the input 99 of frame 55 */
    ll_resim *r = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    uint64_t fg = 0, before = ll_loop_status_get(loop).frame;
    ll_resim_status s = finish(r, &fg);
    cr_assert(s.failed);
    cr_assert(strstr(s.error, "re-simulation of slot 0 with the current build (version 2) "
                              "crashed at frame 55: SIGSEGV at address 0x"),
              "%s", s.error);
    cr_assert(strstr(s.error, "(app.so version 2)"), "the fault is not named: %s", s.error);
    /* The frames before the crash were compared, and nothing changed there. */
    cr_assert_leq(s.compared, 50);
    cr_assert_eq(s.changed, 0);
    /* The foreground ran its frames all along, and runs on. */
    frame_with(1, 0);
    cr_assert_eq(ll_loop_status_get(loop).frame, before + fg + 1);
    ll_resim_destroy(r);
}

Test(loop_resim, a_recording_file_is_compared_like_a_slot)
{
    record(300, UINT64_MAX);
    char path[128];
    snprintf(path, sizeof path, "%s/slot3.llrec", dir);
    cr_assert_eq(ll_loop_save(loop, 0, path, &err), 0, "%s", err.msg);
    load("app_change210");
    ll_resim *r = ll_resim_start(loop, &err, .path = path, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    ll_resim_status s = finish(r, NULL);
    unlink(path);
    cr_assert_not(s.failed, "%s", s.error);
    cr_assert_eq(s.start_frame + (uint64_t)s.first_changed, 210);
    ll_resim_destroy(r);
}

Test(loop_resim, an_earlier_comparison_stands_for_the_old_build)
{
    record(300, UINT64_MAX);
    load("app_change210");
    ll_resim *first = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(first, "%s", err.msg);
    finish(first, NULL);
    load("app_v1"); /* back to version 1's behaviour, as version 3 */
    ll_resim *r = ll_resim_start(loop, &err, .slot = 0, .old_version = 2, .reuse = first);
    cr_assert(r, "%s", err.msg);
    ll_resim_status s = finish(r, NULL);
    cr_assert_not(s.failed, "%s", s.error);
    cr_assert_eq(s.old_version, 2);
    cr_assert_eq(s.new_version, 3);
    cr_assert_eq(s.start_frame + (uint64_t)s.first_changed, 210);
    ll_resim_destroy(r);
    ll_resim_destroy(first);
}

Test(loop_resim, what_cannot_be_compared_says_why)
{
    cr_assert_null(ll_resim_start(loop, &err, .slot = 0, .old_version = 1));
    cr_assert(strstr(err.msg, "cannot compare version 1 with version 1 in use"), "%s", err.msg);
    load("app_v2");
    cr_assert_null(ll_resim_start(loop, &err, .slot = 0, .old_version = 1));
    cr_assert(strstr(err.msg, "slot 0 holds no recording to re-simulate (try: record one)"), "%s",
              err.msg);
    cr_assert_null(ll_resim_start(loop, &err, .path = "/nonexistent/x.llrec", .old_version = 1));
    cr_assert(strstr(err.msg, "cannot re-simulate /nonexistent/x.llrec: No such file"), "%s",
              err.msg);
    /* A recording of no frames. */
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    char path[128];
    snprintf(path, sizeof path, "%s/empty.llrec", dir);
    cr_assert_eq(ll_loop_save(loop, 0, path, &err), 0, "%s", err.msg);
    cr_assert_null(ll_resim_start(loop, &err, .path = path, .old_version = 1));
    unlink(path);
    cr_assert(strstr(err.msg, "it holds no frames"), "%s", err.msg);
    /* A loop without a module has no builds to compare. */
    static const ll_app app = {.api_version = 1, .input_size = 8, .update = NULL};
    ll_loop *plain = ll_loop_create(&block, &err, .app = &app);
    cr_assert(plain, "%s", err.msg);
    cr_assert_null(ll_resim_start(plain, &err, .slot = 0, .old_version = 1));
    cr_assert(strstr(err.msg, "re-simulation compares builds: the loop needs a module"), "%s",
              err.msg);
    ll_loop_destroy(plain);
    ll_resim_destroy(NULL);
}

/* Both builds' pictures of one frame, and the bytes that differ. */
Test(loop_resim, a_view_shows_both_builds_at_one_frame_and_the_bytes_that_differ)
{
    record(300, UINT64_MAX);
    load("app_change210");
    char cells[2 * 40], colors[2 * 40];
    ll_canvas shape = {.width = 40, .height = 2, .cells = cells, .colors = (uint8_t *)colors};
    /* 250 frames: frames 5..254, of which 210..254 add one more. */
    ll_resim_view *v = ll_resim_view_start(loop, &err, .slot = 0, .old_version = 1, .frames = 250,
                                           .canvas = &shape);
    cr_assert(v, "%s", err.msg);
    cr_assert_null(ll_resim_view_canvas_get(v, 0)); /* not before it is done */
    for (int i = 0; i < 10000 && !ll_resim_view_poll(v); i++) usleep(1000);
    ll_resim_view_status s;
    ll_resim_view_status_get(v, &s);
    cr_assert(s.done && !s.failed, "%s", s.error);
    cr_assert_eq(s.frame, 254);
    cr_assert_eq(s.old_version, 1);
    cr_assert_eq(s.new_version, 2);
    cr_assert_eq(s.diff_count, 1);
    cr_assert_eq(s.diff_bytes, 2);
    cr_assert_eq(s.diffs[0].start, 0);
    cr_assert_eq(s.diffs[0].end, 2); /* the counter: 255 (0xff) against 300 (0x12c) */
    const ll_canvas *old = ll_resim_view_canvas_get(v, 0), *cur = ll_resim_view_canvas_get(v, 1);
    cr_assert(old && cur);
    cr_assert(!strncmp(old->cells, "counter=255 ", 12), "%.40s", old->cells);
    cr_assert(!strncmp(cur->cells, "counter=300 ", 12), "%.40s", cur->cells);
    /* A cell picture carries what looplive_text.h draws: backgrounds,
     * attributes and code points, cleared before the render. */
    for (int i = 0; i < 2; i++) {
        const ll_canvas *c = ll_resim_view_canvas_get(v, i);
        cr_assert(c->backgrounds && c->attrs && c->codepoints, "picture %d lacks cell fields", i);
        cr_assert(!c->backgrounds[79] && !c->attrs[79] && !c->codepoints[79]);
    }
    cr_assert_null(ll_resim_view_canvas_get(v, 2));
    ll_resim_view_destroy(v);
    ll_resim_view_destroy(NULL);
}

Test(loop_resim, a_view_that_cannot_be_made_says_why)
{
    char cells[8];
    ll_canvas shape = {.width = 8, .height = 1, .cells = cells};
    cr_assert_null(ll_resim_view_start(loop, &err, .slot = 0, .old_version = 1, .frames = 1,
                                       .canvas = &shape));
    cr_assert(strstr(err.msg, "slot 0 holds no recording to compare builds on"), "%s", err.msg);
    record(20, UINT64_MAX);
    cr_assert_null(ll_resim_view_start(loop, &err, .slot = 0, .old_version = 1, .frames = 1,
                                       .canvas = &shape));
    cr_assert(strstr(err.msg, "cannot compare version 1 with version 1 in use"), "%s", err.msg);
    load("app_v2");
    cr_assert_null(ll_resim_view_start(loop, &err, .slot = 0, .old_version = 1, .frames = 21,
                                       .canvas = &shape));
    cr_assert(strstr(err.msg, "cannot show frame 21 of slot 0: it has 20 frames"), "%s", err.msg);
    cr_assert_null(ll_resim_view_start(loop, &err, .slot = 0, .old_version = 1, .frames = 20));
    cr_assert(strstr(err.msg, "comparing builds' pictures needs a canvas"), "%s", err.msg);
    static const ll_app app = {.api_version = 1, .input_size = 8, .update = NULL};
    ll_loop *plain = ll_loop_create(&block, &err, .app = &app);
    cr_assert(plain, "%s", err.msg);
    cr_assert_null(ll_resim_view_start(plain, &err, .slot = 0, .old_version = 1, .frames = 1,
                                       .canvas = &shape));
    cr_assert(strstr(err.msg, "slot 0 holds no recording to compare builds on"), "%s", err.msg);
    ll_loop_destroy(plain);
}

/* The module side: an earlier build runs its own code again, and a code
 * address is named. */
Test(loop_resim, an_earlier_build_runs_its_own_code_again)
{
    load("app_v2");
    cr_assert_eq(ll_module_version_set(mod, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_module_version_get(mod), 1);
    *(uint64_t *)block.base = 0;
    const ll_app *app = ((ll_app_get *)ll_module_symbol_get(mod, 0))();
    int32_t in[2] = {5, 0};
    app->update(&block, in, 0, 1.0 / 60);
    cr_assert_eq(*(uint64_t *)block.base, 5, "version 1 adds the input once");
    cr_assert_eq(ll_module_version_set(mod, 2, &err), 0, "%s", err.msg);
    app = ((ll_app_get *)ll_module_symbol_get(mod, 0))();
    app->update(&block, in, 1, 1.0 / 60);
    cr_assert_eq(*(uint64_t *)block.base, 15, "version 2 adds it twice");
    cr_assert_eq(ll_module_version_set(mod, 7, &err), -1);
    cr_assert(strstr(err.msg, "no build version 7 of 'app.so' is loaded (try: a version that "
                              "loaded, 1 to 2)"),
              "%s", err.msg);
    char where[256];
    ll_module_address_describe(mod, (uint64_t)(uintptr_t)app->update, where, sizeof where);
    cr_assert(strstr(where, "(app.so version 2)"), "%s", where);
}

Test(loop_resim, the_background_leaves_the_forwarding_alone)
{
    record(30, UINT64_MAX);
    void (*v1)(ll_block *, const void *, uint64_t, double) =
        ((ll_app_get *)ll_module_symbol_get(mod, 0))()->update;
    load("app_v2");
    ll_resim *r = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    finish(r, NULL);
    ll_resim_destroy(r);
    *(uint64_t *)block.base = 0;
    int32_t in[2] = {5, 0};
    v1(&block, in, 0, 1.0 / 60);
    cr_assert_eq(*(uint64_t *)block.base, 10, "version 1's update no longer forwards to version 2");
}

/* A build the recording cannot be played with fails in the background,
 * with what does not fit. */
Test(loop_resim, a_build_of_another_input_size_or_layout_is_named)
{
    record(30, UINT64_MAX);
    load("app_big_input");
    ll_resim *r = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    ll_resim_status s;
    for (int i = 0; i < 10000 && !ll_resim_poll(r); i++) usleep(1000);
    ll_resim_status_get(r, &s);
    cr_assert(s.failed);
    cr_assert(strstr(s.error, "re-simulation of slot 0 with the current build (version 2) failed: "
                              "the recording has 8-byte inputs, version 2 takes 16"),
              "%s", s.error);
    ll_resim_destroy(r);
    load("app_layout8");
    r = ll_resim_start(loop, &err, .slot = 0, .old_version = 1);
    cr_assert(r, "%s", err.msg);
    for (int i = 0; i < 10000 && !ll_resim_poll(r); i++) usleep(1000);
    ll_resim_status_get(r, &s);
    cr_assert(strstr(s.error, "the recording has layout version 7, version 3 has 8 and no migrate"),
              "%s", s.error);
    ll_resim_destroy(r);
}

/* The side by side's process crashes: said, and no pictures. */
Test(loop_resim, a_view_whose_build_crashes_says_so)
{
    record(120, UINT64_MAX);
    load("app_crash_at60");
    char cells[8];
    ll_canvas shape = {.width = 8, .height = 1, .cells = cells};
    ll_resim_view *v = ll_resim_view_start(loop, &err, .slot = 0, .old_version = 1, .frames = 100,
                                           .canvas = &shape);
    cr_assert(v, "%s", err.msg);
    for (int i = 0; i < 10000 && !ll_resim_view_poll(v); i++) usleep(1000);
    ll_resim_view_status s;
    ll_resim_view_status_get(v, &s);
    cr_assert(s.done && s.failed);
    cr_assert(strstr(s.error, "with the current build (version 2) crashed at frame 60: SIGSEGV"),
              "%s", s.error);
    cr_assert_null(ll_resim_view_canvas_get(v, 0));
    ll_resim_view_destroy(v);
}
