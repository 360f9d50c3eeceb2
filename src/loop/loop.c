/* loop.c - drive an application frame by frame: live or recorded input,
 * recording slots that loop, a rewind window, pause, step and speed.
 *
 * Snapshots carry the states; the loop keeps only inputs and page lists.
 * `cur` is always a snapshot of the state before the next frame, so that
 * the pages ll_snap_take_visit reports when it takes the next one are
 * exactly those the frame wrote: those pages, and only those, are rehashed
 * and listed in the frame's rewind entry. Every restore is followed by a
 * fresh `cur`, and the pages it changed come from the loop's own lists (a
 * slot's `dirty` set, the rewind entries), so no step walks the block. */
#include "loop/loop.h"
#include "base/base.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A word of the state in one of the library's globals is named by it. */
#define LOOP_NAME_OF(loop)                                                                         \
    .name_of = (loop)->module ? ll_module_global_name_get : NULL, .name_ctx = (loop)->module

typedef struct loop_slot {
    ll_snap *start;  /* state before the first input */
    uint8_t *inputs; /* count * input_size bytes */
    uint64_t count, cap;
    uint32_t input_size;
    uint64_t layout_version;
    uint64_t start_frame;
    double fps;       /* playback runs at the recording's dt */
    uint64_t gen;     /* changes whenever the slot is replaced */
    loop_pages dirty; /* pages that may differ from start */
    /* The timeline: keys[i] is the state before frame i * keyframe_frames
     * (i >= 1; start is the one at 0), NULL until a pass reaches it. All
     * were made by the module version key_version: another build would
     * reach other states, so a reload drops them. */
    ll_snap **keys;
    uint64_t key_cap;
    uint64_t key_version;
    int keys_off; /* this pass left the recording's path (a skipped frame) */
} loop_slot;

/* One simulated frame in the rewind window. */
typedef struct ring_entry {
    ll_snap *snap;   /* state before the frame */
    uint64_t *pages; /* pages changed from that state to the next entry's */
    uint64_t npages, cap;
    uint64_t frame, play_pos, rec_len, slot_gen;
    uint64_t layout; /* the layout version of snap's state */
    ll_loop_mode mode;
    int slot;
    int cut; /* snap was reached by a restore, not by the frame before */
} ring_entry;

struct ll_loop {
    ll_block *block;
    const ll_app *app;
    ll_module *module;
    size_t app_symbol;
    void *app_get_seen;     /* the looplive_app() app_seen came from */
    const ll_app *app_seen; /* its table: asked once per build */
    double fps;
    uint64_t layout; /* the layout version of the state in the block */
    int reinit_on_layout;
    uint64_t reinits;
    char quit[256]; /* the application's quit message after the last frame */
    int quit_asked;

    loop_hash hash;
    ll_snap *cur;
    loop_pages pending; /* pages changed since the newest rewind entry */
    int pending_cut;

    uint64_t frame;
    ll_loop_mode mode;
    int slot;
    uint64_t play_pos, loops;
    int paused, step;
    int fault_paused;       /* paused by a fault the same code would repeat */
    uint64_t fault_version; /* the module version that faulted */
    int pass;               /* the run of a frame a determinism check is in (frame_call) */
    double speed, acc;
    loop_slot slots[LL_LOOP_SLOTS];
    uint64_t next_gen;

    ring_entry *ring; /* ring_cap entries; ring_count from ring_head on */
    uint64_t ring_cap, ring_head, ring_count;
    uint8_t *ring_inputs;
    uint32_t ring_input_size;

    uint8_t *input; /* this frame's input */
    uint32_t input_cap;

    uint64_t *last; /* pages the last frame changed (with what came before it) */
    uint64_t last_count, last_cap;

    uint64_t keyframe_frames; /* a timeline keyframe every this many frames */
    uint64_t app_sets;        /* ll_loop_app_set calls: code changes without a module */
};

/* A pause a fault made ends when the user moves the loop elsewhere (stop,
 * play, record, rewind, load): the frame it stopped at is no longer next. */
static void end_fault_pause(ll_loop *loop)
{
    if (loop->fault_paused) loop->paused = loop->fault_paused = 0;
}

/* ---- page bookkeeping ---------------------------------------------------- */

/* A page changed: rehash it and note it wherever a later restore needs it. */
static void page_changed(ll_loop *loop, uint64_t index)
{
    loop_hash_page(&loop->hash, loop->block, index);
    loop_pages_add(&loop->pending, index);
    for (int s = 0; s < LL_LOOP_SLOTS; s++)
        if (loop->slots[s].start) loop_pages_add(&loop->slots[s].dirty, index);
}

static void changed_visit(uint64_t offset, void *ctx)
{
    ll_loop *loop = ctx;
    page_changed(loop, offset / loop->hash.page_size);
}

/* Picks up the pages written since cur. */
static int absorb(ll_loop *loop, ll_error *err)
{
    return ll_snap_changed_visit(loop->block, changed_visit, loop, err);
}

/* After a restore: the block equals a snapshot, so cur is retaken from it. */
static int retake(ll_loop *loop, ll_error *err)
{
    ll_snap_drop(loop->block, loop->cur);
    loop->cur = ll_snap_take(loop->block, err);
    return loop->cur ? 0 : -1;
}

/* A whole-block change (a load): every page may differ from every kept
 * state. */
static int block_changed(ll_loop *loop, ll_error *err)
{
    if (loop_hash_all(&loop->hash, loop->block, err) != 0) return -1;
    for (int s = 0; s < LL_LOOP_SLOTS; s++) loop->slots[s].dirty.all = 1;
    return 0;
}

/* ---- the rewind window --------------------------------------------------- */

static ring_entry *ring_at(ll_loop *loop, uint64_t i)
{
    return &loop->ring[(loop->ring_head + i) % loop->ring_cap];
}

static uint8_t *ring_input(ll_loop *loop, const ring_entry *e)
{
    return loop->ring_inputs + (uint64_t)(e - loop->ring) * loop->ring_input_size;
}

static void ring_clear(ll_loop *loop)
{
    for (uint64_t i = 0; i < loop->ring_count; i++) {
        ring_entry *e = ring_at(loop, i);
        ll_snap_drop(loop->block, e->snap);
        e->snap = NULL;
    }
    loop->ring_count = 0;
    loop->ring_head = 0;
    loop->pending_cut = 1;
}

static int ring_resize_inputs(ll_loop *loop, uint32_t input_size, ll_error *err)
{
    if (loop->ring_input_size == input_size || !loop->ring_cap) return 0;
    ring_clear(loop);
    uint8_t *inputs = realloc(loop->ring_inputs, loop->ring_cap * input_size);
    if (!inputs) return loop_fail(err, ENOMEM, "out of memory for the rewind window");
    loop->ring_inputs = inputs;
    loop->ring_input_size = input_size;
    return 0;
}

static int entry_set_pages(ring_entry *e, const loop_pages *set)
{
    if (set->count > e->cap) {
        uint64_t *p = realloc(e->pages, set->count * sizeof *p);
        if (!p) return -1;
        e->pages = p;
        e->cap = set->count;
    }
    if (set->count) /* a frame that wrote nothing has no list at all */
        memcpy(e->pages, set->list, set->count * sizeof *e->pages);
    e->npages = set->count;
    return 0;
}

/* Files the frame just run: its state before (cur), its input, its pages.
 * Out of memory: the window is cleared and -1 returned for the caller to say. */
static int ring_push(ll_loop *loop, const void *input, uint64_t frame, uint64_t play_pos,
                     uint64_t rec_len, uint64_t layout)
{
    if (loop->ring_count == loop->ring_cap) {
        ring_entry *old = ring_at(loop, 0);
        ll_snap_drop(loop->block, old->snap);
        old->snap = NULL;
        loop->ring_head = (loop->ring_head + 1) % loop->ring_cap;
        loop->ring_count--;
    }
    ring_entry *e = ring_at(loop, loop->ring_count);
    if (entry_set_pages(e, &loop->pending) != 0) {
        ring_clear(loop); /* cannot remember what changed: forget the window */
        ll_snap_drop(loop->block, loop->cur);
        return -1;
    }
    e->snap = loop->cur;
    e->frame = frame;
    e->play_pos = play_pos;
    e->rec_len = rec_len;
    e->layout = layout;
    e->mode = loop->mode;
    e->slot = loop->slot;
    e->slot_gen = loop->slot >= 0 ? loop->slots[loop->slot].gen : 0;
    e->cut = loop->pending_cut;
    memcpy(ring_input(loop, e), input, loop->ring_input_size);
    loop->ring_count++;
    return 0;
}

/* ---- the timeline's keyframes ------------------------------------------------
 *
 * A slot playing or recording keeps a snapshot of its state every
 * keyframe_frames frames. Snapshots hold page deltas (what differs from
 * the next one), so a keyframe costs the pages written between two of
 * them, and any frame is reached by restoring the keyframe at or before
 * it and running at most keyframe_frames - 1 frames. */

/* Which code makes the frames: the module's version, or the tables given. */
static uint64_t module_version(const ll_loop *loop)
{
    return (loop->module ? ll_module_version_get(loop->module) : 0) + (loop->app_sets << 32);
}

/* Drops the keyframes after position pos (those at pos and before stay). */
static void keys_cut(ll_loop *loop, loop_slot *s, uint64_t pos)
{
    for (uint64_t i = pos / loop->keyframe_frames + 1; i < s->key_cap; i++) {
        ll_snap_drop(loop->block, s->keys[i]);
        s->keys[i] = NULL;
    }
}

/* Keyframes of another build than the one in use are dropped. */
static void keys_check_version(ll_loop *loop, loop_slot *s)
{
    uint64_t v = module_version(loop);
    if (s->key_version == v) return;
    keys_cut(loop, s, 0);
    s->key_version = v;
}

/* Before frame pos of the slot runs: keeps a keyframe there if one is due
 * and missing. Out of memory only means no keyframe. */
static int key_take(ll_loop *loop, loop_slot *s, uint64_t pos, ll_error *err)
{
    uint64_t i = pos / loop->keyframe_frames;
    if (pos % loop->keyframe_frames || i == 0 || s->keys_off || loop->pass) return 0;
    keys_check_version(loop, s);
    if (i < s->key_cap && s->keys[i]) return 0;
    if (i >= s->key_cap) {
        uint64_t cap = s->key_cap ? s->key_cap * 2 : 64;
        while (cap <= i) cap *= 2;
        ll_snap **keys = realloc(s->keys, cap * sizeof(ll_snap *));
        if (!keys) return 0;
        memset(keys + s->key_cap, 0, (cap - s->key_cap) * sizeof(ll_snap *));
        s->keys = keys;
        s->key_cap = cap;
    }
    /* Pages written since cur are picked up in the same walk; cur must
     * stay the newest snapshot. */
    s->keys[i] = ll_snap_take_visit(loop->block, changed_visit, loop, err);
    if (!s->keys[i]) return -1;
    return retake(loop, err);
}

/* ---- the application ------------------------------------------------------ */

typedef struct get_call {
    ll_app_get *get;
    const ll_app *app;
} get_call;

static void get_thunk(void *ctx)
{
    get_call *c = ctx;
    c->app = c->get();
}

static const ll_app *current_app(ll_loop *loop, ll_error *err)
{
    const ll_app *app = loop->app;
    if (loop->module) {
        /* looplive_app() is the first call into a new build: protected too,
         * rolling back to cur like a frame (nothing is written in between).
         * Once per build: each build's entry point has its own address. */
        void *get = ll_module_symbol_get(loop->module, loop->app_symbol);
        if (get != loop->app_get_seen || !loop->app_seen) {
            get_call c = {(ll_app_get *)get, NULL};
            if (c.get && ll_module_protect(loop->module, get_thunk, &c, err, .snap = loop->cur,
                                           .lookup = 1) != 0)
                return NULL;
            loop->app_get_seen = get;
            loop->app_seen = c.app;
        }
        app = loop->app_seen;
    }
    if (!app)
        return ll_fail(err, EINVAL, "the application library returned no looplive_app table"), NULL;
    if (app->api_version < 1 || app->api_version > LL_APP_API_VERSION || !app->update ||
        app->input_size == 0 || app->input_size > 65536)
        return ll_fail(err, EINVAL,
                       "application %s: api version %u, input size %u, update %s; this loop "
                       "takes api version 1..%u, 1..65536 bytes of input and an update function",
                       app->name ? app->name : "?", app->api_version, app->input_size,
                       app->update ? "set" : "missing", LL_APP_API_VERSION),
               NULL;
    return app;
}

/* The block as the application sees it: without the room that keeps its
 * library's globals. */
static ll_block *app_block(ll_loop *loop)
{
    return loop->module ? ll_module_app_block_get(loop->module) : loop->block;
}

/* The optional migrate entry: tables of API version 1 end before it. */
static ll_app_migrate *app_migrate(const ll_app *app)
{
    return app->api_version >= 2 ? app->migrate : NULL;
}

/* A slot of another layout plays on when the build can migrate its start. */
static int layout_fits(const ll_app *app, uint64_t layout)
{
    return layout == app->layout_version || app_migrate(app);
}

/* A reload may change the input struct or the layout under a slot. */
static int check_slot_fits(ll_loop *loop, const ll_app *app, ll_error *err)
{
    if (loop->mode == LL_LOOP_LIVE) return 0;
    const loop_slot *s = &loop->slots[loop->slot];
    if (s->input_size == app->input_size && layout_fits(app, s->layout_version)) return 0;
    int slot = loop->slot;
    loop->mode = LL_LOOP_LIVE;
    loop->slot = -1;
    return loop_fail(err, EINVAL,
                     "slot %d was recorded with %u-byte inputs and layout version %llu, the "
                     "application now has %u-byte inputs and layout version %llu: back to live "
                     "input (try: record again)",
                     slot, s->input_size, (unsigned long long)s->layout_version, app->input_size,
                     (unsigned long long)app->layout_version);
}

typedef struct frame_call {
    const ll_app *app;
    ll_block *block;
    const ll_platform_input *live; /* translate this first unless NULL */
    uint8_t *input;
    uint64_t frame;
    double dt;
    int pass;    /* a determinism check's run of the frame: 1 or 2; 0: none */
    int migrate; /* 1: migrate the state from layout `from` first */
    uint64_t from;
    int migrate_refused; /* migrate returned non-zero: no update ran */
    char *quit;          /* the application's quit message, copied here */
    int quit_asked;
} frame_call;

static void translate(const ll_app *app, const ll_platform_input *live, uint8_t *input)
{
    static const ll_platform_input none;
    if (!live) live = &none;
    memset(input, 0, app->input_size);
    if (app->translate) {
        app->translate(live, input);
        return;
    }
    size_t n = app->input_size < sizeof *live ? app->input_size : sizeof *live;
    memcpy(input, live, n);
}

/* A determinism check runs each frame twice, and the second run sees
 * another stack: the application's calls start STACK_SHIFT bytes deeper,
 * and the STACK_SCRIBBLE bytes below them hold another byte. A frame that
 * reads uninitialised stack or keeps a stack address in the block then
 * differs between the runs. */
#define STACK_SCRIBBLE (64 * 1024)
#define STACK_SHIFT    1104

/* Through a volatile pointer: a store to a dead local is no dead store. */
static void *(*volatile stack_fill)(void *, int, size_t) = memset;

__attribute__((noinline)) static void scribble_stack(int byte)
{
    unsigned char below[STACK_SCRIBBLE];
    stack_fill(below, byte, sizeof below);
}

static void frame_thunk(void *ctx)
{
    frame_call *c = ctx;
    /* In scope until update returns: the calls below start under it. */
    volatile unsigned char deeper[c->pass == 2 ? STACK_SHIFT : 1];
    deeper[0] = 0;
    (void)deeper[0];
    if (c->pass) scribble_stack(c->pass == 2 ? 0xa5 : 0x5a);
    if (c->migrate && app_migrate(c->app)(c->block, c->from) != 0) {
        c->migrate_refused = 1;
        return;
    }
    if (c->live) translate(c->app, c->live, c->input);
    c->app->update(c->block, c->input, c->frame, c->dt);
    /* Asked within the protected call: quit is application code too. */
    const char *quit = c->app->api_version >= 3 && c->app->quit ? c->app->quit(c->block) : NULL;
    if (quit) snprintf(c->quit, 256, "%s", quit), c->quit_asked = 1;
}

/* A frame faulted: when the address came from a word of the state (a
 * pointer into another process's heap, loaded with its state), say so. */
static void name_fault_pointer(ll_loop *loop, ll_error *err)
{
    ll_module_info *info = malloc(sizeof *info);
    ll_error why;
    if (!info) return;
    ll_module_info_get(loop->module, info);
    int sig = info->fault.signal;
    uint64_t addr = info->fault.addr;
    free(info);
    if ((sig != SIGSEGV && sig != SIGBUS) || err->code != EFAULT ||
        ll_block_pointers_check(loop->block, &why, .fault_addr = addr, LOOP_NAME_OF(loop)) == 0)
        return;
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, "; %s", why.msg);
}

int ll_app_call_run(ll_module *module, const ll_app_call *call, void (*fn)(void *ctx), void *ctx,
                    ll_snap *snap, ll_error *err)
{
    /* Set outside the protection: a fault leaves fn by a jump, and the
     * call must still end. */
    ll_app_call prev = ll_app_call_set(call);
    int rc = 0;
    if (module)
        rc = ll_module_protect(module, fn, ctx, err, .snap = snap);
    else
        fn(ctx);
    /* A fault after malloc returned NULL (a full heap, a heap whose arena
     * table the application overwrote) is that failure's consequence. */
    const ll_error *compat = rc != 0 ? ll_compat_error_get() : NULL;
    if (compat) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, "; before it in this call: %s", compat->msg);
    }
    ll_app_call_set(&prev);
    return rc;
}

static int call_app(ll_loop *loop, frame_call *call, ll_error *err)
{
    ll_app_call app_call = {call->block, call->frame, call->dt, 0, NULL};
    /* cur is the state the frame starts from: the loop writes nothing to
     * the block between taking it and this call, so a fault rolls back to it
     * and the module takes no snapshot of its own. That keeps the frame at
     * one page table walk (the take after the call), and keeps cur the
     * newest snapshot, so that walk also sees what the host or a reload's
     * re-pointing wrote between frames. A fault undoes those writes too:
     * the block goes back to where the previous frame left it. */
    return ll_app_call_run(loop->module, &app_call, frame_thunk, call, loop->cur, err);
}

/* ---- one simulated frame ------------------------------------------------- */

static int restore_slot_start(ll_loop *loop, loop_slot *s, ll_error *err)
{
    if (absorb(loop, err) != 0) return -1;
    if (ll_snap_restore(loop->block, s->start, err) != 0) return -1;
    if (s->dirty.all) {
        if (block_changed(loop, err) != 0) return -1;
        ring_clear(loop);
    } else {
        /* page_changed adds to s->dirty too, but only pages already in it. */
        uint64_t n = s->dirty.count;
        for (uint64_t i = 0; i < n; i++) page_changed(loop, s->dirty.list[i]);
    }
    loop_pages_clear(&s->dirty);
    s->keys_off = 0;
    loop->pending_cut = 1;
    loop->play_pos = 0;
    loop->frame = s->start_frame;
    loop->layout = s->layout_version;
    return retake(loop, err);
}

static int ensure_input(ll_loop *loop, uint32_t size, ll_error *err)
{
    if (size <= loop->input_cap) return 0;
    uint8_t *p = realloc(loop->input, size);
    if (!p) return loop_fail(err, ENOMEM, "out of memory for a %u-byte input", size);
    loop->input = p;
    loop->input_cap = size;
    return 0;
}

static int keep_last(ll_loop *loop)
{
    if (loop->pending.count > loop->last_cap) {
        uint64_t *p = realloc(loop->last, loop->pending.count * sizeof *p);
        if (!p) return -1;
        loop->last = p;
        loop->last_cap = loop->pending.count;
    }
    if (loop->pending.count) /* a frame that wrote nothing has no list at all */
        memcpy(loop->last, loop->pending.list, loop->pending.count * sizeof *loop->last);
    loop->last_count = loop->pending.count;
    return 0;
}

static int refuse_layout(const ll_loop *loop, const ll_app *app, ll_error *err)
{
    return loop_fail(err, EINVAL,
                     "refusing to run %s with state layout version %llu on a state of layout "
                     "version %llu: the state structs changed (try: give its ll_app a migrate "
                     "function, start the state over (ll_loop_reinit; the host's re-init key "
                     "or --reinit), or build layout %llu again)",
                     app->name ? app->name : "the application",
                     (unsigned long long)app->layout_version, (unsigned long long)loop->layout,
                     (unsigned long long)loop->layout);
}

/* The state is of another layout than the build: migrate it within the
 * frame (*migrate = 1), start it over, or refuse. */
static int check_layout(ll_loop *loop, const ll_app *app, int *migrate, ll_error *err)
{
    *migrate = 0;
    /* The library's globals follow the same rules: one whose size changed
     * is refused unless the layout version changed and the build migrates. */
    if (loop->module &&
        ll_module_globals_check(
            loop->module, app->layout_version != loop->layout && app_migrate(app), err) != 0) {
        if (!loop->reinit_on_layout || !app->init) return -1;
        loop->reinits++;
        return ll_loop_reinit(loop, err);
    }
    if (app->layout_version == loop->layout) return 0;
    if (app_migrate(app)) {
        *migrate = 1;
        return 0;
    }
    if (loop->reinit_on_layout && app->init) {
        loop->reinits++;
        return ll_loop_reinit(loop, err);
    }
    return refuse_layout(loop, app, err);
}

/* migrate returned non-zero: the block goes back to the frame's start. */
static int migrate_refused(ll_loop *loop, const ll_app *app, uint64_t from, ll_error *err)
{
    ll_error why;
    if (ll_snap_restore(loop->block, loop->cur, &why) != 0 || absorb(loop, &why) != 0)
        return loop_fail(err, EIO, "migrate refused, and the state could not be put back: %s",
                         why.msg);
    return loop_fail(err, EINVAL,
                     "%s's migrate refused to convert the state from layout version %llu to "
                     "%llu: the state is unchanged (try: fix migrate, or start the state over "
                     "with the host's re-init key or --reinit)",
                     app->name ? app->name : "the application", (unsigned long long)from,
                     (unsigned long long)app->layout_version);
}

static int run_one(ll_loop *loop, const ll_platform_input *live, ll_error *err)
{
    ll_error local;
    if (!err) err = &local;
    const ll_app *app = current_app(loop, err);
    if (!app || check_slot_fits(loop, app, err) != 0) return -1;
    if (ensure_input(loop, app->input_size, err) || ring_resize_inputs(loop, app->input_size, err))
        return -1;
    loop_slot *s = loop->mode != LL_LOOP_LIVE ? &loop->slots[loop->slot] : NULL;
    if (loop->mode == LL_LOOP_PLAYING && loop->play_pos >= s->count) {
        if (restore_slot_start(loop, s, err) != 0) return -1;
        loop->loops++;
    }
    /* After the wrap: the slot's start may be of an older layout. */
    int migrate;
    if (check_layout(loop, app, &migrate, err) != 0) return -1;
    uint64_t layout_before = loop->layout;
    s = loop->mode != LL_LOOP_LIVE ? &loop->slots[loop->slot] : NULL; /* a re-init stops */
    double fps = loop->mode == LL_LOOP_PLAYING ? s->fps : loop->fps;
    char quit[256] = "";
    frame_call call = {
        app,        app_block(loop), live,         loop->input, loop->frame, 1.0 / fps,
        loop->pass, migrate,         loop->layout, 0,           quit,        0};
    if (loop->mode == LL_LOOP_PLAYING) {
        memcpy(loop->input, s->inputs + loop->play_pos * s->input_size, s->input_size);
        call.live = NULL;
    } else if (!live) {
        static const ll_platform_input none;
        call.live = &none;
    }
    if (s && !migrate &&
        key_take(loop, s, loop->mode == LL_LOOP_PLAYING ? loop->play_pos : s->count, err) != 0)
        return -1;
    uint64_t version = loop->module ? ll_module_version_get(loop->module) : 0;
    if (call_app(loop, &call, err) != 0) {
        /* A process that cannot trust its C library does nothing more. */
        if (err->code == ENOTRECOVERABLE) return -1;
        name_fault_pointer(loop, err);
        /* The module put the block back to cur (the newest snapshot): the
         * hash already describes it and nothing is written since. Should
         * the restore have failed, pick up whatever is left. */
        absorb(loop, NULL);
        /* A slot playing, and no earlier version took over: the same code
         * would fault at the same frame of every pass, with the same input.
         * Stop there until a new build loads or the frame is skipped. (Live
         * input changes from frame to frame: the next one tries again.) */
        if (loop->mode == LL_LOOP_PLAYING && ll_module_version_get(loop->module) == version) {
            loop->paused = loop->fault_paused = 1;
            loop->step = 0;
            loop->fault_version = version;
        }
        return -1;
    }
    if (call.migrate_refused) return migrate_refused(loop, app, layout_before, err);
    loop->layout = app->layout_version;
    memcpy(loop->quit, quit, sizeof quit);
    loop->quit_asked = call.quit_asked;
    /* The pages the frame wrote, and the state after it, in one walk. */
    ll_snap *next = ll_snap_take_visit(loop->block, changed_visit, loop, err);
    if (!next) return -1;
    int last_lost = keep_last(loop) != 0, no_memory = 0, window_lost = 0;
    uint64_t rec_len = s ? s->count : 0;
    if (loop->mode == LL_LOOP_RECORDING && s &&
        loop_inputs_append(&s->inputs, &s->count, &s->cap, loop->input, app->input_size) != 0)
        no_memory = 1;
    if (loop->ring_cap) {
        window_lost =
            ring_push(loop, loop->input, loop->frame, loop->play_pos, rec_len, layout_before) != 0;
    } else {
        ll_snap_drop(loop->block, loop->cur);
    }
    loop->cur = next;
    loop_pages_clear(&loop->pending);
    loop->pending_cut = 0;
    loop->frame++;
    if (loop->mode == LL_LOOP_PLAYING) loop->play_pos++;
    if (no_memory) {
        if (loop->mode == LL_LOOP_RECORDING) ll_loop_stop(loop);
        return loop_fail(err, ENOMEM, "out of memory after frame %llu: recording stopped",
                         (unsigned long long)(loop->frame - 1));
    }
    if (last_lost)
        return loop_fail(err, ENOMEM,
                         "out of memory after frame %llu: its page list for the determinism "
                         "check was not kept (try: a smaller block or fewer pages written per "
                         "frame)",
                         (unsigned long long)(loop->frame - 1));
    if (window_lost)
        return loop_fail(err, ENOMEM,
                         "out of memory after frame %llu: the rewind window was cleared (try: a "
                         "shorter .rewind_seconds)",
                         (unsigned long long)(loop->frame - 1));
    return 0;
}

int loop_frame_one(ll_loop *loop, ll_error *err)
{
    return run_one(loop, NULL, err);
}

ll_block *loop_block_of(const ll_loop *loop)
{
    return loop->block;
}

/* A new build resumes a loop that a fault paused. */
static void resume_on_new_build(ll_loop *loop)
{
    if (!loop->fault_paused || ll_module_version_get(loop->module) == loop->fault_version) return;
    loop->paused = loop->fault_paused = 0;
    loop->acc = 0;
}

int ll_loop_frame_run(ll_loop *loop, const ll_platform_input *live, ll_error *err)
{
    int n;
    resume_on_new_build(loop);
    if (loop->paused) {
        n = loop->step;
        loop->step = 0;
    } else {
        loop->acc += loop->speed;
        n = (int)loop->acc;
        loop->acc -= n;
    }
    for (int i = 0; i < n; i++) {
        /* A key press belongs to the first of several frames only. */
        ll_platform_input later;
        const ll_platform_input *in = live;
        if (i > 0 && live) {
            later = *live;
            memset(later.pressed, 0, sizeof later.pressed);
            in = &later;
        }
        if (run_one(loop, in, err) != 0) {
            loop->acc = 0;
            return -1;
        }
    }
    return n;
}

/* ---- create, destroy ------------------------------------------------------ */

static int create_ring(ll_loop *loop, const ll_loop_params *p, ll_error *err)
{
    double seconds = p->rewind_seconds == 0 ? 2.0 : p->rewind_seconds;
    if (seconds < 0) return 0;
    uint64_t cap = (uint64_t)llround(seconds * loop->fps);
    if (cap == 0) return 0;
    loop->ring = calloc(cap, sizeof *loop->ring);
    if (!loop->ring) return loop_fail(err, ENOMEM, "out of memory for the rewind window");
    loop->ring_cap = cap;
    return 0;
}

ll_loop *ll_loop_create_(ll_block *block, ll_error *err, const ll_loop_params *p)
{
    if (!block || !block->base || !p || (!p->app && !p->module))
        return ll_fail(err, EINVAL, "ll_loop_create needs a reserved block and .app or .module"),
               NULL;
    if (!(p->fps >= 0 && p->fps <= LOOP_FPS_MAX))
        return ll_fail(err, EINVAL, "frame rate %g is out of range (try: .fps = 60)", p->fps), NULL;
    if (isnan(p->rewind_seconds) || p->rewind_seconds > 3600)
        return ll_fail(err, EINVAL,
                       "rewind window of %g s is out of range (try: .rewind_seconds = 2; at most "
                       "3600, below 0 for none)",
                       p->rewind_seconds),
               NULL;
    ll_loop *loop = calloc(1, sizeof *loop);
    if (!loop) return ll_fail(err, ENOMEM, "out of memory"), NULL;
    loop->block = block;
    loop->app = p->app;
    loop->module = p->module;
    loop->app_symbol = p->app_symbol;
    loop->reinit_on_layout = p->reinit_on_layout;
    loop->fps = p->fps > 0 ? p->fps : 60;
    loop->keyframe_frames = p->keyframe_frames ? p->keyframe_frames : 60;
    loop->speed = 1;
    loop->slot = -1;
    loop->next_gen = 1;
    loop->pending_cut = 1;
    int rc = loop_hash_init(&loop->hash, block, err);
    loop->hash.module = p->module; /* code pointers hash as symbol + offset */
    if (rc != 0 || loop_pages_init(&loop->pending, loop->hash.pages, err) != 0 ||
        create_ring(loop, p, err) != 0 || loop_hash_all(&loop->hash, block, err) != 0 ||
        !(loop->cur = ll_snap_take(block, err))) {
        ll_loop_destroy(loop);
        return NULL;
    }
    /* The block was (or is about to be) initialised by the build in use. */
    const ll_app *app = current_app(loop, NULL);
    loop->layout = app ? app->layout_version : 0;
    if (p->fps == 0 && app && app->api_version >= 3 && app->tick_hz &&
        app->tick_hz <= LOOP_FPS_MAX && app->tick_hz != 60) {
        /* The application's own rate; the rewind window holds its seconds. */
        loop->fps = app->tick_hz;
        free(loop->ring);
        loop->ring = NULL, loop->ring_cap = 0;
        if (create_ring(loop, p, err) != 0) {
            ll_loop_destroy(loop);
            return NULL;
        }
    }
    return loop;
}

static void slot_free(ll_loop *loop, loop_slot *s)
{
    if (s->keys) keys_cut(loop, s, 0);
    free(s->keys);
    ll_snap_drop(loop->block, s->start);
    free(s->inputs);
    loop_pages_free(&s->dirty);
    memset(s, 0, sizeof *s);
}

void ll_loop_destroy(ll_loop *loop)
{
    if (!loop) return;
    if (loop->ring) {
        ring_clear(loop);
        for (uint64_t i = 0; i < loop->ring_cap; i++) free(loop->ring[i].pages);
    }
    free(loop->ring);
    free(loop->ring_inputs);
    for (int s = 0; s < LL_LOOP_SLOTS; s++) slot_free(loop, &loop->slots[s]);
    ll_snap_drop(loop->block, loop->cur);
    loop_pages_free(&loop->pending);
    loop_hash_free(&loop->hash);
    free(loop->input);
    free(loop->last);
    free(loop);
}

const ll_app *ll_loop_app_get(ll_loop *loop, ll_error *err)
{
    return current_app(loop, err);
}

void ll_loop_app_set(ll_loop *loop, const ll_app *app)
{
    loop->app = app;
    loop->app_sets++;
}

/* ---- slots ---------------------------------------------------------------- */

static int check_slot(int slot, ll_error *err)
{
    if (slot < 0 || slot >= LL_LOOP_SLOTS)
        return loop_fail(err, EINVAL, "no slot %d: slots are 0 to %d", slot, LL_LOOP_SLOTS - 1);
    return 0;
}

/* Empties slot for a new recording whose start state is start. */
static int slot_reset(ll_loop *loop, loop_slot *s, const ll_app *app, ll_snap *start, ll_error *err)
{
    slot_free(loop, s);
    if (loop_pages_init(&s->dirty, loop->hash.pages, err) != 0) {
        ll_snap_drop(loop->block, start);
        return -1;
    }
    s->start = start;
    s->input_size = app->input_size;
    s->layout_version = loop->layout; /* the start state's, migrated or not */
    s->start_frame = loop->frame;
    s->fps = loop->fps;
    s->gen = loop->next_gen++;
    s->key_version = module_version(loop);
    return 0;
}

/* Gives slot the block as it is now for a start state. */
static int slot_begin(ll_loop *loop, loop_slot *s, const ll_app *app, ll_error *err)
{
    /* Pages written since cur are picked up in the same walk. */
    ll_snap *start = ll_snap_take_visit(loop->block, changed_visit, loop, err);
    if (!start || slot_reset(loop, s, app, start, err) != 0) return -1;
    /* cur must stay the newest snapshot: changed() counts from it. */
    return retake(loop, err);
}

/* A state that points out of the block (the C heap, a stack) would not
 * replay: said when it is recorded or saved, not as a fault later. */
static int check_pointers(ll_loop *loop, ll_snap *snap, ll_error *err)
{
    return ll_block_pointers_check(loop->block, err, .snap = snap, LOOP_NAME_OF(loop));
}

int ll_loop_record(ll_loop *loop, int slot, ll_error *err)
{
    const ll_app *app;
    if (check_slot(slot, err) || !(app = current_app(loop, err))) return -1;
    if (check_pointers(loop, NULL, err) != 0) return -1;
    if (loop->mode != LL_LOOP_LIVE && loop->slot == slot) ll_loop_stop(loop);
    if (slot_begin(loop, &loop->slots[slot], app, err) != 0) return -1;
    end_fault_pause(loop);
    loop->mode = LL_LOOP_RECORDING;
    loop->slot = slot;
    return 0;
}

int ll_loop_play(ll_loop *loop, int slot, ll_error *err)
{
    const ll_app *app;
    if (check_slot(slot, err) || !(app = current_app(loop, err))) return -1;
    loop_slot *s = &loop->slots[slot];
    if (!s->start || s->count == 0)
        return loop_fail(err, EINVAL, "slot %d holds no recording (try: record into it first)",
                         slot);
    if (s->input_size != app->input_size || !layout_fits(app, s->layout_version))
        return loop_fail(err, EINVAL,
                         "slot %d was recorded with %u-byte inputs and layout version %llu, the "
                         "application has %u-byte inputs and layout version %llu (try: record "
                         "again, or give its ll_app a "
                         "migrate function)",
                         slot, s->input_size, (unsigned long long)s->layout_version,
                         app->input_size, (unsigned long long)app->layout_version);
    if (restore_slot_start(loop, s, err) != 0) return -1;
    end_fault_pause(loop);
    loop->mode = LL_LOOP_PLAYING;
    loop->slot = slot;
    loop->loops = 0;
    return 0;
}

void ll_loop_stop(ll_loop *loop)
{
    end_fault_pause(loop);
    loop->mode = LL_LOOP_LIVE;
    loop->slot = -1;
}

uint64_t ll_loop_slot_frames_get(const ll_loop *loop, int slot)
{
    if (slot < 0 || slot >= LL_LOOP_SLOTS || !loop->slots[slot].start) return 0;
    return loop->slots[slot].count;
}

int loop_recording_get(const ll_loop *loop, int slot, loop_recording *out)
{
    memset(out, 0, sizeof *out);
    out->block = loop->block;
    out->module = loop->module;
    out->app = loop->app;
    out->app_symbol = loop->app_symbol;
    if (slot < 0 || slot >= LL_LOOP_SLOTS || !loop->slots[slot].start) return -1;
    const loop_slot *s = &loop->slots[slot];
    out->start = s->start;
    out->inputs = s->inputs;
    out->frames = s->count;
    out->input_size = s->input_size;
    out->layout_version = s->layout_version;
    out->start_frame = s->start_frame;
    out->fps = s->fps;
    out->gen = s->gen;
    return s->count ? 0 : -1;
}

/* ---- the timeline ----------------------------------------------------------- */

int ll_loop_timeline_get(ll_loop *loop, int slot, ll_loop_timeline *out)
{
    uint64_t every = loop->keyframe_frames;
    memset(out, 0, sizeof *out);
    out->keyframe_frames = every;
    if (slot < 0 || slot >= LL_LOOP_SLOTS || !loop->slots[slot].start) return -1;
    loop_slot *s = &loop->slots[slot];
    keys_check_version(loop, s);
    out->frames = s->count;
    out->keyframes = 1;
    out->bytes = ll_snap_size_get(loop->block, s->start);
    int gap = 0;
    for (uint64_t i = 1; i < s->key_cap || i * every <= s->count; i++) {
        ll_snap *k = i < s->key_cap ? s->keys[i] : NULL;
        if (k) {
            out->keyframes++;
            out->bytes += ll_snap_size_get(loop->block, k);
        }
        if (i * every > s->count) continue;
        if (!k) gap = 1;
        if (!gap) out->known = i * every;
    }
    if (!gap) out->known = s->count;
    return 0;
}

/* The slot plays from a state on its path at or before pos and within
 * reach: the state it is in now, when the loop plays it at or before pos
 * and past the keyframe pos would restore. */
static int on_path_before(const ll_loop *loop, int slot, uint64_t pos, uint64_t key_pos)
{
    const loop_slot *s = &loop->slots[slot];
    return loop->mode == LL_LOOP_PLAYING && loop->slot == slot && !s->keys_off &&
           !loop->fault_paused && loop->play_pos <= pos && loop->play_pos >= key_pos;
}

/* Puts the block back to keyframe i of the slot and the loop at its frame. */
static int key_restore(ll_loop *loop, int slot, uint64_t i, ll_error *err)
{
    loop_slot *s = &loop->slots[slot];
    if (i == 0) {
        if (restore_slot_start(loop, s, err) != 0) return -1;
    } else {
        if (absorb(loop, err) != 0 || ll_snap_restore(loop->block, s->keys[i], err) != 0) return -1;
        /* Pages written since cur are back at cur's bytes (absorb listed
         * them in pending); the pages the restore wrote count as written. */
        uint64_t n = loop->pending.count;
        for (uint64_t k = 0; k < n; k++) page_changed(loop, loop->pending.list[k]);
        if (absorb(loop, err) != 0) return -1;
        loop->pending_cut = 1;
        loop->play_pos = i * loop->keyframe_frames;
        loop->frame = s->start_frame + loop->play_pos;
        /* A keyframe is taken only on a state of the build's layout. */
        const ll_app *app = current_app(loop, NULL);
        loop->layout = app ? app->layout_version : s->layout_version;
        s->keys_off = 0;
        if (retake(loop, err) != 0) return -1;
    }
    loop->mode = LL_LOOP_PLAYING;
    loop->slot = slot;
    return 0;
}

int ll_loop_timeline_seek(ll_loop *loop, int slot, uint64_t pos, ll_error *err)
{
    const ll_app *app;
    if (check_slot(slot, err) || !(app = current_app(loop, err))) return -1;
    loop_slot *s = &loop->slots[slot];
    if (!s->start || s->count == 0)
        return loop_fail(err, EINVAL, "slot %d holds no recording (try: record into it first)",
                         slot);
    if (pos > s->count)
        return loop_fail(err, EINVAL,
                         "cannot go to frame %llu of slot %d: it holds %llu frames (try: 0 to "
                         "%llu)",
                         (unsigned long long)pos, slot, (unsigned long long)s->count,
                         (unsigned long long)s->count);
    if (s->input_size != app->input_size)
        return loop_fail(err, EINVAL,
                         "slot %d was recorded with %u-byte inputs, the application has %u-byte "
                         "inputs (try: record again)",
                         slot, s->input_size, app->input_size);
    if (loop->mode == LL_LOOP_RECORDING) ll_loop_stop(loop); /* the recording ends here */
    keys_check_version(loop, s);
    uint64_t i = pos / loop->keyframe_frames;
    while (i > 0 && (i >= s->key_cap || !s->keys[i])) i--;
    if (!on_path_before(loop, slot, pos, i * loop->keyframe_frames) &&
        key_restore(loop, slot, i, err) != 0)
        return -1;
    end_fault_pause(loop);
    /* Frames run here take the keyframes they pass that are missing. */
    while (loop->play_pos < pos)
        if (run_one(loop, NULL, err) != 0) return -1;
    return 0;
}

int ll_loop_timeline_cut(ll_loop *loop, ll_error *err)
{
    if (loop->mode != LL_LOOP_PLAYING)
        return loop_fail(err, EINVAL,
                         "no recording to cut: the loop is not playing a slot (try: play one, or "
                         "go to a frame of it first)");
    loop_slot *s = &loop->slots[loop->slot];
    uint64_t pos = loop->play_pos < s->count ? loop->play_pos : s->count;
    s->count = pos;
    keys_cut(loop, s, pos);
    /* Rewinding into the frames played before the cut stops there: they
     * belong to the recording as it was. */
    s->gen = loop->next_gen++;
    end_fault_pause(loop);
    loop->mode = LL_LOOP_RECORDING;
    return 0;
}

int loop_inputs_append(uint8_t **inputs, uint64_t *count, uint64_t *cap, const void *input,
                       uint32_t size)
{
    if (*count == *cap) {
        uint64_t n = *cap ? *cap * 2 : 256;
        uint8_t *p = realloc(*inputs, n * size);
        if (!p) return -1;
        *inputs = p;
        *cap = n;
    }
    memcpy(*inputs + *count * size, input, size);
    (*count)++;
    return 0;
}

/* ---- rewind --------------------------------------------------------------- */

int ll_loop_rewind(ll_loop *loop, uint64_t frames, ll_error *err)
{
    if (frames == 0 || frames > loop->ring_count)
        return loop_fail(err, EINVAL,
                         "cannot rewind %llu frames: the window holds %llu (try: 1 to %llu, or a "
                         "longer .rewind_seconds)",
                         (unsigned long long)frames, (unsigned long long)loop->ring_count,
                         (unsigned long long)loop->ring_count);
    if (absorb(loop, err) != 0) return -1;
    uint64_t t = loop->ring_count - frames;
    ring_entry *target = ring_at(loop, t);
    if (ll_snap_restore(loop->block, target->snap, err) != 0) return -1;
    for (uint64_t i = t; i < loop->ring_count; i++) {
        ring_entry *e = ring_at(loop, i);
        for (uint64_t k = 0; k < e->npages; k++) page_changed(loop, e->pages[k]);
    }
    /* The restored state differs from the newest kept entry's end by what
     * came between them: the target's own pages cover that. */
    loop_pages_clear(&loop->pending);
    for (uint64_t k = 0; k < target->npages; k++) loop_pages_add(&loop->pending, target->pages[k]);
    loop->pending_cut = target->cut;
    loop->layout = target->layout;
    loop->frame = target->frame;
    loop->play_pos = target->play_pos;
    loop->mode = target->mode;
    loop->slot = target->slot;
    if (loop->mode != LL_LOOP_LIVE && loop->slots[loop->slot].gen != target->slot_gen)
        ll_loop_stop(loop); /* the slot was replaced since */
    if (loop->mode == LL_LOOP_RECORDING) {
        loop->slots[loop->slot].count = target->rec_len;
        keys_cut(loop, &loop->slots[loop->slot], target->rec_len);
    }
    for (uint64_t i = t + 1; i < loop->ring_count; i++) {
        ring_entry *e = ring_at(loop, i);
        ll_snap_drop(loop->block, e->snap);
        e->snap = NULL;
    }
    ll_snap_drop(loop->block, loop->cur);
    loop->cur = target->snap;
    target->snap = NULL;
    loop->ring_count = t;
    end_fault_pause(loop);
    return retake(loop, err);
}

/* The window from its newest cut on replays without a restore in between. */
static uint64_t window_start(ll_loop *loop)
{
    for (uint64_t i = loop->ring_count; i-- > 0;)
        if (ring_at(loop, i)->cut) return i;
    return 0;
}

static int keep_inputs(ll_loop *loop, loop_slot *s, uint64_t first)
{
    for (uint64_t i = first; i < loop->ring_count; i++) {
        ring_entry *e = ring_at(loop, i);
        if (loop_inputs_append(&s->inputs, &s->count, &s->cap, ring_input(loop, e),
                               loop->ring_input_size) != 0)
            return -1;
        for (uint64_t k = 0; k < e->npages; k++) loop_pages_add(&s->dirty, e->pages[k]);
    }
    for (uint64_t k = 0; k < loop->pending.count; k++)
        loop_pages_add(&s->dirty, loop->pending.list[k]);
    return 0;
}

int ll_loop_keep(ll_loop *loop, int slot, ll_error *err)
{
    const ll_app *app;
    if (check_slot(slot, err) || !(app = current_app(loop, err))) return -1;
    if (loop->ring_count == 0)
        return loop_fail(err, EINVAL, "the rewind window is empty (try: run some frames first)");
    if (loop->mode != LL_LOOP_LIVE && loop->slot == slot) ll_loop_stop(loop);
    uint64_t first = window_start(loop);
    ring_entry *e = ring_at(loop, first);
    loop_slot *s = &loop->slots[slot];
    if (absorb(loop, err) != 0) return -1;
    /* A snapshot of an older state: visit it, take it, come back to cur. */
    if (ll_snap_restore(loop->block, e->snap, err) != 0) return -1;
    ll_snap *start = ll_snap_take(loop->block, err);
    if (ll_snap_restore(loop->block, loop->cur, err) != 0 || retake(loop, err) != 0) {
        ll_snap_drop(loop->block, start);
        return -1;
    }
    if (!start || slot_reset(loop, s, app, start, err) != 0) return -1;
    s->start_frame = e->frame;
    s->layout_version = e->layout;
    s->input_size = loop->ring_input_size;
    if (keep_inputs(loop, s, first) != 0) {
        slot_free(loop, s);
        return loop_fail(err, ENOMEM, "out of memory keeping the rewind window");
    }
    return 0;
}

/* ---- starting over ---------------------------------------------------------- */

typedef struct init_call {
    const ll_app *app;
    ll_block *block;
    int rc;
} init_call;

static void init_thunk(void *ctx)
{
    init_call *c = ctx;
    c->rc = c->app->init(c->block);
}

int ll_app_init_run(ll_module *module, const ll_app *app, ll_block *block, ll_snap *snap,
                    ll_error *err)
{
    if (!app->init) return 0;
    ll_block *seen = module ? ll_module_app_block_get(module) : block;
    init_call c = {app, seen, 0};
    ll_app_call call = {seen, 0, 0, 0, NULL};
    if (ll_app_call_run(module, &call, init_thunk, &c, snap, err) != 0) return -1;
    if (c.rc == 0) return 0;
    return loop_fail(err, EINVAL, "%s's init refused the block (it returned %d)",
                     app->name ? app->name : "the application", c.rc);
}

static int zero_page(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)bytes;
    ll_block *block = ctx;
    memset(block->base + off, 0, block->page_size);
    return 0;
}

/* Zeroes the block and runs init, under protection: a crash or a refusal
 * puts the block back to cur. */
static int run_init(ll_loop *loop, const ll_app *app, ll_error *err)
{
    if (absorb(loop, err) != 0 ||
        ll_snap_pages_visit(loop->block, NULL, zero_page, loop->block, err) != 0)
        return -1;
    ll_error local = {0}, *e = err ? err : &local;
    if (ll_app_init_run(loop->module, app, loop->block, loop->cur, e) == 0) return 0;
    if (e->code == EINVAL) {
        /* A refusal: what init wrote goes (a fault was rolled back already). */
        ll_snap_restore(loop->block, loop->cur, NULL);
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n, ": the state is unchanged");
    }
    absorb(loop, NULL);
    return -1;
}

int ll_loop_reinit(ll_loop *loop, ll_error *err)
{
    const ll_app *app = current_app(loop, err);
    if (!app) return -1;
    if (!app->init)
        return loop_fail(err, EINVAL, "%s has no init to start the state over with",
                         app->name ? app->name : "the application");
    if (run_init(loop, app, err) != 0) return -1;
    ll_loop_stop(loop);
    ring_clear(loop);
    loop->layout = app->layout_version;
    loop->frame = 0;
    if (block_changed(loop, err) != 0) return -1;
    return retake(loop, err);
}

/* ---- files ---------------------------------------------------------------- */

int ll_loop_save(ll_loop *loop, int slot, const char *path, ll_error *err)
{
    const ll_app *app;
    if (check_slot(slot, err) || !(app = current_app(loop, err))) return -1;
    loop_slot *s = &loop->slots[slot];
    if (!s->start)
        return loop_fail(err, EINVAL, "slot %d holds no recording (try: record into it first)",
                         slot);
    if (check_pointers(loop, s->start, err) != 0) return -1;
    loop_rec_info info = {
        .layout_version = s->layout_version,
        .frames = s->count,
        .start_frame = s->start_frame,
        .input_size = s->input_size,
        .fps = s->fps,
    };
    snprintf(info.app_name, sizeof info.app_name, "%s", app->name ? app->name : "");
    void *map = NULL;
    uint64_t map_size = 0;
    if (loop->module && ll_module_codemap_build(loop->module, &map, &map_size, err) != 0) return -1;
    /* Written from the start snapshot itself: the block is not touched. */
    int rc = loop_rec_write(path, loop->block, s->start, &info, s->inputs, map, map_size, err);
    free(map);
    return rc;
}

int ll_loop_load(ll_loop *loop, int slot, const char *path, ll_error *err)
{
    const ll_app *app;
    if (check_slot(slot, err) || !(app = current_app(loop, err))) return -1;
    loop_rec rec;
    if (loop_rec_open(&rec, path, err) != 0) return -1;
    if (loop_rec_check(&rec, loop->block, app, err) != 0) {
        loop_rec_close(&rec);
        return -1;
    }
    if (absorb(loop, err) != 0) {
        loop_rec_close(&rec);
        return -1;
    }
    int rc = loop_rec_apply(&rec, loop->block, err);
    /* Code pointers saved by another process: re-pointed, or refused with
     * the block put back as it was. */
    if (rc == 0 && loop_rec_repoint(&rec, loop->module, loop->block, err) != 0) {
        ll_snap_restore(loop->block, loop->cur, NULL);
        absorb(loop, NULL);
        loop_rec_close(&rec);
        return -1;
    }
    ll_loop_stop(loop);
    ring_clear(loop);
    loop->frame = rec.info.start_frame;
    loop->layout = rec.info.layout_version;
    if (rc == 0) rc = block_changed(loop, err);
    if (rc == 0) rc = retake(loop, err);
    loop_slot *s = &loop->slots[slot];
    if (rc == 0) rc = slot_begin(loop, s, app, err);
    if (rc == 0 && rec.info.fps > 0) s->fps = rec.info.fps;
    for (uint64_t i = 0; rc == 0 && i < rec.info.frames; i++)
        if (loop_inputs_append(&s->inputs, &s->count, &s->cap, rec.inputs + i * rec.info.input_size,
                               rec.info.input_size) != 0)
            rc = loop_fail(err, ENOMEM, "out of memory loading %s", path);
    loop_rec_close(&rec);
    return rc;
}

/* ---- controls, status ------------------------------------------------------ */

void ll_loop_pause(ll_loop *loop, int paused)
{
    loop->paused = paused != 0;
    loop->fault_paused = 0; /* the user's now: no new build ends it */
    loop->step = 0;
    loop->acc = 0;
}

int ll_loop_skip(ll_loop *loop, ll_error *err)
{
    const ll_app *app;
    if (!(app = current_app(loop, err)) || check_slot_fits(loop, app, err) != 0) return -1;
    loop_slot *s = loop->mode != LL_LOOP_LIVE ? &loop->slots[loop->slot] : NULL;
    if (loop->mode == LL_LOOP_PLAYING && loop->play_pos >= s->count) {
        if (restore_slot_start(loop, s, err) != 0) return -1;
        loop->loops++;
    }
    /* The state stays as it is: the frame's input is dropped (not recorded)
     * or, while a slot plays, passed over. */
    if (loop->mode == LL_LOOP_PLAYING) {
        loop->play_pos++;
        s->keys_off = 1; /* off the recording's path */
    }
    loop->frame++;
    end_fault_pause(loop);
    return 0;
}

void ll_loop_step(ll_loop *loop)
{
    if (loop->paused) loop->step = 1;
}

void ll_loop_speed_set(ll_loop *loop, double speed)
{
    if (!(speed >= 1.0 / 16)) speed = 1.0 / 16; /* also catches NaN */
    if (speed > 16) speed = 16;
    loop->speed = speed;
}

uint64_t ll_loop_hash_get(const ll_loop *loop)
{
    return loop->hash.total;
}

ll_snap *ll_loop_snap_get(const ll_loop *loop)
{
    return loop->cur;
}

ll_loop_status ll_loop_status_get(const ll_loop *loop)
{
    const loop_slot *s = loop->slot >= 0 ? &loop->slots[loop->slot] : NULL;
    ll_loop_status st = {
        .mode = loop->mode,
        .slot = loop->slot,
        .paused = loop->paused,
        .fault_paused = loop->fault_paused,
        .speed = loop->speed,
        .frame = loop->frame,
        .play_pos = loop->play_pos,
        .slot_frames = s ? s->count : 0,
        .loops = loop->loops,
        .rewind_frames = loop->ring_count,
        .hash = loop->hash.total,
        .layout = loop->layout,
        .reinits = loop->reinits,
        .fps = loop->fps,
        .quit_asked = loop->quit_asked,
    };
    memcpy(st.quit, loop->quit, sizeof st.quit);
    return st;
}

/* ---- determinism ---------------------------------------------------------- */

typedef struct page_copies {
    uint64_t *index;
    uint8_t *bytes;
    uint64_t count, cap;
} page_copies;

static int copies_take(page_copies *c, const ll_block *block, const uint64_t *pages, uint64_t n,
                       uint64_t ps)
{
    if (n > c->cap) {
        uint64_t *i = realloc(c->index, n * sizeof *i);
        if (i) c->index = i;
        uint8_t *b = realloc(c->bytes, n * ps);
        if (b) c->bytes = b;
        if (!i || !b) return -1;
        c->cap = n;
    }
    c->count = 0;
    if (n == 0) return 0;
    memcpy(c->index, pages, n * sizeof *pages);
    for (uint64_t k = 0; k < n; k++) memcpy(c->bytes + k * ps, block->base + pages[k] * ps, ps);
    c->count = n;
    return 0;
}

static const uint8_t *copies_find(const page_copies *c, uint64_t page, uint64_t ps)
{
    for (uint64_t k = 0; k < c->count; k++)
        if (c->index[k] == page) return c->bytes + k * ps;
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The runs differ: find the first byte. first holds run one's copies of the
 * pages it wrote; the block holds run two's state. */
static int locate_diff(ll_loop *loop, const page_copies *first, ll_loop_diff *diff, ll_error *err)
{
    uint64_t ps = loop->hash.page_size, n = first->count + loop->last_count;
    uint64_t *u = malloc((n ? n : 1) * sizeof *u);
    page_copies second = {0};
    if (!u) return loop_fail(err, ENOMEM, "out of memory comparing runs");
    if (first->count) memcpy(u, first->index, first->count * sizeof *u);
    if (loop->last_count) memcpy(u + first->count, loop->last, loop->last_count * sizeof *u);
    qsort(u, n, sizeof *u, cmp_u64);
    int rc = copies_take(&second, loop->block, u, n, ps);
    /* Pages run one left alone still hold the state before the frame. */
    if (rc == 0) rc = ll_loop_rewind(loop, 1, err);
    for (uint64_t k = 0; rc == 0 && k < n && !diff->differs; k++) {
        const uint8_t *a = copies_find(first, u[k], ps), *b = second.bytes + k * ps;
        if (!a) a = loop->block->base + u[k] * ps;
        for (uint64_t i = 0; i < ps; i++) {
            if (a[i] == b[i]) continue;
            *diff = (ll_loop_diff){1,    diff->frames, diff->frame,      u[k] * ps + i,
                                   a[i], b[i],         diff->hash_first, diff->hash_second};
            break;
        }
    }
    free(u);
    free(second.index);
    free(second.bytes);
    return rc;
}

static int twice(ll_loop *loop, page_copies *first, ll_loop_diff *diff, ll_error *err)
{
    loop->pass = 1;
    int rc = run_one(loop, NULL, err);
    loop->pass = 0;
    if (rc != 0) return -1;
    diff->hash_first = loop->hash.total;
    if (copies_take(first, loop->block, loop->last, loop->last_count, loop->hash.page_size))
        return loop_fail(err, ENOMEM, "out of memory comparing runs");
    if (ll_loop_rewind(loop, 1, err) != 0) return -1;
    loop->pass = 2;
    rc = run_one(loop, NULL, err);
    loop->pass = 0;
    if (rc != 0) return -1;
    diff->hash_second = loop->hash.total;
    return 0;
}

int ll_loop_determinism_check(ll_loop *loop, int slot, ll_loop_diff *diff, ll_error *err)
{
    memset(diff, 0, sizeof *diff);
    if (loop->ring_cap == 0)
        return loop_fail(err, EINVAL,
                         "a determinism check needs a rewind window (try: .rewind_seconds > 0)");
    if (ll_loop_play(loop, slot, err) != 0) return -1;
    /* A pointer out of the block differs between runs, or faults in a new
     * process: named as such, at the start and after each frame. */
    if (ll_block_pointers_check(loop->block, err, LOOP_NAME_OF(loop)) != 0) return -1;
    page_copies first = {0};
    int rc = 0;
    uint64_t count = loop->slots[slot].count;
    for (uint64_t f = 0; f < count && rc == 0 && !diff->differs; f++) {
        diff->frame = f;
        rc = twice(loop, &first, diff, err);
        diff->frames = f + 1;
        if (rc == 0)
            rc = ll_block_pointers_check(loop->block, err, .pages = loop->last,
                                         .page_count = loop->last_count, LOOP_NAME_OF(loop));
        if (rc == 0 && diff->hash_first != diff->hash_second)
            rc = locate_diff(loop, &first, diff, err);
    }
    free(first.index);
    free(first.bytes);
    ll_loop_stop(loop);
    return rc;
}
