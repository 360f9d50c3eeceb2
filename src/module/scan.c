/* scan.c - find the block's pointers into an old build before it is unloaded.
 * A function pointer is re-pointed to the function of the same name in the
 * new build (found with dladdr while the old image is still mapped). Anything
 * else that points into the old image (a string literal, its static data, the
 * middle of a function) has no counterpart and is reported with its offset. */
#include "module/module.h"

#include <ctype.h>
#include <stdarg.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const module_range *range_of(const module_image *img, uint64_t addr)
{
    for (int i = 0; i < img->range_count; i++)
        if (addr >= img->ranges[i].start && addr < img->ranges[i].end) return &img->ranges[i];
    return NULL;
}

static int in_image(const module_image *img, uint64_t addr)
{
    return range_of(img, addr) != NULL;
}

typedef struct scan_state {
    ll_module *m;
    const module_image *from, *to;
    size_t stale;
} scan_state;

__attribute__((format(printf, 4, 5))) static void add_stale(scan_state *s, uint64_t offset,
                                                            uint64_t value, const char *fmt, ...)
{
    ll_module_info *info = &s->m->info;
    if (info->stale_count < LL_MODULE_STALE_MAX) {
        ll_module_stale *st = &info->stale[info->stale_count];
        st->offset = offset;
        st->value = value;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->what, sizeof st->what, fmt, ap);
        va_end(ap);
    }
    info->stale_count++;
    s->stale++;
}

/* Quotes a short NUL-terminated printable string at p, if there is one. */
static int quote_string(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    while (n < 40 && p[n] && (isprint((unsigned char)p[n]) || p[n] == '\n')) n++;
    if (n == 0 || (n < 40 && p[n] != 0)) return 0;
    snprintf(out, cap, "\"%.*s%s\"", (int)n, p, n == 40 ? "..." : "");
    return 1;
}

static void classify_data(scan_state *s, uint64_t offset, uint64_t value, const module_range *r,
                          const Dl_info *di, const ElfW(Sym) * sym)
{
    char text[64];
    const char *kind = (r->flags & PF_W) ? "static data" : "read-only data";
    uint64_t saddr = (uint64_t)(uintptr_t)di->dli_saddr;
    if (di->dli_sname && sym && value >= saddr && value < saddr + sym->st_size)
        add_stale(s, offset, value, "%s '%s'+0x%llx of version %llu", kind, di->dli_sname,
                  (unsigned long long)(value - saddr), (unsigned long long)s->from->version);
    else if (!(r->flags & PF_W) && quote_string((const char *)(uintptr_t)value, text, sizeof text))
        add_stale(s, offset, value, "string literal %s of version %llu", text,
                  (unsigned long long)s->from->version);
    else
        add_stale(s, offset, value, "%s of version %llu", kind,
                  (unsigned long long)s->from->version);
}

static void classify_code(scan_state *s, uint64_t *word, uint64_t offset, const Dl_info *di)
{
    uint64_t value = *word;
    uint64_t saddr = (uint64_t)(uintptr_t)di->dli_saddr;
    if (!di->dli_sname) {
        add_stale(s, offset, value, "code of version %llu outside any exported function",
                  (unsigned long long)s->from->version);
        return;
    }
    if (saddr != value) {
        add_stale(s, offset, value, "code address %s+0x%llx, not a function's start", di->dli_sname,
                  (unsigned long long)(value - saddr));
        return;
    }
    void *next = s->to ? dlsym(s->to->handle, di->dli_sname) : NULL;
    if (!next || !in_image(s->to, (uint64_t)(uintptr_t)next)) {
        add_stale(s, offset, value, "function '%s', which version %llu lacks", di->dli_sname,
                  (unsigned long long)(s->to ? s->to->version : 0));
        return;
    }
    module_fixes *f = &s->m->fixes;
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        module_fix *items = realloc(f->items, cap * sizeof *items);
        if (!items) { /* cannot be re-pointed: refused like any stale pointer */
            add_stale(s, offset, value, "function '%s' (out of memory to re-point it)",
                      di->dli_sname);
            return;
        }
        f->items = items;
        f->cap = cap;
    }
    f->items[f->count++] = (module_fix){.word = word, .value = (uint64_t)(uintptr_t)next};
    s->m->info.repointed++;
}

static void check_word(scan_state *s, uint64_t *word, uint64_t offset)
{
    uint64_t value = *word;
    const module_range *r = range_of(s->from, value);
    if (!r) return; /* a gap between segments: nothing there to point at */
    Dl_info di;
    const ElfW(Sym) *sym = NULL;
    memset(&di, 0, sizeof di);
    if (!dladdr1((void *)(uintptr_t)value, &di, (void **)&sym, RTLD_DL_SYMENT))
        memset(&di, 0, sizeof di);
    /* A static function shows up as the exported symbol before it. */
    if ((r->flags & PF_X) && !(sym && ELF64_ST_TYPE(sym->st_info) != STT_FUNC))
        classify_code(s, word, offset, &di);
    else
        classify_data(s, offset, value, r, &di, sym);
}

static void scan_page(scan_state *s, uint64_t offset)
{
    uint64_t *words = (uint64_t *)(s->m->block->base + offset);
    uint64_t n = s->m->block->page_size / sizeof *words;
    uint64_t lo = s->from->lo, span = s->from->hi - s->from->lo;
    /* Test eight words with no branch (the compiler vectorizes it); hits are
     * rare, so the slow path hardly ever runs. */
    for (uint64_t i = 0; i + 8 <= n; i += 8) {
        int any = 0;
        for (int j = 0; j < 8; j++) any |= words[i + j] - lo < span;
        if (!any) continue;
        for (uint64_t j = i; j < i + 8; j++)
            if (words[j] - lo < span) check_word(s, &words[j], offset + j * sizeof *words);
    }
}

static int scan_visit(uint64_t off, const uint8_t *bytes, void *ctx)
{
    (void)bytes; /* the words are read and repointed in the block itself */
    scan_page(ctx, off);
    return 0;
}

size_t module_scan(ll_module *m, const module_image *from, const module_image *to)
{
    scan_state s = {.m = m, .from = from, .to = to};
    ll_block *b = m->block;
    m->fixes.count = 0;
    m->info.repointed = 0;
    m->info.stale_count = 0;
    /* Only pages that hold data (ll_snap_pages: present, swapped out or in
     * the baseline): reading an untouched page of a large block would
     * commit memory for nothing. */
    ll_snap_pages(b, NULL, scan_visit, &s, NULL);
    return s.stale;
}

void module_scan_apply(ll_module *m)
{
    for (size_t i = 0; i < m->fixes.count; i++) *m->fixes.items[i].word = m->fixes.items[i].value;
    m->fixes.count = 0;
}

void module_stale_describe(const ll_module *m, char *buf, size_t cap)
{
    size_t used = 0, shown = 0;
    buf[0] = 0;
    for (size_t i = 0; i < m->info.stale_count && i < LL_MODULE_STALE_MAX && shown < 3; i++) {
        const ll_module_stale *st = &m->info.stale[i];
        int n = snprintf(buf + used, cap - used, "%soffset 0x%llx: %s", shown ? "; " : "",
                         (unsigned long long)st->offset, st->what);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
        shown++;
    }
    if (m->info.stale_count > shown)
        snprintf(buf + used, cap - used, "; and %zu more", m->info.stale_count - shown);
}
