/* fault.h - the one fault dispatcher: the only code that installs handlers
 * for the fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) and for
 * the signals that end or stop a process (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGPIPE, SIGTSTP) while something must be put back first.
 *
 * Layers register clients; the order of registration does not matter,
 * because the dispatcher, not the order, decides who sees a signal:
 *   0. continue: a client that made the fault itself on purpose (a write
 *      watch's protected page, its single step's SIGTRAP) takes it and the
 *      code goes on; nobody else sees it;
 *   1. describe: each client may say what the faulting address is (the
 *      memory layer names the arena whose guard page was hit);
 *   2. catch: each client may take the fault (crash protection jumps back
 *      to its guard with siglongjmp and never returns);
 *   3. nobody took it: the description is written to stderr, every restore
 *      hook runs (the terminal), and the signal goes where it went before
 *      the dispatcher was installed: the previous handler with its own mask
 *      and flags, or the default action (the process dies of it).
 * Everything a client does inside the handler must be async-signal-safe. */
#ifndef LL_BASE_FAULT_H
#define LL_BASE_FAULT_H

#include "base/base.h"

#include <signal.h>

enum { FAULT_STACK_WORDS = 512, FAULT_WHAT_MAX = 160 };

/* What the handler recorded, all without a call that could fault again. */
typedef struct fault_event {
    int signal, code;                  /* si_code: > 0 a fault, <= 0 sent (kill, raise) */
    uint64_t addr;                     /* si_addr */
    uint64_t pc, sp;                   /* where it happened */
    uint64_t stack[FAULT_STACK_WORDS]; /* the words from sp up, read with
                                          process_vm_readv (no fault) */
    int stack_words;                   /* how many could be read */
    sigset_t mask;                     /* the mask of the code that faulted */
    char what[FAULT_WHAT_MAX];         /* a client's description, or "" */
    void *context;                     /* the ucontext_t the code resumes with */
} fault_event;

/* A client: any of the hooks may be NULL. */
typedef struct fault_client {
    /* Fills ev->what and returns 1 when it knows ev->addr. */
    int (*describe)(fault_event *ev);
    /* Takes the fault by leaving with siglongjmp, or returns. */
    void (*catch_fault)(fault_event *ev);
    /* Puts the outside world back (async-signal-safe), before the process
     * dies, stops, or a previous handler runs; resume takes it again after
     * a stop or a previous handler that returned. Registering a restore
     * hook also installs the handlers for the signals that end a process. */
    void (*restore)(void);
    void (*resume)(void);
    /* Takes a fault (or SIGTRAP) it caused on purpose and returns 1: the
     * handler returns and the code goes on (having changed what made it
     * fault, or ev->context); 0 when the fault is not its own. Runs before
     * describe and catch_fault. Registering it also installs the SIGTRAP
     * handler; a SIGTRAP nobody continues passes on as before. */
    int (*continue_fault)(fault_event *ev);
} fault_client;

/* Adds a client (a pointer to static storage); the first installs the
 * handlers and remembers the previous ones. */
int fault_register(const fault_client *client, ll_error *err);

/* Removes it; the last one out puts the previous handlers back (where the
 * dispatcher is still the one installed). */
void fault_unregister(const fault_client *client);

/* Gives this thread an alternate signal stack, so that a stack overflow
 * still has a stack to run the handler on. Cheap once done: call it before
 * every guarded call. */
int fault_thread_prepare(ll_error *err);

/* Readies the probe below: a helper thread (one per process, started on
 * the first call: call it once the process's fixed mappings are made, its
 * stack is a mapping too) and a heap chunk of this thread's malloc arena.
 * Cheap once done. */
int fault_probe_ready(ll_error *err);

/* After a fault inside the C library, run in the thread that faulted: 1
 * when the C library can still be used, 0 when not (also when the probe
 * was never readied). A helper thread frees
 * a chunk of this thread's malloc arena, allocates, looks a symbol up
 * (the loader's lock) and tries the stdout and stderr locks; when it does
 * not answer within timeout_ms, a lock the
 * faulting code took is held for good (glibc aborts a failed heap check
 * holding the arena's lock) and the helper stays stuck on it. The caller
 * takes no lock itself: it writes, polls and reads a pipe. */
int fault_libc_usable(int timeout_ms);

/* Sets (on 1) or clears (on 0) the trap flag in ev->context, so that the
 * code traps with SIGTRAP after one more instruction. Returns 0, or -1
 * where single-stepping oneself is not possible (only x86_64 can). */
int fault_step_set(fault_event *ev, int on);

/* Runs every restore hook now (a host leaving on a fault it cannot recover
 * from). Async-signal-safe. */
void fault_restore_all(void);

/* Async-signal-safe output to stderr: a string, a number in hex. */
void fault_say(const char *s);
void fault_say_hex(uint64_t v);

/* Appends s to buf (cap bytes, always terminated) without stdio: for
 * describe hooks. */
void fault_append(char *buf, size_t cap, const char *s);
void fault_append_hex(char *buf, size_t cap, uint64_t v);

#endif
