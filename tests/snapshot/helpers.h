/* helpers.h - shared by the snapshot tests: a block at a free address, and
 * deterministic page fillers. */
#ifndef LL_TEST_SNAPSHOT_HELPERS_H
#define LL_TEST_SNAPSHOT_HELPERS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "looplive.h"

/* A free, 2 MiB aligned address for size bytes, chosen at run time (never a
 * hard-coded base: ASan's shadow takes much of the low address space). */
static inline void *free_base(uint64_t size)
{
    uint64_t span = size + (4ull << 20);
    void *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert_neq(p, MAP_FAILED);
    munmap(p, span);
    return (void *)(((uintptr_t)p + (2u << 20)) & ~(uintptr_t)((2u << 20) - 1));
}

static inline void reserve_at(ll_block *b, void *base, uint64_t size)
{
    ll_error err;
    int rc = ll_block_reserve(b, &err, .base = base, .size = size);
    cr_assert_eq(rc, 0, "reserve: %s", rc ? err.msg : "");
}

static inline void reserve(ll_block *b, uint64_t size)
{
    reserve_at(b, free_base(size), size);
}

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Fills page p with bytes that depend on p and seed. */
static inline void fill_page(uint8_t *base, uint64_t p, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + p + 1;
    uint64_t *w = (uint64_t *)(base + p * 4096);
    for (int i = 0; i < 512; i++) w[i] = rng_next(&s);
}

#endif
