/* hash.c - the state hash at O(pages written), and page sets. */
#include "loop/loop.h"
#include "base/base.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

/* Tables one entry per page of a block that may be terabytes large: mapped
 * without reserve, so only the entries a run touches take memory. */
static void *lazy_zeroed(uint64_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int loop_page_is_zero(const void *page, uint64_t size)
{
    const uint64_t *w = page;
    for (uint64_t i = 0; i < size / 8; i++)
        if (w[i]) return 0;
    return 1;
}

int loop_hash_init(loop_hash *hash, const ll_block *block, ll_error *err)
{
    memset(hash, 0, sizeof *hash);
    hash->page_size = block->page_size ? block->page_size : ll_page_size_get();
    hash->pages = block->size / hash->page_size;
    hash->page_hash = lazy_zeroed(hash->pages * sizeof(uint64_t));
    if (!hash->page_hash)
        return loop_fail(err, ENOMEM, "cannot map a hash table for %llu pages",
                         (unsigned long long)hash->pages);
    void *zeros = calloc(1, hash->page_size);
    if (!zeros) {
        loop_hash_free(hash);
        return loop_fail(err, ENOMEM, "out of memory");
    }
    hash->zero = XXH3_64bits(zeros, hash->page_size);
    free(zeros);
    return 0;
}

void loop_hash_free(loop_hash *hash)
{
    if (hash->page_hash) munmap(hash->page_hash, hash->pages * sizeof(uint64_t));
    free(hash->canon);
    memset(hash, 0, sizeof *hash);
}

uint64_t loop_hash_contribution(const loop_hash *hash, const void *page, uint64_t index)
{
    uint64_t h = XXH3_64bits(page, hash->page_size);
    if (h == hash->zero) return 0;
    /* Mixing in the index makes two pages that swap contents change the sum. */
    return XXH3_64bits_withSeed(&h, sizeof h, index + 1);
}

static void hash_set(loop_hash *hash, uint64_t index, uint64_t value)
{
    hash->total += value - hash->page_hash[index];
    if (hash->page_hash[index] != value) hash->page_hash[index] = value;
}

/* A code pointer's value depends on where the build was loaded: it is
 * hashed as its symbol + offset instead, so that the same run hashes the
 * same in every process (and with every compiler that names things alike).
 * Returns page, or the canonical copy when the page holds code pointers. */
static const void *canonical(loop_hash *hash, const uint8_t *page)
{
    uint64_t lo, hi;
    if (!hash->module) return page;
    ll_module_code_span_get(hash->module, &lo, &hi);
    const uint64_t *w = (const uint64_t *)page;
    uint64_t n = hash->page_size / 8, span = hi - lo, i = 0;
    while (i < n && w[i] - lo >= span) i++;
    if (i == n) return page;
    if (!hash->canon && !(hash->canon = malloc(hash->page_size))) return page;
    memcpy(hash->canon, page, hash->page_size);
    for (; i < n; i++)
        if (w[i] - lo < span) hash->canon[i] = ll_module_code_canonicalize(hash->module, w[i]);
    return hash->canon;
}

void loop_hash_page(loop_hash *hash, const ll_block *block, uint64_t index)
{
    if (index >= hash->pages) return;
    const uint8_t *page = block->base + index * hash->page_size;
    hash_set(hash, index, loop_hash_contribution(hash, canonical(hash, page), index));
}

typedef struct rehash_ctx {
    loop_hash *hash;
    uint64_t next; /* pages below this one were visited */
} rehash_ctx;

static void rehash_to(rehash_ctx *c, uint64_t index)
{
    for (; c->next < index; c->next++)
        if (c->hash->page_hash[c->next]) hash_set(c->hash, c->next, 0);
}

static int rehash_visit(uint64_t off, const uint8_t *bytes, void *ctx)
{
    rehash_ctx *c = ctx;
    uint64_t index = off / c->hash->page_size;
    rehash_to(c, index);
    hash_set(c->hash, index, loop_hash_contribution(c->hash, canonical(c->hash, bytes), index));
    c->next = index + 1;
    return 0;
}

int loop_hash_all(loop_hash *hash, ll_block *block, ll_error *err)
{
    rehash_ctx c = {hash, 0};
    if (ll_snap_pages_visit(block, NULL, rehash_visit, &c, err) != 0) return -1;
    rehash_to(&c, hash->pages);
    return 0;
}

/* ---- page sets ---------------------------------------------------------- */

int loop_pages_init(loop_pages *set, uint64_t pages, ll_error *err)
{
    memset(set, 0, sizeof *set);
    set->nbits = pages;
    set->bits = lazy_zeroed((pages + 63) / 64 * 8);
    if (!set->bits)
        return loop_fail(err, ENOMEM, "cannot map a page set of %llu pages",
                         (unsigned long long)pages);
    return 0;
}

void loop_pages_free(loop_pages *set)
{
    if (set->bits) munmap(set->bits, (set->nbits + 63) / 64 * 8);
    free(set->list);
    memset(set, 0, sizeof *set);
}

int loop_pages_add(loop_pages *set, uint64_t index)
{
    if (!set->bits || index >= set->nbits || set->all) return 0;
    uint64_t bit = 1ull << (index % 64);
    if (set->bits[index / 64] & bit) return 0;
    if (set->count == set->cap) {
        uint64_t cap = set->cap ? set->cap * 2 : 64;
        uint64_t *list = realloc(set->list, cap * sizeof *list);
        if (!list) {
            set->all = 1; /* cannot list them: treat every page as changed */
            return -1;
        }
        set->list = list;
        set->cap = cap;
    }
    set->bits[index / 64] |= bit;
    set->list[set->count++] = index;
    return 0;
}

void loop_pages_clear(loop_pages *set)
{
    for (uint64_t i = 0; i < set->count; i++)
        set->bits[set->list[i] / 64] &= ~(1ull << (set->list[i] % 64));
    set->count = 0;
    set->all = 0;
}
