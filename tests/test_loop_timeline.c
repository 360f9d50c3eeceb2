/* test_loop_timeline.c - the timeline: keyframes every K frames of a
 * recording, seeks that land on the state a straight replay reaches, cuts
 * that record live input from any frame, and keyframes that a code change
 * makes stale. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "loop/helpers.h"
#include "loop/loop.h"

#define K      16  /* frames between keyframes */
#define FRAMES 500 /* frames recorded */

static uint64_t updates; /* update calls, to count the frames a seek runs */

static void update_counted(ll_block *block, const void *input, uint64_t frame, double dt)
{
    updates++;
    app_update_v1(block, input, frame, dt);
}

static void update_v2(ll_block *block, const void *input, uint64_t frame, double dt)
{
    updates++;
    app_step(block, input, frame, 2);
}

static const ll_app app_v1 = TEST_APP(update_counted);
static ll_app app_v2;

static ll_block block;
static ll_loop *loop;
static ll_error err;
static uint64_t start_hash, live[FRAMES]; /* live[i]: after frame i */

static ll_platform_input input_for(uint64_t i)
{
    ll_platform_input p = {0};
    p.mouse_x = (int32_t)(i * 7 % 13) - 6;
    p.mouse_y = (int32_t)(i * 5 % 11);
    return p;
}

static void run_live(uint64_t frames, uint64_t first, uint64_t *hashes)
{
    for (uint64_t i = 0; i < frames; i++) {
        ll_platform_input p = input_for(first + i);
        cr_assert_eq(ll_loop_frame_run(loop, &p, &err), 1, "%s", err.msg);
        if (hashes) hashes[i] = ll_loop_hash_get(loop);
    }
}

/* Slot 1 holds FRAMES frames recorded live after a few unrecorded ones. */
static void setup(void)
{
    memset(&block, 0, sizeof block);
    cr_assert_eq(ll_block_reserve(&block, &err, .size = 1 << 20), 0, "%s", err.msg);
    app_v2 = app_v1;
    app_v2.update = update_v2;
    loop = ll_loop_create(&block, &err, .app = &app_v1, .fps = 60, .keyframe_frames = K);
    cr_assert(loop, "%s", err.msg);
    run_live(7, 9000, NULL);
    cr_assert_eq(ll_loop_record(loop, 1, &err), 0, "%s", err.msg);
    start_hash = ll_loop_hash_get(loop);
    run_live(FRAMES, 0, live);
}

static void teardown(void)
{
    ll_loop_destroy(loop);
    ll_snap_end(&block);
    ll_block_release(&block);
}

TestSuite(timeline, .init = setup, .fini = teardown);

/* The hash a straight replay reaches before frame pos. */
static uint64_t replay_hash(uint64_t pos)
{
    return pos ? live[pos - 1] : start_hash;
}

static void seek_and_check(uint64_t pos)
{
    updates = 0;
    cr_assert_eq(ll_loop_timeline_seek(loop, 1, pos, &err), 0, "seek %llu: %s",
                 (unsigned long long)pos, err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), replay_hash(pos), "seek to %llu", (unsigned long long)pos);
    cr_assert_eq(ll_loop_hash_get(loop), block_full_hash(&block), "the hash table is up to date");
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.mode, LL_LOOP_PLAYING);
    cr_assert_eq(st.play_pos, pos);
    cr_assert_leq(updates, K - 1, "seek to %llu ran %llu frames", (unsigned long long)pos,
                  (unsigned long long)updates);
}

Test(timeline, recording_keeps_a_keyframe_every_k_frames)
{
    ll_loop_timeline t;
    cr_assert_eq(ll_loop_timeline_get(loop, 1, &t), 0);
    cr_assert_eq(t.frames, FRAMES);
    cr_assert_eq(t.keyframe_frames, K);
    cr_assert_eq(t.keyframes, FRAMES / K + 1, "%llu", (unsigned long long)t.keyframes);
    cr_assert_eq(t.known, FRAMES);
    cr_assert_gt(t.bytes, 0);
    cr_assert_eq(ll_loop_timeline_get(loop, 2, &t), -1, "an empty slot");
    cr_assert_eq(t.keyframe_frames, K);
    cr_assert_eq(ll_loop_timeline_get(loop, 99, &t), -1);
}

Test(timeline, seek_lands_on_the_straight_replay_state)
{
    /* At keyframes, between them, the start and the end, in any order. */
    static const uint64_t at[] = {0,  K,   2 * K, 17,         47,         100,       FRAMES,
                                  31, 495, 1,     FRAMES - 1, 20 * K + 5, 3 * K - 1, 0};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) seek_and_check(at[i]);
    /* The loop plays on from there exactly as the recording did. */
    seek_and_check(200);
    for (uint64_t f = 200; f < 260; f++) {
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(ll_loop_hash_get(loop), live[f], "frame %llu", (unsigned long long)f);
    }
}

Test(timeline, seek_keeps_the_pause)
{
    ll_loop_pause(loop, 1);
    seek_and_check(77);
    cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 0, "paused: no frame runs");
    cr_assert(ll_loop_status_get(loop).paused);
    cr_assert_eq(ll_loop_hash_get(loop), live[76]);
}

/* Past the keyframes made so far: a code change drops them all, the next
 * seek runs from the start and makes them on the way. */
Test(timeline, seek_past_the_keyframes_makes_them)
{
    ll_loop_app_set(loop, &app_v2);
    ll_loop_timeline t;
    cr_assert_eq(ll_loop_timeline_get(loop, 1, &t), 0);
    cr_assert_eq(t.keyframes, 1, "a code change leaves only the start");
    cr_assert_eq(t.known, 0);
    /* The straight replay with the new code. */
    uint64_t v2[FRAMES];
    cr_assert_eq(ll_loop_play(loop, 1, &err), 0, "%s", err.msg);
    for (int f = 0; f < 300; f++) {
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
        v2[f] = ll_loop_hash_get(loop);
    }
    cr_assert_neq(v2[299], live[299], "the new code does differ");
    cr_assert_eq(ll_loop_timeline_get(loop, 1, &t), 0);
    cr_assert_eq(t.known, 288, "playing made them: %llu", (unsigned long long)t.known);
    ll_loop_app_set(loop, &app_v2); /* again: all stale */
    updates = 0;
    cr_assert_eq(ll_loop_timeline_seek(loop, 1, 250, &err), 0, "%s", err.msg);
    cr_assert_eq(updates, 250, "past the keyframes: from the start");
    cr_assert_eq(ll_loop_hash_get(loop), v2[249]);
    cr_assert_eq(ll_loop_timeline_get(loop, 1, &t), 0);
    cr_assert_eq(t.known, 240);
    updates = 0;
    cr_assert_eq(ll_loop_timeline_seek(loop, 1, 130, &err), 0, "%s", err.msg);
    cr_assert_eq(updates, 130 - 128);
    cr_assert_eq(ll_loop_hash_get(loop), v2[129]);
}

/* Rewinding a tape and recording over it. */
Test(timeline, cut_records_live_input_from_the_frame)
{
    seek_and_check(40);
    cr_assert_eq(ll_loop_timeline_cut(loop, &err), 0, "%s", err.msg);
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.mode, LL_LOOP_RECORDING);
    cr_assert_eq(st.slot_frames, 40);
    ll_loop_timeline t;
    cr_assert_eq(ll_loop_timeline_get(loop, 1, &t), 0);
    cr_assert_eq(t.keyframes, 40 / K + 1, "keyframes past the cut are gone");
    uint64_t fresh[30];
    run_live(30, 7777, fresh);
    cr_assert_neq(fresh[29], live[69], "other input, another run");
    cr_assert_eq(ll_loop_status_get(loop).slot_frames, 70);
    /* The recording now: the first 40 frames, then the new ones. */
    cr_assert_eq(ll_loop_play(loop, 1, &err), 0, "%s", err.msg);
    for (int f = 0; f < 70; f++) {
        cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(ll_loop_hash_get(loop), f < 40 ? live[f] : fresh[f - 40], "frame %d", f);
    }
    cr_assert_eq(ll_loop_timeline_seek(loop, 1, 65, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_loop_hash_get(loop), fresh[24]);
}

Test(timeline, seek_ends_a_recording_and_rewind_drops_keyframes)
{
    /* Recording: a rewind takes the frames and their keyframes back. */
    cr_assert_eq(ll_loop_record(loop, 3, &err), 0, "%s", err.msg);
    run_live(100, 0, NULL);
    cr_assert_eq(ll_loop_rewind(loop, 60, &err), 0, "%s", err.msg);
    ll_loop_timeline t;
    cr_assert_eq(ll_loop_timeline_get(loop, 3, &t), 0);
    cr_assert_eq(t.frames, 40);
    cr_assert_eq(t.keyframes, 40 / K + 1);
    run_live(10, 50, NULL);
    cr_assert_eq(ll_loop_timeline_seek(loop, 3, 45, &err), 0, "%s", err.msg);
    ll_loop_status st = ll_loop_status_get(loop);
    cr_assert_eq(st.mode, LL_LOOP_PLAYING, "the recording ended at the seek");
    cr_assert_eq(st.slot_frames, 50);
}

Test(timeline, errors_say_what_to_do)
{
    cr_assert_eq(ll_loop_timeline_seek(loop, 2, 0, &err), -1);
    cr_assert_str_eq(err.msg, "slot 2 holds no recording (try: record into it first)");
    cr_assert_eq(ll_loop_timeline_seek(loop, 1, FRAMES + 1, &err), -1);
    cr_assert_str_eq(err.msg,
                     "cannot go to frame 501 of slot 1: it holds 500 frames (try: 0 to 500)");
    cr_assert_eq(ll_loop_timeline_seek(loop, 11, 0, &err), -1);
    cr_assert(strstr(err.msg, "no slot 11"), "%s", err.msg);
    ll_loop_stop(loop);
    cr_assert_eq(ll_loop_timeline_cut(loop, &err), -1);
    cr_assert(strstr(err.msg, "no recording to cut: the loop is not playing a slot (try:"), "%s",
              err.msg);
    ll_app wide = app_v1;
    wide.input_size = 64;
    ll_loop_app_set(loop, &wide);
    cr_assert_eq(ll_loop_timeline_seek(loop, 1, 3, &err), -1);
    cr_assert_str_eq(err.msg, "slot 1 was recorded with 8-byte inputs, the application has "
                              "64-byte inputs (try: record again)");
}

Test(timeline, snapshot_size_counts_the_delta)
{
    cr_assert_eq(ll_snap_size_get(&block, NULL), 0);
    ll_snap *a = ll_snap_take(&block, &err);
    cr_assert(a, "%s", err.msg);
    uint64_t empty = ll_snap_size_get(&block, a);
    block.base[5 * block.page_size] ^= 1;
    block.base[6 * block.page_size] ^= 1;
    ll_snap *b = ll_snap_take(&block, &err);
    cr_assert(b, "%s", err.msg);
    cr_assert_geq(ll_snap_size_get(&block, a), empty + 2 * block.page_size,
                  "a holds the old bytes of the two pages");
    ll_snap_drop(&block, b);
    ll_snap_drop(&block, a);
}
