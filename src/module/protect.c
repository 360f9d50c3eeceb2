/* protect.c - survive a crash in module code.
 * ll_module_protect snapshots the block (or takes the caller's snapshot),
 * arms a per-thread guard and calls in.
 * A fault while a guard is armed jumps back to it (siglongjmp from the
 * handler, which runs on an alternate stack so that a stack overflow can be
 * caught too); the block is restored and the code rolled back. A fault with no
 * guard armed is none of our business: the previous handler is put back and
 * the fault happens again, so the process dies as it would have without us. */
#include "module/module.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

enum { GUARD_FRAMES = 32, ALT_STACK_SIZE = 64 * 1024 };

typedef struct guard {
    sigjmp_buf jump;
    struct guard *prev;
    ll_module *module;
    int signal, code;
    uint64_t addr, pc, sp;
    void *frames[GUARD_FRAMES]; /* only when pc is outside the module (abort) */
    int frame_count;
    sigset_t mask; /* the signal mask when the fault happened */
} guard;

static __thread guard *current_guard;
static __thread int alt_stack_ready;

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int install_count;
static struct sigaction saved[NSIG];
static pthread_key_t alt_stack_key;
static pthread_once_t alt_stack_once = PTHREAD_ONCE_INIT;

static uint64_t context_pc(const void *uc, uint64_t *sp)
{
    const ucontext_t *u = uc;
#if defined(__x86_64__)
    *sp = (uint64_t)u->uc_mcontext.gregs[REG_RSP];
    return (uint64_t)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    *sp = (uint64_t)u->uc_mcontext.sp;
    return (uint64_t)u->uc_mcontext.pc;
#else
    (void)u;
    *sp = 0;
    return 0;
#endif
}

static int in_image(const module_image *img, uint64_t addr)
{
    for (int i = 0; img && i < img->range_count; i++)
        if (addr >= img->ranges[i].start && addr < img->ranges[i].end) return 1;
    return 0;
}

/* A fault that is not ours goes where it would have gone without us: to the
 * previous handler, or to the default action (the process dies of it). */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *old = &saved[sig];
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, si, uc);
        return;
    }
    if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    sigaction(sig, old, NULL);
    if (si->si_code <= 0) raise(sig); /* sent, not a fault: send it again */
    /* A real fault re-executes the instruction on return, under the old action. */
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    guard *g = current_guard;
    if (g) {
        g->signal = sig;
        g->code = si->si_code;
        g->addr = (uint64_t)(uintptr_t)si->si_addr;
        g->pc = context_pc(uc, &g->sp);
        g->mask = ((const ucontext_t *)uc)->uc_sigmask;
        /* abort() and bad pointers handed to libc fault outside the module:
         * keep the call chain to name the module function responsible. */
        if (!in_image(g->module->cur, g->pc)) g->frame_count = backtrace(g->frames, GUARD_FRAMES);
        siglongjmp(g->jump, 1);
    }
    pass_on(sig, si, uc);
}

int module_signals_acquire(ll_error *err)
{
    pthread_mutex_lock(&install_lock);
    if (install_count == 0) {
        void *prime[2];
        backtrace(prime, 2); /* loads the unwinder now: the handler must not */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < LL_ARRAY_COUNT(fault_signals); i++)
            sigaddset(&sa.sa_mask, fault_signals[i]);
        for (size_t i = 0; i < LL_ARRAY_COUNT(fault_signals); i++) {
            int sig = fault_signals[i];
            if (sigaction(sig, &sa, &saved[sig]) != 0) {
                int e = errno;
                while (i-- > 0) sigaction(fault_signals[i], &saved[fault_signals[i]], NULL);
                pthread_mutex_unlock(&install_lock);
                return ll_fail(err, e, "cannot install a signal handler for %s: %s", strsignal(sig),
                               strerror(e));
            }
        }
    }
    install_count++;
    pthread_mutex_unlock(&install_lock);
    return 0;
}

void module_signals_release(void)
{
    pthread_mutex_lock(&install_lock);
    if (install_count > 0 && --install_count == 0) {
        for (size_t i = 0; i < LL_ARRAY_COUNT(fault_signals); i++) {
            struct sigaction now;
            sigaction(fault_signals[i], NULL, &now);
            if (now.sa_sigaction != on_fault) continue; /* someone replaced us: theirs stays */
            sigaction(fault_signals[i], &saved[fault_signals[i]], NULL);
        }
    }
    pthread_mutex_unlock(&install_lock);
}

/* ---- the alternate signal stack, one per thread ------------------------- */

static void alt_stack_free(void *mem)
{
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    munmap(mem, ALT_STACK_SIZE + ll_page_size());
}

static void alt_stack_key_make(void)
{
    pthread_key_create(&alt_stack_key, alt_stack_free);
}

/* A stack overflow leaves no stack to run the handler on. */
static int ensure_alt_stack(ll_error *err)
{
    if (alt_stack_ready) return 0;
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE)) {
        alt_stack_ready = 1; /* the thread has one already (ASan sets one up) */
        return 0;
    }
    uint64_t page = ll_page_size();
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

/* ---- reporting ------------------------------------------------------------ */

/* "name+0x12 (file)" for an address, naming the module by its original name. */
static void name_address(const ll_module *m, const module_image *img, uint64_t addr, char *buf,
                         size_t cap)
{
    Dl_info di;
    memset(&di, 0, sizeof di);
    dladdr((void *)(uintptr_t)addr, &di);
    char file[160], version[32] = "";
    if (in_image(img, addr)) {
        snprintf(file, sizeof file, "%s", m->name);
        snprintf(version, sizeof version, " version %llu", (unsigned long long)img->version);
    } else if (di.dli_fname) {
        const char *slash = strrchr(di.dli_fname, '/');
        snprintf(file, sizeof file, "%s", slash ? slash + 1 : di.dli_fname);
    } else {
        snprintf(file, sizeof file, "unknown file");
    }
    if (di.dli_sname)
        snprintf(buf, cap, "%s+0x%llx (%s%s)", di.dli_sname,
                 (unsigned long long)(addr - (uint64_t)(uintptr_t)di.dli_saddr), file, version);
    else if (di.dli_fbase) /* a static function: the offset in the file still helps */
        snprintf(buf, cap, "0x%llx (%s+0x%llx%s)", (unsigned long long)addr, file,
                 (unsigned long long)(addr - (uint64_t)(uintptr_t)di.dli_fbase), version);
    else
        snprintf(buf, cap, "0x%llx (%s)", (unsigned long long)addr, file);
}

static void describe_fault(ll_module *m, const guard *g)
{
    ll_module_fault *f = &m->info.fault;
    f->signal = g->signal;
    f->code = g->code;
    f->addr = g->addr;
    f->pc = g->pc;
    name_address(m, m->cur, g->pc, f->where, sizeof f->where);
    for (int i = 0; i < g->frame_count; i++) {
        uint64_t ret = (uint64_t)(uintptr_t)g->frames[i];
        if (!in_image(m->cur, ret)) continue;
        size_t used = strlen(f->where);
        char caller[160];
        name_address(m, m->cur, ret - 1, caller, sizeof caller);
        snprintf(f->where + used, sizeof f->where - used, ", called from %s", caller);
        break;
    }
}

static int recover(ll_module *m, const guard *g, ll_snap *snap, int own, ll_error *err)
{
    /* Back to the mask of the faulting code, with the fault signals open. */
    sigset_t mask = g->mask;
    for (size_t i = 0; i < LL_ARRAY_COUNT(fault_signals); i++) sigdelset(&mask, fault_signals[i]);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    describe_fault(m, g); /* before the rollback unloads the image */
    m->info.faults++;
    uint64_t crashed = m->info.version;
    char block[1100] = "no block to restore";
    if (snap) {
        ll_error serr;
        if (ll_snap_restore(m->block, snap, &serr) == 0)
            snprintf(block, sizeof block, "block restored to its state before the call");
        else
            snprintf(block, sizeof block, "block NOT restored: %s", serr.msg);
        if (own) ll_snap_drop(m->block, snap);
    }
    module_rollback(m);
    char code[64];
    if (m->info.version != crashed)
        snprintf(code, sizeof code, "rolled back to version %llu",
                 (unsigned long long)m->info.version);
    else
        snprintf(code, sizeof code, "no earlier good version to roll back to");
    const ll_module_fault *f = &m->info.fault;
    char addr[64] = "";
    if (f->code > 0) /* a fault; a signal sent by kill() or abort() has no address */
        snprintf(addr, sizeof addr, " at address 0x%llx", (unsigned long long)f->addr);
    /* A fault just below the stack pointer is the stack running out. */
    if (f->signal == SIGSEGV && f->code > 0 && f->addr < g->sp + 4096 &&
        g->sp - f->addr < 256 * 1024)
        snprintf(addr + strlen(addr), sizeof addr - strlen(addr), " (stack overflow)");
    return ll_fail(err, EFAULT, "SIG%s (%s)%s in %s, called through '%s' version %llu; %s; %s",
                   sigabbrev_np(f->signal), strsignal(f->signal), addr, f->where, m->name,
                   (unsigned long long)crashed, code, block);
}

int ll_module_protect_(ll_module *m, void (*fn)(void *ctx), void *ctx, ll_error *err,
                       const ll_protect_params *p)
{
    if (m->unprotected) {
        fn(ctx);
        return 0;
    }
    if (ensure_alt_stack(err) != 0) return -1;
    /* The caller's snapshot, or one of our own (a page table walk). */
    ll_snap *snap = m->block ? p->snap : NULL;
    int own = m->block && !snap;
    if (own && !(snap = ll_snap_take(m->block, err))) return -1;
    guard g;
    memset(&g, 0, sizeof g);
    g.module = m;
    g.prev = current_guard;
    /* No mask saved: that costs a system call per call. The handler leaves
     * with the fault signals blocked; recover() sets the mask back. */
    if (sigsetjmp(g.jump, 0) == 0) {
        current_guard = &g;
        fn(ctx);
        current_guard = g.prev;
        if (own) ll_snap_drop(m->block, snap);
        module_mark_good(m);
        return 0;
    }
    current_guard = g.prev;
    return recover(m, &g, snap, own, err);
}
