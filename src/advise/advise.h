/* advise.h - internal parts of the advise layer (tests use them too). */
#ifndef LL_ADVISE_H
#define LL_ADVISE_H

#include "looplive.h"

/* Model constants for one machine, derived from ll_kernel. */
typedef struct advise_consts {
    uint64_t task_size;        /* top of the mmap window: 2^va_bits - page */
    uint64_t aslr;             /* 2^mmap_rnd_bits pages: PIE and mmap base entropy */
    uint64_t stack_rnd;        /* how far below the top the stack may start */
    uint64_t brk_rnd;          /* how far after the executable the heap may start */
    uint64_t dyn_base;         /* ELF_ET_DYN_BASE: 2/3 of the window */
    uint64_t legacy_base;      /* TASK_UNMAPPED_BASE: 1/3 (x86) or 1/4 (arm64) */
    uint64_t gap_min, gap_max; /* the clamp on the stack gap above the mmap base */
} advise_consts;

void advise_consts_of(const ll_kernel *k, advise_consts *c);

/* Which layout placed a sample's libraries: "top-down", "top-down from 1/6
 * (stack rlimit unlimited)", "legacy bottom-up" or "none" (no libraries). */
const char *advise_layout_of(const ll_advice *a, const ll_maps *sample);

#endif
