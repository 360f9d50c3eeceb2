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

/* A loaded table must describe only the block: walking it, and pushing to
 * each arena, stays inside. */
static inline void fuzz_walk_table(ll_block *block)
{
    char text[4096];
    ll_block_describe_str(block, text, sizeof text);
    (void)ll_block_committed(block);
    for (uint32_t i = 0;; i++) {
        ll_arena *a = ll_block_arena(block, i);
        if (!a) break;
        uint8_t *p = ll_arena_push(a, 1, .err = &(ll_error){0});
        if (p && (p < block->base || p >= block->base + block->size)) abort();
        (void)ll_block_arena_at(block, (uint64_t)(a->begin - block->base));
    }
}

#endif
