/* memory.h - internals of the memory layer shared by block.c, arena.c and
 * guard.c: the layout of the header at the start of the block. */
#ifndef LL_MEMORY_H
#define LL_MEMORY_H

#include "base/base.h"

/* The highest user address + 1 of this process's address space (2^47 on
 * x86_64 with 4-level paging, 2^39 or 2^48 on aarch64). */
uint64_t memory_address_limit(void);

/* Huge pages are 2 MiB on x86_64 and on aarch64 with 4 KiB pages. */
#define MEMORY_HUGE_PAGE (2ull << 20)

#endif
