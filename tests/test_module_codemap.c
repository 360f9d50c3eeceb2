/* test_module_codemap.c - a state saved with code pointers, loaded where
 * other builds sit at other addresses: a snapshot file carries the module's
 * code map in its extra section, and loading it re-points every word in a
 * saved code range to the same function of the build in use (by build-id
 * and load address for the same build, by name for another), or refuses,
 * naming symbol and offset, and leaves the block as it was. A second
 * module, opened from another directory, stands in for the new process:
 * its images are other mappings at other addresses. */
#include <sys/mman.h>

#include "module/helpers.h"

static test_dir t1, t2;
static ll_block b;
static char path[PATH_MAX];

static void setup(void)
{
    test_dir_init(&t1);
    test_dir_init(&t2);
    install(&t1, "v1");
    test_block(&b, 4 << 20);
    snprintf(path, sizeof path, "%s/state.llsnap", t1.path);
}

static void teardown(void)
{
    unlink(path);
    ll_snap_end(&b);
    ll_block_release(&b);
    test_dir_remove(&t1);
    test_dir_remove(&t2);
}

TestSuite(codemap, .init = setup, .fini = teardown);

static ll_module *open_in(test_dir *t)
{
    ll_error err;
    ll_module *m = ll_module_open(t->lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .block = &b);
    cr_assert(m, "%s", err.msg);
    return m;
}

#define WORD(offset) (*(void **)(b.base + (offset)))

/* Saves the block with m's code map, then scribbles over it. */
static void save_with_map(ll_module *m)
{
    ll_error err;
    void *map;
    uint64_t n;
    cr_assert_eq(ll_module_codemap_build(m, &map, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(ll_snap_save(&b, path, &err, .layout_version = 1, .extra = map, .extra_size = n,
                              .extra_tag = LL_MODULE_CODEMAP_TAG),
                 0, "%s", err.msg);
    free(map);
    memset(b.base, 0x5a, 3 * 4096);
}

static int load_into(ll_module *m, ll_error *err)
{
    return ll_snap_load(&b, path, err, .layout_version = 1, .extra_tag = LL_MODULE_CODEMAP_TAG,
                        .extra_fn = ll_module_snap_extra_apply, .extra_ctx = m);
}

static void *sym(ll_module *m, int i)
{
    return ll_module_symbol_get(m, (size_t)i);
}

Test(codemap, the_same_build_elsewhere_is_moved_by_its_load_address)
{
    ll_module *m1 = open_in(&t1);
    WORD(0x1000) = ((fnptr_fn *)sym(m1, SYM_BEHAVE_PTR))(); /* static */
    WORD(0x1008) = (void *)((literal_fn *)sym(m1, SYM_LITERAL))();
    WORD(0x1010) = (void *)0x1234; /* not code: left alone */
    save_with_map(m1);
    install(&t2, "v1");
    ll_module *m2 = open_in(&t2);
    ll_error err;
    cr_assert_eq(load_into(m2, &err), 0, "%s", err.msg);
    void *behave2 = ((fnptr_fn *)sym(m2, SYM_BEHAVE_PTR))();
    cr_assert_eq(WORD(0x1000), behave2, "points into the second module's image");
    cr_assert_str_eq(WORD(0x1008), "text of the old build", "data of the same build too");
    cr_assert_eq(WORD(0x1010), (void *)0x1234);
    ll_module_info info;
    ll_module_info_get(m2, &info);
    cr_assert_eq(info.repointed, 2);
    ll_module_close(m2);
    ll_module_close(m1);
}

Test(codemap, another_build_is_matched_by_name)
{
    ll_module *m1 = open_in(&t1);
    WORD(0x1000) = ((fnptr_fn *)sym(m1, SYM_BEHAVE_PTR))();
    WORD(0x1008) = ((fnptr_fn *)sym(m1, SYM_HELLO_PTR))();
    save_with_map(m1);
    install(&t2, "v2");
    ll_module *m2 = open_in(&t2);
    ll_error err;
    cr_assert_eq(load_into(m2, &err), 0, "%s", err.msg);
    cr_assert_eq(((value_fn *)WORD(0x1000))(), 202);
    cr_assert_eq(((value_fn *)WORD(0x1008))(), 102);
    cr_assert_eq(WORD(0x1008), sym(m2, SYM_HELLO));
    ll_module_close(m2);
    ll_module_close(m1);
}

Test(codemap, a_removed_function_or_a_literal_of_another_build_is_refused)
{
    ll_module *m1 = open_in(&t1);
    WORD(0x1000) = ((fnptr_fn *)sym(m1, SYM_BEHAVE_PTR))();
    WORD(0x2008) = (void *)((fnptr_fn *)sym(m1, SYM_ONLY_V1_PTR))();
    WORD(0x2010) = (void *)((literal_fn *)sym(m1, SYM_LITERAL))();
    save_with_map(m1);
    install(&t2, "v2");
    ll_module *m2 = open_in(&t2);
    ll_error err;
    cr_assert_eq(load_into(m2, &err), -1);
    cr_assert(strstr(err.msg, "cannot re-point the saved state's code pointers to '"), "%s",
              err.msg);
    cr_assert(strstr(err.msg, "2 words point where this build has nothing to match: offset 0x2008: "
                              "function 'only_in_v1'+0x0, which the build in use lacks; offset "
                              "0x2010: read-only data of another build (a string literal or "
                              "static data?) (try: restore those functions"),
              "%s", err.msg);
    cr_assert_eq(*(uint64_t *)b.base, 0x5a5a5a5a5a5a5a5aull, "the block is left as it was");
    ll_module_info info;
    ll_module_info_get(m2, &info);
    cr_assert_eq(info.stale_count, 2);
    cr_assert_eq(info.stale[0].offset, 0x2008);
    cr_assert_eq(info.repointed, 0);
    ll_module_close(m2);
    ll_module_close(m1);
}

Test(codemap, the_process_that_saved_it_needs_nothing)
{
    ll_module *m1 = open_in(&t1);
    void *hello = ((fnptr_fn *)sym(m1, SYM_HELLO_PTR))();
    WORD(0x1000) = hello;
    save_with_map(m1);
    ll_error err;
    cr_assert_eq(load_into(m1, &err), 0, "%s", err.msg);
    cr_assert_eq(WORD(0x1000), hello);
    ll_module_close(m1);
}

Test(codemap, a_corrupted_map_or_section_is_refused)
{
    ll_module *m1 = open_in(&t1);
    ll_error err;
    uint8_t junk[64] = "LLCMAP1";
    cr_assert_eq(ll_snap_save(&b, path, &err, .layout_version = 1, .extra = junk,
                              .extra_size = sizeof junk, .extra_tag = LL_MODULE_CODEMAP_TAG),
                 0, "%s", err.msg);
    cr_assert_eq(load_into(m1, &err), -1);
    cr_assert(strstr(err.msg, "the saved code map is corrupted: no LLCMAP1 header of the right "
                              "size (try: save the state again)"),
              "%s", err.msg);
    /* A flipped byte in the section: its checksum. */
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    cr_assert_eq(fseek(f, -1, SEEK_END), 0);
    fputc(0x77, f);
    fclose(f);
    cr_assert_eq(load_into(m1, &err), -1);
    cr_assert(strstr(err.msg, "is corrupted: its extra section checksum does not match"), "%s",
              err.msg);
    cr_assert_eq(ll_snap_verify(path, &err), -1, "verify checks the section too");
    cr_assert(strstr(err.msg, "its extra section checksum does not match"), "%s", err.msg);
    /* Another tag, or no hook: the section is not read. */
    cr_assert_eq(ll_snap_load(&b, path, &err, .layout_version = 1), 0, "%s", err.msg);
    ll_module_close(m1);
}
