/* fault_app.c - an application that faults on demand, for the host's crash
 * protection tests (tests/host_faults.sh). Its state lives in arenas made
 * by init, after the host opened the module (the host's order), each with
 * a guard page. Keys: g writes past the end of arena "particles", n calls
 * address 0x10, o overflows the stack, a calls abort(), d double-frees a
 * large chunk (glibc aborts holding its heap lock), p reads address 0x10
 * (nothing in the build made with -DP_HARMLESS). With -DABORT_IN_TABLE,
 * looplive_app() itself calls abort(). The state keeps a function pointer
 * (`step`, a static function) that every frame calls through, so a saved
 * state holds an address in this build (the rescue file, --resume). */
#include <looplive.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fault_input {
    uint8_t key;
} fault_input;

typedef struct fault_state fault_state;
typedef void step_fn(fault_state *s);
struct fault_state {
    uint64_t counter;
    step_fn *step; /* a behaviour kept in the state, as entity systems do */
};

static void count_one(fault_state *s)
{
    s->counter++;
}

static int init(ll_block *block)
{
    ll_error err;
    ll_arena *state = ll_arena_create(block, "state", 4096, &err, .guard = 1);
    if (!state || !ll_arena_create(block, "particles", 4096, &err, .guard = 1)) return -1;
    memset(state->begin, 0, sizeof(fault_state));
    ((fault_state *)state->begin)->step = count_one;
    return 0;
}

static void translate(const ll_platform_input *p, void *out)
{
    fault_input *in = out;
    in->key = 0;
    for (int k = 'a'; k <= 'z'; k++)
        if (p->pressed[k]) in->key = (uint8_t)k;
}

typedef int call_fn(void);
volatile uintptr_t fault_target = 0x10;
volatile int fault_zero;

__attribute__((noinline)) static int recurse(int depth)
{
    volatile char buf[512];
    buf[0] = (char)depth;
    if (fault_zero == 12345) return buf[0];
    return recurse(depth + 1) + buf[1];
}

__attribute__((noinline)) static void double_free(void)
{
    char *volatile p = malloc(2000);
    char *volatile after = malloc(2000);
    free(p);
    free(p);
    free(after);
}

__attribute__((noinline)) static void fault(ll_block *block, int key)
{
    ll_arena *particles = ll_arena_get(block, "particles");
    switch (key) {
    case 'g':
        ((volatile uint8_t *)particles->begin)[particles->capacity + 8] = 1;
        break;
    case 'n':
        fault_zero += ((call_fn *)fault_target)();
        break;
    case 'o':
        fault_zero += recurse(0);
        break;
    case 'a':
        abort();
    case 'd':
        double_free();
        break;
    case 'p': /* a build that faults only on this input (built without P_HARMLESS) */
#ifndef P_HARMLESS
        fault_zero += *(volatile int *)fault_target;
#endif
        break;
    }
}

static void update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    fault_state *s = (fault_state *)ll_arena_get(block, "state")->begin;
    const fault_input *in = input;
    s->step(s); /* counts; undone when the frame faults */
    if (in->key) fault(block, in->key);
}

static void render(const ll_block *block, ll_canvas *c)
{
    const fault_state *s = (const fault_state *)ll_arena_get(block, "state")->begin;
    if (!c->cells) return;
    char line[64];
    int n = snprintf(line, sizeof line, "counter=%llu", (unsigned long long)s->counter);
    memcpy(c->cells, line, (size_t)(n < c->width ? n : c->width));
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(fault_input),
    .layout_version = 3,
    .block_size = 1 << 20,
    .name = "fault_app",
    .init = init,
    .translate = translate,
    .update = update,
    .render = render,
};

const ll_app *looplive_app(void)
{
#ifdef ABORT_IN_TABLE
    abort(); /* the first call into the build */
#endif
    return &app;
}
