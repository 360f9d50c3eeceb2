/* heap.c - a general-purpose allocator whose state and memory are one arena
 * of the block.
 *
 * Chunks follow one another from the heap header to a sentinel at the top.
 * A chunk is a 16-byte header (the previous chunk's size, valid while that
 * one is free; its own size with INUSE and PREV_INUSE) and its payload.
 * Small chunks (up to QUICK_MAX) are freed onto exact-size lists and stay
 * marked in use: reusing one is a pop. Larger ones go to two-level
 * segregated lists (a power of two, then 16 steps within it) with a bitmap
 * per level, merged with free neighbours at once, so no two free chunks
 * touch. When nothing fits, the small chunks kept aside are freed for real
 * (merging) before the heap grows at its top by a push on the arena; a free
 * chunk reaching the top is given back to the arena. All pointers are
 * absolute: the block never moves. */
#include "memory/heap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HEAP_MAGIC   0x3150414548424c4cull /* "LLBHEAP1" */
#define HEAP_VERSION 1

#define HDR        16u
#define MIN_CHUNK  32u
#define INUSE      1u
#define PREV_INUSE 2u
#define FLAG_BITS  15u

#define QUICK_MAX   1024u
#define QUICK_COUNT (QUICK_MAX / 16 + 1)

#define SL_BITS  4
#define SL_COUNT (1u << SL_BITS)
#define FL_SHIFT 8                   /* sizes below 256 B: one list per 16 B */
#define FL_COUNT (64 - FL_SHIFT + 1) /* up to 2^63 */
#define MAX_REQ  (1ull << 62)        /* larger requests never fit */

typedef struct chunk {
    uint64_t prev_size;
    uint64_t head;
    struct chunk *next, *prev; /* free chunks: their list; quick: next only */
} chunk;

struct heap {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    ll_arena *arena;
    chunk *first; /* the first chunk (the sentinel while empty) */
    chunk *top;   /* the sentinel: a header of size 0, in use */
    uint64_t in_use, peak_in_use, allocations;
    uint64_t quick_bytes;
    uint64_t fl_bitmap;
    uint32_t sl_bitmap[FL_COUNT];
    chunk *lists[FL_COUNT][SL_COUNT];
    chunk *quick[QUICK_COUNT];
    heap_extra extra;
};

#define HEAP_HEADER ((sizeof(heap) + 63) & ~(uint64_t)63)

static inline uint64_t size_of(const chunk *c)
{
    return c->head & ~(uint64_t)FLAG_BITS;
}

static inline chunk *next_of(const chunk *c)
{
    return (chunk *)((uint8_t *)c + size_of(c));
}

static inline void *payload(chunk *c)
{
    return (uint8_t *)c + HDR;
}

static inline chunk *chunk_of(const void *p)
{
    return (chunk *)((uint8_t *)p - HDR);
}

/* The chunk size serving a request of n bytes (n <= MAX_REQ). */
static inline uint64_t chunk_need(uint64_t n)
{
    uint64_t s = (n + HDR + 15) & ~(uint64_t)15;
    return s < MIN_CHUNK ? MIN_CHUNK : s;
}

/* ---- segregated lists ------------------------------------------------ */

static inline unsigned log2_floor(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

static inline void mapping(uint64_t size, unsigned *fl, unsigned *sl)
{
    if (size < (1u << FL_SHIFT)) {
        *fl = 0;
        *sl = (unsigned)(size >> 4);
        return;
    }
    unsigned f = log2_floor(size);
    *fl = f - (FL_SHIFT - 1);
    *sl = (unsigned)(size >> (f - SL_BITS)) & (SL_COUNT - 1);
}

static void list_insert(heap *h, chunk *c)
{
    unsigned fl, sl;
    mapping(size_of(c), &fl, &sl);
    c->prev = NULL;
    c->next = h->lists[fl][sl];
    if (c->next) c->next->prev = c;
    h->lists[fl][sl] = c;
    h->fl_bitmap |= 1ull << fl;
    h->sl_bitmap[fl] |= 1u << sl;
}

static void list_remove(heap *h, chunk *c)
{
    unsigned fl, sl;
    mapping(size_of(c), &fl, &sl);
    if (c->next) c->next->prev = c->prev;
    if (c->prev) {
        c->prev->next = c->next;
        return;
    }
    h->lists[fl][sl] = c->next;
    if (!c->next) {
        h->sl_bitmap[fl] &= ~(1u << sl);
        if (!h->sl_bitmap[fl]) h->fl_bitmap &= ~(1ull << fl);
    }
}

/* A free chunk of at least size bytes, still listed, or NULL. Rounds the
 * size up to its list's next boundary, so any chunk found fits. */
static chunk *list_find(const heap *h, uint64_t size)
{
    if (size >= (1u << FL_SHIFT)) size += (1ull << (log2_floor(size) - SL_BITS)) - 1;
    unsigned fl, sl;
    mapping(size, &fl, &sl);
    if (fl >= FL_COUNT) return NULL;
    uint32_t sls = h->sl_bitmap[fl] & (~0u << sl);
    if (!sls) {
        uint64_t fls = fl + 1 < 64 ? h->fl_bitmap & (~0ull << (fl + 1)) : 0;
        if (!fls) return NULL;
        fl = (unsigned)__builtin_ctzll(fls);
        sls = h->sl_bitmap[fl];
    }
    return h->lists[fl][__builtin_ctz(sls)];
}

/* ---- chunks ---------------------------------------------------------- */

/* Marks c (size bytes, not listed) free, merges it with free neighbours,
 * and lists it, or gives it back to the arena when it reaches the top. */
static void release(heap *h, chunk *c)
{
    uint64_t size = size_of(c);
    if (!(c->head & PREV_INUSE)) {
        chunk *p = (chunk *)((uint8_t *)c - c->prev_size);
        list_remove(h, p);
        size += size_of(p);
        c = p;
    }
    chunk *n = (chunk *)((uint8_t *)c + size);
    if (n != h->top && !(n->head & INUSE)) {
        list_remove(h, n);
        size += size_of(n);
        n = (chunk *)((uint8_t *)c + size);
    }
    if (n == h->top) {
        /* The sentinel moves down onto c; the arena ends after it. */
        c->head = INUSE | PREV_INUSE;
        h->top = c;
        ll_arena_pop_to(h->arena, (uint64_t)((uint8_t *)c + HDR - h->arena->begin));
        return;
    }
    c->head = size | PREV_INUSE;
    n->head &= ~(uint64_t)PREV_INUSE;
    n->prev_size = size;
    list_insert(h, c);
}

/* Frees every chunk kept on the quick lists for real. */
static void quick_flush(heap *h)
{
    for (unsigned i = 0; i < QUICK_COUNT; i++) {
        while (h->quick[i]) {
            chunk *c = h->quick[i];
            h->quick[i] = c->next;
            release(h, c);
        }
    }
    h->quick_bytes = 0;
}

/* Cuts c (in use, counted) down to size, freeing the rest when it can
 * hold a chunk. */
static void trim(heap *h, chunk *c, uint64_t size)
{
    uint64_t have = size_of(c);
    if (have - size < MIN_CHUNK) return;
    chunk *rest = (chunk *)((uint8_t *)c + size);
    c->head = size | (c->head & FLAG_BITS);
    rest->head = (have - size) | INUSE | PREV_INUSE;
    h->in_use -= have - size;
    release(h, rest);
}

/* Takes the listed free chunk c for a need of size bytes. */
static chunk *take(heap *h, chunk *c, uint64_t size)
{
    list_remove(h, c);
    c->head |= INUSE;
    next_of(c)->head |= PREV_INUSE;
    h->in_use += size_of(c);
    trim(h, c, size);
    return c;
}

/* Grows the heap at its top for a chunk of size bytes, merging a free last
 * chunk into it. */
static chunk *grow(heap *h, uint64_t size, ll_error *err)
{
    chunk *c = h->top;
    uint64_t have = 0;
    if (!(c->head & PREV_INUSE)) {
        chunk *last = (chunk *)((uint8_t *)c - c->prev_size);
        if (size_of(last) >= size) return take(h, last, size);
        have = size_of(last);
        c = last;
    }
    uint8_t *want = (uint8_t *)h->top + HDR;
    uint8_t *got = ll_arena_push(h->arena, size - have, .align = 16, .err = err);
    if (!got) return NULL;
    if (got != want) {
        ll_arena_pop_to(h->arena, (uint64_t)(want - h->arena->begin));
        ll_fail(err, EINVAL,
                "the heap arena '%s' was pushed to by other code: the heap cannot grow (try: "
                "leave arena '%s' to looplive_compat.h)",
                h->arena->name, h->arena->name);
        return NULL;
    }
    if (have) list_remove(h, c);
    c->head = size | INUSE | PREV_INUSE;
    h->top = (chunk *)((uint8_t *)c + size);
    h->top->head = INUSE | PREV_INUSE;
    h->in_use += size;
    return c;
}

static void note_alloc(heap *h)
{
    h->allocations++;
    if (h->in_use > h->peak_in_use) h->peak_in_use = h->in_use;
}

/* A request no arena could hold; grow() fills err for the others. */
static void *too_large(const heap *h, uint64_t n, ll_error *err)
{
    char a[32];
    ll_fail(err, ENOMEM, "arena '%s' cannot hold %s", h->arena->name,
            ll_size_format(n, a, sizeof a));
    errno = ENOMEM;
    return NULL;
}

static void *failed(void)
{
    errno = ENOMEM;
    return NULL;
}

static chunk *alloc_chunk(heap *h, uint64_t size, ll_error *err)
{
    chunk *c = list_find(h, size);
    if (!c && h->quick_bytes) {
        quick_flush(h);
        c = list_find(h, size);
    }
    return c ? take(h, c, size) : grow(h, size, err);
}

/* ---- the interface ----------------------------------------------------- */

void *heap_alloc(heap *h, uint64_t n, ll_error *err)
{
    if (n > MAX_REQ) return too_large(h, n, err);
    uint64_t size = chunk_need(n);
    chunk *c;
    if (size <= QUICK_MAX && (c = h->quick[size >> 4])) {
        h->quick[size >> 4] = c->next;
        c->prev = NULL; /* the mark of a chunk kept aside */
        h->quick_bytes -= size;
        h->in_use += size;
    } else if (!(c = alloc_chunk(h, size, err))) {
        return failed();
    }
    note_alloc(h);
    return payload(c);
}

void *heap_alloc_aligned(heap *h, uint64_t align, uint64_t n, ll_error *err)
{
    if (align <= 16) return heap_alloc(h, n, err);
    if (n > MAX_REQ || align > MAX_REQ) return too_large(h, n, err);
    uint64_t size = chunk_need(n);
    chunk *c = alloc_chunk(h, size + align + MIN_CHUNK, err);
    if (!c) return failed();
    uintptr_t p = (uintptr_t)payload(c);
    uintptr_t q = (p + align - 1) & ~(uintptr_t)(align - 1);
    if (q != p && q - p < MIN_CHUNK) q += align;
    if (q != p) {
        /* The lead becomes a free chunk of its own before the aligned one. */
        uint64_t gap = q - p, have = size_of(c);
        chunk *a = chunk_of((void *)q);
        c->head = gap | (c->head & FLAG_BITS);
        a->head = (have - gap) | INUSE | PREV_INUSE;
        h->in_use -= gap;
        release(h, c);
        c = a;
    }
    trim(h, c, size);
    note_alloc(h);
    return payload(c);
}

static int quick_holds(const heap *h, const chunk *c, uint64_t size)
{
    for (const chunk *q = h->quick[size >> 4]; q; q = q->next)
        if (q == c) return 1;
    return 0;
}

void heap_free(heap *h, void *ptr)
{
    chunk *c = chunk_of(ptr);
    uint64_t size = size_of(c);
    /* A double free aborts (under crash protection: a rollback). A chunk
     * kept aside carries the heap's address as a mark; the mark alone may
     * be the caller's data, so its list decides. */
    if (!(c->head & INUSE) ||
        (size <= QUICK_MAX && c->prev == (chunk *)h && quick_holds(h, c, size)))
        abort();
    h->in_use -= size;
    h->allocations--;
    if (size <= QUICK_MAX) {
        c->prev = (chunk *)h;
        c->next = h->quick[size >> 4];
        h->quick[size >> 4] = c;
        h->quick_bytes += size;
        return;
    }
    release(h, c);
}

/* Grows c in place to size bytes when its free neighbour or the top allows. */
static int grow_in_place(heap *h, chunk *c, uint64_t size)
{
    uint64_t have = size_of(c);
    chunk *n = next_of(c);
    if (n != h->top && !(n->head & INUSE) && have + size_of(n) >= size) {
        list_remove(h, n);
        c->head += size_of(n);
        next_of(c)->head |= PREV_INUSE;
        h->in_use += size_of(n);
        trim(h, c, size);
        return 1;
    }
    if (n != h->top || h->arena->capacity - h->arena->used < size - have) return 0;
    uint8_t *got = ll_arena_push(h->arena, size - have, .align = 16);
    if (!got) return 0;
    if (got != (uint8_t *)n + HDR) {
        ll_arena_pop_to(h->arena, (uint64_t)((uint8_t *)n + HDR - h->arena->begin));
        return 0;
    }
    c->head += size - have;
    h->top = next_of(c);
    h->top->head = INUSE | PREV_INUSE;
    h->in_use += size - have;
    return 1;
}

void *heap_realloc(heap *h, void *ptr, uint64_t n, ll_error *err)
{
    if (!ptr) return heap_alloc(h, n, err);
    if (n > MAX_REQ) return too_large(h, n, err);
    chunk *c = chunk_of(ptr);
    uint64_t size = chunk_need(n), have = size_of(c);
    if (size <= have) {
        if (have > QUICK_MAX) trim(h, c, size);
        return ptr;
    }
    if (have > QUICK_MAX && grow_in_place(h, c, size)) {
        if (h->in_use > h->peak_in_use) h->peak_in_use = h->in_use;
        return ptr;
    }
    void *p = heap_alloc(h, n, err);
    if (!p) return NULL;
    memcpy(p, ptr, have - HDR);
    heap_free(h, ptr);
    return p;
}

uint64_t heap_usable(const void *ptr)
{
    return size_of(chunk_of(ptr)) - HDR;
}

int heap_owns(const heap *h, const void *ptr)
{
    return (const uint8_t *)ptr >= (const uint8_t *)h->first + HDR &&
           (const uint8_t *)ptr < (const uint8_t *)h->top;
}

heap_extra *heap_extra_get(heap *h)
{
    return &h->extra;
}

/* ---- opening, figures, checking ------------------------------------------ */

heap *heap_open(ll_arena *arena, ll_error *err)
{
    heap *h = (heap *)arena->begin;
    if (arena->used == 0) {
        uint8_t *at = ll_arena_push(arena, HEAP_HEADER + HDR, .align = 64, .zero = 1, .err = err);
        if (!at) return NULL;
        h = (heap *)at;
        h->magic = HEAP_MAGIC;
        h->version = HEAP_VERSION;
        h->header_size = (uint32_t)HEAP_HEADER;
        h->arena = arena;
        h->first = h->top = (chunk *)(at + HEAP_HEADER);
        h->top->head = INUSE | PREV_INUSE;
        return h;
    }
    if (arena->used < HEAP_HEADER + HDR || h->magic != HEAP_MAGIC) {
        ll_fail(err, EINVAL,
                "arena '%s' holds no heap: other code pushed to it (try: leave arena '%s' to "
                "looplive_compat.h)",
                arena->name, arena->name);
        return NULL;
    }
    if (h->version != HEAP_VERSION || h->arena != arena) {
        ll_fail(err, EINVAL, "the heap in arena '%s' is version %u, made for another block",
                arena->name, h->version);
        return NULL;
    }
    return h;
}

void heap_stats_get(const heap *h, ll_heap_stats *out)
{
    *out = (ll_heap_stats){0};
    out->capacity = h->arena->capacity;
    out->extent = h->arena->used;
    out->high_water = h->arena->high_water;
    out->in_use = h->in_use;
    out->peak_in_use = h->peak_in_use;
    out->allocations = h->allocations;
    out->free_bytes = h->arena->used - HEAP_HEADER - HDR - h->in_use;
    for (chunk *c = h->first; c < h->top && size_of(c) >= MIN_CHUNK; c = next_of(c)) {
        int free_chunk = !(c->head & INUSE);
        if (free_chunk && size_of(c) > out->largest_free) out->largest_free = size_of(c);
    }
    for (unsigned i = QUICK_COUNT; i-- > 0;)
        if (h->quick[i] && i * 16u > out->largest_free) out->largest_free = i * 16u;
    if (out->free_bytes)
        out->fragmentation = 1.0 - (double)out->largest_free / (double)out->free_bytes;
}

static int bad(ll_error *err, const heap *h, const chunk *c, const char *why)
{
    return ll_fail(err, EINVAL,
                   "the heap in arena '%s' is corrupted: %s at +0x%llx (try: look for a write "
                   "past an allocation, or a free of a pointer malloc did not return)",
                   h->arena->name, why, (unsigned long long)((const uint8_t *)c - h->arena->begin));
}

static uint64_t list_count(const heap *h, ll_error *err, int *failed)
{
    uint64_t n = 0;
    for (unsigned fl = 0; fl < FL_COUNT; fl++)
        for (unsigned sl = 0; sl < SL_COUNT; sl++)
            for (const chunk *c = h->lists[fl][sl]; c; c = c->next, n++) {
                unsigned f, s;
                mapping(size_of(c), &f, &s);
                if (f != fl || s != sl || (c->head & INUSE) || !heap_owns(h, payload((chunk *)c))) {
                    *failed = bad(err, h, c, "a listed chunk is in use or on the wrong list");
                    return n;
                }
            }
    return n;
}

int heap_check(const heap *h, ll_error *err)
{
    uint64_t free_chunks = 0, in_use = 0, quick = 0;
    int prev_in_use = 1;
    const chunk *c = h->first;
    for (; c != h->top; c = next_of(c)) {
        uint64_t s = size_of(c);
        if (s < MIN_CHUNK || (s & 15) || (const uint8_t *)c + s > (const uint8_t *)h->top)
            return bad(err, h, c, "a chunk size is out of range");
        if (!!(c->head & PREV_INUSE) != prev_in_use)
            return bad(err, h, c, "a chunk's PREV_INUSE does not match its neighbour");
        prev_in_use = !!(c->head & INUSE);
        if (!prev_in_use) {
            if (!(next_of(c)->head & INUSE) && next_of(c) != h->top)
                return bad(err, h, c, "two free chunks touch");
            if (next_of(c)->prev_size != s)
                return bad(err, h, c, "a free chunk's size is not repeated after it");
            free_chunks++;
        } else {
            in_use += s;
        }
    }
    if (!!(c->head & PREV_INUSE) != prev_in_use || !(c->head & INUSE))
        return bad(err, h, c, "the top sentinel's flags are wrong");
    for (unsigned i = 0; i < QUICK_COUNT; i++)
        for (const chunk *q = h->quick[i]; q; q = q->next) {
            if (!heap_owns(h, payload((chunk *)q)) || size_of(q) != i * 16u || !(q->head & INUSE))
                return bad(err, h, q, "a chunk kept for reuse is out of place");
            quick += size_of(q);
        }
    int failed = 0;
    uint64_t listed = list_count(h, err, &failed);
    if (failed) return -1;
    if (listed != free_chunks) return bad(err, h, h->first, "the free lists miss free chunks");
    if (quick != h->quick_bytes || in_use - quick != h->in_use)
        return bad(err, h, h->first, "the byte counts disagree with the chunks");
    return 0;
}
