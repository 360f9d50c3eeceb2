/* replay.c - `looplive replay`: run a recording through an application
 * library headless; print, check or compare the state hash of every frame;
 * or make a recording from a script of key presses. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cli_error in a form the static analyser sees returning status. */
#define fail(status, ...) (cli_error(status, __VA_ARGS__), status)

/* --script's block base when the advisor has none (e.g. under ASan): 32 TiB,
 * clear of ASan, PIE and libraries. By default it asks the advisor, as
 * `looplive run` does, so that a scripted recording loads as a slot there. */
#define FALLBACK_BASE 0x200000000000ull

typedef struct replay_opts {
    const char *module, *recording, *check, *script, *output, *hashes, *seek;
    int determinism, quiet;
    uint64_t base; /* 0: advised */
    double fps;
    FILE *out;       /* the command's own standard output */
    FILE *hash_out;  /* where hashes go: --hashes FILE or out */
    cli_capture cap; /* --frames, --video, --check-frames */
} replay_opts;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: looplive replay --module LIB --recording FILE [--check HASHES | --determinism |\n"
        "                       --hashes FILE | --seek FRAME[,FRAME...]]\n"
        "       looplive replay --module LIB --recording FILE [--frames DIR] [--video FILE]\n"
        "                       [--check-frames DIR] [--platform sdl] [--every N] ...\n"
        "       looplive replay --module LIB --script SCRIPT --output FILE [--base ADDR]\n"
        "\n"
        "Runs a recording through an application library with no window or terminal\n"
        "and prints one state hash per frame (\"FRAME HASH\", hex), costing the pages\n"
        "each frame wrote. What the application prints goes to standard error, so it\n"
        "never mixes with the hashes.\n"
        "\n"
        "  -m, --module LIB       the application library (exports looplive_app)\n"
        "  -r, --recording FILE   a recording (.llrec) saved by a host or --output\n"
        "  -c, --check HASHES     compare with a hash file; exit 1 naming the first\n"
        "                         frame that differs\n"
        "  -H, --hashes FILE      write the hashes to FILE instead of standard output\n"
        "  -d, --determinism      run every frame twice from the same state; exit 1\n"
        "                         naming the first frame and byte (and its arena)\n"
        "                         where the runs differ\n"
        "      --seek FRAME,...   go to each FRAME through the timeline (the nearest\n"
        "                         keyframe, then at most 59 frames; keyframes are made\n"
        "                         on the way) and print its line as a full replay\n"
        "                         prints it: the state after FRAME\n"
        "  -s, --script SCRIPT    make a recording: init the application on a fresh\n"
        "                         block, feed it the script's keys, record every frame\n"
        "  -o, --output FILE      where --script writes the recording\n"
        "  -b, --base auto|ADDR   block base for --script (default auto: the address\n"
        "                         looplive run advises for the same block size, so\n"
        "                         the recording loads as a slot there; 0x%llx when\n"
        "                         there is no advice)\n"
        "      --fps N            frames per second for --script (default 60)\n"
        "  -q, --quiet            print no hashes\n"
        "\n"
        "Pictures (hashes are then printed only with --hashes FILE or --check):\n"
        "      --frames DIR       write each frame as DIR/frame-000123.png (DIR is made\n"
        "                         when missing)\n"
        "      --video FILE       write a clip, .mp4, .webm or .gif by the name, through\n"
        "                         ffmpeg, at the recording's frames per second\n"
        "      --scale N          the clip's pixels per picture pixel (default 1)\n"
        "      --check-frames DIR compare each frame that has a DIR/frame-000123.png with\n"
        "                         it; exit 1 naming the first that differs, how many\n"
        "                         pixels and where, with a diff image beside it\n"
        "      --tolerance N      a channel may differ by N (0-255, default 0)\n"
        "      --every N          only every Nth frame (a clip plays N times shorter)\n"
        "      --from N, --to N   only frames N to N, counting from 0 (default: all)\n"
        "      --platform terminal|sdl  the canvas the application draws: cells drawn\n"
        "                         with the host's font (default), or pixels (sdl), as\n"
        "                         looplive run --platform gives it\n"
        "      --canvas WxH       its size in cells or pixels (default 80x22 or 640x360)\n"
        "  -h, --help             this help\n"
        "\n"
        "A script has one line per run of frames: COUNT [KEY...], holding the keys for\n"
        "COUNT frames, pressed on the first (the same as `looplive run --keys\n"
        "FRAME:KEY:COUNT`). KEY is one character, or space, enter, tab, backspace,\n"
        "escape, left, right, up, down, home, end, pageup, pagedown, insert, delete,\n"
        "f1-f12, comma, colon, hash. '#' starts a comment.\n"
        "\n"
        "exit status: 0 ok, 1 a failure or a difference, 2 bad usage\n",
        FALLBACK_BASE);
}

/* A whole number from min to max for a picture option. */
static int parse_count(const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno == ERANGE || v < min || v > max)
        return fail(2,
                    "--%s '%s' is not a whole number from %" PRIu64 " to %" PRIu64
                    " (try: looplive replay --help)",
                    opt, text, min, max);
    *out = v;
    return 0;
}

static int parse_capture(cli_capture *c, int key, const char *opt, const char *v)
{
    uint64_t n = 0;
    long w, h;
    char tail;
    switch (key) {
    case 'F':
        return c->frames_dir = v, 0;
    case 'V':
        return c->video = v, 0;
    case 'C':
        return c->check_dir = v, 0;
    case 'P':
        if (strcmp(v, "sdl") != 0 && strcmp(v, "terminal") != 0)
            return fail(2, "unknown platform '%s' (try: --platform terminal or sdl)", v);
        return c->platform = v, 0;
    case 'W':
        if (sscanf(v, "%ldx%ld%c", &w, &h, &tail) != 2 || w < 1 || h < 1 || w > 8192 || h > 8192)
            return fail(2,
                        "--canvas '%s' is not WIDTHxHEIGHT up to 8192x8192 (try: --canvas "
                        "320x180)",
                        v);
        return c->width = (int)w, c->height = (int)h, 0;
    case 'S':
    case 'T':
        if (parse_count(opt, v, key == 'S', key == 'S' ? 16 : 255, &n) != 0) return 2;
        *(key == 'S' ? &c->scale : &c->tolerance) = (int)n;
        return 0;
    case 'E':
        return parse_count(opt, v, 1, UINT64_MAX, &c->every);
    case 'A':
        return parse_count(opt, v, 0, UINT64_MAX, &c->from);
    default:
        return parse_count(opt, v, 0, UINT64_MAX, &c->to);
    }
}

static int parse(int argc, char **argv, replay_opts *o)
{
    static const struct option longs[] = {
        {"module", required_argument, 0, 'm'},
        {"recording", required_argument, 0, 'r'},
        {"check", required_argument, 0, 'c'},
        {"determinism", no_argument, 0, 'd'},
        {"hashes", required_argument, 0, 'H'},
        {"script", required_argument, 0, 's'},
        {"output", required_argument, 0, 'o'},
        {"base", required_argument, 0, 'b'},
        {"fps", required_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {"frames", required_argument, 0, 'F'},
        {"video", required_argument, 0, 'V'},
        {"check-frames", required_argument, 0, 'C'},
        {"scale", required_argument, 0, 'S'},
        {"tolerance", required_argument, 0, 'T'},
        {"every", required_argument, 0, 'E'},
        {"from", required_argument, 0, 'A'},
        {"to", required_argument, 0, 'Z'},
        {"platform", required_argument, 0, 'P'},
        {"canvas", required_argument, 0, 'W'},
        {"seek", required_argument, 0, 'K'},
        {0, 0, 0, 0},
    };
    *o = (replay_opts){.fps = 60, .cap = {.to = UINT64_MAX, .every = 1}};
    optind = 1;
    opterr = 0;
    int c;
    ll_error err;
    int li = 0;
    while ((c = getopt_long(argc, argv, ":m:r:c:dH:s:o:b:qh", longs, &li)) != -1) {
        switch (c) {
        case 'm':
            o->module = optarg;
            break;
        case 'r':
            o->recording = optarg;
            break;
        case 'c':
            o->check = optarg;
            break;
        case 'd':
            o->determinism = 1;
            break;
        case 'H':
            o->hashes = optarg;
            break;
        case 's':
            o->script = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'K':
            if (!optarg[strspn(optarg, "0123456789,")] && isdigit((unsigned char)optarg[0]))
                o->seek = optarg;
            else
                return fail(2, "bad --seek '%s': want frame numbers, e.g. --seek 100,5000", optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'b':
            if (!strcmp(optarg, "auto"))
                o->base = 0;
            else if (ll_size_parse(optarg, &o->base, &err) != 0 || !o->base)
                return fail(2, "bad --base '%s': not auto or an address (try: --base auto)",
                            optarg);
            break;
        case 'f':
            o->fps = strtod(optarg, NULL);
            if (!(o->fps > 0 && o->fps <= 10000))
                return fail(2, "bad --fps '%s': want 1 to 10000", optarg);
            break;
        case 'F':
        case 'V':
        case 'C':
        case 'S':
        case 'T':
        case 'E':
        case 'A':
        case 'Z':
        case 'P':
        case 'W':
            if (parse_capture(&o->cap, c, longs[li].name, optarg) != 0) return 2;
            break;
        case ':':
            return fail(2, "%s needs a value (try: looplive replay --help)", argv[optind - 1]);
        default:
            return fail(2, "unknown option '%s' (try: looplive replay --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(2, "unexpected argument '%s' (try: looplive replay --help)", argv[optind]);
    if (!o->module) return fail(2, "replay needs --module LIB (try: looplive replay --help)");
    if (!o->recording == !o->script)
        return fail(2, "replay needs one of --recording FILE or --script SCRIPT (try: "
                       "looplive replay --help)");
    if (o->script && !o->output)
        return fail(2, "--script needs --output FILE (try: looplive replay --help)");
    if (o->check && o->determinism) return fail(2, "--check and --determinism do not go together");
    if (cli_capture_wanted(&o->cap) && (o->script || o->determinism))
        return fail(2, "--frames, --video and --check-frames go with --recording, not with %s",
                    o->script ? "--script" : "--determinism");
    if (o->cap.from > o->cap.to)
        return fail(2,
                    "--from %" PRIu64 " is after --to %" PRIu64 " (try: --from 0 --to %" PRIu64 ")",
                    o->cap.from, o->cap.to, o->cap.to);
    if (cli_capture_wanted(&o->cap) && !o->hashes) o->quiet = 1;
    if (o->seek && (cli_capture_wanted(&o->cap) || o->check || o->determinism || o->script))
        return fail(2, "--seek goes with --recording alone (try: without --check, --determinism, "
                       "--script and the capture options)");
    if (o->hashes && (o->check || o->determinism || o->quiet))
        return fail(2, "--hashes FILE writes hashes; --check, --determinism and --quiet write none "
                       "(try: one of them)");
    return -1; /* go on */
}

/* ---- the session: block, module, loop --------------------------------- */

typedef struct session {
    ll_block block;
    ll_module *module;
    ll_loop *loop;
    const ll_app *app;
} session;

static void session_end(session *s)
{
    ll_loop_destroy(s->loop);
    ll_module_close(s->module);
    ll_snap_end(&s->block);
    ll_block_release(&s->block);
}

static const char *const app_symbols[] = {"looplive_app"};

static const ll_app *module_app(ll_module *m)
{
    ll_app_get *get = (ll_app_get *)ll_module_symbol_get(m, 0);
    return get ? get() : NULL;
}

/* The application's block size and the room its library's globals want at
 * the end of the block, from a first look at the library. */
static int probe_app(const replay_opts *o, uint64_t *size, uint64_t *room)
{
    ll_error err;
    ll_module *probe = ll_module_open(o->module, &err, .symbols = app_symbols, .symbol_count = 1);
    const ll_app *app = probe ? module_app(probe) : NULL;
    ll_module_info info = {0};
    if (probe) ll_module_info_get(probe, &info);
    uint64_t page = ll_page_size_get();
    *size = app ? (app->block_size + page - 1) / page * page : 0;
    *room = info.globals_room;
    ll_module_close(probe);
    if (!*size)
        return fail(1, "cannot load %s: %s", o->module,
                    probe ? "looplive_app() gives no block size" : err.msg);
    return 0;
}

static int session_begin(session *s, const replay_opts *o, uint64_t base, uint64_t size,
                         uint64_t room, double fps)
{
    ll_error err;
    memset(s, 0, sizeof *s);
    s->block.fd = -1;
    if (ll_block_reserve(&s->block, &err, .base = (void *)(uintptr_t)base, .size = size,
                         .name = "looplive-replay") != 0)
        return fail(1, "cannot replay: %s", err.msg);
    s->module = ll_module_open(o->module, &err, .symbols = app_symbols, .symbol_count = 1,
                               .block = &s->block, .globals_room = room);
    if (!s->module) {
        session_end(s);
        return fail(1, "cannot load %s: %s", o->module, err.msg);
    }
    s->app = module_app(s->module);
    if (!s->app || s->app->api_version < 1 || s->app->api_version > LL_APP_API_VERSION) {
        session_end(s);
        return fail(1,
                    "%s: looplive_app() returned no table of api version 1 to %d (try: "
                    "rebuild it against this looplive.h)",
                    o->module, LL_APP_API_VERSION);
    }
    s->loop = ll_loop_create(&s->block, &err, .module = s->module, .fps = fps,
                             .rewind_seconds = 1.0 / fps);
    if (!s->loop) {
        session_end(s);
        return fail(1, "cannot replay: %s", err.msg);
    }
    return 0;
}

/* ---- hashes ------------------------------------------------------------ */

/* One "FRAME HASH" line, frames counting up from 0; lines of any length
 * (getline), so a long line is one bad line, never two. */
int cli_hashes_read(FILE *f, const char *path, cli_hashes *h)
{
    char *line = NULL;
    size_t line_cap = 0;
    uint64_t cap = 0, lineno = 0;
    memset(h, 0, sizeof *h);
    int rc = 0;
    while (rc == 0 && getline(&line, &line_cap, f) >= 0) {
        lineno++;
        uint64_t frame, hash;
        char tail[2];
        if (line[0] == '#' || line[0] == '\n') continue;
        if (sscanf(line, "%" SCNu64 " %" SCNx64 " %1s", &frame, &hash, tail) != 2 ||
            frame != h->count) {
            rc = fail(1,
                      "%s:%" PRIu64 ": expected \"%" PRIu64 " HASH\" (try: a file "
                      "written by looplive replay)",
                      path, lineno, h->count);
            break;
        }
        if (h->count == cap) {
            cap = cap ? cap * 2 : 1024;
            uint64_t *p = realloc(h->hashes, cap * sizeof *p);
            if (!p) {
                rc = fail(1, "out of memory reading %s", path);
                break;
            }
            h->hashes = p;
        }
        h->hashes[h->count++] = hash;
    }
    free(line);
    if (rc != 0) {
        free(h->hashes);
        h->hashes = NULL;
        h->count = 0;
    }
    return rc;
}

static int read_hashes(const char *path, cli_hashes *h)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(1, "cannot open %s: %s (try: a file written by looplive replay --hashes FILE)",
                    path, strerror(errno));
    int rc = cli_hashes_read(f, path, h);
    fclose(f);
    return rc;
}

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

/* The frame's picture, drawn by the application (under crash protection,
 * as the host draws it), then written, added to the clip or checked. */
static int capture_frame(session *s, replay_opts *o, uint64_t f)
{
    ll_error err;
    const ll_app *app = ll_loop_app_get(s->loop, &err);
    cli_capture_clear(&o->cap);
    if (app && app->render) {
        struct render_call c = {app, ll_module_app_block_get(s->module), &o->cap.canvas};
        if (ll_module_protect(s->module, call_render, &c, &err,
                              .snap = ll_loop_snap_get(s->loop)) != 0) {
            if (err.code == ENOTRECOVERABLE) cli_die_unsafe("replay: ", "", "", err.msg);
            return fail(1, "frame %" PRIu64 ": render: %s", f, err.msg);
        }
    }
    return cli_capture_frame(&o->cap, f);
}

/* Runs the loaded slot 0 once; prints or checks each frame's hash. */
static int play_frames(session *s, replay_opts *o, uint64_t frames, const cli_hashes *want)
{
    ll_error err;
    if (ll_loop_play(s->loop, 0, &err) != 0) return fail(1, "cannot play: %s", err.msg);
    for (uint64_t f = 0; f < frames; f++) {
        if (ll_loop_frame_run(s->loop, NULL, &err) < 0) {
            if (err.code == ENOTRECOVERABLE) cli_die_unsafe("replay: ", "", "", err.msg);
            return fail(1, "frame %" PRIu64 ": %s", f, err.msg);
        }
        if (cli_capture_due(&o->cap, f) && capture_frame(s, o, f) != 0) return 1;
        uint64_t h = ll_loop_hash_get(s->loop);
        if (!o->quiet && !want) fprintf(o->hash_out, "%" PRIu64 " %016" PRIx64 "\n", f, h);
        if (want && (f >= want->count || want->hashes[f] != h)) {
            if (f >= want->count)
                return fail(1,
                            "frame %" PRIu64 ": %s ends after %" PRIu64
                            " frames (try: write it again with looplive replay --module %s "
                            "--recording %s --hashes %s)",
                            f, o->check, want->count, o->module, o->recording, o->check);
            return fail(1,
                        "frame %" PRIu64 " differs: hash %016" PRIx64 ", %s has %016" PRIx64
                        " (try: after a change to the code, regenerate them: looplive replay "
                        "--module %s --recording %s --hashes %s; else look for nondeterminism "
                        "with --determinism)",
                        f, h, o->check, want->hashes[f], o->module, o->recording, o->check);
        }
    }
    if (want && want->count != frames)
        return fail(1,
                    "%s has %" PRIu64 " frames, the recording %" PRIu64
                    " (try: write it again with looplive replay --module %s --recording %s "
                    "--hashes %s)",
                    o->check, want->count, frames, o->module, o->recording, o->check);
    if (want) fprintf(o->out, "%" PRIu64 " frames match %s\n", frames, o->check);
    return 0;
}

/* Where offset falls: " in arena NAME at +0xOFF", " in the block header"...;
 * nothing for a block without arenas. */
static void arena_name(const ll_block *block, uint64_t offset, char *buf, size_t cap)
{
    const char *what = ll_block_owner_get(block, offset);
    const ll_arena *a = ll_block_arena_find(block, what);
    if (a)
        snprintf(buf, cap, " in arena \"%s\" at +0x%" PRIx64, what,
                 offset - (uint64_t)(a->begin - block->base));
    else if (ll_block_arena_get(block, 0))
        snprintf(buf, cap, " (%s)", what);
    else if (cap)
        buf[0] = 0;
}

static int report_determinism(session *s, const replay_opts *o)
{
    ll_error err;
    ll_loop_diff d;
    if (ll_loop_determinism_check(s->loop, 0, &d, &err) != 0)
        return fail(1, "determinism check stopped at frame %" PRIu64 ": %s", d.frame, err.msg);
    if (!d.differs) {
        fprintf(o->out, "%" PRIu64 " frames, each the same when run twice\n", d.frames);
        return 0;
    }
    char arena[160] = "";
    arena_name(&s->block, d.offset, arena, sizeof arena);
    return fail(1,
                "runs differ at frame %" PRIu64 ", byte 0x%" PRIx64 "%s: 0x%02x then 0x%02x "
                "(hash %016" PRIx64 " then %016" PRIx64 ") (try: keep all state in the "
                "block, and read no clock, address or uninitialised memory in update)",
                d.frame, d.offset, arena, d.first, d.second, d.hash_first, d.hash_second);
}

/* Each frame of --seek through the timeline: the state after FRAME is the
 * one before FRAME + 1. */
static int seek_frames(session *s, const replay_opts *o, uint64_t frames)
{
    ll_error err;
    for (const char *at = o->seek; *at; at += *at == ',') {
        char *end;
        uint64_t f = strtoull(at, &end, 10);
        at = end;
        if (f >= frames)
            return fail(1,
                        "cannot seek to frame %" PRIu64 ": %s has %" PRIu64 " frames (try: 0 to "
                        "%" PRIu64 ")",
                        f, o->recording, frames, frames ? frames - 1 : 0);
        if (ll_loop_timeline_seek(s->loop, 0, f + 1, &err) != 0) {
            if (err.code == ENOTRECOVERABLE) cli_die_unsafe("replay: ", "", "", err.msg);
            return fail(1, "seeking to frame %" PRIu64 ": %s", f, err.msg);
        }
        if (!o->quiet)
            fprintf(o->hash_out, "%" PRIu64 " %016" PRIx64 "\n", f, ll_loop_hash_get(s->loop));
    }
    return 0;
}

static int replay_recording(replay_opts *o)
{
    ll_error err;
    ll_loop_file info;
    if (ll_loop_file_read(o->recording, &info, &err) != 0)
        return fail(1, "cannot replay: %s", err.msg);
    cli_hashes want = {0};
    if (o->check && read_hashes(o->check, &want) != 0) return 1;
    /* The block as recorded: what lies past the application's own size
     * keeps the globals, when its library has any. */
    uint64_t app_size, room;
    if (probe_app(o, &app_size, &room) != 0) {
        free(want.hashes);
        return 1;
    }
    room = room && info.block_size > app_size ? info.block_size - app_size : 0;
    session s;
    if (session_begin(&s, o, info.block_base, info.block_size, room, info.fps) != 0) {
        free(want.hashes);
        return 1;
    }
    int rc;
    if (ll_loop_load(s.loop, 0, o->recording, &err) != 0)
        rc = fail(1, "cannot replay: %s", err.msg);
    else if (o->determinism)
        rc = report_determinism(&s, o);
    else if (o->seek)
        rc = seek_frames(&s, o, info.frames);
    else if (cli_capture_wanted(&o->cap) && (rc = cli_capture_begin(&o->cap, info.fps)) != 0)
        rc = cli_capture_end(&o->cap, rc, o->out);
    else {
        rc = play_frames(&s, o, info.frames, o->check ? &want : NULL);
        if (cli_capture_wanted(&o->cap)) rc = cli_capture_end(&o->cap, rc, o->out);
    }
    free(want.hashes);
    session_end(&s);
    return rc;
}

/* ---- making a recording from a script ----------------------------------- */

/* Reads the whole script (the key names and COUNT lines of ll_keys_parse_line)
 * into events, and says how many frames it covers. */
static int read_script(const replay_opts *o, FILE *f, ll_keys *keys, uint64_t *frames)
{
    ll_error err;
    char line[1024];
    uint64_t lineno = 0;
    *frames = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (ll_keys_parse_line(keys, line, frames, &err) != 0)
            return fail(1, "%s:%" PRIu64 ": %s", o->script, lineno, err.msg);
    }
    return 0;
}

/* Runs the script's frames: the same input, frame for frame, as `looplive
 * run --keys` gives for the same keys (ll_keys_input_get). */
static int run_script(session *s, const replay_opts *o, FILE *f)
{
    ll_error err;
    ll_keys keys = {0};
    uint64_t frames;
    int rc = read_script(o, f, &keys, &frames);
    for (uint64_t frame = 0; rc == 0 && frame < frames; frame++) {
        ll_platform_input in = {0};
        ll_keys_input_get(&keys, frame, &in);
        int ran = ll_loop_frame_run(s->loop, &in, &err);
        if (ran < 0 && err.code == ENOTRECOVERABLE) cli_die_unsafe("replay: ", "", "", err.msg);
        if (ran < 0)
            rc = fail(1, "frame %" PRIu64 ": %s", frame, err.msg);
        else if (!o->quiet)
            fprintf(o->hash_out, "%" PRIu64 " %016" PRIx64 "\n", frame, ll_loop_hash_get(s->loop));
    }
    ll_keys_free(&keys);
    return rc;
}

static int record_script(const replay_opts *o)
{
    ll_error err;
    FILE *f = fopen(o->script, "r");
    if (!f)
        return fail(1, "cannot open %s: %s (try: a script of lines COUNT [KEY...], see --help)",
                    o->script, strerror(errno));
    /* The application says how large a block it wants: ask it first. */
    uint64_t size, room;
    if (probe_app(o, &size, &room) != 0) {
        fclose(f);
        return 1;
    }
    size += room;
    /* The base looplive run would choose for this block size. */
    uint64_t base = o->base;
    if (!base && ll_base_advise(size, &base, &err) != 0) base = FALLBACK_BASE;
    session s;
    if (session_begin(&s, o, base, size, room, o->fps) != 0) {
        fclose(f);
        return 1;
    }
    int rc = 0;
    if (ll_app_init_run(s.module, s.app, &s.block, NULL, &err) != 0)
        rc = fail(1, "%s: init failed: %s", o->module, err.msg);
    if (rc == 0 && ll_loop_record(s.loop, 0, &err) != 0) rc = fail(1, "cannot record: %s", err.msg);
    if (rc == 0) rc = run_script(&s, o, f);
    if (rc == 0 && ll_loop_save(s.loop, 0, o->output, &err) != 0)
        rc = fail(1, "cannot save: %s", err.msg);
    fclose(f);
    session_end(&s);
    return rc;
}

/* The hashes (and the command's result lines) keep the real standard
 * output, or go to --hashes FILE; the application's own printf goes to
 * standard error for the run. Best effort: without a spare descriptor the
 * application's output stays where it was. */
static int open_outputs(replay_opts *o, int *saved)
{
    fflush(stdout);
    o->out = stdout;
    *saved = dup(STDOUT_FILENO);
    FILE *real = *saved >= 0 ? fdopen(*saved, "w") : NULL;
    if (real && dup2(STDERR_FILENO, STDOUT_FILENO) >= 0) {
        o->out = real;
    } else if (real) {
        fclose(real);
    } else if (*saved >= 0) {
        close(*saved);
    }
    o->hash_out = o->out;
    if (o->hashes && !(o->hash_out = fopen(o->hashes, "w")))
        return fail(1, "cannot write hashes to %s: %s (try: a path in a folder that exists)",
                    o->hashes, strerror(errno));
    return 0;
}

static int close_outputs(replay_opts *o, int saved, int rc)
{
    fflush(stdout); /* the application's, to standard error */
    if (o->hash_out && o->hash_out != o->out && fclose(o->hash_out) != 0 && rc == 0)
        rc = fail(1, "cannot write hashes to %s: %s (try: a disk with room)", o->hashes,
                  strerror(errno));
    if (o->out != stdout) {
        fflush(o->out);
        dup2(saved, STDOUT_FILENO);
        fclose(o->out);
    }
    return rc;
}

int cli_replay(int argc, char **argv)
{
    replay_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    int saved = -1;
    rc = open_outputs(&o, &saved);
    if (rc == 0) rc = o.script ? record_script(&o) : replay_recording(&o);
    return close_outputs(&o, saved, rc);
}
