/* table.c - the arena table check alone (ll_block_table_check), fed the
 * bytes a file would put at the block's start. A table it accepts is
 * copied into the block and attached (its guards armed); the harness then
 * checks, independently of the library, that every range in it lies inside
 * the block, and walks it. */
#include "fuzz.h"

static void must_be_inside(const ll_block *b, const uint8_t *at, uint64_t len)
{
    uint64_t lo = (uint64_t)(uintptr_t)b->base, p = (uint64_t)(uintptr_t)at;
    if (p < lo || p - lo > b->size || len > b->size - (p - lo)) abort();
}

static uint8_t *head_at(uint64_t pos, void *ctx)
{
    return pos + 8 <= LL_BLOCK_TABLE_BYTES ? (uint8_t *)ctx + pos : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_block *block = fuzz_block();
    uint8_t head[LL_BLOCK_TABLE_BYTES] = {0};
    memcpy(head, data, size < sizeof head ? size : sizeof head);
    fuzz_rebase(head_at, head, (uint64_t)(uintptr_t)block->base);
    if (ll_block_table_check(block, head, sizeof head, &(ll_error){0}) != 0) return 0;
    memcpy(block->base, head, sizeof head);
    if (ll_block_attach(block, &(ll_error){0}) != 0) abort(); /* it was checked */
    for (uint32_t i = 0;; i++) {
        const ll_arena *a = ll_block_arena_get(block, i);
        if (!a) break;
        must_be_inside(block, a->begin, a->capacity + a->guard_size);
        if (a->used > a->capacity) abort();
    }
    fuzz_walk_table(block);
    return 0;
}
