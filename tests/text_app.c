/* text_app.c - the application the text tests drive: it counts the typed
 * keys it reads with ll_text_key_get (the last ones in its state), draws
 * with looplive_text.h, runs at 30 frames a second, needs a 20x5 canvas,
 * and quits on 'q' with a message. Built with V2_TABLE it returns a table
 * of API version 2, no larger than such a table was. */
#include <looplive_text.h>

#include <stdio.h>
#include <string.h>

typedef struct text_state {
    uint64_t typed;     /* keys read so far */
    uint16_t last[8];   /* the last keys read, oldest first */
    uint32_t per_frame; /* keys read in the last frame */
    int quit;
    char bye[32];
} text_state;

static void text_update(ll_block *block, const void *input, uint64_t frame, double dt)
{
    text_state *s = (text_state *)block->base;
    ll_text_keys keys = *(const ll_text_keys *)input;
    s->per_frame = 0;
    for (int k; (k = ll_text_key_get(&keys)) >= 0; s->per_frame++) {
        memmove(s->last, s->last + 1, sizeof s->last - sizeof s->last[0]);
        s->last[7] = (uint16_t)k;
        s->typed++;
        if (k == 'q') s->quit = 1;
    }
    snprintf(s->bye, sizeof s->bye, "bye after %llu keys", (unsigned long long)s->typed);
}

static void text_render(const ll_block *block, ll_canvas *c)
{
    const text_state *s = (const text_state *)block->base;
    ll_text_style border = {.fg = 6}, bold = {.fg = 2, .bg = 4, .attr = LL_ATTR_BOLD};
    ll_text_box_draw(c, 0, 0, 20, 5, border);
    ll_text_print(c, 1, 1, bold, "keys %llu", (unsigned long long)s->typed);
    ll_text_write(c, 1, 2, (ll_text_style){.attr = LL_ATTR_REVERSE}, "\xc2\xb7ok\xe2\x96\x88");
}

__attribute__((unused)) static const char *text_quit(const ll_block *block)
{
    const text_state *s = (const text_state *)block->base;
    return s->quit ? s->bye : NULL;
}

#ifdef V2_TABLE
/* ll_app as API version 2 defined it: it ends after migrate. */
typedef struct app_v2 {
    uint32_t api_version, input_size;
    uint64_t layout_version, block_size;
    const char *name;
    int (*init)(ll_block *);
    void (*translate)(const ll_platform_input *, void *);
    void (*update)(ll_block *, const void *, uint64_t, double);
    void (*render)(const ll_block *, ll_canvas *);
    int (*migrate)(ll_block *, uint64_t);
} app_v2;
static const app_v2 app = {2,    sizeof(ll_text_keys),   1,           1 << 20,     "text_app_v2",
                           NULL, ll_text_keys_translate, text_update, text_render, NULL};
#else
static const ll_app app = {
    .api_version = LL_APP_API_VERSION,
    .input_size = sizeof(ll_text_keys),
    .layout_version = 1,
    .block_size = 1 << 20,
    .name = "text_app",
    .translate = ll_text_keys_translate,
    .update = text_update,
    .render = text_render,
    .tick_hz = 30,
    .min_width = 20,
    .min_height = 5,
    .quit = text_quit,
};
#endif

const ll_app *looplive_app(void)
{
    return (const ll_app *)(const void *)&app;
}
