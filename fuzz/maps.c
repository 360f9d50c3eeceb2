/* maps.c - the /proc/PID/maps text parser, and the advisor on what it
 * parsed (with a fixed machine and executable: nothing is read from the
 * files a maps text names). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ll_maps m;
    if (ll_maps_parse((const char *)data, size, &m, &(ll_error){0}) != 0) return 0;
    (void)ll_maps_total_get(&m);
    (void)ll_maps_span_get(&m, LL_CHUNK_APP);
    ll_range gaps[16];
    (void)ll_maps_gaps_find(&m, 0, 1ull << 47, gaps, 16);
    ll_kernel k = {.randomize_va_space = 2,
                   .mmap_rnd_bits = 28,
                   .mmap_min_addr = 65536,
                   .page_size = 4096,
                   .va_bits = 47,
                   .stack_rlimit = 8u << 20};
    ll_exe exe = {.type = LL_EXE_PIE, .lo = 0x555555554000, .hi = 0x555555560000, .span = 0xc000};
    const ll_maps *one = &m;
    ll_advice *a = malloc(sizeof *a);
    if (a && ll_maps_advise(&one, 1, a, &(ll_error){0}, .kernel = &k, .exe = &exe) == 0)
        if (a->base + a->size > a->task_size || a->base + a->size < a->base) abort();
    free(a);
    ll_maps_free(&m);
    return 0;
}
