/* game.c - the application of the CMake example: an '@' that walks right
 * and wraps, its state in the block. */
#include <looplive_app.h>

#include <stdint.h>

typedef struct {
    int8_t dx;
} my_input; /* what gets recorded */
typedef struct {
    int x;
} my_state; /* lives in the block */

static void translate(const ll_platform_input *p, void *in)
{
    ((my_input *)in)->dx = (int8_t)(1 + p->keys[LL_KEY_RIGHT] - p->keys[LL_KEY_LEFT]);
}

static void update(ll_block *b, const void *in, uint64_t frame, double dt)
{
    (void)frame, (void)dt;
    my_state *s = (my_state *)b->base;
    s->x = (s->x + ((const my_input *)in)->dx + 64) % 64;
}

static void render(const ll_block *b, ll_canvas *c)
{
    int x = ((const my_state *)b->base)->x;
    if (c->cells && x >= 0 && x < c->width) c->cells[x] = '@';
}

static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(my_input),
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "mygame",
    .translate = translate,
    .update = update,
    .render = render,
};

const ll_app *looplive_app(void)
{
    return &app;
}
