/* check.c - judge an address the user already has (llce's 0x100000000000,
 * Handmade Hero's 2 TiB): safe here or not, and why. */
#include "advise/advise.h"
#include "base/base.h"

#include <string.h>

void ll_advice_check(const ll_advice *a, const ll_maps *sample, uint64_t addr, uint64_t size,
                     ll_verdict *out)
{
    char sz[32], b2[32];
    uint64_t end = addr + size;
    memset(out, 0, sizeof *out);
    ll_size_format(size, sz, sizeof sz);
    if (addr % a->kernel.page_size) {
        snprintf(out->why, sizeof out->why, "0x%llx is not a multiple of the page size (%s)",
                 (unsigned long long)addr, ll_size_format(a->kernel.page_size, b2, sizeof b2));
        return;
    }
    if (end < addr || end > a->task_size) {
        snprintf(out->why, sizeof out->why,
                 "0x%llx + %s ends beyond the top of the user address space that mmap uses "
                 "(0x%llx, %u bits): it does not exist for this process",
                 (unsigned long long)addr, sz, (unsigned long long)a->task_size, a->kernel.va_bits);
        return;
    }
    const ll_region *r = sample ? ll_maps_overlap_find(sample, addr, end) : NULL;
    if (r) {
        snprintf(out->why, sizeof out->why, "0x%llx-0x%llx %s %s is mapped there now (%s chunk)",
                 (unsigned long long)r->start, (unsigned long long)r->end, r->perms,
                 r->path[0] ? r->path : "[anonymous]", ll_chunk_name_get(r->chunk));
        return;
    }
    for (size_t z = 0; z < a->zone_count; z++) {
        const ll_zone *zn = &a->zones[z];
        if (addr < zn->end && end > zn->start) {
            snprintf(out->why, sizeof out->why,
                     "it overlaps 0x%llx-0x%llx, where the kernel may place the %s (%s)",
                     (unsigned long long)zn->start, (unsigned long long)zn->end, zn->what,
                     zn->when);
            return;
        }
    }
    for (size_t i = 0; i < a->safe_count; i++) {
        const ll_range *s = &a->safe[i];
        if (addr >= s->start && end <= s->end) {
            out->safe = 1;
            snprintf(out->why, sizeof out->why,
                     "0x%llx-0x%llx lies in the safe interval 0x%llx-0x%llx (%s), free under every "
                     "layout the model allows%s",
                     (unsigned long long)addr, (unsigned long long)end,
                     (unsigned long long)s->start, (unsigned long long)s->end,
                     ll_size_format(s->end - s->start, b2, sizeof b2),
                     end > (1ull << 39) ? "; it would not exist on a 39-bit kernel (arm64)" : "");
            return;
        }
    }
    snprintf(out->why, sizeof out->why, "0x%llx + %s is outside every safe interval",
             (unsigned long long)addr, sz);
}
