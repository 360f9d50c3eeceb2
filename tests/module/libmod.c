/* libmod.c - the application library the module tests load and reload.
 * Built in variants (mk/module.mk): -DVERSION=n changes what value() and
 * hello() return; -DMISSING leaves value() out; -DUNRESOLVED makes value()
 * call a function nothing defines, so that RTLD_NOW refuses the library. */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "looplive_app.h"

#ifdef UNRESOLVED
int looplive_test_no_such_function(void);
int value(void)
{
    return looplive_test_no_such_function();
}
#elif !defined(MISSING)
int value(void)
{
    return VERSION;
}
#endif

int hello(void)
{
    return 100 + VERSION;
}

/* A second name at hello's address: forwarding must patch the entry once
 * (a rollback puts hello's own bytes back, tests/test_module_forward.c). */
int hello_alias(void) __attribute__((alias("hello")));

int (*hello_ptr(void))(void)
{
    return hello;
}

#if VERSION == 1
/* Exists in version 1 only: a pointer to it cannot be carried over. */
int only_in_v1(void)
{
    return 1;
}
#endif

int (*only_in_v1_ptr(void))(void)
{
#if VERSION == 1
    return only_in_v1;
#else
    return NULL;
#endif
}

/* A static behaviour, as an entity system keeps one per entity. */
static int behave(void)
{
    return 200 + VERSION;
}

int (*behave_ptr(void))(void)
{
    return behave;
}

/* One byte (ret): too small for a jump unless the build gives every
 * function a patchable entry. */
void tiny(void) {}

/* Named as the compiler names its clones (foo.isra.0): never matched across
 * builds, since a clone's calling convention may differ from one build to
 * the next. */
int dotted(void) __asm__("dotted.isra.0");
int dotted(void)
{
    return 300 + VERSION;
}

int (*dotted_ptr(void))(void)
{
    return dotted;
}

const char *literal(void)
{
    return "text of the old build";
}

int counter;
int *counter_ptr(void)
{
    return &counter;
}

#include "crash_kinds.h"

typedef int call_fn(void);
volatile uintptr_t low_target = 0x10;

/* Each call's result is used, so that it is a call (with a return address
 * at sp), not a tail jump. */
__attribute__((noinline)) static int call_unmapped(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 4096);
    return ((call_fn *)p)() + 1;
}

/* Small chunks go to the thread's cache, checked without a lock; large
 * ones to the arena, checked with its lock held (a process with threads). */
__attribute__((noinline)) static int double_free(size_t size)
{
    char *volatile p = malloc(size);
    char *volatile after = malloc(size); /* keeps p from merging into the top */
    free(p);
    free(p);
    free(after);
    return 0;
}

volatile int zero;

static int recurse(int depth)
{
    volatile char buf[512];
    buf[0] = (char)depth;
    if (zero == 12345) return buf[0];
    return recurse(depth + 1) + buf[1]; /* not a tail call: every frame stays */
}

static int bus_error(void)
{
    int fd = memfd_create("looplive-test-bus", 0);
    volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    return p[0]; /* past the end of an empty file */
}

/* Damages the state first, so the test can see it put back, then faults. */
int crash(int kind, uint8_t *state, size_t size)
{
    memset(state, 0xab, size);
    switch (kind) {
    case CRASH_SEGV:
        return *(volatile int *)(uintptr_t)(16 + zero);
    case CRASH_BUS:
        return bus_error();
    case CRASH_ILL:
        __builtin_trap();
    case CRASH_FPE:
        return 7 / zero;
    case CRASH_ABORT:
        abort();
    case CRASH_STACK:
        return recurse(0);
    case CRASH_CALL_LOW:
        return ((call_fn *)low_target)() + 1;
    case CRASH_CALL_UNMAPPED:
        return call_unmapped() + 1;
    case CRASH_CALL_GARBAGE:
        return ((call_fn *)(void *)state)() + 1;
    case CRASH_DOUBLE_FREE:
        return double_free(24) + 1;
    case CRASH_DOUBLE_FREE_BIG:
        return double_free(2000) + 1;
    }
    return VERSION;
}

/* As an application: every frame calls the behaviour pointers the block
 * holds (kept from whichever build stored them) and stores one more. */
typedef struct soak_state {
    int (*behave[8])(void);
    uint64_t frames;
    int64_t sum;
    int last; /* what every pointer returned in the last frame, or -1 */
} soak_state;

static int app_init(ll_block *b)
{
    soak_state *s = (soak_state *)b->base;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 8; i++) s->behave[i] = behave;
    return 0;
}

static void app_update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)in;
    (void)dt;
    soak_state *s = (soak_state *)b->base;
    s->last = s->behave[0]();
    for (int i = 0; i < 8; i++) {
        int v = s->behave[i]();
        s->sum += v;
        if (v != s->last) s->last = -1;
    }
    s->behave[frame % 8] = behave;
    s->frames++;
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 1,
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "libmod",
    .init = app_init,
    .update = app_update,
};

const ll_app *looplive_app(void)
{
    return &app;
}
