/* test_fault.c - the one fault dispatcher (src/base/fault.c) on its own:
 * clients see a fault whatever the order they registered in, the handler
 * records pc, sp, address and stack words, restore hooks run before the
 * process dies or stops (and resume after), a client continues the faults
 * it made (a single step each) and a SIGTRAP nobody continues still ends
 * the process, and its errors. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fault.h"

static uint8_t *bad_page; /* PROT_NONE: a read there faults */
static sigjmp_buf back;
static volatile sig_atomic_t armed;
static fault_event seen;

static int describe_bad(fault_event *ev)
{
    if (ev->addr < (uint64_t)(uintptr_t)bad_page ||
        ev->addr >= (uint64_t)(uintptr_t)bad_page + 4096)
        return 0;
    ev->what[0] = 0;
    fault_append(ev->what, FAULT_WHAT_MAX, "the bad page at ");
    fault_append_hex(ev->what, FAULT_WHAT_MAX, ev->addr);
    return 1;
}

static void catch_armed(fault_event *ev)
{
    if (!armed) return;
    armed = 0;
    memcpy(&seen, ev, sizeof seen);
    siglongjmp(back, 1);
}

static const fault_client describer = {.describe = describe_bad};
static const fault_client catcher = {.catch_fault = catch_armed};

static void fault_once(void)
{
    bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(bad_page, MAP_FAILED);
    ll_error err;
    cr_assert_eq(fault_thread_prepare(&err), 0, "%s", err.msg);
    if (sigsetjmp(back, 1) == 0) {
        armed = 1;
        (void)*(volatile uint8_t *)(bad_page + 24);
        cr_assert_fail("the read did not fault");
    }
    cr_assert_eq(seen.signal, SIGSEGV);
    cr_assert_eq(seen.code, SEGV_ACCERR);
    cr_assert_eq(seen.addr, (uint64_t)(uintptr_t)bad_page + 24);
    cr_assert_neq(seen.pc, 0);
    cr_assert_neq(seen.sp, 0);
    cr_assert_gt(seen.stack_words, 0, "the stack words were read");
    char want[64] = "";
    fault_append(want, sizeof want, "the bad page at ");
    fault_append_hex(want, sizeof want, (uint64_t)(uintptr_t)bad_page + 24);
    cr_assert_str_eq(seen.what, want, "the description reached the catcher");
    munmap(bad_page, 4096);
}

Test(fault, describer_then_catcher)
{
    ll_error err;
    cr_assert_eq(fault_register(&describer, &err), 0, "%s", err.msg);
    cr_assert_eq(fault_register(&catcher, &err), 0, "%s", err.msg);
    fault_once();
    fault_unregister(&catcher);
    fault_unregister(&describer);
}

Test(fault, catcher_then_describer)
{
    ll_error err;
    cr_assert_eq(fault_register(&catcher, &err), 0, "%s", err.msg);
    cr_assert_eq(fault_register(&describer, &err), 0, "%s", err.msg);
    fault_once();
    fault_unregister(&describer);
    fault_unregister(&catcher);
}

Test(fault, the_last_client_out_puts_the_previous_handlers_back)
{
    struct sigaction before, during, after;
    sigaction(SIGBUS, NULL, &before);
    ll_error err;
    cr_assert_eq(fault_register(&catcher, &err), 0, "%s", err.msg);
    cr_assert_eq(fault_register(&describer, &err), 0, "%s", err.msg);
    fault_unregister(&catcher);
    sigaction(SIGBUS, NULL, &during);
    cr_assert(during.sa_sigaction != before.sa_sigaction, "one client is still in");
    fault_unregister(&describer);
    sigaction(SIGBUS, NULL, &after);
    cr_assert(after.sa_sigaction == before.sa_sigaction);
}

Test(fault, sixteen_clients_at_most)
{
    static fault_client many[17];
    ll_error err;
    for (int i = 0; i < 16; i++)
        cr_assert_eq(fault_register(&many[i], &err), 0, "%d: %s", i, err.msg);
    cr_assert_eq(fault_register(&many[16], &err), -1);
    cr_assert_str_eq(err.msg, "cannot register a fault handler: all 16 places are taken (try: "
                              "close a module first)");
    for (int i = 0; i < 16; i++) fault_unregister(&many[i]);
}

/* ---- restore hooks ---------------------------------------------------- */

static int hook_fd = -1;

static void put_char(char c)
{
    ssize_t w = write(hook_fd, &c, 1);
    (void)w;
}

static void restore_hook(void)
{
    put_char('R');
}

static void resume_hook(void)
{
    put_char('U');
}

static const fault_client terminal = {.restore = restore_hook, .resume = resume_hook};

static int child_with_hooks(int fds[2], void (*body)(void))
{
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        hook_fd = fds[1];
        ll_error err;
        if (fault_register(&terminal, &err) != 0) _exit(3);
        body();
        _exit(0);
    }
    close(fds[1]);
    return pid;
}

static void sigterm_self(void)
{
    raise(SIGTERM);
}

Test(fault, restore_runs_before_a_signal_ends_the_process)
{
    int fds[2];
    pid_t pid = child_with_hooks(fds, sigterm_self);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status 0x%x", status);
    char got[8] = "";
    cr_assert_eq(read(fds[0], got, sizeof got), 1);
    cr_assert_eq(got[0], 'R');
}

static void stop_self(void)
{
    /* A group of its own whose parent is in another group of the session:
     * not orphaned, so the kernel lets SIGTSTP stop it. */
    setpgid(0, 0);
    raise(SIGTSTP);
}

Test(fault, ctrl_z_restores_then_resumes_after_sigcont)
{
    int fds[2];
    pid_t pid = child_with_hooks(fds, stop_self);
    int status;
    cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
    cr_assert(WIFSTOPPED(status), "status 0x%x", status);
    kill(pid, SIGCONT);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
    char got[8] = "";
    cr_assert_eq(read(fds[0], got, sizeof got), 2);
    cr_assert_eq(got[0], 'R');
    cr_assert_eq(got[1], 'U');
}

/* ---- the C library probe ---------------------------------------------- */

Test(fault, the_probe_answers_when_the_c_library_is_fine)
{
    ll_error err;
    cr_assert_eq(fault_probe_ready(&err), 0, "%s", err.msg);
    cr_assert_eq(fault_libc_usable(5000), 1);
    cr_assert_eq(fault_probe_ready(&err), 0, "%s", err.msg);
    cr_assert_eq(fault_libc_usable(5000), 1, "and again with a fresh chunk");
}

static void *unprepared(void *arg)
{
    *(int *)arg = fault_libc_usable(100);
    return NULL;
}

Test(fault, a_thread_that_never_readied_the_probe_gets_no)
{
    ll_error err;
    cr_assert_eq(fault_probe_ready(&err), 0, "%s", err.msg);
    int usable = -1;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, unprepared, &usable), 0);
    pthread_join(th, NULL);
    cr_assert_eq(usable, 0);
}

Test(fault, no_file_descriptors_left_for_the_probe)
{
    int lowest = dup(0);
    cr_assert_geq(lowest, 0);
    close(lowest);
    struct rlimit lim = {(rlim_t)lowest, (rlim_t)lowest}, old;
    getrlimit(RLIMIT_NOFILE, &old);
    lim.rlim_max = old.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    ll_error err;
    int rc = fault_probe_ready(&err);
    setrlimit(RLIMIT_NOFILE, &old);
    cr_assert_eq(rc, -1);
    cr_assert_str_eq(err.msg, "cannot start crash protection's C library probe: pipe2: Too many "
                              "open files (try: ulimit -n)");
}

/* ---- continue: a client takes the faults it made on purpose ------------ */

static volatile int steps, opened;

/* The bad page's fault: open it, step one instruction, close it again. */
static int continue_bad(fault_event *ev)
{
    if (ev->signal == SIGTRAP && opened) {
        mprotect(bad_page, 4096, PROT_NONE);
        fault_step_set(ev, 0);
        opened = 0;
        steps++;
        return 1;
    }
    if (ev->signal != SIGSEGV || ev->addr < (uint64_t)(uintptr_t)bad_page ||
        ev->addr >= (uint64_t)(uintptr_t)bad_page + 4096)
        return 0;
    mprotect(bad_page, 4096, PROT_READ | PROT_WRITE);
    opened = 1;
    return fault_step_set(ev, 1) == 0 || (mprotect(bad_page, 4096, PROT_READ | PROT_WRITE), 1);
}

static const fault_client continuer = {.continue_fault = continue_bad};

Test(fault, a_continued_fault_goes_on_and_nobody_else_sees_it)
{
    ll_error err;
    bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(bad_page, MAP_FAILED);
    cr_assert_eq(fault_register(&catcher, &err), 0, "%s", err.msg);
    cr_assert_eq(fault_register(&continuer, &err), 0, "%s", err.msg);
    armed = 1; /* the catcher would jump: it must not be reached */
    ((volatile uint8_t *)bad_page)[8] = 42;
    ((volatile uint8_t *)bad_page)[9] = 43;
    armed = 0;
#if defined(__x86_64__)
    cr_assert_eq(steps, 2, "each write single-stepped, the page closed after");
    cr_assert_eq(bad_page[8], 42);
#endif
    fault_unregister(&continuer);
    fault_unregister(&catcher);
    munmap(bad_page, 4096);
}

/* A SIGTRAP nobody continues does what it did before the dispatcher: the
 * default action ends the process. */
Test(fault, a_trap_nobody_continues_passes_on, .signal = SIGTRAP)
{
    ll_error err;
    cr_assert_eq(fault_register(&continuer, &err), 0, "%s", err.msg);
    raise(SIGTRAP);
    cr_assert_fail("the trap was swallowed");
}
