/* llrec.c - the .llrec reader: header, sections, pages, and the check of
 * the start state's arena table before it is copied into the block. The
 * harness makes the size and checksum fields match, as anyone can; a
 * recording that passes is applied and its table must stay inside the
 * block. */
#include "fuzz.h"
#include "loop/loop.h"

#include <xxhash.h>

typedef struct rec_view {
    uint8_t *d;
    uint64_t size;
} rec_view;

/* Block offset pos in the recording's pages (offset, bytes), when stored;
 * the page size is the header's (offset 56). */
static uint8_t *page_at(uint64_t pos, void *ctx)
{
    const rec_view *v = ctx;
    uint64_t ps;
    memcpy(&ps, v->d + 56, 8);
    if (ps < 512 || ps > (1u << 20)) return NULL;
    for (uint64_t at = 128; at + 8 + ps <= v->size; at += 8 + ps) {
        uint64_t off;
        memcpy(&off, v->d + at, 8);
        if (pos >= off && pos - off + 8 <= ps) return v->d + at + 8 + (pos - off);
        if (off > pos) break;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    uint8_t *d = malloc(size ? size : 1);
    if (!d) return 0;
    memcpy(d, data, size);
    ll_block *block = fuzz_block();
    if (size >= 128) {
        uint64_t file_size = size, zero = 0, base = (uint64_t)(uintptr_t)block->base;
        memcpy(d + 24, &file_size, 8);
        rec_view v = {d, size};
        fuzz_rebase(page_at, &v, base);
        memcpy(d + 40, &base, 8);
        memcpy(d + 16, &zero, 8);
        uint64_t sum = XXH3_64bits(d, size);
        memcpy(d + 16, &sum, 8);
    }
    fuzz_file(d, size, path, sizeof path);
    free(d);
    loop_rec rec;
    if (loop_rec_open(&rec, path, &(ll_error){0}) != 0) return 0;
    if (loop_rec_check(&rec, block, NULL, &(ll_error){0}) == 0) {
        if (loop_rec_apply(&rec, block, &(ll_error){0}) == 0) fuzz_walk_table(block);
    }
    loop_rec_close(&rec);
    return 0;
}
