/* arena.c - the arena table in the block header: create, push, pop, temp
 * scopes, the full hook, and what a byte of the block belongs to. */
#include "memory/memory.h"

#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DEFAULT_ALIGN 16
#define SUB_ALIGN     64 /* sub-arenas start on a cache line */

memory_header *memory_header_of(const ll_block *block)
{
    if (!block || !block->base || block->size < sizeof(memory_header)) return NULL;
    memory_header *h = (memory_header *)block->base;
    /* Readers loop over the table: a count past it is never followed. */
    return h->magic == MEMORY_MAGIC && h->arena_count <= LL_BLOCK_MAX_ARENAS ? h : NULL;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* A header brought in by a restore or a load must describe this block. */
static int header_check(const ll_block *block, const memory_header *h, ll_error *err)
{
    char a[32], b[32];
    if (h->version != MEMORY_VERSION)
        return ll_fail(err, EINVAL, "the block's arena table is version %u; this library reads %d",
                       h->version, MEMORY_VERSION);
    if (h->base != (uint64_t)(uintptr_t)block->base)
        return ll_fail(err, EINVAL,
                       "the block's arena table was made for a block at 0x%llx, but this block is "
                       "at 0x%llx: pointers into it would be wrong (try: reserve at 0x%llx)",
                       (unsigned long long)h->base, (unsigned long long)(uintptr_t)block->base,
                       (unsigned long long)h->base);
    if (h->size > block->size || h->next > h->size)
        return ll_fail(err, EINVAL, "the block's arena table needs %s but the block has %s",
                       ll_size_format(h->size, a, sizeof a),
                       ll_size_format(block->size, b, sizeof b));
    return 0;
}

static int bad_table(ll_error *err, const char *why, uint32_t i)
{
    return ll_fail(err, EINVAL,
                   "the block's arena table is corrupted: %s (arena %u) (try: a file saved by "
                   "looplive from this application)",
                   why, i);
}

/* [begin, begin + len + guard) of arena a as block offsets, inside
 * [lo, hi); page-aligned for a partition. */
static const char *arena_range_check(const memory_header *h, const ll_arena *a, uint64_t lo,
                                     uint64_t hi, uint64_t page)
{
    uint64_t off = (uint64_t)(uintptr_t)a->begin - h->base, end;
    if ((uint64_t)(uintptr_t)a->begin < h->base || off < lo || off >= hi) return "begins outside";
    if (!a->capacity || __builtin_add_overflow(off, a->capacity, &end) ||
        __builtin_add_overflow(end, a->guard_size, &end) || end > hi)
        return "ends outside the block";
    if (a->used > a->capacity || a->committed > a->capacity || a->high_water > a->capacity)
        return "uses more than its capacity";
    if (a->parent < 0 && (off % page || a->capacity % page || a->guard_size % page))
        return "is not page aligned";
    return NULL;
}

static const char *arena_check(const memory_header *h, uint32_t i, uint64_t *top_end, uint64_t page)
{
    const ll_arena *a = &h->arenas[i];
    if (!memchr(a->name, 0, sizeof a->name) || !a->name[0]) return "has no name";
    if (a->index != i) return "has the wrong index";
    if (a->parent >= (int32_t)i || a->parent < -1) return "has a bad parent";
    if (a->parent < 0) {
        const char *why = arena_range_check(h, a, *top_end, h->next, page);
        if (!why) *top_end = (uint64_t)(uintptr_t)a->begin - h->base + a->capacity + a->guard_size;
        return why;
    }
    const ll_arena *p = &h->arenas[a->parent];
    uint64_t lo = (uint64_t)(uintptr_t)p->begin - h->base;
    if (a->guard_size) return "is a sub-arena with a guard";
    return arena_range_check(h, a, lo, lo + p->capacity, page);
}

int memory_table_check(const memory_header *h, const ll_block *block, ll_error *err)
{
    if (header_check(block, h, err) != 0) return -1;
    uint64_t page = block->page_size, top_end;
    if (h->header_size != ll_align_up(sizeof *h, page) || h->next < h->header_size)
        return bad_table(err, "its header size is wrong", 0);
    if (h->arena_count > LL_BLOCK_MAX_ARENAS)
        return bad_table(err, "it counts more arenas than the table holds", h->arena_count);
    if (h->header_guard % page || h->header_guard > h->next - h->header_size)
        return bad_table(err, "the guard after the header is out of range", 0);
    top_end = h->header_size + h->header_guard;
    for (uint32_t i = 0; i < h->arena_count; i++) {
        const char *why = arena_check(h, i, &top_end, page);
        if (why) return bad_table(err, why, i);
    }
    return 0;
}

int ll_block_table_check(const ll_block *block, const void *head, uint64_t len, ll_error *err)
{
    if (!block || !block->base)
        return ll_fail(err, EINVAL, "the block is not reserved (call ll_block_reserve first)");
    memory_header h;
    memset(&h, 0, sizeof h);
    memcpy(&h, head, len < sizeof h ? len : sizeof h);
    if (h.magic != MEMORY_MAGIC) return 0;
    if (len < sizeof h) return bad_table(err, "it is cut short", 0);
    return memory_table_check(&h, block, err);
}

/* The block's header, written on first use. */
static memory_header *header_open(ll_block *block, ll_error *err)
{
    if (!block || !block->base) {
        ll_fail(err, EINVAL, "the block is not reserved (call ll_block_reserve first)");
        return NULL;
    }
    memory_header *h = (memory_header *)block->base;
    uint64_t header_size = ll_align_up(sizeof *h, block->page_size);
    char a[32], b[32];
    if (block->size < header_size + block->page_size) {
        ll_fail(err, EINVAL, "a block of %s is too small for arenas: the table alone takes %s",
                ll_size_format(block->size, a, sizeof a), ll_size_format(header_size, b, sizeof b));
        return NULL;
    }
    if (h->magic == MEMORY_MAGIC) return memory_table_check(h, block, err) == 0 ? h : NULL;
    if (!all_zero(h, sizeof *h)) {
        ll_fail(err, EINVAL,
                "the block at %p holds data but no arena table: it was written without arenas "
                "(create arenas before writing to the block)",
                (void *)block->base);
        return NULL;
    }
    h->magic = MEMORY_MAGIC;
    h->version = MEMORY_VERSION;
    h->header_size = (uint32_t)header_size;
    h->base = (uint64_t)(uintptr_t)block->base;
    h->size = block->size;
    h->next = header_size;
    return h;
}

static int check_name(const memory_header *h, const char *name, ll_error *err)
{
    if (!name || !name[0]) return ll_fail(err, EINVAL, "an arena needs a name");
    if (strlen(name) >= LL_ARENA_NAME_MAX)
        return ll_fail(err, ENAMETOOLONG, "arena name '%s' is longer than %d characters", name,
                       LL_ARENA_NAME_MAX - 1);
    for (uint32_t i = 0; i < h->arena_count; i++)
        if (!strcmp(h->arenas[i].name, name))
            return ll_fail(err, EEXIST,
                           "arena '%s' already exists (try: ll_block_arena_find to find it again)",
                           name);
    if (h->arena_count == LL_BLOCK_MAX_ARENAS)
        return ll_fail(err, ENOSPC,
                       "cannot create arena '%s': the block's table is full (%d arenas)", name,
                       LL_BLOCK_MAX_ARENAS);
    return 0;
}

/* A partition: the next page-aligned range of the block, then its guard. */
static int place_partition(ll_block *block, memory_header *h, ll_arena *a, uint64_t capacity,
                           int guarded, ll_error *err)
{
    uint64_t guard = guarded ? block->page_size : 0;
    /* A guarded partition right after the header gets a guard before it
     * too, so that an underrun cannot reach the arena table. */
    uint64_t lead = guarded && h->next == h->header_size ? guard : 0;
    uint64_t left = h->size - h->next - (lead < h->size - h->next ? lead : 0);
    uint64_t cap = capacity ? ll_align_up(capacity, block->page_size) : 0;
    if (!capacity && left > guard) cap = left - guard;
    if (capacity > left || cap == 0 || cap + guard > left) {
        char a1[32], a2[32], a3[32];
        return ll_fail(err, ENOSPC,
                       "cannot create arena '%s' of %s: the block has %s left of %s (try: a "
                       "larger block or a smaller arena)",
                       a->name, capacity ? ll_size_format(capacity, a1, sizeof a1) : "the rest",
                       ll_size_format(left, a2, sizeof a2), ll_size_format(h->size, a3, sizeof a3));
    }
    a->begin = block->base + h->next + lead;
    a->capacity = cap;
    /* A restore may have left a guard page of an older layout here. */
    mprotect(a->begin, cap, PROT_READ | PROT_WRITE);
    if (lead && memory_guard_arm(h, block->base + h->next, lead, NULL, err) != 0) return -1;
    if (guard) {
        a->guard_size = guard;
        a->flags |= LL_ARENA_GUARDED;
        if (memory_guard_arm(h, a->begin + cap, guard, a, err) != 0) return -1;
    }
    h->header_guard = lead ? lead : h->header_guard;
    h->next += lead + cap + guard;
    return 0;
}

static int place_in_parent(memory_header *h, ll_arena *a, uint64_t capacity, ll_arena *parent,
                           ll_error *err)
{
    if (memory_header_from_arena(parent) != h)
        return ll_fail(err, EINVAL, "cannot create arena '%s' inside '%s': it is in another block",
                       a->name, parent->name);
    uint64_t at = ll_align_up(parent->used, SUB_ALIGN);
    uint64_t free_bytes = at < parent->capacity ? parent->capacity - at : 0;
    uint64_t cap = capacity ? capacity : free_bytes;
    if (cap == 0 || cap > free_bytes) {
        char a1[32], a2[32], a3[32];
        return ll_fail(err, ENOSPC,
                       "cannot create arena '%s' of %s inside '%s': it has %s free of %s", a->name,
                       capacity ? ll_size_format(capacity, a1, sizeof a1) : "the rest",
                       parent->name, ll_size_format(free_bytes, a2, sizeof a2),
                       ll_size_format(parent->capacity, a3, sizeof a3));
    }
    a->begin = ll_arena_push(parent, cap, .align = SUB_ALIGN);
    a->capacity = cap;
    a->parent = (int32_t)parent->index;
    a->flags |= LL_ARENA_SUB;
    return 0;
}

ll_arena *ll_arena_create_(ll_block *block, const char *name, uint64_t capacity, ll_error *err,
                           int debug_build, const ll_arena_params *p)
{
    memory_header *h = header_open(block, err);
    if (!h || check_name(h, name, err) != 0) return NULL;
    ll_arena *a = &h->arenas[h->arena_count];
    memset(a, 0, sizeof *a);
    strcpy(a->name, name);
    a->index = h->arena_count;
    a->parent = -1;
    int guarded = p->guard > 0 || (p->guard == 0 && debug_build);
    int rc = p->parent ? place_in_parent(h, a, capacity, p->parent, err)
                       : place_partition(block, h, a, capacity, guarded, err);
    if (rc != 0) {
        memset(a, 0, sizeof *a);
        return NULL;
    }
    if (p->prefault) {
        memory_prefault(a->begin, a->capacity);
        a->flags |= LL_ARENA_PREFAULT;
        a->committed = a->capacity;
    }
    h->arena_count++;
    return a;
}

ll_arena *ll_block_arena_find(const ll_block *block, const char *name)
{
    memory_header *h = memory_header_of(block);
    for (uint32_t i = 0; h && name && i < h->arena_count; i++)
        if (!strcmp(h->arenas[i].name, name)) return &h->arenas[i];
    return NULL;
}

ll_arena *ll_block_arena_get(const ll_block *block, uint32_t index)
{
    memory_header *h = memory_header_of(block);
    return h && index < h->arena_count ? &h->arenas[index] : NULL;
}

/* The full hooks: process state keyed by the block's base, never in the
 * block, so that no file can hand the library a function to call. The pid
 * keeps a forked child from calling its parent's hook. */
#define MAX_HOOKED_BLOCKS 16
typedef struct full_hook {
    const void *base;
    ll_arena_full_fn *fn;
    void *ctx;
    int pid;
} full_hook;
static full_hook hooks[MAX_HOOKED_BLOCKS];

static full_hook *hook_of(const void *base)
{
    for (int i = 0; i < MAX_HOOKED_BLOCKS; i++)
        if (hooks[i].base == base) return &hooks[i];
    return NULL;
}

void memory_hooks_forget(const void *block_base)
{
    full_hook *k = hook_of(block_base);
    if (k) memset(k, 0, sizeof *k);
}

int ll_block_on_full_set(ll_block *block, ll_arena_full_fn *fn, void *ctx, ll_error *err)
{
    /* No table needed, none written: the host sets its hook on every block,
     * also on one whose application keeps its state at the base. */
    if (!block || !block->base)
        return ll_fail(err, EINVAL, "the block is not reserved (call ll_block_reserve first)");
    full_hook *k = hook_of(block->base);
    if (!k && fn) k = hook_of(NULL);
    if (!k && fn)
        return ll_fail(err, ENOSPC, "cannot set a full hook on more than %d blocks at once",
                       MAX_HOOKED_BLOCKS);
    if (k) *k = (full_hook){fn ? block->base : NULL, fn, ctx, (int)getpid()};
    return 0;
}

/* ---- push and pop ------------------------------------------------------ */

/* The offset an aligned push would start at, and the bytes left there. */
static uint64_t available_at(const ll_arena *a, uint64_t align, uint64_t *offset)
{
    uint64_t begin = (uint64_t)(uintptr_t)a->begin;
    uint64_t off = ll_align_up(begin + a->used, align) - begin;
    *offset = off;
    return off < a->capacity ? a->capacity - off : 0;
}

/* Reports a failed push into err when there is one. The library never
 * prints: a caller without err hears of it through the block's full hook
 * (ll_block_on_full_set), as the host does. */
__attribute__((format(printf, 2, 3))) static void push_failed(ll_error *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    err->code = ENOMEM;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static int call_hook(ll_arena *a, uint64_t size, uint64_t avail)
{
    const full_hook *k = hook_of(memory_header_from_arena(a));
    if (!k || !k->fn || k->pid != (int)getpid()) return -1;
    return k->fn(a, size, avail, k->ctx) ? 1 : 0;
}

static void note_growth(ll_arena *a)
{
    a->high_water = a->used;
    if (a->used > a->committed) {
        uint64_t c = ll_align_up(a->used, ll_page_size_get());
        a->committed = c < a->capacity ? c : a->capacity;
    }
}

static void *push(ll_arena *a, uint64_t size, uint64_t align, const ll_push_params *p)
{
    if (!ll_is_pow2(align)) {
        push_failed(p->err,
                    "cannot push %llu B to arena '%s': alignment %llu is not a power of two",
                    (unsigned long long)size, a->name, (unsigned long long)align);
        return NULL;
    }
    uint64_t off, avail;
    for (int tries = 0; tries < 2; tries++) {
        avail = available_at(a, align, &off);
        if (size <= avail) {
            uint8_t *mem = a->begin + off;
            a->used = off + size;
            if (a->used > a->high_water) note_growth(a);
            if (p->zero) memset(mem, 0, size);
            return mem;
        }
        if (tries == 0 && call_hook(a, size, avail) != 1) break;
    }
    char a1[32], a2[32], a3[32];
    push_failed(p->err, "arena '%s' is full: asked for %s (align %llu), %s available of %s",
                a->name, ll_size_format(size, a1, sizeof a1), (unsigned long long)align,
                ll_size_format(avail, a2, sizeof a2), ll_size_format(a->capacity, a3, sizeof a3));
    return NULL;
}

void *ll_arena_push_(ll_arena *arena, uint64_t size, const ll_push_params *p)
{
    /* The common case inline; anything unusual goes through push(). */
    uint64_t align = p->align ? p->align : DEFAULT_ALIGN;
    uint64_t begin = (uint64_t)(uintptr_t)arena->begin;
    uint64_t off = ll_align_up(begin + arena->used, align) - begin;
    if (__builtin_expect(
            ll_is_pow2(align) && off <= arena->capacity && size <= arena->capacity - off, 1)) {
        arena->used = off + size;
        if (arena->used > arena->high_water) note_growth(arena);
        uint8_t *mem = arena->begin + off;
        if (p->zero) memset(mem, 0, size);
        return mem;
    }
    return push(arena, size, align, p);
}

void *ll_arena_push_array_(ll_arena *arena, uint64_t elem_size, uint64_t elem_align, uint64_t count,
                           const ll_push_params *p)
{
    uint64_t size;
    if (__builtin_mul_overflow(elem_size, count, &size)) {
        push_failed(p->err, "cannot push %llu x %llu B to arena '%s': the size overflows",
                    (unsigned long long)count, (unsigned long long)elem_size, arena->name);
        return NULL;
    }
    return push(arena, size, p->align > elem_align ? p->align : elem_align, p);
}

uint64_t ll_arena_pos_get(const ll_arena *arena)
{
    return arena->used;
}

void ll_arena_pop_to(ll_arena *arena, uint64_t pos)
{
    if (pos < arena->used) arena->used = pos;
}

void ll_arena_clear(ll_arena *arena)
{
    arena->used = 0;
}

ll_arena_temp ll_arena_temp_begin(ll_arena *arena)
{
    return (ll_arena_temp){.arena = arena, .pos = arena->used};
}

void ll_arena_temp_end(ll_arena_temp temp)
{
    ll_arena_pop_to(temp.arena, temp.pos);
}

/* ---- what is where ----------------------------------------------------- */

const char *ll_block_owner_get(const ll_block *block, uint64_t offset)
{
    if (!block || !block->base || offset >= block->size) return "outside the block";
    const memory_header *h = memory_header_of(block);
    if (!h) return "unallocated";
    if (offset < h->header_size) return "block header";
    if (offset < h->header_size + h->header_guard) return "guard page";
    const uint8_t *at = block->base + offset;
    const char *what = "unallocated";
    /* A sub-arena is created after its parent: the last match is innermost. */
    for (uint32_t i = 0; i < h->arena_count; i++) {
        const ll_arena *a = &h->arenas[i];
        if (at >= a->begin && at < a->begin + a->capacity)
            what = a->name;
        else if (at >= a->begin + a->capacity && at < a->begin + a->capacity + a->guard_size)
            what = "guard page";
    }
    return what;
}

uint64_t ll_block_committed_get(const ll_block *block)
{
    const memory_header *h = memory_header_of(block);
    if (!h) return 0;
    uint64_t total = h->header_size;
    for (uint32_t i = 0; i < h->arena_count; i++)
        if (h->arenas[i].parent < 0) total += h->arenas[i].committed;
    return total;
}

int ll_block_attach(ll_block *block, ll_error *err)
{
    if (!block || !block->base)
        return ll_fail(err, EINVAL, "the block is not reserved (call ll_block_reserve first)");
    memory_header *h = (memory_header *)block->base;
    if (block->size < sizeof *h || h->magic != MEMORY_MAGIC) return 0;
    if (memory_table_check(h, block, err) != 0) return -1;
    /* Drop guards of whatever layout was there, then arm this table's. */
    if (mprotect(block->base, block->size, PROT_READ | PROT_WRITE) != 0)
        return ll_fail(err, errno, "cannot unprotect the block: %s", strerror(errno));
    for (uint32_t i = 0; i < h->arena_count; i++)
        if (h->arenas[i].guard_size &&
            memory_guard_arm(h, h->arenas[i].begin + h->arenas[i].capacity, h->arenas[i].guard_size,
                             &h->arenas[i], err) != 0)
            return -1;
    if (h->header_guard &&
        memory_guard_arm(h, block->base + h->header_size, h->header_guard, NULL, err) != 0)
        return -1;
    return 0;
}
