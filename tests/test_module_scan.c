/* test_module_scan.c - pointers the block holds into the old code: function
 * pointers are re-pointed to the new build, the rest is reported and the new
 * build refused unless the caller allows it. */
#include <sys/mman.h>

#include "module/helpers.h"

static test_dir t;
static ll_block b;

static void setup(void)
{
    test_dir_init(&t);
    install(&t, "v1");
    test_block(&b, 4 << 20);
}

static void teardown(void)
{
    ll_snap_end(&b);
    ll_block_release(&b);
    test_dir_remove(&t);
}

TestSuite(scan, .init = setup, .fini = teardown);

static ll_module *open_with_block(int allow_stale)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .block = &b, .allow_stale = allow_stale);
    cr_assert(m, "%s", err.msg);
    return m;
}

static void *sym(const ll_module *m, int i)
{
    return ll_module_symbol(m, (size_t)i);
}

#define WORD(offset) (*(void **)(b.base + (offset)))

Test(scan, stored_function_pointer_is_repointed)
{
    ll_module *m = open_with_block(0);
    WORD(0x2008) = ((fnptr_fn *)sym(m, SYM_HELLO_PTR))();
    WORD(0x2010) = (void *)&printf; /* not the module's: left alone */
    cr_assert_eq(((value_fn *)WORD(0x2008))(), 101);
    install(&t, "v2");
    ll_error err;
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(WORD(0x2008), sym(m, SYM_HELLO), "points at the new hello()");
    cr_assert_eq(((value_fn *)WORD(0x2008))(), 102);
    cr_assert_eq(WORD(0x2010), (void *)&printf);
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.repointed, 1);
    cr_assert_eq(info.stale_count, 0);
    ll_module_close(m);
}

Test(scan, stored_string_literal_is_reported)
{
    ll_module *m = open_with_block(0);
    WORD(0x3010) = (void *)((literal_fn *)sym(m, SYM_LITERAL))();
    install(&t, "v2");
    ll_error err;
    cr_assert_eq(poll_until(m, &err, 3000), -1, "the new build must be refused");
    cr_assert(strstr(err.msg, "refusing to run"), "%s", err.msg);
    cr_assert(strstr(err.msg, "1 pointer into version 1 that cannot be re-pointed"), "%s", err.msg);
    cr_assert(strstr(err.msg, "offset 0x3010: string literal \"text of the old build\""), "%s",
              err.msg);
    cr_assert(strstr(err.msg, ".allow_stale = 1"), "%s", err.msg);
    cr_assert(strstr(err.msg, "version 1 keeps running"), "%s", err.msg);
    cr_assert_eq(call_value(m), 1);
    cr_assert_str_eq(WORD(0x3010), "text of the old build", "still readable");
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.stale_count, 1);
    cr_assert_eq(info.stale[0].offset, 0x3010);
    cr_assert_eq(info.stale[0].value, (uint64_t)(uintptr_t)WORD(0x3010));
    ll_module_close(m);
}

Test(scan, allow_stale_loads_and_keeps_the_old_image)
{
    ll_module *m = open_with_block(1);
    WORD(0x3010) = (void *)((literal_fn *)sym(m, SYM_LITERAL))();
    install(&t, "v2");
    ll_error err;
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 2);
    cr_assert_str_eq(WORD(0x3010), "text of the old build", "the old image stays mapped");
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.stale_count, 1);
    cr_assert(strstr(info.stale[0].what, "string literal"), "%s", info.stale[0].what);
    install(&t, "v3");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_str_eq(WORD(0x3010), "text of the old build", "pinned across later loads too");
    ll_module_close(m);
}

Test(scan, each_kind_of_stale_pointer_is_named)
{
    ll_module *m = open_with_block(0);
    WORD(0x100) = ((counter_fn *)sym(m, SYM_COUNTER_PTR))();
    WORD(0x108) = (void *)((fnptr_fn *)sym(m, SYM_ONLY_V1_PTR))();
    WORD(0x110) = (char *)sym(m, SYM_HELLO) + 1;
    WORD(0x1000 * 700) = (void *)((literal_fn *)sym(m, SYM_LITERAL))();
    install(&t, "v2");
    ll_error err;
    cr_assert_eq(poll_until(m, &err, 3000), -1);
    cr_assert(strstr(err.msg, "4 pointers"), "%s", err.msg);
    cr_assert(strstr(err.msg, "and 1 more"), "%s", err.msg);
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.stale_count, 4);
    cr_assert_eq(info.stale[0].offset, 0x100);
    cr_assert(strstr(info.stale[0].what, "static data 'counter'+0x0 of version 1"), "%s",
              info.stale[0].what);
    cr_assert(strstr(info.stale[1].what, "function 'only_in_v1', which version 2 lacks"), "%s",
              info.stale[1].what);
    cr_assert(strstr(info.stale[2].what, "code address hello+0x1, not a function's start"), "%s",
              info.stale[2].what);
    cr_assert_eq(info.stale[3].offset, 0x1000 * 700);
    ll_module_close(m);
}

static void crash_v2(void *ctx)
{
    uint8_t state[8];
    ((crash_fn *)ll_module_symbol(ctx, SYM_CRASH))(0, state, sizeof state);
}

static void call_hello(void *ctx)
{
    ((value_fn *)ll_module_symbol(ctx, SYM_HELLO))();
}

Test(scan, rollback_repoints_back_to_the_good_version)
{
    ll_module *m = open_with_block(0);
    ll_error err;
    cr_assert_eq(ll_module_protect(m, call_hello, m, &err), 0, "%s", err.msg);
    WORD(0x2008) = ((fnptr_fn *)sym(m, SYM_HELLO_PTR))();
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(((value_fn *)WORD(0x2008))(), 102);
    cr_assert_eq(ll_module_protect(m, crash_v2, m, &err), -1);
    cr_assert(strstr(err.msg, "rolled back to version 1"), "%s", err.msg);
    cr_assert_eq(((value_fn *)WORD(0x2008))(), 101, "the pointer follows the rollback");
    ll_module_close(m);
}

static uint64_t resident_pages(void)
{
    uint64_t pages = b.size / b.page_size, n = 0;
    unsigned char *vec = malloc(pages);
    cr_assert_eq(mincore(b.base, b.size, vec), 0);
    for (uint64_t i = 0; i < pages; i++) n += vec[i] & 1;
    free(vec);
    return n;
}

Test(scan, only_pages_that_exist_are_read)
{
    ll_module *m = open_with_block(0);
    WORD(0x5000) = ((fnptr_fn *)sym(m, SYM_HELLO_PTR))();
    uint64_t before = resident_pages();
    install(&t, "v2");
    ll_error err;
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(resident_pages(), before, "the scan committed no page");
    cr_assert_lt(before, 16);
    ll_module_close(m);
}
