/* guard.c - guard pages after partitions, and the fault dispatcher's
 * description of a hit: the partition a stray access ran out of. */
#include "memory/memory.h"
#include "base/fault.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The handler can only find blocks through process state: the headers of
 * blocks that have guard pages. */
#define MAX_GUARDED_BLOCKS 16
static memory_header *guarded[MAX_GUARDED_BLOCKS];
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static int installed; /* registered with the fault dispatcher */

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

/* Runs in the fault handler (async-signal-safe): names the arena whose
 * guard holds the faulting address. Whoever catches the fault (crash
 * protection) reports it; when nobody does, the dispatcher prints it and
 * the process dies of the fault. */
static int describe(fault_event *ev)
{
    if (ev->signal != SIGSEGV || ev->code <= 0) return 0;
    int before = 0;
    const ll_arena *a = guard_owner(ev->addr, &before);
    if (!a) return 0;
    char *w = ev->what;
    w[0] = 0;
    fault_append(w, FAULT_WHAT_MAX, "guard page hit at ");
    fault_append_hex(w, FAULT_WHAT_MAX, ev->addr);
    fault_append(w, FAULT_WHAT_MAX,
                 before ? ": ran before the start of arena '" : ": ran past the end of arena '");
    fault_append(w, FAULT_WHAT_MAX, a->name);
    fault_append(w, FAULT_WHAT_MAX, "' (");
    fault_append_hex(w, FAULT_WHAT_MAX, (uint64_t)(uintptr_t)a->begin);
    fault_append(w, FAULT_WHAT_MAX, "-");
    fault_append_hex(w, FAULT_WHAT_MAX, (uint64_t)(uintptr_t)a->begin + a->capacity);
    fault_append(w, FAULT_WHAT_MAX, ")");
    return 1;
}

static const fault_client guard_client = {.describe = describe};

static int install(ll_error *err)
{
    if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE)) return 0;
    pthread_mutex_lock(&install_lock);
    int rc = installed ? 0 : fault_register(&guard_client, err);
    if (rc == 0) __atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&install_lock);
    return rc;
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
    int left = 0;
    for (int b = 0; b < MAX_GUARDED_BLOCKS; b++) {
        if ((const void *)guarded[b] == block_base)
            __atomic_store_n(&guarded[b], NULL, __ATOMIC_RELEASE);
        left += guarded[b] != NULL;
    }
    /* The last guarded block gone: the dispatcher may put the previous
     * handlers back (when nobody else needs it). */
    pthread_mutex_lock(&install_lock);
    if (!left && installed) {
        fault_unregister(&guard_client);
        __atomic_store_n(&installed, 0, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&install_lock);
}
