/* block.c - reserve the block at its static address without clobbering
 * anything, and release it. */
#include "memory/memory.h"

#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

uint64_t memory_address_limit(void)
{
    /* The initial stack sits at the top of the user address space in every
     * layout (top-down and legacy), so the power of two above a string the
     * kernel placed on it is the address-space width. */
    uint64_t on_stack = getauxval(AT_EXECFN);
    if (!on_stack) on_stack = getauxval(AT_RANDOM);
    if (!on_stack) return 1ull << 47;
    uint64_t limit = 1ull << 32;
    while (limit <= on_stack && limit < (1ull << 63)) limit <<= 1;
    return limit;
}

static int bits_of(uint64_t pow2)
{
    return 63 - __builtin_clzll(pow2);
}

/* The size and base checks that must hold before asking the kernel. */
static int check_params(const ll_block_params *p, uint64_t size, uint64_t align, ll_error *err)
{
    char a[32], b[32];
    uint64_t base = (uint64_t)(uintptr_t)p->base;
    uint64_t limit = memory_address_limit();
    if (p->size < ll_page_size_get())
        return ll_fail(err, EINVAL, "block size %llu B is below the page size %s (try: .size = %s)",
                       (unsigned long long)p->size, ll_size_format(ll_page_size_get(), a, sizeof a),
                       ll_size_format(ll_page_size_get(), b, sizeof b));
    if (size > limit || size < p->size)
        return ll_fail(err, EINVAL, "block size %s is larger than the %s (%d-bit) address space",
                       ll_size_format(p->size, a, sizeof a), ll_size_format(limit, b, sizeof b),
                       bits_of(limit));
    /* The aligned address below, unless that is 0 (no base at all). */
    uint64_t near = ll_align_down(base, align) ? ll_align_down(base, align) : align;
    if (base % align)
        return ll_fail(err, EINVAL, "block base 0x%llx is not aligned to %s (try: 0x%llx)",
                       (unsigned long long)base, ll_size_format(align, a, sizeof a),
                       (unsigned long long)near);
    if (base && base + size < base)
        return ll_fail(err, EINVAL, "block at 0x%llx of %s overflows: base + size wraps past 2^64",
                       (unsigned long long)base, ll_size_format(size, a, sizeof a));
    uint64_t end = base + size;
    if (base && end > limit)
        return ll_fail(err, EINVAL,
                       "block at 0x%llx of %s ends at 0x%llx, beyond the %s (%d-bit) address "
                       "space that ends at 0x%llx",
                       (unsigned long long)base, ll_size_format(size, a, sizeof a),
                       (unsigned long long)end, ll_size_format(limit, b, sizeof b), bits_of(limit),
                       (unsigned long long)limit);
    return 0;
}

/* Names the first mapping in [base, base + size) as /proc/self/maps shows
 * it: "0x...-0x... rw-p [anon:cache]". */
static void describe_in_the_way(uint64_t base, uint64_t size, char *out, size_t cap)
{
    uint64_t end = base + size;
    snprintf(out, cap, "something mapped in 0x%llx-0x%llx", (unsigned long long)base,
             (unsigned long long)end);
    ll_maps maps = {0};
    if (ll_maps_read_pid(0, &maps, NULL) != 0) return;
    const ll_region *r = ll_maps_overlap_find(&maps, base, end);
    if (r)
        snprintf(out, cap, "0x%llx-0x%llx %s%s%s", (unsigned long long)r->start,
                 (unsigned long long)r->end, r->perms, r->path[0] ? " " : "", r->path);
    ll_maps_free(&maps);
}

/* The size in the compact form `looplive addr --size` parses: 1G, 512M. */
static void compact_size(uint64_t size, char *out, size_t cap)
{
    static const char units[] = "PTGMK";
    for (int i = 0; units[i]; i++) {
        int shift = 10 * (5 - i);
        if (size >= (1ull << shift) && size % (1ull << shift) == 0) {
            snprintf(out, cap, "%llu%c", (unsigned long long)(size >> shift), units[i]);
            return;
        }
    }
    snprintf(out, cap, "%llu", (unsigned long long)size);
}

static int fail_mmap(int code, uint64_t base, uint64_t size, ll_error *err)
{
    char a[32];
    ll_size_format(size, a, sizeof a);
    if (code == EEXIST) {
        char what[512], hint[32];
        describe_in_the_way(base, size, what, sizeof what);
        compact_size(size, hint, sizeof hint);
        return ll_fail(err, EEXIST,
                       "cannot reserve %s at 0x%llx: %s is in the way (try: looplive addr "
                       "--size %s)",
                       a, (unsigned long long)base, what, hint);
    }
    const char *hint = code == ENOMEM ? " (try: a smaller size, or check ulimit -v)" : "";
    if (!base) return ll_fail(err, code, "cannot reserve %s: %s%s", a, strerror(code), hint);
    return ll_fail(err, code, "cannot reserve %s at 0x%llx: %s%s", a, (unsigned long long)base,
                   strerror(code), hint);
}

/* Maps [base, base + size) and insists on getting exactly that range. */
static void *map_at(uint64_t base, uint64_t size, int flags, int fd, ll_error *err)
{
    if (base) flags |= MAP_FIXED_NOREPLACE;
    void *want = (void *)(uintptr_t)base;
    void *got = mmap(want, size, PROT_READ | PROT_WRITE, flags | MAP_NORESERVE, fd, 0);
    if (got == MAP_FAILED) {
        fail_mmap(errno, base, size, err);
        return NULL;
    }
    if (base && got != want) {
        /* Before 4.17 the kernel ignores MAP_FIXED_NOREPLACE and treats the
         * address as a hint; it placed us elsewhere because of a collision. */
        munmap(got, size);
        fail_mmap(EEXIST, base, size, err);
        return NULL;
    }
    return got;
}

/* Anonymous memory for transparent huge pages, 2 MiB aligned even when the
 * OS picks the address: reserve extra and trim. */
static void *map_huge(uint64_t base, uint64_t size, ll_error *err)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (base) return map_at(base, size, flags, -1, err);
    uint8_t *raw = map_at(0, size + MEMORY_HUGE_PAGE, flags, -1, err);
    if (!raw) return NULL;
    uint8_t *aligned = (uint8_t *)ll_align_up((uint64_t)(uintptr_t)raw, MEMORY_HUGE_PAGE);
    if (aligned > raw) munmap(raw, (size_t)(aligned - raw));
    uint8_t *end = raw + size + MEMORY_HUGE_PAGE;
    if (end > aligned + size) munmap(aligned + size, (size_t)(end - (aligned + size)));
    return aligned;
}

void memory_prefault(uint8_t *base, uint64_t size)
{
    if (madvise(base, size, MADV_POPULATE_WRITE) == 0) return;
    /* Before 5.14: write each page ourselves, keeping its contents. */
    volatile uint8_t *v = base;
    for (uint64_t off = 0; off < size; off += ll_page_size_get()) {
        uint8_t keep = v[off];
        v[off] = keep;
    }
}

/* The name the snapshot layer gives the block's memfd: the caller's, or
 * "looplive". memfd_create takes up to 249 bytes; the handle keeps fewer. */
static int set_name(ll_block *block, const char *name, ll_error *err)
{
    if (!name || !name[0]) name = "looplive";
    size_t len = strlen(name);
    if (len >= sizeof block->name)
        return ll_fail(err, EINVAL,
                       "block name '%.40s...' is %zu bytes, longer than %zu (it names the "
                       "block's memfd in /proc/PID/maps)",
                       name, len, sizeof block->name - 1);
    memcpy(block->name, name, len + 1);
    return 0;
}

int ll_block_reserve_(ll_block *block, ll_error *err, const ll_block_params *p)
{
    memset(block, 0, sizeof *block);
    block->fd = -1;
    uint64_t align = p->huge_pages ? MEMORY_HUGE_PAGE : ll_page_size_get();
    uint64_t size = ll_align_up(p->size, align);
    if (set_name(block, p->name, err) != 0 || check_params(p, size, align, err) != 0) return -1;
    uint64_t base = (uint64_t)(uintptr_t)p->base;
    /* Plain anonymous memory: a first write costs one zeroed page. A memfd
     * mapped MAP_PRIVATE would cost two (the shmem page behind the hole,
     * then the private copy of it); the snapshot layer moves the block onto
     * a memfd at the first take, so a program that never takes one never
     * pays for it. */
    uint8_t *at = p->huge_pages ? map_huge(base, size, err)
                                : map_at(base, size, MAP_PRIVATE | MAP_ANONYMOUS, -1, err);
    if (!at) return -1;
    block->flags |= LL_BLOCK_ANONYMOUS;
    if (p->huge_pages && madvise(at, size, MADV_HUGEPAGE) == 0) block->flags |= LL_BLOCK_HUGE;
    block->base = at;
    block->size = size;
    block->page_size = ll_page_size_get();
    if (base) block->flags |= LL_BLOCK_FIXED;
    if (p->prefault) {
        memory_prefault(at, size);
        block->flags |= LL_BLOCK_PREFAULTED;
    }
    return 0;
}

void ll_block_release(ll_block *block)
{
    if (!block) return;
    /* A zeroed handle has fd 0: only a reserved block owns its fd. */
    if (!block->base) return;
    ll_released(block->base); /* the layers that keep state about it drop it */
    memory_guards_forget(block->base);
    memory_hooks_forget(block->base);
    munmap(block->base, block->size);
    if (block->fd >= 0) close(block->fd);
    memset(block, 0, sizeof *block);
    block->fd = -1;
}
