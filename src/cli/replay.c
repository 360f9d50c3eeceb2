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

enum { CLI_JOBS_MAX = 64 };

typedef struct replay_opts {
    const char *module, *recording, *check, *script, *output, *hashes, *seek;
    const char *who, *dir; /* --who-wrote TARGET, --dir DIR */
    uint64_t frame;        /* --frame N; UINT64_MAX: the last */
    int jobs;              /* --jobs N for --dir */
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
        "       looplive replay --module LIB --recording FILE --who-wrote TARGET [--frame N]\n"
        "       looplive replay --module LIB --dir DIR [--jobs N]\n"
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
        "      --fps N            frames per second for --script (default: the\n"
        "                         application's tick_hz, else 60)\n"
        "  -w, --who-wrote TARGET who wrote these bytes as they are after --frame:\n"
        "                         finds the last frame that changed them, runs it again\n"
        "                         under a hardware write watchpoint and prints each\n"
        "                         write: function, source line (build the library with\n"
        "                         -g for lines), bytes before and after. TARGET is\n"
        "                         ARENA+OFFSET[:LEN], block+OFFSET[:LEN] (from the\n"
        "                         block's base) or ADDRESS[:LEN]; LEN 1 to %d, default 1\n"
        "      --frame N          the frame (from 0) for --who-wrote (default: the last)\n"
        "  -D, --dir DIR          check every recording DIR/NAME.llrec against\n"
        "                         DIR/NAME.hashes: one line each and a summary; exit 1\n"
        "                         naming the recordings that differ\n"
        "  -j, --jobs N           recordings --dir checks at once (default 2, 1 to %d)\n"
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
        "      --canvas WxH       its size in cells or pixels (default 80x21 or 640x360,\n"
        "                         the host's canvases: alt+p pictures match)\n"
        "  -h, --help             this help\n"
        "\n"
        "A script has one line per run of frames: COUNT [KEY...], holding the keys for\n"
        "COUNT frames, pressed on the first (the same as `looplive run --keys\n"
        "FRAME:KEY:COUNT`). KEY is one character, or space, enter, tab, backspace,\n"
        "escape, left, right, up, down, home, end, pageup, pagedown, insert, delete,\n"
        "f1-f12, comma, colon, hash. '#' starts a comment.\n"
        "\n"
        "Where the kernel refuses hardware breakpoints (containers, a high\n"
        "kernel.perf_event_paranoid), --who-wrote says so and makes the page holding\n"
        "the bytes read-only for that frame instead, single-stepping each write (x86_64);\n"
        "LOOPLIVE_WATCH=page forces that, LOOPLIVE_WATCH=breakpoint forbids it.\n"
        "\n"
        "exit status: 0 ok, 1 a failure or a difference, 2 bad usage\n",
        FALLBACK_BASE, LL_LOOP_WATCH_MAX, CLI_JOBS_MAX);
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
        {"who-wrote", required_argument, 0, 'w'},
        {"frame", required_argument, 0, 'N'},
        {"dir", required_argument, 0, 'D'},
        {"jobs", required_argument, 0, 'j'},
        {0, 0, 0, 0},
    };
    *o = (replay_opts){.fps = 0, .frame = UINT64_MAX, .cap = {.to = UINT64_MAX, .every = 1}};
    int jobs_set = 0;
    optind = 1;
    opterr = 0;
    int c;
    ll_error err;
    int li = 0;
    while ((c = getopt_long(argc, argv, ":m:r:c:dH:s:o:b:qhw:D:j:", longs, &li)) != -1) {
        switch (c) {
        case 'w':
            o->who = optarg;
            break;
        case 'D':
            o->dir = optarg;
            break;
        case 'N': {
            char *end;
            errno = 0;
            o->frame = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || o->frame == UINT64_MAX)
                return fail(2, "bad --frame '%s': not a frame number (try: --frame 0)", optarg);
            break;
        }
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || end == optarg || n < 1 || n > CLI_JOBS_MAX)
                return fail(2, "bad --jobs '%s': want 1 to %d", optarg, CLI_JOBS_MAX);
            o->jobs = (int)n;
            jobs_set = 1;
            break;
        }

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
    if (jobs_set && !o->dir)
        return fail(2, "--jobs goes with --dir DIR (try: looplive replay --help)");
    if (o->frame != UINT64_MAX && !o->who)
        return fail(2, "--frame goes with --who-wrote TARGET (try: looplive replay --help)");
    if (o->dir) {
        if (o->recording || o->script || o->check || o->determinism || o->hashes || o->who)
            return fail(2, "--dir DIR checks every recording in DIR against its hashes: it takes "
                           "no other mode (try: looplive replay --module LIB --dir DIR)");
        if (!o->jobs) o->jobs = 2;
        return -1;
    }
    if (o->who && (o->script || o->check || o->determinism || o->hashes))
        return fail(2, "--who-wrote goes with --recording FILE alone (try: looplive replay "
                       "--module LIB --recording FILE --who-wrote ARENA+OFFSET --frame N)");
    if (o->who && !o->recording)
        return fail(2, "--who-wrote needs --recording FILE (try: looplive replay --help)");
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
    if (o->who && (o->seek || cli_capture_wanted(&o->cap)))
        return fail(2, "--who-wrote goes with --recording FILE alone (try: looplive replay "
                       "--module LIB --recording FILE --who-wrote ARENA+OFFSET --frame N)");
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
    double fps;
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
    s->fps = fps;
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
                             .rewind_seconds = fps > 0 ? 1.0 / fps : 1.0);
    if (!s->loop) {
        session_end(s);
        return fail(1, "cannot replay: %s", err.msg);
    }
    s->fps = ll_loop_status_get(s->loop).fps; /* fps 0: the application's tick_hz */
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

/* The application asked to end the run at this frame (ll_app quit), as
 * `looplive run` ends it: its message goes to standard error, so that the
 * hashes stay alone on the output. */
static int say_quit(session *s, const replay_opts *o)
{
    ll_loop_status st = ll_loop_status_get(s->loop);
    if (!st.quit_asked) return 0;
    if (!o->quiet) fprintf(stderr, "looplive: the application quit: %s\n", st.quit);
    return 1;
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
        ll_app_call call = {ll_module_app_block_get(s->module), f, 1.0 / s->fps, 1, &o->cap.canvas};
        if (ll_app_call_run(s->module, &call, call_render, &c, ll_loop_snap_get(s->loop), &err) !=
            0) {
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
        say_quit(s, o);
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

/* ---- who wrote this value? ------------------------------------------------ */

/* Lists the block's arena names into buf, for an error message. */
static void arena_names(const ll_block *b, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t i = 0; n < cap && ll_block_arena_get(b, i); i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\"", i ? ", " : "",
                              ll_block_arena_get(b, i)->name);
    if (!buf[0]) snprintf(buf, cap, "none");
}

/* A number of --who-wrote's TARGET; 0, or the exit status 2. */
static int target_number(const char *text, const char *whole, const char *what, uint64_t *out)
{
    ll_error err;
    if (ll_size_parse(text, out, &err) == 0) return 0;
    return fail(2, "bad --who-wrote '%s': %s '%s' is not a number (try: world+0x10:4)", whole, what,
                text);
}

int cli_who_target_parse(const char *text, const ll_block *b, uint64_t *offset, uint32_t *len)
{
    char spec[256];
    if (snprintf(spec, sizeof spec, "%s", text) >= (int)sizeof spec)
        return fail(2, "bad --who-wrote: longer than %zu characters", sizeof spec - 1);
    uint64_t n = 1, off;
    char *colon = strrchr(spec, ':'), *plus = strrchr(spec, '+');
    if (colon) *colon = 0;
    if (colon && target_number(colon + 1, text, "length", &n) != 0) return 2;
    if (n < 1 || n > LL_LOOP_WATCH_MAX)
        return fail(2, "bad --who-wrote '%s': length %" PRIu64 " (try: 1 to %d bytes)", text, n,
                    LL_LOOP_WATCH_MAX);
    *len = (uint32_t)n;
    uint64_t base = (uint64_t)(uintptr_t)b->base;
    if (!plus) { /* an address */
        if (target_number(spec, text, "address", &off) != 0) return 2;
        if (off < base || off - base >= b->size || n > b->size - (off - base))
            return fail(1,
                        "--who-wrote %s: 0x%" PRIx64 " is outside the recording's block "
                        "0x%" PRIx64 "-0x%" PRIx64 " (try: an address inside it, or ARENA+OFFSET)",
                        text, off, base, base + b->size);
        *offset = off - base;
        return 0;
    }
    *plus = 0;
    if (target_number(plus + 1, text, "offset", &off) != 0) return 2;
    if (!strcmp(spec, "block")) {
        if (off >= b->size || n > b->size - off)
            return fail(1,
                        "--who-wrote %s: offset 0x%" PRIx64 " is past the block's 0x%" PRIx64
                        " bytes (try: an offset below 0x%" PRIx64 ")",
                        text, off, b->size, b->size - n + 1);
        *offset = off;
        return 0;
    }
    const ll_arena *a = ll_block_arena_find(b, spec);
    if (!a) {
        char names[512];
        arena_names(b, names, sizeof names);
        return fail(1,
                    "--who-wrote %s: the recording's block has no arena \"%s\" (arenas: %s) "
                    "(try: one of them, or block+OFFSET)",
                    text, spec, names);
    }
    if (off >= a->capacity || n > a->capacity - off)
        return fail(1,
                    "--who-wrote %s: offset 0x%" PRIx64 " is past the end of arena \"%s\" "
                    "(0x%" PRIx64 " bytes) (try: an offset below 0x%" PRIx64 ")",
                    text, off, spec, a->capacity, a->capacity - n + 1);
    *offset = (uint64_t)(a->begin - b->base) + off;
    return 0;
}

static void bytes_print(FILE *out, const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) fprintf(out, "%s%02x", i ? " " : "", p[i]);
}

static void write_print(FILE *out, const session *s, const ll_loop_write *w, uint32_t i,
                        uint32_t len)
{
    ll_code_line at;
    ll_error err;
    uint64_t pc = w->pc - (w->pc_after ? 1 : 0);
    fprintf(out, "  write %u: ", i + 1);
    if (ll_module_line_find(s->module, pc, &at, &err) != 0)
        fprintf(out, "0x%" PRIx64 " (%s)", w->pc, err.msg);
    else if (at.line)
        fprintf(out, "%s (%s:%d) in %s", at.function[0] ? at.function : "?", at.file, at.line,
                at.object);
    else
        fprintf(out, "%s+0x%" PRIx64 " in %s (no source line: %s)",
                at.function[0] ? at.function : "?", at.offset, at.object, at.no_line);
    fprintf(out, ": ");
    bytes_print(out, w->before, len);
    fprintf(out, " -> ");
    bytes_print(out, w->after, len);
    fprintf(out, "\n");
}

static int report_who(session *s, const replay_opts *o, uint64_t frames)
{
    uint64_t offset;
    uint32_t len;
    int rc = cli_who_target_parse(o->who, &s->block, &offset, &len);
    if (rc != 0) return rc;
    uint64_t frame = o->frame == UINT64_MAX ? frames - 1 : o->frame;
    if (frame >= frames)
        return fail(
            1, "--frame %" PRIu64 ": %s has %" PRIu64 " frames (try: --frame 0 to %" PRIu64 ")",
            frame, o->recording, frames, frames - 1);
    static ll_loop_writes w;
    ll_error err;
    char where[160];
    arena_name(&s->block, offset, where, sizeof where);
    if (ll_loop_writes_find(s->loop, 0, offset, len, frame, &w, &err) != 0)
        return fail(1, "who-wrote %s: %s", o->who, err.msg);
    fprintf(o->out, "%u byte%s at 0x%" PRIx64 " (block+0x%" PRIx64 ")%s, after frame %" PRIu64 ": ",
            len, len > 1 ? "s" : "", (uint64_t)(uintptr_t)s->block.base + offset, offset, where,
            frame);
    if (!w.found) {
        fprintf(o->out,
                "no frame from 0 to %" PRIu64 " changed them (they hold what the "
                "recording started with)\n",
                frame);
        return 0;
    }
    fprintf(o->out, "last changed by frame %" PRIu64 ", ", w.frame);
    bytes_print(o->out, w.start, len);
    fprintf(o->out, " -> ");
    bytes_print(o->out, w.end, len);
    fprintf(o->out, "\n");
    if (w.refused[0])
        cli_error(0, "note: %s; watching the page instead (a signal per write to it)", w.refused);
    fprintf(o->out, "frame %" PRIu64 " wrote them %u time%s (watched by %s):\n", w.frame, w.count,
            w.count == 1 ? "" : "s", w.how);
    for (uint32_t i = 0; i < w.count && i < LL_LOOP_WRITES_MAX; i++)
        write_print(o->out, s, &w.writes[i], i, len);
    if (w.count > LL_LOOP_WRITES_MAX)
        fprintf(o->out, "  (and %u more)\n", w.count - LL_LOOP_WRITES_MAX);
    return 0;
}

static int replay_recording(replay_opts *o)
{
    ll_error err;
    ll_loop_file info;
    if (ll_loop_file_read(o->recording, &info, &err) != 0)
        return fail(1, "cannot replay: %s", err.msg);
    if (cli_capture_wanted(&o->cap) && o->cap.from >= info.frames)
        return fail(1,
                    "--from %" PRIu64 ": %s has %" PRIu64 " frames (try: --from 0 to %" PRIu64 ")",
                    o->cap.from, o->recording, info.frames, info.frames ? info.frames - 1 : 0);
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
    else if (o->who)
        rc = report_who(&s, o, info.frames);
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

int cli_replay_check(const char *module, const char *recording, const char *hashes, FILE *out)
{
    replay_opts o = {.module = module,
                     .recording = recording,
                     .check = hashes,
                     .fps = 60,
                     .frame = UINT64_MAX,
                     .out = out,
                     .hash_out = out,
                     .cap = {.to = UINT64_MAX, .every = 1}};
    return replay_recording(&o);
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
        /* The recording ends where the application ended the run. */
        if (rc == 0 && say_quit(s, o)) break;
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
    if (o.dir) return cli_replay_dir(o.module, o.dir, o.jobs, stdout);
    int saved = -1;
    rc = open_outputs(&o, &saved);
    if (rc == 0) rc = o.script ? record_script(&o) : replay_recording(&o);
    return close_outputs(&o, saved, rc);
}
