/* draw.c - the address space as a picture: a to-scale bar of the whole
 * space (one column covers TASK_SIZE / width bytes), then one row per chunk,
 * gap and the block, with bar lengths on a log scale so that a 4 KiB vdso
 * and a 40 TiB gap both show. */
#include "cli/cli.h"
#include "base/base.h"

#include <math.h>
#include <string.h>

enum { SEG_FREE = LL_CHUNK_COUNT, SEG_BLOCK, SEG_KINDS };

typedef struct seg {
    uint64_t lo, hi;
    int kind;  /* ll_chunk, SEG_FREE or SEG_BLOCK */
    int zoned; /* free, but a zone of the model covers part of it */
    char label[96];
} seg;

static const char *kind_name(int kind)
{
    return kind == SEG_FREE    ? "free"
           : kind == SEG_BLOCK ? "BLOCK"
                               : ll_chunk_name_get((ll_chunk)kind);
}

static int zoned(const ll_advice *a, uint64_t lo, uint64_t hi)
{
    for (size_t z = 0; z < a->zone_count; z++)
        if (lo < a->zones[z].end && hi > a->zones[z].start) return 1;
    return 0;
}

static void zone_label(const ll_advice *a, uint64_t at, char *buf, size_t cap)
{
    snprintf(buf, cap, "the kernel may map here");
    for (size_t z = 0; z < a->zone_count; z++)
        if (at >= a->zones[z].start && at < a->zones[z].end) {
            snprintf(buf, cap, "may hold: %s", a->zones[z].what);
            return;
        }
}

static void push_one(seg *out, size_t *n, size_t cap, seg s)
{
    if (s.hi > s.lo && *n < cap) out[(*n)++] = s;
}

/* A free stretch splits into the parts that are safe and the parts a zone
 * of the model covers, each labelled. */
static void push(seg *out, size_t *n, size_t cap, const ll_advice *a, seg s)
{
    if (s.kind != SEG_FREE) {
        push_one(out, n, cap, s);
        return;
    }
    uint64_t p = s.lo;
    for (size_t i = 0; i < a->safe_count && p < s.hi; i++) {
        const ll_range *r = &a->safe[i];
        if (r->end <= p || r->start >= s.hi) continue;
        if (r->start > p) {
            seg z = {.lo = p, .hi = r->start, .kind = SEG_FREE, .zoned = 1};
            zone_label(a, p, z.label, sizeof z.label);
            push_one(out, n, cap, z);
            p = r->start;
        }
        seg f = {.lo = p, .hi = r->end < s.hi ? r->end : s.hi, .kind = SEG_FREE};
        snprintf(f.label, sizeof f.label, "safe");
        push_one(out, n, cap, f);
        p = f.hi;
    }
    if (p < s.hi) {
        seg z = {.lo = p, .hi = s.hi, .kind = SEG_FREE, .zoned = 1};
        zone_label(a, p, z.label, sizeof z.label);
        push_one(out, n, cap, z);
    }
}

/* Runs of regions of one chunk become one row; the gaps between them and
 * the block (split out of the gap it sits in) are rows too. */
static size_t segments(const ll_advice *a, const ll_maps *m, seg *out, size_t cap)
{
    size_t n = 0;
    uint64_t at = 0;
    for (size_t i = 0; m && i < m->count && n + 4 < cap;) {
        const ll_region *r = &m->regions[i];
        if (r->start >= a->task_size) break;
        seg s = {.lo = r->start, .hi = r->end, .kind = (int)r->chunk};
        snprintf(s.label, sizeof s.label, "%s", r->path[0] ? r->path : "[anonymous]");
        size_t j = i + 1, names = 1;
        while (j < m->count && m->regions[j].chunk == r->chunk &&
               m->regions[j].start - s.hi < LL_GIB && m->regions[j].start < a->task_size) {
            if (strcmp(m->regions[j].path, m->regions[j - 1].path) != 0) names++;
            s.hi = m->regions[j++].end;
        }
        if (names > 1) {
            size_t len = strlen(s.label);
            snprintf(s.label + (len > 60 ? 60 : len), sizeof s.label - (len > 60 ? 60 : len),
                     " +%zu more", names - 1);
        }
        if (s.lo > at) {
            uint64_t blo = a->base, bhi = a->base + a->size;
            if (a->size && blo >= at && bhi <= s.lo) {
                push(out, &n, cap, a, (seg){.lo = at, .hi = blo, .kind = SEG_FREE});
                push(out, &n, cap, a, (seg){.lo = blo, .hi = bhi, .kind = SEG_BLOCK});
                push(out, &n, cap, a, (seg){.lo = bhi, .hi = s.lo, .kind = SEG_FREE});
            } else {
                push(out, &n, cap, a, (seg){.lo = at, .hi = s.lo, .kind = SEG_FREE});
            }
        }
        push(out, &n, cap, a, s);
        at = s.hi;
        i = j;
    }
    if (at < a->task_size && n + 3 <= cap) {
        if (a->size && a->base >= at) {
            push(out, &n, cap, a, (seg){.lo = at, .hi = a->base, .kind = SEG_FREE});
            push(out, &n, cap, a, (seg){.lo = a->base, .hi = a->base + a->size, .kind = SEG_BLOCK});
            at = a->base + a->size;
        }
        push(out, &n, cap, a, (seg){.lo = at, .hi = a->task_size, .kind = SEG_FREE});
    }
    for (size_t i = 0; i < n; i++)
        if (out[i].kind == SEG_BLOCK) snprintf(out[i].label, sizeof out[i].label, "LOOPLIVE_BASE");
    return n;
}

static int log_len(uint64_t bytes, int max)
{
    double l = log2((double)(bytes ? bytes : 1)) - 11; /* 4 KiB -> 1 */
    int n = (int)ceil(l * max / 36.0);                 /* 128 TiB -> max */
    return n < 1 ? 1 : n > max ? max : n;
}

static const char *ansi(int kind, int color)
{
    static const char *c[SEG_KINDS] = {"",         "\033[32m", "\033[34m",  "\033[35m",
                                       "\033[33m", "",         "\033[1;31m"};
    return color ? c[kind] : "";
}

/* The to-scale bar: each column shows the most important thing in it. */
static void draw_bar(FILE *out, const ll_advice *a, const seg *s, size_t n, int width, int color)
{
    static const char mark[SEG_KINDS] = {'?', 'A', 'L', 'S', 'K', '.', '#'};
    double per = (double)a->task_size / width;
    fprintf(out, "  0x0 |");
    for (int col = 0; col < width; col++) {
        uint64_t lo = (uint64_t)(col * per), hi = (uint64_t)((col + 1) * per);
        int best = SEG_FREE, z = zoned(a, lo, hi);
        for (size_t i = 0; i < n; i++) {
            if (s[i].kind == SEG_FREE || s[i].lo >= hi || s[i].hi <= lo) continue;
            if (s[i].kind == SEG_BLOCK || best == SEG_FREE) best = s[i].kind;
        }
        char ch = best == SEG_FREE && z ? '~' : mark[best];
        fprintf(out, "%s%c%s", ansi(best, color), ch, color && best != SEG_FREE ? "\033[0m" : "");
    }
    char top[32];
    fprintf(out, "| 0x%llx (%s per column, to scale)\n", (unsigned long long)a->task_size,
            ll_size_format((uint64_t)per, top, sizeof top));
    fprintf(out, "        A app  L lib  S stack  K kernel  # block  ~ the kernel may map here  . "
                 "safe\n\n");
}

void cli_draw_text(FILE *out, const ll_advice *a, const ll_maps *m, int width, int color)
{
    seg s[512];
    size_t n = segments(a, m, s, LL_ARRAY_COUNT(s));
    if (width < 40) width = 40;
    draw_bar(out, a, s, n, width - 30, color);
    int barmax = width - 60 > 20 ? width - 60 : 20;
    for (size_t i = n; i-- > 0;) { /* high addresses first, as the space grows down */
        char sz[32];
        int len = log_len(s[i].hi - s[i].lo, barmax);
        char fill = s[i].kind == SEG_BLOCK  ? '#'
                    : s[i].kind == SEG_FREE ? (s[i].zoned ? '~' : '.')
                                            : '=';
        fprintf(out, "  0x%012llx %-6s %s", (unsigned long long)s[i].lo, kind_name(s[i].kind),
                ansi(s[i].kind, color));
        for (int k = 0; k < barmax; k++) fputc(k < len ? fill : ' ', out);
        fprintf(out, "%s %9s  %s\n", color ? "\033[0m" : "",
                ll_size_format(s[i].hi - s[i].lo, sz, sizeof sz), s[i].label);
    }
    fprintf(out, "  (rows: bar length on a log scale, 4 KiB to 128 TiB)\n");
}

static void svg_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else
            fputc(*s, out);
    }
}

int cli_draw_svg(FILE *out, const ll_advice *a, const ll_maps *m)
{
    static const char *fill[SEG_KINDS] = {"#999",    "#2e8b57", "#4169e1", "#9932cc",
                                          "#daa520", "#eeeeee", "#d62728"};
    seg s[512];
    size_t n = segments(a, m, s, LL_ARRAY_COUNT(s));
    int w = 900, rowh = 22, top = 110, h = top + (int)n * rowh + 40;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"monospace\" font-size=\"12\">\n<title>looplive addr</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            w, h);
    fprintf(out,
            "<text x=\"10\" y=\"20\" font-size=\"14\">Address space to scale: 0x0 .. "
            "0x%llx; hatched: the kernel may map there</text>\n",
            (unsigned long long)a->task_size);
    double scale = (w - 20) / (double)a->task_size;
    fprintf(out,
            "<rect x=\"10\" y=\"30\" width=\"%d\" height=\"30\" fill=\"#eeeeee\" "
            "stroke=\"#333\"/>\n",
            w - 20);
    for (size_t z = 0; z < a->zone_count; z++)
        fprintf(out,
                "<rect x=\"%.2f\" y=\"30\" width=\"%.2f\" height=\"30\" fill=\"#f4c7c3\"><title>",
                10 + a->zones[z].start * scale,
                fmax(1, (double)(a->zones[z].end - a->zones[z].start) * scale)),
            svg_text(out, a->zones[z].what), fputs(" (", out), svg_text(out, a->zones[z].when),
            fputs(")</title></rect>\n", out);
    for (size_t i = 0; i < n; i++)
        if (s[i].kind != SEG_FREE)
            fprintf(out, "<rect x=\"%.2f\" y=\"30\" width=\"%.2f\" height=\"30\" fill=\"%s\"/>\n",
                    10 + s[i].lo * scale, fmax(2, (double)(s[i].hi - s[i].lo) * scale),
                    fill[s[i].kind]);
    fprintf(out, "<text x=\"10\" y=\"90\" font-size=\"14\">Chunks, gaps and the block, high "
                 "addresses first (bar length: log scale)</text>\n");
    for (size_t k = 0; k < n; k++) {
        const seg *g = &s[n - 1 - k];
        char sz[32];
        int y = top + (int)k * rowh, len = log_len(g->hi - g->lo, 360);
        fprintf(out,
                "<text x=\"10\" y=\"%d\">0x%012llx %s</text>\n"
                "<rect x=\"190\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"%s/>\n"
                "<text x=\"560\" y=\"%d\">%s ",
                y + 15, (unsigned long long)g->lo, kind_name(g->kind), y + 3, len, rowh - 6,
                g->kind == SEG_FREE && g->zoned ? "#f4c7c3" : fill[g->kind],
                g->kind == SEG_FREE ? " stroke=\"#999\"" : "", y + 15,
                ll_size_format(g->hi - g->lo, sz, sizeof sz));
        svg_text(out, g->label);
        fputs("</text>\n", out);
    }
    fprintf(out, "</svg>\n");
    return ferror(out) ? -1 : 0;
}
