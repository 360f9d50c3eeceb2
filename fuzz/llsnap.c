/* llsnap.c - the .llsnap reader: header, index, data checksums (verify),
 * and the loader's checks of the arena table before it maps anything. The
 * harness makes the checksums match, as anyone can, so that the checks
 * behind them are reached; a load that passes must leave a table that
 * stays inside the block. */
#include "fuzz.h"
#include "snapshot/snapshot.h"

#include <xxhash.h>

static void fix_sums(uint8_t *d, size_t size)
{
    snap_header h;
    memcpy(&h, d, sizeof h);
    uint64_t n;
    if (h.index_offset <= size &&
        !__builtin_mul_overflow(h.extent_count, sizeof(snap_extent), &n) &&
        n <= size - h.index_offset) {
        for (uint64_t i = 0; i < h.extent_count; i++) {
            snap_extent e;
            memcpy(&e, d + h.index_offset + i * sizeof e, sizeof e);
            uint64_t at = h.data_offset + e.off;
            if (at < h.data_offset || at > size || e.len > size - at) continue;
            e.hash = XXH3_64bits(d + at, e.len);
            memcpy(d + h.index_offset + i * sizeof e, &e, sizeof e);
        }
        h.index_hash = XXH3_64bits(d + h.index_offset, n);
    }
    h.header_hash = snap_header_hash(&h);
    memcpy(d, &h, sizeof h);
}

typedef struct data_view {
    uint8_t *d;
    uint64_t size, data_offset;
} data_view;

/* Block offset pos in the file's data region. */
static uint8_t *data_at(uint64_t pos, void *ctx)
{
    const data_view *v = ctx;
    uint64_t at = v->data_offset + pos;
    return at >= pos && at <= v->size && v->size - at >= 8 ? v->d + at : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    if (size < sizeof(snap_header)) {
        fuzz_file(data, size, path, sizeof path);
        (void)ll_snap_verify(path, &(ll_error){0});
        return 0;
    }
    uint8_t *d = malloc(size);
    if (!d) return 0;
    memcpy(d, data, size);
    fix_sums(d, size);
    fuzz_file(d, size, path, sizeof path);
    (void)ll_snap_verify(path, &(ll_error){0});

    /* The same file for this block: its base and layout version. */
    ll_block *block = fuzz_block();
    snap_header h;
    memcpy(&h, d, sizeof h);
    h.base = (uint64_t)(uintptr_t)block->base;
    h.layout_version = 0;
    memcpy(d, &h, sizeof h);
    data_view v = {d, size, h.data_offset};
    fuzz_rebase(data_at, &v, h.base);
    fix_sums(d, size);
    /* A file of its own: the block keeps mapping it after a load. */
    int fd = memfd_create("fuzz-load", MFD_CLOEXEC);
    if (fd < 0 || pwrite(fd, d, size, 0) != (ssize_t)size) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (ll_snap_load(block, path, &(ll_error){0}, .verify = 1) == 0) fuzz_walk_table(block);
    close(fd);
    free(d);
    return 0;
}
