/* globals.c - the application's globals kept with the block.
 *
 * The mutable globals of the library (the variables of its .data and .bss
 * that its symbol table names, static locals too; not the C runtime's) live
 * in the library, where its code addresses them, and are mirrored in the
 * last globals_room bytes of the block, where snapshots, restores,
 * recordings and files see them. Around every call into the module
 * (protect.c) the mirror is copied into the library before and the library
 * into the mirror after, a page at a time and only where they differ:
 * whatever changed the block in between (a restore, a rewind, a loop's
 * wrap, a load) reaches the globals, and the snapshot tracker sees only the
 * pages a call changed.
 *
 * The mirror starts with the layout it was written with (each global's
 * key, offset and size). When it describes another build's globals (a
 * reload, a rollback, a state saved by another build), each global of the
 * build in use takes the value of the one with its key and size and the
 * others their initial values. A global whose size changed holds the
 * mirror back (the old values stay in the block) until the loop accepts
 * the change (the layout version changed and the build migrates) or the
 * state starts over. */
#include "module/module.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MIRROR_MAGIC "LLGLOB1"

typedef struct mirror_header {
    char magic[8];
    uint64_t layout;    /* the image's glayout */
    uint64_t data_off;  /* from the mirror's start, page aligned */
    uint64_t data_size; /* bytes of [glo, ghi) */
    uint32_t count;     /* records after the header */
    uint32_t keys_size; /* bytes of keys after the records */
} mirror_header;

typedef struct mirror_rec {
    uint64_t off, size, key; /* key: offset into the keys */
} mirror_rec;

/* ---- reading the globals of an image ---------------------------------- */

typedef struct elf_view {
    const uint8_t *data;
    uint64_t size;
    const Elf64_Shdr *sh;
    uint16_t shnum;
} elf_view;

static const void *at(const elf_view *f, uint64_t off, uint64_t len)
{
    return off > f->size || len > f->size - off ? NULL : f->data + off;
}

static const char *string_at(const elf_view *f, const Elf64_Shdr *strs, uint64_t i)
{
    const char *s = at(f, strs->sh_offset, strs->sh_size);
    return s && i < strs->sh_size && memchr(s + i, 0, strs->sh_size - i) ? s + i : NULL;
}

/* The section called name, or 0. */
static uint16_t section_named(const elf_view *f, uint16_t shstrndx, const char *name)
{
    if (shstrndx >= f->shnum) return 0;
    for (uint16_t i = 1; i < f->shnum; i++) {
        const char *n = string_at(f, &f->sh[shstrndx], f->sh[i].sh_name);
        if (n && !strcmp(n, name)) return i;
    }
    return 0;
}

/* .symtab names static variables too; a stripped library has only .dynsym. */
static const Elf64_Shdr *symbol_table(const elf_view *f)
{
    const Elf64_Shdr *dyn = NULL;
    for (uint16_t i = 0; i < f->shnum; i++) {
        if (f->sh[i].sh_type == SHT_SYMTAB) return &f->sh[i];
        if (f->sh[i].sh_type == SHT_DYNSYM) dyn = &f->sh[i];
    }
    return dyn;
}

typedef struct globals_scan {
    const elf_view *f;
    const Elf64_Sym *syms;
    uint64_t nsyms;
    const Elf64_Shdr *strs;
    uint16_t data, bss;
} globals_scan;

/* Visits the application's globals: objects with a size in .data or .bss,
 * except the locals of the C runtime's files (crtstuff.c). Returns how
 * many; fills out and keys when given (keys_size counts the key bytes). */
static uint32_t scan(const globals_scan *s, module_global *out, char *keys, uint64_t *keys_size)
{
    const char *file = "";
    uint32_t n = 0;
    uint64_t used = 0;
    for (uint64_t i = 0; i < s->nsyms; i++) {
        const Elf64_Sym *sym = &s->syms[i];
        const char *name = string_at(s->f, s->strs, sym->st_name);
        if (!name) continue;
        if (ELF64_ST_TYPE(sym->st_info) == STT_FILE) file = name;
        int local = ELF64_ST_BIND(sym->st_info) == STB_LOCAL;
        if (ELF64_ST_TYPE(sym->st_info) != STT_OBJECT || !sym->st_size || !*name ||
            (sym->st_shndx != s->data && sym->st_shndx != s->bss) ||
            (local && !strncmp(file, "crt", 3)))
            continue;
        size_t len = (local ? strlen(file) + 1 : 0) + strlen(name) + 1;
        if (out) {
            if (local)
                snprintf(keys + used, len, "%s:%s", file, name);
            else
                memcpy(keys + used, name, len);
            out[n] =
                (module_global){.key = keys + used, .off = sym->st_value, .size = sym->st_size};
        }
        used += len;
        n++;
    }
    *keys_size = used;
    return n;
}

static int cmp_global(const void *a, const void *b)
{
    const module_global *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* One run per global, its own bytes only: the padding between globals may
 * be a sanitizer's poisoned redzone. A global inside another (an alias)
 * adds none. */
static int make_runs(module_image *img)
{
    img->gruns = calloc(img->global_count, sizeof *img->gruns);
    if (!img->gruns) return -1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < img->global_count; i++) {
        const module_global *g = &img->globals[i];
        const module_run *r = n ? &img->gruns[n - 1] : NULL;
        if (r && g->off + g->size <= r->off + r->size) continue;
        img->gruns[n++] = (module_run){g->off, g->size};
    }
    img->grun_count = n;
    return 0;
}

static void layout_hash(module_image *img)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) return;
    XXH3_64bits_reset(st);
    for (uint32_t i = 0; i < img->global_count; i++) {
        const module_global *g = &img->globals[i];
        XXH3_64bits_update(st, g->key, strlen(g->key) + 1);
        XXH3_64bits_update(st, &g->off, sizeof g->off);
        XXH3_64bits_update(st, &g->size, sizeof g->size);
    }
    img->glayout = XXH3_64bits_digest(st) | 1; /* never 0: a zeroed mirror matches none */
    XXH3_freeState(st);
}

int module_globals_read(module_image *img, const uint8_t *file, uint64_t size, uint64_t base)
{
    elf_view f = {.data = file, .size = size};
    const Elf64_Ehdr *eh = at(&f, 0, sizeof *eh);
    if (!eh || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !(f.sh = at(&f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))))
        return 0;
    f.shnum = eh->e_shnum;
    globals_scan s = {.f = &f,
                      .data = section_named(&f, eh->e_shstrndx, ".data"),
                      .bss = section_named(&f, eh->e_shstrndx, ".bss")};
    const Elf64_Shdr *tab = symbol_table(&f);
    if (!tab || tab->sh_link >= f.shnum || tab->sh_entsize != sizeof(Elf64_Sym) ||
        (!s.data && !s.bss) || !(s.syms = at(&f, tab->sh_offset, tab->sh_size)))
        return 0;
    s.nsyms = tab->sh_size / sizeof(Elf64_Sym);
    s.strs = &f.sh[tab->sh_link];
    uint64_t keys_size;
    uint32_t n = scan(&s, NULL, NULL, &keys_size);
    if (!n) return 0;
    img->globals = calloc(n, sizeof *img->globals);
    img->gkeys = malloc(keys_size);
    if (!img->globals || !img->gkeys) return -1;
    img->global_count = scan(&s, img->globals, img->gkeys, &img->gkeys_size);
    qsort(img->globals, n, sizeof *img->globals, cmp_global);
    uint64_t lo = img->globals[0].off, hi = 0;
    for (uint32_t i = 0; i < n; i++)
        if (img->globals[i].off + img->globals[i].size > hi)
            hi = img->globals[i].off + img->globals[i].size;
    for (uint32_t i = 0; i < n; i++) img->globals[i].off -= lo;
    if (make_runs(img) != 0 || !(img->ginit = calloc(1, hi - lo))) return -1;
    /* As the loader left them: relocated (a pointer to a string literal
     * holds its address), constructors run. */
    for (uint32_t i = 0; i < img->grun_count; i++)
        memcpy(img->ginit + img->gruns[i].off,
               (const void *)(uintptr_t)(base + lo + img->gruns[i].off), img->gruns[i].size);
    img->glo = base + lo;
    img->ghi = base + hi;
    layout_hash(img);
    return 0;
}

uint64_t module_globals_need(const module_image *img, uint64_t page)
{
    if (!img->global_count) return 0;
    uint64_t head =
        sizeof(mirror_header) + img->global_count * sizeof(mirror_rec) + img->gkeys_size;
    return ll_align_up(head, page) + ll_align_up(img->ghi - img->glo, page);
}

/* ---- the mirror -------------------------------------------------------- */

static uint8_t *mirror_of(const ll_module *m)
{
    return m->block->base + m->block->size - m->globals_room;
}

/* Copies n bytes a page at a time, writing only the pages that differ. */
static void copy_changed(uint8_t *dst, const uint8_t *src, uint64_t n, uint64_t page)
{
    for (uint64_t off = 0; off < n; off += page) {
        uint64_t len = n - off < page ? n - off : page;
        if (memcmp(dst + off, src + off, len) != 0) memcpy(dst + off, src + off, len);
    }
}

/* Copies img's runs from src to dst (both laid out as [glo, ghi)), in
 * pieces that end at dst's page boundaries (mirror pages: the tracker's). */
static void runs_copy(const module_image *img, uint8_t *dst, const uint8_t *src, uint64_t page)
{
    for (uint32_t i = 0; i < img->grun_count; i++) {
        uint64_t off = img->gruns[i].off, end = off + img->gruns[i].size;
        while (off < end) {
            uint64_t stop = ll_align_down(off, page) + page;
            if (stop > end) stop = end;
            if (memcmp(dst + off, src + off, stop - off) != 0)
                memcpy(dst + off, src + off, stop - off);
            off = stop;
        }
    }
}

/* Writes img's layout and the library's values into the mirror. */
static void mirror_write(ll_module *m, const module_image *img)
{
    uint64_t page = m->block->page_size,
             head_size = module_globals_need(img, page) - ll_align_up(img->ghi - img->glo, page);
    uint8_t *head = malloc(head_size), *mir = mirror_of(m);
    if (!head) return; /* the mirror stays as it was: held back */
    memset(head, 0, head_size);
    mirror_header h = {.layout = img->glayout,
                       .data_off = head_size,
                       .data_size = img->ghi - img->glo,
                       .count = img->global_count,
                       .keys_size = (uint32_t)img->gkeys_size};
    memcpy(h.magic, MIRROR_MAGIC, sizeof h.magic);
    memcpy(head, &h, sizeof h);
    mirror_rec *recs = (mirror_rec *)(head + sizeof h);
    char *keys = (char *)(recs + img->global_count);
    for (uint32_t i = 0; i < img->global_count; i++) {
        const module_global *g = &img->globals[i];
        recs[i] = (mirror_rec){g->off, g->size, (uint64_t)(g->key - img->gkeys)};
    }
    memcpy(keys, img->gkeys, img->gkeys_size);
    copy_changed(mir, head, head_size, page);
    free(head);
    runs_copy(img, mir + head_size, (const uint8_t *)(uintptr_t)img->glo, page);
    m->globals_held = 0;
}

/* The mirror describes exactly img's globals (and its data starts where
 * img's would: the one field of its header the copies then use). */
static int mirror_matches(const mirror_header *h, const module_image *img, uint64_t page)
{
    uint64_t data = ll_align_up(img->ghi - img->glo, page);
    return !memcmp(h->magic, MIRROR_MAGIC, sizeof h->magic) && h->layout == img->glayout &&
           h->count == img->global_count && h->data_size == img->ghi - img->glo &&
           h->data_off == module_globals_need(img, page) - data;
}

/* A mirror read from the block is untrusted (a loaded file): every record
 * inside it, every key terminated. */
static int mirror_valid(const ll_module *m, const mirror_header *h)
{
    uint64_t room = m->globals_room, recs = (uint64_t)h->count * sizeof(mirror_rec);
    if (h->data_off % m->block->page_size || h->data_off > room ||
        h->data_size > room - h->data_off || sizeof *h + recs + h->keys_size > h->data_off ||
        (h->keys_size && mirror_of(m)[sizeof *h + recs + h->keys_size - 1]))
        return 0;
    const mirror_rec *r = (const mirror_rec *)(mirror_of(m) + sizeof *h);
    for (uint32_t i = 0; i < h->count; i++)
        if (r[i].key >= h->keys_size || r[i].size > h->data_size ||
            r[i].off > h->data_size - r[i].size)
            return 0;
    return 1;
}

static const mirror_rec *rec_find(const mirror_header *h, const uint8_t *mir, const char *key)
{
    const mirror_rec *r = (const mirror_rec *)(mir + sizeof *h);
    const char *keys = (const char *)(r + h->count);
    for (uint32_t i = 0; i < h->count; i++)
        if (!strcmp(keys + r[i].key, key)) return &r[i];
    return NULL;
}

/* Names the globals whose size changed; returns how many. */
static int changed_sizes(const mirror_header *h, const uint8_t *mir, const module_image *img,
                         char *buf, size_t cap)
{
    int n = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < img->global_count; i++) {
        const module_global *g = &img->globals[i];
        const mirror_rec *r = rec_find(h, mir, g->key);
        if (!r || r->size == g->size) continue;
        size_t len = strlen(buf);
        if (n < 3)
            snprintf(buf + len, cap - len, "%s'%s' (%llu -> %llu bytes)", n ? ", " : "", g->key,
                     (unsigned long long)r->size, (unsigned long long)g->size);
        else if (n == 3)
            snprintf(buf + len, cap - len, " and more");
        n++;
    }
    return n;
}

/* The mirror holds another layout: each global of img takes the saved value
 * of its key and size, the others their initial values. */
static int translate(ll_module *m, const mirror_header *h, int accept, ll_error *err)
{
    const module_image *img = m->cur;
    const uint8_t *mir = mirror_of(m);
    uint8_t *lib = (uint8_t *)(uintptr_t)img->glo;
    runs_copy(img, lib, img->ginit, m->block->page_size);
    for (uint32_t i = 0; i < img->global_count; i++) {
        const module_global *g = &img->globals[i];
        const mirror_rec *r = rec_find(h, mir, g->key);
        if (r && r->size == g->size) memcpy(lib + g->off, mir + h->data_off + r->off, g->size);
    }
    char names[600];
    int n = changed_sizes(h, mir, img, names, sizeof names);
    if (n && !accept) {
        m->globals_held = 1;
        return ll_fail(err, EINVAL,
                       "the global%s %s of %s changed size in version %llu: the state holds "
                       "the old value%s (try: bump layout_version and give ll_app a migrate "
                       "function, which sees %s at the initial value, or start the state over "
                       "with the host's re-init key or --reinit)",
                       n > 1 ? "s" : "", names, m->name, (unsigned long long)m->info.version,
                       n > 1 ? "s" : "", n > 1 ? "them" : "it");
    }
    mirror_write(m, img);
    return 0;
}

int module_globals_in(ll_module *m, int accept, ll_error *err)
{
    if (!m->block || !m->globals_room || !m->cur || !m->cur->global_count) return 0;
    const module_image *img = m->cur;
    uint64_t need = module_globals_need(img, m->block->page_size);
    char a[32], b[32];
    if (need > m->globals_room) {
        m->globals_held = 1;
        return ll_fail(err, ENOSPC,
                       "the globals of version %llu of %s take %s, the block keeps %s for them "
                       "(try: start looplive run again, which makes room for them)",
                       (unsigned long long)m->info.version, m->name,
                       ll_size_format(need, a, sizeof a),
                       ll_size_format(m->globals_room, b, sizeof b));
    }
    mirror_header h;
    memcpy(&h, mirror_of(m), sizeof h);
    if (memcmp(h.magic, MIRROR_MAGIC, sizeof h.magic) != 0) {
        /* A state that never held globals (a fresh or zeroed block): the
         * build's initial values. */
        runs_copy(img, (uint8_t *)(uintptr_t)img->glo, img->ginit, m->block->page_size);
        mirror_write(m, img);
        return 0;
    }
    if (!mirror_valid(m, &h)) {
        m->globals_held = 1;
        return ll_fail(err, EINVAL,
                       "the globals kept at the end of the block are corrupted (try: start the "
                       "state over with the host's re-init key or --reinit)");
    }
    if (!mirror_matches(&h, img, m->block->page_size)) return translate(m, &h, accept, err);
    runs_copy(img, (uint8_t *)(uintptr_t)img->glo, mirror_of(m) + h.data_off, m->block->page_size);
    m->globals_held = 0;
    return 0;
}

void module_globals_out(ll_module *m)
{
    if (!m->block || !m->globals_room || !m->cur || m->globals_held || !m->cur->global_count)
        return;
    const module_image *img = m->cur;
    mirror_header h;
    memcpy(&h, mirror_of(m), sizeof h);
    if (!mirror_matches(&h, img, m->block->page_size)) return;
    runs_copy(img, mirror_of(m) + h.data_off, (const uint8_t *)(uintptr_t)img->glo,
              m->block->page_size);
}

/* ---- public ------------------------------------------------------------ */

int ll_module_globals_check(ll_module *m, int accept, ll_error *err)
{
    if (!m->block || !m->globals_room || !m->cur || !m->cur->global_count) return 0;
    /* The usual case, the mirror of the build in use, costs no copy here:
     * the call's own copy brings the values in. */
    mirror_header h;
    memcpy(&h, mirror_of(m), sizeof h);
    if (!m->globals_held && mirror_matches(&h, m->cur, m->block->page_size)) return 0;
    return module_globals_in(m, accept, err);
}

int ll_module_global_name_get(uint64_t offset, char *out, size_t cap, void *module)
{
    const ll_module *m = module;
    if (!m || !m->block || !m->globals_room) return 0;
    uint64_t start = m->block->size - m->globals_room;
    if (offset < start || offset >= m->block->size) return 0;
    mirror_header h;
    memcpy(&h, mirror_of(m), sizeof h);
    if (memcmp(h.magic, MIRROR_MAGIC, sizeof h.magic) != 0 || !mirror_valid(m, &h)) return 0;
    uint64_t at = offset - start;
    if (at < h.data_off) return 0;
    at -= h.data_off;
    const mirror_rec *r = (const mirror_rec *)(mirror_of(m) + sizeof h);
    const char *keys = (const char *)(r + h.count);
    for (uint32_t i = 0; i < h.count; i++)
        if (at >= r[i].off && at - r[i].off < r[i].size) {
            snprintf(out, cap, "the global '%s' of %s +0x%llx", keys + r[i].key, m->name,
                     (unsigned long long)(at - r[i].off));
            return 1;
        }
    return 0;
}

ll_block *ll_module_app_block_get(ll_module *m)
{
    if (!m->block || !m->globals_room) return m->block;
    m->view = *m->block;
    m->view.size -= m->globals_room;
    return &m->view;
}

int ll_module_globals_pull(ll_module *m, ll_error *err)
{
    return module_globals_in(m, 0, err);
}

void ll_module_globals_push(ll_module *m)
{
    module_globals_out(m);
}
