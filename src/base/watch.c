/* watch.c - the write watch (see watch.h for the model): hardware
 * breakpoints first, page protection and a single step where the kernel
 * refuses them. The signal side records into the armed watch and returns;
 * it allocates nothing and calls only mprotect. */
#include "base/watch.h"
#include "base/fault.h"

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux 5.13 headers name it; glibc 2.36's signal.h does not. */
#define WATCH_TRAP_PERF 6

static watch *volatile armed;

const char *watch_how_name(watch_how how)
{
    return how == WATCH_BREAKPOINT ? "breakpoint" : how == WATCH_PAGE ? "page" : "none";
}

/* ---- the signal side -------------------------------------------------- */

static void log_write(watch *w, uint64_t pc, int pc_after)
{
    const uint8_t *now = (const uint8_t *)(uintptr_t)w->addr;
    if (w->count < WATCH_LOG_MAX) {
        watch_write *e = &w->log[w->count];
        e->pc = pc;
        e->pc_after = pc_after;
        memcpy(e->before, w->last, w->len);
        memcpy(e->after, now, w->len);
    }
    w->count++;
    memcpy(w->last, now, w->len);
}

static int inside(const watch *w, uint64_t a)
{
    return a >= w->addr && a - w->addr < w->len;
}

/* A data breakpoint traps after the write: pc is the next instruction. */
static int on_breakpoint(watch *w, const fault_event *ev)
{
    log_write(w, ev->pc, 1);
    return 1;
}

/* A write to a watched page: let it through for one instruction. */
static int on_page_fault(watch *w, fault_event *ev)
{
    if (w->stepping || ev->addr < w->page_start || ev->addr >= w->page_end) return 0;
    if (mprotect((void *)(uintptr_t)w->page_start, w->page_end - w->page_start,
                 PROT_READ | PROT_WRITE) != 0 ||
        fault_step_set(ev, 1) != 0)
        return 0;
    w->stepping = 1;
    w->step_pc = ev->pc;
    w->step_addr = ev->addr;
    return 1;
}

/* The instruction ran: log it when it touched the range, protect again. */
static int on_step(watch *w, fault_event *ev)
{
    if (memcmp(w->last, (const void *)(uintptr_t)w->addr, w->len) != 0 || inside(w, w->step_addr))
        log_write(w, w->step_pc, 0);
    fault_step_set(ev, 0);
    w->stepping = 0;
    mprotect((void *)(uintptr_t)w->page_start, w->page_end - w->page_start, PROT_READ);
    return 1;
}

static int continue_fault(fault_event *ev)
{
    watch *w = armed;
    if (!w) return 0;
    if (ev->signal == SIGTRAP && w->how == WATCH_BREAKPOINT && ev->code == WATCH_TRAP_PERF)
        return on_breakpoint(w, ev);
    if (ev->signal == SIGTRAP && w->how == WATCH_PAGE && w->stepping) return on_step(w, ev);
    if (ev->signal == SIGSEGV && w->how == WATCH_PAGE && ev->code == SEGV_ACCERR)
        return on_page_fault(w, ev);
    return 0;
}

static const fault_client watch_client = {.continue_fault = continue_fault};

/* ---- hardware breakpoints ---------------------------------------------- */

static int paranoid_level(void)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int level = -99;
    if (f) {
        if (fscanf(f, "%d", &level) != 1) level = -99;
        fclose(f);
    }
    return level;
}

static int breakpoint_open(uint64_t addr, uint64_t len)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_BREAKPOINT;
    a.size = sizeof a;
    a.bp_type = HW_BREAKPOINT_W;
    a.bp_addr = addr;
    a.bp_len = len;
    a.sample_period = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.sigtrap = 1;        /* Linux 5.13+: EINVAL before */
    a.remove_on_exec = 1; /* sigtrap requires it */
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static void breakpoints_close(watch *w)
{
    for (int i = 0; i < w->nfds; i++) close(w->fds[i]);
    w->nfds = 0;
}

/* One breakpoint per aligned piece; 0, or -1 with w->refused saying why. */
static int breakpoints_open(watch *w)
{
    uint64_t at = w->addr, end = w->addr + w->len;
    while (at < end) {
        uint64_t n = 8;
        while (n > 1 && (at % n || n > end - at)) n /= 2;
        if (w->nfds == WATCH_BREAKPOINTS_MAX) {
            breakpoints_close(w);
            snprintf(w->refused, sizeof w->refused,
                     "%llu bytes at 0x%llx need more than %d aligned breakpoints",
                     (unsigned long long)w->len, (unsigned long long)w->addr,
                     WATCH_BREAKPOINTS_MAX);
            return -1;
        }
        int fd = breakpoint_open(at, n);
        if (fd < 0) {
            int e = errno;
            breakpoints_close(w);
            snprintf(w->refused, sizeof w->refused,
                     "the kernel refused a hardware write breakpoint: perf_event_open: %s "
                     "(perf_event_paranoid %d)",
                     strerror(e), paranoid_level());
            return -1;
        }
        w->fds[w->nfds++] = fd;
        at += n;
    }
    return 0;
}

/* ---- pages --------------------------------------------------------------- */

static int pages_protect(watch *w, ll_error *err)
{
#if !defined(__x86_64__)
    return ll_fail(err, ENOTSUP,
                   "cannot watch writes by page: single-stepping oneself needs x86_64 (%s)",
                   w->refused[0] ? w->refused : "LOOPLIVE_WATCH=page");
#else
    uint64_t page = ll_page_size_get();
    w->page_start = ll_align_down(w->addr, page);
    w->page_end = ll_align_up(w->addr + w->len, page);
    if (mprotect((void *)(uintptr_t)w->page_start, w->page_end - w->page_start, PROT_READ) != 0)
        return ll_fail(err, errno, "cannot watch writes to 0x%llx by page: mprotect: %s",
                       (unsigned long long)w->addr, strerror(errno));
    return 0;
#endif
}

/* ---- arming ------------------------------------------------------------- */

int watch_arm(watch *w, uint64_t addr, uint64_t len, ll_error *err)
{
    if (len < 1 || len > WATCH_BYTES_MAX)
        return ll_fail(err, EINVAL, "cannot watch %llu bytes: 1 to %d at a time",
                       (unsigned long long)len, WATCH_BYTES_MAX);
    if (armed)
        return ll_fail(err, EBUSY, "cannot watch 0x%llx: a watch is armed already",
                       (unsigned long long)addr);
    memset(w, 0, sizeof *w);
    w->addr = addr;
    w->len = len;
    memcpy(w->last, (const void *)(uintptr_t)addr, len);
    const char *want = getenv("LOOPLIVE_WATCH");
    int page_only = want && !strcmp(want, "page");
    if (page_only)
        snprintf(w->refused, sizeof w->refused, "LOOPLIVE_WATCH=page asks for page tracking");
    if (fault_register(&watch_client, err) != 0) return -1;
    w->how = !page_only && breakpoints_open(w) == 0 ? WATCH_BREAKPOINT : WATCH_PAGE;
    if (w->how == WATCH_PAGE && want && !strcmp(want, "breakpoint")) {
        fault_unregister(&watch_client);
        return ll_fail(err, EPERM, "%s (LOOPLIVE_WATCH=breakpoint forbids page tracking)",
                       w->refused);
    }
    armed = w; /* before the pages: a write to them from now on is ours */
    if (w->how == WATCH_PAGE && pages_protect(w, err) != 0) {
        armed = NULL;
        fault_unregister(&watch_client);
        return -1;
    }
    return 0;
}

void watch_disarm(watch *w)
{
    if (armed != w) return;
    if (w->how == WATCH_BREAKPOINT) breakpoints_close(w);
    if (w->how == WATCH_PAGE)
        mprotect((void *)(uintptr_t)w->page_start, w->page_end - w->page_start,
                 PROT_READ | PROT_WRITE);
    armed = NULL;
    fault_unregister(&watch_client);
}
