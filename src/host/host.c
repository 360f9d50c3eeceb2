/* host.c - a ready-made host: the application library, its block, the loop
 * controls on keys, rebuild on save, and a platform to show it all. */
#include "host/host.h"
#include "base/base.h"
#include "base/fault.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What host_bar_marks_set gave for a slot's recording. */
typedef struct host_slot_marks {
    uint8_t *marks; /* HOST_MARK_* per frame */
    uint64_t count, first_changed;
} host_slot_marks;

struct ll_host {
    ll_host_params p;
    host_platform platform;
    ll_canvas canvas;
    ll_block block;
    ll_module *module;
    ll_loop *loop;
    host_builder *builder;
    ll_platform_input polled; /* what the platform keeps: keys held, mouse, pads */
    ll_platform_input input;  /* this frame's: polled, with presses and --keys */
    host_presses presses;
    ll_keys script;            /* --keys */
    size_t script_next;        /* the first event not pressed yet */
    uint64_t script_held[256]; /* a scripted key is down until this frame */
    int slot;
    int show_help;
    int quit;
    int fps_given;      /* --fps: else the application's tick_hz, else 60 */
    char quit_msg[256]; /* the application's message when it ended the run */
    int quit_asked;
    uint64_t frame, reloads, builds, crashes, key_failures;
    uint64_t faults_seen; /* the module's fault count when last asked */
    uint64_t host_ns, app_ns;
    uint64_t fps_t0, fps_frames;
    uint64_t rollbacks; /* the module's rollbacks already taken off reloads */
    double fps;
    char error[LL_ERROR_MSG];       /* the last error, whole */
    uint64_t error_frame;           /* shown for HOST_ERROR_SECONDS from this frame */
    char build_error[LL_ERROR_MSG]; /* the last build's, until one succeeds: shown */
                                    /* whenever no newer error is */
    char message[LL_ERROR_MSG];     /* the last confirmation ("saved slot 1 to ...") */
    uint64_t message_frame;         /* shown for HOST_ERROR_SECONDS from this frame */
    uint64_t layout_version;        /* of the application in use, for the rescue file */
    uint64_t globals_room;          /* the block's last bytes, which keep the globals */
    char lib[PATH_MAX];             /* as given, for the hint after a fatal fault */
    char rescue[PATH_MAX];          /* where a fatal fault saves the last good state */
    void *codemap;                  /* the module's code map as of the last load, */
    uint64_t codemap_size;          /* saved with the rescue file (made now: after */
                                    /* a fatal fault nothing may allocate) */
    char fatal[2048];               /* set when the process cannot safely continue */
    uint32_t *shot_pixels;          /* the picture: what ll_canvas_pixels_render draws */
    int shot_w, shot_h;             /* its size in pixels */
    ll_video *clip;                 /* alt+v: the clip being written, or NULL */
    char clip_path[PATH_MAX];
    uint32_t audio_rate;                      /* 0: no sound */
    uint64_t audio_version;                   /* the module version audio_fn was looked up in */
    ll_app_audio *audio_fn;                   /* the application's looplive_audio, or NULL */
    int16_t *audio_buf;                       /* one frame of stereo samples */
    host_slot_marks bar_marks[LL_LOOP_SLOTS]; /* host_bar_marks_set */
    int parked;           /* paused on a frame the timeline went to: an application
                             key cuts the recording there and records live */
    int go_to;            /* alt+g: digits typed are the frame to go to */
    char go_text[24];     /* the digits so far */
    int dragging;         /* the mouse button went down on the bar and is held */
    host_compare compare; /* what the last reload did across the recordings */
};

/* Copies text, cut to fit: an error message is longer than the line. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* How long an error stays on the overlay: a build error until a build
 * succeeds (it holds until then); any other (a fault rolled back, a key
 * that could not act) for five seconds, since the frames after it show
 * whether it still happens, and one that does is set again. */
#define HOST_ERROR_SECONDS 5

static void host_set_error(ll_host *h, const char *msg)
{
    copy_text(h->error, sizeof h->error, msg);
    h->error_frame = h->frame;
    h->message[0] = 0;
}

/* A confirmation for the overlay's second line ("saved slot 1 to ..."),
 * shown like an error (five seconds); it takes the place of an older
 * error, and a newer error takes its place. */
static void host_note(ll_host *h, const char *msg)
{
    copy_text(h->message, sizeof h->message, msg);
    h->message_frame = h->frame;
    h->error[0] = 0;
}

/* A confirmation that came with an error: shown when the error's five
 * seconds are over, instead of being lost under it. */
static void host_note_after_error(ll_host *h, const char *msg)
{
    copy_text(h->message, sizeof h->message, msg);
    h->message_frame = h->error_frame + HOST_ERROR_SECONDS * (uint64_t)h->p.fps;
}

/* What the overlay's second line shows now: the newest error or
 * confirmation for five seconds, else a build error that still holds, else
 * "" (the keys); *is_error says whether it is an error. */
static const char *host_line_shown(const ll_host *h, int *is_error)
{
    uint64_t span = HOST_ERROR_SECONDS * (uint64_t)h->p.fps;
    *is_error = 1;
    if (h->error[0] && h->frame < h->error_frame + span) return h->error;
    if (h->message[0] && h->frame < h->message_frame + span) return *is_error = 0, h->message;
    return h->build_error;
}

/* A fault in application code, rolled back by the module: a build that
 * faulted and was replaced by the last good one no longer counts as a
 * reload. */
static void host_crashed(ll_host *h, const char *msg)
{
    host_set_error(h, msg);
    h->crashes++;
    ll_module_info info;
    ll_module_info_get(h->module, &info);
    uint64_t undone = info.rollbacks - h->rollbacks;
    h->reloads -= undone < h->reloads ? undone : h->reloads;
    h->rollbacks = info.rollbacks;
}

/* --- opening ------------------------------------------------------------ */

struct get_call {
    ll_app_get *get;
    const ll_app *app;
};

static void call_get(void *ctx)
{
    struct get_call *c = ctx;
    c->app = c->get();
}

/* Copies a table as long as its version made it (an older one ends
 * earlier: its later fields stay zero). */
static void app_copy(ll_app *to, const ll_app *from)
{
    size_t size = from->api_version == 1   ? offsetof(ll_app, migrate)
                  : from->api_version == 2 ? offsetof(ll_app, tick_hz)
                                           : sizeof *to;
    *to = (ll_app){0};
    memcpy(to, from, size);
}

/* looplive_app() is the first call into a build: under crash protection,
 * through a module handle of its own (the block cannot exist yet), with no
 * watcher thread (whose stack could take the place the block is about to
 * be reserved at). Copies the table (*found 0: it returned NULL); its
 * pointers die with the handle. */
static int first_call(const char *path, ll_app *app, int *found, uint64_t *room, ll_error *err)
{
    static const char *const symbols[] = {"looplive_app"};
    ll_module *m = ll_module_open(path, err, .symbols = symbols, .symbol_count = 1, .no_watch = 1);
    if (!m) return -1;
    struct get_call c = {(ll_app_get *)ll_module_symbol_get(m, 0), NULL};
    int rc = ll_module_protect(m, call_get, &c, err, .lookup = 1);
    if (rc == 0 && (*found = c.app != NULL)) app_copy(app, c.app);
    ll_module_info info;
    ll_module_info_get(m, &info);
    *room = info.globals_room; /* the block keeps the library's globals at its end */
    if (rc == 0 || err->code != ENOTRECOVERABLE) ll_module_close(m);
    return rc;
}

/* Reads the application's table from the library without keeping it: the
 * block size must be known before the block, and the block before the
 * module. */
static int peek_app(const char *lib, uint64_t *block_size, uint64_t *room, ll_error *err)
{
    /* A bare name is a file here, not one for dlopen to search the library
     * path for. */
    char path[4096];
    snprintf(path, sizeof path, "%s%s", strchr(lib, '/') ? "" : "./", lib);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) return ll_fail(err, ENOENT, "cannot load %s: %s", lib, dlerror());
    int exported = dlsym(dl, "looplive_app") != NULL;
    dlclose(dl);
    if (!exported)
        return ll_fail(err, EINVAL,
                       "%s has no looplive_app() (an application exports `const ll_app "
                       "*looplive_app(void)`)",
                       lib);
    ll_app app;
    int found = 0;
    if (first_call(path, &app, &found, room, err) != 0) return -1;
    if (!found || app.api_version < 1 || app.api_version > LL_APP_API_VERSION || !app.update)
        return ll_fail(err, EINVAL,
                       "%s: looplive_app() returned %s (this host speaks API versions 1 to %d)",
                       lib,
                       !found        ? "NULL"
                       : !app.update ? "a table without update"
                                     : "another version",
                       LL_APP_API_VERSION);
    *block_size = app.block_size;
    return 0;
}

static int reserve_block(ll_host *h, const char *lib, ll_error *err)
{
    uint64_t size = 0;
    if (peek_app(lib, &size, &h->globals_room, err) != 0) return -1;
    if (h->p.size) size = h->p.size;
    if (!size) size = 64 * LL_MIB;
    size = ll_align_up(size, ll_page_size_get()) + h->globals_room;
    void *base = h->p.base;
    if (!base && !h->p.os_base) {
        /* Without advice (a process layout the advisor finds no safe gap
         * in, e.g. under a sanitizer's shadow memory) the application still
         * runs, at an address of the OS's choosing; saved slots then load
         * only in the same process. */
        uint64_t chosen;
        ll_error why;
        if (ll_base_advise(size, &chosen, &why) == 0)
            base = (void *)(uintptr_t)chosen;
        else
            snprintf(h->error, sizeof h->error, "no static address, the OS chose one: %.180s",
                     why.msg);
    }
    return ll_block_reserve(&h->block, err, .base = base, .size = size, .name = "looplive-app");
}

/* The table of the module the host keeps, looked up under protection like
 * every call into it. */
static const ll_app *host_app(const ll_host *h, ll_error *err)
{
    struct get_call c = {(ll_app_get *)ll_module_symbol_get(h->module, 0), NULL};
    if (c.get && ll_module_protect(h->module, call_get, &c, err, .lookup = 1) != 0) return NULL;
    if (!c.app) ll_fail(err, EINVAL, "looplive_app() returned NULL");
    return c.app;
}

/* The block's full hook: the library prints nothing, so a push that does
 * not fit (an application that passed no .err) shows on the overlay. */
static int host_arena_full(ll_arena *arena, uint64_t requested, uint64_t available, void *ctx)
{
    char want[32], left[32], cap[32], msg[LL_ERROR_MSG];
    /* The heap of looplive_compat.h: its malloc returned NULL. */
    int heap = !strcmp(arena->name, LL_COMPAT_HEAP_ARENA);
    snprintf(msg, sizeof msg, "arena '%s' is full: asked for %s, %s available of %s (try: %s)",
             arena->name, ll_size_format(requested, want, sizeof want),
             ll_size_format(available, left, sizeof left),
             ll_size_format(arena->capacity, cap, sizeof cap),
             heap ? "a larger block_size in the ll_app, or #define LL_COMPAT_HEAP_SIZE before "
                    "including looplive_compat.h"
                  : "a larger capacity in ll_arena_create, or pass .err to the push and handle it");
    host_set_error(ctx, msg);
    return 0;
}

/* The code map of every build loaded so far, for the rescue file: a
 * state saved after a fatal fault holds pointers into these builds, which
 * --resume re-points to the build it loads. Without one (out of memory),
 * the rescue file has none and --resume refuses such pointers. */
static void keep_codemap(ll_host *h)
{
    void *map;
    uint64_t size;
    ll_error err;
    if (ll_module_codemap_build(h->module, &map, &size, &err) != 0) return;
    free(h->codemap);
    h->codemap = map;
    h->codemap_size = size;
}

/* The smallest canvas the application draws on (ll_app, API 3). */
static int check_canvas(const ll_host *h, const ll_app *app, const char *lib, ll_error *err)
{
    if (app->api_version < 3) return 0;
    const ll_canvas *c = &h->canvas;
    if (c->width >= (int)app->min_width && c->height >= (int)app->min_height) return 0;
    return ll_fail(err, ERANGE,
                   "%s needs a canvas of at least %ux%u %s, this one is %dx%d (try: %s--canvas "
                   "%ux%u)",
                   lib, app->min_width, app->min_height, c->cells ? "cells" : "pixels", c->width,
                   c->height, c->cells && !h->p.headless ? "a larger terminal, or " : "",
                   app->min_width, app->min_height);
}

static int open_app(ll_host *h, const char *lib, ll_error *err)
{
    static const char *const symbols[] = {"looplive_app"};
    if (reserve_block(h, lib, err) != 0) return -1;
    if (ll_block_on_full_set(&h->block, host_arena_full, h, err) != 0) return -1;
    h->module = ll_module_open(lib, err, .symbols = symbols, .symbol_count = 1, .block = &h->block,
                               .unprotected = h->p.unprotected, .globals_room = h->globals_room);
    if (!h->module) return -1;
    const ll_app *app = host_app(h, err);
    if (!app) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return ll_fail(err, err->code, "%s: %s", lib, why);
    }
    h->layout_version = app->layout_version;
    if (h->p.resume) {
        /* The state comes from the file: no init. */
        if (ll_snap_load(&h->block, h->p.resume, err, .layout_version = h->layout_version,
                         .extra_tag = LL_MODULE_CODEMAP_TAG, .extra_fn = ll_module_snap_extra_apply,
                         .extra_ctx = h->module) != 0) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return ll_fail(err, err->code, "cannot resume from %s: %s", h->p.resume, why);
        }
    } else {
        if (ll_app_init_run(h->module, app, &h->block, NULL, err) != 0) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return ll_fail(err, err->code, "%s: %s", lib, why);
        }
    }
    h->loop = ll_loop_create(&h->block, err, .module = h->module, .app_symbol = 0,
                             .fps = h->fps_given ? h->p.fps : 0, .reinit_on_layout = h->p.reinit);
    if (!h->loop) return -1;
    h->p.fps = (int)ll_loop_status_get(h->loop).fps;
    if (check_canvas(h, app, lib, err) != 0) return -1;
    keep_codemap(h);
    return 0;
}

static int open_platform(ll_host *h, ll_error *err)
{
    const char *name = h->p.platform ? h->p.platform : "terminal";
    int pixels = !strcmp(name, "sdl") && !h->p.cells;
    if (strcmp(name, "sdl") != 0 && strcmp(name, "terminal") != 0)
        return ll_fail(err, EINVAL, "unknown platform '%s' (try: --platform terminal or sdl)",
                       name);
    if (h->p.headless)
        host_platform_headless(&h->platform, pixels);
    else if (!strcmp(name, "sdl"))
        host_platform_sdl(&h->platform);
    else
        host_platform_terminal(&h->platform);
    h->platform.status_lines = h->p.no_overlay ? 0 : HOST_STATUS_LINES;
    h->platform.cells = h->p.cells;
    return h->platform.open(&h->platform, h->p.width, h->p.height, h->p.scale, &h->canvas, err);
}

/* Sound: a device that does not open leaves the run silent, with a
 * warning, rather than ending it. Headless, the sound is made (so that its
 * code runs, crash protection included) and dropped. */
static int open_audio(ll_host *h, ll_error *err)
{
    if (!h->platform.audio_open)
        return ll_fail(err, EINVAL, "--audio needs a platform with sound (try: --platform sdl)");
    ll_error why;
    if (!(h->audio_rate = h->platform.audio_open(&h->platform, &why))) {
        char msg[LL_ERROR_MSG + 32];
        snprintf(msg, sizeof msg, "warning: no sound: %s", why.msg);
        host_note(h, msg);
        return 0;
    }
    h->audio_buf = calloc(h->audio_rate / (uint32_t)h->p.fps + 1, 2 * sizeof *h->audio_buf);
    return h->audio_buf ? 0 : ll_fail(err, ENOMEM, "out of memory for the audio buffer");
}

/* The window's title names the application. */
static void name_window(ll_host *h, const char *lib)
{
    const ll_app *app = host_app(h, NULL);
    const char *name = app && app->name && *app->name ? app->name : lib;
    char title[256];
    snprintf(title, sizeof title, "%s - looplive", name);
    if (h->platform.title) h->platform.title(&h->platform, title);
}

/* A slot or capture directory that is not there is refused at start, not
 * at the first save. */
static int check_slot_dir(const char *opt, const char *dir, ll_error *err)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return ll_fail(err, errno, "%s %s: %s (try: mkdir -p %s)", opt, dir, strerror(errno), dir);
    if (!S_ISDIR(st.st_mode))
        return ll_fail(err, ENOTDIR, "%s %s: not a directory (try: %s DIR)", opt, dir, opt);
    if (access(dir, W_OK | X_OK) != 0)
        return ll_fail(err, errno, "%s %s: cannot write there: %s (try: another DIR)", opt, dir,
                       strerror(errno));
    return 0;
}

/* Everything ll_host_open does after the handle exists; ll_host_close
 * undoes whatever part of it was done. */
static int open_parts(ll_host *h, const char *lib, ll_error *err)
{
    if (h->p.keys && ll_keys_parse(&h->script, h->p.keys, err) != 0) return -1;
    if (h->p.slot_dir && check_slot_dir("--slots", h->p.slot_dir, err) != 0) return -1;
    if (h->p.capture_dir && check_slot_dir("--capture", h->p.capture_dir, err) != 0) return -1;
    if (h->p.build_cmd && !h->p.watch_dir)
        return ll_fail(err, EINVAL, "--build needs --watch DIR (the sources to watch)");
    /* The platform first: the terminal's restore handlers must be installed
     * before the module's crash handlers, which then sit on top of them. */
    if (open_platform(h, err) != 0 || open_app(h, lib, err) != 0) return -1;
    name_window(h, lib);
    if (h->platform.note[0] && !h->error[0]) host_note(h, h->platform.note);
    if (h->p.watch_dir && !(h->builder = host_builder_open(h->p.watch_dir, h->p.build_cmd, err)))
        return -1;
    if (h->p.audio && open_audio(h, err) != 0) return -1;
    ll_canvas_pixels_size_get(&h->canvas, &h->shot_w, &h->shot_h);
    if (!(h->shot_pixels = calloc((size_t)h->shot_w * (size_t)h->shot_h, 4)))
        return ll_fail(err, ENOMEM, "out of memory for the picture");
    return 0;
}

/* Computed now: after a fatal fault nothing may allocate or format much. */
static void rescue_path(ll_host *h, const char *lib)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(h->lib, sizeof h->lib, "%s", lib ? lib : "");
    if (h->p.slot_dir)
        snprintf(h->rescue, sizeof h->rescue, "%s/rescue.llsnap", h->p.slot_dir);
    else
        snprintf(h->rescue, sizeof h->rescue, "%s/looplive-rescue-%d.llsnap",
                 tmp && *tmp ? tmp : "/tmp", (int)getpid());
}

ll_host *ll_host_open_(const char *lib, ll_error *err, const ll_host_params *params)
{
    ll_host *h = calloc(1, sizeof *h);
    if (!h) {
        ll_fail(err, ENOMEM, "out of memory for the host");
        return NULL;
    }
    h->p = *params;
    h->fps_given = h->p.fps > 0;
    if (h->p.fps <= 0) h->p.fps = 60;
    rescue_path(h, lib);
    h->slot = 1;
    h->block.fd = -1;
    if (open_parts(h, lib, err) != 0) {
        /* After a fault the C library may not survive, nothing is freed. */
        if (err->code != ENOTRECOVERABLE)
            ll_host_close(h);
        else
            fault_restore_all();
        return NULL;
    }
    h->fps_t0 = ll_now_ns();
    return h;
}

void ll_host_close(ll_host *h)
{
    if (!h || h->fatal[0]) return; /* a fatal fault: freeing could hang */
    host_builder_close(h->builder);
    host_compare_close(&h->compare);
    ll_video_close(h->clip, NULL);
    if (h->loop) ll_loop_destroy(h->loop);
    if (h->module) ll_module_close(h->module);
    if (h->platform.close) h->platform.close(&h->platform);
    ll_snap_end(&h->block);
    ll_block_release(&h->block);
    ll_keys_free(&h->script);
    free(h->shot_pixels);
    free(h->audio_buf);
    free(h->codemap);
    for (int i = 0; i < LL_LOOP_SLOTS; i++) free(h->bar_marks[i].marks);
    free(h);
}

/* What is on screen as pixels, into shot_pixels: read back from the
 * window when the platform can, so that what is checked is what the window
 * shows; else the canvas drawn as the window draws it. */
static void host_picture(ll_host *h)
{
    if (!h->platform.read_back ||
        h->platform.read_back(&h->platform, h->shot_pixels, h->shot_w, h->shot_h) != 0)
        ll_canvas_pixels_render(&h->canvas, h->shot_pixels);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

static void take_screenshot(ll_host *h, const char *path)
{
    ll_error err;
    int rc;
    if (ends_with(path, ".png") || h->canvas.pixels) {
        host_picture(h);
        rc = ends_with(path, ".png")
                 ? ll_png_write(path, h->shot_pixels, h->shot_w, h->shot_h, &err)
                 : host_write_ppm(path, h->shot_pixels, h->shot_w, h->shot_h, &err);
    } else {
        rc = host_write_cells(path, &h->canvas, &err);
    }
    if (rc != 0) host_set_error(h, err.msg);
}

/* --- keys --------------------------------------------------------------- */

static void slot_path(const ll_host *h, int slot, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/slot%d.llrec", h->p.slot_dir, slot);
}

/* Loads slot from the slot directory when memory has nothing for it;
 * returns 1 when the slot now holds a recording. */
static int slot_ready(ll_host *h, int slot, ll_error *err)
{
    if (ll_loop_slot_frames_get(h->loop, slot)) return 1;
    if (!h->p.slot_dir) return 0;
    char path[4096];
    slot_path(h, slot, path, sizeof path);
    if (access(path, F_OK) != 0) return 0;
    return ll_loop_load(h->loop, slot, path, err) == 0 ? 1 : -1;
}

/* Live: the slot is chosen, and plays if it holds a recording. Looping:
 * another slot that holds one plays instead. Recording, or looping into an
 * empty slot: the slot stays, so that what the overlay shows is what alt+l
 * and alt+s act on. */
static int key_slot(ll_host *h, int key, ll_error *err)
{
    int slot = (key & 0xff) - '0';
    ll_loop_status st = ll_loop_status_get(h->loop);
    if (st.mode == LL_LOOP_RECORDING)
        return ll_fail(err, EBUSY,
                       "slot %d not chosen: recording into slot %d (try: alt+l to loop it, then "
                       "alt+l to stop, then alt+%d)",
                       slot, h->slot, slot);
    int ready = slot_ready(h, slot, err);
    if (ready < 0) return -1;
    if (st.mode == LL_LOOP_PLAYING && !ready)
        return ll_fail(err, ENOENT,
                       "slot %d not chosen: it is empty and slot %d is looping (try: alt+l to "
                       "stop, then alt+%d to record into it)",
                       slot, h->slot, slot);
    h->slot = slot;
    return ready ? ll_loop_play(h->loop, slot, err) : 0;
}

static int key_loop(ll_host *h, int key, ll_error *err)
{
    ll_loop_status st = ll_loop_status_get(h->loop);
    if (st.mode == LL_LOOP_LIVE) return ll_loop_record(h->loop, h->slot, err);
    if (st.mode == LL_LOOP_RECORDING) return ll_loop_play(h->loop, h->slot, err);
    ll_loop_stop(h->loop);
    return 0;
}

static int key_pause(ll_host *h, int key, ll_error *err)
{
    ll_loop_pause(h->loop, !ll_loop_status_get(h->loop).paused);
    return 0;
}

static int key_step(ll_host *h, int key, ll_error *err)
{
    if (ll_loop_status_get(h->loop).fault_paused) return ll_loop_skip(h->loop, err); /* past it */
    ll_loop_pause(h->loop, 1);
    ll_loop_step(h->loop);
    return 0;
}

static int key_speed(ll_host *h, int key, ll_error *err)
{
    double s = ll_loop_status_get(h->loop).speed;
    s = (key & 0xff) == '-' ? s / 2 : s * 2;
    if (s > 16) s = 16;
    if (s < 1.0 / 16) s = 1.0 / 16;
    ll_loop_speed_set(h->loop, s);
    return 0;
}

static int key_rewind(ll_host *h, int key, ll_error *err)
{
    uint64_t back = ll_loop_status_get(h->loop).rewind_frames;
    if (back > (uint64_t)h->p.fps) back = (uint64_t)h->p.fps;
    if (!back) return ll_fail(err, EINVAL, "nothing to rewind yet");
    return ll_loop_rewind(h->loop, back, err);
}

static int key_keep(ll_host *h, int key, ll_error *err)
{
    if (ll_loop_keep(h->loop, h->slot, err) != 0) return -1;
    return ll_loop_play(h->loop, h->slot, err);
}

static int key_save(ll_host *h, int key, ll_error *err)
{
    if (!h->p.slot_dir)
        return ll_fail(err, EINVAL, "no slot directory to save into (try: --slots DIR)");
    uint64_t frames = ll_loop_slot_frames_get(h->loop, h->slot);
    if (!frames)
        return ll_fail(err, ENOENT,
                       "slot %d not saved: it holds no recording (try: alt+l to record, alt+l "
                       "to loop, then alt+s)",
                       h->slot);
    char path[4096], msg[4200];
    slot_path(h, h->slot, path, sizeof path);
    if (ll_loop_save(h->loop, h->slot, path, err) != 0) return -1;
    snprintf(msg, sizeof msg, "saved slot %d to %s (%llu frames)", h->slot, path,
             (unsigned long long)frames);
    host_note(h, msg);
    return 0;
}

/* Pictures and clips go to --capture DIR, else --slots DIR, named with
 * the frame and the build (the module's version) they show. */
static int capture_path(ll_host *h, const char *what, const char *ext, char *buf, size_t cap,
                        ll_error *err)
{
    const char *dir = h->p.capture_dir ? h->p.capture_dir : h->p.slot_dir;
    if (!dir)
        return ll_fail(err, EINVAL, "no folder to save the %s into (try: --capture DIR)", what);
    snprintf(buf, cap, "%s/frame-%06llu-v%llu%s", dir, (unsigned long long)h->frame,
             (unsigned long long)ll_module_version_get(h->module), ext);
    return 0;
}

static int key_picture(ll_host *h, int key, ll_error *err)
{
    char path[PATH_MAX], msg[PATH_MAX + 32];
    if (capture_path(h, "picture", ".png", path, sizeof path, err) != 0) return -1;
    host_picture(h);
    if (ll_png_write(path, h->shot_pixels, h->shot_w, h->shot_h, err) != 0) return -1;
    snprintf(msg, sizeof msg, "saved picture %s", path);
    host_note(h, msg);
    return 0;
}

static int key_clip(ll_host *h, int key, ll_error *err)
{
    char msg[PATH_MAX + 64];
    if (h->clip) {
        uint64_t frames = ll_video_frames_get(h->clip);
        int rc = ll_video_close(h->clip, err);
        h->clip = NULL;
        if (rc != 0) return -1;
        snprintf(msg, sizeof msg, "saved clip %s (%llu frames)", h->clip_path,
                 (unsigned long long)frames);
        host_note(h, msg);
        return 0;
    }
    if (capture_path(h, "clip", ".mp4", h->clip_path, sizeof h->clip_path, err) != 0) return -1;
    h->clip = ll_video_open(h->clip_path, h->shot_w, h->shot_h, h->p.fps,
                            h->p.scale > 0 ? h->p.scale : 1, err);
    if (!h->clip) return -1;
    snprintf(msg, sizeof msg, "recording clip %s (alt+v stops)", h->clip_path);
    host_note(h, msg);
    return 0;
}

static int key_help(ll_host *h, int key, ll_error *err)
{
    h->show_help = !h->show_help;
    return 0;
}

static int key_quit(ll_host *h, int key, ll_error *err)
{
    h->quit = 1;
    return 0;
}

/* --- the timeline ------------------------------------------------------------ */

/* Where the loop is in the selected slot's recording: the play position
 * when it plays that slot, its end otherwise (recording, or live after it). */
static uint64_t timeline_pos(const ll_host *h)
{
    ll_loop_status st = ll_loop_status_get(h->loop);
    uint64_t frames = ll_loop_slot_frames_get(h->loop, h->slot);
    if (st.mode == LL_LOOP_PLAYING && st.slot == h->slot && st.play_pos < frames)
        return st.play_pos;
    return frames;
}

/* Goes to position pos of the selected slot's recording (clamped to it)
 * and stays there, paused, until play resumes (alt+space) or an
 * application key takes over from there. */
/* 0 when the selected slot holds a recording the timeline can move in. */
static int timeline_ready(ll_host *h, ll_error *err)
{
    int ready = slot_ready(h, h->slot, err);
    if (ready < 0) return -1;
    if (!ready)
        return ll_fail(err, ENOENT,
                       "slot %d holds no recording to move in (try: alt+l to record, alt+l "
                       "again to loop it)",
                       h->slot);
    return 0;
}

static int timeline_go(ll_host *h, int64_t pos, ll_error *err)
{
    if (timeline_ready(h, err) != 0) return -1;
    uint64_t frames = ll_loop_slot_frames_get(h->loop, h->slot);
    uint64_t to = pos < 0 ? 0 : (uint64_t)pos > frames ? frames : (uint64_t)pos;
    if (ll_loop_timeline_seek(h->loop, h->slot, to, err) != 0) return -1;
    ll_loop_pause(h->loop, 1);
    h->parked = 1;
    return 0;
}

static int key_seek(ll_host *h, int key, ll_error *err)
{
    int64_t pos = (int64_t)timeline_pos(h), second = h->p.fps;
    switch (key & 0xff) {
    case LL_KEY_LEFT:
        return timeline_go(h, pos - second, err);
    case LL_KEY_RIGHT:
        return timeline_go(h, pos + second, err);
    case LL_KEY_HOME:
        return timeline_go(h, 0, err);
    default:
        return timeline_go(h, INT64_MAX, err);
    }
}

static int key_go_to(ll_host *h, int key, ll_error *err)
{
    if (timeline_ready(h, err) != 0) return -1; /* no prompt for nowhere to go */
    h->go_to = 1;
    h->go_text[0] = 0;
    return 0;
}

/* While alt+g waits for a number: digits, backspace, enter (go), escape
 * (cancel) are the host's; any other key cancels and is the application's.
 * Returns 1 when the key was taken. */
static int go_to_key(ll_host *h, int key)
{
    size_t n = strlen(h->go_text);
    if (key >= '0' && key <= '9') {
        if (n + 1 < sizeof h->go_text) h->go_text[n] = (char)key, h->go_text[n + 1] = 0;
        return 1;
    }
    if (key == '\b') {
        if (n) h->go_text[n - 1] = 0;
        return 1;
    }
    h->go_to = 0;
    if (key == LL_KEY_ESCAPE) return 1;
    if (key != '\n') return 0;
    ll_error err = {0};
    if (!n)
        ll_fail(&err, EINVAL, "no frame number typed (try: alt+g, the digits, then enter)");
    else if (timeline_go(h, (int64_t)strtoull(h->go_text, NULL, 10), &err) == 0)
        return 1;
    host_set_error(h, err.msg);
    h->key_failures++;
    return 1;
}

/* Parked on a frame, an application key takes over: the recording is cut
 * there and records live input from there, like recording over a tape. */
static void timeline_take_over(ll_host *h)
{
    ll_loop_status st = ll_loop_status_get(h->loop);
    if (!h->parked) return;
    if (st.mode != LL_LOOP_PLAYING || !st.paused || st.slot != h->slot) {
        h->parked = 0; /* played on, stopped, or another slot: not parked any more */
        return;
    }
    int pressed = 0;
    for (int k = 0; k < 256 && !pressed; k++) pressed = h->input.pressed[k];
    if (!pressed) return;
    ll_error err;
    h->parked = 0;
    if (ll_loop_timeline_cut(h->loop, &err) != 0) {
        host_set_error(h, err.msg);
        return;
    }
    ll_loop_pause(h->loop, 0);
    char msg[LL_ERROR_MSG];
    snprintf(msg, sizeof msg,
             "slot %d cut at frame %llu: recording your input from here (alt+l loops it)", h->slot,
             (unsigned long long)st.play_pos);
    host_note(h, msg);
}

/* SDL: a click on the bar goes to the frame under it; holding the button
 * and moving drags the position. The application does not see the click.
 * The mouse is in canvas units: the bar is 9 pixels under a canvas of
 * pixels, the row of cells under one of cells. */
static void timeline_mouse(ll_host *h)
{
    const ll_canvas *c = &h->canvas;
    ll_platform_input *in = &h->input;
    int left = in->mouse_buttons & 1;
    int on_bar = in->mouse_y >= c->height && in->mouse_y < c->height + (c->pixels ? 9 : 1);
    if (h->p.no_overlay || !left) {
        h->dragging = 0;
        return;
    }
    if (!on_bar && !h->dragging) return;
    h->dragging = 1;
    in->mouse_buttons &= ~1u;
    host_bar bar = {.frames = ll_loop_slot_frames_get(h->loop, h->slot)};
    uint64_t to = host_bar_frame_at(&bar, in->mouse_x, c->width);
    ll_loop_status st = ll_loop_status_get(h->loop);
    if (h->parked && st.mode == LL_LOOP_PLAYING && st.play_pos == to) return;
    ll_error err;
    if (timeline_go(h, (int64_t)to, &err) != 0) host_set_error(h, err.msg);
}

/* The host's keys, all of them: Alt with a key, so that no key the
 * application may want is taken (a terminal sends ESC before the key for
 * Alt+key; SDL reports the modifier). A key bound here goes to the host
 * and never to the application; the help text is made from this table. */
typedef struct host_binding {
    int key, last;    /* the key, or the range key..last */
    const char *name; /* as the help shows it; NULL: an alias, not shown */
    const char *help;
    int (*act)(ll_host *h, int key, ll_error *err);
} host_binding;

#define ALT(c) (LL_KEY_ALT | (c))
/* Starts the state over with the code in use: the way on after a layout
 * change the build cannot migrate. */
static int key_reinit(ll_host *h, int key, ll_error *err)
{
    (void)key;
    if (ll_loop_reinit(h->loop, err) != 0) return -1;
    host_set_error(h, "");
    return 0;
}

/* Jumps to the first frame the last reload changed in the slot's recording. */
static int key_jump(ll_host *h, int key, ll_error *err)
{
    (void)key;
    uint64_t pos;
    if (host_compare_changed_get(&h->compare, h->slot, &pos, err) != 0) return -1;
    /* Paused on the changed frame's picture: the state after it ran. */
    return timeline_go(h, (int64_t)pos + 1, err);
}

/* Toggles the previous and the current build's picture of this frame. */
static int key_old_new(ll_host *h, int key, ll_error *err)
{
    (void)key;
    return host_compare_toggle(&h->compare, h->loop, h->slot, &h->canvas, err);
}

static const host_binding host_bindings[] = {
    {ALT('l'), 0, "alt+l", "record / loop / stop (Handmade Hero's L)", key_loop},
    {ALT('1'), ALT('9'), "alt+1-9", "choose the slot (after LIVE); one holding a recording plays",
     key_slot},
    {ALT(' '), 0, "alt+space", "pause / resume", key_pause},
    {ALT('.'), 0, "alt+.", "single step (pauses); paused at a fault: skip the frame", key_step},
    {ALT('-'), 0, "alt+- alt++", "slower / faster (1/16 to 16; alt+= too)", key_speed},
    {ALT('+'), 0, NULL, NULL, key_speed},
    {ALT('='), 0, NULL, NULL, key_speed},
    {ALT('b'), 0, "alt+b", "jump back one second (the rewind window)", key_rewind},
    {ALT('k'), 0, "alt+k", "keep the rewind window as a loop in the slot and play it", key_keep},
    {ALT('s'), 0, "alt+s", "save the slot to the slot directory (--slots DIR)", key_save},
    {ALT('i'), 0, "alt+i", "re-init: start the state over with the code in use", key_reinit},
    {ALT('p'), 0, "alt+p", "save the picture as PNG (to --capture DIR or --slots DIR)",
     key_picture},
    {ALT('v'), 0, "alt+v", "start / stop a clip of the screen (an .mp4 there)", key_clip},
    {ALT(LL_KEY_LEFT), 0, "alt+left right", "timeline: back / forward one second (pauses there)",
     key_seek},
    {ALT(LL_KEY_RIGHT), 0, NULL, NULL, key_seek},
    {ALT(LL_KEY_HOME), 0, "alt+home end", "timeline: the recording's first / last frame", key_seek},
    {ALT(LL_KEY_END), 0, NULL, NULL, key_seek},
    {ALT('g'), 0, "alt+g", "timeline: go to frame N (type N, enter); a key there records anew",
     key_go_to},
    {ALT('j'), 0, "alt+j", "jump to the first frame the last reload changed in the slot", key_jump},
    {ALT('o'), 0, "alt+o", "the previous / current build's picture of this frame (pauses)",
     key_old_new},
    {ALT('?'), 0, "alt+?", "show / hide these keys (and the last build's output)", key_help},
    {ALT('q'), 0, "alt+q", "quit", key_quit},
};
#undef ALT

const char *ll_host_keys_help_get(void)
{
    static char text[4096];
    if (text[0]) return text;
    size_t at = 0;
    for (size_t i = 0; i < LL_ARRAY_COUNT(host_bindings); i++)
        if (host_bindings[i].name)
            at += (size_t)snprintf(text + at, sizeof text - at, "%-14s %s\n", host_bindings[i].name,
                                   host_bindings[i].help);
    return text;
}

/* Acts on a host key; returns 1 when the key was the host's (and so is not
 * passed to the application). */
static int host_key(ll_host *h, int key)
{
    for (size_t i = 0; i < LL_ARRAY_COUNT(host_bindings); i++) {
        const host_binding *b = &host_bindings[i];
        if (key != b->key && (key < b->key || key > b->last)) continue;
        ll_error err = {0};
        if (b->act(h, key, &err) != 0) {
            host_set_error(h, err.msg);
            h->key_failures++;
        }
        return 1;
    }
    return 0;
}

void host_presses_push(host_presses *q, int key)
{
    if (q->count == HOST_PRESSES) q->head++, q->count--;
    q->keys[(q->head + q->count++) % HOST_PRESSES] = key;
}

void ll_host_press(ll_host *h, int key)
{
    host_presses_push(&h->presses, key);
}

const ll_platform_input *ll_host_input_get(const ll_host *h)
{
    return &h->input;
}

/* The --keys events of this frame join the presses; their keys stay down
 * for their hold. */
static void script_keys(ll_host *h)
{
    const ll_keys *s = &h->script;
    for (; h->script_next < s->count && s->events[h->script_next].frame <= h->frame;
         h->script_next++) {
        const ll_key_event *e = &s->events[h->script_next];
        host_presses_push(&h->presses, e->key);
        uint64_t until = h->frame + e->hold;
        int index = ll_key_index_get(e->key);
        if (index >= 0 && until > h->script_held[index]) h->script_held[index] = until;
    }
    for (int k = 0; k < 256; k++)
        if (h->script_held[k] > h->frame) h->input.keys[k] = 1;
}

/* This frame's presses, in order, until a key comes a second time or the
 * typed queue is full (that press and the ones after it wait for the next
 * frame). A press shows as pressed and down for its frame, and in typed. */
static void gather_keys(ll_host *h)
{
    uint8_t seen[LL_KEY_SHIFT * 2] = {0};
    memset(h->input.pressed, 0, sizeof h->input.pressed);
    h->input.typed_count = 0;
    script_keys(h);
    host_presses *q = &h->presses;
    while (q->count && h->input.typed_count < LL_ARRAY_COUNT(h->input.typed)) {
        int key = q->keys[q->head % HOST_PRESSES] & (LL_KEY_SHIFT * 2 - 1);
        if (seen[key]) break;
        seen[key] = 1;
        q->head++, q->count--;
        if (h->go_to && !(key & LL_KEY_ALT) && go_to_key(h, key)) {
            h->input.keys[key & 0xff] = 0; /* the host's: not held for the application */
            continue;
        }
        if (host_key(h, key)) continue;
        int index = ll_key_index_get(key);
        if (index < 0) continue; /* an Alt key the host does not bind */
        h->input.pressed[index] = h->input.keys[index] = 1;
        h->input.typed[h->input.typed_count++] = (uint16_t)key;
    }
}

/* --- a fault the process cannot survive ----------------------------------- */

/* The C library may hold a lock for good (see ll_module_protect): save the
 * last good frame's state without malloc or stdio, give the terminal back,
 * and stop. The one line says what happened and where the state is. */
static void host_fatal(ll_host *h, const ll_error *fault)
{
    if (h->fatal[0]) return;
    ll_error serr = {0};
    int saved = ll_snap_save_newest_extra(&h->block, h->rescue, h->layout_version, h->codemap,
                                          h->codemap_size, LL_MODULE_CODEMAP_TAG, &serr) == 0;
    fault_restore_all();
    if (saved)
        snprintf(h->fatal, sizeof h->fatal,
                 "cannot continue: %.900s; the last good frame's state is saved to %.250s "
                 "(try: looplive run %.250s --resume %.250s)",
                 fault->msg, h->rescue, h->lib, h->rescue);
    else
        snprintf(h->fatal, sizeof h->fatal,
                 "cannot continue: %.900s; the last good frame's state could not be saved: "
                 "%.600s",
                 fault->msg, serr.msg);
    h->quit = 1;
}

/* Notes an error from a protected call; 1 when it is fatal. */
static int host_call_failed(ll_host *h, const ll_error *err)
{
    if (err->code == ENOTRECOVERABLE) {
        host_fatal(h, err);
        return 1;
    }
    host_crashed(h, err->msg);
    return 0;
}

/* --- one frame ---------------------------------------------------------- */

struct render_call {
    const ll_app *app;
    const ll_block *block;
    ll_canvas *canvas;
};

static void call_render(void *ctx)
{
    struct render_call *c = ctx;
    c->app->render(c->block, c->canvas);
}

/* Draws lines of text from row y on, over the picture; returns the next row. */
static int draw_lines(ll_canvas *c, int y, const char *text)
{
    for (const char *line = text; *line; y++) {
        size_t n = strcspn(line, "\n");
        char row[128];
        snprintf(row, sizeof row, " %.*s ", (int)(n < 120 ? n : 120), line);
        size_t len = strlen(row);
        if (c->pixels) {
            for (int py = y * 9 - 1; py >= 0 && py < y * 9 + 8 && py < c->height; py++)
                for (int px = 4; px < 4 + 6 * (int)len && px < c->width; px++)
                    c->pixels[(size_t)py * (size_t)c->width + (size_t)px] = 0xff202020;
            host_font_draw(c->pixels, c->width, c->height, 4, y * 9, row, 0xffffff80);
        } else if (c->cells && y < c->height && c->width > 2) {
            if (len > (size_t)c->width - 2) len = (size_t)c->width - 2;
            ll_text_style help = {.fg = 11};
            for (size_t i = 0; i < len; i++) ll_text_put(c, 2 + (int)i, y, (uint8_t)row[i], help);
        }
        line += n + (line[n] == '\n');
    }
    return y;
}

/* The keys, then the block as the memory layer describes it. */
static void draw_help(ll_host *h)
{
    char block[1024];
    int y = draw_lines(&h->canvas, 1, ll_host_keys_help_get());
    if (h->builder) {
        char log[4200];
        snprintf(log, sizeof log, "last build's output: %s", host_builder_log(h->builder));
        y = draw_lines(&h->canvas, y, log);
    }
    ll_block_describe_str(&h->block, block, sizeof block);
    /* A blank line before the block when the canvas has room for it. */
    draw_lines(&h->canvas, y + (y + 1 < h->canvas.height), block);
}

/* Whether the module caught a fault since the last time it was asked. */
static int module_faulted(ll_host *h)
{
    ll_module_info info;
    ll_module_info_get(h->module, &info);
    int faulted = info.faults != h->faults_seen;
    h->faults_seen = info.faults;
    return faulted;
}

/* A read-only call into the application (render, audio) on the state the
 * last update left. */
static ll_app_call host_read_call(ll_host *h)
{
    uint64_t next = ll_loop_status_get(h->loop).frame;
    return (ll_app_call){ll_module_app_block_get(h->module), next ? next - 1 : 0, 1.0 / h->p.fps, 1,
                         NULL};
}

static void render(ll_host *h)
{
    ll_error err;
    const ll_app *app = ll_loop_app_get(h->loop, &err);
    ll_canvas_clear(&h->canvas);
    if (app && app->render) {
        struct render_call c = {
            .app = app, .block = ll_module_app_block_get(h->module), .canvas = &h->canvas};
        uint64_t t0 = ll_now_ns();
        ll_app_call call = host_read_call(h);
        /* render must not write the block: roll back to the loop's snapshot of
         * the last frame rather than walking the page tables for one more. */
        call.canvas = &h->canvas; /* where ncurses' names draw (looplive_text.h) */
        if (ll_app_call_run(h->module, &call, call_render, &c, ll_loop_snap_get(h->loop), &err) !=
            0) {
            if (host_call_failed(h, &err)) return;
            module_faulted(h);
        }
        h->app_ns += ll_now_ns() - t0;
    }
    if (h->show_help) draw_help(h);
}

/* The optional looplive_audio of the version in use: looked up in the
 * module's current copy, again after each load. */
static ll_app_audio *audio_fn(ll_host *h)
{
    ll_module_info info;
    ll_module_info_get(h->module, &info);
    if (info.version == h->audio_version) return h->audio_fn;
    h->audio_version = info.version;
    h->audio_fn = NULL;
    void *dl = info.copy_path ? dlopen(info.copy_path, RTLD_NOW | RTLD_NOLOAD) : NULL;
    if (dl) {
        h->audio_fn = (ll_app_audio *)dlsym(dl, "looplive_audio");
        dlclose(dl); /* the module keeps its own reference */
    }
    return h->audio_fn;
}

struct audio_call {
    ll_app_audio *fn;
    const ll_block *block;
    int16_t *samples;
    uint32_t frames, rate;
};

static void call_audio(void *ctx)
{
    struct audio_call *c = ctx;
    c->fn(c->block, c->samples, c->frames, c->rate);
}

/* Keeps two to three frames of sound queued ahead of the device. */
static void play_audio(ll_host *h)
{
    uint32_t per = h->audio_rate / (uint32_t)h->p.fps;
    ll_app_audio *fn = audio_fn(h);
    if (!fn || h->platform.audio_queued(&h->platform) > 2 * per) return;
    struct audio_call c = {fn, ll_module_app_block_get(h->module), h->audio_buf, per,
                           h->audio_rate};
    ll_app_call call = host_read_call(h);
    ll_error err;
    uint64_t t0 = ll_now_ns();
    if (ll_app_call_run(h->module, &call, call_audio, &c, ll_loop_snap_get(h->loop), &err) != 0) {
        if (!host_call_failed(h, &err)) module_faulted(h);
    } else {
        h->platform.audio_queue(&h->platform, h->audio_buf, per);
    }
    h->app_ns += ll_now_ns() - t0;
}

/* A clip takes every frame the host shows, until alt+v again. */
static void clip_frame(ll_host *h)
{
    ll_error err;
    host_picture(h);
    if (ll_video_frame_write(h->clip, h->shot_pixels, &err) == 0) return;
    host_set_error(h, err.msg);
    ll_video_close(h->clip, NULL);
    h->clip = NULL;
}

/* Functions of earlier builds too small for the forwarding jump keep
 * running old code when called through an old pointer: say which, and the
 * flags that fix it. (A function the new build lacks is the user's edit.) */
static void warn_unforwarded(ll_host *h)
{
    ll_module_info info;
    ll_module_info_get(h->module, &info);
    size_t small = 0, shown = info.unforwarded_count < LL_MODULE_STALE_MAX ? info.unforwarded_count
                                                                           : LL_MODULE_STALE_MAX;
    const char *first = NULL;
    for (size_t i = 0; i < shown; i++)
        if (info.unforwarded[i].reason == LL_FORWARD_TOO_SMALL) {
            if (!first) first = info.unforwarded[i].name;
            small++;
        }
    if (!small) return;
    char msg[sizeof h->error];
    snprintf(msg, sizeof msg,
             "reloaded, but %zu function%s of earlier builds (%s%s) %s too small to forward to "
             "the new code: old pointers to %s run the old code (try: build with %s)",
             small, small == 1 ? "" : "s", first, small > 1 ? ", ..." : "",
             small == 1 ? "is" : "are", small == 1 ? "it" : "them", LL_PATCHABLE_CFLAGS);
    host_set_error(h, msg);
}

static void poll_code(ll_host *h)
{
    ll_error err;
    if (h->builder) {
        int b = host_builder_poll(h->builder, &err);
        if (b < 0) {
            host_set_error(h, err.msg);
            copy_text(h->build_error, sizeof h->build_error, err.msg);
        } else if (b > 0 && h->build_error[0]) {
            if (!strcmp(h->error, h->build_error)) h->error[0] = 0;
            h->build_error[0] = 0;
        }
        if (b != 0) h->builds++;
    }
    uint64_t before = ll_module_version_get(h->module);
    int r = ll_module_poll(h->module, &err);
    if (r > 0) {
        h->reloads++;
        h->error[0] = h->build_error[0] = 0;
        const ll_app *app = ll_loop_app_get(h->loop, NULL);
        if (app) h->layout_version = app->layout_version;
        keep_codemap(h);
        warn_unforwarded(h);
        char why[LL_ERROR_MSG];
        host_compare_reload(&h->compare, h->loop, h->slot, h->p.slot_dir, before,
                            ll_module_version_get(h->module), why, sizeof why);
        if (why[0]) host_set_error(h, why);
    } else if (r < 0) {
        host_set_error(h, err.msg);
    }
}

/* The comparisons' news: the slot files' results, or a failure. */
static void poll_compare(ll_host *h)
{
    char note[LL_ERROR_MSG], error[LL_ERROR_MSG];
    int got = host_compare_poll(&h->compare, ll_module_version_get(h->module), note, sizeof note,
                                error, sizeof error);
    host_compare_marks(&h->compare, h, h->loop);
    /* The foreground's own error (a fault, a build) keeps the line: the
     * first line says the re-simulation failed, alt+j says why. */
    int is_error;
    const char *shown = host_line_shown(h, &is_error);
    if ((got & HOST_COMPARE_ERROR) && (!shown[0] || !is_error)) {
        host_set_error(h, error);
        if (got & HOST_COMPARE_NOTE) host_note_after_error(h, note);
    } else if (got & HOST_COMPARE_NOTE)
        host_note(h, note);
}

static void count_fps(ll_host *h, uint64_t now)
{
    h->fps_frames++;
    if (now - h->fps_t0 >= 1000000000ull) {
        h->fps = (double)h->fps_frames * 1e9 / (double)(now - h->fps_t0);
        h->fps_t0 = now;
        h->fps_frames = 0;
    }
}

/* --- the timeline bar ------------------------------------------------------ */

int host_bar_marks_set(ll_host *h, int slot, const uint8_t *marks, uint64_t count,
                       uint64_t first_changed)
{
    if (slot < 0 || slot >= LL_LOOP_SLOTS) return -1;
    uint8_t *copy = count ? malloc(count) : NULL;
    if (count && !copy) return -1;
    if (count) memcpy(copy, marks, count);
    free(h->bar_marks[slot].marks);
    h->bar_marks[slot].marks = copy;
    h->bar_marks[slot].count = count;
    h->bar_marks[slot].first_changed = count ? first_changed : UINT64_MAX;
    return 0;
}

/* The bar for this frame: the selected slot's recording, where the loop
 * is in it when it plays or records it (else at its start), its marks. */
host_bar host_bar_now(const ll_host *h)
{
    ll_loop_status st = ll_loop_status_get(h->loop);
    uint64_t frames = ll_loop_slot_frames_get(h->loop, h->slot);
    host_bar bar = {.frames = frames, .first_changed = UINT64_MAX};
    if (st.mode == LL_LOOP_PLAYING && st.slot == h->slot) bar.pos = st.play_pos;
    if (st.mode == LL_LOOP_RECORDING && st.slot == h->slot) bar.pos = frames;
    if (bar.pos > frames) bar.pos = frames;
    const host_slot_marks *m = &h->bar_marks[h->slot];
    bar.marks = m->marks;
    bar.mark_count = m->count < frames ? m->count : frames;
    if (m->marks && m->first_changed < frames) bar.first_changed = m->first_changed;
    return bar;
}

int ll_host_frame_run(ll_host *h)
{
    uint64_t t0 = ll_now_ns(), app0 = h->app_ns;
    poll_code(h);
    poll_compare(h);
    if (h->platform.poll(&h->platform, &h->polled, &h->presses)) h->quit = 1;
    h->input = h->polled;
    gather_keys(h);
    timeline_mouse(h);
    timeline_take_over(h);
    ll_error err;
    uint64_t u0 = ll_now_ns();
    if (ll_loop_frame_run(h->loop, &h->input, &err) < 0) {
        if (err.code == ENOTRECOVERABLE) {
            host_fatal(h, &err);
            return 0;
        }
        /* A refusal (a layout change, a slot that no longer fits) is not a
         * crash: only a fault the module caught is. */
        if (module_faulted(h))
            host_crashed(h, err.msg);
        else
            host_set_error(h, err.msg);
    }
    h->app_ns += ll_now_ns() - u0;
    ll_loop_status st = ll_loop_status_get(h->loop);
    if (st.quit_asked) {
        /* The application ends the run (ll_app quit): this frame is shown. */
        h->quit = h->quit_asked = 1;
        copy_text(h->quit_msg, sizeof h->quit_msg, st.quit);
    }
    render(h);
    if (h->fatal[0]) return 0;
    char view_error[LL_ERROR_MSG];
    if (host_compare_view_poll(&h->compare, h->loop, h->slot, &h->block, &h->canvas, view_error,
                               sizeof view_error))
        host_set_error(h, view_error);
    if (h->audio_rate) play_audio(h);
    if (h->fatal[0]) return 0;
    char status[512];
    if (!h->p.no_overlay) ll_host_overlay_format(h, status, sizeof status);
    host_bar bar = host_bar_now(h);
    h->platform.present(&h->platform, &h->canvas, h->p.no_overlay ? NULL : status,
                        h->p.no_overlay ? NULL : &bar);
    h->frame++;
    if (h->clip) clip_frame(h);
    for (int i = 0; i < LL_HOST_SHOTS && h->p.shots[i].path; i++)
        if (h->frame == h->p.shots[i].frame) take_screenshot(h, h->p.shots[i].path);
    uint64_t t1 = ll_now_ns();
    count_fps(h, t1);
    h->host_ns += (t1 - t0) - (h->app_ns - app0);
    if (h->p.frames && h->frame >= h->p.frames) h->quit = 1;
    return !h->quit;
}

int ll_host_run(ll_host *h, ll_error *err)
{
    uint64_t period = 1000000000ull / (uint64_t)h->p.fps;
    uint64_t next = ll_now_ns();
    while (ll_host_frame_run(h)) {
        if (h->p.headless) continue;
        next += period;
        uint64_t now = ll_now_ns();
        /* Behind by more than a frame (a build, a slow frame): start over
         * from now rather than rushing to catch up. */
        if (now > next + period) next = now;
        if (next > now) {
            struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    if (h->fatal[0]) return ll_fail(err, ENOTRECOVERABLE, "%s", h->fatal);
    return 0;
}

const ll_canvas *ll_host_canvas_get(const ll_host *h)
{
    return &h->canvas;
}

/* --- status ------------------------------------------------------------- */

void ll_host_status_get(const ll_host *h, ll_host_status *out)
{
    ll_loop_status st = ll_loop_status_get(h->loop);
    *out = (ll_host_status){
        .frame = h->frame,
        .app_frame = st.frame,
        .fps = h->fps,
        .target_fps = h->p.fps,
        .recording = st.mode == LL_LOOP_RECORDING,
        .looping = st.mode == LL_LOOP_PLAYING,
        .paused = st.paused,
        .fault_paused = st.fault_paused,
        .slot = h->slot,
        .loop_pos = st.play_pos,
        .loop_len = st.slot_frames,
        .hash = st.hash,
        .speed = st.speed,
        .reloads = h->reloads,
        .crashes = h->crashes,
        .builds = h->builds,
        .key_failures = h->key_failures,
        .host_ns = h->host_ns,
        .app_ns = h->app_ns,
    };
    copy_text(out->error, sizeof out->error, h->error);
    copy_text(out->message, sizeof out->message, h->message);
    copy_text(out->quit, sizeof out->quit, h->quit_msg);
    out->quit_asked = h->quit_asked;
}

static void format_speed(double s, char *buf, size_t cap)
{
    if (s >= 1)
        snprintf(buf, cap, "x%g", s);
    else
        snprintf(buf, cap, "x1/%g", 1 / s);
}

/* The error as the status line shows it: the first clause, a signal
 * without its description ("SIGSEGV at address 0x0 in update+0x9"), and
 * the version a fault rolled the code back to. */
static void short_error(const char *msg, char *out, size_t cap)
{
    const char *back = strstr(msg, "; rolled back to version ");
    size_t n = 0;
    for (const char *s = msg; *s && n + 1 < cap; s++) {
        if (!strncmp(s, "; ", 2) || !strncmp(s, ", called through", 16)) break;
        if (s == msg + strcspn(msg, " ") && !strncmp(msg, "SIG", 3) && !strncmp(s, " (", 2)) {
            const char *close = strchr(s, ')');
            if (close) {
                s = close;
                continue;
            }
        }
        out[n++] = *s;
    }
    out[n] = 0;
    if (back && !strncmp(msg, "SIG", 3))
        snprintf(out + n, cap - n, "; %.*s", (int)strcspn(back + 2, ";"), back + 2);
}

/* The second line when there is nothing to report. */
static const char host_hint[] =
    "alt+? keys  alt+l record/loop  alt+space pause  alt+. step  alt+q quit";

char *ll_host_overlay_format(const ll_host *h, char *buf, size_t cap)
{
    ll_host_status s;
    ll_host_status_get(h, &s);
    char mode[64], speed[16], compare[64];
    host_compare_overlay(&h->compare, s.slot, compare, sizeof compare);
    if (s.recording)
        snprintf(mode, sizeof mode, "REC %d %llu", s.slot, (unsigned long long)s.loop_len);
    else if (s.looping)
        snprintf(mode, sizeof mode, "LOOP %d %llu/%llu", s.slot, (unsigned long long)s.loop_pos,
                 (unsigned long long)s.loop_len);
    else
        snprintf(mode, sizeof mode, "LIVE %d", s.slot);
    format_speed(s.speed, speed, sizeof speed);
    char line[sizeof s.error];
    int is_error;
    /* Paused at a fault: the fault stays on the line as long as the pause. */
    const char *shown = s.fault_paused ? h->error : host_line_shown(h, &is_error);
    if (s.fault_paused) is_error = 1;
    const char *view = host_compare_view_line(&h->compare);
    if (view && !s.fault_paused) shown = view, is_error = 0;
    if (is_error)
        short_error(shown, line, sizeof line);
    else
        copy_text(line, sizeof line, shown);
    if (h->go_to) {
        is_error = 0;
        snprintf(line, sizeof line, "go to frame: %s_ (0 to %llu; enter goes, escape cancels)",
                 h->go_text, (unsigned long long)ll_loop_slot_frames_get(h->loop, h->slot));
    }
    snprintf(buf, cap, "%.0f fps | frame %llu | %s%s | %s | reloads %llu%s%s\n%s%s%s", s.fps,
             (unsigned long long)s.app_frame, mode,
             s.fault_paused ? " PAUSED AT FAULT"
             : s.paused     ? " PAUSED"
                            : "",
             speed, (unsigned long long)s.reloads, compare,
             h->builder && host_builder_busy(h->builder) ? " | building" : "",
             is_error && line[0] ? "error: " : "", line[0] ? line : host_hint,
             s.fault_paused ? " (alt+. skips the frame; a new build resumes)" : "");
    return buf;
}
