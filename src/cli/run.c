/* run.c - `looplive run LIB`: the ready-made host on the command line. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: looplive run LIB [OPTIONS]\n\n"
            "Runs an application library (one that exports looplive_app()) with its state in\n"
            "one block at a static address, hot reload, crash rollback and the loop controls.\n\n"
            "options:\n"
            "  --platform terminal|sdl  where to show it (default terminal)\n"
            "  --size SIZE              block size (default: what the application asks for)\n"
            "  --base auto|os|ADDR      block address: advised static address (default), any\n"
            "                           address the OS picks, or ADDR\n"
            "  --canvas WxH             canvas in cells or pixels (default: the terminal, or\n"
            "                           640x360 pixels)\n"
            "  --scale N                sdl: window pixels per canvas pixel (default 1)\n"
            "  --fps N                  frames per second (default 60)\n"
            "  --watch DIR              rebuild when a source file under DIR changes ...\n"
            "  --build \"CMD\"            ... by running CMD; its errors show in the status line\n"
            "                           and the old code keeps running; builds a LIB that\n"
            "                           is not there yet before the run\n"
            "  --slots DIR              save (alt+s) and load slots as DIR/slotN.llrec\n"
            "  --capture DIR            where alt+p saves pictures (frame-N-vBUILD.png) and\n"
            "                           alt+v clips (.mp4, through ffmpeg); default --slots\n"
            "  --cells                  sdl: a canvas of cells, drawn with the host's font\n"
            "                           (the picture a headless --screenshot-at FILE.png\n"
            "                           of a text application writes)\n"
            "  --headless               no terminal or window; runs as fast as it can\n"
            "  --frames N               stop after N frames\n"
            "  --keys FRAME:KEY[:N],... press KEY at FRAME, held down N frames (default 1),\n"
            "                           the same as the script line `N KEY` of looplive\n"
            "                           replay; e.g. 10:alt+l,20:right:30,70:alt+l records\n"
            "                           60 frames with right held for 30, then loops them\n"
            "  --screenshot-at N FILE   after frame N write the picture (read back from the\n"
            "                           window): PNG for FILE.png (cells drawn with the\n"
            "                           host's font), else PPM for pixels and text for\n"
            "                           cells; up to 4\n"
            "  --audio                  sdl: play the sound the application's optional\n"
            "                           looplive_audio() makes\n"
            "  --reinit                 a build that changes layout_version and has no\n"
            "                           migrate starts the state over (default: refused;\n"
            "                           alt+i starts over by hand)\n"
            "  --unprotected            no crash protection (let a debugger see faults)\n"
            "  --resume FILE            start from a saved state (the file a fault that the\n"
            "                           process cannot survive saves) instead of init\n"
            "  --no-overlay             no status lines (the canvas gets their rows)\n"
            "  -h, --help               this help\n\n"
            "keys: the host's are Alt with a key, so that every key without Alt is the\n"
            "application's (a terminal sends Alt+key as ESC and the key):\n");
    const char *k = ll_host_keys_help_get();
    while (*k) {
        size_t n = strcspn(k, "\n");
        fprintf(out, "  %.*s\n", (int)n, k);
        k += n + (k[n] == '\n');
    }
    fprintf(out, "\nKey names (--keys and replay scripts): one character, or space, enter, tab,\n"
                 "backspace, escape, left, right, up, down, home, end, pageup, pagedown, insert,\n"
                 "delete, f1-f12, comma, colon, hash; alt+NAME for the host's keys.\n"
                 "\nThe status line shows: fps, frame, LIVE/REC/LOOP with the selected slot and\n"
                 "the position, PAUSED, speed, reloads; the line under it an error: a build's\n"
                 "(until a build succeeds) or a rolled-back crash (for five seconds), or a\n"
                 "confirmation (a save, with its path; five seconds). Ctrl-C and crashes\n"
                 "restore the terminal. A loop whose frame faults again after the rollback\n"
                 "pauses there (PAUSED AT FAULT): alt+. skips the frame, a new build resumes.\n"
                 "A fault inside a library that leaves the C library unusable (a failed heap\n"
                 "check) saves the last good frame's state, says where in one line, and exits\n"
                 "with status 1: --resume FILE goes on from there.\n");
}

/* An option given last, without its value. */
static int missing_value(const char *opt, const char *example)
{
    cli_error(2, "%s needs a value (try: %s %s)", opt, opt, example);
    return -1;
}

static int parse_uint(const char *opt, const char *text, uint64_t min, uint64_t max,
                      const char *example, uint64_t *out)
{
    if (!text) return missing_value(opt, example);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || *end || errno == ERANGE || v < min || v > max)
        return cli_error(2, "%s '%s' is not a whole number from %llu to %llu (try: %s %s)", opt,
                         text, (unsigned long long)min, (unsigned long long)max, opt, example);
    *out = v;
    return 0;
}

#define CANVAS_MAX 8192

static int parse_canvas(const char *text, ll_host_params *p)
{
    if (!text) return missing_value("--canvas", "320x180");
    long w, h;
    char tail;
    if (sscanf(text, "%ldx%ld%c", &w, &h, &tail) != 2 || !isdigit((unsigned char)text[0]))
        return cli_error(2, "--canvas '%s' is not WIDTHxHEIGHT (try: --canvas 320x180)", text);
    if (w < 1 || h < 1 || w > CANVAS_MAX || h > CANVAS_MAX)
        return cli_error(2,
                         "--canvas %s: width and height go from 1 to %d (try: --canvas 1920x1080)",
                         text, CANVAS_MAX);
    p->width = (int)w, p->height = (int)h;
    return 0;
}

static int parse_size(const char *text, ll_host_params *p)
{
    ll_error err;
    char page[32];
    if (ll_size_parse(text, &p->size, &err) != 0) return cli_error(2, "--size: %s", err.msg);
    if (!p->size)
        return cli_error(2, "--size 0: a block needs at least one page (try: --size 64M, or no "
                            "--size for the application's own block_size)");
    if (p->size < ll_page_size_get())
        return cli_error(2, "--size %s is below the page size %s (try: --size %lluK)", text,
                         ll_size_format(ll_page_size_get(), page, sizeof page),
                         (unsigned long long)ll_page_size_get() / 1024);
    return 0;
}

static int parse_base(const char *text, ll_host_params *p)
{
    ll_error err;
    uint64_t base;
    if (!text) return cli_error(2, "--base needs auto, os or an address (try: --base auto)");
    if (!strcmp(text, "auto")) return 0;
    if (!strcmp(text, "os")) {
        p->os_base = 1;
        return 0;
    }
    if (ll_size_parse(text, &base, &err) != 0 || !base)
        return cli_error(2, "--base '%s' is not auto, os or an address (try: --base 0x%llx)", text,
                         0x200000000000ull);
    uint64_t page = ll_page_size_get();
    if (base % page) {
        char in[32];
        uint64_t down = base - base % page, near = down ? down : page;
        return cli_error(2,
                         "--base %s is not a multiple of the page size %s (try: --base 0x%llx, or "
                         "--base auto)",
                         text, ll_size_format(page, in, sizeof in), (unsigned long long)near);
    }
    p->base = (void *)(uintptr_t)base;
    return 0;
}

/* The options above that are only recognised with a value after them. */
static int takes_value(const char *o)
{
    static const char *const names[] = {"--platform", "--size", "--watch",  "--build",
                                        "--slots",    "--keys", "--resume", "--capture"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(o, names[i])) return 1;
    return 0;
}

/* One option; returns the number of arguments used, or -1 (with the
 * message printed) on bad usage. */
static int parse_option(int argc, char **argv, int i, ll_host_params *p)
{
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t n = 0;
    if (!strcmp(o, "--platform") && v)
        p->platform = v;
    else if (!strcmp(o, "--size") && v) {
        if (parse_size(v, p) != 0) return -1;
    } else if (!strcmp(o, "--base")) {
        if (parse_base(v, p) != 0) return -1;
    } else if (!strcmp(o, "--canvas")) {
        if (parse_canvas(v, p) != 0) return -1;
    } else if (!strcmp(o, "--scale") || !strcmp(o, "--fps")) {
        if (parse_uint(o, v, 1, 1000, o[2] == 's' ? "2" : "60", &n) != 0) return -1;
        *(o[2] == 's' ? &p->scale : &p->fps) = (int)n;
    } else if (!strcmp(o, "--frames")) {
        if (parse_uint(o, v, 1, UINT64_MAX, "600", &p->frames) != 0) return -1;
    } else if (!strcmp(o, "--watch") && v)
        p->watch_dir = v;
    else if (!strcmp(o, "--build") && v)
        p->build_cmd = v;
    else if (!strcmp(o, "--slots") && v)
        p->slot_dir = v;
    else if (!strcmp(o, "--capture") && v)
        p->capture_dir = v;
    else if (!strcmp(o, "--keys") && v)
        p->keys = v;
    else if (!strcmp(o, "--resume") && v)
        p->resume = v;
    else if (!strcmp(o, "--screenshot-at")) {
        int k = 0;
        while (k < LL_HOST_SHOTS && p->shots[k].path) k++;
        if (k == LL_HOST_SHOTS)
            return cli_error(2, "at most %d --screenshot-at per run", LL_HOST_SHOTS), -1;
        if (parse_uint(o, v, 1, UINT64_MAX, "60 shot.ppm", &p->shots[k].frame) != 0) return -1;
        if (i + 2 >= argc)
            return cli_error(2,
                             "--screenshot-at N needs a FILE after N (try: --screenshot-at %s "
                             "shot.ppm)",
                             v),
                   -1;
        p->shots[k].path = argv[i + 2];
        return 3;
    } else if (!strcmp(o, "--headless"))
        return p->headless = 1, 1;
    else if (!strcmp(o, "--unprotected"))
        return p->unprotected = 1, 1;
    else if (!strcmp(o, "--reinit"))
        return p->reinit = 1, 1;
    else if (!strcmp(o, "--audio"))
        return p->audio = 1, 1;
    else if (!strcmp(o, "--cells"))
        return p->cells = 1, 1;
    else if (!strcmp(o, "--no-overlay"))
        return p->no_overlay = 1, 1;
    else if (!v && takes_value(o))
        return cli_error(2, "%s needs a value (try: looplive run --help)", o), -1;
    else
        return cli_error(2, "unknown option '%s' (try: looplive run --help)", o), -1;
    return 2;
}

/* A screenshot that could never be written is refused before the run:
 * after the last frame, or into a folder that is not there. */
static int check_shots(const ll_host_params *p)
{
    for (int k = 0; k < LL_HOST_SHOTS && p->shots[k].path; k++) {
        const char *path = p->shots[k].path;
        unsigned long long at = (unsigned long long)p->shots[k].frame;
        if (p->frames && p->shots[k].frame > p->frames)
            return cli_error(2,
                             "--screenshot-at %llu %s: the run stops after frame %llu (try: "
                             "--screenshot-at %llu %s, or --frames %llu)",
                             at, path, (unsigned long long)p->frames, (unsigned long long)p->frames,
                             path, at);
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", path);
        const char *dir = dirname(copy);
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_error(2, "--screenshot-at %llu %s: there is no folder %s (try: mkdir -p %s)",
                             at, path, dir, dir);
    }
    return 0;
}

/* A screenshot file as it was before the run, to tell afterwards whether the
 * run wrote it. */
typedef struct shot_before {
    int existed;
    struct stat st;
} shot_before;

static void note_shots(const ll_host_params *p, shot_before *before)
{
    for (int k = 0; k < LL_HOST_SHOTS && p->shots[k].path; k++)
        before[k].existed = stat(p->shots[k].path, &before[k].st) == 0;
}

/* A screenshot due by the last frame that was not written fails the run. */
static int check_shots_written(const ll_host_params *p, const shot_before *before, ll_host *host)
{
    ll_host_status s;
    ll_host_status_get(host, &s);
    for (int k = 0; k < LL_HOST_SHOTS && p->shots[k].path; k++) {
        if (p->shots[k].frame > s.frame) continue;
        struct stat st;
        int written = stat(p->shots[k].path, &st) == 0 &&
                      (!before[k].existed || st.st_ino != before[k].st.st_ino ||
                       st.st_mtim.tv_sec != before[k].st.st_mtim.tv_sec ||
                       st.st_mtim.tv_nsec != before[k].st.st_mtim.tv_nsec);
        if (!written)
            return cli_error(1,
                             "--screenshot-at %llu %s: no picture was written%s%s%s (try: a FILE "
                             "path in a folder you can write)",
                             (unsigned long long)p->shots[k].frame, p->shots[k].path,
                             strstr(s.error, p->shots[k].path) ? " (" : "",
                             strstr(s.error, p->shots[k].path) ? s.error : "",
                             strstr(s.error, p->shots[k].path) ? ")" : "");
    }
    return 0;
}

/* With --build, a library that is not there yet is built once before the
 * run, with the build's output on the terminal. */
static int build_missing(const char *lib, const ll_host_params *p)
{
    if (!p->build_cmd || access(lib, F_OK) == 0) return 0;
    fprintf(stderr, "looplive: %s is not there yet: building it with: %s\n", lib, p->build_cmd);
    fflush(NULL);
    int status = system(p->build_cmd);
    if (status == 0 && access(lib, F_OK) == 0) return 0;
    if (status == 0)
        return cli_error(1,
                         "cannot run %s: the build succeeded but made no %s (try: a --build "
                         "command that writes it)",
                         lib, lib);
    return cli_error(1,
                     "cannot run %s: the first build failed (exit %d) (try: fix what it says "
                     "above, or run: %s)",
                     lib, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                     p->build_cmd);
}

static void print_report(ll_host *host)
{
    ll_host_status s;
    char line[512];
    ll_host_status_get(host, &s);
    printf("frames %llu, application frame %llu, reloads %llu, builds %llu, crashes rolled back "
           "%llu\n",
           (unsigned long long)s.frame, (unsigned long long)s.app_frame,
           (unsigned long long)s.reloads, (unsigned long long)s.builds,
           (unsigned long long)s.crashes);
    ll_host_overlay_format(host, line, sizeof line);
    char *second = strchr(line, '\n');
    if (second) *second++ = 0;
    printf("status: %s\n", line);
    if (second) printf("        %s\n", second);
    /* Whole, and also once the overlay no longer shows it. */
    if (s.error[0]) printf("last error: %s\n", s.error);
    if (s.frame)
        printf("host time per frame: %.1f us (application %.1f us)\n",
               (double)s.host_ns / 1e3 / (double)s.frame, (double)s.app_ns / 1e3 / (double)s.frame);
    const ll_canvas *c = ll_host_canvas_get(host);
    if (!c->cells) return;
    printf("last frame:\n");
    for (int y = 0; y < c->height; y++) {
        int end = c->width;
        while (end > 0 && c->cells[(size_t)y * (size_t)c->width + (size_t)end - 1] == ' ') end--;
        printf("  |%.*s\n", end, c->cells + (size_t)y * (size_t)c->width);
    }
}

/* A scripted host key that failed (a save, a slot that does not load) fails
 * a headless run, so a script in CI cannot pass over it. */
static int check_key_failures(ll_host *host)
{
    ll_host_status s;
    ll_host_status_get(host, &s);
    if (!s.key_failures) return 0;
    return cli_error(1, "%llu host key%s from --keys failed; the last: %s",
                     (unsigned long long)s.key_failures, s.key_failures == 1 ? "" : "s", s.error);
}

/* What the host changed from what was asked (a scale that does not fit,
 * no sound device) goes to stderr too, before a terminal run covers it. */
static void warn_at_start(ll_host *host)
{
    ll_host_status s;
    ll_host_status_get(host, &s);
    if (s.message[0]) fprintf(stderr, "looplive: %s\n", s.message);
}

int cli_run(int argc, char **argv)
{
    ll_host_params p = {0};
    const char *lib = NULL;
    for (int i = 1; i < argc;) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            run_usage(stdout);
            return 0;
        }
        if (argv[i][0] != '-') {
            if (lib)
                return cli_error(2,
                                 "one library only: '%s' and '%s' (try: quote an option's value, "
                                 "or looplive run --help)",
                                 lib, argv[i]);
            lib = argv[i++];
            continue;
        }
        int used = parse_option(argc, argv, i, &p);
        if (used < 0) return 2;
        i += used;
    }
    if (!lib)
        return cli_error(2, "no application library given (try: looplive run "
                            "build/examples/bounce.so)");
    if (p.headless && !p.frames) p.frames = 600;
    if (check_shots(&p) != 0) return 2;
    if (build_missing(lib, &p) != 0) return 1;
    ll_error err = {0};
    ll_host *host = ll_host_open_(lib, &err, &p);
    if (!host && err.code == ENOTRECOVERABLE) cli_die_unsafe("cannot run ", lib, ": ", err.msg);
    if (!host) return cli_error(1, "cannot run %s: %s", lib, err.msg);
    warn_at_start(host);
    shot_before before[LL_HOST_SHOTS];
    note_shots(&p, before);
    /* Errors during the run show in the overlay and do not stop it, but
     * for one the process cannot survive. */
    if (ll_host_run(host, &err) != 0 && err.code == ENOTRECOVERABLE)
        cli_die_unsafe("", "", "", err.msg);
    if (p.headless) print_report(host);
    int rc = check_shots_written(&p, before, host);
    if (p.headless && rc == 0) rc = check_key_failures(host);
    ll_host_close(host);
    return rc;
}
