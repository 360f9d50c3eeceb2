/* test_maps_faults.c - ll_maps_launch's errors about the launched program:
 * one that cannot be traced, and one whose exit comes without a stop to
 * read its mappings in. ptrace is wrapped at link time (mk/errtests.mk):
 * PTRACE_TRACEME fails as under a seccomp policy that forbids tracing, or
 * PTRACE_SETOPTIONS fails so that no exit stop is asked for. (A real exit
 * always stops there once asked, even for SIGKILL or an exit from another
 * thread: tried on Linux 6.18.) */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>

#include "base/base.h"
#include "maps/maps.h"

long __real_ptrace(enum __ptrace_request req, ...);
long __wrap_ptrace(enum __ptrace_request req, ...);

static int fail_traceme, fail_setoptions;

long __wrap_ptrace(enum __ptrace_request req, ...)
{
    va_list ap;
    va_start(ap, req);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);
    if ((fail_traceme && req == PTRACE_TRACEME) || (fail_setoptions && req == PTRACE_SETOPTIONS))
        return errno = EPERM, -1;
    return __real_ptrace(req, pid, addr, data);
}

Test(maps_faults, launch_of_a_program_that_cannot_be_traced)
{
    ll_maps m;
    ll_error err;
    char *argv[] = {"true", NULL};
    fail_traceme = 1;
    int rc = ll_maps_launch(argv, 1000, &m, &err);
    fail_traceme = 0;
    cr_assert_eq(rc, -1);
    cr_assert_eq(err.code, ECHILD);
    cr_assert_str_eq(err.msg, "'true' did not start under ptrace (try: a debugger or seccomp "
                              "policy may forbid tracing; read a running copy with --pid N "
                              "instead)");
}

Test(maps_faults, launch_of_a_program_that_exits_without_a_stop)
{
    ll_maps m;
    ll_error err;
    char *argv[] = {"true", NULL};
    fail_setoptions = 1;
    int rc = ll_maps_launch(argv, 5000, &m, &err);
    fail_setoptions = 0;
    cr_assert_eq(rc, -1);
    cr_assert_eq(err.code, ECHILD);
    cr_assert_str_eq(err.msg, "the program exited before its maps could be read");
}
