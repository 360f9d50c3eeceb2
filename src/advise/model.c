/* model.c - the ASLR model and the choice of a base.
 *
 * Where the kernel may put things, per launch (x86_64 rules, verified by
 * sampled launches on Linux 6.18; arm64 follows the generic mm code):
 * - a PIE executable at ELF_ET_DYN_BASE (2/3 of the window) plus up to
 *   2^mmap_rnd_bits pages; a non-PIE one at its link address;
 * - the brk heap up to 1 GiB after the executable (32 MiB on older
 *   kernels: the larger range covers both);
 * - the mmap area (libraries, the loader, thread stacks, big mallocs)
 *   grows down from TASK_SIZE - clamp(rlimit + guard + stack randomness,
 *   128 MiB, 5/6) - random; with an unlimited stack rlimit x86 still grows
 *   down, from 1/6 of the window; the legacy layout (setarch -L,
 *   vm.legacy_va_layout=1, and arm64's unlimited stack) grows up from
 *   TASK_UNMAPPED_BASE + random.
 * The block goes in what no layout can reach. Only sizes the samples show
 * (rounded up to powers of two) feed the model, never where ASLR put
 * things, so the same executable gets the same answer on every run. */
#include "advise/advise.h"
#include "base/base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void advise_consts_of(const ll_kernel *k, advise_consts *c)
{
    uint64_t page = k->page_size ? k->page_size : 4096;
    unsigned bits = k->va_bits ? k->va_bits : 47;
    c->task_size = (1ull << bits) - page;
    int rnd = k->mmap_rnd_bits > 0 && k->mmap_rnd_bits < 40 ? k->mmap_rnd_bits : 28;
    c->aslr = (1ull << rnd) * page;
    c->stack_rnd = (k->aarch64 ? (1ull << 18) : (1ull << 22)) * page;
    c->brk_rnd = LL_GIB;
    /* ELF_ET_DYN_BASE: x86 takes 2/3 of TASK_SIZE - page, arm64 of 2^bits. */
    c->dyn_base = ll_align_down((k->aarch64 ? c->task_size + page : c->task_size) / 3 * 2, page);
    c->legacy_base = ll_align_up(c->task_size / (k->aarch64 ? 4 : 3), page);
    c->gap_min = 128 * LL_MIB;
    c->gap_max = c->task_size / 6 * 5;
}

static uint64_t pow2_ceil(uint64_t x)
{
    uint64_t p = 1;
    while (p < x && p < (1ull << 62)) p <<= 1;
    return p;
}

static void add_zone(ll_advice *a, uint64_t start, uint64_t end, const char *what, const char *when)
{
    /* Only the address space counts: what a file says lies above it (an
     * executable "mapped" there) can never bound a gap past its end. */
    if (a->zone_count >= LL_ADVISE_MAX_ZONES || end <= start || start >= a->task_size) return;
    ll_zone *z = &a->zones[a->zone_count++];
    uint64_t page = a->kernel.page_size;
    z->start = ll_align_down(start, page);
    z->end = end < a->task_size ? ll_align_up(end, page) : a->task_size;
    snprintf(z->what, sizeof z->what, "%s", what);
    snprintf(z->when, sizeof z->when, "%s", when);
}

static uint64_t sub_floor(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* Without a readable ELF file, the addresses tell the type apart: an
 * ET_EXEC sits at its link address far below every randomized base. */
static void guess_exe(const ll_maps *m, const advise_consts *c, ll_exe *exe)
{
    memset(exe, 0, sizeof *exe);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        if (r->chunk != LL_CHUNK_APP || r->path[0] != '/') continue;
        if (r->start < lo) lo = r->start;
        if (r->end > hi) hi = r->end;
    }
    if (hi == 0) return;
    exe->lo = lo;
    exe->hi = hi;
    exe->span = hi - lo;
    if (lo < c->legacy_base / 2)
        exe->type = LL_EXE_FIXED;
    else if (lo >= c->dyn_base && lo < c->dyn_base + c->aslr)
        exe->type = LL_EXE_PIE;
    else
        exe->type = LL_EXE_STATIC_PIE;
}

static int inside_zone(const ll_advice *a, uint64_t start, uint64_t end)
{
    for (size_t z = 0; z < a->zone_count; z++)
        if (start >= a->zones[z].start && end <= a->zones[z].end) return 1;
    return 0;
}

/* What the mmap area and the heap hold. Only regions inside the zones (as
 * drawn with the smallest allowances) count: a sanitizer's 16 TiB shadow
 * is a fixed mapping, not library growth. */
static void usage_of(const ll_advice *a, const ll_maps *m, uint64_t *lib, uint64_t *heap)
{
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        uint64_t n = r->end - r->start;
        if (!inside_zone(a, r->start, r->end)) continue;
        if (r->chunk == LL_CHUNK_LIB || r->chunk == LL_CHUNK_KERNEL) *lib += n;
        if (!strcmp(r->path, "[heap]") && n > *heap) *heap = n;
    }
}

static int cmp_range(const void *x, const void *y)
{
    const ll_range *a = x, *b = y;
    return (a->start > b->start) - (a->start < b->start);
}

/* Merges sorted ranges closer than join, then the closest neighbours until
 * at most cap remain. Returns the new count. */
static size_t coarsen(ll_range *r, size_t n, uint64_t join, size_t cap)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && r[i].start <= r[m - 1].end + join) {
            if (r[i].end > r[m - 1].end) r[m - 1].end = r[i].end;
        } else {
            r[m++] = r[i];
        }
    }
    while (m > cap) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < m; i++)
            if (r[i + 1].start - r[i].end < r[best + 1].start - r[best].end) best = i;
        if (r[best + 1].end > r[best].end) r[best].end = r[best + 1].end;
        memmove(&r[best + 1], &r[best + 2], (m - best - 2) * sizeof *r);
        m--;
    }
    return m;
}

/* Mappings the model does not explain (fixed addresses: an ASan shadow, a
 * block reserved earlier) are kept out of the answer as they are. */
static int add_observed(ll_advice *a, const ll_maps *const *samples, size_t count)
{
    size_t n = 0, cap = 0;
    ll_range *r = NULL;
    for (size_t s = 0; s < count; s++) {
        for (size_t i = 0; i < samples[s]->count; i++) {
            const ll_region *g = &samples[s]->regions[i];
            if (g->start >= a->task_size || inside_zone(a, g->start, g->end)) continue;
            if (n == cap) {
                ll_range *nr = realloc(r, (cap = cap ? cap * 2 : 64) * sizeof *r);
                if (!nr) {
                    free(r);
                    return -1;
                }
                r = nr;
            }
            r[n++] = (ll_range){g->start, g->end};
        }
    }
    if (n) qsort(r, n, sizeof *r, cmp_range);
    n = coarsen(r, n, LL_GIB, LL_ADVISE_MAX_ZONES - a->zone_count);
    for (size_t k = 0; k < n; k++)
        add_zone(a, r[k].start, r[k].end, "mappings the model does not explain (fixed)",
                 "seen in the samples");
    free(r);
    return 0;
}

static void model_zones(ll_advice *a, const advise_consts *c, const ll_exe *exe)
{
    const ll_kernel *k = &a->kernel;
    uint64_t page = k->page_size;
    char when[96], lim[32];
    add_zone(a, 0, k->mmap_min_addr > page ? k->mmap_min_addr : page, "below vm.mmap_min_addr",
             "always");
    uint64_t heap = c->brk_rnd + a->heap_allow;
    switch (exe->type) {
    case LL_EXE_FIXED:
        add_zone(a, exe->lo, exe->hi + heap, "executable at its link address, then the brk heap",
                 "every launch");
        break;
    case LL_EXE_STATIC_PIE:
        add_zone(a, c->dyn_base, c->dyn_base + heap, "brk heap of a static PIE", "every launch");
        break;
    default: /* PIE, and unknown: assume PIE */
        add_zone(a, c->dyn_base, c->dyn_base + c->aslr + ll_align_up(exe->span, LL_GIB) + heap,
                 "PIE executable (+ ASLR), then the brk heap", "every launch");
        break;
    }
    uint64_t below = c->aslr + a->lib_allow + (exe->type == LL_EXE_STATIC_PIE ? exe->span : 0);
    uint64_t gap = a->stack_limit_max + 256 * page + c->stack_rnd;
    gap = gap < c->gap_min ? c->gap_min : gap > c->gap_max ? c->gap_max : gap;
    snprintf(when, sizeof when, "default layout, stack rlimit up to %s",
             ll_size_format(a->stack_limit_max, lim, sizeof lim));
    add_zone(a, sub_floor(c->task_size - gap, below), c->task_size,
             "mmap area (libraries, thread stacks) and the stack", when);
    uint64_t legacy_hi = c->legacy_base + c->aslr + a->lib_allow;
    if (k->aarch64) {
        add_zone(a, c->legacy_base, legacy_hi, "mmap area growing up (legacy layout)",
                 "stack rlimit unlimited, setarch -L or vm.legacy_va_layout=1");
    } else {
        uint64_t top = c->task_size - c->gap_max;
        add_zone(a, sub_floor(top, below), top + page, "mmap area growing down from 1/6",
                 "stack rlimit unlimited: ulimit -s unlimited");
        add_zone(a, c->legacy_base, legacy_hi, "mmap area growing up (legacy layout)",
                 "setarch -L or vm.legacy_va_layout=1");
    }
}

static int cmp_zone(const void *x, const void *y)
{
    const ll_zone *a = x, *b = y;
    return (a->start > b->start) - (a->start < b->start);
}

static void safe_intervals(ll_advice *a)
{
    qsort(a->zones, a->zone_count, sizeof *a->zones, cmp_zone);
    uint64_t at = 0;
    a->safe_count = 0;
    for (size_t z = 0; z <= a->zone_count; z++) {
        uint64_t s = z < a->zone_count && a->zones[z].start < a->task_size ? a->zones[z].start
                                                                           : a->task_size;
        if (s > at && a->safe_count < LL_ADVISE_MAX_ZONES)
            a->safe[a->safe_count++] = (ll_range){at, s};
        if (z < a->zone_count && a->zones[z].end > at) at = a->zones[z].end;
    }
}

static int fits(const ll_advice *a, ll_range r)
{
    uint64_t s = ll_align_up(r.start, a->align);
    return s >= r.start && s < r.end && r.end - s >= a->size;
}

/* Where the mmap area is: the vdso (placed like a library in every layout),
 * else the first shared object; 0 when there is neither. Anonymous
 * mappings do not count: they may sit at fixed addresses. */
static uint64_t lib_anchor(const ll_maps *m)
{
    uint64_t first = 0;
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        if (!strcmp(r->path, "[vdso]")) return r->start;
        if (!first && r->chunk == LL_CHUNK_LIB && r->path[0] == '/') first = r->start;
    }
    return first;
}

/* The seed's gap: next to the application chunk, on the side where the
 * samples' libraries are; else the largest interval that fits. */
static int choose_gap(ll_advice *a, const ll_maps *m)
{
    const ll_zone *app = NULL;
    for (size_t z = 0; z < a->zone_count; z++)
        if (!strcmp(a->zones[z].when, "every launch")) app = &a->zones[z];
    ll_span as = ll_maps_span_get(m, LL_CHUNK_APP);
    uint64_t lib = lib_anchor(m);
    int libs_above = !lib || !as.count || lib > as.lo;
    long pick = -1;
    for (size_t i = 0; app && i < a->safe_count; i++) {
        if (libs_above && a->safe[i].start >= app->end && pick < 0) pick = (long)i;
        if (!libs_above && a->safe[i].end <= app->start) pick = (long)i;
    }
    if (pick >= 0 && fits(a, a->safe[pick])) {
        a->app_below = libs_above;
    } else {
        pick = -1;
        for (size_t i = 0; i < a->safe_count; i++)
            if (fits(a, a->safe[i]) && (pick < 0 || a->safe[i].end - a->safe[i].start >
                                                        a->safe[pick].end - a->safe[pick].start))
                pick = (long)i;
        if (pick < 0) return -1;
        a->app_below = !app || a->safe[pick].start >= app->end;
    }
    a->gap = a->safe[pick];
    return 0;
}

static void place(ll_advice *a)
{
    uint64_t lo = ll_align_up(a->gap.start, a->align);
    uint64_t room = a->gap.end - lo - a->size;
    uint64_t step = (uint64_t)floor(a->bias * (double)room);
    if (step > room) step = room;
    a->base = a->app_below ? ll_align_down(lo + step, a->align)
                           : ll_align_down(a->gap.end - a->size - step, a->align);
    if (a->base < lo) a->base = lo;
}

static int check_params(const ll_advise_params *p, const ll_kernel *k, ll_advice *a, ll_error *err)
{
    char b1[32];
    a->size = p->size ? ll_align_up(p->size, k->page_size) : LL_GIB;
    if (a->size < p->size) /* rounding up to a page wrapped past 2^64 */
        return ll_fail(err, EINVAL, "size %llu B is larger than any address space (try: --size 1G)",
                       (unsigned long long)p->size);
    a->align = p->align ? p->align : 2 * LL_MIB;
    if (!ll_is_pow2(a->align))
        return ll_fail(err, EINVAL, "alignment %llu is not a power of two (try: --align 2M)",
                       (unsigned long long)a->align);
    if (a->align < k->page_size)
        return ll_fail(err, EINVAL,
                       "alignment %s is smaller than the page size %s (try: --align page)",
                       ll_size_format(a->align, b1, sizeof b1),
                       ll_size_format(k->page_size, (char[32]){0}, 32));
    a->bias = p->bias_set ? p->bias : 0.5;
    if (!(a->bias >= 0 && a->bias <= 1))
        return ll_fail(err, EINVAL, "bias %g is outside 0.0..1.0 (try: --bias balanced)", a->bias);
    return 0;
}

static void layouts_seen(ll_advice *a, const ll_maps *const *samples, size_t count)
{
    a->layouts[0] = 0;
    for (size_t s = 0; s < count; s++) {
        const char *l = advise_layout_of(a, samples[s]);
        if (strstr(a->layouts, l)) continue;
        size_t n = strlen(a->layouts);
        snprintf(a->layouts + n, sizeof a->layouts - n, "%s%s", n ? ", " : "", l);
    }
}

int ll_maps_advise_(const ll_maps *const *samples, size_t count, ll_advice *out, ll_error *err,
                    const ll_advise_params *p)
{
    memset(out, 0, sizeof *out);
    if (!count) return ll_fail(err, EINVAL, "no address space to advise on");
    if (p->kernel)
        out->kernel = *p->kernel;
    else if (ll_kernel_read(&out->kernel, err) != 0)
        return -1;
    if (!out->kernel.page_size) out->kernel.page_size = ll_page_size_get();
    if (check_params(p, &out->kernel, out, err) != 0) return -1;
    advise_consts c;
    advise_consts_of(&out->kernel, &c);
    out->task_size = c.task_size;
    out->samples = count;
    out->exe_path = samples[0]->exe;
    if (p->exe)
        out->exe = *p->exe;
    else if (!out->exe_path || ll_exe_read(out->exe_path, &out->exe, NULL) != 0)
        guess_exe(samples[0], &c, &out->exe);
    uint64_t cur = out->kernel.stack_rlimit;
    out->stack_limit_max = p->stack_limit_max                      ? p->stack_limit_max
                           : cur != UINT64_MAX && cur > 4 * LL_GIB ? cur
                                                                   : 4 * LL_GIB;
    uint64_t lib = 0, heap = 0, floor_allow = c.task_size >> 11;
    out->lib_allow = out->heap_allow = floor_allow;
    model_zones(out, &c, &out->exe);
    for (size_t s = 0; s < count; s++) usage_of(out, samples[s], &lib, &heap);
    out->lib_allow = pow2_ceil(4 * lib) > floor_allow ? pow2_ceil(4 * lib) : floor_allow;
    out->heap_allow = pow2_ceil(4 * heap) > floor_allow ? pow2_ceil(4 * heap) : floor_allow;
    out->zone_count = 0;
    model_zones(out, &c, &out->exe);
    if (add_observed(out, samples, count) != 0) return ll_fail(err, ENOMEM, "out of memory");
    safe_intervals(out);
    layouts_seen(out, samples, count);
    if (choose_gap(out, samples[0]) != 0) {
        ll_range big = {0, 0};
        for (size_t i = 0; i < out->safe_count; i++)
            if (out->safe[i].end - out->safe[i].start > big.end - big.start) big = out->safe[i];
        char want[32], have[32], arg[32];
        uint64_t room = big.end - big.start;
        unsigned shift = 40;
        while (shift && room >> shift == 0) shift -= 10;
        snprintf(arg, sizeof arg, "%llu%s", (unsigned long long)(room >> shift),
                 shift == 40   ? "T"
                 : shift == 30 ? "G"
                 : shift == 20 ? "M"
                 : shift       ? "K"
                               : "");
        return ll_fail(err, ENOSPC,
                       "no safe gap holds %s: the largest is %s at 0x%llx-0x%llx (try: --size %s "
                       "or less)",
                       ll_size_format(out->size, want, sizeof want),
                       ll_size_format(room, have, sizeof have), (unsigned long long)big.start,
                       (unsigned long long)big.end, arg);
    }
    place(out);
    return 0;
}

const char *advise_layout_of(const ll_advice *a, const ll_maps *sample)
{
    advise_consts c;
    advise_consts_of(&a->kernel, &c);
    uint64_t lib = lib_anchor(sample);
    if (!lib) return "none";
    if (lib >= c.task_size / 2) return "top-down";
    if (lib >= c.legacy_base) return "legacy bottom-up";
    return a->kernel.aarch64 ? "legacy bottom-up" : "top-down from 1/6 (stack rlimit unlimited)";
}

int ll_base_advise(uint64_t size, uint64_t *base, ll_error *err)
{
    ll_maps self;
    if (ll_maps_read_pid(0, &self, err) != 0) return -1;
    const ll_maps *one = &self;
    ll_advice *a = malloc(sizeof *a);
    if (!a) {
        ll_maps_free(&self);
        return ll_fail(err, ENOMEM, "out of memory");
    }
    int rc = ll_maps_advise(&one, 1, a, err, .size = size);
    if (rc == 0) *base = a->base;
    free(a);
    ll_maps_free(&self);
    return rc;
}
