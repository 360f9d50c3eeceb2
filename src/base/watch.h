/* watch.h - who writes a few bytes: a write watch over [addr, addr + len)
 * of this thread's memory that logs every write made while it is armed,
 * with the bytes before and after it.
 *
 * Two mechanisms, the first that works:
 *   breakpoint: hardware write breakpoints through perf_event_open
 *     (PERF_TYPE_BREAKPOINT, HW_BREAKPOINT_W, one per aligned 1, 2, 4 or 8
 *     byte piece of the range, at most as many as the CPU has: 4 on
 *     x86_64), each hit a synchronous SIGTRAP (attr.sigtrap, Linux 5.13+).
 *     A data breakpoint traps after the write: the pc logged is the
 *     instruction after the writing one (pc_after).
 *   page: the pages holding the range are made read-only; a write faults
 *     (SIGSEGV through the one fault dispatcher), the page is made writable
 *     again and the instruction is single-stepped (the trap flag, x86_64
 *     only); its SIGTRAP compares the bytes, logs a write that changed them
 *     or aimed into the range, and protects the page again. Every write to
 *     those pages costs two signals, so it suits one frame, not a run.
 * The kernel refuses breakpoints in some containers and under a high
 * perf_event_paranoid (EACCES, EPERM, ENOENT, EOPNOTSUPP, ENOSYS...):
 * `refused` then says so in one line and the page mechanism runs.
 * LOOPLIVE_WATCH=page in the environment forces the page mechanism (to
 * test it), LOOPLIVE_WATCH=breakpoint forbids it.
 *
 * One watch is armed at a time, by one thread; writes by other threads or
 * by the kernel are not seen (with page tracking, a system call that
 * writes into the watched pages fails with EFAULT while it is armed). */
#ifndef LL_BASE_WATCH_H
#define LL_BASE_WATCH_H

#include "base/base.h"

enum { WATCH_BYTES_MAX = 64, WATCH_LOG_MAX = 64, WATCH_BREAKPOINTS_MAX = 4 };

typedef enum watch_how { WATCH_NONE = 0, WATCH_BREAKPOINT, WATCH_PAGE } watch_how;

typedef struct watch_write {
    uint64_t pc;  /* the writing instruction, or the next one (pc_after) */
    int pc_after; /* 1: a breakpoint trapped after the write */
    uint8_t before[WATCH_BYTES_MAX], after[WATCH_BYTES_MAX];
} watch_write;

typedef struct watch {
    uint64_t addr, len;
    watch_how how;
    char refused[192]; /* why breakpoints are not used, or "" */
    uint32_t count;    /* writes seen; the first WATCH_LOG_MAX are logged */
    watch_write log[WATCH_LOG_MAX];
    /* private */
    int fds[WATCH_BREAKPOINTS_MAX], nfds;
    uint64_t page_start, page_end;
    uint8_t last[WATCH_BYTES_MAX];
    int stepping;
    uint64_t step_pc, step_addr;
} watch;

/* Arms w over [addr, addr + len) (1 to WATCH_BYTES_MAX bytes, memory of
 * this process that is readable and writable). Returns 0, or -1 with err
 * when neither mechanism can watch (another watch is armed, the page
 * mechanism is forced where it cannot step, the fault dispatcher is
 * full). */
int watch_arm(watch *w, uint64_t addr, uint64_t len, ll_error *err);

/* Stops watching: closes the breakpoints or makes the pages writable
 * again. The log stays in w. */
void watch_disarm(watch *w);

/* The name of a mechanism: "breakpoint", "page", "none". */
const char *watch_how_name(watch_how how);

#endif
