/* compare.c - what each reload did across the recordings: the current
 * slot's and every slotN.llrec of the slot directory re-simulated with the
 * previous build and the new one in the background (ll_resim), the result
 * on the overlay, and a key to jump to the first changed frame. */
#include "host/host.h"
#include "base/base.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void resim_free(ll_resim **r)
{
    ll_resim_destroy(*r);
    *r = NULL;
}

/* Starts one comparison in place of *slot_r, reusing its hashes when it
 * compared the same recording up to the build that is now the old one. */
static void start_one(ll_resim **r, ll_loop *loop, int slot, const char *path, uint64_t old,
                      char *error, size_t cap)
{
    ll_error err;
    ll_resim *next =
        ll_resim_start(loop, &err, .slot = slot, .path = path, .old_version = old, .reuse = *r);
    resim_free(r);
    *r = next;
    if (!next && !error[0]) snprintf(error, cap, "%s", err.msg);
}

void host_compare_reload(host_compare *c, ll_loop *loop, int slot, const char *slot_dir,
                         uint64_t old_version, uint64_t new_version, char *error, size_t cap)
{
    error[0] = 0;
    c->old_version = old_version;
    c->version = new_version;
    ll_resim_view_destroy(c->view);
    c->view = NULL;
    c->slot = slot;
    if (ll_loop_slot_frames_get(loop, slot))
        start_one(&c->cur, loop, slot, NULL, old_version, error, cap);
    else
        resim_free(&c->cur);
    c->files_reported = 0;
    memset(c->failed_seen, 0, sizeof c->failed_seen);
    memset(c->marked, 0xff, sizeof c->marked);
    for (int s = 1; s < HOST_COMPARE_SLOTS; s++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/slot%d.llrec", slot_dir ? slot_dir : "", s);
        if (slot_dir && access(path, R_OK) == 0)
            start_one(&c->files[s], loop, -1, path, old_version, error, cap);
        else
            resim_free(&c->files[s]);
    }
}

/* "changed from frame 210", "no frame changed", "re-simulating 40/300". */
static void describe(const ll_resim *r, char *buf, size_t cap)
{
    ll_resim_status s;
    ll_resim_status_get(r, &s);
    if (s.failed)
        snprintf(buf, cap, "re-simulation failed");
    else if (s.first_changed >= 0)
        snprintf(buf, cap, "changed from frame %llu",
                 (unsigned long long)s.start_frame + (unsigned long long)s.first_changed);
    else if (s.done)
        snprintf(buf, cap, "no frame changed");
    else
        snprintf(buf, cap, "re-simulating %llu/%llu", (unsigned long long)s.compared,
                 (unsigned long long)s.frames);
}

/* The slot files' results in one line, once all are over. */
static int files_note(host_compare *c, char *note, size_t cap)
{
    size_t used = 0;
    int any = 0;
    for (int s = 1; s < HOST_COMPARE_SLOTS; s++) {
        if (!c->files[s]) continue;
        ll_resim_status st;
        ll_resim_status_get(c->files[s], &st);
        if (!st.done) return 0;
        char what[64];
        describe(c->files[s], what, sizeof what);
        int n = snprintf(note + used, cap - used, "%sslot %d: %s", any ? "; " : "", s, what);
        if (n > 0 && (size_t)n < cap - used) used += (size_t)n;
        any = 1;
    }
    return any;
}

/* The build a comparison started with was rolled back or replaced: what
 * it finds no longer describes the code in use (and the foreground has
 * named a fault of that build already). */
static void drop_stale(host_compare *c, uint64_t version)
{
    if (!c->version || c->version == version) return;
    resim_free(&c->cur);
    for (int s = 0; s < HOST_COMPARE_SLOTS; s++) resim_free(&c->files[s]);
    ll_resim_view_destroy(c->view);
    c->view = NULL;
    c->version = c->old_version = 0;
}

int host_compare_poll(host_compare *c, uint64_t version, char *note, size_t note_cap, char *error,
                      size_t error_cap)
{
    int out = 0;
    note[0] = error[0] = 0;
    drop_stale(c, version);
    for (int s = 0; s < HOST_COMPARE_SLOTS; s++) {
        ll_resim *r = s ? c->files[s] : c->cur;
        if (!r || !ll_resim_poll(r)) continue;
        ll_resim_status st;
        ll_resim_status_get(r, &st);
        /* A failure is an error once: the frames after it go on. */
        int *seen = &c->failed_seen[s];
        if (st.failed && !*seen && !error[0]) {
            snprintf(error, error_cap, "%s", st.error);
            out |= HOST_COMPARE_ERROR;
        }
        *seen = 1;
    }
    if (!c->files_reported && files_note(c, note, note_cap)) {
        c->files_reported = 1;
        out |= HOST_COMPARE_NOTE;
    }
    return out;
}

void host_compare_overlay(const host_compare *c, int slot, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!c->cur || c->slot != slot) return;
    char what[64];
    describe(c->cur, what, sizeof what);
    snprintf(buf, cap, " | %s", what);
}

int host_compare_changed_get(const host_compare *c, int slot, uint64_t *pos, ll_error *err)
{
    if (!c->cur || c->slot != slot)
        return ll_fail(err, ENOENT,
                       "no changed frame to jump to: slot %d was not re-simulated (try: change "
                       "the code and save while the slot holds a recording)",
                       slot);
    ll_resim_status s;
    ll_resim_status_get(c->cur, &s);
    if (s.first_changed < 0)
        return ll_fail(err, ENOENT, "no changed frame to jump to: %s in slot %d",
                       s.failed ? "the re-simulation failed before one"
                       : s.done ? "no frame changed"
                                : "none found yet",
                       slot);
    *pos = (uint64_t)s.first_changed;
    return 0;
}

/* The bar's marks of the current slot (every 15 frames while the
 * comparison runs, and when it ends), and of a slot file's slot when memory
 * holds no recording there (Alt+digit loads that file). */
void host_compare_marks(host_compare *c, ll_host *h, ll_loop *loop)
{
    c->marks_tick++;
    for (int s = 0; s < HOST_COMPARE_SLOTS; s++) {
        const ll_resim *r = s ? c->files[s] : c->cur;
        if (!r || (s && ll_loop_slot_frames_get(loop, s))) continue;
        ll_resim_status st;
        ll_resim_status_get(r, &st);
        if (st.compared == c->marked[s] || (!st.done && c->marks_tick % 15)) continue;
        c->marked[s] = st.compared;
        uint64_t first = st.first_changed < 0 ? UINT64_MAX : (uint64_t)st.first_changed;
        host_bar_marks_set(h, s ? s : c->slot, ll_resim_marks_get(r), st.frames, first);
    }
}

/* ---- side by side ------------------------------------------------------------ */

int host_compare_toggle(host_compare *c, ll_loop *loop, int slot, const ll_canvas *canvas,
                        ll_error *err)
{
    ll_loop_status st = ll_loop_status_get(loop);
    if (st.mode != LL_LOOP_PLAYING || st.play_pos == 0)
        return ll_fail(err, EINVAL,
                       "nothing to compare: the builds are compared at a frame of a looping "
                       "slot (try: alt+l to record, alt+l to loop, then alt+o)");
    if (!c->old_version)
        return ll_fail(err, ENOENT,
                       "no previous build to compare with (try: change the code and save)");
    if (c->view && c->view_slot == slot && c->view_pos == st.play_pos) {
        c->view_which = !c->view_which;
        return 0;
    }
    ll_resim_view_destroy(c->view);
    c->view = ll_resim_view_start(loop, err, .slot = slot, .old_version = c->old_version,
                                  .frames = st.play_pos, .canvas = canvas);
    if (!c->view) return -1;
    ll_loop_pause(loop, 1);
    c->view_slot = slot;
    c->view_pos = st.play_pos;
    c->view_which = 0;
    return 0;
}

/* Each range as ARENA+OFFSET:LENGTH, the offset from the arena's start
 * (what `offsetof` gives in the struct there, and the form `looplive
 * replay` takes for an arena's bytes); bytes no arena holds as
 * block+OFFSET:LENGTH, after what they are ("unallocated block+0x2040:1"):
 * "counters+0x10:8, unallocated block+0x2040:1 (2 ranges, 9 bytes)". */
static void diffs_text(const ll_resim_view_status *s, const ll_block *block, char *buf, size_t cap)
{
    if (!s->diff_count) {
        snprintf(buf, cap, "no byte of the block differs");
        return;
    }
    size_t used = (size_t)snprintf(buf, cap, "differs in");
    for (uint64_t i = 0; i < s->diff_count && i < 3; i++) {
        const ll_range *r = &s->diffs[i];
        /* A block without an arena table: its bytes are no arena's. */
        const char *owner = ll_block_arena_get(block, 0) ? ll_block_owner_get(block, r->start) : "";
        const ll_arena *a = owner[0] ? ll_block_arena_find(block, owner) : NULL;
        uint64_t from = a ? r->start - (uint64_t)(a->begin - block->base) : r->start;
        int n = snprintf(buf + used, cap - used, "%s %s%s%s+0x%llx:%llu", i ? "," : "",
                         a ? "" : owner, a || !owner[0] ? "" : " ", a ? owner : "block",
                         (unsigned long long)from, (unsigned long long)(r->end - r->start));
        if (n < 0 || (size_t)n >= cap - used) return;
        used += (size_t)n;
    }
    snprintf(buf + used, cap - used, " (%llu range%s, %llu byte%s)",
             (unsigned long long)s->diff_count, s->diff_count == 1 ? "" : "s",
             (unsigned long long)s->diff_bytes, s->diff_bytes == 1 ? "" : "s");
}

static void canvas_copy(ll_canvas *to, const ll_canvas *from)
{
    size_t n = (size_t)to->width * (size_t)to->height;
    if (to->pixels && from->pixels) memcpy(to->pixels, from->pixels, n * sizeof *to->pixels);
    if (to->cells && from->cells) memcpy(to->cells, from->cells, n);
    if (to->colors && from->colors) memcpy(to->colors, from->colors, n);
    if (to->backgrounds && from->backgrounds) memcpy(to->backgrounds, from->backgrounds, n);
    if (to->attrs && from->attrs) memcpy(to->attrs, from->attrs, n);
    if (to->codepoints && from->codepoints)
        memcpy(to->codepoints, from->codepoints, n * sizeof *to->codepoints);
}

int host_compare_view_poll(host_compare *c, ll_loop *loop, int slot, const ll_block *block,
                           ll_canvas *canvas, char *error, size_t cap)
{
    error[0] = 0;
    if (!c->view) return 0;
    ll_loop_status st = ll_loop_status_get(loop);
    if (st.mode != LL_LOOP_PLAYING || slot != c->view_slot || st.play_pos != c->view_pos) {
        ll_resim_view_destroy(c->view); /* the loop moved on: back to its own picture */
        c->view = NULL;
        return 0;
    }
    ll_resim_view_poll(c->view);
    ll_resim_view_status s;
    ll_resim_view_status_get(c->view, &s);
    if (s.failed) {
        snprintf(error, cap, "%s", s.error);
        ll_resim_view_destroy(c->view);
        c->view = NULL;
        return HOST_COMPARE_ERROR;
    }
    if (!s.done) {
        snprintf(c->view_line, sizeof c->view_line,
                 "comparing version %llu and version %llu at frame %llu ...",
                 (unsigned long long)s.old_version, (unsigned long long)s.new_version,
                 (unsigned long long)s.frame);
        return 0;
    }
    canvas_copy(canvas, ll_resim_view_canvas_get(c->view, c->view_which));
    char diffs[600];
    diffs_text(&s, block, diffs, sizeof diffs);
    snprintf(c->view_line, sizeof c->view_line, "%s build (version %llu) at frame %llu: %s",
             c->view_which ? "current" : "previous",
             (unsigned long long)(c->view_which ? s.new_version : s.old_version),
             (unsigned long long)s.frame, diffs);
    return 0;
}

const char *host_compare_view_line(const host_compare *c)
{
    return c->view ? c->view_line : NULL;
}

void host_compare_close(host_compare *c)
{
    ll_resim_view_destroy(c->view);
    c->view = NULL;
    resim_free(&c->cur);
    for (int s = 0; s < HOST_COMPARE_SLOTS; s++) resim_free(&c->files[s]);
}
