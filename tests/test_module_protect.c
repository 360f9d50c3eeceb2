/* test_module_protect.c - a fault in module code is caught, the code rolls
 * back to the last good version and the block is put back as it was before
 * the call; faults anywhere else still kill the process. */
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "module/helpers.h"

TEST_SUITE_WITH_LIB(protect);

typedef struct call {
    ll_module *m;
    int kind;
    uint8_t *state;
    size_t size;
    int result;
} call;

static void call_crash(void *arg)
{
    call *c = arg;
    c->result = ((crash_fn *)ll_module_symbol(c->m, SYM_CRASH))(c->kind, c->state, c->size);
}

static void call_value_into(void *arg)
{
    call *c = arg;
    c->result = call_value(c->m);
}

enum { STATE_OFFSET = 4096, STATE_SIZE = 3 * 4096, WATCHED = 64 * 1024 };

/* Version 1 proven good, version 2 loaded on top, the block holding state. */
static ll_module *two_versions(ll_block *b, uint8_t *before)
{
    ll_error err;
    test_block(b, 1 << 20);
    for (int i = 0; i < WATCHED; i++) b->base[i] = (uint8_t)(i * 7);
    ll_module *m =
        ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT, .block = b);
    cr_assert(m, "%s", err.msg);
    call c = {.m = m};
    cr_assert_eq(ll_module_protect(m, call_value_into, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.result, 1);
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 2);
    memcpy(before, b->base, WATCHED);
    return m;
}

static void fault_is_caught(int kind, int sig, const char *name, const char *where)
{
    ll_block b;
    static uint8_t before[WATCHED];
    ll_module *m = two_versions(&b, before);
    ll_error err;
    call c = {.m = m, .kind = kind, .state = b.base + STATE_OFFSET, .size = STATE_SIZE};
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), -1, "the fault was not reported");
    cr_assert(strstr(err.msg, name), "want %s in: %s", name, err.msg);
    cr_assert(strstr(err.msg, where), "want %s in: %s", where, err.msg);
    cr_assert(strstr(err.msg, "'libgame.so' version 2"), "%s", err.msg);
    cr_assert(strstr(err.msg, "(libgame.so"), "the module is named: %s", err.msg);
    cr_assert(strstr(err.msg, "rolled back to version 1"), "%s", err.msg);
    cr_assert(strstr(err.msg, "block restored to its state before the call"), "%s", err.msg);
    cr_assert(memcmp(b.base, before, WATCHED) == 0, "the block equals its pre-call snapshot");
    cr_assert_eq(call_value(m), 1, "the last good version runs again");
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.fault.signal, sig);
    cr_assert_eq(info.faults, 1);
    cr_assert_eq(info.rollbacks, 1);
    cr_assert_eq(info.version, 1);
    /* It keeps running: calls work and the next build loads as usual. */
    call ok = {.m = m};
    cr_assert_eq(ll_module_protect(m, call_value_into, &ok, &err), 0, "%s", err.msg);
    cr_assert_eq(ok.result, 1);
    install(&t, "v3");
    cr_assert_eq(poll_until(m, &err, 3000), 1, "%s", err.msg);
    cr_assert_eq(call_value(m), 3);
    ll_module_close(m);
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(protect, segv)
{
    fault_is_caught(CRASH_SEGV, SIGSEGV, "SIGSEGV (Segmentation fault) at address 0x10 in crash+0x",
                    "(libgame.so version 2)");
}

Test(protect, bus)
{
    fault_is_caught(CRASH_BUS, SIGBUS, "SIGBUS (Bus error)", "(libgame.so version 2)");
}

Test(protect, ill)
{
    fault_is_caught(CRASH_ILL, SIGILL, "SIGILL (Illegal instruction)", "in crash+0x");
}

Test(protect, fpe)
{
    fault_is_caught(CRASH_FPE, SIGFPE, "SIGFPE (Floating point exception)", "in crash+0x");
}

/* abort() raises the signal inside libc, which holds no lock then: the
 * probe finds the C library usable, so the call is rolled back as usual,
 * and the report names the module function that called abort. The
 * timeout turns a hang into a failure. */
Test(protect, abort, .timeout = 10)
{
    fault_is_caught(CRASH_ABORT, SIGABRT, "SIGABRT (Aborted)", "called from crash+0x");
}

/* A small double free: glibc's per-thread cache notices it without a lock. */
Test(protect, double_free_in_the_thread_cache, .timeout = 10)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer reports a double free itself");
#endif
    fault_is_caught(CRASH_DOUBLE_FREE, SIGABRT, "SIGABRT (Aborted)", "called from double_free+0x");
}

Test(protect, stack_overflow)
{
    /* recurse() is static: named from the file's .symtab. */
    fault_is_caught(CRASH_STACK, SIGSEGV, "SIGSEGV (Segmentation fault) at address 0x",
                    "(stack overflow) in recurse+0x");
}

/* Calls to where no code is: the handler must not read the bytes at pc
 * (the unwinder did, and died of it); the caller is the return address at
 * sp. */
Test(protect, call_to_pc_0x10)
{
    fault_is_caught(CRASH_CALL_LOW, SIGSEGV, "SIGSEGV (Segmentation fault) at address 0x10 in 0x10",
                    "(no code loaded there), called from crash+0x");
}

Test(protect, call_into_a_just_unmapped_page)
{
    /* call_unmapped() is static: its name comes from .symtab. */
    fault_is_caught(CRASH_CALL_UNMAPPED, SIGSEGV, "SIGSEGV (Segmentation fault) at address 0x",
                    "(no code loaded there), called from call_unmapped+0x");
}

Test(protect, call_into_garbage)
{
    /* The state: mapped, but data (0xab bytes), not code. */
    fault_is_caught(CRASH_CALL_GARBAGE, SIGSEGV, "SIGSEGV (Segmentation fault) at address 0x",
                    "called from crash+0x");
}

/* A child that dies from a signal leaves its module's folder of copies
 * (looplive-NAME-PID-XXXXXX) for a later open to sweep: remove it now, so
 * that the tests leave nothing in the temporary directory. */
static void remove_copies_of(pid_t pid)
{
    const char *tmp = getenv("TMPDIR");
    char pattern[PATH_MAX];
    snprintf(pattern, sizeof pattern, "%s/looplive-*-%ld-*", tmp && *tmp ? tmp : "/tmp", (long)pid);
    glob_t dirs;
    if (glob(pattern, GLOB_ONLYDIR, NULL, &dirs) != 0) return;
    for (size_t i = 0; i < dirs.gl_pathc; i++) {
        char files[PATH_MAX + 4];
        snprintf(files, sizeof files, "%s/*", dirs.gl_pathv[i]);
        glob_t inside;
        if (glob(files, 0, NULL, &inside) == 0) {
            for (size_t j = 0; j < inside.gl_pathc; j++) unlink(inside.gl_pathv[j]);
            globfree(&inside);
        }
        rmdir(dirs.gl_pathv[i]);
    }
    globfree(&dirs);
}

/* Runs body in a child and returns its wait status. */
static int in_child(void (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    remove_copies_of(pid);
    return status;
}

/* What the child of the test below saw. */
typedef struct unsafe_report {
    int rc, code, rc_after, code_after, result_after;
    uint8_t state;
    uint64_t version, caller;
    char msg[1024], msg_after[1024];
} unsafe_report;

static int report_fd = -1;

/* In a child: after the fault the heap lock stays taken, so the child must
 * leave with _exit (criterion's own bookkeeping would wait for it). */
static void double_free_child(void)
{
    ll_block b;
    static uint8_t before[WATCHED];
    static unsafe_report r;
    ll_module *m = two_versions(&b, before);
    ll_error err;
    call c = {
        .m = m, .kind = CRASH_DOUBLE_FREE_BIG, .state = b.base + STATE_OFFSET, .size = STATE_SIZE};
    r.rc = ll_module_protect(m, call_crash, &c, &err);
    r.code = err.code;
    memcpy(r.msg, err.msg, sizeof r.msg);
    r.state = b.base[STATE_OFFSET];
    ll_module_info info;
    ll_module_query(m, &info);
    r.version = info.version;
    r.caller = info.fault.caller;
    call ok = {.m = m, .result = -5};
    r.rc_after = ll_module_protect(m, call_value_into, &ok, &err);
    r.code_after = err.code;
    memcpy(r.msg_after, err.msg, sizeof r.msg_after);
    r.result_after = ok.result;
    if (write(report_fd, &r, sizeof r) != (ssize_t)sizeof r) _exit(4);
    _exit(0); /* no close, no release: they would free */
}

/* A double free of a large chunk: glibc aborts while it holds the arena's
 * lock. Nothing that could take it runs: no restore, no rollback, no free;
 * the error says the process cannot continue, and later calls are refused
 * without calling in. A hang fails the test after 10 s. */
Test(protect, double_free_holding_the_heap_lock, .timeout = 10)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer reports a double free itself");
#endif
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    report_fd = fds[1];
    int status = in_child(double_free_child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    static unsafe_report r;
    cr_assert_eq(read(fds[0], &r, sizeof r), (ssize_t)sizeof r);
    cr_assert_eq(r.rc, -1);
    cr_assert_eq(r.code, ENOTRECOVERABLE, "%s", r.msg);
    cr_assert(strstr(r.msg, "SIGABRT (Aborted) in "), "%s", r.msg);
    cr_assert(strstr(r.msg, "called from double_free+0x"), "%s", r.msg);
    cr_assert(strstr(r.msg, "inside libc.so.6"), "%s", r.msg);
    cr_assert(strstr(r.msg, "cannot safely continue"), "%s", r.msg);
    cr_assert_eq(r.state, 0xab, "nothing was restored");
    cr_assert_eq(r.version, 2, "nothing was rolled back");
    cr_assert_neq(r.caller, 0);
    cr_assert_eq(r.rc_after, -1);
    cr_assert_eq(r.code_after, ENOTRECOVERABLE);
    cr_assert(
        strstr(r.msg_after, "not calling into 'libgame.so': an earlier fault inside a library"),
        "%s", r.msg_after);
    cr_assert_eq(r.result_after, -5, "the module was not called");
}

Test(protect, fault_report_fields_and_signal_mask)
{
    ll_block b;
    static uint8_t before[WATCHED];
    ll_module *m = two_versions(&b, before);
    ll_error err;
    call c = {.m = m, .kind = CRASH_SEGV, .state = b.base + STATE_OFFSET, .size = STATE_SIZE};
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), -1);
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_eq(info.fault.addr, 0x10);
    cr_assert_neq(info.fault.pc, 0);
    cr_assert_eq(info.fault.code, SEGV_MAPERR);
    cr_assert(strstr(info.fault.where, "crash+0x"), "%s", info.fault.where);
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    cr_assert_not(sigismember(&now, SIGSEGV), "the fault signal is open again");
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), -1, "and a second fault is caught");
    ll_module_close(m);
    ll_snap_end(&b);
    ll_block_release(&b);
}

static void *overflow_in_thread(void *arg)
{
    ll_module *m = arg;
    ll_error err;
    uint8_t state[64];
    call c = {.m = m, .kind = CRASH_STACK, .state = state, .size = sizeof state};
    int rc = ll_module_protect(m, call_crash, &c, &err);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err.msg, "(stack overflow)"), "%s", err.msg);
    return NULL;
}

Test(protect, stack_overflow_in_another_thread)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, overflow_in_thread, m), 0);
    pthread_join(th, NULL);
    cr_assert_eq(call_value(m), 1, "the main thread goes on");
    ll_module_close(m);
}

static volatile sig_atomic_t host_handler_ran;
static sigjmp_buf host_jump;

static void host_handler(int sig)
{
    host_handler_ran = sig;
    siglongjmp(host_jump, 1);
}

Test(protect, a_host_handler_still_sees_its_own_faults)
{
    struct sigaction sa = {.sa_handler = host_handler}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, &old);
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    if (sigsetjmp(host_jump, 1) == 0) raise(SIGFPE); /* outside any protected call */
    cr_assert_eq(host_handler_ran, SIGFPE, "the host's handler was called");
    ll_module_close(m);
    sigaction(SIGFPE, &old, NULL);
}

typedef struct counted {
    call c;
    ll_block *block;
    size_t snaps; /* live snapshots of the block during the call */
} counted;

static void crash_counting(void *arg)
{
    counted *k = arg;
    k->snaps = ll_snap_count(k->block);
    call_crash(&k->c);
}

/* The caller's snapshot instead of one per call: a fault restores the
 * block to it byte for byte, and the snapshot stays the caller's. */
Test(protect, fault_with_a_caller_snapshot_restores_exactly)
{
    ll_block b;
    static uint8_t before[WATCHED];
    ll_module *m = two_versions(&b, before);
    ll_error err;
    for (uint64_t off = WATCHED; off < b.size; off += 4096) b.base[off + 3] = (uint8_t)off;
    uint8_t *want = malloc(b.size);
    memcpy(want, b.base, b.size);
    ll_snap *s = ll_snap_take(&b, &err);
    cr_assert(s, "%s", err.msg);
    size_t snaps = ll_snap_count(&b);
    counted k = {
        .c = {.m = m, .kind = CRASH_SEGV, .state = b.base + STATE_OFFSET, .size = STATE_SIZE},
        .block = &b};
    cr_assert_eq(ll_module_protect(m, crash_counting, &k, &err, .snap = s), -1);
    cr_assert_eq(k.snaps, snaps, "the call took no snapshot of its own");
    cr_assert(strstr(err.msg, "rolled back to version 1"), "%s", err.msg);
    cr_assert(strstr(err.msg, "block restored to its state before the call"), "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0, "the block equals the caller's snapshot");
    cr_assert_eq(ll_snap_count(&b), snaps, "the caller's snapshot is not dropped");
    /* A call that returns keeps its writes and the snapshot too. */
    uint8_t state[16] = {0};
    k = (counted){.c = {.m = m, .kind = 99, .state = state, .size = sizeof state}, .block = &b};
    cr_assert_eq(ll_module_protect(m, crash_counting, &k, &err, .snap = s), 0, "%s", err.msg);
    cr_assert_eq(state[0], 0xab);
    cr_assert_eq(k.snaps, snaps);
    cr_assert_eq(ll_snap_count(&b), snaps);
    memset(b.base + STATE_OFFSET, 0xee, STATE_SIZE);
    cr_assert_eq(ll_snap_restore(&b, s, &err), 0, "%s", err.msg);
    cr_assert_eq(memcmp(b.base, want, b.size), 0, "the snapshot is still the caller's to use");
    /* Without .snap the call takes one of its own (and drops it). */
    k = (counted){.c = {.m = m, .kind = 99, .state = state, .size = sizeof state}, .block = &b};
    cr_assert_eq(ll_module_protect(m, crash_counting, &k, &err), 0, "%s", err.msg);
    cr_assert_eq(k.snaps, snaps + 1);
    cr_assert_eq(ll_snap_count(&b), snaps);
    free(want);
    ll_snap_drop(&b, s);
    ll_module_close(m);
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(protect, fault_in_a_good_version_stays_on_it)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    uint8_t state[64];
    call c = {.m = m, .kind = CRASH_SEGV, .state = state, .size = sizeof state};
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), -1);
    cr_assert(strstr(err.msg, "no earlier good version to roll back to"), "%s", err.msg);
    cr_assert(strstr(err.msg, "no block to restore"), "%s", err.msg);
    cr_assert_eq(call_value(m), 1);
    ll_module_close(m);
}

Test(protect, a_call_that_returns)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    uint8_t state[16] = {0};
    call c = {.m = m, .kind = 99, .state = state, .size = sizeof state};
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.result, 1, "an unknown kind returns the version");
    cr_assert_eq(state[0], 0xab, "a protected call's writes stay");
    ll_module_close(m);
}

/* Under AddressSanitizer the previous handler of SIGSEGV, SIGBUS and SIGFPE
 * is ASan's (handle_segv, handle_sigbus, handle_sigfpe default on): it
 * prints its report and exits with status 1 instead of dying from the
 * signal. That is still the behaviour without looplive, which is the point. */
static void died_from(int status, int sig)
{
#if defined(__SANITIZE_ADDRESS__)
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE) {
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "status 0x%x", status);
        return;
    }
#endif
    cr_assert(WIFSIGNALED(status), "status 0x%x: the child did not die from a signal", status);
    cr_assert_eq(WTERMSIG(status), sig);
}

static ll_module *child_open(int unprotected)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .unprotected = unprotected);
    if (!m) _exit(3);
    return m;
}

static volatile uintptr_t low_address = 16; /* not NULL: UBSan would stop first */

static void segv_outside_module(void)
{
    child_open(0);
    *(volatile int *)low_address = 1; /* the host's own bug */
}

static void abort_outside_module(void)
{
    child_open(0);
    abort();
}

static void segv_with_protection_off(void)
{
    ll_module *m = child_open(1);
    uint8_t state[16];
    call c = {.m = m, .kind = CRASH_SEGV, .state = state, .size = sizeof state};
    ll_module_protect(m, call_crash, &c, NULL);
}

static void module_called_without_protect(void)
{
    ll_module *m = child_open(0);
    uint8_t state[16];
    ((crash_fn *)ll_module_symbol(m, SYM_CRASH))(CRASH_FPE, state, sizeof state);
}

Test(protect, faults_outside_module_code_keep_their_behaviour)
{
    died_from(in_child(segv_outside_module), SIGSEGV);
    died_from(in_child(abort_outside_module), SIGABRT);
    died_from(in_child(module_called_without_protect), SIGFPE);
}

Test(protect, unprotected_lets_the_fault_through)
{
    died_from(in_child(segv_with_protection_off), SIGSEGV);
}

Test(protect, handlers_are_put_back_on_close)
{
    struct sigaction before, during, after;
    sigaction(SIGSEGV, NULL, &before);
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = 1);
    cr_assert(m, "%s", err.msg);
    sigaction(SIGSEGV, NULL, &during);
    cr_assert(during.sa_sigaction != before.sa_sigaction);
    ll_module_close(m);
    sigaction(SIGSEGV, NULL, &after);
    cr_assert(after.sa_sigaction == before.sa_sigaction);
}

/* ---- guard pages: one dispatcher, whatever the order ------------------- */

enum { GUARDED = 4096 };

static void guard_hit_is_a_protected_fault(int arena_first)
{
    ll_block b;
    ll_error err;
    test_block(&b, 1 << 20);
    ll_arena *a = NULL;
    if (arena_first) a = ll_arena_create(&b, "particles", GUARDED, &err, .guard = 1);
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .block = &b);
    cr_assert(m, "%s", err.msg);
    /* The host's order: the arena is created after the module is open. */
    if (!arena_first) a = ll_arena_create(&b, "particles", GUARDED, &err, .guard = 1);
    cr_assert(a, "%s", err.msg);
    a->begin[0] = 7;
    /* memset runs past the arena's end into its guard page. */
    call c = {.m = m, .kind = 99, .state = a->begin, .size = GUARDED + 64};
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), -1, "the guard hit was not caught");
    cr_assert_eq(err.code, EFAULT, "%s", err.msg);
    cr_assert(strstr(err.msg, "SIGSEGV (Segmentation fault) at address 0x"), "%s", err.msg);
    cr_assert(strstr(err.msg, ": ran past the end of arena 'particles' (0x"), "%s", err.msg);
    cr_assert(strstr(err.msg, "called from crash+0x"), "%s", err.msg);
    cr_assert(strstr(err.msg, "block restored to its state before the call"), "%s", err.msg);
    cr_assert_eq(a->begin[0], 7, "the partial memset is undone");
    call ok = {.m = m};
    cr_assert_eq(ll_module_protect(m, call_value_into, &ok, &err), 0, "%s", err.msg);
    ll_module_close(m);
    ll_snap_end(&b);
    ll_block_release(&b);
}

Test(protect, guard_hit_in_a_protected_call_with_the_arena_made_after_open)
{
    guard_hit_is_a_protected_fault(0);
}

Test(protect, guard_hit_in_a_protected_call_with_the_arena_made_before_open)
{
    guard_hit_is_a_protected_fault(1);
}

static void guard_hit_outside(void)
{
    ll_block b;
    ll_error err;
    test_block(&b, 1 << 20);
    child_open(0);
    ll_arena *a = ll_arena_create(&b, "particles", GUARDED, &err, .guard = 1);
    if (!a) _exit(3);
    ((volatile uint8_t *)a->begin)[GUARDED + 8] = 1; /* the host's own bug */
}

/* Outside a protected call: named on stderr, then the default action. */
Test(protect, guard_hit_outside_a_protected_call_names_the_arena_and_dies)
{
    char path[] = "/tmp/ll-guard-stderr-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    int saved = dup(2);
    dup2(fd, 2);
    int status = in_child(guard_hit_outside);
    dup2(saved, 2);
    close(saved);
    char text[1024] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    unlink(path);
    cr_assert_gt(n, 0, "nothing on stderr");
    died_from(status, SIGSEGV);
    cr_assert(strstr(text, "looplive: guard page hit at 0x"), "%s", text);
    cr_assert(strstr(text, ": ran past the end of arena 'particles' (0x"), "%s", text);
}

/* ---- previous handlers: their own mask and flags ---------------------- */

static volatile sig_atomic_t seen_signo, seen_usr1_blocked, seen_self_blocked, seen_calls;

static void record_mask(int sig)
{
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    seen_usr1_blocked = sigismember(&now, SIGUSR1);
    seen_self_blocked = sigismember(&now, sig);
    seen_calls++;
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    seen_signo = si->si_signo;
    record_mask(sig);
}

static void plain_handler(int sig)
{
    seen_signo = sig;
    record_mask(sig);
}

static ll_module *open_over(int sig, const struct sigaction *sa, struct sigaction *old)
{
    sigaction(sig, sa, old);
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT);
    cr_assert(m, "%s", err.msg);
    seen_signo = seen_usr1_blocked = seen_self_blocked = seen_calls = 0;
    return m;
}

Test(protect, a_previous_siginfo_handler_gets_its_info_and_mask)
{
    struct sigaction sa = {.sa_sigaction = info_handler, .sa_flags = SA_SIGINFO}, old;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    ll_module *m = open_over(SIGFPE, &sa, &old);
    raise(SIGFPE);
    cr_assert_eq(seen_signo, SIGFPE, "the handler got its siginfo");
    cr_assert_eq(seen_usr1_blocked, 1, "its sa_mask applies");
    cr_assert_eq(seen_self_blocked, 1, "without SA_NODEFER the signal is blocked");
    ll_module_close(m);
    sigaction(SIGFPE, &old, NULL);
}

Test(protect, a_previous_nodefer_handler_runs_with_its_signal_open)
{
    struct sigaction sa = {.sa_handler = plain_handler, .sa_flags = SA_NODEFER}, old;
    sigemptyset(&sa.sa_mask);
    ll_module *m = open_over(SIGILL, &sa, &old);
    raise(SIGILL);
    cr_assert_eq(seen_signo, SIGILL);
    cr_assert_eq(seen_self_blocked, 0);
    cr_assert_eq(seen_usr1_blocked, 0);
    ll_module_close(m);
    sigaction(SIGILL, &old, NULL);
}

Test(protect, a_previously_ignored_signal_stays_ignored)
{
    struct sigaction sa = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&sa.sa_mask);
    ll_module *m = open_over(SIGBUS, &sa, &old);
    raise(SIGBUS); /* would kill under the default action */
    ll_module_close(m);
    sigaction(SIGBUS, &old, NULL);
}

static void resethand_twice(void)
{
    struct sigaction sa = {.sa_handler = plain_handler, .sa_flags = SA_RESETHAND}, old;
    sigemptyset(&sa.sa_mask);
    open_over(SIGBUS, &sa, &old);
    raise(SIGBUS);
    if (seen_calls != 1) _exit(5);
    raise(SIGBUS); /* the handler was reset: the default action */
    _exit(6);
}

Test(protect, a_previous_resethand_handler_runs_once_then_the_default)
{
    /* The kernel's default, not a sanitizer's handler: SA_RESETHAND asked
     * for SIG_DFL. */
    int status = in_child(resethand_twice);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, "status 0x%x", status);
}

/* A lookup (the loop's looplive_app() call) that returns does not make a
 * new version good: a crash in its first real call still rolls back. */
Test(protect, a_lookup_does_not_make_a_version_good)
{
    ll_block b;
    static uint8_t before[WATCHED];
    ll_module *m = two_versions(&b, before);
    ll_error err;
    call v = {.m = m};
    cr_assert_eq(ll_module_protect(m, call_value_into, &v, &err, .lookup = 1), 0, "%s", err.msg);
    cr_assert_eq(v.result, 2);
    call c = {.m = m, .kind = CRASH_SEGV, .state = b.base + STATE_OFFSET, .size = STATE_SIZE};
    cr_assert_eq(ll_module_protect(m, call_crash, &c, &err), -1);
    cr_assert(strstr(err.msg, "rolled back to version 1"), "%s", err.msg);
    ll_module_close(m);
    ll_snap_end(&b);
    ll_block_release(&b);
}

/* .no_watch: no thread (the host's first, protected looplive_app() call
 * uses one before the block exists); builds load only when asked. */
Test(protect, a_module_without_a_watcher_loads_on_request)
{
    ll_error err;
    ll_module *m = ll_module_open(t.lib, &err, .symbols = test_symbols, .symbol_count = SYM_COUNT,
                                  .no_watch = 1);
    cr_assert(m, "%s", err.msg);
    ll_module_info info;
    ll_module_query(m, &info);
    cr_assert_str_eq(info.watch, "none");
    install(&t, "v2");
    cr_assert_eq(poll_until(m, &err, 300), 0, "nothing watches");
    cr_assert_eq(call_value(m), 1);
    cr_assert_eq(ll_module_reload(m, &err), 0, "%s", err.msg);
    cr_assert_eq(call_value(m), 2);
    cr_assert_eq(ll_module_version(m), 2);
    ll_module_close(m);
}

/* The guard pages' description is registered while a guarded block lives:
 * releasing the last one puts the previous handlers back. */
Test(protect, releasing_the_last_guarded_block_puts_the_handlers_back)
{
    struct sigaction before, during, after;
    sigaction(SIGSEGV, NULL, &before);
    ll_block b;
    ll_error err;
    test_block(&b, 1 << 20);
    cr_assert(ll_arena_create(&b, "particles", GUARDED, &err, .guard = 1), "%s", err.msg);
    sigaction(SIGSEGV, NULL, &during);
    cr_assert(during.sa_sigaction != before.sa_sigaction, "no handler while guarded");
    ll_block_release(&b);
    sigaction(SIGSEGV, NULL, &after);
    cr_assert(after.sa_sigaction == before.sa_sigaction);
}
