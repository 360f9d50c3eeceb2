/* fuzz.h - shared by the libFuzzer harnesses: a file holding the input
 * (a memfd, named by its /proc/self/fd path) and one block, reserved once,
 * that the loaders load into. */
#ifndef LL_FUZZ_H
#define LL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "looplive.h"

#define FUZZ_BLOCK_SIZE (64u << 10)

/* The input as a file: its path in path (valid until the next call). */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t cap)
{
    static int fd = -1;
    if (fd < 0) fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 0) != 0) abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) abort();
        done += (size_t)n;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* The block every harness loads into, at an address the OS chose. */
static inline ll_block *fuzz_block(void)
{
    static ll_block block;
    if (!block.base && ll_block_reserve(&block, NULL, .size = FUZZ_BLOCK_SIZE) != 0) abort();
    return &block;
}

/* Where block offset pos (8 bytes) is in the input, or NULL. */
typedef uint8_t *fuzz_at_fn(uint64_t pos, void *ctx);

/* Seeds hold the absolute addresses of the block they were made in (the
 * table's base and each arena's begin); they are moved to this block, as a
 * file made at its base would hold them, so that the fuzzer reaches the
 * checks behind the base check. Adding a constant loses no input. */
static inline void fuzz_rebase(fuzz_at_fn *at, void *ctx, uint64_t new_base)
{
    enum { BASE_AT = 16, ARENAS_AT = LL_BLOCK_TABLE_BYTES - LL_BLOCK_MAX_ARENAS * 128 };
    uint8_t *b = at(BASE_AT, ctx);
    if (!b) return;
    uint64_t old, v;
    memcpy(&old, b, 8);
    memcpy(b, &new_base, 8);
    for (uint64_t i = 0; i < LL_BLOCK_MAX_ARENAS; i++) {
        uint8_t *p = at(ARENAS_AT + i * 128 + LL_ARENA_NAME_MAX, ctx);
        if (!p) continue;
        memcpy(&v, p, 8);
        v += new_base - old;
        memcpy(p, &v, 8);
    }
}

/* A loaded table must describe only the block: walking it, and pushing to
 * each arena, stays inside. */
static inline void fuzz_walk_table(ll_block *block)
{
    char text[4096];
    ll_block_describe_str(block, text, sizeof text);
    (void)ll_block_committed_get(block);
    for (uint32_t i = 0;; i++) {
        ll_arena *a = ll_block_arena_get(block, i);
        if (!a) break;
        uint8_t *p = ll_arena_push(a, 1, .err = &(ll_error){0});
        if (p && (p < block->base || p >= block->base + block->size)) abort();
        (void)ll_block_owner_get(block, (uint64_t)(a->begin - block->base));
    }
}

#endif
