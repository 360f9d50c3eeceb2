/* test_snapshot_memory.c - what a snapshot holds in memory: exactly its
 * pages, merged pages moved and the rest freed; restores and loads that
 * cross an arena layout change; one page enumeration that counts swapped
 * pages. */
#include <malloc.h>

#include "snapshot/helpers.h"

#define MIB (1ull << 20)

static uint64_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

Test(snapshot_memory, window_over_a_held_snapshot_does_not_grow)
{
    /* A slot holds an old snapshot while a rewind window of WINDOW takes one
     * per frame and drops its oldest into the slot's. The slot's snapshot
     * can hold at most every page of the block once; the window holds at
     * most WINDOW frames of PER_FRAME pages. */
    enum { PAGES = 512, WINDOW = 60, PER_FRAME = 16, FRAMES = 2000 };
    ll_block b;
    ll_error err;
    reserve(&b, PAGES * 4096);
    for (uint64_t p = 0; p < PAGES; p++) fill_page(b.base, p, 1);
    ll_snap *held = ll_snap_take(&b, &err);
    cr_assert_not_null(held, "%s", err.msg);
    ll_snap *ring[WINDOW] = {0};
    uint64_t bound = (PAGES + (WINDOW + 1) * PER_FRAME) * 4096ull + 4 * MIB, start = 0;
    for (uint64_t f = 1; f <= FRAMES; f++) {
        for (uint64_t i = 0; i < PER_FRAME; i++) fill_page(b.base, (f * PER_FRAME + i) % PAGES, f);
        if (ring[f % WINDOW]) ll_snap_drop(&b, ring[f % WINDOW]);
        ring[f % WINDOW] = ll_snap_take(&b, &err);
        cr_assert_not_null(ring[f % WINDOW], "%s", err.msg);
        if (f == 1) start = heap_in_use();
        if (f % 250 == 0)
            cr_assert_leq(heap_in_use() - start, bound,
                          "frame %llu: the heap grew %llu KiB, more than the %llu KiB the "
                          "window and the held snapshot can need",
                          (unsigned long long)f, (unsigned long long)(heap_in_use() - start) >> 10,
                          (unsigned long long)bound >> 10);
    }
    /* The held snapshot still restores the bytes it was taken with. */
    cr_assert_eq(ll_snap_restore(&b, held, &err), 0, "%s", err.msg);
    uint8_t *want = malloc(PAGES * 4096);
    for (uint64_t p = 0; p < PAGES; p++) fill_page(want, p, 1);
    cr_assert_eq(memcmp(b.base, want, PAGES * 4096), 0);
    free(want);
    ll_snap_end(&b);
    ll_block_release(&b);
}
