/* codemap.c - the code map saved with a state, and re-pointing a state
 * loaded in another process to the build in use there.
 *
 * In the process that saved it every old build stays mapped and forwards,
 * so no word needs changing. A new process has other builds at other
 * addresses: each word of the loaded state that falls in a saved image's
 * range is re-pointed to the same function + offset of the build in use
 * (by name), or, when the saved build is the one in use (same build-id),
 * moved by the difference of the load addresses, which also carries
 * pointers to its data. A word that has no counterpart (a function the
 * build lacks, another build's string literal) refuses the whole load,
 * before any word is written. */
#include "module/module.h"

#include <elf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#define CMAP_MAGIC "LLCMAP1"

typedef struct cmap_header {
    char magic[8];
    uint32_t format, image_count;
    uint64_t size; /* the whole map */
} cmap_header;

typedef struct cmap_range {
    uint64_t start, end;
    uint32_t flags, pad;
} cmap_range;

typedef struct cmap_image {
    uint64_t version, base, lo, hi;
    uint32_t range_count, func_count;
    uint64_t names_size;
    uint32_t build_id_len, pad;
    uint8_t build_id[32];
    char path[256];
    cmap_range ranges[MODULE_RANGE_MAX];
    /* then func_count cmap_func, then names_size bytes of names */
} cmap_image;

typedef struct cmap_func {
    uint64_t addr, size, name;
} cmap_func;

/* ---- writing -------------------------------------------------------------- */

/* Padded to 8 bytes, so that every record of the map stays aligned. */
static uint64_t names_size(const module_image *img)
{
    uint64_t n = 0;
    for (size_t i = 0; i < img->func_count; i++) n += strlen(img->funcs[i].name) + 1;
    return ll_align_up(n, 8);
}

static uint8_t *put_image(const ll_module *m, const module_image *img, uint8_t *at)
{
    cmap_image ci = {.version = img->version,
                     .base = img->base,
                     .lo = img->lo,
                     .hi = img->hi,
                     .range_count = (uint32_t)img->range_count,
                     .func_count = (uint32_t)img->func_count,
                     .names_size = names_size(img),
                     .build_id_len = img->build_id_len};
    memcpy(ci.build_id, img->build_id, sizeof ci.build_id);
    snprintf(ci.path, sizeof ci.path, "%s", m->path);
    for (int i = 0; i < img->range_count; i++)
        ci.ranges[i] =
            (cmap_range){img->ranges[i].start, img->ranges[i].end, img->ranges[i].flags, 0};
    memcpy(at, &ci, sizeof ci);
    at += sizeof ci;
    uint64_t name = 0;
    for (size_t i = 0; i < img->func_count; i++) {
        cmap_func f = {img->funcs[i].addr, img->funcs[i].size, name};
        memcpy(at, &f, sizeof f);
        at += sizeof f;
        name += strlen(img->funcs[i].name) + 1;
    }
    uint8_t *names = at;
    for (size_t i = 0; i < img->func_count; i++) {
        size_t len = strlen(img->funcs[i].name) + 1;
        memcpy(at, img->funcs[i].name, len);
        at += len;
    }
    memset(at, 0, (size_t)(ci.names_size - (uint64_t)(at - names)));
    return names + ci.names_size;
}

int ll_module_codemap_build(const ll_module *m, void **out, uint64_t *size, ll_error *err)
{
    uint64_t total = sizeof(cmap_header);
    uint32_t count = 0;
    for (const module_image *img = m->images; img; img = img->next, count++)
        total += sizeof(cmap_image) + img->func_count * sizeof(cmap_func) + names_size(img);
    uint8_t *buf = malloc(total);
    if (!buf) return ll_fail(err, ENOMEM, "out of memory for the code map of '%s'", m->path);
    cmap_header h = {.format = 1, .image_count = count, .size = total};
    memcpy(h.magic, CMAP_MAGIC, sizeof h.magic);
    memcpy(buf, &h, sizeof h);
    uint8_t *at = buf + sizeof h;
    for (const module_image *img = m->images; img; img = img->next) at = put_image(m, img, at);
    *out = buf;
    *size = total;
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

typedef struct saved_image {
    cmap_image h;
    const cmap_func *funcs;
    const char *names;
} saved_image;

static int bad_map(ll_error *err, const char *why)
{
    return ll_fail(err, EINVAL, "the saved code map is corrupted: %s (try: save the state again)",
                   why);
}

static int parse_image(const uint8_t *p, uint64_t left, saved_image *out, uint64_t *used,
                       ll_error *err)
{
    if (left < sizeof(cmap_image)) return bad_map(err, "an image record is cut short");
    memcpy(&out->h, p, sizeof out->h);
    const cmap_image *h = &out->h;
    uint64_t funcs = (uint64_t)h->func_count * sizeof(cmap_func);
    if (h->range_count > MODULE_RANGE_MAX || funcs > left - sizeof *h ||
        h->names_size > left - sizeof *h - funcs || h->names_size % 8 || h->lo > h->hi)
        return bad_map(err, "an image record does not fit");
    out->funcs = (const cmap_func *)(p + sizeof *h);
    out->names = (const char *)(p + sizeof *h + funcs);
    if (h->names_size && out->names[h->names_size - 1])
        return bad_map(err, "a function name is not terminated");
    for (uint32_t i = 0; i < h->func_count; i++)
        if (out->funcs[i].name >= h->names_size) return bad_map(err, "a function name is outside");
    for (uint32_t i = 0; i < h->range_count; i++)
        if (h->ranges[i].start > h->ranges[i].end) return bad_map(err, "a range is inverted");
    out->h.path[sizeof out->h.path - 1] = 0;
    *used = sizeof *h + funcs + h->names_size;
    return 0;
}

/* map must be 8-byte aligned (ll_module_codemap_apply copies it). */
static int parse_map(const void *map, uint64_t size, saved_image **out, uint32_t *count,
                     ll_error *err)
{
    cmap_header h;
    if (size < sizeof h) return bad_map(err, "shorter than its header");
    memcpy(&h, map, sizeof h);
    if (memcmp(h.magic, CMAP_MAGIC, sizeof h.magic) != 0 || h.format != 1 || h.size != size)
        return bad_map(err, "no LLCMAP1 header of the right size");
    if (h.image_count > size / sizeof(cmap_image)) return bad_map(err, "too many images");
    saved_image *imgs = calloc(h.image_count ? h.image_count : 1, sizeof *imgs);
    if (!imgs) return ll_fail(err, ENOMEM, "out of memory reading the code map");
    const uint8_t *p = (const uint8_t *)map + sizeof h;
    uint64_t left = size - sizeof h;
    for (uint32_t i = 0; i < h.image_count; i++) {
        uint64_t used = 0;
        if (parse_image(p, left, &imgs[i], &used, err) != 0) {
            free(imgs);
            return -1;
        }
        p += used;
        left -= used;
    }
    *out = imgs;
    *count = h.image_count;
    return 0;
}

/* ---- re-pointing ------------------------------------------------------------ */

typedef struct repoint {
    ll_module *m;
    uint8_t *state;
    saved_image *imgs;
    uint32_t count;
    uint64_t lo, hi; /* the union of every saved image */
    module_fix *fixes;
    size_t fix_count, fix_cap;
    size_t stale;
    int oom;
} repoint;

__attribute__((format(printf, 4, 5))) static void add_stale(repoint *r, uint64_t offset,
                                                            uint64_t value, const char *fmt, ...)
{
    ll_module_info *info = &r->m->info;
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
    r->stale++;
}

static void add_fix(repoint *r, uint64_t *word, uint64_t value)
{
    if (r->fix_count == r->fix_cap) {
        size_t cap = r->fix_cap ? r->fix_cap * 2 : 64;
        module_fix *f = realloc(r->fixes, cap * sizeof *f);
        if (!f) {
            r->oom = 1;
            return;
        }
        r->fixes = f;
        r->fix_cap = cap;
    }
    r->fixes[r->fix_count++] = (module_fix){word, value};
}

static const cmap_range *saved_range(const saved_image *s, uint64_t v)
{
    for (uint32_t i = 0; i < s->h.range_count; i++)
        if (v >= s->h.ranges[i].start && v < s->h.ranges[i].end) return &s->h.ranges[i];
    return NULL;
}

static const cmap_func *saved_func(const saved_image *s, uint64_t v)
{
    for (uint32_t i = 0; i < s->h.func_count; i++)
        if (v >= s->funcs[i].addr && v - s->funcs[i].addr < s->funcs[i].size) return &s->funcs[i];
    return NULL;
}

static int same_build(const saved_image *s, const module_image *img)
{
    return s->h.build_id_len && s->h.build_id_len == img->build_id_len &&
           !memcmp(s->h.build_id, img->build_id, img->build_id_len);
}

/* Still mapped here at the same place (the process that saved it). */
static int mapped_as_saved(const ll_module *m, const saved_image *s)
{
    for (const module_image *img = m->images; img; img = img->next)
        if (img->base == s->h.base && same_build(s, img)) return 1;
    return 0;
}

static void repoint_word(repoint *r, uint64_t *word, uint64_t offset, const saved_image *s,
                         const cmap_range *rg)
{
    uint64_t v = *word;
    const module_image *cur = r->m->cur;
    if (mapped_as_saved(r->m, s)) return;
    if (same_build(s, cur)) {
        add_fix(r, word, v - s->h.base + cur->base);
        return;
    }
    const cmap_func *f = (rg->flags & PF_X) ? saved_func(s, v) : NULL;
    if (!f) {
        add_stale(r, offset, v, "%s of another build (a string literal or static data?)",
                  (rg->flags & PF_W)   ? "static data"
                  : (rg->flags & PF_X) ? "code outside any function"
                                       : "read-only data");
        return;
    }
    const char *name = s->names + f->name;
    const module_func *now = module_func_find(cur, name);
    if (!now || v - f->addr >= now->size) {
        add_stale(r, offset, v, "function '%s'+0x%llx, which the build in use lacks", name,
                  (unsigned long long)(v - f->addr));
        return;
    }
    add_fix(r, word, now->addr + (v - f->addr));
}

static void check_word(repoint *r, uint64_t *word, uint64_t offset)
{
    for (uint32_t i = 0; i < r->count; i++) {
        const cmap_range *rg = saved_range(&r->imgs[i], *word);
        if (rg) {
            repoint_word(r, word, offset, &r->imgs[i], rg);
            return;
        }
    }
}

static void scan_range(repoint *r, uint64_t start, uint64_t end)
{
    uint64_t *words = (uint64_t *)(r->state + start);
    uint64_t span = r->hi - r->lo;
    for (uint64_t i = 0; i < (end - start) / 8; i++)
        if (words[i] - r->lo < span) check_word(r, &words[i], start + i * 8);
}

static void bounds(repoint *r)
{
    r->lo = UINT64_MAX;
    r->hi = 0;
    for (uint32_t i = 0; i < r->count; i++) {
        if (r->imgs[i].h.lo < r->lo) r->lo = r->imgs[i].h.lo;
        if (r->imgs[i].h.hi > r->hi) r->hi = r->imgs[i].h.hi;
    }
    if (r->lo > r->hi) r->lo = r->hi = 0;
}

static int refuse(repoint *r, ll_error *err)
{
    char list[600];
    module_stale_describe(r->m, list, sizeof list);
    return ll_fail(err, EADDRINUSE,
                   "cannot re-point the saved state's code pointers to '%s': %zu word%s point%s "
                   "where this build has nothing to match: %s (try: restore those functions in "
                   "the source, copy strings into the block instead of pointing at the build's "
                   "literals, or start the state over)",
                   r->m->path, r->stale, r->stale == 1 ? "" : "s", r->stale == 1 ? "s" : "", list);
}

int ll_module_codemap_apply(ll_module *m, uint8_t *state, uint64_t state_size, const void *map,
                            uint64_t map_size, const ll_range *data, size_t count, ll_error *err)
{
    repoint r = {.m = m, .state = state};
    m->info.repointed = 0;
    m->info.stale_count = 0;
    /* A copy: the map may sit anywhere in a file (after a recording's
     * inputs), and its records are read in place. */
    void *aligned = malloc(map_size ? map_size : 1);
    if (!aligned) return ll_fail(err, ENOMEM, "out of memory reading the code map");
    memcpy(aligned, map, map_size);
    if (parse_map(aligned, map_size, &r.imgs, &r.count, err) != 0) {
        free(aligned);
        return -1;
    }
    bounds(&r);
    for (size_t i = 0; i < count; i++) {
        uint64_t end = data[i].end < state_size ? data[i].end : state_size;
        if (data[i].start < end) scan_range(&r, data[i].start & ~7ull, end);
    }
    int rc = 0;
    if (r.oom)
        rc = ll_fail(err, ENOMEM, "out of memory re-pointing the loaded state");
    else if (r.stale)
        rc = refuse(&r, err);
    for (size_t i = 0; rc == 0 && i < r.fix_count; i++) *r.fixes[i].word = r.fixes[i].value;
    if (rc == 0) m->info.repointed = r.fix_count;
    free(r.fixes);
    free(r.imgs);
    free(aligned);
    return rc;
}

int ll_module_snap_extra_apply(void *module, uint8_t *state, uint64_t state_size, const void *extra,
                               uint64_t extra_size, const ll_range *data, size_t count,
                               ll_error *err)
{
    return ll_module_codemap_apply(module, state, state_size, extra, extra_size, data, count, err);
}

/* ---- canonical code addresses ------------------------------------------------ */

void ll_module_code_span_get(const ll_module *m, uint64_t *lo, uint64_t *hi)
{
    *lo = m->span_lo;
    *hi = m->span_hi;
}

static const module_image *image_at(const ll_module *m, uint64_t addr)
{
    if (m->cur && addr >= m->cur->lo && addr < m->cur->hi) return m->cur;
    for (const module_image *img = m->images; img; img = img->next)
        if (addr >= img->lo && addr < img->hi) return img;
    return NULL;
}

uint64_t ll_module_code_canonicalize(const ll_module *m, uint64_t addr)
{
    const module_image *img = image_at(m, addr);
    if (!img) return addr;
    const module_func *f = module_func_at(img, addr);
    if (f) return XXH3_64bits(f->name, strlen(f->name)) + (addr - f->addr);
    return XXH3_64bits(img->build_id, img->build_id_len) + (addr - img->base);
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
