/* fault.c - the one fault dispatcher (see fault.h for the model).
 * The handler records and jumps or passes on; it never allocates, names
 * or unwinds: whoever catches a fault does that after its siglongjmp. */
#include "base/fault.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

enum { MAX_CLIENTS = 16, ALT_STACK_SIZE = 64 * 1024 };

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
/* Signals that end the process by default: restore hooks must run first. */
static const int end_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP};
/* Installed while a client continues faults (a write watch's traps). */
static const int trap_signals[] = {SIGTRAP};

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static const fault_client *clients[MAX_CLIENTS];
static int fault_users, restore_users, continue_users;
static struct sigaction previous[NSIG];
static volatile sig_atomic_t ours[NSIG]; /* 1 while our handler is installed */

/* ---- async-signal-safe text ----------------------------------------------- */

void fault_append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    while (*s && n + 1 < cap) buf[n++] = *s++;
    buf[n] = 0;
}

void fault_append_hex(char *buf, size_t cap, uint64_t v)
{
    char text[19] = "0x", digits[16];
    int n = 0;
    do digits[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) && n < 16);
    for (int i = 0; i < n; i++) text[2 + i] = digits[n - 1 - i];
    text[2 + n] = 0;
    fault_append(buf, cap, text);
}

void fault_say(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

void fault_say_hex(uint64_t v)
{
    char buf[24] = "";
    fault_append_hex(buf, sizeof buf, v);
    fault_say(buf);
}

/* ---- what the handler records -------------------------------------------- */

static void read_context(fault_event *ev, const ucontext_t *u)
{
#if defined(__x86_64__)
    ev->sp = (uint64_t)u->uc_mcontext.gregs[REG_RSP];
    ev->pc = (uint64_t)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    ev->sp = (uint64_t)u->uc_mcontext.sp;
    ev->pc = (uint64_t)u->uc_mcontext.pc;
#endif
    ev->mask = u->uc_sigmask;
}

int fault_step_set(fault_event *ev, int on)
{
#if defined(__x86_64__)
    enum { TRAP_FLAG = 0x100 }; /* EFLAGS.TF: sigreturn lets a process set it */
    ucontext_t *u = ev->context;
    if (on)
        u->uc_mcontext.gregs[REG_EFL] |= TRAP_FLAG;
    else
        u->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)TRAP_FLAG;
    return 0;
#else
    (void)ev, (void)on;
    return -1;
#endif
}

/* The words from sp up, page by page: process_vm_readv on ourselves
 * returns an error instead of faulting where a page is missing, and stops
 * at the first iovec it cannot read. */
static void read_stack(fault_event *ev)
{
    uint64_t page = ll_page_size_get(), at = ev->sp, want = sizeof ev->stack;
    struct iovec local = {ev->stack, want}, remote[4];
    int n = 0;
    while (want && n < 4) {
        uint64_t len = ll_align_down(at, page) + page - at;
        if (len > want) len = want;
        remote[n++] = (struct iovec){(void *)(uintptr_t)at, len};
        at += len, want -= len;
    }
    ssize_t got = ev->sp ? process_vm_readv(getpid(), &local, 1, remote, (unsigned long)n, 0) : -1;
    ev->stack_words = got > 0 ? (int)(got / 8) : 0;
}

static const fault_client *client_at(int i)
{
    return __atomic_load_n(&clients[i], __ATOMIC_ACQUIRE);
}

void fault_restore_all(void)
{
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const fault_client *c = client_at(i);
        if (c && c->restore) c->restore();
    }
}

static void resume_all(void)
{
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const fault_client *c = client_at(i);
        if (c && c->resume) c->resume();
    }
}

static int is_fault_signal(int sig)
{
    for (size_t i = 0; i < LL_ARRAY_COUNT(fault_signals); i++)
        if (fault_signals[i] == sig) return 1;
    return sig == SIGTRAP;
}

/* ---- passing a signal on --------------------------------------------------- */

static void set_default(int sig)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    ours[sig] = 0;
}

/* Where the signal went before us: a handler gets the mask and flags it
 * asked for; the default action is taken by resetting and letting the
 * fault happen again (or raising a sent signal again). */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
    struct sigaction old = previous[sig];
    /* A fault repeats when the handler returns; anything else (kill, the
     * terminal's Ctrl-C, abort) must be sent again. */
    int fault = sig != SIGABRT && sig != SIGTRAP && is_fault_signal(sig) && si->si_code > 0;
    if (old.sa_handler == SIG_IGN && !fault) return;
    if (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) {
        set_default(sig);
        if (!fault) raise(sig); /* delivered when the handler returns */
        return;
    }
    if (old.sa_flags & SA_RESETHAND) previous[sig].sa_handler = SIG_DFL;
    sigset_t mask = ((const ucontext_t *)uc)->uc_sigmask, back;
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&old.sa_mask, s) == 1) sigaddset(&mask, s);
    if (!(old.sa_flags & SA_NODEFER)) sigaddset(&mask, sig);
    pthread_sigmask(SIG_SETMASK, &mask, &back);
    if (old.sa_flags & SA_SIGINFO)
        old.sa_sigaction(sig, si, uc);
    else
        old.sa_handler(sig);
    pthread_sigmask(SIG_SETMASK, &back, NULL);
    resume_all();
}

/* Ctrl-Z: give the terminal back, stop as before, take it again on `fg`. */
static void on_stop(int sig, siginfo_t *si, void *uc)
{
    fault_restore_all();
    if (previous[sig].sa_handler != SIG_DFL) {
        pass_on(sig, si, uc);
        return;
    }
    struct sigaction now;
    sigaction(sig, NULL, &now);
    set_default(sig);
    raise(sig); /* SA_NODEFER: stops here until SIGCONT */
    sigaction(sig, &now, NULL);
    ours[sig] = 1;
    resume_all();
}

/* A signal that ends the process (Ctrl-C, kill): nobody catches it. */
static void on_end(int sig, siginfo_t *si, void *uc)
{
    if (sig == SIGTSTP) {
        on_stop(sig, si, uc);
        return;
    }
    fault_restore_all();
    pass_on(sig, si, uc);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    if (!is_fault_signal(sig)) {
        on_end(sig, si, uc);
        errno = saved_errno;
        return;
    }
    fault_event ev;
    memset(&ev, 0, offsetof(fault_event, stack));
    ev.signal = sig;
    ev.code = si->si_code;
    ev.addr = (uint64_t)(uintptr_t)si->si_addr;
    ev.what[0] = 0;
    ev.context = uc;
    read_context(&ev, uc);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const fault_client *c = client_at(i);
        if (c && c->continue_fault && c->continue_fault(&ev)) {
            errno = saved_errno;
            return;
        }
    }
    if (sig == SIGTRAP) { /* nobody's: as if we were not there */
        pass_on(sig, si, uc);
        errno = saved_errno;
        return;
    }
    read_stack(&ev);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const fault_client *c = client_at(i);
        if (c && c->describe && c->describe(&ev)) break;
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const fault_client *c = client_at(i);
        if (c && c->catch_fault) c->catch_fault(&ev); /* may not return */
    }
    fault_restore_all(); /* first: the line must land on the normal screen */
    /* The one place the library writes to the terminal itself: no client
     * caught the fault and the signal passes on to end the process, so no
     * caller is left to hand an ll_error to, stdio may be locked by the
     * faulting code, and a callback would have to be async-signal-safe too;
     * write(2) of the line the describe hooks built is the last word. */
    if (ev.what[0]) {
        fault_say("looplive: ");
        fault_say(ev.what);
        fault_say("\n");
    }
    pass_on(sig, si, uc);
    errno = saved_errno;
}

/* ---- installing ---------------------------------------------------------- */

static int install(int sig, int keep_ignored, ll_error *err)
{
    if (ours[sig]) return 0;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | (sig == SIGTSTP ? SA_NODEFER | SA_RESTART : 0);
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, NULL, &old) != 0)
        return ll_fail(err, errno, "cannot read the handler of %s: %s", strsignal(sig),
                       strerror(errno));
    /* An ignored end signal (nohup, a background job) stays ignored:
     * catching it would turn it into an exit. */
    if (keep_ignored && old.sa_handler == SIG_IGN) return 0;
    previous[sig] = old;
    if (sigaction(sig, &sa, NULL) != 0)
        return ll_fail(err, errno, "cannot install a signal handler for %s: %s", strsignal(sig),
                       strerror(errno));
    ours[sig] = 1;
    return 0;
}

static void uninstall(int sig)
{
    if (!ours[sig]) return;
    struct sigaction now;
    sigaction(sig, NULL, &now);
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_signal)
        sigaction(sig, &previous[sig], NULL); /* else someone replaced us: theirs stays */
    ours[sig] = 0;
}

static int install_all(const int *sigs, size_t n, int keep_ignored, ll_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (install(sigs[i], keep_ignored, err) != 0) {
            while (i-- > 0) uninstall(sigs[i]);
            return -1;
        }
    }
    return 0;
}

static void uninstall_all(const int *sigs, size_t n)
{
    for (size_t i = 0; i < n; i++) uninstall(sigs[i]);
}

static int add_client(const fault_client *client)
{
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i]) continue;
        __atomic_store_n(&clients[i], client, __ATOMIC_RELEASE);
        return 0;
    }
    return -1;
}

int fault_register(const fault_client *client, ll_error *err)
{
    pthread_mutex_lock(&fault_lock);
    int rc = 0;
    if (fault_users == 0) rc = install_all(fault_signals, LL_ARRAY_COUNT(fault_signals), 0, err);
    if (rc == 0 && client->restore && restore_users == 0 &&
        install_all(end_signals, LL_ARRAY_COUNT(end_signals), 1, err) != 0) {
        if (fault_users == 0) uninstall_all(fault_signals, LL_ARRAY_COUNT(fault_signals));
        rc = -1;
    }
    if (rc == 0 && client->continue_fault && continue_users == 0 &&
        install_all(trap_signals, LL_ARRAY_COUNT(trap_signals), 0, err) != 0) {
        if (client->restore && restore_users == 0)
            uninstall_all(end_signals, LL_ARRAY_COUNT(end_signals));
        if (fault_users == 0) uninstall_all(fault_signals, LL_ARRAY_COUNT(fault_signals));
        rc = -1;
    }
    if (rc == 0 && add_client(client) != 0)
        rc = ll_fail(err, ENOSPC,
                     "cannot register a fault handler: all %d places are taken (try: close a "
                     "module first)",
                     MAX_CLIENTS);
    if (rc == 0) {
        fault_users++;
        if (client->restore) restore_users++;
        if (client->continue_fault) continue_users++;
    }
    pthread_mutex_unlock(&fault_lock);
    return rc;
}

void fault_unregister(const fault_client *client)
{
    pthread_mutex_lock(&fault_lock);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i] != client) continue;
        __atomic_store_n(&clients[i], NULL, __ATOMIC_RELEASE);
        if (client->restore && --restore_users == 0)
            uninstall_all(end_signals, LL_ARRAY_COUNT(end_signals));
        if (client->continue_fault && --continue_users == 0)
            uninstall_all(trap_signals, LL_ARRAY_COUNT(trap_signals));
        if (--fault_users == 0) uninstall_all(fault_signals, LL_ARRAY_COUNT(fault_signals));
        break;
    }
    pthread_mutex_unlock(&fault_lock);
}

/* ---- the alternate signal stack, one per thread --------------------------- */

static pthread_key_t alt_stack_key;
static pthread_once_t alt_stack_once = PTHREAD_ONCE_INIT;
static __thread int alt_stack_ready;

static void alt_stack_free(void *mem)
{
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    munmap(mem, ALT_STACK_SIZE + ll_page_size_get());
}

static void alt_stack_key_make(void)
{
    pthread_key_create(&alt_stack_key, alt_stack_free);
}

/* ---- is the C library still usable? ---------------------------------------- */

enum { PROBE_CHUNK = 4096 }; /* past tcache and fastbins: freed under the arena lock */

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static int probe_req = -1, probe_ans = -1; /* pipe ends the caller uses */
static int probe_running;                  /* a helper answers (0 after fork) */
static __thread void *probe_chunk;         /* from this thread's arena */

static void *probe_main(void *arg)
{
    int *fds = arg; /* request read end, answer write end */
    void *chunk;
    while (read(fds[0], &chunk, sizeof chunk) == (ssize_t)sizeof chunk) {
        free(chunk); /* blocks for good when the arena's lock is held */
        free(malloc(64));
        (void)dlsym(RTLD_DEFAULT, "free"); /* the loader's lock (a fault in dlsym) */
        char ok = 1;
        FILE *files[] = {stdout, stderr};
        for (int i = 0; i < 2; i++) {
            if (ftrylockfile(files[i]) == 0)
                funlockfile(files[i]);
            else
                ok = 0;
        }
        if (write(fds[1], &ok, 1) != 1) break;
    }
    return NULL;
}

static void probe_after_fork(void)
{
    probe_running = 0; /* the helper did not come along */
}

static int probe_start(ll_error *err)
{
    static int fds[2], atfork_done;
    int req[2], ans[2];
    if (pipe2(req, O_CLOEXEC) != 0)
        return ll_fail(err, errno,
                       "cannot start crash protection's C library probe: pipe2: %s (try: "
                       "ulimit -n)",
                       strerror(errno));
    if (pipe2(ans, O_CLOEXEC) != 0) {
        int e = errno;
        close(req[0]), close(req[1]);
        return ll_fail(err, e,
                       "cannot start crash protection's C library probe: pipe2: %s (try: "
                       "ulimit -n)",
                       strerror(e));
    }
    if (probe_req >= 0) close(probe_req), close(probe_ans);
    fds[0] = req[0], fds[1] = ans[1];
    probe_req = req[1], probe_ans = ans[0];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int e = pthread_create(&th, &attr, probe_main, fds);
    pthread_attr_destroy(&attr);
    if (e != 0)
        return ll_fail(err, e,
                       "cannot start crash protection's C library probe: a thread: %s (try: "
                       "ulimit -u)",
                       strerror(e));
    if (!atfork_done) pthread_atfork(NULL, NULL, probe_after_fork), atfork_done = 1;
    probe_running = 1;
    return 0;
}

int fault_probe_ready(ll_error *err)
{
    if (!probe_running) {
        pthread_mutex_lock(&probe_lock);
        int rc = probe_running ? 0 : probe_start(err);
        pthread_mutex_unlock(&probe_lock);
        if (rc != 0) return -1;
    }
    if (!probe_chunk && !(probe_chunk = malloc(PROBE_CHUNK)))
        return ll_fail(err, ENOMEM,
                       "cannot ready crash protection's C library probe: out of memory");
    return 0;
}

int fault_libc_usable(int timeout_ms)
{
    void *chunk = probe_chunk;
    if (!probe_running || !chunk) return 0;
    probe_chunk = NULL; /* the helper frees it; the next prepare takes another */
    char ok = 0;
    struct pollfd p = {.fd = probe_ans, .events = POLLIN};
    if (write(probe_req, &chunk, sizeof chunk) != (ssize_t)sizeof chunk) return 0;
    if (poll(&p, 1, timeout_ms) != 1 || read(probe_ans, &ok, 1) != 1) {
        probe_running = 0; /* stuck on the lock for good */
        return 0;
    }
    return ok;
}

int fault_thread_prepare(ll_error *err)
{
    if (alt_stack_ready) return 0;
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE)) {
        alt_stack_ready = 1; /* the thread has one already (ASan sets one up) */
        return 0;
    }
    uint64_t page = ll_page_size_get();
    uint8_t *mem = mmap(NULL, ALT_STACK_SIZE + page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED)
        return ll_fail(err, errno, "cannot map an alternate signal stack: %s", strerror(errno));
    mprotect(mem, page, PROT_NONE); /* overflowing the handler faults, not corrupts */
    stack_t ss = {.ss_sp = mem + page, .ss_size = ALT_STACK_SIZE};
    if (sigaltstack(&ss, NULL) != 0) {
        int e = errno;
        munmap(mem, ALT_STACK_SIZE + page);
        return ll_fail(err, e, "cannot set an alternate signal stack: %s", strerror(e));
    }
    pthread_once(&alt_stack_once, alt_stack_key_make);
    pthread_setspecific(alt_stack_key, mem);
    alt_stack_ready = 1;
    return 0;
}
