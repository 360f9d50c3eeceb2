/* addr.c - `looplive addr`: the seed's procedure (page size, find the pid,
 * read pmap, pick an address between the chunks) as one command, right
 * under ASLR in every layout. Thin: reading is the maps layer, choosing is
 * the advise layer; this file parses options and prints. */
#include "base/base.h"
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <wordexp.h>

enum { FMT_TEXT, FMT_JSON, FMT_C, FMT_MAKE };
enum { T_NONE, T_PID, T_NAME, T_SELF, T_FILE, T_EXEC };

typedef struct addr_opts {
    int target, pid, samples, format, has_check;
    long after_ms;
    const char *name, *file, *exec, *svg, *bias_text;
    uint64_t check;
    wordexp_t words; /* --exec split into argv */
    int have_words;
    ll_advise_params p;
    char cmdline[4096]; /* how to regenerate the result, as shell words */
} addr_opts;

static const char usage_text[] =
    "usage: looplive addr TARGET [OPTIONS]\n"
    "\n"
    "Chooses a static base address for a block of memory that stays free on\n"
    "every run of a program: ASLR on or off, default or legacy layout, any\n"
    "stack rlimit. Prints the address space, the gap and why.\n"
    "\n"
    "TARGET (one of):\n"
    "  --pid N             a running process\n"
    "  --name NAME         the one process whose name or executable is NAME\n"
    "  --self              this command itself (a quick look at the machine)\n"
    "  --maps-file FILE    a saved /proc/PID/maps\n"
    "  --exec 'CMD ARGS'   launch CMD several times and combine the layouts\n"
    "    --samples N       launches (default 5)\n"
    "    --after MS        read the maps after MS ms or at exit (default 200)\n"
    "\n"
    "OPTIONS:\n"
    "  --size BYTES        the block to reserve, K/M/G/T suffixes (default 1G)\n"
    "  --bias B            lib-heavy, balanced, app-heavy or 0.0..1.0: where in\n"
    "                      the gap, from the application side (default balanced)\n"
    "  --align A           page, 2M, 1G or a power of two (default 2M)\n"
    "  --check ADDR        judge an address you already use (exit 1: unsafe)\n"
    "  --format F          text (default), json, c (a header), make (-D flags)\n"
    "  --svg FILE          write the picture as an SVG\n"
    "  -h, --help          this text\n"
    "\n"
    "Example: looplive addr --exec ./game --size 4G --format c > looplive_base.h\n";

static int usage_error(const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return cli_error(2, "addr: %s (try: looplive addr --help)", msg);
}

static int parse_bias(const char *s, ll_advise_params *p)
{
    static const struct {
        const char *name;
        double v;
    } names[] = {{"lib-heavy", 0.25}, {"balanced", 0.5}, {"app-heavy", 0.75}};
    for (size_t i = 0; i < LL_ARRAY_COUNT(names); i++)
        if (!strcmp(s, names[i].name)) {
            p->bias = names[i].v;
            p->bias_set = 1;
            return 0;
        }
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0 && v <= 1)) return -1;
    p->bias = v;
    p->bias_set = 1;
    return 0;
}

static int set_target(addr_opts *o, int t)
{
    if (o->target && o->target != t) return -1;
    o->target = t;
    return 0;
}

static int parse_number(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_option(addr_opts *o, int c, const char *arg)
{
    ll_error err;
    long v;
    switch (c) {
    case 'p':
        if (parse_number(arg, 1, 0x7fffffff, &v) || set_target(o, T_PID))
            return usage_error(o->target == T_PID || !o->target ? "bad pid '%s'"
                                                                : "one target only; "
                                                                  "got --pid %s too",
                               arg);
        o->pid = (int)v;
        return 0;
    case 'n':
        if (set_target(o, T_NAME)) return usage_error("one target only; got --name %s too", arg);
        o->name = arg;
        return 0;
    case 'S':
        if (set_target(o, T_SELF)) return usage_error("one target only; got --self too%s", "");
        return 0;
    case 'f':
        if (set_target(o, T_FILE))
            return usage_error("one target only; got --maps-file %s too", arg);
        o->file = arg;
        return 0;
    case 'e':
        if (set_target(o, T_EXEC)) return usage_error("one target only; got --exec '%s' too", arg);
        o->exec = arg;
        return 0;
    case 'N':
        if (parse_number(arg, 1, 64, &v)) return usage_error("--samples '%s': give 1..64", arg);
        o->samples = (int)v;
        return 0;
    case 'a':
        if (parse_number(arg, 0, 3600000, &v))
            return usage_error("--after '%s': give milliseconds, 0..3600000", arg);
        o->after_ms = v;
        return 0;
    case 's':
        if (ll_size_parse(arg, &o->p.size, &err) != 0)
            return cli_error(2, "addr: --size: %s", err.msg);
        if (!o->p.size) return usage_error("--size %s: the block needs at least one page", arg);
        return 0;
    case 'b':
        if (parse_bias(arg, &o->p))
            return usage_error("--bias '%s': use lib-heavy, balanced, app-heavy or 0.0..1.0", arg);
        return 0;
    case 'A':
        if (!strcmp(arg, "page"))
            o->p.align = ll_page_size_get();
        else if (ll_size_parse(arg, &o->p.align, &err) != 0)
            return cli_error(2, "addr: --align: %s", err.msg);
        if (!ll_is_pow2(o->p.align))
            return usage_error("--align %s: the alignment must be a power of two (page, 2M, 1G)",
                               arg);
        if (o->p.align < ll_page_size_get())
            return usage_error("--align %s: the alignment must be at least the page size", arg);
        return 0;
    case 'c':
        if (ll_size_parse(arg, &o->check, &err) != 0)
            return cli_error(
                2, "addr: --check '%s' is not an address (try: --check 0x100000000000)", arg);
        o->has_check = 1;
        return 0;
    case 'F':
        if (!strcmp(arg, "text"))
            o->format = FMT_TEXT;
        else if (!strcmp(arg, "json"))
            o->format = FMT_JSON;
        else if (!strcmp(arg, "c"))
            o->format = FMT_C;
        else if (!strcmp(arg, "make"))
            o->format = FMT_MAKE;
        else
            return usage_error("--format '%s': use text, json, c or make", arg);
        return 0;
    case 'v':
        o->svg = arg;
        return 0;
    }
    return 2;
}

/* "looplive addr ARGS" as a shell reads it back: an argument with anything
 * but letters, digits and -_./=:,+@% in it goes in single quotes, and a
 * quote in it becomes '\''. Too long a line ends in " ..." and says so. */
static void shell_words(int argc, char **argv, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "looplive addr");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-_./=:,+@%") == strlen(a);
        char word[1024];
        size_t w = 0;
        if (!plain) word[w++] = '\'';
        for (; *a && w + 6 < sizeof word; a++) {
            if (*a == '\'' && !plain) {
                memcpy(word + w, "'\\''", 4);
                w += 4;
            } else {
                word[w++] = *a;
            }
        }
        if (!plain) word[w++] = '\'';
        word[w] = 0;
        if (*a || n + 1 + w + 5 >= cap) {
            snprintf(out + (n < cap - 5 ? n : cap - 5), 5, " ...");
            return;
        }
        n += (size_t)snprintf(out + n, cap - n, " %s", word);
    }
}

static int parse_args(int argc, char **argv, addr_opts *o)
{
    static const struct option longs[] = {
        {"pid", 1, 0, 'p'},  {"name", 1, 0, 'n'},    {"self", 0, 0, 'S'},  {"maps-file", 1, 0, 'f'},
        {"exec", 1, 0, 'e'}, {"samples", 1, 0, 'N'}, {"after", 1, 0, 'a'}, {"size", 1, 0, 's'},
        {"bias", 1, 0, 'b'}, {"align", 1, 0, 'A'},   {"check", 1, 0, 'c'}, {"format", 1, 0, 'F'},
        {"svg", 1, 0, 'v'},  {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    shell_words(argc, argv, o->cmdline, sizeof o->cmdline);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return -1;
        }
        if (c == '?') return usage_error("unknown option '%s'", argv[optind - 1]);
        if (c == ':') return usage_error("%s needs a value", argv[optind - 1]);
        int rc = parse_option(o, c, optarg);
        if (rc) return rc;
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->target)
        return usage_error("no target: give --pid N, --name NAME, --self, --maps-file FILE or "
                           "--exec 'CMD'%s",
                           "");
    if ((o->samples || o->after_ms >= 0) && o->target != T_EXEC)
        return usage_error("--samples and --after go with --exec%s", "");
    if (o->target == T_EXEC) {
        int rc = wordexp(o->exec, &o->words, WRDE_NOCMD | WRDE_UNDEF);
        if (rc == 0 && o->words.we_wordc == 0) wordfree(&o->words);
        if (rc != 0 || o->words.we_wordc == 0)
            return usage_error("--exec '%s': not a command line (quote it as one argument; no "
                               "$(...), backquotes or unset variables)",
                               o->exec);
        o->have_words = 1;
    }
    return 0;
}

/* ---- reading the target ------------------------------------------------ */

static int launch_all(addr_opts *o, ll_maps *samples, size_t *count, ll_error *err)
{
    int n = o->samples ? o->samples : 5;
    long after = o->after_ms >= 0 ? o->after_ms : 200;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = ll_maps_launch(o->words.we_wordv, after, &samples[i], err);
        if (rc == 0) *count = (size_t)i + 1;
    }
    return rc;
}

static int read_target(addr_opts *o, ll_maps *samples, size_t *count, ll_error *err)
{
    *count = 1;
    switch (o->target) {
    case T_PID:
        return ll_maps_read_pid(o->pid, &samples[0], err);
    case T_SELF:
        return ll_maps_read_pid(0, &samples[0], err);
    case T_FILE:
        return ll_maps_read_file(o->file, &samples[0], err);
    case T_NAME:
        if (ll_maps_find_pid(o->name, &o->pid, err) != 0) return -1;
        return ll_maps_read_pid(o->pid, &samples[0], err);
    default:
        *count = 0;
        return launch_all(o, samples, count, err);
    }
}

/* ---- printing ------------------------------------------------------------ */

static const char *bias_name(double b)
{
    return b == 0.25 ? " (lib-heavy)" : b == 0.5 ? " (balanced)" : b == 0.75 ? " (app-heavy)" : "";
}

static void print_assumed(FILE *out, const ll_advice *a, const char *pre)
{
    char lim[32], la[32], ha[32];
    const ll_kernel *k = &a->kernel;
    fprintf(out,
            "ASLR on or off (randomize_va_space is %d now; mmap_rnd_bits %d), stack rlimit up "
            "to %s or unlimited, the legacy layout possible (legacy_va_layout %d),\n"
            "%slibraries growing by up to %s and the heap by up to %s, mmap_min_addr %llu, a "
            "%u-bit mmap window (la57 %s), %s rules\n",
            k->randomize_va_space, k->mmap_rnd_bits,
            ll_size_format(a->stack_limit_max, lim, sizeof lim), k->legacy_va_layout, pre,
            ll_size_format(a->lib_allow, la, sizeof la),
            ll_size_format(a->heap_allow, ha, sizeof ha), (unsigned long long)k->mmap_min_addr,
            k->va_bits, k->la57 ? "yes" : "no", k->aarch64 ? "arm64" : "x86_64");
}

/* A chunk's extent within the user address space ([vsyscall] sits in the
 * kernel's half and would stretch the kernel chunk over 16 EiB). */
static ll_span user_span(const ll_maps *m, ll_chunk chunk, uint64_t top)
{
    ll_span s = {0};
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        if (r->chunk != chunk || r->end > top) continue;
        if (!s.count) s.lo = r->start;
        s.hi = r->end;
        s.count++;
        s.bytes += r->end - r->start;
    }
    return s;
}

static void print_text(FILE *out, const addr_opts *o, const ll_advice *a, const ll_maps *m)
{
    char b1[32], b2[32];
    const char *exe = a->exe_path ? a->exe_path : "(executable unknown)";
    fprintf(out, "page size     %s\n", ll_size_format(a->kernel.page_size, b1, sizeof b1));
    if (o->pid) fprintf(out, "pid           %d\n", o->pid);
    fprintf(out, "executable    %s: %s%s\n", exe, ll_exe_type_name_get(a->exe.type),
            a->exe.from_header ? " (ELF header)" : " (guessed from its addresses)");
    fprintf(out, "samples       %zu; layout seen: %s\n", a->samples, a->layouts);
    fprintf(out, "address space 0x0-0x%llx (%u bits)\n\nchunks (as seen%s):\n",
            (unsigned long long)a->task_size, a->kernel.va_bits,
            a->samples > 1 ? " in sample 1" : "");
    for (int c = LL_CHUNK_APP; c < LL_CHUNK_COUNT; c++) {
        ll_span s = user_span(m, (ll_chunk)c, a->task_size);
        if (!s.count) continue;
        fprintf(out, "  %-7s 0x%012llx-0x%012llx  span %-10s %zu regions, %s mapped\n",
                ll_chunk_name_get((ll_chunk)c), (unsigned long long)s.lo, (unsigned long long)s.hi,
                ll_size_format(s.hi - s.lo, b1, sizeof b1), s.count,
                ll_size_format(s.bytes, b2, sizeof b2));
    }
    fprintf(out, "\nwhere the kernel may map (the model):\n");
    for (size_t z = 0; z < a->zone_count; z++)
        fprintf(out, "  0x%012llx-0x%012llx %-9s %s (%s)\n", (unsigned long long)a->zones[z].start,
                (unsigned long long)a->zones[z].end,
                ll_size_format(a->zones[z].end - a->zones[z].start, b1, sizeof b1),
                a->zones[z].what, a->zones[z].when);
    fprintf(out, "\nsafe gaps:\n");
    for (size_t i = 0; i < a->safe_count; i++)
        fprintf(out, "  0x%012llx-0x%012llx %-9s%s\n", (unsigned long long)a->safe[i].start,
                (unsigned long long)a->safe[i].end,
                ll_size_format(a->safe[i].end - a->safe[i].start, b1, sizeof b1),
                a->safe[i].start == a->gap.start ? " <- the block goes here" : "");
    fprintf(out, "\naddress       0x%llx  (%s block, aligned to %s)\n", (unsigned long long)a->base,
            ll_size_format(a->size, b1, sizeof b1), ll_size_format(a->align, b2, sizeof b2));
    fprintf(out,
            "why           it lies in the gap 0x%llx-0x%llx next to the application chunk "
            "(%s it),\n              %.0f%% of the way from the application side (bias "
            "%.2f%s); no layout the model\n              allows maps anything there.\n",
            (unsigned long long)a->gap.start, (unsigned long long)a->gap.end,
            a->app_below ? "above" : "below", a->bias * 100, a->bias, bias_name(a->bias));
    fprintf(out, "assumed       ");
    print_assumed(out, a, "              ");
    fprintf(out, "\n");
    struct winsize ws;
    int width = ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60 ? ws.ws_col : 100;
    cli_draw_text(out, a, m, width, isatty(1) && !getenv("NO_COLOR"));
    fprintf(out, "\nuse: -DLOOPLIVE_BASE=0x%llxULL -DLOOPLIVE_SIZE=%lluULL (or --format c)\n",
            (unsigned long long)a->base, (unsigned long long)a->size);
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_json(FILE *out, const addr_opts *o, const ll_advice *a, const ll_maps *m,
                       const ll_verdict *v)
{
    fprintf(out, "{\n  \"base\": \"0x%llx\",\n  \"size\": %llu,\n  \"align\": %llu,\n",
            (unsigned long long)a->base, (unsigned long long)a->size, (unsigned long long)a->align);
    fprintf(out, "  \"bias\": %.4g,\n  \"page_size\": %llu,\n  \"pid\": %d,\n  \"exe\": ", a->bias,
            (unsigned long long)a->kernel.page_size, o->pid);
    if (a->exe_path)
        json_str(out, a->exe_path);
    else
        fputs("null", out);
    fprintf(out, ",\n  \"exe_type\": \"%s\",\n  \"samples\": %zu,\n  \"layouts\": ",
            ll_exe_type_name_get(a->exe.type), a->samples);
    json_str(out, a->layouts);
    fprintf(out, ",\n  \"va_bits\": %u,\n  \"task_size\": \"0x%llx\",\n", a->kernel.va_bits,
            (unsigned long long)a->task_size);
    fprintf(out, "  \"gap\": {\"start\": \"0x%llx\", \"end\": \"0x%llx\", \"app_below\": %s},\n",
            (unsigned long long)a->gap.start, (unsigned long long)a->gap.end,
            a->app_below ? "true" : "false");
    fprintf(out, "  \"chunks\": [");
    int first = 1;
    for (int c = LL_CHUNK_APP; c < LL_CHUNK_COUNT; c++) {
        ll_span s = user_span(m, (ll_chunk)c, a->task_size);
        if (!s.count) continue;
        fprintf(out,
                "%s\n    {\"chunk\": \"%s\", \"start\": \"0x%llx\", \"end\": \"0x%llx\", "
                "\"regions\": %zu, \"bytes\": %llu}",
                first ? "" : ",", ll_chunk_name_get((ll_chunk)c), (unsigned long long)s.lo,
                (unsigned long long)s.hi, s.count, (unsigned long long)s.bytes);
        first = 0;
    }
    fprintf(out, "\n  ],\n  \"zones\": [");
    for (size_t z = 0; z < a->zone_count; z++) {
        fprintf(out,
                "%s\n    {\"start\": \"0x%llx\", \"end\": \"0x%llx\", \"what\": ", z ? "," : "",
                (unsigned long long)a->zones[z].start, (unsigned long long)a->zones[z].end);
        json_str(out, a->zones[z].what);
        fputs(", \"when\": ", out);
        json_str(out, a->zones[z].when);
        fputc('}', out);
    }
    fprintf(out, "\n  ],\n  \"safe\": [");
    for (size_t i = 0; i < a->safe_count; i++)
        fprintf(out, "%s\n    {\"start\": \"0x%llx\", \"end\": \"0x%llx\"}", i ? "," : "",
                (unsigned long long)a->safe[i].start, (unsigned long long)a->safe[i].end);
    const ll_kernel *k = &a->kernel;
    fprintf(out,
            "\n  ],\n  \"assumed\": {\"randomize_va_space\": %d, \"mmap_rnd_bits\": %d, "
            "\"mmap_min_addr\": %llu, \"legacy_va_layout\": %d, \"stack_rlimit_max\": %llu, "
            "\"stack_unlimited\": true, \"lib_growth\": %llu, \"heap_growth\": %llu, \"la57\": "
            "%s}",
            k->randomize_va_space, k->mmap_rnd_bits, (unsigned long long)k->mmap_min_addr,
            k->legacy_va_layout, (unsigned long long)a->stack_limit_max,
            (unsigned long long)a->lib_allow, (unsigned long long)a->heap_allow,
            k->la57 ? "true" : "false");
    if (v) {
        fprintf(out, ",\n  \"check\": {\"address\": \"0x%llx\", \"safe\": %s, \"why\": ",
                (unsigned long long)o->check, v->safe ? "true" : "false");
        json_str(out, v->why);
        fputc('}', out);
    }
    fprintf(out, "\n}\n");
}

/* Copies s into buf (cap bytes) with every "*\/" made "* /", so that a path
 * or a command line cannot end the header's comment early. */
static const char *comment_safe(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 2 < cap; s++) {
        buf[n++] = *s;
        if (s[0] == '*' && s[1] == '/') buf[n++] = ' ';
    }
    buf[n] = 0;
    return buf;
}

static void print_c(FILE *out, const addr_opts *o, const ll_advice *a)
{
    struct utsname u;
    char b1[32], b2[32], cmd[6200], exe[4200];
    if (uname(&u) != 0) strcpy(u.release, "?");
    fprintf(out,
            "/* looplive_base.h - the static base address of the memory block.\n"
            " * Generated by: %s\n"
            " * Derived on Linux %s (%u-bit mmap window, page %s) from %zu sample(s) of\n"
            " * %s (%s): the block lies in the gap 0x%llx-0x%llx,\n"
            " * which no layout the ASLR model allows reaches (ASLR on or off, stack rlimit\n"
            " * up to %s or unlimited, legacy layout). Regenerate with the command above. */\n",
            comment_safe(o->cmdline, cmd, sizeof cmd), u.release, a->kernel.va_bits,
            ll_size_format(a->kernel.page_size, b1, sizeof b1), a->samples,
            comment_safe(a->exe_path ? a->exe_path : "an unknown executable", exe, sizeof exe),
            ll_exe_type_name_get(a->exe.type), (unsigned long long)a->gap.start,
            (unsigned long long)a->gap.end, ll_size_format(a->stack_limit_max, b2, sizeof b2));
    fprintf(out,
            "#ifndef LOOPLIVE_BASE_H\n#define LOOPLIVE_BASE_H\n#define LOOPLIVE_BASE 0x%llxULL\n"
            "#define LOOPLIVE_SIZE %lluULL /* %s */\n#endif\n",
            (unsigned long long)a->base, (unsigned long long)a->size,
            ll_size_format(a->size, b1, sizeof b1));
}

static int write_svg(const char *path, const ll_advice *a, const ll_maps *m)
{
    FILE *f = fopen(path, "w");
    if (!f) return cli_error(1, "addr: cannot write '%s': %s", path, strerror(errno));
    int rc = cli_draw_svg(f, a, m);
    if (fclose(f) != 0 || rc != 0)
        return cli_error(1, "addr: cannot write '%s': %s", path, strerror(errno));
    return 0;
}

static int report(addr_opts *o, const ll_maps *samples, size_t count)
{
    const ll_maps *ptrs[64];
    for (size_t i = 0; i < count; i++) ptrs[i] = &samples[i];
    ll_advice *a = calloc(1, sizeof *a);
    ll_error err;
    if (!a) return cli_error(1, "addr: out of memory");
    int status = 0;
    ll_kernel k;
    ll_advise_params params = o->p;
    if (o->target == T_FILE && ll_kernel_read(&k, &err) == 0) {
        /* A file from another machine: its stack tells the width (39 or
         * 48 bits means arm64 rules). */
        int has_stack = ll_maps_span_get(&samples[0], LL_CHUNK_STACK).count > 0;
        unsigned bits = has_stack ? ll_maps_va_bits_get(&samples[0]) : k.va_bits;
        if (bits != k.va_bits) {
            k.va_bits = bits;
            k.aarch64 = bits == 39 || bits == 48;
            k.la57 = 0;
            if (k.aarch64 && k.mmap_rnd_bits > (int)bits - 15) k.mmap_rnd_bits = (int)bits - 21;
        }
        params.kernel = &k;
    }
    if (ll_maps_advise_(ptrs, count, a, &err, &params) != 0) {
        free(a);
        return cli_error(err.code == EINVAL ? 2 : 1, "addr: %s", err.msg);
    }
    ll_verdict v = {0};
    if (o->has_check) ll_advice_check(a, &samples[0], o->check, a->size, &v);
    if (o->svg && write_svg(o->svg, a, &samples[0]) != 0) status = 1;
    if (o->format == FMT_JSON)
        print_json(stdout, o, a, &samples[0], o->has_check ? &v : NULL);
    else if (o->format == FMT_C)
        print_c(stdout, o, a);
    else if (o->format == FMT_MAKE)
        printf("-DLOOPLIVE_BASE=0x%llxULL -DLOOPLIVE_SIZE=%lluULL\n", (unsigned long long)a->base,
               (unsigned long long)a->size);
    else if (!o->has_check)
        print_text(stdout, o, a, &samples[0]);
    if (o->has_check && o->format == FMT_TEXT) {
        char b[32];
        printf("0x%llx + %s: %s: %s\n", (unsigned long long)o->check,
               ll_size_format(a->size, b, sizeof b), v.safe ? "safe" : "NOT safe", v.why);
        if (!v.safe) printf("suggested instead: 0x%llx\n", (unsigned long long)a->base);
    }
    if (o->has_check && !v.safe) status = 1;
    free(a);
    return status;
}

static int run_addr(addr_opts *o)
{
    ll_maps samples[64] = {0};
    size_t count = 0;
    ll_error err;
    if (read_target(o, samples, &count, &err) != 0) {
        for (size_t i = 0; i < count; i++) ll_maps_free(&samples[i]);
        return cli_error(1, "addr: %s", err.msg);
    }
    int rc = report(o, samples, count);
    for (size_t i = 0; i < count; i++) ll_maps_free(&samples[i]);
    return rc;
}

int cli_addr(int argc, char **argv)
{
    addr_opts o = {.after_ms = -1};
    int rc = parse_args(argc, argv, &o);
    if (rc == 0)
        rc = run_addr(&o);
    else if (rc < 0)
        rc = 0; /* --help */
    if (o.have_words) wordfree(&o.words);
    return rc;
}
