/* who.c - who wrote this value? The last frame that changed some bytes of
 * the block, found by replaying and comparing, then run again under a write
 * watch (src/base/watch.c) that logs each write.
 *
 * Replaying and comparing, not bisecting over keyframes: it is exact (a
 * value that changes and changes back is seen, where bisection on "equal to
 * the final value" can land on an earlier change). The replay makes the
 * timeline's keyframes on the way, so going back to the frame found is a
 * seek (a keyframe restored and at most keyframe_frames - 1 frames run),
 * and only that frame runs under the watch: the answer costs about one
 * replay (BENCH who_wrote_s beside who_wrote_replay_s, docs/PERFORMANCE.md). Keeping
 * the watch armed through the whole replay instead would cost a signal per
 * write on every frame: 36,000 more for a value written every frame, with
 * breakpoints; one per write to the whole page with page tracking. */
#include "base/watch.h"
#include "loop/loop.h"

#include <stdio.h>
#include <string.h>

_Static_assert(WATCH_BYTES_MAX == LL_LOOP_WATCH_MAX && WATCH_LOG_MAX >= LL_LOOP_WRITES_MAX,
               "the watch holds what a question asks");

static int check_question(ll_loop *loop, int slot, uint64_t offset, uint32_t len, uint64_t frame,
                          ll_error *err)
{
    const ll_block *b = loop_block_of(loop);
    uint64_t frames = ll_loop_slot_frames_get(loop, slot);
    if (slot < 0 || slot >= LL_LOOP_SLOTS || frames == 0)
        return loop_fail(err, EINVAL, "slot %d holds no recording (try: ll_loop_load first)", slot);
    if (frame >= frames)
        return loop_fail(err, ERANGE,
                         "frame %llu is past the recording's %llu frames (try: 0 to %llu)",
                         (unsigned long long)frame, (unsigned long long)frames,
                         (unsigned long long)(frames - 1));
    if (len < 1 || len > LL_LOOP_WATCH_MAX)
        return loop_fail(err, EINVAL, "cannot watch %u bytes: 1 to %d at a time", len,
                         LL_LOOP_WATCH_MAX);
    if (offset >= b->size || len > b->size - offset)
        return loop_fail(err, ERANGE,
                         "bytes 0x%llx-0x%llx are outside the block (0x%llx bytes) (try: an "
                         "offset below 0x%llx)",
                         (unsigned long long)offset, (unsigned long long)(offset + len),
                         (unsigned long long)b->size, (unsigned long long)(b->size - len + 1));
    for (uint32_t i = 0; i < len;
         i += (uint32_t)b->page_size - (uint32_t)((offset + i) % b->page_size))
        if (!strcmp(ll_block_owner_get(b, offset + i), "guard page"))
            return loop_fail(err, EINVAL,
                             "bytes at 0x%llx are in a guard page: nothing writes there (try: "
                             "an offset inside an arena)",
                             (unsigned long long)(offset + i));
    return 0;
}

static watch w; /* large; one armed at a time anyway */

static void take_log(const watch *wt, uint32_t len, ll_loop_writes *out)
{
    out->how = watch_how_name(wt->how);
    snprintf(out->refused, sizeof out->refused, "%s", wt->refused);
    out->count = wt->count;
    for (uint32_t i = 0; i < wt->count && i < LL_LOOP_WRITES_MAX; i++) {
        out->writes[i].pc = wt->log[i].pc;
        out->writes[i].pc_after = wt->log[i].pc_after;
        memcpy(out->writes[i].before, wt->log[i].before, len);
        memcpy(out->writes[i].after, wt->log[i].after, len);
    }
}

/* Plays the slot to `frame`, noting the last frame that changed the bytes. */
static int play_to(ll_loop *loop, uint8_t *at, uint32_t len, uint64_t frame, ll_loop_writes *out,
                   ll_error *err)
{
    uint8_t before[LL_LOOP_WATCH_MAX];
    memcpy(before, at, len);
    for (uint64_t f = 0; f <= frame; f++) {
        if (loop_frame_one(loop, err) != 0) return -1;
        if (memcmp(before, at, len) == 0) continue;
        out->found = 1;
        out->frame = f;
        memcpy(out->start, before, len);
        memcpy(out->end, at, len);
        memcpy(before, at, len);
    }
    return 0;
}

/* A plain pass finds the frame, a seek goes back to it, and it runs again
 * under the watch. */
static int find_then_watch(ll_loop *loop, int slot, uint8_t *at, uint32_t len, uint64_t frame,
                           ll_loop_writes *out, ll_error *err)
{
    if (ll_loop_play(loop, slot, err) != 0 || play_to(loop, at, len, frame, out, err) != 0)
        return -1;
    if (!out->found) return 0;
    /* The first pass left keyframes: at most keyframe_frames - 1 frames. */
    if (ll_loop_timeline_seek(loop, slot, out->frame, err) != 0) return -1;
    if (watch_arm(&w, (uint64_t)(uintptr_t)at, len, err) != 0) return -1;
    int rc = loop_frame_one(loop, err);
    watch_disarm(&w);
    if (rc == 0) take_log(&w, len, out);
    return rc;
}

int ll_loop_writes_find(ll_loop *loop, int slot, uint64_t offset, uint32_t len, uint64_t frame,
                        ll_loop_writes *out, ll_error *err)
{
    memset(out, 0, sizeof *out);
    out->how = "none";
    if (check_question(loop, slot, offset, len, frame, err) != 0) return -1;
    uint8_t *at = loop_block_of(loop)->base + offset;
    int rc = find_then_watch(loop, slot, at, len, frame, out, err);
    ll_loop_stop(loop);
    return rc;
}
