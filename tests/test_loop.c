/* test_loop.c - record, play in a loop, reload during playback, rewind,
 * pause/step/speed and the O(pages written) hash. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "loop/helpers.h"
#include "loop/loop.h"

/* ---- the test application (loop/helpers.h), in two versions ---- */

static void update_v2(ll_block *block, const void *input, uint64_t frame, double dt)
{
    app_step(block, input, frame, 2);
}

static const ll_app app_v1 = TEST_APP(app_update_v1);

static ll_app app_v2;

static ll_block block;
static ll_loop *loop;
static ll_error err;

static void setup_block(void)
{
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    app_v2 = app_v1;
    app_v2.update = update_v2;
}

static void setup(void)
{
    setup_block();
    loop = ll_loop_create(&block, &err, .app = &app_v1, .fps = 60);
    cr_assert(loop, "%s", err.msg);
}

static void teardown(void)
{
    ll_loop_destroy(loop);
    loop = NULL;
    ll_snap_end(&block);
    ll_block_release(&block);
}

static ll_platform_input input_for(uint64_t i)
{
    ll_platform_input p = {0};
    p.mouse_x = (int32_t)(i * 7 % 13) - 6;
    p.mouse_y = (int32_t)(i * 5 % 11); /* pages 0..10 */
    return p;
}

static void run(uint64_t frames, uint64_t first, uint64_t *hashes)
{
    for (uint64_t i = 0; i < frames; i++) {
        ll_platform_input p = input_for(first + i);
        cr_assert_eq(ll_loop_frame(loop, &p, &err), 1, "%s", err.msg);
        if (hashes) hashes[i] = ll_loop_hash(loop);
    }
}

static uint64_t full_hash(void)
{
    return block_full_hash(&block);
}

static uint64_t counter(void)
{
    return *(uint64_t *)block.base;
}

TestSuite(loop, .init = setup, .fini = teardown);

Test(loop, playback_reproduces_live_hashes)
{
    uint64_t live[60], played[60];
    run(5, 1000, NULL);
    cr_assert_eq(ll_loop_record(loop, 1, &err), 0, "%s", err.msg);
    run(60, 0, live);
    cr_assert_eq(ll_loop_slot_frames(loop, 1), 60);
    cr_assert_eq(ll_loop_play(loop, 1, &err), 0, "%s", err.msg);
    for (int i = 0; i < 60; i++) {
        ll_platform_input ignored = input_for(999); /* live input must not leak in */
        cr_assert_eq(ll_loop_frame(loop, &ignored, &err), 1, "%s", err.msg);
        played[i] = ll_loop_hash(loop);
    }
    for (int i = 0; i < 60; i++) cr_assert_eq(played[i], live[i], "frame %d", i);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.mode, LL_LOOP_PLAYING);
    cr_assert_eq(st.slot, 1);
    cr_assert_eq(st.play_pos, 60);
    cr_assert_eq(st.slot_frames, 60);
}

Test(loop, loop_restores_exact_start_bytes_every_pass)
{
    run(3, 500, NULL);
    uint8_t *start = malloc(block.size), *after0 = malloc(block.size);
    memcpy(start, block.base, block.size);
    uint64_t start_hash = ll_loop_hash(loop);
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    run(25, 0, NULL);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(block.base, start, block.size), 0, "play starts from the start bytes");
    cr_assert_eq(ll_loop_hash(loop), start_hash);
    for (int pass = 0; pass < 5; pass++) {
        cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(ll_loop_status_get(loop).loops, (uint64_t)pass);
        if (pass == 0) memcpy(after0, block.base, block.size);
        cr_assert_eq(memcmp(block.base, after0, block.size), 0, "pass %d, frame 0", pass);
        /* One frame back is the state the wrap restored: the start, exactly. */
        cr_assert_eq(ll_loop_rewind(loop, 1, &err), 0, "%s", err.msg);
        cr_assert_eq(memcmp(block.base, start, block.size), 0, "pass %d starts at the start", pass);
        cr_assert_eq(ll_loop_hash(loop), start_hash);
        cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
        for (int f = 1; f < 25; f++) cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1);
        /* The end state differs from the start: the next frame restores. */
        cr_assert_neq(memcmp(block.base, start, block.size), 0);
    }
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    free(start);
    free(after0);
}

Test(loop, reload_during_playback_changes_behaviour_from_next_frame)
{
    uint64_t live[20];
    cr_assert_eq(ll_loop_record(loop, 2, &err), 0, "%s", err.msg);
    uint64_t c0 = counter();
    run(20, 0, live);
    cr_assert_eq(ll_loop_play(loop, 2, &err), 0, "%s", err.msg);
    run(5, 0, NULL);
    uint64_t before = counter();
    ll_loop_set_app(loop, &app_v2); /* the "reload" */
    app_input in5;
    ll_platform_input p5 = input_for(5);
    app_translate(&p5, &in5);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(counter(), before + 2 * (uint64_t)(int64_t)in5.add, "v2 adds twice the input");
    if (in5.add) cr_assert_neq(ll_loop_hash(loop), live[5]);
    run(14, 0, NULL);
    /* The loop keeps going with the new code: start state, then v2. */
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_status_get(loop).loops, 1);
    ll_platform_input p0 = input_for(0);
    app_input in0;
    app_translate(&p0, &in0);
    cr_assert_eq(counter(), c0 + 2 * (uint64_t)(int64_t)in0.add);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
}

Test(loop, rewind_jumps_back_exactly_n_frames)
{
    uint64_t hashes[40];
    static uint8_t states[40][64];
    for (int i = 0; i < 40; i++) {
        run(1, (uint64_t)i, &hashes[i]);
        memcpy(states[i], block.base, 64);
    }
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.frame, 40);
    cr_assert_eq(st.rewind_frames, 40);
    cr_assert_eq(ll_loop_rewind(loop, 7, &err), 0, "%s", err.msg);
    st = ll_loop_status_get(loop);
    cr_assert_eq(st.frame, 33);
    cr_assert_eq(st.rewind_frames, 33);
    cr_assert_eq(ll_loop_hash(loop), hashes[32]);
    cr_assert_eq(memcmp(block.base, states[32], 64), 0);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    /* Running the same inputs again gives the same states. */
    run(7, 33, NULL);
    cr_assert_eq(ll_loop_hash(loop), hashes[39]);
    cr_assert_eq(ll_loop_rewind(loop, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_hash(loop), hashes[38]);
}

Test(loop, rewind_across_a_loop_wrap)
{
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    run(10, 0, NULL);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    uint64_t hashes[16];
    uint64_t c[16];
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
        hashes[i] = ll_loop_hash(loop);
        c[i] = counter();
    }
    cr_assert_eq(ll_loop_status_get(loop).loops, 1);
    cr_assert_eq(ll_loop_rewind(loop, 9, &err), 0, "%s", err.msg); /* back before the wrap */
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.play_pos, 7);
    cr_assert_eq(st.mode, LL_LOOP_PLAYING);
    cr_assert_eq(ll_loop_hash(loop), hashes[6]);
    cr_assert_eq(counter(), c[6]);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    for (int i = 7; i < 16; i++) {
        cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(ll_loop_hash(loop), hashes[i], "frame %d", i);
    }
    cr_assert_eq(ll_loop_hash(loop), full_hash());
}

Test(loop, rewind_window_is_bounded_and_errors_past_it)
{
    ll_loop_destroy(loop);
    loop = ll_loop_create(&block, &err, .app = &app_v1, .fps = 10, .rewind_seconds = 1.5);
    cr_assert(loop, "%s", err.msg);
    run(40, 0, NULL);
    cr_assert_eq(ll_loop_status_get(loop).rewind_frames, 15);
    cr_assert_eq(ll_loop_rewind(loop, 16, &err), -1);
    cr_assert(strstr(err.msg, "cannot rewind 16 frames: the window holds 15"), "%s", err.msg);
    cr_assert_eq(ll_loop_rewind(loop, 0, &err), -1);
    cr_assert_eq(ll_loop_rewind(loop, 15, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_status_get(loop).frame, 25);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
}

Test(loop, rewind_while_recording_truncates_the_recording)
{
    uint64_t hashes[30];
    cr_assert_eq(ll_loop_record(loop, 3, &err), 0, "%s", err.msg);
    run(30, 0, hashes);
    cr_assert_eq(ll_loop_rewind(loop, 10, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_slot_frames(loop, 3), 20);
    cr_assert_eq(ll_loop_status_get(loop).mode, LL_LOOP_RECORDING);
    run(10, 20, NULL);
    cr_assert_eq(ll_loop_hash(loop), hashes[29]);
    cr_assert_eq(ll_loop_play(loop, 3, &err), 0, "%s", err.msg);
    run(30, 0, NULL);
    cr_assert_eq(ll_loop_hash(loop), hashes[29]);
}

Test(loop, keep_turns_the_window_into_a_loop)
{
    uint64_t hashes[200];
    run(200, 0, hashes); /* more than the 120-frame window */
    cr_assert_eq(ll_loop_status_get(loop).rewind_frames, 120);
    cr_assert_eq(ll_loop_keep(loop, 4, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_slot_frames(loop, 4), 120);
    cr_assert_eq(ll_loop_hash(loop), hashes[199], "keeping leaves the present alone");
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    cr_assert_eq(ll_loop_play(loop, 4, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_hash(loop), hashes[79], "starts where the window starts");
    cr_assert_eq(ll_loop_status_get(loop).frame, 80);
    for (int i = 80; i < 200; i++) {
        cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(ll_loop_hash(loop), hashes[i], "frame %d", i);
    }
}

Test(loop, keep_after_a_wrap_keeps_only_the_frames_since)
{
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    run(10, 0, NULL);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    run(14, 0, NULL); /* one pass and 4 frames of the next */
    cr_assert_eq(ll_loop_keep(loop, 5, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_slot_frames(loop, 5), 4);
    cr_assert_eq(ll_loop_keep(loop, 12, &err), -1);
    cr_assert(strstr(err.msg, "no slot 12: slots are 0 to 9"), "%s", err.msg);
}

Test(loop, pause_step_and_speed)
{
    run(2, 0, NULL);
    ll_loop_pause(loop, 1);
    cr_assert(ll_loop_status_get(loop).paused);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 0);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 0);
    cr_assert_eq(ll_loop_status_get(loop).frame, 2);
    ll_loop_step(loop);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 1);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 0, "one step, one frame");
    cr_assert_eq(ll_loop_status_get(loop).frame, 3);
    ll_loop_pause(loop, 0);
    ll_loop_set_speed(loop, 0.25);
    int total = 0;
    for (int i = 0; i < 8; i++) total += ll_loop_frame(loop, NULL, &err);
    cr_assert_eq(total, 2, "quarter speed: 2 frames in 8");
    ll_loop_set_speed(loop, 3);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), 3);
    ll_loop_set_speed(loop, 1000);
    cr_assert_eq(ll_loop_status_get(loop).speed, 16);
    ll_loop_set_speed(loop, 0);
    cr_assert_eq(ll_loop_status_get(loop).speed, 1.0 / 16);
    ll_loop_step(loop); /* not paused: no effect */
    cr_assert_eq(ll_loop_status_get(loop).frame, 8);
}

Test(loop, ten_slots_and_slot_errors)
{
    for (int s = 0; s < LL_LOOP_SLOTS; s++) {
        cr_assert_eq(ll_loop_record(loop, s, &err), 0, "%s", err.msg);
        run((uint64_t)s + 1, 0, NULL);
    }
    for (int s = 0; s < LL_LOOP_SLOTS; s++)
        cr_assert_eq(ll_loop_slot_frames(loop, s), (uint64_t)s + 1);
    cr_assert_geq(LL_LOOP_SLOTS, 9);
    cr_assert_eq(ll_loop_record(loop, LL_LOOP_SLOTS, &err), -1);
    cr_assert(strstr(err.msg, "no slot 10"), "%s", err.msg);
    cr_assert_eq(ll_loop_play(loop, -1, &err), -1);
    ll_loop_stop(loop);
    cr_assert_eq(ll_loop_status_get(loop).mode, LL_LOOP_LIVE);
    cr_assert_eq(ll_loop_slot_frames(loop, 42), 0);
}

Test(loop, playing_an_empty_slot_fails)
{
    cr_assert_eq(ll_loop_play(loop, 6, &err), -1);
    cr_assert(strstr(err.msg, "slot 6 holds no recording (try: record into it first)"), "%s",
              err.msg);
    cr_assert_eq(ll_loop_save(loop, 6, "/tmp/never.llrec", &err), -1);
    cr_assert(strstr(err.msg, "slot 6 holds no recording"), "%s", err.msg);
}

Test(loop, layout_change_under_a_playing_slot_goes_live)
{
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    run(5, 0, NULL);
    cr_assert_eq(ll_loop_play(loop, 0, &err), 0, "%s", err.msg);
    ll_app v3 = app_v1;
    v3.layout_version = 8;
    ll_loop_set_app(loop, &v3);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1);
    cr_assert(strstr(err.msg, "slot 0 was recorded with 8-byte inputs and layout version 7, the "
                              "application now has 8-byte inputs and layout version 8: back to "
                              "live input"),
              "%s", err.msg);
    cr_assert_eq(ll_loop_status_get(loop).mode, LL_LOOP_LIVE);
    cr_assert_eq(ll_loop_play(loop, 0, &err), -1);
    cr_assert(strstr(err.msg, "layout version 7, the application has 8-byte inputs and layout "
                              "version 8"),
              "%s", err.msg);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1, "the state is of layout 7: not run");
    cr_assert(strstr(err.msg, "refusing to run test with state layout version 8 on a state of "
                              "layout version 7"),
              "%s", err.msg);
}

Test(loop, bad_application_table)
{
    ll_app bad = app_v1;
    bad.api_version = 99;
    ll_loop_set_app(loop, &bad);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1);
    cr_assert(strstr(err.msg, "application test: api version 99"), "%s", err.msg);
    cr_assert_null(ll_loop_app(loop, &err));
    ll_loop_set_app(loop, NULL);
    cr_assert_eq(ll_loop_frame(loop, NULL, &err), -1);
    cr_assert(strstr(err.msg, "returned no looplive_app table"), "%s", err.msg);
    ll_loop_set_app(loop, &app_v2);
    cr_assert_eq(ll_loop_app(loop, &err), &app_v2);
}

Test(loop, create_errors)
{
    cr_assert_null(ll_loop_create(&block, &err));
    cr_assert(strstr(err.msg, "needs a reserved block and .app or .module"), "%s", err.msg);
    cr_assert_null(ll_loop_create(&block, &err, .app = &app_v1, .fps = -1));
    cr_assert(strstr(err.msg, "frame rate -1 is out of range"), "%s", err.msg);
    cr_assert_null(ll_loop_create(&block, &err, .app = &app_v1, .fps = NAN));
    cr_assert(strstr(err.msg, "frame rate nan is out of range"), "%s", err.msg);
    cr_assert_null(ll_loop_create(&block, &err, .app = &app_v1, .rewind_seconds = 1e9));
    cr_assert(strstr(err.msg, "rewind window of 1e+09 s is out of range"), "%s", err.msg);
    cr_assert_null(ll_loop_create(&block, &err, .app = &app_v1, .rewind_seconds = NAN));
    cr_assert(strstr(err.msg, "rewind window of nan s is out of range"), "%s", err.msg);
}

Test(loop, no_rewind_window)
{
    ll_loop_destroy(loop);
    loop = ll_loop_create(&block, &err, .app = &app_v1, .rewind_seconds = -1);
    cr_assert(loop, "%s", err.msg);
    run(10, 0, NULL);
    cr_assert_eq(ll_loop_status_get(loop).rewind_frames, 0);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    cr_assert_eq(ll_loop_keep(loop, 0, &err), -1);
    cr_assert(strstr(err.msg, "the rewind window is empty"), "%s", err.msg);
    ll_loop_diff d;
    cr_assert_eq(ll_loop_determinism(loop, 0, &d, &err), -1);
    cr_assert(strstr(err.msg, "a determinism check needs a rewind window"), "%s", err.msg);
}

Test(loop, hash_follows_writes_between_frames)
{
    run(3, 0, NULL);
    block.base[5 * block.page_size + 17] = 0x5a; /* the host or a reload writes */
    run(1, 3, NULL);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
    /* A page back to zeros contributes nothing again. */
    memset(block.base + 5 * block.page_size, 0, block.page_size);
    run(1, 4, NULL);
    cr_assert_eq(ll_loop_hash(loop), full_hash());
}

Test(loop, hash_of_zero_block_is_zero)
{
    ll_loop_destroy(loop);
    memset(block.base, 0, block.size);
    loop = ll_loop_create(&block, &err, .app = &app_v1);
    cr_assert_eq(ll_loop_hash(loop), 0);
    cr_assert_eq(full_hash(), 0);
}

Test(loop, recording_input_append_grows)
{
    uint8_t *inputs = NULL;
    uint64_t count = 0, cap = 0;
    uint8_t in[64];
    for (int i = 0; i < 1000; i++) {
        memset(in, i & 0xff, sizeof in);
        cr_assert_eq(loop_inputs_append(&inputs, &count, &cap, in, sizeof in), 0);
    }
    cr_assert_eq(count, 1000);
    cr_assert_geq(cap, 1000);
    cr_assert_eq(inputs[999 * 64 + 5], 999 & 0xff);
    free(inputs);
}
