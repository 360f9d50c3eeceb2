/* glue.c - the looplive side of the classic program: the ll_app table and
 * the root of its state (kept in an arena of the block). */
#include <looplive_app.h>

#include "world.h"

typedef struct root {
    world *w;
} root;

static int init(ll_block *b)
{
    ll_error err;
    ll_arena *a = ll_arena_create(b, "root", 4096, &err);
    if (!a) return -1;
    root *r = ll_arena_push(a, sizeof *r, .zero = 1);
    r->w = world_new();
    return r->w ? 0 : -1;
}

static void translate(const ll_platform_input *p, void *out)
{
    *(int *)out = p->keys[' '] ? 5 : 1;
}

static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)frame, (void)dt;
    root *r = (root *)ll_block_arena_find(b, "root")->begin;
    world_step(r->w, *(const int *)in);
}

static void render(const ll_block *b, ll_canvas *c)
{
    const root *r = (const root *)ll_block_arena_find(b, "root")->begin;
    int x = 0;
    for (const creature *k = r->w->head; k && c->cells && x < c->width; k = k->next)
        c->cells[x++] = k->name[0];
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(int),
    .layout_version = 1,
    .block_size = 8 << 20,
    .name = "compat-game",
    .init = init,
    .translate = translate,
    .update = update,
    .render = render,
};
const ll_app *looplive_app(void)
{
    return &app;
}
