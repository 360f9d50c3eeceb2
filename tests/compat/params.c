/* Every params macro with and without options: compiled by tests/header_modes.sh
 * as C11 -pedantic, C23, C++17 and C++20 with gcc/g++ and clang/clang++. */
#include "looplive.h"

#include <stdio.h>

#define FAIL                                                                                       \
    do {                                                                                           \
        fprintf(stderr, "params.c:%d: %s\n", __LINE__, err.msg);                                   \
        return 1;                                                                                  \
    } while (0)

int main(void)
{
    ll_error err;
    ll_block block;
    if (ll_block_reserve(&block, &err) == 0) FAIL; /* no default size */
    if (ll_block_reserve(&block, &err, .size = 1 << 22) != 0) FAIL;
    ll_arena *a = ll_arena_create(&block, "a", 1 << 16, &err);
    ll_arena *b = ll_arena_create(&block, "b", 1 << 16, &err, .guard = -1);
    if (a == NULL || b == NULL) FAIL;
    void *p = ll_arena_push(a, 24);
    void *q = ll_arena_push(a, 24, .align = 64, .zero = 1);
    int *r = ll_arena_push_array(b, int, 4);
    double *s = ll_arena_push_array(b, double, 4, .zero = 1);
    if (p == NULL || q == NULL || r == NULL || s == NULL || ((uintptr_t)q & 63) != 0) FAIL;
    /* calls that fail: they only have to compile and report an error */
    if (ll_snap_save(&block, "/nonexistent/dir/x", &err) == 0) FAIL;
    if (ll_snap_save(&block, "/nonexistent/dir/x", &err, .layout_version = 1) == 0) FAIL;
    if (ll_snap_load(&block, "/nonexistent/x", &err) == 0) FAIL;
    if (ll_snap_load(&block, "/nonexistent/x", &err, .verify = 1) == 0) FAIL;
    if (ll_module_open("/nonexistent/x.so", &err) != NULL) FAIL;
    if (ll_module_open("/nonexistent/x.so", &err, .block = &block) != NULL) FAIL;
    if (ll_host_open("/nonexistent/x.so", &err) != NULL) FAIL;
    if (ll_host_open("/nonexistent/x.so", &err, .headless = 1) != NULL) FAIL;
    ll_loop *loop = ll_loop_create(&block, &err);
    if (loop != NULL) ll_loop_destroy(loop);
    loop = ll_loop_create(&block, &err, .module = NULL);
    if (loop != NULL) ll_loop_destroy(loop);
    ll_maps maps;
    if (ll_maps_parse("", 0, &maps, &err) == 0) {
        const ll_maps *samples[1] = {&maps};
        ll_advice advice;
        (void)ll_maps_advise(samples, 1, &advice, &err);
        (void)ll_maps_advise(samples, 1, &advice, &err, .size = 1 << 30);
        ll_maps_free(&maps);
    }
    if (0) { /* ll_module_protect needs a module: compiled, not run */
        ll_module *m = NULL;
        (void)ll_module_protect(m, NULL, NULL, &err);
        (void)ll_module_protect(m, NULL, NULL, &err, .snap = NULL);
    }
    ll_block_release(&block);
    puts("ok");
    return 0;
}
