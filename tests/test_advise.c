/* test_advise.c - the ASLR model checked against launches on this kernel,
 * the choice of a base, --check verdicts and every advise error. */
#include <criterion/criterion.h>
#include <elf.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "advise/advise.h"
#include "base/base.h"
#include "cli/cli.h"

/* The helpers live beside this test binary (build/tests or build-asan/tests). */
static const char *helper(const char *name)
{
    static char path[4096];
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(n, 0);
    self[n] = 0;
    snprintf(path, sizeof path, "%s/%s", dirname(self), name);
    cr_assert_eq(access(path, X_OK), 0, "%s is missing: run make build-tests", path);
    return path;
}

/* Launches cmd (through sh) and parses the maps the probe prints. */
static void launch(const char *cmd, ll_maps *m)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, p);
    cr_assert_eq(pclose(p), 0, "%s failed", cmd);
    ll_error err;
    cr_assert_eq(ll_maps_parse(buf, n, m, &err), 0, "%s", err.msg);
}

typedef struct facts {
    uint64_t exe_lo, exe_hi, heap, mmap_lo, mmap_hi, stack_hi;
} facts;

static facts facts_of(const ll_maps *m)
{
    facts f = {.exe_lo = UINT64_MAX, .mmap_lo = UINT64_MAX};
    for (size_t i = 0; i < m->count; i++) {
        const ll_region *r = &m->regions[i];
        if (r->start >= (1ull << 47)) continue; /* [vsyscall] */
        if (r->path[0] == '/' && !strcmp(r->path, m->exe)) {
            if (r->start < f.exe_lo) f.exe_lo = r->start;
            f.exe_hi = r->end;
        } else if (!strcmp(r->path, "[heap]")) {
            f.heap = r->start;
        } else if (!strcmp(r->path, "[stack]")) {
            f.stack_hi = r->end;
        }
        if (r->chunk == LL_CHUNK_LIB || r->chunk == LL_CHUNK_KERNEL) {
            if (r->start < f.mmap_lo) f.mmap_lo = r->start;
            if (r->end > f.mmap_hi) f.mmap_hi = r->end;
        }
    }
    return f;
}

enum { LAYOUT_DEFAULT, LAYOUT_UNLIMITED, LAYOUT_LEGACY, LAYOUT_NORANDOM };

static const char *wrap[] = {"", "ulimit -s unlimited; ", "setarch -L ", "setarch -R "};

/* Every observed address against the kernel's rules as the model states
 * them (advise_consts), and every region inside a zone of the model. */
static void verify(const char *probe, ll_exe_type type, int layout, int launches)
{
    ll_kernel k;
    cr_assert_eq(ll_kernel_read(&k, NULL), 0);
    k.stack_rlimit = 8 * LL_MIB;
    advise_consts c;
    advise_consts_of(&k, &c);
    uint64_t page = k.page_size, slack = 64 * LL_MIB; /* what the loader maps */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s%s", wrap[layout], helper(probe));
    for (int i = 0; i < launches; i++) {
        ll_maps m;
        launch(cmd, &m);
        facts f = facts_of(&m);
        ll_exe exe;
        cr_assert_eq(ll_exe_read(m.exe, &exe, NULL), 0);
        cr_assert_eq(exe.type, type);
        if (type == LL_EXE_FIXED) cr_assert_eq(f.exe_lo, exe.lo);
        if (type == LL_EXE_PIE) {
            cr_assert_geq(f.exe_lo, c.dyn_base, "%s: PIE at 0x%lx", cmd, f.exe_lo);
            cr_assert_lt(f.exe_lo, c.dyn_base + c.aslr, "%s: PIE at 0x%lx", cmd, f.exe_lo);
        }
        if (f.heap) {
            /* The brk starts after the image's end, bss included: an
             * anonymous bss tail (static binaries) lies past the file. */
            uint64_t image_end = f.exe_lo + exe.span > f.exe_hi ? f.exe_lo + exe.span : f.exe_hi;
            uint64_t after = type == LL_EXE_STATIC_PIE ? c.dyn_base : image_end;
            cr_assert_geq(f.heap, after, "%s: heap 0x%lx", cmd, f.heap);
            cr_assert_lt(f.heap, after + c.brk_rnd + page, "%s: heap 0x%lx after 0x%lx", cmd,
                         f.heap, after);
            if (layout == LAYOUT_NORANDOM) cr_assert_eq(f.heap, ll_align_up(after, page));
        }
        cr_assert_gt(f.stack_hi, c.task_size - c.stack_rnd - page);
        cr_assert_leq(f.stack_hi, c.task_size);
        uint64_t top, bottom;
        if (layout == LAYOUT_LEGACY) {
            bottom = c.legacy_base;
            top = c.legacy_base + c.aslr + slack;
        } else {
            /* Without randomization the stack's random pad is 0 too. */
            uint64_t gap = layout == LAYOUT_UNLIMITED  ? c.gap_max
                           : layout == LAYOUT_NORANDOM ? k.stack_rlimit + 256 * page
                                                       : k.stack_rlimit + 256 * page + c.stack_rnd;
            gap = gap < c.gap_min ? c.gap_min : gap;
            top = c.task_size - gap + page;
            bottom = c.task_size - gap - c.aslr - slack;
            if (layout == LAYOUT_NORANDOM) cr_assert_geq(f.mmap_hi, top - slack);
        }
        cr_assert_geq(f.mmap_lo, bottom, "%s: mmap area at 0x%lx, below 0x%lx", cmd, f.mmap_lo,
                      bottom);
        cr_assert_leq(f.mmap_hi, top, "%s: mmap area ends 0x%lx, above 0x%lx", cmd, f.mmap_hi, top);
        /* And the zones as ll_maps_advise states them cover every region. */
        const ll_maps *one = &m;
        ll_advice a;
        cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
        for (size_t r = 0; r < m.count; r++) {
            const ll_region *g = &m.regions[r];
            if (g->start >= a.task_size) continue;
            int in = 0;
            for (size_t z = 0; z < a.zone_count && !in; z++)
                in = strcmp(a.zones[z].when, "seen in the samples") != 0 &&
                     g->start >= a.zones[z].start && g->end <= a.zones[z].end;
            cr_assert(in, "%s: 0x%lx-0x%lx %s is outside every zone of the model", cmd, g->start,
                      g->end, g->path);
        }
        ll_maps_free(&m);
    }
}

#define LAUNCHES 100
Test(advise, model_pie_default)
{
    verify("addr_probe_pie", LL_EXE_PIE, LAYOUT_DEFAULT, LAUNCHES);
}
Test(advise, model_pie_unlimited)
{
    verify("addr_probe_pie", LL_EXE_PIE, LAYOUT_UNLIMITED, LAUNCHES);
}
Test(advise, model_pie_legacy)
{
    verify("addr_probe_pie", LL_EXE_PIE, LAYOUT_LEGACY, LAUNCHES);
}
Test(advise, model_pie_norandom)
{
    verify("addr_probe_pie", LL_EXE_PIE, LAYOUT_NORANDOM, 2);
}
Test(advise, model_nopie_default)
{
    verify("addr_probe_nopie", LL_EXE_FIXED, LAYOUT_DEFAULT, LAUNCHES);
}
Test(advise, model_nopie_unlimited)
{
    verify("addr_probe_nopie", LL_EXE_FIXED, LAYOUT_UNLIMITED, LAUNCHES);
}
Test(advise, model_nopie_legacy)
{
    verify("addr_probe_nopie", LL_EXE_FIXED, LAYOUT_LEGACY, LAUNCHES);
}
Test(advise, model_nopie_norandom)
{
    verify("addr_probe_nopie", LL_EXE_FIXED, LAYOUT_NORANDOM, 2);
}
Test(advise, model_static)
{
    verify("addr_probe_static", LL_EXE_FIXED, LAYOUT_DEFAULT, LAUNCHES);
}
Test(advise, model_static_pie)
{
    verify("addr_probe_spie", LL_EXE_STATIC_PIE, LAYOUT_DEFAULT, LAUNCHES);
}
Test(advise, model_static_pie_unlimited)
{
    verify("addr_probe_spie", LL_EXE_STATIC_PIE, LAYOUT_UNLIMITED, LAUNCHES);
}
Test(advise, model_static_pie_legacy)
{
    verify("addr_probe_spie", LL_EXE_STATIC_PIE, LAYOUT_LEGACY, LAUNCHES);
}

static ll_kernel x86_kernel(void)
{
    return (ll_kernel){.randomize_va_space = 2,
                       .mmap_rnd_bits = 28,
                       .mmap_min_addr = 65536,
                       .page_size = 4096,
                       .va_bits = 47,
                       .stack_rlimit = 8 * LL_MIB};
}

static void sample(const char *name, ll_maps *m)
{
    char path[256];
    snprintf(path, sizeof path, "tests/data/maps/%s.maps", name);
    cr_assert_eq(ll_maps_read_file(path, m, NULL), 0);
}

Test(advise, samples_get_a_safe_stable_base)
{
    static const char *names[] = {"bash", "nopie-threads", "pie-threads", "python3", "static"};
    ll_kernel k = x86_kernel();
    for (size_t i = 0; i < LL_ARRAY_COUNT(names); i++) {
        ll_maps m;
        sample(names[i], &m);
        const ll_maps *one = &m;
        ll_advice a;
        ll_error err;
        cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .size = 4 * LL_GIB), 0, "%s",
                     err.msg);
        cr_assert_eq(a.base % (2 * LL_MIB), 0);
        cr_assert_geq(a.base, a.gap.start);
        cr_assert_leq(a.base + a.size, a.gap.end);
        cr_assert_eq(ll_maps_overlap_find(&m, a.base, a.base + a.size), NULL, "%s", names[i]);
        for (size_t z = 0; z < a.zone_count; z++)
            cr_assert(a.base + a.size <= a.zones[z].start || a.base >= a.zones[z].end);
        ll_verdict v;
        ll_advice_check(&a, &m, a.base, a.size, &v);
        cr_assert(v.safe, "%s", v.why);
        cr_assert_str_eq(a.layouts, "top-down");
        ll_maps_free(&m);
    }
    /* PIE samples from different launches (ASLR moved everything) agree. */
    ll_maps p, q;
    sample("pie-threads", &p);
    sample("bash", &q);
    const ll_maps *one = &p, *two = &q;
    ll_advice a, b;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
    cr_assert_eq(ll_maps_advise(&two, 1, &b, NULL, .kernel = &k), 0);
    cr_assert_eq(a.exe.type, LL_EXE_PIE);
    cr_assert_eq(a.exe.from_header, 0); /* /srv/game does not exist here */
    cr_assert_eq(a.base, b.base);
    ll_maps_free(&p);
    ll_maps_free(&q);
}

Test(advise, nopie_block_sits_between_app_and_libs)
{
    ll_kernel k = x86_kernel();
    ll_maps m;
    sample("nopie-threads", &m);
    const ll_maps *one = &m;
    ll_advice a;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
    cr_assert_eq(a.exe.type, LL_EXE_FIXED);
    cr_assert(a.app_below);
    ll_span app = ll_maps_span_get(&m, LL_CHUNK_APP), lib = ll_maps_span_get(&m, LL_CHUNK_LIB);
    cr_assert_gt(a.base, app.hi);
    cr_assert_lt(a.base, lib.lo);
    /* Below 1/6 of the space, where no layout reaches for an ET_EXEC. */
    cr_assert_lt(a.base + a.size, a.task_size / 6 - (1ull << 40));
    ll_maps_free(&m);
}

Test(advise, bias_moves_the_block_through_the_gap)
{
    ll_kernel k = x86_kernel();
    ll_maps m;
    sample("pie-threads", &m);
    const ll_maps *one = &m;
    ll_advice lo, mid, hi;
    cr_assert_eq(ll_maps_advise(&one, 1, &lo, NULL, .kernel = &k, .bias = 0, .bias_set = 1), 0);
    cr_assert_eq(ll_maps_advise(&one, 1, &mid, NULL, .kernel = &k), 0);
    cr_assert_eq(ll_maps_advise(&one, 1, &hi, NULL, .kernel = &k, .bias = 1, .bias_set = 1), 0);
    cr_assert_eq(lo.base, ll_align_up(lo.gap.start, lo.align));
    cr_assert_lt(lo.base, mid.base);
    cr_assert_lt(mid.base, hi.base);
    cr_assert_leq(hi.base + hi.size, hi.gap.end);
    cr_assert_gt(hi.base + hi.size + hi.align, hi.gap.end);
    ll_advice page;
    cr_assert_eq(ll_maps_advise(&one, 1, &page, NULL, .kernel = &k, .align = 4096, .size = 5000),
                 0);
    cr_assert_eq(page.size, 8192);
    cr_assert_eq(page.base % 4096, 0);
    ll_maps_free(&m);
}

Test(advise, libs_below_the_app_put_the_block_below)
{
    /* A PIE launched with ulimit -s unlimited: libraries at 0x14.., below. */
    ll_maps m;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ulimit -s unlimited; %s", helper("addr_probe_pie"));
    launch(cmd, &m);
    const ll_maps *one = &m;
    ll_advice a;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL), 0);
    cr_assert_str_eq(a.layouts, "top-down from 1/6 (stack rlimit unlimited)");
    cr_assert_eq(a.app_below, 0);
    cr_assert_lt(a.base, 0x555555554000ull);
    cr_assert_gt(a.base, a.task_size / 3);
    ll_maps_free(&m);
    snprintf(cmd, sizeof cmd, "setarch -L %s", helper("addr_probe_pie"));
    launch(cmd, &m);
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL), 0);
    cr_assert_str_eq(a.layouts, "legacy bottom-up");
    ll_maps_free(&m);
}

Test(advise, check_llce_and_bad_addresses)
{
    ll_kernel k = x86_kernel();
    ll_maps m;
    sample("pie-threads", &m);
    const ll_maps *one = &m;
    ll_advice a;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
    ll_verdict v;
    ll_advice_check(&a, &m, 0x100000000000ull, LL_GIB, &v); /* llce */
    cr_assert(v.safe, "%s", v.why);
    cr_assert(strstr(v.why, "would not exist on a 39-bit kernel"), "%s", v.why);
    ll_advice_check(&a, &m, 2 * LL_TIB, LL_GIB, &v); /* Handmade Hero */
    cr_assert(v.safe, "%s", v.why);
    ll_advice_check(&a, &m, 0x150000000000ull, LL_GIB, &v);
    cr_assert_not(v.safe);
    cr_assert(strstr(v.why, "stack rlimit unlimited"), "%s", v.why);
    ll_advice_check(&a, &m, 0x2b0000000000ull, LL_GIB, &v);
    cr_assert(strstr(v.why, "legacy layout"), "%s", v.why);
    ll_advice_check(&a, &m, m.regions[1].start, 4096, &v); /* the executable's code */
    cr_assert(strstr(v.why, "many_pie is mapped there now (app chunk)"), "%s", v.why);
    ll_advice_check(&a, &m, 0x560000000000ull, LL_GIB, &v);
    cr_assert(strstr(v.why, "PIE executable"), "%s", v.why);
    ll_advice_check(&a, &m, 0x7f0000000000ull, LL_GIB, &v);
    cr_assert(strstr(v.why, "default layout, stack rlimit up to 4 GiB"), "%s", v.why);
    ll_advice_check(&a, &m, 0x100000000123ull, LL_GIB, &v);
    cr_assert(strstr(v.why, "is not a multiple of the page size"), "%s", v.why);
    ll_advice_check(&a, &m, 0x800000000000ull, LL_GIB, &v);
    cr_assert(strstr(v.why, "beyond the top of the user address space"), "%s", v.why);
    ll_advice_check(&a, &m, 0x1000, LL_GIB, &v);
    cr_assert_not(v.safe);
    cr_assert(strstr(v.why, "below vm.mmap_min_addr"), "%s", v.why);
    ll_maps_free(&m);
}

Test(advise, errors)
{
    ll_kernel k = x86_kernel();
    ll_maps m;
    sample("bash", &m);
    const ll_maps *one = &m;
    ll_advice a;
    ll_error err;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .size = 100 * LL_TIB), -1);
    cr_assert(strstr(err.msg, "no safe gap holds 100 TiB: the largest is "), "%s", err.msg);
    cr_assert(strstr(err.msg, "(try: --size "), "%s", err.msg);
    cr_assert_eq(err.code, ENOSPC);
    /* A size that wraps past 2^64 when rounded up to a page is no 0-byte block. */
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .size = UINT64_MAX - 100), -1);
    cr_assert_str_eq(err.msg, "size 18446744073709551515 B is larger than any address space "
                              "(try: --size 1G)");
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .align = 3 * LL_MIB), -1);
    cr_assert_str_eq(err.msg, "alignment 3145728 is not a power of two (try: --align 2M)");
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .align = 1024), -1);
    cr_assert_str_eq(err.msg,
                     "alignment 1 KiB is smaller than the page size 4 KiB (try: --align page)");
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .bias = 1.5, .bias_set = 1), -1);
    cr_assert_str_eq(err.msg, "bias 1.5 is outside 0.0..1.0 (try: --bias balanced)");
    cr_assert_eq(ll_maps_advise(&one, 0, &a, &err, .kernel = &k), -1);
    cr_assert_str_eq(err.msg, "no address space to advise on");
    ll_maps_free(&m);
}

Test(advise, fixed_mappings_in_a_sample_are_avoided)
{
    ll_kernel k = x86_kernel();
    ll_maps m;
    sample("pie-threads", &m);
    const ll_maps *one = &m;
    ll_advice a;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
    uint64_t first = a.base;
    ll_maps_free(&m);
    /* The same layout plus a mapping at the answer: the answer moves. */
    char text[8192];
    FILE *f = fopen("tests/data/maps/pie-threads.maps", "r");
    size_t n = fread(text, 1, sizeof text - 200, f);
    fclose(f);
    n += (size_t)snprintf(text + n, sizeof text - n, "%llx-%llx rw-p 00000000 00:00 0 [anon:x]\n",
                          (unsigned long long)first, (unsigned long long)first + LL_MIB);
    cr_assert_eq(ll_maps_parse(text, n, &m, NULL), 0);
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
    cr_assert_neq(a.base, first);
    cr_assert_eq(ll_maps_overlap_find(&m, a.base, a.base + a.size), NULL);
    int seen = 0;
    for (size_t z = 0; z < a.zone_count; z++)
        seen |= !strcmp(a.zones[z].when, "seen in the samples");
    cr_assert(seen);
    ll_maps_free(&m);
}

Test(advise, advise_base_is_stable_and_reservable)
{
    uint64_t b1, b2;
    ll_error err;
    cr_assert_eq(ll_base_advise(64 * LL_MIB, &b1, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_base_advise(64 * LL_MIB, &b2, &err), 0, "%s", err.msg);
    cr_assert_eq(b1, b2);
    void *p = mmap((void *)(uintptr_t)b1, 64 * LL_MIB, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    cr_assert_eq(p, (void *)(uintptr_t)b1);
    /* With the block in place, a new answer steers clear of it. */
    cr_assert_eq(ll_base_advise(64 * LL_MIB, &b2, &err), 0, "%s", err.msg);
    cr_assert(b2 >= b1 + 64 * LL_MIB || b2 + 64 * LL_MIB <= b1);
    munmap(p, 64 * LL_MIB);
}

Test(advise, kernel_and_exe)
{
    ll_kernel k;
    cr_assert_eq(ll_kernel_read(&k, NULL), 0);
    cr_assert(k.va_bits == 47 || k.va_bits == 48 || k.va_bits == 39);
    cr_assert_eq(k.page_size, ll_page_size_get());
    cr_assert(k.randomize_va_space >= 0 && k.randomize_va_space <= 2);
    cr_assert_geq(k.mmap_rnd_bits, 8);
    ll_exe e;
    ll_error err;
    cr_assert_eq(ll_exe_read(helper("addr_probe_pie"), &e, &err), 0, "%s", err.msg);
    cr_assert_eq(e.type, LL_EXE_PIE);
    cr_assert_str_eq(ll_exe_type_name_get(e.type), "PIE");
    cr_assert_eq(ll_exe_read(helper("addr_probe_nopie"), &e, NULL), 0);
    cr_assert_eq(e.type, LL_EXE_FIXED);
    cr_assert_eq(e.lo, 0x400000);
    cr_assert_str_eq(ll_exe_type_name_get(e.type), "non-PIE (ET_EXEC)");
    cr_assert_eq(ll_exe_read(helper("addr_probe_spie"), &e, NULL), 0);
    cr_assert_eq(e.type, LL_EXE_STATIC_PIE);
    cr_assert_str_eq(ll_exe_type_name_get(LL_EXE_UNKNOWN), "unknown");
    cr_assert_eq(ll_exe_read("/nonexistent", &e, &err), -1);
    cr_assert_str_eq(err.msg, "cannot read executable '/nonexistent': No such file or directory");
    cr_assert_eq(ll_exe_read("tests/data/maps/bash.maps", &e, &err), -1);
    cr_assert_str_eq(err.msg, "'tests/data/maps/bash.maps' is not an ELF executable");
    cr_assert_eq(ll_exe_read("build/obj/src/maps/maps.o", &e, &err) == -1 ||
                     ll_exe_read("build-asan/obj/src/maps/maps.o", &e, &err) == -1,
                 1);
    cr_assert(strstr(err.msg, "is an ELF file but not an executable (e_type 1)"), "%s", err.msg);
}

Test(advise, va_bits_from_the_stack)
{
    const char t47[] = "7ffd00000000-7ffd00021000 rw-p 0 00:00 0 [stack]\n";
    const char t39[] = "7fd0000000-7fd0021000 rw-p 0 00:00 0 [stack]\n";
    const char t48[] = "ffffd0000000-ffffd0021000 rw-p 0 00:00 0 [stack]\n";
    ll_maps m;
    cr_assert_eq(ll_maps_parse(t47, sizeof t47 - 1, &m, NULL), 0);
    cr_assert_eq(ll_maps_va_bits_get(&m), 47);
    ll_maps_free(&m);
    cr_assert_eq(ll_maps_parse(t39, sizeof t39 - 1, &m, NULL), 0);
    cr_assert_eq(ll_maps_va_bits_get(&m), 39);
    ll_maps_free(&m);
    cr_assert_eq(ll_maps_parse(t48, sizeof t48 - 1, &m, NULL), 0);
    cr_assert_eq(ll_maps_va_bits_get(&m), 48);
    ll_maps_free(&m);
}

Test(advise, arm64_39_bit_model)
{
    /* A 39-bit arm64 kernel: 512 GiB, 18 random bits; 0x100000000000 does not exist. */
    ll_kernel k = {.randomize_va_space = 2,
                   .mmap_rnd_bits = 18,
                   .mmap_min_addr = 32768,
                   .page_size = 4096,
                   .va_bits = 39,
                   .aarch64 = 1,
                   .stack_rlimit = 8 * LL_MIB};
    const char text[] = "5555550000-5555551000 r-xp 0 08:01 5 /opt/game\n"
                        "7fb7f00000-7fb7f20000 r-xp 0 08:01 6 /lib/libc.so.6\n"
                        "7ffff00000-7ffff21000 rw-p 0 00:00 0 [stack]\n";
    ll_maps m;
    cr_assert_eq(ll_maps_parse(text, sizeof text - 1, &m, NULL), 0);
    const ll_maps *one = &m;
    ll_advice a;
    ll_exe pie = {.type = LL_EXE_PIE, .span = 4096};
    ll_error err;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k, .exe = &pie), 0, "%s", err.msg);
    cr_assert_eq(a.task_size, (1ull << 39) - 4096);
    cr_assert_lt(a.base + a.size, 1ull << 39);
    ll_verdict v;
    ll_advice_check(&a, &m, 0x100000000000ull, LL_GIB, &v);
    cr_assert_not(v.safe);
    cr_assert(strstr(v.why, "39 bits"), "%s", v.why);
    ll_maps_free(&m);
}

Test(advise, pictures)
{
    ll_kernel k = x86_kernel();
    ll_maps m;
    sample("pie-threads", &m);
    const ll_maps *one = &m;
    ll_advice a;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, NULL, .kernel = &k), 0);
    char *text = NULL, *svg = NULL;
    size_t tn = 0, sn = 0;
    FILE *f = open_memstream(&text, &tn);
    cli_draw_text(f, &a, &m, 120, 0);
    fclose(f);
    cr_assert(strstr(text, "0x0 |"), "%s", text);
    cr_assert(strstr(text, "#"), "%s", text);
    cr_assert(strstr(text, "BLOCK"), "%s", text);
    cr_assert(strstr(text, "LOOPLIVE_BASE"), "%s", text);
    cr_assert(strstr(text, "[stack]"), "%s", text);
    cr_assert(strstr(text, "may hold: PIE executable"), "%s", text);
    f = open_memstream(&svg, &sn);
    cr_assert_eq(cli_draw_svg(f, &a, &m), 0);
    fclose(f);
    cr_assert(!strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), "%s", svg);
    cr_assert(strstr(svg, "</svg>\n"));
    cr_assert(strstr(svg, "LOOPLIVE_BASE"));
    cr_assert_null(strstr(svg, "with space.bin&"));
    free(text);
    free(svg);
    ll_maps_free(&m);
}

/* Writes an ELF header (and phnum program headers of type ptype at phoff,
 * unless phoff is past what is written) to a fresh file; returns its path. */
static const char *fake_elf(int elf_class, int type, int phnum, uint64_t phoff, uint32_t ptype,
                            uint64_t vaddr, uint64_t memsz)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ll_fake_elf_XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    Elf64_Ehdr eh = {.e_type = (uint16_t)type,
                     .e_phoff = phoff,
                     .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = (uint16_t)phnum};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = (unsigned char)elf_class;
    cr_assert_eq(pwrite(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
    Elf64_Phdr ph = {.p_type = ptype, .p_vaddr = vaddr, .p_memsz = memsz};
    if (phoff == sizeof eh)
        for (int i = 0; i < phnum; i++)
            cr_assert_eq(pwrite(fd, &ph, sizeof ph, (off_t)(phoff + i * sizeof ph)),
                         (ssize_t)sizeof ph);
    close(fd);
    return path;
}

Test(advise, exe_read_refuses_broken_headers)
{
    ll_exe e;
    ll_error err;
    char want[256];
    const char *p = fake_elf(ELFCLASS32, ET_EXEC, 1, sizeof(Elf64_Ehdr), PT_LOAD, 0x400000, 4096);
    cr_assert_eq(ll_exe_read(p, &e, &err), -1);
    snprintf(want, sizeof want, "'%s' is not a 64-bit ELF executable", p);
    cr_assert_str_eq(err.msg, want);
    unlink(p);

    p = fake_elf(ELFCLASS64, ET_EXEC, 2, 1 << 20, PT_LOAD, 0x400000, 4096);
    cr_assert_eq(ll_exe_read(p, &e, &err), -1);
    snprintf(want, sizeof want, "'%s' has a truncated program header table", p);
    cr_assert_str_eq(err.msg, want);
    unlink(p);

    p = fake_elf(ELFCLASS64, ET_DYN, 1, sizeof(Elf64_Ehdr), PT_NOTE, 0, 4096);
    cr_assert_eq(ll_exe_read(p, &e, &err), -1);
    snprintf(want, sizeof want, "'%s' has no loadable segment", p);
    cr_assert_str_eq(err.msg, want);
    unlink(p);

    p = fake_elf(ELFCLASS64, ET_EXEC, 1, sizeof(Elf64_Ehdr), PT_LOAD, UINT64_MAX - 4095, 8192);
    cr_assert_eq(ll_exe_read(p, &e, &err), -1);
    cr_assert(strstr(err.msg, "has a segment that runs past the end of the address space"), "%s",
              err.msg);
    unlink(p);

    p = fake_elf(ELFCLASS64, ET_EXEC, 1, sizeof(Elf64_Ehdr), PT_LOAD, 0x400000, 0x1800);
    cr_assert_eq(ll_exe_read(p, &e, &err), 0, "%s", err.msg);
    cr_assert_eq(e.type, LL_EXE_FIXED);
    cr_assert_eq(e.lo, 0x400000);
    cr_assert_eq(e.hi, 0x400000 + ll_align_up(0x1800, ll_page_size_get()));
    unlink(p);
}

Test(advise, exe_read_refuses_a_segment_ending_in_the_last_page)
{
    ll_exe e;
    ll_error err;
    /* Ends at 2^64 - 2 KiB: rounded up to a page it would wrap to 0. */
    const char *p =
        fake_elf(ELFCLASS64, ET_EXEC, 1, sizeof(Elf64_Ehdr), PT_LOAD, UINT64_MAX - 4095, 2048);
    cr_assert_eq(ll_exe_read(p, &e, &err), -1, "hi 0x%llx lo 0x%llx", (unsigned long long)e.hi,
                 (unsigned long long)e.lo);
    cr_assert(strstr(err.msg, "has a segment that runs past the end of the address space"), "%s",
              err.msg);
    unlink(p);
    /* Found by fuzz/elf (fuzz/corpus/elf/last-byte.elf): an empty segment
     * at the very last byte. */
    p = fake_elf(ELFCLASS64, ET_EXEC, 1, sizeof(Elf64_Ehdr), PT_LOAD, UINT64_MAX, 0);
    cr_assert_eq(ll_exe_read(p, &e, &err), -1);
    cr_assert(strstr(err.msg, "has a segment that runs past the end of the address space"), "%s",
              err.msg);
    unlink(p);
}

Test(advise, exe_read_opens_only_regular_files, .timeout = 10)
{
    ll_exe e;
    ll_error err;
    char dir[] = "/tmp/ll-exe-XXXXXX", fifo[64], want[160];
    cr_assert(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    /* A FIFO with no writer: opening or reading it would block forever. */
    cr_assert_eq(ll_exe_read(fifo, &e, &err), -1);
    snprintf(want, sizeof want,
             "'%s' is a FIFO, not an executable file (try: the path of the program)", fifo);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(ll_exe_read("/dev/zero", &e, &err), -1);
    cr_assert_str_eq(err.msg, "'/dev/zero' is a character device, not an executable file (try: "
                              "the path of the program)");
    cr_assert_eq(ll_exe_read(dir, &e, &err), -1);
    cr_assert(strstr(err.msg, "is a directory, not an executable file"), "%s", err.msg);
    unlink(fifo);
    rmdir(dir);
}

Test(advise, an_executable_above_the_address_space_is_not_a_bound)
{
    ll_kernel k = x86_kernel();
    const char *exe =
        fake_elf(ELFCLASS64, ET_EXEC, 1, sizeof(Elf64_Ehdr), PT_LOAD, 0x30003fffe0000000ull, 4096);
    char text[512];
    int n = snprintf(text, sizeof text,
                     "30003fffe0000000-30003fffe0001000 r-xp 00000000 08:01 1 %s\n"
                     "7ffff7fc0000-7ffff7fc2000 r-xp 00000000 00:00 0 [vdso]\n"
                     "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]\n",
                     exe);
    ll_maps m;
    cr_assert_eq(ll_maps_parse(text, (size_t)n, &m, NULL), 0);
    const ll_maps *one = &m;
    ll_advice a;
    ll_error err;
    cr_assert_eq(ll_maps_advise(&one, 1, &a, &err, .kernel = &k), 0, "%s", err.msg);
    cr_assert_leq(a.base + a.size, a.task_size, "advice 0x%llx above the address space",
                  (unsigned long long)a.base);
    for (size_t i = 0; i < a.safe_count; i++) cr_assert_leq(a.safe[i].end, a.task_size);
    ll_maps_free(&m);
    unlink(exe);
}
