/* test_module_forward.c - old builds stay mapped and forward to the build
 * in use: a function pointer kept in the block, exported or static, calls
 * the new code after a reload and the good code after a rollback; a
 * function the new build lacks, or too small for a jump, keeps its old code
 * and is reported by name. */
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

TestSuite(forward, .init = setup, .fini = teardown, .timeout = 30); /* a jump loop hangs */

static ll_module *open_module(void)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .block = &b);
    cr_assert(m, "%s", err.msg);
    return m;
}

static void *sym(const ll_module *m, int i)
{
    return ll_module_symbol_get(m, (size_t)i);
}

static void load(ll_module *m, const char *variant)
{
    ll_error err;
    install(&t, variant);
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
}

#define WORD(offset) (*(void **)(b.base + (offset)))
#define CALL(offset) (((value_fn *)WORD(offset))())

static int find_unforwarded(const ll_module_info *info, const char *name, uint64_t version)
{
    for (size_t i = 0; i < info->unforwarded_count && i < LL_MODULE_STALE_MAX; i++)
        if (!strcmp(info->unforwarded[i].name, name) && info->unforwarded[i].version == version)
            return info->unforwarded[i].reason;
    return 0;
}

Test(forward, stored_pointers_call_the_new_build)
{
    ll_module *m = open_module();
    WORD(0x2008) = ((fnptr_fn *)sym(m, SYM_HELLO_PTR))();
    WORD(0x2010) = ((fnptr_fn *)sym(m, SYM_BEHAVE_PTR))(); /* a static function */
    void *v1_hello = WORD(0x2008);
    cr_assert_eq(CALL(0x2008), 101);
    cr_assert_eq(CALL(0x2010), 201);
    load(m, "v2");
    cr_assert_eq(WORD(0x2008), v1_hello, "nothing in the block was rewritten");
    cr_assert_eq(CALL(0x2008), 102);
    cr_assert_eq(CALL(0x2010), 202, "the static behaviour forwards too");
    load(m, "v3");
    cr_assert_eq(CALL(0x2008), 103, "version 1 forwards straight to version 3");
    cr_assert_eq(CALL(0x2010), 203);
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_gt(info.forwarded, 10);
    ll_module_close(m);
}

Test(forward, a_string_literal_of_an_old_build_stays_readable)
{
    ll_module *m = open_module();
    WORD(0x3010) = (void *)((literal_fn *)sym(m, SYM_LITERAL))();
    load(m, "v2");
    load(m, "v3");
    cr_assert_str_eq(WORD(0x3010), "text of the old build");
    ll_module_close(m);
}

static void crash_it(void *ctx)
{
    uint8_t state[8];
    ((crash_fn *)ll_module_symbol_get(ctx, SYM_CRASH))(0, state, sizeof state);
}

static void call_hello(void *ctx)
{
    ((value_fn *)ll_module_symbol_get(ctx, SYM_HELLO))();
}

Test(forward, rollback_sends_every_build_to_the_good_one)
{
    ll_module *m = open_module();
    ll_error err;
    cr_assert_eq(ll_module_protect(m, call_hello, m, &err), 0, "%s", err.msg);
    WORD(0x2008) = ((fnptr_fn *)sym(m, SYM_HELLO_PTR))();
    load(m, "v2");
    WORD(0x2010) = ((fnptr_fn *)sym(m, SYM_HELLO_PTR))(); /* version 2's own */
    WORD(0x2018) = ((fnptr_fn *)sym(m, SYM_BEHAVE_PTR))();
    cr_assert_eq(CALL(0x2010), 102);
    cr_assert_eq(ll_module_protect(m, crash_it, m, &err), -1);
    cr_assert(strstr(err.msg, "rolled back to version 1"), "%s", err.msg);
    cr_assert_eq(CALL(0x2008), 101, "version 1's entries have their own code back");
    cr_assert_eq(CALL(0x2010), 101, "the crashed build forwards to the good one");
    cr_assert_eq(CALL(0x2018), 201);
    cr_assert_eq(call_value(m), 1);
    load(m, "v3");
    cr_assert_eq(CALL(0x2008), 103);
    cr_assert_eq(CALL(0x2010), 103, "and on to the next build");
    ll_module_close(m);
}

Test(forward, a_removed_function_keeps_its_old_code_and_is_named)
{
    ll_module *m = open_module();
    WORD(0x108) = (void *)((fnptr_fn *)sym(m, SYM_ONLY_V1_PTR))();
    load(m, "v2");
    cr_assert_eq(CALL(0x108), 1, "the old code runs");
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(find_unforwarded(&info, "only_in_v1", 1), LL_FORWARD_MISSING);
    ll_module_close(m);
}

Test(forward, a_function_too_small_for_a_jump_is_named)
{
    ll_module *m = open_module();
    load(m, "v2");
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(find_unforwarded(&info, "tiny", 1), LL_FORWARD_TOO_SMALL);
    load(m, "patchable");
    ll_module_info_get(m, &info);
    cr_assert_eq(find_unforwarded(&info, "tiny", 1), LL_FORWARD_TOO_SMALL, "still small in v1");
    ll_module_close(m);
    /* A build made with the entry padding has room in every function. */
    install(&t, "patchable");
    m = open_module();
    load(m, "patchable");
    ll_module_info_get(m, &info);
    cr_assert_eq(info.unforwarded_count, 0, "first: %s", info.unforwarded[0].name);
    cr_assert_gt(info.forwarded, 10);
    ll_module_close(m);
}

Test(forward, a_compiler_clone_is_never_matched)
{
    ll_module *m = open_module();
    WORD(0x100) = (void *)((fnptr_fn *)sym(m, SYM_DOTTED_PTR))();
    cr_assert_eq(CALL(0x100), 301);
    load(m, "v2");
    cr_assert_eq(CALL(0x100), 301, "dotted.isra.0 of version 1 runs its own code");
    cr_assert_eq(((value_fn *)((fnptr_fn *)sym(m, SYM_DOTTED_PTR))())(), 302);
    ll_module_info info;
    ll_module_info_get(m, &info);
    cr_assert_eq(find_unforwarded(&info, "dotted.isra.0", 1), 0, "not even considered");
    ll_module_close(m);
}

Test(forward, every_earlier_build_forwards_after_many_loads)
{
    ll_module *m = open_module();
    static const char *variants[] = {"v1", "v2", "v3"};
    for (int i = 0; i < 12; i++) {
        WORD(0x1000 + 8 * i) = ((fnptr_fn *)sym(m, SYM_BEHAVE_PTR))();
        load(m, variants[(i + 1) % 3]);
        int want = 201 + (i + 1) % 3;
        for (int j = 0; j <= i; j++)
            cr_assert_eq(CALL(0x1000 + 8 * j), want, "load %d ptr %d", i, j);
    }
    ll_module_close(m);
}
