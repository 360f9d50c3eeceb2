/* run.c - `looplive run LIB`: the ready-made host on the command line. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

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
            "                           and the old code keeps running\n"
            "  --slots DIR              save (alt+s) and load slots as DIR/slotN.llrec\n"
            "  --headless               no terminal or window; runs as fast as it can\n"
            "  --frames N               stop after N frames\n"
            "  --keys FRAME:KEY[:N],... press KEY at FRAME, held down N frames (default 1),\n"
            "                           the same as the script line `N KEY` of looplive\n"
            "                           replay; e.g. 10:alt+l,20:right:30,70:alt+l records\n"
            "                           60 frames with right held for 30, then loops them\n"
            "  --screenshot-at N FILE   after frame N write the picture: PPM for pixels (read\n"
            "                           back from the window), text for cells; up to 4\n"
            "  --audio                  sdl: play the sound the application's optional\n"
            "                           looplive_audio() makes\n"
            "  --unprotected            no crash protection (let a debugger see faults)\n"
            "  --no-overlay             no status lines (the canvas gets their rows)\n"
            "  -h, --help               this help\n\n"
            "keys: the host's are Alt with a key, so that every key without Alt is the\n"
            "application's (a terminal sends Alt+key as ESC and the key):\n");
    const char *k = ll_host_keys_help();
    while (*k) {
        size_t n = strcspn(k, "\n");
        fprintf(out, "  %.*s\n", (int)n, k);
        k += n + (k[n] == '\n');
    }
    fprintf(out, "\nKey names (--keys and replay scripts): one character, or space, enter, tab,\n"
                 "backspace, escape, left, right, up, down, home, end, pageup, pagedown, insert,\n"
                 "delete, f1-f12, comma, colon, hash; alt+NAME for the host's keys.\n"
                 "\nThe status line shows: fps, frame, LIVE/REC/LOOP with the selected slot and\n"
                 "the position, PAUSED, speed, reloads; the line under it the last error (a\n"
                 "build error or a rolled-back crash) or confirmation (a save, with its path).\n"
                 "Ctrl-C and crashes restore the terminal.\n");
}

static int parse_uint(const char *opt, const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(text ? text : "", &end, 10);
    if (!text || !*text || *end || v > max || text[0] == '-')
        return cli_error(2, "%s '%s' is not a number from 0 to %llu (try: looplive run --help)",
                         opt, text ? text : "", (unsigned long long)max);
    *out = v;
    return 0;
}

static int parse_canvas(const char *text, ll_host_params *p)
{
    int w, h;
    char tail;
    if (!text || sscanf(text, "%dx%d%c", &w, &h, &tail) != 2 || w < 1 || h < 1 || w > 8192 ||
        h > 8192)
        return cli_error(2, "--canvas '%s' is not WIDTHxHEIGHT (try: --canvas 320x180)",
                         text ? text : "");
    p->width = w, p->height = h;
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
    p->base = (void *)(uintptr_t)base;
    return 0;
}

/* The options above that are only recognised with a value after them. */
static int takes_value(const char *o)
{
    static const char *const names[] = {"--platform", "--size",  "--watch",
                                        "--build",    "--slots", "--keys"};
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
    ll_error err;
    if (!strcmp(o, "--platform") && v)
        p->platform = v;
    else if (!strcmp(o, "--size") && v) {
        if (ll_size_parse(v, &p->size, &err) != 0) return cli_error(2, "--size: %s", err.msg), -1;
    } else if (!strcmp(o, "--base")) {
        if (parse_base(v, p) != 0) return -1;
    } else if (!strcmp(o, "--canvas")) {
        if (parse_canvas(v, p) != 0) return -1;
    } else if (!strcmp(o, "--scale") || !strcmp(o, "--fps")) {
        if (parse_uint(o, v, 1000, &n) != 0) return -1;
        if (!n) return cli_error(2, "%s must be at least 1", o), -1;
        *(o[2] == 's' ? &p->scale : &p->fps) = (int)n;
    } else if (!strcmp(o, "--frames")) {
        if (parse_uint(o, v, UINT64_MAX, &p->frames) != 0) return -1;
    } else if (!strcmp(o, "--watch") && v)
        p->watch_dir = v;
    else if (!strcmp(o, "--build") && v)
        p->build_cmd = v;
    else if (!strcmp(o, "--slots") && v)
        p->slot_dir = v;
    else if (!strcmp(o, "--keys") && v)
        p->keys = v;
    else if (!strcmp(o, "--screenshot-at")) {
        int k = 0;
        while (k < LL_HOST_SHOTS && p->shots[k].path) k++;
        if (k == LL_HOST_SHOTS)
            return cli_error(2, "at most %d --screenshot-at per run", LL_HOST_SHOTS), -1;
        if (parse_uint(o, v, UINT64_MAX, &p->shots[k].frame) != 0) return -1;
        if (i + 2 >= argc) return cli_error(2, "--screenshot-at N needs a FILE after N"), -1;
        p->shots[k].path = argv[i + 2];
        return 3;
    } else if (!strcmp(o, "--headless"))
        return p->headless = 1, 1;
    else if (!strcmp(o, "--unprotected"))
        return p->unprotected = 1, 1;
    else if (!strcmp(o, "--audio"))
        return p->audio = 1, 1;
    else if (!strcmp(o, "--no-overlay"))
        return p->no_overlay = 1, 1;
    else if (!v && takes_value(o))
        return cli_error(2, "%s needs a value (try: looplive run --help)", o), -1;
    else
        return cli_error(2, "unknown option '%s' (try: looplive run --help)", o), -1;
    return 2;
}

static void print_report(ll_host *host)
{
    ll_host_status s;
    char line[512];
    ll_host_get_status(host, &s);
    printf("frames %llu, application frame %llu, reloads %llu, builds %llu, crashes rolled back "
           "%llu\n",
           (unsigned long long)s.frame, (unsigned long long)s.app_frame,
           (unsigned long long)s.reloads, (unsigned long long)s.builds,
           (unsigned long long)s.crashes);
    ll_host_overlay(host, line, sizeof line);
    char *second = strchr(line, '\n');
    if (second) *second++ = 0;
    printf("status: %s\n", line);
    if (second) printf("        %s\n", second);
    if (s.frame)
        printf("host time per frame: %.1f us (application %.1f us)\n",
               (double)s.host_ns / 1e3 / (double)s.frame, (double)s.app_ns / 1e3 / (double)s.frame);
    const ll_canvas *c = ll_host_canvas(host);
    if (!c->cells) return;
    printf("last frame:\n");
    for (int y = 0; y < c->height; y++) {
        int end = c->width;
        while (end > 0 && c->cells[(size_t)y * (size_t)c->width + (size_t)end - 1] == ' ') end--;
        printf("  |%.*s\n", end, c->cells + (size_t)y * (size_t)c->width);
    }
}

/* What the host changed from what was asked (a scale that does not fit,
 * no sound device) goes to stderr too, before a terminal run covers it. */
static void warn_at_start(ll_host *host)
{
    ll_host_status s;
    ll_host_get_status(host, &s);
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
    ll_error err = {0};
    ll_host *host = ll_host_open_(lib, &err, &p);
    if (!host) return cli_error(1, "cannot run %s: %s", lib, err.msg);
    warn_at_start(host);
    /* Errors during the run show in the overlay and do not stop it. */
    ll_host_run(host, &err);
    if (p.headless) print_report(host);
    ll_host_close(host);
    return 0;
}
