/* describe.c - the block and its arenas as text, for the overlay and for
 * `looplive` itself. */
#include "memory/memory.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Appends to a fixed buffer, counting what did not fit like snprintf. */
typedef struct text {
    char *buf;
    size_t cap, len;
} text;

__attribute__((format(printf, 2, 3))) static void text_add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    int n = vsnprintf(room ? t->buf + t->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

static void describe_arena(text *t, const ll_block *block, const ll_arena *a)
{
    char cap[32], used[32], high[32], com[32];
    unsigned pct = a->capacity ? (unsigned)(a->used * 100 / a->capacity) : 0;
    text_add(t, "  %s%-*s 0x%llx  used %s of %s (%u%%), high water %s, committed %s",
             a->parent >= 0 ? "  " : "", a->parent >= 0 ? 18 : 20, a->name,
             (unsigned long long)(uintptr_t)a->begin, ll_size_format(a->used, used, sizeof used),
             ll_size_format(a->capacity, cap, sizeof cap), pct,
             ll_size_format(a->high_water, high, sizeof high),
             ll_size_format(a->committed, com, sizeof com));
    if (a->parent >= 0) {
        const ll_arena *parent = ll_block_arena_get(block, (uint32_t)a->parent);
        text_add(t, ", in %s", parent ? parent->name : "?");
    }
    if (a->flags & LL_ARENA_GUARDED) text_add(t, ", guard page");
    if (a->flags & LL_ARENA_PREFAULT) text_add(t, ", prefaulted");
    text_add(t, "\n");
}

/* What is behind the mapping: "anonymous" until the first snapshot, then
 * the memfd as /proc/PID/maps names it, or the loaded snapshot file. */
static void backing_name(const ll_block *block, char *out, size_t cap)
{
    if (block->flags & LL_BLOCK_LOADED)
        snprintf(out, cap, "a loaded snapshot file");
    else if (block->fd >= 0)
        snprintf(out, cap, "memfd:%s", block->name[0] ? block->name : "looplive");
    else
        snprintf(out, cap, "anonymous");
}

static void describe(text *t, const ll_block *block)
{
    char size[32], com[32];
    if (!block || !block->base) {
        text_add(t, "block: not reserved\n");
        return;
    }
    uint64_t base = (uint64_t)(uintptr_t)block->base;
    uint64_t end = base + block->size, free_at = base;
    const memory_header *h = memory_header_of(block);
    uint32_t count = h ? h->arena_count : 0;
    char backing[LL_BLOCK_NAME_MAX + 32];
    backing_name(block, backing, sizeof backing);
    text_add(
        t, "block 0x%llx-0x%llx %s, committed %s, %s%s%s, %u arena%s\n", (unsigned long long)base,
        (unsigned long long)end, ll_size_format(block->size, size, sizeof size),
        ll_size_format(ll_block_committed_get(block), com, sizeof com), backing,
        block->flags & LL_BLOCK_HUGE ? ", huge pages" : "",
        block->flags & LL_BLOCK_PREFAULTED ? ", prefaulted" : "", count, count == 1 ? "" : "s");
    if (!h) return;
    text_add(t, "  %-20s 0x%llx  %s\n", "block header", (unsigned long long)base,
             ll_size_format(h->header_size, size, sizeof size));
    for (uint32_t i = 0; i < h->arena_count; i++) describe_arena(t, block, &h->arenas[i]);
    free_at += h->next;
    if (h->next < block->size)
        text_add(t, "  %-20s 0x%llx  %s\n", "unallocated", (unsigned long long)free_at,
                 ll_size_format(block->size - h->next, size, sizeof size));
}

size_t ll_block_describe_str(const ll_block *block, char *buf, size_t cap)
{
    text t = {.buf = buf, .cap = cap};
    if (cap) buf[0] = '\0';
    describe(&t, block);
    return t.len;
}

int ll_block_describe(const ll_block *block, FILE *out)
{
    size_t need = ll_block_describe_str(block, NULL, 0) + 1;
    char *buf = malloc(need);
    if (!buf) return -1;
    ll_block_describe_str(block, buf, need);
    int rc = fputs(buf, out) < 0 ? -1 : 0;
    free(buf);
    return rc;
}
