/* test_base.c - sizes and errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/base.h"

Test(base, size_parse_suffixes)
{
    uint64_t v;
    cr_assert_eq(ll_size_parse("4096", &v, NULL), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(ll_size_parse("64K", &v, NULL), 0);
    cr_assert_eq(v, 64 << 10);
    cr_assert_eq(ll_size_parse("1G", &v, NULL), 0);
    cr_assert_eq(v, 1ull << 30);
    cr_assert_eq(ll_size_parse("2TiB", &v, NULL), 0);
    cr_assert_eq(v, 2ull << 40);
    cr_assert_eq(ll_size_parse("0x1000", &v, NULL), 0);
    cr_assert_eq(v, 4096);
    cr_assert_eq(ll_size_parse("3m", &v, NULL), 0);
    cr_assert_eq(v, 3ull << 20);
}

Test(base, size_parse_errors)
{
    ll_error err;
    uint64_t v;
    cr_assert_eq(ll_size_parse("12Q", &v, &err), -1);
    cr_assert(strstr(err.msg, "unknown suffix 'Q'"), "%s", err.msg);
    cr_assert_eq(ll_size_parse("G", &v, &err), -1);
    cr_assert(strstr(err.msg, "no digits"), "%s", err.msg);
    cr_assert_eq(ll_size_parse("99999999999999999999", &v, &err), -1);
    cr_assert(strstr(err.msg, "too large"), "%s", err.msg);
    cr_assert_eq(ll_size_parse("20000000P", &v, &err), -1);
    cr_assert(strstr(err.msg, "too large"), "%s", err.msg);
}

Test(base, size_format)
{
    char b[32];
    cr_assert_str_eq(ll_size_format(1ull << 30, b, sizeof b), "1 GiB");
    cr_assert_str_eq(ll_size_format(16ull << 40, b, sizeof b), "16 TiB");
    cr_assert_str_eq(ll_size_format(17, b, sizeof b), "17 B");
    cr_assert_str_eq(ll_size_format(1536 << 10, b, sizeof b), "1.50 MiB");
    cr_assert_str_eq(ll_size_format(4096, b, sizeof b), "4 KiB");
}

Test(base, page_size_and_fail)
{
    cr_assert(ll_is_pow2(ll_page_size_get()));
    ll_error err;
    cr_assert_eq(ll_fail(&err, 5, "x=%d", 3), -1);
    cr_assert_eq(err.code, 5);
    cr_assert_str_eq(err.msg, "x=3");
    cr_assert_eq(ll_fail(NULL, 5, "ignored"), -1);
}
