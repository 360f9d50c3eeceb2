/* protect.c - survive a crash in module code.
 * ll_module_protect snapshots the block (or takes the caller's snapshot),
 * arms a per-thread guard and calls in. It is a client of the fault
 * dispatcher (base/fault.h): a fault while a guard is armed jumps back to it
 * (siglongjmp from the handler, on an alternate stack so that a stack
 * overflow is caught too) with pc, sp, the fault address and a copy of the
 * stack words; naming happens here, after the jump. The block is restored
 * and the code rolled back, unless the fault happened inside another library
 * (see recover_unsafe). A fault with no guard armed is not ours: the
 * dispatcher passes it on, so the process dies as it would have without us. */
#include "module/module.h"

#include "base/fault.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* How long the C library's probe may take to answer after a fault inside
 * it: far more than it needs on a busy machine, little for a crash. */
enum { PROBE_TIMEOUT_MS = 2000 };

typedef struct guard {
    sigjmp_buf jump;
    struct guard *prev;
    fault_event ev; /* what the handler recorded */
} guard;

static __thread guard *current_guard;

/* Set by a fault inside another library: its locks may be held for good,
 * so nothing that could take one runs again (see recover_unsafe). */
static atomic_int process_unsafe;

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int install_count;

/* Runs in the fault handler: a fault while a guard is armed on this thread
 * is ours. Records and jumps; everything else happens after the jump. */
static void catch_fault(fault_event *ev)
{
    guard *g = current_guard;
    if (!g) return;
    memcpy(&g->ev, ev, sizeof *ev);
    siglongjmp(g->jump, 1);
}

static const fault_client protect_client = {.catch_fault = catch_fault};

int module_signals_acquire(ll_error *err)
{
    pthread_mutex_lock(&install_lock);
    int rc = install_count == 0 ? fault_register(&protect_client, err) : 0;
    if (rc == 0) install_count++;
    pthread_mutex_unlock(&install_lock);
    return rc;
}

void module_signals_release(void)
{
    pthread_mutex_lock(&install_lock);
    if (install_count > 0 && --install_count == 0) fault_unregister(&protect_client);
    pthread_mutex_unlock(&install_lock);
}

static int in_image(const module_image *img, uint64_t addr)
{
    for (int i = 0; img && i < img->range_count; i++)
        if (addr >= img->ranges[i].start && addr < img->ranges[i].end) return 1;
    return 0;
}

/* The image of this module that holds addr (any version still mapped). */
static const module_image *image_of(const ll_module *m, uint64_t addr)
{
    for (const module_image *img = m->images; img; img = img->next)
        if (addr >= img->lo && addr < img->hi && in_image(img, addr)) return img;
    return NULL;
}

/* ---- reporting (after the jump) -------------------------------------------- */

/* 1 when addr lies in an executable segment of one of the module's images. */
static int in_module_code(const ll_module *m, uint64_t addr)
{
    const module_image *img = image_of(m, addr);
    for (int i = 0; img && i < img->range_count; i++)
        if (addr >= img->ranges[i].start && addr < img->ranges[i].end)
            return (img->ranges[i].flags & PF_X) != 0;
    return 0;
}

/* "name+0x12 (file version N)" for an address; static functions are named
 * from the image's .symtab (without allocating: see symbols.c). */
static void name_address(const ll_module *m, uint64_t addr, char *buf, size_t cap)
{
    const module_image *img = image_of(m, addr);
    Dl_info di;
    struct link_map *lm = NULL;
    memset(&di, 0, sizeof di);
    int known = dladdr1((void *)(uintptr_t)addr, &di, (void **)&lm, RTLD_DL_LINKMAP) != 0;
    char file[160], version[32] = "", sym[128] = "";
    uint64_t start = 0;
    if (img) {
        snprintf(file, sizeof file, "%s", m->name);
        snprintf(version, sizeof version, " version %llu", (unsigned long long)img->version);
    } else if (known && di.dli_fname && *di.dli_fname) {
        const char *slash = strrchr(di.dli_fname, '/');
        snprintf(file, sizeof file, "%s", slash ? slash + 1 : di.dli_fname);
    } else {
        snprintf(file, sizeof file, "no code loaded there");
    }
    if (img && lm && module_symbol_at(img->copy_path, addr - lm->l_addr, sym, sizeof sym, &start))
        start += lm->l_addr;
    else if (known && di.dli_sname)
        snprintf(sym, sizeof sym, "%s", di.dli_sname), start = (uint64_t)(uintptr_t)di.dli_saddr;
    if (sym[0])
        snprintf(buf, cap, "%s+0x%llx (%s%s)", sym, (unsigned long long)(addr - start), file,
                 version);
    else if (known && di.dli_fbase)
        snprintf(buf, cap, "0x%llx (%s+0x%llx%s)", (unsigned long long)addr, file,
                 (unsigned long long)(addr - (uint64_t)(uintptr_t)di.dli_fbase), version);
    else
        snprintf(buf, cap, "0x%llx (%s)", (unsigned long long)addr, file);
}

void ll_module_address_describe(const ll_module *m, uint64_t addr, char *buf, size_t cap)
{
    name_address(m, addr, buf, cap);
}

/* The module code that called out to where the fault happened: the return
 * address at sp for a call to a bad address (pc 0x10, an unmapped page,
 * garbage), or the nearest one up the stack for a fault inside a library
 * the module called (abort). The words were copied by the handler. */
static uint64_t find_caller(const ll_module *m, const fault_event *ev)
{
    for (int i = 0; i < ev->stack_words; i++)
        if (in_module_code(m, ev->stack[i])) return ev->stack[i];
    return 0;
}

static void describe_fault(ll_module *m, const fault_event *ev)
{
    ll_module_fault *f = &m->info.fault;
    f->signal = ev->signal;
    f->code = ev->code;
    f->addr = ev->addr;
    f->pc = ev->pc;
    f->sp = ev->sp;
    f->caller = in_module_code(m, ev->pc) ? 0 : find_caller(m, ev);
    name_address(m, ev->pc, f->where, sizeof f->where);
    if (!f->caller) return;
    size_t used = strlen(f->where);
    char caller[160];
    name_address(m, f->caller - 1, caller, sizeof caller);
    snprintf(f->where + used, sizeof f->where - used, ", called from %s", caller);
}

/* " at address 0x10 (stack overflow)", " (guard page hit ...)". */
static void describe_address(const fault_event *ev, char *buf, size_t cap)
{
    buf[0] = 0;
    if (ev->code <= 0) return; /* sent by kill() or abort(): no address */
    snprintf(buf, cap, " at address 0x%llx", (unsigned long long)ev->addr);
    size_t n = strlen(buf);
    if (ev->what[0])
        snprintf(buf + n, cap - n, " (%s)", ev->what);
    else if (ev->signal == SIGSEGV && ev->addr < ev->sp + 4096 && ev->sp - ev->addr < 256 * 1024)
        snprintf(buf + n, cap - n, " (stack overflow)"); /* just below the stack pointer */
}

/* Back to the mask of the faulting code, with the fault signals open. */
static void reopen_signals(const fault_event *ev)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    sigset_t mask = ev->mask;
    for (size_t i = 0; i < LL_ARRAY_COUNT(sigs); i++) sigdelset(&mask, sigs[i]);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

/* A fault inside another library whose locks stay taken (glibc aborting a
 * failed heap check while it holds the arena's lock): malloc, free,
 * dlclose or stdio would wait forever. So nothing is restored, dropped or
 * unloaded; the caller is told the process cannot safely continue (the
 * host saves the last good state and exits). */
static int recover_unsafe(ll_module *m, const fault_event *ev, ll_error *err)
{
    atomic_store(&process_unsafe, 1);
    reopen_signals(ev);
    describe_fault(m, ev);
    m->info.faults++;
    const ll_module_fault *f = &m->info.fault;
    Dl_info di;
    memset(&di, 0, sizeof di);
    dladdr((void *)(uintptr_t)ev->pc, &di);
    const char *lib = di.dli_fname ? di.dli_fname : "another library";
    const char *slash = strrchr(lib, '/');
    char addr[FAULT_WHAT_MAX + 64];
    describe_address(ev, addr, sizeof addr);
    return ll_fail(err, ENOTRECOVERABLE,
                   "SIG%s (%s)%s in %s, called through '%s' version %llu; the fault happened "
                   "inside %s, which may still hold its locks (a failed heap check aborts "
                   "holding malloc's): this process cannot safely continue, nothing was "
                   "restored or rolled back",
                   sigabbrev_np(f->signal), strsignal(f->signal), addr, f->where, m->name,
                   (unsigned long long)m->info.version, slash ? slash + 1 : lib);
}

static int recover(ll_module *m, const fault_event *ev, ll_snap *snap, int own, ll_error *err)
{
    /* pc in another library: that library was running when it failed, and
     * may hold a lock (its heap's, a stream's) that nobody will release. */
    Dl_info di;
    // cppcheck-suppress [ctuuninitvar,uninitvar]
    if (!in_module_code(m, ev->pc) && dladdr((void *)(uintptr_t)ev->pc, &di) && di.dli_fname &&
        !fault_libc_usable(PROBE_TIMEOUT_MS))
        return recover_unsafe(m, ev, err);
    reopen_signals(ev);
    describe_fault(m, ev);
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
    char addr[FAULT_WHAT_MAX + 64];
    describe_address(ev, addr, sizeof addr);
    return ll_fail(err, EFAULT, "SIG%s (%s)%s in %s, called through '%s' version %llu; %s; %s",
                   sigabbrev_np(f->signal), strsignal(f->signal), addr, f->where, m->name,
                   (unsigned long long)crashed, code, block);
}

/* A fault's report names the module code that called out to it from the
 * nearest return address on the stack (find_caller): the stack the call
 * is about to use is cleared first, so that an earlier call's return
 * address left there is not taken for one. Through a volatile pointer: a
 * store to a dead local is no dead store. */
#define STACK_CLEAR (16 * 1024)
static void *(*volatile clear_fill)(void *, int, size_t) = memset;

__attribute__((noinline)) static void clear_stack(void)
{
    unsigned char below[STACK_CLEAR];
    clear_fill(below, 0, sizeof below);
}

int ll_module_protect_(ll_module *m, void (*fn)(void *ctx), void *ctx, ll_error *err,
                       const ll_protect_params *p)
{
    /* The globals come from the block before a call and go back after it
     * (globals.c); a lookup (looplive_app()) reads none. Globals that cannot
     * come in (a size changed) leave the mirror held: the loop refuses its
     * frames (ll_module_globals_check), other calls run on. */
    if (!p->lookup) module_globals_in(m, 0, NULL);
    if (m->unprotected) {
        fn(ctx);
        if (!p->lookup) module_globals_out(m);
        return 0;
    }
    if (atomic_load_explicit(&process_unsafe, memory_order_relaxed))
        return ll_fail(err, ENOTRECOVERABLE,
                       "not calling into '%s': an earlier fault inside a library left this "
                       "process unable to continue safely (try: save the state without "
                       "allocating, exit, and start again)",
                       m->name);
    if (fault_thread_prepare(err) != 0) return -1;
    /* A module without a block (the host's first look at a build, before
     * the block is reserved) starts no probe thread: a fault inside libc
     * there is reported as one the process cannot survive. */
    if (m->block && fault_probe_ready(err) != 0) return -1;
    /* The caller's snapshot, or one of our own (a page table walk). */
    ll_snap *snap = m->block ? p->snap : NULL;
    int own = m->block && !snap;
    if (own && !(snap = ll_snap_take(m->block, err))) return -1;
    guard g; /* not cleared: the handler fills ev, 8 KiB of it */
    g.prev = current_guard;
    /* No mask saved: that costs a system call per call. The handler leaves
     * with the fault signal blocked; recover() sets the mask back. */
    clear_stack();
    if (sigsetjmp(g.jump, 0) == 0) {
        current_guard = &g;
        fn(ctx);
        current_guard = g.prev;
        if (!p->lookup) module_globals_out(m);
        if (own) ll_snap_drop(m->block, snap);
        if (!p->lookup) module_mark_good(m);
        return 0;
    }
    current_guard = g.prev;
    /* The handler filled g.ev before it jumped: the analyser cannot see it. */
    // cppcheck-suppress [uninitStructMember,ctuuninitvar,uninitvar]
    return recover(m, &g.ev, snap, own, err);
}
