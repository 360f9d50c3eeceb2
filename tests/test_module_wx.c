/* test_module_wx.c - a system that refuses to make code writable (SELinux
 * execmod, a PaX-like W^X policy) refuses the reload with one line naming
 * the policy; the old build keeps running. mprotect is wrapped at link
 * time (mk/module.mk) to fail as such a policy makes it fail. */
#include <errno.h>
#include <sys/mman.h>

#include "module/helpers.h"

int __real_mprotect(void *addr, size_t len, int prot);

static int refuse_errno; /* 0: let every call through */

int __wrap_mprotect(void *addr, size_t len, int prot)
{
    if (refuse_errno && (prot & PROT_WRITE)) {
        errno = refuse_errno;
        return -1;
    }
    return __real_mprotect(addr, len, prot);
}

TEST_SUITE_WITH_LIB(wx);

static void refused_with(int e)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    void *old_hello = ((fnptr_fn *)ll_module_symbol_get(m, SYM_HELLO_PTR))();
    install(&t, "v2");
    refuse_errno = e;
    cr_assert_eq(poll_until(m, &err, 3000), -1);
    refuse_errno = 0;
    cr_assert(strstr(err.msg, "cannot forward version 1 to version 2: the system refuses to make "
                              "its code writable"),
              "%s", err.msg);
    cr_assert(strstr(err.msg, "SELinux execmod or a PaX-like W^X policy"), "%s", err.msg);
    cr_assert(strstr(err.msg, "(try: setsebool -P selinuxuser_execmod 1"), "%s", err.msg);
    cr_assert(strstr(err.msg, "version 1 keeps running"), "%s", err.msg);
    cr_assert(!strchr(err.msg, '\n'));
    cr_assert_eq(call_value(m), 1);
    cr_assert_eq(((value_fn *)old_hello)(), 101, "version 1 runs its own code");
    cr_assert_eq(ll_module_reload(m, &err), 0, "%s", err.msg);
    cr_assert_eq(((value_fn *)old_hello)(), 102, "allowed again: it forwards");
    ll_module_close(m);
}

Test(wx, eacces_names_the_policy)
{
    refused_with(EACCES);
}

Test(wx, eperm_names_the_policy)
{
    refused_with(EPERM);
}

Test(wx, another_mprotect_failure_is_named)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    install(&t, "v2");
    refuse_errno = ENOMEM;
    cr_assert_eq(poll_until(m, &err, 3000), -1);
    refuse_errno = 0;
    cr_assert(strstr(err.msg, "cannot forward version 1 to version 2: mprotect: Cannot allocate "
                              "memory; version 1 keeps running"),
              "%s", err.msg);
    ll_module_close(m);
}
