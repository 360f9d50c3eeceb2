/* memory.h - internals of the memory layer shared by block.c, arena.c and
 * guard.c: the header at the start of the block. */
#ifndef LL_MEMORY_H
#define LL_MEMORY_H

#include "base/base.h"

#include <sys/types.h>

/* Huge pages are 2 MiB on x86_64 and on aarch64 with 4 KiB pages. */
#define MEMORY_HUGE_PAGE (2ull << 20)

#define MEMORY_MAGIC   0x314b434f4c424c4cull /* "LLBLOCK1" */
#define MEMORY_VERSION 1

/* The block header: everything the arenas need, inside the block, so that
 * it travels with snapshots and saved files. It never holds a pointer the
 * library calls (the full hook is process state, in arena.c), and a header
 * that came from a file is checked whole (memory_table_check) before the
 * library follows anything in it. */
typedef struct memory_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size; /* bytes, page rounded: where partitions start */
    uint64_t base;        /* the block's base when the header was written */
    uint64_t size;        /* the block's size then */
    uint64_t next;        /* offset of the first byte after the last partition */
    uint32_t arena_count;
    uint32_t unused_;         /* was the full hook's pid: ignored, written 0 */
    uint64_t unused_hook_[2]; /* was the full hook and its ctx: ignored, written 0 */
    uint64_t header_guard;    /* PROT_NONE bytes right after the header, 0 if none */
    uint64_t reserved_[7];
    ll_arena arenas[LL_BLOCK_MAX_ARENAS];
} memory_header;

_Static_assert(sizeof(ll_arena) == 128, "ll_arena is part of the saved block format");
_Static_assert(sizeof(memory_header) == LL_BLOCK_TABLE_BYTES, "the table's size is public");

/* The block's header, or NULL when the block has none yet. */
memory_header *memory_header_of(const ll_block *block);

/* The header of the block an arena record lives in. */
static inline memory_header *memory_header_from_arena(const ll_arena *arena)
{
    return (memory_header *)((const uint8_t *)(arena - arena->index) -
                             __builtin_offsetof(memory_header, arenas));
}

/* Checks a header read from bytes that are about to become the block's (a
 * file's, a snapshot's): every count, range and guard inside the block. */
int memory_table_check(const memory_header *h, const ll_block *block, ll_error *err);

/* The highest user address + 1 of this process's address space (2^47 on
 * x86_64 with 4-level paging, 2^39 or 2^48 on aarch64). */
uint64_t memory_address_limit(void);

/* Faults [at, at + size) in for writing. */
void memory_prefault(uint8_t *at, uint64_t size);

/* guard.c: makes [at, at + size) PROT_NONE, the guard after arena `after`
 * (NULL: after the block header), and makes sure a fault there names the
 * arena; memory_guards_forget drops a block's ranges on release. */
int memory_guard_arm(memory_header *header, uint8_t *at, uint64_t size, const ll_arena *after,
                     ll_error *err);
void memory_guards_forget(const void *block_base);

/* arena.c: drops the block's full hook on release. */
void memory_hooks_forget(const void *block_base);

#endif
