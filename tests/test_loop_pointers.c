/* test_loop_pointers.c - words of the state that point out of the block
 * are named (issue 15): into the C heap, into memory malloc mapped, into a
 * stack, when a state is recorded, saved or checked for determinism; and a
 * recording that carries another process's heap address, replayed, faults
 * with that word named instead of a bare SIGSEGV. The applications are
 * tests/loop/heap_app.c (the pointer at +0x40 of arena "state") and
 * tests/loop/app.c built with STACK_ADDRESS. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loop/loop.h"

static const char *const symbols[] = {"looplive_app"};
static ll_block block;
static ll_module *mod;
static ll_loop *loop;
static ll_error err;

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b ? b : "build";
}

static void open_app(const char *name)
{
    char lib[256];
    snprintf(lib, sizeof lib, "%s/tests/loop/%s.so", build_dir(), name);
    memset(&block, 0, sizeof block);
    /* Where looplive would put it, so that `looplive replay` can too. */
    uint64_t base = 0;
    if (ll_base_advise(1 << 20, &base, &err) != 0) base = 0;
    cr_assert_eq(ll_block_reserve(&block, &err, .base = (void *)(uintptr_t)base, .size = 1 << 20),
                 0, "%s", err.msg);
    mod = ll_module_open(lib, &err, .symbols = symbols, .symbol_count = 1, .block = &block,
                         .no_watch = 1);
    cr_assert(mod, "%s", err.msg);
    const ll_app *app = ((ll_app_get *)ll_module_symbol_get(mod, 0))();
    cr_assert_eq(ll_app_init_run(mod, app, &block, NULL, &err), 0, "%s", err.msg);
    loop = ll_loop_create(&block, &err, .module = mod, .fps = 60);
    cr_assert(loop, "%s", err.msg);
}

static void teardown(void)
{
    ll_loop_destroy(loop);
    ll_module_close(mod);
    ll_snap_end(&block);
    ll_block_release(&block);
}

TestSuite(pointers, .fini = teardown);

static void refused_naming(const char *app, const char *what, const char *fix)
{
    open_app(app);
    cr_assert_eq(ll_loop_record(loop, 1, &err), -1);
    char want[160];
    snprintf(want, sizeof want, "state +0x%llx (arena 'state' +0x40) holds 0x",
             (unsigned long long)(ll_block_arena_find(&block, "state")->begin - block.base) + 0x40);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    cr_assert(strstr(err.msg, what), "%s", err.msg);
    cr_assert(strstr(err.msg, fix), "%s", err.msg);
    cr_assert(strstr(err.msg, "(1 word of the state points out of the block; try: "), "%s",
              err.msg);
    cr_assert_eq(ll_loop_status_get(loop).mode, LL_LOOP_LIVE, "nothing recorded");
}

Test(pointers, into_the_c_heap)
{
    /* A sanitizer's malloc maps its own memory: the app uses sbrk there. */
    refused_naming("heap_heap", "which points into the C heap ([heap]): allocate it from the block",
                   "try: an arena (ll_arena_push), or the allocator of looplive_compat.h)");
}

Test(pointers, into_memory_malloc_mapped)
{
    refused_naming("heap_mmap",
                   "which points into memory the C library mapped (a large malloc, another "
                   "thread's heap or stack): allocate it from the block",
                   "try: an arena (ll_arena_push)");
}

Test(pointers, into_a_stack)
{
    refused_naming("heap_stack",
                   "which points into a stack: keep no address of a local in the state",
                   "try: keep an offset, an index or a pointer into the block)");
}

Test(pointers, a_saved_state_is_checked)
{
    open_app("heap_heap");
    /* Kept from the rewind window (no record, so no check until the save). */
    for (int i = 0; i < 3; i++) cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    cr_assert_eq(ll_loop_keep(loop, 1, &err), 0, "%s", err.msg);
    char path[] = "/tmp/looplive-test-pointers-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(ll_loop_save(loop, 1, path, &err), -1);
    cr_assert(strstr(err.msg, "which points into the C heap ([heap]): allocate it from the block"),
              "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 0, "nothing written");
    unlink(path);
}

Test(pointers, determinism_names_a_stack_address_kept_in_a_frame)
{
    open_app("app_stack_address");
    cr_assert_eq(ll_loop_record(loop, 0, &err), 0, "%s", err.msg);
    for (int i = 0; i < 3; i++) cr_assert_eq(ll_loop_frame_run(loop, NULL, &err), 1, "%s", err.msg);
    ll_loop_diff d;
    cr_assert_eq(ll_loop_determinism_check(loop, 0, &d, &err), -1);
    cr_assert_eq(d.frame, 0);
    cr_assert(strstr(err.msg, "state +0x200 holds 0x"), "%s", err.msg);
    cr_assert(strstr(err.msg, "which points into a stack: keep no address of a local"), "%s",
              err.msg);
}

/* A recording from elsewhere (an older looplive saved it) whose state
 * holds a heap address of the process that made it: replayed, the frame
 * faults there, and the word is named with the fault. */
Test(pointers, a_foreign_heap_address_is_named_with_the_fault)
{
    open_app("heap_heap");
    uint64_t off = (uint64_t)(ll_block_arena_find(&block, "state")->begin - block.base) + 0x40;
    uint64_t foreign = 0x100000000040ull; /* mapped in no process here */
    memcpy(block.base + off, &foreign, sizeof foreign);
    char path[] = "/tmp/looplive-test-pointers-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    uint8_t inputs[4] = {0};
    loop_rec_info info = {.layout_version = 1, .frames = 4, .input_size = 1, .fps = 60};
    snprintf(info.app_name, sizeof info.app_name, "heap");
    cr_assert_eq(loop_rec_write(path, &block, NULL, &info, inputs, NULL, 0, &err), 0, "%s",
                 err.msg);
    char cmd[1024], out[2048] = "";
    snprintf(cmd, sizeof cmd,
             "%s/looplive replay --module %s/tests/loop/heap_heap.so --recording %s "
             "--determinism 2>&1",
             build_dir(), build_dir(), path);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    unlink(path);
    cr_assert_neq(st, 0);
    char want[256];
    /* At the pointer, or (AddressSanitizer) at its shadow byte. */
    cr_assert(strstr(out, "SIGSEGV (Segmentation fault) at address 0x"), "%s", out);
    cr_assert(strstr(out, " in update+0x"), "%s", out);
    snprintf(want, sizeof want,
             "; state +0x%llx (arena 'state' +0x40) holds 0x100000000040, just below the "
             "address that faulted: a pointer out of the block, into nothing in this process",
             (unsigned long long)off);
    cr_assert(strstr(out, want), "%s", out);
}
