/* pointers.c - words of a state that point out of the block, into memory
 * that no later run of the state will have: the C library's heap (its brk
 * [heap], or what it mapped for a large malloc or another thread), or a
 * stack. A restore in this process may find those objects changed or
 * freed, and a file loaded by another process finds nothing there at all:
 * a bare fault at a heap address, frames later. Named here instead, with
 * the word's offset and arena, when a state is recorded or saved.
 *
 * Which regions count comes from /proc/self/maps (the maps layer): [heap],
 * [stack], the calling thread's own stack, and anonymous read-write
 * mappings other than the block (what malloc maps, thread stacks). Any
 * other word, an address of the block or of code or a number, is left
 * alone; a number that happens to fall in the C heap is named too (a false
 * alarm needs a 64-bit value inside a few MiB of mapped memory). */
#include "snapshot/snapshot.h"
#include "looplive_addr.h"

#include <stdlib.h>
#include <string.h>

/* Larger anonymous mappings are not the C library's heap: a sanitizer's
 * shadow memory, a reserved range. */
#define MAPPED_HEAP_MAX (64ull << 30)

enum { KIND_HEAP = 1, KIND_MAPPED, KIND_STACK, KIND_FAULT };

/* A fault this far above a pointer is taken for one through it. */
#define FAULT_REACH 4096

typedef struct suspect {
    uint64_t start, end;
    int kind;
} suspect;

typedef struct scan {
    const ll_block *block;
    suspect *ranges;
    size_t count;
    uint64_t lo, hi; /* the union of the ranges, for a quick test */
    uint64_t fault;  /* instead: words just below this address */
    uint64_t found, offset, value;
    int kind;
    const ll_pointers_params *p; /* its name_of */
} scan;

/* prev: the region before r, or NULL. The anonymous part of a library's
 * .bss follows its file-backed data: that is the library's, not a heap. */
static int kind_of(const ll_region *r, const ll_region *prev, const ll_block *block, uint64_t here)
{
    uint64_t base = (uint64_t)(uintptr_t)block->base;
    if (!r->path[0] && prev && prev->end == r->start && prev->path[0] == '/' &&
        !strncmp(prev->perms, "rw", 2))
        return 0;
    if (!strcmp(r->path, "[heap]")) return KIND_HEAP;
    if (!strncmp(r->path, "[stack", 6) || (here >= r->start && here < r->end)) return KIND_STACK;
    if (r->path[0] || strncmp(r->perms, "rw", 2) != 0 || r->end - r->start > MAPPED_HEAP_MAX ||
        (r->start < base + block->size && r->end > base))
        return 0;
    return KIND_MAPPED;
}

static int suspects_find(scan *s, ll_error *err)
{
    ll_maps maps;
    if (ll_maps_read_pid(0, &maps, err) != 0) return -1;
    s->ranges = calloc(maps.count ? maps.count : 1, sizeof *s->ranges);
    if (!s->ranges) {
        ll_maps_free(&maps);
        return ll_fail(err, ENOMEM, "out of memory checking the state's pointers");
    }
    volatile char local = 0;
    uint64_t here = (uint64_t)(uintptr_t)&local;
    s->lo = UINT64_MAX;
    for (size_t i = 0; i < maps.count; i++) {
        const ll_region *r = &maps.regions[i];
        int kind = kind_of(r, i ? &maps.regions[i - 1] : NULL, s->block, here);
        if (!kind) continue;
        s->ranges[s->count++] = (suspect){r->start, r->end, kind};
        if (r->start < s->lo) s->lo = r->start;
        if (r->end > s->hi) s->hi = r->end;
    }
    ll_maps_free(&maps);
    return 0;
}

/* The kind of memory v points into, 0 for none (ranges sorted by start). */
static int kind_at(const scan *s, uint64_t v)
{
    if (s->fault) {
        uint64_t base = (uint64_t)(uintptr_t)s->block->base;
        int inside = v >= base && v < base + s->block->size;
        return !inside && v <= s->fault && s->fault - v < FAULT_REACH ? KIND_FAULT : 0;
    }
    if (v < s->lo || v >= s->hi) return 0;
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ranges[mid].end <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->count && v >= s->ranges[lo].start ? s->ranges[lo].kind : 0;
}

static int scan_page(uint64_t offset, const uint8_t *bytes, void *ctx)
{
    scan *s = ctx;
    uint64_t page = s->block->page_size;
    for (uint64_t i = 0; i + 8 <= page; i += 8) {
        uint64_t v;
        memcpy(&v, bytes + i, sizeof v);
        int kind = kind_at(s, v);
        if (!kind) continue;
        if (!s->found++) {
            s->offset = offset + i;
            s->value = v;
            s->kind = kind;
        }
    }
    return 0;
}

static int report(const scan *s, ll_error *err)
{
    static const char *const what[] = {
        "",
        "the C heap ([heap])",
        "memory the C library mapped (a large malloc, another thread's heap or stack)",
        "a stack",
        "nothing in this process (a C heap or stack address of the process that saved it?)",
    };
    const char *owner = ll_block_owner_get(s->block, s->offset);
    const ll_arena *a = ll_block_arena_find(s->block, owner);
    char where[200] = "";
    char name[160];
    if (a)
        snprintf(where, sizeof where, " (arena '%s' +0x%llx)", a->name,
                 (unsigned long long)(s->offset - (uint64_t)(a->begin - s->block->base)));
    else if (s->p->name_of && s->p->name_of(s->offset, name, sizeof name, s->p->name_ctx))
        snprintf(where, sizeof where, " (%s)", name);
    int stack = s->kind == KIND_STACK;
    if (s->kind == KIND_FAULT)
        return ll_fail(err, EINVAL,
                       "state +0x%llx%s holds 0x%llx, just below the address that faulted: a "
                       "pointer out of the block, into %s: allocate it from the block (try: an "
                       "arena (ll_arena_push), or the allocator of looplive_compat.h)",
                       (unsigned long long)s->offset, where, (unsigned long long)s->value,
                       what[s->kind]);
    return ll_fail(err, EINVAL,
                   "state +0x%llx%s holds 0x%llx, which points into %s: %s (%llu word%s of the "
                   "state point%s out of the block; try: %s)",
                   (unsigned long long)s->offset, where, (unsigned long long)s->value,
                   what[s->kind],
                   stack ? "keep no address of a local in the state" : "allocate it from the block",
                   (unsigned long long)s->found, s->found == 1 ? "" : "s", s->found == 1 ? "s" : "",
                   stack ? "keep an offset, an index or a pointer into the block"
                         : "an arena (ll_arena_push), or the allocator of looplive_compat.h");
}

/* Under AddressSanitizer an access through a stale pointer faults first
 * on its shadow byte (x86-64: (addr >> 3) + 0x7fff8000): the address the
 * pointer held is the one the shadow stands for. */
static uint64_t unshadow(uint64_t addr)
{
#if defined(__SANITIZE_ADDRESS__) && defined(__x86_64__)
    const uint64_t offset = 0x7fff8000ull;
    if (addr >= offset && addr < offset + (1ull << 44)) return (addr - offset) << 3;
#endif
    return addr;
}

int ll_block_pointers_check_(ll_block *block, ll_error *err, const ll_pointers_params *p)
{
    scan s = {.block = block, .fault = p->fault_addr ? unshadow(p->fault_addr) : 0, .p = p};
    if (!s.fault && suspects_find(&s, err) != 0) return -1;
    int rc = 0;
    if (p->pages) {
        for (uint64_t i = 0; i < p->page_count; i++)
            if (p->pages[i] * block->page_size < block->size)
                scan_page(p->pages[i] * block->page_size,
                          block->base + p->pages[i] * block->page_size, &s);
    } else {
        rc = ll_snap_pages_visit(block, p->snap, scan_page, &s, err);
    }
    free(s.ranges);
    if (rc != 0) return -1;
    return s.found ? report(&s, err) : 0;
}
