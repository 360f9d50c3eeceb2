/* host_behave.c - an application whose entities keep a behaviour function
 * pointer in the state (static functions), the way entity systems are
 * written. Built in variants (mk/host.mk): VERSION changes what each
 * behaviour returns; NO_HOP leaves hop() out; CRASH makes wander() fault;
 * LAYOUT changes layout_version; MIGRATE adds a migrate entry. */
#include <looplive_app.h>

#include <stdio.h>
#include <string.h>

#ifndef LAYOUT
#define LAYOUT 1
#endif

typedef struct entity entity;
typedef int32_t behave_fn(entity *e);

struct entity {
    behave_fn *behave;
    int32_t value, pad;
};

typedef struct behave_state {
    uint64_t frames;
    int64_t sum;
    uint64_t migrated_from; /* set by migrate */
    entity ents[4];
} behave_state;

__attribute__((noinline, no_sanitize("undefined"))) void behave_crash(void);
void behave_crash(void)
{
    *(volatile int *)0 = 1;
}

static int32_t wander(entity *e)
{
#ifdef CRASH
    behave_crash();
#endif
    return e->value = 100 * VERSION + 1;
}

#ifndef NO_HOP
static int32_t hop(entity *e)
{
    return e->value = 100 * VERSION + 2;
}
#else
#define hop wander
#endif

/* One byte (ret) unless the build pads every entry. */
void behave_tiny(void);
void behave_tiny(void) {}

static int init(ll_block *b)
{
    behave_state *s = (behave_state *)b->base;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 4; i++) s->ents[i].behave = i % 2 ? hop : wander;
    return 0;
}

static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)in, (void)frame, (void)dt;
    behave_state *s = (behave_state *)b->base;
    for (int i = 0; i < 4; i++) s->sum += s->ents[i].behave(&s->ents[i]);
    s->frames++;
}

static void render(const ll_block *b, ll_canvas *c)
{
    const behave_state *s = (const behave_state *)b->base;
    if (!c->cells) return;
    char line[128];
    int n = snprintf(line, sizeof line, "v%d values=%d,%d,%d,%d migrated=%llu", VERSION,
                     s->ents[0].value, s->ents[1].value, s->ents[2].value, s->ents[3].value,
                     (unsigned long long)s->migrated_from);
    if (n > c->width) n = c->width;
    memcpy(c->cells, line, (size_t)n);
}

#ifdef MIGRATE
static int migrate(ll_block *b, uint64_t from)
{
    ((behave_state *)b->base)->migrated_from = from;
    return 0;
}
#endif

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = 4,
    .layout_version = LAYOUT,
    .block_size = 1 << 20,
    .name = "behave",
    .init = init,
    .update = update,
    .render = render,
#ifdef MIGRATE
    .migrate = migrate,
#endif
};

const ll_app *looplive_app(void)
{
    return &app;
}
