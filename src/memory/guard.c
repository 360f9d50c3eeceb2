/* guard.c - guard pages after partitions, and the SIGSEGV handler that
 * names the partition a stray write ran out of. */
#include "memory/memory.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The handler can only find blocks through process state: the headers of
 * blocks that have guard pages. */
#define MAX_GUARDED_BLOCKS 16
static memory_header *guarded[MAX_GUARDED_BLOCKS];
static struct sigaction previous;
static int installed;

/* The arena whose guard holds addr; *before is set when it is the guard
 * between the block header and that arena (an underrun), not after it. */
static const ll_arena *guard_owner(uint64_t addr, int *before)
{
    for (int b = 0; b < MAX_GUARDED_BLOCKS; b++) {
        const memory_header *h = __atomic_load_n(&guarded[b], __ATOMIC_ACQUIRE);
        if (!h) continue;
        uint64_t lead = h->base + h->header_size;
        *before = h->header_guard && addr >= lead && addr < lead + h->header_guard;
        if (*before && h->arena_count) return &h->arenas[0];
        for (uint32_t i = 0; i < h->arena_count && i < LL_BLOCK_MAX_ARENAS; i++) {
            const ll_arena *a = &h->arenas[i];
            uint64_t start = (uint64_t)(uintptr_t)a->begin + a->capacity;
            if (a->guard_size && addr >= start && addr < start + a->guard_size) return a;
        }
    }
    return NULL;
}

/* Async-signal-safe text: write(2) of strings and hex numbers only. */
static void say(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static void say_hex(uint64_t v)
{
    char buf[19] = "0x";
    int n = 0;
    char digits[16];
    do digits[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) && n < 16);
    for (int i = 0; i < n; i++) buf[2 + i] = digits[n - 1 - i];
    buf[2 + n] = '\0';
    say(buf);
}

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    uint64_t addr = (uint64_t)(uintptr_t)info->si_addr;
    int before = 0;
    const ll_arena *a = guard_owner(addr, &before);
    if (a) {
        say("looplive: guard page hit at ");
        say_hex(addr);
        say(before ? ": ran before the start of arena '" : ": ran past the end of arena '");
        say(a->name);
        say("' (");
        say_hex((uint64_t)(uintptr_t)a->begin);
        say("-");
        say_hex((uint64_t)(uintptr_t)a->begin + a->capacity);
        say(")\n");
    } else if (previous.sa_flags & SA_SIGINFO && previous.sa_sigaction) {
        previous.sa_sigaction(sig, info, uc);
        return;
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    /* Returning re-runs the faulting access, which now kills the process
     * with SIGSEGV as if no handler had been installed. */
    signal(SIGSEGV, SIG_DFL);
}

static int install(ll_error *err)
{
    if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE)) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &previous) != 0)
        return ll_fail(err, errno, "cannot install the guard page handler: %s", strerror(errno));
    __atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
    return 0;
}

static int remember(memory_header *h, ll_error *err)
{
    for (int b = 0; b < MAX_GUARDED_BLOCKS; b++)
        if (guarded[b] == h) return 0;
    for (int b = 0; b < MAX_GUARDED_BLOCKS; b++) {
        memory_header *none = NULL;
        if (__atomic_compare_exchange_n(&guarded[b], &none, h, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return 0;
    }
    return ll_fail(err, ENOSPC, "cannot guard more than %d blocks at once (try: .guard = -1)",
                   MAX_GUARDED_BLOCKS);
}

int memory_guard_arm(memory_header *h, uint8_t *at, uint64_t size, const ll_arena *after,
                     ll_error *err)
{
    if (remember(h, err) != 0 || install(err) != 0) return -1;
    /* What a guard page held cannot be seen while it is one: its private
     * copy is dropped (it reads the baseline again), so the snapshot layer,
     * which reads only written pages through the block, never reads one. */
    madvise(at, size, MADV_DONTNEED);
    if (mprotect(at, size, PROT_NONE) != 0)
        return ll_fail(err, errno, "cannot protect the guard page after %s%s%s: %s",
                       after ? "arena '" : "the block header", after ? after->name : "",
                       after ? "'" : "", strerror(errno));
    return 0;
}

void memory_guards_forget(const void *block_base)
{
    for (int b = 0; b < MAX_GUARDED_BLOCKS; b++)
        if ((const void *)guarded[b] == block_base)
            __atomic_store_n(&guarded[b], NULL, __ATOMIC_RELEASE);
}
