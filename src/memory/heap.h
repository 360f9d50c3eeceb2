/* heap.h - the general-purpose heap in an arena of the block (heap.c),
 * behind looplive_compat.h's malloc (compat.c). Everything it needs lives
 * at the arena's start, so restores and loads bring it back. */
#ifndef LL_MEMORY_HEAP_H
#define LL_MEMORY_HEAP_H

#define LL_COMPAT_KEEP_LIBC
#include "looplive_compat.h"

#include "base/base.h"

typedef struct heap heap;

/* What compat.c keeps beside the heap: the generator and the clocks. */
typedef struct heap_extra {
    uint64_t rand_state; /* rand and random: one generator */
    uint64_t epoch_ns;   /* CLOCK_REALTIME when the heap was created */
    uint64_t mono_ns;    /* CLOCK_MONOTONIC then */
    uint64_t last_ns;    /* the last clock read, since the state started */
} heap_extra;

/* The heap at the start of arena: made there when the arena is empty,
 * checked when it holds one. NULL with err otherwise. */
heap *heap_open(ll_arena *arena, ll_error *err);

/* size bytes, 16-byte aligned, or NULL with err (errno ENOMEM). */
void *heap_alloc(heap *h, uint64_t size, ll_error *err);
/* size bytes at a multiple of align (a power of two). */
void *heap_alloc_aligned(heap *h, uint64_t align, uint64_t size, ll_error *err);
/* ptr must come from this heap (heap_owns); aborts on one already free. */
void heap_free(heap *h, void *ptr);
void *heap_realloc(heap *h, void *ptr, uint64_t size, ll_error *err);
/* Bytes usable at ptr. */
uint64_t heap_usable(const void *ptr);
/* 1 when ptr lies among this heap's chunks. */
int heap_owns(const heap *h, const void *ptr);

heap_extra *heap_extra_get(heap *h);
void heap_stats_get(const heap *h, ll_heap_stats *out);
int heap_check(const heap *h, ll_error *err);

#endif /* LL_MEMORY_HEAP_H */
